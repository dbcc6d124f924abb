/*
 * Tests of dataDir/twc-held.json (gw_held): the format round trip, every malformed shape refused with
 * a reason, load of a missing file as "nothing known", load and save in a real directory (mode, an
 * atomic replace), a bad file refused with the file named, and the wiring check naming the key and the
 * figure needed.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gw_held.h"
#include "gw_store.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_gw_held.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", dir, GW_HELD_FILE);
	unlink(path);
	return rmdir(dir);
}

static void test_round_trip(void **state)
{
	const struct twc_held in[] = {{0x1A2B, 2, 16}, {0x0000, 0, 6}, {0xFFFE, 1, 80}};
	struct twc_held out[TWC_MAX_KNOWN];
	char err[160] = "";
	char *text = gw_held_format(in, 3);

	(void)state;
	assert_non_null(text);
	assert_string_equal(text, "{\"version\":1,\"slaves\":[{\"id\":\"1A2B\",\"protocol\":2,\"amps\":16},"
				  "{\"id\":\"0000\",\"protocol\":0,\"amps\":6},{\"id\":\"FFFE\",\"protocol\":1,\"amps\":80}]}");
	assert_int_equal(gw_held_parse(text, strlen(text), out, TWC_MAX_KNOWN, err, sizeof(err)), 3);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(out[k].id, in[k].id);
		assert_int_equal(out[k].protocol, in[k].protocol);
		assert_int_equal(out[k].amps, in[k].amps);
	}
	free(text);
	text = gw_held_format(in, 0);
	assert_int_equal(gw_held_parse(text, strlen(text), out, TWC_MAX_KNOWN, err, sizeof(err)), 0);
	free(text);
}

static void test_malformed_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"version\":2,\"slaves\":[]}",
		"{\"version\":\"1\",\"slaves\":[]}",
		"{\"version\":1}",
		"{\"version\":1,\"slaves\":[],\"extra\":1}",
		"{\"version\":1,\"slaves\":{}}",
		"{\"version\":1,\"slaves\":[{\"id\":\"12345\",\"protocol\":2,\"amps\":16}]}",
		"{\"version\":1,\"slaves\":[{\"id\":\"12G4\",\"protocol\":2,\"amps\":16}]}",
		"{\"version\":1,\"slaves\":[{\"id\":4660,\"protocol\":2,\"amps\":16}]}",
		"{\"version\":1,\"slaves\":[{\"id\":\"1234\",\"protocol\":3,\"amps\":16}]}",
		"{\"version\":1,\"slaves\":[{\"id\":\"1234\",\"protocol\":2,\"amps\":0}]}",
		"{\"version\":1,\"slaves\":[{\"id\":\"1234\",\"protocol\":2,\"amps\":656}]}",
		"{\"version\":1,\"slaves\":[{\"id\":\"1234\",\"protocol\":2,\"amps\":16.5}]}",
		"{\"version\":1,\"slaves\":[{\"id\":\"1234\",\"protocol\":2}]}",
		"{\"version\":1,\"slaves\":[{\"id\":\"1234\",\"protocol\":2,\"amps\":16,\"x\":1}]}",
		"{\"version\":1,\"version\":1,\"slaves\":[]}",
		"{\"version\":1,\"slaves\":[1]}",
	};
	struct twc_held out[2];
	char err[160];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(gw_held_parse(bad[i], strlen(bad[i]), out, 2, err, sizeof(err)), -EINVAL);
		assert_true(err[0] != '\0');
	}
	/* More entries than there is room for is an error, not a silent cut. */
	const char *three = "{\"version\":1,\"slaves\":[{\"id\":\"0001\",\"protocol\":2,\"amps\":6},"
			    "{\"id\":\"0002\",\"protocol\":2,\"amps\":6},{\"id\":\"0003\",\"protocol\":2,\"amps\":6}]}";
	assert_int_equal(gw_held_parse(three, strlen(three), out, 2, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "more than 2"));
}

static void test_load_save(void **state)
{
	const struct twc_held in[] = {{0x1111, 2, 32}, {0x2222, 2, 6}};
	struct twc_held out[TWC_MAX_KNOWN];
	char err[512], path[128];
	struct stat st;

	(void)state;
	assert_int_equal(gw_held_load(dir, out, TWC_MAX_KNOWN, err, sizeof(err)), 0); /* no file: none known */
	assert_int_equal(gw_held_save(dir, in, 2), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, GW_HELD_FILE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(gw_held_load(dir, out, TWC_MAX_KNOWN, err, sizeof(err)), 2);
	assert_int_equal(out[0].amps, 32);
	assert_int_equal(out[1].id, 0x2222);
	assert_int_equal(gw_held_save(dir, in, 1), 0);
	assert_int_equal(gw_held_load(dir, out, TWC_MAX_KNOWN, err, sizeof(err)), 1);
	/* A damaged file is an error naming it, never "nothing held". */
	assert_int_equal(gw_store_write(dir, GW_HELD_FILE, "{\"version\":1,", 13, 0640), 0);
	assert_int_equal(gw_held_load(dir, out, TWC_MAX_KNOWN, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, GW_HELD_FILE));
	assert_int_equal(gw_held_save(dir, NULL, 0), 0);
	assert_int_equal(gw_held_load(dir, out, TWC_MAX_KNOWN, err, sizeof(err)), 0);
}

/* The store layer's full-disk fault hook: while the flag file exists a save fails with ENOSPC and
 * leaves the old file whole (no temporary left behind); once it is gone saves work again. */
static void test_disk_full_hook(void **state)
{
	const struct twc_held in[] = {{0x1111, 2, 32}, {0x2222, 2, 6}};
	struct twc_held out[TWC_MAX_KNOWN];
	char err[512], flag[128];
	int entries = 0;
	DIR *d;

	(void)state;
	assert_int_equal(gw_held_save(dir, in, 1), 0);
	snprintf(flag, sizeof(flag), "%s/full", dir);
	setenv("TWCGW_FAULT_DISK_FULL", flag, 1);
	assert_int_equal(gw_held_save(dir, in, 2), 0); /* no flag file yet: the disk has room */
	assert_int_equal(gw_store_write(dir, "full", "", 0, 0600), 0);
	assert_int_equal(gw_held_save(dir, in, 1), -ENOSPC);
	assert_int_equal(gw_held_load(dir, out, TWC_MAX_KNOWN, err, sizeof(err)), 2);
	d = opendir(dir);
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		entries += e->d_name[0] != '.';
	closedir(d);
	assert_int_equal(entries, 2); /* the held file and the flag: no temporary */
	unlink(flag);
	assert_int_equal(gw_held_save(dir, in, 1), 0);
	assert_int_equal(gw_held_load(dir, out, TWC_MAX_KNOWN, err, sizeof(err)), 1);
	unsetenv("TWCGW_FAULT_DISK_FULL");
}

static void test_check_names_key_and_figure(void **state)
{
	const struct twc_held three[] = {{1, 2, 16}, {2, 2, 6}, {3, 0, 20}};
	const struct twc_held p1[] = {{1, 1, 16}};
	struct twc_need need;
	char err[512];

	(void)state;
	twc_need_of(three, 3, &need);
	assert_int_equal(need.all, 18); /* an unknown protocol counts as 2: it cannot be stopped */
	assert_int_equal(need.per_twc, 6);
	assert_int_equal(need.floored, 3);
	assert_int_equal(gw_held_check(&need, 12, 12, err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "twc.wiringMaxAmpsAllTWCs"));
	assert_non_null(strstr(err, "needs at least 18"));
	assert_int_equal(gw_held_check(&need, 18, 5, err, sizeof(err)), -ERANGE);
	assert_non_null(strstr(err, "twc.wiringMaxAmpsPerTWC"));
	assert_non_null(strstr(err, "needs at least 6"));
	assert_int_equal(gw_held_check(&need, 18, 6, err, sizeof(err)), 0);
	twc_need_of(p1, 1, &need); /* protocol 1 stops at 0 */
	assert_int_equal(need.all, 0);
	assert_int_equal(gw_held_check(&need, 5, 5, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_malformed_refused),
		cmocka_unit_test(test_load_save),
		cmocka_unit_test(test_disk_full_hook),
		cmocka_unit_test(test_check_names_key_and_figure),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
