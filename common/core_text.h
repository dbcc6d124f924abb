/*
 * core_text: the few text helpers and definitions every pure core shares, kept in one place so the
 * cores cannot drift apart: blanking secrets out of a log line, reading a TWC ID in hex, and the one
 * log-level scale the cores' log callbacks speak. Pure: no I/O, no allocation.
 */
#ifndef CORE_TEXT_H
#define CORE_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Log levels for every core's log callback; the numbers are part of the callbacks' contract. */
enum core_log_level { CORE_LOG_ERROR = 0, CORE_LOG_WARN, CORE_LOG_INFO, CORE_LOG_DEBUG };

/*
 * core_text_scrub() - replace every occurrence of @secret in the NUL-terminated @buf by "***".
 * A @secret that is NULL, shorter than @min_len or not longer than "***" is left alone: a short one
 * would mangle ordinary words, and the caller knows how short its secrets can sensibly be.
 */
void core_text_scrub(char *buf, const char *secret, size_t min_len);

/* A 16-bit ID in hex, as state files store TWC IDs: @min_digits to 4 hex digits, either case, and
 * nothing else. Return 0, or -EINVAL. */
int core_text_hex16(const char *s, size_t min_digits, uint16_t *out);

/* The value of one standard base64 character (RFC 4648 section 4), -1 for any other byte. */
int core_text_b64_value(unsigned char c);

#endif
