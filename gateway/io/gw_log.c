/*
 * gw_log: format one log line and write it to stderr in a single write(), so lines from the gateway
 * never interleave mid-line with anything else writing to the same stream. The level and format are
 * process-wide settings, not per-bus state: every bus logs through the same stream.
 *
 * The diagnostics ring is one static byte buffer of records (stamp, level, length, text) that wrap
 * around its end: a new line drops whole records from the oldest end until it fits, so memory is
 * fixed and no line is ever half kept.
 */
#include "gw_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gw_clock.h"

#define LINE_MAX_BYTES 1024
#define REC_HEAD 11 /* int64 stamp, level byte, uint16 length */

struct log_ring {
	size_t head; /* offset of the oldest record */
	size_t used; /* bytes of records */
	unsigned char buf[GW_LOG_RING_BYTES];
};

static struct log_ring log_ring;

struct log_state {
	enum gw_log_level level;
	bool journal; /* stderr goes to journald: "<N>" prefix, no timestamp */
};

static struct log_state log_state = { GW_LOG_INFO, false };

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const char *const level_tags[] = { "ERROR", "WARN ", "INFO ", "DEBUG" };
/* syslog(3) priorities: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG. */
static const int level_prio[] = { 3, 4, 6, 7 };

void gw_log_init(enum gw_log_level level)
{
	const char *js = getenv("JOURNAL_STREAM");

	log_state.journal = js != NULL && js[0] != '\0';
	log_state.level = level;
}

enum gw_log_level gw_log_level_from_core(enum core_log_level level)
{
	switch (level) {
	case CORE_LOG_ERROR:
		return GW_LOG_ERROR;
	case CORE_LOG_WARN:
		return GW_LOG_WARN;
	case CORE_LOG_INFO:
		return GW_LOG_INFO;
	case CORE_LOG_DEBUG:
		break;
	}
	return GW_LOG_DEBUG;
}

void gw_log_set_level(enum gw_log_level level)
{
	if (level >= GW_LOG_ERROR && level <= GW_LOG_DEBUG)
		log_state.level = level;
}

enum gw_log_level gw_log_get_level(void)
{
	return log_state.level;
}

bool gw_log_enabled(enum gw_log_level level)
{
	return level <= log_state.level;
}

const char *gw_log_level_name(enum gw_log_level level)
{
	if (level < GW_LOG_ERROR || level > GW_LOG_DEBUG)
		return "?";
	return level_names[level];
}

int gw_log_level_parse(const char *name, enum gw_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum gw_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

static size_t put_prefix(char *buf, size_t cap, enum gw_log_level level)
{
	int n;

	if (log_state.journal) {
		n = snprintf(buf, cap, "<%d>", level_prio[level]);
	} else {
		struct timespec ts;
		struct tm tm;

		gw_clock_wall(&ts);
		localtime_r(&ts.tv_sec, &tm);
		n = snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d.%03ld %s ", tm.tm_year + 1900,
			     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L,
			     level_tags[level]);
	}
	if (n < 0)
		return 0;
	return (size_t)n < cap ? (size_t)n : cap - 1;
}

/* ---- the diagnostics ring ---- */

static void ring_write(size_t off, const void *src, size_t n)
{
	size_t first = GW_LOG_RING_BYTES - off;

	if (first > n)
		first = n;
	memcpy(log_ring.buf + off, src, first);
	memcpy(log_ring.buf, (const unsigned char *)src + first, n - first);
}

static void ring_read(size_t off, void *dst, size_t n)
{
	size_t first = GW_LOG_RING_BYTES - off;

	if (first > n)
		first = n;
	memcpy(dst, log_ring.buf + off, first);
	memcpy((unsigned char *)dst + first, log_ring.buf, n - first);
}

static size_t ring_rec_len(size_t off)
{
	uint16_t len;

	ring_read((off + 9) % GW_LOG_RING_BYTES, &len, sizeof(len));
	return REC_HEAD + len;
}

static void ring_put(int64_t when_ms, enum gw_log_level level, const char *msg, size_t len)
{
	unsigned char head[REC_HEAD];
	uint16_t l16 = (uint16_t)len;
	size_t need = REC_HEAD + len;

	while (log_ring.used && log_ring.used + need > GW_LOG_RING_BYTES) {
		size_t old = ring_rec_len(log_ring.head);

		log_ring.head = (log_ring.head + old) % GW_LOG_RING_BYTES;
		log_ring.used -= old;
	}
	memcpy(head, &when_ms, 8);
	head[8] = (unsigned char)level;
	memcpy(head + 9, &l16, 2);
	ring_write((log_ring.head + log_ring.used) % GW_LOG_RING_BYTES, head, REC_HEAD);
	ring_write((log_ring.head + log_ring.used + REC_HEAD) % GW_LOG_RING_BYTES, msg, len);
	log_ring.used += need;
}

void gw_log_ring_add(int64_t when_ms, enum gw_log_level level, const char *msg)
{
	char text[LINE_MAX_BYTES];
	size_t len = strnlen(msg, sizeof(text) - 1);

	if (level < GW_LOG_ERROR || level > GW_LOG_DEBUG)
		return;
	memcpy(text, msg, len);
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n' || text[i] == '\r')
			text[i] = ' ';
	ring_put(when_ms, level, text, len);
}

int gw_log_ring_foreach(gw_log_ring_fn fn, void *user)
{
	char text[LINE_MAX_BYTES + 1];
	size_t off = 0;

	while (off < log_ring.used) {
		size_t at = (log_ring.head + off) % GW_LOG_RING_BYTES;
		unsigned char head[REC_HEAD];
		int64_t when;
		uint16_t len;
		int rc;

		ring_read(at, head, REC_HEAD);
		memcpy(&when, head, 8);
		memcpy(&len, head + 9, 2);
		ring_read((at + REC_HEAD) % GW_LOG_RING_BYTES, text, len);
		text[len] = '\0';
		off += REC_HEAD + len;
		rc = fn(user, when, (enum gw_log_level)head[8], text, len);
		if (rc)
			return rc;
	}
	return 0;
}

void gw_log_ring_clear(void)
{
	log_ring.head = 0;
	log_ring.used = 0;
}

/* ---- lines ---- */

void gw_log_v(enum gw_log_level level, const char *fmt, va_list ap)
{
	char line[LINE_MAX_BYTES];
	size_t len, msg;
	bool print, keep;
	int n;

	if (level < GW_LOG_ERROR || level > GW_LOG_DEBUG)
		return;
	print = gw_log_enabled(level);
	keep = print || level <= GW_LOG_INFO;
	if (!keep)
		return;

	/* errno is the caller's; a log call must not clobber it between a failure and its report. */
	int saved_errno = errno;

	msg = len = put_prefix(line, sizeof(line) - 1, level);
	n = vsnprintf(line + len, sizeof(line) - 1 - len, fmt, ap);
	if (n > 0)
		len += (size_t)n < sizeof(line) - 1 - len ? (size_t)n : sizeof(line) - 2 - len;
	/* One message is one line: a newline inside it would let a peer's text forge log lines. */
	for (size_t i = 0; i < len; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	while (len > 0 && line[len - 1] == ' ')
		len--;
	ring_put(gw_clock_wall_ms(), level, line + msg, len > msg ? len - msg : 0);
	if (!print) {
		errno = saved_errno;
		return;
	}
	line[len++] = '\n';

	/* A failed write to stderr has nowhere to be reported. */
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
	errno = saved_errno;
}

void gw_log(enum gw_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gw_log_v(level, fmt, ap);
	va_end(ap);
}

void gw_log_fmt(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}
