/*
 * gw_log: the gateway's log, one line per message on stderr. Under systemd (JOURNAL_STREAM set) each
 * line starts with the syslog priority "<N>" and carries no timestamp, because journald stamps and
 * classifies it; otherwise a line reads "YYYY-MM-DD HH:MM:SS.mmm LEVEL message". Only gateway code
 * logs; the pure cores report through events and the gateway decides what to say. Never pass a
 * secret (password, token, key) to these functions.
 */
#ifndef GW_LOG_H
#define GW_LOG_H

#include <stdarg.h>
#include <stdbool.h>

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

#define gw_log_error(...) gw_log(GW_LOG_ERROR, __VA_ARGS__)
#define gw_log_warn(...) gw_log(GW_LOG_WARN, __VA_ARGS__)
#define gw_log_info(...) gw_log(GW_LOG_INFO, __VA_ARGS__)
#define gw_log_debug(...) gw_log(GW_LOG_DEBUG, __VA_ARGS__)

#endif
