/*
 * libFuzzer target for the reader of dataDir/twc-held.json, a file we read back after a crash: any
 * bytes must give either a clear error or a table of valid entries, and a table it accepts must
 * format and parse back to the same entries.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_held.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct twc_held t[TWC_MAX_KNOWN], u[TWC_MAX_KNOWN];
	char err[160];
	int n = gw_held_parse((const char *)data, size, t, TWC_MAX_KNOWN, err, sizeof(err));
	char *text;

	if (n < 0) {
		if (!err[0] || strlen(err) >= sizeof(err))
			abort();
		return 0;
	}
	for (int k = 0; k < n; k++)
		if (t[k].amps < 1 || t[k].amps > 655 || t[k].protocol > 2)
			abort();
	text = gw_held_format(t, n);
	if (!text)
		abort();
	if (gw_held_parse(text, strlen(text), u, TWC_MAX_KNOWN, err, sizeof(err)) != n)
		abort();
	for (int k = 0; k < n; k++)
		if (t[k].id != u[k].id || t[k].protocol != u[k].protocol || t[k].amps != u[k].amps)
			abort();
	free(text);
	return 0;
}
