/*
 * core_text: secret blanking for the cores' log lines and hex IDs from state files (see core_text.h). Belt and braces: a core
 * should never format a secret into a line, but a server or device may quote one back at us.
 */
#include "core_text.h"

#include <errno.h>
#include <string.h>

void core_text_scrub(char *buf, const char *secret, size_t min_len)
{
	size_t n = secret ? strlen(secret) : 0;
	char *p;

	/* every replacement must shorten the text, or a secret such as "***" would loop for ever */
	if (!buf || n < min_len || n <= 3)
		return;
	while ((p = strstr(buf, secret))) {
		memmove(p + 3, p + n, strlen(p + n) + 1);
		memcpy(p, "***", 3);
	}
}

int core_text_hex16(const char *s, size_t min_digits, uint16_t *out)
{
	unsigned v = 0;
	size_t n = 0;

	for (; s[n]; n++) {
		char c = s[n];
		unsigned d;

		if (n == 4)
			return -EINVAL;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
		v = v * 16 + d;
	}
	if (n == 0 || n < min_digits)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int core_text_b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}
