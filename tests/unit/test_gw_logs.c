/*
 * Tests of gw_logs (GetLog) on a real loop with gw_http, against a server child of our own: plain
 * HTTP that stores each upload it accepts, fails a path's first two uploads (500), refuses one (403)
 * or never answers one; and a stub FTP server that refuses every password (530). Covered: the
 * scrubber on its own; the file's name, mode and content (the time window, the scrubbing) for both
 * logs; the security log's format and its rotation past 1 MiB; the status sequence with retries
 * (Uploading, Uploaded after two failures; UploadFailure when the retries run out; the retry
 * interval honoured), PermissionDenied for 403 and FTP 530 without retries, BadMessage for an
 * unusable URL, Rejected for a scheme that is not offered, AcceptedCanceled with the first upload
 * reporting nothing more, gw_logs_stop(), the upload file always removed, and stale upload files
 * removed at start. No status may arrive from inside gw_logs_get().
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libwebsockets.h>

#include "fake_http.h"
#include "gw_clock.h"
#include "gw_http.h"
#include "gw_log.h"
#include "gw_logs.h"
#include "gw_loop.h"

#define WATCHDOG_US (30 * LWS_US_PER_SEC)
#define REQ_MAX (4 << 20)
#define T0 1580515200000LL /* 2020-02-01T00:00:00Z: far from the real-time stamps of gw_log's own lines */

static char top[64];  /* the test's directory: the server's store/ and each test's data directory */
static int http_port, ftp_port;
static struct fake_http_child server = FAKE_HTTP_CHILD_INIT;

/* ---- the server child ---- */

struct path_count {
	char path[128];
	int n;
};

static void send_str(int fd, const char *s)
{
	fake_http_send_all(fd, s, strlen(s));
}

static void reply(int fd, int status)
{
	char head[128];

	snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", status);
	send_str(fd, head);
}

/* One whole request (head and Content-Length body) into @buf. Return its length, or 0. */
static size_t read_request(int fd, char *buf, size_t cap)
{
	size_t len = 0, want = 0;

	while (len + 1 < cap) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		char *end;

		if (n <= 0)
			return 0;
		len += (size_t)n;
		buf[len] = '\0';
		/* The head once; then only counting up to its Content-Length. */
		if (!want && (end = strstr(buf, "\r\n\r\n"))) {
			size_t head = (size_t)(end + 4 - buf);

			want = head + fake_http_req_content_length(buf, head);
		}
		if (want && len >= want)
			return len;
	}
	return 0;
}

/* Paths: /ok/... 200, /fail2/... 500 twice then 200, /deny/... 403, /hold/... no answer. Accepted
 * uploads are stored as store/<n> (whole requests), n counting from 1. */
static void http_serve(int fd, struct path_count *counts, int *held, int *nheld, int *stored)
{
	static char buf[REQ_MAX];
	struct timeval tv = { .tv_sec = 5 };
	char path[128], file[160];
	size_t len;
	int status = 200;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	len = read_request(fd, buf, sizeof(buf));
	fake_http_req_path(len ? buf : "", path, sizeof(path));
	for (int i = 0; i < 16 && path[0]; i++) {
		if (!counts[i].path[0])
			snprintf(counts[i].path, sizeof(counts[i].path), "%s", path);
		if (strcmp(counts[i].path, path) == 0) {
			counts[i].n++;
			if (strncmp(path, "/fail2/", 7) == 0 && counts[i].n <= 2)
				status = 500;
			break;
		}
	}
	if (strncmp(path, "/hold/", 6) == 0 && *nheld < 16) {
		held[(*nheld)++] = fd;
		return;
	}
	if (strncmp(path, "/deny/", 6) == 0)
		status = 403;
	if (getenv("TWCGW_TEST_DEBUG"))
		fprintf(stderr, "server: %zu bytes for \"%s\", answer %d\n", len, path, status);
	if (status == 200 && len) {
		FILE *fp;

		snprintf(file, sizeof(file), "%s/store/%d", top, ++*stored);
		fp = fopen(file, "w");
		if (fp) {
			fwrite(buf, 1, len, fp);
			fclose(fp);
		}
	}
	reply(fd, status);
	close(fd);
}

/* Just enough FTP for curl to log in and be refused. */
static void ftp_serve(int fd)
{
	struct timeval tv = { .tv_sec = 5 };
	char line[256];
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	send_str(fd, "220 stub\r\n");
	while ((n = read(fd, line, sizeof(line) - 1)) > 0) {
		line[n] = '\0';
		if (strncasecmp(line, "USER", 4) == 0) {
			send_str(fd, "331 password\r\n");
		} else {
			send_str(fd, "530 Login incorrect.\r\n");
			break;
		}
	}
	close(fd);
}

static void __attribute__((noreturn)) server_main(int hfd, int ffd, int ctl)
{
	static struct path_count counts[16];
	int held[16], nheld = 0, stored = 0;

	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		struct pollfd pfd[3] = {
			{ .fd = ctl, .events = POLLIN }, { .fd = hfd, .events = POLLIN }, { .fd = ffd, .events = POLLIN }
		};
		int fd;

		if (poll(pfd, 3, -1) < 0)
			continue;
		if (pfd[0].revents)
			_exit(0);
		if ((pfd[1].revents & POLLIN) && (fd = accept(hfd, NULL, NULL)) >= 0)
			http_serve(fd, counts, held, &nheld, &stored);
		if ((pfd[2].revents & POLLIN) && (fd = accept(ffd, NULL, NULL)) >= 0)
			ftp_serve(fd);
	}
}

static int server_start(void)
{
	int hfd = fake_http_listen(&http_port), ffd = fake_http_listen(&ftp_port);
	pid_t pid;

	if (hfd < 0 || ffd < 0)
		return -1;
	pid = fake_http_child_fork(&server);
	if (pid < 0)
		return -1;
	if (pid == 0)
		server_main(hfd, ffd, server.ctl);
	close(hfd);
	close(ffd);
	return 0;
}

/* ---- files ---- */

static char *slurp(const char *path, size_t *len)
{
	static char buf[3 << 20];
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

/* Files in @dir (not . and ..). */
static int count_files(const char *dir)
{
	char cmd[200];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	p = popen(cmd, "r");
	if (p) {
		char line[32];

		if (fgets(line, sizeof(line), p))
			n = (int)strtol(line, NULL, 10);
		pclose(p);
	}
	return n;
}

static int stored_count(void)
{
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/store", top);
	return count_files(dir);
}

static char *stored(int n)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/store/%d", top, n);
	return slurp(path, NULL);
}

/* ---- the fixture ---- */

#define MAX_STATUS 16

struct fixture {
	struct gw_loop *loop;
	struct gw_http *http;
	struct gw_logs *logs;
	lws_sorted_usec_list_t watchdog;
	char dir[128];
	char upload[160];
	bool in_get;
	void (*on_uploading)(struct fixture *f); /* run from the "Uploading" status, the loop running */
	void *arg;
	int n;
	char status[MAX_STATUS][24];
	int rid[MAX_STATUS];
	uint64_t at_ms[MAX_STATUS];
};

static void watchdog_cb(lws_sorted_usec_list_t *sul)
{
	struct fixture *f = lws_container_of(sul, struct fixture, watchdog);

	gw_loop_stop(f->loop, -ETIME);
}

static void on_status(void *user, const char *status, int request_id)
{
	struct fixture *f = user;

	assert_false(f->in_get);
	assert_true(f->n < MAX_STATUS);
	snprintf(f->status[f->n], sizeof(f->status[0]), "%s", status);
	f->rid[f->n] = request_id;
	f->at_ms[f->n] = gw_clock_mono_ms();
	f->n++;
	if (strcmp(status, "Uploading") != 0)
		gw_loop_stop(f->loop, 0);
	else if (f->on_uploading)
		f->on_uploading(f);
}

/* The loop, the HTTP client and gw_logs on f->dir. A loop runs once (gw_loop_stop() is final), so a
 * test with several steps takes a fresh set for each with fixture_renew(). */
static int fixture_open(struct fixture *f)
{
	static const struct gw_loop_handlers nh = { 0 };
	struct gw_logs_params p = { .dir = f->dir, .charge_box_id = "CP/1" };
	struct gw_logs_callbacks cb = { .user = f, .status = on_status };

	f->loop = gw_loop_new(&nh);
	f->http = f->loop ? gw_http_new(f->loop) : NULL;
	f->logs = f->http ? gw_logs_new(f->loop, f->http, &p, &cb) : NULL;
	return f->logs ? 0 : -1;
}

static void fixture_close(struct fixture *f)
{
	gw_logs_free(f->logs);
	gw_http_stop(f->http);
	lws_sul_cancel(&f->watchdog);
	gw_loop_free(f->loop);
	gw_http_free(f->http);
	f->logs = NULL;
	f->http = NULL;
	f->loop = NULL;
}

static void fixture_renew(struct fixture *f)
{
	fixture_close(f);
	assert_int_equal(fixture_open(f), 0);
	f->n = 0;
	f->on_uploading = NULL;
}

static int setup(void **state)
{
	static int seq;
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/d%d", top, ++seq);
	snprintf(f->upload, sizeof(f->upload), "%s/upload", f->dir);
	if (mkdir(f->dir, 0700) != 0)
		return -1;
	/* A file a crash left in upload/: gone once gw_logs starts. */
	if (mkdir(f->upload, 0700) == 0) {
		char stale[200];
		FILE *fp;

		snprintf(stale, sizeof(stale), "%s/CP-diagnostics-20200101T000000Z.log", f->upload);
		fp = fopen(stale, "w");
		if (fp)
			fclose(fp);
	}
	*state = f;
	return fixture_open(f);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return 0;
	fixture_close(f);
	free(f);
	return 0;
}

static int run(struct fixture *f)
{
	int rc;

	lws_sul_schedule(gw_loop_context(f->loop), 0, &f->watchdog, watchdog_cb, WATCHDOG_US);
	rc = gw_loop_run(f->loop);
	lws_sul_cancel(&f->watchdog);
	return rc;
}

static char *url(const char *path)
{
	return fake_http_url(http_port, path);
}

static int get(struct fixture *f, bool security, const char *u, int rid, int64_t oldest, int64_t latest, int retries,
	       int interval, char *name, size_t len)
{
	int rc;

	f->in_get = true;
	rc = gw_logs_get(f->logs, security, u, rid, oldest, latest, retries, interval, T0 + 3600 * 1000, name, len);
	f->in_get = false;
	return rc;
}

static char *upload_file(struct fixture *f, const char *name)
{
	static char p[320];

	snprintf(p, sizeof(p), "%s/%s", f->upload, name);
	return p;
}

/* ---- tests ---- */

static void scrub_is(const char *in, const char *want)
{
	char out[512];
	bool in_key = false;
	size_t n = gw_logs_scrub(in, strlen(in), out, sizeof(out), &in_key);

	assert_int_equal(n, strlen(out));
	assert_string_equal(out, want);
	assert_false(in_key);
}

static void test_scrub(void **state)
{
	char out[64];
	bool in_key = false;

	(void)state;
	scrub_is("ws: upgrade Authorization: Basic Q1AxOnNlY3JldA== sent", "ws: upgrade Authorization: Basic *** sent");
	scrub_is("authorization: bearer eyJhbGciOi.x.y", "authorization: bearer ***");
	scrub_is("{\"password\":\"p\\\"w\",\"user\":\"a\"}", "{\"password\":\"***\",\"user\":\"a\"}");
	scrub_is("mqtt password=hunter2 host=x", "mqtt password=*** host=x");
	scrub_is("http.passwordHash: '$argon2id$v=19'", "http.passwordHash: '***'");
	scrub_is("[2,\"1\",\"ChangeConfiguration\",{\"key\":\"AuthorizationKey\",\"value\":\"0011223344\"}]",
		 "[2,\"1\",\"ChangeConfiguration\",{\"key\":\"AuthorizationKey\",\"value\":\"***\"}]");
	scrub_is("tesla: access_token = abc.def; refresh_token=\"x\"", "tesla: access_token = ***; refresh_token=\"***\"");
	scrub_is("client_secret: s3", "client_secret: ***");
	scrub_is("GET ftp://user:pa55@host/dir/", "GET ftp://user:***@host/dir/");
	scrub_is("key -----BEGIN EC PRIVATE KEY----- MHcCAQEE -----END EC PRIVATE KEY----- done",
		 "key [private key removed] done");
	/* Ordinary words stay. */
	scrub_is("ocpp: token refused; Basic charging mode; password not set; http://host/x; Bearer abc",
		 "ocpp: token refused; Basic charging mode; password not set; http://host/x; Bearer abc");
	scrub_is("-----BEGIN CERTIFICATE----- MIIB -----END CERTIFICATE-----",
		 "-----BEGIN CERTIFICATE----- MIIB -----END CERTIFICATE-----");

	/* A key block over several lines (the security log's file could hold one). */
	gw_logs_scrub("a -----BEGIN PRIVATE KEY-----", 29, out, sizeof(out), &in_key);
	assert_string_equal(out, "a [private key removed]");
	assert_true(in_key);
	gw_logs_scrub("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", 32, out, sizeof(out), &in_key);
	assert_string_equal(out, "");
	assert_true(in_key);
	gw_logs_scrub("-----END PRIVATE KEY----- b", 27, out, sizeof(out), &in_key);
	assert_string_equal(out, " b");
	assert_false(in_key);

	/* Bounded: a small buffer is filled and terminated, never overrun. */
	assert_int_equal(gw_logs_scrub("0123456789", 10, out, 5, &in_key), 4);
	assert_string_equal(out, "0123");
}

static void test_diagnostics_file_and_upload(void **state)
{
	struct fixture *f = *state;
	char name[128], *body, *req;
	struct stat st;
	size_t len = 0;
	int before = stored_count();

	/* The stale file of setup() is gone. */
	assert_int_equal(count_files(f->upload), 0);
	gw_log_ring_clear();
	gw_log_ring_add(T0 + 1000, GW_LOG_INFO, "before the window");
	gw_log_ring_add(T0 + 2000, GW_LOG_WARN, "in the window, Authorization: Basic Q1AxOnNlY3JldA==");
	gw_log_ring_add(T0 + 3000, GW_LOG_ERROR, "also in, {\"password\":\"hunter2\"}");
	gw_log_ring_add(T0 + 4000, GW_LOG_DEBUG, "after the window");

	assert_int_equal(get(f, false, url("/ok/diag"), 7, T0 + 2000, T0 + 3000, 0, 0, name, sizeof(name)), 0);
	/* The name: id made safe, kind, now (T0 + 1 h) in UTC. */
	assert_string_equal(name, "CP_1-diagnostics-20200201T010000Z.log");
	assert_int_equal(stat(upload_file(f, name), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	body = slurp(upload_file(f, name), &len);
	assert_non_null(body);
	assert_string_equal(body, "2020-02-01T00:00:02.000Z WARN  in the window, Authorization: Basic ***\n"
				  "2020-02-01T00:00:03.000Z ERROR also in, {\"password\":\"***\"}\n");
	assert_int_equal(f->n, 0); /* nothing until the loop runs */
	assert_string_equal(gw_logs_status(f->logs, NULL), "Uploading");

	assert_int_equal(run(f), 0);
	assert_int_equal(f->n, 2);
	assert_string_equal(f->status[0], "Uploading");
	assert_string_equal(f->status[1], "Uploaded");
	assert_int_equal(f->rid[0], 7);
	assert_int_equal(f->rid[1], 7);
	assert_string_equal(gw_logs_status(f->logs, NULL), "Idle");
	/* What the server got: the same text as a multipart part named after the file. */
	assert_int_equal(stored_count(), before + 1);
	req = stored(before + 1);
	assert_non_null(req);
	assert_non_null(strstr(req, "filename=\"CP_1-diagnostics-20200201T010000Z.log\""));
	assert_non_null(strstr(req, "in the window, Authorization: Basic ***\n"));
	assert_null(strstr(req, "hunter2"));
	assert_null(strstr(req, "before the window"));
	/* Removed once sent. */
	assert_false(exists(upload_file(f, name)));
}

static void test_diagnostics_no_window(void **state)
{
	struct fixture *f = *state;
	char name[128], *body;

	gw_log_ring_clear();
	gw_log_ring_add(T0, GW_LOG_INFO, "one");
	gw_log_info("two, from gw_log itself");
	assert_int_equal(get(f, false, url("/ok/all"), 8, 0, 0, 0, 0, name, sizeof(name)), 0);
	body = slurp(upload_file(f, name), NULL);
	assert_non_null(body);
	assert_true(strncmp(body, "2020-02-01T00:00:00.000Z INFO  one\n", 35) == 0);
	assert_non_null(strstr(body, " INFO  two, from gw_log itself\n"));
	assert_int_equal(run(f), 0);
	assert_string_equal(f->status[f->n - 1], "Uploaded");
}

static void test_security_log(void **state)
{
	struct fixture *f = *state;
	char path[200], old[200], name[128], *body;
	struct stat st;
	size_t len = 0;
	char info[300];

	snprintf(path, sizeof(path), "%s/security.log", f->dir);
	snprintf(old, sizeof(old), "%s/security.log.1", f->dir);
	gw_logs_security_event(f->logs, "StartupOfTheDevice", T0 + 500, NULL);
	gw_logs_security_event(f->logs, "SettingSystemTime", T0 + 1500, "from 2020-01-01\nforged line");
	gw_logs_security_event(f->logs, "InvalidMessages", T0 + 2500, "password=abc");
	body = slurp(path, NULL);
	assert_non_null(body);
	assert_string_equal(body, "2020-02-01T00:00:00.500Z StartupOfTheDevice\n"
				  "2020-02-01T00:00:01.500Z SettingSystemTime from 2020-01-01 forged line\n"
				  "2020-02-01T00:00:02.500Z InvalidMessages password=abc\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_equal(get(f, true, url("/ok/sec"), 9, T0 + 1000, 0, 0, 0, name, sizeof(name)), 0);
	assert_string_equal(name, "CP_1-security-20200201T010000Z.log");
	body = slurp(upload_file(f, name), NULL);
	assert_string_equal(body, "2020-02-01T00:00:01.500Z SettingSystemTime from 2020-01-01 forged line\n"
				  "2020-02-01T00:00:02.500Z InvalidMessages password=***\n");
	assert_int_equal(run(f), 0);
	assert_string_equal(f->status[1], "Uploaded");

	/* Past 1 MiB the file moves to security.log.1 (whole lines), and a new one starts. */
	memset(info, 'i', sizeof(info) - 1);
	info[sizeof(info) - 1] = '\0';
	for (int i = 0; i < 4000; i++)
		gw_logs_security_event(f->logs, "InvalidMessages", T0 + 10000 + i, info);
	assert_int_equal(stat(old, &st), 0);
	assert_true(st.st_size <= 1024 * 1024 && st.st_size > 900 * 1024);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size < 1024 * 1024);
	body = slurp(old, &len);
	assert_true(strncmp(body, "2020-02-01T00:00:00.500Z StartupOfTheDevice\n", 44) == 0);
	assert_int_equal(body[len - 1], '\n');

	/* The upload holds both generations, oldest first: every one of the 4003 lines. */
	fixture_renew(f);
	assert_int_equal(get(f, true, url("/ok/sec2"), 10, 0, 0, 0, 0, name, sizeof(name)), 0);
	body = slurp(upload_file(f, name), &len);
	assert_non_null(body);
	{
		int lines = 0;
		char *last;

		for (size_t i = 0; i < len; i++)
			lines += body[i] == '\n';
		assert_int_equal(lines, 4003);
		body[len - 1] = '\0';
		last = strrchr(body, '\n') + 1;
		assert_true(strncmp(last, "2020-02-01T00:00:13.999Z InvalidMessages iii", 44) == 0);
	}
	assert_int_equal(run(f), 0);
	assert_string_equal(f->status[1], "Uploaded");
	/* All of it arrived (over a megabyte: many writes, each waiting for the socket). */
	body = stored(stored_count());
	assert_non_null(body);
	assert_true(strlen(body) > 1024 * 1024);
	assert_non_null(strstr(body, "2020-02-01T00:00:13.999Z InvalidMessages iii"));
	assert_non_null(strstr(body, "2020-02-01T00:00:00.500Z StartupOfTheDevice\n"));
}

static void test_retries(void **state)
{
	struct fixture *f = *state;
	char name[128];
	int before = stored_count();

	gw_log_ring_clear();
	gw_log_ring_add(T0, GW_LOG_INFO, "retry me");
	/* Two failures, two retries: the third attempt goes through. */
	assert_int_equal(get(f, false, url("/fail2/a"), 11, 0, 0, 2, 0, name, sizeof(name)), 0);
	assert_int_equal(run(f), 0);
	assert_int_equal(f->n, 2);
	assert_string_equal(f->status[0], "Uploading");
	assert_string_equal(f->status[1], "Uploaded");
	assert_int_equal(stored_count(), before + 1);
	assert_non_null(strstr(stored(before + 1), "retry me"));
	assert_false(exists(upload_file(f, name)));

	/* One retry is not enough; the retry waits its interval (1 s) first. */
	fixture_renew(f);
	assert_int_equal(get(f, false, url("/fail2/b"), 12, 0, 0, 1, 1, name, sizeof(name)), 0);
	assert_int_equal(run(f), 0);
	assert_int_equal(f->n, 2);
	assert_string_equal(f->status[0], "Uploading");
	assert_string_equal(f->status[1], "UploadFailure");
	assert_int_equal(f->rid[1], 12);
	assert_true(f->at_ms[1] - f->at_ms[0] >= 1000);
	assert_int_equal(stored_count(), before + 1);
	assert_false(exists(upload_file(f, name)));

	/* Nobody listening: the same, with connection errors. */
	fixture_renew(f);
	assert_int_equal(get(f, false, "http://127.0.0.1:1/x", 13, 0, 0, 1, 0, name, sizeof(name)), 0);
	assert_int_equal(run(f), 0);
	assert_string_equal(f->status[1], "UploadFailure");
}

static void test_permission_denied(void **state)
{
	struct fixture *f = *state;
	char name[128], ftp[128];

	/* Refused: no retry would change that. */
	assert_int_equal(get(f, false, url("/deny/x"), 14, 0, 0, 3, 0, name, sizeof(name)), 0);
	assert_int_equal(run(f), 0);
	assert_int_equal(f->n, 2);
	assert_string_equal(f->status[1], "PermissionDenied");
	assert_false(exists(upload_file(f, name)));

	fixture_renew(f);
	snprintf(ftp, sizeof(ftp), "ftp://cp:wrong@127.0.0.1:%d/logs/", ftp_port);
	assert_int_equal(get(f, true, ftp, 15, 0, 0, 3, 0, name, sizeof(name)), 0);
	assert_int_equal(run(f), 0);
	assert_int_equal(f->n, 2);
	assert_string_equal(f->status[0], "Uploading");
	assert_string_equal(f->status[1], "PermissionDenied");
	assert_int_equal(f->rid[1], 15);
}

static void test_bad_message_and_rejected(void **state)
{
	struct fixture *f = *state;
	char name[128] = "";

	/* A scheme we do not offer: Rejected, nothing written, nothing reported. */
	assert_int_equal(get(f, false, "file:///etc/passwd", 16, 0, 0, 0, 0, name, sizeof(name)), -EPROTONOSUPPORT);
	assert_int_equal(get(f, false, "sftp://h/x", 16, 0, 0, 0, 0, name, sizeof(name)), -EPROTONOSUPPORT);
	assert_int_equal(get(f, false, "", 16, 0, 0, 0, 0, name, sizeof(name)), -EPROTONOSUPPORT);
	assert_int_equal(gw_logs_get(f->logs, false, NULL, 16, 0, 0, 0, 0, T0, name, sizeof(name)), -EINVAL);
	/* No room for the name: Rejected too. */
	assert_int_equal(get(f, false, url("/ok/x"), 16, 0, 0, 0, 0, name, 10), -ENAMETOOLONG);
	assert_int_equal(count_files(f->upload), 0);
	assert_string_equal(gw_logs_status(f->logs, NULL), "Idle");

	/* The right scheme but no host, or a space: Accepted, then BadMessage without an attempt. */
	assert_int_equal(get(f, false, "http:///x", 17, 0, 0, 3, 0, name, sizeof(name)), 0);
	assert_int_equal(run(f), 0);
	assert_int_equal(f->n, 1);
	assert_string_equal(f->status[0], "BadMessage");
	assert_int_equal(f->rid[0], 17);
	fixture_renew(f);
	assert_int_equal(get(f, false, "ftp://user@/x", 18, 0, 0, 3, 0, name, sizeof(name)), 0);
	assert_int_equal(run(f), 0);
	assert_string_equal(f->status[0], "BadMessage");
	fixture_renew(f);
	assert_int_equal(get(f, false, "HTTPS://exa mple.com/x", 19, 0, 0, 3, 0, name, sizeof(name)), 0);
	assert_int_equal(run(f), 0);
	assert_int_equal(f->n, 1);
	assert_string_equal(f->status[0], "BadMessage");
	assert_int_equal(count_files(f->upload), 0);
}

/* What the second GetLog saw, from inside the first one's "Uploading" status. */
struct cancel_seen {
	char first[128], second[128];
	int rc, rid;
	bool first_before, first_after;
	const char *status;
};

static void cancel_on_uploading(struct fixture *f)
{
	struct cancel_seen *c = f->arg;

	/* Only the first upload's status: the second one's must run its course. */
	if (f->rid[f->n - 1] != 20)
		return;
	c->status = gw_logs_status(f->logs, &c->rid);
	c->first_before = exists(upload_file(f, c->first));
	/* Held by the server: no answer will come. Another GetLog cancels it. */
	c->rc = gw_logs_get(f->logs, true, url("/ok/b"), 21, 0, 0, 0, 0, T0 + 7200 * 1000, c->second,
			    sizeof(c->second));
	c->first_after = exists(upload_file(f, c->first));
}

static void test_accepted_canceled(void **state)
{
	struct fixture *f = *state;
	struct cancel_seen c = { .rc = -1 };
	int before = stored_count();

	gw_log_ring_clear();
	gw_log_ring_add(T0, GW_LOG_INFO, "cancel me");
	assert_int_equal(get(f, false, url("/hold/a"), 20, 0, 0, 0, 0, c.first, sizeof(c.first)), 0);
	f->on_uploading = cancel_on_uploading;
	f->arg = &c;
	assert_int_equal(run(f), 0);

	assert_string_equal(c.status, "Uploading");
	assert_int_equal(c.rid, 20);
	assert_true(c.first_before);
	assert_int_equal(c.rc, 1); /* AcceptedCanceled */
	assert_false(c.first_after);
	assert_string_equal(c.second, "CP_1-security-20200201T020000Z.log");
	/* The first reports nothing after its "Uploading"; the second runs its course. */
	assert_int_equal(f->n, 3);
	assert_string_equal(f->status[0], "Uploading");
	assert_int_equal(f->rid[0], 20);
	assert_string_equal(f->status[1], "Uploading");
	assert_int_equal(f->rid[1], 21);
	assert_string_equal(f->status[2], "Uploaded");
	assert_int_equal(f->rid[2], 21);
	assert_int_equal(stored_count(), before + 1);
	assert_int_equal(count_files(f->upload), 0);
	assert_string_equal(gw_logs_status(f->logs, NULL), "Idle");

	/* Idle again: the next one is plain Accepted. */
	fixture_renew(f);
	assert_int_equal(get(f, false, url("/ok/c"), 22, 0, 0, 0, 0, c.second, sizeof(c.second)), 0);
	assert_int_equal(run(f), 0);
	assert_string_equal(f->status[1], "Uploaded");
}

static void stop_on_uploading(struct fixture *f)
{
	gw_logs_stop(f->logs);
	gw_loop_stop(f->loop, 0);
}

static void test_stop(void **state)
{
	struct fixture *f = *state;
	char name[128];

	assert_int_equal(get(f, false, url("/hold/s"), 23, 0, 0, 0, 0, name, sizeof(name)), 0);
	f->on_uploading = stop_on_uploading;
	assert_int_equal(run(f), 0);
	assert_int_equal(f->n, 1);
	assert_string_equal(gw_logs_status(f->logs, NULL), "Idle");
	assert_false(exists(upload_file(f, name)));
	assert_int_equal(gw_http_pending(f->http), 0);
	/* A GetLog that is waiting for its first attempt: stopped, it never starts. */
	assert_int_equal(get(f, false, url("/ok/never"), 24, 0, 0, 0, 0, name, sizeof(name)), 0);
	gw_logs_stop(f->logs);
	assert_int_equal(count_files(f->upload), 0);
	assert_int_equal(f->n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scrub),
		cmocka_unit_test_setup_teardown(test_diagnostics_file_and_upload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_diagnostics_no_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_security_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permission_denied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_message_and_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accepted_canceled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
	};
	char store[100], cmd[128];
	int rc;

	gw_log_set_level(getenv("TWCGW_TEST_DEBUG") ? GW_LOG_DEBUG : GW_LOG_ERROR);
	snprintf(top, sizeof(top), "/tmp/test_gw_logs.XXXXXX");
	if (!mkdtemp(top)) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(store, sizeof(store), "%s/store", top);
	if (mkdir(store, 0700) != 0 || server_start() != 0) {
		fprintf(stderr, "cannot start the test server: %s\n", strerror(errno));
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	fake_http_child_stop(&server);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", top);
	return rc;
}
