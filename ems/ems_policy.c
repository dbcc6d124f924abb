/*
 * ems_policy: decides the bus's total current from the mode, the schedule and the solar surplus
 * (see ems_policy.h). The engine remembers only the last amps, the enable timer and the disable
 * side's energy account, when
 * the bus last started and stopped, and where the last eval stood in time, so that
 * ems_policy_next_deadline() can say when the same reading would be decided differently. Whether
 * the bus charges is the last amps being > 0 in every mode, so a switch from charge-now into
 * track-green keeps the car charging (and runs the disable delay) instead of stopping it.
 */
#include "ems_policy.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_MS 60000LL
#define DAY_MIN 1440
#define NO_TARGET (-1) /* the surplus does not pay for min_amps */

struct ems_policy {
	struct ems_policy_params p;
	int amps;                 /* the last decision */
	bool enable_on, disable_on;
	uint64_t enable_since;
	/* The disable side counts energy, not time: the grid energy (W s) holding min_amps has needed
	 * while the surplus fell short, refilled at the same rate while it pays again. A full
	 * shortfall stops after exactly disable_delay_s; a cloud that leaves most of the minimum
	 * covered takes proportionally longer, and sun between clouds earns the time back. */
	int64_t deficit_wms;      /* W x ms, in integers so the deadline and the stop agree exactly */
	int64_t deficit_rate_w;   /* since the last eval: > 0 growing, < 0 refilling */
	uint64_t deficit_ms;      /* when deficit_wms was brought up to date */
	bool stopped;             /* ever: the first start has no dwell */
	bool battery_seen;        /* the meters have reported a battery: its absence is unknown now */
	uint64_t last_start, last_stop;
	struct ems_policy_stats stats;
	/* where the last eval stood, for the deadline */
	bool evaluated;
	bool reparams;            /* params changed since: decide again at once */
	uint64_t now_ms;
	int64_t wall_ms;
	int wday, minute;
	enum ems_policy_mode mode;
};

static const char *const mode_names[] = { "off", "charge-now", "scheduled", "track-green" };
#define NMODES ((int)(sizeof(mode_names) / sizeof(mode_names[0])))

const char *ems_policy_mode_name(enum ems_policy_mode m)
{
	return (unsigned)m < (unsigned)NMODES ? mode_names[m] : NULL;
}

int ems_policy_mode_from_name(const char *name)
{
	for (int i = 0; name && i < NMODES; i++)
		if (strcmp(name, mode_names[i]) == 0)
			return i;
	return -1;
}

void ems_policy_params_default(struct ems_policy_params *p, int max_amps, int min_amps, int voltage, int phases)
{
	memset(p, 0, sizeof(*p));
	p->mode = EMS_POLICY_OFF;
	p->then = EMS_POLICY_OFF;
	p->max_amps = max_amps;
	p->min_amps = min_amps;
	p->voltage = voltage;
	p->phases = phases;
	p->enable_delay_s = 60;
	p->disable_delay_s = 180;
	p->dwell_s = 120;
	p->margin_w = 100;
	p->battery_soc = 0;
	p->load_includes_chargers = true;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int bad(char *err, size_t errlen, const char *field, int lo, int hi)
{
	return fail(err, errlen, "%s: must be from %d to %d", field, lo, hi);
}

static bool in_range(int v, int lo, int hi)
{
	return v >= lo && v <= hi;
}

int ems_policy_params_check(const struct ems_policy_params *p, char *err, size_t errlen)
{
	if (!p)
		return fail(err, errlen, "params: missing");
	if (!in_range(p->mode, 0, NMODES - 1))
		return bad(err, errlen, "mode", 0, NMODES - 1);
	if (p->has_until && !in_range(p->then, 0, NMODES - 1))
		return bad(err, errlen, "then", 0, NMODES - 1);
	if (p->has_until && p->then == p->mode)
		return fail(err, errlen, "then: must differ from mode");
	if (!in_range(p->max_amps, 1, 240))
		return bad(err, errlen, "max_amps", 1, 240);
	if (!in_range(p->min_amps, 1, p->max_amps))
		return bad(err, errlen, "min_amps", 1, p->max_amps);
	if (!in_range(p->voltage, 100, 480))
		return bad(err, errlen, "voltage", 100, 480);
	if (p->phases != 1 && p->phases != 3)
		return fail(err, errlen, "phases: must be 1 or 3");
	if (!in_range(p->enable_delay_s, 0, 86400))
		return bad(err, errlen, "enable_delay_s", 0, 86400);
	if (!in_range(p->disable_delay_s, 0, 86400))
		return bad(err, errlen, "disable_delay_s", 0, 86400);
	if (!in_range(p->dwell_s, 0, 86400))
		return bad(err, errlen, "dwell_s", 0, 86400);
	if (!in_range(p->margin_w, 0, 100000))
		return bad(err, errlen, "margin_w", 0, 100000);
	if (!in_range(p->battery_soc, 0, 100))
		return bad(err, errlen, "battery_soc", 0, 100);
	if (!in_range(p->n_windows, 0, EMS_POLICY_MAX_WINDOWS))
		return bad(err, errlen, "n_windows", 0, EMS_POLICY_MAX_WINDOWS);
	for (int i = 0; i < p->n_windows; i++) {
		const struct ems_policy_window *w = &p->windows[i];
		const char *name = NULL;
		int lo = 0, hi = DAY_MIN - 1;

		if (!in_range(w->days, 1, 127))
			name = "days", lo = 1, hi = 127;
		else if (!in_range(w->start_min, 0, DAY_MIN - 1))
			name = "start_min";
		else if (!in_range(w->end_min, 0, DAY_MIN - 1))
			name = "end_min";
		else if (!in_range(w->amps, p->min_amps, p->max_amps))
			name = "amps", lo = p->min_amps, hi = p->max_amps;
		if (name)
			return fail(err, errlen, "windows[%d].%s: must be from %d to %d", i, name, lo, hi);
	}
	return 0;
}

struct ems_policy *ems_policy_new(const struct ems_policy_params *p)
{
	struct ems_policy *pol;

	if (ems_policy_params_check(p, NULL, 0) < 0) {
		errno = EINVAL;
		return NULL;
	}
	pol = calloc(1, sizeof(*pol));
	if (!pol) {
		errno = ENOMEM;
		return NULL;
	}
	pol->p = *p;
	return pol;
}

void ems_policy_free(struct ems_policy *pol)
{
	free(pol);
}

int ems_policy_set_params(struct ems_policy *pol, const struct ems_policy_params *p)
{
	if (ems_policy_params_check(p, NULL, 0) < 0)
		return -EINVAL;
	pol->p = *p;
	pol->reparams = true;
	return 0;
}

void ems_policy_stats(const struct ems_policy *pol, struct ems_policy_stats *out)
{
	*out = pol->stats;
}

static enum ems_policy_mode mode_in_force(const struct ems_policy_params *p, int64_t wall_ms)
{
	return p->has_until && wall_ms >= p->until_wall_ms ? p->then : p->mode;
}

static bool on_day(const struct ems_policy_window *w, int wday)
{
	return w->days & (1u << wday);
}

/* The highest amps of the windows holding (wday, minute); 0 outside all. */
static int window_amps(const struct ems_policy_params *p, int wday, int minute)
{
	int best = 0;

	for (int i = 0; i < p->n_windows; i++) {
		const struct ems_policy_window *w = &p->windows[i];
		bool in;

		if (w->end_min > w->start_min)
			in = on_day(w, wday) && minute >= w->start_min && minute < w->end_min;
		else /* crosses midnight: the tail belongs to yesterday's window */
			in = (on_day(w, wday) && minute >= w->start_min) ||
			     (on_day(w, (wday + 6) % 7) && minute < w->end_min);
		if (in && w->amps > best)
			best = w->amps;
	}
	return best;
}

/* Minutes from (wday, minute) to the next start or end of any window, or -1 when there is none. */
static int next_window_edge(const struct ems_policy_params *p, int wday, int minute)
{
	int best = -1;

	for (int i = 0; i < p->n_windows; i++) {
		const struct ems_policy_window *w = &p->windows[i];
		int len = w->end_min > w->start_min ? w->end_min - w->start_min : w->end_min - w->start_min + DAY_MIN;

		/* Yesterday's window may still end today; a window only on today's weekday that has
		 * passed comes back in seven days. */
		for (int j = -1; j <= 7; j++) {
			int start = j * DAY_MIN + w->start_min;
			int edges[2] = { start, start + len };

			if (!on_day(w, (wday + j + 7) % 7))
				continue;
			for (int k = 0; k < 2; k++)
				if (edges[k] > minute && (best < 0 || edges[k] - minute < best))
					best = edges[k] - minute;
		}
	}
	return best;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t ms(int s)
{
	return (uint64_t)s * 1000u;
}

/* Base surplus in W, without and with battery priority; false when the reading cannot say. An
 * infinite value is a broken meter, as unknown as NAN. */
static bool base_surplus(const struct ems_policy_params *p, const struct ems_policy_input *in, double *plain,
			 double *prio)
{
	const double *v = in->reading.v;
	double chg = in->charger_w > 0 ? in->charger_w : 0;
	double batt = isfinite(v[EMS_BATTERY]) ? v[EMS_BATTERY] : 0;
	double soc = v[EMS_SOC];

	if (!isfinite(in->charger_w))
		return false;
	if (isfinite(v[EMS_GRID])) {
		*plain = -v[EMS_GRID] + chg - batt;
	} else if (isfinite(v[EMS_PV]) && isfinite(v[EMS_LOAD])) {
		double house = v[EMS_LOAD];

		/* The meter lags the chargers: a load below their draw means the house uses ~0. */
		if (p->load_includes_chargers)
			house = house - chg < 0 ? 0 : house - chg;
		*plain = v[EMS_PV] - house;
	} else {
		return false;
	}
	*prio = *plain;
	if (p->battery_soc > 0 && !(isfinite(soc) && soc >= p->battery_soc) && batt < 0)
		*prio += batt;
	return true;
}

/* Whole amps the surplus pays for, capped at max_amps; NO_TARGET below min_amps. */
static int target_amps(const struct ems_policy_params *p, double surplus_w)
{
	double a = floor(surplus_w / ((double)p->voltage * p->phases));

	if (a >= p->max_amps)
		return p->max_amps;
	return a >= p->min_amps ? (int)a : NO_TARGET;
}

static void track_green(struct ems_policy *pol, const struct ems_policy_input *in, uint64_t now,
			struct ems_policy_decision *out)
{
	const struct ems_policy_params *p = &pol->p;
	double plain, prio;
	bool known;
	int target = NO_TARGET;
	const char *none = "meter unknown";

	/* A battery the meters stopped reporting may be discharging into what looks like export: no
	 * figure then, rather than "battery 0". A site that never had one reports none from the start. */
	if (isfinite(in->reading.v[EMS_BATTERY]))
		pol->battery_seen = true;
	known = base_surplus(p, in, &plain, &prio) && !(pol->battery_seen && !isfinite(in->reading.v[EMS_BATTERY]));

	if (known) {
		out->surplus_w = prio - p->margin_w;
		target = target_amps(p, out->surplus_w);
		none = target_amps(p, plain - p->margin_w) != NO_TARGET ? "battery first" : "no surplus";
	}

	if (pol->amps > 0) {
		int64_t min_w = (int64_t)p->min_amps * p->voltage * p->phases;

		pol->enable_on = false;
		if (!pol->disable_on) {
			pol->disable_on = true;
			pol->deficit_wms = 0;
			pol->deficit_rate_w = 0;
			pol->deficit_ms = now;
		}
		pol->deficit_wms += pol->deficit_rate_w * (int64_t)(now - pol->deficit_ms);
		if (pol->deficit_wms < 0)
			pol->deficit_wms = 0;
		pol->deficit_ms = now;
		if (target != NO_TARGET)
			pol->deficit_rate_w = -min_w;
		else if (known && out->surplus_w > 0)
			pol->deficit_rate_w = min_w - (int64_t)floor(out->surplus_w);
		else
			pol->deficit_rate_w = min_w;
		if (target != NO_TARGET) {
			out->amps = target;
			out->reason = "surplus";
			return;
		}
		if (pol->deficit_wms < min_w * p->disable_delay_s * 1000) {
			out->amps = p->min_amps;
			out->reason = known ? "disable delay" : none;
		} else if (now - pol->last_start < ms(p->dwell_s)) {
			out->amps = p->min_amps;
			out->reason = known ? "dwell" : none;
		} else {
			pol->disable_on = false;
			out->amps = 0;
			out->reason = none;
		}
		return;
	}

	pol->disable_on = false;
	out->amps = 0;
	if (target == NO_TARGET) {
		pol->enable_on = false;
		out->reason = none;
		return;
	}
	if (!pol->enable_on) {
		pol->enable_on = true;
		pol->enable_since = now;
	}
	if (now - pol->enable_since < ms(p->enable_delay_s)) {
		out->reason = "enable delay";
	} else if (pol->stopped && now - pol->last_stop < ms(p->dwell_s)) {
		out->reason = "dwell";
	} else {
		pol->enable_on = false;
		out->amps = target;
		out->reason = "surplus";
	}
}

void ems_policy_eval(struct ems_policy *pol, const struct ems_policy_input *in, struct ems_policy_decision *out)
{
	uint64_t now = pol->evaluated && in->now_ms < pol->now_ms ? pol->now_ms : in->now_ms;
	enum ems_policy_mode mode = mode_in_force(&pol->p, in->wall_ms);
	int wday = ((in->wday % 7) + 7) % 7;
	int minute = in->minute < 0 ? 0 : in->minute >= DAY_MIN ? DAY_MIN - 1 : in->minute;

	if (!pol->evaluated || mode != pol->mode)
		pol->enable_on = pol->disable_on = false;

	memset(out, 0, sizeof(*out));
	out->mode = mode;
	out->surplus_w = NAN;
	switch (mode) {
	case EMS_POLICY_CHARGE_NOW:
		out->amps = pol->p.max_amps;
		out->reason = "charge-now";
		break;
	case EMS_POLICY_SCHEDULED:
		out->amps = window_amps(&pol->p, wday, minute);
		out->reason = out->amps ? "window" : "outside windows";
		break;
	case EMS_POLICY_TRACK_GREEN:
		track_green(pol, in, now, out);
		break;
	default:
		out->amps = 0;
		out->reason = "off";
		break;
	}
	out->charging = out->amps > 0;

	if (pol->amps == 0 && out->amps > 0) {
		pol->stats.starts++;
		pol->last_start = now;
	} else if (pol->amps > 0 && out->amps == 0) {
		pol->stats.stops++;
		pol->stopped = true;
		pol->last_stop = now;
	}
	pol->amps = out->amps;
	pol->evaluated = true;
	pol->reparams = false;
	pol->now_ms = now;
	pol->wall_ms = in->wall_ms;
	pol->wday = wday;
	pol->minute = minute;
	pol->mode = mode;
}

static void earliest(uint64_t *best, uint64_t now, uint64_t t)
{
	if (t > now && t < *best)
		*best = t;
}

static uint64_t later(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

uint64_t ems_policy_next_deadline(const struct ems_policy *pol)
{
	const struct ems_policy_params *p = &pol->p;
	uint64_t now = pol->now_ms, best = UINT64_MAX;

	if (!pol->evaluated)
		return UINT64_MAX;
	if (pol->reparams) /* the new params may decide differently already */
		return sat_add(now, 1);
	if (p->has_until && pol->wall_ms < p->until_wall_ms)
		earliest(&best, now, sat_add(now, (uint64_t)p->until_wall_ms - (uint64_t)pol->wall_ms));
	if (pol->mode == EMS_POLICY_SCHEDULED) {
		int edge = next_window_edge(p, pol->wday, pol->minute);
		int64_t into_minute = ((pol->wall_ms % MIN_MS) + MIN_MS) % MIN_MS;

		if (edge > 0)
			earliest(&best, now, sat_add(now, (uint64_t)(edge * MIN_MS - into_minute)));
	}
	if (pol->mode == EMS_POLICY_TRACK_GREEN) {
		if (pol->amps == 0 && pol->enable_on) {
			uint64_t at = sat_add(pol->enable_since, ms(p->enable_delay_s));

			if (pol->stopped)
				at = later(at, sat_add(pol->last_stop, ms(p->dwell_s)));
			earliest(&best, now, at);
		}
		if (pol->amps > 0 && pol->disable_on && pol->deficit_rate_w > 0) {
			int64_t min_w = (int64_t)p->min_amps * p->voltage * p->phases;
			int64_t left = min_w * p->disable_delay_s * 1000 - pol->deficit_wms;
			int64_t rate = pol->deficit_rate_w;
			uint64_t at = sat_add(now, left > 0 ? (uint64_t)((left + rate - 1) / rate) : 1);

			earliest(&best, now, later(at, sat_add(pol->last_start, ms(p->dwell_s))));
		}
	}
	return best;
}
