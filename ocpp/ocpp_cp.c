/*
 * ocpp_cp: the charge point's skeleton. Creation and freeing, the entry points the caller drives
 * (start, link up and down, tick, the next deadline), the dispatch of incoming frames to the action
 * handlers in actions/, Reset, the files of config keys, auth cache, profiles and local list, and the
 * security events the skeleton sees (the wall clock stepping, a Reset) or the gateway reports.
 * The queue, the connectors, transactions and metering each have their ocpp_cp_<job>.c beside it;
 * this file decides when they run. Pure: time comes in as struct ocpp_now, effects go out through
 * struct ocpp_cp_env.
 */
#include "ocpp_cp_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ABSENT_GRACE_MS 30000u        /* a mapped TWC not seen this long after start is Faulted */
#define RESET_MIN_DELAY_MS 1000u      /* let the Reset.conf reach the wire */
#define RESET_DRAIN_MS 10000u         /* wait this long for StopTransaction.conf before restarting */
/* The wall clock moving this far against the monotonic one between two calls was set, not slewed
 * (NTP slews both clocks alike, at most 0.5 ms/s): SettingSystemTime. */
#define CLOCK_STEP_MS 10000

/* The CALLRESULT of each action the charge point sends, indexed by action so that a change to the
 * enum cannot shift a result onto another action's handler. */
typedef int (*conf_fn)(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf, struct ocpp_perr *e);
static const conf_fn conf_handlers[OCPP_OUT_COUNT] = {
	[OCPP_OUT_AUTHORIZE] = ocpp_authorize_conf,
	[OCPP_OUT_BOOT_NOTIFICATION] = ocpp_boot_notification_conf,
	[OCPP_OUT_DATA_TRANSFER] = ocpp_data_transfer_conf,
	[OCPP_OUT_DIAGNOSTICS_STATUS_NOTIFICATION] = ocpp_diagnostics_status_notification_conf,
	[OCPP_OUT_FIRMWARE_STATUS_NOTIFICATION] = ocpp_firmware_status_notification_conf,
	[OCPP_OUT_HEARTBEAT] = ocpp_heartbeat_conf,
	[OCPP_OUT_METER_VALUES] = ocpp_meter_values_conf,
	[OCPP_OUT_START_TRANSACTION] = ocpp_start_transaction_conf,
	[OCPP_OUT_STATUS_NOTIFICATION] = ocpp_status_notification_conf,
	[OCPP_OUT_STOP_TRANSACTION] = ocpp_stop_transaction_conf,
	[OCPP_OUT_LOG_STATUS_NOTIFICATION] = ocpp_log_status_notification_conf,
	[OCPP_OUT_SECURITY_EVENT_NOTIFICATION] = ocpp_security_event_notification_conf,
	[OCPP_OUT_SIGNED_FIRMWARE_STATUS_NOTIFICATION] = ocpp_signed_firmware_status_notification_conf,
	[OCPP_OUT_SIGN_CERTIFICATE] = ocpp_sign_certificate_conf,
};

/* The central system's CALLs of the Core, Local Auth List, Smart Charging and Remote Trigger profiles,
 * and of the security whitepaper. */
static const struct {
	const char *name;
	ocpp_handler_fn fn;
} in_handlers[] = {
	{ .name = "CertificateSigned", .fn = ocpp_handle_certificate_signed },
	{ .name = "ChangeAvailability", .fn = ocpp_handle_change_availability },
	{ .name = "ChangeConfiguration", .fn = ocpp_handle_change_configuration },
	{ .name = "ClearCache", .fn = ocpp_handle_clear_cache },
	{ .name = "ClearChargingProfile", .fn = ocpp_handle_clear_charging_profile },
	{ .name = "DataTransfer", .fn = ocpp_handle_data_transfer },
	{ .name = "DeleteCertificate", .fn = ocpp_handle_delete_certificate },
	{ .name = "ExtendedTriggerMessage", .fn = ocpp_handle_extended_trigger_message },
	{ .name = "GetCompositeSchedule", .fn = ocpp_handle_get_composite_schedule },
	{ .name = "GetConfiguration", .fn = ocpp_handle_get_configuration },
	{ .name = "GetInstalledCertificateIds", .fn = ocpp_handle_get_installed_certificate_ids },
	{ .name = "GetLocalListVersion", .fn = ocpp_handle_get_local_list_version },
	{ .name = "GetLog", .fn = ocpp_handle_get_log },
	{ .name = "InstallCertificate", .fn = ocpp_handle_install_certificate },
	{ .name = "RemoteStartTransaction", .fn = ocpp_handle_remote_start_transaction },
	{ .name = "RemoteStopTransaction", .fn = ocpp_handle_remote_stop_transaction },
	{ .name = "Reset", .fn = ocpp_handle_reset },
	{ .name = "SendLocalList", .fn = ocpp_handle_send_local_list },
	{ .name = "SetChargingProfile", .fn = ocpp_handle_set_charging_profile },
	{ .name = "SignedUpdateFirmware", .fn = ocpp_handle_signed_update_firmware },
	{ .name = "TriggerMessage", .fn = ocpp_handle_trigger_message },
	{ .name = "UnlockConnector", .fn = ocpp_handle_unlock_connector },
};

/* OCPP 1.6 actions of the other profiles: known, not supported (the whitepaper's GetLog and
 * SignedUpdateFirmware replace GetDiagnostics and UpdateFirmware). */
static const char *const not_supported[] = {
	"CancelReservation", "GetDiagnostics", "ReserveNow", "UpdateFirmware",
};

/* ---------------------------------------------------------------- small helpers */

void ocpp_cp_log(struct ocpp_cp *cp, enum core_log_level level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!cp->env.log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cp->env.log(cp->env.user, level, buf);
}

/* Out of line: inlined into callers that copy between two fields of one struct, gcc's -Wrestrict
 * cannot tell the fields apart and fails the build. */
void ocpp_cp_str_copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

/* ---------------------------------------------------------------- persistence */

int ocpp_cp_json_store(struct ocpp_cp *cp, const char *name, json_t *j, bool secret)
{
	char *text;
	int r = 0;

	if (!j)
		return -ENOMEM;
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		return -ENOMEM;
	if (cp->env.store) {
		r = cp->env.store(cp->env.user, name, text, secret);
		ocpp_cp_state_stored(cp, name, r);
	}
	free(text);
	return r;
}

int ocpp_cp_store_local_list(struct ocpp_cp *cp, const struct ocpp_local_list *l)
{
	return ocpp_cp_json_store(cp, OCPP_FILE_LOCAL_LIST, ocpp_local_list_to_json(l), false);
}

void ocpp_cp_save_config(struct ocpp_cp *cp)
{
	ocpp_cp_json_store(cp, OCPP_FILE_CONFIG, ocpp_config_to_json(cp->cfg), true);
}

void ocpp_cp_save_auth(struct ocpp_cp *cp)
{
	ocpp_cp_json_store(cp, OCPP_FILE_AUTH, ocpp_auth_cache_to_json(cp->auth), false);
}

void ocpp_cp_save_profiles(struct ocpp_cp *cp)
{
	ocpp_cp_json_store(cp, OCPP_FILE_PROFILES, ocpp_sc_save(cp->sc), false);
}

/* ---------------------------------------------------------------- after every event */

/* After anything happened: late authorisations, statuses and limits, then send what is due. Last,
 * the gateway's CSR work that an ExtendedTriggerMessage asked for: its CALLRESULT is out by now. */
void ocpp_cp_step(struct ocpp_cp *cp)
{
	ocpp_cp_auth_retry(cp);
	ocpp_cp_refresh(cp);
	ocpp_cp_queue_pump(cp);
	if (cp->sign_due) {
		int r;

		cp->sign_due = false; /* before the call: it may come back into the core */
		r = cp->env.sign_certificate ? cp->env.sign_certificate(cp->env.user) : -ENOSYS;
		if (r < 0)
			ocpp_cp_log(cp, CORE_LOG_ERROR, "making a key and CSR for SignCertificate failed: %s", strerror(-r));
	}
}

/* ---------------------------------------------------------------- both clocks */

/* Take the time of an entry point. A step of the wall clock against the monotonic one is a
 * SettingSystemTime event; differences that do not fit an int64_t (nonsense from a broken clock)
 * start the comparison afresh. */
static void clock_at(struct ocpp_cp *cp, struct ocpp_now now)
{
	int64_t off, step;

	cp->now_ms = now.mono_ms;
	cp->now_wall = now.wall_ms;
	if (now.mono_ms > (uint64_t)INT64_MAX || __builtin_sub_overflow(now.wall_ms, (int64_t)now.mono_ms, &off)) {
		cp->clock_known = false;
		return;
	}
	if (cp->started && cp->clock_known && !__builtin_sub_overflow(off, cp->clock_off, &step) &&
	    (step > CLOCK_STEP_MS || step < -CLOCK_STEP_MS)) {
		char info[96];

		snprintf(info, sizeof(info), "wall clock stepped by %+lld s", (long long)(step / 1000));
		ocpp_cp_security_event_at(cp, "SettingSystemTime", info, now.wall_ms);
	}
	cp->clock_off = off;
	cp->clock_known = true;
}

/* ---------------------------------------------------------------- inbound frames */

static void send_text(struct ocpp_cp *cp, char *text)
{
	if (!text)
		return;
	if (cp->connected && cp->env.send(cp->env.user, text, strlen(text)) == 0)
		cp->stats.tx_frames++;
	free(text);
}

static void handle_call(struct ocpp_cp *cp, const struct ocpp_frame *f)
{
	struct ocpp_perr e = { OCPP_ERR_NONE, "" };
	json_t *conf;
	size_t i;

	for (i = 0; i < sizeof(in_handlers) / sizeof(in_handlers[0]); i++)
		if (!strcmp(f->action, in_handlers[i].name))
			break;
	if (i == sizeof(in_handlers) / sizeof(in_handlers[0])) {
		bool known = false;

		for (size_t j = 0; j < sizeof(not_supported) / sizeof(not_supported[0]); j++)
			known = known || !strcmp(f->action, not_supported[j]);
		cp->stats.rx_bad++;
		send_text(cp, ocpp_frame_error(f->id, known ? OCPP_ERR_NOT_SUPPORTED : OCPP_ERR_NOT_IMPLEMENTED,
					       known ? "action not supported by this charge point" : "unknown action",
					       NULL));
		return;
	}
	cp->in_call = true;
	conf = in_handlers[i].fn(cp, f->payload, &e);
	cp->in_call = false;
	if (!conf) {
		cp->stats.rx_bad++;
		if (e.error == OCPP_ERR_NONE)
			e.error = OCPP_ERR_INTERNAL;
		ocpp_cp_log(cp, CORE_LOG_WARN, "%s rejected: %s: %s", f->action, ocpp_error_name(e.error), e.desc);
		send_text(cp, ocpp_frame_error(f->id, e.error, e.desc, NULL));
		return;
	}
	send_text(cp, ocpp_frame_result(f->id, conf));
	json_decref(conf);
}

const uint32_t ocpp_latency_bounds_ms[OCPP_LATENCY_BUCKETS] = { 50, 100, 250, 500, 1000, 2500, 5000, 10000 };

/* How long the central system took to answer one of our CALLs, into the stats' histogram. */
static void answer_time(struct ocpp_cp *cp, uint64_t ms)
{
	cp->stats.calls_answered++;
	cp->stats.answer_ms_sum += ms;
	for (int i = 0; i < OCPP_LATENCY_BUCKETS; i++)
		if (ms <= ocpp_latency_bounds_ms[i])
			cp->stats.answer_le[i]++;
}

static void handle_answer(struct ocpp_cp *cp, const struct ocpp_frame *f)
{
	struct ocpp_perr e = { OCPP_ERR_NONE, "" };
	struct ocpp_msg *m;
	enum ocpp_out_action a;

	if (!cp->inflight || strcmp(f->id, cp->inflight_id) != 0) {
		ocpp_cp_log(cp, CORE_LOG_WARN, "answer to unknown message id %s dropped", f->id);
		cp->stats.rx_bad++;
		return;
	}
	if (f->type == OCPP_CALLERROR) {
		char why[160];

		/* A central system without the security extension never takes one: retrying would only
		 * hold back the transaction messages queued behind it. */
		if (cp->inflight_action == OCPP_OUT_SECURITY_EVENT_NOTIFICATION && cp->inflight_msg &&
		    (!strcmp(f->error_code, "NotImplemented") || !strcmp(f->error_code, "NotSupported"))) {
			m = cp->inflight_msg;
			cp->inflight = false;
			cp->inflight_msg = NULL;
			ocpp_cp_log(cp, CORE_LOG_WARN, "the central system does not take SecurityEventNotification (%s): %s dropped",
				    f->error_code, json_string_value(json_object_get(m->payload, "type")));
			ocpp_cp_queue_remove(cp, m);
			return;
		}

		snprintf(why, sizeof(why), "CALLERROR %s: %.100s", f->error_code, f->error_desc);
		ocpp_cp_call_fail(cp, why);
		return;
	}
	m = cp->inflight_msg;
	a = cp->inflight_action;
	if (!json_is_object(f->payload) || conf_handlers[a](cp, m, f->payload, &e) < 0) {
		char why[160];

		snprintf(why, sizeof(why), "bad result: %s", e.desc[0] ? e.desc : "not an object");
		cp->stats.rx_bad++;
		ocpp_cp_call_fail(cp, why);
		return;
	}
	cp->inflight = false;
	cp->inflight_msg = NULL;
	answer_time(cp, cp->now_ms - cp->inflight_sent_ms);
	if (m)
		ocpp_cp_queue_remove(cp, m);
}

void ocpp_cp_input(struct ocpp_cp *cp, const char *text, size_t len, struct ocpp_now now)
{
	struct ocpp_frame f;
	struct ocpp_frame_fault fault;

	clock_at(cp, now);
	cp->stats.rx_frames++;
	if (ocpp_frame_parse(text, len, &f, &fault) < 0) {
		cp->stats.rx_bad++;
		ocpp_cp_log(cp, CORE_LOG_WARN, "bad frame: %s", fault.desc);
		if (fault.reply)
			send_text(cp, ocpp_frame_error(fault.id, fault.error, fault.desc, NULL));
		return;
	}
	if (f.type == OCPP_CALL)
		handle_call(cp, &f);
	else
		handle_answer(cp, &f);
	ocpp_frame_clear(&f);
	ocpp_cp_step(cp);
}

/* ---------------------------------------------------------------- public API */

struct ocpp_cp *ocpp_cp_new(const struct ocpp_cp_params *p, const struct ocpp_cp_env *env)
{
	struct ocpp_cp *cp;

	if (!p || !env || !env->send || !p->vendor || !p->model || p->voltage <= 0 ||
	    (p->phases != 1 && p->phases != 3) || p->max_amps_per_connector <= 0 || p->min_amps < 0 ||
	    (p->max_amps_total > 0 && p->max_amps_total < p->max_amps_per_connector) ||
	    (p->id_tag_source == OCPP_IDTAG_FIXED && (!p->fixed_id_tag || !p->fixed_id_tag[0] ||
						      strlen(p->fixed_id_tag) > OCPP_IDTAG_MAX)))
		return NULL;
	cp = calloc(1, sizeof(*cp));
	if (!cp)
		return NULL;
	cp->env = *env;
	cp->cfg = ocpp_config_new();
	cp->auth = ocpp_auth_cache_new();
	cp->local_list = ocpp_local_list_new();
	cp->sc = ocpp_sc_new(OCPP_SC_MAX_PROFILES);
	if (!cp->cfg || !cp->auth || !cp->local_list || !cp->sc) {
		ocpp_cp_free(cp);
		return NULL;
	}
	ocpp_cp_str_copy(cp->vendor, sizeof(cp->vendor), p->vendor);
	ocpp_cp_str_copy(cp->model, sizeof(cp->model), p->model);
	ocpp_cp_str_copy(cp->serial, sizeof(cp->serial), p->serial);
	ocpp_cp_str_copy(cp->firmware, sizeof(cp->firmware), p->firmware);
	cp->id_src = p->id_tag_source;
	ocpp_cp_str_copy(cp->fixed_tag, sizeof(cp->fixed_tag), p->fixed_id_tag);
	cp->voltage = p->voltage;
	cp->phases = p->phases;
	cp->max_amps = p->max_amps_per_connector;
	cp->max_amps_total = p->max_amps_total > 0 ? p->max_amps_total : p->max_amps_per_connector;
	cp->min_amps = p->min_amps;
	cp->sc_next_ms = UINT64_MAX;
	cp->total_limit = INT32_MIN;
	cp->call_timeout_ms = ocpp_cp_sec_ms(p->call_timeout_s > 0 ? p->call_timeout_s : 30);
	cp->queue_max = p->queue_max > 0 ? p->queue_max : 1000;
	cp->max_security_profile = p->max_security_profile;
	cp->next_seq = 1;
	cp->tx_local_next = 1;
	cp->reported0 = -1;
	cp->log_status = -1;
	cp->fw_status = -1;
	for (int i = 0; i < p->n_keys; i++)
		if (ocpp_config_find(p->keys[i].name) < 0 ||
		    ocpp_config_set(cp->cfg, (enum ocpp_key)ocpp_config_find(p->keys[i].name), p->keys[i].value) < 0)
			ocpp_cp_log(cp, CORE_LOG_WARN, "initial key %s: bad name or value, ignored", p->keys[i].name);
	if (p->config_json) {
		json_t *j = json_loads(p->config_json, 0, NULL);

		if (!json_is_object(j) || ocpp_config_load_json(cp->cfg, j) > 0)
			ocpp_cp_log(cp, CORE_LOG_WARN, "%s: some saved keys were not understood", OCPP_FILE_CONFIG);
		json_decref(j);
	}
	if (p->auth_json) {
		json_t *j = json_loads(p->auth_json, 0, NULL);

		if (!json_is_array(j) || ocpp_auth_cache_load_json(cp->auth, j) > 0)
			ocpp_cp_log(cp, CORE_LOG_WARN, "%s: some cache entries were not understood", OCPP_FILE_AUTH);
		json_decref(j);
	}
	if (p->local_list_json) {
		json_t *j = json_loads(p->local_list_json, 0, NULL);

		if (ocpp_local_list_load_json(cp->local_list, j) < 0)
			ocpp_cp_log(cp, CORE_LOG_ERROR, "%s: not understood, starting with no Local Authorization List",
				    OCPP_FILE_LOCAL_LIST);
		json_decref(j);
	}
	for (int c = 0; c <= OCPP_MAX_CONNECTORS; c++) {
		cp->conn[c].reported = -1;
		cp->conn[c].scheduled = -1;
		cp->conn[c].limit = INT32_MIN;
	}
	if (p->profiles_json) {
		json_t *j = json_loads(p->profiles_json, 0, NULL);
		int n = j ? ocpp_sc_load(cp->sc, j) : -EINVAL;

		if (n < 0 || (json_is_object(j) && json_is_array(json_object_get(j, "profiles")) &&
			      (size_t)n != json_array_size(json_object_get(j, "profiles"))))
			ocpp_cp_log(cp, CORE_LOG_WARN, "%s: some charging profiles were not understood", OCPP_FILE_PROFILES);
		json_decref(j);
	}
	if (p->connectors_json)
		ocpp_cp_connectors_load(cp, p->connectors_json);
	ocpp_cp_connector_count_update(cp);
	return cp;
}

void ocpp_cp_free(struct ocpp_cp *cp)
{
	if (!cp)
		return;
	ocpp_cp_queue_free(cp);
	ocpp_cp_journal_free(cp);
	ocpp_config_free(cp->cfg);
	ocpp_auth_cache_free(cp->auth);
	ocpp_local_list_free(cp->local_list);
	ocpp_sc_free(cp->sc);
	free(cp);
}

void ocpp_cp_start(struct ocpp_cp *cp, uint64_t max_seq, struct ocpp_now now)
{
	clock_at(cp, now);
	if (max_seq + 1 > cp->next_seq)
		cp->next_seq = max_seq + 1;
	cp->id_base = (uint64_t)now.wall_ms;
	cp->boot_grace_ms = now.mono_ms + ABSENT_GRACE_MS;
	cp->boot_due_ms = 0;
	ocpp_cp_restore_finish(cp); /* before "started": no limit may be raised while restored transactions stop */
	cp->started = true;
	ocpp_cp_aligned_arm(cp);
	/* No transaction is running: every TWC starts at no current. */
	for (int c = 1; c <= cp->n_conn; c++)
		if (cp->conn[c].mapped)
			cp->conn[c].limit = INT32_MIN;
	ocpp_cp_refresh(cp);
}

void ocpp_cp_connected(struct ocpp_cp *cp, struct ocpp_now now)
{
	clock_at(cp, now);
	cp->connected = true;
	cp->inflight = false;
	for (struct ocpp_msg *m = cp->q_head; m; m = m->next)
		m->not_before_ms = 0;
	if (!cp->registered)
		cp->boot_due_ms = now.mono_ms;
	ocpp_cp_step(cp);
}

void ocpp_cp_disconnected(struct ocpp_cp *cp, struct ocpp_now now)
{
	clock_at(cp, now);
	if (cp->connected)
		ocpp_cp_link_drop(cp);
	ocpp_cp_step(cp);
}

void ocpp_cp_request_reset(struct ocpp_cp *cp, bool hard)
{
	enum ocpp_stop_reason why = hard ? OCPP_RSN_HARD_RESET : OCPP_RSN_SOFT_RESET;

	cp->reset_pending = true;
	cp->reset_hard = hard;
	cp->reset_due_ms = cp->now_ms + RESET_MIN_DELAY_MS;
	cp->reset_deadline_ms = cp->now_ms + RESET_DRAIN_MS;
	for (int c = 1; c <= cp->n_conn; c++)
		ocpp_cp_tx_stop(cp, c, why);
}

/* A journal mark that the Reset happened: the next start reports ResetOrReboot, in order with the
 * StopTransactions the Reset queued, even if the process dies before it could say so itself. */
static void reset_mark(struct ocpp_cp *cp)
{
	json_t *r = json_pack("{s:s,s:b,s:I}", "k", "reset", "hard", cp->reset_hard, "at", (json_int_t)cp->now_wall);
	char *text = r ? json_dumps(r, JSON_COMPACT) : NULL;

	json_decref(r);
	if (!text || ocpp_cp_journal_put(cp, cp->next_seq++, text) < 0)
		ocpp_cp_log(cp, CORE_LOG_WARN, "Reset: could not journal it, ResetOrReboot will not be reported");
	free(text);
}

void ocpp_cp_tick(struct ocpp_cp *cp, struct ocpp_now now)
{
	clock_at(cp, now);
	if (!cp->started)
		return;
	if (cp->inflight && cp->now_ms >= cp->inflight_deadline) {
		cp->stats.calls_timed_out++;
		ocpp_cp_call_fail(cp, "no answer in time");
	}
	ocpp_cp_sample_tick(cp);
	ocpp_cp_aligned_tick(cp);
	ocpp_cp_auth_expire(cp);
	ocpp_cp_journal_retry(cp);
	if (cp->next_store_ms && cp->now_ms >= cp->next_store_ms)
		ocpp_cp_save_connectors(cp);
	ocpp_cp_step(cp);
	if (cp->reset_pending && cp->now_ms >= cp->reset_due_ms &&
	    (cp->q_persisted == 0 || !cp->connected || cp->now_ms >= cp->reset_deadline_ms)) {
		cp->reset_pending = false;
		ocpp_cp_log(cp, CORE_LOG_INFO, "%s reset now", cp->reset_hard ? "hard" : "soft");
		ocpp_cp_save_connectors(cp);
		reset_mark(cp);
		if (cp->env.reset)
			cp->env.reset(cp->env.user, cp->reset_hard);
	}
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t ocpp_cp_next_deadline(const struct ocpp_cp *cp)
{
	uint64_t d = UINT64_MAX;

	if (!cp->started)
		return d;
	if (cp->inflight)
		d = cp->inflight_deadline;
	else if (cp->connected && !cp->registered)
		d = cp->boot_due_ms;
	else if (cp->connected) {
		const struct ocpp_msg *m = ocpp_cp_queue_peek(cp);

		if (m)
			d = m->not_before_ms;
		else if (ocpp_cp_key_int(cp, OCPP_KEY_HEARTBEAT_INTERVAL) > 0)
			d = cp->last_send_ms + ocpp_cp_sec_ms(ocpp_cp_key_int(cp, OCPP_KEY_HEARTBEAT_INTERVAL));
	}
	for (int c = 1; c <= cp->n_conn; c++) {
		const struct ocpp_conn *k = &cp->conn[c];

		if (k->tx.active && ocpp_cp_key_int(cp, OCPP_KEY_METER_VALUE_SAMPLE_INTERVAL) > 0)
			d = min_u64(d, k->tx.next_sample_ms);
		if (k->tx.active && !k->ev.drawing && cp->now_ms < k->tx.start_mono + OCPP_CP_RAMP_GRACE_MS)
			d = min_u64(d, k->tx.start_mono + OCPP_CP_RAMP_GRACE_MS);
		if (k->auth == OCPP_AS_OK && !k->ev.plugged)
			d = min_u64(d, k->auth_ms + ocpp_cp_sec_ms(ocpp_cp_key_int(cp, OCPP_KEY_CONNECTION_TIME_OUT)));
		if (k->auth_retry_ms > cp->now_ms && k->auth == OCPP_AS_NONE && k->ev.plugged &&
		    cp->id_src != OCPP_IDTAG_REMOTE)
			d = min_u64(d, k->auth_retry_ms);
		if (k->mapped && !k->seen && cp->now_ms < cp->boot_grace_ms)
			d = min_u64(d, cp->boot_grace_ms);
	}
	d = min_u64(d, cp->next_aligned_ms);
	d = min_u64(d, cp->sc_next_ms);
	d = min_u64(d, ocpp_cp_journal_deadline(cp));
	if (cp->next_store_ms)
		d = min_u64(d, cp->next_store_ms);
	if (cp->reset_pending)
		d = min_u64(d, cp->q_persisted == 0 || !cp->connected
				       ? cp->reset_due_ms
				       : (cp->reset_deadline_ms > cp->reset_due_ms ? cp->reset_deadline_ms : cp->reset_due_ms));
	return d;
}

/* The end of a public entry point an env callback may call: inside a CS CALL's handler only queue,
 * the CALLRESULT must go out first (ocpp_cp_input() steps once it has). */
static void step_unless_in_call(struct ocpp_cp *cp)
{
	if (!cp->in_call)
		ocpp_cp_step(cp);
}

int ocpp_cp_security_event(struct ocpp_cp *cp, const char *type, const char *techinfo, struct ocpp_now now)
{
	int r;

	if (!cp || !cp->started)
		return -EINVAL;
	clock_at(cp, now);
	r = ocpp_cp_security_event_at(cp, type, techinfo, now.wall_ms);
	step_unless_in_call(cp);
	return r;
}

int ocpp_cp_sign_certificate(struct ocpp_cp *cp, const char *csr_pem, struct ocpp_now now)
{
	int r;

	if (!cp || !cp->started)
		return -EINVAL;
	clock_at(cp, now);
	r = ocpp_cp_sign_certificate_queue(cp, csr_pem);
	step_unless_in_call(cp);
	return r;
}

int ocpp_cp_log_status(struct ocpp_cp *cp, const char *status, int request_id, struct ocpp_now now)
{
	int r;

	if (!cp || !cp->started)
		return -EINVAL;
	clock_at(cp, now);
	r = ocpp_cp_log_status_queue(cp, status, request_id < 0 ? -1 : request_id);
	if (r == -EINVAL)
		ocpp_cp_log(cp, CORE_LOG_ERROR, "LogStatusNotification: unknown status");
	step_unless_in_call(cp);
	return r;
}

int ocpp_cp_firmware_status(struct ocpp_cp *cp, const char *status, int request_id, struct ocpp_now now)
{
	int r;

	if (!cp || !cp->started)
		return -EINVAL;
	clock_at(cp, now);
	r = ocpp_cp_firmware_status_queue(cp, status, request_id < 0 ? -1 : request_id);
	if (r == -EINVAL)
		ocpp_cp_log(cp, CORE_LOG_ERROR, "SignedFirmwareStatusNotification: unknown status");
	step_unless_in_call(cp);
	return r;
}

int ocpp_cp_security_profile_fallback(struct ocpp_cp *cp, int profile, struct ocpp_now now)
{
	long cur;
	char v[16], info[128];

	if (!cp)
		return -EINVAL;
	cur = ocpp_cp_key_int(cp, OCPP_KEY_SECURITY_PROFILE);
	if (profile < 0 || profile >= cur)
		return -EINVAL;
	clock_at(cp, now);
	snprintf(v, sizeof(v), "%d", profile);
	if (ocpp_config_set(cp->cfg, OCPP_KEY_SECURITY_PROFILE, v) < 0)
		return -EINVAL;
	ocpp_cp_save_config(cp);
	ocpp_cp_log(cp, CORE_LOG_WARN, "SecurityProfile %ld failed to connect: back to %d", cur, profile);
	snprintf(info, sizeof(info), "SecurityProfile back from %ld to %d: no connection with %ld", cur, profile, cur);
	if (cp->started) {
		ocpp_cp_security_event_at(cp, "ReconfigurationOfSecurityParameters", info, now.wall_ms);
		step_unless_in_call(cp);
	}
	return 0;
}

bool ocpp_cp_registered(const struct ocpp_cp *cp)
{
	return cp->registered;
}

const char *ocpp_cp_registration(const struct ocpp_cp *cp)
{
	if (cp->registered)
		return "Accepted";
	/* cp->reg starts at Accepted (0): only an answer while connected makes Pending or Rejected. */
	if (!cp->connected || cp->reg == OCPP_REG_ACCEPTED)
		return "none";
	return ocpp_registration_names[cp->reg];
}

struct ocpp_config *ocpp_cp_config(struct ocpp_cp *cp)
{
	return cp->cfg;
}

const struct ocpp_cp_stats *ocpp_cp_stats(const struct ocpp_cp *cp)
{
	return &cp->stats;
}
