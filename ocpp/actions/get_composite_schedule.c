/*
 * GetCompositeSchedule (CS -> CP): the limits connector N (or, for 0, the whole charge point) would
 * get over the next @duration seconds, combined from every installed profile as ocpp_sc computes
 * them, in A unless W is asked for. Instants no profile covers report the wiring. An unknown
 * connector is Rejected (section 5.7).
 */
#include "ocpp_cp_internal.h"

#define MAX_SLOTS 256

json_t *ocpp_handle_get_composite_schedule(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e)
{
	static const char *const keys[] = { "connectorId", "duration", "chargingRateUnit", NULL };
	struct ocpp_sc_slot *slots;
	struct ocpp_sc_ctx ctx;
	char ts[OCPP_TIME_LEN + 1];
	int64_t c = 0, duration = 0;
	int unit = OCPP_SC_AMPS, n;
	json_t *periods, *sched;

	if (ocpp_json_only(req, keys, e) < 0 || ocpp_json_int(req, "connectorId", INT32_MIN, INT32_MAX, true, &c, e) < 0 ||
	    ocpp_json_int(req, "duration", INT32_MIN, INT32_MAX, true, &duration, e) < 0 ||
	    ocpp_json_enum(req, "chargingRateUnit", ocpp_sc_unit_names, OCPP_SC_UNIT_COUNT, false, &unit, e) < 0)
		return NULL;
	if ((c != 0 && !ocpp_cp_valid_connector(cp, (int)c)) || duration <= 0)
		return json_pack("{s:s}", "status", "Rejected");
	slots = malloc(MAX_SLOTS * sizeof(*slots));
	if (!slots) {
		ocpp_perr_set(e, OCPP_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	ocpp_cp_sc_ctx(cp, (int)c, &ctx);
	n = ocpp_sc_composite(cp->sc, &ctx, cp->now_wall, (int32_t)duration, (enum ocpp_sc_unit)unit, slots, MAX_SLOTS);
	periods = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(periods, json_pack("{s:i,s:f}", "startPeriod", (int)slots[i].start_s, "limit",
							 slots[i].limit));
	free(slots);
	ocpp_time_format(cp->now_wall, ts, sizeof(ts));
	sched = json_pack("{s:I,s:s,s:s,s:o}", "duration", (json_int_t)duration, "startSchedule", ts, "chargingRateUnit",
			  ocpp_sc_unit_names[unit], "chargingSchedulePeriod", periods);
	return json_pack("{s:s,s:I,s:s,s:o}", "status", "Accepted", "connectorId", (json_int_t)c, "scheduleStart", ts,
			 "chargingSchedule", sched);
}
