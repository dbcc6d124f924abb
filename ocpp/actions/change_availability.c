/*
 * ChangeAvailability (CS -> CP): make a connector, or with connectorId 0 the whole charge point,
 * Operative or Inoperative. The choice is persisted (it survives a power cycle, OCTT TC_034); while a
 * transaction runs on an affected connector the change is Scheduled for when it ends.
 */
#include "ocpp_cp_internal.h"

json_t *ocpp_handle_change_availability(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e)
{
	static const char *const keys[] = { "connectorId", "type", NULL };
	static const char *const types[] = { "Inoperative", "Operative" };
	int64_t c = 0;
	int type = 0;
	bool inop, busy = false;

	if (ocpp_json_only(req, keys, e) < 0 || ocpp_json_int(req, "connectorId", 0, INT32_MAX, true, &c, e) < 0 ||
	    ocpp_json_enum(req, "type", types, 2, true, &type, e) < 0)
		return NULL;
	if (c != 0 && !ocpp_cp_valid_connector(cp, (int)c))
		return json_pack("{s:s}", "status", "Rejected");
	inop = type == 0;
	for (int i = 1; i <= cp->n_conn; i++) {
		struct ocpp_conn *k = &cp->conn[i];

		if ((c == 0 || c == i) && k->tx.active && inop) {
			k->scheduled = 1;
			busy = true;
		} else if (c == i || (c == 0 && !inop)) {
			k->scheduled = -1;
		}
	}
	if (c == 0) {
		/* Connectors without a transaction change now; busy ones, and connector 0, follow when
		 * the last transaction ends. */
		cp->cp_inoperative = inop && !busy;
		cp->cp_scheduled = inop && busy;
		for (int i = 1; i <= cp->n_conn; i++)
			if (!cp->conn[i].tx.active || !inop)
				cp->conn[i].inoperative = inop;
		ocpp_cp_set_availability(cp, 0, cp->cp_inoperative);
	} else if (!busy) {
		ocpp_cp_set_availability(cp, (int)c, inop);
	}
	return json_pack("{s:s}", "status", busy ? "Scheduled" : "Accepted");
}
