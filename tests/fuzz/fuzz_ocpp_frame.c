/*
 * libFuzzer target for the inbound side of the OCPP core: any text must parse or be refused with a
 * fault we can answer (the CALLERROR must build); a CALL's payload is pushed through every field
 * reader with assorted limits, the config keys and the auth cache; and the input is also tried as a
 * timestamp, whose formatted form must parse back to the same instant.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp_auth.h"
#include "ocpp_config.h"
#include "ocpp_frame.h"
#include "ocpp_json.h"
#include "ocpp_types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whatever a reader recorded must be sendable back in a CALLERROR. */
static void check_perr(const struct ocpp_perr *e)
{
	char *s;

	if (e->error == OCPP_ERR_NONE)
		return;
	s = ocpp_frame_error("x", e->error, e->desc, NULL);
	if (!s)
		abort();
	free(s);
}

static void read_field(const json_t *payload, const char *key)
{
	static const size_t str_limits[] = { 0, 1, 20, 36, 50, 500 };
	static const int64_t int_limits[][2] = { { 0, 0 }, { 0, 100 }, { -1, 86400 }, { INT64_MIN, INT64_MAX } };
	char buf[501];
	const json_t *sub;
	int64_t i;
	double d;
	int idx;

	for (size_t n = 0; n < sizeof(str_limits) / sizeof(str_limits[0]); n++) {
		for (int req = 0; req < 2; req++) {
			struct ocpp_perr e = {0};
			int rc = ocpp_json_string(payload, key, str_limits[n], req, buf, str_limits[n] + 1, &e);

			if (rc == 1 && strlen(buf) > str_limits[n])
				abort();
			check_perr(&e);
		}
	}
	for (size_t n = 0; n < sizeof(int_limits) / sizeof(int_limits[0]); n++) {
		struct ocpp_perr e = {0};

		if (ocpp_json_int(payload, key, int_limits[n][0], int_limits[n][1], true, &i, &e) == 1 &&
		    (i < int_limits[n][0] || i > int_limits[n][1]))
			abort();
		check_perr(&e);
	}
	struct ocpp_perr e = {0};
	if (ocpp_json_number(payload, key, -1e9, 1e9, false, &d, &e) == 1 && !(d >= -1e9 && d <= 1e9))
		abort();
	if (ocpp_json_enum(payload, key, ocpp_cp_status_names, OCPP_ST_COUNT, false, &idx, &e) == 1 &&
	    (idx < 0 || idx >= OCPP_ST_COUNT))
		abort();
	(void)ocpp_json_enum(payload, key, ocpp_measurand_names, OCPP_MS_COUNT, true, &idx, &e);
	(void)ocpp_json_time(payload, key, false, &i, &e);
	(void)ocpp_json_object(payload, key, false, &sub, &e);
	if (ocpp_json_array(payload, key, true, &sub, &e) == 1 && !json_is_array(sub))
		abort();
	check_perr(&e);
}

static void check_call(const struct ocpp_frame *f)
{
	static const char *const allowed[] = { "connectorId", "idTag", "key", "value", "status", NULL };
	struct ocpp_config *cfg = ocpp_config_new();
	struct ocpp_auth_cache *auth = ocpp_auth_cache_new();
	struct ocpp_perr e = {0};
	const char *key;
	const json_t *v;
	char *text, *reply;

	if (!cfg || !auth)
		abort();
	json_object_foreach(f->payload, key, v)
		read_field(f->payload, key);
	(void)ocpp_json_only(f->payload, allowed, &e);
	check_perr(&e);

	/* The action as a key and the payload text as its value: any answer is fine, the table must hold. */
	text = json_dumps(f->payload, JSON_COMPACT);
	if (text) {
		int changed;
		enum ocpp_config_status st = ocpp_config_change(cfg, f->action, text, &changed);

		if ((unsigned)st >= OCPP_CFG_COUNT || (st == OCPP_CFG_ACCEPTED && changed < 0))
			abort();
		free(text);
	}
	/* And the real ChangeConfiguration shape, {"key": .., "value": ..}. */
	char ck[OCPP_CONFIG_KEY_MAX + 1], cv[OCPP_CONFIG_VALUE_MAX + 1];
	struct ocpp_perr ce = {0};
	if (ocpp_json_string(f->payload, "key", OCPP_CONFIG_KEY_MAX, true, ck, sizeof(ck), &ce) == 1 &&
	    ocpp_json_string(f->payload, "value", OCPP_CONFIG_VALUE_MAX, true, cv, sizeof(cv), &ce) == 1) {
		int k = -1;

		if (ocpp_config_change(cfg, ck, cv, &k) == OCPP_CFG_ACCEPTED &&
		    (k < 0 || strlen(ocpp_config_str(cfg, (enum ocpp_key)k)) > OCPP_CONFIG_VALUE_MAX))
			abort();
	}
	(void)ocpp_config_load_json(cfg, f->payload);
	json_t *saved = ocpp_config_to_json(cfg);
	json_decref(saved);

	char tag[OCPP_IDTAG_MAX + 1];
	struct ocpp_perr te = {0};
	if (ocpp_json_string(f->payload, "idTag", OCPP_IDTAG_MAX, false, tag, sizeof(tag), &te) == 1) {
		struct ocpp_id_tag_info in = { .status = OCPP_AUTH_ACCEPTED, .expiry_ms = 1 }, out;

		ocpp_auth_cache_update(auth, tag, &in);
		if (tag[0] && (!ocpp_auth_cache_lookup(auth, tag, 2, &out) || out.status != OCPP_AUTH_EXPIRED))
			abort();
	}

	/* What we received we can answer. */
	reply = ocpp_frame_result(f->id, f->payload);
	if (!reply)
		abort();
	free(reply);
	ocpp_auth_cache_free(auth);
	ocpp_config_free(cfg);
}

static void check_time(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), buf[OCPP_TIME_LEN + 1];
	int64_t t, back;

	if (!s)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	/* Within four-digit years, format -> parse is the identity. */
	if (ocpp_time_parse(s, &t) == 0 && t >= -62167219200000LL && t <= 253402300799999LL) {
		ocpp_time_format(t, buf, sizeof(buf));
		if (ocpp_time_parse(buf, &back) != 0 || back != t || strlen(buf) != OCPP_TIME_LEN)
			abort();
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ocpp_frame f;
	struct ocpp_frame_fault fault;

	if (ocpp_frame_parse((const char *)data, size, &f, &fault) == 0) {
		if (!json_is_object(f.payload) || strlen(f.id) > OCPP_MSG_ID_MAX)
			abort();
		if (f.type == OCPP_CALL)
			check_call(&f);
	} else {
		char *s = ocpp_frame_error(fault.id, fault.error, fault.desc, NULL);

		if (f.payload || fault.error != OCPP_ERR_FORMATION || !s)
			abort();
		free(s);
	}
	ocpp_frame_clear(&f);
	check_time(data, size);
	return 0;
}
