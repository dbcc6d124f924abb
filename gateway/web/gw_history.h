/*
 * gw_history: the last hours for the status page's chart, in memory only, in a ring of fixed size
 * (no allocation after gw_history_new): one sample per interval of gateway time holding the solar
 * surplus, the house, the PV and each connector's measured current. Old samples fall off the end.
 * Pure: time comes in with the status.
 */
#ifndef GW_HISTORY_H
#define GW_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gw_status.h"

struct gw_history;

/* @capacity samples (> 0), one every @interval_ms of gateway time (> 0). NULL on allocation failure. */
struct gw_history *gw_history_new(size_t capacity, uint64_t interval_ms);
void gw_history_free(struct gw_history *h); /* NULL is a no-op */

/* Offer a status; a sample is taken when @st->sim_ms has reached the next interval (the values are
 * those of this status). Return 1 if a sample was added, else 0. */
int gw_history_offer(struct gw_history *h, const struct gw_status *st);

/*
 * GET /api/v1/history: {"intervalS": n, "connectors": [1, 2], "t": [epoch s...], "surplusW": [...],
 * "houseW": [...], "pvW": [...], "amps": [[...per connector...]]}, oldest first, samples after
 * @since_s (epoch seconds; 0 = all). Unknown values are null. New reference; NULL on allocation failure.
 */
json_t *gw_history_json(const struct gw_history *h, int64_t since_s);

/* The newest sample alone, in the same shape (arrays of one): what a live page appends. */
json_t *gw_history_last_json(const struct gw_history *h);

size_t gw_history_count(const struct gw_history *h);

#endif
