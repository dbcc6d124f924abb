/*
 * ChangeConfiguration (CS -> CP): set one configuration key through the key table's rules, persist
 * the change, and apply it: timers pick up new intervals at once, and the gateway is told about the
 * keys it applies itself (WebSocketPingInterval, SecurityProfile, AuthorizationKey). A change of a
 * security parameter (those two and CpoName) is also a ReconfigurationOfSecurityParameters event.
 * SecurityProfile is raised only (whitepaper A05) and only to a profile the charge point can connect
 * with: within what the link can do, with an AuthorizationKey for 1 and 2, and whatever else the
 * gateway's env.security_ready says it needs (a CSMS root for 2 and 3, a charge point certificate
 * for 3); 3 without that callback is never ready.
 */
#include "ocpp_cp_internal.h"

/* Whether SecurityProfile may become @value; when not, the reason is logged (never a secret: the
 * key table keeps AuthorizationKey out of every message). A value that is not a profile number at
 * all passes here for the key table's rule to refuse. */
static bool security_profile_ready(struct ocpp_cp *cp, const char *value)
{
	long cur = ocpp_cp_key_int(cp, OCPP_KEY_SECURITY_PROFILE), want;
	char why[128] = "";
	char *end;
	int r;

	want = strtol(value, &end, 10);
	if (end == value || *end || want < 0 || want > ocpp_config_info(OCPP_KEY_SECURITY_PROFILE)->max)
		return true;
	if (want <= cur)
		snprintf(why, sizeof(why), "not above the current %ld (a profile is never lowered)", cur);
	else if (want > cp->max_security_profile)
		snprintf(why, sizeof(why), "this link can do at most %d", cp->max_security_profile);
	else if (want <= 2 && !ocpp_config_str(cp->cfg, OCPP_KEY_AUTHORIZATION_KEY)[0])
		snprintf(why, sizeof(why), "no AuthorizationKey is set");
	else if (!cp->env.security_ready && want == 3)
		snprintf(why, sizeof(why), "this gateway cannot check for a charge point certificate");
	else if (cp->env.security_ready) {
		r = cp->env.security_ready(cp->env.user, (int)want, why, sizeof(why));
		why[sizeof(why) - 1] = '\0'; /* the callback's text, whatever it did with the buffer */
		for (char *p = why; *p; p++)
			if (*p < 0x20 || *p == 0x7f)
				*p = '?'; /* one log line */
		if (r >= 0)
			return true;
		if (!why[0])
			snprintf(why, sizeof(why), "the gateway is not ready for it");
	} else {
		return true;
	}
	ocpp_cp_log(cp, CORE_LOG_WARN, "ChangeConfiguration SecurityProfile %ld Rejected: %s", want, why);
	return false;
}

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
	/* A profile the link cannot do, or one without what it authenticates with, would lock us out. */
	if (ocpp_config_find(key) == OCPP_KEY_SECURITY_PROFILE && !security_profile_ready(cp, value))
		return json_pack("{s:s}", "status", "Rejected");
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
