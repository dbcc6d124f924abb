/*
 * test_gw_settings: the operator's settings file (dataDir/settings.json) and how its policy lies on
 * top of the config file: a mode replaces mode/until/then together, a schedule replaces the schedule,
 * errors name the key, and a damaged file is an error naming it, never silently nothing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gw_config.h"
#include "gw_settings.h"
#include "gw_store.h"

static char dir[64];
static char cfg_path[128];

static int setup(void **state)
{
	char text[512];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/twcgw-settings-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(cfg_path, sizeof(cfg_path), "%s/twcgw.json", dir);
	snprintf(text, sizeof(text),
		 "{\"dataDir\":\"%s\",\"twc\":{\"port\":\"/dev/ttyUSB0\",\"wiringMaxAmpsAllTWCs\":32,"
		 "\"wiringMaxAmpsPerTWC\":32},\"policy\":{\"mode\":\"off\",\"until\":\"2030-01-01T00:00Z\","
		 "\"then\":\"charge-now\"}}",
		 dir);
	return gw_store_write(dir, "twcgw.json", text, strlen(text), 0640);
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void test_parse_and_round_trip(void **state)
{
	const char *text = "{\"version\":1,\"policy\":{\"mode\":\"charge-now\"},\"maxAmps\":{\"1A2B\":16,\"00c3\":0}}";
	struct gw_settings s, back;
	char err[256];

	(void)state;
	assert_int_equal(gw_settings_parse(text, strlen(text), &s, err, sizeof(err)), 0);
	assert_int_equal(gw_settings_max(&s, 0x1A2B), 16);
	assert_int_equal(gw_settings_max(&s, 0x00C3), 0);
	assert_int_equal(gw_settings_max(&s, 0x7777), -1);
	assert_int_equal(gw_settings_save(dir, &s), 0);
	assert_int_equal(gw_settings_load(dir, &back, err, sizeof(err)), 0);
	assert_string_equal(json_string_value(json_object_get(back.policy, "mode")), "charge-now");
	assert_int_equal(gw_settings_max(&back, 0x1A2B), 16);
	assert_int_equal(gw_settings_set_max(&back, 0x1A2B, -1), 0);
	assert_int_equal(gw_settings_max(&back, 0x1A2B), -1);
	for (int i = 1; i < TWC_MAX_KNOWN; i++) /* 00C3 is the first */
		assert_int_equal(gw_settings_set_max(&back, (uint16_t)(0x100 + i), 6), 0);
	assert_int_equal(gw_settings_set_max(&back, 0x999, 6), -ENOSPC);
	gw_settings_clear(&s);
	gw_settings_clear(&back);
}

/* Who made each change comes back after a save and a load; a bad one is an error naming the member. */
static void test_by_round_trip(void **state)
{
	const char *text = "{\"version\":1,\"policy\":{\"mode\":\"off\"},\"policyBy\":\"page\","
			   "\"maxAmps\":{\"1A2B\":16,\"3C4D\":8},\"maxAmpsBy\":{\"1A2B\":\"mqtt\"}}";
	const char *bad[] = {
		"{\"version\":1,\"policyBy\":\"cron\"}",
		"{\"version\":1,\"policyBy\":3}",
		"{\"version\":1,\"maxAmps\":{\"1A2B\":16},\"maxAmpsBy\":{\"1A2B\":\"x\"}}",
		"{\"version\":1,\"maxAmpsBy\":[]}",
	};
	struct gw_settings s, back;
	char err[256];

	(void)state;
	assert_int_equal(gw_settings_parse(text, strlen(text), &s, err, sizeof(err)), 0);
	assert_string_equal(s.policy_by, "page");
	assert_string_equal(gw_settings_max_by(&s, 0x1A2B), "mqtt");
	assert_string_equal(gw_settings_max_by(&s, 0x3C4D), "");
	assert_int_equal(gw_settings_save(dir, &s), 0);
	assert_int_equal(gw_settings_load(dir, &back, err, sizeof(err)), 0);
	assert_string_equal(back.policy_by, "page");
	assert_string_equal(gw_settings_max_by(&back, 0x1A2B), "mqtt");
	assert_int_equal(gw_settings_max(&back, 0x3C4D), 8);
	/* A maximum set anew forgets who set the old one until the setter says. */
	assert_int_equal(gw_settings_set_max(&back, 0x1A2B, -1), 0);
	assert_int_equal(gw_settings_set_max(&back, 0x1A2B, 10), 0);
	assert_string_equal(gw_settings_max_by(&back, 0x1A2B), "");
	gw_settings_clear(&s);
	gw_settings_clear(&back);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(gw_settings_parse(bad[i], strlen(bad[i]), &s, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, i < 2 ? "policyBy" : "maxAmpsBy"));
	}
}

static void test_bad_files_named(void **state)
{
	const char *bad[] = {
		"", "[]", "{\"version\":2}", "{\"version\":1,\"extra\":1}", "{\"version\":1,\"policy\":3}",
		"{\"version\":1,\"maxAmps\":{\"XYZ1\":6}}", "{\"version\":1,\"maxAmps\":{\"1A2B\":81}}",
		"{\"version\":1,\"maxAmps\":{\"1A2B\":\"6\"}}", "{\"version\":1,\"maxAmps\":{\"0000\":6}}",
		"{\"version\":1,\"version\":1}",
	};
	struct gw_settings s;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(gw_settings_parse(bad[i], strlen(bad[i]), &s, err, sizeof(err)), -EINVAL);
		assert_true(err[0]);
		assert_null(s.policy);
	}
	assert_int_equal(gw_settings_load(dir, &s, err, sizeof(err)), 0); /* no file: nothing set */
	assert_int_equal(gw_store_write(dir, GW_SETTINGS_FILE, "{\"version\":1,", 13, 0640), 0);
	assert_int_equal(gw_settings_load(dir, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, GW_SETTINGS_FILE));
}

static void test_policy_overlay(void **state)
{
	struct gw_config c;
	char err[512];
	json_t *p;

	(void)state;
	assert_int_equal(gw_config_with_policy(cfg_path, NULL, &c, err, sizeof(err)), 0);
	assert_int_equal(c.policy.mode, EMS_POLICY_OFF);
	assert_true(c.policy.has_until);

	/* A mode replaces mode, until and then together. */
	p = json_pack("{s:s}", "mode", "charge-now");
	assert_int_equal(gw_config_with_policy(cfg_path, p, &c, err, sizeof(err)), 0);
	assert_int_equal(c.policy.mode, EMS_POLICY_CHARGE_NOW);
	assert_false(c.policy.has_until);
	json_decref(p);

	p = json_pack("{s:s,s:s,s:s}", "mode", "charge-now", "until", "2031-05-01T18:00+02:00", "then", "off");
	assert_int_equal(gw_config_with_policy(cfg_path, p, &c, err, sizeof(err)), 0);
	assert_true(c.policy.has_until);
	assert_int_equal(c.policy.then, EMS_POLICY_OFF);
	json_decref(p);

	/* Checked as the file would be; errors name the key. */
	p = json_pack("{s:s}", "mode", "turbo");
	assert_int_equal(gw_config_with_policy(cfg_path, p, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "policy.mode"));
	json_decref(p);
	p = json_pack("{s:s}", "mode", "track-green"); /* no meter to track */
	assert_int_equal(gw_config_with_policy(cfg_path, p, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "ems"));
	json_decref(p);
	p = json_pack("{s:s}", "mode", "scheduled"); /* no schedule */
	assert_int_equal(gw_config_with_policy(cfg_path, p, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "policy.schedule"));
	json_decref(p);
	p = json_pack("{s:s,s:[{s:s,s:s,s:s,s:i}]}", "mode", "scheduled", "schedule", "days", "mon-fri", "start",
		      "22:00", "end", "06:00", "amps", 16);
	assert_int_equal(gw_config_with_policy(cfg_path, p, &c, err, sizeof(err)), 0);
	assert_int_equal(c.policy.n_windows, 1);
	json_decref(p);
	p = json_pack("{s:s,s:i}", "mode", "off", "wiring", 99);
	assert_int_equal(gw_config_with_policy(cfg_path, p, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "wiring"));
	json_decref(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_parse_and_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_by_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_overlay, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
