/*
 * gw_logs: GetLog on the loop. A request writes its file at once (the answer names it), then a timer
 * turn later starts the upload, so every status reaches the caller after its GetLog answer went out.
 * One upload at a time: a new request cancels the one in progress (AcceptedCanceled). Failed
 * attempts wait retry_interval on an lws_sul and try again; refusals that another try cannot change
 * (a bad URL, 401/403, FTP 530) end at once. The file is removed whatever the outcome.
 *
 * Scrubbing is a second line of defence: gw_log's rule is that no secret is ever logged, but a log
 * that leaves the device should not depend on every line having kept that rule, so values that look
 * like credentials are replaced on the way out.
 */
#include "gw_logs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "gw_http.h"
#include "gw_log.h"
#include "gw_loop.h"

#define SECURITY_LOG "security.log"
#define SECURITY_LOG_OLD "security.log.1"
#define SECURITY_LOG_MAX (1024L * 1024L)
#define UPLOAD_DIR "upload"
#define STAMP_LEN 24        /* "2024-01-31T12:34:56.789Z" */
#define TYPE_MAX 50         /* the whitepaper's SecurityEventNotification.type */
#define TECH_INFO_MAX 255   /* ... and techInfo */
#define SCRUB_OUT_MAX 4096  /* one scrubbed line; an input line is at most about 1.3 KiB */
#define CBID_MAX 64
#define TOKEN_MIN 12        /* Basic/Bearer credentials: base64 of "id:16-byte key" is far longer */

enum upload_state {
	UP_IDLE,
	UP_STARTING, /* file written, the first attempt waits for the next loop turn */
	UP_RUNNING,  /* a transfer is in flight */
	UP_WAITING,  /* between attempts */
};

struct gw_logs {
	struct gw_loop *loop;
	struct gw_http *http;
	char *dir;
	char *cbid;
	char *ca_file;
	struct gw_logs_callbacks cb;
	lws_sorted_usec_list_t sul;

	enum upload_state state;
	long xfer;          /* gw_http transfer in flight, 0 when none */
	int request_id;
	int attempt;        /* attempts made */
	int attempts;       /* attempts allowed */
	int interval_s;
	bool bad_url;       /* accepted, but reported BadMessage rather than tried */
	unsigned gen;       /* counts requests: a callback that started another is noticed */
	char *url;
	char path[PATH_MAX];
};

/* ---- time stamps ---- */

static void stamp_fmt(int64_t ms, char out[STAMP_LEN + 1])
{
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	int frac = (int)(ms - (int64_t)t * 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		memset(&tm, 0, sizeof(tm));
	/* Unsigned and reduced: the widths are then exact, whatever gmtime_r() made of a wild stamp. */
	snprintf(out, STAMP_LEN + 1, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned)(tm.tm_year + 1900) % 10000u,
		 (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u,
		 (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u, (unsigned)frac % 1000u);
}

static bool digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* The stamp stamp_fmt() writes, at the start of @s (@len bytes). Return 0 or -EINVAL. */
static int stamp_parse(const char *s, size_t len, int64_t *ms)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, frac;
	time_t t;

	if (len < STAMP_LEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
	    s[19] != '.' || s[23] != 'Z')
		return -EINVAL;
	if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) ||
	    !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec) || !digits(s + 20, 3, &frac))
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*ms = (int64_t)t * 1000 + frac;
	return 0;
}

static bool in_window(int64_t t, int64_t oldest_ms, int64_t latest_ms)
{
	return (oldest_ms <= 0 || t >= oldest_ms) && (latest_ms <= 0 || t <= latest_ms);
}

/* ---- scrubbing ---- */

struct sbuf {
	char *p;
	size_t len, cap; /* cap includes the NUL */
};

static void put(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + 1 >= b->cap)
		return;
	if (n > b->cap - 1 - b->len)
		n = b->cap - 1 - b->len;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static bool starts_ci(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len >= n && strncasecmp(s, word, n) == 0;
}

static bool is_ident(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

static bool ends_value(char c)
{
	return isspace((unsigned char)c) || c == ',' || c == ';' || c == '}' || c == ')' || c == '&' || c == '"' ||
	       c == '\'';
}

static size_t skip_spaces(const char *s, size_t i, size_t len)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* A value starting at @i: quoted (to the matching quote, backslash escapes honoured) or bare (to the
 * next delimiter). Writes the quotes around "***" and returns the index after the value. */
static size_t scrub_value(const char *s, size_t i, size_t len, struct sbuf *b)
{
	if (i < len && (s[i] == '"' || s[i] == '\'')) {
		char q = s[i++];

		while (i < len && s[i] != q)
			i += (s[i] == '\\' && i + 1 < len) ? 2 : 1;
		put(b, &q, 1);
		put(b, "***", 3);
		if (i < len) {
			put(b, &q, 1);
			i++;
		}
		return i;
	}
	if (i < len && !ends_value(s[i])) {
		while (i < len && !ends_value(s[i]))
			i++;
		put(b, "***", 3);
	}
	return i;
}

/* After a secret-looking key word at @i (@n bytes): the rest of the key, its closing quote, and then
 * ':' or '=' (JSON, key=value) or ',"value":' (an OCPP key/value pair). Return the index of the value
 * (the key and separator copied to @b), or 0 when no value follows (nothing copied). */
static size_t key_value_at(const char *s, size_t i, size_t len, struct sbuf *b)
{
	size_t j = i;

	while (j < len && is_ident(s[j]))
		j++;
	if (j < len && (s[j] == '"' || s[j] == '\''))
		j++;
	j = skip_spaces(s, j, len);
	if (j < len && (s[j] == ':' || s[j] == '=')) {
		j = skip_spaces(s, j + 1, len);
	} else if (j < len && s[j] == ',') {
		size_t k = skip_spaces(s, j + 1, len);

		if (!starts_ci(s + k, len - k, "\"value\""))
			return 0;
		k = skip_spaces(s, k + 7, len);
		if (k >= len || s[k] != ':')
			return 0;
		j = skip_spaces(s, k + 1, len);
	} else {
		return 0;
	}
	put(b, s + i, j - i);
	return j;
}

static const char *const secret_keys[] = { "authorizationkey", "password", "passwd", "secret", "token" };

size_t gw_logs_scrub(const char *in, size_t len, char *out, size_t outlen, bool *in_key)
{
	struct sbuf b = { out, 0, outlen };
	size_t i = 0;

	if (!outlen)
		return 0;
	out[0] = '\0';
	while (i < len) {
		const char *s = in + i;
		size_t rest = len - i, v;

		if (*in_key) {
			/* Inside a private key: drop everything up to and including its END line. */
			const char *end = memmem(s, rest, "-----END", 8);
			const char *tail = end ? memmem(end, (size_t)(in + len - end), "PRIVATE KEY-----", 16) : NULL;

			if (!tail)
				break;
			*in_key = false;
			i = (size_t)(tail + 16 - in);
			continue;
		}
		if (starts_ci(s, rest, "-----BEGIN ")) {
			const char *close = memmem(s + 11, rest - 11, "-----", 5);

			if (close && close - s >= 22 && strncmp(close - 11, "PRIVATE KEY", 11) == 0) {
				put(&b, "[private key removed]", 21);
				*in_key = true;
				i = (size_t)(close + 5 - in);
				continue;
			}
		}
		if ((i == 0 || !isalnum((unsigned char)in[i - 1])) &&
		    (starts_ci(s, rest, "basic ") || starts_ci(s, rest, "bearer "))) {
			size_t w = s[1] == 'a' || s[1] == 'A' ? 6 : 7;
			size_t j = skip_spaces(in, i + w, len);
			size_t t = j;

			/* A credential is a long token68 ("Basic charging mode" is prose). */
			while (t < len && (isalnum((unsigned char)in[t]) || strchr("-._~+/=", in[t])))
				t++;
			if (t - j >= TOKEN_MIN) {
				put(&b, s, j - i);
				put(&b, "***", 3);
				i = t;
				continue;
			}
		}
		if (starts_ci(s, rest, "://")) {
			/* user:password@ in a URL. */
			size_t k = 3;

			while (k < rest && !strchr("/?#@\"' \t", s[k]))
				k++;
			if (k < rest && s[k] == '@' && memchr(s + 3, ':', k - 3)) {
				const char *colon = memchr(s + 3, ':', k - 3);

				put(&b, s, (size_t)(colon + 1 - s));
				put(&b, "***@", 4);
				i += k + 1;
				continue;
			}
		}
		v = 0;
		for (size_t k = 0; k < sizeof(secret_keys) / sizeof(secret_keys[0]) && !v; k++)
			if (starts_ci(s, rest, secret_keys[k]))
				v = key_value_at(in, i, len, &b);
		if (v) {
			i = scrub_value(in, v, len, &b);
			continue;
		}
		put(&b, s, 1);
		i++;
	}
	return b.len;
}

/* ---- the upload file ---- */

struct writer {
	FILE *f;
	int64_t oldest_ms, latest_ms;
	bool in_key;
	char line[SCRUB_OUT_MAX];
};

static void write_line(struct writer *w, const char *s, size_t len)
{
	size_t n = gw_logs_scrub(s, len, w->line, sizeof(w->line) - 1, &w->in_key);

	w->line[n++] = '\n';
	fwrite(w->line, 1, n, w->f);
}

static int ring_line(void *user, int64_t when_ms, enum gw_log_level level, const char *msg, size_t len)
{
	static const char *const tags[] = { "ERROR", "WARN ", "INFO ", "DEBUG" };
	struct writer *w = user;
	char stamp[STAMP_LEN + 1];
	char buf[STAMP_LEN + 8 + 1100];
	int n;

	if (!in_window(when_ms, w->oldest_ms, w->latest_ms))
		return 0;
	stamp_fmt(when_ms, stamp);
	n = snprintf(buf, sizeof(buf), "%s %s %.*s", stamp, level <= GW_LOG_DEBUG ? tags[level] : "?    ",
		     (int)len, msg);
	if (n > 0)
		write_line(w, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
	return 0;
}

/* Copy the lines of security log file @name in the window; a missing file is an empty log. */
static int copy_security(struct gw_logs *l, const char *name, struct writer *w)
{
	char path[PATH_MAX];
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", l->dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while ((n = getline(&line, &cap, f)) > 0) {
		int64_t t;

		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (stamp_parse(line, (size_t)n, &t) != 0) {
			/* Unstamped (a line torn by a crash): only when no window is asked for. */
			if (w->oldest_ms > 0 || w->latest_ms > 0)
				continue;
		} else if (!in_window(t, w->oldest_ms, w->latest_ms)) {
			continue;
		}
		write_line(w, line, (size_t)n);
	}
	free(line);
	fclose(f);
	return 0;
}

/* "<cbid>-<kind>-<yyyymmddThhmmssZ>.log"; the id made safe for a file name. */
static int file_name_make(const struct gw_logs *l, bool security, int64_t now_ms, char *out, size_t len)
{
	char id[CBID_MAX + 1];
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;
	size_t k = 0;

	for (const char *p = l->cbid; *p && k < CBID_MAX; p++, k++)
		id[k] = isalnum((unsigned char)*p) || *p == '-' || *p == '_' || (*p == '.' && k) ? *p : '_';
	id[k] = '\0';
	if (!k || !gmtime_r(&t, &tm))
		return -EINVAL;
	if ((size_t)snprintf(out, len, "%s-%s-%04u%02u%02uT%02u%02u%02uZ.log", id, security ? "security" : "diagnostics",
			     (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
			     (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
			     (unsigned)tm.tm_sec % 100u) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* Write the log to @path (0600). Return 0 or -errno (nothing left behind). */
static int file_write(struct gw_logs *l, bool security, const char *path, int64_t oldest_ms, int64_t latest_ms)
{
	struct writer *w = calloc(1, sizeof(*w));
	int fd, rc = 0;

	if (!w)
		return -ENOMEM;
	w->oldest_ms = oldest_ms;
	w->latest_ms = latest_ms;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || !(w->f = fdopen(fd, "w"))) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		free(w);
		return rc;
	}
	if (security) {
		rc = copy_security(l, SECURITY_LOG_OLD, w);
		if (!rc)
			rc = copy_security(l, SECURITY_LOG, w);
	} else {
		gw_log_ring_foreach(ring_line, w);
	}
	if (ferror(w->f) && !rc)
		rc = -EIO;
	if (fclose(w->f) != 0 && !rc)
		rc = -errno;
	free(w);
	if (rc)
		unlink(path);
	return rc;
}

/* ---- the security log ---- */

static void copy_clean(char *dst, size_t cap, const char *src)
{
	size_t n = 0;

	for (; src && *src && n + 1 < cap; src++)
		dst[n++] = (unsigned char)*src < ' ' || *src == 0x7f ? ' ' : *src;
	dst[n] = '\0';
}

void gw_logs_security_event(struct gw_logs *l, const char *type, int64_t when_ms, const char *tech_info)
{
	char path[PATH_MAX], old[PATH_MAX];
	char stamp[STAMP_LEN + 1], t[TYPE_MAX + 1], info[TECH_INFO_MAX + 1];
	char line[STAMP_LEN + TYPE_MAX + TECH_INFO_MAX + 4];
	struct stat st;
	ssize_t w;
	int fd, n;

	if (!l || !type || !type[0])
		return;
	if ((size_t)snprintf(path, sizeof(path), "%s/" SECURITY_LOG, l->dir) >= sizeof(path) ||
	    (size_t)snprintf(old, sizeof(old), "%s/" SECURITY_LOG_OLD, l->dir) >= sizeof(old))
		return;
	stamp_fmt(when_ms, stamp);
	copy_clean(t, sizeof(t), type);
	copy_clean(info, sizeof(info), tech_info);
	n = snprintf(line, sizeof(line), "%s %s%s%s\n", stamp, t, info[0] ? " " : "", info);
	if (n <= 0)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size + n > SECURITY_LOG_MAX) {
		/* rename() replaces the old generation in one step: a crash leaves one or the other. */
		close(fd);
		fd = -1;
		if (rename(path, old) == 0)
			fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	}
	if (fd < 0) {
		gw_log_warn("logs: %s: %s", path, strerror(errno));
		return;
	}
	/* One write() per line: with O_APPEND a crash can tear only the last line. */
	w = write(fd, line, (size_t)n);
	if (w != n)
		gw_log_warn("logs: %s: %s", path, w < 0 ? strerror(errno) : "short write");
	close(fd);
}

/* ---- the upload ---- */

static void on_sul(lws_sorted_usec_list_t *sul);

static void timer_in(struct gw_logs *l, int64_t us)
{
	lws_sul_schedule(gw_loop_context(l->loop), 0, &l->sul, on_sul, us > 0 ? us : 1);
}

/* Back to idle, the file gone; then (the state already clean, so the callback may start another) the
 * final status. */
static void upload_end(struct gw_logs *l, const char *status)
{
	int rid = l->request_id;

	lws_sul_cancel(&l->sul);
	if (l->path[0])
		unlink(l->path);
	l->path[0] = '\0';
	free(l->url);
	l->url = NULL;
	l->state = UP_IDLE;
	l->xfer = 0;
	if (!status)
		return;
	gw_log_info("logs: request %d: %s", rid, status);
	if (l->cb.status)
		l->cb.status(l->cb.user, status, rid);
}

static void attempt(struct gw_logs *l);

static void retry_or_fail(struct gw_logs *l)
{
	if (l->attempt >= l->attempts) {
		upload_end(l, "UploadFailure");
		return;
	}
	l->state = UP_WAITING;
	timer_in(l, (int64_t)l->interval_s * LWS_US_PER_SEC);
}

static void on_upload_done(void *user, const struct gw_http_resp *resp)
{
	struct gw_logs *l = user;
	int s = resp->status;

	l->xfer = 0;
	if (s >= 200 && s < 300) {
		upload_end(l, "Uploaded");
	} else if (s == 401 || s == 403 || s == 530 || s == -EACCES) {
		upload_end(l, "PermissionDenied");
	} else if (s == -EINVAL) {
		upload_end(l, "BadMessage");
	} else {
		if (s < 0)
			gw_log_warn("logs: request %d: attempt %d of %d: %s (%s)", l->request_id, l->attempt, l->attempts,
				    strerror(-s), resp->error);
		else
			gw_log_warn("logs: request %d: attempt %d of %d: server answered %d", l->request_id, l->attempt,
				    l->attempts, s);
		retry_or_fail(l);
	}
}

static void attempt(struct gw_logs *l)
{
	struct gw_http_xfer x = {
		.url = l->url,
		.path = l->path,
		.upload = true,
		.ca_file = l->ca_file,
	};
	long id;

	l->attempt++;
	id = gw_http_transfer(l->http, &x, on_upload_done, l);
	if (id > 0) {
		l->state = UP_RUNNING;
		l->xfer = id;
		return;
	}
	gw_log_warn("logs: request %d: cannot start the upload: %s", l->request_id, strerror((int)-id));
	if (id == -EINVAL)
		upload_end(l, "BadMessage");
	else if (id == -ESHUTDOWN)
		upload_end(l, NULL);
	else
		retry_or_fail(l);
}

static void on_sul(lws_sorted_usec_list_t *sul)
{
	struct gw_logs *l = lws_container_of(sul, struct gw_logs, sul);

	if (l->state == UP_STARTING) {
		unsigned gen = l->gen;

		if (l->bad_url) {
			upload_end(l, "BadMessage");
			return;
		}
		if (l->cb.status)
			l->cb.status(l->cb.user, "Uploading", l->request_id);
		/* The callback may have started another request, or stopped us. */
		if (l->state != UP_STARTING || l->gen != gen)
			return;
		attempt(l);
	} else if (l->state == UP_WAITING) {
		attempt(l);
	}
}

/* Cancel what is in progress without a word to the callback. Return true when there was something. */
static bool upload_cancel(struct gw_logs *l)
{
	bool busy = l->state != UP_IDLE;

	if (l->xfer > 0)
		gw_http_cancel(l->http, l->xfer);
	l->xfer = 0;
	if (busy)
		gw_log_info("logs: request %d: cancelled", l->request_id);
	lws_sul_cancel(&l->sul);
	if (l->path[0])
		unlink(l->path);
	l->path[0] = '\0';
	free(l->url);
	l->url = NULL;
	l->state = UP_IDLE;
	return busy;
}

/* The four schemes of gw_http_transfer(). */
static bool scheme_ok(const char *url)
{
	static const char *const ok[] = { "http://", "https://", "ftp://", "ftps://" };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strncasecmp(url, ok[i], strlen(ok[i])) == 0)
			return true;
	return false;
}

/* A host after the scheme (and any userinfo), and nothing a URL cannot hold. */
static bool url_usable(const char *url)
{
	const char *host = strstr(url, "://") + 3;
	const char *end = host + strcspn(host, "/?#");
	const char *at = memchr(host, '@', (size_t)(end - host));

	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return false;
	if (at)
		host = at + 1;
	return end > host && *host != ':';
}

int gw_logs_get(struct gw_logs *l, bool security, const char *url, int request_id, int64_t oldest_ms,
		int64_t latest_ms, int retries, int retry_interval_s, int64_t now_ms, char *file_name, size_t len)
{
	char dir[PATH_MAX];
	bool cancelled;
	int rc;

	if (!l || !url || !file_name || !len)
		return -EINVAL;
	if (!scheme_ok(url))
		return -EPROTONOSUPPORT;
	cancelled = upload_cancel(l);
	rc = file_name_make(l, security, now_ms, file_name, len);
	if (rc)
		return rc;
	if ((size_t)snprintf(dir, sizeof(dir), "%s/" UPLOAD_DIR, l->dir) >= sizeof(dir) ||
	    (size_t)snprintf(l->path, sizeof(l->path), "%s/%s", dir, file_name) >= sizeof(l->path)) {
		l->path[0] = '\0';
		return -ENAMETOOLONG;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rc = -errno;
		gw_log_warn("logs: %s: %s", dir, strerror(-rc));
		l->path[0] = '\0';
		return rc;
	}
	rc = file_write(l, security, l->path, oldest_ms, latest_ms);
	if (!rc && !(l->url = strdup(url)))
		rc = -ENOMEM;
	if (rc) {
		gw_log_warn("logs: request %d: cannot write %s: %s", request_id, l->path, strerror(-rc));
		if (l->path[0])
			unlink(l->path);
		l->path[0] = '\0';
		return rc;
	}
	l->request_id = request_id;
	l->gen++;
	l->attempt = 0;
	l->attempts = 1 + (retries < 0 ? GW_LOGS_RETRIES_DEFAULT : retries);
	l->interval_s = retry_interval_s < 0 ? GW_LOGS_RETRY_INTERVAL_DEFAULT : retry_interval_s;
	l->bad_url = !url_usable(url);
	l->state = UP_STARTING;
	gw_log_info("logs: request %d: %s log as %s", request_id, security ? "security" : "diagnostics", file_name);
	timer_in(l, 1);
	return cancelled ? 1 : 0;
}

const char *gw_logs_status(const struct gw_logs *l, int *request_id)
{
	if (!l || l->state == UP_IDLE)
		return "Idle";
	if (request_id)
		*request_id = l->request_id;
	return "Uploading";
}

/* ---- life ---- */

/* Upload files a crash or power cut left behind: nobody will send them now. */
static void upload_dir_clean(const struct gw_logs *l)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent *e;
	DIR *d;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/" UPLOAD_DIR, l->dir) >= sizeof(dir) || !(d = opendir(dir)))
		return;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (n > 4 && strcmp(e->d_name + n - 4, ".log") == 0 &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < sizeof(path))
			unlink(path);
	}
	closedir(d);
}

struct gw_logs *gw_logs_new(struct gw_loop *loop, struct gw_http *http, const struct gw_logs_params *p,
			    const struct gw_logs_callbacks *cb)
{
	struct gw_logs *l;

	if (!loop || !http || !p || !p->dir || !p->dir[0] || !p->charge_box_id || !p->charge_box_id[0]) {
		gw_log_error("logs: missing parameters");
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		gw_log_error("logs: out of memory");
		return NULL;
	}
	l->loop = loop;
	l->http = http;
	l->dir = strdup(p->dir);
	l->cbid = strdup(p->charge_box_id);
	l->ca_file = p->ca_file && p->ca_file[0] ? strdup(p->ca_file) : NULL;
	if (cb)
		l->cb = *cb;
	if (!l->dir || !l->cbid || (p->ca_file && p->ca_file[0] && !l->ca_file)) {
		gw_log_error("logs: out of memory");
		gw_logs_free(l);
		return NULL;
	}
	upload_dir_clean(l);
	return l;
}

void gw_logs_stop(struct gw_logs *l)
{
	if (l)
		upload_cancel(l);
}

void gw_logs_free(struct gw_logs *l)
{
	if (!l)
		return;
	gw_logs_stop(l);
	free(l->dir);
	free(l->cbid);
	free(l->ca_file);
	free(l);
}
