/*
 * SetChargingProfile (CS -> CP): install a charging profile for a connector. The profile is checked
 * against the schema first (a violation is a CALLERROR); then against the rules of section 5.16:
 * ChargePointMaxProfile only on connector 0, TxProfile only on a connector with a running transaction
 * (and its transactionId, when given, must be that transaction's), a stack level within
 * ChargeProfileMaxStackLevel and room for it (MaxChargingProfilesInstalled). Breaking a rule is
 * Rejected. A ChargePointMaxProfile without a start of its own starts when it arrives. The new limits
 * apply at once: ocpp_cp_refresh() passes them to the bus, which tells the
 * slave at its next heartbeat.
 */
#include "ocpp_cp_internal.h"

static json_t *status(const char *s)
{
	return json_pack("{s:s}", "status", s);
}

json_t *ocpp_handle_set_charging_profile(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e)
{
	static const char *const keys[] = { "connectorId", "csChargingProfiles", NULL };
	struct ocpp_sc_profile *p;
	const json_t *obj = NULL;
	int64_t c = 0, stack = 0;
	json_t *res;

	if (ocpp_json_only(req, keys, e) < 0 || ocpp_json_int(req, "connectorId", 0, INT32_MAX, true, &c, e) < 0 ||
	    ocpp_json_object(req, "csChargingProfiles", true, &obj, e) < 0)
		return NULL;
	/* A stack level the schema allows but we have no room for is a refusal, not a malformed call. */
	if (ocpp_json_int(obj, "stackLevel", 0, INT32_MAX, true, &stack, e) < 0)
		return NULL;
	if (stack > ocpp_config_int(cp->cfg, OCPP_KEY_CHARGE_PROFILE_MAX_STACK_LEVEL))
		return status("Rejected");
	p = malloc(sizeof(*p));
	if (!p) {
		ocpp_perr_set(e, OCPP_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	if (ocpp_sc_profile_parse(obj, (int)c, (int)ocpp_config_int(cp->cfg, OCPP_KEY_CHARGING_SCHEDULE_MAX_PERIODS), p,
				  e) < 0) {
		free(p);
		return NULL;
	}
	res = NULL;
	if (c != 0 && !ocpp_cp_valid_connector(cp, (int)c))
		res = status("Rejected");
	else if (p->purpose == OCPP_SC_CP_MAX && c != 0)
		res = status("Rejected");
	else if (p->purpose == OCPP_SC_TX) {
		const struct ocpp_conn *k = &cp->conn[c];

		if (c == 0 || !k->tx.active || (p->tx_id != 0 && p->tx_id != ocpp_cp_tx_wire_id(&k->tx)))
			res = status("Rejected");
	}
	/* A charge point limit has no transaction to start from: anchor it where it arrived, or it would
	 * start again at every evaluation. */
	if (!res && p->purpose == OCPP_SC_CP_MAX && (p->kind == OCPP_SC_RELATIVE || !p->has_start)) {
		if (p->kind == OCPP_SC_RELATIVE)
			p->kind = OCPP_SC_ABSOLUTE;
		p->has_start = true;
		p->start_ms = cp->now_wall;
	}
	if (!res) {
		if (ocpp_sc_install(cp->sc, p) < 0) {
			res = status("Rejected");
		} else {
			ocpp_cp_log(cp, CORE_LOG_INFO, "connector %lld: charging profile %d installed (%s, stack %d)", (long long)c,
				    p->id, ocpp_sc_purpose_names[p->purpose], p->stack);
			ocpp_cp_save_profiles(cp);
			ocpp_cp_refresh(cp);
			res = status("Accepted");
		}
	}
	free(p);
	return res;
}
