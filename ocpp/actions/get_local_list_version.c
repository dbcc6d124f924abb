/*
 * GetLocalListVersion (CS -> CP, Local Auth List Management, OCPP 1.6 section 5.9): the version of
 * the installed Local Authorization List, 0 when none was ever sent.
 */
#include "ocpp_cp_internal.h"

json_t *ocpp_handle_get_local_list_version(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e)
{
	static const char *const keys[] = { NULL };

	if (ocpp_json_only(req, keys, e) < 0)
		return NULL;
	return json_pack("{s:i}", "listVersion", ocpp_local_list_version(cp->local_list));
}
