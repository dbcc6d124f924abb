/*
 * ocpp_cs: the central system's side for the OCPP core tests that send the charge point requests
 * and check its answers field by field (test_ocpp_certs, test_ocpp_logfw, test_ocpp_security): a
 * CALL of any size, the exact CALLRESULT or the CALLERROR code it must get, where an answer or a
 * CALL stands among the frames sent, and the link dropping. Static inline on top of ocpp_fake.h, as
 * that is, so each test uses what it needs.
 */
#ifndef OCPP_CS_H
#define OCPP_CS_H

#include "ocpp_fake.h"

#define OCC "OccurenceConstraintViolation"
#define TYP "TypeConstraintViolation"
#define PRP "PropertyConstraintViolation"

static inline void fk_offline(struct fake *f)
{
	ocpp_cp_disconnected(f->cp, f->now);
	f->connected = false;
}

/* A central-system CALL of any size (fk_cs() stops at 4 KiB); return the answer frame (borrowed). */
static inline json_t *cs_call(struct fake *f, const char *action, const char *payload)
{
	size_t n = strlen(payload) + strlen(action) + 64, before = f->n_fr;
	char *buf = malloc(n), id[32];

	assert_non_null(buf);
	snprintf(id, sizeof(id), "cs-%d", ++f->cs_id);
	snprintf(buf, n, "[2,\"%s\",\"%s\",%s]", id, action, payload);
	fk_input(f, buf);
	free(buf);
	for (size_t i = before; i < f->n_fr; i++)
		if (f->fr[i].type != 2 && !strcmp(json_string_value(json_array_get(f->fr[i].j, 1)), id))
			return f->fr[i].j;
	fail_msg("no answer to %s", action);
	return NULL;
}

/* The CALLRESULT payload must be exactly @expected (JSON text). */
static inline void expect_result(struct fake *f, const char *action, const char *payload, const char *expected)
{
	json_t *r = cs_call(f, action, payload), *want = json_loads(expected, 0, NULL);

	assert_non_null(want);
	if (json_integer_value(json_array_get(r, 0)) != 3)
		fail_msg("%s %.200s: %s", action, payload, json_string_value(json_array_get(r, 2)));
	if (!json_equal(json_array_get(r, 2), want)) {
		char *got = json_dumps(json_array_get(r, 2), JSON_COMPACT), msg[2048];

		snprintf(msg, sizeof(msg), "%s", got ? got : "?");
		free(got);
		json_decref(want);
		fail_msg("%s %.200s: got %s, want %s", action, payload, msg, expected);
	}
	json_decref(want);
}

/* The answer must be a CALLERROR with @code, counted as a bad message. Return it (borrowed). */
static inline json_t *expect_error(struct fake *f, const char *action, const char *payload, const char *code)
{
	uint32_t bad = ocpp_cp_stats(f->cp)->rx_bad;
	json_t *r = cs_call(f, action, payload);

	if (json_integer_value(json_array_get(r, 0)) != 4)
		fail_msg("%s %.200s: answered with a CALLRESULT, want %s", action, payload, code);
	if (strcmp(json_string_value(json_array_get(r, 2)), code) != 0)
		fail_msg("%s %.200s: got %s (%s), want %s", action, payload, json_string_value(json_array_get(r, 2)),
			 json_string_value(json_array_get(r, 3)), code);
	assert_int_equal(ocpp_cp_stats(f->cp)->rx_bad, bad + 1);
	return r;
}

/* Index of the answer frame to central-system CALL @id. */
static inline size_t answer_index(const struct fake *f, const char *id)
{
	for (size_t i = 0; i < f->n_fr; i++)
		if (f->fr[i].type != 2 && !strcmp(json_string_value(json_array_get(f->fr[i].j, 1)), id))
			return i;
	fail_msg("no answer to %s", id);
	return 0;
}

/* The frame index of the CALL fk_expect() took last. */
static inline size_t cur_index(const struct fake *f)
{
	for (size_t i = f->n_fr; i-- > 0;)
		if (f->fr[i].type == 2 && !strcmp(json_string_value(json_array_get(f->fr[i].j, 1)), f->cur_id))
			return i;
	fail_msg("no CALL %s", f->cur_id);
	return 0;
}

/* @n times @c (free()). */
static inline char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

#endif
