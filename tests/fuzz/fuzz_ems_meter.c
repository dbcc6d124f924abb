/*
 * libFuzzer target for the meter driver core. The first input byte picks the meter type (low three
 * bits) and its options (SolarEdge meter and battery, a token or none); the rest is a list of chunks, each an
 * operation byte, a length (one byte, or two little-endian when the operation byte has bit 7 set)
 * and that many bytes of argument: answer the HTTP request in flight
 * (status from a table, the rest as the body), answer an id nobody asked for, feed raw Modbus bytes,
 * answer the Modbus read in flight with a well-formed response built from the argument (so the
 * decoders are reached), send an MQTT message on one of the configured topics (or another), let time
 * pass to the next deadline or by an amount, bring the Modbus socket up or down, the broker link up
 * or down, and make the gateway refuse the next HTTP start or Modbus write. Checked: no crash, leak or
 * undefined behaviour; one HTTP request at a time, every URL under the configured one, a bearer on
 * every Powerwall data request; well-formed Modbus read requests; after every tick the next deadline
 * lies in the future; every reading is a finite number or NAN; and no log line holds the password,
 * the token or a session token the Powerwall handed out.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ems_meter.h"
#include "ems_modbus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BASE "http://meter.example:8080/base"
#define PASSWORD "SEKRET-pw-31415"
#define TOKEN "SEKRET-tok-27182"
#define MARK "SEKRET"
#define T0 1000000u
#define MAX_SESSIONS 8

struct fz {
	struct ems_meter *m;
	enum ems_meter_type type;
	bool token_set;    /* TOKEN is this meter's secret (else a device may well send that text) */
	uint64_t now;
	bool pending;
	bool in_tick;
	uint32_t id;
	int http_rc, mb_rc;
	bool mb_out;
	uint8_t mb_req[EMS_MODBUS_REQ_LEN];
	char sessions[MAX_SESSIONS][EMS_METER_TOKEN_MAX];
	int n_sessions;
};

static int fz_http(void *user, const struct ems_meter_http_req *r)
{
	struct fz *z = user;

	/* one at a time: a second only from a tick, which gives up on a cycle that ran too long */
	if ((z->pending && !z->in_tick) || !r->method || !r->url || (strcmp(r->method, "GET") && strcmp(r->method, "POST")))
		abort();
	if (strncmp(r->url, BASE, strlen(BASE)))
		abort();
	if (z->type == EMS_METER_POWERWALL) {
		bool login = !strcmp(r->method, "POST");

		if (login != !r->bearer || (login && (!r->body || !r->content_type)))
			abort();
		/* a session token worth watching for in the logs: the seeds give them a mark */
		if (r->bearer && strstr(r->bearer, MARK) && z->n_sessions < MAX_SESSIONS &&
		    strlen(r->bearer) < EMS_METER_TOKEN_MAX)
			snprintf(z->sessions[z->n_sessions++], sizeof(z->sessions[0]), "%s", r->bearer);
	}
	if (z->http_rc)
		return z->http_rc;
	z->pending = true;
	z->id = r->id;
	return 0;
}

static int fz_modbus_write(void *user, const uint8_t *b, size_t n)
{
	struct fz *z = user;

	if (z->type != EMS_METER_SOLAREDGE || n != EMS_MODBUS_REQ_LEN || b[2] || b[3] || b[4] || b[5] != 6 || b[7] != 3)
		abort();
	if (z->mb_rc)
		return z->mb_rc;
	memcpy(z->mb_req, b, n);
	z->mb_out = true;
	return 0;
}

static void fz_modbus_reset(void *user)
{
	struct fz *z = user;

	z->mb_out = false;
}

static void fz_log(void *user, enum core_log_level level, const char *msg)
{
	struct fz *z = user;

	if ((int)level < CORE_LOG_ERROR || level > CORE_LOG_DEBUG || strstr(msg, PASSWORD) || (z->token_set && strstr(msg, TOKEN)) ||
	    strchr(msg, '\n') || (z->type == EMS_METER_JSON && strstr(msg, "?key=")))
		abort();
	for (int i = 0; i < z->n_sessions; i++)
		if (strstr(msg, z->sessions[i]))
			abort();
}

static void fz_check(struct fz *z)
{
	struct ems_reading r;

	if (ems_meter_next_deadline(z->m) <= z->now)
		abort();
	ems_meter_reading(z->m, z->now, &r);
	for (int v = 0; v < EMS_NVALUES; v++)
		if (!isnan(r.v[v]) && !isfinite(r.v[v]))
			abort();
}

static void fz_tick(struct fz *z)
{
	z->in_tick = true;
	ems_meter_tick(z->m, z->now);
	z->in_tick = false;
	fz_check(z);
}

static void src(struct ems_meter_params *p, enum ems_value v, const char *key, const char *pointer, double scale,
		bool invert)
{
	p->src[v].set = true;
	snprintf(p->src[v].key, sizeof(p->src[v].key), "%s", key);
	snprintf(p->src[v].pointer, sizeof(p->src[v].pointer), "%s", pointer);
	p->src[v].scale = scale;
	p->src[v].invert = invert;
}

static const char *const topics[] = { "t/grid", "t/json", "t/pv", "t/other", "t/json/x", "" };

static bool fz_new(struct fz *z, uint8_t sel)
{
	struct ems_meter_env env = {
		.user = z, .http = fz_http, .modbus_write = fz_modbus_write, .modbus_reset = fz_modbus_reset,
		.log = fz_log,
	};
	struct ems_meter_params p = {
		.type = (enum ems_meter_type)((sel & 7) % 7),
		.name = "ems[0] fuzz",
		.url = BASE "/",
		.email = "owner@example.com",
		.password = PASSWORD,
		.token = sel & 0x80 ? TOKEN : NULL,
		.unit_id = 1,
		.se_meter = (sel >> 3) & 3,
		.se_battery = sel & 0x20,
		.poll_ms = sel & 0x40 ? 1000 : 10000,
		.max_age_ms = 30000,
	};

	z->type = p.type;
	z->token_set = p.token != NULL;
	switch (p.type) {
	case EMS_METER_HASS:
		src(&p, EMS_GRID, "sensor.grid", "", 0, sel & 0x20);
		src(&p, EMS_PV, "sensor.pv", "", 2, false);
		src(&p, EMS_SOC, "sensor.soc", "", 1, false);
		break;
	case EMS_METER_JSON:
		p.url = BASE "/status?key=" MARK;
		src(&p, EMS_GRID, "/grid", "", 0, sel & 0x20);
		src(&p, EMS_PV, "/pv/0", "", 1000, false);
		src(&p, EMS_LOAD, "", "", 1, false);
		break;
	case EMS_METER_MQTT:
		src(&p, EMS_GRID, "t/grid", "", 0, sel & 0x20);
		src(&p, EMS_PV, "t/json", "/pv", 1000, false);
		src(&p, EMS_LOAD, "t/json", "/load/0", 1, true);
		src(&p, EMS_BATTERY, "t/pv", "", -1, false);
		break;
	default:
		break;
	}
	z->m = ems_meter_new(&p, &env, z->now);
	return z->m != NULL;
}

static const int statuses[] = { 200, 200, 200, 200, 401, 403, 429, 503, 500, 404, 204, 302, 0, 599, 100, 299,
				 -ETIMEDOUT, -ECONNREFUSED, -ENOMEM, 201 };

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* A well-formed answer to the read in flight: its registers from @d, or an exception. */
static void fz_modbus_answer(struct fz *z, const uint8_t *d, size_t n)
{
	uint8_t out[EMS_MODBUS_MAX_ADU];
	size_t count = get16(z->mb_req + 10), len;

	if (!z->mb_out)
		return;
	if (n > 0 && d[0] == 0xEE) {
		memcpy(out, z->mb_req, 4);
		out[4] = 0;
		out[5] = 3;
		out[6] = z->mb_req[6];
		out[7] = 0x83;
		out[8] = n > 1 && d[1] ? d[1] : 2;
		len = 9;
	} else {
		if (n > 0 && d[0] == 0xDD)
			count = count > 1 ? count - 1 : 1; /* short */
		memcpy(out, z->mb_req, 4);
		out[4] = (uint8_t)((3 + 2 * count) >> 8);
		out[5] = (uint8_t)(3 + 2 * count);
		out[6] = z->mb_req[6];
		out[7] = 3;
		out[8] = (uint8_t)(2 * count);
		for (size_t i = 0; i < 2 * count; i++)
			out[9 + i] = n > 0 ? d[i % n] : 0;
		/* a plausible device id, so the decoders go past it */
		if (n > 1 && d[1] & 1) {
			uint16_t addr = get16(z->mb_req + 8);

			out[9] = 0;
			out[10] = addr == EMS_SE_INVERTER_ADDR ? 103 : 203;
		}
		len = 9 + 2 * count;
	}
	z->mb_out = false;
	ems_meter_modbus_rx(z->m, out, len, z->now);
	fz_check(z);
}

static void fz_chunk(struct fz *z, uint8_t op, const uint8_t *d, size_t n)
{
	uint8_t a = n > 0 ? d[0] : 0, b = n > 1 ? d[1] : 0;

	switch (op % 12) {
	case 0: /* answer the request in flight; the body is the rest */
		if (z->pending) {
			z->pending = false;
			ems_meter_http_done(z->m, z->id, statuses[a % (sizeof(statuses) / sizeof(statuses[0]))],
					    n > 1 ? (const char *)d + 1 : NULL, n > 1 ? n - 1 : 0, z->now);
			fz_tick(z);
		}
		break;
	case 1: /* an answer nobody asked for */
		ems_meter_http_done(z->m, z->id + 1 + a, 200, (const char *)d, n, z->now);
		fz_tick(z);
		break;
	case 2: /* raw Modbus bytes */
		ems_meter_modbus_rx(z->m, d, n, z->now);
		fz_tick(z);
		break;
	case 3:
		fz_modbus_answer(z, d, n);
		fz_tick(z);
		break;
	case 4: { /* an MQTT message */
		const char *t = topics[a % (sizeof(topics) / sizeof(topics[0]))];

		ems_meter_mqtt_message(z->m, t, n > 1 ? d + 1 : NULL, n > 1 ? n - 1 : 0, z->now);
		fz_tick(z);
		break;
	}
	case 5: { /* to the next deadline */
		uint64_t dl = ems_meter_next_deadline(z->m);

		z->now = dl != UINT64_MAX && dl - z->now < 86400000u ? dl : z->now + 1000u * (a + 1u);
		fz_tick(z);
		break;
	}
	case 6:
		z->now += (uint64_t)a * 100 + (uint64_t)b * 10000;
		fz_tick(z);
		break;
	case 7:
		z->mb_out = false;
		ems_meter_modbus_up(z->m, z->now);
		fz_tick(z);
		break;
	case 8:
		z->mb_out = false;
		ems_meter_modbus_down(z->m, z->now);
		fz_tick(z);
		break;
	case 9:
		ems_meter_mqtt_link(z->m, a & 1, z->now);
		fz_tick(z);
		break;
	case 10: /* the gateway refuses the next starts, or stops refusing */
		z->http_rc = a & 1 ? -ECONNREFUSED : 0;
		z->mb_rc = a & 2 ? -ENOTCONN : a & 4 ? -EIO : 0;
		break;
	default: { /* only ages */
		uint64_t age = ems_meter_age_ms(z->m, (enum ems_value)(a % EMS_NVALUES), z->now);

		if (age != UINT64_MAX && age > z->now)
			abort();
		break;
	}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z;
	size_t i = 1;

	if (size < 1)
		return 0;
	memset(&z, 0, sizeof(z));
	z.now = T0;
	if (!fz_new(&z, data[0]))
		abort();
	fz_tick(&z);
	/* op, length (two bytes, little-endian, when op has bit 7 set: bodies are longer than 255), bytes */
	while (i + 2 <= size) {
		uint8_t op = data[i];
		size_t hdr = op & 0x80 ? 3 : 2, n, len;

		if (i + hdr > size)
			break;
		n = op & 0x80 ? (size_t)data[i + 1] | (size_t)data[i + 2] << 8 : data[i + 1];
		len = n < size - i - hdr ? n : size - i - hdr;
		fz_chunk(&z, op & 0x7f, data + i + hdr, len);
		i += hdr + len;
	}
	ems_meter_free(z.m);
	return 0;
}
