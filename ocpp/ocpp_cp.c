/*
 * ocpp_cp: the charge point's engine. It keeps the connection state (boot, registration, heartbeat),
 * the one-CALL-at-a-time outbound queue with its journal, the connectors (one per TWC slave) with
 * their status, energy register and current limit, authorisation, transactions and metering. The
 * parsing and answering of each OCPP action lives in actions/<action>.c; this file decides when
 * things happen. Pure: time comes in as struct ocpp_now, effects go out through struct ocpp_cp_env.
 */
#include "ocpp_cp_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define BOOT_RETRY_DEFAULT_MS 60000u  /* boot retry when the central system gives no interval */
#define ABSENT_GRACE_MS 30000u        /* a mapped TWC not seen this long after start is Faulted */
#define RAMP_GRACE_MS 15000u          /* a car just granted current is Charging while it ramps up */
#define STORE_PERIOD_MS 60000u        /* the energy registers are saved at least this often */
#define RESET_MIN_DELAY_MS 1000u      /* let the Reset.conf reach the wire */
#define RESET_DRAIN_MS 10000u         /* wait this long for StopTransaction.conf before restarting */
#define AUTH_RETRY_MS 30000u          /* a local idTag that could not be checked is tried again */

static const char *const out_names[OCPP_OUT_COUNT] = {
	"Authorize", "BootNotification", "DataTransfer", "DiagnosticsStatusNotification", "FirmwareStatusNotification",
	"Heartbeat", "MeterValues", "StartTransaction", "StatusNotification", "StopTransaction",
};

typedef int (*conf_fn)(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf, struct ocpp_perr *e);
static const conf_fn conf_handlers[OCPP_OUT_COUNT] = {
	ocpp_authorize_conf, ocpp_boot_notification_conf, ocpp_data_transfer_conf,
	ocpp_diagnostics_status_notification_conf, ocpp_firmware_status_notification_conf, ocpp_heartbeat_conf,
	ocpp_meter_values_conf, ocpp_start_transaction_conf, ocpp_status_notification_conf,
	ocpp_stop_transaction_conf,
};

/* The central system's CALLs of the Core, Local Auth List, Smart Charging and Remote Trigger profiles. */
static const struct {
	const char *name;
	ocpp_handler_fn fn;
} in_handlers[] = {
	{ "ChangeAvailability", ocpp_handle_change_availability },
	{ "ChangeConfiguration", ocpp_handle_change_configuration },
	{ "ClearCache", ocpp_handle_clear_cache },
	{ "ClearChargingProfile", ocpp_handle_clear_charging_profile },
	{ "DataTransfer", ocpp_handle_data_transfer },
	{ "GetCompositeSchedule", ocpp_handle_get_composite_schedule },
	{ "GetConfiguration", ocpp_handle_get_configuration },
	{ "GetLocalListVersion", ocpp_handle_get_local_list_version },
	{ "RemoteStartTransaction", ocpp_handle_remote_start_transaction },
	{ "RemoteStopTransaction", ocpp_handle_remote_stop_transaction },
	{ "Reset", ocpp_handle_reset },
	{ "SendLocalList", ocpp_handle_send_local_list },
	{ "SetChargingProfile", ocpp_handle_set_charging_profile },
	{ "TriggerMessage", ocpp_handle_trigger_message },
	{ "UnlockConnector", ocpp_handle_unlock_connector },
};

/* OCPP 1.6 actions of the other profiles (and the security whitepaper): known, not supported. */
static const char *const not_supported[] = {
	"CancelReservation", "GetDiagnostics", "ReserveNow",
	"UpdateFirmware", "CertificateSigned", "DeleteCertificate", "ExtendedTriggerMessage",
	"GetInstalledCertificateIds", "GetLog", "InstallCertificate", "SignedUpdateFirmware",
};

/* ---------------------------------------------------------------- small helpers */

void ocpp_cp_log(struct ocpp_cp *cp, int level, const char *fmt, ...)
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

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

bool ocpp_cp_valid_connector(const struct ocpp_cp *cp, int c)
{
	return c >= 1 && c <= cp->n_conn && cp->conn[c].mapped;
}

int ocpp_cp_tx_wire_id(const struct ocpp_tx *tx)
{
	return tx->id ? tx->id : -tx->local;
}

static uint64_t sec_ms(long s)
{
	return s > 0 ? (uint64_t)s * 1000u : 0;
}

static long key_int(const struct ocpp_cp *cp, enum ocpp_key k)
{
	return ocpp_config_int(cp->cfg, k);
}

/* IdTagInfo, shared by Authorize, StartTransaction and StopTransaction. */
json_t *ocpp_idtaginfo_json(const struct ocpp_id_tag_info *info)
{
	json_t *j = json_pack("{s:s}", "status", ocpp_auth_status_names[info->status]);
	char ts[OCPP_TIME_LEN + 1];

	if (j && info->expiry_ms) {
		ocpp_time_format(info->expiry_ms, ts, sizeof(ts));
		json_object_set_new(j, "expiryDate", json_string(ts));
	}
	if (j && info->parent[0])
		json_object_set_new(j, "parentIdTag", json_string(info->parent));
	return j;
}

int ocpp_idtaginfo_parse(const json_t *obj, struct ocpp_id_tag_info *out, struct ocpp_perr *e)
{
	static const char *const keys[] = { "status", "expiryDate", "parentIdTag", NULL };
	int st = 0;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(obj))
		return ocpp_perr_set(e, OCPP_ERR_TYPE_CONSTRAINT, "idTagInfo: not an object");
	if (ocpp_json_only(obj, keys, e) < 0 ||
	    ocpp_json_enum(obj, "status", ocpp_auth_status_names, OCPP_AUTH_COUNT, true, &st, e) < 0 ||
	    ocpp_json_time(obj, "expiryDate", false, &out->expiry_ms, e) < 0 ||
	    ocpp_json_string(obj, "parentIdTag", OCPP_IDTAG_MAX, false, out->parent, sizeof(out->parent), e) < 0)
		return -EINVAL;
	out->status = (enum ocpp_auth_status)st;
	return 0;
}

/* ---------------------------------------------------------------- persistence */

static int store_json(struct ocpp_cp *cp, const char *name, json_t *j, bool secret)
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
		if (r < 0)
			ocpp_cp_log(cp, 0, "saving %s failed: %s", name, strerror(-r));
	}
	free(text);
	return r;
}

int ocpp_cp_store_local_list(struct ocpp_cp *cp, const struct ocpp_local_list *l)
{
	return store_json(cp, OCPP_FILE_LOCAL_LIST, ocpp_local_list_to_json(l), false);
}

bool ocpp_cp_local_auth(struct ocpp_cp *cp, const char *tag, struct ocpp_id_tag_info *info)
{
	if (ocpp_config_bool(cp->cfg, OCPP_KEY_LOCAL_AUTH_LIST_ENABLED) &&
	    ocpp_local_list_lookup(cp->local_list, tag, cp->now_wall, info))
		return true;
	return ocpp_config_bool(cp->cfg, OCPP_KEY_AUTHORIZATION_CACHE_ENABLED) &&
	       ocpp_auth_cache_lookup(cp->auth, tag, cp->now_wall, info);
}

void ocpp_cp_save_config(struct ocpp_cp *cp)
{
	store_json(cp, OCPP_FILE_CONFIG, ocpp_config_to_json(cp->cfg), true);
}

void ocpp_cp_save_auth(struct ocpp_cp *cp)
{
	store_json(cp, OCPP_FILE_AUTH, ocpp_auth_cache_to_json(cp->auth), false);
}

void ocpp_cp_save_profiles(struct ocpp_cp *cp)
{
	store_json(cp, OCPP_FILE_PROFILES, ocpp_sc_save(cp->sc), false);
}

void ocpp_cp_save_connectors(struct ocpp_cp *cp)
{
	json_t *arr = json_array();

	for (int c = 1; c <= cp->n_conn; c++) {
		const struct ocpp_conn *k = &cp->conn[c];
		char id[8];

		snprintf(id, sizeof(id), "%04X", k->twc_id);
		json_array_append_new(arr, json_pack("{s:i,s:s,s:b,s:f,s:b,s:I,s:f}", "connector", c, "twc", id,
						     "inoperative", k->inoperative, "energyWh", k->energy_wh,
						     "lifeRefValid", k->life_ref_valid, "lifeRefWh",
						     (json_int_t)k->life_ref_wh, "energyRefWh", k->energy_ref_wh));
	}
	store_json(cp, OCPP_FILE_CONNECTORS,
		   json_pack("{s:o,s:b,s:i}", "connectors", arr, "inoperative", cp->cp_inoperative, "txLocalNext",
			     cp->tx_local_next),
		   false);
	cp->next_store_ms = cp->now_ms + STORE_PERIOD_MS;
}

/* A TWC ID as the connectors file stores it: 1-4 hex digits. Return 0 or -EINVAL. */
static int parse_twc_id(const char *s, unsigned *out)
{
	unsigned v = 0;
	size_t n = 0;

	for (; s[n]; n++) {
		char c = s[n];
		unsigned d;

		if (n == 4)
			return -EINVAL;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
		v = v * 16 + d;
	}
	if (n == 0)
		return -EINVAL;
	*out = v;
	return 0;
}

static void load_connectors(struct ocpp_cp *cp, const char *text)
{
	json_error_t jerr;
	json_t *root = json_loads(text, 0, &jerr), *arr, *it;
	size_t i;

	if (!root || !json_is_object(root)) {
		ocpp_cp_log(cp, 1, "%s: unreadable (%s), starting without it", OCPP_FILE_CONNECTORS, jerr.text);
		json_decref(root);
		return;
	}
	cp->cp_inoperative = json_is_true(json_object_get(root, "inoperative"));
	if (json_is_integer(json_object_get(root, "txLocalNext")))
		cp->tx_local_next = (int)json_integer_value(json_object_get(root, "txLocalNext"));
	arr = json_object_get(root, "connectors");
	json_array_foreach(arr, i, it) {
		json_int_t n = json_integer_value(json_object_get(it, "connector"));
		const char *twc = json_string_value(json_object_get(it, "twc"));
		struct ocpp_conn *k;
		unsigned id;

		if (n < 1 || n > OCPP_MAX_CONNECTORS || !twc || parse_twc_id(twc, &id) < 0)
			continue;
		k = &cp->conn[n];
		k->mapped = true;
		k->twc_id = (uint16_t)id;
		k->inoperative = json_is_true(json_object_get(it, "inoperative"));
		k->energy_wh = json_number_value(json_object_get(it, "energyWh"));
		if (!(k->energy_wh >= 0))
			k->energy_wh = 0;
		k->life_ref_valid = json_is_true(json_object_get(it, "lifeRefValid"));
		k->life_ref_wh = (uint64_t)json_integer_value(json_object_get(it, "lifeRefWh"));
		k->energy_ref_wh = json_number_value(json_object_get(it, "energyRefWh"));
		if (n > cp->n_conn)
			cp->n_conn = (int)n;
	}
	json_decref(root);
	if (cp->tx_local_next < 1)
		cp->tx_local_next = 1;
}

static void update_connector_count(struct ocpp_cp *cp)
{
	char v[8];

	snprintf(v, sizeof(v), "%d", cp->n_conn);
	ocpp_config_set(cp->cfg, OCPP_KEY_NUMBER_OF_CONNECTORS, v);
}

/* ---------------------------------------------------------------- the outbound queue */

static void msg_free(struct ocpp_msg *m)
{
	if (!m)
		return;
	json_decref(m->payload);
	free(m);
}

static char *record_text(const struct ocpp_msg *m)
{
	json_t *r = json_pack("{s:s,s:s,s:i,s:i,s:O}", "k", "msg", "a", out_names[m->action], "c", m->connector,
			      "t", m->tx_local, "p", m->payload);
	char *text = r ? json_dumps(r, JSON_COMPACT) : NULL;

	json_decref(r);
	return text;
}

static int journal_put(struct ocpp_cp *cp, uint64_t seq, const char *text)
{
	int r = cp->env.journal_put ? cp->env.journal_put(cp->env.user, seq, text) : 0;

	if (r < 0)
		ocpp_cp_log(cp, 0, "journal: writing record %" PRIu64 " failed: %s", seq, strerror(-r));
	return r;
}

static void journal_del(struct ocpp_cp *cp, uint64_t seq)
{
	int r;

	if (!seq || !cp->env.journal_del)
		return;
	r = cp->env.journal_del(cp->env.user, seq);
	if (r < 0)
		ocpp_cp_log(cp, 0, "journal: deleting record %" PRIu64 " failed: %s", seq, strerror(-r));
}

static void q_unlink(struct ocpp_cp *cp, struct ocpp_msg *prev, struct ocpp_msg *m)
{
	if (prev)
		prev->next = m->next;
	else
		cp->q_head = m->next;
	if (cp->q_tail == m)
		cp->q_tail = prev;
	m->next = NULL;
	if (m->tx)
		cp->q_persisted--;
	cp->stats.queued = (uint32_t)cp->q_persisted;
}

/* The queue bound: thin the MeterValues (every second one, oldest first); Start and Stop stay. */
static void q_thin(struct ocpp_cp *cp)
{
	struct ocpp_msg *prev = NULL, *m = cp->q_head;
	bool drop = false;

	while (m) {
		struct ocpp_msg *next = m->next;

		if (m->tx && m->action == OCPP_OUT_METER_VALUES && m != cp->inflight_msg) {
			if (drop) {
				q_unlink(cp, prev, m);
				journal_del(cp, m->seq);
				msg_free(m);
				cp->stats.queue_dropped++;
				m = prev;
			}
			drop = !drop;
		}
		prev = m;
		m = next;
	}
	ocpp_cp_log(cp, 1, "queue full: dropped every second queued MeterValues (%u dropped so far)",
		    cp->stats.queue_dropped);
}

int ocpp_cp_queue(struct ocpp_cp *cp, enum ocpp_out_action a, json_t *payload, int connector, int tx_local,
		  bool persist)
{
	struct ocpp_msg *m;

	if (!payload)
		return -ENOMEM;
	/* Without a link only transaction messages wait; the rest is re-derived on reconnect. */
	if (!persist && !cp->connected) {
		json_decref(payload);
		return -ENOTCONN;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		json_decref(payload);
		return -ENOMEM;
	}
	m->action = a;
	m->payload = payload;
	m->connector = connector;
	m->tx_local = tx_local;
	if (persist) {
		char *text;
		int r;

		if (a == OCPP_OUT_METER_VALUES && cp->q_persisted >= cp->queue_max)
			q_thin(cp);
		m->tx = true;
		m->seq = cp->next_seq++;
		text = record_text(m);
		r = text ? journal_put(cp, m->seq, text) : -ENOMEM;
		free(text);
		if (r < 0)
			m->seq = 0; /* not durable, but still worth sending while we run */
		cp->q_persisted++;
	}
	if (cp->q_tail)
		cp->q_tail->next = m;
	else
		cp->q_head = m;
	cp->q_tail = m;
	cp->stats.queued = (uint32_t)cp->q_persisted;
	return 0;
}

static void next_id(struct ocpp_cp *cp, char *out)
{
	snprintf(out, OCPP_MSG_ID_MAX + 1, "%" PRIx64 "-%" PRIu32, cp->id_base, ++cp->id_counter);
}

static int send_call(struct ocpp_cp *cp, enum ocpp_out_action a, const json_t *payload)
{
	char *text;
	int r;

	next_id(cp, cp->inflight_id);
	text = ocpp_frame_call(cp->inflight_id, out_names[a], payload);
	if (!text)
		return -ENOMEM;
	r = cp->env.send(cp->env.user, text, strlen(text));
	free(text);
	if (r < 0)
		return r;
	cp->stats.tx_frames++;
	cp->inflight = true;
	cp->inflight_action = a;
	cp->inflight_deadline = cp->now_ms + cp->call_timeout_ms;
	cp->last_send_ms = cp->now_ms;
	return 0;
}

static void link_lost(struct ocpp_cp *cp);
static void step(struct ocpp_cp *cp);

/* The next message to send: transaction messages strictly in order (one waiting for its retry holds
 * back the later ones, so a MeterValues never follows its StopTransaction), other messages in order
 * among themselves but free to pass a transaction message that waits. Returns the candidate with the
 * earliest not_before_ms, or NULL when the queue is empty. */
static struct ocpp_msg *q_next(const struct ocpp_cp *cp)
{
	struct ocpp_msg *best = NULL;
	bool tx_seen = false;

	for (struct ocpp_msg *m = cp->q_head; m; m = m->next) {
		if (m->tx) {
			if (tx_seen)
				continue;
			tx_seen = true;
		}
		if (!best || m->not_before_ms < best->not_before_ms)
			best = m;
		if (best->not_before_ms <= cp->now_ms)
			break;
	}
	return best;
}

/* Send what is due, one CALL at a time. */
static void pump(struct ocpp_cp *cp)
{
	struct ocpp_msg *m;

	if (!cp->started || !cp->connected || cp->inflight)
		return;
	if (!cp->registered) {
		if (cp->now_ms >= cp->boot_due_ms) {
			json_t *p = ocpp_boot_notification_req(cp);

			cp->inflight_msg = NULL;
			if (send_call(cp, OCPP_OUT_BOOT_NOTIFICATION, p) < 0)
				link_lost(cp);
			json_decref(p);
		}
		return;
	}
	m = q_next(cp);
	if (m && m->not_before_ms <= cp->now_ms) {
		cp->inflight_msg = m;
		if (send_call(cp, m->action, m->payload) < 0) {
			cp->inflight_msg = NULL;
			link_lost(cp);
		}
		return;
	}
	if (!cp->q_head && key_int(cp, OCPP_KEY_HEARTBEAT_INTERVAL) > 0 &&
	    cp->now_ms >= cp->last_send_ms + sec_ms(key_int(cp, OCPP_KEY_HEARTBEAT_INTERVAL))) {
		json_t *p = ocpp_heartbeat_req();

		cp->inflight_msg = NULL;
		if (send_call(cp, OCPP_OUT_HEARTBEAT, p) < 0)
			link_lost(cp);
		json_decref(p);
	}
}

static struct ocpp_msg *q_find_prev(struct ocpp_cp *cp, struct ocpp_msg *target)
{
	struct ocpp_msg *prev = NULL;

	for (struct ocpp_msg *m = cp->q_head; m; prev = m, m = m->next)
		if (m == target)
			return prev;
	return NULL;
}

static void q_remove(struct ocpp_cp *cp, struct ocpp_msg *m)
{
	q_unlink(cp, q_find_prev(cp, m), m);
	journal_del(cp, m->seq);
	msg_free(m);
}

/* Drop the queued messages of a transaction whose StartTransaction could not be delivered: with a
 * provisional id the central system could not place them. */
static void q_drop_tx(struct ocpp_cp *cp, int tx_local)
{
	struct ocpp_msg *m = cp->q_head, *next;

	for (; m; m = next) {
		next = m->next;
		if (m->tx_local == tx_local && m != cp->inflight_msg)
			q_remove(cp, m);
	}
}

/* The central system never took this transaction's StartTransaction: it cannot know the
 * transaction, so end it here without a StopTransaction and take the current away. */
static void tx_abandon(struct ocpp_cp *cp, int local)
{
	for (int c = 1; c <= cp->n_conn; c++) {
		struct ocpp_conn *k = &cp->conn[c];

		if (!k->tx.active || k->tx.local != local)
			continue;
		journal_del(cp, k->tx.seq);
		memset(&k->tx, 0, sizeof(k->tx));
		k->finishing = k->ev.present && k->ev.plugged;
	}
	ocpp_cp_refresh(cp);
}

/* A queued CALL failed (CALLERROR, a result that does not parse, or no answer in time). */
static void call_failed(struct ocpp_cp *cp, const char *why)
{
	struct ocpp_msg *m = cp->inflight_msg;
	enum ocpp_out_action a = cp->inflight_action;

	cp->inflight = false;
	cp->inflight_msg = NULL;
	if (a == OCPP_OUT_BOOT_NOTIFICATION) {
		cp->boot_due_ms = cp->now_ms + BOOT_RETRY_DEFAULT_MS;
		ocpp_cp_log(cp, 1, "BootNotification failed (%s); retrying in %u s", why,
			    BOOT_RETRY_DEFAULT_MS / 1000);
		return;
	}
	if (!m)
		return;
	if (m->tx) {
		long max = key_int(cp, OCPP_KEY_TRANSACTION_MESSAGE_ATTEMPTS);

		m->attempts++;
		if (m->attempts < max) {
			m->not_before_ms = cp->now_ms +
					   sec_ms(key_int(cp, OCPP_KEY_TRANSACTION_MESSAGE_RETRY_INTERVAL)) *
						   (uint64_t)m->attempts;
			ocpp_cp_log(cp, 1, "%s failed (%s): attempt %d of %ld, retrying", out_names[a], why,
				    m->attempts, max);
			return;
		}
		ocpp_cp_log(cp, 0, "%s failed %d times (%s): given up", out_names[a], m->attempts, why);
		if (a == OCPP_OUT_STOP_TRANSACTION)
			ocpp_cp_forget_tx(cp, m->tx_local);
		if (a == OCPP_OUT_START_TRANSACTION && m->tx_local) {
			int local = m->tx_local;

			q_remove(cp, m);
			q_drop_tx(cp, local);
			tx_abandon(cp, local);
			return;
		}
	} else {
		ocpp_cp_log(cp, 1, "%s failed (%s)", out_names[a], why);
		if (a == OCPP_OUT_AUTHORIZE) {
			/* Treat as offline for this attempt: the local rules decide. */
			int c = m->connector;

			q_remove(cp, m);
			if (ocpp_cp_valid_connector(cp, c) && cp->conn[c].auth == OCPP_AS_PENDING) {
				struct ocpp_conn *k = &cp->conn[c];
				struct ocpp_id_tag_info info;
				bool cached = ocpp_cp_local_auth(cp, k->auth_tag, &info);

				if ((cached && info.status == OCPP_AUTH_ACCEPTED &&
				     ocpp_config_bool(cp->cfg, OCPP_KEY_LOCAL_AUTHORIZE_OFFLINE)) ||
				    (!cached && ocpp_config_bool(cp->cfg, OCPP_KEY_ALLOW_OFFLINE_TX_FOR_UNKNOWN_ID)))
					ocpp_cp_authorized(cp, c, k->auth_tag, cached ? info.parent : "", false);
				else {
					k->auth = OCPP_AS_NONE;
					k->auth_retry_ms = cp->now_ms + AUTH_RETRY_MS;
				}
			}
			ocpp_cp_refresh(cp);
			return;
		}
	}
	q_remove(cp, m);
}

static void link_lost(struct ocpp_cp *cp)
{
	struct ocpp_msg *m, *next;

	cp->connected = false;
	if (cp->inflight) {
		cp->inflight = false;
		/* A pending Authorize is decided by the offline rules right away. */
		if (cp->inflight_msg && cp->inflight_action == OCPP_OUT_AUTHORIZE) {
			cp->inflight = true;
			call_failed(cp, "connection lost");
		}
		cp->inflight = false;
		cp->inflight_msg = NULL;
	}
	for (m = cp->q_head; m; m = next) {
		next = m->next;
		if (!m->tx)
			q_remove(cp, m);
	}
	for (int c = 1; c <= cp->n_conn; c++)
		cp->conn[c].reported = -1; /* report every status again after reconnecting */
	cp->reported0 = -1;
}

/* ---------------------------------------------------------------- connectors and status */

static bool conn_suspended(const struct ocpp_cp *cp, const struct ocpp_conn *k)
{
	return k->tx.invalid || k->inoperative || cp->cp_inoperative;
}

void ocpp_cp_sc_ctx(const struct ocpp_cp *cp, int c, struct ocpp_sc_ctx *ctx)
{
	const struct ocpp_conn *k = &cp->conn[c];

	memset(ctx, 0, sizeof(*ctx));
	ctx->connector = c;
	ctx->voltage = cp->voltage;
	ctx->phases = cp->phases;
	ctx->default_amps = c ? cp->max_amps : cp->max_amps_total;
	if (c > 0 && k->tx.active) {
		ctx->tx_active = true;
		ctx->tx_id = ocpp_cp_tx_wire_id(&k->tx);
		ctx->tx_start_ms = k->tx.start_wall;
	}
}

/* The profiles' limit for connector @c (0: the charge point) now, in whole amps, or -1 when no
 * profile applies; *next_wall lowered to when it may change. */
static int sc_amps(const struct ocpp_cp *cp, int c, int64_t *next_wall)
{
	struct ocpp_sc_ctx ctx;
	int64_t next = INT64_MAX;
	double a;

	if (ocpp_sc_count(cp->sc) == 0)
		return -1;
	ocpp_cp_sc_ctx(cp, c, &ctx);
	a = ocpp_sc_limit(cp->sc, &ctx, cp->now_wall, &next);
	if (next < *next_wall)
		*next_wall = next;
	if (a < 0)
		return -1;
	/* Whole amps, rounded down: a car handles fractional limits badly, and down never exceeds. */
	return a >= INT32_MAX ? INT32_MAX : (int)floor(a + 1e-9);
}

/* What connector @c may be offered: 0 without a running transaction or when a profile allows less
 * than the minimum (the connector pauses), -1 for the wiring, else whole amps below the wiring. */
static int conn_limit(const struct ocpp_cp *cp, int c, int64_t *next_wall)
{
	const struct ocpp_conn *k = &cp->conn[c];
	int a;

	if (!k->tx.active || conn_suspended(cp, k))
		return 0;
	a = sc_amps(cp, c, next_wall);
	if (a < 0 || a >= cp->max_amps)
		return -1;
	return a < cp->min_amps ? 0 : a;
}

static enum ocpp_cp_status conn_status(const struct ocpp_cp *cp, int c, enum ocpp_cp_error *err)
{
	const struct ocpp_conn *k = &cp->conn[c];

	*err = OCPP_CE_NO_ERROR;
	if (!k->ev.present || k->ev.fault) {
		*err = OCPP_CE_OTHER_ERROR;
		return OCPP_ST_FAULTED;
	}
	if (k->tx.active) {
		if (conn_suspended(cp, k) || k->limit == 0 || k->ev.paused)
			return OCPP_ST_SUSPENDED_EVSE;
		if (k->ev.drawing || cp->now_ms < k->tx.start_mono + RAMP_GRACE_MS)
			return OCPP_ST_CHARGING;
		return OCPP_ST_SUSPENDED_EV;
	}
	if (k->inoperative || cp->cp_inoperative)
		return OCPP_ST_UNAVAILABLE;
	if (k->ev.plugged)
		return k->finishing ? OCPP_ST_FINISHING : OCPP_ST_PREPARING;
	if (k->auth == OCPP_AS_OK || k->auth == OCPP_AS_PENDING)
		return OCPP_ST_PREPARING;
	return OCPP_ST_AVAILABLE;
}

/* A TWC that has not answered since start is reported only after a grace period: the bus needs a
 * few seconds to find its slaves. */
static bool conn_reportable(const struct ocpp_cp *cp, const struct ocpp_conn *k)
{
	return k->mapped && (k->seen || cp->now_ms >= cp->boot_grace_ms);
}

static void queue_status(struct ocpp_cp *cp, int c, enum ocpp_cp_status st, enum ocpp_cp_error err)
{
	char info[50] = "", vendor[12] = "";
	const struct ocpp_conn *k = &cp->conn[c];

	if (c > 0 && st == OCPP_ST_FAULTED) {
		if (!k->ev.present) {
			snprintf(info, sizeof(info), "TWC %04X not responding", k->twc_id);
		} else {
			snprintf(info, sizeof(info), "TWC %04X error state", k->twc_id);
			snprintf(vendor, sizeof(vendor), "%02X", k->ev.fault_code & 0xffu);
		}
	}
	ocpp_cp_queue(cp, OCPP_OUT_STATUS_NOTIFICATION,
		      ocpp_status_notification_req(c, st, err, info[0] ? info : NULL, vendor[0] ? vendor : NULL,
						   cp->now_wall),
		      c, 0, false);
}

void ocpp_cp_status_now(struct ocpp_cp *cp, int c)
{
	enum ocpp_cp_error err = OCPP_CE_NO_ERROR;
	enum ocpp_cp_status st;

	if (c == 0) {
		st = cp->cp_inoperative ? OCPP_ST_UNAVAILABLE : OCPP_ST_AVAILABLE;
		cp->reported0 = (int)st;
	} else {
		st = conn_status(cp, c, &err);
		cp->conn[c].reported = (int)st;
		cp->conn[c].reported_err = (int)err;
	}
	queue_status(cp, c, st, err);
}

static void tx_start(struct ocpp_cp *cp, int c);

/* Map a limit to a comparable size: -1 (the wiring) is the largest. */
static long lim_rank(int lim, int wiring)
{
	return lim < 0 ? (long)wiring : (long)lim;
}

/* Limits from the profiles, lowered before raised so that the sum of what the layers below are told
 * never grows past what either the old or the new limits allow. The bus's clamp keeps the wiring
 * in any case; this keeps the order right for the charge point's own limit too. */
static void refresh_limits(struct ocpp_cp *cp)
{
	int64_t next_wall = INT64_MAX;
	int lim[OCPP_MAX_CONNECTORS + 1];
	int total = sc_amps(cp, 0, &next_wall);

	if (total >= cp->max_amps_total)
		total = -1;
	/* Before anything was set the layer below allows the wiring. */
	long total_was = cp->total_limit == INT32_MIN ? cp->max_amps_total : lim_rank(cp->total_limit, cp->max_amps_total);

	for (int c = 1; c <= cp->n_conn; c++)
		lim[c] = conn_limit(cp, c, &next_wall);
	for (int pass = 0; pass < 2; pass++) {
		bool lowering_pass = pass == 0;

		if (total != cp->total_limit && (lim_rank(total, cp->max_amps_total) < total_was) == lowering_pass) {
			cp->total_limit = total;
			if (cp->env.set_total_limit)
				cp->env.set_total_limit(cp->env.user, total);
		}
		for (int c = 1; c <= cp->n_conn; c++) {
			struct ocpp_conn *k = &cp->conn[c];
			bool lowering = k->limit == INT32_MIN ? lim[c] == 0
							      : lim_rank(lim[c], cp->max_amps) < lim_rank(k->limit, cp->max_amps);

			if (!k->mapped || lim[c] == k->limit || lowering != lowering_pass)
				continue;
			k->limit = lim[c];
			if (cp->env.set_limit)
				cp->env.set_limit(cp->env.user, c, lim[c]);
		}
	}
	if (next_wall == INT64_MAX)
		cp->sc_next_ms = UINT64_MAX;
	else if (next_wall <= cp->now_wall)
		cp->sc_next_ms = cp->now_ms + 1000; /* never a busy loop on a boundary already passed */
	else
		cp->sc_next_ms = cp->now_ms + (uint64_t)(next_wall - cp->now_wall);
}

void ocpp_cp_refresh(struct ocpp_cp *cp)
{
	if (!cp->started)
		return;
	/* Start transactions that are now possible. */
	for (int c = 1; c <= cp->n_conn; c++) {
		struct ocpp_conn *k = &cp->conn[c];

		if (k->mapped && !k->tx.active && k->auth == OCPP_AS_OK && k->ev.present && !k->ev.fault &&
		    k->ev.plugged && !k->finishing && !k->inoperative && !cp->cp_inoperative)
			tx_start(cp, c);
	}
	refresh_limits(cp);
	if (!cp->connected || !cp->registered)
		return;
	{
		int st0 = cp->cp_inoperative ? OCPP_ST_UNAVAILABLE : OCPP_ST_AVAILABLE;

		if (st0 != cp->reported0) {
			cp->reported0 = st0;
			queue_status(cp, 0, (enum ocpp_cp_status)st0, OCPP_CE_NO_ERROR);
		}
	}
	for (int c = 1; c <= cp->n_conn; c++) {
		struct ocpp_conn *k = &cp->conn[c];
		enum ocpp_cp_error err;
		enum ocpp_cp_status st;

		if (!conn_reportable(cp, k))
			continue;
		st = conn_status(cp, c, &err);
		if ((int)st == k->reported && (int)err == k->reported_err)
			continue;
		k->reported = (int)st;
		k->reported_err = (int)err;
		queue_status(cp, c, st, err);
	}
}

int ocpp_cp_connector_for_twc(struct ocpp_cp *cp, uint16_t twc_id)
{
	for (int c = 1; c <= cp->n_conn; c++)
		if (cp->conn[c].mapped && cp->conn[c].twc_id == twc_id)
			return c;
	if (cp->n_conn >= OCPP_MAX_CONNECTORS)
		return -ENOSPC;
	cp->n_conn++;
	memset(&cp->conn[cp->n_conn], 0, sizeof(cp->conn[0]));
	cp->conn[cp->n_conn].mapped = true;
	cp->conn[cp->n_conn].twc_id = twc_id;
	cp->conn[cp->n_conn].reported = -1;
	cp->conn[cp->n_conn].scheduled = -1;
	cp->conn[cp->n_conn].limit = INT32_MIN;
	update_connector_count(cp);
	ocpp_cp_save_connectors(cp);
	ocpp_cp_log(cp, 2, "connector %d is TWC %04X", cp->n_conn, twc_id);
	return cp->n_conn;
}

/* Energy: integrate what the car drew since the last update, then never fall below what the TWC's
 * own lifetime counter (whole kWh) proves was delivered. */
static void integrate(struct ocpp_cp *cp, struct ocpp_conn *k, const struct ocpp_evse *st, uint64_t now)
{
	if (k->seen && now > k->energy_mono && k->ev.present && k->ev.amps > 0) {
		double volts = k->ev.volts > 0 ? k->ev.volts : cp->voltage;

		k->energy_wh += k->ev.amps * volts * cp->phases * (double)(now - k->energy_mono) / 3.6e6;
	}
	k->energy_mono = now;
	if (st->present && st->has_lifetime) {
		if (!k->life_ref_valid || st->lifetime_wh < k->life_ref_wh) {
			k->life_ref_valid = true;
			k->life_ref_wh = st->lifetime_wh;
			k->energy_ref_wh = k->energy_wh;
		} else {
			double floor_wh = k->energy_ref_wh + (double)(st->lifetime_wh - k->life_ref_wh) - 1000.0;

			if (floor_wh > k->energy_wh)
				k->energy_wh = floor_wh;
		}
	}
}

static void begin_auth(struct ocpp_cp *cp, int c, const char *tag);

void ocpp_cp_evse_update(struct ocpp_cp *cp, int c, const struct ocpp_evse *st, struct ocpp_now now)
{
	struct ocpp_conn *k;
	bool was_plugged;

	if (!ocpp_cp_valid_connector(cp, c) || !st)
		return;
	cp->now_ms = now.mono_ms;
	cp->now_wall = now.wall_ms;
	k = &cp->conn[c];
	integrate(cp, k, st, now.mono_ms);
	was_plugged = k->seen && k->ev.present && k->ev.plugged;
	k->ev = *st;
	k->ev.vin[sizeof(k->ev.vin) - 1] = '\0';
	k->seen = true;
	if (!cp->started)
		return;

	if (!st->plugged || !st->present) {
		k->finishing = false;
		if (k->tx.active && st->present && !st->plugged &&
		    ocpp_config_bool(cp->cfg, OCPP_KEY_STOP_TRANSACTION_ON_EV_SIDE_DISCONNECT))
			ocpp_cp_tx_stop(cp, c, OCPP_RSN_EV_DISCONNECTED);
		/* A local authorisation belonged to the car that left; a remote one waits for
		 * ConnectionTimeOut. */
		if (was_plugged && !k->auth_remote)
			k->auth = OCPP_AS_NONE;
		if (was_plugged && k->auth_remote && k->auth == OCPP_AS_DENIED)
			k->auth = OCPP_AS_NONE;
	} else if (!k->tx.active && !k->finishing && k->auth == OCPP_AS_NONE) {
		/* Preparing goes out before the Authorize it leads to (OCTT TC_003 checks the order). */
		ocpp_cp_refresh(cp);
		if (cp->id_src == OCPP_IDTAG_FIXED)
			begin_auth(cp, c, cp->fixed_tag);
		else if (cp->id_src == OCPP_IDTAG_VIN && st->vin[0])
			begin_auth(cp, c, st->vin);
	}
	step(cp);
}

/* ---------------------------------------------------------------- authorisation and transactions */

void ocpp_cp_authorized(struct ocpp_cp *cp, int c, const char *tag, const char *parent, bool remote)
{
	struct ocpp_conn *k = &cp->conn[c];

	k->auth = OCPP_AS_OK;
	k->auth_remote = remote;
	copy_str(k->auth_tag, sizeof(k->auth_tag), tag);
	copy_str(k->auth_parent, sizeof(k->auth_parent), parent);
	k->auth_ms = cp->now_ms;
}

/* A local idTag (fixed or VIN) for connector @c: the cache, the offline rules or an Authorize. */
static void begin_auth(struct ocpp_cp *cp, int c, const char *tag)
{
	struct ocpp_conn *k = &cp->conn[c];
	struct ocpp_id_tag_info info;
	bool online = cp->connected && cp->registered;
	bool cached = ocpp_cp_local_auth(cp, tag, &info);
	bool cached_ok = cached && info.status == OCPP_AUTH_ACCEPTED;

	copy_str(k->auth_tag, sizeof(k->auth_tag), tag);
	k->auth_remote = false;
	if (online && cached_ok && ocpp_config_bool(cp->cfg, OCPP_KEY_LOCAL_PRE_AUTHORIZE)) {
		ocpp_cp_authorized(cp, c, tag, info.parent, false);
		return;
	}
	if (online) {
		k->auth = OCPP_AS_PENDING;
		ocpp_cp_queue(cp, OCPP_OUT_AUTHORIZE, ocpp_authorize_req(tag), c, 0, false);
		return;
	}
	if ((cached_ok && ocpp_config_bool(cp->cfg, OCPP_KEY_LOCAL_AUTHORIZE_OFFLINE)) ||
	    (!cached && ocpp_config_bool(cp->cfg, OCPP_KEY_ALLOW_OFFLINE_TX_FOR_UNKNOWN_ID))) {
		ocpp_cp_log(cp, 2, "connector %d: authorised offline (%s)", c, cached ? "cache" : "unknown id allowed");
		ocpp_cp_authorized(cp, c, tag, cached ? info.parent : "", false);
		return;
	}
	/* Not now; tried again when the central system is back. */
	k->auth = OCPP_AS_NONE;
	k->auth_retry_ms = cp->now_ms + AUTH_RETRY_MS;
}

static char *tx_record_text(const struct ocpp_cp *cp, int c)
{
	const struct ocpp_tx *tx = &cp->conn[c].tx;
	json_t *r = json_pack("{s:s,s:i,s:i,s:i,s:s,s:s,s:I,s:i,s:b}", "k", "tx", "c", c, "l", tx->local, "id", tx->id,
			      "tag", tx->id_tag, "parent", tx->parent, "start", (json_int_t)tx->start_wall, "ms",
			      tx->meter_start, "invalid", tx->invalid);
	char *text = r ? json_dumps(r, JSON_COMPACT) : NULL;

	json_decref(r);
	return text;
}

static void tx_start(struct ocpp_cp *cp, int c)
{
	struct ocpp_conn *k = &cp->conn[c];
	struct ocpp_tx *tx = &k->tx;
	char *text;

	memset(tx, 0, sizeof(*tx));
	tx->active = true;
	tx->local = cp->tx_local_next++;
	copy_str(tx->id_tag, sizeof(tx->id_tag), k->auth_tag);
	copy_str(tx->parent, sizeof(tx->parent), k->auth_parent);
	tx->start_wall = cp->now_wall;
	tx->start_mono = cp->now_ms;
	tx->meter_start = (int)floor(k->energy_wh);
	tx->next_sample_ms = cp->now_ms + sec_ms(key_int(cp, OCPP_KEY_METER_VALUE_SAMPLE_INTERVAL));
	k->auth = OCPP_AS_NONE;
	k->auth_remote = false;
	ocpp_cp_save_connectors(cp);
	ocpp_cp_log(cp, 2, "connector %d: transaction %d started (meter %d Wh)", c, -tx->local, tx->meter_start);
	/* The StartTransaction goes into the journal before the transaction record: after a crash a
	 * record without its StartTransaction means nothing was ever sent (see restore_finish()). */
	ocpp_cp_queue(cp, OCPP_OUT_START_TRANSACTION,
		      ocpp_start_transaction_req(c, tx->id_tag, tx->meter_start, tx->start_wall), c, tx->local, true);
	tx->seq = cp->next_seq++;
	text = tx_record_text(cp, c);
	if (!text || journal_put(cp, tx->seq, text) < 0)
		tx->seq = 0;
	free(text);
}

static json_t *sampled_value(enum ocpp_measurand ms, double v, enum ocpp_context ctx)
{
	char buf[32];

	if (ms == OCPP_MS_ENERGY_ACTIVE_IMPORT_REGISTER || ms == OCPP_MS_POWER_ACTIVE_IMPORT)
		snprintf(buf, sizeof(buf), "%.0f", floor(v));
	else
		snprintf(buf, sizeof(buf), "%.1f", v);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "value", buf, "context", ocpp_context_names[ctx], "format", "Raw",
			 "measurand", ocpp_measurand_names[ms], "location", "Outlet", "unit", ocpp_measurand_units[ms]);
}

json_t *ocpp_cp_meter_value(struct ocpp_cp *cp, int c, unsigned mask, enum ocpp_context ctx)
{
	const struct ocpp_conn *k = &cp->conn[c];
	char ts[OCPP_TIME_LEN + 1];
	json_t *sv = json_array();
	double volts = k->ev.volts > 0 ? k->ev.volts : cp->voltage;
	double amps = k->ev.present ? k->ev.amps : 0;
	double offered = k->limit == 0 ? 0 : (k->ev.present ? k->ev.offered_amps : 0);

	for (int ms = 0; ms < OCPP_MS_COUNT; ms++) {
		double v = 0;

		if (!(mask & (1u << ms)))
			continue;
		switch ((enum ocpp_measurand)ms) {
		case OCPP_MS_ENERGY_ACTIVE_IMPORT_REGISTER: v = k->energy_wh; break;
		case OCPP_MS_CURRENT_IMPORT: v = amps; break;
		case OCPP_MS_CURRENT_OFFERED: v = offered; break;
		case OCPP_MS_VOLTAGE: v = volts; break;
		case OCPP_MS_POWER_ACTIVE_IMPORT: v = amps * volts * cp->phases; break;
		default: break;
		}
		json_array_append_new(sv, sampled_value((enum ocpp_measurand)ms, v, ctx));
	}
	ocpp_time_format(cp->now_wall, ts, sizeof(ts));
	return json_pack("{s:s,s:o}", "timestamp", ts, "sampledValue", sv);
}

int ocpp_cp_tx_stop(struct ocpp_cp *cp, int c, enum ocpp_stop_reason reason)
{
	struct ocpp_conn *k = &cp->conn[c];
	struct ocpp_tx *tx = &k->tx;
	unsigned stop_mask = ocpp_config_measurands(cp->cfg, OCPP_KEY_STOP_TXN_SAMPLED_DATA);
	json_t *data = NULL;
	int meter_stop;

	if (!tx->active)
		return -ENOENT;
	meter_stop = (int)floor(k->energy_wh);
	if (meter_stop < tx->meter_start)
		meter_stop = tx->meter_start;
	if (stop_mask) {
		json_t *end = ocpp_cp_meter_value(cp, c, stop_mask, OCPP_CTX_TRANSACTION_END);

		data = json_array();
		json_array_append_new(data, end);
	}
	ocpp_cp_save_connectors(cp);
	ocpp_cp_queue(cp, OCPP_OUT_STOP_TRANSACTION,
		      ocpp_stop_transaction_req(ocpp_cp_tx_wire_id(tx), tx->id_tag, meter_stop, cp->now_wall, reason,
						data),
		      c, tx->local, true);
	ocpp_cp_log(cp, 2, "connector %d: transaction %d stopped (%s, meter %d Wh)", c, ocpp_cp_tx_wire_id(tx),
		    ocpp_stop_reason_names[reason], meter_stop);
	journal_del(cp, tx->seq);
	memset(tx, 0, sizeof(*tx));
	if (ocpp_sc_clear_tx(cp->sc, c) > 0)
		ocpp_cp_save_profiles(cp);
	k->finishing = k->ev.present && k->ev.plugged;
	if (k->scheduled >= 0) {
		k->inoperative = k->scheduled == 1;
		k->scheduled = -1;
		ocpp_cp_save_connectors(cp);
	}
	if (cp->cp_scheduled) {
		bool busy = false;

		for (int i = 1; i <= cp->n_conn; i++)
			busy = busy || cp->conn[i].tx.active;
		if (!busy) {
			cp->cp_scheduled = false;
			cp->cp_inoperative = true;
			ocpp_cp_save_connectors(cp);
		}
	}
	ocpp_cp_refresh(cp);
	return 0;
}

void ocpp_cp_set_availability(struct ocpp_cp *cp, int c, bool inoperative)
{
	if (c == 0)
		cp->cp_inoperative = inoperative;
	else
		cp->conn[c].inoperative = inoperative;
	ocpp_cp_save_connectors(cp);
	ocpp_cp_refresh(cp);
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

/* ---------------------------------------------------------------- metering timers */

static void sample_due(struct ocpp_cp *cp)
{
	long interval = key_int(cp, OCPP_KEY_METER_VALUE_SAMPLE_INTERVAL);
	unsigned mask = ocpp_config_measurands(cp->cfg, OCPP_KEY_METER_VALUES_SAMPLED_DATA);

	for (int c = 1; c <= cp->n_conn; c++) {
		struct ocpp_conn *k = &cp->conn[c];
		struct ocpp_tx *tx = &k->tx;

		if (!tx->active || interval <= 0 || cp->now_ms < tx->next_sample_ms)
			continue;
		/* Keep the cadence exact: the next sample is due one interval after this one was due. */
		tx->next_sample_ms += sec_ms(interval);
		if (tx->next_sample_ms <= cp->now_ms)
			tx->next_sample_ms = cp->now_ms + sec_ms(interval);
		if (!mask)
			continue;
		ocpp_cp_save_connectors(cp);
		ocpp_cp_queue(cp, OCPP_OUT_METER_VALUES,
			      ocpp_meter_values_req(c, ocpp_cp_tx_wire_id(tx),
						    ocpp_cp_meter_value(cp, c, mask, OCPP_CTX_SAMPLE_PERIODIC)),
			      c, tx->local, true);
	}
}

void ocpp_cp_aligned_arm(struct ocpp_cp *cp)
{
	long interval = key_int(cp, OCPP_KEY_CLOCK_ALIGNED_DATA_INTERVAL);
	int64_t step, next;

	if (interval <= 0) {
		cp->next_aligned_ms = UINT64_MAX;
		return;
	}
	step = (int64_t)interval * 1000;
	next = (cp->now_wall / step + 1) * step;
	/* A timer may fire a few ms before the wall clock reaches the boundary: never repeat one. */
	if (cp->next_aligned_wall && next <= cp->next_aligned_wall && cp->next_aligned_wall - next < step)
		next = cp->next_aligned_wall + step;
	cp->next_aligned_wall = next;
	cp->next_aligned_ms = cp->now_ms + (uint64_t)(next - cp->now_wall);
}

static void aligned_due(struct ocpp_cp *cp)
{
	unsigned mask = ocpp_config_measurands(cp->cfg, OCPP_KEY_METER_VALUES_ALIGNED_DATA);

	if (cp->now_ms < cp->next_aligned_ms)
		return;
	/* Stamp the reading with the boundary it belongs to, not the moment the timer ran. */
	if (mask) {
		int64_t wall = cp->now_wall;

		cp->now_wall = cp->next_aligned_wall;
		for (int c = 1; c <= cp->n_conn; c++) {
			struct ocpp_conn *k = &cp->conn[c];

			if (!k->mapped || !k->seen)
				continue;
			if (k->tx.active)
				ocpp_cp_save_connectors(cp);
			ocpp_cp_queue(cp, OCPP_OUT_METER_VALUES,
				      ocpp_meter_values_req(c, k->tx.active ? ocpp_cp_tx_wire_id(&k->tx) : 0,
							    ocpp_cp_meter_value(cp, c, mask, OCPP_CTX_SAMPLE_CLOCK)),
				      c, k->tx.active ? k->tx.local : 0, k->tx.active);
		}
		cp->now_wall = wall;
	}
	ocpp_cp_aligned_arm(cp);
}

static void timeouts_due(struct ocpp_cp *cp)
{
	long conn_to = key_int(cp, OCPP_KEY_CONNECTION_TIME_OUT);

	for (int c = 1; c <= cp->n_conn; c++) {
		struct ocpp_conn *k = &cp->conn[c];

		if (k->auth == OCPP_AS_OK && !k->ev.plugged && cp->now_ms >= k->auth_ms + sec_ms(conn_to)) {
			ocpp_cp_log(cp, 2, "connector %d: no car within ConnectionTimeOut, authorisation dropped", c);
			k->auth = OCPP_AS_NONE;
			k->auth_remote = false;
			if (ocpp_sc_clear_tx(cp->sc, c) > 0) /* a RemoteStartTransaction's TxProfile */
				ocpp_cp_save_profiles(cp);
		}
	}
	if (cp->next_store_ms && cp->now_ms >= cp->next_store_ms)
		ocpp_cp_save_connectors(cp);
}

/* Local idTags that could not be authorised while offline get another try once registered. */
static void retry_local_auth(struct ocpp_cp *cp)
{
	if (!cp->connected || !cp->registered || cp->id_src == OCPP_IDTAG_REMOTE)
		return;
	for (int c = 1; c <= cp->n_conn; c++) {
		struct ocpp_conn *k = &cp->conn[c];

		if (k->mapped && k->ev.present && k->ev.plugged && !k->tx.active && !k->finishing &&
		    k->auth == OCPP_AS_NONE && cp->now_ms >= k->auth_retry_ms) {
			if (cp->id_src == OCPP_IDTAG_FIXED)
				begin_auth(cp, c, cp->fixed_tag);
			else if (k->ev.vin[0])
				begin_auth(cp, c, k->ev.vin);
		}
	}
}

/* After anything happened: late authorisations, statuses and limits, then send what is due. */
static void step(struct ocpp_cp *cp)
{
	retry_local_auth(cp);
	ocpp_cp_refresh(cp);
	pump(cp);
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
	conf = in_handlers[i].fn(cp, f->payload, &e);
	if (!conf) {
		cp->stats.rx_bad++;
		if (e.error == OCPP_ERR_NONE)
			e.error = OCPP_ERR_INTERNAL;
		ocpp_cp_log(cp, 1, "%s rejected: %s: %s", f->action, ocpp_error_name(e.error), e.desc);
		send_text(cp, ocpp_frame_error(f->id, e.error, e.desc, NULL));
		return;
	}
	send_text(cp, ocpp_frame_result(f->id, conf));
	json_decref(conf);
}

static void handle_answer(struct ocpp_cp *cp, const struct ocpp_frame *f)
{
	struct ocpp_perr e = { OCPP_ERR_NONE, "" };
	struct ocpp_msg *m;
	enum ocpp_out_action a;

	if (!cp->inflight || strcmp(f->id, cp->inflight_id) != 0) {
		ocpp_cp_log(cp, 1, "answer to unknown message id %s dropped", f->id);
		cp->stats.rx_bad++;
		return;
	}
	if (f->type == OCPP_CALLERROR) {
		char why[160];

		snprintf(why, sizeof(why), "CALLERROR %s: %.100s", f->error_code, f->error_desc);
		call_failed(cp, why);
		return;
	}
	m = cp->inflight_msg;
	a = cp->inflight_action;
	if (!json_is_object(f->payload) || conf_handlers[a](cp, m, f->payload, &e) < 0) {
		char why[160];

		snprintf(why, sizeof(why), "bad result: %s", e.desc[0] ? e.desc : "not an object");
		cp->stats.rx_bad++;
		call_failed(cp, why);
		return;
	}
	cp->inflight = false;
	cp->inflight_msg = NULL;
	if (m)
		q_remove(cp, m);
}

void ocpp_cp_input(struct ocpp_cp *cp, const char *text, size_t len, struct ocpp_now now)
{
	struct ocpp_frame f;
	struct ocpp_frame_fault fault;

	cp->now_ms = now.mono_ms;
	cp->now_wall = now.wall_ms;
	cp->stats.rx_frames++;
	if (ocpp_frame_parse(text, len, &f, &fault) < 0) {
		cp->stats.rx_bad++;
		ocpp_cp_log(cp, 1, "bad frame: %s", fault.desc);
		if (fault.reply)
			send_text(cp, ocpp_frame_error(fault.id, fault.error, fault.desc, NULL));
		return;
	}
	if (f.type == OCPP_CALL)
		handle_call(cp, &f);
	else
		handle_answer(cp, &f);
	ocpp_frame_clear(&f);
	step(cp);
}

/* ---------------------------------------------------------------- restore after a restart */

static int restore_msg(struct ocpp_cp *cp, uint64_t seq, const json_t *r)
{
	const char *a = json_string_value(json_object_get(r, "a"));
	json_t *p = json_object_get(r, "p");
	struct ocpp_msg *m;
	int action = -1;

	for (int i = 0; i < OCPP_OUT_COUNT; i++)
		if (a && !strcmp(a, out_names[i]))
			action = i;
	if ((action != OCPP_OUT_START_TRANSACTION && action != OCPP_OUT_STOP_TRANSACTION &&
	     action != OCPP_OUT_METER_VALUES) ||
	    !json_is_object(p))
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->action = (enum ocpp_out_action)action;
	m->payload = json_incref(p);
	m->seq = seq;
	m->tx = true;
	m->connector = (int)json_integer_value(json_object_get(r, "c"));
	m->tx_local = (int)json_integer_value(json_object_get(r, "t"));
	if (cp->q_tail)
		cp->q_tail->next = m;
	else
		cp->q_head = m;
	cp->q_tail = m;
	cp->q_persisted++;
	return 0;
}

static int restore_tx(struct ocpp_cp *cp, uint64_t seq, const json_t *r)
{
	int c = (int)json_integer_value(json_object_get(r, "c"));
	struct ocpp_tx *tx;

	if (c < 1 || c > OCPP_MAX_CONNECTORS)
		return -EINVAL;
	tx = &cp->conn[c].tx;
	memset(tx, 0, sizeof(*tx));
	tx->seq = seq;
	tx->local = (int)json_integer_value(json_object_get(r, "l"));
	tx->id = (int)json_integer_value(json_object_get(r, "id"));
	copy_str(tx->id_tag, sizeof(tx->id_tag), json_string_value(json_object_get(r, "tag")));
	copy_str(tx->parent, sizeof(tx->parent), json_string_value(json_object_get(r, "parent")));
	tx->start_wall = json_integer_value(json_object_get(r, "start"));
	tx->meter_start = (int)json_integer_value(json_object_get(r, "ms"));
	tx->invalid = json_is_true(json_object_get(r, "invalid"));
	/* The idTag may be empty (the schema allows it); it must only be there. */
	if (tx->local <= 0 || !json_is_string(json_object_get(r, "tag"))) {
		memset(tx, 0, sizeof(*tx));
		return -EINVAL;
	}
	tx->active = true;
	return 0;
}

int ocpp_cp_restore_record(struct ocpp_cp *cp, uint64_t seq, const char *text)
{
	json_t *r = json_loads(text, 0, NULL);
	const char *kind = json_string_value(json_object_get(r, "k"));
	int ret = -EINVAL;

	if (kind && !strcmp(kind, "msg")) {
		ret = restore_msg(cp, seq, r);
	} else if (kind && !strcmp(kind, "tx")) {
		ret = restore_tx(cp, seq, r);
	} else if (kind && !strcmp(kind, "map") && cp->n_maps < (int)(sizeof(cp->maps) / sizeof(cp->maps[0]))) {
		cp->maps[cp->n_maps].local = (int)json_integer_value(json_object_get(r, "l"));
		cp->maps[cp->n_maps].id = (int)json_integer_value(json_object_get(r, "id"));
		cp->maps[cp->n_maps].seq = seq;
		cp->n_maps++;
		ret = 0;
	}
	json_decref(r);
	if (seq >= cp->next_seq)
		cp->next_seq = seq + 1;
	if (ret < 0) {
		ocpp_cp_log(cp, 1, "journal record %" PRIu64 " not understood: dropped", seq);
		journal_del(cp, seq);
	}
	return ret;
}

static void patch_queue(struct ocpp_cp *cp, int local, int id)
{
	for (struct ocpp_msg *m = cp->q_head; m; m = m->next) {
		json_t *t = json_object_get(m->payload, "transactionId");

		if (m->tx_local == local && t && json_integer_value(t) == -local)
			json_object_set_new(m->payload, "transactionId", json_integer(id));
	}
	for (int c = 1; c <= cp->n_conn; c++)
		if (cp->conn[c].tx.active && cp->conn[c].tx.local == local)
			cp->conn[c].tx.id = id;
}

void ocpp_cp_confirm_tx(struct ocpp_cp *cp, int local, int id)
{
	json_t *r = json_pack("{s:s,s:i,s:i}", "k", "map", "l", local, "id", id);
	char *text = r ? json_dumps(r, JSON_COMPACT) : NULL;
	uint64_t seq = cp->next_seq++;

	json_decref(r);
	/* The map record is what keeps a crash from sending this StartTransaction twice. */
	if (text && journal_put(cp, seq, text) == 0 &&
	    cp->n_maps < (int)(sizeof(cp->maps) / sizeof(cp->maps[0]))) {
		cp->maps[cp->n_maps].local = local;
		cp->maps[cp->n_maps].id = id;
		cp->maps[cp->n_maps].seq = seq;
		cp->n_maps++;
	}
	free(text);
	patch_queue(cp, local, id);
}

void ocpp_cp_forget_tx(struct ocpp_cp *cp, int local)
{
	for (int i = 0; i < cp->n_maps; i++) {
		if (cp->maps[i].local != local)
			continue;
		journal_del(cp, cp->maps[i].seq);
		cp->maps[i] = cp->maps[--cp->n_maps];
		i--;
	}
}

static bool q_has(const struct ocpp_cp *cp, int local, enum ocpp_out_action a)
{
	for (const struct ocpp_msg *m = cp->q_head; m; m = m->next)
		if (m->tx_local == local && m->action == a)
			return true;
	return false;
}

static bool map_has(const struct ocpp_cp *cp, int local)
{
	for (int i = 0; i < cp->n_maps; i++)
		if (cp->maps[i].local == local)
			return true;
	return false;
}

/* A StartTransaction in the journal whose transaction record never made it (a crash between the
 * two writes): rebuild the transaction from the message so it can be stopped. */
static void restore_orphan_starts(struct ocpp_cp *cp)
{
	for (struct ocpp_msg *m = cp->q_head; m; m = m->next) {
		int c = m->connector;
		struct ocpp_tx *tx;

		if (m->action != OCPP_OUT_START_TRANSACTION || c < 1 || c > OCPP_MAX_CONNECTORS ||
		    cp->conn[c].tx.active || q_has(cp, m->tx_local, OCPP_OUT_STOP_TRANSACTION))
			continue;
		tx = &cp->conn[c].tx;
		memset(tx, 0, sizeof(*tx));
		tx->active = true;
		tx->local = m->tx_local;
		copy_str(tx->id_tag, sizeof(tx->id_tag), json_string_value(json_object_get(m->payload, "idTag")));
		tx->meter_start = (int)json_integer_value(json_object_get(m->payload, "meterStart"));
	}
}

static void restore_finish(struct ocpp_cp *cp)
{
	struct ocpp_msg *m, *next;

	/* Apply the confirmed ids; a StartTransaction already confirmed is not sent again. */
	for (int i = 0; i < cp->n_maps; i++) {
		for (m = cp->q_head; m; m = next) {
			next = m->next;
			if (m->tx_local == cp->maps[i].local && m->action == OCPP_OUT_START_TRANSACTION)
				q_remove(cp, m);
		}
		patch_queue(cp, cp->maps[i].local, cp->maps[i].id);
	}
	restore_orphan_starts(cp);
	/* A transaction whose StopTransaction is queued was already over; one whose StartTransaction
	 * was neither queued nor confirmed was never announced. The others were cut short by a crash
	 * or power loss: stop them now (OCTT TC_032). */
	for (int c = 1; c <= OCPP_MAX_CONNECTORS; c++) {
		struct ocpp_tx *tx = &cp->conn[c].tx;

		if (!tx->active)
			continue;
		if (q_has(cp, tx->local, OCPP_OUT_STOP_TRANSACTION) ||
		    (!q_has(cp, tx->local, OCPP_OUT_START_TRANSACTION) && !map_has(cp, tx->local))) {
			journal_del(cp, tx->seq);
			memset(tx, 0, sizeof(*tx));
			continue;
		}
		ocpp_cp_log(cp, 1, "connector %d: transaction %d was open at shutdown: stopping it (PowerLoss)", c,
			    ocpp_cp_tx_wire_id(tx));
		ocpp_cp_tx_stop(cp, c, OCPP_RSN_POWER_LOSS);
		cp->conn[c].finishing = false;
	}
	for (m = cp->q_head; m; m = m->next)
		if (m->tx_local >= cp->tx_local_next)
			cp->tx_local_next = m->tx_local + 1;
	for (int i = 0; i < cp->n_maps; i++)
		if (cp->maps[i].local >= cp->tx_local_next)
			cp->tx_local_next = cp->maps[i].local + 1;
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
	copy_str(cp->vendor, sizeof(cp->vendor), p->vendor);
	copy_str(cp->model, sizeof(cp->model), p->model);
	copy_str(cp->serial, sizeof(cp->serial), p->serial);
	copy_str(cp->firmware, sizeof(cp->firmware), p->firmware);
	cp->id_src = p->id_tag_source;
	copy_str(cp->fixed_tag, sizeof(cp->fixed_tag), p->fixed_id_tag);
	cp->voltage = p->voltage;
	cp->phases = p->phases;
	cp->max_amps = p->max_amps_per_connector;
	cp->max_amps_total = p->max_amps_total > 0 ? p->max_amps_total : p->max_amps_per_connector;
	cp->min_amps = p->min_amps;
	cp->sc_next_ms = UINT64_MAX;
	cp->total_limit = INT32_MIN;
	cp->call_timeout_ms = sec_ms(p->call_timeout_s > 0 ? p->call_timeout_s : 30);
	cp->queue_max = p->queue_max > 0 ? p->queue_max : 1000;
	cp->max_security_profile = p->max_security_profile;
	cp->next_seq = 1;
	cp->tx_local_next = 1;
	cp->reported0 = -1;
	for (int i = 0; i < p->n_keys; i++)
		if (ocpp_config_find(p->keys[i].name) < 0 ||
		    ocpp_config_set(cp->cfg, (enum ocpp_key)ocpp_config_find(p->keys[i].name), p->keys[i].value) < 0)
			ocpp_cp_log(cp, 1, "initial key %s: bad name or value, ignored", p->keys[i].name);
	if (p->config_json) {
		json_t *j = json_loads(p->config_json, 0, NULL);

		if (!json_is_object(j) || ocpp_config_load_json(cp->cfg, j) > 0)
			ocpp_cp_log(cp, 1, "%s: some saved keys were not understood", OCPP_FILE_CONFIG);
		json_decref(j);
	}
	if (p->auth_json) {
		json_t *j = json_loads(p->auth_json, 0, NULL);

		if (!json_is_array(j) || ocpp_auth_cache_load_json(cp->auth, j) > 0)
			ocpp_cp_log(cp, 1, "%s: some cache entries were not understood", OCPP_FILE_AUTH);
		json_decref(j);
	}
	if (p->local_list_json) {
		json_t *j = json_loads(p->local_list_json, 0, NULL);

		if (ocpp_local_list_load_json(cp->local_list, j) < 0)
			ocpp_cp_log(cp, 0, "%s: not understood, starting with no Local Authorization List",
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
			ocpp_cp_log(cp, 1, "%s: some charging profiles were not understood", OCPP_FILE_PROFILES);
		json_decref(j);
	}
	if (p->connectors_json)
		load_connectors(cp, p->connectors_json);
	update_connector_count(cp);
	return cp;
}

void ocpp_cp_free(struct ocpp_cp *cp)
{
	struct ocpp_msg *m, *next;

	if (!cp)
		return;
	for (m = cp->q_head; m; m = next) {
		next = m->next;
		msg_free(m);
	}
	ocpp_config_free(cp->cfg);
	ocpp_auth_cache_free(cp->auth);
	ocpp_local_list_free(cp->local_list);
	ocpp_sc_free(cp->sc);
	free(cp);
}

void ocpp_cp_start(struct ocpp_cp *cp, uint64_t max_seq, struct ocpp_now now)
{
	cp->now_ms = now.mono_ms;
	cp->now_wall = now.wall_ms;
	if (max_seq + 1 > cp->next_seq)
		cp->next_seq = max_seq + 1;
	cp->id_base = (uint64_t)now.wall_ms;
	cp->boot_grace_ms = now.mono_ms + ABSENT_GRACE_MS;
	cp->boot_due_ms = 0;
	restore_finish(cp); /* before "started": no limit may be raised while restored transactions stop */
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
	cp->now_ms = now.mono_ms;
	cp->now_wall = now.wall_ms;
	cp->connected = true;
	cp->inflight = false;
	for (struct ocpp_msg *m = cp->q_head; m; m = m->next)
		m->not_before_ms = 0;
	if (!cp->registered)
		cp->boot_due_ms = now.mono_ms;
	step(cp);
}

void ocpp_cp_disconnected(struct ocpp_cp *cp, struct ocpp_now now)
{
	cp->now_ms = now.mono_ms;
	cp->now_wall = now.wall_ms;
	if (cp->connected)
		link_lost(cp);
	step(cp);
}

void ocpp_cp_tick(struct ocpp_cp *cp, struct ocpp_now now)
{
	cp->now_ms = now.mono_ms;
	cp->now_wall = now.wall_ms;
	if (!cp->started)
		return;
	if (cp->inflight && cp->now_ms >= cp->inflight_deadline) {
		cp->stats.calls_timed_out++;
		call_failed(cp, "no answer in time");
	}
	sample_due(cp);
	aligned_due(cp);
	timeouts_due(cp);
	step(cp);
	if (cp->reset_pending && cp->now_ms >= cp->reset_due_ms &&
	    (cp->q_persisted == 0 || !cp->connected || cp->now_ms >= cp->reset_deadline_ms)) {
		cp->reset_pending = false;
		ocpp_cp_log(cp, 2, "%s reset now", cp->reset_hard ? "hard" : "soft");
		ocpp_cp_save_connectors(cp);
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
		const struct ocpp_msg *m = q_next(cp);

		if (m)
			d = m->not_before_ms;
		else if (key_int(cp, OCPP_KEY_HEARTBEAT_INTERVAL) > 0)
			d = cp->last_send_ms + sec_ms(key_int(cp, OCPP_KEY_HEARTBEAT_INTERVAL));
	}
	for (int c = 1; c <= cp->n_conn; c++) {
		const struct ocpp_conn *k = &cp->conn[c];

		if (k->tx.active && key_int(cp, OCPP_KEY_METER_VALUE_SAMPLE_INTERVAL) > 0)
			d = min_u64(d, k->tx.next_sample_ms);
		if (k->tx.active && !k->ev.drawing && cp->now_ms < k->tx.start_mono + RAMP_GRACE_MS)
			d = min_u64(d, k->tx.start_mono + RAMP_GRACE_MS);
		if (k->auth == OCPP_AS_OK && !k->ev.plugged)
			d = min_u64(d, k->auth_ms + sec_ms(key_int(cp, OCPP_KEY_CONNECTION_TIME_OUT)));
		if (k->auth_retry_ms > cp->now_ms && k->auth == OCPP_AS_NONE && k->ev.plugged &&
		    cp->id_src != OCPP_IDTAG_REMOTE)
			d = min_u64(d, k->auth_retry_ms);
		if (k->mapped && !k->seen && cp->now_ms < cp->boot_grace_ms)
			d = min_u64(d, cp->boot_grace_ms);
	}
	d = min_u64(d, cp->next_aligned_ms);
	d = min_u64(d, cp->sc_next_ms);
	if (cp->next_store_ms)
		d = min_u64(d, cp->next_store_ms);
	if (cp->reset_pending)
		d = min_u64(d, cp->q_persisted == 0 || !cp->connected
				       ? cp->reset_due_ms
				       : (cp->reset_deadline_ms > cp->reset_due_ms ? cp->reset_deadline_ms : cp->reset_due_ms));
	return d;
}

int ocpp_cp_find_tx(const struct ocpp_cp *cp, int id)
{
	for (int c = 1; c <= cp->n_conn; c++)
		if (cp->conn[c].tx.active && ocpp_cp_tx_wire_id(&cp->conn[c].tx) == id)
			return c;
	return 0;
}

int ocpp_cp_connector_count(const struct ocpp_cp *cp)
{
	return cp->n_conn;
}

enum ocpp_cp_status ocpp_cp_connector_status(const struct ocpp_cp *cp, int c)
{
	enum ocpp_cp_error err;

	if (c == 0)
		return cp->cp_inoperative ? OCPP_ST_UNAVAILABLE : OCPP_ST_AVAILABLE;
	if (!ocpp_cp_valid_connector(cp, c))
		return OCPP_ST_UNAVAILABLE;
	return conn_status(cp, c, &err);
}

int ocpp_cp_transaction_id(const struct ocpp_cp *cp, int c)
{
	if (!ocpp_cp_valid_connector(cp, c) || !cp->conn[c].tx.active)
		return 0;
	return ocpp_cp_tx_wire_id(&cp->conn[c].tx);
}

double ocpp_cp_energy_wh(const struct ocpp_cp *cp, int c)
{
	return ocpp_cp_valid_connector(cp, c) ? cp->conn[c].energy_wh : 0;
}

bool ocpp_cp_registered(const struct ocpp_cp *cp)
{
	return cp->registered;
}

struct ocpp_config *ocpp_cp_config(struct ocpp_cp *cp)
{
	return cp->cfg;
}

const struct ocpp_cp_stats *ocpp_cp_stats(const struct ocpp_cp *cp)
{
	return &cp->stats;
}
