/*
 * gw_settings: reads and writes dataDir/settings.json, the operator's run-time changes (see
 * gw_settings.h for the format). A file that does not parse exactly is an error naming it, so a
 * damaged file is noticed rather than silently forgetting what the operator set.
 */
#include "gw_settings.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_text.h"
#include "gw_store.h"

#define SETTINGS_FILE_MAX 16384
#define POLICY_MEMBERS_MAX 8

void gw_settings_clear(struct gw_settings *s)
{
	json_decref(s->policy);
	memset(s, 0, sizeof(*s));
}

int gw_settings_parse(const char *text, size_t len, struct gw_settings *out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr), *max, *v;
	const char *key;
	int rc = -EINVAL;

	memset(out, 0, sizeof(*out));
	if (!doc) {
		snprintf(err, errlen, "not JSON (line %d)", jerr.line);
		return -EINVAL;
	}
	if (!json_is_object(doc) || !json_is_integer(json_object_get(doc, "version")) ||
	    json_integer_value(json_object_get(doc, "version")) != 1) {
		snprintf(err, errlen, "not a version 1 settings file");
		goto out;
	}
	json_object_foreach(doc, key, v) {
		if (strcmp(key, "version") && strcmp(key, "policy") && strcmp(key, "maxAmps") && strcmp(key, "policyBy") &&
		    strcmp(key, "maxAmpsBy")) {
			snprintf(err, errlen, "unknown key \"%.40s\"", key);
			goto out;
		}
	}
	v = json_object_get(doc, "policy");
	if (v && (!json_is_object(v) || json_object_size(v) > POLICY_MEMBERS_MAX)) {
		snprintf(err, errlen, "\"policy\" must be an object like the config's");
		goto out;
	}
	if (v)
		out->policy = json_incref(v);
	max = json_object_get(doc, "maxAmps");
	if (max && !json_is_object(max)) {
		snprintf(err, errlen, "\"maxAmps\" must be an object of Wall Connector ids");
		goto out;
	}
	json_object_foreach(max, key, v) {
		uint16_t id;

		if (core_text_hex16(key, 4, &id) < 0 || id == 0 || !json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 80) {
			snprintf(err, errlen, "maxAmps: \"%.8s\" must be a 4-hex-digit id with 0-80 amps", key);
			goto out;
		}
		if (gw_settings_set_max(out, id, (int)json_integer_value(v)) < 0) {
			snprintf(err, errlen, "maxAmps: more than %d Wall Connectors", TWC_MAX_KNOWN);
			goto out;
		}
	}
	v = json_object_get(doc, "policyBy");
	if (v) {
		if (!json_is_string(v) || !gw_settings_by_ok(json_string_value(v))) {
			snprintf(err, errlen, "policyBy: must be \"page\", \"api\" or \"mqtt\"");
			goto out;
		}
		snprintf(out->policy_by, sizeof(out->policy_by), "%s", json_string_value(v));
	}
	max = json_object_get(doc, "maxAmpsBy");
	if (max && !json_is_object(max)) {
		snprintf(err, errlen, "\"maxAmpsBy\" must be an object of Wall Connector ids");
		goto out;
	}
	json_object_foreach(max, key, v) {
		uint16_t id;
		int i;

		if (core_text_hex16(key, 4, &id) < 0 || !json_is_string(v) || !gw_settings_by_ok(json_string_value(v))) {
			snprintf(err, errlen, "maxAmpsBy: \"%.8s\" must be a 4-hex-digit id with page, api or mqtt", key);
			goto out;
		}
		for (i = 0; i < out->n_max && out->max[i].id != id; i++)
			;
		if (i < out->n_max) /* a "by" without its maximum says nothing: dropped */
			snprintf(out->max[i].by, sizeof(out->max[i].by), "%s", json_string_value(v));
	}
	rc = 0;
out:
	if (rc)
		gw_settings_clear(out);
	json_decref(doc);
	return rc;
}

int gw_settings_load(const char *dir, struct gw_settings *out, char *err, size_t errlen)
{
	char *text = NULL, why[160];
	size_t len = 0;
	int rc = gw_store_read(dir, GW_SETTINGS_FILE, &text, &len, SETTINGS_FILE_MAX);

	memset(out, 0, sizeof(*out));
	if (rc == -ENOENT)
		return 0;
	if (rc < 0) {
		snprintf(err, errlen, "%s/%s: %s", dir, GW_SETTINGS_FILE, strerror(-rc));
		return rc;
	}
	rc = gw_settings_parse(text, len, out, why, sizeof(why));
	free(text);
	if (rc < 0)
		snprintf(err, errlen, "%s/%s: %s", dir, GW_SETTINGS_FILE, why);
	return rc;
}

int gw_settings_save(const char *dir, const struct gw_settings *s)
{
	json_t *doc = json_pack("{s:i}", "version", 1), *max = json_object(), *by = json_object();
	char *text;
	int rc;

	if (!doc || !max || !by) {
		json_decref(doc);
		json_decref(max);
		json_decref(by);
		return -ENOMEM;
	}
	if (s->policy) {
		json_object_set(doc, "policy", s->policy);
		if (s->policy_by[0])
			json_object_set_new(doc, "policyBy", json_string(s->policy_by));
	}
	for (int i = 0; i < s->n_max; i++) {
		char id[8];

		snprintf(id, sizeof(id), "%04X", s->max[i].id);
		json_object_set_new(max, id, json_integer(s->max[i].amps));
		if (s->max[i].by[0])
			json_object_set_new(by, id, json_string(s->max[i].by));
	}
	json_object_set_new(doc, "maxAmps", max);
	json_object_set_new(doc, "maxAmpsBy", by);
	text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(doc);
	if (!text)
		return -ENOMEM;
	rc = gw_store_write(dir, GW_SETTINGS_FILE, text, strlen(text), 0640);
	free(text);
	return rc;
}

int gw_settings_max(const struct gw_settings *s, uint16_t id)
{
	for (int i = 0; i < s->n_max; i++)
		if (s->max[i].id == id)
			return s->max[i].amps;
	return -1;
}

int gw_settings_set_max(struct gw_settings *s, uint16_t id, int amps)
{
	for (int i = 0; i < s->n_max; i++) {
		if (s->max[i].id != id)
			continue;
		if (amps >= 0)
			s->max[i].amps = amps;
		else
			s->max[i] = s->max[--s->n_max];
		return 0;
	}
	if (amps < 0)
		return 0;
	if (s->n_max >= TWC_MAX_KNOWN)
		return -ENOSPC;
	s->max[s->n_max].id = id;
	s->max[s->n_max].amps = amps;
	s->max[s->n_max].by[0] = '\0';
	s->n_max++;
	return 0;
}

int gw_settings_by_ok(const char *by)
{
	return by && (!strcmp(by, "page") || !strcmp(by, "api") || !strcmp(by, "mqtt"));
}

const char *gw_settings_max_by(const struct gw_settings *s, uint16_t id)
{
	for (int i = 0; i < s->n_max; i++)
		if (s->max[i].id == id)
			return s->max[i].by;
	return "";
}
