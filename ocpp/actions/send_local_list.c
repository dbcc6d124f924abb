/*
 * SendLocalList (CS -> CP, Local Auth List Management, OCPP 1.6 section 5.15): install a full list
 * or apply a differential update. The update is made on a copy and stored before it replaces the
 * list in use, so a list that cannot be saved (Failed) or would pass LocalAuthListMaxLength
 * (Failed) leaves the old one in force, and what authorises after a restart is what was Accepted.
 */
#include "ocpp_cp_internal.h"

static const char *const update_names[] = { "Differential", "Full" };

static json_t *status(const char *s)
{
	return json_pack("{s:s}", "status", s);
}

/* The request's list into @out (at most @max entries; *n = how many there were). */
static int parse_list(const json_t *arr, struct ocpp_local_entry *out, int max, int *n, struct ocpp_perr *e)
{
	static const char *const keys[] = { "idTag", "idTagInfo", NULL };
	const json_t *o;
	size_t i;

	*n = (int)json_array_size(arr);
	json_array_foreach(arr, i, o) {
		struct ocpp_local_entry *en = (int)i < max ? &out[i] : NULL;
		struct ocpp_local_entry scratch;
		const json_t *info = NULL;

		if (!en)
			en = &scratch; /* checked all the same: a malformed entry is a CALLERROR */
		memset(en, 0, sizeof(*en));
		if (!json_is_object(o)) {
			ocpp_perr_set(e, OCPP_ERR_TYPE_CONSTRAINT, "localAuthorizationList entries must be objects");
			return -EINVAL;
		}
		if (ocpp_json_only(o, keys, e) < 0 ||
		    ocpp_json_string(o, "idTag", OCPP_IDTAG_MAX, true, en->id_tag, sizeof(en->id_tag), e) < 0 ||
		    ocpp_json_object(o, "idTagInfo", false, &info, e) < 0 ||
		    (info && ocpp_idtaginfo_parse(info, &en->info, e) < 0))
			return -EINVAL;
		en->has_info = info != NULL;
	}
	return 0;
}

json_t *ocpp_handle_send_local_list(struct ocpp_cp *cp, const json_t *req, struct ocpp_perr *e)
{
	static const char *const keys[] = { "listVersion", "localAuthorizationList", "updateType", NULL };
	int max = (int)ocpp_config_int(cp->cfg, OCPP_KEY_SEND_LOCAL_LIST_MAX_LENGTH);
	const json_t *arr = NULL;
	struct ocpp_local_entry *entries;
	struct ocpp_local_list *next;
	int64_t version = 0;
	int full = 0, n = 0, r;

	if (ocpp_json_only(req, keys, e) < 0 ||
	    ocpp_json_int(req, "listVersion", 0, INT32_MAX, true, &version, e) < 0 ||
	    ocpp_json_enum(req, "updateType", update_names, 2, true, &full, e) < 0 ||
	    ocpp_json_array(req, "localAuthorizationList", false, &arr, e) < 0)
		return NULL;
	entries = calloc((size_t)(max > 0 ? max : 1), sizeof(*entries));
	if (!entries) {
		ocpp_perr_set(e, OCPP_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	if (arr && parse_list(arr, entries, max, &n, e) < 0) {
		free(entries);
		return NULL;
	}
	if (!ocpp_config_bool(cp->cfg, OCPP_KEY_LOCAL_AUTH_LIST_ENABLED)) {
		free(entries);
		return status("NotSupported");
	}
	/* Section 5.15: a differential update must move the version on. */
	if (!full && version <= ocpp_local_list_version(cp->local_list)) {
		free(entries);
		return status("VersionMismatch");
	}
	if (n > max) {
		ocpp_cp_log(cp, CORE_LOG_WARN, "SendLocalList: %d entries, more than SendLocalListMaxLength %d", n, max);
		free(entries);
		return status("Failed");
	}
	next = ocpp_local_list_dup(cp->local_list);
	r = next ? ocpp_local_list_apply(next, (int)version, full, entries, n) : -ENOMEM;
	free(entries);
	if (r == 0)
		r = ocpp_cp_store_local_list(cp, next);
	if (r < 0) {
		ocpp_cp_log(cp, CORE_LOG_WARN, "SendLocalList version %lld: %s; the list in force stays version %d", (long long)version,
			    r == -EOVERFLOW ? "more entries than LocalAuthListMaxLength" : strerror(-r),
			    ocpp_local_list_version(cp->local_list));
		ocpp_local_list_free(next);
		return status("Failed");
	}
	ocpp_local_list_free(cp->local_list);
	cp->local_list = next;
	ocpp_cp_log(cp, CORE_LOG_INFO, "Local Authorization List version %lld installed (%s, %d entries)", (long long)version,
		    full ? "full" : "differential", ocpp_local_list_count(next));
	return status("Accepted");
}
