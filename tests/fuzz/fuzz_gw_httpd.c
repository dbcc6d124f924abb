/*
 * libFuzzer target for the HTTP server's request-head parser (gw_httpd_head_parse), the first code to
 * see what a network peer sends. Properties: no crash or UB; a refusal is 400..599; the head length
 * is within the input; every field lies inside the head, holds no CR/LF/NUL, and is followed by a
 * delimiter no other field covers (gw_httpd.c writes its NUL there); the same input gives the same
 * answer twice; and a prefix (cut where the first byte says) either waits for more or already gives
 * the whole input's answer, which it must once it holds the whole head. Both the server's limits and
 * tiny ones (so 413 and 431 are reached quickly) are checked.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_httpd_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_SPANS 8

static void spans_of(const struct gw_httpd_head *h, struct gw_httpd_span out[N_SPANS])
{
	out[0] = h->path;
	out[1] = h->query;
	out[2] = h->host;
	out[3] = h->origin;
	out[4] = h->authorization;
	out[5] = h->cookie;
	out[6] = h->content_type;
	out[7] = h->csrf;
}

static bool head_equal(const struct gw_httpd_head *a, const struct gw_httpd_head *b)
{
	struct gw_httpd_span sa[N_SPANS], sb[N_SPANS];

	spans_of(a, sa);
	spans_of(b, sb);
	for (int i = 0; i < N_SPANS; i++)
		if (sa[i].off != sb[i].off || sa[i].len != sb[i].len)
			return false;
	return a->status == b->status && a->why == b->why && a->head_len == b->head_len && a->method == b->method &&
	       a->is_head == b->is_head && a->http10 == b->http10 && a->content_length == b->content_length &&
	       a->keep_alive == b->keep_alive && a->expect_continue == b->expect_continue;
}

static void head_check(const char *buf, size_t size, const struct gw_httpd_limits *lim, int rc,
		       const struct gw_httpd_head *h)
{
	static const struct gw_httpd_head zero;
	struct gw_httpd_span sp[N_SPANS];

	if (rc == GW_HTTPD_PARSE_MORE) {
		/* Waiting is only right while the head may still end within the limit. */
		if (size >= lim->head_max || !head_equal(h, &zero))
			abort();
		return;
	}
	if (rc != GW_HTTPD_PARSE_DONE || !h->why)
		abort();
	if (h->head_len > size || h->head_len > lim->head_max)
		abort();
	if (h->status != 0 && (h->status < 400 || h->status > 599 || !h->why[0]))
		abort();
	if (h->status == 0 || h->status == 413) {
		if (!h->method || h->head_len < 4 || memcmp(buf + h->head_len - 4, "\r\n\r\n", 4) != 0)
			abort();
		if (h->path.len == 0 || buf[h->path.off] != '/')
			abort();
		if ((h->status == 413) != (h->content_length > lim->body_max))
			abort();
		if (!h->http10 && h->host.len == 0)
			abort();
	}
	if (h->status == 431 && h->head_len == 0 && size < lim->head_max)
		abort();
	spans_of(h, sp);
	for (int i = 0; i < N_SPANS; i++) {
		if (sp[i].len == 0)
			continue;
		/* Inside the head, with room for the NUL after it. */
		if (sp[i].off > h->head_len || sp[i].len >= h->head_len - sp[i].off)
			abort();
		for (size_t k = sp[i].off; k < sp[i].off + sp[i].len; k++)
			if (buf[k] == '\r' || buf[k] == '\n' || buf[k] == '\0')
				abort();
		size_t term = sp[i].off + sp[i].len;

		if (!memchr(" \t\r?#", buf[term], 5) || buf[term] == '\0')
			abort();
		for (int j = 0; j < N_SPANS; j++)
			if (sp[j].len && term >= sp[j].off && term < sp[j].off + sp[j].len)
				abort();
	}
}

static void run(const uint8_t *data, size_t size, const struct gw_httpd_limits *lim)
{
	const char *buf = (const char *)data;
	struct gw_httpd_head h, again, part;
	int rc = gw_httpd_head_parse(buf, size, lim, &h);

	head_check(buf, size, lim, rc, &h);
	if (gw_httpd_head_parse(buf, size, lim, &again) != rc || !head_equal(&h, &again))
		abort();

	/* The bytes so far, cut at a point the first byte picks, in a buffer of exactly that size so
	 * that reading past the cut is caught. */
	size_t cut = size ? (size_t)data[0] * size / 255 : 0;
	char *pre = malloc(cut ? cut : 1);

	if (!pre)
		return;
	memcpy(pre, buf, cut);
	int prc = gw_httpd_head_parse(pre, cut, lim, &part);

	head_check(pre, cut, lim, prc, &part);
	if (prc == GW_HTTPD_PARSE_DONE && (rc != prc || !head_equal(&h, &part)))
		abort(); /* an answer from fewer bytes must be the final one */
	if (rc == GW_HTTPD_PARSE_DONE && prc == GW_HTTPD_PARSE_MORE &&
	    ((h.head_len && cut >= h.head_len) || cut >= lim->head_max))
		abort(); /* the prefix held everything the answer depends on */
	free(pre);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct gw_httpd_limits server = { 8192, 100, 8192 }; /* gw_httpd.c's own, body_max default */
	uint8_t b = size ? data[0] : 0;
	const struct gw_httpd_limits tiny = { 16 + (size_t)b % 128, 1 + b % 4, b % 32 };

	run(data, size, &server);
	run(data, size, &tiny);
	return 0;
}
