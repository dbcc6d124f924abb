/*
 * BootNotification (CP -> CS): the first message on every connection after a start. Accepted
 * registers the charge point and sets the heartbeat interval; Pending and Rejected mean "ask again
 * after interval seconds", and until then only the central system's own requests are answered.
 */
#include "ocpp_cp_internal.h"

json_t *ocpp_boot_notification_req(const struct ocpp_cp *cp)
{
	json_t *j = json_pack("{s:s,s:s}", "chargePointVendor", cp->vendor, "chargePointModel", cp->model);

	if (j && cp->serial[0])
		json_object_set_new(j, "chargePointSerialNumber", json_string(cp->serial));
	if (j && cp->firmware[0])
		json_object_set_new(j, "firmwareVersion", json_string(cp->firmware));
	return j;
}

int ocpp_boot_notification_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf, struct ocpp_perr *e)
{
	static const char *const keys[] = { "status", "currentTime", "interval", NULL };
	int64_t interval = 0, server_ms = 0;
	int st = 0;

	(void)m;
	if (ocpp_json_only(conf, keys, e) < 0 ||
	    ocpp_json_enum(conf, "status", ocpp_registration_names, OCPP_REG_COUNT, true, &st, e) < 0 ||
	    ocpp_json_time(conf, "currentTime", true, &server_ms, e) < 0 ||
	    ocpp_json_int(conf, "interval", 0, INT32_MAX, true, &interval, e) < 0)
		return -EINVAL;
	cp->reg = (enum ocpp_registration)st;
	if (llabs(server_ms - cp->now_wall) > 300000)
		ocpp_cp_log(cp, CORE_LOG_WARN, "clock differs from the central system's by %lld s: fix NTP, or timestamps "
			    "will be refused", (long long)((cp->now_wall - server_ms) / 1000));
	if (cp->reg == OCPP_REG_ACCEPTED) {
		char v[24];

		cp->registered = true;
		if (interval > 0) {
			snprintf(v, sizeof(v), "%lld", (long long)interval);
			ocpp_config_set(cp->cfg, OCPP_KEY_HEARTBEAT_INTERVAL, v);
		}
		ocpp_cp_log(cp, CORE_LOG_INFO, "BootNotification accepted, heartbeat every %ld s",
			    ocpp_config_int(cp->cfg, OCPP_KEY_HEARTBEAT_INTERVAL));
		return 0;
	}
	/* Also after a BootNotification that TriggerMessage asked for while registered. */
	cp->registered = false;
	cp->boot_due_ms = cp->now_ms + (interval > 0 ? (uint64_t)interval * 1000u : 60000u);
	ocpp_cp_log(cp, CORE_LOG_WARN, "BootNotification %s: next try in %lld s", ocpp_registration_names[cp->reg],
		    (long long)(interval > 0 ? interval : 60));
	return 0;
}
