/*
 * libFuzzer target for what the gateway's HTTP client parses itself: the Retry-After header value
 * (delay-seconds or an HTTP-date, through libcurl's curl_getdate()). Properties: never a crash or
 * UB, the answer is -1 or 0..LONG_MAX, a plain number gives itself (LONG_MAX past the range), and a
 * date an hour ahead of "now" gives 3600.
 */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_S 1796000000LL /* 2026-11-29T... UTC */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long r = gw_http_retry_after((const char *)data, size, NOW_S);
	bool digits = size > 0 && size < 100;

	if (r < -1)
		abort();
	for (size_t i = 0; i < size && digits; i++)
		digits = data[i] >= '0' && data[i] <= '9';
	if (digits) {
		char buf[128];

		memcpy(buf, data, size);
		buf[size] = '\0';
		if (r != strtol(buf, NULL, 10))
			abort();
	}
	if (gw_http_retry_after("Mon, 30 Nov 2026 09:33:20 GMT", 29, 1796031200LL - 3600) != 3600)
		abort();
	return 0;
}
