/*
 * ocpp_sc: Smart Charging profiles as data and arithmetic. The installed profiles are one array in
 * installation order (32 at most, so linear scans beat any index). Every evaluation is built on two
 * questions asked of one profile at one instant: which period, if any, is in force, and when that
 * can next change. The limit now and the composite schedule are both answered from those, so the two
 * cannot disagree about where a boundary is.
 */
#include "ocpp_sc.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL
#define WEEK_MS (7 * DAY_MS)

const char *const ocpp_sc_purpose_names[OCPP_SC_PURPOSE_COUNT] = { "ChargePointMaxProfile", "TxDefaultProfile",
								     "TxProfile" };
const char *const ocpp_sc_kind_names[OCPP_SC_KIND_COUNT] = { "Absolute", "Recurring", "Relative" };
const char *const ocpp_sc_unit_names[OCPP_SC_UNIT_COUNT] = { "A", "W" };
/* Index 0 is "absent", which the enum reader skips, so only the two wire names match. */
static const char *const recurrency_names[] = { NULL, "Daily", "Weekly" };

struct ocpp_sc {
	int max, n;
	struct ocpp_sc_profile p[];
};

/* ---- parsing ---- */

static int parse_period(const json_t *o, size_t i, struct ocpp_sc_period *pd, struct ocpp_perr *e)
{
	static const char *const keys[] = { "startPeriod", "limit", "numberPhases", NULL };
	int64_t start = 0, phases = 0;

	if (!json_is_object(o))
		return ocpp_perr_set(e, OCPP_ERR_TYPE_CONSTRAINT, "chargingSchedulePeriod[%zu] must be an object", i);
	if (ocpp_json_only(o, keys, e) < 0 || ocpp_json_int(o, "startPeriod", 0, INT32_MAX, true, &start, e) < 0 ||
	    ocpp_json_number(o, "limit", 0, DBL_MAX, true, &pd->limit, e) < 0 ||
	    ocpp_json_int(o, "numberPhases", 1, 3, false, &phases, e) < 0)
		return -EINVAL;
	pd->start_s = (int32_t)start;
	pd->phases = (int)phases;
	return 0;
}

static int parse_schedule(const json_t *s, int max_periods, struct ocpp_sc_profile *p, struct ocpp_perr *e)
{
	static const char *const keys[] = { "duration", "startSchedule", "chargingRateUnit", "chargingSchedulePeriod",
					    "minChargingRate", NULL };
	const json_t *arr = NULL, *item;
	int64_t duration = 0;
	int unit = 0, rc;
	size_t i;

	if (ocpp_json_only(s, keys, e) < 0)
		return -EINVAL;
	rc = ocpp_json_int(s, "duration", 0, INT32_MAX, false, &duration, e);
	if (rc < 0)
		return rc;
	p->has_duration = rc == 1;
	p->duration_s = (int32_t)duration;
	rc = ocpp_json_time(s, "startSchedule", false, &p->start_ms, e);
	if (rc < 0)
		return rc;
	p->has_start = rc == 1;
	if (ocpp_json_enum(s, "chargingRateUnit", ocpp_sc_unit_names, OCPP_SC_UNIT_COUNT, true, &unit, e) < 0)
		return -EINVAL;
	p->unit = (enum ocpp_sc_unit)unit;
	rc = ocpp_json_number(s, "minChargingRate", 0, DBL_MAX, false, &p->min_rate, e);
	if (rc < 0)
		return rc;
	p->has_min_rate = rc == 1;
	if (ocpp_json_array(s, "chargingSchedulePeriod", true, &arr, e) < 0)
		return -EINVAL;
	if (json_array_size(arr) == 0)
		return ocpp_perr_set(e, OCPP_ERR_PROPERTY_CONSTRAINT, "'chargingSchedulePeriod' is empty");
	if (json_array_size(arr) > (size_t)max_periods)
		return ocpp_perr_set(e, OCPP_ERR_PROPERTY_CONSTRAINT, "more than %d charging schedule periods",
				     max_periods);
	json_array_foreach(arr, i, item) {
		if (parse_period(item, i, &p->periods[i], e) < 0)
			return -EINVAL;
		/* The period in force is found by start, which needs an order with no ties and no gap at 0. */
		if (i == 0 ? p->periods[0].start_s != 0 : p->periods[i].start_s <= p->periods[i - 1].start_s)
			return ocpp_perr_set(e, OCPP_ERR_PROPERTY_CONSTRAINT,
					     "startPeriod must start at 0 and increase (period %zu)", i);
	}
	p->n_periods = (int)json_array_size(arr);
	return 0;
}

int ocpp_sc_profile_parse(const json_t *obj, int connector, int max_periods, struct ocpp_sc_profile *out,
			  struct ocpp_perr *e)
{
	static const char *const keys[] = { "chargingProfileId", "transactionId", "stackLevel",
					    "chargingProfilePurpose", "chargingProfileKind", "recurrencyKind",
					    "validFrom", "validTo", "chargingSchedule", NULL };
	struct ocpp_sc_profile p;
	const json_t *sched = NULL;
	int64_t id = 0, tx = 0, stack = 0;
	int purpose = 0, kind = 0, rec = 0, rc;

	if (!out)
		return ocpp_perr_set(e, OCPP_ERR_INTERNAL, "no profile to fill");
	if (max_periods > OCPP_SC_MAX_PERIODS || max_periods < 1)
		max_periods = OCPP_SC_MAX_PERIODS;
	memset(&p, 0, sizeof(p));
	p.connector = connector;
	if (ocpp_json_only(obj, keys, e) < 0 ||
	    ocpp_json_int(obj, "chargingProfileId", INT_MIN, INT_MAX, true, &id, e) < 0 ||
	    ocpp_json_int(obj, "transactionId", INT_MIN, INT_MAX, false, &tx, e) < 0 ||
	    ocpp_json_int(obj, "stackLevel", 0, OCPP_SC_MAX_STACK_LEVEL, true, &stack, e) < 0 ||
	    ocpp_json_enum(obj, "chargingProfilePurpose", ocpp_sc_purpose_names, OCPP_SC_PURPOSE_COUNT, true, &purpose,
			   e) < 0 ||
	    ocpp_json_enum(obj, "chargingProfileKind", ocpp_sc_kind_names, OCPP_SC_KIND_COUNT, true, &kind, e) < 0 ||
	    ocpp_json_enum(obj, "recurrencyKind", recurrency_names, 3, false, &rec, e) < 0)
		return -EINVAL;
	p.id = (int)id;
	p.tx_id = (int)tx;
	p.stack = (int)stack;
	p.purpose = (enum ocpp_sc_purpose)purpose;
	p.kind = (enum ocpp_sc_kind)kind;
	p.recurrency = (enum ocpp_sc_recurrency)rec;
	rc = ocpp_json_time(obj, "validFrom", false, &p.valid_from_ms, e);
	if (rc < 0)
		return rc;
	p.has_valid_from = rc == 1;
	rc = ocpp_json_time(obj, "validTo", false, &p.valid_to_ms, e);
	if (rc < 0)
		return rc;
	p.has_valid_to = rc == 1;
	if (ocpp_json_object(obj, "chargingSchedule", true, &sched, e) < 0 ||
	    parse_schedule(sched, max_periods, &p, e) < 0)
		return -EINVAL;
	/* A recurrence needs an anchor to repeat from; on any other kind it would be silently meaningless. */
	if (p.kind == OCPP_SC_RECURRING && (p.recurrency == OCPP_SC_REC_NONE || !p.has_start))
		return ocpp_perr_set(e, OCPP_ERR_PROPERTY_CONSTRAINT,
				     "a Recurring profile needs recurrencyKind and startSchedule");
	if (p.kind != OCPP_SC_RECURRING && p.recurrency != OCPP_SC_REC_NONE)
		return ocpp_perr_set(e, OCPP_ERR_PROPERTY_CONSTRAINT, "recurrencyKind is only for Recurring profiles");
	*out = p;
	return 0;
}

/* ---- JSON out ---- */

static int set_time(json_t *o, const char *key, int64_t ms)
{
	char buf[OCPP_TIME_LEN + 1];

	ocpp_time_format(ms, buf, sizeof(buf));
	return json_object_set_new(o, key, json_string(buf));
}

json_t *ocpp_sc_profile_json(const struct ocpp_sc_profile *p)
{
	json_t *o, *s, *arr;
	int bad = 0;

	if (!p || (unsigned)p->purpose >= OCPP_SC_PURPOSE_COUNT || (unsigned)p->kind >= OCPP_SC_KIND_COUNT ||
	    (unsigned)p->unit >= OCPP_SC_UNIT_COUNT || (unsigned)p->recurrency > OCPP_SC_WEEKLY || p->n_periods < 0 ||
	    p->n_periods > OCPP_SC_MAX_PERIODS)
		return NULL;
	o = json_object();
	s = json_object();
	arr = json_array();
	/* The set_new calls take their reference even when they fail, so only these three need care. */
	if (!o || !s || !arr) {
		json_decref(o);
		json_decref(s);
		json_decref(arr);
		return NULL;
	}
	bad |= json_object_set_new(o, "chargingProfileId", json_integer(p->id));
	if (p->tx_id != 0)
		bad |= json_object_set_new(o, "transactionId", json_integer(p->tx_id));
	bad |= json_object_set_new(o, "stackLevel", json_integer(p->stack));
	bad |= json_object_set_new(o, "chargingProfilePurpose", json_string(ocpp_sc_purpose_names[p->purpose]));
	bad |= json_object_set_new(o, "chargingProfileKind", json_string(ocpp_sc_kind_names[p->kind]));
	if (p->recurrency != OCPP_SC_REC_NONE)
		bad |= json_object_set_new(o, "recurrencyKind", json_string(recurrency_names[p->recurrency]));
	if (p->has_valid_from)
		bad |= set_time(o, "validFrom", p->valid_from_ms);
	if (p->has_valid_to)
		bad |= set_time(o, "validTo", p->valid_to_ms);
	bad |= json_object_set_new(o, "chargingSchedule", s);
	if (p->has_duration)
		bad |= json_object_set_new(s, "duration", json_integer(p->duration_s));
	if (p->has_start)
		bad |= set_time(s, "startSchedule", p->start_ms);
	bad |= json_object_set_new(s, "chargingRateUnit", json_string(ocpp_sc_unit_names[p->unit]));
	bad |= json_object_set_new(s, "chargingSchedulePeriod", arr);
	for (int i = 0; i < p->n_periods; i++) {
		const struct ocpp_sc_period *pd = &p->periods[i];
		json_t *jp = json_object();

		bad |= json_array_append_new(arr, jp);
		if (!jp)
			break;
		bad |= json_object_set_new(jp, "startPeriod", json_integer(pd->start_s));
		bad |= json_object_set_new(jp, "limit", json_real(pd->limit));
		if (pd->phases)
			bad |= json_object_set_new(jp, "numberPhases", json_integer(pd->phases));
	}
	if (p->has_min_rate)
		bad |= json_object_set_new(s, "minChargingRate", json_real(p->min_rate));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- the installed set ---- */

struct ocpp_sc *ocpp_sc_new(int max_profiles)
{
	struct ocpp_sc *sc;

	if (max_profiles < 1)
		return NULL;
	sc = calloc(1, sizeof(*sc) + (size_t)max_profiles * sizeof(sc->p[0]));
	if (sc)
		sc->max = max_profiles;
	return sc;
}

void ocpp_sc_free(struct ocpp_sc *sc)
{
	free(sc);
}

static void remove_at(struct ocpp_sc *sc, int i)
{
	memmove(&sc->p[i], &sc->p[i + 1], (size_t)(sc->n - i - 1) * sizeof(sc->p[0]));
	sc->n--;
}

int ocpp_sc_install(struct ocpp_sc *sc, const struct ocpp_sc_profile *p)
{
	struct ocpp_sc_profile copy;

	if (!sc || !p || p->n_periods < 1 || p->n_periods > OCPP_SC_MAX_PERIODS)
		return -EINVAL;
	/* @p may be one of ours (from ocpp_sc_get), which the removals below would move under it. */
	copy = *p;
	for (int i = sc->n - 1; i >= 0; i--) {
		const struct ocpp_sc_profile *q = &sc->p[i];

		if (q->id == copy.id ||
		    (q->connector == copy.connector && q->purpose == copy.purpose && q->stack == copy.stack))
			remove_at(sc, i);
	}
	if (sc->n >= sc->max)
		return -ENOSPC;
	sc->p[sc->n++] = copy;
	return 0;
}

int ocpp_sc_clear(struct ocpp_sc *sc, const struct ocpp_sc_filter *f)
{
	int removed = 0;

	if (!sc)
		return 0;
	for (int i = sc->n - 1; i >= 0; i--) {
		const struct ocpp_sc_profile *q = &sc->p[i];
		bool match;

		if (f && f->has_id)
			match = q->id == f->id;
		else
			match = !f || ((!f->has_connector || q->connector == f->connector) &&
				       (!f->has_purpose || q->purpose == f->purpose) &&
				       (!f->has_stack || q->stack == f->stack));
		if (match) {
			remove_at(sc, i);
			removed++;
		}
	}
	return removed;
}

int ocpp_sc_clear_tx(struct ocpp_sc *sc, int connector)
{
	struct ocpp_sc_filter f = { .has_connector = true, .connector = connector, .has_purpose = true,
				    .purpose = OCPP_SC_TX };

	return ocpp_sc_clear(sc, &f);
}

int ocpp_sc_count(const struct ocpp_sc *sc)
{
	return sc ? sc->n : 0;
}

const struct ocpp_sc_profile *ocpp_sc_get(const struct ocpp_sc *sc, int i)
{
	return sc && i >= 0 && i < sc->n ? &sc->p[i] : NULL;
}

json_t *ocpp_sc_save(const struct ocpp_sc *sc)
{
	json_t *arr = json_array(), *root;

	for (int i = 0; arr && sc && i < sc->n; i++) {
		json_t *o = ocpp_sc_profile_json(&sc->p[i]);

		if (o && json_object_set_new(o, "connectorId", json_integer(sc->p[i].connector)) < 0) {
			json_decref(o);
			o = NULL;
		}
		/* json_array_append_new() drops @o itself when it fails. */
		if (!o || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	root = arr ? json_object() : NULL;
	if (!root || json_object_set_new(root, "profiles", arr) < 0) {
		json_decref(root);
		return NULL;
	}
	return root;
}

int ocpp_sc_load(struct ocpp_sc *sc, const json_t *j)
{
	const json_t *arr = json_object_get(j, "profiles"), *item;
	size_t i;

	if (!sc)
		return -EINVAL;
	sc->n = 0;
	if (!json_is_object(j) || !json_is_array(arr))
		return -EINVAL;
	json_array_foreach(arr, i, item) {
		struct ocpp_perr e = { 0 };
		struct ocpp_sc_profile p;
		int64_t connector;
		json_t *copy;
		int rc;

		if (!json_is_object(item) || ocpp_json_int(item, "connectorId", 0, INT_MAX, true, &connector, &e) < 0)
			continue;
		/* Shallow copy: dropping the one key the schema does not know leaves @j untouched. */
		copy = json_copy((json_t *)item);
		if (!copy)
			continue;
		json_object_del(copy, "connectorId");
		rc = ocpp_sc_profile_parse(copy, (int)connector, OCPP_SC_MAX_PERIODS, &p, &e);
		json_decref(copy);
		if (rc == 0)
			ocpp_sc_install(sc, &p);
	}
	return sc->n;
}

/* ---- evaluation ---- */

static int64_t add_sat(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

/*
 * The run of @p's schedule that @t falls in or waits for: it starts at *start and covers up to *end
 * (INT64_MAX: open); *again is when a recurrence starts the next run (INT64_MAX: never). The
 * evaluation start stands in for the transaction start when none runs, as GetCompositeSchedule asks.
 */
static void run_at(const struct ocpp_sc_profile *p, const struct ocpp_sc_ctx *ctx, int64_t eval_start, int64_t t,
		   int64_t *start, int64_t *end, int64_t *again)
{
	int64_t s, len = INT64_MAX;

	*again = INT64_MAX;
	if (p->kind == OCPP_SC_RECURRING) {
		len = p->recurrency == OCPP_SC_WEEKLY ? WEEK_MS : DAY_MS;
		s = p->start_ms;
		if (t > s)
			s += (t - s) / len * len;
		*again = add_sat(s, len);
	} else if (p->kind == OCPP_SC_ABSOLUTE && p->has_start) {
		s = p->start_ms;
	} else {
		s = ctx->tx_active ? ctx->tx_start_ms : eval_start;
	}
	if (p->has_duration && (int64_t)p->duration_s * 1000 < len)
		len = (int64_t)p->duration_s * 1000;
	*start = s;
	*end = len == INT64_MAX ? INT64_MAX : add_sat(s, len);
}

/* The index of @p's period in force at @t, or -1 when @p does not cover @t. */
static int period_at(const struct ocpp_sc_profile *p, const struct ocpp_sc_ctx *ctx, int64_t eval_start, int64_t t)
{
	int64_t s, end, again;
	int idx = -1;

	if ((p->has_valid_from && t < p->valid_from_ms) || (p->has_valid_to && t >= p->valid_to_ms))
		return -1;
	run_at(p, ctx, eval_start, t, &s, &end, &again);
	if (t < s || t >= end)
		return -1;
	for (int i = 0; i < p->n_periods && (int64_t)p->periods[i].start_s * 1000 <= t - s; i++)
		idx = i;
	return idx;
}

/* Watts over the installation's voltage and phases; a context without them is a caller's bug, and 1
 * keeps the arithmetic finite rather than dividing by zero. */
static double volt_phases(const struct ocpp_sc_ctx *ctx)
{
	double vp = ctx->voltage * ctx->phases;

	return vp > 0 ? vp : 1;
}

/* Whether @p takes part in @ctx's limit at all, whatever the instant. */
static bool relevant(const struct ocpp_sc_profile *p, const struct ocpp_sc_ctx *ctx)
{
	switch (p->purpose) {
	case OCPP_SC_CP_MAX:
		return p->connector == 0;
	case OCPP_SC_TX_DEFAULT:
		return ctx->connector > 0 && (p->connector == 0 || p->connector == ctx->connector);
	case OCPP_SC_TX:
		return ctx->connector > 0 && p->connector == ctx->connector && ctx->tx_active &&
		       (p->tx_id == 0 || p->tx_id == ctx->tx_id);
	default:
		return false;
	}
}

/* The limit in A of the highest-stack profile for (@purpose, @connector) covering @t; -1 when none. */
static double best_amps(const struct ocpp_sc *sc, const struct ocpp_sc_ctx *ctx, int64_t eval_start, int64_t t,
			enum ocpp_sc_purpose purpose, int connector)
{
	const struct ocpp_sc_profile *best = NULL;
	int best_idx = -1;

	for (int i = 0; i < sc->n; i++) {
		const struct ocpp_sc_profile *p = &sc->p[i];
		int idx;

		if (p->purpose != purpose || p->connector != connector || !relevant(p, ctx) ||
		    (best && p->stack < best->stack))
			continue;
		idx = period_at(p, ctx, eval_start, t);
		if (idx >= 0) {
			best = p;
			best_idx = idx;
		}
	}
	if (!best)
		return -1;
	return best->unit == OCPP_SC_WATTS ? best->periods[best_idx].limit / volt_phases(ctx)
					   : best->periods[best_idx].limit;
}

/* The connector's own limit (*conn) and the charge point's (*cp_max) at @t, in A; -1 for none. */
static void eval_at(const struct ocpp_sc *sc, const struct ocpp_sc_ctx *ctx, int64_t eval_start, int64_t t,
		    double *conn, double *cp_max)
{
	*cp_max = best_amps(sc, ctx, eval_start, t, OCPP_SC_CP_MAX, 0);
	*conn = -1;
	if (ctx->connector <= 0)
		return;
	if (ctx->tx_active)
		*conn = best_amps(sc, ctx, eval_start, t, OCPP_SC_TX, ctx->connector);
	if (*conn < 0)
		*conn = best_amps(sc, ctx, eval_start, t, OCPP_SC_TX_DEFAULT, ctx->connector);
	if (*conn < 0)
		*conn = best_amps(sc, ctx, eval_start, t, OCPP_SC_TX_DEFAULT, 0);
}

static int64_t later_min(int64_t best, int64_t cand, int64_t t)
{
	return cand > t && cand < best ? cand : best;
}

/* The first instant after @t at which any relevant profile's coverage or period may change; every
 * profile rather than only the winner, since a higher stack starting or a lower one's period moving
 * matters as much as the winner's own boundaries. */
static int64_t next_change(const struct ocpp_sc *sc, const struct ocpp_sc_ctx *ctx, int64_t eval_start, int64_t t)
{
	int64_t next = INT64_MAX;

	for (int i = 0; i < sc->n; i++) {
		const struct ocpp_sc_profile *p = &sc->p[i];
		int64_t s, end, again;

		if (!relevant(p, ctx))
			continue;
		if (p->has_valid_from)
			next = later_min(next, p->valid_from_ms, t);
		if (p->has_valid_to)
			next = later_min(next, p->valid_to_ms, t);
		run_at(p, ctx, eval_start, t, &s, &end, &again);
		next = later_min(next, s, t);
		next = later_min(next, end, t);
		next = later_min(next, again, t);
		for (int k = 0; k < p->n_periods; k++) {
			int64_t b = add_sat(s, (int64_t)p->periods[k].start_s * 1000);

			if (b > t) {
				if (b < end)
					next = later_min(next, b, t);
				break;
			}
		}
	}
	return next;
}

double ocpp_sc_limit(const struct ocpp_sc *sc, const struct ocpp_sc_ctx *ctx, int64_t now_ms, int64_t *next_ms)
{
	double conn, cp_max;

	if (next_ms)
		*next_ms = INT64_MAX;
	if (!sc || !ctx)
		return -1;
	eval_at(sc, ctx, now_ms, now_ms, &conn, &cp_max);
	if (next_ms)
		*next_ms = next_change(sc, ctx, now_ms, now_ms);
	if (conn < 0)
		return cp_max;
	return cp_max < 0 ? conn : fmin(conn, cp_max);
}

/* The instant after which nothing but recurrences changes, so that every profile repeats with a
 * period dividing a week: the last of the fixed instants (validity bounds, the boundaries of the
 * non-recurring schedules, the first start of the recurring ones). */
static int64_t settled_from(const struct ocpp_sc *sc, const struct ocpp_sc_ctx *ctx, int64_t eval_start)
{
	int64_t settled = INT64_MIN;

	for (int i = 0; i < sc->n; i++) {
		const struct ocpp_sc_profile *p = &sc->p[i];
		int64_t s, end, again, last;

		if (!relevant(p, ctx))
			continue;
		if (p->has_valid_from && p->valid_from_ms > settled)
			settled = p->valid_from_ms;
		if (p->has_valid_to && p->valid_to_ms > settled)
			settled = p->valid_to_ms;
		if (p->kind == OCPP_SC_RECURRING) {
			last = p->start_ms;
		} else {
			run_at(p, ctx, eval_start, eval_start, &s, &end, &again);
			last = add_sat(s, (int64_t)p->periods[p->n_periods - 1].start_s * 1000);
			if (end != INT64_MAX && end > last)
				last = end;
		}
		if (last > settled)
			settled = last;
	}
	return settled;
}

int ocpp_sc_composite(const struct ocpp_sc *sc, const struct ocpp_sc_ctx *ctx, int64_t start_ms,
		      int32_t duration_s, enum ocpp_sc_unit unit, struct ocpp_sc_slot *out, int max_out)
{
	int64_t end, settled, changed = start_ms, t = start_ms;
	int n = 0;

	if (!sc || !ctx || !out || max_out < 1)
		return -EINVAL;
	end = add_sat(start_ms, (int64_t)(duration_s > 0 ? duration_s : 0) * 1000);
	settled = settled_from(sc, ctx, start_ms);
	do {
		double conn, cp_max, v;
		int32_t rel = (int32_t)((t - start_ms) / 1000);

		/* Once everything only repeats weekly, a week without a change means none will come: without
		 * this a CSMS asking for years of a busy recurring schedule would cost millions of steps. */
		if (t - (changed > settled ? changed : settled) >= WEEK_MS)
			break;

		eval_at(sc, ctx, start_ms, t, &conn, &cp_max);
		/* A gap is what the wiring allows, which the charge point maximum still caps. */
		v = conn < 0 ? ctx->default_amps : conn;
		if (cp_max >= 0)
			v = fmin(v, cp_max);
		if (unit == OCPP_SC_WATTS)
			v *= volt_phases(ctx);
		v = round(v * 10) / 10;
		if (n > 0 && out[n - 1].limit != v)
			changed = t;
		/* startPeriod is whole seconds: a change within the second a slot began overrides that slot. */
		if (n > 0 && out[n - 1].start_s == rel) {
			out[n - 1].limit = v;
			if (n > 1 && out[n - 2].limit == v)
				n--;
		} else if (n == 0 || out[n - 1].limit != v) {
			if (n == max_out)
				break;
			out[n].start_s = rel;
			out[n].limit = v;
			n++;
		}
		t = next_change(sc, ctx, start_ms, t);
	} while (t < end);
	return n;
}
