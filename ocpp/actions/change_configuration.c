/*
 * ChangeConfiguration (CS -> CP): set one configuration key through the key table's rules, persist
 * the change, and apply it: timers pick up new intervals at once, and the gateway is told about the
 * keys it applies itself (WebSocketPingInterval, SecurityProfile, AuthorizationKey). A change of a
 * security parameter (those two and CpoName) is also a ReconfigurationOfSecurityParameters event.
 */
#include "ocpp_cp_internal.h"

json_t *ocpp_handle_change_configuration(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e)
{
	static const char *const keys[] = { "key", "value", NULL };
	char key[OCPP_CONFIG_KEY_MAX + 1], value[OCPP_CONFIG_VALUE_MAX + 1];
	enum ocpp_config_status st;
	int changed = -1;

	if (ocpp_json_only(req, keys, e) < 0 ||
	    ocpp_json_string(req, "key", OCPP_CONFIG_KEY_MAX, true, key, sizeof(key), e) < 0 ||
	    ocpp_json_string(req, "value", OCPP_CONFIG_VALUE_MAX, true, value, sizeof(value), e) < 0)
		return NULL;
	/* A profile the link cannot do, or one without a key to authenticate with, would lock us out. */
	if (ocpp_config_find(key) == OCPP_KEY_SECURITY_PROFILE) {
		long want = strtol(value, NULL, 10);

		if (want > cp->max_security_profile ||
		    (want >= 1 && !ocpp_config_str(cp->cfg, OCPP_KEY_AUTHORIZATION_KEY)[0]))
			return json_pack("{s:s}", "status", "Rejected");
	}
	st = ocpp_config_change(cp->cfg, key, value, &changed);
	if (changed >= 0) {
		ocpp_cp_save_config(cp);
		ocpp_cp_log(cp, CORE_LOG_INFO, "configuration key %s changed", ocpp_config_info((enum ocpp_key)changed)->name);
		switch (changed) {
		case OCPP_KEY_WEB_SOCKET_PING_INTERVAL:
		case OCPP_KEY_SECURITY_PROFILE:
		case OCPP_KEY_AUTHORIZATION_KEY:
			if (cp->env.config_changed)
				cp->env.config_changed(cp->env.user, (enum ocpp_key)changed);
			break;
		case OCPP_KEY_CLOCK_ALIGNED_DATA_INTERVAL:
			ocpp_cp_aligned_arm(cp);
			break;
		case OCPP_KEY_METER_VALUE_SAMPLE_INTERVAL:
			for (int c = 1; c <= cp->n_conn; c++)
				cp->conn[c].tx.next_sample_ms =
					cp->now_ms + (uint64_t)ocpp_config_int(cp->cfg, OCPP_KEY_METER_VALUE_SAMPLE_INTERVAL) * 1000u;
			break;
		default:
			break;
		}
		if (changed == OCPP_KEY_SECURITY_PROFILE || changed == OCPP_KEY_AUTHORIZATION_KEY ||
		    changed == OCPP_KEY_CPO_NAME)
			ocpp_cp_security_event_at(cp, "ReconfigurationOfSecurityParameters",
						  ocpp_config_info((enum ocpp_key)changed)->name, cp->now_wall);
	}
	return json_pack("{s:s}", "status", ocpp_config_status_names[st]);
}
