/*
 * Tests of the TWC message catalogue: decoding the reference vectors and real captures, encoding
 * master messages byte for byte, round trips of every type, and the refusals that keep dangerous
 * frames off the bus (command 02, fractional amps, unknown types).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hex.h"
#include "twc_frame.h"
#include "twc_msg.h"

static void decode_hex(const char *h, struct twc_msg *m, int want_rc)
{
	uint8_t b[32];
	size_t n = hex(h, b);

	assert_int_equal(twc_msg_decode(b, n, m), want_rc);
}

static void test_decode_linkready(void **state)
{
	struct twc_msg m;

	(void)state;
	decode_hex("FD E2 12 34 56 0C 80 00 00 00 00 00 00 00 00 0A", &m, 0);
	assert_int_equal(m.type, TWC_MSG_SLAVE_LINKREADY);
	assert_int_equal(m.protocol, 2);
	assert_int_equal(m.src, 0x1234);
	assert_int_equal(m.u.linkready.sign, 0x56);
	assert_int_equal(m.u.linkready.max_ca, 3200);

	decode_hex("FD E2 12 34 56 1F 40 00 00 00 00 00 00 DD", &m, 0);
	assert_int_equal(m.protocol, 1);
	assert_int_equal(m.u.linkready.max_ca, 8000);

	decode_hex("FC E1 77 77 77 00 00 00 00 00 00 00 00 46", &m, 0);
	assert_int_equal(m.type, TWC_MSG_MASTER_LINKREADY1);
	assert_int_equal(m.src, 0x7777);
}

static void test_decode_heartbeats(void **state)
{
	struct twc_msg m;

	(void)state;
	decode_hex("FD E0 12 34 77 77 01 0C 80 0C 1C 00 00 00 00 C9", &m, 0);
	assert_int_equal(m.type, TWC_MSG_SLAVE_HEARTBEAT);
	assert_int_equal(m.src, 0x1234);
	assert_int_equal(m.dst, 0x7777);
	assert_int_equal(m.u.shb.state, TWC_ST_CHARGING);
	assert_int_equal(m.u.shb.limit_ca, 3200);
	assert_int_equal(m.u.shb.measured_ca, 3100); /* 0C 1C; the reference text says 30.68 A, its bytes say 31.00 */

	/* real capture: state 08, 6.00 A limit, 5.28 A drawn */
	decode_hex("FD E0 20 19 77 77 08 02 58 02 10 00 00 00 00 7B", &m, 0);
	assert_int_equal(m.u.shb.state, TWC_ST_STARTING);
	assert_int_equal(m.u.shb.limit_ca, 600);
	assert_int_equal(m.u.shb.measured_ca, 528);

	/* real capture: protocol 1 slave in error state */
	decode_hex("FD E0 02 2C 77 77 02 00 00 06 96 00 00 9A", &m, 0);
	assert_int_equal(m.protocol, 1);
	assert_int_equal(m.u.shb.state, TWC_ST_ERROR);

	decode_hex("FB E0 77 77 12 34 09 0C 80 00 00 00 00 00 00 A9", &m, 0);
	assert_int_equal(m.type, TWC_MSG_MASTER_HEARTBEAT);
	assert_int_equal(m.u.mhb.cmd, TWC_CMD_SET_V2);
	assert_int_equal(m.u.mhb.ca, 3200);
}

static void test_decode_meter_capture(void **state)
{
	struct twc_msg m;

	(void)state;
	/* ngardiner#88: 924 kWh, 246/240/246 V */
	decode_hex("FD EB 25 87 00 00 03 9C 00 F6 00 F0 00 F6 00 00 00 00 00 12", &m, 0);
	assert_int_equal(m.type, TWC_MSG_METER);
	assert_int_equal(m.src, 0x2587);
	assert_int_equal(m.u.meter.energy, 924);
	assert_int_equal(m.u.meter.volts[0], 246);
	assert_int_equal(m.u.meter.volts[1], 240);
	assert_int_equal(m.u.meter.volts[2], 246);
}

static void test_decode_unknown_and_bad(void **state)
{
	struct twc_msg m;
	uint8_t b[16] = {0xFB, 0xE8};

	(void)state;
	assert_int_equal(twc_msg_decode(b, 16, &m), -EPROTO);
	assert_int_equal(m.type, TWC_MSG_UNKNOWN);
	assert_int_equal(twc_msg_decode(b, 12, &m), -EINVAL);
	assert_int_equal(twc_msg_decode(b, 21, &m), -EINVAL);
	assert_int_equal(twc_msg_decode(NULL, 16, &m), -EINVAL);
	/* A meter reply must be 16 or 20 bytes. */
	b[0] = 0xFD;
	b[1] = 0xEB;
	assert_int_equal(twc_msg_decode(b, 14, &m), -EINVAL);
}

static void expect_wire(const struct twc_msg *m, const char *body_hex)
{
	uint8_t want[32], wire[TWC_WIRE_MAX], body[TWC_BODY_MAX];
	size_t n = hex(body_hex, want);
	int rc = twc_msg_encode(m, body, sizeof(body));

	assert_int_equal(rc, (int)n - 1);
	assert_memory_equal(body, want, n - 1);
	rc = twc_msg_to_wire(m, wire, sizeof(wire));
	assert_true(rc > 0);
	/* wire = C0 + body + checksum + C0 when nothing needs escaping */
	assert_int_equal(wire[rc - 2], want[n - 1]);
}

static void test_encode_master_vectors(void **state)
{
	struct twc_msg m = {0};

	(void)state;
	m.type = TWC_MSG_MASTER_LINKREADY1;
	m.protocol = 1;
	m.src = 0x7777;
	m.u.linkready.sign = 0x77;
	expect_wire(&m, "FC E1 77 77 77 00 00 00 00 00 00 00 00 46");
	m.type = TWC_MSG_MASTER_LINKREADY2;
	expect_wire(&m, "FB E2 77 77 77 00 00 00 00 00 00 00 00 47");

	memset(&m, 0, sizeof(m));
	m.type = TWC_MSG_MASTER_HEARTBEAT;
	m.protocol = 2;
	m.src = 0x7777;
	m.dst = 0x1234;
	m.u.mhb.cmd = TWC_CMD_SET_V2;
	m.u.mhb.ca = 3200;
	expect_wire(&m, "FB E0 77 77 12 34 09 0C 80 00 00 00 00 00 00 A9");
	m.protocol = 1;
	m.u.mhb.cmd = TWC_CMD_SET_V1;
	m.u.mhb.ca = 2000;
	expect_wire(&m, "FB E0 77 77 12 34 05 07 D0 00 00 00 00 F0");

	memset(&m, 0, sizeof(m));
	m.type = TWC_MSG_METER_REQ;
	m.protocol = 2;
	m.src = 0x7777;
	m.dst = 0x1234;
	expect_wire(&m, "FB EB 77 77 12 34 00 00 00 00 00 00 00 00 00 1F");
	m.type = TWC_MSG_STOP;
	expect_wire(&m, "FC B2 77 77 12 34 00 00 00 00 00 00 00 00 00 E6");
}

static void test_encode_refuses_danger(void **state)
{
	struct twc_msg m = {0};
	uint8_t body[TWC_BODY_MAX];

	(void)state;
	m.type = TWC_MSG_MASTER_HEARTBEAT;
	m.protocol = 2;
	m.src = 0x7777;
	m.dst = 0x1234;
	for (int cmd = 0; cmd < 256; cmd++) {
		m.u.mhb.cmd = (uint8_t)cmd;
		m.u.mhb.ca = cmd == 0 ? 0 : 1600;
		int rc = twc_msg_encode(&m, body, sizeof(body));

		if (cmd == 0x00 || cmd == 0x05 || cmd == 0x09)
			assert_int_equal(rc, 15);
		else
			assert_int_equal(rc, -EINVAL); /* 02 (error) and everything unknown */
	}
	m.u.mhb.cmd = TWC_CMD_SET_V2;
	m.u.mhb.ca = 1650; /* 16.5 A: cars misbehave on fractional amps */
	assert_int_equal(twc_msg_encode(&m, body, sizeof(body)), -EINVAL);
	m.u.mhb.cmd = TWC_CMD_NONE;
	m.u.mhb.ca = 1600; /* 00 must carry no limit */
	assert_int_equal(twc_msg_encode(&m, body, sizeof(body)), -EINVAL);
	m.type = TWC_MSG_UNKNOWN;
	assert_int_equal(twc_msg_encode(&m, body, sizeof(body)), -EINVAL);
	m.type = TWC_MSG_TYPE_COUNT;
	assert_int_equal(twc_msg_encode(&m, body, sizeof(body)), -EINVAL);
	m.type = TWC_MSG_METER_REQ;
	m.protocol = 3;
	assert_int_equal(twc_msg_encode(&m, body, sizeof(body)), -EINVAL);
	m.protocol = 2;
	assert_int_equal(twc_msg_encode(&m, body, 4), -ENOSPC);
}

/* Encode then decode each slave reply type and compare. */
static void roundtrip(const struct twc_msg *in, struct twc_msg *out)
{
	uint8_t body[TWC_BODY_MAX];
	int n = twc_msg_encode(in, body, sizeof(body));

	assert_true(n > 0);
	body[n] = twc_frame_checksum(body, (size_t)n);
	assert_int_equal(twc_msg_decode(body, (size_t)n + 1, out), 0);
	assert_int_equal(out->type, in->type);
	assert_int_equal(out->src, in->src);
}

static void test_roundtrip_replies(void **state)
{
	struct twc_msg m = {0}, o;
	const char *vin = "5YJ3E7EA1KF000001";

	(void)state;
	m.protocol = 2;
	m.src = 0xABCD;
	m.type = TWC_MSG_METER;
	m.u.meter.energy = 123456;
	m.u.meter.volts[0] = 231;
	m.u.meter.volts[1] = 229;
	m.u.meter.volts[2] = 232;
	m.u.meter.half_amps[0] = 32;
	roundtrip(&m, &o);
	assert_int_equal(o.body_len, 20);
	assert_int_equal(o.u.meter.energy, 123456);
	assert_int_equal(o.u.meter.volts[2], 232);
	assert_int_equal(o.u.meter.half_amps[0], 32);

	memset(&m.u, 0, sizeof(m.u));
	m.type = TWC_MSG_SERIAL;
	memcpy(m.u.serial.tsn, "A18B0001234", 12);
	roundtrip(&m, &o);
	assert_string_equal(o.u.serial.tsn, "A18B0001234");

	memset(&m.u, 0, sizeof(m.u));
	m.type = TWC_MSG_FIRMWARE;
	m.u.firmware.v[0] = 4;
	m.u.firmware.v[1] = 5;
	m.u.firmware.v[2] = 3;
	roundtrip(&m, &o);
	assert_memory_equal(o.u.firmware.v, m.u.firmware.v, 4);

	for (uint8_t part = 0; part < 3; part++) {
		memset(&m.u, 0, sizeof(m.u));
		m.type = TWC_MSG_VIN;
		m.u.vin.part = part;
		memcpy(m.u.vin.chars, vin + twc_vin_part_offset(part), twc_vin_part_length(part));
		roundtrip(&m, &o);
		assert_int_equal(o.u.vin.part, part);
		assert_int_equal(strlen(o.u.vin.chars), twc_vin_part_length(part));
		assert_memory_equal(o.u.vin.chars, vin + twc_vin_part_offset(part), twc_vin_part_length(part));
	}

	memset(&m.u, 0, sizeof(m.u));
	m.type = TWC_MSG_SLAVE_HEARTBEAT;
	m.protocol = 1;
	m.dst = 0x7777;
	m.u.shb.state = TWC_ST_CHARGING;
	m.u.shb.limit_ca = 1600;
	m.u.shb.measured_ca = 1570;
	roundtrip(&m, &o);
	assert_int_equal(o.body_len, 14);
	assert_int_equal(o.u.shb.measured_ca, 1570);
	assert_int_equal(o.dst, 0x7777);
}

static void test_vin_validity(void **state)
{
	(void)state;
	assert_true(twc_vin_valid("5YJ3E7EA1KF000001"));
	assert_true(twc_vin_valid("XP7YGCEK5PB000001")); /* European: no check digit needed */
	assert_false(twc_vin_valid("5YJ3E7EA1KF00000"));   /* 16 */
	assert_false(twc_vin_valid("5YJ3E7EA1KF0000012")); /* 18 */
	assert_false(twc_vin_valid("5YJ3E7EA1KF00O001"));  /* O is not allowed */
	assert_false(twc_vin_valid("5yj3E7EA1KF000001"));
	assert_false(twc_vin_valid(NULL));
	assert_string_equal(twc_msg_type_name(TWC_MSG_SLAVE_HEARTBEAT), "FD E0 slave heartbeat");
	assert_string_equal(twc_msg_type_name(TWC_MSG_UNKNOWN), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_linkready),
		cmocka_unit_test(test_decode_heartbeats),
		cmocka_unit_test(test_decode_meter_capture),
		cmocka_unit_test(test_decode_unknown_and_bad),
		cmocka_unit_test(test_encode_master_vectors),
		cmocka_unit_test(test_encode_refuses_danger),
		cmocka_unit_test(test_roundtrip_replies),
		cmocka_unit_test(test_vin_validity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
