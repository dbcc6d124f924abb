/*
 * GetLog (CS -> CP, security whitepaper use case N01): upload the diagnostics or the security log to
 * a URI. The core checks the request against the whitepaper's schema (a CALLERROR naming the field
 * when it does not fit) and hands it to the gateway (env.get_log), which uploads and reports each
 * step with ocpp_cp_log_status(). Accepted or AcceptedCanceled (an upload in progress gave way to
 * this one), with the name of the file uploaded; Rejected when the gateway refuses or has no
 * uploader.
 */
#include "ocpp_cp_internal.h"

static const char *const log_type_names[] = { "DiagnosticsLog", "SecurityLog" };

json_t *ocpp_handle_get_log(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e)
{
	static const char *const keys[] = { "log", "logType", "requestId", "retries", "retryInterval", NULL };
	static const char *const log_keys[] = { "remoteLocation", "oldestTimestamp", "latestTimestamp", NULL };
	struct ocpp_get_log g = { .retries = -1, .retry_interval_s = -1 };
	char file_name[OCPP_LOG_FILE_NAME_MAX + 1] = "";
	const json_t *log = NULL;
	int64_t id = 0, retries = -1, interval = -1;
	int type = 0, r;
	json_t *conf;

	if (ocpp_json_only(req, keys, e) < 0 || ocpp_json_object(req, "log", true, &log, e) < 0 ||
	    ocpp_json_enum(req, "logType", log_type_names, 2, true, &type, e) < 0 ||
	    ocpp_json_int(req, "requestId", 0, INT32_MAX, true, &id, e) < 0 ||
	    ocpp_json_int(req, "retries", 0, INT32_MAX, false, &retries, e) < 0 ||
	    ocpp_json_int(req, "retryInterval", 0, INT32_MAX, false, &interval, e) < 0)
		return NULL;
	if (ocpp_json_only(log, log_keys, e) < 0 ||
	    ocpp_json_uri(log, "remoteLocation", OCPP_URI_MAX, true, &g.location, e) < 0 ||
	    ocpp_json_time(log, "oldestTimestamp", false, &g.oldest_ms, e) < 0 ||
	    ocpp_json_time(log, "latestTimestamp", false, &g.latest_ms, e) < 0)
		return NULL;
	g.type = type == 0 ? OCPP_LOG_DIAGNOSTICS : OCPP_LOG_SECURITY;
	g.request_id = (int)id;
	g.retries = (int)retries;
	g.retry_interval_s = (int)interval;

	r = cp->env.get_log ? cp->env.get_log(cp->env.user, &g, file_name, sizeof(file_name)) : -ENOSYS;
	if (r != 0 && r != 1) {
		ocpp_cp_log(cp, CORE_LOG_WARN, "GetLog %s %d Rejected%s", log_type_names[type], g.request_id,
			    cp->env.get_log ? "" : ": this gateway cannot upload logs");
		return json_pack("{s:s}", "status", "Rejected");
	}
	file_name[sizeof(file_name) - 1] = '\0'; /* the callback's text, whatever it did with the buffer */
	conf = json_pack("{s:s}", "status", r == 1 ? "AcceptedCanceled" : "Accepted");
	/* A name that is not UTF-8 cannot go into JSON: the upload goes on, the central system does
	 * without the name rather than without an answer. */
	if (conf && file_name[0] && json_object_set_new(conf, "filename", json_string(file_name)) < 0)
		ocpp_cp_log(cp, CORE_LOG_WARN, "GetLog %d: the file name is not UTF-8, not sent", g.request_id);
	ocpp_cp_log(cp, CORE_LOG_INFO, "GetLog %s %d %s", log_type_names[type], g.request_id,
		    r == 1 ? "AcceptedCanceled" : "Accepted");
	return conf;
}
