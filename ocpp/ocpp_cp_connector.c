/*
 * ocpp_cp_connector: the connectors, one per TWC slave. Their state as the bus reports it, the
 * status each shows and the StatusNotifications that tell it, availability, the connectors file,
 * and the current each may be offered: the smart-charging limit per connector and the total cap,
 * handed down lowered before raised.
 */
#include "ocpp_cp_internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core_text.h"

#define STORE_PERIOD_MS 60000u        /* the energy registers are saved at least this often */

/* ---------------------------------------------------------------- state and status */

bool ocpp_cp_valid_connector(const struct ocpp_cp *cp, int c)
{
	return c >= 1 && c <= cp->n_conn && cp->conn[c].mapped;
}

/* Suspended: an invalid idTag, Inoperative, or a transaction not yet on disk (a full disk: a crash
 * now would lose it, so the car waits until its record is durable). */
static bool conn_suspended(const struct ocpp_cp *cp, const struct ocpp_conn *k)
{
	return k->tx.invalid || k->inoperative || cp->cp_inoperative ||
	       (k->tx.active && ocpp_cp_journal_waiting(cp, k->tx.seq));
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
		if (k->ev.drawing || cp->now_ms < k->tx.start_mono + OCPP_CP_RAMP_GRACE_MS)
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

/* ---------------------------------------------------------------- limits */

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
	/* Start transactions that are now possible: not while the disk refuses writes, since a crash
	 * would lose a transaction it could not record (it starts once the disk takes writes again). */
	for (int c = 1; c <= cp->n_conn; c++) {
		struct ocpp_conn *k = &cp->conn[c];

		if (k->mapped && !k->tx.active && k->auth == OCPP_AS_OK && k->ev.present && !k->ev.fault &&
		    k->ev.plugged && !k->finishing && !k->inoperative && !cp->cp_inoperative && ocpp_cp_journal_durable(cp))
			ocpp_cp_tx_start(cp, c);
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

/* ---------------------------------------------------------------- updates from the bus */

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
	ocpp_cp_connector_count_update(cp);
	ocpp_cp_save_connectors(cp);
	ocpp_cp_log(cp, CORE_LOG_INFO, "connector %d is TWC %04X", cp->n_conn, twc_id);
	return cp->n_conn;
}

void ocpp_cp_evse_update(struct ocpp_cp *cp, int c, const struct ocpp_evse *st, struct ocpp_now now)
{
	struct ocpp_conn *k;
	bool was_plugged;

	if (!ocpp_cp_valid_connector(cp, c) || !st)
		return;
	cp->now_ms = now.mono_ms;
	cp->now_wall = now.wall_ms;
	k = &cp->conn[c];
	ocpp_cp_energy_integrate(cp, k, st, now.mono_ms);
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
			ocpp_cp_auth_begin(cp, c, cp->fixed_tag);
		else if (cp->id_src == OCPP_IDTAG_VIN && st->vin[0])
			ocpp_cp_auth_begin(cp, c, st->vin);
	}
	ocpp_cp_step(cp);
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

/* ---------------------------------------------------------------- the connectors file */

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
	ocpp_cp_json_store(cp, OCPP_FILE_CONNECTORS,
		   json_pack("{s:o,s:b,s:i}", "connectors", arr, "inoperative", cp->cp_inoperative, "txLocalNext",
			     cp->tx_local_next),
		   false);
	cp->next_store_ms = cp->now_ms + STORE_PERIOD_MS;
}

void ocpp_cp_connectors_load(struct ocpp_cp *cp, const char *text)
{
	json_error_t jerr;
	json_t *root = json_loads(text, 0, &jerr), *arr, *it;
	size_t i;

	if (!root || !json_is_object(root)) {
		ocpp_cp_log(cp, CORE_LOG_WARN, "%s: unreadable (%s), starting without it", OCPP_FILE_CONNECTORS, jerr.text);
		json_decref(root);
		return;
	}
	cp->cp_inoperative = json_is_true(json_object_get(root, "inoperative"));
	/* Read back from disk: a value past the int range (or one that would overflow at the next
	 * transaction) restarts the numbering rather than wrapping. */
	if (json_is_integer(json_object_get(root, "txLocalNext"))) {
		json_int_t next = json_integer_value(json_object_get(root, "txLocalNext"));

		cp->tx_local_next = next >= 1 && next < INT_MAX ? (int)next : 1;
	}
	arr = json_object_get(root, "connectors");
	json_array_foreach(arr, i, it) {
		json_int_t n = json_integer_value(json_object_get(it, "connector"));
		const char *twc = json_string_value(json_object_get(it, "twc"));
		struct ocpp_conn *k;
		uint16_t id;

		if (n < 1 || n > OCPP_MAX_CONNECTORS || !twc || core_text_hex16(twc, 1, &id) < 0)
			continue;
		k = &cp->conn[n];
		k->mapped = true;
		k->twc_id = id;
		k->inoperative = json_is_true(json_object_get(it, "inoperative"));
		k->energy_wh = json_number_value(json_object_get(it, "energyWh"));
		if (!(k->energy_wh >= 0))
			k->energy_wh = 0;
		if (k->energy_wh > OCPP_ENERGY_MAX_WH) /* meterStart and meterStop are taken from it as int */
			k->energy_wh = OCPP_ENERGY_MAX_WH;
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

void ocpp_cp_connector_count_update(struct ocpp_cp *cp)
{
	char v[8];

	snprintf(v, sizeof(v), "%d", cp->n_conn);
	ocpp_config_set(cp->cfg, OCPP_KEY_NUMBER_OF_CONNECTORS, v);
}

/* ---------------------------------------------------------------- public API */

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
