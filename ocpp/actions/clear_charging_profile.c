/*
 * ClearChargingProfile (CS -> CP): remove the profile with the given id, or every profile matching
 * all the given criteria (connector, purpose, stack level; none given clears all). Accepted when
 * something was removed, Unknown otherwise (section 5.5). Limits are re-evaluated at once.
 */
#include "ocpp_cp_internal.h"

json_t *ocpp_handle_clear_charging_profile(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e)
{
	static const char *const keys[] = { "id", "connectorId", "chargingProfilePurpose", "stackLevel", NULL };
	struct ocpp_sc_filter f;
	int64_t id = 0, c = 0, stack = 0;
	int purpose = 0, got_id, got_c, got_p, got_s, n;

	if (ocpp_json_only(req, keys, e) < 0 ||
	    (got_id = ocpp_json_int(req, "id", INT32_MIN, INT32_MAX, false, &id, e)) < 0 ||
	    (got_c = ocpp_json_int(req, "connectorId", INT32_MIN, INT32_MAX, false, &c, e)) < 0 ||
	    (got_p = ocpp_json_enum(req, "chargingProfilePurpose", ocpp_sc_purpose_names, OCPP_SC_PURPOSE_COUNT, false,
				    &purpose, e)) < 0 ||
	    (got_s = ocpp_json_int(req, "stackLevel", INT32_MIN, INT32_MAX, false, &stack, e)) < 0)
		return NULL;
	memset(&f, 0, sizeof(f));
	f.has_id = got_id > 0;
	f.id = (int)id;
	f.has_connector = got_c > 0;
	f.connector = (int)c;
	f.has_purpose = got_p > 0;
	f.purpose = (enum ocpp_sc_purpose)purpose;
	f.has_stack = got_s > 0;
	f.stack = (int)stack;
	n = ocpp_sc_clear(cp->sc, &f);
	if (n <= 0)
		return json_pack("{s:s}", "status", "Unknown");
	ocpp_cp_log(cp, CORE_LOG_INFO, "%d charging profile%s cleared", n, n == 1 ? "" : "s");
	ocpp_cp_save_profiles(cp);
	ocpp_cp_refresh(cp);
	return json_pack("{s:s}", "status", "Accepted");
}
