/*
 * gw_history: the chart's memory, a fixed ring of samples taken on a grid of gateway time (one
 * allocation, in gw_history_new). Sample times are the gateway clock mapped onto the wall clock at the
 * first offer, so a demo running a day in minutes still charts as a day; connectors come and go, so
 * each has a series slot by connector number, null where it was absent.
 */
#include "gw_history.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/* 32 bytes: floats keep a watt or a tenth of an ampere exactly enough, and NAN for "unknown". */
struct hist_sample {
	int64_t t_ms;                            /* the grid point, mapped to epoch ms */
	float surplus_w, house_w, pv_w;
	float amps[GW_STATUS_CONNECTORS_MAX];    /* by series slot; NAN absent or unknown */
};

struct hist_series {
	bool used;
	int connector;
	uint64_t last_seq; /* the newest sample it appeared in */
};

struct gw_history {
	size_t cap, n, head; /* head: the oldest sample */
	uint64_t interval_ms;
	bool started;
	uint64_t first_sim_ms, next_sim_ms;
	int64_t anchor_ms;   /* wall time of first_sim_ms, whole seconds so grid times stay round */
	uint64_t seq;        /* samples ever taken; the next one's number */
	struct hist_series series[GW_STATUS_CONNECTORS_MAX];
	struct hist_sample ring[];
};

struct gw_history *gw_history_new(size_t capacity, uint64_t interval_ms)
{
	struct gw_history *h;

	if (!capacity || !interval_ms || capacity > (SIZE_MAX - sizeof(*h)) / sizeof(struct hist_sample))
		return NULL;
	h = calloc(1, sizeof(*h) + capacity * sizeof(struct hist_sample));
	if (!h)
		return NULL;
	h->cap = capacity;
	h->interval_ms = interval_ms;
	return h;
}

void gw_history_free(struct gw_history *h)
{
	free(h);
}

size_t gw_history_count(const struct gw_history *h)
{
	return h->n;
}

/* A double into the ring: out of float's range is undefined behaviour in C, so it saturates. */
static float to_float(double v)
{
	return isnan(v) || fabs(v) <= FLT_MAX ? (float)v : (float)copysign(INFINITY, v);
}

static int series_find(const struct gw_history *h, int connector)
{
	for (int i = 0; i < GW_STATUS_CONNECTORS_MAX; i++)
		if (h->series[i].used && h->series[i].connector == connector)
			return i;
	return -1;
}

/*
 * A slot for a connector new to the chart, for sample @seq, which will leave @kept samples in the
 * ring (it included): a free one, or one whose connector appears in none of those samples (its
 * values there are all NAN already) and not in this one (@seen). -1 if none: it is not charted.
 */
static int series_claim(struct gw_history *h, int connector, const bool *seen, uint64_t seq, size_t kept)
{
	for (int i = 0; i < GW_STATUS_CONNECTORS_MAX; i++)
		if (!seen[i] && (!h->series[i].used || h->series[i].last_seq + kept <= seq)) {
			h->series[i].used = true;
			h->series[i].connector = connector;
			return i;
		}
	return -1;
}

static void series_record(struct gw_history *h, struct hist_sample *s, bool *seen, int slot, double amps)
{
	seen[slot] = true;
	s->amps[slot] = to_float(amps);
	h->series[slot].last_seq = h->seq;
}

int gw_history_offer(struct gw_history *h, const struct gw_status *st)
{
	struct hist_sample s;
	bool seen[GW_STATUS_CONNECTORS_MAX] = { false };
	uint64_t grid;
	size_t kept = h->n < h->cap ? h->n + 1 : h->cap;
	int n = st->n_connectors < 0 ? 0 : st->n_connectors > GW_STATUS_CONNECTORS_MAX ? GW_STATUS_CONNECTORS_MAX
											: st->n_connectors;

	if (!h->started) {
		h->started = true;
		h->first_sim_ms = st->sim_ms;
		h->next_sim_ms = st->sim_ms;
		h->anchor_ms = st->wall_ms >= 0 ? st->wall_ms - st->wall_ms % 1000 : st->wall_ms;
	}
	/* Before the next grid point, or a clock that went back: nothing new to chart. */
	if (st->sim_ms < h->next_sim_ms)
		return 0;
	/* After a gap (the loop was stalled) one sample stands for the latest grid point reached. */
	grid = h->next_sim_ms + (st->sim_ms - h->next_sim_ms) / h->interval_ms * h->interval_ms;
	h->next_sim_ms = grid + h->interval_ms;

	if (grid - h->first_sim_ms > INT64_MAX ||
	    __builtin_add_overflow(h->anchor_ms, (int64_t)(grid - h->first_sim_ms), &s.t_ms))
		s.t_ms = INT64_MAX; /* a nonsense clock: keep the ring in order rather than wrap */
	s.surplus_w = to_float(st->policy.surplus_w);
	s.house_w = to_float(st->policy.house_w);
	s.pv_w = to_float(st->policy.pv_w);
	for (int i = 0; i < GW_STATUS_CONNECTORS_MAX; i++)
		s.amps[i] = NAN;
	/* Known connectors first, so a newcomer never takes the slot of one that is here too. */
	for (int i = 0; i < n; i++) {
		int slot = series_find(h, st->c[i].connector);

		if (slot >= 0 && !seen[slot]) /* the same number twice: the first one counts */
			series_record(h, &s, seen, slot, st->c[i].measured_amps);
	}
	for (int i = 0; i < n; i++) {
		int slot;

		if (series_find(h, st->c[i].connector) >= 0)
			continue;
		slot = series_claim(h, st->c[i].connector, seen, h->seq, kept);
		if (slot >= 0)
			series_record(h, &s, seen, slot, st->c[i].measured_amps);
	}

	if (h->n < h->cap) {
		h->ring[(h->head + h->n) % h->cap] = s;
		h->n++;
	} else {
		h->ring[h->head] = s;
		h->head = (h->head + 1) % h->cap;
	}
	h->seq++;
	return 1;
}

static json_t *watts_json(float v)
{
	return isfinite(v) && fabsf(v) < 9e15f ? json_integer((json_int_t)llroundf(v)) : json_null();
}

static json_t *amps_json(float v)
{
	return isfinite(v) ? json_real(round((double)v * 10) / 10) : json_null();
}

/* Epoch ms as seconds: an integer on a whole second (always, with a whole-second interval). */
static json_t *seconds_json(int64_t ms)
{
	return ms % 1000 == 0 ? json_integer(ms / 1000) : json_real((double)ms / 1000.0);
}

static int append(json_t *array, json_t *v)
{
	return v ? json_array_append_new(array, v) : -1;
}

/* Samples from ring position @from (0 = oldest) on, those after @since_ms (INT64_MIN: all). */
static json_t *history_json(const struct gw_history *h, size_t from, int64_t since_ms)
{
	json_t *j = NULL, *conns = json_array(), *t = json_array(), *surplus = json_array(), *house = json_array(),
	       *pv = json_array(), *amps = json_array();
	json_t *series[GW_STATUS_CONNECTORS_MAX];
	int order[GW_STATUS_CONNECTORS_MAX], n_series = 0;

	if (!conns || !t || !surplus || !house || !pv || !amps)
		goto fail;
	/* The connectors seen in the ring, by number: the same list whatever @since, so a page can append. */
	for (int i = 0; i < GW_STATUS_CONNECTORS_MAX; i++) {
		int k = n_series;

		if (!h->series[i].used || !h->n || h->series[i].last_seq + h->n < h->seq)
			continue;
		while (k > 0 && h->series[order[k - 1]].connector > h->series[i].connector) {
			order[k] = order[k - 1];
			k--;
		}
		order[k] = i;
		n_series++;
	}
	for (int k = 0; k < n_series; k++) {
		series[k] = json_array();
		if (append(amps, series[k]) || append(conns, json_integer(h->series[order[k]].connector)))
			goto fail;
	}
	for (size_t i = from; i < h->n; i++) {
		const struct hist_sample *s = &h->ring[(h->head + i) % h->cap];

		if (s->t_ms <= since_ms)
			continue;
		if (append(t, seconds_json(s->t_ms)) || append(surplus, watts_json(s->surplus_w)) ||
		    append(house, watts_json(s->house_w)) || append(pv, watts_json(s->pv_w)))
			goto fail;
		for (int k = 0; k < n_series; k++)
			if (append(series[k], amps_json(s->amps[order[k]])))
				goto fail;
	}
	j = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "intervalS", seconds_json((int64_t)h->interval_ms), "connectors",
		      conns, "t", t, "surplusW", surplus, "houseW", house, "pvW", pv, "amps", amps);
	return j; /* json_pack took the arrays, or released them on failure */
fail:
	json_decref(conns);
	json_decref(t);
	json_decref(surplus);
	json_decref(house);
	json_decref(pv);
	json_decref(amps);
	return NULL;
}

json_t *gw_history_json(const struct gw_history *h, int64_t since_s)
{
	int64_t since_ms = INT64_MIN;

	if (since_s > 0)
		since_ms = since_s > INT64_MAX / 1000 ? INT64_MAX : since_s * 1000;
	return history_json(h, 0, since_ms);
}

json_t *gw_history_last_json(const struct gw_history *h)
{
	return history_json(h, h->n ? h->n - 1 : 0, INT64_MIN);
}
