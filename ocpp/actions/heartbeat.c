/*
 * Heartbeat (CP -> CS): sent when nothing else went out for HeartbeatInterval seconds; the answer's
 * currentTime tells us whether our clock still agrees with the central system's.
 */
#include "ocpp_cp_internal.h"

json_t *ocpp_heartbeat_req(void)
{
	return json_object();
}

int ocpp_heartbeat_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf, struct ocpp_perr *e)
{
	static const char *const keys[] = { "currentTime", NULL };
	int64_t server_ms = 0;

	(void)m;
	if (ocpp_json_only(conf, keys, e) < 0 || ocpp_json_time(conf, "currentTime", true, &server_ms, e) < 0)
		return -EINVAL;
	if (llabs(server_ms - cp->now_wall) > 300000)
		ocpp_cp_log(cp, CORE_LOG_WARN, "clock differs from the central system's by %lld s",
			    (long long)((cp->now_wall - server_ms) / 1000));
	return 0;
}
