/*
 * Tests of gw_curl, libcurl loaded on first use, and of what gw_http does around it. The tests run in
 * this order in one process, since the process-wide table is loaded once: a gw_http client made and
 * freed on a real loop maps no libcurl (nor does this test program: it does not link it); a library
 * that is missing, or lacks a function, gives -ENOSYS, a reason naming what is missing, and an all-NULL
 * table; with the process-wide load failed (a missing name given first), requests and transfers
 * fail with -ENOSYS, a Retry-After date cannot be read (delta seconds still can), and the error
 * naming the package libcurl4 is logged once; finally the real libcurl.so.4 resolves every function,
 * which behave as curl's own.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gw_curl.h"
#include "gw_http.h"
#include "gw_log.h"
#include "gw_loop.h"

#define NO_SUCH_LIB "libtwcgw-test-no-such-curl.so.4"

/* Whether /proc/self/maps shows a libcurl mapping. */
static bool curl_mapped(void)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "/libcurl"))
			found = true;
	fclose(f);
	return found;
}

static void done_never(void *user, const struct gw_http_resp *resp)
{
	(void)user;
	(void)resp;
	fail_msg("a request that could not start called back");
}

/* What the OCPP binding does in every configuration: make a client, never use it, free it. */
static void test_client_without_requests_maps_no_curl(void **state)
{
	static const struct gw_loop_handlers nh = { 0 };
	struct gw_loop *loop;
	struct gw_http *h;

	(void)state;
	assert_false(curl_mapped());
	loop = gw_loop_new(&nh);
	assert_non_null(loop);
	h = gw_http_new(loop);
	assert_non_null(h);
	assert_int_equal(gw_http_pending(h), 0);
	assert_int_equal(gw_http_cancel(h, 1), -ENOENT);
	gw_http_stop(h);
	gw_loop_free(loop);
	gw_http_free(h);
	assert_false(curl_mapped());
}

static void assert_table_empty(const struct gw_curl *t)
{
#define EMPTY(name) assert_null((void *)t->name);
	GW_CURL_FUNCS(EMPTY)
#undef EMPTY
}

static void test_open_missing_library(void **state)
{
	struct gw_curl t;
	char err[512] = "";

	(void)state;
	memset(&t, 0x5a, sizeof(t));
	assert_int_equal(gw_curl_open(NO_SUCH_LIB, &t, err, sizeof(err)), -ENOSYS);
	assert_non_null(strstr(err, NO_SUCH_LIB));
	assert_table_empty(&t);
	assert_false(curl_mapped());
}

/* A library that is there but is not libcurl (or a libcurl too old for one of the functions). */
static void test_open_missing_function(void **state)
{
	struct gw_curl t;
	char err[512] = "";

	(void)state;
	memset(&t, 0x5a, sizeof(t));
	assert_int_equal(gw_curl_open("libc.so.6", &t, err, sizeof(err)), -ENOSYS);
	assert_string_equal(err, "libc.so.6 has no curl_global_init (too old a libcurl?)");
	assert_table_empty(&t);
}

static int count_line(void *user, int64_t when_ms, enum gw_log_level level, const char *msg, size_t len)
{
	int *n = user;

	(void)when_ms;
	(void)len;
	if (level == GW_LOG_ERROR && strstr(msg, "libcurl cannot be loaded") &&
	    strstr(msg, "install the package " GW_CURL_PACKAGE) && strstr(msg, NO_SUCH_LIB))
		(*n)++;
	return 0;
}

static void test_requests_without_libcurl(void **state)
{
	static const struct gw_loop_handlers nh = { 0 };
	const struct gw_http_req req = { .method = "GET", .url = "http://127.0.0.1:9/" };
	const struct gw_http_xfer xfer = { .url = "http://127.0.0.1:9/fw.bin", .path = "/nonexistent/fw.bin" };
	struct gw_loop *loop;
	struct gw_http *h;
	int lines = 0;

	(void)state;
	gw_log_ring_clear();
	/* The first load decides for the process: gw_http's own gw_curl_get() gets this outcome. */
	assert_null(gw_curl_load(NO_SUCH_LIB));
	assert_null(gw_curl_get());
	loop = gw_loop_new(&nh);
	assert_non_null(loop);
	h = gw_http_new(loop);
	assert_non_null(h);
	assert_int_equal(gw_http_request(h, &req, done_never, NULL), -ENOSYS);
	assert_int_equal(gw_http_transfer(h, &xfer, done_never, NULL), -ENOSYS);
	assert_int_equal(gw_http_request(h, &req, done_never, NULL), -ENOSYS);
	/* Malformed requests are still told apart from a missing library. */
	assert_int_equal(gw_http_request(h, &(struct gw_http_req){ .method = "get", .url = "http://x/" }, done_never,
					 NULL),
			 -EINVAL);
	assert_int_equal(gw_http_pending(h), 0);
	assert_int_equal(gw_http_retry_after("120", 3, 0), 120);
	assert_int_equal(gw_http_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 29, 0), -1);
	gw_http_stop(h);
	gw_loop_free(loop);
	gw_http_free(h);
	gw_log_ring_foreach(count_line, &lines);
	assert_int_equal(lines, 1);
	assert_false(curl_mapped());
}

static void test_open_real_library(void **state)
{
	struct gw_curl t;
	char err[512] = "";
	char *esc;

	(void)state;
	assert_int_equal(gw_curl_open(GW_CURL_SONAME, &t, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_true(curl_mapped());
#define PRESENT(name) assert_non_null((void *)t.name);
	GW_CURL_FUNCS(PRESENT)
#undef PRESENT
	assert_string_equal(t.easy_strerror(CURLE_OK), "No error");
	assert_int_equal(t.getdate("Sun, 06 Nov 1994 08:49:37 GMT", NULL), 784111777);
	esc = t.easy_escape(NULL, "a b/c", 0);
	assert_non_null(esc);
	assert_string_equal(esc, "a%20b%2Fc");
	t.free(esc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_without_requests_maps_no_curl),
		cmocka_unit_test(test_open_missing_library),
		cmocka_unit_test(test_open_missing_function),
		cmocka_unit_test(test_requests_without_libcurl),
		cmocka_unit_test(test_open_real_library),
	};

	gw_log_set_level(GW_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
