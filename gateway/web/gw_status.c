/*
 * gw_status: the status snapshot as the JSON of GET /api/v1/status (docs/api.md), and the names and
 * bounds every renderer of the snapshot shares. Unknown numbers (NAN) become null rather than a made-up
 * zero, so a page never shows a meter that was never read as "0 W".
 */
#include "gw_status.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const double gw_status_latency_bounds[GW_STATUS_LATENCY_BUCKETS] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };

const char *const gw_status_state_names[GW_STATE_COUNT] = {
	"idle", "plugged", "charging", "paused", "error", "unavailable",
};

static json_t *num_or_null(double v)
{
	return isfinite(v) ? json_real(round(v * 10) / 10) : json_null();
}

/* Whole watts and watt-hours: what a page shows and what survives a JSON round trip exactly. */
static json_t *int_or_null(double v)
{
	return isfinite(v) && fabs(v) < 9e15 ? json_integer((json_int_t)llround(v)) : json_null();
}

static json_t *str_or_null(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

static void iso_time(int64_t ms, char *out, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, n, "%s", "1970-01-01T00:00:00Z");
}

static json_t *connector_json(const struct gw_status_connector *c)
{
	json_t *j, *session = json_null(), *vehicle;

	if (c->in_session)
		session = json_pack("{s:o,s:I,s:o}", "energyWh", int_or_null(c->session_wh), "durationS",
				    (json_int_t)c->session_s, "transactionId",
				    c->transaction_id ? json_integer(c->transaction_id) : json_null());
	vehicle = json_pack("{s:o,s:s}", "reachable",
			    c->vehicle < 0 ? json_null() : json_boolean(c->vehicle > 0), "detail", c->vehicle_detail);
	j = json_pack("{s:i,s:s,s:s,s:i,s:i,s:i,s:o,s:o,s:o,s:o,s:o,s:I,s:s,s:o}", "connector", c->connector, "twc",
		      c->twc, "state", gw_status_state_names[c->state < GW_STATE_COUNT ? c->state : GW_STATE_ERROR],
		      "offeredAmps", c->offered_amps, "heldAmps", c->held_amps, "capAmps", c->cap_amps, "maxAmps",
		      c->max_amps >= 0 ? json_integer(c->max_amps) : json_null(), "measuredAmps",
		      num_or_null(c->measured_amps), "powerW", int_or_null(c->power_w), "energyWh",
		      int_or_null(c->energy_wh), "session", session ? session : json_null(), "sessions",
		      (json_int_t)c->sessions, "vin", c->vin, "vehicle", vehicle ? vehicle : json_null());
	return j;
}

static json_t *bus_json(const struct gw_status *st)
{
	return json_pack("{s:s,s:i,s:i,s:i,s:i,s:i,s:o,s:i,s:b,s:I,s:I,s:I,s:I}", "port", st->bus.port,
			 "wiringMaxAmpsAllTWCs", st->bus.wiring_max_all, "wiringMaxAmpsPerTWC",
			 st->bus.wiring_max_per_twc, "heldAmps", st->bus.held_amps, "offeredAmps",
			 st->bus.offered_amps, "reservedAmps", st->bus.reserved_amps, "measuredAmps",
			 num_or_null(st->bus.measured_amps), "slaves", st->bus.slaves, "linkUp", st->bus.link_up,
			 "framesIn", (json_int_t)st->bus.frames_rx, "framesOut", (json_int_t)st->bus.frames_tx,
			 "frameErrors", (json_int_t)st->bus.frame_errors, "heartbeatGapMs",
			 (json_int_t)st->bus.heartbeat_gap_ms);
}

static json_t *ocpp_json(const struct gw_status *st)
{
	if (!st->ocpp.enabled)
		return json_null();
	return json_pack("{s:s,s:b,s:s,s:i,s:I,s:I}", "url", st->ocpp.url, "connected", st->ocpp.connected,
			 "registration", st->ocpp.registration, "securityProfile", st->ocpp.security_profile,
			 "queuedTransactionMessages", (json_int_t)st->ocpp.queued_tx, "queuedOtherMessages",
			 (json_int_t)st->ocpp.queued_other);
}

static json_t *policy_json(const struct gw_status *st)
{
	return json_pack("{s:s,s:s,s:i,s:s,s:o,s:o,s:o,s:o,s:o,s:o}", "mode", st->policy.mode, "source",
			 st->policy.source, "amps", st->policy.amps, "reason", st->policy.reason, "surplusW",
			 int_or_null(st->policy.surplus_w), "houseW", int_or_null(st->policy.house_w), "pvW",
			 int_or_null(st->policy.pv_w), "gridW", int_or_null(st->policy.grid_w), "until",
			 str_or_null(st->policy.until), "then", str_or_null(st->policy.then));
}

static json_t *connectors_json(const struct gw_status *st)
{
	json_t *conns = json_array();

	for (int i = 0; conns && i < st->n_connectors && i < GW_STATUS_CONNECTORS_MAX; i++) {
		if (json_array_append_new(conns, connector_json(&st->c[i]))) {
			json_decref(conns);
			return NULL;
		}
	}
	return conns;
}

/* One charge point of the "chargePoints" array. */
static json_t *charge_point_json(const struct gw_status *st)
{
	return json_pack("{s:o,s:o,s:o,s:o,s:o}", "chargePoint", str_or_null(st->charge_point), "bus", bus_json(st),
			 "connectors", connectors_json(st), "ocpp", ocpp_json(st), "policy", policy_json(st));
}

json_t *gw_status_json(const struct gw_status *st)
{
	json_t *j, *conns = connectors_json(st), *meters = json_array(), *cps = json_array();
	char when[32];

	if (!conns || !meters || !cps)
		goto fail;
	for (int i = -1; i < st->n_more; i++)
		if (json_array_append_new(cps, charge_point_json(i < 0 ? st : &st->more[i])))
			goto fail;
	for (int i = 0; i < st->n_meters && i < GW_STATUS_METERS_MAX; i++) {
		const struct gw_status_meter *m = &st->meters[i];

		if (json_array_append_new(meters, json_pack("{s:s,s:s,s:o,s:b,s:o}", "name", m->name, "type", m->type,
							    "ageS", num_or_null(m->age_s), "ok", m->ok, "valueW",
							    int_or_null(m->value_w))))
			goto fail;
	}
	iso_time(st->wall_ms, when, sizeof(when));
	j = json_pack("{s:s,s:s,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:{s:I,s:f}}", "version", TWCGW_VERSION, "time", when,
		      "uptimeS", (json_int_t)st->uptime_s, "chargePoint", str_or_null(st->charge_point), "bus",
		      bus_json(st), "connectors", conns, "ocpp", ocpp_json(st), "policy", policy_json(st), "meters",
		      meters, "process", "rssBytes", (json_int_t)st->process.rss_bytes, "cpuSeconds",
		      round(st->process.cpu_s * 100) / 100);
	if (!j || json_object_set_new(j, "chargePoints", cps)) {
		if (!j)
			json_decref(cps);
		json_decref(j);
		return NULL;
	}
	return j;
fail:
	json_decref(conns);
	json_decref(meters);
	json_decref(cps);
	return NULL;
}

void gw_status_clear(struct gw_status *st)
{
	json_decref(st->policy.settings);
	st->policy.settings = NULL;
	for (int i = 0; i < st->n_more; i++)
		gw_status_clear(&st->more[i]);
	free(st->more);
	st->more = NULL;
	st->n_more = 0;
}
