/*
 * ems_modbus: Modbus TCP "read holding registers" requests and responses as bytes, and the
 * SolarEdge SunSpec blocks decoded into the normalised reading (see ems_modbus.h). A response is
 * rejected as soon as the bytes already received prove it impossible, so a desynchronised stream
 * is dropped at once instead of waiting for a length that will never come.
 */
#include "ems_modbus.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MBAP_LEN 7          /* transaction id, protocol id, length, unit */
#define FN_READ_HOLDING 3
#define FN_READ_HOLDING_EXC (FN_READ_HOLDING | 0x80)
#define SUNSPEC_NI 0x8000u  /* int16 and scale factor "not implemented" */

/* Offsets inside the blocks the driver reads (register address minus the block's address). */
#define INV_DID 0
#define INV_AC_POWER 14    /* 40083 */
#define INV_AC_POWER_SF 15 /* 40084 */
#define METER_DID 0
#define METER_POWER 18    /* 40206 */
#define METER_POWER_SF 22 /* 40210 */
#define BAT_POWER 0       /* 0xE174 */
#define BAT_SOE 16        /* 0xE184 */

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int ems_modbus_read_request(uint8_t *out, uint16_t tid, uint8_t unit, uint16_t addr, uint16_t count)
{
	/* A block that runs past 0xFFFF would silently wrap on the device side. */
	if (!out || count == 0 || count > EMS_MODBUS_MAX_REGS || (uint32_t)addr + count > 0x10000u)
		return -EINVAL;
	put16(out, tid);
	put16(out + 2, 0);
	put16(out + 4, 6); /* unit, function, address, count */
	out[6] = unit;
	out[7] = FN_READ_HOLDING;
	put16(out + 8, addr);
	put16(out + 10, count);
	return EMS_MODBUS_REQ_LEN;
}

int ems_modbus_parse_response(const uint8_t *buf, size_t len, struct ems_modbus_resp *out)
{
	uint16_t plen;
	uint8_t fn;
	size_t total;

	if (!buf || !out)
		return -EPROTO;
	/* Check each field as soon as it is in, so garbage fails before we wait for more of it. */
	if (len >= 4 && get16(buf + 2) != 0)
		return -EPROTO;
	if (len < 6)
		return 0;
	plen = get16(buf + 4);
	if (plen < 3 || plen > 253)
		return -EPROTO;
	if (len < 8)
		return 0;
	fn = buf[7];
	if (fn != FN_READ_HOLDING && fn != FN_READ_HOLDING_EXC)
		return -EPROTO;
	if (fn == FN_READ_HOLDING_EXC && plen != 3)
		return -EPROTO;
	if (len < 9)
		return 0;
	if (fn == FN_READ_HOLDING && (buf[8] % 2 != 0 || buf[8] != plen - 3))
		return -EPROTO;
	if (fn == FN_READ_HOLDING_EXC && buf[8] == 0)
		return -EPROTO; /* 0 would read as "no exception" */
	total = 6 + (size_t)plen;
	if (len < total)
		return 0;

	out->tid = get16(buf);
	out->unit = buf[6];
	if (fn == FN_READ_HOLDING_EXC) {
		out->exception = buf[8];
		out->n_regs = 0;
	} else {
		out->exception = 0;
		out->n_regs = buf[8] / 2u;
		for (size_t i = 0; i < out->n_regs; i++)
			out->regs[i] = get16(buf + 9 + 2 * i);
	}
	return (int)total;
}

int ems_sunspec_scaled(uint16_t value, uint16_t sf, double *out)
{
	int16_t v = (int16_t)value, s = (int16_t)sf;
	double p;

	if (value == SUNSPEC_NI || sf == SUNSPEC_NI || s < -10 || s > 10)
		return -ENODATA;
	p = pow(10, s < 0 ? -s : s);
	/* Dividing by 10^n rounds once; multiplying by 10^-n rounds twice (123.4, not 123.40000000000001). */
	*out = s < 0 ? v / p : v * p;
	return 0;
}

int ems_solaredge_inverter(const uint16_t *regs, size_t n, struct ems_reading *out, char *err, size_t errlen)
{
	double w;

	if (err && errlen > 0)
		err[0] = '\0';
	if (!regs || n <= INV_AC_POWER_SF) {
		seterr(err, errlen, "inverter: %zu registers, need %d", regs ? n : 0, INV_AC_POWER_SF + 1);
		return -EINVAL;
	}
	if (regs[INV_DID] < 101 || regs[INV_DID] > 103) {
		seterr(err, errlen, "inverter: SunSpec DID %u at 40069, want 101..103", regs[INV_DID]);
		return -EINVAL;
	}
	if (ems_sunspec_scaled(regs[INV_AC_POWER], regs[INV_AC_POWER_SF], &w) < 0) {
		seterr(err, errlen, "inverter: AC power (40083) not implemented");
		return -ENODATA;
	}
	out->v[EMS_PV] = w > 0 ? w : 0;
	return 0;
}

int ems_solaredge_meter(const uint16_t *regs, size_t n, struct ems_reading *out, char *err, size_t errlen)
{
	double w;

	if (err && errlen > 0)
		err[0] = '\0';
	if (!regs || n <= METER_POWER_SF) {
		seterr(err, errlen, "meter: %zu registers, need %d", regs ? n : 0, METER_POWER_SF + 1);
		return -EINVAL;
	}
	if (regs[METER_DID] < 201 || regs[METER_DID] > 204) {
		seterr(err, errlen, "meter: SunSpec DID %u, want 201..204", regs[METER_DID]);
		return -EINVAL;
	}
	if (ems_sunspec_scaled(regs[METER_POWER], regs[METER_POWER_SF], &w) < 0) {
		seterr(err, errlen, "meter: total real power (40206) not implemented");
		return -ENODATA;
	}
	out->v[EMS_GRID] = w == 0 ? 0 : -w; /* the meter counts export positive */
	return 0;
}

/* A float32 over two registers, low-order word first (each word big-endian on the wire). */
static double float_lw(const uint16_t *r)
{
	uint32_t bits = (uint32_t)r[0] | (uint32_t)r[1] << 16;
	float f;

	memcpy(&f, &bits, sizeof(f));
	return f;
}

int ems_solaredge_battery(const uint16_t *regs, size_t n, struct ems_reading *out, char *err, size_t errlen)
{
	double w, soe;
	int got = 0;

	if (err && errlen > 0)
		err[0] = '\0';
	if (!regs || n < BAT_SOE + 2) {
		seterr(err, errlen, "battery: %zu registers, need %d", regs ? n : 0, BAT_SOE + 2);
		return -EINVAL;
	}
	w = float_lw(regs + BAT_POWER);
	soe = float_lw(regs + BAT_SOE);
	/* Not implemented is NaN (0x7FC00000 or all ones); an infinity is no reading either. */
	if (isfinite(w)) {
		out->v[EMS_BATTERY] = w == 0 ? 0 : -w; /* the battery counts charging positive */
		got++;
	}
	if (isfinite(soe)) {
		out->v[EMS_SOC] = soe;
		got++;
	}
	if (!got) {
		seterr(err, errlen, "battery: power (0xE174) and state of energy (0xE184) not implemented");
		return -ENODATA;
	}
	return 0;
}
