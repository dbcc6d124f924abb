/*
 * gw_config: the daemon's JSON config file (read with jansson) turned into a checked struct
 * gw_config. Every key is listed once in the key table in gw_config.c with its type, range and
 * default; loading rejects unknown keys at any depth (typo protection), wrong types and out-of-range
 * values with a message that names the key, e.g.
 *   config: twc.wiringMaxAmpsPerTWC: must be an integer from 1 to 80 (got 120)
 * Past this module, code sees only the plain struct.
 */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ems_meter.h"
#include "ems_policy.h"
#include "gw_log.h"
#include "gw_url.h"
#include "ocpp_cp.h"

#define GW_CONFIG_PATH_MAX 256 /* dataDir, ocpp.caFile */
#define GW_CONFIG_PORT_MAX 256 /* twc.port: device path or tcp://host:port */
#define GW_CONFIG_URL_MAX 256  /* ocpp.url */
#define GW_CONFIG_CBID_MAX 48  /* ocpp.chargeBoxId */
#define GW_CONFIG_AUTH_KEY_MAX 40
#define GW_CONFIG_OCPP_KEYS_MAX 32 /* members of ocpp.keys */
#define GW_CONFIG_CP_MAX 64        /* members of chargePoints: charge points (buses) in one process */
#define GW_CONFIG_SITE_MAX_AMPS 20000 /* site.maxAmps: 64 buses of 240 A fit below it */

/* The policy section: the standalone policy engine (ems_policy) and its place next to OCPP. */
struct gw_config_policy {
	enum ems_policy_mode mode;     /* the core's modes; default charge-now */
	bool has_until;                /* until given: mode applies until then, then @then */
	int64_t until_ms;              /* UTC ms since the epoch */
	enum ems_policy_mode then;     /* default off */
	struct ems_policy_window windows[EMS_POLICY_MAX_WINDOWS]; /* schedule */
	int n_windows;
	int enable_delay;              /* s, default 60 */
	int disable_delay;             /* s, default 180 */
	int dwell;                     /* s, default 120 */
	int margin_w;                  /* W, default 100 */
	int battery_soc;               /* %, 0 = off */
	bool load_includes_chargers;   /* default true */
	bool apply_with_csms;          /* with a central system online, also cap by the policy; default false */
	int fallback_after;            /* s the central system may be unreachable before the policy caps, default 300 */
};

#define GW_CONFIG_EMS_MAX 4
#define GW_CONFIG_EMS_SECRET_MAX 2048 /* ems[].token (Envoy JWTs are long) */

#define GW_CONFIG_PIN_MAX 224 /* ems[].pin: up to 4 "sha256//<44 base64>" joined by ';' */

/* How an http meter's server is trusted over https (docs/ems.md, "Trusting the meter"). */
enum gw_config_meter_trust {
	GW_METER_TRUST_SYSTEM = 0, /* the system CA store, host name checked; also every http:// url */
	GW_METER_TRUST_CA,         /* caFile only, host name checked */
	GW_METER_TRUST_INSECURE,   /* insecure: true: nothing checked */
	GW_METER_TRUST_PIN,        /* pin: the server's key must be one of pin[] */
	GW_METER_TRUST_LEARN,      /* trust on first use: the key learnt into dataDir/meter-pins.json */
};

/* One member of the ems list: an energy meter. */
struct gw_config_meter {
	enum ems_meter_type type;
	char url[GW_CONFIG_URL_MAX];       /* http types */
	char host[128];                    /* solaredge-modbus, mqtt */
	int port;                          /* default 1502 / 1883 */
	int unit_id;                       /* solaredge-modbus, default 1 */
	int se_meter;                      /* solaredge-modbus meter: 0..3, default 1 */
	bool se_battery;                   /* solaredge-modbus battery, default false */
	char email[128];                   /* powerwall */
	char username[128];                /* mqtt */
	char password[128];                /* powerwall, mqtt: secret */
	char token[GW_CONFIG_EMS_SECRET_MAX]; /* envoy, homeassistant, json: secret */
	int poll_s;                        /* default 5 */
	int max_age_s;                     /* default 30 (mqtt 60) */
	char ca_file[GW_CONFIG_PATH_MAX];  /* https: the only CA trusted */
	bool insecure;                     /* https: no certificate check (default false) */
	enum gw_config_meter_trust trust;  /* https: from caFile, insecure, pin and the type (see the enum);
					    * powerwall and envoy learn by default, the others use the system store */
	char pin[GW_CONFIG_PIN_MAX];       /* trust PIN: "sha256//..." as given */
	bool pin_reset;                    /* trust LEARN from "pin": "reset": forget the stored key at start */
	struct ems_meter_source src[EMS_NVALUES];
};

struct gw_config_twc {
	char port[GW_CONFIG_PORT_MAX]; /* "/dev/ttyUSB0" or "tcp://host:port" */
	int wiring_max_all;            /* wiringMaxAmpsAllTWCs, 1..240 */
	int wiring_max_per_twc;        /* wiringMaxAmpsPerTWC, 1..80, <= wiring_max_all */
	int min_amps;                  /* minAmpsPerTWC, 5..wiring_max_per_twc, default 6 */
	int voltage;                   /* 100..480, default 230 */
	int phases;                    /* 1 or 3, default 1 */
	uint16_t master_id;            /* masterId, 4 hex digits, default 0x7777 */
	bool stop_commands;            /* stopCommands: also send FC B2 / FC B1 (firmware 4.5.3) when a
					* slave is paused / resumed; default false (see docs: side effects) */
};

/* One member of ocpp.keys, checked against the OCPP core's key table; the name as the table spells it. */
struct gw_config_ocpp_key {
	char name[OCPP_CONFIG_KEY_MAX + 1];
	char value[OCPP_CONFIG_VALUE_MAX + 1];
};

/* The ocpp section; without it (enabled false) the gateway runs the standalone policy. */
struct gw_config_ocpp {
	bool enabled;
	char url[GW_CONFIG_URL_MAX];                  /* ws://host[:port][/path] or wss://... */
	char charge_box_id[GW_CONFIG_CBID_MAX + 1];   /* appended to the URL path */
	int security_profile;                         /* 0..3; 2 and 3 need wss://, 3 cert_file+key_file */
	char authorization_key[GW_CONFIG_AUTH_KEY_MAX + 1]; /* secret; "" unless profile 1 or 2 */
	char ca_file[GW_CONFIG_PATH_MAX];             /* "" = the system CA store */
	char cert_file[GW_CONFIG_PATH_MAX];           /* certFile: first ChargePointCertificate (PEM chain) */
	char key_file[GW_CONFIG_PATH_MAX];            /* keyFile: its unencrypted PEM key, mode 0600 */
	char firmware_install[GW_CONFIG_PATH_MAX];    /* firmwareInstallCommand: run with a verified file */
	enum ocpp_id_tag_source id_tag_source;        /* default remote */
	char id_tag_fixed[OCPP_IDTAG_MAX + 1];        /* source fixed */
	struct gw_config_ocpp_key keys[GW_CONFIG_OCPP_KEYS_MAX];
	int n_keys;
	char vendor[21];                              /* CiString20, default "twcgw" */
	char model[21];                               /* CiString20, default "TWC-Gen2-Gateway" */
	int call_timeout;                             /* s, 1..300, default 30 */
};

#define GW_CONFIG_TOKEN_MAX 4096 /* tesla.accessToken / refreshToken (JWTs are long) */

/* The tesla section: the vehicle API that stops and starts cars cleanly. Without it (enabled false)
 * the bus alone decides, and a protocol 2 TWC paused at 0 A still offers 6 A. */
struct gw_config_tesla {
	bool enabled;
	char base_url[GW_CONFIG_URL_MAX];   /* baseUrl: https://... or http://..., default the local proxy */
	char ca_file[GW_CONFIG_PATH_MAX];   /* caFile: CA of the proxy's certificate, "" = system store */
	char token_url[GW_CONFIG_URL_MAX];  /* tokenUrl */
	char client_id[128];                /* clientId, required */
	char access_token[GW_CONFIG_TOKEN_MAX];  /* secret */
	char refresh_token[GW_CONFIG_TOKEN_MAX]; /* secret */
	int daily_budget;                   /* paid calls per UTC day, default 200 */
	int car_amps;                       /* 0 = leave the car's own limit alone */
	int dwell;                          /* s between start/stop of one car, default 60 */
	int start_grace;                    /* s a granted car gets to start by itself, default 30 */
	bool has_home;                      /* home given: latitude and longitude required */
	double home_lat, home_lon;          /* degrees */
	int home_radius;                    /* metres, default 300 */
};

/* The mqtt section: status out, commands in, Home Assistant discovery (gw_mqtt_status). */
struct gw_config_mqtt {
	bool enabled;
	char host[256];
	int port;                    /* default 1883, 8883 with TLS */
	bool tls;                    /* tls, or a caFile given */
	char ca_file[GW_CONFIG_PATH_MAX]; /* "" = the system's CAs */
	char username[128];
	char password[256];          /* secret */
	char client_id[128];         /* "" = twcgw-<prefix> */
	char prefix[64];             /* topic prefix, default "twcgw" */
	bool discovery;              /* Home Assistant discovery, default true */
	char discovery_prefix[64];   /* default "homeassistant" */
};

/* The http section: status page, REST API and /metrics (gateway/web). Enabled by the section. */
#define GW_CONFIG_HTTP_LISTEN_MAX 4
struct gw_config_http {
	bool enabled;
	char listen[GW_CONFIG_HTTP_LISTEN_MAX][64]; /* "127.0.0.1:8080", "[::]:8443"; default loopback 8080 */
	int n_listen;
	bool beyond_loopback;          /* a listen address other than 127.0.0.0/8 and ::1 */
	char cert_file[GW_CONFIG_PATH_MAX]; /* both or neither: HTTPS */
	char key_file[GW_CONFIG_PATH_MAX];
	char password_hash[160];       /* twcgw --hash-password; secret (a hash, still not to be shown) */
	char token[256];               /* bearer token; secret */
	bool auth_read;                /* beyond loopback, reading needs credentials too; default false */
};

struct gw_config {
	bool example;                      /* exampleConfig: true is refused (the packaged example) */
	char data_dir[GW_CONFIG_PATH_MAX]; /* exists (created 0750 if missing) and is writable; in the
					    * chargePoints form <dataDir>/<chargeBoxId> of the entry */
	/* Which charge point this is: the chargePoints entry's chargeBoxId, its index and the number of
	 * entries; "", 0 and 1 in the single-bus form (whose state stays in dataDir itself). */
	char cp_id[GW_CONFIG_CBID_MAX + 1];
	int cp_index, cp_count;
	struct {
		int max_amps;              /* site.maxAmps: the held sum over all buses, 0 = no site limit */
	} site;
	struct gw_config_twc twc;
	struct gw_config_policy policy;
	struct {
		struct gw_config_meter m[GW_CONFIG_EMS_MAX];
		int n;
	} ems;
	struct {
		enum gw_log_level level;  /* default info */
		int status_interval;      /* seconds between status lines, 0 = off, default 10 */
	} log;
	struct gw_config_ocpp ocpp;
	struct gw_config_tesla tesla;
	struct gw_config_mqtt mqtt;
	struct gw_config_http http;
};

/*
 * Several charge points in one file (docs/depot.md): "chargePoints": [{"chargeBoxId", "twc", "ocpp",
 * "policy"}, ...], at most GW_CONFIG_CP_MAX. Each entry is loaded as if it were a single-bus file made
 * of the top-level keys (dataDir, log, ems, tesla, mqtt, http, site shared) with its own twc, its ocpp
 * on top of the top-level ocpp (defaults for every entry), its policy on top of the top-level policy,
 * ocpp.chargeBoxId = its chargeBoxId and dataDir = <dataDir>/<chargeBoxId>. Errors name the entry:
 *   config: chargePoints[1].twc.port: must be an absolute device path ... (got "ttyUSB1")
 * chargeBoxIds are unique (also ignoring case: they are directory names) and so is twc.port. The
 * single-bus form is one entry, whose dataDir is the top-level dataDir itself.
 */
struct gw_config_set {
	int n;                 /* entries, 1..GW_CONFIG_CP_MAX */
	bool list;             /* the chargePoints form */
	struct gw_config *cp;  /* n of them (heap): gw_config_set_clear() */
};

/* Load every entry of @path (all checked, then the dataDirs created). On failure @out is empty. */
int gw_config_set_load(const char *path, struct gw_config_set *out, char *err, size_t errlen);
int gw_config_set_from_json_text(const char *text, const char *source, struct gw_config_set *out, char *err,
				 size_t errlen);
void gw_config_set_clear(struct gw_config_set *set); /* NULL or cleared is a no-op */

/*
 * gw_config_entry_with_policy() - the entry @cp_id of @path with the operator's @policy on top of its
 * own (see gw_config_with_policy). @cp_id "" or NULL: the single-bus form, or the first entry.
 * -ENOENT with @err set when the file has no entry @cp_id.
 */
int gw_config_entry_with_policy(const char *path, const char *cp_id, const json_t *policy, struct gw_config *out,
				char *err, size_t errlen);

/**
 * gw_config_load() - read, parse and validate a config file.
 * @path:   file to read (borrowed).
 * @out:    filled in only on success; untouched otherwise, so a reload can keep the old config.
 * @err:    receives a one-line message starting with "config: " on failure (never a secret value).
 * @errlen: size of @err.
 * Return: 0, -EINVAL for a syntax or validation error, or the negative errno of a failed read or of
 * a dataDir that cannot be created.
 */
int gw_config_load(const char *path, struct gw_config *out, char *err, size_t errlen);

/*
 * gw_config_with_policy() - gw_config_load() with the operator's @policy object (settings.json, the
 * same members as the config's "policy": mode, until, then, schedule) on top of the file's: a mode
 * replaces mode, until and then together; a schedule replaces the schedule. Everything is checked as
 * if the file said it, and errors name the key. @policy NULL: the file alone.
 */
int gw_config_with_policy(const char *path, const json_t *policy, struct gw_config *out, char *err, size_t errlen);
/* gw_config_load(), gw_config_with_policy() and gw_config_from_json_text() give the first entry of a
 * chargePoints file (checking that one alone); gw_config_set_load() checks and gives them all. */

/* An http.listen address ("127.0.0.1:8080", "[::1]:0"): 0 if well-formed, else -EINVAL. */
int gw_config_listen_check(const char *addr);

/* policy.until's text ("2026-11-22T07:00:00+01:00") as UTC ms since the epoch: 0, or -EINVAL with
 * @why saying what the value must look like. */
int gw_config_until_text(const char *value, int64_t *out_ms, char *why, size_t whylen);

/* The dotted path of key @i of the loader's table ("twc.port"), NULL past the last: what the man
 * page twcgw.json(5) must describe (tests/unit/test_man_pages.c). */
const char *gw_config_key_path(size_t i);

/**
 * gw_config_from_json_text() - the same from text in memory (tests).
 * @text:   NUL-terminated JSON (borrowed).
 * @source: name used in syntax error messages in place of a file name, e.g. "<test>".
 */
int gw_config_from_json_text(const char *text, const char *source, struct gw_config *out, char *err,
			     size_t errlen);

#endif
