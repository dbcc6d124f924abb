/*
 * SecurityEventNotification (CP -> CS, security whitepaper use case A04): tell the central system of a
 * security event, and which events are critical. The critical ones (the whitepaper's table, section
 * 6.4 of the reference) go through the journal like transaction messages, so a crash or an outage
 * cannot lose the evidence, and so does InvalidFirmwareSignature, which OCTT expects pushed; the rest
 * are sent when they can be and may be dropped under load.
 */
#include "ocpp_cp_internal.h"

/* The whitepaper's events marked critical ("push to the central system"); the other known events and
 * any name the gateway invents are not. */
static const char *const critical_events[] = {
	"FirmwareUpdated", "SettingSystemTime", "StartupOfTheDevice", "ResetOrReboot",
	"SecurityLogWasCleared", "MemoryExhaustion", "TamperDetectionActivated",
};

bool ocpp_security_event_critical(const char *type)
{
	for (size_t i = 0; type && i < sizeof(critical_events) / sizeof(critical_events[0]); i++)
		if (!strcmp(type, critical_events[i]))
			return true;
	return false;
}

bool ocpp_security_event_journalled(const char *type)
{
	/* Not critical in the whitepaper's table, but OCTT TC_081 fails a charge point whose
	 * InvalidFirmwareSignature an outage or a restart loses. */
	return ocpp_security_event_critical(type) || (type && !strcmp(type, "InvalidFirmwareSignature"));
}

/* A CiString50 of printable ASCII without spaces, as every event name in the whitepaper is. */
static bool type_ok(const char *type)
{
	size_t n = type ? strnlen(type, OCPP_SECURITY_TYPE_MAX + 1) : 0;

	if (n == 0 || n > OCPP_SECURITY_TYPE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (type[i] < 0x21 || type[i] > 0x7e)
			return false;
	return true;
}

json_t *ocpp_security_event_notification_req(const char *type, int64_t wall_ms, const char *techinfo)
{
	char ts[OCPP_TIME_LEN + 1], info[OCPP_SECURITY_TECHINFO_MAX + 1];
	size_t n;
	json_t *j;

	if (!type_ok(type))
		return NULL;
	ocpp_time_format(wall_ms, ts, sizeof(ts));
	j = json_pack("{s:s,s:s}", "type", type, "timestamp", ts);
	if (!j || !techinfo)
		return j;
	/* Free text from TLS libraries and the like: anything but printable ASCII becomes '?', which
	 * also keeps the cut at 255 bytes from splitting a character. */
	n = strnlen(techinfo, OCPP_SECURITY_TECHINFO_MAX);
	for (size_t i = 0; i < n; i++)
		info[i] = techinfo[i] >= 0x20 && techinfo[i] <= 0x7e ? techinfo[i] : '?';
	info[n] = '\0';
	if (json_object_set_new(j, "techInfo", json_string(info)) < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

int ocpp_security_event_notification_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf,
					  struct ocpp_perr *e)
{
	static const char *const keys[] = { NULL };

	(void)cp;
	(void)m;
	return ocpp_json_only(conf, keys, e);
}

int ocpp_cp_security_event_at(struct ocpp_cp *cp, const char *type, const char *techinfo, int64_t wall_ms)
{
	json_t *p;
	const char *info;
	bool critical;
	int r;

	if (!type_ok(type))
		return -EINVAL;
	p = ocpp_security_event_notification_req(type, wall_ms, techinfo);
	if (!p)
		return -ENOMEM;
	critical = ocpp_security_event_journalled(type);
	info = json_string_value(json_object_get(p, "techInfo")); /* the cleaned text: no control characters */
	ocpp_cp_log(cp, critical ? CORE_LOG_WARN : CORE_LOG_INFO, "security event %s%s%s%s", type,
		    ocpp_security_event_critical(type) ? " (critical)" : critical ? " (pushed)" : "", info ? ": " : "",
		    info ? info : "");
	/* The security log (GetLog SecurityLog) keeps every event, sent or dropped by the bounds. */
	if (cp->env.security_logged)
		cp->env.security_logged(cp->env.user, type, wall_ms, info);
	r = ocpp_cp_queue_security(cp, p, critical);
	if (r == 0)
		cp->stats.security_events++;
	return r;
}
