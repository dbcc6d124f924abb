/*
 * Tests of the config loader: a full valid file, every default, one failing case per validation rule
 * (each must name the key), unknown keys at every depth, JSON syntax errors with their line, the
 * dataDir checks (created with mode 0750 when missing, refused when it is not a directory), and the
 * ocpp section: its keys, the rules between them, ocpp.keys checked against the OCPP key table, and
 * an authorization key that never appears in a message; the policy section (defaults, until as an
 * exact instant, schedule windows and their day bits, the rules between mode, then, schedule and ems)
 * and the ems list (every meter type, the keys each type takes, values per type, and secrets that
 * never appear in a message); security profile 3's files (a CA, a certificate and its key made here at
 * run time: the pair checked, the key's mode, each error naming its key); the chargePoints list (each
 * entry's keys on top of the top-level defaults, a dataDir folder per entry, errors naming the entry,
 * unique ids and ports, the bound of 64) and the single-bus form as one entry in dataDir itself.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "gw_config.h"
#include "test_certs_mk.h"

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
	assert_int_equal(cfg.policy.mode, EMS_POLICY_OFF);
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
	assert_int_equal(cfg.policy.mode, EMS_POLICY_CHARGE_NOW);
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
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"securityProfile\": 4}", "ocpp.securityProfile", "from 0 to 3 (got 4)" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"securityProfile\": 3}", "ocpp.securityProfile", "3 (TLS and a client "
	  "certificate) needs a wss:// ocpp.url" },
	{ "\"twc\": {" TWC_OK "}, \"ocpp\": {\"url\": \"wss://cs\", \"chargeBoxId\": \"cp1\", \"securityProfile\": 3}",
	  "ocpp.certFile", "required key missing for ocpp.securityProfile 3" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"certFile\": \"/etc/passwd\"}", "ocpp.keyFile", "required with ocpp.certFile" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"certFile\": \"relative.pem\"}", "ocpp.certFile", "absolute" },
	{ "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"firmwareInstallCommand\": \"/etc/passwd\"}", "ocpp.firmwareInstallCommand",
	  "executable" },
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
	assert_int_equal(gw_url_tcp_split("tcp://bridge.local:4001", host, sizeof(host), &port), 0);
	assert_string_equal(host, "bridge.local");
	assert_int_equal(port, 4001);
	assert_int_equal(gw_url_tcp_split("tcp://[fe80::1]:502", host, sizeof(host), &port), 0);
	assert_string_equal(host, "fe80::1");
	assert_int_equal(port, 502);
	assert_int_equal(gw_url_tcp_split("tcp://10.0.0.7:65535", host, sizeof(host), &port), 0);
	assert_string_equal(host, "10.0.0.7");
	assert_int_equal(gw_url_tcp_split("udp://x:1", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(gw_url_tcp_split("tcp://[::1]502", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(gw_url_tcp_split("tcp://x:-1", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(gw_url_tcp_split("tcp://x:", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(gw_url_tcp_split("tcp://averyveryverylonghost:1", host, 8, &port), -ENAMETOOLONG);
}

static void mk_files_write(const char *ca_path, const char *cert_path, const char *key_path, const char *cn);

static void test_ocpp_full(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN];
	char ca[128];
	char rest[1536];

	(void)state;
	snprintf(ca, sizeof(ca), "%s/ca.pem", tmp_root);
	write_file(ca, "not PEM: refused with profile 2\n");
	assert_int_equal(load_with("\"twc\": {" TWC_OK "}, \"ocpp\": {\"url\": \"ws://cs\", \"chargeBoxId\": \"cp1\", "
				   "\"caFile\": \"/nonexistent/ca.pem\"}", &cfg, err), -EINVAL);
	mk_files_write(ca, NULL, NULL, NULL);
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

static int64_t mk_leaf_end; /* 0: a year from now; else the leaf's notAfter (an expired seed) */

/* A CA valid for ten years from now into @ca_path and, when @cert_path is set, a leaf it signed for
 * CN @cn with its key (@key_path, mode 0600). */
static void mk_files_write(const char *ca_path, const char *cert_path, const char *key_path, const char *cn)
{
	int64_t now = (int64_t)time(NULL);
	struct mk_opts ro = { .cn = "Test CSMS Root", .serial = 7, .ca = 1, .not_before = now - MK_DAY,
			      .not_after = now + 3650 * MK_DAY };
	struct mk_opts lo = { .cn = cn, .o = "ACME", .serial = 8, .not_before = now - 400 * MK_DAY,
			      .not_after = mk_leaf_end ? mk_leaf_end : now + 365 * MK_DAY };
	EVP_PKEY *rk = mk_key(), *lk = mk_key();
	X509 *root = mk_cert(&ro, rk, NULL, NULL), *leaf = mk_cert(&lo, lk, root, rk);
	char *pem = mk_pem(root);

	write_file(ca_path, pem);
	free(pem);
	if (cert_path) {
		pem = mk_pem(leaf);
		write_file(cert_path, pem);
		free(pem);
		pem = mk_key_pem(lk);
		write_file(key_path, pem);
		assert_int_equal(chmod(key_path, 0600), 0);
		free(pem);
	}
	X509_free(leaf);
	X509_free(root);
	EVP_PKEY_free(lk);
	EVP_PKEY_free(rk);
}

/* Security profile 3: wss://, a CA, a certificate with its key (both checked as a pair, now), no
 * AuthorizationKey needed; each broken file names its key. */
static void test_ocpp_tls_files(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN], ca[128], cert[128], key[128], other_key[128], rest[1024];
	const char *fmt = "\"twc\": {" TWC_OK "}, \"ocpp\": {\"url\": \"wss://cs.example/ocpp\", \"chargeBoxId\": "
			  "\"CP-3\", \"securityProfile\": 3, \"caFile\": \"%s\", \"certFile\": \"%s\", \"keyFile\": \"%s\"}";

	(void)state;
	snprintf(ca, sizeof(ca), "%s/sp3-ca.pem", tmp_root);
	snprintf(cert, sizeof(cert), "%s/sp3-cert.pem", tmp_root);
	snprintf(key, sizeof(key), "%s/sp3-key.pem", tmp_root);
	snprintf(other_key, sizeof(other_key), "%s/sp3-other-key.pem", tmp_root);
	mk_files_write(ca, cert, key, "CP-3");
	snprintf(rest, sizeof(rest), fmt, ca, cert, key);
	if (load_with(rest, &cfg, err) != 0)
		fail_msg("refused: %s", err);
	assert_int_equal(cfg.ocpp.security_profile, 3);
	assert_string_equal(cfg.ocpp.cert_file, cert);
	assert_string_equal(cfg.ocpp.key_file, key);
	assert_string_equal(cfg.ocpp.authorization_key, "");

	/* A key that is not the certificate's. */
	{
		char c2[128];

		snprintf(c2, sizeof(c2), "%s/sp3-cert2.pem", tmp_root);
		mk_files_write(ca, c2, other_key, "CP-3");
		snprintf(rest, sizeof(rest), fmt, ca, cert, other_key);
	}
	assert_int_equal(load_with(rest, &cfg, err), -EINVAL);
	assert_non_null(strstr(err, "config: ocpp.certFile: "));
	/* The key readable by others. */
	assert_int_equal(chmod(key, 0644), 0);
	snprintf(rest, sizeof(rest), fmt, ca, cert, key);
	assert_int_equal(load_with(rest, &cfg, err), -EINVAL);
	assert_non_null(strstr(err, "config: ocpp.keyFile: readable by others (mode 644)"));
	assert_int_equal(chmod(key, 0600), 0);
	/* Not a key at all. */
	write_file(other_key, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
	assert_int_equal(chmod(other_key, 0600), 0);
	snprintf(rest, sizeof(rest), fmt, ca, cert, other_key);
	assert_int_equal(load_with(rest, &cfg, err), -EINVAL);
	assert_non_null(strstr(err, "config: ocpp.keyFile: "));
	assert_null(strstr(err, "AAAA"));
	/* A caFile that is a leaf, not a CA. */
	snprintf(rest, sizeof(rest), fmt, cert, cert, key);
	assert_int_equal(load_with(rest, &cfg, err), -EINVAL);
	assert_non_null(strstr(err, "config: ocpp.caFile: "));

	/* An expired certificate: refused as a first seed; once the store in dataDir/certs holds the
	 * charge point's own certificate (rotated since), the file is only history and must not stop
	 * the start. */
	mk_leaf_end = (int64_t)time(NULL) - MK_DAY;
	mk_files_write(ca, cert, key, "CP-3");
	mk_leaf_end = 0;
	snprintf(rest, sizeof(rest), fmt, ca, cert, key);
	assert_int_equal(load_with(rest, &cfg, err), -EINVAL);
	assert_non_null(strstr(err, "config: ocpp.certFile: "));
	{
		char dir[160], f[200];

		snprintf(dir, sizeof(dir), "%s/data/certs", tmp_root);
		assert_int_equal(mkdir(dir, 0700), 0);
		snprintf(f, sizeof(f), "%s/cp-cert.pem", dir);
		write_file(f, "the store's own certificate\n");
		if (load_with(rest, &cfg, err) != 0)
			fail_msg("refused with the store holding a certificate: %s", err);
		assert_int_equal(unlink(f), 0);
		assert_int_equal(rmdir(dir), 0);
	}
	/* AdditionalRootCertificateCheck: read-only for the central system, set by the file. */
	{
		char r2[1100];

		snprintf(r2, sizeof(r2), "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"keys\": {\"AdditionalRootCertificateCheck\": true}}");
		if (load_with(r2, &cfg, err) != 0)
			fail_msg("refused: %s", err);
		assert_int_equal(cfg.ocpp.n_keys, 1);
		assert_string_equal(cfg.ocpp.keys[0].name, "AdditionalRootCertificateCheck");
		assert_string_equal(cfg.ocpp.keys[0].value, "true");
		snprintf(r2, sizeof(r2), "\"twc\": {" TWC_OK "}, " OCPP_OK ", \"keys\": {\"CertificateStoreMaxLength\": 5}}");
		assert_int_equal(load_with(r2, &cfg, err), -EINVAL);
		assert_non_null(strstr(err, "read-only"));
	}
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
	struct gw_url u;

	(void)state;
	assert_int_equal(gw_url_split("ws://cs.example:8180/steve/websocket/CentralSystemService/", &u), 0);
	assert_false(u.tls);
	assert_string_equal(u.host, "cs.example");
	assert_int_equal(u.port, 8180);
	assert_string_equal(u.path, "/steve/websocket/CentralSystemService");
	assert_int_equal(gw_url_split("wss://cs.example", &u), 0);
	assert_true(u.tls);
	assert_int_equal(u.port, 443);
	assert_string_equal(u.path, "");
	assert_int_equal(gw_url_split("ws://10.0.0.2/", &u), 0);
	assert_int_equal(u.port, 80);
	assert_string_equal(u.path, "");
	assert_int_equal(gw_url_split("wss://[fe80::1]:9443/ocpp", &u), 0);
	assert_string_equal(u.host, "fe80::1");
	assert_int_equal(u.port, 9443);
	assert_string_equal(u.path, "/ocpp");
	assert_int_equal(gw_url_split("wss://[::1]", &u), 0);
	assert_int_equal(u.port, 443);
	assert_int_equal(gw_url_split("tcp://cs:1", &u), -EINVAL);
	assert_int_equal(gw_url_split("ws://cs:/x", &u), -EINVAL);
	assert_int_equal(gw_url_split("ws://cs:80x", &u), -EINVAL);
	assert_int_equal(gw_url_split("ws://cs/x#frag", &u), -EINVAL);
	assert_int_equal(gw_url_split("ws://[::1]x/", &u), -EINVAL);
}

/* http.listen's syntax: literal addresses only, loopback told apart, the port bounded. */
static void test_listen_parse(void **state)
{
	static const struct {
		const char *spec;
		int ok;        /* 1 accepted */
		bool loopback;
		int port;
	} cases[] = {
		{ "127.0.0.1:8080", 1, true, 8080 },   { "127.9.9.9:0", 1, true, 0 },
		{ "0.0.0.0:80", 1, false, 80 },         { "192.168.1.5:65535", 1, false, 65535 },
		{ "[::1]:8080", 1, true, 8080 },        { "[::]:443", 1, false, 443 },
		{ "127.0.0.1:000080", 1, true, 80 },    { "1.2.3.4:65536", 0, false, 0 },
		{ "localhost:80", 0, false, 0 },        { ":80", 0, false, 0 },
		{ "127.0.0.1", 0, false, 0 },           { "127.0.0.1:", 0, false, 0 },
		{ "127.0.0.1:-1", 0, false, 0 },        { "[::1]8080", 0, false, 0 },
		{ "[]:80", 0, false, 0 },               { "::1:80", 0, false, 0 },
		{ "127.0.0.1:80x", 0, false, 0 },       { "", 0, false, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage sa;
		socklen_t sl = 0;
		bool loopback = !cases[i].loopback;
		int rc = gw_url_listen_parse(cases[i].spec, &sa, &sl, &loopback);

		if ((rc == 0) != (cases[i].ok == 1))
			fail_msg("\"%s\": %s", cases[i].spec, rc == 0 ? "accepted" : "refused");
		if (rc == 0) {
			int port = sa.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&sa)->sin_port)
							  : ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);

			assert_int_equal(loopback, cases[i].loopback);
			assert_int_equal(port, cases[i].port);
			assert_true(sl > 0);
		}
		assert_int_equal(gw_config_listen_check(cases[i].spec) == 0, cases[i].ok == 1);
	}
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(ems_policy_mode_name(EMS_POLICY_CHARGE_NOW), "charge-now");
	assert_string_equal(ems_policy_mode_name(EMS_POLICY_OFF), "off");
}

/* ---- policy and ems ---- */

/* Like load_with(), with room for long members (tokens, five meters). */
static int load_big(const char *rest, struct gw_config *cfg, char *err)
{
	static char text[16384];

	snprintf(text, sizeof(text), "{\"dataDir\": \"%s/data\"%s%s}", tmp_root, rest[0] ? ", " : "", rest);
	err[0] = '\0';
	return gw_config_from_json_text(text, "<test>", cfg, err, ERR_LEN);
}

static void test_policy_defaults(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN];

	(void)state;
	memset(&cfg, 0xA5, sizeof(cfg));
	assert_int_equal(load_with("\"twc\": {" TWC_OK "}", &cfg, err), 0);
	assert_int_equal(cfg.policy.mode, EMS_POLICY_CHARGE_NOW);
	assert_false(cfg.policy.has_until);
	assert_int_equal(cfg.policy.then, EMS_POLICY_OFF);
	assert_int_equal(cfg.policy.n_windows, 0);
	assert_int_equal(cfg.policy.enable_delay, 60);
	assert_int_equal(cfg.policy.disable_delay, 180);
	assert_int_equal(cfg.policy.dwell, 120);
	assert_int_equal(cfg.policy.margin_w, 100);
	assert_int_equal(cfg.policy.battery_soc, 0);
	assert_true(cfg.policy.load_includes_chargers);
	assert_false(cfg.policy.apply_with_csms);
	assert_int_equal(cfg.policy.fallback_after, 300);
	assert_int_equal(cfg.ems.n, 0);
	/* An empty policy object and an empty meter list are the same. */
	assert_int_equal(load_with("\"twc\": {" TWC_OK "}, \"policy\": {}, \"ems\": []", &cfg, err), 0);
	assert_int_equal(cfg.policy.mode, EMS_POLICY_CHARGE_NOW);
	assert_int_equal(cfg.policy.enable_delay, 60);
	assert_true(cfg.policy.load_includes_chargers);
	assert_int_equal(cfg.ems.n, 0);
	/* The range edges. */
	assert_int_equal(load_with("\"twc\": {" TWC_OK "}, \"policy\": {\"enableDelay\": 0, \"disableDelay\": 3600, "
				   "\"dwell\": 0, \"marginW\": 100000, \"batterySoc\": 100, \"fallbackAfter\": 86400}",
				   &cfg, err),
			 0);
	assert_int_equal(cfg.policy.enable_delay, 0);
	assert_int_equal(cfg.policy.disable_delay, 3600);
	assert_int_equal(cfg.policy.dwell, 0);
	assert_int_equal(cfg.policy.margin_w, 100000);
	assert_int_equal(cfg.policy.battery_soc, 100);
	assert_int_equal(cfg.policy.fallback_after, 86400);
}

/* Four meters of the HTTP and Modbus types, every policy key. */
static void test_ems_full_http_modbus(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN], ca[128], rest[4096];

	(void)state;
	snprintf(ca, sizeof(ca), "%s/envoy-ca.pem", tmp_root);
	write_file(ca, "not checked here\n");
	snprintf(rest, sizeof(rest),
		 "\"twc\": {" TWC_OK "},"
		 " \"policy\": {\"mode\": \"track-green\", \"until\": \"2026-11-22T07:00:00+01:00\", \"then\": \"scheduled\","
		 "  \"schedule\": [{\"days\": \"mon-fri\", \"start\": \"22:30\", \"end\": \"06:00\", \"amps\": 16}],"
		 "  \"enableDelay\": 30, \"disableDelay\": 90, \"dwell\": 60, \"marginW\": 250, \"batterySoc\": 80,"
		 "  \"loadIncludesChargers\": false, \"applyWithCsms\": true, \"fallbackAfter\": 120},"
		 " \"ems\": ["
		 "  {\"type\": \"fronius\", \"url\": \"http://192.168.1.20/\", \"pollSeconds\": 2, \"maxAgeSeconds\": 10},"
		 "  {\"type\": \"powerwall\", \"url\": \"https://192.168.1.30\", \"email\": \"me@example.com\","
		 "   \"password\": \"PW-SECRET\"},"
		 "  {\"type\": \"envoy\", \"url\": \"https://envoy.local\", \"token\": \"eyJ-TOKEN\", \"caFile\": \"%s\"},"
		 "  {\"type\": \"solaredge-modbus\", \"host\": \"192.168.1.40\", \"port\": 502, \"unitId\": 2, \"meter\": 2,"
		 "   \"battery\": true, \"pollSeconds\": 3, \"maxAgeSeconds\": 3}]",
		 ca);
	if (load_big(rest, &cfg, err) != 0)
		fail_msg("refused: %s", err);
	/* policy */
	assert_int_equal(cfg.policy.mode, EMS_POLICY_TRACK_GREEN);
	assert_true(cfg.policy.has_until);
	assert_int_equal(cfg.policy.until_ms, 1795327200000LL);
	assert_int_equal(cfg.policy.then, EMS_POLICY_SCHEDULED);
	assert_int_equal(cfg.policy.n_windows, 1);
	assert_int_equal(cfg.policy.windows[0].days, 0x3E); /* mon..fri: bits 1..5 */
	assert_int_equal(cfg.policy.windows[0].start_min, 22 * 60 + 30);
	assert_int_equal(cfg.policy.windows[0].end_min, 6 * 60);
	assert_int_equal(cfg.policy.windows[0].amps, 16);
	assert_int_equal(cfg.policy.enable_delay, 30);
	assert_int_equal(cfg.policy.disable_delay, 90);
	assert_int_equal(cfg.policy.dwell, 60);
	assert_int_equal(cfg.policy.margin_w, 250);
	assert_int_equal(cfg.policy.battery_soc, 80);
	assert_false(cfg.policy.load_includes_chargers);
	assert_true(cfg.policy.apply_with_csms);
	assert_int_equal(cfg.policy.fallback_after, 120);
	/* meters */
	assert_int_equal(cfg.ems.n, 4);
	assert_int_equal(cfg.ems.m[0].type, EMS_METER_FRONIUS);
	assert_string_equal(cfg.ems.m[0].url, "http://192.168.1.20/");
	assert_int_equal(cfg.ems.m[0].poll_s, 2);
	assert_int_equal(cfg.ems.m[0].max_age_s, 10);
	assert_false(cfg.ems.m[0].insecure);
	assert_string_equal(cfg.ems.m[0].ca_file, "");
	assert_int_equal(cfg.ems.m[0].trust, GW_METER_TRUST_SYSTEM); /* http:// */

	assert_int_equal(cfg.ems.m[1].type, EMS_METER_POWERWALL);
	assert_string_equal(cfg.ems.m[1].url, "https://192.168.1.30");
	assert_string_equal(cfg.ems.m[1].email, "me@example.com");
	assert_string_equal(cfg.ems.m[1].password, "PW-SECRET");
	assert_int_equal(cfg.ems.m[1].poll_s, 5);
	assert_int_equal(cfg.ems.m[1].max_age_s, 30);
	assert_false(cfg.ems.m[1].insecure);
	assert_int_equal(cfg.ems.m[1].trust, GW_METER_TRUST_LEARN); /* self-signed on the LAN: its key is pinned */

	assert_int_equal(cfg.ems.m[2].type, EMS_METER_ENVOY);
	assert_string_equal(cfg.ems.m[2].token, "eyJ-TOKEN");
	assert_string_equal(cfg.ems.m[2].ca_file, ca);
	assert_false(cfg.ems.m[2].insecure);
	assert_int_equal(cfg.ems.m[2].trust, GW_METER_TRUST_CA); /* a CA given wins over the type's default */

	assert_int_equal(cfg.ems.m[3].type, EMS_METER_SOLAREDGE);
	assert_string_equal(cfg.ems.m[3].host, "192.168.1.40");
	assert_int_equal(cfg.ems.m[3].port, 502);
	assert_int_equal(cfg.ems.m[3].unit_id, 2);
	assert_int_equal(cfg.ems.m[3].se_meter, 2);
	assert_true(cfg.ems.m[3].se_battery);
	assert_int_equal(cfg.ems.m[3].poll_s, 3);
	assert_int_equal(cfg.ems.m[3].max_age_s, 3);

	/* The defaults of a bare solaredge-modbus meter, and an envoy without a token (firmware < 7). */
	assert_int_equal(load_big("\"twc\": {" TWC_OK "}, \"ems\": [{\"type\": \"solaredge-modbus\", \"host\": "
				  "\"inverter.local\"}, {\"type\": \"envoy\", \"url\": \"https://envoy\", \"insecure\": false}]",
				  &cfg, err),
			 0);
	assert_int_equal(cfg.ems.n, 2);
	assert_int_equal(cfg.ems.m[0].port, 1502);
	assert_int_equal(cfg.ems.m[0].unit_id, 1);
	assert_int_equal(cfg.ems.m[0].se_meter, 1);
	assert_false(cfg.ems.m[0].se_battery);
	assert_int_equal(cfg.ems.m[0].poll_s, 5);
	assert_int_equal(cfg.ems.m[0].max_age_s, 30);
	assert_string_equal(cfg.ems.m[1].token, "");
	assert_false(cfg.ems.m[1].insecure);
	assert_int_equal(cfg.ems.m[1].trust, GW_METER_TRUST_LEARN); /* insecure: false is the default */
}

#define PIN_A "sha256//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMwE="
#define PIN_B "sha256//0123456789abcdefghijklmnopqrstuvwxyzABCDEFG="

/* How each https meter is trusted: caFile, insecure, pin, and the type's default. */
static void test_ems_trust(void **state)
{
	static const struct {
		const char *meter;
		enum gw_config_meter_trust trust;
		const char *pin;
		bool reset;
	} ok[] = {
		{ "\"type\": \"powerwall\", \"url\": \"https://pw\", \"password\": \"p\"", GW_METER_TRUST_LEARN, "", false },
		{ "\"type\": \"powerwall\", \"url\": \"http://pw\", \"password\": \"p\"", GW_METER_TRUST_SYSTEM, "", false },
		{ "\"type\": \"envoy\", \"url\": \"https://e\", \"pin\": \"learn\"", GW_METER_TRUST_LEARN, "", false },
		{ "\"type\": \"envoy\", \"url\": \"https://e\", \"pin\": \"reset\"", GW_METER_TRUST_LEARN, "", true },
		{ "\"type\": \"envoy\", \"url\": \"https://e\", \"pin\": \"" PIN_A "\"", GW_METER_TRUST_PIN, PIN_A, false },
		{ "\"type\": \"envoy\", \"url\": \"https://e\", \"pin\": \"" PIN_A ";" PIN_B "\"", GW_METER_TRUST_PIN,
		  PIN_A ";" PIN_B, false },
		{ "\"type\": \"envoy\", \"url\": \"https://e\", \"insecure\": true", GW_METER_TRUST_INSECURE, "", false },
		{ "\"type\": \"fronius\", \"url\": \"https://f\"", GW_METER_TRUST_SYSTEM, "", false },
		{ "\"type\": \"fronius\", \"url\": \"https://f\", \"pin\": \"learn\"", GW_METER_TRUST_LEARN, "", false },
		{ "\"type\": \"homeassistant\", \"url\": \"https://ha\", \"token\": \"t\", \"values\": {\"grid\": "
		  "\"sensor.g\"}", GW_METER_TRUST_SYSTEM, "", false },
		{ "\"type\": \"json\", \"url\": \"https://j/x\", \"pin\": \"" PIN_B "\", \"values\": {\"grid\": \"/g\"}",
		  GW_METER_TRUST_PIN, PIN_B, false },
	};
	struct gw_config cfg;
	char err[ERR_LEN], ca[128], rest[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(rest, sizeof(rest), "\"twc\": {" TWC_OK "}, \"ems\": [{%s}]", ok[i].meter);
		if (load_big(rest, &cfg, err) != 0)
			fail_msg("case %zu refused: %s", i, err);
		if (cfg.ems.m[0].trust != ok[i].trust)
			fail_msg("case %zu: trust %d, expected %d", i, cfg.ems.m[0].trust, ok[i].trust);
		assert_string_equal(cfg.ems.m[0].pin, ok[i].pin);
		assert_int_equal(cfg.ems.m[0].pin_reset, ok[i].reset);
	}

	/* The keys that cannot go together, each refused by name. */
	snprintf(ca, sizeof(ca), "%s/meter-ca.pem", tmp_root);
	write_file(ca, "not checked here\n");
	snprintf(rest, sizeof(rest), "\"twc\": {" TWC_OK "}, \"ems\": [{\"type\": \"envoy\", \"url\": \"https://e\", "
		 "\"caFile\": \"%s\", \"pin\": \"learn\"}]", ca);
	assert_int_equal(load_big(rest, &cfg, err), -EINVAL);
	assert_string_equal(err, "config: ems[0].pin: cannot be used with caFile (the CA is checked instead)");
	snprintf(rest, sizeof(rest), "\"twc\": {" TWC_OK "}, \"ems\": [{\"type\": \"envoy\", \"url\": \"https://e\", "
		 "\"caFile\": \"%s\", \"insecure\": true}]", ca);
	assert_int_equal(load_big(rest, &cfg, err), -EINVAL);
	assert_string_equal(err, "config: ems[0].insecure: cannot be true with caFile (the CA would not be checked)");
	snprintf(rest, sizeof(rest), "\"twc\": {" TWC_OK "}, \"ems\": [{\"type\": \"envoy\", \"url\": \"https://e\", "
		 "\"caFile\": \"%s\", \"insecure\": false}]", ca);
	assert_int_equal(load_big(rest, &cfg, err), 0);
	assert_int_equal(cfg.ems.m[0].trust, GW_METER_TRUST_CA);
	assert_int_equal(load_big("\"twc\": {" TWC_OK "}, \"ems\": [{\"type\": \"envoy\", \"url\": \"https://e\", "
				  "\"insecure\": true, \"pin\": \"" PIN_A "\"}]", &cfg, err), -EINVAL);
	assert_string_equal(err, "config: ems[0].pin: cannot be used with insecure: true");
	assert_int_equal(load_big("\"twc\": {" TWC_OK "}, \"ems\": [{\"type\": \"powerwall\", \"url\": \"http://pw\", "
				  "\"password\": \"p\", \"pin\": \"learn\"}]", &cfg, err), -EINVAL);
	assert_string_equal(err, "config: ems[0].pin: only for an https:// url");
	assert_int_equal(load_big("\"twc\": {" TWC_OK "}, \"ems\": [{\"type\": \"envoy\", \"url\": \"https://e\", "
				  "\"pin\": \"sha256//abc\"}]", &cfg, err), -EINVAL);
	assert_string_equal(err, "config: ems[0].pin: must be \"learn\", \"reset\" or sha256//<base64 of the key's "
				 "SHA-256> (up to 4 joined by ';') (got \"sha256//abc\")");
}

/* The three types that are told where each value is. */
static void test_ems_full_told(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN];
	const struct ems_meter_source *s;

	(void)state;
	if (load_big("\"twc\": {" TWC_OK "}, \"policy\": {\"mode\": \"track-green\"}, \"ems\": ["
		     " {\"type\": \"homeassistant\", \"url\": \"http://ha.local:8123\", \"token\": \"HA-TOKEN\","
		     "  \"values\": {\"grid\": \"sensor.grid_power\", \"pv\": {\"entity\": \"sensor.pv_power_2\", \"scale\": 1000},"
		     "   \"soc\": \"sensor.battery_soc\"}},"
		     " {\"type\": \"json\", \"url\": \"http://10.0.0.5/status.json?x=1\", \"values\": {"
		     "   \"grid\": {\"pointer\": \"/power/grid_kw\", \"scale\": 1000, \"invert\": true}, \"load\": \"/power/load\"}},"
		     " {\"type\": \"mqtt\", \"host\": \"broker.local\", \"username\": \"u\", \"password\": \"MQ-SECRET\","
		     "  \"maxAgeSeconds\": 120, \"values\": {\"battery\": {\"topic\": \"home/batt\", \"pointer\": \"/w\","
		     "   \"invert\": true}, \"voltage\": \"home/volts\"}}]",
		     &cfg, err) != 0)
		fail_msg("refused: %s", err);
	assert_int_equal(cfg.ems.n, 3);

	assert_int_equal(cfg.ems.m[0].type, EMS_METER_HASS);
	assert_string_equal(cfg.ems.m[0].url, "http://ha.local:8123");
	assert_string_equal(cfg.ems.m[0].token, "HA-TOKEN");
	assert_false(cfg.ems.m[0].insecure);
	s = cfg.ems.m[0].src;
	assert_true(s[EMS_GRID].set);
	assert_string_equal(s[EMS_GRID].key, "sensor.grid_power");
	assert_true(s[EMS_GRID].scale == 1.0);
	assert_false(s[EMS_GRID].invert);
	assert_true(s[EMS_PV].set);
	assert_string_equal(s[EMS_PV].key, "sensor.pv_power_2");
	assert_true(s[EMS_PV].scale == 1000.0);
	assert_true(s[EMS_SOC].set);
	assert_false(s[EMS_LOAD].set);
	assert_false(s[EMS_BATTERY].set);
	assert_false(s[EMS_VOLTAGE].set);

	assert_int_equal(cfg.ems.m[1].type, EMS_METER_JSON);
	assert_string_equal(cfg.ems.m[1].url, "http://10.0.0.5/status.json?x=1");
	assert_string_equal(cfg.ems.m[1].token, "");
	s = cfg.ems.m[1].src;
	assert_string_equal(s[EMS_GRID].key, "/power/grid_kw");
	assert_true(s[EMS_GRID].scale == 1000.0);
	assert_true(s[EMS_GRID].invert);
	assert_string_equal(s[EMS_LOAD].key, "/power/load");
	assert_true(s[EMS_LOAD].scale == 1.0);
	assert_false(s[EMS_PV].set);

	assert_int_equal(cfg.ems.m[2].type, EMS_METER_MQTT);
	assert_string_equal(cfg.ems.m[2].host, "broker.local");
	assert_int_equal(cfg.ems.m[2].port, 1883);
	assert_string_equal(cfg.ems.m[2].username, "u");
	assert_string_equal(cfg.ems.m[2].password, "MQ-SECRET");
	assert_int_equal(cfg.ems.m[2].max_age_s, 120);
	s = cfg.ems.m[2].src;
	assert_string_equal(s[EMS_BATTERY].key, "home/batt");
	assert_string_equal(s[EMS_BATTERY].pointer, "/w");
	assert_true(s[EMS_BATTERY].invert);
	assert_string_equal(s[EMS_VOLTAGE].key, "home/volts");
	assert_string_equal(s[EMS_VOLTAGE].pointer, "");
	assert_false(s[EMS_GRID].set);

	/* mqtt's own default maxAgeSeconds. */
	assert_int_equal(load_big("\"twc\": {" TWC_OK "}, \"ems\": [{\"type\": \"mqtt\", \"host\": \"::1\", \"values\": "
				  "{\"grid\": \"p1/power\"}}]", &cfg, err),
			 0);
	assert_int_equal(cfg.ems.m[0].max_age_s, 60);
	assert_int_equal(cfg.ems.m[0].port, 1883);
}

#define FRONIUS_OK "\"type\": \"fronius\", \"url\": \"http://inverter\""

static const struct bad_case ems_bad_cases[] = {
	/* the list itself */
	{ "\"ems\": {}", "ems", "must be an array (got an object)" },
	{ "\"ems\": [5]", "ems[0]", "must be an object (got 5)" },
	{ "\"ems\": [{" FRONIUS_OK "}, {" FRONIUS_OK "}, {" FRONIUS_OK "}, {" FRONIUS_OK "}, {" FRONIUS_OK "}]", "ems",
	  "at most 4 meters (got 5)" },
	/* type */
	{ "\"ems\": [{\"url\": \"http://inverter\"}]", "ems[0].type", "required key missing" },
	{ "\"ems\": [{\"type\": \"sunny\", \"url\": \"http://inverter\"}]", "ems[0].type", "(got \"sunny\")" },
	{ "\"ems\": [{\"type\": 3}]", "ems[0].type", "(got 3)" },
	{ "\"ems\": [{\"type\": \"Fronius\", \"url\": \"http://inverter\"}]", "ems[0].type", "fronius, powerwall" },
	/* keys the type does not take */
	{ "\"ems\": [{" FRONIUS_OK ", \"foo\": 1}]", "ems[0].foo: unknown key", NULL },
	{ "\"ems\": [{" FRONIUS_OK ", \"host\": \"inverter\"}]", "ems[0].host: unknown key", "for type fronius" },
	{ "\"ems\": [{" FRONIUS_OK ", \"values\": {\"grid\": \"/x\"}}]", "ems[0].values: unknown key", "fronius" },
	{ "\"ems\": [{\"type\": \"solaredge-modbus\", \"host\": \"h\", \"url\": \"http://h\"}]", "ems[0].url: unknown key",
	  "for type solaredge-modbus" },
	{ "\"ems\": [{\"type\": \"mqtt\", \"host\": \"h\", \"pollSeconds\": 5, \"values\": {\"grid\": \"a/b\"}}]",
	  "ems[0].pollSeconds: unknown key", "for type mqtt" },
	{ "\"ems\": [{\"type\": \"envoy\", \"url\": \"https://e\", \"password\": \"x\"}]", "ems[0].password: unknown key",
	  "for type envoy" },
	/* the member names its index */
	{ "\"ems\": [{" FRONIUS_OK "}, {\"type\": \"fronius\"}]", "ems[1].url", "required key missing for type fronius" },
	/* required keys per type */
	{ "\"ems\": [{\"type\": \"fronius\"}]", "ems[0].url", "required key missing for type fronius" },
	{ "\"ems\": [{\"type\": \"powerwall\", \"password\": \"x\"}]", "ems[0].url", "for type powerwall" },
	{ "\"ems\": [{\"type\": \"powerwall\", \"url\": \"https://pw\"}]", "ems[0].password",
	  "required key missing for type powerwall" },
	{ "\"ems\": [{\"type\": \"envoy\"}]", "ems[0].url", "for type envoy" },
	{ "\"ems\": [{\"type\": \"solaredge-modbus\"}]", "ems[0].host", "required key missing for type solaredge-modbus" },
	{ "\"ems\": [{\"type\": \"homeassistant\", \"token\": \"t\", \"values\": {\"grid\": \"sensor.g\"}}]", "ems[0].url",
	  "for type homeassistant" },
	{ "\"ems\": [{\"type\": \"homeassistant\", \"url\": \"http://ha\", \"values\": {\"grid\": \"sensor.g\"}}]",
	  "ems[0].token", "required key missing for type homeassistant" },
	{ "\"ems\": [{\"type\": \"homeassistant\", \"url\": \"http://ha\", \"token\": \"t\"}]", "ems[0].values",
	  "required key missing for type homeassistant" },
	{ "\"ems\": [{\"type\": \"json\", \"values\": {\"grid\": \"/g\"}}]", "ems[0].url", "for type json" },
	{ "\"ems\": [{\"type\": \"json\", \"url\": \"http://j\"}]", "ems[0].values", "required key missing for type json" },
	{ "\"ems\": [{\"type\": \"mqtt\", \"values\": {\"grid\": \"a/b\"}}]", "ems[0].host", "for type mqtt" },
	{ "\"ems\": [{\"type\": \"mqtt\", \"host\": \"broker\"}]", "ems[0].values", "required key missing for type mqtt" },
	/* values */
	{ "\"ems\": [{\"type\": \"json\", \"url\": \"http://j\", \"values\": {}}]", "ems[0].values",
	  "at least one of grid, pv" },
	{ "\"ems\": [{\"type\": \"json\", \"url\": \"http://j\", \"values\": [\"/g\"]}]", "ems[0].values", NULL },
	{ "\"ems\": [{\"type\": \"json\", \"url\": \"http://j\", \"values\": {\"sun\": \"/g\"}}]", "ems[0].values.sun",
	  "unknown value" },
	{ "\"ems\": [{\"type\": \"json\", \"url\": \"http://j\", \"values\": {\"grid\": 5}}]", "ems[0].values.grid",
	  "a string or an object with \"pointer\" (got 5)" },
	{ "\"ems\": [{\"type\": \"json\", \"url\": \"http://j\", \"values\": {\"grid\": \"power/grid\"}}]",
	  "ems[0].values.grid.pointer", "starting with '/'" },
	{ "\"ems\": [{\"type\": \"json\", \"url\": \"http://j\", \"values\": {\"grid\": {\"scale\": 2}}}]",
	  "ems[0].values.grid.pointer", "required key missing" },
	{ "\"ems\": [{\"type\": \"json\", \"url\": \"http://j\", \"values\": {\"grid\": {\"pointer\": \"/g\", \"topic\": "
	  "\"t\"}}}]", "ems[0].values.grid.topic: unknown key", NULL },
	{ "\"ems\": [{\"type\": \"json\", \"url\": \"http://j\", \"values\": {\"grid\": {\"pointer\": \"/g\", \"scale\": "
	  "0}}}]", "ems[0].values.grid.scale", "other than 0" },
	{ "\"ems\": [{\"type\": \"json\", \"url\": \"http://j\", \"values\": {\"grid\": {\"pointer\": \"/g\", \"scale\": "
	  "\"k\"}}}]", "ems[0].values.grid.scale", "(got \"k\")" },
	{ "\"ems\": [{\"type\": \"json\", \"url\": \"http://j\", \"values\": {\"grid\": {\"pointer\": \"/g\", \"invert\": "
	  "1}}}]", "ems[0].values.grid.invert", "true or false (got 1)" },
	{ "\"ems\": [{\"type\": \"homeassistant\", \"url\": \"http://ha\", \"token\": \"t\", \"values\": {\"grid\": "
	  "\"Sensor.Grid\"}}]", "ems[0].values.grid.entity", "entity id" },
	{ "\"ems\": [{\"type\": \"homeassistant\", \"url\": \"http://ha\", \"token\": \"t\", \"values\": {\"grid\": "
	  "\"grid_power\"}}]", "ems[0].values.grid.entity", "entity id" },
	{ "\"ems\": [{\"type\": \"homeassistant\", \"url\": \"http://ha\", \"token\": \"t\", \"values\": {\"pv\": "
	  "\"sensor.a.b\"}}]", "ems[0].values.pv.entity", "entity id" },
	{ "\"ems\": [{\"type\": \"homeassistant\", \"url\": \"http://ha\", \"token\": \"t\", \"values\": {\"pv\": "
	  "{\"entity\": \"sensor.pv power\"}}}]", "ems[0].values.pv.entity", "entity id" },
	{ "\"ems\": [{\"type\": \"homeassistant\", \"url\": \"http://ha\", \"token\": \"t\", \"values\": {\"pv\": "
	  "{\"pointer\": \"/x\"}}}]", "ems[0].values.pv.pointer: unknown key", NULL },
	{ "\"ems\": [{\"type\": \"mqtt\", \"host\": \"broker\", \"values\": {\"grid\": \"home/#\"}}]",
	  "ems[0].values.grid.topic", "without the wildcards + and #" },
	{ "\"ems\": [{\"type\": \"mqtt\", \"host\": \"broker\", \"values\": {\"grid\": \"home/+/power\"}}]",
	  "ems[0].values.grid.topic", "wildcards" },
	{ "\"ems\": [{\"type\": \"mqtt\", \"host\": \"broker\", \"values\": {\"grid\": {\"topic\": \"home/p\", "
	  "\"pointer\": \"w\"}}}]", "ems[0].values.grid.pointer", "starting with '/'" },
	{ "\"ems\": [{\"type\": \"mqtt\", \"host\": \"broker\", \"values\": {\"grid\": {\"pointer\": \"/w\"}}}]",
	  "ems[0].values.grid.topic", "required key missing" },
	/* numbers and flags */
	{ "\"ems\": [{" FRONIUS_OK ", \"pollSeconds\": 0}]", "ems[0].pollSeconds", "from 1 to 3600 (got 0)" },
	{ "\"ems\": [{" FRONIUS_OK ", \"pollSeconds\": 3601}]", "ems[0].pollSeconds", "(got 3601)" },
	{ "\"ems\": [{" FRONIUS_OK ", \"pollSeconds\": 10, \"maxAgeSeconds\": 5}]", "ems[0].maxAgeSeconds",
	  "at least pollSeconds (10) (got 5)" },
	{ "\"ems\": [{" FRONIUS_OK ", \"pollSeconds\": 60}]", "ems[0].maxAgeSeconds", "at least pollSeconds (60) (got 30)" },
	{ "\"ems\": [{" FRONIUS_OK ", \"maxAgeSeconds\": 0}]", "ems[0].maxAgeSeconds", "from 1 to 86400 (got 0)" },
	{ "\"ems\": [{" FRONIUS_OK ", \"insecure\": \"yes\"}]", "ems[0].insecure", "true or false" },
	/* pin */
	{ "\"ems\": [{\"type\": \"envoy\", \"url\": \"https://e\", \"pin\": 5}]", "ems[0].pin", "(got 5)" },
	{ "\"ems\": [{\"type\": \"envoy\", \"url\": \"https://e\", \"pin\": \"\"}]", "ems[0].pin", "\"learn\"" },
	{ "\"ems\": [{\"type\": \"envoy\", \"url\": \"https://e\", \"pin\": \"Learn\"}]", "ems[0].pin", "(got \"Learn\")" },
	{ "\"ems\": [{\"type\": \"envoy\", \"url\": \"https://e\", \"pin\": \"/etc/twcgw/envoy.pem\"}]", "ems[0].pin",
	  "sha256//" },
	{ "\"ems\": [{\"type\": \"envoy\", \"url\": \"https://e\", \"pin\": \"sha1//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMwE=\"}]",
	  "ems[0].pin", "sha256//" },
	{ "\"ems\": [{\"type\": \"envoy\", \"url\": \"https://e\", \"pin\": \"" PIN_A ";\"}]", "ems[0].pin", "joined by ';'" },
	{ "\"ems\": [{\"type\": \"envoy\", \"url\": \"https://e\", \"pin\": \"" PIN_A " \"}]", "ems[0].pin", NULL },
	{ "\"ems\": [{\"type\": \"envoy\", \"url\": \"https://e\", \"pin\": \"sha256//YhKJKSzoTt2b5FP18fvpHo7fJYqQCjAa3HWY3tvRMw==\"}]",
	  "ems[0].pin", NULL },
	{ "\"ems\": [{\"type\": \"envoy\", \"url\": \"https://e\", \"pin\": \"" PIN_A ";" PIN_B ";" PIN_A ";" PIN_B ";" PIN_A
	  "\"}]", "ems[0].pin", "up to 4" },
	{ "\"ems\": [{\"type\": \"envoy\", \"url\": \"https://e\", \"pin\": [\"" PIN_A "\"]}]", "ems[0].pin", "(got an array)" },
	{ "\"ems\": [{" FRONIUS_OK ", \"pin\": \"learn\"}]", "ems[0].pin", "only for an https:// url" },
	{ "\"ems\": [{\"type\": \"solaredge-modbus\", \"host\": \"h\", \"pin\": \"learn\"}]", "ems[0].pin: unknown key",
	  "for type solaredge-modbus" },
	{ "\"ems\": [{\"type\": \"mqtt\", \"host\": \"b\", \"pin\": \"learn\", \"values\": {\"grid\": \"a\"}}]",
	  "ems[0].pin: unknown key", "for type mqtt" },
	{ "\"ems\": [{\"type\": \"solaredge-modbus\", \"host\": \"h\", \"port\": 0}]", "ems[0].port", "from 1 to 65535" },
	{ "\"ems\": [{\"type\": \"solaredge-modbus\", \"host\": \"h\", \"unitId\": 248}]", "ems[0].unitId",
	  "from 1 to 247 (got 248)" },
	{ "\"ems\": [{\"type\": \"solaredge-modbus\", \"host\": \"h\", \"meter\": 4}]", "ems[0].meter", "from 0 to 3 (got 4)" },
	{ "\"ems\": [{\"type\": \"solaredge-modbus\", \"host\": \"h\", \"battery\": 1}]", "ems[0].battery", "true or false" },
	{ "\"ems\": [{\"type\": \"solaredge-modbus\", \"host\": \"\"}]", "ems[0].host", "1 to 127 characters" },
	{ "\"ems\": [{\"type\": \"solaredge-modbus\", \"host\": \"my inverter\"}]", "ems[0].host", "host name" },
	{ "\"ems\": [{\"type\": \"mqtt\", \"host\": \"broker:1883\", \"values\": {\"grid\": \"a/b\"}}]", "ems[0].host",
	  "host name" },
	/* url */
	{ "\"ems\": [{\"type\": \"fronius\", \"url\": \"ftp://inverter\"}]", "ems[0].url", "http:// or https://" },
	{ "\"ems\": [{\"type\": \"fronius\", \"url\": \"http://\"}]", "ems[0].url", "http:// or https://" },
	{ "\"ems\": [{\"type\": \"fronius\", \"url\": 5}]", "ems[0].url", "(got 5)" },
	{ "\"ems\": [{\"type\": \"fronius\", \"url\": \"http://u:p@inverter\"}]", "ems[0].url", "credentials" },
	{ "\"ems\": [{" FRONIUS_OK ", \"caFile\": \"ca.pem\"}]", "ems[0].caFile", "absolute" },
	{ "\"ems\": [{" FRONIUS_OK ", \"caFile\": \"/nonexistent/ca.pem\"}]", "ems[0].caFile", "readable" },
	/* policy */
	{ "\"policy\": {\"mode\": \"green\"}", "policy.mode", "\"track-green\"" },
	{ "\"policy\": {\"enableDelay\": -1}", "policy.enableDelay", "from 0 to 3600 (got -1)" },
	{ "\"policy\": {\"enableDelay\": 3601}", "policy.enableDelay", "(got 3601)" },
	{ "\"policy\": {\"disableDelay\": 3601}", "policy.disableDelay", "from 0 to 3600" },
	{ "\"policy\": {\"dwell\": \"2m\"}", "policy.dwell", "(got \"2m\")" },
	{ "\"policy\": {\"marginW\": -1}", "policy.marginW", "from 0 to 100000 (got -1)" },
	{ "\"policy\": {\"batterySoc\": 101}", "policy.batterySoc", "from 0 to 100 (got 101)" },
	{ "\"policy\": {\"fallbackAfter\": 86401}", "policy.fallbackAfter", "from 0 to 86400" },
	{ "\"policy\": {\"loadIncludesChargers\": \"yes\"}", "policy.loadIncludesChargers", "true or false" },
	{ "\"policy\": {\"applyWithCsms\": 0}", "policy.applyWithCsms", "true or false (got 0)" },
	{ "\"policy\": {\"track\": true}", "policy.track: unknown key", NULL },
	{ "\"policy\": {\"mode\": \"track-green\"}", "ems", "required key missing for mode \"track-green\"" },
	{ "\"policy\": {\"mode\": \"track-green\"}, \"ems\": []", "ems", "track-green" },
	{ "\"policy\": {\"mode\": \"scheduled\"}", "policy.schedule", "required key missing for mode \"scheduled\"" },
	{ "\"policy\": {\"mode\": \"scheduled\", \"schedule\": []}", "policy.schedule", "required key missing" },
	/* until and then */
	{ "\"policy\": {\"until\": \"2026-11-22T07:00:00\"}", "policy.until", "with its offset" },
	{ "\"policy\": {\"until\": \"2026-11-22 07:00Z\"}", "policy.until", "(got \"2026-11-22 07:00Z\")" },
	{ "\"policy\": {\"until\": \"2026-13-01T00:00Z\"}", "policy.until", NULL },
	{ "\"policy\": {\"until\": \"2026-02-29T00:00Z\"}", "policy.until", NULL }, /* 2026 is no leap year */
	{ "\"policy\": {\"until\": \"2026-11-22T24:00Z\"}", "policy.until", NULL },
	{ "\"policy\": {\"until\": \"2026-11-22T07:60Z\"}", "policy.until", NULL },
	{ "\"policy\": {\"until\": \"2026-11-22T07:00+15:00\"}", "policy.until", NULL },
	{ "\"policy\": {\"until\": \"2026-11-22T07:00+01:60\"}", "policy.until", NULL },
	{ "\"policy\": {\"until\": \"2026-11-22T07:00+0100\"}", "policy.until", NULL },
	{ "\"policy\": {\"until\": \"2026-11-22T07:00:00+01:00x\"}", "policy.until", NULL },
	{ "\"policy\": {\"until\": \"2026-11-22T7:00Z\"}", "policy.until", NULL },
	{ "\"policy\": {\"until\": \"2026-11-22T-1:00Z\"}", "policy.until", NULL },
	{ "\"policy\": {\"until\": \"2026-11-22T07:-1Z\"}", "policy.until", NULL },
	{ "\"policy\": {\"until\": \"2026-11-22T07:00:-1Z\"}", "policy.until", NULL },
	{ "\"policy\": {\"until\": \"2026-11-22T07:00+-1:00\"}", "policy.until", NULL },
	{ "\"policy\": {\"until\": \"2026-+1-22T07:00Z\"}", "policy.until", NULL },
	{ "\"policy\": {\"until\": \"2026-11- 2T07:00Z\"}", "policy.until", NULL },
	{ "\"policy\": {\"until\": \"1969-12-31T23:00Z\"}", "policy.until", NULL },
	{ "\"policy\": {\"until\": 1795327200}", "policy.until", "must be a string (got 1795327200)" },
	{ "\"policy\": {\"mode\": \"charge-now\", \"then\": \"off\"}", "policy.then", "needs policy.until" },
	{ "\"policy\": {\"mode\": \"off\", \"until\": \"2026-11-22T06:00Z\", \"then\": \"off\"}", "policy.then",
	  "must differ from policy.mode (got \"off\")" },
	/* then defaults to off, so "off until X" alone says nothing */
	{ "\"policy\": {\"mode\": \"off\", \"until\": \"2026-11-22T06:00Z\"}", "policy.then", "must differ" },
	{ "\"policy\": {\"mode\": \"charge-now\", \"until\": \"2026-11-22T06:00Z\", \"then\": \"scheduled\"}",
	  "policy.schedule", "required key missing for mode \"scheduled\"" },
	{ "\"policy\": {\"mode\": \"charge-now\", \"until\": \"2026-11-22T06:00Z\", \"then\": \"track-green\"}", "ems",
	  "track-green" },
	{ "\"policy\": {\"then\": \"sometimes\", \"until\": \"2026-11-22T06:00Z\"}", "policy.then", "must be one of" },
	/* schedule windows */
	{ "\"policy\": {\"schedule\": {}}", "policy.schedule", "must be an array (got an object)" },
	{ "\"policy\": {\"schedule\": [7]}", "policy.schedule[0]", "must be an object (got 7)" },
	{ "\"policy\": {\"schedule\": [{\"start\": \"22:00\", \"end\": \"06:00\", \"amps\": 16, \"from\": 1}]}",
	  "policy.schedule[0].from: unknown key", NULL },
	{ "\"policy\": {\"schedule\": [{\"end\": \"06:00\", \"amps\": 16}]}", "policy.schedule[0].start",
	  "required key missing" },
	{ "\"policy\": {\"schedule\": [{\"start\": \"22:00\", \"amps\": 16}]}", "policy.schedule[0].end",
	  "required key missing" },
	{ "\"policy\": {\"schedule\": [{\"start\": \"22:00\", \"end\": \"06:00\"}]}", "policy.schedule[0].amps",
	  "required key missing" },
	{ "\"policy\": {\"schedule\": [{\"start\": \"24:00\", \"end\": \"06:00\", \"amps\": 16}]}",
	  "policy.schedule[0].start", "00:00 to 23:59 (got \"24:00\")" },
	{ "\"policy\": {\"schedule\": [{\"start\": \"22:00\", \"end\": \"6:00\", \"amps\": 16}]}", "policy.schedule[0].end",
	  "HH:MM" },
	{ "\"policy\": {\"schedule\": [{\"start\": \"22:60\", \"end\": \"06:00\", \"amps\": 16}]}",
	  "policy.schedule[0].start", NULL },
	{ "\"policy\": {\"schedule\": [{\"start\": \"22:00:00\", \"end\": \"06:00\", \"amps\": 16}]}",
	  "policy.schedule[0].start", NULL },
	{ "\"policy\": {\"schedule\": [{\"start\": \"-1:00\", \"end\": \"06:00\", \"amps\": 16}]}",
	  "policy.schedule[0].start", NULL },
	{ "\"policy\": {\"schedule\": [{\"start\": 2200, \"end\": \"06:00\", \"amps\": 16}]}", "policy.schedule[0].start",
	  NULL },
	{ "\"policy\": {\"schedule\": [{\"days\": \"mon-fry\", \"start\": \"22:00\", \"end\": \"06:00\", \"amps\": 16}]}",
	  "policy.schedule[0].days", "(got \"mon-fry\")" },
	{ "\"policy\": {\"schedule\": [{\"days\": \"weekdays\", \"start\": \"22:00\", \"end\": \"06:00\", \"amps\": 16}]}",
	  "policy.schedule[0].days", "\"mon-fri\"" },
	{ "\"policy\": {\"schedule\": [{\"days\": \"mon,\", \"start\": \"22:00\", \"end\": \"06:00\", \"amps\": 16}]}",
	  "policy.schedule[0].days", NULL },
	{ "\"policy\": {\"schedule\": [{\"days\": \",mon\", \"start\": \"22:00\", \"end\": \"06:00\", \"amps\": 16}]}",
	  "policy.schedule[0].days", NULL },
	{ "\"policy\": {\"schedule\": [{\"days\": \"mon-\", \"start\": \"22:00\", \"end\": \"06:00\", \"amps\": 16}]}",
	  "policy.schedule[0].days", NULL },
	{ "\"policy\": {\"schedule\": [{\"days\": \"mon-tue-wed\", \"start\": \"22:00\", \"end\": \"06:00\", \"amps\": 16}]}",
	  "policy.schedule[0].days", NULL },
	{ "\"policy\": {\"schedule\": [{\"days\": \"\", \"start\": \"22:00\", \"end\": \"06:00\", \"amps\": 16}]}",
	  "policy.schedule[0].days", NULL },
	{ "\"policy\": {\"schedule\": [{\"days\": \"mon\", \"start\": \"22:00\", \"end\": \"06:00\", \"amps\": 16},"
	  " {\"days\": \"sun\", \"start\": \"10:00\", \"end\": \"16:00\", \"amps\": 5}]}", "policy.schedule[1].amps",
	  "from 6 (twc.minAmpsPerTWC) to 40 (twc.wiringMaxAmpsAllTWCs) (got 5)" },
	{ "\"policy\": {\"schedule\": [{\"start\": \"22:00\", \"end\": \"06:00\", \"amps\": 41}]}", "policy.schedule[0].amps",
	  "twc.wiringMaxAmpsAllTWCs) (got 41)" },
	{ "\"policy\": {\"schedule\": [{\"start\": \"22:00\", \"end\": \"06:00\", \"amps\": 0}]}", "policy.schedule[0].amps",
	  NULL },
	{ "\"policy\": {\"schedule\": [{\"start\": \"22:00\", \"end\": \"06:00\", \"amps\": 16.5}]}",
	  "policy.schedule[0].amps", NULL },
};

static void test_ems_policy_bad_cases(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN], rest[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(ems_bad_cases) / sizeof(ems_bad_cases[0]); i++) {
		const struct bad_case *c = &ems_bad_cases[i];
		int rc;

		snprintf(rest, sizeof(rest), "\"twc\": {" TWC_OK "}, %s", c->rest);
		rc = load_big(rest, &cfg, err);
		if (rc == 0)
			fail_msg("case %zu (%s) accepted", i, c->rest);
		if (rc != -EINVAL)
			fail_msg("case %zu: rc %d: %s", i, rc, err);
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

static void test_ems_messages_exact(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN];

	(void)state;
	assert_int_equal(load_big("\"twc\": {" TWC_OK "}, \"ems\": [{" FRONIUS_OK ", \"foo\": 1}]", &cfg, err), -EINVAL);
	assert_string_equal(err, "config: ems[0].foo: unknown key for type fronius");
	assert_int_equal(load_big("\"twc\": {" TWC_OK "}, \"ems\": [{\"type\": \"fronius\"}]", &cfg, err), -EINVAL);
	assert_string_equal(err, "config: ems[0].url: required key missing for type fronius");
	assert_int_equal(load_big("\"twc\": {" TWC_OK "}, \"policy\": {\"mode\": \"track-green\"}", &cfg, err), -EINVAL);
	assert_string_equal(err, "config: ems: required key missing for mode \"track-green\" (a meter to track)");
}

static void test_policy_until(void **state)
{
	static const struct {
		const char *text;
		int64_t ms;
	} ok[] = {
		/* 2026-11-22 is day 20779 since 1970-01-01 (56 years with 14 leap days = 20454 days, plus 304
		 * days Jan..Oct, plus 21); 20779 x 86400 = 1795305600 s; 07:00+01:00 is 06:00Z, + 21600 s. */
		{ "2026-11-22T07:00:00+01:00", 1795327200000LL },
		{ "2026-11-22T06:00Z", 1795327200000LL },
		{ "2026-11-22T06:00:00Z", 1795327200000LL },
		{ "2026-11-22T01:00-05:00", 1795327200000LL },
		/* 2026-03-01T23:30:15-05:30 = 2026-03-02T05:00:15Z: day 20454 + 59 + 1 = 20514,
		 * 20514 x 86400 + 5 x 3600 + 15 = 1772427615 s. */
		{ "2026-03-01T23:30:15-05:30", 1772427615000LL },
		{ "1970-01-01T00:00Z", 0 },
		/* 2028 is a leap year: 2028-02-29T12:00Z = day 21243 (20454 + 365 + 365 + 59), + 43200 s. */
		{ "2028-02-29T12:00Z", (21243LL * 86400 + 43200) * 1000 },
	};
	struct gw_config cfg;
	char err[ERR_LEN], rest[256];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(rest, sizeof(rest), "\"twc\": {" TWC_OK "}, \"policy\": {\"mode\": \"charge-now\", \"until\": "
			 "\"%s\", \"then\": \"off\"}", ok[i].text);
		if (load_with(rest, &cfg, err) != 0)
			fail_msg("case %zu (%s) refused: %s", i, ok[i].text, err);
		assert_true(cfg.policy.has_until);
		if (cfg.policy.until_ms != ok[i].ms)
			fail_msg("case %zu (%s): %lld, expected %lld", i, ok[i].text, (long long)cfg.policy.until_ms,
				 (long long)ok[i].ms);
		assert_int_equal(cfg.policy.mode, EMS_POLICY_CHARGE_NOW);
		assert_int_equal(cfg.policy.then, EMS_POLICY_OFF);
	}
	/* then defaults to off. */
	assert_int_equal(load_with("\"twc\": {" TWC_OK "}, \"policy\": {\"until\": \"2026-11-22T06:00Z\"}", &cfg, err), 0);
	assert_true(cfg.policy.has_until);
	assert_int_equal(cfg.policy.then, EMS_POLICY_OFF);
	/* charge now until the morning, then back to the sun (docs/ems.md). */
	assert_int_equal(load_with("\"twc\": {" TWC_OK "}, \"policy\": {\"mode\": \"charge-now\", \"until\": "
				   "\"2026-11-22T07:00:00+01:00\", \"then\": \"track-green\"}, \"ems\": [{" FRONIUS_OK "}]",
				   &cfg, err),
			 0);
	assert_int_equal(cfg.policy.then, EMS_POLICY_TRACK_GREEN);
	assert_int_equal(cfg.ems.n, 1);
}

static void test_policy_schedule(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN];
	const struct ems_policy_window *w;

	(void)state;
	if (load_big("\"twc\": {" TWC_OK "}, \"policy\": {\"mode\": \"scheduled\", \"schedule\": ["
		     " {\"days\": \"mon-fri\", \"start\": \"22:00\", \"end\": \"06:00\", \"amps\": 16},"
		     " {\"days\": \"sat,sun\", \"start\": \"10:00\", \"end\": \"16:00\", \"amps\": 40},"
		     " {\"days\": \"fri-mon\", \"start\": \"00:00\", \"end\": \"23:59\", \"amps\": 6},"
		     " {\"days\": \"daily\", \"start\": \"12:00\", \"end\": \"12:00\", \"amps\": 10},"
		     " {\"start\": \"03:15\", \"end\": \"04:45\", \"amps\": 20},"
		     " {\"days\": \"Wed\", \"start\": \"01:00\", \"end\": \"02:00\", \"amps\": 7},"
		     " {\"days\": \"mon-fri,sun\", \"start\": \"01:00\", \"end\": \"02:00\", \"amps\": 8},"
		     " {\"days\": \"sun-sat\", \"start\": \"01:00\", \"end\": \"02:00\", \"amps\": 9},"
		     " {\"days\": \"sat-sat\", \"start\": \"01:00\", \"end\": \"02:00\", \"amps\": 9}]}",
		     &cfg, err) != 0)
		fail_msg("refused: %s", err);
	assert_int_equal(cfg.policy.mode, EMS_POLICY_SCHEDULED);
	assert_int_equal(cfg.policy.n_windows, 9);
	w = cfg.policy.windows;
	/* Bit 0 is Sunday .. bit 6 Saturday. */
	assert_int_equal(w[0].days, 0x3E); /* mon..fri = bits 1-5 = 2+4+8+16+32 = 62 */
	assert_int_equal(w[0].start_min, 1320);
	assert_int_equal(w[0].end_min, 360);
	assert_int_equal(w[0].amps, 16);
	assert_int_equal(w[1].days, 0x41); /* sun (1) + sat (64) = 65 */
	assert_int_equal(w[1].start_min, 600);
	assert_int_equal(w[1].end_min, 960);
	assert_int_equal(w[1].amps, 40);
	assert_int_equal(w[2].days, 0x63); /* fri (32), sat (64), sun (1), mon (2) = 99: wraps past Saturday */
	assert_int_equal(w[2].start_min, 0);
	assert_int_equal(w[2].end_min, 1439);
	assert_int_equal(w[2].amps, 6);
	assert_int_equal(w[3].days, 0x7F);
	assert_int_equal(w[3].start_min, 720);
	assert_int_equal(w[3].end_min, 720);
	assert_int_equal(w[4].days, 0x7F); /* days left out: daily */
	assert_int_equal(w[4].start_min, 195);
	assert_int_equal(w[4].end_min, 285);
	assert_int_equal(w[5].days, 0x08); /* wed, case-insensitive */
	assert_int_equal(w[6].days, 0x3F); /* mon..fri + sun */
	assert_int_equal(w[7].days, 0x7F);
	assert_int_equal(w[8].days, 0x40); /* a one-day range */

	/* At most 16 windows. */
	{
		char rest[4096];
		size_t len = (size_t)snprintf(rest, sizeof(rest), "\"twc\": {" TWC_OK "}, \"policy\": {\"schedule\": [");

		for (int i = 0; i < 17; i++)
			len += (size_t)snprintf(rest + len, sizeof(rest) - len,
						"%s{\"start\": \"01:00\", \"end\": \"02:00\", \"amps\": 6}", i ? ", " : "");
		snprintf(rest + len, sizeof(rest) - len, "]}");
		assert_int_equal(load_big(rest, &cfg, err), -EINVAL);
		assert_string_equal(err, "config: policy.schedule: at most 16 windows (got 17)");
	}
	/* A schedule is kept in the other modes too (for a later "then"). */
	assert_int_equal(load_with("\"twc\": {" TWC_OK "}, \"policy\": {\"mode\": \"off\", \"schedule\": [{\"start\": "
				   "\"01:00\", \"end\": \"02:00\", \"amps\": 6}]}", &cfg, err),
			 0);
	assert_int_equal(cfg.policy.n_windows, 1);
	/* amps are checked against the twc keys actually given. */
	assert_int_equal(load_with("\"twc\": {\"port\": \"/dev/ttyUSB0\", \"wiringMaxAmpsAllTWCs\": 64, "
				   "\"wiringMaxAmpsPerTWC\": 32, \"minAmpsPerTWC\": 10}, \"policy\": {\"schedule\": "
				   "[{\"start\": \"01:00\", \"end\": \"02:00\", \"amps\": 64}]}", &cfg, err),
			 0);
	assert_int_equal(load_with("\"twc\": {\"port\": \"/dev/ttyUSB0\", \"wiringMaxAmpsAllTWCs\": 64, "
				   "\"wiringMaxAmpsPerTWC\": 32, \"minAmpsPerTWC\": 10}, \"policy\": {\"schedule\": "
				   "[{\"start\": \"01:00\", \"end\": \"02:00\", \"amps\": 9}]}", &cfg, err),
			 -EINVAL);
	assert_string_equal(err, "config: policy.schedule[0].amps: must be from 10 (twc.minAmpsPerTWC) to 64 "
				 "(twc.wiringMaxAmpsAllTWCs) (got 9)");
}

/* Whatever is wrong, ems[].password and ems[].token never reach a message. */
static void test_ems_secret_never_echoed(void **state)
{
	static char long_secret[3000];
	static char cases[16][3200];
	struct gw_config cfg;
	char err[ERR_LEN], rest[4096];
	int n = 0;

	(void)state;
	/* 128 characters: one too many for password. */
	memset(long_secret, 0, sizeof(long_secret));
	for (int i = 0; i < 128; i++)
		long_secret[i] = "SECRET"[i % 6];
	snprintf(cases[n++], sizeof(cases[0]), "{\"type\": \"powerwall\", \"url\": \"https://pw\", \"password\": \"%s\"}",
		 long_secret);
	snprintf(cases[n++], sizeof(cases[0]), "{\"type\": \"mqtt\", \"host\": \"b\", \"password\": \"%s\", "
		 "\"values\": {\"grid\": \"a\"}}", long_secret);
	/* 2048 characters: one too many for token. */
	for (int i = 0; i < 2048; i++)
		long_secret[i] = "SECRET"[i % 6];
	snprintf(cases[n++], sizeof(cases[0]), "{\"type\": \"envoy\", \"url\": \"https://e\", \"token\": \"%s\"}",
		 long_secret);
	snprintf(cases[n++], sizeof(cases[0]), "{\"type\": \"powerwall\", \"url\": \"https://pw\", \"password\": 12345}");
	snprintf(cases[n++], sizeof(cases[0]), "{\"type\": \"homeassistant\", \"url\": \"http://ha\", \"token\": 12345, "
		 "\"values\": {\"grid\": \"sensor.g\"}}");
	snprintf(cases[n++], sizeof(cases[0]), "{\"type\": \"powerwall\", \"url\": \"https://pw\", \"password\": "
		 "[\"SECRET\"]}");
	/* Something else is wrong next to a good secret. */
	snprintf(cases[n++], sizeof(cases[0]), "{\"type\": \"powerwall\", \"url\": \"ftp://pw\", \"password\": \"SECRET\"}");
	snprintf(cases[n++], sizeof(cases[0]), "{\"type\": \"homeassistant\", \"url\": \"http://ha\", \"token\": "
		 "\"SECRET\", \"values\": {\"grid\": \"Sensor.Grid\"}}");
	snprintf(cases[n++], sizeof(cases[0]), "{\"type\": \"envoy\", \"url\": \"https://e\", \"token\": \"SECRET\", "
		 "\"pollSeconds\": 9, \"maxAgeSeconds\": 1}");
	/* A key the type does not take holding a secret. */
	snprintf(cases[n++], sizeof(cases[0]), "{\"type\": \"fronius\", \"url\": \"http://f\", \"token\": \"SECRET\"}");
	snprintf(cases[n++], sizeof(cases[0]), "{\"type\": \"envoy\", \"url\": \"https://e\", \"password\": \"SECRET\"}");
	/* Credentials in the URL, even one that is malformed besides. */
	snprintf(cases[n++], sizeof(cases[0]), "{\"type\": \"fronius\", \"url\": \"http://admin:SECRET@inverter/\"}");
	snprintf(cases[n++], sizeof(cases[0]), "{\"type\": \"fronius\", \"url\": \"http://admin:SECRET@inverter/a b\"}");

	for (int i = 0; i < n; i++) {
		snprintf(rest, sizeof(rest), "\"twc\": {" TWC_OK "}, \"ems\": [%.3200s]", cases[i]);
		assert_int_equal(load_big(rest, &cfg, err), -EINVAL);
		if (strncmp(err, "config: ems[0].", 15) != 0)
			fail_msg("case %d: message does not name the member: %s", i, err);
		if (strstr(err, "SECRET") || strstr(err, "12345"))
			fail_msg("case %d echoes a secret: %s", i, err);
	}

	/* JSON syntax errors inside a secret: the parser's message quotes the text near the error, so the
	 * loader keeps only the position (a JWT pasted with a line break in it is the likely case). */
	{
		static const char *const syntax[] = {
			"{\"type\": \"envoy\", \"url\": \"https://e\", \"token\": \"eyJSECRET\nSECRET\"}",
			"{\"type\": \"json\", \"url\": \"http://j\", \"token\": \"SECRET\\u0000SECRET\", \"values\": "
			"{\"grid\": \"/g\"}}",
			"{\"type\": \"powerwall\", \"url\": \"https://pw\", \"password\": \"SECRET\\qSECRET\"}",
			"{\"type\": \"powerwall\", \"url\": \"https://pw\", \"password\": \"SECRET\tSECRET\"}",
			"{\"type\": \"powerwall\", \"url\": \"https://pw\", \"password\": \"SECRETSECRET",
		};

		for (size_t i = 0; i < sizeof(syntax) / sizeof(syntax[0]); i++) {
			snprintf(rest, sizeof(rest), "\"twc\": {" TWC_OK "}, \"ems\": [%s]", syntax[i]);
			assert_int_equal(load_big(rest, &cfg, err), -EINVAL);
			if (strncmp(err, "config: <test>:1:", 17) != 0)
				fail_msg("syntax case %zu: no position: %s", i, err);
			if (strstr(err, "SECRET"))
				fail_msg("syntax case %zu echoes a secret: %s", i, err);
		}
	}
}

/* Found by tests/fuzz/fuzz_gw_config.c. */
static void test_fuzz_regressions(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN], text[1024];

	(void)state;
	/* No message buffer (set_err() takes NULL and 0) with a key the meter type does not take: the
	 * " for type ..." suffix called strlen(NULL). */
	snprintf(text, sizeof(text),
		 "{\"dataDir\": \"%s/data\", \"twc\": {" TWC_OK "}, \"ems\": [{\"type\": \"solaredge-modbus\", "
		 "\"host\": \"h\", \"url\": \"http://h\"}]}",
		 tmp_root);
	assert_int_equal(gw_config_from_json_text(text, "<test>", &cfg, NULL, 0), -EINVAL);
	memset(err, 'x', sizeof(err));
	assert_int_equal(gw_config_from_json_text(text, "<test>", &cfg, err, 0), -EINVAL);
	assert_int_equal(err[0], 'x');

	/* A token the meter core refuses for its Authorization header: -n said "config OK", then the
	 * gateway failed to start ("the meter core refused its settings"). Not echoed: a secret. */
	assert_int_equal(load_big("\"twc\": {" TWC_OK "}, \"ems\": [{\"type\": \"envoy\", \"url\": \"https://envoy.local\", "
				  "\"token\": \"eyJ SECRET\"}]",
				  &cfg, err),
			 -EINVAL);
	assert_string_equal(err, "config: ems[0].token: must be printable ASCII without spaces");
	assert_int_equal(load_big("\"twc\": {" TWC_OK "}, \"ems\": [{\"type\": \"homeassistant\", \"url\": \"http://ha\", "
				  "\"token\": \"SECRET\\tSECRET\", \"values\": {\"grid\": \"sensor.g\"}}]",
				  &cfg, err),
			 -EINVAL);
	assert_string_equal(err, "config: ems[0].token: must be printable ASCII without spaces");

	/* A refused entity or URL holding a control character: the message stays one line. */
	assert_int_equal(load_big("\"twc\": {" TWC_OK "}, \"ems\": [{\"type\": \"homeassistant\", \"url\": \"http://ha\", "
				  "\"token\": \"t\", \"values\": {\"grid\": \"s\\nsor.grid\"}}]",
				  &cfg, err),
			 -EINVAL);
	assert_string_equal(err, "config: ems[0].values.grid.entity: must be an entity id such as sensor.grid_power "
				 "(got \"s?sor.grid\")");
	assert_int_equal(load_big("\"twc\": {" TWC_OK "}, \"ems\": [{\"type\": \"fronius\", \"url\": \"http://inverter/\\n\"}]",
				  &cfg, err),
			 -EINVAL);
	assert_string_equal(err, "config: ems[0].url: must be an http:// or https:// URL (got \"http://inverter/?\")");
}

/* ---- several charge points: chargePoints ---- */

#define CP_TWC(port) "\"twc\": {\"port\": \"" port "\", \"wiringMaxAmpsAllTWCs\": 48, \"wiringMaxAmpsPerTWC\": 32}"

/* A chargePoints file: `{"dataDir": "<tmp_root>/<dir>", <rest>}` as a set. */
static int set_with(const char *dir, const char *rest, struct gw_config_set *set, char *err)
{
	char text[4096];

	snprintf(text, sizeof(text), "{\"dataDir\": \"%s/%s\", %s}", tmp_root, dir, rest);
	err[0] = '\0';
	return gw_config_set_from_json_text(text, "<test>", set, err, ERR_LEN);
}

static void test_points_list(void **state)
{
	struct gw_config_set set;
	char err[ERR_LEN], want[256];
	struct stat st;

	(void)state;
	assert_int_equal(set_with("depot",
		"\"site\": {\"maxAmps\": 60},"
		"\"ocpp\": {\"url\": \"ws://cs.example/ocpp\", \"callTimeout\": 20, \"vendor\": \"acme\","
		"           \"idTag\": {\"source\": \"fixed\", \"fixed\": \"DEPOT\"}},"
		"\"policy\": {\"mode\": \"off\", \"fallbackAfter\": 60},"
		"\"chargePoints\": ["
		" {\"chargeBoxId\": \"DEPOT-1\", " CP_TWC("tcp://bus1.local:8899") ","
		"  \"ocpp\": {\"url\": \"wss://other.example/ocpp\", \"idTag\": {\"fixed\": \"ONE\"}},"
		"  \"policy\": {\"mode\": \"charge-now\"}},"
		" {\"chargeBoxId\": \"DEPOT-2\", " CP_TWC("/dev/ttyUSB1") "}]",
		&set, err), 0);
	assert_int_equal(set.n, 2);
	assert_true(set.list);
	/* The entry's own keys win; the top-level ocpp and policy fill in the rest. */
	assert_string_equal(set.cp[0].cp_id, "DEPOT-1");
	assert_string_equal(set.cp[0].ocpp.charge_box_id, "DEPOT-1");
	assert_string_equal(set.cp[0].ocpp.url, "wss://other.example/ocpp");
	assert_int_equal(set.cp[0].ocpp.call_timeout, 20);
	assert_string_equal(set.cp[0].ocpp.vendor, "acme");
	assert_int_equal(set.cp[0].ocpp.id_tag_source, OCPP_IDTAG_FIXED);
	assert_string_equal(set.cp[0].ocpp.id_tag_fixed, "ONE");
	assert_int_equal(set.cp[0].policy.mode, EMS_POLICY_CHARGE_NOW);
	assert_int_equal(set.cp[0].policy.fallback_after, 60);
	assert_string_equal(set.cp[0].twc.port, "tcp://bus1.local:8899");
	assert_int_equal(set.cp[0].cp_index, 0);
	assert_int_equal(set.cp[0].cp_count, 2);
	assert_string_equal(set.cp[1].cp_id, "DEPOT-2");
	assert_string_equal(set.cp[1].ocpp.charge_box_id, "DEPOT-2");
	assert_string_equal(set.cp[1].ocpp.url, "ws://cs.example/ocpp");
	assert_string_equal(set.cp[1].ocpp.id_tag_fixed, "DEPOT");
	assert_int_equal(set.cp[1].policy.mode, EMS_POLICY_OFF);
	assert_string_equal(set.cp[1].twc.port, "/dev/ttyUSB1");
	assert_int_equal(set.cp[1].cp_index, 1);
	/* Shared keys are every entry's. */
	assert_int_equal(set.cp[0].site.max_amps, 60);
	assert_int_equal(set.cp[1].site.max_amps, 60);
	/* One state folder per charge point, created. */
	snprintf(want, sizeof(want), "%s/depot/DEPOT-1", tmp_root);
	assert_string_equal(set.cp[0].data_dir, want);
	assert_int_equal(stat(want, &st), 0);
	snprintf(want, sizeof(want), "%s/depot/DEPOT-2", tmp_root);
	assert_string_equal(set.cp[1].data_dir, want);
	assert_int_equal(stat(want, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	gw_config_set_clear(&set);
	assert_null(set.cp);

	/* An entry without any ocpp: a standalone bus among the others. */
	assert_int_equal(set_with("depot2", "\"chargePoints\": [{\"chargeBoxId\": \"A\", " CP_TWC("/dev/ttyUSB0") "},"
				  "{\"chargeBoxId\": \"B\", " CP_TWC("/dev/ttyUSB1") ", \"ocpp\": {\"url\": \"ws://cs/x\"}}]",
				  &set, err), 0);
	assert_false(set.cp[0].ocpp.enabled);
	assert_true(set.cp[1].ocpp.enabled);
	assert_int_equal(set.cp[0].site.max_amps, 0);
	gw_config_set_clear(&set);
}

static void test_points_single_form(void **state)
{
	struct gw_config_set set;
	struct gw_config one;
	char err[ERR_LEN], want[256], text[1024];

	(void)state;
	/* The single-bus form is one entry whose state stays in dataDir itself (existing installs). */
	assert_int_equal(set_with("single", CP_TWC("/dev/ttyUSB0") ", " OCPP_OK "}", &set, err), 0);
	assert_int_equal(set.n, 1);
	assert_false(set.list);
	snprintf(want, sizeof(want), "%s/single", tmp_root);
	assert_string_equal(set.cp[0].data_dir, want);
	assert_string_equal(set.cp[0].cp_id, "");
	assert_int_equal(set.cp[0].cp_count, 1);
	assert_string_equal(set.cp[0].ocpp.charge_box_id, "cp1");
	gw_config_set_clear(&set);
	/* gw_config_from_json_text() of a list gives its first entry. */
	snprintf(text, sizeof(text), "{\"dataDir\": \"%s/first\", \"chargePoints\": [{\"chargeBoxId\": \"X\", "
		 CP_TWC("/dev/ttyUSB0") "}, {\"chargeBoxId\": \"Y\", " CP_TWC("/dev/ttyUSB1") "}]}", tmp_root);
	assert_int_equal(gw_config_from_json_text(text, "<test>", &one, err, sizeof(err)), 0);
	assert_string_equal(one.cp_id, "X");
	snprintf(want, sizeof(want), "%s/first/X", tmp_root);
	assert_string_equal(one.data_dir, want);
}

static void test_points_errors(void **state)
{
	static const struct {
		const char *rest, *msg;
	} cases[] = {
		{ "\"chargePoints\": []", "config: chargePoints: must be an array of 1 to 64 charge points (got 0 entries)" },
		{ "\"chargePoints\": {}", "config: chargePoints: must be an array of 1 to 64 charge points (got an object)" },
		{ "\"chargePoints\": [{\"chargeBoxId\": \"A\", " CP_TWC("/dev/ttyUSB0") "}, 3]",
		  "config: chargePoints[1]: must be an object (got 3)" },
		{ "\"chargePoints\": [{\"chargeBoxId\": \"A\", " CP_TWC("/dev/ttyUSB0") "},"
		  " {\"chargeBoxId\": \"B\", \"twc\": {\"port\": \"ttyUSB1\", \"wiringMaxAmpsAllTWCs\": 48, \"wiringMaxAmpsPerTWC\": 32}}]",
		  "config: chargePoints[1].twc.port: must be an absolute device path (e.g. /dev/ttyUSB0) or tcp://host:port "
		  "with port 1 to 65535 (got \"ttyUSB1\")" },
		{ "\"chargePoints\": [{\"chargeBoxId\": \"A\", " CP_TWC("/dev/ttyUSB0") "}, {\"chargeBoxId\": \"B\"}]",
		  "config: chargePoints[1].twc.port: required key missing" },
		{ "\"chargePoints\": [{" CP_TWC("/dev/ttyUSB0") "}]", "config: chargePoints[0].chargeBoxId: required key missing" },
		{ "\"chargePoints\": [{\"chargeBoxId\": \"..\", " CP_TWC("/dev/ttyUSB0") "}]",
		  "config: chargePoints[0].chargeBoxId: must be a string naming a directory: not \".\" or \"..\" (got \"..\")" },
		{ "\"chargePoints\": [{\"chargeBoxId\": \"a/b\", " CP_TWC("/dev/ttyUSB0") "}]",
		  "config: chargePoints[0].chargeBoxId: must be 1 to 48 characters without '/', spaces or control characters "
		  "(got \"a/b\")" },
		{ "\"chargePoints\": [{\"chargeBoxId\": \"A\", " CP_TWC("/dev/ttyUSB0") "}, {\"chargeBoxId\": \"a\", "
		  CP_TWC("/dev/ttyUSB1") "}]",
		  "config: chargePoints[1].chargeBoxId: \"a\" is already chargePoints[0]'s (they name directories, so case "
		  "does not count)" },
		{ "\"chargePoints\": [{\"chargeBoxId\": \"A\", " CP_TWC("/dev/ttyUSB0") "}, {\"chargeBoxId\": \"B\", "
		  CP_TWC("/dev/ttyUSB0") "}]",
		  "config: chargePoints[1].twc.port: \"/dev/ttyUSB0\" is already chargePoints[0]'s (one bus, one master)" },
		{ "\"chargePoints\": [{\"chargeBoxId\": \"A\", \"tws\": {}}]", "config: chargePoints[0].tws: unknown key" },
		{ "\"chargePoints\": [{\"chargeBoxId\": \"A\", " CP_TWC("/dev/ttyUSB0") ", \"policy\": {\"mood\": 1}}]",
		  "config: chargePoints[0].policy.mood: unknown key" },
		{ "\"chargePoints\": [{\"chargeBoxId\": \"A\", " CP_TWC("/dev/ttyUSB0") ", \"ocpp\": {\"chargeBoxId\": \"Z\"}}]",
		  "config: chargePoints[0].ocpp.chargeBoxId: the entry's chargeBoxId names it; remove this one" },
		/* An entry's ocpp without a url anywhere: the entry lacks it. */
		{ "\"chargePoints\": [{\"chargeBoxId\": \"A\", " CP_TWC("/dev/ttyUSB0") ", \"ocpp\": {\"callTimeout\": 5}}]",
		  "config: chargePoints[0].ocpp.url: required key missing (the ocpp section needs it)" },
		/* A bad top-level default keeps its own name: the fix is there. */
		{ "\"ocpp\": {\"url\": \"http://cs\"}, \"chargePoints\": [{\"chargeBoxId\": \"A\", " CP_TWC("/dev/ttyUSB0") "}]",
		  "config: ocpp.url: must be ws://host[:port][/path] or wss://host[:port][/path] with port 1 to 65535 and no "
		  "user, query or fragment (got \"http://cs\")" },
		{ CP_TWC("/dev/ttyUSB0") ", \"chargePoints\": [{\"chargeBoxId\": \"A\", " CP_TWC("/dev/ttyUSB0") "}]",
		  "config: twc: with chargePoints, each entry has its own twc (chargePoints[i].twc); remove the top-level one" },
		{ "\"site\": {\"maxAmps\": 0}, \"chargePoints\": [{\"chargeBoxId\": \"A\", " CP_TWC("/dev/ttyUSB0") "}]",
		  "config: site.maxAmps: must be an integer from 1 to 20000 (got 0)" },
	};
	struct gw_config_set set;
	char err[ERR_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = set_with("bad", cases[i].rest, &set, err);

		if (rc != -EINVAL || strcmp(err, cases[i].msg))
			fail_msg("case %zu: rc %d, \"%s\"\nwanted \"%s\"", i, rc, err, cases[i].msg);
		assert_null(set.cp);
	}
}

static void test_points_bound(void **state)
{
	size_t cap = 80 * 160 + 256, used;
	char *text = malloc(cap), err[ERR_LEN];
	struct gw_config_set set;

	(void)state;
	assert_non_null(text);
	for (int n = 64; n <= 65; n++) {
		used = (size_t)snprintf(text, cap, "{\"dataDir\": \"%s/many\", \"chargePoints\": [", tmp_root);
		for (int i = 0; i < n; i++)
			used += (size_t)snprintf(text + used, cap - used, "%s{\"chargeBoxId\": \"CP%02d\", \"twc\": {\"port\": "
						 "\"tcp://127.0.0.1:%d\", \"wiringMaxAmpsAllTWCs\": 48, \"wiringMaxAmpsPerTWC\": 32}}",
						 i ? "," : "", i, 20000 + i);
		snprintf(text + used, cap - used, "]}");
		err[0] = '\0';
		if (n == 64) {
			assert_int_equal(gw_config_set_from_json_text(text, "<test>", &set, err, sizeof(err)), 0);
			assert_int_equal(set.n, 64);
			assert_string_equal(set.cp[63].cp_id, "CP63");
			gw_config_set_clear(&set);
		} else {
			assert_int_equal(gw_config_set_from_json_text(text, "<test>", &set, err, sizeof(err)), -EINVAL);
			assert_string_equal(err, "config: chargePoints: must be an array of 1 to 64 charge points (got 65 entries)");
		}
	}
	free(text);
}

/* A list whose second entry is wrong creates no folder for the first: nothing on disk changes. */
static void test_points_nothing_created_on_error(void **state)
{
	struct gw_config_set set;
	char err[ERR_LEN], dir[256];
	struct stat st;

	(void)state;
	assert_int_equal(set_with("untouched", "\"chargePoints\": [{\"chargeBoxId\": \"A\", " CP_TWC("/dev/ttyUSB0") "},"
				  "{\"chargeBoxId\": \"B\"}]", &set, err), -EINVAL);
	snprintf(dir, sizeof(dir), "%s/untouched", tmp_root);
	assert_int_equal(stat(dir, &st), -1);
}

/* The operator's policy goes on top of the named entry's own; the others are not touched. */
static void test_points_entry_with_policy(void **state)
{
	struct gw_config cfg;
	char err[ERR_LEN], path[256];
	json_t *pol = json_pack("{s:s}", "mode", "off");
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/points.json", tmp_root);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "{\"dataDir\": \"%s/pp\", \"policy\": {\"mode\": \"charge-now\"}, \"chargePoints\": ["
		"{\"chargeBoxId\": \"A\", " CP_TWC("/dev/ttyUSB0") "}, {\"chargeBoxId\": \"B\", " CP_TWC("/dev/ttyUSB1") "}]}",
		tmp_root);
	fclose(f);
	assert_int_equal(gw_config_entry_with_policy(path, "B", pol, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.cp_id, "B");
	assert_int_equal(cfg.policy.mode, EMS_POLICY_OFF);
	assert_int_equal(gw_config_entry_with_policy(path, "A", NULL, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.policy.mode, EMS_POLICY_CHARGE_NOW);
	assert_int_equal(gw_config_entry_with_policy(path, "C", NULL, &cfg, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "config: chargePoints: no charge point \"C\"");
	json_decref(pol);
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
		cmocka_unit_test(test_ocpp_tls_files),
		cmocka_unit_test(test_ocpp_defaults),
		cmocka_unit_test(test_ocpp_key_never_echoed),
		cmocka_unit_test(test_tesla_section),
		cmocka_unit_test(test_tesla_errors),
		cmocka_unit_test(test_url_split),
		cmocka_unit_test(test_listen_parse),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_policy_defaults),
		cmocka_unit_test(test_ems_full_http_modbus),
		cmocka_unit_test(test_ems_full_told),
		cmocka_unit_test(test_ems_trust),
		cmocka_unit_test(test_ems_policy_bad_cases),
		cmocka_unit_test(test_ems_messages_exact),
		cmocka_unit_test(test_policy_until),
		cmocka_unit_test(test_policy_schedule),
		cmocka_unit_test(test_ems_secret_never_echoed),
		cmocka_unit_test(test_fuzz_regressions),
		cmocka_unit_test(test_points_list),
		cmocka_unit_test(test_points_single_form),
		cmocka_unit_test(test_points_errors),
		cmocka_unit_test(test_points_bound),
		cmocka_unit_test(test_points_nothing_created_on_error),
		cmocka_unit_test(test_points_entry_with_policy),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
