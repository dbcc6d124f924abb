/*
 * gw_config_points: the chargePoints list, several charge points (each its own bus) in one file. Each
 * entry becomes a file-like root of its own (the shared top-level keys, its twc, its ocpp on top of
 * the top-level ocpp, its policy on top of the top-level policy, dataDir/<chargeBoxId>) that goes
 * through the same table walk as a single-bus file, so every key keeps one set of rules; a message
 * about a key the entry gave, or lacks, is renamed to chargePoints[i].<key>. Then the rules between
 * entries: unique chargeBoxIds and twc.ports. The single-bus form is the list of one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw_config_internal.h"

#define WHERE_MAX 32

static const char *const entry_members[] = { "chargeBoxId", "twc", "ocpp", "policy", NULL };

/* The rules on the top level of a chargePoints file; the number of entries, or -EINVAL. */
static int list_check(const json_t *root, const json_t *list, char *err, size_t errlen)
{
	size_t n = json_array_size(list);
	char got[GOT_MAX];

	if (!json_is_array(list) || n == 0 || n > GW_CONFIG_CP_MAX) {
		gw_config_value_describe(list, false, got, sizeof(got));
		if (json_is_array(list))
			snprintf(got, sizeof(got), "%zu entries", n);
		gw_config_err_set(err, errlen, "config: chargePoints: must be an array of 1 to %d charge points (got %s)",
				  GW_CONFIG_CP_MAX, got);
		return -EINVAL;
	}
	if (json_object_get(root, "twc")) {
		gw_config_err_set(err, errlen, "config: twc: with chargePoints, each entry has its own twc "
				  "(chargePoints[i].twc); remove the top-level one");
		return -EINVAL;
	}
	if (gw_config_path_lookup(root, "ocpp.chargeBoxId")) {
		gw_config_err_set(err, errlen, "config: ocpp.chargeBoxId: with chargePoints, each entry's chargeBoxId "
				  "names it; remove this one");
		return -EINVAL;
	}
	return (int)n;
}

/* Entry @i's own checks (before its keys go through the table); its chargeBoxId into @cbid. */
static int entry_check(const json_t *e, int i, char *cbid, size_t cbidlen, char *err, size_t errlen)
{
	static const struct key_spec cbid_key = { .path = "chargeBoxId", .type = KEY_STRING,
						  .size = GW_CONFIG_CBID_MAX + 1 };
	char where[WHERE_MAX], why[160], got[GOT_MAX];
	const json_t *v;

	snprintf(where, sizeof(where), "chargePoints[%d]", i);
	if (!json_is_object(e)) {
		gw_config_value_describe(e, false, got, sizeof(got));
		gw_config_err_set(err, errlen, "config: %s: must be an object (got %s)", where, got);
		return -EINVAL;
	}
	if (gw_config_members_check(e, where, entry_members, err, errlen))
		return -EINVAL;
	for (size_t m = 1; entry_members[m]; m++) {
		v = json_object_get(e, entry_members[m]);
		if (v && !json_is_object(v)) {
			gw_config_value_describe(v, false, got, sizeof(got));
			gw_config_err_set(err, errlen, "config: %s.%s: must be an object (got %s)", where, entry_members[m],
					  got);
			return -EINVAL;
		}
	}
	if (gw_config_path_lookup(e, "ocpp.chargeBoxId")) {
		gw_config_err_set(err, errlen, "config: %s.ocpp.chargeBoxId: the entry's chargeBoxId names it; remove "
				  "this one", where);
		return -EINVAL;
	}
	v = json_object_get(e, "chargeBoxId");
	if (!v) {
		gw_config_err_set(err, errlen, "config: %s.chargeBoxId: required key missing", where);
		return -EINVAL;
	}
	why[0] = '\0';
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
	    gw_config_cbid_parse(&cbid_key, json_string_value(v), cbid, why, sizeof(why)) != 0 ||
	    !strcmp(cbid, ".") || !strcmp(cbid, "..") || strlen(cbid) >= cbidlen) {
		gw_config_value_describe(v, false, got, sizeof(got));
		gw_config_err_set(err, errlen, "config: %s.chargeBoxId: %s (got %s)", where,
				  why[0] ? why : "must be a string naming a directory: not \".\" or \"..\"", got);
		return -EINVAL;
	}
	return 0;
}

/* @into with @over's members on top; a mode in @over replaces mode, until and then together. */
static json_t *policy_merged(const json_t *top, const json_t *over)
{
	json_t *p = top ? json_deep_copy(top) : json_object();

	if (!p || !over)
		return p;
	if (json_object_get(over, "mode")) {
		json_object_del(p, "until");
		json_object_del(p, "then");
	}
	if (json_object_update(p, (json_t *)over)) {
		json_decref(p);
		return NULL;
	}
	return p;
}

/* The single-bus file entry @e stands for (new reference), NULL on allocation failure. */
static json_t *entry_root(const json_t *root, const json_t *e, const char *cbid)
{
	const json_t *top_ocpp = json_object_get(root, "ocpp"), *own_ocpp = json_object_get(e, "ocpp");
	const json_t *dir = json_object_get(root, "dataDir"), *twc = json_object_get(e, "twc");
	json_t *r = json_copy((json_t *)root), *pol, *ocpp;
	bool ok = r != NULL;

	if (!ok)
		return NULL;
	json_object_del(r, "chargePoints");
	if (twc)
		ok = json_object_set(r, "twc", (json_t *)twc) == 0;
	/* Always a copy of its own: an operator's policy may be laid on top of it. */
	pol = policy_merged(json_object_get(root, "policy"), json_object_get(e, "policy"));
	ok = ok && pol && json_object_set_new(r, "policy", pol) == 0;
	if (ok && (top_ocpp || own_ocpp)) {
		ocpp = top_ocpp ? json_deep_copy(top_ocpp) : json_object();
		ok = ocpp && (!own_ocpp || json_object_update_recursive(ocpp, (json_t *)own_ocpp) == 0) &&
		     json_object_set_new(ocpp, "chargeBoxId", json_string(cbid)) == 0 &&
		     json_object_set_new(r, "ocpp", ocpp) == 0;
	}
	/* A dataDir that is not a string stays as it is, for the table's message about it. */
	if (ok && json_is_string(dir)) {
		char path[2 * GW_CONFIG_PATH_MAX];
		size_t len = strlen(json_string_value(dir));

		while (len > 1 && json_string_value(dir)[len - 1] == '/')
			len--;
		snprintf(path, sizeof(path), "%.*s/%s", (int)(len < GW_CONFIG_PATH_MAX ? len : GW_CONFIG_PATH_MAX),
			 json_string_value(dir), cbid);
		ok = json_object_set_new(r, "dataDir", json_string(path)) == 0;
	}
	if (!ok) {
		json_decref(r);
		return NULL;
	}
	return r;
}

/*
 * A message about key <path> of entry @i's root, renamed where the key is the entry's: one it gave, or
 * one of its twc/ocpp/policy that nobody gave (a required key it lacks). Keys given at the top level
 * (shared, or an ocpp/policy default) keep their name: the fix is there.
 */
static void entry_err(const json_t *root, const json_t *e, int i, char *err, size_t errlen)
{
	static const char head[] = "config: ";
	char path[KEY_PATH_MAX], msg[1024];
	size_t n, c;
	const char *rest;
	bool own;

	if (!err || errlen == 0 || strncmp(err, head, sizeof(head) - 1))
		return;
	rest = err + sizeof(head) - 1;
	n = strcspn(rest, ": ");
	if (n == 0 || n >= sizeof(path) || rest[n] != ':')
		return;
	memcpy(path, rest, n);
	path[n] = '\0';
	if (!strcmp(path, "ocpp.chargeBoxId")) {
		snprintf(msg, sizeof(msg), "%schargePoints[%d].chargeBoxId%s", head, i, rest + n);
		gw_config_err_set(err, errlen, "%s", msg);
		return;
	}
	c = strcspn(path, ".");
	if (!(c == 3 && !strncmp(path, "twc", 3)) && !(c == 4 && !strncmp(path, "ocpp", 4)) &&
	    !(c == 6 && !strncmp(path, "policy", 6)))
		return;
	own = gw_config_path_lookup(e, path) != NULL || gw_config_path_lookup(root, path) == NULL;
	if (!own)
		return;
	snprintf(msg, sizeof(msg), "%schargePoints[%d].%s", head, i, rest);
	gw_config_err_set(err, errlen, "%s", msg);
}

/* Entry @i of a checked list, with @policy (may be NULL) on top of its own. */
static int entry_load(const json_t *root, const json_t *list, int i, int n, const json_t *policy,
		      struct gw_config *out, bool dir_check, char *err, size_t errlen)
{
	const json_t *e = json_array_get(list, (size_t)i);
	char cbid[GW_CONFIG_CBID_MAX + 1];
	json_t *r;
	int rc = entry_check(e, i, cbid, sizeof(cbid), err, errlen);

	if (rc)
		return rc;
	r = entry_root(root, e, cbid);
	if (!r) {
		gw_config_err_set(err, errlen, "config: out of memory");
		return -ENOMEM;
	}
	rc = gw_config_policy_overlay(r, policy, err, errlen);
	if (rc == 0) {
		rc = gw_config_root_load(r, out, dir_check, err, errlen);
		if (rc == -EINVAL)
			entry_err(root, e, i, err, errlen);
	}
	json_decref(r);
	if (rc)
		return rc;
	memcpy(out->cp_id, cbid, strlen(cbid) + 1);
	out->cp_index = i;
	out->cp_count = n;
	return 0;
}

int gw_config_root_entry(json_t *root, const char *cp_id, const json_t *policy, struct gw_config *out, char *err,
			 size_t errlen)
{
	const json_t *list;
	int n, rc;

	if (!json_is_object(root)) {
		gw_config_err_set(err, errlen, "config: the top level must be an object");
		return -EINVAL;
	}
	list = json_object_get(root, "chargePoints");
	if (!list) {
		if (cp_id && cp_id[0]) {
			gw_config_err_set(err, errlen, "config: chargePoints: no charge point \"%.48s\" (the file has none)",
					  cp_id);
			return -ENOENT;
		}
		rc = gw_config_policy_overlay(root, policy, err, errlen);
		return rc ? rc : gw_config_root_load(root, out, true, err, errlen);
	}
	n = list_check(root, list, err, errlen);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		const json_t *id = json_object_get(json_array_get(list, (size_t)i), "chargeBoxId");

		if (!cp_id || !cp_id[0] || (json_is_string(id) && !strcmp(json_string_value(id), cp_id)))
			return entry_load(root, list, i, n, policy, out, true, err, errlen);
	}
	gw_config_err_set(err, errlen, "config: chargePoints: no charge point \"%.48s\"", cp_id);
	return -ENOENT;
}

int gw_config_entry_with_policy(const char *path, const char *cp_id, const json_t *policy, struct gw_config *out,
				char *err, size_t errlen)
{
	json_t *root;
	int rc = gw_config_file_root(path, &root, err, errlen);

	if (rc)
		return rc;
	rc = gw_config_root_entry(root, cp_id, policy, out, err, errlen);
	json_decref(root);
	return rc;
}

void gw_config_set_clear(struct gw_config_set *set)
{
	if (!set)
		return;
	if (set->cp) /* secrets go with it */
		memset(set->cp, 0, sizeof(*set->cp) * (size_t)set->n);
	free(set->cp);
	memset(set, 0, sizeof(*set));
}

/* Every entry checked before any dataDir is created, then the rules between entries. */
static int set_from_root(json_t *root, struct gw_config_set *out, char *err, size_t errlen)
{
	const json_t *list;
	struct gw_config_set set = { 0 };
	int n, rc = 0;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(root)) {
		gw_config_err_set(err, errlen, "config: the top level must be an object");
		return -EINVAL;
	}
	list = json_object_get(root, "chargePoints");
	n = list ? list_check(root, list, err, errlen) : 1;
	if (n < 0)
		return n;
	set.cp = calloc((size_t)n, sizeof(*set.cp));
	if (!set.cp) {
		gw_config_err_set(err, errlen, "config: out of memory");
		return -ENOMEM;
	}
	set.n = n;
	set.list = list != NULL;
	if (!list)
		rc = gw_config_root_load(root, &set.cp[0], true, err, errlen);
	for (int i = 0; list && rc == 0 && i < n; i++)
		rc = entry_load(root, list, i, n, NULL, &set.cp[i], false, err, errlen);
	for (int i = 0; list && rc == 0 && i < n; i++) {
		for (int j = 0; rc == 0 && j < i; j++) {
			if (!strcasecmp(set.cp[i].cp_id, set.cp[j].cp_id)) {
				gw_config_err_set(err, errlen, "config: chargePoints[%d].chargeBoxId: \"%s\" is already "
						  "chargePoints[%d]'s (they name directories, so case does not count)",
						  i, set.cp[i].cp_id, j);
				rc = -EINVAL;
			} else if (!strcmp(set.cp[i].twc.port, set.cp[j].twc.port)) {
				char shown[GOT_MAX];

				gw_config_text_sanitize(set.cp[i].twc.port, shown, sizeof(shown));
				gw_config_err_set(err, errlen, "config: chargePoints[%d].twc.port: \"%s\" is already "
						  "chargePoints[%d]'s (one bus, one master)", i, shown, j);
				rc = -EINVAL;
			}
		}
	}
	for (int i = 0; list && rc == 0 && i < n; i++)
		rc = gw_config_data_dir_check(set.cp[i].data_dir, err, errlen);
	if (rc) {
		gw_config_set_clear(&set);
		return rc;
	}
	*out = set;
	return 0;
}

int gw_config_set_load(const char *path, struct gw_config_set *out, char *err, size_t errlen)
{
	json_t *root;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = gw_config_file_root(path, &root, err, errlen);
	if (rc)
		return rc;
	rc = set_from_root(root, out, err, errlen);
	json_decref(root);
	return rc;
}

int gw_config_set_from_json_text(const char *text, const char *source, struct gw_config_set *out, char *err,
				 size_t errlen)
{
	json_t *root;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = gw_config_text_root(text, source, &root, err, errlen);
	if (rc)
		return rc;
	rc = set_from_root(root, out, err, errlen);
	json_decref(root);
	return rc;
}
