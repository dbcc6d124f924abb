/*
 * ocpp_cp_meter: metering. Each connector's energy register (integrated from the car's draw and
 * held up by the TWC's own lifetime counter), MeterValue readings, the periodic samples of a running
 * transaction, and clock-aligned readings stamped with the boundary they belong to.
 */
#include "ocpp_cp_internal.h"

#include <math.h>
#include <stdio.h>

/* Energy: integrate what the car drew since the last update, then never fall below what the TWC's
 * own lifetime counter (whole kWh) proves was delivered. */
void ocpp_cp_energy_integrate(struct ocpp_cp *cp, struct ocpp_conn *k, const struct ocpp_evse *st, uint64_t now)
{
	if (k->seen && now > k->energy_mono && k->ev.present && k->ev.amps > 0) {
		double volts = k->ev.volts > 0 ? k->ev.volts : cp->voltage;

		k->energy_wh += k->ev.amps * volts * cp->phases * (double)(now - k->energy_mono) / 3.6e6;
	}
	k->energy_mono = now;
	if (st->present && st->has_lifetime) {
		if (!k->life_ref_valid || st->lifetime_wh < k->life_ref_wh) {
			k->life_ref_valid = true;
			k->life_ref_wh = st->lifetime_wh;
			k->energy_ref_wh = k->energy_wh;
		} else {
			double floor_wh = k->energy_ref_wh + (double)(st->lifetime_wh - k->life_ref_wh) - 1000.0;

			if (floor_wh > k->energy_wh)
				k->energy_wh = floor_wh;
		}
	}
}

double ocpp_cp_energy_wh(const struct ocpp_cp *cp, int c)
{
	return ocpp_cp_valid_connector(cp, c) ? cp->conn[c].energy_wh : 0;
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
		case OCPP_MS_ENERGY_ACTIVE_IMPORT_REGISTER: v = k->energy_wh; break;
		case OCPP_MS_CURRENT_IMPORT: v = amps; break;
		case OCPP_MS_CURRENT_OFFERED: v = offered; break;
		case OCPP_MS_VOLTAGE: v = volts; break;
		case OCPP_MS_POWER_ACTIVE_IMPORT: v = amps * volts * cp->phases; break;
		default: break;
		}
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
