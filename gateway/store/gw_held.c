/*
 * gw_held: reads and writes dataDir/twc-held.json, the table of what each known Wall Connector may
 * hold. Format: {"version":1,"slaves":[{"id":"1A2B","protocol":2,"amps":16},...]}. A file we wrote is
 * trusted only as far as it parses exactly: a bad one is an error the operator must look at, never
 * silently "nothing held", since that is the one assumption that can overload the wiring.
 */
#include "gw_held.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core_text.h"
#include "gw_store.h"

#define HELD_FILE_MAX 4096

int gw_held_parse(const char *text, size_t len, struct twc_held *out, int cap, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr), *slaves, *e;
	size_t i;
	int n = 0, rc = -EINVAL;

	if (!doc) {
		snprintf(err, errlen, "not JSON (line %d)", jerr.line);
		return -EINVAL;
	}
	if (!json_is_object(doc) || json_integer_value(json_object_get(doc, "version")) != 1 ||
	    !json_is_integer(json_object_get(doc, "version"))) {
		snprintf(err, errlen, "not a version 1 table");
		goto out;
	}
	slaves = json_object_get(doc, "slaves");
	if (!json_is_array(slaves) || json_object_size(doc) != 2) {
		snprintf(err, errlen, "\"slaves\" missing or unknown keys");
		goto out;
	}
	json_array_foreach(slaves, i, e) {
		json_t *id = json_object_get(e, "id"), *pr = json_object_get(e, "protocol"),
		       *amps = json_object_get(e, "amps");
		struct twc_held h;

		if (n >= cap) {
			snprintf(err, errlen, "more than %d entries", cap);
			goto out;
		}
		if (!json_is_object(e) || json_object_size(e) != 3 || !json_is_string(id) ||
		    core_text_hex16(json_string_value(id), 4, &h.id) < 0 || !json_is_integer(pr) || !json_is_integer(amps) ||
		    json_integer_value(pr) < 0 || json_integer_value(pr) > 2 || json_integer_value(amps) < 1 ||
		    json_integer_value(amps) > 655) {
			snprintf(err, errlen, "entry %zu is not {\"id\": 4 hex digits, \"protocol\": 0-2, \"amps\": 1-655}",
				 i);
			goto out;
		}
		h.protocol = (uint8_t)json_integer_value(pr);
		h.amps = (int)json_integer_value(amps);
		out[n++] = h;
	}
	rc = n;
out:
	json_decref(doc);
	return rc;
}

char *gw_held_format(const struct twc_held *held, int n)
{
	json_t *doc = json_pack("{s:i, s:[]}", "version", 1, "slaves"), *arr;
	char *text = NULL;

	if (!doc)
		return NULL;
	arr = json_object_get(doc, "slaves");
	for (int k = 0; k < n; k++) {
		char id[5];

		snprintf(id, sizeof(id), "%04X", (unsigned)held[k].id);
		if (json_array_append_new(arr, json_pack("{s:s, s:i, s:i}", "id", id, "protocol",
							 (int)held[k].protocol, "amps", held[k].amps)) < 0)
			goto out;
	}
	text = json_dumps(doc, JSON_COMPACT);
out:
	json_decref(doc);
	return text;
}

int gw_held_load(const char *dir, struct twc_held *out, int cap, char *err, size_t errlen)
{
	char *text = NULL, why[128];
	size_t len = 0;
	int rc = gw_store_read(dir, GW_HELD_FILE, &text, &len, HELD_FILE_MAX);

	if (rc == -ENOENT)
		return 0;
	if (rc < 0) {
		snprintf(err, errlen, "cannot read %s/%s: %s", dir, GW_HELD_FILE, strerror(-rc));
		return rc;
	}
	rc = gw_held_parse(text, len, out, cap, why, sizeof(why));
	free(text);
	if (rc < 0)
		snprintf(err, errlen, "%s/%s: %s (it says what the Wall Connectors may hold; if they have all "
			 "been without a master for a minute, remove it)", dir, GW_HELD_FILE, why);
	return rc;
}

int gw_held_save(const char *dir, const struct twc_held *held, int n)
{
	char *text = gw_held_format(held, n);
	int rc;

	if (!text)
		return -ENOMEM;
	rc = gw_store_write(dir, GW_HELD_FILE, text, strlen(text), 0640);
	free(text);
	return rc;
}

int gw_held_check(const struct twc_need *need, int wiring_max_all, int wiring_max_per_twc, char *err,
		  size_t errlen)
{
	if (wiring_max_all < need->all) {
		snprintf(err, errlen, "twc.wiringMaxAmpsAllTWCs: %d A is below the %d A that %d Wall Connector%s "
			 "hold%s at least (a protocol 2 Wall Connector that was told any limit keeps 6 A); needs at "
			 "least %d", wiring_max_all, need->all, need->floored, need->floored == 1 ? "" : "s",
			 need->floored == 1 ? "s" : "", need->all);
		return -ERANGE;
	}
	if (wiring_max_per_twc < need->per_twc) {
		snprintf(err, errlen, "twc.wiringMaxAmpsPerTWC: %d A is below the %d A a protocol 2 Wall Connector "
			 "holding a limit keeps; needs at least %d", wiring_max_per_twc, need->per_twc, need->per_twc);
		return -ERANGE;
	}
	return 0;
}
