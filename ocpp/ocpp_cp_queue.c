/*
 * ocpp_cp_queue: the charge point's outbound CALLs, one in flight at a time, and their journal.
 * Transaction messages (StartTransaction, MeterValues, StopTransaction), critical security events and
 * the log upload and firmware update statuses are journalled as they are queued and kept across
 * outages with their retry rules; the other security events are kept across outages in memory,
 * bounded; the rest goes with the link. At start the journal's records rebuild the queue, the open
 * transactions and the confirmed transaction ids, transactions a crash cut short are stopped, and a
 * Reset performed before the restart is reported.
 */
#include "ocpp_cp_internal.h"

#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOOT_RETRY_DEFAULT_MS 60000u  /* boot retry when the central system gives no interval */
/* Critical security events waiting at most before a repeat of a type already waiting is dropped: a
 * clock that keeps stepping must not fill the disk, and the first of each kind is the evidence. */
#define SECURITY_CRITICAL_MAX 64

/* Action names on the wire and in journal records, indexed by action so that a change to the enum
 * cannot rename a journalled message. */
static const char *const out_names[OCPP_OUT_COUNT] = {
	[OCPP_OUT_AUTHORIZE] = "Authorize",
	[OCPP_OUT_BOOT_NOTIFICATION] = "BootNotification",
	[OCPP_OUT_DATA_TRANSFER] = "DataTransfer",
	[OCPP_OUT_DIAGNOSTICS_STATUS_NOTIFICATION] = "DiagnosticsStatusNotification",
	[OCPP_OUT_FIRMWARE_STATUS_NOTIFICATION] = "FirmwareStatusNotification",
	[OCPP_OUT_HEARTBEAT] = "Heartbeat",
	[OCPP_OUT_METER_VALUES] = "MeterValues",
	[OCPP_OUT_START_TRANSACTION] = "StartTransaction",
	[OCPP_OUT_STATUS_NOTIFICATION] = "StatusNotification",
	[OCPP_OUT_STOP_TRANSACTION] = "StopTransaction",
	[OCPP_OUT_LOG_STATUS_NOTIFICATION] = "LogStatusNotification",
	[OCPP_OUT_SECURITY_EVENT_NOTIFICATION] = "SecurityEventNotification",
	[OCPP_OUT_SIGNED_FIRMWARE_STATUS_NOTIFICATION] = "SignedFirmwareStatusNotification",
	[OCPP_OUT_SIGN_CERTIFICATE] = "SignCertificate",
};

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
	else
		cp->q_other--;
	cp->stats.queued = (uint32_t)cp->q_persisted;
	cp->stats.queued_other = (uint32_t)cp->q_other;
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
				ocpp_cp_journal_del(cp, m->seq);
				msg_free(m);
				cp->stats.queue_dropped++;
				m = prev;
			}
			drop = !drop;
		}
		prev = m;
		m = next;
	}
	ocpp_cp_log(cp, CORE_LOG_WARN, "queue full: dropped every second queued MeterValues (%u dropped so far)",
		    cp->stats.queue_dropped);
}

/*
 * Other messages are bounded while a central system does not answer (a TriggerMessage storm, say):
 * a newer one of the same kind for the same connector replaces the one waiting (the central system
 * wants the latest status or values, not every step), except an Authorize, whose answer someone
 * waits for; past OCPP_QUEUE_OTHER_MAX the oldest waiting is dropped. Returns true if @payload was
 * taken by a waiting message.
 */
static bool q_coalesce(struct ocpp_cp *cp, enum ocpp_out_action a, json_t *payload, int connector)
{
	struct ocpp_msg *oldest = NULL, *oldest_prev = NULL;

	for (struct ocpp_msg *m = cp->q_head, *p = NULL; m; p = m, m = m->next) {
		if (m->tx || m == cp->inflight_msg)
			continue;
		if (a != OCPP_OUT_AUTHORIZE && m->action == a && m->connector == connector) {
			json_decref(m->payload);
			m->payload = payload;
			cp->stats.queue_coalesced++;
			return true;
		}
		if (!oldest) {
			oldest = m;
			oldest_prev = p;
		}
	}
	if (cp->q_other >= OCPP_QUEUE_OTHER_MAX && oldest) {
		q_unlink(cp, oldest_prev, oldest);
		msg_free(oldest);
		cp->stats.queue_coalesced++;
		ocpp_cp_log(cp, CORE_LOG_WARN, "queue: %d other messages wait for the central system: dropped the oldest",
			    OCPP_QUEUE_OTHER_MAX);
	}
	return false;
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
	if (!persist && q_coalesce(cp, a, payload, connector))
		return 0;
	/* The disk has refused writes for so long that the waiting list is full: values can wait no more. */
	if (persist && a == OCPP_OUT_METER_VALUES && !ocpp_cp_journal_room(cp)) {
		json_decref(payload);
		cp->stats.queue_dropped++;
		return -ENOSPC;
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
		r = text ? ocpp_cp_journal_put(cp, m->seq, text) : -ENOMEM;
		free(text);
		if (r < 0)
			m->seq = 0; /* can never be durable, but still worth sending while we run */
		cp->q_persisted++;
	} else {
		cp->q_other++;
	}
	if (cp->q_tail)
		cp->q_tail->next = m;
	else
		cp->q_head = m;
	cp->q_tail = m;
	cp->stats.queued = (uint32_t)cp->q_persisted;
	cp->stats.queued_other = (uint32_t)cp->q_other;
	return 0;
}

/* Two events are the same when type and techInfo are; the timestamp is when, not what. */
static bool same_event(const json_t *a, const json_t *b)
{
	return json_equal(json_object_get(a, "type"), json_object_get(b, "type")) &&
	       ((!json_object_get(a, "techInfo") && !json_object_get(b, "techInfo")) ||
		json_equal(json_object_get(a, "techInfo"), json_object_get(b, "techInfo")));
}

static void security_drop(struct ocpp_cp *cp, json_t *payload, const char *why)
{
	cp->stats.security_dropped++;
	ocpp_cp_log(cp, CORE_LOG_WARN, "security event %s dropped: %s",
		    json_string_value(json_object_get(payload, "type")), why);
}

int ocpp_cp_queue_security(struct ocpp_cp *cp, json_t *payload, bool critical)
{
	struct ocpp_msg *m, *oldest = NULL, *oldest_prev = NULL, *p;
	int n_critical = 0;
	bool same_type = false;

	if (!payload)
		return -ENOMEM;
	if (critical) {
		for (m = cp->q_head; m; m = m->next) {
			if (!m->tx || m->action != OCPP_OUT_SECURITY_EVENT_NOTIFICATION)
				continue;
			n_critical++;
			same_type = same_type || json_equal(json_object_get(m->payload, "type"),
							    json_object_get(payload, "type"));
		}
		if (n_critical >= SECURITY_CRITICAL_MAX && same_type) {
			security_drop(cp, payload, "too many critical events wait, one of this type among them");
			json_decref(payload);
			return 0;
		}
		return ocpp_cp_queue(cp, OCPP_OUT_SECURITY_EVENT_NOTIFICATION, payload, 0, 0, true);
	}
	for (m = cp->q_head, p = NULL; m; p = m, m = m->next) {
		if (!m->keep || m == cp->inflight_msg)
			continue;
		if (same_event(m->payload, payload)) {
			/* A TLS failure at every reconnect attempt is one fact, not a queue full of them. */
			json_decref(payload);
			cp->stats.queue_coalesced++;
			return 0;
		}
		if (!oldest) {
			oldest = m;
			oldest_prev = p;
		}
	}
	/* Past the bound an event replaces the oldest waiting event, never a status or an Authorize. */
	if (cp->q_other >= OCPP_QUEUE_OTHER_MAX) {
		if (!oldest) {
			security_drop(cp, payload, "the queue is full");
			json_decref(payload);
			return -ENOSPC;
		}
		security_drop(cp, oldest->payload, "the queue is full, a newer one replaces it");
		q_unlink(cp, oldest_prev, oldest);
		msg_free(oldest);
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		json_decref(payload);
		return -ENOMEM;
	}
	m->action = OCPP_OUT_SECURITY_EVENT_NOTIFICATION;
	m->payload = payload;
	m->keep = true;
	if (cp->q_tail)
		cp->q_tail->next = m;
	else
		cp->q_head = m;
	cp->q_tail = m;
	cp->q_other++;
	cp->stats.queued_other = (uint32_t)cp->q_other;
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
	cp->inflight_sent_ms = cp->now_ms;
	cp->last_send_ms = cp->now_ms;
	return 0;
}

/* The next message to send: transaction messages strictly in order (one waiting for its retry holds
 * back the later ones, so a MeterValues never follows its StopTransaction), other messages in order
 * among themselves but free to pass a transaction message that waits. Returns the candidate with the
 * earliest not_before_ms, or NULL when the queue is empty. While a journal write waits for the disk
 * no transaction message goes (ocpp_cp_journal.c says why). */
struct ocpp_msg *ocpp_cp_queue_peek(const struct ocpp_cp *cp)
{
	struct ocpp_msg *best = NULL;
	bool tx_seen = !ocpp_cp_journal_durable(cp);

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
void ocpp_cp_queue_pump(struct ocpp_cp *cp)
{
	struct ocpp_msg *m;

	if (!cp->started || !cp->connected || cp->inflight)
		return;
	if (!cp->registered) {
		if (cp->now_ms >= cp->boot_due_ms) {
			json_t *p = ocpp_boot_notification_req(cp);

			cp->inflight_msg = NULL;
			if (send_call(cp, OCPP_OUT_BOOT_NOTIFICATION, p) < 0)
				ocpp_cp_link_drop(cp);
			json_decref(p);
		}
		return;
	}
	m = ocpp_cp_queue_peek(cp);
	if (m && m->not_before_ms <= cp->now_ms) {
		cp->inflight_msg = m;
		if (send_call(cp, m->action, m->payload) < 0) {
			cp->inflight_msg = NULL;
			ocpp_cp_link_drop(cp);
		}
		return;
	}
	if (!cp->q_head && ocpp_cp_key_int(cp, OCPP_KEY_HEARTBEAT_INTERVAL) > 0 &&
	    cp->now_ms >= cp->last_send_ms + ocpp_cp_sec_ms(ocpp_cp_key_int(cp, OCPP_KEY_HEARTBEAT_INTERVAL))) {
		json_t *p = ocpp_heartbeat_req();

		cp->inflight_msg = NULL;
		if (send_call(cp, OCPP_OUT_HEARTBEAT, p) < 0)
			ocpp_cp_link_drop(cp);
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

void ocpp_cp_queue_remove(struct ocpp_cp *cp, struct ocpp_msg *m)
{
	q_unlink(cp, q_find_prev(cp, m), m);
	ocpp_cp_journal_del(cp, m->seq);
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
			ocpp_cp_queue_remove(cp, m);
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
		ocpp_cp_journal_del(cp, k->tx.seq);
		memset(&k->tx, 0, sizeof(k->tx));
		k->finishing = k->ev.present && k->ev.plugged;
	}
	ocpp_cp_refresh(cp);
}

/* A queued CALL failed (CALLERROR, a result that does not parse, or no answer in time). */
void ocpp_cp_call_fail(struct ocpp_cp *cp, const char *why)
{
	struct ocpp_msg *m = cp->inflight_msg;
	enum ocpp_out_action a = cp->inflight_action;

	cp->inflight = false;
	cp->inflight_msg = NULL;
	if (a == OCPP_OUT_BOOT_NOTIFICATION) {
		cp->boot_due_ms = cp->now_ms + BOOT_RETRY_DEFAULT_MS;
		ocpp_cp_log(cp, CORE_LOG_WARN, "BootNotification failed (%s); retrying in %u s", why,
			    BOOT_RETRY_DEFAULT_MS / 1000);
		return;
	}
	if (!m)
		return;
	if (m->tx) {
		long max = ocpp_cp_key_int(cp, OCPP_KEY_TRANSACTION_MESSAGE_ATTEMPTS);

		m->attempts++;
		if (m->attempts < max) {
			m->not_before_ms = cp->now_ms +
					   ocpp_cp_sec_ms(ocpp_cp_key_int(cp, OCPP_KEY_TRANSACTION_MESSAGE_RETRY_INTERVAL)) *
						   (uint64_t)m->attempts;
			ocpp_cp_log(cp, CORE_LOG_WARN, "%s failed (%s): attempt %d of %ld, retrying", out_names[a], why,
				    m->attempts, max);
			return;
		}
		ocpp_cp_log(cp, CORE_LOG_ERROR, "%s failed %d times (%s): given up", out_names[a], m->attempts, why);
		if (a == OCPP_OUT_STOP_TRANSACTION)
			ocpp_cp_forget_tx(cp, m->tx_local);
		if (a == OCPP_OUT_START_TRANSACTION && m->tx_local) {
			int local = m->tx_local;

			ocpp_cp_queue_remove(cp, m);
			q_drop_tx(cp, local);
			tx_abandon(cp, local);
			return;
		}
	} else {
		ocpp_cp_log(cp, CORE_LOG_WARN, "%s failed (%s)", out_names[a], why);
		if (a == OCPP_OUT_AUTHORIZE) {
			/* Treat as offline for this attempt: the local rules decide. */
			int c = m->connector;

			ocpp_cp_queue_remove(cp, m);
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
					k->auth_retry_ms = cp->now_ms + OCPP_CP_AUTH_RETRY_MS;
				}
			}
			ocpp_cp_refresh(cp);
			return;
		}
	}
	ocpp_cp_queue_remove(cp, m);
}

void ocpp_cp_link_drop(struct ocpp_cp *cp)
{
	struct ocpp_msg *m, *next;

	cp->connected = false;
	if (cp->inflight) {
		cp->inflight = false;
		/* A pending Authorize is decided by the offline rules right away. */
		if (cp->inflight_msg && cp->inflight_action == OCPP_OUT_AUTHORIZE) {
			cp->inflight = true;
			ocpp_cp_call_fail(cp, "connection lost");
		}
		cp->inflight = false;
		cp->inflight_msg = NULL;
	}
	for (m = cp->q_head; m; m = next) {
		next = m->next;
		if (!m->tx && !m->keep)
			ocpp_cp_queue_remove(cp, m);
	}
	for (int c = 1; c <= cp->n_conn; c++)
		cp->conn[c].reported = -1; /* report every status again after reconnecting */
	cp->reported0 = -1;
}

void ocpp_cp_queue_free(struct ocpp_cp *cp)
{
	struct ocpp_msg *m, *next;

	for (m = cp->q_head; m; m = next) {
		next = m->next;
		msg_free(m);
	}
	cp->q_head = cp->q_tail = NULL;
}

/* ---------------------------------------------------------------- restore after a restart */

/* A MeterValues in the journal will reach the central system: the connector's register must not be
 * below its energy reading, or a PowerLoss meterStop would go back (the connectors file may be older
 * than the journal when the disk filled in between). */
static void register_at_least(struct ocpp_cp *cp, int c, const json_t *payload)
{
	const json_t *mv, *sv, *s;
	size_t i, j;

	if (c < 1 || c > OCPP_MAX_CONNECTORS)
		return;
	mv = json_object_get(payload, "meterValue");
	json_array_foreach(mv, i, sv) {
		json_array_foreach(json_object_get(sv, "sampledValue"), j, s) {
			const char *ms = json_string_value(json_object_get(s, "measurand"));
			const char *unit = json_string_value(json_object_get(s, "unit"));
			const char *v = json_string_value(json_object_get(s, "value"));
			double wh;

			if ((ms && strcmp(ms, "Energy.Active.Import.Register")) || (unit && strcmp(unit, "Wh")) || !v)
				continue;
			wh = strtod(v, NULL);
			if (wh > cp->conn[c].energy_wh && wh <= OCPP_ENERGY_MAX_WH)
				cp->conn[c].energy_wh = wh;
		}
	}
}

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
	     action != OCPP_OUT_METER_VALUES && action != OCPP_OUT_SECURITY_EVENT_NOTIFICATION &&
	     !ocpp_out_status_durable((enum ocpp_out_action)action)) ||
	    !json_is_object(p) ||
	    (action == OCPP_OUT_SECURITY_EVENT_NOTIFICATION && !json_is_string(json_object_get(p, "type"))) ||
	    (ocpp_out_status_durable((enum ocpp_out_action)action) && !json_is_string(json_object_get(p, "status"))))
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
	if (action == OCPP_OUT_METER_VALUES)
		register_at_least(cp, m->connector, p);
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
	ocpp_cp_str_copy(tx->id_tag, sizeof(tx->id_tag), json_string_value(json_object_get(r, "tag")));
	ocpp_cp_str_copy(tx->parent, sizeof(tx->parent), json_string_value(json_object_get(r, "parent")));
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
	} else if (kind && !strcmp(kind, "reset")) {
		/* One report per restart: two marks mean the process went on after the first. */
		ocpp_cp_journal_del(cp, cp->reset_mark_seq);
		cp->reset_mark_seq = seq;
		cp->reset_mark_hard = json_is_true(json_object_get(r, "hard"));
		cp->reset_mark_wall = json_integer_value(json_object_get(r, "at"));
		ret = 0;
	}
	json_decref(r);
	if (seq >= cp->next_seq)
		cp->next_seq = seq + 1;
	if (ret < 0) {
		ocpp_cp_log(cp, CORE_LOG_WARN, "journal record %" PRIu64 " not understood: dropped", seq);
		ocpp_cp_journal_del(cp, seq);
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
	if (text && ocpp_cp_journal_put(cp, seq, text) == 0 &&
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
		ocpp_cp_journal_del(cp, cp->maps[i].seq);
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
		ocpp_cp_str_copy(tx->id_tag, sizeof(tx->id_tag), json_string_value(json_object_get(m->payload, "idTag")));
		tx->meter_start = (int)json_integer_value(json_object_get(m->payload, "meterStart"));
	}
}

void ocpp_cp_restore_finish(struct ocpp_cp *cp)
{
	struct ocpp_msg *m, *next;

	/* Apply the confirmed ids; a StartTransaction already confirmed is not sent again. */
	for (int i = 0; i < cp->n_maps; i++) {
		for (m = cp->q_head; m; m = next) {
			next = m->next;
			if (m->tx_local == cp->maps[i].local && m->action == OCPP_OUT_START_TRANSACTION)
				ocpp_cp_queue_remove(cp, m);
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
			ocpp_cp_journal_del(cp, tx->seq);
			memset(tx, 0, sizeof(*tx));
			continue;
		}
		ocpp_cp_log(cp, CORE_LOG_WARN, "connector %d: transaction %d was open at shutdown: stopping it (PowerLoss)", c,
			    ocpp_cp_tx_wire_id(tx));
		ocpp_cp_tx_stop(cp, c, OCPP_RSN_POWER_LOSS);
		cp->conn[c].finishing = false;
	}
	/* Numbers read back from disk: one at INT_MAX (a damaged record) must not wrap the count. */
	for (m = cp->q_head; m; m = m->next)
		if (m->tx_local >= cp->tx_local_next && m->tx_local < INT_MAX)
			cp->tx_local_next = m->tx_local + 1;
	for (int i = 0; i < cp->n_maps; i++)
		if (cp->maps[i].local >= cp->tx_local_next && cp->maps[i].local < INT_MAX)
			cp->tx_local_next = cp->maps[i].local + 1;
	/* The event is journalled before the mark goes: a crash in between reports it twice, never not. */
	if (cp->reset_mark_seq) {
		ocpp_cp_security_event_at(cp, "ResetOrReboot",
					  cp->reset_mark_hard ? "Hard reset requested by the central system"
							      : "Soft reset requested by the central system",
					  cp->reset_mark_wall);
		ocpp_cp_journal_del(cp, cp->reset_mark_seq);
		cp->reset_mark_seq = 0;
	}
}
