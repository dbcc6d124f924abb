/*
 * gw_httpd_parse: the request-head parser of the gateway's HTTP server, apart from any connection so
 * that a fuzzer can drive it. It is strict on purpose (one Host, one Content-Length value, no chunked
 * bodies, no obsolete line folding, no control bytes): a lenient reading here is how requests get
 * smuggled past whatever sits in front of the gateway. It reads only the bytes it is given, and never
 * past the first blank line or head_max, whichever comes first.
 */
#include "gw_httpd_parse.h"

#include <string.h>
#include <strings.h>

#define CONTENT_LENGTH_DIGITS_MAX 15 /* fits an unsigned long long with room; far past any body_max */

static const char *const methods[] = { "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS" };

static bool token_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool span_is(const char *b, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(b, word, len) == 0;
}

static bool span_is_nocase(const char *b, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(b, word, len) == 0;
}

/* @tok is one element of the comma-separated list @v (@len bytes), compared without case. */
static bool list_has(const char *v, size_t len, const char *tok)
{
	const char *p = v, *end = v + len;

	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		const char *e = p;

		while (e < end && *e != ',')
			e++;
		const char *t = e;

		while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if (span_is_nocase(p, (size_t)(t - p), tok))
			return true;
		p = e;
	}
	return false;
}

/* Where "\r\n" first starts in [p, end), or NULL. */
static const char *crlf_find(const char *p, const char *end)
{
	for (; p + 1 < end; p++)
		if (p[0] == '\r' && p[1] == '\n')
			return p;
	return NULL;
}

static struct gw_httpd_span span_of(const char *buf, const char *b, const char *e)
{
	struct gw_httpd_span s = { (size_t)(b - buf), (size_t)(e - b) };

	return s;
}

static int refuse(struct gw_httpd_head *out, int status, const char *why)
{
	out->status = status;
	out->why = why;
	out->keep_alive = false;
	return GW_HTTPD_PARSE_DONE;
}

/* The request line [p, eol): METHOD SP target SP HTTP/1.x. 0, or the status to refuse with. */
static int request_line_parse(const char *buf, const char *p, const char *eol, struct gw_httpd_head *out,
			      const char **why)
{
	const char *sp1 = memchr(p, ' ', (size_t)(eol - p));
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;

	if (!sp1 || !sp2 || memchr(sp2 + 1, ' ', (size_t)(eol - sp2 - 1))) {
		*why = "request line is not METHOD SP target SP version";
		return 400;
	}
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (span_is(p, (size_t)(sp1 - p), methods[i]))
			out->method = methods[i];
	if (!out->method) {
		*why = "unknown method";
		return 501;
	}
	out->is_head = strcmp(out->method, "HEAD") == 0;

	const char *ver = sp2 + 1;
	size_t vlen = (size_t)(eol - ver);

	if (span_is(ver, vlen, "HTTP/1.1")) {
		out->http10 = false;
	} else if (span_is(ver, vlen, "HTTP/1.0")) {
		out->http10 = true;
	} else {
		bool http = vlen >= 5 && memcmp(ver, "HTTP/", 5) == 0;

		*why = http ? "HTTP version other than 1.0 or 1.1" : "no HTTP version";
		return http ? 505 : 400;
	}

	const char *t = sp1 + 1, *te = sp2;

	if (t == te || *t != '/') {
		*why = "request target is not an absolute path";
		return 400;
	}
	for (const char *k = t; k < te; k++) {
		if ((unsigned char)*k <= 0x20 || (unsigned char)*k >= 0x7f) {
			*why = "control, space or non-ASCII byte in the request target";
			return 400;
		}
	}
	const char *q = memchr(t, '?', (size_t)(te - t));
	const char *from = q ? q + 1 : t;
	const char *hash = memchr(from, '#', (size_t)(te - from));

	/* A fragment never belongs on the wire; drop it if a client sends one. */
	const char *pe = q ? q : hash ? hash : te;

	out->path = span_of(buf, t, pe);
	if (q)
		out->query = span_of(buf, q + 1, hash ? hash : te);
	return 0;
}

int gw_httpd_head_parse(const char *buf, size_t len, const struct gw_httpd_limits *lim, struct gw_httpd_head *out)
{
	struct gw_httpd_span *spans[] = { &out->host, &out->origin, &out->authorization, &out->cookie,
					  &out->content_type, &out->csrf };
	static const char *const span_names[] = { "Host", "Origin", "Authorization", "Cookie", "Content-Type",
						  "X-CSRF-Token" };
	bool seen[sizeof(spans) / sizeof(spans[0])] = { false };
	size_t scan = len < lim->head_max ? len : lim->head_max;
	bool have_clen = false, close = false, keep = false;
	const char *why = "";
	int n_hdr = 0, st;

	memset(out, 0, sizeof(*out));
	const char *blank = scan >= 4 ? memmem(buf, scan, "\r\n\r\n", 4) : NULL;

	if (!blank) {
		if (len >= lim->head_max)
			return refuse(out, 431, "request head too large");
		return GW_HTTPD_PARSE_MORE;
	}
	out->why = "";
	out->head_len = (size_t)(blank - buf) + 4;
	if (memchr(buf, '\0', out->head_len))
		return refuse(out, 400, "NUL in the request head");

	/* Lines end at the blank line's first CRLF, which ends the last header line (or the request line). */
	const char *end = blank + 2;
	const char *eol = crlf_find(buf, end);

	st = request_line_parse(buf, buf, eol, out, &why);
	if (st)
		return refuse(out, st, why);

	for (const char *p = eol + 2; p < end; p = eol + 2) {
		eol = crlf_find(p, end);
		if (++n_hdr > lim->headers_max)
			return refuse(out, 431, "too many header lines");
		if (*p == ' ' || *p == '\t')
			return refuse(out, 400, "obsolete header line folding");
		const char *colon = memchr(p, ':', (size_t)(eol - p));

		if (!colon || colon == p)
			return refuse(out, 400, "header line without a name and a colon");
		for (const char *k = p; k < colon; k++)
			if (!token_char((unsigned char)*k))
				return refuse(out, 400, "bad byte in a header name");
		const char *v = colon + 1, *ve = eol;

		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		for (const char *k = v; k < ve; k++)
			if (((unsigned char)*k < 0x20 && *k != '\t') || *k == 0x7f)
				return refuse(out, 400, "control byte in a header value");

		const char *name = p;
		size_t nlen = (size_t)(colon - p), vlen = (size_t)(ve - v);
		size_t slot = sizeof(spans) / sizeof(spans[0]);

		for (size_t i = 0; i < sizeof(spans) / sizeof(spans[0]); i++)
			if (span_is_nocase(name, nlen, span_names[i]))
				slot = i;
		if (slot < sizeof(spans) / sizeof(spans[0])) {
			/* One of each: two Hosts or two Authorizations is an attack or a bug (an empty one too). */
			if (seen[slot])
				return refuse(out, 400, "a header that may appear once appears twice");
			seen[slot] = true;
			*spans[slot] = span_of(buf, v, ve);
		} else if (span_is_nocase(name, nlen, "Transfer-Encoding")) {
			/* No chunked request bodies: Content-Length only, no smuggling. */
			return refuse(out, 501, "Transfer-Encoding in a request");
		} else if (span_is_nocase(name, nlen, "Content-Length")) {
			unsigned long long n = 0;

			if (vlen == 0 || vlen > CONTENT_LENGTH_DIGITS_MAX)
				return refuse(out, 400, "Content-Length is not a number");
			for (const char *k = v; k < ve; k++) {
				if (*k < '0' || *k > '9')
					return refuse(out, 400, "Content-Length is not a number");
				n = n * 10 + (unsigned long long)(*k - '0');
			}
			if (have_clen && n != out->content_length)
				return refuse(out, 400, "two different Content-Length values");
			have_clen = true;
			out->content_length = (size_t)n;
		} else if (span_is_nocase(name, nlen, "Connection")) {
			close = close || list_has(v, vlen, "close");
			keep = keep || list_has(v, vlen, "keep-alive");
		} else if (span_is_nocase(name, nlen, "Expect")) {
			if (!span_is_nocase(v, vlen, "100-continue"))
				return refuse(out, 417, "Expect other than 100-continue");
			out->expect_continue = true;
		}
	}
	if (!out->http10 && out->host.len == 0)
		return refuse(out, 400, "HTTP/1.1 request without a Host");
	out->keep_alive = out->http10 ? (keep && !close) : !close;
	if (out->content_length > lim->body_max) {
		/* The head is good: the server answers 413 knowing the method (HEAD: no body) and the length. */
		out->status = 413;
		out->why = "request body too large";
	}
	return GW_HTTPD_PARSE_DONE;
}
