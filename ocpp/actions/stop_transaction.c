/*
 * StopTransaction (CP -> CS): journalled before it is sent, with the reason, the meter reading
 * (never below meterStart) and the StopTxnSampledData readings. Its answer ends the transaction's
 * life in the journal.
 */
#include "ocpp_cp_internal.h"

json_t *ocpp_stop_transaction_req(int tx_id, const char *id_tag, int meter_stop, int64_t wall_ms,
				  enum ocpp_stop_reason reason, json_t *transaction_data)
{
	char ts[OCPP_TIME_LEN + 1];
	json_t *j;

	ocpp_time_format(wall_ms, ts, sizeof(ts));
	j = json_pack("{s:i,s:i,s:s,s:s}", "transactionId", tx_id, "meterStop", meter_stop, "timestamp", ts, "reason",
		      ocpp_stop_reason_names[reason]);
	if (j && id_tag && id_tag[0])
		json_object_set_new(j, "idTag", json_string(id_tag));
	if (j && transaction_data)
		json_object_set_new(j, "transactionData", transaction_data);
	else
		json_decref(transaction_data);
	return j;
}

int ocpp_stop_transaction_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf, struct ocpp_perr *e)
{
	static const char *const keys[] = { "idTagInfo", NULL };
	const char *tag = json_string_value(json_object_get(m->payload, "idTag"));
	struct ocpp_id_tag_info info;
	const json_t *it = NULL;

	if (ocpp_json_only(conf, keys, e) < 0 || ocpp_json_object(conf, "idTagInfo", false, &it, e) < 0 ||
	    (it && ocpp_idtaginfo_parse(it, &info, e) < 0))
		return -EINVAL;
	if (it && tag && ocpp_config_bool(cp->cfg, OCPP_KEY_AUTHORIZATION_CACHE_ENABLED)) {
		ocpp_auth_cache_update(cp->auth, tag, &info);
		ocpp_cp_save_auth(cp);
	}
	ocpp_cp_forget_tx(cp, m->tx_local);
	return 0;
}
