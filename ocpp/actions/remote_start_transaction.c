/*
 * RemoteStartTransaction (CS -> CP): authorise an idTag on a connector (the given one, else the
 * first with a car waiting, else the first free one). The transaction starts when the car is
 * plugged in, after an Authorize first if AuthorizeRemoteTxRequests says so (unless LocalPreAuthorize
 * finds the idTag Accepted in the cache); without a car within
 * ConnectionTimeOut the authorisation lapses. A chargingProfile must be a TxProfile without a
 * transactionId (section 5.11; anything else is Rejected): it is installed for the connector at once
 * and governs the transaction that follows; it goes with the authorisation if no car comes.
 */
#include "ocpp_cp_internal.h"

static bool can_take(const struct ocpp_cp *cp, int c)
{
	const struct ocpp_conn *k = &cp->conn[c];

	return ocpp_cp_valid_connector(cp, c) && k->ev.present && !k->ev.fault && !k->tx.active && !k->finishing &&
	       !k->inoperative && !cp->cp_inoperative && (k->auth == OCPP_AS_NONE || k->auth == OCPP_AS_DENIED);
}

/* With LocalPreAuthorize a cached Accepted idTag needs no Authorize round trip (OCTT TC_007_2). */
static bool cached_ok(struct ocpp_cp *cp, const char *tag)
{
	struct ocpp_id_tag_info info;

	return ocpp_config_bool(cp->cfg, OCPP_KEY_LOCAL_PRE_AUTHORIZE) && ocpp_cp_local_auth(cp, tag, &info) &&
	       info.status == OCPP_AUTH_ACCEPTED;
}

json_t *ocpp_handle_remote_start_transaction(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e)
{
	static const char *const keys[] = { "connectorId", "idTag", "chargingProfile", NULL };
	char tag[OCPP_IDTAG_MAX + 1];
	const json_t *profile = NULL;
	int64_t c = 0;
	int got;

	if (ocpp_json_only(req, keys, e) < 0 ||
	    (got = ocpp_json_int(req, "connectorId", INT32_MIN, INT32_MAX, false, &c, e)) < 0 ||
	    ocpp_json_string(req, "idTag", OCPP_IDTAG_MAX, true, tag, sizeof(tag), e) < 0 ||
	    ocpp_json_object(req, "chargingProfile", false, &profile, e) < 0)
		return NULL;
	if (got && c <= 0)
		return json_pack("{s:s}", "status", "Rejected"); /* connectorId 0 is not allowed (TC_027) */
	if (!got) {
		for (int i = 1; i <= cp->n_conn && !c; i++)
			if (can_take(cp, i) && cp->conn[i].ev.plugged)
				c = i;
		for (int i = 1; i <= cp->n_conn && !c; i++)
			if (can_take(cp, i))
				c = i;
	}
	if (profile) {
		struct ocpp_sc_profile *p = malloc(sizeof(*p));
		int rc;

		if (!p) {
			ocpp_perr_set(e, OCPP_ERR_INTERNAL, "out of memory");
			return NULL;
		}
		rc = ocpp_sc_profile_parse(profile, (int)c,
					   (int)ocpp_config_int(cp->cfg, OCPP_KEY_CHARGING_SCHEDULE_MAX_PERIODS), p, e);
		if (rc == 0 && (p->purpose != OCPP_SC_TX || p->tx_id != 0 ||
				p->stack > ocpp_config_int(cp->cfg, OCPP_KEY_CHARGE_PROFILE_MAX_STACK_LEVEL) ||
				c <= 0 || c > OCPP_MAX_CONNECTORS || !can_take(cp, (int)c) || ocpp_sc_install(cp->sc, p) < 0))
			rc = 1;
		free(p);
		if (rc < 0)
			return NULL;
		if (rc > 0)
			return json_pack("{s:s}", "status", "Rejected");
		ocpp_cp_save_profiles(cp);
	}
	if (c <= 0 || c > OCPP_MAX_CONNECTORS || !can_take(cp, (int)c))
		return json_pack("{s:s}", "status", "Rejected");
	/* The disk refuses writes: a transaction could not be recorded, so none is promised. */
	if (!ocpp_cp_journal_durable(cp)) {
		ocpp_cp_log(cp, CORE_LOG_WARN, "connector %lld: remote start rejected: the journal cannot be written",
			    (long long)c);
		return json_pack("{s:s}", "status", "Rejected");
	}
	if (ocpp_config_bool(cp->cfg, OCPP_KEY_AUTHORIZE_REMOTE_TX_REQUESTS) && !cached_ok(cp, tag)) {
		struct ocpp_conn *k = &cp->conn[c];

		snprintf(k->auth_tag, sizeof(k->auth_tag), "%s", tag);
		k->auth = OCPP_AS_PENDING;
		k->auth_remote = true;
		k->auth_ms = cp->now_ms;
		ocpp_cp_queue(cp, OCPP_OUT_AUTHORIZE, ocpp_authorize_req(tag), (int)c, 0, false);
	} else {
		ocpp_cp_authorized(cp, (int)c, tag, "", true);
	}
	ocpp_cp_log(cp, CORE_LOG_INFO, "connector %lld: remote start accepted", (long long)c);
	return json_pack("{s:s}", "status", "Accepted");
}
