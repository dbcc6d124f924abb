/*
 * ems_meter: one configured energy meter as a pure state machine: when to poll, which request to
 * make (HTTP through the gateway's curl glue, Modbus TCP bytes through the gateway's socket, MQTT
 * messages the gateway's mosquitto client hands in), logging in (Powerwall), backing off after
 * errors, and how old each value is. Errors are logged once when they start and once when the
 * meter recovers, never every poll. A value older than max_age_ms, unavailable or malformed is
 * unknown (NAN) in ems_meter_reading().
 *
 * HTTP poll per type (base = params.url without a trailing '/'):
 *   fronius        GET base/solar_api/v1/GetPowerFlowRealtimeData.fcgi
 *   powerwall      POST base/api/login/Basic (when there is no token, and once again after a 401 or
 *                  403), then GET base/api/meters/aggregates and GET base/api/system_status/soe
 *                  with the token as bearer
 *   envoy          GET base/production.json?details=1, bearer = params.token when set
 *   homeassistant  GET base/api/states/<entity> for every configured value, bearer = params.token
 *   json           GET params.url, bearer = params.token when set; each value at its pointer
 * Modbus (solaredge): read the inverter block, then the meter block (params.se_meter 1..3, 0 none),
 *   then the battery block (params.se_battery), one request at a time, each answered within
 *   EMS_METER_MODBUS_TIMEOUT_MS or the connection is reported broken (env.modbus_reset).
 * MQTT: the gateway subscribes to every configured topic (ems_meter_mqtt_topic()) and hands each
 *   message in; a value is as old as its last message.
 */
#ifndef EMS_METER_H
#define EMS_METER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core_text.h"
#include "ems.h"

#define EMS_METER_KEY_MAX 256        /* entity id, JSON pointer or topic */
#define EMS_METER_POINTER_MAX 128    /* JSON pointer inside an MQTT payload */
#define EMS_METER_TOKEN_MAX 2048     /* Powerwall session token */
#define EMS_METER_BACKOFF_MAX_MS 300000u
#define EMS_METER_MODBUS_TIMEOUT_MS 5000u

enum ems_meter_type {
	EMS_METER_FRONIUS = 0,
	EMS_METER_POWERWALL,
	EMS_METER_ENVOY,
	EMS_METER_SOLAREDGE,   /* Modbus TCP, SunSpec */
	EMS_METER_HASS,        /* Home Assistant REST */
	EMS_METER_JSON,        /* any URL answering JSON, a pointer per value */
	EMS_METER_MQTT,
};

/* "fronius", "powerwall", "envoy", "solaredge-modbus", "homeassistant", "json", "mqtt"; and back (-1). */
const char *ems_meter_type_name(enum ems_meter_type t);
int ems_meter_type_from_name(const char *name);

/* Where one value comes from, for the types that are told (homeassistant, json, mqtt). */
struct ems_meter_source {
	bool set;
	char key[EMS_METER_KEY_MAX];         /* HA entity id; json: JSON pointer; mqtt: topic */
	char pointer[EMS_METER_POINTER_MAX]; /* mqtt: JSON pointer into the payload, "" = a bare number */
	double scale;                        /* multiplier after the unit (default 1) */
	bool invert;                         /* flip the sign: the source counts export / charging + */
};

struct ems_meter_params {
	enum ems_meter_type type;
	const char *name;           /* for logs, e.g. "ems[0] fronius" (copied) */
	const char *url;            /* http types (copied) */
	const char *email;          /* powerwall: login e-mail (may be "") */
	const char *password;       /* powerwall: customer password (secret) */
	const char *token;          /* envoy JWT, HA long-lived token, json bearer: secret; may be NULL */
	uint8_t unit_id;            /* solaredge, default 1 */
	int se_meter;               /* solaredge: grid meter 1..3, 0 = none */
	bool se_battery;            /* solaredge: read StorEdge battery 1 */
	uint32_t poll_ms;           /* between polls, > 0 */
	uint32_t max_age_ms;        /* older values are unknown, > 0 */
	struct ems_meter_source src[EMS_NVALUES];
};

struct ems_meter_http_req {
	uint32_t id;                /* give back to ems_meter_http_done() */
	const char *method;         /* "GET" or "POST" */
	const char *url;
	const char *body;           /* NULL: none */
	const char *content_type;   /* NULL: none */
	const char *bearer;         /* secret; NULL: none */
};

struct ems_meter_env {
	void *user;
	/* Start a request; the answer comes back through ems_meter_http_done() (never from inside this
	 * call). Return 0, or -errno (then the poll counts as failed). */
	int (*http)(void *user, const struct ems_meter_http_req *req);
	/* Send Modbus bytes. Return 0, or -ENOTCONN while the socket is down, or -errno. */
	int (*modbus_write)(void *user, const uint8_t *bytes, size_t len);
	/* The Modbus stream is out of step (timeout, garbage): close and reconnect. Optional. */
	void (*modbus_reset)(void *user);
	/* One log line, without the meter's name (the gateway prefixes it). Never holds a secret. */
	void (*log)(void *user, enum core_log_level level, const char *msg);
};

struct ems_meter;

/* Return: the meter, or NULL (-ENOMEM, or params the type cannot work with: no url for an http
 * type, no source set for homeassistant/json/mqtt). Strings are copied. The first poll is due at
 * @now_ms. */
struct ems_meter *ems_meter_new(const struct ems_meter_params *p, const struct ems_meter_env *env, uint64_t now_ms);
void ems_meter_free(struct ems_meter *m); /* NULL is a no-op */

/* Poll when due. */
void ems_meter_tick(struct ems_meter *m, uint64_t now_ms);
/* When ems_meter_tick() has work next (monotonic ms), UINT64_MAX for never (mqtt). */
uint64_t ems_meter_next_deadline(const struct ems_meter *m);

/* The answer to request @id: @status is the HTTP status, or a negative errno when there was none.
 * @body is not NUL-terminated. Unknown ids are ignored. */
void ems_meter_http_done(struct ems_meter *m, uint32_t id, int status, const char *body, size_t len, uint64_t now_ms);

/* Modbus socket events. */
void ems_meter_modbus_up(struct ems_meter *m, uint64_t now_ms);
void ems_meter_modbus_down(struct ems_meter *m, uint64_t now_ms);
void ems_meter_modbus_rx(struct ems_meter *m, const uint8_t *bytes, size_t len, uint64_t now_ms);

/* MQTT: the topic of value @v, or NULL when @v is not taken from MQTT. */
const char *ems_meter_mqtt_topic(const struct ems_meter *m, enum ems_value v);
/* A message on @topic (NUL-terminated); every value whose topic matches takes it. */
void ems_meter_mqtt_message(struct ems_meter *m, const char *topic, const uint8_t *payload, size_t len,
			    uint64_t now_ms);
/* The broker link went down / came back (logged once, values simply age). */
void ems_meter_mqtt_link(struct ems_meter *m, bool up, uint64_t now_ms);

/* Values as of @now_ms: the last good one when younger than max_age_ms, else NAN. */
void ems_meter_reading(const struct ems_meter *m, uint64_t now_ms, struct ems_reading *out);
/* Age of value @v in ms, or UINT64_MAX if it never had one. */
uint64_t ems_meter_age_ms(const struct ems_meter *m, enum ems_value v, uint64_t now_ms);

struct ems_meter_stats {
	unsigned polls;             /* requests started (HTTP or Modbus) */
	unsigned ok;                /* answers that gave at least one value */
	unsigned failed;            /* no answer, HTTP error, Modbus exception or timeout */
	unsigned malformed;         /* answers that could not be parsed */
	unsigned logins;            /* powerwall */
	unsigned messages;          /* mqtt */
	bool failing;               /* the last poll failed (a warning was logged when it began) */
};
void ems_meter_stats(const struct ems_meter *m, struct ems_meter_stats *out);

/*
 * Several meters into one reading: pv is the sum over the meters that give pv (unknown if any of
 * them has it unknown); every other value comes from the first meter in @in that gives it at all
 * (configured to), even if that meter's value is unknown now, so a stale meter is never silently
 * replaced by another's figure.
 * @gives[i] has bit (1 << v) set when meter i is configured to give value v.
 */
void ems_combine(const struct ems_reading *in, const unsigned *gives, size_t n, struct ems_reading *out);
/* The values meter @m is configured to give (bit 1 << v), for ems_combine(). */
unsigned ems_meter_gives(const struct ems_meter *m);

#endif
