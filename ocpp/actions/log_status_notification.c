/*
 * LogStatusNotification (CP -> CS, security whitepaper use case N01): where the upload of a log asked
 * for by GetLog stands. The gateway reports each step (ocpp_cp_log_status()); this file checks the
 * status, journals the notification and remembers the last one, which ExtendedTriggerMessage reports
 * (Uploading with its requestId while an upload runs, else Idle).
 */
#include "ocpp_cp_internal.h"

/* Statuses of one kind waiting at most: a gateway stuck in a loop must not fill the journal. */
#define STATUS_WAITING_MAX 64

/* The whitepaper's UploadLogStatusEnumType; OCPP_LOG_ST_* index it. */
const char *const ocpp_log_status_names[OCPP_LOG_STATUSES] = {
	"BadMessage", "Idle", "NotSupportedOperation", "PermissionDenied", "Uploaded", "UploadFailure", "Uploading",
};

json_t *ocpp_log_status_notification_req(const char *status, int request_id)
{
	json_t *j = json_pack("{s:s}", "status", status);

	if (j && request_id >= 0 && json_object_set_new(j, "requestId", json_integer(request_id)) < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

int ocpp_log_status_notification_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf,
				      struct ocpp_perr *e)
{
	static const char *const keys[] = { NULL };

	(void)cp;
	(void)m;
	return ocpp_json_only(conf, keys, e);
}

static int name_index(const char *s, const char *const *names, int n)
{
	for (int i = 0; s && i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

/*
 * The journal, not the ordinary queue, carries every status (for the firmware statuses too):
 * - the ordinary queue folds a newer message of the same kind into the one waiting, which would
 *   turn Uploading, Uploaded into Uploaded alone, and OCTT (TC_079, TC_080) wants each step;
 * - it also forgets everything when the link drops, and a status cannot be derived again after
 *   reconnecting as a connector's status can: Uploaded after an outage would never be told;
 * - a firmware update restarts the process (InstallRebooting): only the journal outlives that.
 * The price is one journal record per status, a handful per request, and their order with the
 * transaction messages, which is the order things happened in.
 */
int ocpp_cp_status_durable_queue(struct ocpp_cp *cp, enum ocpp_out_action a, const char *status, int request_id)
{
	json_t *p = a == OCPP_OUT_LOG_STATUS_NOTIFICATION ? ocpp_log_status_notification_req(status, request_id)
							   : ocpp_signed_firmware_status_notification_req(status, request_id);
	const struct ocpp_msg *last = NULL;
	int n = 0;

	if (!p)
		return -ENOMEM;
	for (const struct ocpp_msg *m = cp->q_head; m; m = m->next)
		if (m->action == a) {
			n++;
			last = m;
		}
	/* An exact repeat of the last one still waiting says nothing new; any other status goes. */
	if (last && last != cp->inflight_msg && json_equal(last->payload, p)) {
		json_decref(p);
		cp->stats.queue_coalesced++;
		return 0;
	}
	if (n >= STATUS_WAITING_MAX) {
		ocpp_cp_log(cp, CORE_LOG_ERROR, "%s %s not queued: %d of them wait already",
			    a == OCPP_OUT_LOG_STATUS_NOTIFICATION ? "LogStatusNotification" : "SignedFirmwareStatusNotification",
			    status, n);
		json_decref(p);
		return -ENOSPC;
	}
	return ocpp_cp_queue(cp, a, p, 0, 0, true);
}

int ocpp_cp_log_status_queue(struct ocpp_cp *cp, const char *status, int request_id)
{
	int st = name_index(status, ocpp_log_status_names, OCPP_LOG_STATUSES), r;

	if (st < 0)
		return -EINVAL;
	r = ocpp_cp_status_durable_queue(cp, OCPP_OUT_LOG_STATUS_NOTIFICATION, ocpp_log_status_names[st], request_id);
	if (r < 0)
		return r;
	cp->log_status = st;
	cp->log_request_id = request_id;
	ocpp_cp_log(cp, CORE_LOG_INFO, "log upload %d: %s", request_id, ocpp_log_status_names[st]);
	return 0;
}
