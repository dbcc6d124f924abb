/*
 * ocpp_cp_journal: the core's writes to durable storage, and what happens when the disk says no.
 * Journal puts and deletes go to env.journal_put/del in the order the core makes them. When one
 * fails (a full disk, an I/O error), it and every later one wait in memory, in order, and are retried
 * every few seconds. Meanwhile no transaction message goes out and no transaction starts (a
 * RemoteStartTransaction is Rejected): a message sent before its record is durable, or an answer
 * acted on before its record is, is what a crash turns into a lost or a duplicated transaction. Since
 * the disk only ever holds a prefix of the core's writes, a crash at any moment leaves the state of
 * some earlier moment, never a mix. A transaction whose own record waits (the disk filled just as it
 * started) gets no current (ocpp_cp_connector.c): a crash would lose it, and a charge nobody can
 * bill must not happen. The connectors file counts too: it holds the energy register, which must
 * never be behind a reading the central system has seen. A delete of a record whose put still waits
 * cancels both: every record has a new sequence number, so that one never reached the disk. State
 * files that could not be saved are saved again at the same retries (the Local Authorization List
 * is not: SendLocalList answers Failed and keeps the old list).
 */
#include "ocpp_cp_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_MS 5000u
#define STATE_CONNECTORS 2u /* its bit in state_dirty: the order of retried[] below */
#define BACKLOG_MAX 4096 /* past this a new MeterValues is not queued (ocpp_cp_journal_room()) */

struct ocpp_jop {
	uint64_t seq;
	char *text; /* NULL: a delete */
};

/* Permanent refusals (too long, a newline): retrying cannot help, and holding them would stop the
 * queue for ever. */
static bool permanent(int r)
{
	return r == -E2BIG || r == -EINVAL;
}

static void backlog_failed(struct ocpp_cp *cp, int r)
{
	cp->stats.journal_failures++;
	if (!cp->jb_failing)
		ocpp_cp_log(cp, CORE_LOG_ERROR,
			    "journal: write failed (%s): transaction messages wait until it can be written, retried every %u s",
			    strerror(-r), RETRY_MS / 1000u);
	cp->jb_failing = true;
	cp->jb_retry_ms = cp->now_ms + RETRY_MS;
}

static int backlog_add(struct ocpp_cp *cp, uint64_t seq, const char *text)
{
	struct ocpp_jop *op;

	if (cp->jb_n == cp->jb_cap) {
		int cap = cp->jb_cap ? cp->jb_cap * 2 : 16;
		struct ocpp_jop *n = realloc(cp->jb, (size_t)cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		cp->jb = n;
		cp->jb_cap = cap;
	}
	op = &cp->jb[cp->jb_n];
	op->seq = seq;
	op->text = NULL;
	if (text && !(op->text = strdup(text)))
		return -ENOMEM;
	cp->jb_n++;
	cp->stats.journal_waiting = (uint32_t)cp->jb_n;
	return 0;
}

int ocpp_cp_journal_put(struct ocpp_cp *cp, uint64_t seq, const char *text)
{
	int r;

	if (!cp->env.journal_put)
		return 0;
	if (cp->jb_n == 0) {
		r = cp->env.journal_put(cp->env.user, seq, text);
		if (r == 0)
			return 0;
		if (permanent(r)) {
			ocpp_cp_log(cp, CORE_LOG_ERROR, "journal: record %" PRIu64 " refused: %s", seq, strerror(-r));
			return r;
		}
		backlog_failed(cp, r);
	}
	r = backlog_add(cp, seq, text);
	if (r < 0)
		ocpp_cp_log(cp, CORE_LOG_ERROR, "journal: record %" PRIu64 " lost: %s", seq, strerror(-r));
	return r;
}

void ocpp_cp_journal_del(struct ocpp_cp *cp, uint64_t seq)
{
	int r;

	if (!seq || !cp->env.journal_del)
		return;
	for (int i = 0; i < cp->jb_n; i++) {
		if (cp->jb[i].seq != seq || !cp->jb[i].text)
			continue;
		free(cp->jb[i].text);
		memmove(&cp->jb[i], &cp->jb[i + 1], (size_t)(cp->jb_n - i - 1) * sizeof(cp->jb[0]));
		cp->jb_n--;
		cp->stats.journal_waiting = (uint32_t)cp->jb_n;
		return;
	}
	if (cp->jb_n == 0) {
		r = cp->env.journal_del(cp->env.user, seq);
		if (r == 0)
			return;
		backlog_failed(cp, r);
	}
	if (backlog_add(cp, seq, NULL) < 0)
		ocpp_cp_log(cp, CORE_LOG_ERROR, "journal: deleting record %" PRIu64 " failed: out of memory", seq);
}

/* Also the connectors file: it holds the energy register, and a reading the central system has seen
 * must never be above the register a restart reads back (a PowerLoss meterStop would go back). */
bool ocpp_cp_journal_durable(const struct ocpp_cp *cp)
{
	return cp->jb_n == 0 && !(cp->state_dirty & STATE_CONNECTORS);
}

bool ocpp_cp_journal_waiting(const struct ocpp_cp *cp, uint64_t seq)
{
	for (int i = 0; seq && i < cp->jb_n; i++)
		if (cp->jb[i].seq == seq && cp->jb[i].text)
			return true;
	return false;
}

bool ocpp_cp_journal_room(const struct ocpp_cp *cp)
{
	return cp->jb_n < BACKLOG_MAX;
}

/* Write what waits, in order, up to the first failure. */
static void backlog_flush(struct ocpp_cp *cp)
{
	int done = 0, r = 0;

	while (done < cp->jb_n) {
		struct ocpp_jop *op = &cp->jb[done];

		r = op->text ? cp->env.journal_put(cp->env.user, op->seq, op->text)
			     : cp->env.journal_del(cp->env.user, op->seq);
		if (r < 0 && !(op->text && permanent(r)))
			break;
		if (r < 0)
			ocpp_cp_log(cp, CORE_LOG_ERROR, "journal: record %" PRIu64 " refused: %s", op->seq, strerror(-r));
		free(op->text);
		done++;
	}
	memmove(cp->jb, cp->jb + done, (size_t)(cp->jb_n - done) * sizeof(cp->jb[0]));
	cp->jb_n -= done;
	cp->stats.journal_waiting = (uint32_t)cp->jb_n;
	if (cp->jb_n) {
		backlog_failed(cp, r);
		return;
	}
	if (cp->jb_failing)
		ocpp_cp_log(cp, CORE_LOG_INFO, "journal: writable again, %d waiting write(s) done", done);
	cp->jb_failing = false;
}

void ocpp_cp_state_stored(struct ocpp_cp *cp, const char *name, int r)
{
	static const char *const retried[] = {OCPP_FILE_CONFIG, OCPP_FILE_CONNECTORS, OCPP_FILE_AUTH, OCPP_FILE_PROFILES};

	if (r < 0 && !strcmp(name, OCPP_FILE_LOCAL_LIST)) {
		ocpp_cp_log(cp, CORE_LOG_ERROR, "saving %s failed: %s", name, strerror(-r));
		return;
	}
	for (unsigned i = 0; i < sizeof(retried) / sizeof(retried[0]); i++) {
		unsigned bit = 1u << i;

		if (strcmp(name, retried[i]))
			continue;
		if (r < 0) {
			if (!(cp->state_dirty & bit))
				ocpp_cp_log(cp, CORE_LOG_ERROR, "saving %s failed: %s; saved again every %u s until it works",
					    name, strerror(-r), RETRY_MS / 1000u);
			cp->state_dirty |= bit;
			if (!cp->jb_retry_ms || cp->jb_retry_ms > cp->now_ms + RETRY_MS)
				cp->jb_retry_ms = cp->now_ms + RETRY_MS;
		} else if (cp->state_dirty & bit) {
			cp->state_dirty &= ~bit;
			ocpp_cp_log(cp, CORE_LOG_INFO, "saving %s works again", name);
		}
	}
}

void ocpp_cp_journal_retry(struct ocpp_cp *cp)
{
	unsigned dirty = cp->state_dirty;

	if (!cp->jb_retry_ms || cp->now_ms < cp->jb_retry_ms)
		return;
	cp->jb_retry_ms = 0;
	if (cp->jb_n)
		backlog_flush(cp);
	/* Each save clears its bit or sets the retry again. */
	if (dirty & 1u)
		ocpp_cp_save_config(cp);
	if (dirty & STATE_CONNECTORS)
		ocpp_cp_save_connectors(cp);
	if (dirty & 4u)
		ocpp_cp_save_auth(cp);
	if (dirty & 8u)
		ocpp_cp_save_profiles(cp);
}

uint64_t ocpp_cp_journal_deadline(const struct ocpp_cp *cp)
{
	return cp->jb_retry_ms ? cp->jb_retry_ms : UINT64_MAX;
}

void ocpp_cp_journal_free(struct ocpp_cp *cp)
{
	for (int i = 0; i < cp->jb_n; i++)
		free(cp->jb[i].text);
	free(cp->jb);
	cp->jb = NULL;
	cp->jb_n = cp->jb_cap = 0;
}
