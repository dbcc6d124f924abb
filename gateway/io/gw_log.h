/*
 * gw_log: the gateway's log, one line per message on stderr. Under systemd (JOURNAL_STREAM set) each
 * line starts with the syslog priority "<N>" and carries no timestamp, because journald stamps and
 * classifies it; otherwise a line reads "YYYY-MM-DD HH:MM:SS.mmm LEVEL message". Only gateway code
 * logs; the pure cores report through events and the gateway decides what to say. Never pass a
 * secret (password, token, key) to these functions.
 *
 * The most recent lines are also kept in memory (GW_LOG_RING_BYTES, oldest dropped first): the
 * "diagnostics log" a central system fetches with GetLog (gw_logs.c). It keeps info and above even
 * when stderr shows less, and debug lines while stderr shows them.
 */
#ifndef GW_LOG_H
#define GW_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core_text.h"

/* Ordered by verbosity: a message is printed when its level <= the current level. */
enum gw_log_level {
	GW_LOG_ERROR = 0,
	GW_LOG_WARN,
	GW_LOG_INFO,
	GW_LOG_DEBUG,
};

/* Decide the line format from the environment (JOURNAL_STREAM) and set @level. Call once at start;
 * logging before it works with the defaults (info, timestamped). */
void gw_log_init(enum gw_log_level level);

/* The level of a line a pure core logged (enum core_log_level, the cores' one scale). */
enum gw_log_level gw_log_level_from_core(enum core_log_level level);

void gw_log_set_level(enum gw_log_level level);
enum gw_log_level gw_log_get_level(void);
bool gw_log_enabled(enum gw_log_level level);

/* "error", "warn", "info", "debug". */
const char *gw_log_level_name(enum gw_log_level level);
/* Return 0 and set @out, or -EINVAL for an unknown name. */
int gw_log_level_parse(const char *name, enum gw_log_level *out);

/* Lines longer than about 1 KiB are cut; a trailing newline in @fmt is not needed and is dropped. */
void gw_log(enum gw_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gw_log_v(enum gw_log_level level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Format into @dst (@n bytes), cutting what does not fit: the "reason" strings that transports keep
 * for the log line that reports a failure. */
void gw_log_fmt(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The diagnostics ring's size: records of a wall-clock stamp, the level and the message. */
#define GW_LOG_RING_BYTES (256u * 1024u)

/* Called for each line in the ring, oldest first: @msg (@len bytes, NUL-terminated) without stamp or
 * level tag. Return 0 to go on, anything else to stop (gw_log_ring_foreach() returns it). */
typedef int (*gw_log_ring_fn)(void *user, int64_t when_ms, enum gw_log_level level, const char *msg, size_t len);
int gw_log_ring_foreach(gw_log_ring_fn fn, void *user);

/* Put a line in the ring only (what gw_log() does besides printing; tests stamp lines with it). A
 * message longer than about 1 KiB is cut, newlines become spaces. */
void gw_log_ring_add(int64_t when_ms, enum gw_log_level level, const char *msg);
void gw_log_ring_clear(void);

#define gw_log_error(...) gw_log(GW_LOG_ERROR, __VA_ARGS__)
#define gw_log_warn(...) gw_log(GW_LOG_WARN, __VA_ARGS__)
#define gw_log_info(...) gw_log(GW_LOG_INFO, __VA_ARGS__)
#define gw_log_debug(...) gw_log(GW_LOG_DEBUG, __VA_ARGS__)

#endif
