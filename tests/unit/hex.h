/*
 * hex.h: test helper that turns "FC E1 77 ..." (the notation of the protocol reference) into bytes, so
 * test vectors can be written as they appear in captures.
 */
#ifndef TEST_HEX_H
#define TEST_HEX_H

#include <stddef.h>
#include <stdint.h>

static inline size_t hex(const char *text, uint8_t *out)
{
	size_t n = 0;

	while (*text) {
		unsigned v = 0;
		int digits = 0;

		while (*text == ' ')
			text++;
		while (*text && *text != ' ') {
			char c = *text++;

			v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
			digits++;
		}
		if (digits)
			out[n++] = (uint8_t)v;
	}
	return n;
}

#endif
