/*
 * core_text: the few text helpers and definitions every pure core shares, kept in one place so the
 * cores cannot drift apart: blanking secrets out of a log line, and the one log-level scale the
 * cores' log callbacks speak. Pure: no I/O, no allocation.
 */
#ifndef CORE_TEXT_H
#define CORE_TEXT_H

#include <stddef.h>

/* Log levels for every core's log callback; the numbers are part of the callbacks' contract. */
enum core_log_level { CORE_LOG_ERROR = 0, CORE_LOG_WARN, CORE_LOG_INFO, CORE_LOG_DEBUG };

/*
 * core_text_scrub() - replace every occurrence of @secret in the NUL-terminated @buf by "***".
 * A @secret that is NULL, shorter than @min_len or not longer than "***" is left alone: a short one
 * would mangle ordinary words, and the caller knows how short its secrets can sensibly be.
 */
void core_text_scrub(char *buf, const char *secret, size_t min_len);

#endif
