/*
 * gw_httpd_parse: reading an HTTP/1.1 request head (request line and header lines) out of the bytes a
 * connection has received so far. Pure code -- no sockets, no lws, no clock, no allocation -- so the
 * server (gw_httpd.c) and a libFuzzer target run the very same parser. It only reads its input: what
 * it finds comes back as offsets into it, which the server NUL-terminates in place.
 */
#ifndef GW_HTTPD_PARSE_H
#define GW_HTTPD_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* What a request head may be; past these the request is refused (431, 413). */
struct gw_httpd_limits {
	size_t head_max;    /* request line + headers + the blank line, in bytes */
	int headers_max;    /* header lines */
	size_t body_max;    /* a larger Content-Length is refused 413 */
};

/* Bytes @off..@off+@len of the input: never CR, LF or NUL; @len 0 when absent or empty. */
struct gw_httpd_span {
	size_t off, len;
};

struct gw_httpd_head {
	int status;                   /* 0, or the status to refuse the request with (400..599) */
	const char *why;              /* static text saying what was wrong (logs); "" when status is 0 */
	size_t head_len;              /* bytes of the head, the blank line included: the body follows.
				       * 0 when the head is too large to look at (431) */
	const char *method;           /* static: "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"; NULL
				       * when the request line did not get that far */
	bool is_head;                 /* HEAD: the answer carries no body */
	bool http10;
	struct gw_httpd_span path;    /* the target up to '?' (a '#' fragment after it dropped) */
	struct gw_httpd_span query;   /* after '?', up to '#' */
	struct gw_httpd_span host, origin, authorization, cookie, content_type, csrf;
	size_t content_length;        /* also on a refusal (as far as read): the server drains a body
				       * it refused instead of resetting the connection under its answer */
	bool keep_alive;              /* HTTP/1.1 unless "Connection: close"; 1.0 with "keep-alive" */
	bool expect_continue;         /* "Expect: 100-continue" */
};

enum gw_httpd_parse_rc {
	GW_HTTPD_PARSE_MORE = 0,      /* no blank line yet, and still under head_max: wait for bytes */
	GW_HTTPD_PARSE_DONE = 1,      /* a whole head: @out->status says whether it may go ahead */
};

/**
 * gw_httpd_head_parse() - parse the request head at the start of @buf (@len bytes received so far;
 * any byte may be NUL, none need follow). The answer depends on the head's bytes only: once a prefix
 * gives DONE, every longer input gives the same @out.
 * @out: filled on DONE (zeroed on MORE).
 * Return: GW_HTTPD_PARSE_MORE or GW_HTTPD_PARSE_DONE.
 */
int gw_httpd_head_parse(const char *buf, size_t len, const struct gw_httpd_limits *lim, struct gw_httpd_head *out);

#endif
