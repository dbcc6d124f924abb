/*
 * StartTransaction (CP -> CS): journalled before it is sent. The answer gives the transaction its
 * real id (replacing the provisional one in every queued message) and says whether the idTag is
 * valid; an invalid one stops the transaction (StopTransactionOnInvalidId) or suspends its energy.
 */
#include "ocpp_cp_internal.h"

json_t *ocpp_start_transaction_req(int connector, const char *id_tag, int meter_start, int64_t wall_ms)
{
	char ts[OCPP_TIME_LEN + 1];

	ocpp_time_format(wall_ms, ts, sizeof(ts));
	return json_pack("{s:i,s:s,s:i,s:s}", "connectorId", connector, "idTag", id_tag, "meterStart", meter_start,
			 "timestamp", ts);
}

int ocpp_start_transaction_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf, struct ocpp_perr *e)
{
	static const char *const keys[] = { "idTagInfo", "transactionId", NULL };
	const char *tag = json_string_value(json_object_get(m->payload, "idTag"));
	struct ocpp_id_tag_info info;
	const json_t *it = NULL;
	int64_t id = 0;
	int c;

	if (ocpp_json_only(conf, keys, e) < 0 || ocpp_json_object(conf, "idTagInfo", true, &it, e) < 0 ||
	    ocpp_idtaginfo_parse(it, &info, e) < 0 ||
	    ocpp_json_int(conf, "transactionId", INT32_MIN, INT32_MAX, true, &id, e) < 0)
		return -EINVAL;
	ocpp_cp_confirm_tx(cp, m->tx_local, (int)id);
	if (tag && ocpp_config_bool(cp->cfg, OCPP_KEY_AUTHORIZATION_CACHE_ENABLED)) {
		ocpp_auth_cache_update(cp->auth, tag, &info);
		ocpp_cp_save_auth(cp);
	}
	c = ocpp_cp_find_tx(cp, (int)id);
	ocpp_cp_log(cp, CORE_LOG_INFO, "transaction %d confirmed as %lld (%s)", -m->tx_local, (long long)id,
		    ocpp_auth_status_names[info.status]);
	if (!c || info.status == OCPP_AUTH_ACCEPTED)
		return 0;
	if (ocpp_config_bool(cp->cfg, OCPP_KEY_STOP_TRANSACTION_ON_INVALID_ID)) {
		ocpp_cp_tx_stop(cp, c, OCPP_RSN_DEAUTHORIZED);
	} else {
		cp->conn[c].tx.invalid = true;
		ocpp_cp_refresh(cp);
	}
	return 0;
}
