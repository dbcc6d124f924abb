/*
 * Tests of the config loader: a full valid file, every default, one failing case per validation rule
 * (each must name the key), unknown keys at every depth, JSON syntax errors with their line, the
 * dataDir checks (created with mode 0750 when missing, refused when it is not a directory), and the
 * ocpp section: its keys, the rules between them, ocpp.keys checked against the OCPP key table, and
 * an authorization key that never appears in a message.
 */
#include <errno.h>
#include <ftw.h>
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

#include "gw_config.h"

#define ERR_LEN 512

/* A scratch directory per test run; dataDir values point inside it. */
static char tmp_root[64];

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmp_root, sizeof(tmp_root), "/tmp/test_gw_config.XXXXXX");
	return mkdtemp(tmp_root) ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int group_teardown(void **state)
{
	(void)state;
	return nftw(tmp_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Load `{"dataDir": "<tmp_root>/data", <rest>}`. */
static int load_with(const char *rest, struct gw_config *cfg, char *err)
{
	char text[2048];

	snprintf(text, sizeof(text), "{\"dataDir\": \"%s/data\"%s%s}", tmp_root, rest[0] ? ", " : "", rest);
	err[0] = '\0';
	return gw_config_from_json_text(text, "<test>", cfg, err, ERR_LEN);
}

#define TWC_OK "\"port\": \"/dev/ttyUSB0\", \"wiringMaxAmpsAllTWCs\": 40, \"wiringMaxAmpsPerTWC\": 32"
/* An ocpp section left open for more members. */
#define OCPP_OK "\"ocpp\": {\"url\": \"ws://cs.example:8180/steve/websocket/CentralSystemService\", \"chargeBoxId\": \"cp1\""

static void test_valid_full(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN];
	char text[1024];
	char dir[128];
	struct stat st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/full", tmp_root);
	snprintf(text, sizeof(text),
		 "{\"dataDir\": \"%s\",\n"
		 " \"twc\": {\"port\": \"tcp://192.168.1.50:502\", \"wiringMaxAmpsAllTWCs\": 64,\n"
		 "         \"wiringMaxAmpsPerTWC\": 40, \"minAmpsPerTWC\": 8, \"voltage\": 400, \"phases\": 3,\n"
		 "         \"masterId\": \"abCD\"},\n"
		 " \"policy\": {\"mode\": \"off\"},\n"
		 " \"log\": {\"level\": \"debug\", \"statusInterval\": 0}}",
		 dir);
	assert_int_equal(gw_config_from_json_text(text, "<test>", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.data_dir, dir);
	assert_string_equal(cfg.twc.port, "tcp://192.168.1.50:502");
	assert_int_equal(cfg.twc.wiring_max_all, 64);
	assert_int_equal(cfg.twc.wiring_max_per_twc, 40);
	assert_int_equal(cfg.twc.min_amps, 8);
	assert_int_equal(cfg.twc.voltage, 400);
	assert_int_equal(cfg.twc.phases, 3);
	assert_int_equal(cfg.twc.master_id, 0xABCD);
	assert_int_equal(cfg.policy.mode, GW_POLICY_OFF);
	assert_int_equal(cfg.log.level, GW_LOG_DEBUG);
	assert_int_equal(cfg.log.status_interval, 0);
	/* A missing dataDir is created, 0750. */
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777 & ~0750u, 0); /* never more than 0750, whatever the umask */
	assert_int_equal(st.st_mode & 0700, 0700);
}

static void test_defaults(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN];

	(void)state;
	assert_int_equal(load_with("\"twc\": {" TWC_OK "}", &cfg, err), 0);
	assert_string_equal(cfg.twc.port, "/dev/ttyUSB0");
	assert_int_equal(cfg.twc.wiring_max_all, 40);
	assert_int_equal(cfg.twc.wiring_max_per_twc, 32);
	assert_int_equal(cfg.twc.min_amps, 6);
	assert_int_equal(cfg.twc.voltage, 230);
	assert_int_equal(cfg.twc.phases, 1);
	assert_int_equal(cfg.twc.master_id, 0x7777);
	assert_int_equal(cfg.policy.mode, GW_POLICY_CHARGE_NOW);
	assert_int_equal(cfg.log.level, GW_LOG_INFO);
	assert_int_equal(cfg.log.status_interval, 10);
	/* Empty optional objects are fine too. */
	assert_int_equal(load_with("\"twc\": {" TWC_OK "}, \"policy\": {}, \"log\": {}", &cfg, err), 0);
	assert_int_equal(cfg.log.status_interval, 10);
}

static void test_edges_accepted(void **state)
{
	static const char *const ok[] = {
		"\"twc\": {\"port\": \"/dev/ttyUSB0\", \"wiringMaxAmpsAllTWCs\": 240, \"wiringMaxAmpsPerTWC\": 80}",
		"\"twc\": {\"port\": \"/dev/ttyUSB0\", \"wiringMaxAmpsAllTWCs\": 5, \"wiringMaxAmpsPerTWC\": 5, "
		"\"minAmpsPerTWC\": 5}",
		"\"twc\": {\"port\": \"tcp://bridge.local:1\", \"wiringMaxAmpsAllTWCs\": 40, \"wiringMaxAmpsPerTWC\": 32, "
		"\"voltage\": 100}",
		"\"twc\": {\"port\": \"tcp://[::1]:65535\", \"wiringMaxAmpsAllTWCs\": 40, \"wiringMaxAmpsPerTWC\": 32, "
		"\"voltage\": 480}",
		"\"twc\": {\"port\": \"/dev/serial/by-id/usb-FTDI_FT232R-if00-port0\", \"wiringMaxAmpsAllTWCs\": 40, "
		"\"wiringMaxAmpsPerTWC\": 32, \"masterId\": \"0001\"}",
		"\"twc\": {" TWC_OK ", \"masterId\": \"FFFE\"}, \"log\": {\"statusInterval\": 86400, \"level\": \"error\"}",
	};
	struct gw_config cfg;
	char err[ERR_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int rc = load_with(ok[i], &cfg, err);

		if (rc)
			fail_msg("case %zu refused: %s", i, err);
	}
}

struct bad_case {
	const char *rest;    /* JSON after "dataDir" */
	const char *key;     /* the key the message must name */
	const char *also;    /* another fragment the message must hold, or NULL */
};

static const struct bad_case bad_cases[] = {
	/* required keys */
	{ "", "twc.port", "required" },
	{ "\"twc\": {\"wiringMaxAmpsAllTWCs\": 40, \"wiringMaxAmpsPerTWC\": 32}", "twc.port", "required" },
	{ "\"twc\": {\"port\": \"/dev/ttyUSB0\", \"wiringMaxAmpsPerTWC\": 32}", "twc.wiringMaxAmpsAllTWCs", "required" },
	{ "\"twc\": {\"port\": \"/dev/ttyUSB0\", \"wiringMaxAmpsAllTWCs\": 40}", "twc.wiringMaxAmpsPerTWC", "required" },
	/* types */
	{ "\"twc\": 5", "twc", "must be an object (got 5)" },
	{ "\"twc\": {" TWC_OK "}, \"log\": []", "log", "must be an object (got an array)" },
	{ "\"twc\": {\"port\": 7, \"wiringMaxAmpsAllTWCs\": 40, \"wiringMaxAmpsPerTWC\": 32}", "twc.port",
	  "must be a string (got 7)" },
	{ "\"twc\": {\"port\": \"/dev/ttyUSB0\", \"wiringMaxAmpsAllTWCs\": \"40\", \"wiringMaxAmpsPerTWC\": 32}",
	  "twc.wiringMaxAmpsAllTWCs", "(got \"40\")" },
	{ "\"twc\": {\"port\": \"/dev/ttyUSB0\", \"wiringMaxAmpsAllTWCs\": 40.5, \"wiringMaxAmpsPerTWC\": 32}",
	  "twc.wiringMaxAmpsAllTWCs", "must be an integer" },
	{ "\"twc\": {\"port\": \"/dev/ttyUSB0\", \"wiringMaxAmpsAllTWCs\": true, \"wiringMaxAmpsPerTWC\": 32}",
	  "twc.wiringMaxAmpsAllTWCs", "(got true)" },
	{ "\"twc\": {" TWC_OK ", \"masterId\": 7777}", "twc.masterId", "must be a string" },
	{ "\"twc\": {" TWC_OK "}, \"policy\": {\"mode\": null}", "policy.mode", "(got null)" },
	/* integer ranges */
	{ "\"twc\": {\"port\": \"/dev/ttyUSB0\", \"wiringMaxAmpsAllTWCs\": 0, \"wiringMaxAmpsPerTWC\": 32}",
	  "twc.wiringMaxAmpsAllTWCs", "from 1 to 240 (got 0)" },
	{ "\"twc\": {\"port\": \"/dev/ttyUSB0\", \"wiringMaxAmpsAllTWCs\": 241, \"wiringMaxAmpsPerTWC\": 32}",
	  "twc.wiringMaxAmpsAllTWCs", "from 1 to 240 (got 241)" },
	{ "\"twc\": {\"port\": \"/dev/ttyUSB0\", \"wiringMaxAmpsAllTWCs\": 40, \"wiringMaxAmpsPerTWC\": 0}",
	  "twc.wiringMaxAmpsPerTWC", "from 1 to 80 (got 0)" },
	{ "\"twc\": {\"port\": \"/dev/ttyUSB0\", \"wiringMaxAmpsAllTWCs\": 40, \"wiringMaxAmpsPerTWC\": 32, "
	  "\"minAmpsPerTWC\": 4}", "twc.minAmpsPerTWC", "from 5 to 80 (got 4)" },
	{ "\"twc\": {" TWC_OK ", \"voltage\": 99}", "twc.voltage", "from 100 to 480 (got 99)" },
	{ "\"twc\": {" TWC_OK ", \"voltage\": 481}", "twc.voltage", "from 100 to 480 (got 481)" },
	{ "\"twc\": {" TWC_OK ", \"phases\": 2}", "twc.phases", "must be 1 or 3 (got 2)" },
	{ "\"twc\": {" TWC_OK ", \"phases\": 0}", "twc.phases", "must be 1 or 3 (got 0)" },
	{ "\"twc\": {" TWC_OK "}, \"log\": {\"statusInterval\": -1}", "log.statusInterval", "(got -1)" },
	/* ranges that depend on another key */
	{ "\"twc\": {\"port\": \"/dev/ttyUSB0\", \"wiringMaxAmpsAllTWCs\": 20, \"wiringMaxAmpsPerTWC\": 32}",
	  "twc.wiringMaxAmpsPerTWC", "from 1 to 20 (twc.wiringMaxAmpsAllTWCs) (got 32)" },
	{ "\"twc\": {\"port\": \"/dev/ttyUSB0\", \"wiringMaxAmpsAllTWCs\": 40, \"wiringMaxAmpsPerTWC\": 4, "
	  "\"minAmpsPerTWC\": 5}", "twc.wiringMaxAmpsPerTWC", "at least 5" },
	{ "\"twc\": {\"port\": \"/dev/ttyUSB0\", \"wiringMaxAmpsAllTWCs\": 40, \"wiringMaxAmpsPerTWC\": 10, "
	  "\"minAmpsPerTWC\": 12}", "twc.minAmpsPerTWC", "from 5 to 10 (twc.wiringMaxAmpsPerTWC) (got 12)" },
	{ "\"twc\": {\"port\": \"/dev/ttyUSB0\", \"wiringMaxAmpsAllTWCs\": 40, \"wiringMaxAmpsPerTWC\": 5}",
	  "twc.minAmpsPerTWC", "(got 6, the default)" },
	/* port syntax */
	{ "\"twc\": {\"port\": \"ttyUSB0\", \"wiringMaxAmpsAllTWCs\": 40, \"wiringMaxAmpsPerTWC\": 32}", "twc.port",
	  "(got \"ttyUSB0\")" },
	{ "\"twc\": {\"port\": \"\", \"wiringMaxAmpsAllTWCs\": 40, \"wiringMaxAmpsPerTWC\": 32}", "twc.port", NULL },
	{ "\"twc\": {\"port\": \"tcp://bridge:0\", \"wiringMaxAmpsAllTWCs\": 40, \"wiringMaxAmpsPerTWC\": 32}",
	  "twc.port", "1 to 65535" },
	{ "\"twc\": {\"port\": \"tcp://bridge:65536\", \"wiringMaxAmpsAllTWCs\": 40, \"wiringMaxAmpsPerTWC\": 32}",
	  "twc.port", "1 to 65535" },
	{ "\"twc\": {\"port\": \"tcp://bridge\", \"wiringMaxAmpsAllTWCs\": 40, \"wiringMaxAmpsPerTWC\": 32}",
	  "twc.port", NULL },
	{ "\"twc\": {\"port\": \"tcp://:502\", \"wiringMaxAmpsAllTWCs\": 40, \"wiringMaxAmpsPerTWC\": 32}",
	  "twc.port", NULL },
	{ "\"twc\": {\"port\": \"tcp://bri dge:502\", \"wiringMaxAmpsAllTWCs\": 40, \"wiringMaxAmpsPerTWC\": 32}",
	  "twc.port", NULL },
	{ "\"twc\": {\"port\": \"tcp://bridge:5x2\", \"wiringMaxAmpsAllTWCs\": 40, \"wiringMaxAmpsPerTWC\": 32}",
	  "twc.port", NULL },
	/* masterId */
	{ "\"twc\": {" TWC_OK ", \"masterId\": \"zz\"}", "twc.masterId", "4 hex digits" },
	{ "\"twc\": {" TWC_OK ", \"masterId\": \"777\"}", "twc.masterId", "4 hex digits" },
	{ "\"twc\": {" TWC_OK ", \"masterId\": \"77777\"}", "twc.masterId", "4 hex digits" },
	{ "\"twc\": {" TWC_OK ", \"masterId\": \"0000\"}", "twc.masterId", "other than 0000 and FFFF" },
	{ "\"twc\": {" TWC_OK ", \"masterId\": \"ffff\"}", "twc.masterId", "other than 0000 and FFFF" },
	/* choices */
	{ "\"twc\": {" TWC_OK "}, \"policy\": {\"mode\": \"slow\"}", "policy.mode", "\"charge-now\", \"off\"" },
	{ "\"twc\": {" TWC_OK "}, \"log\": {\"level\": \"verbose\"}", "log.level", "\"debug\"" },
	/* dataDir */
	{ "\"dataDir\": 5", "dataDir", NULL }, /* a duplicate key: refused by the parser */
	/* unknown keys at every depth */
	{ "\"twc\": {" TWC_OK "}, \"datadir\": \"/tmp\"", "datadir", "unknown key" },
	{ "\"twc\": {" TWC_OK ", \"wiringMaxAmps\": 3}", "twc.wiringMaxAmps", "unknown key" },
	{ "\"twc\": {" TWC_OK "}, \"policy\": {\"mode\": \"off\", \"limit\": 3}", "policy.limit", "unknown key" },
	{ "\"twc\": {" TWC_OK "}, \"log\": {\"lvl\": \"info\"}", "log.lvl", "unknown key" },
	{ "\"twc\": {" TWC_OK "}, \"ocpp\": {\"url\": \"ws://cs\", \"chargeBoxId\": \"cp1\", \"id\": 1}", "ocpp.id",
	  "unknown key" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"idTag\": {\"src\": \"vin\"}}", "ocpp.idTag.src", "unknown key" },
	/* ocpp: required keys */
	{ "\"twc\": {" TWC_OK "}, \"ocpp\": {}", "ocpp.url", "required" },
	{ "\"twc\": {" TWC_OK "}, \"ocpp\": {\"url\": \"ws://cs\"}", "ocpp.chargeBoxId", "required" },
	{ "\"twc\": {" TWC_OK "}, \"ocpp\": {\"chargeBoxId\": \"cp1\"}", "ocpp.url", "required" },
	{ "\"twc\": {" TWC_OK "}, \"ocpp\": 1", "ocpp", "must be an object" },
	/* ocpp.url */
	{ "\"twc\": {" TWC_OK "}, \"ocpp\": {\"url\": \"http://cs/ocpp\", \"chargeBoxId\": \"cp1\"}", "ocpp.url",
	  "ws://host" },
	{ "\"twc\": {" TWC_OK "}, \"ocpp\": {\"url\": \"ws://cs:0/ocpp\", \"chargeBoxId\": \"cp1\"}", "ocpp.url", NULL },
	{ "\"twc\": {" TWC_OK "}, \"ocpp\": {\"url\": \"ws://cs:65536\", \"chargeBoxId\": \"cp1\"}", "ocpp.url", NULL },
	{ "\"twc\": {" TWC_OK "}, \"ocpp\": {\"url\": \"ws://u:p@cs/\", \"chargeBoxId\": \"cp1\"}", "ocpp.url", NULL },
	{ "\"twc\": {" TWC_OK "}, \"ocpp\": {\"url\": \"ws://cs/a?b=1\", \"chargeBoxId\": \"cp1\"}", "ocpp.url", NULL },
	{ "\"twc\": {" TWC_OK "}, \"ocpp\": {\"url\": \"ws://cs/a b\", \"chargeBoxId\": \"cp1\"}", "ocpp.url", NULL },
	{ "\"twc\": {" TWC_OK "}, \"ocpp\": {\"url\": \"ws:///ocpp\", \"chargeBoxId\": \"cp1\"}", "ocpp.url", NULL },
	{ "\"twc\": {" TWC_OK "}, \"ocpp\": {\"url\": \"wss://[::1/x\", \"chargeBoxId\": \"cp1\"}", "ocpp.url", NULL },
	{ "\"twc\": {" TWC_OK "}, \"ocpp\": {\"url\": 5, \"chargeBoxId\": \"cp1\"}", "ocpp.url", "must be a string" },
	/* ocpp.chargeBoxId */
	{ "\"twc\": {" TWC_OK "}, \"ocpp\": {\"url\": \"ws://cs\", \"chargeBoxId\": \"a/b\"}", "ocpp.chargeBoxId", "'/'" },
	{ "\"twc\": {" TWC_OK "}, \"ocpp\": {\"url\": \"ws://cs\", \"chargeBoxId\": \"a b\"}", "ocpp.chargeBoxId", NULL },
	{ "\"twc\": {" TWC_OK "}, \"ocpp\": {\"url\": \"ws://cs\", \"chargeBoxId\": \"\"}", "ocpp.chargeBoxId", NULL },
	{ "\"twc\": {" TWC_OK "}, \"ocpp\": {\"url\": \"ws://cs\", \"chargeBoxId\": "
	  "\"0123456789012345678901234567890123456789012345678\"}", "ocpp.chargeBoxId", "1 to 48" },
	/* ocpp.securityProfile and the keys it needs */
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"securityProfile\": 3}", "ocpp.securityProfile", "from 0 to 2 (got 3)" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"securityProfile\": \"1\"}", "ocpp.securityProfile", NULL },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"securityProfile\": 2, \"authorizationKey\": \"0123456789abcdef\"}",
	  "ocpp.securityProfile", "wss:// ocpp.url" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"securityProfile\": 1}", "ocpp.authorizationKey", "required" },
	{ "\"twc\": {" TWC_OK "}, \"ocpp\": {\"url\": \"wss://cs\", \"chargeBoxId\": \"cp1\", \"securityProfile\": 2}",
	  "ocpp.authorizationKey", "required" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"authorizationKey\": \"0123456789abcde\"}", "ocpp.authorizationKey",
	  "16 to 40" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"authorizationKey\": \"0123456789abcdef0123456789abcdef012345678\"}",
	  "ocpp.authorizationKey", "16 to 40" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"authorizationKey\": 1234567890123456789}", "ocpp.authorizationKey",
	  "(got a number)" },
	{ "\"twc\": {" TWC_OK "}, \"ocpp\": {\"url\": \"ws://cs\", \"chargeBoxId\": \"cp:1\", \"securityProfile\": 1, "
	  "\"authorizationKey\": \"0123456789abcdef\"}", "ocpp.chargeBoxId", "':'" },
	/* ocpp.caFile */
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"caFile\": \"/nonexistent/ca.pem\"}", "ocpp.caFile", "readable" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"caFile\": \"ca.pem\"}", "ocpp.caFile", "absolute" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"caFile\": \"/tmp\"}", "ocpp.caFile", "regular file" },
	/* ocpp.idTag */
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"idTag\": {\"source\": \"rfid\"}}", "ocpp.idTag.source",
	  "\"remote\", \"vin\", \"fixed\"" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"idTag\": {\"source\": \"fixed\"}}", "ocpp.idTag.fixed", "required" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"idTag\": {\"source\": \"fixed\", \"fixed\": \"012345678901234567890\"}}",
	  "ocpp.idTag.fixed", "1 to 20" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"idTag\": {\"source\": \"fixed\", \"fixed\": \"A B\"}}",
	  "ocpp.idTag.fixed", NULL },
	/* ocpp.keys */
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"keys\": []}", "ocpp.keys", "must be an object" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"keys\": {\"NoSuchKey\": 1}}", "ocpp.keys.NoSuchKey",
	  "not a configuration key" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"keys\": {\"HeartbeatInterval\": -5}}", "ocpp.keys.HeartbeatInterval",
	  "from 0 to 86400 (got -5)" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"keys\": {\"HeartbeatInterval\": \"often\"}}",
	  "ocpp.keys.HeartbeatInterval", "(got \"often\")" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"keys\": {\"HeartbeatInterval\": [60]}}", "ocpp.keys.HeartbeatInterval",
	  "a string, an integer or a boolean" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"keys\": {\"HeartbeatInterval\": 60.5}}", "ocpp.keys.HeartbeatInterval",
	  NULL },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"keys\": {\"LocalPreAuthorize\": \"maybe\"}}",
	  "ocpp.keys.LocalPreAuthorize", "true or false" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"keys\": {\"MeterValuesSampledData\": \"Temperature\"}}",
	  "ocpp.keys.MeterValuesSampledData", "comma-separated" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"keys\": {\"NumberOfConnectors\": 2}}", "ocpp.keys.NumberOfConnectors",
	  "read-only" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"keys\": {\"AuthorizationKey\": \"0123456789abcdef\"}}",
	  "ocpp.keys.AuthorizationKey", "ocpp.authorizationKey" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"keys\": {\"SecurityProfile\": 1}}", "ocpp.keys.SecurityProfile",
	  "ocpp.securityProfile" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"keys\": {\"HeartbeatInterval\": 60, \"heartbeatinterval\": 90}}",
	  "ocpp.keys.heartbeatinterval", "given twice" },
	/* other ocpp keys */
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"callTimeout\": 0}", "ocpp.callTimeout", "from 1 to 300 (got 0)" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"callTimeout\": 301}", "ocpp.callTimeout", "from 1 to 300" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"vendor\": \"012345678901234567890\"}", "ocpp.vendor", "at most 20" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"model\": \"\"}", "ocpp.model", "empty" },
};

static void test_bad_cases_name_the_key(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		int rc = load_with(c->rest, &cfg, err);

		if (rc == 0)
			fail_msg("case %zu (%s) accepted", i, c->key);
		assert_int_equal(rc, -EINVAL);
		if (strncmp(err, "config: ", 8) != 0)
			fail_msg("case %zu: message does not start with \"config: \": %s", i, err);
		if (!strstr(err, c->key))
			fail_msg("case %zu: message does not name %s: %s", i, c->key, err);
		if (c->also && !strstr(err, c->also))
			fail_msg("case %zu: message lacks \"%s\": %s", i, c->also, err);
		if (strchr(err, '\n'))
			fail_msg("case %zu: message is not one line: %s", i, err);
	}
}

static void test_message_exact(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN];

	(void)state;
	assert_int_equal(load_with("\"twc\": {\"port\": \"/dev/ttyUSB0\", \"wiringMaxAmpsAllTWCs\": 240, "
				   "\"wiringMaxAmpsPerTWC\": 120}", &cfg, err),
			 -EINVAL);
	assert_string_equal(err, "config: twc.wiringMaxAmpsPerTWC: must be an integer from 1 to 80 (got 120)");
	assert_int_equal(load_with("\"twc\": {" TWC_OK ", \"wiringMaxAmps\": 3}", &cfg, err), -EINVAL);
	assert_string_equal(err, "config: twc.wiringMaxAmps: unknown key");
}

static void test_top_level_not_object(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN];

	(void)state;
	assert_int_equal(gw_config_from_json_text("[1, 2]", "<test>", &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "top level"));
}

static void test_syntax_error_line(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN];

	(void)state;
	assert_int_equal(gw_config_from_json_text("{\n \"dataDir\": \"/tmp\",\n \"twc\": {,}\n}", "cfg.json", &cfg, err,
						  sizeof(err)),
			 -EINVAL);
	if (strncmp(err, "config: cfg.json:3:", 19) != 0)
		fail_msg("no file:line:column: %s", err);
	/* Trailing garbage and an unterminated string, on line 2. */
	assert_int_equal(gw_config_from_json_text("{}\n}", "x.json", &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "x.json:2:"));
	assert_int_equal(gw_config_from_json_text("{\n\"dataDir\": \"abc", "x.json", &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "x.json:2:"));
	/* A NUL inside a string never reaches the key checks. */
	assert_int_equal(gw_config_from_json_text("{\"dataDir\": \"/tmp\\u0000x\"}", "x.json", &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "x.json:1:"));
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_load_file(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN];
	char path[128];
	char text[512];

	(void)state;
	snprintf(path, sizeof(path), "%s/twcgw.json", tmp_root);
	snprintf(text, sizeof(text), "{\"dataDir\": \"%s/data\", \"twc\": {" TWC_OK "}}\n", tmp_root);
	write_file(path, text);
	assert_int_equal(gw_config_load(path, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.twc.wiring_max_all, 40);

	/* The syntax error names the file and the line. */
	write_file(path, "{\n  \"dataDir\": \"/tmp\",\n  \"twc\": {\"port\": }\n}\n");
	assert_int_equal(gw_config_load(path, &cfg, err, sizeof(err)), -EINVAL);
	snprintf(text, sizeof(text), "config: %s:3:", path);
	if (strncmp(err, text, strlen(text)) != 0)
		fail_msg("expected \"%s...\", got: %s", text, err);

	/* A missing file reports errno. */
	snprintf(path, sizeof(path), "%s/nope.json", tmp_root);
	assert_int_equal(gw_config_load(path, &cfg, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "nope.json"));
}

static void test_failure_leaves_output_alone(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN];

	(void)state;
	memset(&cfg, 0xA5, sizeof(cfg));
	assert_int_equal(load_with("\"twc\": {" TWC_OK ", \"voltage\": 1}", &cfg, err), -EINVAL);
	for (size_t i = 0; i < sizeof(cfg); i++)
		assert_int_equal(((unsigned char *)&cfg)[i], 0xA5);
}

static void test_data_dir_not_a_directory(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN];
	char file[128];
	char text[512];

	(void)state;
	snprintf(file, sizeof(file), "%s/plainfile", tmp_root);
	write_file(file, "x");
	snprintf(text, sizeof(text), "{\"dataDir\": \"%s\", \"twc\": {" TWC_OK "}}", file);
	assert_int_equal(gw_config_from_json_text(text, "<test>", &cfg, err, sizeof(err)), -ENOTDIR);
	assert_non_null(strstr(err, "config: dataDir:"));
	assert_non_null(strstr(err, "directory"));

	/* Below a plain file nothing can be created. */
	snprintf(text, sizeof(text), "{\"dataDir\": \"%s/sub\", \"twc\": {" TWC_OK "}}", file);
	assert_true(gw_config_from_json_text(text, "<test>", &cfg, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "config: dataDir:"));

	/* Not a string. */
	assert_int_equal(gw_config_from_json_text("{\"dataDir\": 5, \"twc\": {" TWC_OK "}}", "<test>", &cfg, err,
						  sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "config: dataDir: must be a string (got 5)");

	/* An empty path. */
	assert_int_equal(gw_config_from_json_text("{\"dataDir\": \"\", \"twc\": {" TWC_OK "}}", "<test>", &cfg, err,
						  sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "config: dataDir:"));
}

static void test_data_dir_created_deep(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN];
	char dir[128];
	char text[512];
	struct stat st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/a/b/c/", tmp_root);
	snprintf(text, sizeof(text), "{\"dataDir\": \"%s\", \"twc\": {" TWC_OK "}}", dir);
	assert_int_equal(gw_config_from_json_text(text, "<test>", &cfg, err, sizeof(err)), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* An invalid config creates nothing. */
	snprintf(dir, sizeof(dir), "%s/never", tmp_root);
	snprintf(text, sizeof(text), "{\"dataDir\": \"%s\", \"twc\": {" TWC_OK ", \"phases\": 2}}", dir);
	assert_int_equal(gw_config_from_json_text(text, "<test>", &cfg, err, sizeof(err)), -EINVAL);
	assert_int_not_equal(stat(dir, &st), 0);
}

static void test_data_dir_not_writable(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN];
	char dir[128];
	char text[512];

	(void)state;
	if (geteuid() == 0)
		skip(); /* root may write anywhere */
	snprintf(dir, sizeof(dir), "%s/ro", tmp_root);
	assert_int_equal(mkdir(dir, 0500), 0);
	snprintf(text, sizeof(text), "{\"dataDir\": \"%s\", \"twc\": {" TWC_OK "}}", dir);
	assert_int_equal(gw_config_from_json_text(text, "<test>", &cfg, err, sizeof(err)), -EACCES);
	assert_non_null(strstr(err, "config: dataDir:"));
	assert_non_null(strstr(err, "writable"));
	chmod(dir, 0700);
}

static void test_tcp_split(void **state)
{
	char host[64];
	int port;

	(void)state;
	assert_int_equal(gw_config_tcp_split("tcp://bridge.local:4001", host, sizeof(host), &port), 0);
	assert_string_equal(host, "bridge.local");
	assert_int_equal(port, 4001);
	assert_int_equal(gw_config_tcp_split("tcp://[fe80::1]:502", host, sizeof(host), &port), 0);
	assert_string_equal(host, "fe80::1");
	assert_int_equal(port, 502);
	assert_int_equal(gw_config_tcp_split("tcp://10.0.0.7:65535", host, sizeof(host), &port), 0);
	assert_string_equal(host, "10.0.0.7");
	assert_int_equal(gw_config_tcp_split("udp://x:1", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(gw_config_tcp_split("tcp://[::1]502", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(gw_config_tcp_split("tcp://x:-1", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(gw_config_tcp_split("tcp://x:", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(gw_config_tcp_split("tcp://averyveryverylonghost:1", host, 8, &port), -ENAMETOOLONG);
}

static void test_ocpp_full(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN];
	char ca[128];
	char rest[1536];

	(void)state;
	snprintf(ca, sizeof(ca), "%s/ca.pem", tmp_root);
	write_file(ca, "not checked here\n");
	snprintf(rest, sizeof(rest),
		 "\"twc\": {" TWC_OK "}, \"ocpp\": {\"url\": \"wss://cs.example/ocpp/\", \"chargeBoxId\": \"TWC#1\","
		 " \"securityProfile\": 2, \"authorizationKey\": \"0123456789abcdefXYZ!\", \"caFile\": \"%s\","
		 " \"idTag\": {\"source\": \"fixed\", \"fixed\": \"HOME-1\"},"
		 " \"keys\": {\"heartbeatInterval\": 900, \"LocalPreAuthorize\": true, \"MeterValuesSampledData\":"
		 " \"Energy.Active.Import.Register, Current.Import\", \"WebSocketPingInterval\": \"30\"},"
		 " \"vendor\": \"ACME\", \"model\": \"Garage\", \"callTimeout\": 300}",
		 ca);
	if (load_with(rest, &cfg, err) != 0)
		fail_msg("refused: %s", err);
	assert_true(cfg.ocpp.enabled);
	assert_string_equal(cfg.ocpp.url, "wss://cs.example/ocpp/");
	assert_string_equal(cfg.ocpp.charge_box_id, "TWC#1");
	assert_int_equal(cfg.ocpp.security_profile, 2);
	assert_string_equal(cfg.ocpp.authorization_key, "0123456789abcdefXYZ!");
	assert_string_equal(cfg.ocpp.ca_file, ca);
	assert_int_equal(cfg.ocpp.id_tag_source, OCPP_IDTAG_FIXED);
	assert_string_equal(cfg.ocpp.id_tag_fixed, "HOME-1");
	assert_string_equal(cfg.ocpp.vendor, "ACME");
	assert_string_equal(cfg.ocpp.model, "Garage");
	assert_int_equal(cfg.ocpp.call_timeout, 300);
	/* Names as the key table spells them; values as ChangeConfiguration would carry them. */
	assert_int_equal(cfg.ocpp.n_keys, 4);
	assert_string_equal(cfg.ocpp.keys[0].name, "HeartbeatInterval");
	assert_string_equal(cfg.ocpp.keys[0].value, "900");
	assert_string_equal(cfg.ocpp.keys[1].name, "LocalPreAuthorize");
	assert_string_equal(cfg.ocpp.keys[1].value, "true");
	assert_string_equal(cfg.ocpp.keys[2].name, "MeterValuesSampledData");
	assert_string_equal(cfg.ocpp.keys[2].value, "Energy.Active.Import.Register, Current.Import");
	assert_string_equal(cfg.ocpp.keys[3].name, "WebSocketPingInterval");
	assert_string_equal(cfg.ocpp.keys[3].value, "30");
}

static void test_ocpp_defaults(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN];

	(void)state;
	assert_int_equal(load_with("\"twc\": {" TWC_OK "}", &cfg, err), 0);
	assert_false(cfg.ocpp.enabled);
	assert_int_equal(load_with("\"twc\": {" TWC_OK "}, " OCPP_OK "}", &cfg, err), 0);
	assert_true(cfg.ocpp.enabled);
	assert_int_equal(cfg.ocpp.security_profile, 0);
	assert_string_equal(cfg.ocpp.authorization_key, "");
	assert_string_equal(cfg.ocpp.ca_file, "");
	assert_int_equal(cfg.ocpp.id_tag_source, OCPP_IDTAG_REMOTE);
	assert_string_equal(cfg.ocpp.vendor, "twcgw");
	assert_string_equal(cfg.ocpp.model, "TWC-Gen2-Gateway");
	assert_int_equal(cfg.ocpp.call_timeout, 30);
	assert_int_equal(cfg.ocpp.n_keys, 0);
	/* Profile 1 over ws:// with a key, and the vin source, are fine. */
	assert_int_equal(load_with("\"twc\": {" TWC_OK "}, " OCPP_OK ", \"securityProfile\": 1, "
				   "\"authorizationKey\": \"0123456789abcdef0123456789abcdef01234567\", "
				   "\"idTag\": {\"source\": \"vin\"}, \"keys\": {}}", &cfg, err),
			 0);
	assert_int_equal(cfg.ocpp.security_profile, 1);
	assert_int_equal(cfg.ocpp.id_tag_source, OCPP_IDTAG_VIN);
}

/* Whatever is wrong with it, the authorization key itself never reaches a message. */
static void test_ocpp_key_never_echoed(void **state)
{
	static const char *const cases[] = {
		"\"authorizationKey\": \"SECRETsecret:SECRET\"",          /* a ':' */
		"\"authorizationKey\": \"SECRETsecret\"",                 /* too short */
		"\"authorizationKey\": \"SECRETsecret\\u0001SECRETsecret\"", /* a control character */
		"\"securityProfile\": 2, \"authorizationKey\": \"SECRETsecretSECRET\"", /* ws:// */
	};
	struct gw_config cfg;
	char err[ERR_LEN];
	char rest[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(rest, sizeof(rest), "\"twc\": {" TWC_OK "}, " OCPP_OK ", %s}", cases[i]);
		assert_int_equal(load_with(rest, &cfg, err), -EINVAL);
		if (strstr(err, "SECRET") || strstr(err, "secret"))
			fail_msg("case %zu echoes the key: %s", i, err);
	}
}

#define TESLA_OK "\"clientId\": \"app-1\", \"refreshToken\": \"RT-SECRET\""

static void test_tesla_section(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN];

	(void)state;
	assert_int_equal(load_with("\"twc\": {" TWC_OK "}", &cfg, err), 0);
	assert_false(cfg.tesla.enabled);
	assert_int_equal(load_with("\"twc\": {" TWC_OK "}, \"tesla\": {" TESLA_OK "}", &cfg, err), 0);
	assert_true(cfg.tesla.enabled);
	assert_string_equal(cfg.tesla.base_url, "https://localhost:4443");
	assert_string_equal(cfg.tesla.token_url, "https://fleet-auth.prd.vn.cloud.tesla.com/oauth2/v3/token");
	assert_string_equal(cfg.tesla.refresh_token, "RT-SECRET");
	assert_int_equal(cfg.tesla.daily_budget, 200);
	assert_int_equal(cfg.tesla.dwell, 60);
	assert_int_equal(cfg.tesla.start_grace, 30);
	assert_false(cfg.tesla.has_home);
	assert_false(cfg.twc.stop_commands);
	assert_int_equal(load_with("\"twc\": {" TWC_OK ", \"stopCommands\": true}", &cfg, err), 0);
	assert_true(cfg.twc.stop_commands);
	assert_int_equal(load_with("\"twc\": {" TWC_OK ", \"stopCommands\": 1}", &cfg, err), -EINVAL);
	assert_non_null(strstr(err, "twc.stopCommands: must be true or false (got 1)"));
	assert_int_equal(load_with("\"twc\": {" TWC_OK "}, \"tesla\": {" TESLA_OK ", \"baseUrl\": \"http://127.0.0.1:9\", "
				   "\"home\": {\"latitude\": 52.37, \"longitude\": 4, \"radius\": 150}, \"carAmps\": 32}",
				   &cfg, err),
			 0);
	assert_true(cfg.tesla.has_home);
	assert_true(cfg.tesla.home_lat > 52.36 && cfg.tesla.home_lat < 52.38);
	assert_true(cfg.tesla.home_lon == 4.0);
	assert_int_equal(cfg.tesla.home_radius, 150);
	assert_int_equal(cfg.tesla.car_amps, 32);
}

static void test_tesla_errors(void **state)
{
	static const struct {
		const char *rest, *key;
	} cases[] = {
		{ "\"tesla\": {\"refreshToken\": \"RT-SECRET\"}", "tesla.clientId" },
		{ "\"tesla\": {\"clientId\": \"a\"}", "tesla.refreshToken" },
		{ "\"tesla\": {" TESLA_OK ", \"baseUrl\": \"ftp://x\"}", "tesla.baseUrl" },
		{ "\"tesla\": {" TESLA_OK ", \"tokenUrl\": \"https://\"}", "tesla.tokenUrl" },
		{ "\"tesla\": {" TESLA_OK ", \"home\": {\"latitude\": 52}}", "tesla.home.longitude" },
		{ "\"tesla\": {" TESLA_OK ", \"home\": {\"latitude\": 91, \"longitude\": 4}}", "tesla.home.latitude" },
		{ "\"tesla\": {" TESLA_OK ", \"home\": {\"latitude\": \"n\", \"longitude\": 4}}", "tesla.home.latitude" },
		{ "\"tesla\": {" TESLA_OK ", \"dailyBudget\": 0}", "tesla.dailyBudget" },
		{ "\"tesla\": {" TESLA_OK ", \"dwell\": 5}", "tesla.dwell" },
		{ "\"tesla\": {" TESLA_OK ", \"caFile\": \"relative.pem\"}", "tesla.caFile" },
		{ "\"tesla\": {" TESLA_OK ", \"acessToken\": \"x\"}", "tesla.acessToken" },
		{ "\"tesla\": {\"clientId\": \"a\", \"refreshToken\": 12345}", "tesla.refreshToken" },
	};
	struct gw_config cfg;
	char err[ERR_LEN], rest[512];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(rest, sizeof(rest), "\"twc\": {" TWC_OK "}, %s", cases[i].rest);
		assert_int_equal(load_with(rest, &cfg, err), -EINVAL);
		if (!strstr(err, cases[i].key))
			fail_msg("case %zu: message does not name %s: %s", i, cases[i].key, err);
		if (strstr(err, "SECRET") || strstr(err, "12345"))
			fail_msg("case %zu echoes a token: %s", i, err);
	}
}

static void test_url_split(void **state)
{
	struct gw_config_url u;

	(void)state;
	assert_int_equal(gw_config_url_split("ws://cs.example:8180/steve/websocket/CentralSystemService/", &u), 0);
	assert_false(u.tls);
	assert_string_equal(u.host, "cs.example");
	assert_int_equal(u.port, 8180);
	assert_string_equal(u.path, "/steve/websocket/CentralSystemService");
	assert_int_equal(gw_config_url_split("wss://cs.example", &u), 0);
	assert_true(u.tls);
	assert_int_equal(u.port, 443);
	assert_string_equal(u.path, "");
	assert_int_equal(gw_config_url_split("ws://10.0.0.2/", &u), 0);
	assert_int_equal(u.port, 80);
	assert_string_equal(u.path, "");
	assert_int_equal(gw_config_url_split("wss://[fe80::1]:9443/ocpp", &u), 0);
	assert_string_equal(u.host, "fe80::1");
	assert_int_equal(u.port, 9443);
	assert_string_equal(u.path, "/ocpp");
	assert_int_equal(gw_config_url_split("wss://[::1]", &u), 0);
	assert_int_equal(u.port, 443);
	assert_int_equal(gw_config_url_split("tcp://cs:1", &u), -EINVAL);
	assert_int_equal(gw_config_url_split("ws://cs:/x", &u), -EINVAL);
	assert_int_equal(gw_config_url_split("ws://cs:80x", &u), -EINVAL);
	assert_int_equal(gw_config_url_split("ws://cs/x#frag", &u), -EINVAL);
	assert_int_equal(gw_config_url_split("ws://[::1]x/", &u), -EINVAL);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(gw_policy_mode_name(GW_POLICY_CHARGE_NOW), "charge-now");
	assert_string_equal(gw_policy_mode_name(GW_POLICY_OFF), "off");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_edges_accepted),
		cmocka_unit_test(test_bad_cases_name_the_key),
		cmocka_unit_test(test_message_exact),
		cmocka_unit_test(test_top_level_not_object),
		cmocka_unit_test(test_syntax_error_line),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_failure_leaves_output_alone),
		cmocka_unit_test(test_data_dir_not_a_directory),
		cmocka_unit_test(test_data_dir_created_deep),
		cmocka_unit_test(test_data_dir_not_writable),
		cmocka_unit_test(test_tcp_split),
		cmocka_unit_test(test_ocpp_full),
		cmocka_unit_test(test_ocpp_defaults),
		cmocka_unit_test(test_ocpp_key_never_echoed),
		cmocka_unit_test(test_tesla_section),
		cmocka_unit_test(test_tesla_errors),
		cmocka_unit_test(test_url_split),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
