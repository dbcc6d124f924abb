/*
 * gw_firmware: one secure firmware update at a time, as a small state machine on one lws_sul: wait
 * for retrieveDateTime, download (gw_http) with retries, hash the file a chunk per loop turn so a
 * large image never stalls the loop, verify the signature (certs_sig), wait for installDateTime,
 * run the installer (posix_spawn) and poll it with waitpid(WNOHANG). Every status goes out from the
 * loop; a status callback that starts a new update is noticed by a generation count, so the old
 * flow never carries on over the new one.
 */
#include "gw_firmware.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "certs_sig.h"
#include "gw_log.h"
#include "gw_timer.h"

extern char **environ;

#define FW_SUBDIR "firmware"
#define FW_NAME_MAX 64 /* a file name taken from the URL; longer ones become the default */
#define FW_DEFAULT_NAME "firmware.bin"
#define FW_PATH_MAX 1024
#define FW_HASH_CHUNK (256 * 1024) /* bytes hashed per loop turn */
#define FW_POLL_MS 200 /* how often a running installer is looked at (real time) */
#define FW_LOG_URL_MAX 160

enum fw_state {
	FW_IDLE,
	FW_SCHEDULED,    /* waiting for retrieveDateTime */
	FW_DOWNLOADING,  /* a transfer in flight */
	FW_RETRY_WAIT,   /* between attempts */
	FW_HASHING,      /* reading the file into SHA-256 */
	FW_INSTALL_WAIT, /* verified, waiting for installDateTime */
	FW_INSTALLING,   /* the installer runs */
};

struct gw_firmware {
	struct gw_loop *loop;
	const struct gw_clock *clock;
	struct gw_http *http;
	struct gw_firmware_cb cb;
	char *dir;      /* <dataDir>/firmware */
	char *installer;
	char *ca_file;
	uint32_t install_timeout_s;
	long download_timeout_ms;
	uint64_t max_bytes;

	lws_sorted_usec_list_t sul;
	enum fw_state state;
	unsigned gen;          /* bumped by every start and stop: a flow that sees it move stops */
	bool stopped;

	/* The update in progress. */
	int request_id;
	char *location;
	char *signer_pem;
	char *signature;
	char path[FW_PATH_MAX]; /* the downloaded file */
	char shown[FW_LOG_URL_MAX]; /* the location as logged: no userinfo, no query */
	int64_t start_wall_ms;  /* wall time at start ... */
	uint64_t start_clock_ms; /* ... and the clock then: wall now = start + clock run since */
	int64_t retrieve_ms, install_ms;
	int attempts_left;
	bool announced; /* DownloadScheduled went out */
	uint32_t retry_interval_s;
	long xfer_id;
	int fd; /* the file being hashed */
	struct certs_sha256 *sha;
	pid_t pid;
	uint64_t install_deadline_ms; /* clock ms */
	bool killed;

	const char *last_status;
	int last_request_id;
};

static void step_cb(lws_sorted_usec_list_t *sul);

const char *gw_firmware_answer_name(int answer)
{
	switch (answer) {
	case GW_FIRMWARE_ACCEPTED:
		return "Accepted";
	case GW_FIRMWARE_REJECTED:
		return "Rejected";
	case GW_FIRMWARE_ACCEPTED_CANCELED:
		return "AcceptedCanceled";
	case GW_FIRMWARE_INVALID_CERTIFICATE:
		return "InvalidCertificate";
	}
	return "?";
}

static uint64_t clock_now(const struct gw_firmware *fw)
{
	return gw_clock_now_ms(fw->clock);
}

static int64_t wall_now(const struct gw_firmware *fw)
{
	return fw->start_wall_ms + (int64_t)(clock_now(fw) - fw->start_clock_ms);
}

static void detail_set(char *d, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void detail_set(char *d, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (!d || !n)
		return;
	va_start(ap, fmt);
	vsnprintf(d, n, fmt, ap);
	va_end(ap);
}

/* The location for log lines: scheme and host and path, without a user:password@ or a query. */
static void location_for_log(const char *url, char *out, size_t n)
{
	const char *p = strstr(url, "://");
	const char *host = p ? p + 3 : url;
	const char *end = host + strcspn(host, "/?#");
	const char *at = memchr(host, '@', (size_t)(end - host));
	size_t k = 0;

	if (p) {
		size_t sl = (size_t)(host - url);

		if (sl >= n)
			sl = n - 1;
		memcpy(out, url, sl);
		k = sl;
	}
	for (const char *q = at ? at + 1 : host; *q && *q != '?' && *q != '#' && k + 1 < n; q++)
		out[k++] = *q;
	out[k] = '\0';
}

/* http, https, ftp or ftps; printable ASCII without spaces; at most the field's 512 characters. */
static bool location_ok(const char *url)
{
	static const char *const schemes[] = {"http://", "https://", "ftp://", "ftps://"};
	size_t len = url ? strlen(url) : 0;
	bool scheme = false;

	if (!len || len > GW_FIRMWARE_LOCATION_MAX)
		return false;
	for (size_t k = 0; k < sizeof(schemes) / sizeof(schemes[0]); k++)
		if (!strncasecmp(url, schemes[k], strlen(schemes[k])) && len > strlen(schemes[k]))
			scheme = true;
	if (!scheme)
		return false;
	for (size_t k = 0; k < len; k++)
		if ((unsigned char)url[k] <= ' ' || (unsigned char)url[k] >= 0x7f)
			return false;
	return true;
}

/* The file's name: the last path segment of the URL when it is a plain name (letters, digits, '.',
 * '-', '_', not starting with '.'), so an installer can go by its extension; else the default. */
static void file_name(const char *url, char *out, size_t n)
{
	const char *host = strstr(url, "://");
	const char *end, *seg;
	size_t len;

	host = host ? host + 3 : url;
	end = host + strcspn(host, "?#");
	seg = end;
	while (seg > host && seg[-1] != '/')
		seg--;
	len = (size_t)(end - seg);
	if (seg == host || !len || len > FW_NAME_MAX || seg[0] == '.')
		goto fallback;
	for (size_t k = 0; k < len; k++) {
		char c = seg[k];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '-' || c == '_'))
			goto fallback;
	}
	if (len >= n)
		goto fallback;
	memcpy(out, seg, len);
	out[len] = '\0';
	return;
fallback:
	snprintf(out, n, "%s", FW_DEFAULT_NAME);
}

static int dir_make(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	if (stat(path, &st) != 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

/* What an earlier update left: every regular file in our directory. */
static void dir_clear(const struct gw_firmware *fw)
{
	DIR *d = opendir(fw->dir);
	struct dirent *e;
	char path[FW_PATH_MAX];

	if (!d)
		return;
	while ((e = readdir(d))) {
		struct stat st;
		int n;

		if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		n = snprintf(path, sizeof(path), "%s/%s", fw->dir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && unlink(path) == 0)
			gw_log_debug("firmware: removed %s", path);
	}
	closedir(d);
}

static void emit(struct gw_firmware *fw, const char *status)
{
	fw->last_status = status;
	fw->last_request_id = fw->request_id;
	gw_log_info("firmware: request %d: %s", fw->request_id, status);
	fw->cb.status(fw->cb.user, status, fw->request_id);
}

/* Arm the one timer: @delta_ms of the clock's time, or of real time when @real. */
static void arm(struct gw_firmware *fw, uint64_t delta_ms, bool real)
{
	gw_timer_in(fw->loop, real ? NULL : fw->clock, &fw->sul, step_cb, delta_ms);
}

static void hash_close(struct gw_firmware *fw)
{
	if (fw->fd >= 0)
		close(fw->fd);
	fw->fd = -1;
	certs_sha256_free(fw->sha);
	fw->sha = NULL;
}

/* Back to idle; the files stay as they are. */
static void finish(struct gw_firmware *fw)
{
	lws_sul_cancel(&fw->sul);
	if (fw->xfer_id > 0)
		gw_http_cancel(fw->http, fw->xfer_id);
	fw->xfer_id = 0;
	hash_close(fw);
	fw->state = FW_IDLE;
	fw->pid = 0;
	fw->killed = false;
	free(fw->location);
	free(fw->signer_pem);
	free(fw->signature);
	fw->location = fw->signer_pem = fw->signature = NULL;
}

/* End the update with @status (the callback may start the next one). */
static void emit_final(struct gw_firmware *fw, const char *status)
{
	finish(fw);
	fw->gen++;
	emit(fw, status);
}

/* InvalidSignature, then the security event OCTT TC_081 expects with it. */
static void invalid_signature(struct gw_firmware *fw, const char *why)
{
	emit_final(fw, "InvalidSignature");
	if (fw->cb.security_event)
		fw->cb.security_event(fw->cb.user, "InvalidFirmwareSignature", why);
}

/* ---- download ---- */

static void download_done(void *user, const struct gw_http_resp *resp);

static void download_attempt(struct gw_firmware *fw)
{
	struct gw_http_xfer x = {.url = fw->location,
				 .path = fw->path,
				 .ca_file = fw->ca_file,
				 .timeout_ms = fw->download_timeout_ms,
				 .max_bytes = fw->max_bytes};
	unsigned gen = fw->gen;
	long id;

	fw->attempts_left--;
	fw->state = FW_DOWNLOADING;
	emit(fw, "Downloading");
	if (fw->gen != gen)
		return;
	id = gw_http_transfer(fw->http, &x, download_done, fw);
	if (id > 0) {
		fw->xfer_id = id;
		return;
	}
	gw_log_warn("firmware: request %d: download of %s not started: %s", fw->request_id, fw->shown,
		    strerror((int)-id));
	/* As a failed attempt: the retry timer comes round again. */
	if (fw->attempts_left > 0) {
		fw->state = FW_RETRY_WAIT;
		arm(fw, (uint64_t)fw->retry_interval_s * 1000u, false);
		return;
	}
	emit_final(fw, "DownloadFailed");
}

static void hash_start(struct gw_firmware *fw);

static void download_done(void *user, const struct gw_http_resp *resp)
{
	struct gw_firmware *fw = user;
	unsigned gen = fw->gen;
	struct stat st;

	fw->xfer_id = 0;
	if (fw->state != FW_DOWNLOADING)
		return;
	if (resp->status >= 200 && resp->status < 300 && stat(fw->path, &st) == 0 && S_ISREG(st.st_mode)) {
		gw_log_info("firmware: request %d: %s: %lld bytes in %s", fw->request_id, fw->shown,
			    (long long)st.st_size, fw->path);
		emit(fw, "Downloaded");
		if (fw->gen != gen)
			return;
		hash_start(fw);
		return;
	}
	if (resp->status >= 0)
		gw_log_warn("firmware: request %d: download of %s: status %d", fw->request_id, fw->shown,
			    resp->status);
	else
		gw_log_warn("firmware: request %d: download of %s: %s%s%s", fw->request_id, fw->shown,
			    strerror(-resp->status), resp->error && resp->error[0] ? ": " : "",
			    resp->error ? resp->error : "");
	/* An answer that was not a success may still have left the file (a 404 page): never keep it. */
	unlink(fw->path);
	if (fw->attempts_left > 0) {
		gw_log_info("firmware: request %d: %d attempt%s left, next in %u s", fw->request_id,
			    fw->attempts_left, fw->attempts_left == 1 ? "" : "s", fw->retry_interval_s);
		fw->state = FW_RETRY_WAIT;
		arm(fw, (uint64_t)fw->retry_interval_s * 1000u, false);
		return;
	}
	emit_final(fw, "DownloadFailed");
}

/* ---- signature ---- */

static void hash_start(struct gw_firmware *fw)
{
	fw->state = FW_HASHING;
	fw->fd = open(fw->path, O_RDONLY | O_CLOEXEC);
	fw->sha = certs_sha256_new();
	if (fw->fd < 0 || !fw->sha) {
		gw_log_error("firmware: request %d: %s: %s", fw->request_id, fw->path,
			     fw->fd < 0 ? strerror(errno) : "out of memory");
		hash_close(fw);
		unlink(fw->path);
		invalid_signature(fw, "the downloaded file could not be read");
		return;
	}
	arm(fw, 0, true);
}

static void install_or_schedule(struct gw_firmware *fw);

static void verify(struct gw_firmware *fw, const unsigned char digest[CERTS_SHA256_LEN])
{
	unsigned gen = fw->gen;
	int rc = certs_sig_verify(fw->signer_pem, digest, fw->signature);
	const char *info;

	if (rc == 0) {
		gw_log_info("firmware: request %d: signature verified", fw->request_id);
		emit(fw, "SignatureVerified");
		if (fw->gen != gen)
			return;
		install_or_schedule(fw);
		return;
	}
	if (rc == -EBADMSG)
		info = "the signature does not verify with the signing certificate's key";
	else if (rc == -EINVAL)
		info = "the signature is not base64 or not for this key type";
	else
		info = "the signature could not be checked";
	gw_log_warn("firmware: request %d: %s: %s; file removed", fw->request_id, fw->path, info);
	unlink(fw->path);
	invalid_signature(fw, info);
}

static void hash_step(struct gw_firmware *fw)
{
	static unsigned char buf[FW_HASH_CHUNK];
	unsigned char digest[CERTS_SHA256_LEN];
	ssize_t n = read(fw->fd, buf, sizeof(buf));

	if (n > 0) {
		if (certs_sha256_update(fw->sha, buf, (size_t)n) == 0) {
			arm(fw, 0, true);
			return;
		}
	} else if (n == 0 && certs_sha256_final(fw->sha, digest) == 0) {
		hash_close(fw);
		verify(fw, digest);
		return;
	} else if (n < 0 && errno == EINTR) {
		arm(fw, 0, true);
		return;
	}
	gw_log_error("firmware: request %d: hashing %s failed: %s", fw->request_id, fw->path,
		     n < 0 ? strerror(errno) : "digest error");
	hash_close(fw);
	unlink(fw->path);
	invalid_signature(fw, "the downloaded file could not be read");
}

/* ---- install ---- */

static void install_start(struct gw_firmware *fw)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t empty, def;
	char *argv[3];
	unsigned gen = fw->gen;
	int rc;

	fw->state = FW_INSTALLING;
	emit(fw, "Installing");
	if (fw->gen != gen)
		return;
	argv[0] = fw->installer;
	argv[1] = fw->path;
	argv[2] = NULL;
	sigemptyset(&empty);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGHUP);
	sigaddset(&def, SIGCHLD);
	rc = posix_spawn_file_actions_init(&fa);
	if (rc)
		goto failed;
	rc = posix_spawnattr_init(&at);
	if (rc) {
		posix_spawn_file_actions_destroy(&fa);
		goto failed;
	}
	rc = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	/* The gateway's sockets and files are none of the installer's business. */
	if (!rc)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
#endif
	/* The gateway blocks its stop signals (they arrive by signalfd) and ignores SIGPIPE; both
	 * would be inherited across exec. A group of its own lets a timeout kill what it started. */
	if (!rc)
		rc = posix_spawnattr_setsigmask(&at, &empty);
	if (!rc)
		rc = posix_spawnattr_setsigdefault(&at, &def);
	if (!rc)
		rc = posix_spawnattr_setpgroup(&at, 0);
	if (!rc)
		rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
	if (!rc)
		rc = posix_spawn(&fw->pid, fw->installer, &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		goto failed;
	gw_log_info("firmware: request %d: installer %s started (pid %d) with %s", fw->request_id, fw->installer,
		    (int)fw->pid, fw->path);
	fw->killed = false;
	fw->install_deadline_ms = clock_now(fw) + (uint64_t)fw->install_timeout_s * 1000u;
	arm(fw, FW_POLL_MS, true);
	return;
failed:
	fw->pid = 0;
	gw_log_error("firmware: request %d: installer %s not started: %s", fw->request_id, fw->installer,
		     strerror(rc));
	emit_final(fw, "InstallationFailed");
}

static void install_poll(struct gw_firmware *fw)
{
	int st = 0;
	pid_t r = waitpid(fw->pid, &st, WNOHANG);

	if (r == 0) {
		if (!fw->killed && clock_now(fw) >= fw->install_deadline_ms) {
			gw_log_error("firmware: request %d: installer (pid %d) still running after %u s: killed",
				     fw->request_id, (int)fw->pid, fw->install_timeout_s);
			kill(-fw->pid, SIGKILL);
			kill(fw->pid, SIGKILL);
			fw->killed = true;
		}
		arm(fw, FW_POLL_MS, true);
		return;
	}
	if (r < 0 && errno == EINTR) {
		arm(fw, FW_POLL_MS, true);
		return;
	}
	if (r < 0) {
		/* Reaped by someone else (SIGCHLD set to SIG_IGN): the outcome is unknown, so no
		 * claim of success. */
		gw_log_error("firmware: request %d: installer (pid %d): %s", fw->request_id, (int)fw->pid,
			     strerror(errno));
		emit_final(fw, "InstallationFailed");
		return;
	}
	if (fw->killed) {
		emit_final(fw, "InstallationFailed");
		return;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		gw_log_info("firmware: request %d: installer finished", fw->request_id);
		emit_final(fw, "Installed");
		return;
	}
	if (WIFEXITED(st))
		gw_log_error("firmware: request %d: installer exited with %d", fw->request_id, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		gw_log_error("firmware: request %d: installer killed by signal %d", fw->request_id, WTERMSIG(st));
	emit_final(fw, "InstallationFailed");
}

static void install_or_schedule(struct gw_firmware *fw)
{
	int64_t now = wall_now(fw);
	unsigned gen = fw->gen;

	if (!fw->installer) {
		gw_log_warn("firmware: request %d: no installer is configured (ocpp firmware install command): "
			    "the verified file stays in %s, nothing is installed",
			    fw->request_id, fw->path);
		emit_final(fw, "InstallationFailed");
		return;
	}
	if (fw->install_ms > now) {
		fw->state = FW_INSTALL_WAIT;
		emit(fw, "InstallScheduled");
		if (fw->gen != gen)
			return;
		arm(fw, (uint64_t)(fw->install_ms - now), false);
		return;
	}
	install_start(fw);
}

/* ---- the timer ---- */

static void step_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_firmware *fw = lws_container_of(sul, struct gw_firmware, sul);
	unsigned gen = fw->gen;

	if (fw->stopped)
		return;
	switch (fw->state) {
	case FW_SCHEDULED:
		if (fw->retrieve_ms > wall_now(fw)) {
			if (!fw->announced) {
				fw->announced = true;
				emit(fw, "DownloadScheduled");
				if (fw->gen != gen)
					return;
			}
			arm(fw, (uint64_t)(fw->retrieve_ms - wall_now(fw)), false);
			break;
		}
		download_attempt(fw);
		break;
	case FW_RETRY_WAIT:
		download_attempt(fw);
		break;
	case FW_HASHING:
		hash_step(fw);
		break;
	case FW_INSTALL_WAIT:
		install_start(fw);
		break;
	case FW_INSTALLING:
		install_poll(fw);
		break;
	case FW_IDLE:
	case FW_DOWNLOADING:
		break;
	}
}

/* ---- the interface ---- */

struct gw_firmware *gw_firmware_new(struct gw_loop *loop, const struct gw_clock *clock, struct gw_http *http,
				    const struct gw_firmware_params *p, const struct gw_firmware_cb *cb)
{
	struct gw_firmware *fw;
	char dir[FW_PATH_MAX];
	int n, rc;

	if (!loop || !clock || !http || !p || !p->dir || !p->dir[0] || !cb || !cb->status) {
		gw_log_error("firmware: bad parameters");
		return NULL;
	}
	n = snprintf(dir, sizeof(dir), "%s/%s", p->dir, FW_SUBDIR);
	if (n < 0 || (size_t)n + 2 + FW_NAME_MAX + sizeof(".part") >= sizeof(dir)) {
		gw_log_error("firmware: data directory path too long: %s", p->dir);
		return NULL;
	}
	fw = calloc(1, sizeof(*fw));
	if (!fw)
		return NULL;
	fw->loop = loop;
	fw->clock = clock;
	fw->http = http;
	fw->cb = *cb;
	fw->fd = -1;
	fw->install_timeout_s = p->install_timeout_s ? p->install_timeout_s : GW_FIRMWARE_INSTALL_TIMEOUT_S;
	fw->download_timeout_ms = p->download_timeout_ms;
	fw->max_bytes = p->max_bytes;
	fw->last_status = "Idle";
	fw->dir = strdup(dir);
	fw->installer = p->install_command && p->install_command[0] ? strdup(p->install_command) : NULL;
	fw->ca_file = p->ca_file && p->ca_file[0] ? strdup(p->ca_file) : NULL;
	if (!fw->dir || (p->install_command && p->install_command[0] && !fw->installer) ||
	    (p->ca_file && p->ca_file[0] && !fw->ca_file)) {
		gw_firmware_free(fw);
		return NULL;
	}
	rc = dir_make(fw->dir);
	if (rc)
		gw_log_warn("firmware: %s: %s (downloads will fail)", fw->dir, strerror(-rc));
	if (!fw->installer)
		gw_log_info("firmware: no install command configured: a verified update ends InstallationFailed");
	else if (fw->installer[0] != '/' || access(fw->installer, X_OK) != 0)
		gw_log_warn("firmware: install command %s is not an absolute path to an executable", fw->installer);
	return fw;
}

int gw_firmware_start(struct gw_firmware *fw, const struct gw_firmware_req *r, const char *roots_pem,
		      int64_t now_ms, char *detail, size_t detail_len)
{
	char cert_detail[CERTS_DETAIL_MAX], name[FW_NAME_MAX + 1], shown[FW_LOG_URL_MAX];
	enum certs_reason why = CERTS_OK;
	bool canceled = false;
	int rc;

	detail_set(detail, detail_len, "%s", "");
	if (!fw || !r || fw->stopped) {
		detail_set(detail, detail_len, "firmware updates are not available");
		return GW_FIRMWARE_REJECTED;
	}
	if (!location_ok(r->location)) {
		detail_set(detail, detail_len, "location is not an http, https, ftp or ftps URL");
		gw_log_warn("firmware: request %d rejected: location is not an http(s)/ftp(s) URL", r->request_id);
		return GW_FIRMWARE_REJECTED;
	}
	if (!r->signature || !r->signature[0] || strlen(r->signature) > CERTS_SIG_B64_MAX) {
		detail_set(detail, detail_len, "signature missing or longer than %d characters", CERTS_SIG_B64_MAX);
		gw_log_warn("firmware: request %d rejected: no usable signature", r->request_id);
		return GW_FIRMWARE_REJECTED;
	}
	rc = certs_sig_signer_check_detail(r->signing_certificate, roots_pem, now_ms / 1000, &why, cert_detail,
					   sizeof(cert_detail));
	if (rc == -ENOMEM) {
		detail_set(detail, detail_len, "out of memory");
		return GW_FIRMWARE_REJECTED;
	}
	if (rc) {
		detail_set(detail, detail_len, "%s: %s", certs_reason_name(why), cert_detail);
		gw_log_warn("firmware: request %d: InvalidCertificate: %s: %s", r->request_id, certs_reason_name(why),
			    cert_detail);
		return GW_FIRMWARE_INVALID_CERTIFICATE;
	}
	if (fw->state == FW_INSTALLING) {
		detail_set(detail, detail_len, "an installer is running");
		gw_log_warn("firmware: request %d rejected: request %d is being installed", r->request_id,
			    fw->request_id);
		return GW_FIRMWARE_REJECTED;
	}
	if (fw->state != FW_IDLE) {
		gw_log_info("firmware: request %d cancels request %d", r->request_id, fw->request_id);
		finish(fw);
		canceled = true;
	}
	fw->gen++;
	fw->location = strdup(r->location);
	fw->signer_pem = strdup(r->signing_certificate);
	fw->signature = strdup(r->signature);
	if (!fw->location || !fw->signer_pem || !fw->signature) {
		finish(fw);
		detail_set(detail, detail_len, "out of memory");
		return GW_FIRMWARE_REJECTED;
	}
	file_name(r->location, name, sizeof(name));
	snprintf(fw->path, sizeof(fw->path), "%s/%s", fw->dir, name);
	location_for_log(r->location, shown, sizeof(shown));
	memcpy(fw->shown, shown, sizeof(fw->shown));
	/* The next update replaces what the last one left (its verified file too). */
	dir_make(fw->dir);
	dir_clear(fw);
	fw->request_id = r->request_id;
	fw->start_wall_ms = now_ms;
	fw->start_clock_ms = clock_now(fw);
	fw->retrieve_ms = r->retrieve_ms;
	fw->install_ms = r->install_ms;
	fw->attempts_left = 1 + (r->retries < 0 ? GW_FIRMWARE_RETRIES_DEFAULT : r->retries);
	fw->retry_interval_s = r->retry_interval_s > 0 ? (uint32_t)r->retry_interval_s
						       : GW_FIRMWARE_RETRY_INTERVAL_DEFAULT_S;
	fw->announced = false;
	fw->state = FW_SCHEDULED;
	gw_log_info("firmware: request %d accepted: %s to %s, %d attempt%s", r->request_id, fw->shown, fw->path,
		    fw->attempts_left, fw->attempts_left == 1 ? "" : "s");
	/* The first status goes out from the loop, never from inside this call. */
	arm(fw, 0, true);
	return canceled ? GW_FIRMWARE_ACCEPTED_CANCELED : GW_FIRMWARE_ACCEPTED;
}

bool gw_firmware_busy(const struct gw_firmware *fw)
{
	return fw && fw->state != FW_IDLE;
}

const char *gw_firmware_last_status(const struct gw_firmware *fw, int *request_id)
{
	if (request_id)
		*request_id = fw ? fw->last_request_id : 0;
	if (!fw || fw->state == FW_IDLE)
		return "Idle";
	return fw->last_status;
}

void gw_firmware_stop(struct gw_firmware *fw)
{
	if (!fw || fw->stopped)
		return;
	if (fw->state == FW_INSTALLING && fw->pid > 0)
		gw_log_warn("firmware: request %d: stopping with the installer (pid %d) still running", fw->request_id,
			    (int)fw->pid);
	finish(fw);
	fw->gen++;
	fw->stopped = true;
}

void gw_firmware_free(struct gw_firmware *fw)
{
	if (!fw)
		return;
	gw_firmware_stop(fw);
	free(fw->dir);
	free(fw->installer);
	free(fw->ca_file);
	free(fw);
}
