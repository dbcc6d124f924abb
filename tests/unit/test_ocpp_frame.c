/*
 * Tests of OCPP-J framing: good CALL, CALLRESULT and CALLERROR frames, every malformed-frame
 * classification (which CALLERROR, whether to answer, with which id), the size limit, the builders'
 * exact output and UTF-8-safe cutting, and that no prefix or mutation of a frame can crash the parser.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ocpp_frame.h"

static bool quick(void)
{
	return getenv("TWCGW_TEST_QUICK") != NULL;
}

static int parse(const char *text, struct ocpp_frame *f, struct ocpp_frame_fault *fault)
{
	return ocpp_frame_parse(text, strlen(text), f, fault);
}

static void test_error_names(void **state)
{
	(void)state;
	for (int e = OCPP_ERR_NOT_IMPLEMENTED; e <= OCPP_ERR_GENERIC; e++)
		assert_int_equal(ocpp_error_parse(ocpp_error_name((enum ocpp_error)e)), e);
	assert_string_equal(ocpp_error_name(OCPP_ERR_OCCURENCE_CONSTRAINT), "OccurenceConstraintViolation");
	assert_string_equal(ocpp_error_name(OCPP_ERR_FORMATION), "FormationViolation");
	assert_string_equal(ocpp_error_name(OCPP_ERR_NOT_IMPLEMENTED), "NotImplemented");
	assert_string_equal(ocpp_error_name((enum ocpp_error)99), "GenericError");
	assert_string_equal(ocpp_error_name(OCPP_ERR_NONE), "GenericError");
	assert_int_equal(ocpp_error_parse("OccurrenceConstraintViolation"), OCPP_ERR_OCCURENCE_CONSTRAINT);
	assert_int_equal(ocpp_error_parse("FormatViolation"), OCPP_ERR_FORMATION);
	assert_int_equal(ocpp_error_parse("SomethingElse"), OCPP_ERR_GENERIC);
	assert_int_equal(ocpp_error_parse("formationviolation"), OCPP_ERR_GENERIC);
	assert_int_equal(ocpp_error_parse(""), OCPP_ERR_GENERIC);
	assert_int_equal(ocpp_error_parse(NULL), OCPP_ERR_GENERIC);
}

static void test_parse_call(void **state)
{
	struct ocpp_frame f;
	struct ocpp_frame_fault fault;

	(void)state;
	assert_int_equal(parse("[2, \"19223201\", \"BootNotification\", {\"chargePointVendor\": \"Tesla\"}]", &f,
			       &fault), 0);
	assert_int_equal(f.type, OCPP_CALL);
	assert_string_equal(f.id, "19223201");
	assert_string_equal(f.action, "BootNotification");
	assert_true(json_is_object(f.payload));
	assert_string_equal(json_string_value(json_object_get(f.payload, "chargePointVendor")), "Tesla");
	assert_int_equal(fault.error, OCPP_ERR_NONE);
	ocpp_frame_clear(&f);
	assert_null(f.payload);
	ocpp_frame_clear(&f); /* twice is harmless */
	ocpp_frame_clear(NULL);

	/* An id of exactly 36 characters is fine; an unknown long action is cut, not refused. */
	assert_int_equal(parse("[2,\"123456789012345678901234567890123456\","
			       "\"AnActionNameThatIsMuchLongerThanFortyCharacters\",{}]", &f, &fault), 0);
	assert_int_equal(strlen(f.id), 36);
	assert_int_equal(strlen(f.action), OCPP_ACTION_MAX);
	assert_string_equal(f.action, "AnActionNameThatIsMuchLongerThanFortyCha");
	ocpp_frame_clear(&f);
}

static void test_parse_result_and_error(void **state)
{
	struct ocpp_frame f;
	struct ocpp_frame_fault fault;

	(void)state;
	assert_int_equal(parse("[3,\"a\",{}]", &f, &fault), 0);
	assert_int_equal(f.type, OCPP_CALLRESULT);
	assert_string_equal(f.id, "a");
	assert_int_equal(json_object_size(f.payload), 0);
	ocpp_frame_clear(&f);

	assert_int_equal(parse("[3,\"b\",{\"status\":\"Accepted\",\"currentTime\":\"2026-01-01T00:00:00Z\"}]", &f,
			       &fault), 0);
	assert_string_equal(json_string_value(json_object_get(f.payload, "status")), "Accepted");
	ocpp_frame_clear(&f);

	assert_int_equal(parse("[4,\"c\",\"OccurrenceConstraintViolation\",\"missing idTag\",{\"x\":1}]", &f,
			       &fault), 0);
	assert_int_equal(f.type, OCPP_CALLERROR);
	assert_string_equal(f.id, "c");
	assert_int_equal(f.error, OCPP_ERR_OCCURENCE_CONSTRAINT);
	assert_string_equal(f.error_code, "OccurrenceConstraintViolation");
	assert_string_equal(f.error_desc, "missing idTag");
	assert_int_equal(json_integer_value(json_object_get(f.payload, "x")), 1);
	ocpp_frame_clear(&f);

	assert_int_equal(parse("[4,\"d\",\"NotImplemented\",\"\",{}]", &f, &fault), 0);
	assert_int_equal(f.error, OCPP_ERR_NOT_IMPLEMENTED);
	ocpp_frame_clear(&f);

	/* An unknown code is kept as received (cut) and classed GenericError. */
	assert_int_equal(parse("[4,\"e\",\"VendorSpecificErrorCodeThatGoesOnAndOnForever\",\"x\",{}]", &f, &fault),
			 0);
	assert_int_equal(f.error, OCPP_ERR_GENERIC);
	assert_int_equal(strlen(f.error_code), OCPP_ACTION_MAX);
	ocpp_frame_clear(&f);
}

static void test_parse_error_desc_cut_utf8(void **state)
{
	struct ocpp_frame f;
	struct ocpp_frame_fault fault;
	char text[1024];
	size_t n;

	(void)state;
	/* 200 two-byte characters: the 255-byte cut must not split one. */
	n = (size_t)snprintf(text, sizeof(text), "[4,\"x\",\"InternalError\",\"");
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "\xc3\xa9");
	snprintf(text + n, sizeof(text) - n, "\",{}]");
	assert_int_equal(parse(text, &f, &fault), 0);
	assert_int_equal(strlen(f.error_desc), 254);
	assert_int_equal((unsigned char)f.error_desc[253], 0xa9);
	ocpp_frame_clear(&f);
}

struct bad_case {
	const char *text;
	bool reply;
	const char *id;
};

static const struct bad_case bad_cases[] = {
	{ "[2,\"id\",\"Heartbeat\",[]]", true, "id" },
	{ "[2,\"id\",\"Heartbeat\",null]", true, "id" },
	{ "[2,\"id\",\"Heartbeat\",\"{}\"]", true, "id" },
	{ "[2,5,\"X\",{}]", true, "-1" },
	{ "[2,null,\"X\",{}]", true, "-1" },
	{ "[9,\"a\"]", true, "a" },
	{ "[0,\"a\",\"Heartbeat\",{}]", true, "a" },
	{ "[-3,\"a\",{}]", true, "a" },
	{ "[\"2\",\"a\",\"Heartbeat\",{}]", true, "a" },
	{ "[2.0,\"a\",\"Heartbeat\",{}]", true, "a" },
	{ "[2,\"id\",\"Heartbeat\",{}", true, "-1" },
	{ "[2,\"id\",\"Heart", true, "-1" },
	{ "", true, "-1" },
	{ "   ", true, "-1" },
	{ "not json", true, "-1" },
	{ "{\"a\":1}", true, "-1" },
	{ "\"text\"", true, "-1" },
	{ "42", true, "-1" },
	{ "[]", true, "-1" },
	{ "[2]", true, "-1" },
	{ "[2,\"a\"]", true, "a" },
	{ "[2,\"a\",\"Heartbeat\"]", true, "a" },
	{ "[2,\"a\",\"Heartbeat\",{},{}]", true, "a" },
	{ "[2,\"a\",7,{}]", true, "a" },
	{ "[2,\"a\",null,{}]", true, "a" },
	{ "[2,\"a\",\"Heartbeat\",{}] trailing", true, "-1" },
	{ "[2,\"a\",\"Heartbeat\",{}][3,\"b\",{}]", true, "-1" },
	{ "[2,\"a\\u0000b\",\"Heartbeat\",{}]", true, "-1" },
	{ "[2,\"a\",\"Heartbeat\",{\"k\":\"\\u0000\"}]", true, "-1" },
	{ "[2,\"a\",\"Heartbeat\",{\"k\":1,}]", true, "-1" },
	{ "[2,\"\xff\",\"Heartbeat\",{}]", true, "-1" }, /* not UTF-8: not JSON */
	{ "[2,\"a\",\"Heartbeat\",{\"n\":123456789012345678901234567890}]", true, "-1" },
	/* Answers to our calls are never answered. */
	{ "[3,\"a\",[]]", false, "a" },
	{ "[3,\"a\",null]", false, "a" },
	{ "[3,\"a\"]", false, "a" },
	{ "[3,\"a\",{},{}]", false, "a" },
	{ "[3,5,{}]", false, "-1" },
	{ "[4,\"a\",\"GenericError\",\"x\"]", false, "a" },
	{ "[4,\"a\",1,\"x\",{}]", false, "a" },
	{ "[4,\"a\",\"GenericError\",null,{}]", false, "a" },
	{ "[4,\"a\",\"GenericError\",\"x\",[]]", false, "a" },
	{ "[4,7,\"GenericError\",\"x\",{}]", false, "-1" },
};

static void test_parse_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct ocpp_frame f;
		struct ocpp_frame_fault fault;

		int rc = parse(bad_cases[i].text, &f, &fault);

		if (rc != -EINVAL || fault.reply != bad_cases[i].reply || strcmp(fault.id, bad_cases[i].id) != 0)
			print_error("case %zu: %s\n", i, bad_cases[i].text);
		assert_int_equal(rc, -EINVAL);
		assert_int_equal(fault.error, OCPP_ERR_FORMATION);
		assert_int_equal(fault.reply, bad_cases[i].reply);
		assert_string_equal(fault.id, bad_cases[i].id);
		assert_true(fault.desc[0] != '\0');
		assert_null(f.payload);
		ocpp_frame_clear(&f);
	}
}

static void test_parse_embedded_nul_byte(void **state)
{
	static const char text[] = "[2,\"a\",\"Heartbeat\",{}]\0[2,\"b\",\"X\",{}]";
	static const char in_string[] = "[2,\"a\0b\",\"Heartbeat\",{}]";
	struct ocpp_frame f;
	struct ocpp_frame_fault fault;

	(void)state;
	assert_int_equal(ocpp_frame_parse(text, sizeof(text) - 1, &f, &fault), -EINVAL);
	assert_int_equal(fault.error, OCPP_ERR_FORMATION);
	assert_int_equal(ocpp_frame_parse(in_string, sizeof(in_string) - 1, &f, &fault), -EINVAL);
	assert_string_equal(fault.id, "-1");
	/* The length is honoured: the same bytes without the NUL part parse. */
	assert_int_equal(ocpp_frame_parse(text, strlen(text), &f, &fault), 0);
	ocpp_frame_clear(&f);
}

static void test_parse_long_id(void **state)
{
	struct ocpp_frame f;
	struct ocpp_frame_fault fault;

	(void)state;
	assert_int_equal(parse("[2,\"1234567890123456789012345678901234567890\",\"Heartbeat\",{}]", &f, &fault),
			 -EINVAL);
	assert_int_equal(fault.error, OCPP_ERR_FORMATION);
	assert_true(fault.reply);
	assert_string_equal(fault.id, "123456789012345678901234567890123456");
	assert_int_equal(parse("[3,\"1234567890123456789012345678901234567890\",{}]", &f, &fault), -EINVAL);
	assert_false(fault.reply);

	/* Cut on a character boundary: 35 ASCII then a 2-byte character does not fit in 36 bytes. */
	assert_int_equal(parse("[2,\"12345678901234567890123456789012345\xc3\xa9xyz\",\"Heartbeat\",{}]", &f,
			       &fault), -EINVAL);
	assert_string_equal(fault.id, "12345678901234567890123456789012345");
}

static void test_parse_size_limit(void **state)
{
	const char *head = "[2,\"a\",\"DataTransfer\",{\"data\":\"";
	const char *tail = "\"}]";
	size_t hl = strlen(head), tl = strlen(tail);
	char *text = malloc(OCPP_FRAME_MAX + 2);
	struct ocpp_frame f;
	struct ocpp_frame_fault fault;

	(void)state;
	assert_non_null(text);
	/* Exactly OCPP_FRAME_MAX bytes: accepted. */
	memcpy(text, head, hl);
	memset(text + hl, 'x', OCPP_FRAME_MAX - hl - tl);
	memcpy(text + OCPP_FRAME_MAX - tl, tail, tl);
	assert_int_equal(ocpp_frame_parse(text, OCPP_FRAME_MAX, &f, &fault), 0);
	assert_int_equal(json_string_length(json_object_get(f.payload, "data")), OCPP_FRAME_MAX - hl - tl);
	ocpp_frame_clear(&f);
	/* One byte more: refused before parsing, so the id is not known. */
	memmove(text + hl + 1, text + hl, OCPP_FRAME_MAX - hl);
	assert_int_equal(ocpp_frame_parse(text, OCPP_FRAME_MAX + 1, &f, &fault), -EINVAL);
	assert_int_equal(fault.error, OCPP_ERR_FORMATION);
	assert_true(fault.reply);
	assert_string_equal(fault.id, "-1");
	assert_null(f.payload);
	assert_int_equal(ocpp_frame_parse(NULL, 0, &f, &fault), -EINVAL);
	free(text);
}

static void test_build(void **state)
{
	json_t *p = json_pack("{s:s, s:i}", "status", "Accepted", "interval", 300);
	char *s;

	(void)state;
	s = ocpp_frame_call("42", "Heartbeat", NULL);
	assert_string_equal(s, "[2,\"42\",\"Heartbeat\",{}]");
	free(s);
	s = ocpp_frame_call("m1", "BootNotification", p);
	assert_string_equal(s, "[2,\"m1\",\"BootNotification\",{\"status\":\"Accepted\",\"interval\":300}]");
	free(s);
	s = ocpp_frame_result("m2", p);
	assert_string_equal(s, "[3,\"m2\",{\"status\":\"Accepted\",\"interval\":300}]");
	free(s);
	s = ocpp_frame_result("m3", NULL);
	assert_string_equal(s, "[3,\"m3\",{}]");
	free(s);
	s = ocpp_frame_error("m4", OCPP_ERR_OCCURENCE_CONSTRAINT, "'idTag' is required", NULL);
	assert_string_equal(s, "[4,\"m4\",\"OccurenceConstraintViolation\",\"'idTag' is required\",{}]");
	free(s);
	s = ocpp_frame_error("-1", OCPP_ERR_FORMATION, NULL, p);
	assert_string_equal(s, "[4,\"-1\",\"FormationViolation\",\"\",{\"status\":\"Accepted\",\"interval\":300}]");
	free(s);
	/* The borrowed payload is left as it was. */
	assert_int_equal(p->refcount, 1);
	json_decref(p);

	assert_null(ocpp_frame_call(NULL, "Heartbeat", NULL));
	assert_null(ocpp_frame_call("1", NULL, NULL));
	assert_null(ocpp_frame_result(NULL, NULL));
	assert_null(ocpp_frame_error(NULL, OCPP_ERR_GENERIC, "x", NULL));
	/* Not UTF-8: jansson refuses, and nothing leaks (valgrind checks). */
	assert_null(ocpp_frame_call("\xff", "Heartbeat", NULL));
	assert_null(ocpp_frame_result("\xff", NULL));
}

static void test_build_error_desc_cut(void **state)
{
	char desc[600], *s;
	struct ocpp_frame f;
	struct ocpp_frame_fault fault;
	size_t n = 0;

	(void)state;
	/* 'a' then three-byte characters: the cut at 255 bytes falls inside one and backs off. */
	desc[n++] = 'a';
	while (n + 3 < sizeof(desc)) {
		memcpy(desc + n, "\xe2\x82\xac", 3);
		n += 3;
	}
	desc[n] = '\0';
	s = ocpp_frame_error("z", OCPP_ERR_INTERNAL, desc, NULL);
	assert_non_null(s);
	assert_int_equal(ocpp_frame_parse(s, strlen(s), &f, &fault), 0);
	assert_int_equal(f.error, OCPP_ERR_INTERNAL);
	assert_int_equal(strlen(f.error_desc), 253);
	assert_memory_equal(f.error_desc, desc, 253);
	ocpp_frame_clear(&f);
	free(s);
}

static void test_roundtrip(void **state)
{
	json_t *p = json_pack("{s:s, s:[i,i], s:{s:b}}", "idTag", "ABC", "list", 1, 2, "o", "k", 1);
	struct ocpp_frame f;
	struct ocpp_frame_fault fault;
	char *s;

	(void)state;
	s = ocpp_frame_call("0f2c-11", "Authorize", p);
	assert_int_equal(ocpp_frame_parse(s, strlen(s), &f, &fault), 0);
	assert_int_equal(f.type, OCPP_CALL);
	assert_string_equal(f.id, "0f2c-11");
	assert_string_equal(f.action, "Authorize");
	assert_true(json_equal(f.payload, p));
	ocpp_frame_clear(&f);
	free(s);
	json_decref(p);
}

/* Every prefix of a good frame fails cleanly; single-byte mutations never crash or leak. */
static void test_prefixes_and_mutations(void **state)
{
	static const char good[] = "[2,\"abc\",\"StatusNotification\",{\"connectorId\":1,\"status\":\"Charging\","
				   "\"errorCode\":\"NoError\",\"info\":[1.5,true,null]}]";
	static const char alphabet[] = "[]{}\",:0123456789.-eE \\u\x00\xff" "2abcnull";
	char buf[sizeof(good)];
	uint32_t seed = 12345;
	int rounds = quick() ? 2000 : 50000;

	(void)state;
	for (size_t n = 0; n < sizeof(good) - 1; n++) {
		struct ocpp_frame f;
		struct ocpp_frame_fault fault;

		assert_int_equal(ocpp_frame_parse(good, n, &f, &fault), -EINVAL);
		assert_int_equal(fault.error, OCPP_ERR_FORMATION);
	}
	for (int r = 0; r < rounds; r++) {
		struct ocpp_frame f;
		struct ocpp_frame_fault fault;
		size_t len = sizeof(good) - 1;

		memcpy(buf, good, sizeof(good));
		for (int m = 0; m < 1 + r % 3; m++) {
			seed = seed * 1103515245u + 12345u;
			buf[(seed >> 8) % len] = alphabet[(seed >> 20) % (sizeof(alphabet) - 1)];
		}
		seed = seed * 1103515245u + 12345u;
		if (r % 5 == 0)
			len = (seed >> 8) % len;
		if (ocpp_frame_parse(buf, len, &f, &fault) == 0) {
			assert_non_null(f.payload);
			assert_true(strlen(f.id) <= OCPP_MSG_ID_MAX);
		} else {
			assert_null(f.payload);
			assert_true(strlen(fault.id) <= OCPP_MSG_ID_MAX);
		}
		ocpp_frame_clear(&f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_names),
		cmocka_unit_test(test_parse_call),
		cmocka_unit_test(test_parse_result_and_error),
		cmocka_unit_test(test_parse_error_desc_cut_utf8),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_embedded_nul_byte),
		cmocka_unit_test(test_parse_long_id),
		cmocka_unit_test(test_parse_size_limit),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_build_error_desc_cut),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_prefixes_and_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
