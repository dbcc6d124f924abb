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
 *
 * File transfers (gw_http_transfer): an upload arrives as one multipart part "file" named after the
 * file (the plain server stores the request it got); a download lands under its name, 0600, with no
 * .part left, and a download over max_bytes (announced or chunked), an HTTP error and a cancelled
 * download leave no file at all; an https download trusts ca_file and nothing else; cancel means no
 * callback; credentials in a URL never reach the log (stderr captured at debug level). FTP runs
 * against a real server, pyftpdlib in a child python3 (Debian's python3-pyftpdlib; those tests are
 * skipped, saying so, when it is missing): STOR to a directory URL and to a file name, a wrong
 * password (530), RETR, a missing file (550), max_bytes.
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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

#include "fake_http.h"
#include "gw_http.h"
#include "gw_log.h"
#include "gw_loop.h"

#define WATCHDOG_US (60 * LWS_US_PER_SEC)
#define BODY_MAX 8192

/* ---- the server child ---- */

static int server_port;
static char store_dir[64]; /* where the plain server keeps the last /store request, and the tests' files */
static struct fake_http_child server = FAKE_HTTP_CHILD_INIT;

static void respond(int fd, int status, const char *extra, const char *body, size_t len)
{
	char head[512];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n", status, len, extra);

	fake_http_send_all(fd, head, (size_t)n);
	fake_http_send_all(fd, body, len);
}

/* Answer one complete request of @len bytes at the start of c->buf. */
static void serve(struct fake_http_conn *c, size_t len)
{
	char path[256];
	char body[512];
	char extra[128];
	static char big[5000];
	int n;

	fake_http_req_path(c->buf, path, sizeof(path));
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
		fake_http_send_all(c->fd, head, sizeof(head) - 1);
		for (int i = 0; i < 5; i++) {
			fake_http_send_all(c->fd, "3e8\r\n", 5);
			fake_http_send_all(c->fd, big, 1000);
			fake_http_send_all(c->fd, "\r\n", 2);
		}
		fake_http_send_all(c->fd, "0\r\n\r\n", 5);
	} else if (strncmp(path, "/store", 6) == 0) {
		/* Kept whole (head and body) for the test to read; written first, then renamed, then answered. */
		char tmp[128], dst[128];
		FILE *fp;

		snprintf(tmp, sizeof(tmp), "%s/req.tmp", store_dir);
		snprintf(dst, sizeof(dst), "%s/req", store_dir);
		fp = fopen(tmp, "w");
		if (fp) {
			fwrite(c->buf, 1, len, fp);
			fclose(fp);
			rename(tmp, dst);
		}
		respond(c->fd, 200, "", "stored", 6);
	} else if (strncmp(path, "/status/", 8) == 0) {
		respond(c->fd, (int)strtol(path + 8, NULL, 10), "", "no", 2);
	} else if (strcmp(path, "/partial") == 0) {
		/* 100 of the 10000 bytes announced, then silence: a download caught half way. */
		static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n";

		memset(big, 'p', 100);
		fake_http_send_all(c->fd, head, sizeof(head) - 1);
		fake_http_send_all(c->fd, big, 100);
	} else if (strcmp(path, "/count") == 0) {
		n = snprintf(body, sizeof(body), "conn=%d req=%d", c->id, c->reqs);
		respond(c->fd, 200, "", body, (size_t)n);
	} else {
		respond(c->fd, 200, "", path, strlen(path));
	}
}

/* Answer whatever complete requests the buffer holds; keep a partial one for later. */
static void conn_input(struct fake_http_conn *c, void *user)
{
	(void)user;
	for (;;) {
		char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
		size_t head, total;

		if (!end)
			return;
		head = (size_t)(end - c->buf) + 4;
		total = head + fake_http_req_content_length(c->buf, head);
		if (total > c->len)
			return;
		serve(c, total);
		memmove(c->buf, c->buf + total, c->len - total);
		c->len -= total;
	}
}

static int server_start(void)
{
	int lfd = fake_http_listen(&server_port);
	pid_t pid;

	if (lfd < 0)
		return -1;
	pid = fake_http_child_fork(&server);
	if (pid < 0)
		return -1;
	if (pid == 0)
		fake_http_serve(lfd, server.ctl, conn_input, NULL);
	close(lfd);
	return 0;
}

/* A port nothing listens on: bound for a moment to learn a free number, then closed. */
static int refused_port(void)
{
	int port = 0;
	int fd = fake_http_listen(&port);

	if (fd >= 0)
		close(fd);
	return port;
}

/* ---- the TLS server child ---- */

static int tls_port;
static struct fake_http_child tls_server = FAKE_HTTP_CHILD_INIT;
static char tls_pin[128]; /* sha256//... of the server's key, computed here from the key itself */
static char tls_ca[96];   /* its certificate as a PEM file: the one CA a transfer may be told to trust */

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
	int lfd = fake_http_listen(&tls_port);
	pid_t pid;
	FILE *ca;

	if (lfd < 0 || tls_cert_make(&key, &cert) != 0 || pin_of_key(key, tls_pin, sizeof(tls_pin)) != 0)
		return -1;
	snprintf(tls_ca, sizeof(tls_ca), "%s/tls-ca.pem", store_dir);
	ca = fopen(tls_ca, "w");
	if (!ca || PEM_write_X509(ca, cert) != 1 || fclose(ca) != 0)
		return -1;
	pid = fake_http_child_fork(&tls_server);
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* The plain server's control pipe too: a copy held here would keep that child from exiting. */
		close(server.ctl);
		tls_main(lfd, tls_server.ctl, key, cert);
	}
	EVP_PKEY_free(key);
	X509_free(cert);
	close(lfd);
	return 0;
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
	struct gw_http_req r = { .method = "GET", .url = fake_http_url(server_port, path) };

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
		.url = fake_http_url(server_port, "/echo"),
		.body = "{\"charging_amps\":16}",
		.content_type = "application/json",
		.bearer = "x",
	};
	struct gw_http_req r_bare = { .method = "POST", .url = fake_http_url(server_port, "/echo"), .bearer = "x" };

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
	struct gw_http_req r = { .method = "GET", .url = fake_http_url(refused_port(), "/json") };

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
	struct gw_http_req r = { .method = "GET", .url = fake_http_url(server_port, "/never"), .timeout_ms = 300 };

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
	struct gw_http_req r1 = { .method = "GET", .url = fake_http_url(server_port, "/big"), .max_body = 1000 };
	struct gw_http_req r2 = { .method = "GET", .url = fake_http_url(server_port, "/bigchunked"), .max_body = 4999 };
	struct gw_http_req r3 = { .method = "GET", .url = fake_http_url(server_port, "/big"), .max_body = 5000 };

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
	const char *url = fake_http_url(server_port, "/json");
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
		{ .method = "GET", .url = fake_http_url(server_port, "/json"), .pin = tls_pin },
		{ .method = "GET", .url = fake_http_url(server_port, "/json"), .pin_probe = true },
		{ .method = "GET", .url = https, .pin_probe = true, .bearer = "SECRET" },
		{ .method = "POST", .url = https, .pin_probe = true, .body = "{}" },
		{ .method = "GET", .url = https, .pin_probe = true, .insecure = true },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(gw_http_request(f->http, &bad[i], on_done, &a), -EINVAL);
	assert_int_equal(gw_http_pending(f->http), 0);
	assert_int_equal(a.calls, 0);
}

/* ---- file transfers ---- */

static long start_xfer(struct fixture *f, struct answer *a, const struct gw_http_xfer *x)
{
	long id;

	a->f = f;
	f->in_request = true;
	id = gw_http_transfer(f->http, x, on_done, a);
	f->in_request = false;
	if (id > 0)
		f->outstanding++;
	return id;
}

static char *tmp_path(const char *name)
{
	static char p[8][128];
	static int i;
	char *out = p[i++ % 8];

	snprintf(out, sizeof(p[0]), "%s/%s", store_dir, name);
	return out;
}

static void file_put(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* The whole of @path, NUL-terminated, in a static buffer; *@len its size. NULL when missing. */
static char *file_get(const char *path, size_t *len)
{
	static char buf[65536];
	FILE *fp = fopen(path, "r");
	size_t n;

	if (!fp)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static char *part_of(const char *path)
{
	static char p[160];

	snprintf(p, sizeof(p), "%s.part", path);
	return p;
}

static void test_upload_http(void **state)
{
	struct fixture *f = *state;
	struct answer a = { 0 };
	char content[3000];
	const char *src = tmp_path("CP1-diagnostics-20240131T120000Z.log");
	struct gw_http_xfer x = { .url = fake_http_url(server_port, "/store/logs/"), .path = src, .upload = true };
	char *req, *body;
	size_t len = 0;

	for (size_t i = 0; i < sizeof(content); i++)
		content[i] = (char)('a' + i % 26);
	memcpy(content + 1000, "\r\nline two\0binary", 17);
	file_put(src, content, sizeof(content));
	unlink(tmp_path("req"));
	assert_true(start_xfer(f, &a, &x) > 0);
	assert_int_equal(run(f), 0);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body, ""); /* the server said "stored": a transfer keeps no body */
	assert_string_equal(a.error, "");

	req = file_get(tmp_path("req"), &len);
	assert_non_null(req);
	/* An HTTP URL ending in '/' is used as it is: the name travels in the part's header. */
	assert_true(strncmp(req, "POST /store/logs/ HTTP/1.1\r\n", 28) == 0);
	assert_non_null(strcasestr(req, "\r\nContent-Type: multipart/form-data; boundary="));
	assert_null(strcasestr(req, "\r\nExpect:"));
	assert_non_null(strstr(req, "Content-Disposition: form-data; name=\"file\"; "
				    "filename=\"CP1-diagnostics-20240131T120000Z.log\"\r\n"));
	body = memmem(req, len, "\r\n\r\n", 4); /* end of the HTTP head */
	assert_non_null(body);
	body = memmem(body + 4, len - (size_t)(body + 4 - req), "\r\n\r\n", 4); /* end of the part's head */
	assert_non_null(body);
	body += 4;
	assert_true((size_t)(req + len - body) > sizeof(content));
	assert_memory_equal(body, content, sizeof(content));
	assert_true(strncmp(body + sizeof(content), "\r\n--", 4) == 0);
	/* An upload leaves its source alone. */
	assert_true(exists(src));
	unlink(src);
}

static void test_download(void **state)
{
	struct fixture *f = *state;
	struct answer ok = { 0 }, announced = { 0 }, chunked = { 0 }, missing = { 0 };
	const char *p_ok = tmp_path("dl-ok.bin"), *p_ann = tmp_path("dl-ann.bin");
	const char *p_chk = tmp_path("dl-chunked.bin"), *p_404 = tmp_path("dl-404.bin");
	struct gw_http_xfer x_ok = { .url = fake_http_url(server_port, "/big"), .path = p_ok, .max_bytes = 5000 };
	struct gw_http_xfer x_ann = { .url = fake_http_url(server_port, "/big"), .path = p_ann, .max_bytes = 4999 };
	struct gw_http_xfer x_chk = { .url = fake_http_url(server_port, "/bigchunked"), .path = p_chk, .max_bytes = 4999 };
	struct gw_http_xfer x_404 = { .url = fake_http_url(server_port, "/status/404"), .path = p_404 };
	struct stat st;
	size_t len = 0;
	char *data;

	/* A stale .part of an earlier attempt with the wrong mode: replaced, and made 0600. */
	file_put(part_of(p_ok), "old", 3);
	chmod(part_of(p_ok), 0644);
	assert_true(start_xfer(f, &ok, &x_ok) > 0);
	assert_true(start_xfer(f, &announced, &x_ann) > 0);
	assert_true(start_xfer(f, &chunked, &x_chk) > 0);
	assert_true(start_xfer(f, &missing, &x_404) > 0);
	assert_int_equal(run(f), 0);

	assert_int_equal(ok.status, 200);
	assert_string_equal(ok.body, "");
	data = file_get(p_ok, &len);
	assert_non_null(data);
	assert_int_equal(len, 5000);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(data[i], 'x');
	assert_int_equal(stat(p_ok, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_false(exists(part_of(p_ok)));

	assert_int_equal(announced.status, -EFBIG);
	assert_true(announced.error[0] != '\0');
	assert_int_equal(chunked.status, -EFBIG);
	assert_int_equal(missing.status, 404);
	/* Nothing kept of a failed download, neither the name nor the .part. */
	for (const char *p = p_ann;; p = p == p_ann ? p_chk : p_404) {
		assert_false(exists(p));
		assert_false(exists(part_of(p)));
		if (p == p_404)
			break;
	}
	unlink(p_ok);
}

/* TLS with ca_file: the self-signed server is trusted when it is the CA given, not by the system store. */
static void test_download_https(void **state)
{
	struct fixture *f = *state;
	struct answer trusted = { 0 }, untrusted = { 0 };
	const char *p1 = tmp_path("tls-1.txt"), *p2 = tmp_path("tls-2.txt");
	struct gw_http_xfer x1 = { .url = tls_url(), .path = p1, .ca_file = tls_ca };
	struct gw_http_xfer x2 = { .url = tls_url(), .path = p2 };
	int reqs = 0, auths = 0;
	char *got;

	/* The TLS server takes one connection at a time: the second waits in its backlog. */
	assert_true(start_xfer(f, &trusted, &x1) > 0);
	assert_true(start_xfer(f, &untrusted, &x2) > 0);
	assert_int_equal(run(f), 0);

	assert_int_equal(trusted.status, 200);
	got = file_get(p1, NULL);
	assert_non_null(got);
	assert_int_equal(counts_of(got, &reqs, &auths), 0);
	assert_int_equal(untrusted.status, -EPROTO);
	assert_false(exists(p2));
	assert_false(exists(part_of(p2)));
	unlink(p1);
}

struct cancel_ctx {
	struct fixture *f;
	lws_sorted_usec_list_t poll;
	long id;
	const char *path;
	int cancel_rc;
	struct answer after;
};

/* Waits for the download to have written its first bytes, then cancels it. */
static void cancel_poll(lws_sorted_usec_list_t *sul)
{
	struct cancel_ctx *c = lws_container_of(sul, struct cancel_ctx, poll);
	struct stat st;

	if (stat(part_of(c->path), &st) != 0 || st.st_size < 100) {
		lws_sul_schedule(gw_loop_context(c->f->loop), 0, &c->poll, cancel_poll, 5 * LWS_US_PER_MS);
		return;
	}
	c->cancel_rc = gw_http_cancel(c->f->http, c->id);
	c->f->outstanding--;
	/* A request after the cancel: by its answer the loop has turned over the cancelled one's socket. */
	c->after.then = stop_loop_only;
	assert_true(get(c->f, &c->after, "/json") > 0);
}

static void test_cancel(void **state)
{
	struct fixture *f = *state;
	struct cancel_ctx c = { .f = f, .path = tmp_path("dl-partial.bin") };
	struct answer dl = { 0 }, hung = { 0 };
	struct gw_http_xfer x = { .url = fake_http_url(server_port, "/partial"), .path = c.path };
	long hung_id;

	c.id = start_xfer(f, &dl, &x);
	assert_true(c.id > 0);
	/* A plain request can be cancelled the same way. */
	hung_id = get(f, &hung, "/never");
	assert_true(hung_id > 0);
	assert_int_equal(gw_http_cancel(f->http, hung_id), 0);
	f->outstanding--;
	assert_int_equal(gw_http_cancel(f->http, hung_id), -ENOENT);
	assert_int_equal(gw_http_cancel(f->http, 999999), -ENOENT);
	lws_sul_schedule(gw_loop_context(f->loop), 0, &c.poll, cancel_poll, 5 * LWS_US_PER_MS);
	assert_int_equal(run(f), 0);
	lws_sul_cancel(&c.poll);
	assert_int_equal(c.cancel_rc, 0);
	assert_int_equal(c.after.status, 200);
	assert_int_equal(dl.calls, 0);
	assert_int_equal(hung.calls, 0);
	assert_false(exists(part_of(c.path)));
	assert_false(exists(c.path));
	assert_int_equal(gw_http_pending(f->http), 0);
	assert_int_equal(gw_http_cancel(f->http, c.id), -ENOENT);
}

static void test_transfer_bad(void **state)
{
	struct fixture *f = *state;
	struct answer a = { 0 };
	const char *src = tmp_path("src.log");
	const char *url = fake_http_url(server_port, "/store");
	struct gw_http_xfer bad[] = {
		{ .url = "file:///etc/passwd", .path = tmp_path("x") },
		{ .url = "gopher://127.0.0.1/", .path = tmp_path("x") },
		{ .url = "scp://127.0.0.1/x", .path = src, .upload = true },
		{ .url = "http://", .path = tmp_path("x") },
		{ .url = "", .path = tmp_path("x") },
		{ .url = NULL, .path = tmp_path("x") },
		{ .url = url, .path = NULL },
		{ .url = url, .path = "" },
		{ .url = url, .path = "dir/" },
		{ .url = "http://127.0.0.1/a b", .path = tmp_path("x") },
		{ .url = "http://127.0.0.1/a\r\nX: y", .path = tmp_path("x") },
		{ .url = url, .path = tmp_path("x"), .timeout_ms = -1 },
		{ .url = url, .path = store_dir, .upload = true }, /* a directory */
	};

	file_put(src, "x", 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(gw_http_transfer(f->http, &bad[i], on_done, &a), -EINVAL);
	assert_int_equal(gw_http_transfer(f->http, NULL, on_done, &a), -EINVAL);
	assert_int_equal(gw_http_transfer(f->http, &(struct gw_http_xfer){ .url = url, .path = src }, NULL, &a),
			 -EINVAL);
	/* The local file's own errors. */
	assert_int_equal(gw_http_transfer(f->http,
					  &(struct gw_http_xfer){ .url = url, .path = tmp_path("none"), .upload = true },
					  on_done, &a),
			 -ENOENT);
	assert_int_equal(gw_http_transfer(f->http,
					  &(struct gw_http_xfer){ .url = url, .path = tmp_path("no/such/dir") },
					  on_done, &a),
			 -ENOENT);
	assert_false(exists(part_of(tmp_path("x"))));
	assert_int_equal(gw_http_pending(f->http), 0);
	assert_int_equal(a.calls, 0);
	unlink(src);
}

/* ---- FTP (pyftpdlib) ---- */

#define FTP_USER "gw"
#define FTP_PASS "ftp-Secret-42"

static pid_t ftp_pid = -1;
static int ftp_port;
static char ftp_root[80];
static const char *ftp_missing; /* why the FTP tests are skipped, or NULL */

static const char ftp_script[] =
	"import logging, os, sys\n"
	"logging.disable(logging.CRITICAL)\n"
	"from pyftpdlib.authorizers import DummyAuthorizer\n"
	"from pyftpdlib.handlers import FTPHandler\n"
	"from pyftpdlib.servers import FTPServer\n"
	"a = DummyAuthorizer()\n"
	"a.add_user('" FTP_USER "', '" FTP_PASS "', sys.argv[1], perm='elradfmwMT')\n"
	"FTPHandler.authorizer = a\n"
	"FTPHandler.auth_failed_timeout = 0\n"
	"s = FTPServer(('127.0.0.1', 0), FTPHandler)\n"
	"sys.stdout.write('%d\\n' % s.socket.getsockname()[1])\n"
	"sys.stdout.flush()\n"
	"os.dup2(os.open(os.devnull, os.O_WRONLY), 1)\n"
	"s.serve_forever()\n";

/* Debian's python3 first (pyenv shims and the like hide its packages), else the one on PATH. */
static const char *python(void)
{
	const char *env = getenv("TWCGW_PYTHON");

	if (env && env[0])
		return env;
	return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

static void ftp_start(void)
{
	int out[2];
	char buf[32] = "";
	ssize_t n;
	pid_t parent = getpid();

	snprintf(ftp_root, sizeof(ftp_root), "%s/ftp", store_dir);
	if (mkdir(ftp_root, 0700) != 0 || pipe2(out, O_CLOEXEC) != 0) {
		ftp_missing = "cannot set up its directory";
		return;
	}
	ftp_pid = fork();
	if (ftp_pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		/* Gone with the test, however the test ends. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		dup2(out[1], STDOUT_FILENO);
		if (null >= 0 && !getenv("TWCGW_TEST_DEBUG"))
			dup2(null, STDERR_FILENO);
		execlp(python(), python(), "-c", ftp_script, ftp_root, (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	/* The port and a newline; EOF first when python3 or pyftpdlib is missing. */
	n = 0;
	while (ftp_pid > 0 && (size_t)n < sizeof(buf) - 1 && !memchr(buf, '\n', (size_t)n)) {
		ssize_t r = read(out[0], buf + n, sizeof(buf) - 1 - (size_t)n);

		if (r <= 0)
			break;
		n += r;
		buf[n] = '\0';
	}
	close(out[0]);
	ftp_port = memchr(buf, '\n', (size_t)n) ? (int)strtol(buf, NULL, 10) : 0;
	if (ftp_port <= 0) {
		ftp_missing = "python3 with pyftpdlib is not installed (Debian: python3-pyftpdlib)";
		if (ftp_pid > 0) {
			kill(ftp_pid, SIGTERM);
			waitpid(ftp_pid, NULL, 0);
		}
		ftp_pid = -1;
	}
}

static void ftp_stop(void)
{
	if (ftp_pid > 0) {
		kill(ftp_pid, SIGTERM);
		waitpid(ftp_pid, NULL, 0);
	}
}

static bool ftp_skip(void)
{
	if (!ftp_missing)
		return false;
	fprintf(stderr, "[  SKIP    ] FTP: %s\n", ftp_missing);
	return true;
}

static char *ftp_url(const char *pass, const char *path)
{
	static char u[4][160];
	static int i;
	char *out = u[i++ % 4];

	snprintf(out, sizeof(u[0]), "ftp://" FTP_USER ":%s@127.0.0.1:%d%s", pass, ftp_port, path);
	return out;
}

static char *ftp_file(const char *name)
{
	static char p[160];

	snprintf(p, sizeof(p), "%s/%s", ftp_root, name);
	return p;
}

static void test_ftp_upload(void **state)
{
	struct fixture *f = *state;
	struct answer dir = { 0 }, named = { 0 }, denied = { 0 };
	const char *src = tmp_path("CP 1-security-20240131T120000Z.log");
	struct gw_http_xfer x_dir = { .url = ftp_url(FTP_PASS, "/"), .path = src, .upload = true };
	struct gw_http_xfer x_named = { .url = ftp_url(FTP_PASS, "/named.log"), .path = src, .upload = true };
	struct gw_http_xfer x_denied = { .url = ftp_url("wrong", "/denied.log"), .path = src, .upload = true };
	static const char content[] = "2024-01-31T12:00:00.000Z StartupOfTheDevice\n";
	char *got;
	size_t len = 0;

	if (ftp_skip())
		skip();
	file_put(src, content, sizeof(content) - 1);
	assert_true(start_xfer(f, &dir, &x_dir) > 0);
	assert_true(start_xfer(f, &named, &x_named) > 0);
	assert_true(start_xfer(f, &denied, &x_denied) > 0);
	assert_int_equal(run(f), 0);

	/* STOR's final reply; to a directory URL under the file's own name (its space escaped). */
	assert_int_equal(dir.status, 226);
	assert_string_equal(dir.body, "");
	got = file_get(ftp_file("CP 1-security-20240131T120000Z.log"), &len);
	assert_non_null(got);
	assert_string_equal(got, content);
	assert_int_equal(named.status, 226);
	got = file_get(ftp_file("named.log"), &len);
	assert_non_null(got);
	assert_string_equal(got, content);
	/* A wrong password is the server's 530, not a bare errno. */
	assert_int_equal(denied.status, 530);
	assert_false(exists(ftp_file("denied.log")));
	unlink(src);
}

static void test_ftp_download(void **state)
{
	struct fixture *f = *state;
	struct answer ok = { 0 }, missing = { 0 }, big = { 0 };
	char data[20000];
	const char *p_ok = tmp_path("ftp-ok.bin"), *p_missing = tmp_path("ftp-missing.bin");
	const char *p_big = tmp_path("ftp-big.bin");
	struct gw_http_xfer x_ok = { .url = ftp_url(FTP_PASS, "/fw.bin"), .path = p_ok };
	struct gw_http_xfer x_missing = { .url = ftp_url(FTP_PASS, "/nothing.bin"), .path = p_missing };
	struct gw_http_xfer x_big = { .url = ftp_url(FTP_PASS, "/fw.bin"), .path = p_big, .max_bytes = 19999 };
	struct stat st;
	char *got;
	size_t len = 0;

	if (ftp_skip())
		skip();
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7 + 3);
	file_put(ftp_file("fw.bin"), data, sizeof(data));
	assert_true(start_xfer(f, &ok, &x_ok) > 0);
	assert_true(start_xfer(f, &missing, &x_missing) > 0);
	assert_true(start_xfer(f, &big, &x_big) > 0);
	assert_int_equal(run(f), 0);

	assert_int_equal(ok.status, 226);
	got = file_get(p_ok, &len);
	assert_non_null(got);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(got, data, sizeof(data));
	assert_int_equal(stat(p_ok, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_false(exists(part_of(p_ok)));
	assert_int_equal(missing.status, 550);
	assert_false(exists(p_missing));
	assert_false(exists(part_of(p_missing)));
	assert_int_equal(big.status, -EFBIG);
	assert_false(exists(p_big));
	assert_false(exists(part_of(p_big)));
	unlink(p_ok);
}

/* ---- credentials and the log ---- */

static void test_credentials_not_logged(void **state)
{
	struct fixture *f = *state;
	struct answer dl = { 0 }, up = { 0 }, ftp = { 0 };
	const char *log = tmp_path("stderr.txt");
	const char *src = tmp_path("cred.log");
	char http_url[160], ftp_refused[160];
	struct gw_http_xfer x_dl = { .url = http_url, .path = tmp_path("cred.bin") };
	struct gw_http_xfer x_up = { .url = ftp_refused, .path = src, .upload = true };
	struct gw_http_xfer x_ftp = { .url = ftp_url("Hunter2-ftp", "/x.log"), .path = src, .upload = true };
	enum gw_log_level level = gw_log_get_level();
	int saved = dup(STDERR_FILENO);
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char *text;

	snprintf(http_url, sizeof(http_url), "http://admin:Hunter2-http@127.0.0.1:%d/status/401?token=Hunter2-q",
		 server_port);
	snprintf(ftp_refused, sizeof(ftp_refused), "ftp://admin:Hunter2-refused@127.0.0.1:%d/dir/", refused_port());
	file_put(src, "data", 4);
	assert_true(saved >= 0 && fd >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
	gw_log_set_level(GW_LOG_DEBUG);

	assert_true(start_xfer(f, &dl, &x_dl) > 0);
	assert_true(start_xfer(f, &up, &x_up) > 0);
	if (!ftp_missing)
		assert_true(start_xfer(f, &ftp, &x_ftp) > 0);
	/* A failure to open the local file is logged with the URL too. */
	assert_int_equal(gw_http_transfer(f->http,
					  &(struct gw_http_xfer){ .url = ftp_refused, .path = tmp_path("none"),
								  .upload = true },
					  on_done, &dl),
			 -ENOENT);
	assert_int_equal(run(f), 0);

	gw_log_set_level(level);
	dup2(saved, STDERR_FILENO);
	close(saved);
	assert_int_equal(dl.status, 401);
	assert_int_equal(up.status, -ECONNREFUSED);
	if (!ftp_missing)
		assert_int_equal(ftp.status, 530);
	text = file_get(log, NULL);
	assert_non_null(text);
	/* The transfers were logged, host and path, without user, password or query. */
	assert_non_null(strstr(text, "download of http://127.0.0.1:"));
	assert_non_null(strstr(text, "/status/401"));
	assert_non_null(strstr(text, "upload to ftp://127.0.0.1:"));
	assert_null(strstr(text, "Hunter2"));
	assert_null(strstr(text, "admin"));
	unlink(log);
	unlink(src);
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
		cmocka_unit_test_setup_teardown(test_upload_http, setup, teardown),
		cmocka_unit_test_setup_teardown(test_download, setup, teardown),
		cmocka_unit_test_setup_teardown(test_download_https, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transfer_bad, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ftp_upload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ftp_download, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credentials_not_logged, setup, teardown),
	};
	int rc;

	gw_log_set_level(getenv("TWCGW_TEST_DEBUG") ? GW_LOG_DEBUG : GW_LOG_WARN);
	snprintf(store_dir, sizeof(store_dir), "/tmp/test_gw_http.XXXXXX");
	if (!mkdtemp(store_dir)) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	/* Before any loop exists, so the child inherits no lws or curl state worth speaking of. */
	if (server_start() != 0 || tls_server_start() != 0) {
		fprintf(stderr, "cannot start the test servers: %s\n", strerror(errno));
		return 1;
	}
	ftp_start();
	if (ftp_missing)
		fprintf(stderr, "test_gw_http: the FTP tests are skipped: %s\n", ftp_missing);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	fake_http_child_stop(&server);
	fake_http_child_stop(&tls_server);
	ftp_stop();
	/* Whatever a failed test left in it. */
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", store_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", store_dir);
	}
	return rc;
}
