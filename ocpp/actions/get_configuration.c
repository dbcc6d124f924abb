/*
 * GetConfiguration (CS -> CP): report the requested keys (all of them for an empty or absent list)
 * with their read-only flag and value, never the value of a write-only key, and list the names we do
 * not know under unknownKey.
 */
#include "ocpp_cp_internal.h"

static json_t *key_value(const struct ocpp_cp *cp, enum ocpp_key k)
{
	const struct ocpp_key_info *info = ocpp_config_info(k);
	json_t *kv = json_pack("{s:s,s:b}", "key", info->name, "readonly", info->access == OCPP_KA_R);

	if (kv && ocpp_config_readable(k))
		json_object_set_new(kv, "value", json_string(ocpp_config_str(cp->cfg, k)));
	return kv;
}

json_t *ocpp_handle_get_configuration(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e)
{
	static const char *const keys[] = { "key", NULL };
	const json_t *list = NULL, *it;
	json_t *known = json_array(), *unknown = json_array(), *conf;
	size_t i;

	if (ocpp_json_only(req, keys, e) < 0 || ocpp_json_array(req, "key", false, &list, e) < 0)
		goto bad;
	json_array_foreach(list, i, it) {
		const char *name = json_string_value(it);

		if (!name) {
			ocpp_perr_set(e, OCPP_ERR_TYPE_CONSTRAINT, "key[%zu]: must be a string", i);
			goto bad;
		}
		if (strlen(name) > OCPP_CONFIG_KEY_MAX) {
			ocpp_perr_set(e, OCPP_ERR_PROPERTY_CONSTRAINT, "key[%zu]: longer than %d", i, OCPP_CONFIG_KEY_MAX);
			goto bad;
		}
	}
	if (!list || json_array_size(list) == 0) {
		for (int k = 0; k < OCPP_KEY_COUNT; k++)
			json_array_append_new(known, key_value(cp, (enum ocpp_key)k));
	} else {
		json_array_foreach(list, i, it) {
			int k = ocpp_config_find(json_string_value(it));

			if (k >= 0)
				json_array_append_new(known, key_value(cp, (enum ocpp_key)k));
			else
				json_array_append_new(unknown, json_string(json_string_value(it)));
		}
	}
	conf = json_object();
	if (json_array_size(known))
		json_object_set(conf, "configurationKey", known);
	if (json_array_size(unknown))
		json_object_set(conf, "unknownKey", unknown);
	json_decref(known);
	json_decref(unknown);
	return conf;
bad:
	json_decref(known);
	json_decref(unknown);
	return NULL;
}
