/*
 * Tests of gw_firmware, the secure firmware update on a real gateway loop: a plain-HTTP server in a
 * forked child serves a firmware image (three hash chunks long), a 404 and a download that stalls;
 * the signing PKI and the signature are made here with OpenSSL; the installers are small shell
 * scripts in a temporary directory. The clock runs 1000 times real time, so retrieveDateTime,
 * installDateTime, the retry interval and the ten-minute install timeout pass in milliseconds.
 * Covered: the full status sequence to Installed (the installer gets the verified file as its one
 * argument, with no blocked signals); InvalidSignature with its security event and no file left;
 * DownloadFailed after 1 + retries attempts; InvalidCertificate and Rejected answers that fetch
 * nothing; an installer's failing exit code, its timeout, and no installer configured; and
 * AcceptedCanceled over a stalled download and over a scheduled one, Rejected while installing.
 */
#include <arpa/inet.h>
#include <dirent.h>
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libwebsockets.h>

#include "fake_http.h"
#include "gw_firmware.h"
#include "gw_http.h"
#include "gw_log.h"
#include "gw_loop.h"
#include "test_certs_mk.h"

#define WATCHDOG_US (30 * LWS_US_PER_SEC)
#define SPEED 1000.0
#define NOW_MS (MK_NOW * 1000)
#define FW_LEN (600 * 1024 + 123) /* more than two 256 KiB hash chunks */
#define MAX_STATUS 32

/* ---- the firmware image and its signature ---- */

static unsigned char *image;

static void image_make(void)
{
	image = malloc(FW_LEN);
	assert_non_null(image);
	for (size_t k = 0; k < FW_LEN; k++)
		image[k] = (unsigned char)((k * 2654435761u) >> 13);
}

static struct pki {
	EVP_PKEY *root_key, *other_root_key, *signer_key;
	X509 *root, *other_root;
	char *root_pem, *signer_pem, *foreign_signer_pem, *sig_good, *sig_bad;
} p;

static char *sign_b64(EVP_PKEY *key, const void *data, size_t len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char sig[1024];
	size_t sig_len = sizeof(sig);
	char *b64;

	assert_non_null(md);
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &sig_len, data, len), 1);
	EVP_MD_CTX_free(md);
	b64 = calloc(1, 4 * ((sig_len + 2) / 3) + 1);
	assert_non_null(b64);
	EVP_EncodeBlock((unsigned char *)b64, sig, (int)sig_len);
	return b64;
}

static void pki_make(void)
{
	struct mk_opts ro = {.cn = "Manufacturer root", .ca = 1, .serial = 1};
	struct mk_opts oo = {.cn = "Other root", .ca = 1, .serial = 2};
	struct mk_opts so = {.cn = "Firmware signer", .serial = 3, .eku = "codeSigning"};
	X509 *x;

	p.root_key = mk_key();
	p.other_root_key = mk_key();
	p.signer_key = mk_key();
	p.root = mk_cert(&ro, p.root_key, NULL, NULL);
	p.other_root = mk_cert(&oo, p.other_root_key, NULL, NULL);
	p.root_pem = mk_pem(p.root);
	x = mk_cert(&so, p.signer_key, p.root, p.root_key);
	p.signer_pem = mk_pem(x);
	X509_free(x);
	x = mk_cert(&so, p.signer_key, p.other_root, p.other_root_key);
	p.foreign_signer_pem = mk_pem(x);
	X509_free(x);
	p.sig_good = sign_b64(p.signer_key, image, FW_LEN);
	/* Over the image with its last byte changed. */
	image[FW_LEN - 1] ^= 1;
	p.sig_bad = sign_b64(p.signer_key, image, FW_LEN);
	image[FW_LEN - 1] ^= 1;
}

static void pki_free(void);

static int pki_setup(void **state)
{
	(void)state;
	pki_make();
	return 0;
}

static int pki_teardown(void **state)
{
	(void)state;
	pki_free();
	return 0;
}

static void pki_free(void)
{
	EVP_PKEY_free(p.root_key);
	EVP_PKEY_free(p.other_root_key);
	EVP_PKEY_free(p.signer_key);
	X509_free(p.root);
	X509_free(p.other_root);
	free(p.root_pem);
	free(p.signer_pem);
	free(p.foreign_signer_pem);
	free(p.sig_good);
	free(p.sig_bad);
}

/* ---- the server child ---- */

static int server_port;
static struct fake_http_child server = FAKE_HTTP_CHILD_INIT;
static int server_log = -1; /* the child writes each request's path here, one line each */

static void serve(struct fake_http_conn *c, int log_fd)
{
	char path[256], head[256], line[300];
	int n;

	fake_http_req_path(c->buf, path, sizeof(path));
	n = snprintf(line, sizeof(line), "%s\n", path);
	if (write(log_fd, line, (size_t)n) != n)
		_exit(3);
	if (!strncmp(path, "/fw/", 4)) {
		n = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
			     FW_LEN);
		fake_http_send_all(c->fd, head, (size_t)n);
		fake_http_send_all(c->fd, image, FW_LEN);
	} else if (!strcmp(path, "/slow.bin")) {
		n = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", FW_LEN);
		fake_http_send_all(c->fd, head, (size_t)n);
		fake_http_send_all(c->fd, image, 100);
		c->stalled = true; /* and nothing more, until the client goes away */
		return;
	} else {
		static const char nf[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found";

		fake_http_send_all(c->fd, nf, sizeof(nf) - 1);
	}
	fake_http_conn_close(c);
}

/* Each request is answered once its head is complete; none of them has a body. */
static void conn_input(struct fake_http_conn *c, void *user)
{
	if (strstr(c->buf, "\r\n\r\n"))
		serve(c, *(int *)user);
}

static int server_start(void)
{
	int lfd = fake_http_listen(&server_port);
	int log_pipe[2];
	pid_t pid;

	if (lfd < 0 || pipe2(log_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	pid = fake_http_child_fork(&server);
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(log_pipe[0]);
		fake_http_serve(lfd, server.ctl, conn_input, &log_pipe[1]);
	}
	close(lfd);
	close(log_pipe[1]);
	server_log = log_pipe[0];
	return 0;
}

static void server_stop(void)
{
	fake_http_child_stop(&server);
	if (server_log >= 0)
		close(server_log);
}

/* How many requests for @path the server has seen since the last call (all paths are drained). */
static int server_requests(const char *path)
{
	static char buf[4096];
	ssize_t n = read(server_log, buf, sizeof(buf) - 1);
	int count = 0;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (char *line = buf, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		if (!strcmp(line, path))
			count++;
	}
	return count;
}

static char *url(const char *path)
{
	return fake_http_url(server_port, path);
}

/* ---- the fixture ---- */

struct fixture {
	struct gw_loop *loop;
	struct gw_http *http;
	struct gw_clock clock;
	struct gw_firmware *fw;
	lws_sorted_usec_list_t watchdog, quiet, later;
	char tmp[64], data[96], fwdir[128], marker[128], sigblk[128];
	char ok_script[128], fail_script[128], hang_script[128];
	bool in_start;
	int n;
	char status[MAX_STATUS][32];
	int req[MAX_STATUS];
	int events;
	char event_info[128];
	/* Called on every status after it is recorded; may start another update. */
	void (*hook)(struct fixture *f, const char *status, int request_id);
	int hook_answer;
};

static void watchdog_cb(lws_sorted_usec_list_t *sul)
{
	struct fixture *f = lws_container_of(sul, struct fixture, watchdog);

	gw_loop_stop(f->loop, -ETIME);
}

static void later_cb(lws_sorted_usec_list_t *sul);

static void quiet_cb(lws_sorted_usec_list_t *sul)
{
	struct fixture *f = lws_container_of(sul, struct fixture, quiet);

	gw_loop_stop(f->loop, 0);
}

static bool final_status(const char *s)
{
	return !strcmp(s, "Installed") || !strcmp(s, "InstallationFailed") || !strcmp(s, "DownloadFailed") ||
	       !strcmp(s, "InvalidSignature");
}

static void on_status(void *user, const char *status, int request_id)
{
	struct fixture *f = user;

	assert_false(f->in_start);
	assert_true(f->n < MAX_STATUS);
	snprintf(f->status[f->n], sizeof(f->status[0]), "%s", status);
	f->req[f->n++] = request_id;
	if (f->hook)
		f->hook(f, status, request_id);
	if (final_status(status) && !gw_firmware_busy(f->fw))
		gw_loop_stop(f->loop, 0);
}

static void on_event(void *user, const char *type, const char *info)
{
	struct fixture *f = user;

	assert_string_equal(type, "InvalidFirmwareSignature");
	f->events++;
	snprintf(f->event_info, sizeof(f->event_info), "%s", info);
}

static void script_write(const char *path, const char *body)
{
	FILE *s = fopen(path, "w");

	assert_non_null(s);
	fputs(body, s);
	fclose(s);
	assert_int_equal(chmod(path, 0700), 0);
}

static void fixture_fw(struct fixture *f, const char *installer)
{
	struct gw_firmware_params fp = {.dir = f->data, .install_command = installer};
	struct gw_firmware_cb cb = {.user = f, .status = on_status, .security_event = on_event};

	gw_firmware_free(f->fw);
	f->fw = gw_firmware_new(f->loop, &f->clock, f->http, &fp, &cb);
	assert_non_null(f->fw);
}

static int setup(void **state)
{
	static const struct gw_loop_handlers nh = {0};
	struct fixture *f = calloc(1, sizeof(*f));
	char body[1024];

	if (!f)
		return -1;
	snprintf(f->tmp, sizeof(f->tmp), "/tmp/test_gw_firmware.XXXXXX");
	if (!mkdtemp(f->tmp))
		return -1;
	snprintf(f->data, sizeof(f->data), "%s/data", f->tmp);
	snprintf(f->fwdir, sizeof(f->fwdir), "%s/firmware", f->data);
	snprintf(f->marker, sizeof(f->marker), "%s/installed.bin", f->tmp);
	snprintf(f->sigblk, sizeof(f->sigblk), "%s/sigblk", f->tmp);
	snprintf(f->ok_script, sizeof(f->ok_script), "%s/install-ok.sh", f->tmp);
	snprintf(f->fail_script, sizeof(f->fail_script), "%s/install-fail.sh", f->tmp);
	snprintf(f->hang_script, sizeof(f->hang_script), "%s/install-hang.sh", f->tmp);
	if (mkdir(f->data, 0700) != 0)
		return -1;
	/* Copies the file it is given, notes its signal mask and ignored signals, and insists on
	 * exactly one argument. Perl, not sh: dash clears the signal mask it was started with. */
	snprintf(body, sizeof(body),
		 "#!/usr/bin/perl\n# test installer: copies the verified image so the test can compare it,\n"
		 "# and notes the signal state it was started with\n"
		 "exit 9 unless @ARGV == 1;\n"
		 "open(my $st, '<', '/proc/self/status') or exit 8;\n"
		 "open(my $sig, '>', '%s') or exit 7;\n"
		 "while (<$st>) { print $sig $_ if /^Sig(Blk|Ign):/ }\n"
		 "close($sig);\n"
		 "open(my $in, '<:raw', $ARGV[0]) or exit 6;\n"
		 "open(my $out, '>:raw', '%s') or exit 5;\n"
		 "local $/; my $data = <$in>; print {$out} $data; close($out) or exit 4;\n",
		 f->sigblk, f->marker);
	script_write(f->ok_script, body);
	script_write(f->fail_script, "#!/bin/sh\n# test installer that fails\nexit 3\n");
	script_write(f->hang_script, "#!/bin/sh\n# test installer that never ends\nexec sleep 30\n");
	gw_clock_init(&f->clock, SPEED);
	f->loop = gw_loop_new(&nh);
	f->http = f->loop ? gw_http_new(f->loop) : NULL;
	if (!f->http)
		return -1;
	fixture_fw(f, f->ok_script);
	server_requests("");
	*state = f;
	return 0;
}

static void rm_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char sub[512];

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			rm_dir(sub);
		else
			unlink(sub);
	}
	closedir(d);
	rmdir(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return 0;
	gw_firmware_stop(f->fw);
	gw_http_stop(f->http);
	lws_sul_cancel(&f->watchdog);
	lws_sul_cancel(&f->quiet);
	lws_sul_cancel(&f->later);
	gw_loop_free(f->loop);
	gw_firmware_free(f->fw);
	gw_http_free(f->http);
	rm_dir(f->tmp);
	free(f);
	return 0;
}

static int start(struct fixture *f, const struct gw_firmware_req *r, const char *roots, char *detail, size_t n)
{
	int rc;

	f->in_start = true;
	rc = gw_firmware_start(f->fw, r, roots, NOW_MS, detail, n);
	f->in_start = false;
	return rc;
}

static struct gw_firmware_req req(int id, const char *location)
{
	return (struct gw_firmware_req){.request_id = id,
					.location = location,
					.retrieve_ms = 0,
					.install_ms = 0,
					.retries = 0,
					.retry_interval_s = 30,
					.signing_certificate = p.signer_pem,
					.signature = p.sig_good};
}

static int run(struct fixture *f)
{
	int rc;

	lws_sul_schedule(gw_loop_context(f->loop), 0, &f->watchdog, watchdog_cb, WATCHDOG_US);
	rc = gw_loop_run(f->loop);
	lws_sul_cancel(&f->watchdog);
	return rc;
}

/* Run the loop for @ms of real time (nothing is expected to end it). */
static void run_quiet(struct fixture *f, unsigned ms)
{
	lws_sul_schedule(gw_loop_context(f->loop), 0, &f->quiet, quiet_cb, (lws_usec_t)ms * 1000);
	assert_int_equal(run(f), 0);
}

static void expect(const struct fixture *f, const char *const *seq, int request_id)
{
	int k = 0;

	for (; seq[k]; k++) {
		assert_true(k < f->n);
		assert_string_equal(f->status[k], seq[k]);
		assert_int_equal(f->req[k], request_id);
	}
	assert_int_equal(f->n, k);
}

/* The files in the firmware directory, names joined by ' ' (sorted is not needed: at most one). */
static void dir_list(const char *dir, char *out, size_t n)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	out[0] = '\0';
	assert_non_null(d);
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(out + strlen(out), n - strlen(out), "%s%s", out[0] ? " " : "", e->d_name);
	}
	closedir(d);
}

static void file_is_image(const char *path)
{
	FILE *s = fopen(path, "rb");
	unsigned char *buf = malloc(FW_LEN + 1);
	size_t n;

	assert_non_null(s);
	assert_non_null(buf);
	n = fread(buf, 1, FW_LEN + 1, s);
	fclose(s);
	assert_int_equal(n, FW_LEN);
	assert_memory_equal(buf, image, FW_LEN);
	free(buf);
}

/* ---- tests ---- */

static void test_full_sequence_installed(void **state)
{
	static const char *const seq[] = {"DownloadScheduled", "Downloading",	   "Downloaded", "SignatureVerified",
					  "InstallScheduled",  "Installing",	   "Installed",  NULL};
	struct fixture *f = *state;
	struct gw_firmware_req r = req(41, url("/fw/twc-1.2.3.bin"));
	char files[256], path[256], blk[64], ign[64];
	unsigned long long ignored;
	struct stat st;
	FILE *s;

	/* Fetch in 5 simulated minutes (0.3 s), install in 2000 s: 2 s of real time, so that even
	 * under valgrind the file is verified well before. */
	r.retrieve_ms = NOW_MS + 300000;
	r.install_ms = NOW_MS + 2000000;
	assert_int_equal(start(f, &r, p.root_pem, NULL, 0), GW_FIRMWARE_ACCEPTED);
	assert_int_equal(f->n, 0); /* nothing from inside the call */
	assert_true(gw_firmware_busy(f->fw));
	assert_int_equal(run(f), 0);
	expect(f, seq, 41);
	assert_false(gw_firmware_busy(f->fw));
	assert_string_equal(gw_firmware_last_status(f->fw, NULL), "Idle");
	assert_int_equal(server_requests("/fw/twc-1.2.3.bin"), 1);
	/* The installer got the verified file, under the URL's name, and ran with no signal blocked
	 * although the gateway's loop blocks SIGTERM, SIGINT and SIGHUP. */
	file_is_image(f->marker);
	snprintf(path, sizeof(path), "%s/twc-1.2.3.bin", f->fwdir);
	file_is_image(path);
	dir_list(f->fwdir, files, sizeof(files));
	assert_string_equal(files, "twc-1.2.3.bin");
	assert_int_equal(stat(f->fwdir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	s = fopen(f->sigblk, "r");
	assert_non_null(s);
	assert_non_null(fgets(blk, sizeof(blk), s));
	assert_non_null(fgets(ign, sizeof(ign), s));
	fclose(s);
	assert_string_equal(blk, "SigBlk:\t0000000000000000\n");
	/* SIGPIPE, which the gateway ignores, is back to its default. */
	assert_memory_equal(ign, "SigIgn:\t", 8);
	ignored = strtoull(ign + 8, NULL, 16);
	assert_false(ignored & (1ull << (SIGPIPE - 1)));
	assert_int_equal(f->events, 0);
}

static void test_immediate_has_no_scheduled(void **state)
{
	static const char *const seq[] = {"Downloading", "Downloaded", "SignatureVerified", "Installing", "Installed",
					  NULL};
	struct fixture *f = *state;
	/* Dates already past count as now. */
	struct gw_firmware_req r = req(7, url("/fw/a.bin"));

	r.retrieve_ms = NOW_MS - 1000;
	r.install_ms = NOW_MS - 1000;
	assert_int_equal(start(f, &r, p.root_pem, NULL, 0), GW_FIRMWARE_ACCEPTED);
	assert_int_equal(run(f), 0);
	expect(f, seq, 7);
	file_is_image(f->marker);
}

static void test_invalid_signature(void **state)
{
	static const char *const seq[] = {"Downloading", "Downloaded", "InvalidSignature", NULL};
	struct fixture *f = *state;
	struct gw_firmware_req r = req(8, url("/fw/b.bin"));
	char files[256];
	struct stat st;

	r.signature = p.sig_bad;
	assert_int_equal(start(f, &r, p.root_pem, NULL, 0), GW_FIRMWARE_ACCEPTED);
	assert_int_equal(run(f), 0);
	expect(f, seq, 8);
	assert_int_equal(f->events, 1);
	assert_non_null(strstr(f->event_info, "does not verify"));
	/* Nothing installed, nothing kept. */
	assert_int_equal(stat(f->marker, &st), -1);
	dir_list(f->fwdir, files, sizeof(files));
	assert_string_equal(files, "");
}

/* A signature that is not even base64 is still Accepted (it is checked against the file), and fails
 * the same way. */
static void test_signature_not_base64(void **state)
{
	static const char *const seq[] = {"Downloading", "Downloaded", "InvalidSignature", NULL};
	struct fixture *f = *state;
	struct gw_firmware_req r = req(9, url("/fw/b.bin"));

	r.signature = "*** not base64 ***";
	assert_int_equal(start(f, &r, p.root_pem, NULL, 0), GW_FIRMWARE_ACCEPTED);
	assert_int_equal(run(f), 0);
	expect(f, seq, 9);
	assert_int_equal(f->events, 1);
	assert_non_null(strstr(f->event_info, "base64"));
}

static void test_download_failed_after_retries(void **state)
{
	static const char *const seq[] = {"Downloading", "Downloading", "Downloading", "DownloadFailed", NULL};
	struct fixture *f = *state;
	struct gw_firmware_req r = req(10, url("/missing.bin"));
	char files[256];

	r.retries = 2;
	r.retry_interval_s = 30;
	assert_int_equal(start(f, &r, p.root_pem, NULL, 0), GW_FIRMWARE_ACCEPTED);
	assert_int_equal(run(f), 0);
	expect(f, seq, 10);
	assert_int_equal(server_requests("/missing.bin"), 3);
	dir_list(f->fwdir, files, sizeof(files));
	assert_string_equal(files, "");
	assert_int_equal(f->events, 0);
}

static void test_refused_before_download(void **state)
{
	struct fixture *f = *state;
	struct gw_firmware_req r = req(11, url("/fw/c.bin"));
	char detail[256], *both = mk_cat(p.root_pem, NULL, NULL, NULL);

	/* Signer under another root. */
	r.signing_certificate = p.foreign_signer_pem;
	assert_int_equal(start(f, &r, p.root_pem, detail, sizeof(detail)), GW_FIRMWARE_INVALID_CERTIFICATE);
	assert_non_null(strstr(detail, "InvalidChain"));
	/* No manufacturer root installed. */
	r.signing_certificate = p.signer_pem;
	assert_int_equal(start(f, &r, NULL, detail, sizeof(detail)), GW_FIRMWARE_INVALID_CERTIFICATE);
	/* Not a certificate. */
	r.signing_certificate = "nonsense";
	assert_int_equal(start(f, &r, both, detail, sizeof(detail)), GW_FIRMWARE_INVALID_CERTIFICATE);
	/* Rejected: not a URL we fetch, no signature. */
	r = req(12, "file:///etc/passwd");
	assert_int_equal(start(f, &r, p.root_pem, detail, sizeof(detail)), GW_FIRMWARE_REJECTED);
	r = req(12, "http://");
	assert_int_equal(start(f, &r, p.root_pem, detail, sizeof(detail)), GW_FIRMWARE_REJECTED);
	r = req(12, "http://127.0.0.1/a b.bin");
	assert_int_equal(start(f, &r, p.root_pem, detail, sizeof(detail)), GW_FIRMWARE_REJECTED);
	r = req(12, url("/fw/c.bin"));
	r.signature = "";
	assert_int_equal(start(f, &r, p.root_pem, detail, sizeof(detail)), GW_FIRMWARE_REJECTED);
	assert_string_equal(gw_firmware_answer_name(GW_FIRMWARE_INVALID_CERTIFICATE), "InvalidCertificate");
	assert_string_equal(gw_firmware_answer_name(GW_FIRMWARE_ACCEPTED_CANCELED), "AcceptedCanceled");
	/* Nothing started: no status, no request. */
	assert_false(gw_firmware_busy(f->fw));
	run_quiet(f, 100);
	assert_int_equal(f->n, 0);
	assert_int_equal(server_requests("/fw/c.bin"), 0);
	free(both);
}

static void test_install_fails(void **state)
{
	static const char *const seq[] = {"Downloading", "Downloaded", "SignatureVerified", "Installing",
					  "InstallationFailed", NULL};
	struct fixture *f = *state;
	struct gw_firmware_req r = req(13, url("/fw/d.bin"));
	char path[256];

	fixture_fw(f, f->fail_script);
	assert_int_equal(start(f, &r, p.root_pem, NULL, 0), GW_FIRMWARE_ACCEPTED);
	assert_int_equal(run(f), 0);
	expect(f, seq, 13);
	/* The verified file stays for the next attempt to replace. */
	snprintf(path, sizeof(path), "%s/d.bin", f->fwdir);
	file_is_image(path);
}

static void test_installer_missing(void **state)
{
	static const char *const seq[] = {"Downloading", "Downloaded", "SignatureVerified", "Installing",
					  "InstallationFailed", NULL};
	struct fixture *f = *state;
	struct gw_firmware_req r = req(14, url("/fw/d.bin"));

	fixture_fw(f, "/nonexistent/installer");
	assert_int_equal(start(f, &r, p.root_pem, NULL, 0), GW_FIRMWARE_ACCEPTED);
	assert_int_equal(run(f), 0);
	expect(f, seq, 14);
}

static void test_install_timeout(void **state)
{
	struct fixture *f = *state;
	struct gw_firmware_req r = req(15, url("/fw/e.bin"));
	uint64_t t0 = gw_clock_mono_ms();

	/* Ten simulated minutes are 0.6 s here; the script would sleep 30. */
	fixture_fw(f, f->hang_script);
	assert_int_equal(start(f, &r, p.root_pem, NULL, 0), GW_FIRMWARE_ACCEPTED);
	assert_int_equal(run(f), 0);
	assert_int_equal(f->n, 5);
	assert_string_equal(f->status[3], "Installing");
	assert_string_equal(f->status[4], "InstallationFailed");
	assert_true(gw_clock_mono_ms() - t0 < 10000);
	/* 600 simulated seconds did pass. */
	assert_true(gw_clock_mono_ms() - t0 >= 600);
}

static void test_no_installer(void **state)
{
	static const char *const seq[] = {"Downloading", "Downloaded", "SignatureVerified", "InstallationFailed",
					  NULL};
	struct fixture *f = *state;
	struct gw_firmware_req r = req(16, url("/fw/f.bin"));
	char path[256];

	fixture_fw(f, "");
	r.install_ms = NOW_MS + 3600000;
	assert_int_equal(start(f, &r, p.root_pem, NULL, 0), GW_FIRMWARE_ACCEPTED);
	assert_int_equal(run(f), 0);
	expect(f, seq, 16);
	snprintf(path, sizeof(path), "%s/f.bin", f->fwdir);
	file_is_image(path);
}

/* 200 ms into request 1's download (one that stalls after 100 bytes), request 2 arrives. */
static void later_cb(lws_sorted_usec_list_t *sul)
{
	struct fixture *f = lws_container_of(sul, struct fixture, later);
	struct gw_firmware_req r = req(2, url("/fw/g.bin"));
	char part[256];
	struct stat st;

	/* The stalled download is under way: its part file exists. */
	snprintf(part, sizeof(part), "%s/slow.bin.part", f->fwdir);
	assert_int_equal(stat(part, &st), 0);
	f->hook_answer = gw_firmware_start(f->fw, &r, p.root_pem, NOW_MS, NULL, 0);
}

/* On request 2's Installing, request 3 arrives and is refused: an installer is not stopped. */
static void cancel_hook(struct fixture *f, const char *status, int request_id)
{
	struct gw_firmware_req r;

	if (request_id == 1 && !strcmp(status, "Downloading"))
		lws_sul_schedule(gw_loop_context(f->loop), 0, &f->later, later_cb, 200 * LWS_US_PER_MS);
	if (request_id == 2 && !strcmp(status, "Installing")) {
		r = req(3, url("/fw/h.bin"));
		assert_int_equal(gw_firmware_start(f->fw, &r, p.root_pem, NOW_MS, NULL, 0), GW_FIRMWARE_REJECTED);
	}
}

static void test_accepted_canceled(void **state)
{
	struct fixture *f = *state;
	struct gw_firmware_req r = req(1, url("/slow.bin"));
	char stale[256], files[256];
	FILE *s;

	/* What an earlier update left goes when a new one is accepted. */
	snprintf(stale, sizeof(stale), "%s/old.bin", f->fwdir);
	s = fopen(stale, "w");
	assert_non_null(s);
	fclose(s);
	f->hook = cancel_hook;
	f->hook_answer = -1;
	assert_int_equal(start(f, &r, p.root_pem, NULL, 0), GW_FIRMWARE_ACCEPTED);
	assert_int_equal(run(f), 0);
	assert_int_equal(f->hook_answer, GW_FIRMWARE_ACCEPTED_CANCELED);
	assert_int_equal(f->n, 6);
	assert_string_equal(f->status[0], "Downloading");
	assert_int_equal(f->req[0], 1);
	for (int k = 1; k < 6; k++)
		assert_int_equal(f->req[k], 2);
	assert_string_equal(f->status[5], "Installed");
	assert_int_equal(server_requests("/slow.bin"), 1);
	assert_int_equal(server_requests("/fw/h.bin"), 0);
	/* Neither the stale file nor the stalled download's part file is left. */
	dir_list(f->fwdir, files, sizeof(files));
	assert_string_equal(files, "g.bin");
}

/* 50 ms after request 20 was scheduled a day ahead, two more arrive. */
static void scheduled_later_cb(lws_sorted_usec_list_t *sul)
{
	struct fixture *f = lws_container_of(sul, struct fixture, later);
	struct gw_firmware_req r = req(21, url("/fw/j.bin"));
	int id = 0;

	assert_int_equal(f->n, 1);
	assert_string_equal(f->status[0], "DownloadScheduled");
	assert_string_equal(gw_firmware_last_status(f->fw, &id), "DownloadScheduled");
	assert_int_equal(id, 20);
	/* An invalid certificate leaves it alone... */
	r.signing_certificate = p.foreign_signer_pem;
	assert_int_equal(start(f, &r, p.root_pem, NULL, 0), GW_FIRMWARE_INVALID_CERTIFICATE);
	assert_true(gw_firmware_busy(f->fw));
	/* ...a valid one replaces it. */
	r.signing_certificate = p.signer_pem;
	f->hook_answer = start(f, &r, p.root_pem, NULL, 0);
}

static void test_scheduled_canceled(void **state)
{
	struct fixture *f = *state;
	struct gw_firmware_req r = req(20, url("/fw/i.bin"));

	/* A day ahead: 86 s of real time, far past the test. */
	r.retrieve_ms = NOW_MS + 86400000;
	assert_int_equal(start(f, &r, p.root_pem, NULL, 0), GW_FIRMWARE_ACCEPTED);
	lws_sul_schedule(gw_loop_context(f->loop), 0, &f->later, scheduled_later_cb, 50 * LWS_US_PER_MS);
	assert_int_equal(run(f), 0);
	assert_int_equal(f->hook_answer, GW_FIRMWARE_ACCEPTED_CANCELED);
	assert_int_equal(f->n, 6);
	assert_string_equal(f->status[5], "Installed");
	assert_int_equal(f->req[5], 21);
	assert_int_equal(server_requests("/fw/i.bin"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full_sequence_installed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_immediate_has_no_scheduled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signature_not_base64, setup, teardown),
		cmocka_unit_test_setup_teardown(test_download_failed_after_retries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_before_download, setup, teardown),
		cmocka_unit_test_setup_teardown(test_install_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_installer_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_install_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_installer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accepted_canceled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scheduled_canceled, setup, teardown),
	};
	int rc;

	gw_log_set_level(getenv("TWCGW_TEST_DEBUG") ? GW_LOG_DEBUG : GW_LOG_ERROR);
	image_make();
	/* Before any loop exists, so the child inherits no lws or curl state. */
	if (server_start() != 0) {
		fprintf(stderr, "cannot start the test server: %s\n", strerror(errno));
		return 1;
	}
	rc = cmocka_run_group_tests(tests, pki_setup, pki_teardown);
	server_stop();
	free(image);
	return rc;
}
