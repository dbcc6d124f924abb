/*
 * Authorize (CP -> CS): ask the central system whether a local idTag (the fixed tag or a car's VIN)
 * may charge, cache the answer, and start or refuse the connector's transaction.
 */
#include "ocpp_cp_internal.h"

json_t *ocpp_authorize_req(const char *id_tag)
{
	return json_pack("{s:s}", "idTag", id_tag);
}

int ocpp_authorize_conf(struct ocpp_cp *cp, struct ocpp_msg *m, const json_t *conf, struct ocpp_perr *e)
{
	static const char *const keys[] = { "idTagInfo", NULL };
	struct ocpp_id_tag_info info;
	const json_t *it = NULL;
	struct ocpp_conn *k;
	const char *tag = json_string_value(json_object_get(m->payload, "idTag"));

	if (ocpp_json_only(conf, keys, e) < 0 || ocpp_json_object(conf, "idTagInfo", true, &it, e) < 0 ||
	    ocpp_idtaginfo_parse(it, &info, e) < 0)
		return -EINVAL;
	if (ocpp_config_bool(cp->cfg, OCPP_KEY_AUTHORIZATION_CACHE_ENABLED) && tag) {
		ocpp_auth_cache_update(cp->auth, tag, &info);
		ocpp_cp_save_auth(cp);
	}
	if (!ocpp_cp_valid_connector(cp, m->connector))
		return 0;
	k = &cp->conn[m->connector];
	if (k->auth != OCPP_AS_PENDING || !tag || strcasecmp(tag, k->auth_tag) != 0)
		return 0; /* the car left meanwhile */
	if (info.status == OCPP_AUTH_ACCEPTED) {
		ocpp_cp_authorized(cp, m->connector, tag, info.parent, k->auth_remote);
	} else {
		ocpp_cp_log(cp, CORE_LOG_INFO, "connector %d: idTag refused (%s)", m->connector,
			    ocpp_auth_status_names[info.status]);
		k->auth = OCPP_AS_DENIED;
	}
	return 0;
}
