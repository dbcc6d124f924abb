/*
 * Tests of gw_httpd on a real gateway loop: the server listens on 127.0.0.1:0 and a forked child
 * plays the client with plain blocking sockets (OpenSSL for HTTPS), writing every response it got
 * into a pipe that the loop reads; the pipe's end of file stops the loop, and the assertions run on
 * the transcript and on what the handler saw. Covered: path and query split as sent, the request
 * headers handed over, a POST body with NULs intact, 413 and 429 without the handler, the security
 * headers, keep-alive (sequential and pipelined), HEAD, a 200 KB borrowed body, an event stream
 * getting the body then two pushes in order, streams_max (503), a stream closed by gw_httpd_stop,
 * status 0 (500), listen failures naming the address, HTTPS (and no TLS 1.1), and a small
 * keep-alive benchmark. A watchdog timer only guards against a hang.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libwebsockets.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "gw_httpd.h"
#include "gw_loop.h"
#include "gw_rawfd.h"

#define WATCHDOG_US (60 * LWS_US_PER_SEC)
#define BIG_LEN (200 * 1024)
#define RD_MAX (BIG_LEN + 8192)
#define SEP "\n#END#\n"

static const char csp[] = "Content-Security-Policy: default-src 'self'; img-src 'self' data:; style-src 'self' "
			  "'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
			  "form-action 'self'\r\n";
static char big[BIG_LEN];

/* ---- the fixture: a loop, a server, the pipe from the client child ---- */

struct fx {
	struct gw_loop *loop;
	struct gw_httpd *srv;
	lws_sorted_usec_list_t watchdog, push_sul;
	struct gw_rawfd rf;
	pid_t child;
	char *out;
	size_t out_len, out_cap;
	bool push_on_stream, stop_on_stream;
	int streams_seen;

	/* what the handler saw last */
	int calls;
	char method[16], path[256], query[256], host[64], origin[64], auth[64], cookie[64], ctype[64], csrf[64],
		peer[64];
	bool loopback, tls;
	char body[256];
	size_t body_len;
	bool body_nul_terminated;
};

static void watchdog_cb(lws_sorted_usec_list_t *sul)
{
	struct fx *f = lws_container_of(sul, struct fx, watchdog);

	gw_loop_stop(f->loop, -ETIME);
}

static void push_cb(lws_sorted_usec_list_t *sul)
{
	struct fx *f = lws_container_of(sul, struct fx, push_sul);

	if (f->stop_on_stream) {
		gw_httpd_stop(f->srv);
		return;
	}
	gw_httpd_push(f->srv, "tick", "{\"n\":1}", 7);
	gw_httpd_push(f->srv, "tick", "{\"n\":2}", 7);
}

static void copy_str(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s);
}

static void on_request(void *user, const struct gw_httpd_req *req, struct gw_httpd_resp *resp)
{
	struct fx *f = user;
	static const char ok[] = "{\"ok\":true}";

	f->calls++;
	copy_str(f->method, sizeof(f->method), req->method);
	copy_str(f->path, sizeof(f->path), req->path);
	copy_str(f->query, sizeof(f->query), req->query);
	copy_str(f->host, sizeof(f->host), req->host);
	copy_str(f->origin, sizeof(f->origin), req->origin);
	copy_str(f->auth, sizeof(f->auth), req->authorization);
	copy_str(f->cookie, sizeof(f->cookie), req->cookie);
	copy_str(f->ctype, sizeof(f->ctype), req->content_type);
	copy_str(f->csrf, sizeof(f->csrf), req->csrf);
	copy_str(f->peer, sizeof(f->peer), req->peer);
	f->loopback = req->listener_loopback;
	f->tls = req->tls;
	f->body_len = req->body_len;
	if (req->body_len < sizeof(f->body))
		memcpy(f->body, req->body, req->body_len);
	f->body_nul_terminated = req->body[req->body_len] == '\0';

	if (strcmp(req->path, "/echo") == 0) {
		resp->status = 200;
		resp->content_type = "application/octet-stream";
		resp->owned = malloc(req->body_len + 1);
		memcpy(resp->owned, req->body, req->body_len);
		resp->len = req->body_len;
	} else if (strcmp(req->path, "/big") == 0) {
		resp->status = 200;
		resp->content_type = "text/plain";
		resp->body = big;
		resp->len = sizeof(big);
	} else if (strcmp(req->path, "/events") == 0) {
		resp->status = 200;
		resp->stream = true;
		resp->body = ": hello\n\n";
		resp->len = 9;
		f->streams_seen++;
		if (f->push_on_stream || f->stop_on_stream)
			lws_sul_schedule(gw_loop_context(f->loop), 0, &f->push_sul, push_cb, 1000);
	} else if (strcmp(req->path, "/status0") == 0) {
		resp->owned = malloc(16); /* a handler that failed half-way: the server still frees it */
		memcpy(resp->owned, "partial", 8);
		resp->len = 7;
	} else {
		resp->status = 200;
		resp->body = ok;
		resp->len = sizeof(ok) - 1;
		snprintf(resp->headers, sizeof(resp->headers), "X-Test: yes\r\nCache-Control: no-cache\r\n");
	}
}

static int pipe_rx(void *owner)
{
	struct fx *f = owner;

	for (;;) {
		if (f->out_cap - f->out_len < 65536) {
			f->out_cap = f->out_cap ? f->out_cap * 2 : 1 << 20;
			f->out = realloc(f->out, f->out_cap);
			assert_non_null(f->out);
		}
		ssize_t n = read(f->rf.fd, f->out + f->out_len, f->out_cap - f->out_len - 1);

		if (n > 0) {
			f->out_len += (size_t)n;
			f->out[f->out_len] = '\0';
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		gw_loop_stop(f->loop, 0); /* the child is done */
		return -1;
	}
}

/* lws closes a raw file on POLLHUP without POLLIN: the child exited after its last write was read. */
static void pipe_closed(void *owner)
{
	struct fx *f = owner;

	gw_loop_stop(f->loop, 0);
}

static const struct gw_rawfd_ops pipe_ops = { .on_rx = pipe_rx, .on_close = pipe_closed };

static struct gw_httpd_handlers handlers_of(struct fx *f)
{
	struct gw_httpd_handlers h = { .user = f, .on_request = on_request };

	return h;
}

static int setup(void **state)
{
	static const struct gw_loop_handlers nh = { 0 };
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->loop = gw_loop_new(&nh);
	f->child = -1;
	if (!f->loop) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	/* main()'s order: stop the server, destroy the context, free the server. */
	gw_httpd_stop(f->srv);
	lws_sul_cancel(&f->watchdog);
	lws_sul_cancel(&f->push_sul);
	gw_loop_free(f->loop);
	gw_httpd_free(f->srv);
	if (f->child > 0)
		waitpid(f->child, NULL, 0);
	free(f->out);
	free(f);
	return 0;
}

static void server_start(struct fx *f, struct gw_httpd_config *cfg)
{
	struct gw_httpd_handlers h = handlers_of(f);
	char err[256] = "";

	if (!cfg->n_listen) {
		cfg->listen[0] = "127.0.0.1:0";
		cfg->n_listen = 1;
	}
	f->srv = gw_httpd_new(f->loop, cfg, &h, err, sizeof(err));
	if (!f->srv)
		fail_msg("gw_httpd_new: %s", err);
	assert_true(gw_httpd_port(f->srv, 0) > 0);
	assert_int_equal(gw_httpd_port(f->srv, 1), -1);
}

/* ---- the client child ---- */

struct rd {
	int fd;
	SSL *ssl;
	size_t len;
	char buf[RD_MAX];
};

static int out_fd = -1;

static void out_write(const void *p, size_t len)
{
	const char *c = p;

	while (len) {
		ssize_t n = write(out_fd, c, len);

		if (n <= 0)
			_exit(3);
		c += n;
		len -= (size_t)n;
	}
}

static int cl_connect(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tv = { .tv_sec = 30 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		_exit(4);
	return fd;
}

static void cl_send(struct rd *r, const void *p, size_t len)
{
	if (r->ssl) {
		if (SSL_write(r->ssl, p, (int)len) != (int)len)
			_exit(5);
		return;
	}
	if (send(r->fd, p, len, MSG_NOSIGNAL) != (ssize_t)len)
		_exit(5);
}

static void cl_sends(struct rd *r, const char *s)
{
	cl_send(r, s, strlen(s));
}

/* Read more; 0 at end of file. */
static ssize_t rd_more(struct rd *r)
{
	ssize_t n;

	if (r->len >= sizeof(r->buf))
		_exit(6);
	if (r->ssl)
		n = SSL_read(r->ssl, r->buf + r->len, (int)(sizeof(r->buf) - r->len));
	else
		n = recv(r->fd, r->buf + r->len, sizeof(r->buf) - r->len, 0);
	if (n > 0)
		r->len += (size_t)n;
	return n > 0 ? n : 0;
}

static void rd_consume(struct rd *r, size_t n)
{
	memmove(r->buf, r->buf + n, r->len - n);
	r->len -= n;
}

/* One response (headers, then Content-Length bytes unless @head_only, or up to EOF when there is no
 * Content-Length) into the transcript. */
static void rd_response(struct rd *r, bool head_only)
{
	char *end;
	size_t head, total;

	while (!(end = memmem(r->buf, r->len, "\r\n\r\n", 4)))
		if (!rd_more(r))
			goto eof;
	head = (size_t)(end - r->buf) + 4;
	char *cl = memmem(r->buf, head, "Content-Length: ", 16);

	if (strncmp(r->buf, "HTTP/1.1 1", 10) == 0) {
		total = head; /* an interim response has no body */
	} else if (!cl) {
		while (rd_more(r))
			;
		total = r->len;
	} else {
		total = head + (head_only ? 0 : strtoul(cl + 16, NULL, 10));
		while (r->len < total)
			if (!rd_more(r))
				goto eof;
	}
	out_write(r->buf, total);
	out_write(SEP, strlen(SEP));
	rd_consume(r, total);
	return;
eof:
	out_write(r->buf, r->len);
	out_write("<EOF>" SEP, strlen("<EOF>" SEP));
	r->len = 0;
}

static void rd_open(struct rd *r, int port)
{
	memset(r, 0, offsetof(struct rd, buf));
	r->fd = cl_connect(port);
}

typedef void (*client_fn)(int port, void *arg);

static void client_run(struct fx *f, client_fn fn, void *arg)
{
	int p[2];
	int port = gw_httpd_port(f->srv, 0);

	assert_int_equal(pipe(p), 0);
	f->child = fork();
	assert_true(f->child >= 0);
	if (f->child == 0) {
		close(p[0]);
		out_fd = p[1];
		fn(port, arg);
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(gw_rawfd_adopt(&f->rf, f->loop, p[0], false, &pipe_ops, f), 0);
	lws_sul_schedule(gw_loop_context(f->loop), 0, &f->watchdog, watchdog_cb, WATCHDOG_US);
	assert_int_equal(gw_loop_run(f->loop), 0);
	lws_sul_cancel(&f->watchdog);
	int st = 0;

	waitpid(f->child, &st, 0);
	f->child = -1;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* The @i-th response in the transcript (NUL-terminated copy in @buf), or NULL. */
static char *resp_nth(struct fx *f, int i, char *buf, size_t cap, size_t *len)
{
	const char *p = f->out;
	const char *end = f->out + f->out_len;

	for (int k = 0;; k++) {
		const char *sep = p < end ? memmem(p, (size_t)(end - p), SEP, strlen(SEP)) : NULL;

		if (!sep)
			return NULL;
		if (k == i) {
			size_t n = (size_t)(sep - p);

			assert_true(n < cap);
			memcpy(buf, p, n);
			buf[n] = '\0';
			if (len)
				*len = n;
			return buf;
		}
		p = sep + strlen(SEP);
	}
}

static int status_of(const char *r)
{
	return r && strncmp(r, "HTTP/1.1 ", 9) == 0 ? (int)strtol(r + 9, NULL, 10) : -1;
}

static const char *body_of(const char *r)
{
	const char *e = strstr(r, "\r\n\r\n");

	return e ? e + 4 : "";
}

/* ---- tests ---- */

static void cl_get_query(int port, void *arg)
{
	struct rd *r = malloc(sizeof(*r));

	(void)arg;
	rd_open(r, port);
	cl_sends(r, "GET /api/v1/status?since=5&x=%20y HTTP/1.1\r\nHost: gw.local:8080\r\nOrigin: http://gw.local\r\n"
		    "Authorization: Bearer abc\r\nCookie: s=1\r\nX-CSRF-Token: tok9\r\n\r\n");
	rd_response(r, false);
	free(r);
}

static void test_get_query_headers(void **state)
{
	struct fx *f = *state;
	struct gw_httpd_config cfg = { 0 };
	char r[4096];
	struct gw_httpd_stats st;

	server_start(f, &cfg);
	client_run(f, cl_get_query, NULL);
	assert_int_equal(f->calls, 1);
	assert_string_equal(f->method, "GET");
	assert_string_equal(f->path, "/api/v1/status");
	assert_string_equal(f->query, "since=5&x=%20y");
	assert_string_equal(f->host, "gw.local:8080");
	assert_string_equal(f->origin, "http://gw.local");
	assert_string_equal(f->auth, "Bearer abc");
	assert_string_equal(f->cookie, "s=1");
	assert_string_equal(f->csrf, "tok9");
	assert_string_equal(f->ctype, "");
	assert_string_equal(f->peer, "127.0.0.1");
	assert_true(f->loopback);
	assert_false(f->tls);
	assert_int_equal(f->body_len, 0);
	assert_true(f->body_nul_terminated);

	assert_non_null(resp_nth(f, 0, r, sizeof(r), NULL));
	assert_int_equal(status_of(r), 200);
	assert_non_null(strstr(r, csp));
	assert_non_null(strstr(r, "\r\nX-Content-Type-Options: nosniff\r\n"));
	assert_non_null(strstr(r, "\r\nX-Frame-Options: DENY\r\n"));
	assert_non_null(strstr(r, "\r\nReferrer-Policy: no-referrer\r\n"));
	assert_null(strstr(r, "Strict-Transport-Security"));
	assert_non_null(strstr(r, "\r\nContent-Type: application/json\r\n"));
	assert_non_null(strstr(r, "\r\nContent-Length: 11\r\n"));
	assert_non_null(strstr(r, "\r\nX-Test: yes\r\nCache-Control: no-cache\r\n\r\n"));
	assert_string_equal(body_of(r), "{\"ok\":true}");
	gw_httpd_stats(f->srv, &st);
	assert_int_equal(st.requests, 1);
	assert_true(st.bytes_out == strlen(r));
}

static void cl_post(int port, void *arg)
{
	struct rd *r = malloc(sizeof(*r));
	static const char req[] = "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Type: application/octet-stream\r\n"
				  "Content-Length: 7\r\n\r\nab\0cd\0e";

	(void)arg;
	rd_open(r, port);
	cl_send(r, req, sizeof(req) - 1);
	rd_response(r, false);
	/* A POST without a body, with Expect: 100-continue answered first. */
	cl_sends(r, "POST /empty HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
	rd_response(r, false);
	cl_sends(r, "PUT /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
	rd_response(r, false); /* the 100 */
	cl_sends(r, "xyz");
	rd_response(r, false);
	free(r);
}

static void test_post_body(void **state)
{
	struct fx *f = *state;
	struct gw_httpd_config cfg = { 0 };
	char r[4096];
	size_t len = 0;

	server_start(f, &cfg);
	client_run(f, cl_post, NULL);
	assert_int_equal(f->calls, 3);
	assert_non_null(resp_nth(f, 0, r, sizeof(r), &len));
	assert_int_equal(status_of(r), 200);
	assert_non_null(strstr(r, "Content-Type: application/octet-stream\r\nContent-Length: 7\r\n"));
	assert_memory_equal(r + len - 7, "ab\0cd\0e", 7);
	assert_non_null(resp_nth(f, 1, r, sizeof(r), NULL));
	assert_int_equal(status_of(r), 200);
	assert_non_null(resp_nth(f, 2, r, sizeof(r), NULL));
	assert_int_equal(status_of(r), 100);
	assert_non_null(resp_nth(f, 3, r, sizeof(r), NULL));
	assert_int_equal(status_of(r), 200);
	assert_string_equal(body_of(r), "xyz");
	/* The last request the handler saw. */
	assert_string_equal(f->method, "PUT");
	assert_int_equal(f->body_len, 3);
	assert_memory_equal(f->body, "xyz", 3);
	assert_true(f->body_nul_terminated);
}

static void cl_post_nul(int port, void *arg)
{
	struct rd *r = malloc(sizeof(*r));
	static const char req[] = "POST /echo?a=1 HTTP/1.1\r\nHost: h\r\nContent-Type: application/octet-stream\r\n"
				  "Content-Length: 7\r\n\r\nab\0cd\0e";

	(void)arg;
	rd_open(r, port);
	cl_send(r, req, sizeof(req) - 1);
	rd_response(r, false);
	free(r);
}

/* The handler's own view of a body with NULs inside. */
static void test_post_body_nul(void **state)
{
	struct fx *f = *state;
	struct gw_httpd_config cfg = { 0 };

	server_start(f, &cfg);
	client_run(f, cl_post_nul, NULL);
	assert_int_equal(f->calls, 1);
	assert_string_equal(f->method, "POST");
	assert_string_equal(f->path, "/echo");
	assert_string_equal(f->query, "a=1");
	assert_string_equal(f->ctype, "application/octet-stream");
	assert_int_equal(f->body_len, 7);
	assert_memory_equal(f->body, "ab\0cd\0e", 7);
	assert_true(f->body_nul_terminated);
}

static void cl_too_large(int port, void *arg)
{
	struct rd *r = malloc(sizeof(*r));
	char body[1000];

	(void)arg;
	memset(body, 'b', sizeof(body));
	rd_open(r, port);
	cl_sends(r, "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n");
	send(r->fd, body, sizeof(body), MSG_NOSIGNAL); /* may fail once the server has closed */
	rd_response(r, false);
	rd_response(r, false); /* then the end of file */
	free(r);
}

static void test_too_large(void **state)
{
	struct fx *f = *state;
	struct gw_httpd_config cfg = { .body_max = 64 };
	struct gw_httpd_stats st;
	char r[4096];

	server_start(f, &cfg);
	client_run(f, cl_too_large, NULL);
	assert_int_equal(f->calls, 0);
	assert_non_null(resp_nth(f, 0, r, sizeof(r), NULL));
	assert_int_equal(status_of(r), 413);
	assert_non_null(strstr(r, "\r\nConnection: close\r\n"));
	assert_non_null(strstr(r, csp));
	assert_string_equal(body_of(r), "{\"error\":\"request body too large\",\"limit\":64}");
	assert_non_null(resp_nth(f, 1, r, sizeof(r), NULL));
	assert_string_equal(r, "<EOF>");
	gw_httpd_stats(f->srv, &st);
	assert_int_equal(st.too_large, 1);
	assert_int_equal(st.requests, 0);
}

static void cl_five_gets(int port, void *arg)
{
	struct rd *r = malloc(sizeof(*r));

	(void)arg;
	rd_open(r, port);
	for (int i = 0; i < 5; i++) {
		cl_sends(r, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
		rd_response(r, false);
	}
	free(r);
}

static void test_rate_limit(void **state)
{
	struct fx *f = *state;
	struct gw_httpd_config cfg = { .rate_per_s = 1, .rate_burst = 3 };
	struct gw_httpd_stats st;
	char r[4096];

	server_start(f, &cfg);
	client_run(f, cl_five_gets, NULL);
	for (int i = 0; i < 3; i++) {
		assert_non_null(resp_nth(f, i, r, sizeof(r), NULL));
		assert_int_equal(status_of(r), 200);
	}
	/* A token a second: the fourth request, well within a second of the first, finds none. */
	assert_non_null(resp_nth(f, 3, r, sizeof(r), NULL));
	assert_int_equal(status_of(r), 429);
	assert_non_null(strstr(r, "\r\nRetry-After: 1\r\n"));
	assert_non_null(strstr(r, "X-Frame-Options: DENY"));
	gw_httpd_stats(f->srv, &st);
	assert_int_equal(f->calls, (int)st.requests);
	assert_int_equal(st.requests + st.rate_limited, 5);
	assert_true(st.rate_limited >= 1);
}

static void cl_keepalive(int port, void *arg)
{
	struct rd *r = malloc(sizeof(*r));

	(void)arg;
	rd_open(r, port);
	cl_sends(r, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
	rd_response(r, false);
	cl_sends(r, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
	rd_response(r, false);
	/* Pipelined: two requests in one write, answered in order. */
	cl_sends(r, "GET /c HTTP/1.1\r\nHost: h\r\n\r\nGET /d?q HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
	rd_response(r, false);
	rd_response(r, false);
	rd_response(r, false); /* end of file after Connection: close */
	free(r);
}

static void test_keepalive(void **state)
{
	struct fx *f = *state;
	struct gw_httpd_config cfg = { 0 };
	char r[4096];

	server_start(f, &cfg);
	client_run(f, cl_keepalive, NULL);
	assert_int_equal(f->calls, 4);
	for (int i = 0; i < 4; i++) {
		assert_non_null(resp_nth(f, i, r, sizeof(r), NULL));
		assert_int_equal(status_of(r), 200);
		assert_string_equal(body_of(r), "{\"ok\":true}");
	}
	assert_non_null(strstr(r, "\r\nConnection: close\r\n"));
	assert_string_equal(f->path, "/d");
	assert_string_equal(f->query, "q");
	assert_non_null(resp_nth(f, 4, r, sizeof(r), NULL));
	assert_string_equal(r, "<EOF>");
}

static void cl_head(int port, void *arg)
{
	struct rd *r = malloc(sizeof(*r));

	(void)arg;
	rd_open(r, port);
	cl_sends(r, "HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n");
	rd_response(r, true);
	cl_sends(r, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
	rd_response(r, false);
	free(r);
}

static void test_head(void **state)
{
	struct fx *f = *state;
	struct gw_httpd_config cfg = { 0 };
	char r[4096];

	server_start(f, &cfg);
	client_run(f, cl_head, NULL);
	assert_non_null(resp_nth(f, 0, r, sizeof(r), NULL));
	assert_int_equal(status_of(r), 200);
	assert_non_null(strstr(r, "\r\nContent-Length: 11\r\n"));
	assert_string_equal(body_of(r), "");
	/* Had the HEAD carried a body, the next response would not start with the status line. */
	assert_non_null(resp_nth(f, 1, r, sizeof(r), NULL));
	assert_int_equal(status_of(r), 200);
	assert_string_equal(body_of(r), "{\"ok\":true}");
	assert_string_equal(f->method, "GET");
}

static void cl_big(int port, void *arg)
{
	struct rd *r = malloc(sizeof(*r));

	(void)arg;
	rd_open(r, port);
	cl_sends(r, "GET /big HTTP/1.1\r\nHost: h\r\n\r\n");
	rd_response(r, false);
	free(r);
}

static void test_big_body(void **state)
{
	struct fx *f = *state;
	struct gw_httpd_config cfg = { 0 };
	char *r = malloc(RD_MAX);
	size_t len = 0;

	server_start(f, &cfg);
	client_run(f, cl_big, NULL);
	assert_non_null(resp_nth(f, 0, r, RD_MAX, &len));
	assert_int_equal(status_of(r), 200);
	assert_non_null(strstr(r, "\r\nContent-Length: 204800\r\n"));
	const char *b = body_of(r);

	assert_int_equal(len - (size_t)(b - r), BIG_LEN);
	assert_memory_equal(b, big, BIG_LEN);
	free(r);
}

static void cl_stream(int port, void *arg)
{
	struct rd *r = malloc(sizeof(*r));

	(void)arg;
	rd_open(r, port);
	cl_sends(r, "GET /events HTTP/1.1\r\nHost: h\r\n\r\n");
	/* Headers, the body, then two events. */
	while (!memmem(r->buf, r->len, "data: {\"n\":2}\n\n", 15))
		if (!rd_more(r))
			break;
	out_write(r->buf, r->len);
	out_write(SEP, strlen(SEP));
	free(r);
}

static void test_stream(void **state)
{
	struct fx *f = *state;
	struct gw_httpd_config cfg = { 0 };
	char r[4096];

	f->push_on_stream = true;
	server_start(f, &cfg);
	client_run(f, cl_stream, NULL);
	assert_non_null(resp_nth(f, 0, r, sizeof(r), NULL));
	assert_int_equal(status_of(r), 200);
	assert_non_null(strstr(r, "\r\nContent-Type: text/event-stream\r\n"));
	assert_non_null(strstr(r, "\r\nCache-Control: no-store\r\n"));
	assert_null(strstr(r, "Content-Length"));
	assert_non_null(strstr(r, "X-Content-Type-Options: nosniff"));
	assert_string_equal(body_of(r), ": hello\n\nevent: tick\ndata: {\"n\":1}\n\nevent: tick\ndata: {\"n\":2}\n\n");
}

static void cl_streams_max(int port, void *arg)
{
	struct rd *a = malloc(sizeof(*a));
	struct rd *b = malloc(sizeof(*b));

	(void)arg;
	rd_open(a, port);
	cl_sends(a, "GET /events HTTP/1.1\r\nHost: h\r\n\r\n");
	while (!memmem(a->buf, a->len, ": hello\n\n", 9))
		if (!rd_more(a))
			_exit(7);
	rd_open(b, port);
	cl_sends(b, "GET /events HTTP/1.1\r\nHost: h\r\n\r\n");
	rd_response(b, false);
	free(a);
	free(b);
}

static void test_streams_max(void **state)
{
	struct fx *f = *state;
	struct gw_httpd_config cfg = { .streams_max = 1 };
	char r[4096];

	server_start(f, &cfg);
	client_run(f, cl_streams_max, NULL);
	assert_int_equal(f->streams_seen, 2);
	assert_non_null(resp_nth(f, 0, r, sizeof(r), NULL));
	assert_int_equal(status_of(r), 503);
	assert_non_null(strstr(r, "Content-Type: application/json"));
}

static void cl_stream_until_eof(int port, void *arg)
{
	struct rd *r = malloc(sizeof(*r));

	(void)arg;
	rd_open(r, port);
	cl_sends(r, "GET /events HTTP/1.1\r\nHost: h\r\n\r\n");
	while (rd_more(r))
		;
	out_write(r->buf, r->len);
	out_write("<EOF>" SEP, strlen("<EOF>" SEP));
	free(r);
}

static void test_stop_closes_streams(void **state)
{
	struct fx *f = *state;
	struct gw_httpd_config cfg = { 0 };
	struct gw_httpd_stats st;
	char r[4096];

	f->stop_on_stream = true;
	server_start(f, &cfg);
	client_run(f, cl_stream_until_eof, NULL);
	assert_non_null(resp_nth(f, 0, r, sizeof(r), NULL));
	assert_int_equal(status_of(r), 200);
	assert_non_null(strstr(r, ": hello\n\n<EOF>"));
	gw_httpd_stats(f->srv, &st);
	assert_int_equal(st.streams, 0);
	assert_int_equal(gw_httpd_port(f->srv, 0), -1);
	gw_httpd_push(f->srv, "late", "{}", 2); /* harmless after stop */
}

static void cl_errors(int port, void *arg)
{
	struct rd *r = malloc(sizeof(*r));

	(void)arg;
	rd_open(r, port);
	cl_sends(r, "GET /status0 HTTP/1.1\r\nHost: h\r\n\r\n");
	rd_response(r, false);
	cl_sends(r, "GET /x HTTP/1.1\r\n\r\n"); /* no Host */
	rd_response(r, false);
	rd_open(r, port);
	cl_sends(r, "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
	rd_response(r, false);
	rd_open(r, port);
	cl_sends(r, "BREW /x HTTP/1.1\r\nHost: h\r\n\r\n");
	rd_response(r, false);
	free(r);
}

static void test_errors(void **state)
{
	struct fx *f = *state;
	struct gw_httpd_config cfg = { 0 };
	char r[4096];

	server_start(f, &cfg);
	client_run(f, cl_errors, NULL);
	assert_int_equal(f->calls, 1);
	assert_non_null(resp_nth(f, 0, r, sizeof(r), NULL));
	assert_int_equal(status_of(r), 500);
	assert_non_null(strstr(r, csp));
	assert_non_null(resp_nth(f, 1, r, sizeof(r), NULL));
	assert_int_equal(status_of(r), 400);
	assert_non_null(resp_nth(f, 2, r, sizeof(r), NULL));
	assert_int_equal(status_of(r), 501);
	assert_non_null(resp_nth(f, 3, r, sizeof(r), NULL));
	assert_int_equal(status_of(r), 501);
}

static void test_bad_listen(void **state)
{
	struct fx *f = *state;
	struct gw_httpd_handlers h = handlers_of(f);
	struct gw_httpd_config cfg = { .n_listen = 1 };
	char err[256], addr[64];
	struct gw_httpd *s;

	cfg.listen[0] = "127.0.0.1:http";
	assert_null(gw_httpd_new(f->loop, &cfg, &h, err, sizeof(err)));
	assert_non_null(strstr(err, "127.0.0.1:http"));

	cfg.listen[0] = "192.0.2.1:0"; /* TEST-NET-1: no interface of ours has it */
	assert_null(gw_httpd_new(f->loop, &cfg, &h, err, sizeof(err)));
	assert_non_null(strstr(err, "192.0.2.1:0"));
	assert_non_null(strstr(err, strerror(EADDRNOTAVAIL)));

	/* In use: a second server on the first one's port; the first listener of a two-address config
	 * is released again. */
	cfg.listen[0] = "127.0.0.1:0";
	server_start(f, &cfg);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", gw_httpd_port(f->srv, 0));
	cfg.listen[0] = "127.0.0.2:0";
	cfg.listen[1] = addr;
	cfg.n_listen = 2;
	s = gw_httpd_new(f->loop, &cfg, &h, err, sizeof(err));
	assert_null(s);
	assert_non_null(strstr(err, addr));
	assert_non_null(strstr(err, strerror(EADDRINUSE)));
}

static void test_ipv6_and_two_listeners(void **state)
{
	struct fx *f = *state;
	struct gw_httpd_handlers h = handlers_of(f);
	struct gw_httpd_config cfg = { .n_listen = 2, .listen = { "[::1]:0", "127.0.0.1:0" } };
	char err[256];

	f->srv = gw_httpd_new(f->loop, &cfg, &h, err, sizeof(err));
	if (!f->srv && strstr(err, strerror(EADDRNOTAVAIL)))
		skip(); /* no IPv6 loopback in this sandbox */
	assert_non_null(f->srv);
	assert_true(gw_httpd_port(f->srv, 0) > 0);
	assert_true(gw_httpd_port(f->srv, 1) > 0);
}

/* ---- HTTPS ---- */

static char tls_dir[64];
static char cert_path[128], key_path[128];

static int tls_files_make(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = X509_new();
	X509_NAME *name;
	FILE *fp;
	int ok = key && cert;

	ok = ok && X509_set_version(cert, 2) && ASN1_INTEGER_set(X509_get_serialNumber(cert), 1) &&
	     X509_gmtime_adj(X509_getm_notBefore(cert), -3600) && X509_gmtime_adj(X509_getm_notAfter(cert), 86400) &&
	     X509_set_pubkey(cert, key);
	name = ok ? X509_get_subject_name(cert) : NULL;
	ok = ok && name &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1", -1, -1, 0) &&
	     X509_set_issuer_name(cert, name) && X509_sign(cert, key, EVP_sha256()) > 0;
	snprintf(tls_dir, sizeof(tls_dir), "/tmp/test_gw_httpd.XXXXXX");
	ok = ok && mkdtemp(tls_dir);
	snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", tls_dir);
	snprintf(key_path, sizeof(key_path), "%s/key.pem", tls_dir);
	if (ok && (fp = fopen(cert_path, "w"))) {
		ok = PEM_write_X509(fp, cert) == 1;
		fclose(fp);
	} else {
		ok = 0;
	}
	if (ok && (fp = fopen(key_path, "w"))) {
		ok = PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL) == 1;
		fclose(fp);
	} else {
		ok = 0;
	}
	EVP_PKEY_free(key);
	X509_free(cert);
	return ok ? 0 : -1;
}

static void tls_files_remove(void)
{
	unlink(cert_path);
	unlink(key_path);
	rmdir(tls_dir);
}

static void cl_tls(int port, void *arg)
{
	struct rd *r = malloc(sizeof(*r));
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	(void)arg;
	rd_open(r, port);
	r->ssl = SSL_new(ctx);
	SSL_set_fd(r->ssl, r->fd);
	if (SSL_connect(r->ssl) != 1)
		_exit(8);
	cl_sends(r, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
	rd_response(r, false);
	cl_sends(r, "GET /y HTTP/1.1\r\nHost: h\r\n\r\n"); /* keep-alive through TLS too */
	rd_response(r, false);
	SSL_free(r->ssl);
	close(r->fd);

	/* A client that offers at most TLS 1.1 (and would accept it) must be refused. */
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_max_proto_version(ctx, TLS1_1_VERSION);
	rd_open(r, port);
	r->ssl = SSL_new(ctx);
	SSL_set_fd(r->ssl, r->fd);
	out_write(SSL_connect(r->ssl) == 1 ? "TLS1.1 accepted" SEP : "TLS1.1 refused" SEP,
		  strlen("TLS1.1 accepted" SEP));
	SSL_free(r->ssl);
	close(r->fd);
	SSL_CTX_free(ctx);
	free(r);
}

static void test_tls(void **state)
{
	struct fx *f = *state;
	struct gw_httpd_config cfg = { 0 };
	char r[4096];

	assert_int_equal(tls_files_make(), 0);
	cfg.cert_file = cert_path;
	cfg.key_file = key_path;
	server_start(f, &cfg);
	client_run(f, cl_tls, NULL);
	tls_files_remove();
	assert_int_equal(f->calls, 2);
	assert_true(f->tls);
	assert_non_null(resp_nth(f, 0, r, sizeof(r), NULL));
	assert_int_equal(status_of(r), 200);
	assert_non_null(strstr(r, "\r\nStrict-Transport-Security: max-age="));
	assert_non_null(strstr(r, csp));
	assert_non_null(resp_nth(f, 1, r, sizeof(r), NULL));
	assert_int_equal(status_of(r), 200);
	assert_non_null(resp_nth(f, 2, r, sizeof(r), NULL));
	assert_string_equal(r, "TLS1.1 refused");
}

static void test_tls_bad_cert(void **state)
{
	struct fx *f = *state;
	struct gw_httpd_handlers h = handlers_of(f);
	struct gw_httpd_config cfg = { .n_listen = 1, .listen = { "127.0.0.1:0" } };
	char err[256];

	cfg.cert_file = "/nonexistent/cert.pem";
	cfg.key_file = "/nonexistent/key.pem";
	assert_null(gw_httpd_new(f->loop, &cfg, &h, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/cert.pem"));
}

/* ---- a small benchmark: keep-alive GETs, one at a time ---- */

static void cl_bench(int port, void *arg)
{
	struct rd *r = malloc(sizeof(*r));
	int n = *(int *)arg;
	struct timespec t0, t1;
	char line[128];
	int ok = 0;

	rd_open(r, port);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		char *end;

		cl_sends(r, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
		while (!(end = memmem(r->buf, r->len, "\r\n\r\n", 4)) || r->len < (size_t)(end - r->buf) + 4 + 11)
			if (!rd_more(r))
				_exit(9);
		ok += strncmp(r->buf, "HTTP/1.1 200", 12) == 0;
		rd_consume(r, (size_t)(end - r->buf) + 4 + 11);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	int k = snprintf(line, sizeof(line), "ok=%d rate=%.0f" SEP, ok, n / s);

	out_write(line, (size_t)k);
	free(r);
}

static void test_bench(void **state)
{
	struct fx *f = *state;
	struct gw_httpd_config cfg = { .rate_per_s = 1000000, .rate_burst = 1000000 };
	int n = getenv("TWCGW_TEST_QUICK") ? 200 : 5000;
	char r[256], want[32];

	server_start(f, &cfg);
	client_run(f, cl_bench, &n);
	assert_non_null(resp_nth(f, 0, r, sizeof(r), NULL));
	snprintf(want, sizeof(want), "ok=%d ", n);
	assert_non_null(strstr(r, want));
	print_message("keep-alive GET, one at a time: %s requests/s (%d requests)\n", strstr(r, "rate=") + 5, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_query_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_post_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_post_body_nul, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_streams_max, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_closes_streams, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_listen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_and_two_listeners, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_bad_cert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bench, setup, teardown),
	};

	/* TEST_FILTER=name runs the matching tests only (while working on one). */
	if (getenv("TEST_FILTER"))
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + (i * 7 + i / 251) % 26);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
