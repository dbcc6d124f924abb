/*
 * ClearCache (CS -> CP): empty the authorisation cache, in memory and on disk.
 */
#include "ocpp_cp_internal.h"

json_t *ocpp_handle_clear_cache(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e)
{
	static const char *const keys[] = { NULL };

	if (ocpp_json_only(req, keys, e) < 0)
		return NULL;
	ocpp_auth_cache_clear(cp->auth);
	ocpp_cp_save_auth(cp);
	return json_pack("{s:s}", "status", "Accepted");
}
