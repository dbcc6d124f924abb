/*
 * ems_meter_internal: what the meter driver's files share and nothing outside ems/ may see: the
 * driver's state (struct ems_meter), the steps a poll cycle goes through, and the calls between the
 * scheduling skeleton and the vendors' step machines. The public contract is ems_meter.h.
 *
 * ems_meter.c is the skeleton: the cycle (start, advance, end, backoff), failures logged once, values
 * and their age, the clock, and life. Each vendor's steps live in ems_meter_<vendor>.c, beside the
 * matching section of ems_parse.c (the stateless parser the steps feed): fronius, powerwall (login,
 * aggregates, soe), envoy, hass (one entity per step), json, mqtt (messages, no cycle) and solaredge
 * (the Modbus blocks and the socket's events). A vendor file builds its step's request and turns its
 * answer into values and the next step, using only the skeleton's calls below.
 */
#ifndef EMS_METER_INTERNAL_H
#define EMS_METER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core_text.h"
#include "ems_meter.h"
#include "ems_modbus.h"

#define URL_MAX 1024
#define REQ_URL_MAX (URL_MAX + 16 + EMS_METER_KEY_MAX)
#define CRED_MAX 256
#define MNAME_MAX 64
#define WHAT_MAX 320
#define ERR_MAX 160

#define BIT(v) (1u << (v))
#define GIVES_FRONIUS (BIT(EMS_GRID) | BIT(EMS_PV) | BIT(EMS_LOAD) | BIT(EMS_BATTERY) | BIT(EMS_SOC))
#define GIVES_PW_AGG (BIT(EMS_GRID) | BIT(EMS_PV) | BIT(EMS_LOAD) | BIT(EMS_BATTERY) | BIT(EMS_VOLTAGE))
#define GIVES_ENVOY (BIT(EMS_GRID) | BIT(EMS_PV) | BIT(EMS_LOAD) | BIT(EMS_VOLTAGE))

enum step {
	ST_NONE,
	ST_FRONIUS,
	ST_PW_LOGIN,
	ST_PW_AGG,
	ST_PW_SOE,
	ST_ENVOY,
	ST_HASS,
	ST_JSON,
	ST_SE_INV,
	ST_SE_METER,
	ST_SE_BATT,
};

struct val {
	double x;      /* the last good number */
	uint64_t at;   /* when it was read */
	bool have;     /* there ever was one */
	bool unknown;  /* the latest answer said unavailable or could not be read */
};

struct ems_meter {
	struct ems_meter_env env;
	enum ems_meter_type type;
	char name[MNAME_MAX];
	char url[URL_MAX];               /* http types; the base without trailing '/' except for json */
	char email[CRED_MAX];
	char password[CRED_MAX];         /* secret */
	char token[EMS_METER_TOKEN_MAX]; /* secret */
	uint8_t unit;
	int se_meter;
	bool se_battery;
	uint32_t poll_ms, max_age_ms;
	struct ems_meter_source src[EMS_NVALUES];
	unsigned gives;

	struct val val[EMS_NVALUES];

	/* The cycle */
	uint64_t next_poll;
	bool cycle;
	uint64_t cycle_start;
	enum step step;
	int hass_v;                      /* the value whose entity is being read */
	bool relogged;                   /* the Powerwall login was already redone in this cycle */
	bool cycle_failed;
	bool slow;                       /* a 429 or 503 in this cycle */
	unsigned fails;                  /* failed cycles in a row */
	bool hint_logged;                /* a credentials hint went out at WARN in this failing run */
	bool soe_warned;

	/* HTTP */
	bool req_out;
	uint32_t req_id, last_id;
	char req_url[REQ_URL_MAX];
	char what[WHAT_MAX];             /* "GET /path" or the Modbus block, for log lines */
	char session[EMS_METER_TOKEN_MAX]; /* Powerwall login token: secret */

	/* Modbus */
	bool mb_out;                     /* a read is out */
	bool mb_wait_up;                 /* the socket said ENOTCONN: the cycle waits for modbus_up */
	bool mb_seen_up;
	uint16_t tid;
	uint16_t mb_count;
	uint64_t mb_sent;
	uint8_t rx[EMS_MODBUS_MAX_ADU * 2];
	size_t rx_len;

	/* MQTT */
	bool link_down;
	bool bad[EMS_NVALUES];           /* the last payload for this value was malformed */

	struct ems_meter_stats st;
};

static inline uint64_t ems_meter_add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - 1 - b ? UINT64_MAX - 1 : a + b;
}

static inline uint64_t ems_meter_since(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

/* ---------------------------------------------------------------- the skeleton (ems_meter.c) */

/* One log line: made printable, every secret blanked out. */
__attribute__((format(printf, 3, 4))) void ems_meter_log(struct ems_meter *m, enum core_log_level level,
							  const char *fmt, ...);
/* A token goes into an HTTP header: printable ASCII without spaces. */
bool ems_meter_token_ok(const char *s);

bool ems_meter_val_set(struct ems_meter *m, int v, double x, uint64_t now);
void ems_meter_vals_clear(struct ems_meter *m, unsigned mask);
/* The user's scale and sign for a value a told type reads. */
double ems_meter_scaled(const struct ems_meter *m, int v, double x);

void ems_meter_report(struct ems_meter *m, const char *reason, const char *hint);
void ems_meter_fail(struct ems_meter *m, const char *reason, const char *hint);
void ems_meter_http_fail(struct ems_meter *m, int status, const char *hint);
void ems_meter_malformed(struct ems_meter *m, unsigned mask, const char *err);
bool ems_meter_take(struct ems_meter *m, int rc, unsigned mask, const struct ems_reading *r, const char *err,
		    uint64_t now);
bool ems_meter_status_ok(int status);

void ems_meter_cycle_start(struct ems_meter *m, uint64_t now);
void ems_meter_cycle_advance(struct ems_meter *m, uint64_t now);
void ems_meter_cycle_end(struct ems_meter *m, uint64_t now);

/* m->req_url must be set. Return 0 or -errno (then no request is out). */
int ems_meter_http_send(struct ems_meter *m, const char *method, const char *body, const char *ctype,
			const char *bearer);
void ems_meter_what_set(struct ems_meter *m, const char *method);
const char *ems_meter_bearer(const struct ems_meter *m);

/* ---------------------------------------------------------------- the vendors' steps */

int ems_meter_fronius_send(struct ems_meter *m);
void ems_meter_fronius_result(struct ems_meter *m, int status, const char *body, size_t len, uint64_t now);

void ems_meter_powerwall_start(struct ems_meter *m);
int ems_meter_powerwall_send(struct ems_meter *m);
void ems_meter_powerwall_result(struct ems_meter *m, int status, const char *body, size_t len, uint64_t now);

int ems_meter_envoy_send(struct ems_meter *m);
void ems_meter_envoy_result(struct ems_meter *m, int status, const char *body, size_t len, uint64_t now);

bool ems_meter_hass_entity_ok(const char *s);
void ems_meter_hass_start(struct ems_meter *m);
int ems_meter_hass_send(struct ems_meter *m);
void ems_meter_hass_result(struct ems_meter *m, int status, const char *body, size_t len, uint64_t now);

bool ems_meter_json_pointer_ok(const char *s, size_t max);
int ems_meter_json_send(struct ems_meter *m);
void ems_meter_json_result(struct ems_meter *m, int status, const char *body, size_t len, uint64_t now);

bool ems_meter_mqtt_topic_ok(const char *s);

void ems_meter_solaredge_start(struct ems_meter *m);
void ems_meter_solaredge_send(struct ems_meter *m, uint64_t now);
/* The Modbus stream cannot be trusted any more (garbage, a timeout). */
void ems_meter_solaredge_broken(struct ems_meter *m, const char *reason, uint64_t now);

#endif
