/*
 * ocpp_cp_meter: metering. Each connector's energy register (integrated from the car's draw and
 * held up by the TWC's own lifetime counter, which is believed only when plausible), MeterValue
 * readings, the periodic samples of a running transaction, and clock-aligned readings stamped with
 * the boundary they belong to.
 */
#include "ocpp_cp_internal.h"

#include <math.h>
#include <stdio.h>

/* The lifetime counter counts whole kWh, and real units have sent absurd values (10,690,796 kWh) in
 * one reply. A reading is believed when it leads the last believed one by no more than the TWC could
 * deliver in between: the wiring's amps per TWC x nominal volts x phases, +10 % (mains above
 * nominal), over the time since that reading was last seen, plus two counter steps (the last reading
 * may have stood at X.999 kWh, and one spare). Anything else never moves the register. */
#define LIFE_STEP_WH 1000.0
#define LIFE_SLACK_WH 2000.0
#define POWER_MARGIN 1.1
/* Measurands other than energy are bounded too, so a value from a confused TWC stays a number. */
#define METER_VALUE_MAX 1e9

static double rated_w(const struct ocpp_cp *cp)
{
	return (double)cp->max_amps * (double)cp->voltage * (double)cp->phases * POWER_MARGIN;
}

/* The most a TWC can add to its counter in @ms, in Wh, with the counter's rounding. */
static double deliverable_wh(const struct ocpp_cp *cp, uint64_t ms)
{
	return rated_w(cp) * (double)ms / 3.6e6 + LIFE_SLACK_WH;
}

/* Raise the register to @wh (never lower it), within [0, OCPP_ENERGY_MAX_WH]. */
static void register_raise(struct ocpp_conn *k, double wh)
{
	if (!(k->energy_wh >= 0))
		k->energy_wh = 0;
	if (wh > k->energy_wh)
		k->energy_wh = wh;
	if (k->energy_wh > OCPP_ENERGY_MAX_WH)
		k->energy_wh = OCPP_ENERGY_MAX_WH;
}

static void life_accept(struct ocpp_conn *k, uint64_t wh, uint64_t now)
{
	k->life.valid = true;
	k->life.wh = wh;
	k->life.ms = now;
	k->life.bad = false;
}

/* Start counting from reading @wh: the counter's rise from here adds to the register as it is now. */
static void life_anchor(struct ocpp_conn *k, uint64_t wh, uint64_t now)
{
	k->life_ref_valid = true;
	k->life_ref_wh = wh;
	k->energy_ref_wh = k->energy_wh;
	life_accept(k, wh, now);
}

/* The register may not fall below what the counter proves since the anchor, less one step. */
static double life_floor(const struct ocpp_conn *k, uint64_t wh)
{
	if (wh < k->life_ref_wh)
		return 0;
	return k->energy_ref_wh + (double)(wh - k->life_ref_wh) - LIFE_STEP_WH;
}

static unsigned long long kwh(uint64_t wh)
{
	return (unsigned long long)(wh / 1000u);
}

/* One lifetime reading @wh for connector @k. */
static void life_reading(struct ocpp_cp *cp, struct ocpp_conn *k, uint64_t wh, uint64_t now)
{
	int c = (int)(k - cp->conn);
	uint64_t dt;

	if (!k->life_ref_valid) {
		life_anchor(k, wh, now);
		return;
	}
	if (wh < (k->life.valid ? k->life.wh : k->life_ref_wh)) {
		/* A counter never goes back: this is another TWC, or it was reset. */
		cp->stats.lifetime_rejected++;
		ocpp_cp_log(cp, CORE_LOG_WARN,
			    "connector %d: TWC energy counter went back from %llu to %llu kWh; counting from there", c,
			    kwh(k->life.valid ? k->life.wh : k->life_ref_wh), kwh(wh));
		life_anchor(k, wh, now);
		return;
	}
	if (!k->life.valid) {
		/* The first reading since start: the anchor came from the connectors file, and the time of
		 * the last reading is unknown. The register already holds what was integrated: the counter
		 * may add its rounding to that, no more. */
		double floor_wh = life_floor(k, wh);

		if (floor_wh - k->energy_wh > LIFE_SLACK_WH) {
			cp->stats.lifetime_rejected++;
			ocpp_cp_log(cp, CORE_LOG_WARN,
				    "connector %d: TWC energy counter reads %llu kWh, %.0f kWh more than the register "
				    "knows; counting from there",
				    c, kwh(wh), (floor_wh - k->energy_wh) / 1000.0);
			life_anchor(k, wh, now);
			return;
		}
		register_raise(k, floor_wh);
		life_accept(k, wh, now);
		return;
	}
	if (k->life.bad && wh == k->life.bad_wh) {
		/* The same reply again (the bus repeats the last one): nothing new, and a value that was
		 * implausible when it came does not become plausible by being repeated. */
		k->life.bad_ms = now;
		return;
	}
	if (k->life.bad && wh > k->life.bad_wh &&
	    (double)(wh - k->life.bad_wh) <= deliverable_wh(cp, now > k->life.bad_ms ? now - k->life.bad_ms : 0)) {
		/* The counter moves on from the value it jumped to: it really is there now (even if this
		 * value alone would pass, the jump before it did not). */
		ocpp_cp_log(cp, CORE_LOG_INFO, "connector %d: TWC energy counter goes on from %llu kWh; counting from there",
			    c, kwh(wh));
		life_anchor(k, wh, now);
		return;
	}
	dt = now > k->life.ms ? now - k->life.ms : 0;
	if ((double)(wh - k->life.wh) <= deliverable_wh(cp, dt)) {
		if (k->life.bad)
			ocpp_cp_log(cp, CORE_LOG_INFO, "connector %d: TWC energy counter plausible again (%llu kWh)", c,
				    kwh(wh));
		register_raise(k, life_floor(k, wh));
		life_accept(k, wh, now);
		return;
	}
	cp->stats.lifetime_rejected++;
	if (!k->life.bad)
		ocpp_cp_log(cp, CORE_LOG_WARN,
			    "connector %d: TWC energy counter reads %llu kWh, %llu kWh more than %llu s before (at most "
			    "%.0f kWh possible); ignored",
			    c, kwh(wh), kwh(wh - k->life.wh), (unsigned long long)(dt / 1000u),
			    deliverable_wh(cp, dt) / 1000.0);
	k->life.bad = true;
	k->life.bad_wh = wh;
	k->life.bad_ms = now;
}

/* Energy: integrate what the car drew since the last update (at most the TWC's rated power), then
 * never fall below what the TWC's own lifetime counter (whole kWh) proves was delivered. */
void ocpp_cp_energy_integrate(struct ocpp_cp *cp, struct ocpp_conn *k, const struct ocpp_evse *st, uint64_t now)
{
	double before = k->energy_wh;
	uint64_t ref_before = k->life_ref_wh;

	register_raise(k, 0);
	if (k->seen && now > k->energy_mono && k->ev.present && k->ev.amps > 0) {
		double volts = k->ev.volts > 0 ? k->ev.volts : cp->voltage;
		double watts = k->ev.amps * volts * cp->phases;

		if (watts > rated_w(cp))
			watts = rated_w(cp);
		register_raise(k, k->energy_wh + watts * (double)(now - k->energy_mono) / 3.6e6);
	}
	k->energy_mono = now;
	if (st->present && st->has_lifetime)
		life_reading(cp, k, st->lifetime_wh, now);
	/* Saved periodically once anything was saved in this run; until then a change would be lost
	 * at the next restart, and the register would go back. */
	if (!cp->next_store_ms && (k->energy_wh != before || k->life_ref_wh != ref_before))
		ocpp_cp_save_connectors(cp);
}

double ocpp_cp_energy_wh(const struct ocpp_cp *cp, int c)
{
	return ocpp_cp_valid_connector(cp, c) ? cp->conn[c].energy_wh : 0;
}

/* @v as a meter value: a number from 0 to @max (NaN and negatives are 0). */
static double meter_bound(double v, double max)
{
	if (!(v >= 0))
		return 0;
	return v > max ? max : v;
}

static json_t *sampled_value(enum ocpp_measurand ms, double v, enum ocpp_context ctx)
{
	char buf[32];

	if (ms == OCPP_MS_ENERGY_ACTIVE_IMPORT_REGISTER || ms == OCPP_MS_POWER_ACTIVE_IMPORT)
		snprintf(buf, sizeof(buf), "%.0f", floor(v));
	else
		snprintf(buf, sizeof(buf), "%.1f", v);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "value", buf, "context", ocpp_context_names[ctx], "format", "Raw",
			 "measurand", ocpp_measurand_names[ms], "location", "Outlet", "unit", ocpp_measurand_units[ms]);
}

json_t *ocpp_cp_meter_value(struct ocpp_cp *cp, int c, unsigned mask, enum ocpp_context ctx)
{
	const struct ocpp_conn *k = &cp->conn[c];
	char ts[OCPP_TIME_LEN + 1];
	json_t *sv = json_array();
	double volts = k->ev.volts > 0 ? k->ev.volts : cp->voltage;
	double amps = k->ev.present ? k->ev.amps : 0;
	double offered = k->limit == 0 ? 0 : (k->ev.present ? k->ev.offered_amps : 0);

	for (int ms = 0; ms < OCPP_MS_COUNT; ms++) {
		double v = 0;

		if (!(mask & (1u << ms)))
			continue;
		switch ((enum ocpp_measurand)ms) {
		case OCPP_MS_ENERGY_ACTIVE_IMPORT_REGISTER: v = meter_bound(k->energy_wh, OCPP_ENERGY_MAX_WH); break;
		case OCPP_MS_CURRENT_IMPORT: v = amps; break;
		case OCPP_MS_CURRENT_OFFERED: v = offered; break;
		case OCPP_MS_VOLTAGE: v = volts; break;
		case OCPP_MS_POWER_ACTIVE_IMPORT: v = amps * volts * cp->phases; break;
		default: break;
		}
		if (ms != OCPP_MS_ENERGY_ACTIVE_IMPORT_REGISTER)
			v = meter_bound(v, METER_VALUE_MAX);
		json_array_append_new(sv, sampled_value((enum ocpp_measurand)ms, v, ctx));
	}
	ocpp_time_format(cp->now_wall, ts, sizeof(ts));
	return json_pack("{s:s,s:o}", "timestamp", ts, "sampledValue", sv);
}

void ocpp_cp_sample_tick(struct ocpp_cp *cp)
{
	long interval = ocpp_cp_key_int(cp, OCPP_KEY_METER_VALUE_SAMPLE_INTERVAL);
	unsigned mask = ocpp_config_measurands(cp->cfg, OCPP_KEY_METER_VALUES_SAMPLED_DATA);

	for (int c = 1; c <= cp->n_conn; c++) {
		struct ocpp_conn *k = &cp->conn[c];
		struct ocpp_tx *tx = &k->tx;

		if (!tx->active || interval <= 0 || cp->now_ms < tx->next_sample_ms)
			continue;
		/* Keep the cadence exact: the next sample is due one interval after this one was due. */
		tx->next_sample_ms += ocpp_cp_sec_ms(interval);
		if (tx->next_sample_ms <= cp->now_ms)
			tx->next_sample_ms = cp->now_ms + ocpp_cp_sec_ms(interval);
		if (!mask)
			continue;
		ocpp_cp_save_connectors(cp);
		ocpp_cp_queue(cp, OCPP_OUT_METER_VALUES,
			      ocpp_meter_values_req(c, ocpp_cp_tx_wire_id(tx),
						    ocpp_cp_meter_value(cp, c, mask, OCPP_CTX_SAMPLE_PERIODIC)),
			      c, tx->local, true);
	}
}

void ocpp_cp_aligned_arm(struct ocpp_cp *cp)
{
	long interval = ocpp_cp_key_int(cp, OCPP_KEY_CLOCK_ALIGNED_DATA_INTERVAL);
	int64_t step, next;

	if (interval <= 0) {
		cp->next_aligned_ms = UINT64_MAX;
		return;
	}
	step = (int64_t)interval * 1000;
	next = (cp->now_wall / step + 1) * step;
	/* A timer may fire a few ms before the wall clock reaches the boundary: never repeat one. */
	if (cp->next_aligned_wall && next <= cp->next_aligned_wall && cp->next_aligned_wall - next < step)
		next = cp->next_aligned_wall + step;
	cp->next_aligned_wall = next;
	cp->next_aligned_ms = cp->now_ms + (uint64_t)(next - cp->now_wall);
}

void ocpp_cp_aligned_tick(struct ocpp_cp *cp)
{
	unsigned mask = ocpp_config_measurands(cp->cfg, OCPP_KEY_METER_VALUES_ALIGNED_DATA);

	if (cp->now_ms < cp->next_aligned_ms)
		return;
	/* Stamp the reading with the boundary it belongs to, not the moment the timer ran. */
	if (mask) {
		int64_t wall = cp->now_wall;

		cp->now_wall = cp->next_aligned_wall;
		for (int c = 1; c <= cp->n_conn; c++) {
			struct ocpp_conn *k = &cp->conn[c];

			if (!k->mapped || !k->seen)
				continue;
			if (k->tx.active)
				ocpp_cp_save_connectors(cp);
			ocpp_cp_queue(cp, OCPP_OUT_METER_VALUES,
				      ocpp_meter_values_req(c, k->tx.active ? ocpp_cp_tx_wire_id(&k->tx) : 0,
							    ocpp_cp_meter_value(cp, c, mask, OCPP_CTX_SAMPLE_CLOCK)),
				      c, k->tx.active ? k->tx.local : 0, k->tx.active);
		}
		cp->now_wall = wall;
	}
	ocpp_cp_aligned_arm(cp);
}
