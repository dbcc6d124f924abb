/*
 * MeterValues (CP -> CS): one connector's sampled or clock-aligned readings, with the transaction id
 * when they belong to a transaction (those are journalled and replayed in order after an outage).
 */
#include "ocpp_cp_internal.h"

json_t *ocpp_meter_values_req(int connector, int tx_id, json_t *meter_value)
{
	json_t *j = json_pack("{s:i,s:[o]}", "connectorId", connector, "meterValue", meter_value);

	if (j && tx_id)
		json_object_set_new(j, "transactionId", json_integer(tx_id));
	return j;
}

int ocpp_meter_values_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf, struct ocpp_perr *e)
{
	static const char *const keys[] = { NULL };

	(void)cp;
	(void)m;
	return ocpp_json_only(conf, keys, e);
}
