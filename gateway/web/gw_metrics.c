/*
 * gw_metrics: the status snapshot as Prometheus text (exposition format 0.0.4) for GET /metrics. Each
 * family is written whole (HELP, TYPE, then its samples, every charge point's of a depot together) and
 * only when it has a sample, so a value the
 * gateway does not know (NAN, no operator maximum, OCPP off) is left out rather than exported as a
 * made-up 0 that a dashboard or an alert would believe. Every name is listed in docs/metrics.md.
 */
#include "gw_metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The policy modes a dashboard can expect a series for, whichever is in force. */
static const char *const policy_modes[] = { "off", "charge-now", "scheduled", "track-green" };

/* The text being built, and the family whose header is due before its first sample. */
struct out {
	char *p;
	size_t len, cap;
	bool oom;
	const char *cp; /* charge_point label value, "" none */
	size_t cp_len;
	const char *name, *type, *help;
	bool header_done;
};

static void put_mem(struct out *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		char *p;

		while (o->len + n + 1 > cap)
			cap *= 2;
		p = realloc(o->p, cap);
		if (!p) {
			o->oom = true;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void put_str(struct out *o, const char *s)
{
	put_mem(o, s, strlen(s));
}

/* A label value, escaped as the format wants (backslash, double quote, line feed); @max bounds a
 * fixed-size field of the status that might lack its NUL. */
static void put_label_value(struct out *o, const char *s, size_t max)
{
	size_t n = strnlen(s, max), from = 0;

	for (size_t i = 0; i < n; i++) {
		const char *esc = s[i] == '\\' ? "\\\\" : s[i] == '"' ? "\\\"" : s[i] == '\n' ? "\\n" : NULL;

		if (!esc)
			continue;
		put_mem(o, s + from, i - from);
		put_str(o, esc);
		from = i + 1;
	}
	put_mem(o, s + from, n - from);
}

/*
 * A double as Prometheus parses it back exactly: whole numbers without an exponent or a fraction
 * (what people read in a scrape), others in the shortest of %.15g / %.17g that round-trips.
 * Callers have left NAN out already.
 */
static void format_double(double v, char *buf, size_t n)
{
	if (isinf(v)) {
		snprintf(buf, n, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == 0) {
		snprintf(buf, n, "0"); /* -0 too */
		return;
	}
	if (fabs(v) < 9e15 && v == trunc(v)) {
		snprintf(buf, n, "%" PRId64, (int64_t)v);
		return;
	}
	snprintf(buf, n, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, n, "%.17g", v);
}

/* Start a family; its # HELP and # TYPE are written with its first sample. */
static void family(struct out *o, const char *name, const char *type, const char *help)
{
	o->name = name;
	o->type = type;
	o->help = help;
	o->header_done = false;
}

/* Up to two labels besides charge_point; a NULL key ends the list. */
struct labels {
	const char *k1, *v1;
	size_t max1;
	const char *k2, *v2;
	size_t max2;
};

static void put_label(struct out *o, bool *first, const char *k, const char *v, size_t max)
{
	put_str(o, *first ? "{" : ",");
	*first = false;
	put_str(o, k);
	put_str(o, "=\"");
	put_label_value(o, v, max);
	put_str(o, "\"");
}

/* One sample line of the current family: name@suffix{labels} value. */
static void sample_text(struct out *o, const char *suffix, const struct labels *l, const char *value)
{
	bool first = true;

	if (!o->header_done) {
		put_str(o, "# HELP ");
		put_str(o, o->name);
		put_str(o, " ");
		put_str(o, o->help);
		put_str(o, "\n# TYPE ");
		put_str(o, o->name);
		put_str(o, " ");
		put_str(o, o->type);
		put_str(o, "\n");
		o->header_done = true;
	}
	put_str(o, o->name);
	put_str(o, suffix);
	if (o->cp_len)
		put_label(o, &first, "charge_point", o->cp, o->cp_len);
	if (l && l->k1)
		put_label(o, &first, l->k1, l->v1, l->max1);
	if (l && l->k2)
		put_label(o, &first, l->k2, l->v2, l->max2);
	if (!first)
		put_str(o, "}");
	put_str(o, " ");
	put_str(o, value);
	put_str(o, "\n");
}

static void sample_d(struct out *o, const struct labels *l, double v)
{
	char buf[40];

	if (isnan(v))
		return;
	format_double(v, buf, sizeof(buf));
	sample_text(o, "", l, buf);
}

/* Counters as integers: a double would lose counts past 2^53. */
static void sample_u(struct out *o, const char *suffix, const struct labels *l, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	sample_text(o, suffix, l, buf);
}

/* Every charge point of the status: the first one and its n_more others (a depot). */
struct cps {
	const struct gw_status *st[1 + GW_METRICS_CP_MAX];
	int n;
};

/* The charge_point label of the samples that follow: @st's, or none for the process-wide families. */
static void cp_label(struct out *o, const struct gw_status *st)
{
	o->cp = st ? st->charge_point : "";
	o->cp_len = st ? strnlen(st->charge_point, sizeof(st->charge_point)) : 0;
}

static void render_process(struct out *o, const struct gw_status *st)
{
	const struct labels version = { "version", TWCGW_VERSION, sizeof(TWCGW_VERSION), NULL, NULL, 0 };

	family(o, "twcgw_build_info", "gauge", "The twcgw version running (always 1).");
	sample_d(o, &version, 1);
	family(o, "twcgw_start_time_seconds", "gauge", "When twcgw started, seconds since the Unix epoch.");
	sample_d(o, NULL, (double)st->wall_ms / 1000.0 - (double)st->uptime_s);
	family(o, "twcgw_process_resident_memory_bytes", "gauge", "Resident memory of the twcgw process.");
	sample_d(o, NULL, st->process.rss_bytes);
	family(o, "twcgw_process_cpu_seconds_total", "counter", "CPU time twcgw has used, user and system.");
	sample_d(o, NULL, st->process.cpu_s);
}

/* The per-connector gauge families that are one number each, in the order they are rendered. */
enum conn_value {
	CV_OFFERED,
	CV_HELD,
	CV_MEASURED,
	CV_CAP,
	CV_MAX,
	CV_POWER,
	CV_ENERGY,
	CV_SESSION_ACTIVE,
	CV_SESSION_ENERGY,
	CV_SESSION_DURATION,
	CV_COUNT
};

static const struct {
	const char *name, *type, *help;
} conn_families[CV_COUNT] = {
	[CV_OFFERED] = { "twcgw_connector_offered_amperes", "gauge",
			 "Current the Wall Connector has been told it may let the car draw." },
	[CV_HELD] = { "twcgw_connector_held_amperes", "gauge",
		      "Current the connector may be allowing now: what the wiring limit counts." },
	[CV_MEASURED] = { "twcgw_connector_measured_amperes", "gauge", "Current the car draws, as measured." },
	[CV_CAP] = { "twcgw_connector_cap_amperes", "gauge",
		     "Cap on the connector from the layer above (central system or policy)." },
	[CV_MAX] = { "twcgw_connector_max_amperes", "gauge",
		     "The operator's maximum for the connector (absent when none is set)." },
	[CV_POWER] = { "twcgw_connector_power_watts", "gauge", "Power delivered to the car." },
	[CV_ENERGY] = { "twcgw_connector_energy_joules_total", "counter",
			"The connector's lifetime energy register (absent while unknown)." },
	[CV_SESSION_ACTIVE] = { "twcgw_connector_session_active", "gauge",
				"1 while a charging session is in progress on the connector." },
	[CV_SESSION_ENERGY] = { "twcgw_connector_session_energy_joules", "gauge",
				"Energy of the session in progress (0 when none)." },
	[CV_SESSION_DURATION] = { "twcgw_connector_session_duration_seconds", "gauge",
				  "Duration of the session in progress (0 when none)." },
};

static double conn_value(const struct gw_status_connector *c, enum conn_value v)
{
	switch (v) {
	case CV_OFFERED:
		return c->offered_amps;
	case CV_HELD:
		return c->held_amps;
	case CV_MEASURED:
		return c->measured_amps;
	case CV_CAP:
		return c->cap_amps;
	case CV_MAX:
		return c->max_amps >= 0 ? c->max_amps : NAN;
	case CV_POWER:
		return c->power_w;
	case CV_ENERGY:
		return c->energy_wh * 3600;
	case CV_SESSION_ACTIVE:
		return c->in_session;
	case CV_SESSION_ENERGY:
		return c->in_session ? c->session_wh * 3600 : 0;
	case CV_SESSION_DURATION:
		return c->in_session ? (double)c->session_s : 0;
	default:
		return NAN;
	}
}

static int n_connectors(const struct gw_status *st)
{
	return st->n_connectors < 0 ? 0 : st->n_connectors > GW_STATUS_CONNECTORS_MAX ? GW_STATUS_CONNECTORS_MAX
										      : st->n_connectors;
}

/* Each family holds every charge point's connectors (Prometheus wants a family's samples together). */
static void render_connectors(struct out *o, const struct cps *cps)
{
	family(o, "twcgw_connector_info", "gauge", "The Wall Connector (TWC ID) serving each connector (always 1).");
	for (int k = 0; k < cps->n; k++) {
		const struct gw_status *st = cps->st[k];

		cp_label(o, st);
		for (int i = 0; i < n_connectors(st); i++) {
			char n[12];
			const struct labels l = { "connector", n, sizeof(n), "twc", st->c[i].twc, sizeof(st->c[i].twc) };

			snprintf(n, sizeof(n), "%d", st->c[i].connector);
			sample_d(o, &l, 1);
		}
	}
	for (int v = 0; v < CV_COUNT; v++) {
		family(o, conn_families[v].name, conn_families[v].type, conn_families[v].help);
		for (int k = 0; k < cps->n; k++) {
			const struct gw_status *st = cps->st[k];

			cp_label(o, st);
			for (int i = 0; i < n_connectors(st); i++) {
				char n[12];
				const struct labels l = { "connector", n, sizeof(n), NULL, NULL, 0 };

				snprintf(n, sizeof(n), "%d", st->c[i].connector);
				sample_d(o, &l, conn_value(&st->c[i], (enum conn_value)v));
			}
		}
	}
	family(o, "twcgw_connector_state", "gauge",
	       "What the connector is doing: 1 for the current state, 0 for the others.");
	for (int k = 0; k < cps->n; k++) {
		const struct gw_status *st = cps->st[k];

		cp_label(o, st);
		for (int i = 0; i < n_connectors(st); i++) {
			/* Out of range is a bug upstream; the JSON calls it an error too. */
			unsigned cur = st->c[i].state < GW_STATE_COUNT ? (unsigned)st->c[i].state : GW_STATE_ERROR;
			char n[12];

			snprintf(n, sizeof(n), "%d", st->c[i].connector);
			for (unsigned s = 0; s < GW_STATE_COUNT; s++) {
				const struct labels l = { "connector", n, sizeof(n), "state", gw_status_state_names[s],
							  strlen(gw_status_state_names[s]) };

				sample_d(o, &l, cur == s);
			}
		}
	}
	family(o, "twcgw_connector_sessions_total", "counter", "Charging sessions started since twcgw started.");
	for (int k = 0; k < cps->n; k++) {
		const struct gw_status *st = cps->st[k];

		cp_label(o, st);
		for (int i = 0; i < n_connectors(st); i++) {
			char n[12];
			const struct labels l = { "connector", n, sizeof(n), NULL, NULL, 0 };

			snprintf(n, sizeof(n), "%d", st->c[i].connector);
			sample_u(o, "", &l, st->c[i].sessions);
		}
	}
}

/* The bus families, one sample per charge point each: a gauge (double) or a counter (integer). */
enum bus_value {
	BV_WIRING,
	BV_WIRING_PER_TWC,
	BV_HELD,
	BV_OFFERED,
	BV_RESERVED,
	BV_MEASURED,
	BV_SLAVES,
	BV_LINK_UP,
	BV_FRAMES_RX,
	BV_FRAMES_TX,
	BV_FRAME_ERRORS,
	BV_HEARTBEAT_GAP,
	BV_COUNT
};

static const struct {
	const char *name, *type, *help;
} bus_families[BV_COUNT] = {
	[BV_WIRING] = { "twcgw_bus_wiring_max_amperes", "gauge", "Wiring limit for all Wall Connectors on the bus together." },
	[BV_WIRING_PER_TWC] = { "twcgw_bus_wiring_max_per_twc_amperes", "gauge", "Wiring limit for each Wall Connector." },
	[BV_HELD] = { "twcgw_bus_held_amperes", "gauge", "Sum of what the Wall Connectors may be allowing now." },
	[BV_OFFERED] = { "twcgw_bus_offered_amperes", "gauge", "Sum of what the Wall Connectors have been offered." },
	[BV_RESERVED] = { "twcgw_bus_reserved_amperes", "gauge", "Current reserved for Wall Connectors about to start." },
	[BV_MEASURED] = { "twcgw_bus_measured_amperes", "gauge", "Sum of the currents the cars draw, as measured." },
	[BV_SLAVES] = { "twcgw_bus_slaves", "gauge", "Wall Connectors heard on the bus." },
	[BV_LINK_UP] = { "twcgw_bus_link_up", "gauge", "1 while the RS-485 port is open and working." },
	[BV_FRAMES_RX] = { "twcgw_bus_frames_received_total", "counter", "Good frames received on the bus." },
	[BV_FRAMES_TX] = { "twcgw_bus_frames_sent_total", "counter", "Frames sent on the bus." },
	[BV_FRAME_ERRORS] = { "twcgw_bus_frame_errors_total", "counter",
			      "Bad frames received (checksum, length, garbage between frames)." },
	[BV_HEARTBEAT_GAP] = { "twcgw_bus_heartbeat_gap_seconds", "gauge",
			       "The longest time any Wall Connector has gone without hearing twcgw, now." },
};

static void bus_sample(struct out *o, const struct gw_status *st, enum bus_value v)
{
	switch (v) {
	case BV_WIRING:
		sample_d(o, NULL, st->bus.wiring_max_all);
		break;
	case BV_WIRING_PER_TWC:
		sample_d(o, NULL, st->bus.wiring_max_per_twc);
		break;
	case BV_HELD:
		sample_d(o, NULL, st->bus.held_amps);
		break;
	case BV_OFFERED:
		sample_d(o, NULL, st->bus.offered_amps);
		break;
	case BV_RESERVED:
		sample_d(o, NULL, st->bus.reserved_amps);
		break;
	case BV_MEASURED:
		sample_d(o, NULL, st->bus.measured_amps);
		break;
	case BV_SLAVES:
		sample_d(o, NULL, st->bus.slaves);
		break;
	case BV_LINK_UP:
		sample_d(o, NULL, st->bus.link_up);
		break;
	case BV_FRAMES_RX:
		sample_u(o, "", NULL, st->bus.frames_rx);
		break;
	case BV_FRAMES_TX:
		sample_u(o, "", NULL, st->bus.frames_tx);
		break;
	case BV_FRAME_ERRORS:
		sample_u(o, "", NULL, st->bus.frame_errors);
		break;
	case BV_HEARTBEAT_GAP:
		sample_d(o, NULL, (double)st->bus.heartbeat_gap_ms / 1000.0);
		break;
	default:
		break;
	}
}

static void render_bus(struct out *o, const struct cps *cps)
{
	for (int v = 0; v < BV_COUNT; v++) {
		family(o, bus_families[v].name, bus_families[v].type, bus_families[v].help);
		for (int k = 0; k < cps->n; k++) {
			cp_label(o, cps->st[k]);
			bus_sample(o, cps->st[k], (enum bus_value)v);
		}
	}
}

enum ocpp_value { OV_CONNECTED, OV_REGISTERED, OV_PROFILE, OV_QUEUED_TX, OV_QUEUED_OTHER, OV_COUNT };

static const struct {
	const char *name, *help;
} ocpp_families[OV_COUNT] = {
	[OV_CONNECTED] = { "twcgw_ocpp_connected", "1 while the websocket to the central system is open." },
	[OV_REGISTERED] = { "twcgw_ocpp_registered", "1 when the central system accepted the last BootNotification." },
	[OV_PROFILE] = { "twcgw_ocpp_security_profile", "OCPP security profile in use (0 to 3)." },
	[OV_QUEUED_TX] = { "twcgw_ocpp_queued_transaction_messages",
			   "Transaction messages waiting to be delivered to the central system." },
	[OV_QUEUED_OTHER] = { "twcgw_ocpp_queued_other_messages", "Other messages waiting to be sent to the central system." },
};

static double ocpp_value(const struct gw_status *st, enum ocpp_value v)
{
	switch (v) {
	case OV_CONNECTED:
		return st->ocpp.connected;
	case OV_REGISTERED:
		return strncmp(st->ocpp.registration, "Accepted", sizeof(st->ocpp.registration)) == 0;
	case OV_PROFILE:
		return st->ocpp.security_profile;
	case OV_QUEUED_TX:
		return st->ocpp.queued_tx;
	case OV_QUEUED_OTHER:
		return st->ocpp.queued_other;
	default:
		return NAN;
	}
}

/* The charge points with OCPP on (a family with none of them is left out whole). */
static void render_ocpp(struct out *o, const struct cps *cps)
{
	char le[40];

	for (int v = 0; v < OV_COUNT; v++) {
		family(o, ocpp_families[v].name, "gauge", ocpp_families[v].help);
		for (int k = 0; k < cps->n; k++) {
			if (!cps->st[k]->ocpp.enabled)
				continue;
			cp_label(o, cps->st[k]);
			sample_d(o, NULL, ocpp_value(cps->st[k], (enum ocpp_value)v));
		}
	}

	/* The buckets are cumulative in the status already (gw_status.h); +Inf is every call. Each charge
	 * point's series is whole (buckets, _sum, _count) before the next one's. */
	family(o, "twcgw_ocpp_call_duration_seconds", "histogram",
	       "Time from sending a CALL to the central system to its CALLRESULT.");
	for (int k = 0; k < cps->n; k++) {
		const struct gw_status *st = cps->st[k];
		const struct labels inf = { "le", "+Inf", 5, NULL, NULL, 0 };
		char sum[40];

		if (!st->ocpp.enabled)
			continue;
		cp_label(o, st);
		for (int i = 0; i < GW_STATUS_LATENCY_BUCKETS; i++) {
			const struct labels l = { "le", le, sizeof(le), NULL, NULL, 0 };

			format_double(gw_status_latency_bounds[i], le, sizeof(le));
			sample_u(o, "_bucket", &l, st->ocpp.latency_buckets[i]);
		}
		sample_u(o, "_bucket", &inf, st->ocpp.latency_count);
		format_double(isfinite(st->ocpp.latency_sum_s) ? st->ocpp.latency_sum_s : 0, sum, sizeof(sum));
		sample_text(o, "_sum", NULL, sum);
		sample_u(o, "_count", NULL, st->ocpp.latency_count);
	}
}

static void render_policy_mode(struct out *o, const struct gw_status *st)
{
	const char *mode = st->policy.mode;
	bool known = false;

	for (size_t i = 0; i < sizeof(policy_modes) / sizeof(policy_modes[0]); i++) {
		bool on = strncmp(mode, policy_modes[i], sizeof(st->policy.mode)) == 0;
		const struct labels l = { "mode", policy_modes[i], strlen(policy_modes[i]), NULL, NULL, 0 };

		known |= on;
		sample_d(o, &l, on);
	}
	if (!known && mode[0]) { /* a mode newer than this list still shows which is on */
		const struct labels l = { "mode", mode, sizeof(st->policy.mode), NULL, NULL, 0 };

		sample_d(o, &l, 1);
	}
}

enum policy_value { PV_SURPLUS, PV_HOUSE, PV_PV, PV_GRID, PV_COUNT };

static const struct {
	const char *name, *help;
} policy_families[PV_COUNT] = {
	[PV_SURPLUS] = { "twcgw_policy_surplus_watts", "Solar surplus the policy sees (absent while unknown)." },
	[PV_HOUSE] = { "twcgw_policy_house_watts", "House consumption without the chargers (absent while unknown)." },
	[PV_PV] = { "twcgw_policy_pv_watts", "Solar production (absent while unknown)." },
	[PV_GRID] = { "twcgw_policy_grid_watts", "Grid power, positive when importing (absent while unknown)." },
};

static double policy_value(const struct gw_status *st, enum policy_value v)
{
	return v == PV_SURPLUS ? st->policy.surplus_w : v == PV_HOUSE ? st->policy.house_w : v == PV_PV ? st->policy.pv_w
												    : st->policy.grid_w;
}

static void render_policy(struct out *o, const struct cps *cps)
{
	family(o, "twcgw_policy_allowed_amperes", "gauge", "Current the charging policy allows the bus now.");
	for (int k = 0; k < cps->n; k++) {
		cp_label(o, cps->st[k]);
		sample_d(o, NULL, cps->st[k]->policy.amps);
	}
	family(o, "twcgw_policy_mode", "gauge", "The charging policy in force: 1 for the current mode, 0 for the others.");
	for (int k = 0; k < cps->n; k++) {
		cp_label(o, cps->st[k]);
		render_policy_mode(o, cps->st[k]);
	}
	for (int v = 0; v < PV_COUNT; v++) {
		family(o, policy_families[v].name, "gauge", policy_families[v].help);
		for (int k = 0; k < cps->n; k++) {
			cp_label(o, cps->st[k]);
			sample_d(o, NULL, policy_value(cps->st[k], (enum policy_value)v));
		}
	}
}

static void render_meters(struct out *o, const struct gw_status *st)
{
	int n = st->n_meters < 0 ? 0 : st->n_meters > GW_STATUS_METERS_MAX ? GW_STATUS_METERS_MAX : st->n_meters;

	family(o, "twcgw_meter_age_seconds", "gauge", "Time since the meter's last good reading (absent if never read).");
	for (int i = 0; i < n; i++) {
		const struct labels l = { "meter", st->meters[i].name, sizeof(st->meters[i].name), NULL, NULL, 0 };

		sample_d(o, &l, st->meters[i].age_s);
	}
	family(o, "twcgw_meter_ok", "gauge", "1 while the meter's last reading is within its maxAge.");
	for (int i = 0; i < n; i++) {
		const struct labels l = { "meter", st->meters[i].name, sizeof(st->meters[i].name), NULL, NULL, 0 };

		sample_d(o, &l, st->meters[i].ok);
	}
	family(o, "twcgw_meter_power_watts", "gauge",
	       "What the meter measured last; grid meters positive when importing (absent while unknown).");
	for (int i = 0; i < n; i++) {
		const struct labels l = { "meter", st->meters[i].name, sizeof(st->meters[i].name), NULL, NULL, 0 };

		sample_d(o, &l, st->meters[i].value_w);
	}
}

static void render_http(struct out *o, const struct gw_httpd_stats *http)
{
	const struct labels too_large = { "code", "413", 4, NULL, NULL, 0 };
	const struct labels rate_limited = { "code", "429", 4, NULL, NULL, 0 };

	if (!http)
		return;
	family(o, "twcgw_http_requests_total", "counter", "HTTP requests answered by the API, the page and /metrics.");
	sample_u(o, "", NULL, http->requests);
	family(o, "twcgw_http_rejected_requests_total", "counter",
	       "HTTP requests refused before reading: 413 too large, 429 too frequent.");
	sample_u(o, "", &too_large, http->too_large);
	sample_u(o, "", &rate_limited, http->rate_limited);
	family(o, "twcgw_http_sent_bytes_total", "counter", "HTTP response bytes sent, headers included.");
	sample_u(o, "", NULL, http->bytes_out);
	family(o, "twcgw_http_event_streams", "gauge", "Live pages connected to the event stream now.");
	sample_d(o, NULL, http->streams);
}

int gw_metrics_render(const struct gw_status *st, const struct gw_httpd_stats *http, char **out, size_t *len)
{
	struct out o = { 0 };
	struct cps cps = { .st = { st }, .n = 1 };
	/* One charge point: every sample carries its label, as before depots. Several: the process, the
	 * site's meters and the HTTP server belong to none of them and carry none. */
	const struct gw_status *whole = st->n_more > 0 ? NULL : st;

	for (int i = 0; st->more && i < st->n_more && cps.n < 1 + GW_METRICS_CP_MAX; i++)
		cps.st[cps.n++] = &st->more[i];
	cp_label(&o, whole);
	render_process(&o, st);
	render_connectors(&o, &cps);
	render_bus(&o, &cps);
	render_ocpp(&o, &cps);
	render_policy(&o, &cps);
	cp_label(&o, whole);
	render_meters(&o, st);
	render_http(&o, http);
	if (o.oom || !o.p) {
		free(o.p);
		*out = NULL;
		*len = 0;
		return -ENOMEM;
	}
	*out = o.p;
	*len = o.len;
	return 0;
}
