/*
 * Tests of the Modbus TCP framing and the SolarEdge SunSpec decoders (ems_modbus), over byte
 * vectors built by hand from the Modbus Application Protocol and MBAP specifications. Covered: the
 * read request byte for byte and its count and address limits; a response parsed exactly, held
 * back (0) at every split point, two responses back to back, the largest response, an exception
 * response; every impossible field (-EPROTO), found as soon as its bytes are in; SunSpec scale
 * factors (negative, positive, the limits, "not implemented"); the SolarEdge inverter, meter and
 * battery blocks with their sign conversions (meter export and battery charging count positive
 * there, negative here), the battery's low-word-first floats, NaN, a wrong DID and a short block.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ems_modbus.h"

#define EQ(a, b) assert_true(fabs((double)(a) - (double)(b)) < 1e-9)

static void expect_unknown(const struct ems_reading *r, unsigned except)
{
	for (int i = 0; i < EMS_NVALUES; i++)
		if (!(except & 1u << i) && !isnan(r->v[i]))
			fail_msg("%s: want unknown, got %g", ems_value_name(i), r->v[i]);
}

/* ------------------------------------------------------------------ framing */

static void test_request_bytes(void **state)
{
	static const uint8_t inverter[EMS_MODBUS_REQ_LEN] = { 0x12, 0x34, 0x00, 0x00, 0x00, 0x06,
							       0x01, 0x03, 0x9c, 0x85, 0x00, 0x28 };
	static const uint8_t battery[EMS_MODBUS_REQ_LEN] = { 0xff, 0xfe, 0x00, 0x00, 0x00, 0x06,
							      0xf7, 0x03, 0xe1, 0x74, 0x00, 0x12 };
	uint8_t out[EMS_MODBUS_REQ_LEN + 1];

	(void)state;
	memset(out, 0xaa, sizeof(out));
	assert_int_equal(ems_modbus_read_request(out, 0x1234, 1, EMS_SE_INVERTER_ADDR, EMS_SE_INVERTER_COUNT),
			 EMS_MODBUS_REQ_LEN);
	assert_memory_equal(out, inverter, EMS_MODBUS_REQ_LEN);
	assert_int_equal(out[EMS_MODBUS_REQ_LEN], 0xaa);
	assert_int_equal(ems_modbus_read_request(out, 0xfffe, 247, EMS_SE_BATTERY1_ADDR, EMS_SE_BATTERY_COUNT),
			 EMS_MODBUS_REQ_LEN);
	assert_memory_equal(out, battery, EMS_MODBUS_REQ_LEN);
}

static void test_request_limits(void **state)
{
	uint8_t out[EMS_MODBUS_REQ_LEN];

	(void)state;
	assert_int_equal(ems_modbus_read_request(out, 1, 1, 40000, 0), -EINVAL);
	assert_int_equal(ems_modbus_read_request(out, 1, 1, 40000, EMS_MODBUS_MAX_REGS + 1), -EINVAL);
	assert_int_equal(ems_modbus_read_request(out, 1, 1, 40000, 0xffff), -EINVAL);
	assert_int_equal(ems_modbus_read_request(out, 1, 1, 40000, EMS_MODBUS_MAX_REGS), EMS_MODBUS_REQ_LEN);
	assert_int_equal(out[10], 0x00);
	assert_int_equal(out[11], 0x7d);
	/* The last register is fine; running past it is not. */
	assert_int_equal(ems_modbus_read_request(out, 1, 1, 0xffff, 1), EMS_MODBUS_REQ_LEN);
	assert_int_equal(ems_modbus_read_request(out, 1, 1, 0xffff, 2), -EINVAL);
	assert_int_equal(ems_modbus_read_request(out, 1, 1, 0xff84, EMS_MODBUS_MAX_REGS), -EINVAL);
	assert_int_equal(ems_modbus_read_request(out, 1, 1, 0xff83, EMS_MODBUS_MAX_REGS), EMS_MODBUS_REQ_LEN);
}

/* tid 0x1234, unit 1, two registers 0x0065 and 0xfffe. */
static const uint8_t resp2[] = { 0x12, 0x34, 0x00, 0x00, 0x00, 0x07, 0x01, 0x03, 0x04, 0x00, 0x65, 0xff, 0xfe };
/* tid 0x0007, unit 1, exception 2 (illegal data address). */
static const uint8_t exc2[] = { 0x00, 0x07, 0x00, 0x00, 0x00, 0x03, 0x01, 0x83, 0x02 };

static void test_response_parse(void **state)
{
	struct ems_modbus_resp r;

	(void)state;
	memset(&r, 0xaa, sizeof(r));
	assert_int_equal(ems_modbus_parse_response(resp2, sizeof(resp2), &r), 13);
	assert_int_equal(r.tid, 0x1234);
	assert_int_equal(r.unit, 1);
	assert_int_equal(r.exception, 0);
	assert_int_equal(r.n_regs, 2);
	assert_int_equal(r.regs[0], 0x0065);
	assert_int_equal(r.regs[1], 0xfffe);
	assert_int_equal(r.regs[2], 0xaaaa);
}

static void test_response_partial(void **state)
{
	struct ems_modbus_resp r;

	(void)state;
	for (size_t k = 0; k < sizeof(resp2); k++)
		if (ems_modbus_parse_response(resp2, k, &r) != 0)
			fail_msg("response cut at %zu: want 0", k);
	for (size_t k = 0; k < sizeof(exc2); k++)
		if (ems_modbus_parse_response(exc2, k, &r) != 0)
			fail_msg("exception cut at %zu: want 0", k);
}

static void test_response_back_to_back(void **state)
{
	uint8_t buf[sizeof(resp2) + sizeof(exc2) + 3];
	struct ems_modbus_resp r;
	size_t off = 0;
	int n;

	(void)state;
	memcpy(buf, resp2, sizeof(resp2));
	memcpy(buf + sizeof(resp2), exc2, sizeof(exc2));
	memcpy(buf + sizeof(resp2) + sizeof(exc2), resp2, 3); /* the start of a third */

	n = ems_modbus_parse_response(buf, sizeof(buf), &r);
	assert_int_equal(n, 13);
	assert_int_equal(r.tid, 0x1234);
	assert_int_equal(r.n_regs, 2);
	off += (size_t)n;
	n = ems_modbus_parse_response(buf + off, sizeof(buf) - off, &r);
	assert_int_equal(n, 9);
	assert_int_equal(r.tid, 7);
	assert_int_equal(r.exception, 2);
	assert_int_equal(r.n_regs, 0);
	off += (size_t)n;
	assert_int_equal(ems_modbus_parse_response(buf + off, sizeof(buf) - off, &r), 0);
}

static void test_response_exception(void **state)
{
	struct ems_modbus_resp r;

	(void)state;
	memset(&r, 0xaa, sizeof(r));
	assert_int_equal(ems_modbus_parse_response(exc2, sizeof(exc2), &r), 9);
	assert_int_equal(r.tid, 7);
	assert_int_equal(r.unit, 1);
	assert_int_equal(r.exception, 2);
	assert_int_equal(r.n_regs, 0);
}

/* 125 registers: byte count 250, MBAP length 253, 259 bytes in all. */
static void test_response_largest(void **state)
{
	uint8_t buf[6 + 253];
	struct ems_modbus_resp r;

	(void)state;
	memcpy(buf, (const uint8_t[]){ 0xab, 0xcd, 0x00, 0x00, 0x00, 0xfd, 0x02, 0x03, 0xfa }, 9);
	for (int i = 0; i < EMS_MODBUS_MAX_REGS; i++) {
		buf[9 + 2 * i] = (uint8_t)i;
		buf[10 + 2 * i] = (uint8_t)(0xff - i);
	}
	assert_int_equal(ems_modbus_parse_response(buf, sizeof(buf), &r), 259);
	assert_int_equal(r.tid, 0xabcd);
	assert_int_equal(r.unit, 2);
	assert_int_equal(r.n_regs, EMS_MODBUS_MAX_REGS);
	assert_int_equal(r.regs[0], 0x00ff);
	assert_int_equal(r.regs[124], 0x7c83);
	assert_int_equal(ems_modbus_parse_response(buf, sizeof(buf) - 1, &r), 0);
}

/* Each impossible response, and the fewest bytes that already show it. */
static void test_response_eproto(void **state)
{
	static const struct {
		const char *what;
		uint8_t b[16];
		size_t len, shown_at;
	} bad[] = {
		{ "protocol id 1", { 0x00, 0x01, 0x00, 0x01, 0x00, 0x07, 0x01, 0x03, 0x04, 0, 1, 0, 2 }, 13, 4 },
		{ "protocol id 0x0100", { 0x00, 0x01, 0x01, 0x00, 0x00, 0x07, 0x01, 0x03, 0x04, 0, 1, 0, 2 }, 13, 4 },
		{ "length 2", { 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x01, 0x03 }, 8, 6 },
		{ "length 0", { 0x00, 0x01, 0x00, 0x00, 0x00, 0x00 }, 6, 6 },
		{ "length 254", { 0x00, 0x01, 0x00, 0x00, 0x00, 0xfe, 0x01, 0x03, 0xfb }, 9, 6 },
		{ "length 0x0107", { 0x00, 0x01, 0x00, 0x00, 0x01, 0x07, 0x01, 0x03, 0x04 }, 9, 6 },
		{ "function 4", { 0x00, 0x01, 0x00, 0x00, 0x00, 0x07, 0x01, 0x04, 0x04, 0, 1, 0, 2 }, 13, 8 },
		{ "function 0x84", { 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x01, 0x84, 0x02 }, 9, 8 },
		{ "function 0x10", { 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x10, 0x9c, 0x40, 0x00, 0x01 }, 12, 8 },
		{ "odd byte count", { 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x03, 0, 1, 2 }, 12, 9 },
		{ "byte count short of length", { 0x00, 0x01, 0x00, 0x00, 0x00, 0x07, 0x01, 0x03, 0x02, 0, 1, 0, 2 }, 13, 9 },
		{ "byte count past length", { 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x01, 0x03, 0x04, 0, 1 }, 11, 9 },
		{ "exception with length 4", { 0x00, 0x01, 0x00, 0x00, 0x00, 0x04, 0x01, 0x83, 0x02, 0x00 }, 10, 8 },
		{ "exception code 0", { 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x01, 0x83, 0x00 }, 9, 9 },
	};
	struct ems_modbus_resp r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		for (size_t k = bad[i].shown_at; k <= bad[i].len; k++)
			if (ems_modbus_parse_response(bad[i].b, k, &r) != -EPROTO)
				fail_msg("%s at %zu bytes: want -EPROTO", bad[i].what, k);
		for (size_t k = 0; k < bad[i].shown_at; k++)
			if (ems_modbus_parse_response(bad[i].b, k, &r) != 0)
				fail_msg("%s at %zu bytes: want 0 (not shown yet)", bad[i].what, k);
	}
}

/* ------------------------------------------------------------------ SunSpec */

static void test_sunspec_scaled(void **state)
{
	static const struct {
		uint16_t value, sf;
		double want;
	} ok[] = {
		{ 1234, (uint16_t)-1, 123.4 }, { 1234, 2, 123400 },        { 0xfffe, 0, -2 },
		{ 0x7fff, 0, 32767 },          { 0x8001, 0, -32767 },      { 1, 10, 1e10 },
		{ 1, (uint16_t)-10, 1e-10 },   { 0xff38, (uint16_t)-2, -2 }, { 0, 3, 0 },
	};
	static const struct {
		uint16_t value, sf;
	} nodata[] = { { 0x8000, 0 }, { 1, 0x8000 }, { 0x8000, 0x8000 }, { 1, 11 }, { 1, (uint16_t)-11 }, { 1, 0x7fff } };
	double v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = NAN;
		assert_int_equal(ems_sunspec_scaled(ok[i].value, ok[i].sf, &v), 0);
		if (!(fabs(v - ok[i].want) < 1e-9))
			fail_msg("0x%04x x 10^%d: got %.12g, want %.12g", ok[i].value, (int16_t)ok[i].sf, v, ok[i].want);
	}
	/* 123.4 exactly as the compiler reads it, not 123.40000000000001. */
	assert_int_equal(ems_sunspec_scaled(1234, (uint16_t)-1, &v), 0);
	assert_true(v == 123.4);
	for (size_t i = 0; i < sizeof(nodata) / sizeof(nodata[0]); i++) {
		v = -777;
		assert_int_equal(ems_sunspec_scaled(nodata[i].value, nodata[i].sf, &v), -ENODATA);
		EQ(v, -777);
	}
}

/* ------------------------------------------------------------------ SolarEdge */

static void inverter_block(uint16_t regs[EMS_SE_INVERTER_COUNT], uint16_t did, uint16_t w, uint16_t sf)
{
	memset(regs, 0, EMS_SE_INVERTER_COUNT * sizeof(regs[0]));
	regs[0] = did;
	regs[1] = 50;        /* model length */
	regs[2] = 1523;      /* AC current 15.23 A */
	regs[6] = (uint16_t)-2;
	regs[10] = 2301;     /* L1-N 230.1 V */
	regs[13] = (uint16_t)-1;
	regs[14] = w;        /* 40083 */
	regs[15] = sf;       /* 40084 */
	regs[16] = 5001;     /* 50.01 Hz */
	regs[17] = (uint16_t)-2;
	regs[38] = 4;        /* 40107 status: MPPT */
}

static void test_solaredge_inverter(void **state)
{
	uint16_t regs[EMS_SE_INVERTER_COUNT];
	struct ems_reading r;
	char err[96];

	(void)state;
	inverter_block(regs, 103, 5432, (uint16_t)-1);
	ems_reading_clear(&r);
	assert_int_equal(ems_solaredge_inverter(regs, EMS_SE_INVERTER_COUNT, &r, err, sizeof(err)), 0);
	EQ(r.v[EMS_PV], 543.2);
	expect_unknown(&r, 1u << EMS_PV);
	assert_string_equal(err, "");

	/* Night consumption of the inverter reads negative: no production. */
	inverter_block(regs, 101, (uint16_t)-50, 0);
	assert_int_equal(ems_solaredge_inverter(regs, 16, &r, err, sizeof(err)), 0);
	EQ(r.v[EMS_PV], 0);
	assert_false(signbit(r.v[EMS_PV]));

	inverter_block(regs, 102, 0x8000, 0);
	ems_reading_clear(&r);
	assert_int_equal(ems_solaredge_inverter(regs, EMS_SE_INVERTER_COUNT, &r, err, sizeof(err)), -ENODATA);
	assert_string_equal(err, "inverter: AC power (40083) not implemented");
	inverter_block(regs, 102, 100, 0x8000);
	assert_int_equal(ems_solaredge_inverter(regs, EMS_SE_INVERTER_COUNT, &r, err, sizeof(err)), -ENODATA);
	expect_unknown(&r, 0);

	inverter_block(regs, 201, 100, 0);
	assert_int_equal(ems_solaredge_inverter(regs, EMS_SE_INVERTER_COUNT, &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "inverter: SunSpec DID 201 at 40069, want 101..103");
	inverter_block(regs, 0xffff, 100, 0);
	assert_int_equal(ems_solaredge_inverter(regs, EMS_SE_INVERTER_COUNT, &r, err, sizeof(err)), -EINVAL);
	inverter_block(regs, 103, 100, 0);
	assert_int_equal(ems_solaredge_inverter(regs, 15, &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "inverter: 15 registers, need 16");
	assert_int_equal(ems_solaredge_inverter(NULL, 40, &r, err, sizeof(err)), -EINVAL);
	expect_unknown(&r, 0);
}

static void meter_block(uint16_t regs[EMS_SE_METER_COUNT], uint16_t did, uint16_t w, uint16_t sf)
{
	memset(regs, 0, EMS_SE_METER_COUNT * sizeof(regs[0]));
	regs[0] = did;
	regs[1] = 105; /* model length */
	regs[18] = w;  /* 40206 total real power */
	regs[19] = w;  /* 40207 phase A */
	regs[22] = sf; /* 40210 */
}

static void test_solaredge_meter(void **state)
{
	uint16_t regs[EMS_SE_METER_COUNT];
	struct ems_reading r;
	char err[96];

	(void)state;
	/* Exporting 1520.5 W: SolarEdge counts it positive, we count it negative. */
	meter_block(regs, 203, 15205, (uint16_t)-1);
	ems_reading_clear(&r);
	assert_int_equal(ems_solaredge_meter(regs, EMS_SE_METER_COUNT, &r, err, sizeof(err)), 0);
	EQ(r.v[EMS_GRID], -1520.5);
	expect_unknown(&r, 1u << EMS_GRID);
	assert_string_equal(err, "");

	/* Importing 842.1 W. */
	meter_block(regs, 201, (uint16_t)-8421, (uint16_t)-1);
	assert_int_equal(ems_solaredge_meter(regs, EMS_SE_METER_COUNT, &r, err, sizeof(err)), 0);
	EQ(r.v[EMS_GRID], 842.1);

	meter_block(regs, 204, 0, 0);
	assert_int_equal(ems_solaredge_meter(regs, EMS_SE_METER_COUNT, &r, err, sizeof(err)), 0);
	EQ(r.v[EMS_GRID], 0);
	assert_false(signbit(r.v[EMS_GRID]));

	meter_block(regs, 202, 12, 2);
	assert_int_equal(ems_solaredge_meter(regs, EMS_SE_METER_COUNT, &r, err, sizeof(err)), 0);
	EQ(r.v[EMS_GRID], -1200);

	ems_reading_clear(&r);
	meter_block(regs, 203, 100, 0x8000);
	assert_int_equal(ems_solaredge_meter(regs, EMS_SE_METER_COUNT, &r, err, sizeof(err)), -ENODATA);
	assert_string_equal(err, "meter: total real power (40206) not implemented");
	meter_block(regs, 203, 0x8000, 0);
	assert_int_equal(ems_solaredge_meter(regs, EMS_SE_METER_COUNT, &r, err, sizeof(err)), -ENODATA);

	meter_block(regs, 103, 100, 0); /* the inverter block read at the meter's address */
	assert_int_equal(ems_solaredge_meter(regs, EMS_SE_METER_COUNT, &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "meter: SunSpec DID 103, want 201..204");
	meter_block(regs, 200, 100, 0);
	assert_int_equal(ems_solaredge_meter(regs, EMS_SE_METER_COUNT, &r, err, sizeof(err)), -EINVAL);
	meter_block(regs, 205, 100, 0);
	assert_int_equal(ems_solaredge_meter(regs, EMS_SE_METER_COUNT, &r, err, sizeof(err)), -EINVAL);
	meter_block(regs, 203, 100, 0);
	assert_int_equal(ems_solaredge_meter(regs, EMS_SE_METER_COUNT - 1, &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "meter: 22 registers, need 23");
	expect_unknown(&r, 0);
}

/* Words as they come off the wire: the float's low 16 bits first. */
static void battery_block(uint16_t regs[EMS_SE_BATTERY_COUNT], uint16_t p_lo, uint16_t p_hi, uint16_t s_lo,
			  uint16_t s_hi)
{
	memset(regs, 0, EMS_SE_BATTERY_COUNT * sizeof(regs[0]));
	regs[0] = p_lo;
	regs[1] = p_hi;
	regs[16] = s_lo;
	regs[17] = s_hi;
}

static void test_solaredge_battery(void **state)
{
	uint16_t regs[EMS_SE_BATTERY_COUNT];
	struct ems_reading r;
	char err[128];

	(void)state;
	/* Charging at 1500.0 W (0x44BB8000) at 67.5 % (0x42870000). */
	battery_block(regs, 0x8000, 0x44bb, 0x0000, 0x4287);
	ems_reading_clear(&r);
	assert_int_equal(ems_solaredge_battery(regs, EMS_SE_BATTERY_COUNT, &r, err, sizeof(err)), 0);
	EQ(r.v[EMS_BATTERY], -1500);
	EQ(r.v[EMS_SOC], 67.5);
	expect_unknown(&r, 1u << EMS_BATTERY | 1u << EMS_SOC);
	assert_string_equal(err, "");

	/* Discharging at 2000.0 W (0xC4FA0000), full (100.0 = 0x42C80000). */
	battery_block(regs, 0x0000, 0xc4fa, 0x0000, 0x42c8);
	assert_int_equal(ems_solaredge_battery(regs, EMS_SE_BATTERY_COUNT, &r, err, sizeof(err)), 0);
	EQ(r.v[EMS_BATTERY], 2000);
	EQ(r.v[EMS_SOC], 100);

	/* 12.25 W (0x41440000) charging and 0.0 %: small values survive; zero is +0. */
	battery_block(regs, 0x0000, 0x4144, 0x0000, 0x0000);
	assert_int_equal(ems_solaredge_battery(regs, EMS_SE_BATTERY_COUNT, &r, err, sizeof(err)), 0);
	EQ(r.v[EMS_BATTERY], -12.25);
	EQ(r.v[EMS_SOC], 0);
	battery_block(regs, 0x0000, 0x0000, 0x0000, 0x42c8);
	assert_int_equal(ems_solaredge_battery(regs, EMS_SE_BATTERY_COUNT, &r, err, sizeof(err)), 0);
	EQ(r.v[EMS_BATTERY], 0);
	assert_false(signbit(r.v[EMS_BATTERY]));

	/* Power not implemented (quiet NaN 0x7FC00000), SOE still given. */
	ems_reading_clear(&r);
	battery_block(regs, 0x0000, 0x7fc0, 0x0000, 0x4287);
	assert_int_equal(ems_solaredge_battery(regs, EMS_SE_BATTERY_COUNT, &r, err, sizeof(err)), 0);
	expect_unknown(&r, 1u << EMS_SOC);
	EQ(r.v[EMS_SOC], 67.5);

	/* Both NaN (SolarEdge's all-ones, and quiet NaN), and infinity. */
	ems_reading_clear(&r);
	battery_block(regs, 0xffff, 0xffff, 0x0000, 0x7fc0);
	assert_int_equal(ems_solaredge_battery(regs, EMS_SE_BATTERY_COUNT, &r, err, sizeof(err)), -ENODATA);
	assert_string_equal(err, "battery: power (0xE174) and state of energy (0xE184) not implemented");
	battery_block(regs, 0x0000, 0x7f80, 0x0000, 0xff80);
	assert_int_equal(ems_solaredge_battery(regs, EMS_SE_BATTERY_COUNT, &r, err, sizeof(err)), -ENODATA);
	expect_unknown(&r, 0);

	assert_int_equal(ems_solaredge_battery(regs, EMS_SE_BATTERY_COUNT - 1, &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "battery: 17 registers, need 18");
	assert_int_equal(ems_solaredge_battery(NULL, EMS_SE_BATTERY_COUNT, &r, NULL, 0), -EINVAL);
	expect_unknown(&r, 0);
}

/* The words the other way round (high first) must not decode to the same reading. */
static void test_solaredge_battery_word_order(void **state)
{
	uint16_t regs[EMS_SE_BATTERY_COUNT];
	struct ems_reading r;

	(void)state;
	battery_block(regs, 0x44bb, 0x8000, 0x4287, 0x0000);
	ems_reading_clear(&r);
	assert_int_equal(ems_solaredge_battery(regs, EMS_SE_BATTERY_COUNT, &r, NULL, 0), 0);
	assert_false(fabs(r.v[EMS_BATTERY] + 1500) < 1);
	assert_false(fabs(r.v[EMS_SOC] - 67.5) < 1);
}

/* A full round trip: request, the device's answer, and the decoded reading. */
static void test_meter_round_trip(void **state)
{
	uint8_t req[EMS_MODBUS_REQ_LEN], resp[9 + 2 * EMS_SE_METER_COUNT];
	struct ems_modbus_resp r;
	struct ems_reading rd;

	(void)state;
	assert_int_equal(ems_modbus_read_request(req, 0x0042, 1, EMS_SE_METER1_ADDR + EMS_SE_METER_STRIDE,
						 EMS_SE_METER_COUNT),
			 EMS_MODBUS_REQ_LEN);
	assert_memory_equal(req, ((const uint8_t[]){ 0x00, 0x42, 0, 0, 0, 6, 1, 3, 0x9d, 0xaa, 0x00, 0x17 }),
			    EMS_MODBUS_REQ_LEN);
	memset(resp, 0, sizeof(resp));
	memcpy(resp, (const uint8_t[]){ 0x00, 0x42, 0, 0, 0, 3 + 2 * EMS_SE_METER_COUNT, 1, 3, 2 * EMS_SE_METER_COUNT },
	       9);
	resp[9] = 0x00; /* DID 203 */
	resp[10] = 0xcb;
	resp[9 + 2 * 18] = 0xfc; /* -1000 */
	resp[10 + 2 * 18] = 0x18;
	resp[9 + 2 * 22] = 0x00; /* SF 0 */
	resp[10 + 2 * 22] = 0x00;
	assert_int_equal(ems_modbus_parse_response(resp, sizeof(resp), &r), (int)sizeof(resp));
	assert_int_equal(r.tid, 0x42);
	assert_int_equal(r.n_regs, EMS_SE_METER_COUNT);
	ems_reading_clear(&rd);
	assert_int_equal(ems_solaredge_meter(r.regs, r.n_regs, &rd, NULL, 0), 0);
	EQ(rd.v[EMS_GRID], 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_bytes),
		cmocka_unit_test(test_request_limits),
		cmocka_unit_test(test_response_parse),
		cmocka_unit_test(test_response_partial),
		cmocka_unit_test(test_response_back_to_back),
		cmocka_unit_test(test_response_exception),
		cmocka_unit_test(test_response_largest),
		cmocka_unit_test(test_response_eproto),
		cmocka_unit_test(test_sunspec_scaled),
		cmocka_unit_test(test_solaredge_inverter),
		cmocka_unit_test(test_solaredge_meter),
		cmocka_unit_test(test_solaredge_battery),
		cmocka_unit_test(test_solaredge_battery_word_order),
		cmocka_unit_test(test_meter_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
