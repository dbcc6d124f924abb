/*
 * libFuzzer target for the meter answer parsers (ems_parse) and the Modbus framing and SunSpec
 * decoders (ems_modbus). The first byte's low four bits pick the function, its next two bits the
 * size of the err buffer (1, 7, none, 96 bytes); the rest is the input, copied to a buffer of exactly
 * its size (no NUL after it) so any over-read is caught. Functions that take a JSON pointer or two
 * strings split the input at the first 0x00 byte. Modbus input is parsed response after response
 * over the whole buffer. Checked, besides no crash, leak or undefined behaviour: only the documented
 * return values; err always NUL-terminated and one line; every value reported as read finite (pv
 * not negative, soe's soc in 0..100), nothing written on failure; a token printable; the login body
 * valid JSON holding the password; each response's byte count consistent with the registers it
 * gives, and every shorter prefix of it "need more bytes".
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ems_modbus.h"
#include "ems_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SENTINEL (-777.0)

static void check_err(const char *err, size_t errlen)
{
	if (!err || errlen == 0)
		return;
	if (!memchr(err, '\0', errlen) || strchr(err, '\n'))
		abort();
}

static void check_rc(int rc)
{
	if (rc != 0 && rc != -ENODATA && rc != -EINVAL)
		abort();
}

/* @r started all unknown. */
static void check_reading(int rc, const struct ems_reading *r)
{
	for (int i = 0; i < EMS_NVALUES; i++) {
		if (isnan(r->v[i]))
			continue;
		if (rc != 0 || !isfinite(r->v[i]))
			abort();
	}
	if (r->v[EMS_PV] < 0)
		abort();
}

static void check_value(int rc, double v)
{
	if (rc == 0 ? !isfinite(v) : v != SENTINEL)
		abort();
}

/* @in up to its first 0x00 as a string in *a (a heap copy), the rest in *b / *bn. */
static bool split(const uint8_t *in, size_t n, char **a, const uint8_t **b, size_t *bn)
{
	const uint8_t *z = memchr(in, 0, n);
	size_t an = z ? (size_t)(z - in) : 0;

	*a = malloc(an + 1);
	if (!*a)
		return false;
	memcpy(*a, in, an);
	(*a)[an] = '\0';
	*b = z ? z + 1 : in;
	*bn = z ? n - an - 1 : n;
	return true;
}

static void fuzz_reading(int (*fn)(const char *, size_t, struct ems_reading *, char *, size_t), const char *body,
			 size_t n, char *err, size_t errlen)
{
	struct ems_reading r;
	int rc;

	ems_reading_clear(&r);
	rc = fn(body, n, &r, err, errlen);
	check_rc(rc);
	check_reading(rc, &r);
	check_err(err, errlen);
	if (fn == ems_powerwall_soe_parse && rc == 0 && !(r.v[EMS_SOC] >= 0 && r.v[EMS_SOC] <= 100))
		abort();
}

static void fuzz_login_parse(const char *body, size_t n, char *err, size_t errlen)
{
	char token[64];
	int rc;

	memset(token, 'x', sizeof(token));
	rc = ems_powerwall_login_parse(body, n, token, sizeof(token), err, errlen);
	if (rc != 0 && rc != -EINVAL)
		abort();
	check_err(err, errlen);
	if (!memchr(token, '\0', sizeof(token)))
		abort();
	if (rc != 0 && token[0] != '\0')
		abort();
	for (size_t i = 0; rc == 0 && token[i]; i++)
		if ((unsigned char)token[i] <= 0x20 || (unsigned char)token[i] >= 0x7f)
			abort();
	if (rc == 0 && token[0] == '\0')
		abort();
}

static void fuzz_login_body(const uint8_t *in, size_t n)
{
	const uint8_t *pw_bytes;
	char *email, *pw, out[128];
	size_t pwn;
	json_t *o;
	int rc;

	if (!split(in, n, &email, &pw_bytes, &pwn))
		return;
	pw = malloc(pwn + 1);
	if (pw) {
		memcpy(pw, pw_bytes, pwn);
		pw[pwn] = '\0'; /* an embedded 0x00 just ends the password early */
		rc = ems_powerwall_login_body(email, pw, out, sizeof(out));
		if (rc >= 0) {
			if ((size_t)rc != strlen(out))
				abort();
			o = json_loads(out, 0, NULL);
			if (!o || !json_is_object(o) || strcmp(json_string_value(json_object_get(o, "password")), pw) != 0 ||
			    strcmp(json_string_value(json_object_get(o, "email")), email) != 0 ||
			    !json_is_false(json_object_get(o, "force_sm_off")))
				abort();
			json_decref(o);
			/* One byte less room is never enough. */
			if (ems_powerwall_login_body(email, pw, out, (size_t)rc) != -ENOSPC)
				abort();
		} else if (rc != -ENOSPC && rc != -EINVAL) {
			abort();
		}
		free(pw);
	}
	free(email);
}

static void fuzz_pointer(bool payload, const uint8_t *in, size_t n, char *err, size_t errlen)
{
	const uint8_t *body;
	char *pointer, *copy;
	double v = SENTINEL;
	size_t bn;
	int rc;

	if (!split(in, n, &pointer, &body, &bn))
		return;
	copy = malloc(bn ? bn : 1);
	if (copy) {
		memcpy(copy, body, bn);
		rc = payload ? ems_payload_number(copy, bn, pointer, &v, err, errlen)
			     : ems_json_pointer_number(copy, bn, pointer, &v, err, errlen);
		check_rc(rc);
		check_value(rc, v);
		check_err(err, errlen);
		free(copy);
	}
	free(pointer);
}

static void fuzz_modbus(const uint8_t *buf, size_t n)
{
	struct ems_modbus_resp *r = malloc(sizeof(*r));
	size_t off = 0;

	if (!r)
		return;
	while (off < n) {
		int rc = ems_modbus_parse_response(buf + off, n - off, r);

		if (rc == 0 || rc == -EPROTO)
			break;
		if (rc < 9 || (size_t)rc > n - off || (size_t)rc > EMS_MODBUS_MAX_ADU || r->n_regs > EMS_MODBUS_MAX_REGS)
			abort();
		if (r->exception ? r->n_regs != 0 || rc != 9 : (size_t)rc != 9 + 2 * r->n_regs)
			abort();
		if (ems_modbus_parse_response(buf + off, (size_t)rc - 1, r) != 0)
			abort();
		off += (size_t)rc;
	}
	free(r);
}

static void fuzz_solaredge(const uint8_t *in, size_t n, char *err, size_t errlen)
{
	int (*const fns[])(const uint16_t *, size_t, struct ems_reading *, char *, size_t) = {
		ems_solaredge_inverter, ems_solaredge_meter, ems_solaredge_battery
	};
	size_t nregs = n / 2 < EMS_MODBUS_MAX_REGS ? n / 2 : EMS_MODBUS_MAX_REGS;
	uint16_t *regs = malloc((nregs ? nregs : 1) * sizeof(*regs));

	if (!regs)
		return;
	for (size_t i = 0; i < nregs; i++)
		regs[i] = (uint16_t)(in[2 * i] << 8 | in[2 * i + 1]);
	for (size_t f = 0; f < sizeof(fns) / sizeof(fns[0]); f++) {
		struct ems_reading r;
		int rc;

		ems_reading_clear(&r);
		rc = fns[f](regs, nregs, &r, err, errlen);
		check_rc(rc);
		check_reading(rc, &r);
		check_err(err, errlen);
	}
	free(regs);
}

static void fuzz_sunspec(const uint8_t *in, size_t n)
{
	for (size_t i = 0; i + 4 <= n; i += 4) {
		double v = SENTINEL;
		int rc = ems_sunspec_scaled((uint16_t)(in[i] << 8 | in[i + 1]), (uint16_t)(in[i + 2] << 8 | in[i + 3]), &v);

		if (rc != 0 && rc != -ENODATA)
			abort();
		check_value(rc, v);
	}
}

static void fuzz_request(const uint8_t *in, size_t n)
{
	uint8_t out[EMS_MODBUS_REQ_LEN];
	int rc;

	if (n < 7)
		return;
	rc = ems_modbus_read_request(out, (uint16_t)(in[0] << 8 | in[1]), in[2], (uint16_t)(in[3] << 8 | in[4]),
				     (uint16_t)(in[5] << 8 | in[6]));
	if (rc != EMS_MODBUS_REQ_LEN && rc != -EINVAL)
		abort();
	if (rc == EMS_MODBUS_REQ_LEN && memcmp(out, in, 2) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t errlens[4] = { 1, 7, 0, 96 };
	size_t errlen, n;
	char *err = NULL, *in;

	if (size < 1)
		return 0;
	errlen = errlens[(data[0] >> 4) & 3];
	n = size - 1;
	in = malloc(n ? n : 1);
	if (!in)
		return 0;
	memcpy(in, data + 1, n);
	if (errlen) {
		err = malloc(errlen);
		if (!err) {
			free(in);
			return 0;
		}
		memset(err, 'x', errlen);
	}

	switch (data[0] & 0x0f) {
	case 0:
		fuzz_reading(ems_fronius_parse, in, n, err, errlen);
		break;
	case 1:
		fuzz_reading(ems_powerwall_aggregates_parse, in, n, err, errlen);
		break;
	case 2:
		fuzz_reading(ems_powerwall_soe_parse, in, n, err, errlen);
		break;
	case 3:
		fuzz_reading(ems_envoy_parse, in, n, err, errlen);
		break;
	case 4:
		fuzz_login_parse(in, n, err, errlen);
		break;
	case 5: {
		double v = SENTINEL;
		int rc = ems_hass_parse(in, n, &v, err, errlen);

		check_rc(rc);
		check_value(rc, v);
		check_err(err, errlen);
		break;
	}
	case 6:
		fuzz_pointer(false, (const uint8_t *)in, n, err, errlen);
		break;
	case 7:
		fuzz_pointer(true, (const uint8_t *)in, n, err, errlen);
		break;
	case 8:
		fuzz_login_body((const uint8_t *)in, n);
		break;
	case 9:
		fuzz_modbus((const uint8_t *)in, n);
		break;
	case 10:
		fuzz_solaredge((const uint8_t *)in, n, err, errlen);
		break;
	case 11:
		fuzz_sunspec((const uint8_t *)in, n);
		break;
	case 12:
		fuzz_request((const uint8_t *)in, n);
		break;
	default:
		/* The same bytes through every text parser. */
		fuzz_reading(ems_fronius_parse, in, n, err, errlen);
		fuzz_reading(ems_envoy_parse, in, n, err, errlen);
		fuzz_pointer(true, (const uint8_t *)in, n, err, errlen);
		fuzz_modbus((const uint8_t *)in, n);
		break;
	}
	free(err);
	free(in);
	return 0;
}
