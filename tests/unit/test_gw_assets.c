/*
 * test_gw_assets: the status page embedded in twcgw (cmake/embed_assets.cmake) is the page in web/, byte
 * for byte, with a content type, an ETag that is the content's hash, "/" as the HTML with the phone
 * viewport, and nothing that loads from another host or breaks the page's CSP. Prints the page weight.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "gw_assets.h"

#ifndef TWCGW_SOURCE_DIR
#error "TWCGW_SOURCE_DIR must be defined by the build"
#endif

/* Where each served path comes from; a new asset must be added here too, so none goes untested. */
static const struct {
	const char *path, *file, *type;
	int first_load; /* fetched when the page opens (the licence is only linked) */
} expected[] = {
	{ "/", "index.html", "text/html; charset=utf-8", 1 },
	{ "/app.js", "app.js", "text/javascript; charset=utf-8", 1 },
	{ "/style.css", "style.css", "text/css; charset=utf-8", 1 },
	{ "/uPlot.iife.min.js", "vendor/uplot/uPlot.iife.min.js", "text/javascript; charset=utf-8", 1 },
	{ "/uPlot.min.css", "vendor/uplot/uPlot.min.css", "text/css; charset=utf-8", 1 },
	{ "/uPlot.LICENSE.txt", "vendor/uplot/LICENSE", "text/plain; charset=utf-8", 0 },
};
#define EXPECTED_N (sizeof(expected) / sizeof(expected[0]))

/* The budget for our own files (index, script, styles), before uPlot. */
#define OWN_BUDGET_BYTES 40960

static char *slurp(const char *rel, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	assert_true((size_t)snprintf(path, sizeof(path), "%s/web/%s", TWCGW_SOURCE_DIR, rel) < sizeof(path));
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* The asset as a NUL-terminated string, for strstr; the caller frees it. */
static char *asset_text(const struct gw_asset *a)
{
	char *s = malloc(a->len + 1);

	assert_non_null(s);
	memcpy(s, a->data, a->len);
	s[a->len] = '\0';
	return s;
}

static void test_every_asset_is_the_file_in_web(void **state)
{
	const struct gw_asset *all;
	size_t n, i, j;

	(void)state;
	all = gw_assets_all(&n);
	assert_non_null(all);
	assert_int_equal(n, EXPECTED_N);
	for (i = 0; i < EXPECTED_N; i++) {
		const struct gw_asset *a = gw_asset_find(expected[i].path);
		unsigned char md[SHA256_DIGEST_LENGTH];
		char etag[19];
		size_t len;
		char *file;

		assert_non_null(a);
		assert_string_equal(a->path, expected[i].path);
		assert_string_equal(a->content_type, expected[i].type);
		assert_true(a->len > 0);
		/* Byte for byte what web/ holds now: the build regenerated it when a file changed. */
		file = slurp(expected[i].file, &len);
		assert_int_equal(a->len, len);
		assert_memory_equal(a->data, file, len);
		free(file);
		/* The ETag is the quoted start of the content's SHA-256: it changes exactly with the bytes. */
		SHA256(a->data, a->len, md);
		etag[0] = '"';
		for (j = 0; j < 8; j++)
			snprintf(etag + 1 + 2 * j, 3, "%02x", md[j]);
		etag[17] = '"';
		etag[18] = '\0';
		assert_string_equal(a->etag, etag);
	}
}

static void test_lookup(void **state)
{
	(void)state;
	assert_ptr_equal(gw_asset_find("/index.html"), gw_asset_find("/"));
	assert_ptr_equal(gw_asset_find("/app.js?v=2"), gw_asset_find("/app.js"));
	assert_ptr_equal(gw_asset_find("/?x"), gw_asset_find("/"));
	assert_null(gw_asset_find("/app.jsx"));
	assert_null(gw_asset_find("/app"));
	assert_null(gw_asset_find("/nothing"));
	assert_null(gw_asset_find("//"));
	assert_null(gw_asset_find(""));
	assert_null(gw_asset_find("app.js"));
	assert_null(gw_asset_find(NULL));
}

static void test_root_is_the_page_for_phones(void **state)
{
	const struct gw_asset *a = gw_asset_find("/");
	char *html;

	(void)state;
	assert_non_null(a);
	assert_string_equal(a->content_type, "text/html; charset=utf-8");
	html = asset_text(a);
	assert_non_null(strstr(html, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"));
	assert_non_null(strstr(html, "<meta charset=\"utf-8\">"));
	free(html);
}

/* Every src= and href= in the page names an embedded asset, or is a data: URL. */
static void test_page_references_resolve(void **state)
{
	const char *const attrs[] = { "src=\"", "href=\"" };
	char *html = asset_text(gw_asset_find("/"));
	size_t k, refs = 0;

	(void)state;
	for (k = 0; k < 2; k++) {
		const char *p = html;

		while ((p = strstr(p, attrs[k])) != NULL) {
			char ref[128] = "/";
			const char *v = p + strlen(attrs[k]);
			size_t len = strcspn(v, "\"");

			p = v + len;
			if (len >= 5 && memcmp(v, "data:", 5) == 0)
				continue;
			assert_true(len > 0 && len + 2 < sizeof(ref));
			/* Relative references (so the page works behind a proxy under a path) resolve from "/". */
			memcpy(ref + (v[0] == '/' ? 0 : 1), v, len);
			ref[len + (v[0] == '/' ? 0 : 1)] = '\0';
			if (gw_asset_find(ref) == NULL)
				fail_msg("index.html references %s, which is not embedded", ref);
			refs++;
		}
	}
	assert_true(refs >= 5); /* two scripts, two style sheets, the licence link */
	free(html);
}

/* Nothing is loaded from another host. In our own files no absolute URL at all; in uPlot none in an
 * attribute or url(), where it would be fetched (its banner comment names its home page). */
static void test_nothing_from_outside(void **state)
{
	const char *const loaders[] = { "src=", "href=", "url(", "@import", "EventSource(", "fetch(" };
	const struct gw_asset *all;
	size_t n, i, k;

	(void)state;
	all = gw_assets_all(&n);
	for (i = 0; i < n; i++) {
		char *s;

		if (strncmp(all[i].content_type, "text/plain", 10) == 0)
			continue; /* the licence text */
		s = asset_text(&all[i]);
		if (strncmp(all[i].path, "/uPlot", 6) != 0) {
			if (strstr(s, "http://") || strstr(s, "https://"))
				fail_msg("%s holds an absolute URL", all[i].path);
		}
		for (k = 0; k < sizeof(loaders) / sizeof(loaders[0]); k++) {
			const char *p = s;

			while ((p = strstr(p, loaders[k])) != NULL) {
				const char *v = p + strlen(loaders[k]);

				while (*v == ' ' || *v == '"' || *v == '\'' || *v == '`')
					v++;
				if (strncmp(v, "http:", 5) == 0 || strncmp(v, "https:", 6) == 0 || strncmp(v, "//", 2) == 0)
					fail_msg("%s loads from another host: %.60s", all[i].path, p);
				p = v;
			}
		}
		free(s);
	}
}

/* The CSP forbids inline script: every <script> has a src, no on*= handler attributes, no eval. */
static void test_page_fits_the_csp(void **state)
{
	char *html = asset_text(gw_asset_find("/"));
	char *js = asset_text(gw_asset_find("/app.js"));
	const char *p = html;
	int scripts = 0;

	(void)state;
	while ((p = strstr(p, "<script")) != NULL) {
		const char *end = strchr(p, '>');

		assert_non_null(end);
		if (!memmem(p, (size_t)(end - p), " src=", 5))
			fail_msg("inline <script> in index.html");
		assert_true(end[1] == '<' && strncmp(end + 1, "</script>", 9) == 0);
		scripts++;
		p = end;
	}
	assert_int_equal(scripts, 2);
	assert_null(strstr(html, " onclick="));
	assert_null(strstr(html, " onload="));
	assert_null(strstr(html, " onsubmit="));
	assert_null(strstr(js, "eval("));
	assert_null(strstr(js, "new Function"));
	assert_null(strstr(js, "innerHTML"));
	free(html);
	free(js);
}

static void test_page_weight(void **state)
{
	size_t n, i, total = 0, first = 0, own = 0;

	(void)state;
	assert_non_null(gw_assets_all(&n));
	for (i = 0; i < EXPECTED_N; i++) {
		const struct gw_asset *a = gw_asset_find(expected[i].path);

		print_message("  %-20s %7zu bytes%s\n", a->path, a->len, expected[i].first_load ? "" : " (linked only)");
		total += a->len;
		if (expected[i].first_load)
			first += a->len;
		if (strncmp(a->path, "/uPlot", 6) != 0)
			own += a->len;
	}
	assert_int_equal(n, EXPECTED_N);
	print_message("  page weight: %zu bytes on first load (own files %zu, uPlot %zu), %zu embedded in all\n",
		first, own, first - own, total);
	assert_true(own < OWN_BUDGET_BYTES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_asset_is_the_file_in_web),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_root_is_the_page_for_phones),
		cmocka_unit_test(test_page_references_resolve),
		cmocka_unit_test(test_nothing_from_outside),
		cmocka_unit_test(test_page_fits_the_csp),
		cmocka_unit_test(test_page_weight),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
