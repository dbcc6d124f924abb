/*
 * core_text: secret blanking for the cores' log lines (see core_text.h). Belt and braces: a core
 * should never format a secret into a line, but a server or device may quote one back at us.
 */
#include "core_text.h"

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
