/*
 * Tests of the authorization cache: case-insensitive idTags, replacement, least-recently-used
 * eviction (lookups count as use), expiry, refusal of unusable idTags, and the JSON round trip that
 * keeps recency order and skips bad entries. Also the Local Authorization List: full and
 * differential updates, the size limit that leaves the list as it was, expiry, and its file.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ocpp_auth.h"
#include "ocpp_local_list.h"

static int setup(void **state)
{
	*state = ocpp_auth_cache_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	ocpp_auth_cache_free(*state);
	return 0;
}

static struct ocpp_id_tag_info info(enum ocpp_auth_status st, int64_t expiry, const char *parent)
{
	struct ocpp_id_tag_info i = { .status = st, .expiry_ms = expiry };

	snprintf(i.parent, sizeof(i.parent), "%s", parent);
	return i;
}

static void put(struct ocpp_auth_cache *a, const char *tag, enum ocpp_auth_status st)
{
	struct ocpp_id_tag_info i = info(st, 0, "");

	ocpp_auth_cache_update(a, tag, &i);
}

static bool has(struct ocpp_auth_cache *a, const char *tag)
{
	return ocpp_auth_cache_lookup(a, tag, 0, NULL);
}

static void test_basic(void **state)
{
	struct ocpp_auth_cache *a = *state;
	struct ocpp_id_tag_info i = info(OCPP_AUTH_ACCEPTED, 0, "GROUP1"), out;

	assert_int_equal(ocpp_auth_cache_count(a), 0);
	assert_false(ocpp_auth_cache_lookup(a, "ABC123", 0, &out));
	ocpp_auth_cache_update(a, "ABC123", &i);
	assert_int_equal(ocpp_auth_cache_count(a), 1);
	memset(&out, 0x55, sizeof(out));
	assert_true(ocpp_auth_cache_lookup(a, "ABC123", 0, &out));
	assert_int_equal(out.status, OCPP_AUTH_ACCEPTED);
	assert_true(out.expiry_ms == 0);
	assert_string_equal(out.parent, "GROUP1");
	/* CiString: any case finds it. */
	assert_true(ocpp_auth_cache_lookup(a, "abc123", 0, &out));
	assert_true(ocpp_auth_cache_lookup(a, "AbC123", 0, &out));
	assert_false(has(a, "ABC1234"));
	assert_false(has(a, "ABC12"));
	/* Replacing under another spelling: still one entry, the new info. */
	i = info(OCPP_AUTH_BLOCKED, 0, "");
	ocpp_auth_cache_update(a, "abc123", &i);
	assert_int_equal(ocpp_auth_cache_count(a), 1);
	assert_true(ocpp_auth_cache_lookup(a, "ABC123", 0, &out));
	assert_int_equal(out.status, OCPP_AUTH_BLOCKED);
	assert_string_equal(out.parent, "");
	ocpp_auth_cache_clear(a);
	assert_int_equal(ocpp_auth_cache_count(a), 0);
	assert_false(has(a, "ABC123"));
}

static void test_refuses_bad_input(void **state)
{
	struct ocpp_auth_cache *a = *state;
	struct ocpp_id_tag_info i = info(OCPP_AUTH_ACCEPTED, 0, "");

	ocpp_auth_cache_update(a, "123456789012345678901", &i); /* 21: longer than an IdToken */
	ocpp_auth_cache_update(a, "", &i);
	ocpp_auth_cache_update(a, NULL, &i);
	ocpp_auth_cache_update(a, "X", NULL);
	i.status = OCPP_AUTH_COUNT;
	ocpp_auth_cache_update(a, "X", &i);
	assert_int_equal(ocpp_auth_cache_count(a), 0);
	i.status = OCPP_AUTH_CONCURRENT_TX;
	ocpp_auth_cache_update(a, "12345678901234567890", &i); /* exactly 20 */
	assert_int_equal(ocpp_auth_cache_count(a), 1);
	assert_true(has(a, "12345678901234567890"));
	assert_false(has(a, "123456789012345678901"));
	assert_false(has(a, NULL));
	assert_false(has(a, ""));
	/* A NULL cache is harmless everywhere. */
	assert_false(ocpp_auth_cache_lookup(NULL, "X", 0, NULL));
	ocpp_auth_cache_update(NULL, "X", &i);
	ocpp_auth_cache_clear(NULL);
	assert_int_equal(ocpp_auth_cache_count(NULL), 0);
	ocpp_auth_cache_free(NULL);
}

static void test_parent_cut(void **state)
{
	struct ocpp_auth_cache *a = *state;
	struct ocpp_id_tag_info i = info(OCPP_AUTH_ACCEPTED, 0, ""), out;

	/* A parent without a terminator within 21 bytes is taken as its first 20. */
	memset(i.parent, 'P', sizeof(i.parent));
	ocpp_auth_cache_update(a, "T", &i);
	assert_true(ocpp_auth_cache_lookup(a, "T", 0, &out));
	assert_int_equal(strlen(out.parent), OCPP_IDTAG_MAX);
}

static void test_expiry(void **state)
{
	struct ocpp_auth_cache *a = *state;
	struct ocpp_id_tag_info i = info(OCPP_AUTH_ACCEPTED, 1795255200000LL, ""), out;

	ocpp_auth_cache_update(a, "CARD", &i);
	assert_true(ocpp_auth_cache_lookup(a, "CARD", 1795255199999LL, &out));
	assert_int_equal(out.status, OCPP_AUTH_ACCEPTED);
	assert_true(ocpp_auth_cache_lookup(a, "CARD", 1795255200000LL, &out));
	assert_int_equal(out.status, OCPP_AUTH_EXPIRED);
	assert_true(out.expiry_ms == 1795255200000LL);
	/* Once expired it stays so (the spec has the entry changed to Expired). */
	assert_true(ocpp_auth_cache_lookup(a, "CARD", 0, &out));
	assert_int_equal(out.status, OCPP_AUTH_EXPIRED);
	/* A fresh IdTagInfo from the central system revives it. */
	i.expiry_ms = 1795255300000LL;
	ocpp_auth_cache_update(a, "card", &i);
	assert_true(ocpp_auth_cache_lookup(a, "CARD", 1795255200000LL, &out));
	assert_int_equal(out.status, OCPP_AUTH_ACCEPTED);

	/* No expiry: valid forever. */
	i = info(OCPP_AUTH_ACCEPTED, 0, "");
	ocpp_auth_cache_update(a, "FOREVER", &i);
	assert_true(ocpp_auth_cache_lookup(a, "FOREVER", INT64_MAX, &out));
	assert_int_equal(out.status, OCPP_AUTH_ACCEPTED);

	/* Any status past its expiry is reported Expired. */
	i = info(OCPP_AUTH_BLOCKED, 5000, "");
	ocpp_auth_cache_update(a, "BLK", &i);
	assert_true(ocpp_auth_cache_lookup(a, "BLK", 4999, &out));
	assert_int_equal(out.status, OCPP_AUTH_BLOCKED);
	assert_true(ocpp_auth_cache_lookup(a, "BLK", 6000, &out));
	assert_int_equal(out.status, OCPP_AUTH_EXPIRED);
}

static void fill(struct ocpp_auth_cache *a, int n, const char *prefix)
{
	for (int k = 0; k < n; k++) {
		char tag[OCPP_IDTAG_MAX + 1];

		snprintf(tag, sizeof(tag), "%s%d", prefix, k);
		put(a, tag, OCPP_AUTH_ACCEPTED);
	}
}

static void test_lru_eviction(void **state)
{
	struct ocpp_auth_cache *a = *state;

	fill(a, OCPP_AUTH_CACHE_MAX, "T");
	assert_int_equal(ocpp_auth_cache_count(a), OCPP_AUTH_CACHE_MAX);
	/* T0 is the oldest, but a lookup makes it the most recent; T1 goes next. */
	assert_true(has(a, "t0"));
	put(a, "NEW1", OCPP_AUTH_ACCEPTED);
	assert_int_equal(ocpp_auth_cache_count(a), OCPP_AUTH_CACHE_MAX);
	assert_true(has(a, "T0"));
	assert_false(has(a, "T1"));
	assert_true(has(a, "NEW1"));
	/* An update counts as use too. */
	put(a, "T2", OCPP_AUTH_INVALID);
	put(a, "NEW2", OCPP_AUTH_ACCEPTED);
	assert_true(has(a, "T2"));
	assert_false(has(a, "T3"));
	assert_true(has(a, "T4"));
	/* Replacing an entry never evicts another. */
	put(a, "T5", OCPP_AUTH_BLOCKED);
	assert_int_equal(ocpp_auth_cache_count(a), OCPP_AUTH_CACHE_MAX);
	assert_true(has(a, "T6"));
	/* A whole new set pushes every old one out. */
	fill(a, OCPP_AUTH_CACHE_MAX, "U");
	assert_int_equal(ocpp_auth_cache_count(a), OCPP_AUTH_CACHE_MAX);
	assert_false(has(a, "T0"));
	assert_false(has(a, "NEW2"));
	assert_true(has(a, "U0"));
	assert_true(has(a, "U255"));
}

static void test_json_roundtrip(void **state)
{
	struct ocpp_auth_cache *a = *state, *b = ocpp_auth_cache_new();
	struct ocpp_id_tag_info i = info(OCPP_AUTH_BLOCKED, 1795255200123LL, "FLEET"), out;
	json_t *j, *back;
	char *text;

	fill(a, OCPP_AUTH_CACHE_MAX - 1, "T");
	ocpp_auth_cache_update(a, "Special", &i);
	assert_true(has(a, "T0")); /* now the most recent; T1 the oldest */
	j = ocpp_auth_cache_to_json(a);
	assert_int_equal(json_array_size(j), OCPP_AUTH_CACHE_MAX);
	/* Oldest first. */
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "idTag")), "T1");
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, OCPP_AUTH_CACHE_MAX - 1), "idTag")),
			    "T0");
	const json_t *e = json_array_get(j, OCPP_AUTH_CACHE_MAX - 2);
	assert_string_equal(json_string_value(json_object_get(e, "idTag")), "Special");
	assert_string_equal(json_string_value(json_object_get(e, "status")), "Blocked");
	assert_true(json_integer_value(json_object_get(e, "expiry")) == 1795255200123LL);
	assert_string_equal(json_string_value(json_object_get(e, "parent")), "FLEET");

	text = json_dumps(j, 0);
	back = json_loads(text, 0, NULL);
	assert_int_equal(ocpp_auth_cache_load_json(b, back), 0);
	assert_int_equal(ocpp_auth_cache_count(b), OCPP_AUTH_CACHE_MAX);
	assert_true(ocpp_auth_cache_lookup(b, "SPECIAL", 0, &out));
	assert_int_equal(out.status, OCPP_AUTH_BLOCKED);
	assert_true(out.expiry_ms == 1795255200123LL);
	assert_string_equal(out.parent, "FLEET");
	/* Recency survived: the next insert evicts T1 in both caches. */
	put(b, "X", OCPP_AUTH_ACCEPTED);
	assert_false(has(b, "T1"));
	assert_true(has(b, "T0"));
	assert_true(has(b, "T2"));
	free(text);
	json_decref(back);
	json_decref(j);
	ocpp_auth_cache_free(b);

	/* An empty cache is an empty array. */
	ocpp_auth_cache_clear(a);
	j = ocpp_auth_cache_to_json(a);
	assert_true(json_is_array(j));
	assert_int_equal(json_array_size(j), 0);
	json_decref(j);
}

static void test_load_bad_entries(void **state)
{
	struct ocpp_auth_cache *a = *state;
	struct ocpp_id_tag_info out;
	json_t *j = json_loads("["
			       "{\"idTag\":\"GOOD1\",\"status\":\"Accepted\",\"expiry\":0,\"parent\":\"\"},"
			       "{\"idTag\":\"GOOD2\",\"status\":\"Invalid\"}," /* expiry and parent optional */
			       "42,"
			       "{\"status\":\"Accepted\"},"
			       "{\"idTag\":\"\",\"status\":\"Accepted\"},"
			       "{\"idTag\":\"123456789012345678901\",\"status\":\"Accepted\"},"
			       "{\"idTag\":7,\"status\":\"Accepted\"},"
			       "{\"idTag\":\"B1\"},"
			       "{\"idTag\":\"B2\",\"status\":\"accepted\"},"
			       "{\"idTag\":\"B3\",\"status\":\"Accepted\",\"expiry\":-1},"
			       "{\"idTag\":\"B4\",\"status\":\"Accepted\",\"expiry\":\"soon\"},"
			       "{\"idTag\":\"B5\",\"status\":\"Accepted\",\"parent\":\"123456789012345678901\"},"
			       "{\"idTag\":\"B6\",\"status\":\"Accepted\",\"parent\":null},"
			       "{\"idTag\":\"B7\",\"status\":\"Accepted\",\"expiry\":1.5}"
			       "]", 0, NULL);

	assert_non_null(j);
	assert_int_equal(ocpp_auth_cache_load_json(a, j), 12);
	assert_int_equal(ocpp_auth_cache_count(a), 2);
	assert_true(ocpp_auth_cache_lookup(a, "GOOD2", 0, &out));
	assert_int_equal(out.status, OCPP_AUTH_INVALID);
	assert_false(has(a, "B1"));
	json_decref(j);

	j = json_object();
	assert_int_equal(ocpp_auth_cache_load_json(a, j), -EINVAL);
	json_decref(j);
	assert_int_equal(ocpp_auth_cache_load_json(a, NULL), 0);
	assert_int_equal(ocpp_auth_cache_count(a), 2);
}

static void test_load_more_than_fits(void **state)
{
	struct ocpp_auth_cache *a = *state;
	json_t *j = json_array();

	for (int k = 0; k < OCPP_AUTH_CACHE_MAX + 10; k++) {
		char tag[OCPP_IDTAG_MAX + 1];

		snprintf(tag, sizeof(tag), "L%d", k);
		json_array_append_new(j, json_pack("{s:s,s:s}", "idTag", tag, "status", "Accepted"));
	}
	assert_int_equal(ocpp_auth_cache_load_json(a, j), 0);
	assert_int_equal(ocpp_auth_cache_count(a), OCPP_AUTH_CACHE_MAX);
	/* The newest (last) entries are the ones kept. */
	assert_false(has(a, "L9"));
	assert_true(has(a, "L10"));
	assert_true(has(a, "L265"));
	json_decref(j);
}

static void test_non_utf8_tag_not_persisted(void **state)
{
	struct ocpp_auth_cache *a = *state;
	json_t *j;

	put(a, "OK", OCPP_AUTH_ACCEPTED);
	put(a, "\xff\xfe", OCPP_AUTH_ACCEPTED);
	assert_int_equal(ocpp_auth_cache_count(a), 2);
	j = ocpp_auth_cache_to_json(a);
	assert_non_null(j);
	assert_int_equal(json_array_size(j), 1);
	json_decref(j);
}

static struct ocpp_local_entry entry(const char *tag, bool has_info, enum ocpp_auth_status st, int64_t expiry)
{
	struct ocpp_local_entry e = { .has_info = has_info };

	snprintf(e.id_tag, sizeof(e.id_tag), "%s", tag);
	e.info = info(st, expiry, "");
	return e;
}

static void test_local_list_updates(void **state)
{
	struct ocpp_local_list *l = ocpp_local_list_new();
	struct ocpp_local_entry e[4];
	struct ocpp_id_tag_info out;

	(void)state;
	assert_non_null(l);
	assert_int_equal(ocpp_local_list_version(l), 0);
	assert_false(ocpp_local_list_lookup(l, "A", 0, &out));
	/* full: entries without info are left out; a later duplicate wins; tags are CiStrings */
	e[0] = entry("A", true, OCPP_AUTH_ACCEPTED, 0);
	e[1] = entry("b", true, OCPP_AUTH_ACCEPTED, 1000);
	e[2] = entry("C", false, OCPP_AUTH_ACCEPTED, 0);
	e[3] = entry("a", true, OCPP_AUTH_BLOCKED, 0);
	assert_int_equal(ocpp_local_list_apply(l, 3, true, e, 4), 0);
	assert_int_equal(ocpp_local_list_version(l), 3);
	assert_int_equal(ocpp_local_list_count(l), 2);
	assert_true(ocpp_local_list_lookup(l, "A", 0, &out));
	assert_int_equal(out.status, OCPP_AUTH_BLOCKED);
	assert_false(ocpp_local_list_lookup(l, "C", 0, NULL));
	/* expiry: Expired from then on */
	assert_true(ocpp_local_list_lookup(l, "B", 999, &out));
	assert_int_equal(out.status, OCPP_AUTH_ACCEPTED);
	assert_true(ocpp_local_list_lookup(l, "B", 1000, &out));
	assert_int_equal(out.status, OCPP_AUTH_EXPIRED);
	/* differential: without info removes, with info adds or replaces */
	e[0] = entry("A", false, OCPP_AUTH_ACCEPTED, 0);
	e[1] = entry("D", true, OCPP_AUTH_ACCEPTED, 0);
	assert_int_equal(ocpp_local_list_apply(l, 4, false, e, 2), 0);
	assert_false(ocpp_local_list_lookup(l, "a", 0, NULL));
	assert_true(ocpp_local_list_lookup(l, "d", 0, NULL));
	assert_true(ocpp_local_list_lookup(l, "b", 0, NULL));
	assert_int_equal(ocpp_local_list_version(l), 4);
	/* bad input changes nothing */
	e[0] = entry("", true, OCPP_AUTH_ACCEPTED, 0);
	assert_int_equal(ocpp_local_list_apply(l, 5, true, e, 1), -EINVAL);
	assert_int_equal(ocpp_local_list_apply(l, -1, true, NULL, 0), -EINVAL);
	assert_int_equal(ocpp_local_list_version(l), 4);
	assert_int_equal(ocpp_local_list_count(l), 2);
	/* a full update with nothing empties it */
	assert_int_equal(ocpp_local_list_apply(l, 6, true, NULL, 0), 0);
	assert_int_equal(ocpp_local_list_count(l), 0);
	ocpp_local_list_free(l);
}

static void test_local_list_limit(void **state)
{
	struct ocpp_local_list *l = ocpp_local_list_new();
	struct ocpp_local_entry *e = calloc(OCPP_LOCAL_LIST_MAX + 1, sizeof(*e));

	(void)state;
	assert_non_null(l);
	assert_non_null(e);
	for (int i = 0; i <= OCPP_LOCAL_LIST_MAX; i++) {
		char tag[16];

		snprintf(tag, sizeof(tag), "T%d", i);
		e[i] = entry(tag, true, OCPP_AUTH_ACCEPTED, 0);
	}
	assert_int_equal(ocpp_local_list_apply(l, 1, true, e, OCPP_LOCAL_LIST_MAX), 0);
	assert_int_equal(ocpp_local_list_count(l), OCPP_LOCAL_LIST_MAX);
	/* one more: refused, and the list is what it was */
	assert_int_equal(ocpp_local_list_apply(l, 2, false, &e[OCPP_LOCAL_LIST_MAX], 1), -EOVERFLOW);
	assert_int_equal(ocpp_local_list_version(l), 1);
	assert_int_equal(ocpp_local_list_count(l), OCPP_LOCAL_LIST_MAX);
	assert_int_equal(ocpp_local_list_apply(l, 3, true, e, OCPP_LOCAL_LIST_MAX + 1), -EOVERFLOW);
	assert_int_equal(ocpp_local_list_version(l), 1);
	/* replacing one that is there still fits */
	e[0].info.status = OCPP_AUTH_BLOCKED;
	assert_int_equal(ocpp_local_list_apply(l, 4, false, e, 1), 0);
	free(e);
	ocpp_local_list_free(l);
}

static void test_local_list_json(void **state)
{
	struct ocpp_local_list *l = ocpp_local_list_new(), *m = ocpp_local_list_new();
	struct ocpp_local_entry e[2] = { entry("X1", true, OCPP_AUTH_ACCEPTED, 1767225600000LL),
					 entry("Y2", true, OCPP_AUTH_INVALID, 0) };
	struct ocpp_id_tag_info out;
	json_t *j, *bad;

	(void)state;
	snprintf(e[0].info.parent, sizeof(e[0].info.parent), "PARENT");
	assert_int_equal(ocpp_local_list_apply(l, 7, true, e, 2), 0);
	j = ocpp_local_list_to_json(l);
	assert_non_null(j);
	assert_int_equal(ocpp_local_list_load_json(m, j), 0);
	assert_int_equal(ocpp_local_list_version(m), 7);
	assert_true(ocpp_local_list_lookup(m, "x1", 0, &out));
	assert_int_equal(out.expiry_ms, 1767225600000LL);
	assert_string_equal(out.parent, "PARENT");
	assert_true(ocpp_local_list_lookup(m, "Y2", 0, &out));
	assert_int_equal(out.status, OCPP_AUTH_INVALID);
	/* anything wrong: refused whole, the list unchanged */
	bad = json_pack("{s:i,s:[{s:s,s:s}]}", "version", 9, "list", "idTag", "Z", "status", "Nope");
	assert_int_equal(ocpp_local_list_load_json(m, bad), -EINVAL);
	json_decref(bad);
	bad = json_pack("{s:i,s:[]}", "version", -2, "list");
	assert_int_equal(ocpp_local_list_load_json(m, bad), -EINVAL);
	json_decref(bad);
	assert_int_equal(ocpp_local_list_load_json(m, NULL), -EINVAL);
	assert_int_equal(ocpp_local_list_version(m), 7);
	assert_int_equal(ocpp_local_list_count(m), 2);
	json_decref(j);
	ocpp_local_list_free(l);
	ocpp_local_list_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parent_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lru_eviction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_bad_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_more_than_fits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_non_utf8_tag_not_persisted, setup, teardown),
		cmocka_unit_test(test_local_list_updates),
		cmocka_unit_test(test_local_list_limit),
		cmocka_unit_test(test_local_list_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
