/*
 * test_man_pages: the man page twcgw.json(5) describes every key the config loader knows, so the two
 * cannot drift apart (twcgw(8) against `twcgw -h` is checked in tests/integration/systemd.test.mjs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gw_config.h"

#ifndef TWCGW_SOURCE_DIR
#error "TWCGW_SOURCE_DIR must be defined by the build"
#endif

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_every_key_in_twcgw_json_5(void **state)
{
	char *page = slurp(TWCGW_SOURCE_DIR "/docs/man/twcgw.json.5");
	size_t i, missing = 0;
	const char *path;

	(void)state;
	for (i = 0; (path = gw_config_key_path(i)) != NULL; i++) {
		char entry[160];

		/* Each key has its own tagged paragraph: ".TP\n.B key\n". */
		snprintf(entry, sizeof(entry), ".TP\n.B %s\n", path);
		if (!strstr(page, entry)) {
			fprintf(stderr, "twcgw.json.5 does not describe %s\n", path);
			missing++;
		}
	}
	assert_true(i > 50);
	assert_int_equal(missing, 0);
	free(page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key_in_twcgw_json_5),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
