/*
 * Tests of gw_http on a real gateway loop against a plain-HTTP server of our own, run in a forked
 * child: a poll() loop on 127.0.0.1 that answers canned responses by request path. Covered: a 200
 * with a JSON body, by address and by name; a POST's method, body, Content-Type and bearer arriving
 * as sent; Retry-After as delta seconds and as an HTTP date; connection refused; a server that never
 * answers; answers over max_body (announced and chunked); several requests in flight at once;
 * keep-alive reuse of a connection after lws closed its dup of the socket; done callbacks never
 * running inside gw_http_request(); and gw_http_stop()/gw_http_free() with requests in flight (no
 * callback, no leak). Every test stops its loop from a done callback; a watchdog timer only guards
 * against a hang.
 *
 * Pinning runs against a second child: a TLS server with a self-signed EC certificate made here, one
 * connection at a time, that answers every request with how many requests (and Authorization
 * headers) it has seen in all. Covered: a probe reports the key's pin and sends no request; a request
 * pinned to that key goes through; one pinned to another key fails with -EKEYREJECTED, reports the
 * key it saw, and never reaches the server's HTTP layer (the counts do not move); a pinned request
 * never reuses a connection an unpinned one left open; and the requests that mix trust settings or
 * carry a malformed pin are refused.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libwebsockets.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "gw_http.h"
#include "gw_log.h"
#include "gw_loop.h"

#define WATCHDOG_US (60 * LWS_US_PER_SEC)
#define MAX_CONNS 64
#define CONN_BUF 16384
#define BODY_MAX 8192

/* ---- the server child ---- */

static int server_port;
static pid_t server_pid = -1;
static int server_ctl = -1; /* closing it tells the child to exit */

struct conn {
	int fd;
	int id;
	int reqs;
	size_t len;
	char buf[CONN_BUF];
};

static void send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void respond(int fd, int status, const char *extra, const char *body, size_t len)
{
	char head[512];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n", status, len, extra);

	send_all(fd, head, (size_t)n);
	send_all(fd, body, len);
}

static size_t content_length(const char *head, size_t head_len)
{
	const char *p = head;
	const char *end = head + head_len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			break;
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			return (size_t)strtoul(p + 15, NULL, 10);
		p = nl + 1;
	}
	return 0;
}

/* Answer one complete request of @len bytes at the start of c->buf. */
static void serve(struct conn *c, size_t len)
{
	char path[256] = "";
	char body[512];
	char extra[128];
	static char big[5000];
	int n;

	/* The request target: the second word of the request line. */
	const char *sp = strchr(c->buf, ' ');
	if (sp) {
		size_t k = 0;

		for (sp++; *sp && *sp != ' ' && *sp != '\r' && *sp != '\n' && k + 1 < sizeof(path); sp++)
			path[k++] = *sp;
		path[k] = '\0';
	}
	c->reqs++;
	if (strcmp(path, "/json") == 0) {
		respond(c->fd, 200, "Content-Type: application/json\r\n", "{\"ok\":true}", 11);
	} else if (strcmp(path, "/echo") == 0) {
		respond(c->fd, 200, "", c->buf, len);
	} else if (strcmp(path, "/429") == 0) {
		respond(c->fd, 429, "Retry-After: 120\r\n", "{\"error\":\"slow down\"}", 21);
	} else if (strcmp(path, "/429date") == 0) {
		time_t t = time(NULL) + 120;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(extra, sizeof(extra), "Retry-After: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
		respond(c->fd, 429, extra, "", 0);
	} else if (strcmp(path, "/never") == 0) {
		/* Hold the connection open and silent until the client gives up. */
	} else if (strcmp(path, "/big") == 0) {
		memset(big, 'x', sizeof(big));
		respond(c->fd, 200, "", big, sizeof(big));
	} else if (strcmp(path, "/bigchunked") == 0) {
		/* No Content-Length up front: only counting the body can catch this. */
		static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

		memset(big, 'y', sizeof(big));
		send_all(c->fd, head, sizeof(head) - 1);
		for (int i = 0; i < 5; i++) {
			send_all(c->fd, "3e8\r\n", 5);
			send_all(c->fd, big, 1000);
			send_all(c->fd, "\r\n", 2);
		}
		send_all(c->fd, "0\r\n\r\n", 5);
	} else if (strcmp(path, "/count") == 0) {
		n = snprintf(body, sizeof(body), "conn=%d req=%d", c->id, c->reqs);
		respond(c->fd, 200, "", body, (size_t)n);
	} else {
		respond(c->fd, 200, "", path, strlen(path));
	}
}

/* Answer whatever complete requests the buffer holds; keep a partial one for later. */
static void conn_input(struct conn *c)
{
	for (;;) {
		char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
		size_t head, total;

		if (!end)
			return;
		head = (size_t)(end - c->buf) + 4;
		total = head + content_length(c->buf, head);
		if (total > c->len)
			return;
		serve(c, total);
		memmove(c->buf, c->buf + total, c->len - total);
		c->len -= total;
	}
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
}

static void __attribute__((noreturn)) server_main(int lfd, int ctl)
{
	static struct conn conns[MAX_CONNS];
	struct pollfd pfd[MAX_CONNS + 2];
	int next_id = 1;

	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < MAX_CONNS; i++)
		conns[i].fd = -1;
	for (;;) {
		int n = 0, map[MAX_CONNS];

		pfd[n++] = (struct pollfd){ .fd = ctl, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (int i = 0; i < MAX_CONNS; i++) {
			if (conns[i].fd >= 0) {
				map[n - 2] = i;
				pfd[n++] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
			}
		}
		if (poll(pfd, (nfds_t)n, -1) < 0)
			continue;
		if (pfd[0].revents)
			_exit(0);
		for (int k = 2; k < n; k++) {
			struct conn *c = &conns[map[k - 2]];
			ssize_t r;

			if (!pfd[k].revents)
				continue;
			if (c->len == sizeof(c->buf)) {
				conn_close(c);
				continue;
			}
			r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
			if (r <= 0) {
				conn_close(c);
				continue;
			}
			c->len += (size_t)r;
			conn_input(c);
		}
		if (pfd[1].revents & POLLIN) {
			int fd = accept(lfd, NULL, NULL);

			for (int i = 0; fd >= 0 && i < MAX_CONNS; i++) {
				if (conns[i].fd < 0) {
					conns[i] = (struct conn){ .fd = fd, .id = next_id++ };
					fd = -1;
				}
			}
			if (fd >= 0)
				close(fd);
		}
	}
}

static int listen_any(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 64) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static int server_start(void)
{
	int ctl[2];
	int lfd = listen_any(&server_port);

	if (lfd < 0 || pipe2(ctl, O_CLOEXEC) != 0)
		return -1;
	server_pid = fork();
	if (server_pid < 0)
		return -1;
	if (server_pid == 0) {
		close(ctl[1]);
		server_main(lfd, ctl[0]);
	}
	close(lfd);
	close(ctl[0]);
	server_ctl = ctl[1];
	return 0;
}

static void server_stop(void)
{
	if (server_ctl >= 0)
		close(server_ctl);
	if (server_pid > 0)
		waitpid(server_pid, NULL, 0);
}

/* A port nothing listens on: bound for a moment to learn a free number, then closed. */
static int refused_port(void)
{
	int port = 0;
	int fd = listen_any(&port);

	if (fd >= 0)
		close(fd);
	return port;
}

/* ---- the TLS server child ---- */

static int tls_port;
static pid_t tls_pid = -1;
static int tls_ctl = -1;
static char tls_pin[128]; /* sha256//... of the server's key, computed here from the key itself */

/* A P-256 key and a self-signed certificate for 127.0.0.1, valid for a day. */
static int tls_cert_make(EVP_PKEY **key_out, X509 **cert_out)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = X509_new();
	X509_NAME *name;
	int ok = key && cert;

	ok = ok && X509_set_version(cert, 2) && ASN1_INTEGER_set(X509_get_serialNumber(cert), 1) &&
	     X509_gmtime_adj(X509_getm_notBefore(cert), -3600) && X509_gmtime_adj(X509_getm_notAfter(cert), 86400) &&
	     X509_set_pubkey(cert, key);
	name = ok ? X509_get_subject_name(cert) : NULL;
	ok = ok && name &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1", -1, -1, 0) &&
	     X509_set_issuer_name(cert, name) && X509_sign(cert, key, EVP_sha256()) > 0;
	if (!ok) {
		EVP_PKEY_free(key);
		X509_free(cert);
		return -1;
	}
	*key_out = key;
	*cert_out = cert;
	return 0;
}

/* The pin from the key (i2d_PUBKEY), not from the certificate as gw_http takes it: two roads to the
 * same SubjectPublicKeyInfo. */
static int pin_of_key(EVP_PKEY *key, char *out, size_t outlen)
{
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = 0;
	char b64[64];
	int n = i2d_PUBKEY(key, &der);
	int rc = -1;

	if (n > 0 && EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) == 1 && mdlen == 32) {
		EVP_EncodeBlock((unsigned char *)b64, md, 32);
		snprintf(out, outlen, "sha256//%s", b64);
		rc = 0;
	}
	OPENSSL_free(der);
	return rc;
}

/* One request head from @ssl into @buf. Return true when a whole one arrived. */
static bool tls_read_head(SSL *ssl, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	while (len + 1 < size) {
		int n = SSL_read(ssl, buf + len, (int)(size - 1 - len));

		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			return true;
	}
	return false;
}

/* One connection: handshake, then requests, each answered "req=N auth=M" with the totals. A request
 * for /keep keeps the connection open for the next one (for a second at most), any other closes it. */
static void tls_serve_one(SSL_CTX *ctx, int fd, int *reqs, int *auths)
{
	struct timeval tv = { .tv_sec = 5 }, keep = { .tv_sec = 1 };
	char buf[4096], body[64], out[256];
	SSL *ssl = SSL_new(ctx);
	bool again = true;
	int n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1)
		goto done;
	/* No whole head: a probe, or a client that gave up or went away. */
	while (again && tls_read_head(ssl, buf, sizeof(buf))) {
		again = strncmp(buf, "GET /keep ", 10) == 0;
		(*reqs)++;
		if (strcasestr(buf, "\r\nAuthorization:"))
			(*auths)++;
		n = snprintf(body, sizeof(body), "req=%d auth=%d", *reqs, *auths);
		n = snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s", n,
			     again ? "" : "Connection: close\r\n", body);
		SSL_write(ssl, out, n);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &keep, sizeof(keep));
	}
	SSL_shutdown(ssl);
done:
	SSL_free(ssl);
	ERR_clear_error();
	close(fd);
}

static void __attribute__((noreturn)) tls_main(int lfd, int ctl, EVP_PKEY *key, X509 *cert)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	int reqs = 0, auths = 0;

	signal(SIGPIPE, SIG_IGN);
	if (!ctx || SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1)
		_exit(1);
	for (;;) {
		struct pollfd pfd[2] = { { .fd = ctl, .events = POLLIN }, { .fd = lfd, .events = POLLIN } };

		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[0].revents) {
			SSL_CTX_free(ctx);
			_exit(0);
		}
		if (pfd[1].revents & POLLIN) {
			int fd = accept(lfd, NULL, NULL);

			if (fd >= 0)
				tls_serve_one(ctx, fd, &reqs, &auths);
		}
	}
}

static int tls_server_start(void)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int ctl[2];
	int lfd = listen_any(&tls_port);

	if (lfd < 0 || tls_cert_make(&key, &cert) != 0 || pin_of_key(key, tls_pin, sizeof(tls_pin)) != 0 ||
	    pipe2(ctl, O_CLOEXEC) != 0)
		return -1;
	tls_pid = fork();
	if (tls_pid < 0)
		return -1;
	if (tls_pid == 0) {
		/* The plain server's control pipe too: a copy held here would keep that child from exiting. */
		close(server_ctl);
		close(ctl[1]);
		tls_main(lfd, ctl[0], key, cert);
	}
	EVP_PKEY_free(key);
	X509_free(cert);
	close(lfd);
	close(ctl[0]);
	tls_ctl = ctl[1];
	return 0;
}

static void tls_server_stop(void)
{
	if (tls_ctl >= 0)
		close(tls_ctl);
	if (tls_pid > 0)
		waitpid(tls_pid, NULL, 0);
}

/* ---- the client side ---- */

struct fixture {
	struct gw_loop *loop;
	struct gw_http *http;
	lws_sorted_usec_list_t watchdog;
	int outstanding;
	int callbacks;
	bool in_request;
};

struct answer {
	struct fixture *f;
	int calls;
	int status;
	long retry_after_s;
	size_t len;
	char body[BODY_MAX];
	char error[256];
	char pin[128];
	/* Started from the callback once this answer is in (NULL: nothing). */
	void (*then)(struct answer *a);
	struct answer *next;
};

static void watchdog_cb(lws_sorted_usec_list_t *sul)
{
	struct fixture *f = lws_container_of(sul, struct fixture, watchdog);

	gw_loop_stop(f->loop, -ETIME);
}

static int setup(void **state)
{
	static const struct gw_loop_handlers nh = { 0 };
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->loop = gw_loop_new(&nh);
	f->http = f->loop ? gw_http_new(f->loop) : NULL;
	if (!f->http) {
		gw_loop_free(f->loop);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return 0;
	/* The order main() uses: stop curl, destroy the context (closing adopted fds), free curl. */
	gw_http_stop(f->http);
	lws_sul_cancel(&f->watchdog);
	gw_loop_free(f->loop);
	gw_http_free(f->http);
	free(f);
	return 0;
}

static void on_done(void *user, const struct gw_http_resp *resp)
{
	struct answer *a = user;
	struct fixture *f = a->f;

	/* The contract: never from inside gw_http_request(). */
	assert_false(f->in_request);
	a->calls++;
	f->callbacks++;
	a->status = resp->status;
	a->retry_after_s = resp->retry_after_s;
	a->len = resp->len;
	assert_non_null(resp->body);
	assert_int_equal(strlen(resp->body), resp->len);
	snprintf(a->body, sizeof(a->body), "%s", resp->body);
	assert_non_null(resp->error);
	snprintf(a->error, sizeof(a->error), "%s", resp->error);
	assert_non_null(resp->pin);
	snprintf(a->pin, sizeof(a->pin), "%s", resp->pin);
	if (a->then)
		a->then(a);
	if (--f->outstanding == 0)
		gw_loop_stop(f->loop, 0);
}

static char *url_at(int port, const char *path)
{
	static char url[8][128];
	static int i;
	char *u = url[i++ % 8];

	snprintf(u, sizeof(url[0]), "http://127.0.0.1:%d%s", port, path);
	return u;
}

static long start_req(struct fixture *f, struct answer *a, const struct gw_http_req *r)
{
	long id;

	a->f = f;
	f->in_request = true;
	id = gw_http_request(f->http, r, on_done, a);
	f->in_request = false;
	if (id > 0)
		f->outstanding++;
	return id;
}

static long get(struct fixture *f, struct answer *a, const char *path)
{
	struct gw_http_req r = { .method = "GET", .url = url_at(server_port, path) };

	return start_req(f, a, &r);
}

static int run(struct fixture *f)
{
	int rc;

	lws_sul_schedule(gw_loop_context(f->loop), 0, &f->watchdog, watchdog_cb, WATCHDOG_US);
	rc = gw_loop_run(f->loop);
	lws_sul_cancel(&f->watchdog);
	return rc;
}

/* ---- tests ---- */

static void test_get_json(void **state)
{
	struct fixture *f = *state;
	struct answer a = { 0 };

	assert_true(get(f, &a, "/json") > 0);
	assert_int_equal(gw_http_pending(f->http), 1);
	assert_int_equal(run(f), 0);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body, "{\"ok\":true}");
	assert_int_equal(a.len, 11);
	assert_int_equal(a.retry_after_s, -1);
	assert_string_equal(a.error, "");
	assert_int_equal(gw_http_pending(f->http), 0);
}

/* A name goes through curl's resolver (threaded, its wake-up descriptor watched on the loop), and
 * localhost may well try ::1 first, where nothing listens. */
static void test_hostname(void **state)
{
	struct fixture *f = *state;
	struct answer a = { 0 };
	char url[64];
	struct gw_http_req r = { .method = "GET", .url = url };

	snprintf(url, sizeof(url), "http://localhost:%d/json", server_port);
	assert_true(start_req(f, &a, &r) > 0);
	assert_int_equal(run(f), 0);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body, "{\"ok\":true}");
}

static void test_post_arrives_as_sent(void **state)
{
	struct fixture *f = *state;
	struct answer post = { 0 }, bare = { 0 }, plain = { 0 };
	struct gw_http_req r = {
		.method = "POST",
		.url = url_at(server_port, "/echo"),
		.body = "{\"charging_amps\":16}",
		.content_type = "application/json",
		.bearer = "x",
	};
	struct gw_http_req r_bare = { .method = "POST", .url = url_at(server_port, "/echo"), .bearer = "x" };

	assert_true(start_req(f, &post, &r) > 0);
	assert_true(start_req(f, &bare, &r_bare) > 0);
	assert_true(get(f, &plain, "/echo") > 0);
	assert_int_equal(run(f), 0);

	assert_int_equal(post.status, 200);
	assert_true(strncmp(post.body, "POST /echo HTTP/1.1\r\n", 21) == 0);
	assert_non_null(strstr(post.body, "\r\nContent-Type: application/json\r\n"));
	assert_non_null(strstr(post.body, "\r\nAuthorization: Bearer x\r\n"));
	assert_non_null(strstr(post.body, "\r\nContent-Length: 20\r\n"));
	assert_non_null(strstr(post.body, "\r\nUser-Agent: twcgw/" TWCGW_VERSION "\r\n"));
	assert_null(strstr(post.body, "Expect:"));
	assert_true(post.len > 24 && strcmp(post.body + post.len - 24, "\r\n\r\n{\"charging_amps\":16}") == 0);

	/* A POST without a body (wake_up) carries no Content-Type curl made up. */
	assert_int_equal(bare.status, 200);
	assert_true(strncmp(bare.body, "POST /echo HTTP/1.1\r\n", 21) == 0);
	assert_non_null(strstr(bare.body, "\r\nContent-Length: 0\r\n"));
	assert_null(strcasestr(bare.body, "Content-Type"));

	assert_int_equal(plain.status, 200);
	assert_true(strncmp(plain.body, "GET /echo HTTP/1.1\r\n", 20) == 0);
	assert_null(strcasestr(plain.body, "Authorization"));
	assert_null(strcasestr(plain.body, "Content-Type"));
}

static void test_retry_after(void **state)
{
	struct fixture *f = *state;
	struct answer delta = { 0 }, date = { 0 };

	assert_true(get(f, &delta, "/429") > 0);
	assert_true(get(f, &date, "/429date") > 0);
	assert_int_equal(run(f), 0);
	assert_int_equal(delta.status, 429);
	assert_int_equal(delta.retry_after_s, 120);
	assert_string_equal(delta.body, "{\"error\":\"slow down\"}");
	assert_int_equal(date.status, 429);
	/* Whole seconds on both sides, and the answer took some time to arrive. */
	assert_in_range(date.retry_after_s, 110, 121);
}

static void test_connection_refused(void **state)
{
	struct fixture *f = *state;
	struct answer a = { 0 };
	struct gw_http_req r = { .method = "GET", .url = url_at(refused_port(), "/json") };

	assert_true(start_req(f, &a, &r) > 0);
	assert_int_equal(run(f), 0);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.status, -ECONNREFUSED);
	assert_string_equal(a.body, "");
	assert_int_equal(a.len, 0);
	assert_int_equal(a.retry_after_s, -1);
	assert_true(a.error[0] != '\0');
}

static void test_timeout(void **state)
{
	struct fixture *f = *state;
	struct answer a = { 0 };
	struct gw_http_req r = { .method = "GET", .url = url_at(server_port, "/never"), .timeout_ms = 300 };

	assert_true(start_req(f, &a, &r) > 0);
	assert_int_equal(run(f), 0);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.status, -ETIMEDOUT);
	assert_true(a.error[0] != '\0');
}

static void test_body_cap(void **state)
{
	struct fixture *f = *state;
	struct answer announced = { 0 }, chunked = { 0 }, exact = { 0 };
	struct gw_http_req r1 = { .method = "GET", .url = url_at(server_port, "/big"), .max_body = 1000 };
	struct gw_http_req r2 = { .method = "GET", .url = url_at(server_port, "/bigchunked"), .max_body = 4999 };
	struct gw_http_req r3 = { .method = "GET", .url = url_at(server_port, "/big"), .max_body = 5000 };

	assert_true(start_req(f, &announced, &r1) > 0);
	assert_true(start_req(f, &chunked, &r2) > 0);
	assert_true(start_req(f, &exact, &r3) > 0);
	assert_int_equal(run(f), 0);
	assert_int_equal(announced.status, -EMSGSIZE);
	assert_string_equal(announced.body, "");
	assert_int_equal(chunked.status, -EMSGSIZE);
	assert_int_equal(exact.status, 200);
	assert_int_equal(exact.len, 5000);
}

static void test_many_in_flight(void **state)
{
	struct fixture *f = *state;
	struct answer a[12];
	char path[12][16];
	long ids[12];

	memset(a, 0, sizeof(a));
	for (int i = 0; i < 12; i++) {
		snprintf(path[i], sizeof(path[i]), "/id/%d", i);
		ids[i] = get(f, &a[i], path[i]);
		assert_true(ids[i] > 0);
		if (i)
			assert_true(ids[i] != ids[i - 1]);
	}
	assert_int_equal(gw_http_pending(f->http), 12);
	assert_int_equal(run(f), 0);
	for (int i = 0; i < 12; i++) {
		assert_int_equal(a[i].calls, 1);
		assert_int_equal(a[i].status, 200);
		assert_string_equal(a[i].body, path[i]);
	}
	assert_int_equal(gw_http_pending(f->http), 0);
}

static void count_again(struct answer *a)
{
	assert_true(get(a->f, a->next, "/count") > 0);
}

/* lws closes its dup of curl's socket when curl stops watching it; curl's own descriptor, and the
 * connection in curl's cache, must survive that. A request started from a done callback also works. */

/* "conn=N req=M" as the test server writes it. Return 0 or -1. */
static int conn_req(const char *body, int *conn, int *req)
{
	char *end;

	if (strncmp(body, "conn=", 5) != 0)
		return -1;
	*conn = (int)strtol(body + 5, &end, 10);
	if (strncmp(end, " req=", 5) != 0)
		return -1;
	*req = (int)strtol(end + 5, &end, 10);
	return *end == '\0' ? 0 : -1;
}

static void test_keepalive_reuse(void **state)
{
	struct fixture *f = *state;
	struct answer second = { 0 };
	struct answer first = { .then = count_again, .next = &second };
	int conn1 = 0, conn2 = 0, req1 = 0, req2 = 0;

	assert_true(get(f, &first, "/count") > 0);
	assert_int_equal(run(f), 0);
	assert_int_equal(first.status, 200);
	assert_int_equal(second.status, 200);
	assert_int_equal(conn_req(first.body, &conn1, &req1), 0);
	assert_int_equal(conn_req(second.body, &conn2, &req2), 0);
	assert_int_equal(conn1, conn2);
	assert_int_equal(req1, 1);
	assert_int_equal(req2, 2);
}

static void stop_loop_only(struct answer *a)
{
	gw_loop_stop(a->f->loop, 0);
}

/* Start three requests that never get an answer and one that does; the loop stops with that one. */
static void start_hung(struct fixture *f, struct answer hung[3], struct answer *quick)
{
	for (int i = 0; i < 3; i++)
		assert_true(get(f, &hung[i], "/never") > 0);
	quick->then = stop_loop_only;
	assert_true(get(f, quick, "/json") > 0);
}

static void test_stop_in_flight(void **state)
{
	struct fixture *f = *state;
	struct answer hung[3], quick = { 0 };

	memset(hung, 0, sizeof(hung));
	start_hung(f, hung, &quick);
	assert_int_equal(run(f), 0);
	assert_int_equal(quick.status, 200);
	assert_int_equal(gw_http_pending(f->http), 3);
	gw_http_stop(f->http);
	assert_int_equal(gw_http_pending(f->http), 0);
	assert_int_equal(gw_http_request(f->http, &(struct gw_http_req){ .method = "GET", .url = "http://x/" },
					 on_done, &quick),
			 -ESHUTDOWN);
	/* teardown destroys the context with the dups still adopted, then frees curl: no callback. */
	assert_int_equal(f->callbacks, 1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(hung[i].calls, 0);
}

static void stop_http_from_callback(struct answer *a)
{
	gw_http_stop(a->f->http);
	gw_loop_stop(a->f->loop, 0);
}

static void test_stop_from_callback(void **state)
{
	struct fixture *f = *state;
	struct answer hung[3], quick = { 0 };

	memset(hung, 0, sizeof(hung));
	start_hung(f, hung, &quick);
	quick.then = stop_http_from_callback;
	assert_int_equal(run(f), 0);
	assert_int_equal(gw_http_pending(f->http), 0);
	assert_int_equal(f->callbacks, 1);
}

/* The other order: curl goes first while lws still has the dups adopted. */
static void test_free_before_loop(void **state)
{
	struct fixture *f = *state;
	struct answer hung[3], quick = { 0 };

	memset(hung, 0, sizeof(hung));
	start_hung(f, hung, &quick);
	assert_int_equal(run(f), 0);
	gw_http_free(f->http);
	f->http = NULL;
	gw_loop_free(f->loop);
	f->loop = NULL;
	assert_int_equal(f->callbacks, 1);
}

static void test_bad_requests(void **state)
{
	struct fixture *f = *state;
	struct answer a = { 0 };
	const char *url = url_at(server_port, "/json");
	struct gw_http_req bad[] = {
		{ .method = "GET" },
		{ .method = NULL, .url = url },
		{ .method = "get", .url = url },
		{ .method = "GET\r\nX-Evil: 1", .url = url },
		{ .method = "GET", .url = url, .bearer = "x\r\nX-Evil: 1" },
		{ .method = "POST", .url = url, .body = "{}", .content_type = "a/b\nX: y" },
		{ .method = "GET", .url = url, .timeout_ms = -1 },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(gw_http_request(f->http, &bad[i], on_done, &a), -EINVAL);
	assert_int_equal(gw_http_request(f->http, NULL, on_done, &a), -EINVAL);
	assert_int_equal(gw_http_request(f->http, &(struct gw_http_req){ .method = "GET", .url = url }, NULL, &a),
			 -EINVAL);
	assert_int_equal(gw_http_pending(f->http), 0);
	assert_int_equal(a.calls, 0);
	gw_http_free(NULL);
	gw_http_stop(NULL);
}

/* ---- pinning ---- */

static char *tls_url(void)
{
	static char url[64];

	snprintf(url, sizeof(url), "https://127.0.0.1:%d/data", tls_port);
	return url;
}

/* "req=N auth=M" as the TLS server writes it. Return 0 or -1. */
static int counts_of(const char *body, int *reqs, int *auths)
{
	char *end;

	if (strncmp(body, "req=", 4) != 0)
		return -1;
	*reqs = (int)strtol(body + 4, &end, 10);
	if (strncmp(end, " auth=", 6) != 0)
		return -1;
	*auths = (int)strtol(end + 6, &end, 10);
	return *end == '\0' ? 0 : -1;
}

/* Each step starts the next from the done callback: the TLS server takes one connection at a time. */
static struct gw_http_req pin_steps[4];
static struct answer pin_answers[4];

static void pin_next(struct answer *a)
{
	int i = (int)(a - pin_answers) + 1;

	if (i < 4 && pin_steps[i].url) {
		pin_answers[i].then = pin_next;
		assert_true(start_req(a->f, &pin_answers[i], &pin_steps[i]) > 0);
	}
}

static void pin_run(struct fixture *f)
{
	for (int i = 0; i < 4; i++)
		pin_answers[i] = (struct answer){ .then = pin_next };
	assert_true(start_req(f, &pin_answers[0], &pin_steps[0]) > 0);
	assert_int_equal(run(f), 0);
}

/* Probe, then a request pinned to what the probe saw: the way a first connection learns a key. */
static void test_pin_probe_then_pinned(void **state)
{
	struct fixture *f = *state;
	int reqs = 0, auths = 0;

	memset(pin_steps, 0, sizeof(pin_steps));
	pin_steps[0] = (struct gw_http_req){ .method = "GET", .url = tls_url(), .pin_probe = true };
	pin_steps[1] = (struct gw_http_req){ .method = "GET", .url = tls_url(), .pin = tls_pin, .bearer = "SECRET" };
	pin_run(f);

	assert_int_equal(pin_answers[0].calls, 1);
	assert_int_equal(pin_answers[0].status, 0);
	assert_string_equal(pin_answers[0].pin, tls_pin);
	assert_string_equal(pin_answers[0].body, "");

	assert_int_equal(pin_answers[1].calls, 1);
	assert_int_equal(pin_answers[1].status, 200);
	assert_string_equal(pin_answers[1].pin, ""); /* only reported after a probe or a mismatch */
	assert_int_equal(counts_of(pin_answers[1].body, &reqs, &auths), 0);
	assert_true(auths >= 1);
}

/* Another key than the pin: refused in the handshake, so the bearer never reaches the server. */
static void test_pin_mismatch(void **state)
{
	struct fixture *f = *state;
	static const char wrong[] = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
	char two[200];
	int r0 = 0, a0 = 0, r1 = 0, a1 = 0;

	/* Several pins: any one of them will do (a device with a key rollover announced). */
	snprintf(two, sizeof(two), "%s;%s", wrong, tls_pin);
	memset(pin_steps, 0, sizeof(pin_steps));
	pin_steps[0] = (struct gw_http_req){ .method = "GET", .url = tls_url(), .pin = tls_pin };
	pin_steps[1] = (struct gw_http_req){ .method = "POST", .url = tls_url(), .pin = wrong, .bearer = "SECRET",
					     .body = "{\"password\":\"SECRET\"}", .content_type = "application/json" };
	pin_steps[2] = (struct gw_http_req){ .method = "GET", .url = tls_url(), .pin = two };
	pin_run(f);

	assert_int_equal(pin_answers[0].status, 200);
	assert_int_equal(counts_of(pin_answers[0].body, &r0, &a0), 0);

	assert_int_equal(pin_answers[1].calls, 1);
	assert_int_equal(pin_answers[1].status, -EKEYREJECTED);
	assert_string_equal(pin_answers[1].pin, tls_pin); /* the key it did see, to be named in the error */
	assert_string_equal(pin_answers[1].body, "");
	assert_true(pin_answers[1].error[0] != '\0');

	/* The next request is the server's very next one: the refused one never got that far. */
	assert_int_equal(pin_answers[2].status, 200);
	assert_int_equal(counts_of(pin_answers[2].body, &r1, &a1), 0);
	assert_int_equal(r1, r0 + 1);
	assert_int_equal(a1, a0);
}

/* curl reuses a connection only for a request with the same TLS settings, the pin included: a pinned
 * request never rides a connection an unpinned one left open, whatever key that one was made with. */
static void test_pin_no_reuse_of_unpinned(void **state)
{
	struct fixture *f = *state;
	static const char wrong[] = "sha256//BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=";
	char keep[64];

	snprintf(keep, sizeof(keep), "https://127.0.0.1:%d/keep", tls_port);
	memset(pin_steps, 0, sizeof(pin_steps));
	pin_steps[0] = (struct gw_http_req){ .method = "GET", .url = keep, .insecure = true };
	pin_steps[1] = (struct gw_http_req){ .method = "GET", .url = keep, .pin = wrong, .bearer = "SECRET" };
	pin_steps[2] = (struct gw_http_req){ .method = "GET", .url = keep, .pin = tls_pin };
	pin_run(f);
	assert_int_equal(pin_answers[0].status, 200);
	assert_int_equal(pin_answers[1].status, -EKEYREJECTED);
	assert_string_equal(pin_answers[1].pin, tls_pin);
	assert_int_equal(pin_answers[2].status, 200);
}

static void test_pin_bad_requests(void **state)
{
	struct fixture *f = *state;
	struct answer a = { 0 };
	const char *https = tls_url();
	struct gw_http_req bad[] = {
		{ .method = "GET", .url = https, .pin = "sha256//short" },
		{ .method = "GET", .url = https, .pin = "sha" },
		{ .method = "GET", .url = https, .pin = "" },
		{ .method = "GET", .url = https, .pin = "/etc/twcgw/device-key.pem" }, /* curl would read a file */
		{ .method = "GET", .url = https, .pin = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=;" },
		{ .method = "GET", .url = https, .pin = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n=" },
		{ .method = "GET", .url = https, .pin = tls_pin, .insecure = true },
		{ .method = "GET", .url = https, .pin = tls_pin, .ca_file = "/etc/ssl/certs/ca-certificates.crt" },
		{ .method = "GET", .url = https, .pin = tls_pin, .pin_probe = true },
		{ .method = "GET", .url = url_at(server_port, "/json"), .pin = tls_pin },
		{ .method = "GET", .url = url_at(server_port, "/json"), .pin_probe = true },
		{ .method = "GET", .url = https, .pin_probe = true, .bearer = "SECRET" },
		{ .method = "POST", .url = https, .pin_probe = true, .body = "{}" },
		{ .method = "GET", .url = https, .pin_probe = true, .insecure = true },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(gw_http_request(f->http, &bad[i], on_done, &a), -EINVAL);
	assert_int_equal(gw_http_pending(f->http), 0);
	assert_int_equal(a.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostname, setup, teardown),
		cmocka_unit_test_setup_teardown(test_post_arrives_as_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_after, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_from_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_before_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_probe_then_pinned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_no_reuse_of_unpinned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pin_bad_requests, setup, teardown),
	};
	int rc;

	gw_log_set_level(getenv("TWCGW_TEST_DEBUG") ? GW_LOG_DEBUG : GW_LOG_WARN);
	/* Before any loop exists, so the child inherits no lws or curl state worth speaking of. */
	if (server_start() != 0 || tls_server_start() != 0) {
		fprintf(stderr, "cannot start the test servers: %s\n", strerror(errno));
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	server_stop();
	tls_server_stop();
	return rc;
}
