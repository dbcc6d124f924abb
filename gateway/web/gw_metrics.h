/*
 * gw_metrics: GET /metrics, the status in the Prometheus text exposition format 0.0.4. Names start
 * with twcgw_ and follow the Prometheus conventions (base units: amperes, watts, joules, seconds,
 * bytes; counters end in _total), per-connector samples carry connector="N" (and charge_point="ID" when
 * the status names one). A depot (gw_status.more): the connector, bus, ocpp and policy families hold a
 * sample set per charge point, each with its charge_point label; the process, meter and HTTP families
 * then carry none. Every name and unit: docs/metrics.md. Pure: it renders a gw_status.
 */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stddef.h>

#include "gw_httpd.h"
#include "gw_status.h"

/* Charge points rendered besides the first (gw_status.more beyond it is left out). */
#define GW_METRICS_CP_MAX 64

/* The content type /metrics is served with. */
#define GW_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Render @st (and the HTTP server's own counters, @http may be NULL) into a malloc'ed text, *@len
 * bytes (NUL-terminated too). Return 0 or -ENOMEM. */
int gw_metrics_render(const struct gw_status *st, const struct gw_httpd_stats *http, char **out, size_t *len);

#endif
