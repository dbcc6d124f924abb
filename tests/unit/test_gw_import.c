/*
 * test_gw_import: twcgw --import-twcmanager on TWCManager configs written from its shipped example
 * (tests/fixtures/twcmanager/): every result loads with the config loader itself, each thing left
 * behind is a note naming the TWCManager key, no secret ever reaches a note, and input that is not
 * JSON, not a TWCManager config or holds wiring limits twcgw could only meet by raising is refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "gw_config.h"
#include "gw_import.h"

#ifndef TWCGW_SOURCE_DIR
#error "TWCGW_SOURCE_DIR must be defined by the build"
#endif

#define FIXTURES TWCGW_SOURCE_DIR "/tests/fixtures/twcmanager/"

/* Every note of one import, one per line: "skipped KEY: WHY" or "changed KEY: WHY". */
struct notes {
	char text[32768];
	size_t used;
	int n;
};

static void note_cb(void *user, enum gw_import_note_kind kind, const char *key, const char *why)
{
	struct notes *n = user;
	int len = snprintf(n->text + n->used, sizeof(n->text) - n->used, "%s %s: %s\n",
			   kind == GW_IMPORT_SKIPPED ? "skipped" : "changed", key, why);

	assert_true(len > 0 && (size_t)len < sizeof(n->text) - n->used);
	assert_null(strchr(key, '\n'));
	assert_null(strchr(why, '\n'));
	n->used += (size_t)len;
	n->n++;
}

/* The note about @key, "skipped KEY: " or "changed KEY: " at the start of a line. */
static const char *note_of(const struct notes *n, const char *kind, const char *key)
{
	char head[200];
	const char *p = n->text;

	snprintf(head, sizeof(head), "%s %s: ", kind, key);
	while ((p = strstr(p, head)) != NULL) {
		if (p == n->text || p[-1] == '\n')
			return p;
		p++;
	}
	return NULL;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
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

static bool loader_knows(const char *path)
{
	const char *p;

	for (size_t i = 0; (p = gw_config_key_path(i)) != NULL; i++)
		if (strcmp(p, path) == 0)
			return true;
	return false;
}

/* @text through the config loader, as `twcgw -n` would read it, with dataDir in a fresh directory. */
static void load_ok(const char *text, struct gw_config *cfg)
{
	char dir[] = "/tmp/test_gw_import.XXXXXX", err[512] = "";
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	char *patched;
	int rc;

	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "dataDir")), GW_IMPORT_DATA_DIR);
	assert_non_null(mkdtemp(dir));
	json_object_set_new(root, "dataDir", json_string(dir));
	patched = json_dumps(root, 0);
	rc = gw_config_from_json_text(patched, "<import>", cfg, err, sizeof(err));
	if (rc)
		fprintf(stderr, "loader: %s\n%s\n", err, text);
	assert_int_equal(rc, 0);
	free(patched);
	json_decref(root);
	assert_int_equal(rmdir(dir), 0);
}

/*
 * One import of the fixture in @dir (config.json, settings.json if there is one) that must succeed
 * and load: the output as JSON, the loaded config in *@cfg (free() it), the notes in @n.
 */
static json_t *convert_text(const char *config, const char *settings, struct notes *n, struct gw_config **cfg)
{
	char *out = NULL, err[512] = "";
	json_t *root;
	int rc;

	memset(n, 0, sizeof(*n));
	rc = gw_import_twcmanager_text(config, settings, &out, note_cb, n, err, sizeof(err));
	if (rc)
		fprintf(stderr, "import: %s\n", err);
	assert_int_equal(rc, 0);
	assert_non_null(out);
	assert_true(strlen(out) > 2 && out[strlen(out) - 1] == '\n');
	*cfg = calloc(1, sizeof(**cfg));
	assert_non_null(*cfg);
	load_ok(out, *cfg);
	root = json_loads(out, 0, NULL);
	assert_non_null(root);
	free(out);
	return root;
}

static json_t *convert(const char *dir, struct notes *n, struct gw_config **cfg)
{
	char path[512];
	char *config, *settings;
	json_t *root;

	snprintf(path, sizeof(path), FIXTURES "%s/config.json", dir);
	config = slurp(path);
	assert_non_null(config);
	snprintf(path, sizeof(path), FIXTURES "%s/settings.json", dir);
	settings = slurp(path);
	root = convert_text(config, settings, n, cfg);
	free(config);
	free(settings);
	return root;
}

static const char *str_at(const json_t *root, const char *a, const char *b)
{
	return json_string_value(json_object_get(json_object_get(root, a), b));
}

static long long int_at(const json_t *root, const char *a, const char *b)
{
	const json_t *v = json_object_get(json_object_get(root, a), b);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

/* No secret of the fixtures (all spelled "...s3cret...") in any note. */
static void no_secret_in(const struct notes *n)
{
	assert_null(strstr(n->text, "s3cret"));
	assert_null(strstr(n->text, "mqttpass"));
	assert_null(strstr(n->text, "test123"));
}

/* TWCManager's example as shipped: 6 A wiring, a 12 A minimum it could never offer, no meter. */
static void test_shipped_defaults(void **state)
{
	struct gw_config *cfg;
	struct notes n;
	json_t *out = convert("shipped-defaults", &n, &cfg);

	(void)state;
	assert_string_equal(str_at(out, "twc", "port"), "/dev/ttyUSB0");
	assert_int_equal(int_at(out, "twc", "wiringMaxAmpsAllTWCs"), 6);
	assert_int_equal(int_at(out, "twc", "wiringMaxAmpsPerTWC"), 6);
	assert_int_equal(int_at(out, "twc", "minAmpsPerTWC"), 6);
	assert_non_null(note_of(&n, "changed", "config.minAmpsPerTWC"));
	assert_int_equal(int_at(out, "twc", "voltage"), 240);
	assert_string_equal(str_at(out, "policy", "mode"), "charge-now");
	assert_null(json_object_get(out, "ems"));
	assert_int_equal(cfg->twc.wiring_max_all, 6);
	assert_int_equal(cfg->policy.mode, EMS_POLICY_CHARGE_NOW);
	assert_non_null(note_of(&n, "skipped", "config.maxAmpsAllowedFromGrid"));
	assert_non_null(note_of(&n, "skipped", "policy.extend.emergency"));
	assert_non_null(note_of(&n, "skipped", "control.HTTP"));
	assert_non_null(note_of(&n, "skipped", "settings.json"));
	/* Disabled modules, the console, Sentry without a DSN, empty rule lists: nothing to say. */
	assert_null(strstr(n.text, "sources.Fronius"));
	assert_null(strstr(n.text, "logging."));
	assert_null(strstr(n.text, "policy.extend.before"));
	assert_null(strstr(n.text, "policy.override"));
	assert_null(strstr(n.text, "config.fakeMaster"));
	no_secret_in(&n);
	json_decref(out);
	free(cfg);
}

static void test_minimal_serial(void **state)
{
	struct gw_config *cfg;
	struct notes n;
	json_t *out = convert("minimal-serial", &n, &cfg);

	(void)state;
	assert_string_equal(cfg->twc.port, "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A10K5QZ3-if00-port0");
	assert_int_equal(cfg->twc.wiring_max_all, 32);
	assert_int_equal(cfg->twc.wiring_max_per_twc, 32);
	assert_int_equal(cfg->twc.min_amps, 6);
	assert_int_equal(cfg->twc.voltage, 230);
	assert_int_equal(cfg->twc.phases, 1);
	assert_int_equal(cfg->twc.master_id, 0x7777);
	assert_int_equal(cfg->ems.n, 0);
	assert_string_equal(str_at(out, "policy", "mode"), "charge-now");
	assert_null(json_object_get(out, "log")); /* logLevel 20 is twcgw's info */
	/* TWCManager's default Track Green Energy without a meter, and no settings.json: two notes. */
	assert_non_null(note_of(&n, "skipped", "sources"));
	assert_non_null(note_of(&n, "skipped", "settings.json"));
	assert_int_equal(n.n, 2);
	json_decref(out);
	free(cfg);
}

static void test_tcp_fronius_schedule(void **state)
{
	struct gw_config *cfg;
	struct notes n;
	json_t *out = convert("tcp-fronius-schedule", &n, &cfg);
	const json_t *win = json_array_get(json_object_get(json_object_get(out, "policy"), "schedule"), 0);

	(void)state;
	assert_string_equal(cfg->twc.port, "tcp://rs485-bridge.lan:8899");
	assert_int_equal(cfg->twc.wiring_max_all, 32);
	assert_int_equal(cfg->twc.wiring_max_per_twc, 16);
	assert_int_equal(cfg->twc.phases, 3);
	assert_int_equal(cfg->ems.n, 1);
	assert_int_equal(cfg->ems.m[0].type, EMS_METER_FRONIUS);
	assert_string_equal(cfg->ems.m[0].url, "http://192.168.1.50");
	/* The night tariff: Monday to Friday from 22:30 to 06:00 at 24 A. */
	assert_int_equal(cfg->policy.mode, EMS_POLICY_SCHEDULED);
	assert_int_equal(cfg->policy.n_windows, 1);
	assert_string_equal(json_string_value(json_object_get(win, "days")), "mon,tue,wed,thu,fri");
	assert_int_equal(cfg->policy.windows[0].days, 0x3e); /* twcgw: bit 0 is Sunday */
	assert_int_equal(cfg->policy.windows[0].start_min, 22 * 60 + 30);
	assert_int_equal(cfg->policy.windows[0].end_min, 6 * 60);
	assert_int_equal(cfg->policy.windows[0].amps, 24);
	assert_int_equal(cfg->policy.enable_delay, 90);
	assert_int_equal(cfg->policy.disable_delay, 90);
	assert_int_equal(cfg->policy.margin_w, 300);
	assert_true(cfg->policy.load_includes_chargers);
	assert_int_equal(cfg->log.level, GW_LOG_DEBUG);
	assert_non_null(note_of(&n, "skipped", "settings.nonScheduledAction"));
	assert_non_null(note_of(&n, "skipped", "control.HTTP"));
	assert_null(note_of(&n, "skipped", "settings.json"));
	assert_null(strstr(n.text, "Growatt")); /* disabled */
	if (loader_knows("mqtt.host")) {
		assert_string_equal(str_at(out, "mqtt", "host"), "broker.lan");
		assert_string_equal(str_at(out, "mqtt", "password"), "mqtt-s3cret-status");
	} else {
		assert_null(json_object_get(out, "mqtt"));
		assert_non_null(note_of(&n, "skipped", "status.MQTT"));
	}
	no_secret_in(&n);
	json_decref(out);
	free(cfg);
}

static void test_odd_modules(void **state)
{
	static const char *const skipped_keys[] = {
		"interface.Dummy", "interface.RS485.port", "interface.RS485.baud", "interface.RS485.slaveTimeout",
		"config.numberOfPhases", "sources.Growatt", "sources.SolarLog", "sources.openHAB", "sources.Enphase",
		"sources.SolarEdge", "sources.Powerwall2.password", "sources.HASS.hassEntityConsumption",
		"sources.MQTT.topicConsumption", "sources.Volkszahler", "settings.nonScheduledAmpsMax",
		"settings.consumptionOffset", "settings.hourResumeTrackGreenEnergy", "settings.chargeNowAmps",
		"settings.chargeAuthorizationMode", "config.greenEnergyFlexAmps", "config.useFlexAmpsToStartCharge",
		"config.minChargeLevel", "config.realPowerFactorMinAmps", "config.teslaApiClientID",
		"config.fakeMaster", "config.myOwnTweak", "status.HASS", "control.HTTP", "control.MQTT",
		"control.OCPP", "logging.MySQL", "logging.Sentry", "vehicle.TeslaMate", "pricing.aWATTar", "myStuff",
	};
	struct gw_config *cfg;
	struct notes n;
	json_t *out = convert("odd-modules", &n, &cfg);
	const json_t *ems = json_object_get(out, "ems");

	(void)state;
	/* Wiring above twcgw's ranges comes down, with a note; the minimum goes up to what TWCManager used. */
	assert_int_equal(cfg->twc.wiring_max_all, 240);
	assert_int_equal(cfg->twc.wiring_max_per_twc, 80);
	assert_int_equal(cfg->twc.min_amps, 6);
	assert_non_null(note_of(&n, "changed", "config.wiringMaxAmpsAllTWCs"));
	assert_non_null(note_of(&n, "changed", "config.wiringMaxAmpsPerTWC"));
	assert_non_null(note_of(&n, "changed", "config.minAmpsPerTWC"));
	assert_int_equal(cfg->twc.voltage, 240); /* "240", a string */
	assert_int_equal(cfg->twc.master_id, 0x0a51);
	/* RFC 2217 is not raw TCP: the port falls back, and says so. */
	assert_string_equal(cfg->twc.port, "/dev/ttyUSB0");
	assert_non_null(note_of(&n, "skipped", "interface"));
	/* Home Assistant (its bad consumption entity dropped) and MQTT (its wildcard topic dropped). */
	assert_int_equal(json_array_size(ems), 2);
	assert_int_equal(cfg->ems.m[0].type, EMS_METER_HASS);
	assert_string_equal(cfg->ems.m[0].url, "https://homeassistant.local:8123");
	assert_string_equal(cfg->ems.m[0].token, "eyJhbGciOiJIUzI1NiJ9.hass-s3cret-token.sig");
	assert_int_equal(cfg->ems.m[1].type, EMS_METER_MQTT);
	assert_int_equal(cfg->ems.m[1].port, 1884);
	assert_string_equal(cfg->ems.m[1].username, "ems");
	assert_string_equal(cfg->ems.m[1].password, "mqtt-s3cret-ems");
	assert_int_equal(cfg->policy.mode, EMS_POLICY_TRACK_GREEN);
	assert_false(cfg->policy.load_includes_chargers);
	assert_int_equal(cfg->log.level, GW_LOG_DEBUG);
	for (size_t i = 0; i < sizeof(skipped_keys) / sizeof(skipped_keys[0]); i++) {
		if (!note_of(&n, "skipped", skipped_keys[i]))
			fprintf(stderr, "no note for %s in:\n%s", skipped_keys[i], n.text);
		assert_non_null(note_of(&n, "skipped", skipped_keys[i]));
	}
	assert_null(strstr(n.text, "Kostal")); /* "enabled": 0 */
	assert_null(strstr(n.text, "logging.Console"));
	/* Secrets: in the config where twcgw uses them, never in a note, not at all where not carried. */
	no_secret_in(&n);
	{
		char *text = json_dumps(out, 0);

		assert_null(strstr(text, "growatt-s3cret"));
		assert_null(strstr(text, "mysql-s3cret"));
		free(text);
	}
	json_decref(out);
	free(cfg);
}

/* TWCManager's own reading: '#' comments outside strings, "//" lines, trailing commas, tabs, CRLF. */
static void test_lenient_json(void **state)
{
	const char *config =
		"\xef\xbb\xbf# a comment line\r\n"
		"{\r\n"
		"  // a comment line TWCManager also skips\r\n"
		"  \"config\": {\t\"wiringMaxAmpsAllTWCs\": 40, # 50 A breaker\r\n"
		"    \"wiringMaxAmpsPerTWC\": 40,\r\n"
		"    \"settingsPath\": \"/etc/twcmanager\", },\r\n"
		"  \"interface\": { \"RS485\": { \"port\": \"socket://10.1.2.3:4001\", }, },\r\n"
		"  \"sources\": { \"MQTT\": { \"enabled\": true, \"brokerIP\": \"10.1.2.4\", \"username\": \"u\",\r\n"
		"    \"password\": \"pa#ss//word,}\", \"topicGeneration\": \"solar/w\", },\r\n"
		"    \"HASS\": { \"enabled\": true, \"serverIP\": \"ha\", \"apiKey\": \"t0k\\\"en\",\r\n"
		"      \"hassEntityGeneration\": \"sensor.pv\" } },\r\n"
		"}\r\n";
	struct gw_config *cfg;
	struct notes n;
	json_t *out = convert_text(config, NULL, &n, &cfg);

	(void)state;
	assert_int_equal(cfg->twc.wiring_max_all, 40);
	assert_string_equal(cfg->twc.port, "tcp://10.1.2.3:4001");
	assert_int_equal(cfg->ems.n, 2);
	assert_string_equal(cfg->ems.m[0].password, "pa#ss//word,}");
	assert_string_equal(cfg->ems.m[1].url, "http://ha:8123");
	assert_string_equal(cfg->ems.m[1].token, "t0k\"en");
	json_decref(out);
	free(cfg);
}

static void test_refused(void **state)
{
	static const struct {
		const char *text;
		const char *want; /* in the message */
	} cases[] = {
		{ "", "not JSON" },
		{ "{ \"config\": { \"wiringMaxAmpsAllTWCs\": 32, ,} }", "config.json:1:" },
		{ "{ \"config\": {\n \"x\": \"tok3n-abc\n} }", "config.json:2:" },
		{ "config: {wiringMaxAmpsAllTWCs: 32}", "not JSON" },
		{ "[1, 2, 3]", "an array" },
		{ "\"config\"", "not an object" },
		{ "{ \"interface\": {} }", "no \"config\" section" },
		{ "{ \"config\": [] }", "no \"config\" section" },
		{ "{ \"dataDir\": \"/var/lib/twcgw\", \"twc\": {} }", "a twcgw config already" },
		{ "{ \"config\": { \"wiringMaxAmpsPerTWC\": 32 } }", "config.wiringMaxAmpsAllTWCs: missing" },
		{ "{ \"config\": { \"wiringMaxAmpsAllTWCs\": 4, \"wiringMaxAmpsPerTWC\": 4 } }",
		  "config.wiringMaxAmpsAllTWCs: 4 A is below 5 A" },
		{ "{ \"config\": { \"wiringMaxAmpsAllTWCs\": -32 } }", "config.wiringMaxAmpsAllTWCs" },
		{ "{ \"config\": { \"wiringMaxAmpsAllTWCs\": 32, \"wiringMaxAmpsPerTWC\": 0 } }",
		  "config.wiringMaxAmpsPerTWC: 0 A is below 5 A" },
		{ "{ \"config\": { \"wiringMaxAmpsAllTWCs\": \"lots\" } }",
		  "config.wiringMaxAmpsAllTWCs: must be a number of amps (got \"lots\")" },
		{ "{ \"config\": { \"wiringMaxAmpsAllTWCs\": null } }", "config.wiringMaxAmpsAllTWCs: missing" },
		{ "{ \"config\": { \"wiringMaxAmpsAllTWCs\": \"nan\" } }", "must be a number" },
		{ "{ \"config\": { \"wiringMaxAmpsAllTWCs\": 1e400 } }", "not JSON" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct notes n = { .used = 0 };
		char *out = (char *)1, err[512] = "";
		int rc = gw_import_twcmanager_text(cases[i].text, NULL, &out, note_cb, &n, err, sizeof(err));

		if (!strstr(err, cases[i].want))
			fprintf(stderr, "case %zu: %s\n", i, err);
		assert_int_equal(rc, -EINVAL);
		assert_null(out);
		assert_non_null(strstr(err, cases[i].want));
		assert_null(strstr(err, "tok3n"));
		assert_null(strchr(err, '\n'));
	}
	{
		size_t big = GW_IMPORT_FILE_MAX + 10;
		char *text = malloc(big + 1), *out = NULL, err[256];

		assert_non_null(text);
		memset(text, ' ', big);
		text[big] = '\0';
		assert_int_equal(gw_import_twcmanager_text(text, NULL, &out, NULL, NULL, err, sizeof(err)), -EFBIG);
		assert_null(out);
		free(text);
	}
}

/* Figures just inside, and fractions: rounded the safe way with a note, never raised. */
static void test_wiring_edges(void **state)
{
	struct gw_config *cfg;
	struct notes n;
	json_t *out = convert_text("{ \"config\": { \"wiringMaxAmpsAllTWCs\": 32.7, \"wiringMaxAmpsPerTWC\": 40, "
				   "\"minAmpsPerTWC\": 7.5, \"numberOfPhases\": \"3\", \"defaultVoltage\": 1000 } }",
				   NULL, &n, &cfg);

	(void)state;
	assert_int_equal(cfg->twc.wiring_max_all, 32);
	assert_int_equal(cfg->twc.wiring_max_per_twc, 32);
	assert_int_equal(cfg->twc.min_amps, 8);
	assert_int_equal(cfg->twc.phases, 3);
	assert_int_equal(cfg->twc.voltage, 230);
	assert_non_null(note_of(&n, "changed", "config.wiringMaxAmpsAllTWCs"));
	assert_non_null(note_of(&n, "changed", "config.wiringMaxAmpsPerTWC"));
	assert_non_null(note_of(&n, "changed", "config.minAmpsPerTWC"));
	assert_non_null(note_of(&n, "skipped", "config.defaultVoltage"));
	json_decref(out);
	free(cfg);

	/* 5 A on the circuit: the per-TWC default 6 A would be above it, and so would twcgw's minimum. */
	out = convert_text("{ \"config\": { \"wiringMaxAmpsAllTWCs\": 5 } }", NULL, &n, &cfg);
	assert_int_equal(cfg->twc.wiring_max_per_twc, 5);
	assert_int_equal(cfg->twc.min_amps, 5);
	assert_non_null(note_of(&n, "changed", "config.wiringMaxAmpsPerTWC"));
	json_decref(out);
	free(cfg);
}

static void test_schedules(void **state)
{
	static const char cfg32[] = "{ \"config\": { \"wiringMaxAmpsAllTWCs\": 32, \"wiringMaxAmpsPerTWC\": 32 } }";
	struct gw_config *cfg;
	struct notes n;
	json_t *out;

	(void)state;
	/* Monday and Sunday, 23 h to midnight, more amps than the wiring. */
	out = convert_text(cfg32, "{\"scheduledAmpsMax\": \"40\", \"scheduledAmpsStartHour\": 23, "
			   "\"scheduledAmpsEndHour\": 24, \"scheduledAmpsDaysBitmap\": 65}", &n, &cfg);
	assert_int_equal(cfg->policy.mode, EMS_POLICY_SCHEDULED);
	assert_int_equal(cfg->policy.windows[0].days, 0x03); /* Sunday and Monday */
	assert_int_equal(cfg->policy.windows[0].start_min, 23 * 60);
	assert_int_equal(cfg->policy.windows[0].end_min, 0);
	assert_int_equal(cfg->policy.windows[0].amps, 32);
	assert_non_null(note_of(&n, "changed", "settings.scheduledAmpsMax"));
	json_decref(out);
	free(cfg);

	/* A schedule that starts when it ends was never used; "do not charge" outside it is off. */
	out = convert_text(cfg32, "{\"scheduledAmpsMax\": 16, \"scheduledAmpsStartHour\": 7, "
			   "\"scheduledAmpsEndHour\": 7, \"nonScheduledAction\": 2}", &n, &cfg);
	assert_int_equal(cfg->policy.mode, EMS_POLICY_OFF);
	assert_int_equal(cfg->policy.n_windows, 0);
	assert_non_null(note_of(&n, "skipped", "settings.scheduledAmpsStartHour"));
	json_decref(out);
	free(cfg);

	/* Non Scheduled Charging at 10 A and no meter: an all-day window at 10 A. */
	out = convert_text(cfg32, "{\"nonScheduledAction\": \"1\", \"nonScheduledAmpsMax\": 10}", &n, &cfg);
	assert_int_equal(cfg->policy.mode, EMS_POLICY_SCHEDULED);
	assert_int_equal(cfg->policy.windows[0].days, 0x7f);
	assert_int_equal(cfg->policy.windows[0].start_min, 0);
	assert_int_equal(cfg->policy.windows[0].end_min, 0);
	assert_int_equal(cfg->policy.windows[0].amps, 10);
	json_decref(out);
	free(cfg);

	/* A settings.json that is not JSON costs the schedule, not the import. */
	out = convert_text(cfg32, "{\"scheduledAmpsMax\": 16,", &n, &cfg);
	assert_int_equal(cfg->policy.mode, EMS_POLICY_CHARGE_NOW);
	assert_non_null(note_of(&n, "skipped", "settings.json"));
	assert_non_null(strstr(note_of(&n, "skipped", "settings.json"), "not JSON"));
	json_decref(out);
	free(cfg);
}

static void test_meters(void **state)
{
	const char *config =
		"{ \"config\": { \"wiringMaxAmpsAllTWCs\": 32, \"wiringMaxAmpsPerTWC\": 32,\n"
		"    \"treatGenerationAsGridDelivery\": true },\n"
		"  \"sources\": {\n"
		"    \"Fronius\": { \"enabled\": true, \"serverIP\": [ \"10.0.0.1\", \"10.0.0.2\" ], \"serverPort\": 8080 },\n"
		"    \"Enphase\": { \"enabled\": true, \"serverIP\": \"envoy.local\", \"token\": \"jwt-s3cret\" },\n"
		"    \"SolarEdge\": { \"enabled\": true, \"inverterHost\": \"se.local\",\n"
		"      \"smartMeters\": [ { \"name\": \"Meter1\", \"type\": \"consumption\" },\n"
		"                        { \"name\": \"Meter2\", \"type\": \"export\" } ] },\n"
		"    \"HASS\": { \"enabled\": true, \"serverIP\": \"ha.local\", \"hassEntityGeneration\": \"sensor.pv\" },\n"
		"    \"MQTT\": { \"enabled\": true, \"brokerIP\": \"b\", \"topicGeneration\": \"pv\" } } }";
	struct gw_config *cfg;
	struct notes n;
	json_t *out = convert_text(config, NULL, &n, &cfg);

	(void)state;
	/* Two inverters, the Envoy with https for its token, the SolarEdge export meter: four, the most. */
	assert_int_equal(cfg->ems.n, 4);
	assert_string_equal(cfg->ems.m[0].url, "http://10.0.0.1:8080");
	assert_string_equal(cfg->ems.m[1].url, "http://10.0.0.2:8080");
	assert_int_equal(cfg->ems.m[2].type, EMS_METER_ENVOY);
	assert_string_equal(cfg->ems.m[2].url, "https://envoy.local");
	assert_string_equal(cfg->ems.m[2].token, "jwt-s3cret");
	assert_int_equal(cfg->ems.m[3].type, EMS_METER_SOLAREDGE);
	assert_string_equal(cfg->ems.m[3].host, "se.local");
	assert_int_equal(cfg->ems.m[3].port, 1502);
	assert_int_equal(cfg->ems.m[3].se_meter, 2);
	assert_non_null(note_of(&n, "changed", "sources.Fronius"));
	assert_non_null(note_of(&n, "changed", "sources.Enphase.serverPort"));
	assert_non_null(note_of(&n, "skipped", "sources.SolarEdge.smartMeters"));
	assert_non_null(note_of(&n, "skipped", "sources.HASS"));
	assert_non_null(note_of(&n, "skipped", "sources.MQTT"));
	no_secret_in(&n);
	json_decref(out);
	free(cfg);

	/* Without a token, firmware before 7: http, as TWCManager did. Generation as export is not pv. */
	out = convert_text("{ \"config\": { \"wiringMaxAmpsAllTWCs\": 16, \"wiringMaxAmpsPerTWC\": 16,\n"
			   "  \"treatGenerationAsGridDelivery\": true },\n"
			   "  \"sources\": { \"Envoy\": { \"enabled\": true, \"serverIP\": \"10.0.0.9\" },\n"
			   "    \"HomeAssistant\": { \"enabled\": true, \"serverIP\": \"ha\", \"apiKey\": \"k\",\n"
			   "      \"hassEntityConsumption\": \"sensor.load\", \"hassEntityGeneration\": \"sensor.export\" } } }",
			   NULL, &n, &cfg);
	assert_int_equal(cfg->ems.n, 2);
	assert_string_equal(cfg->ems.m[0].url, "http://10.0.0.9");
	assert_true(cfg->ems.m[1].src[EMS_LOAD].set);
	assert_false(cfg->ems.m[1].src[EMS_PV].set);
	assert_non_null(note_of(&n, "skipped", "sources.HomeAssistant.hassEntityGeneration"));
	json_decref(out);
	free(cfg);
}

/* The command: settings.json found next to the file, the notes on stderr, exit statuses. */
static void test_run(void **state)
{
	char dir[] = "/tmp/test_gw_import_run.XXXXXX", path[128], spath[128];
	char *outbuf = NULL, *errbuf = NULL;
	size_t outlen = 0, errlen = 0;
	FILE *out, *err, *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config.json", dir);
	snprintf(spath, sizeof(spath), "%s/settings.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{ \"config\": { \"wiringMaxAmpsAllTWCs\": 32, \"wiringMaxAmpsPerTWC\": 32, \"maxAmpsAllowedFromGrid\": 20 },\n"
	      "  \"logging\": { \"MySQL\": { \"enabled\": true, \"password\": \"mysql-s3cret\" } } }\n", f);
	fclose(f);
	f = fopen(spath, "w");
	assert_non_null(f);
	fputs("{\"scheduledAmpsMax\": 16, \"scheduledAmpsStartHour\": 1, \"scheduledAmpsEndHour\": 5}\n", f);
	fclose(f);

	out = open_memstream(&outbuf, &outlen);
	err = open_memstream(&errbuf, &errlen);
	assert_int_equal(gw_import_twcmanager_run(path, out, err), 0);
	fclose(out);
	fclose(err);
	assert_non_null(strstr(outbuf, "\"mode\": \"scheduled\""));
	assert_non_null(strstr(outbuf, "\"start\": \"01:00\""));
	assert_non_null(strstr(errbuf, "not carried over: config.maxAmpsAllowedFromGrid: "));
	assert_non_null(strstr(errbuf, "not carried over: logging.MySQL: "));
	assert_null(strstr(errbuf, "settings.json"));
	assert_null(strstr(errbuf, "s3cret"));
	for (const char *line = errbuf; *line; line = strchr(line, '\n') + 1)
		assert_true(strncmp(line, "not carried over: ", 18) == 0 || strncmp(line, "changed: ", 9) == 0);
	free(outbuf);
	free(errbuf);

	/* Not JSON: exit 2, one line naming the file and the line, nothing on stdout. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\n  \"config\": { \"wiringMaxAmpsAllTWCs\": 32 \n  \"x\": 1 }\n}\n", f);
	fclose(f);
	out = open_memstream(&outbuf, &outlen);
	err = open_memstream(&errbuf, &errlen);
	assert_int_equal(gw_import_twcmanager_run(path, out, err), 2);
	fclose(out);
	fclose(err);
	assert_int_equal(outlen, 0);
	assert_non_null(strstr(errbuf, "config.json:3:"));
	assert_non_null(strstr(errbuf, "not JSON"));
	free(outbuf);
	free(errbuf);

	assert_int_equal(unlink(path), 0);
	out = open_memstream(&outbuf, &outlen);
	err = open_memstream(&errbuf, &errlen);
	assert_int_equal(gw_import_twcmanager_run(path, out, err), 2);
	assert_int_equal(gw_import_twcmanager_run(dir, out, err), 2);
	fclose(out);
	fclose(err);
	assert_non_null(strstr(errbuf, "No such file or directory"));
	assert_non_null(strstr(errbuf, "Is a directory"));
	free(outbuf);
	free(errbuf);
	assert_int_equal(unlink(spath), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_defaults),
		cmocka_unit_test(test_minimal_serial),
		cmocka_unit_test(test_tcp_fronius_schedule),
		cmocka_unit_test(test_odd_modules),
		cmocka_unit_test(test_lenient_json),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_wiring_edges),
		cmocka_unit_test(test_schedules),
		cmocka_unit_test(test_meters),
		cmocka_unit_test(test_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
