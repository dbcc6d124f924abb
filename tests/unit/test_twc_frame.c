/*
 * Tests of the TWC link layer: checksum and escaping against the reference test vectors and real
 * captures (twc-protocol.md 1.9), and the receiver's handling of junk, resync, bad escapes, bad
 * lengths, bad checksums, overflow and the partial-frame timeout.
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

struct seen {
	int n;
	uint8_t body[8][TWC_BODY_MAX];
	size_t len[8];
};

static void collect(void *user, const uint8_t *body, size_t len)
{
	struct seen *s = user;

	if (s->n < 8) {
		memcpy(s->body[s->n], body, len);
		s->len[s->n] = len;
	}
	s->n++;
}

/* Reference vectors: unescaped body including checksum. */
static const char *const vectors[] = {
	"FC E1 77 77 77 00 00 00 00 00 00 00 00 46",
	"FB E2 77 77 77 00 00 00 00 00 00 00 00 47",
	"FB E0 77 77 12 34 09 0C 80 00 00 00 00 00 00 A9",
	"FB E0 77 77 12 34 05 07 D0 00 00 00 00 F0",
	"FD E2 12 34 56 0C 80 00 00 00 00 00 00 00 00 0A",
	"FD E2 12 34 56 1F 40 00 00 00 00 00 00 DD",
	"FD E0 12 34 77 77 01 0C 80 0C 1C 00 00 00 00 C9",
	"FB EB 77 77 12 34 00 00 00 00 00 00 00 00 00 1F",
	"FB E0 77 77 C0 DB 09 0C 80 00 00 00 00 00 00 FE",
	"FC B2 77 77 12 34 00 00 00 00 00 00 00 00 00 E6",
	/* real captures */
	"FD E0 20 19 77 77 08 02 58 02 10 00 00 00 00 7B",
	"FD EB 25 87 00 00 03 9C 00 F6 00 F0 00 F6 00 00 00 00 00 12",
	"FD E2 40 85 1D 0C 80 00 00 00 00 00 00 00 00 50",
	"FD E0 02 2C 77 77 02 00 00 06 96 00 00 9A",
};

static void test_checksum_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		uint8_t b[32];
		size_t n = hex(vectors[i], b);

		assert_int_equal(twc_frame_checksum(b, n - 1), b[n - 1]);
	}
}

static void test_encode_escaping_vector(void **state)
{
	uint8_t body[32], want[64], out[TWC_WIRE_MAX];
	size_t n = hex("FB E0 77 77 C0 DB 09 0C 80 00 00 00 00 00 00", body);
	size_t wn = hex("C0 FB E0 77 77 DB DC DB DD 09 0C 80 00 00 00 00 00 00 FE C0", want);
	int rc;

	(void)state;
	rc = twc_frame_encode(body, n, out, sizeof(out));
	assert_int_equal(rc, (int)wn);
	assert_memory_equal(out, want, wn);
}

static void test_encode_escapes_checksum(void **state)
{
	/* Choose a body whose checksum is C0: it must go out escaped. */
	uint8_t body[13] = {0xFB, 0xE0, 0x77, 0x77, 0x12, 0x34, 0x00};
	uint8_t out[TWC_WIRE_MAX];
	int rc;

	(void)state;
	body[12] = (uint8_t)(0xC0 - twc_frame_checksum(body, 12));
	assert_int_equal(twc_frame_checksum(body, 13), 0xC0);
	rc = twc_frame_encode(body, 13, out, sizeof(out));
	assert_int_equal(rc, 2 + 14 + 1);
	assert_int_equal(out[rc - 3], 0xDB);
	assert_int_equal(out[rc - 2], 0xDC);
	for (int i = 1; i < rc - 1; i++)
		assert_int_not_equal(out[i], 0xC0);
}

static void test_encode_rejects(void **state)
{
	uint8_t body[32] = {0}, out[TWC_WIRE_MAX];

	(void)state;
	assert_int_equal(twc_frame_encode(body, 11, out, sizeof(out)), -EINVAL);
	assert_int_equal(twc_frame_encode(body, 20, out, sizeof(out)), -EINVAL);
	assert_int_equal(twc_frame_encode(body, 15, out, 10), -ENOSPC);
}

/* Every vector survives encode -> receive, with the real TWC junk byte after it. */
static void test_roundtrip_all_vectors_with_junk(void **state)
{
	struct twc_rx rx;
	struct seen s = {0};

	(void)state;
	twc_rx_init(&rx, TWC_RX_STRICT);
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		uint8_t b[32], wire[TWC_WIRE_MAX + 1];
		size_t n = hex(vectors[i], b);
		int w = twc_frame_encode(b, n - 1, wire, sizeof(wire));

		assert_true(w > 0);
		wire[w++] = 0xFE;
		memset(&s, 0, sizeof(s));
		twc_rx_feed(&rx, wire, (size_t)w, 1000, collect, &s);
		assert_int_equal(s.n, 1);
		assert_int_equal(s.len[0], n);
		assert_memory_equal(s.body[0], b, n);
	}
	assert_int_equal(rx.stats.frames, sizeof(vectors) / sizeof(vectors[0]));
	assert_int_equal(rx.stats.junk_bytes, sizeof(vectors) / sizeof(vectors[0]));
	assert_int_equal(rx.stats.bad_checksum + rx.stats.bad_length + rx.stats.bad_escape, 0);
}

static size_t wire_of(const char *body_hex, uint8_t *wire)
{
	uint8_t b[32];
	size_t n = hex(body_hex, b);

	return (size_t)twc_frame_encode(b, n - 1, wire, TWC_WIRE_MAX);
}

static void test_byte_at_a_time(void **state)
{
	struct twc_rx rx;
	struct seen s = {0};
	uint8_t wire[TWC_WIRE_MAX];
	size_t n = wire_of(vectors[8], wire); /* the escaped one */

	(void)state;
	twc_rx_init(&rx, TWC_RX_STRICT);
	for (size_t i = 0; i < n; i++)
		twc_rx_feed(&rx, &wire[i], 1, 1000 + i, collect, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.body[0][4], 0xC0);
	assert_int_equal(s.body[0][5], 0xDB);
}

/* Joining in the middle of a frame: the tail is ignored, its closing C0 opens a frame, the junk byte
 * and the next opening C0 make a too-short frame that is treated as a restart. */
static void test_resync_mid_frame(void **state)
{
	struct twc_rx rx;
	struct seen s = {0};
	uint8_t w1[TWC_WIRE_MAX], w2[TWC_WIRE_MAX], stream[128];
	size_t n1 = wire_of(vectors[6], w1), n2 = wire_of(vectors[4], w2), k = 0;

	(void)state;
	memcpy(stream + k, w1 + 7, n1 - 7); /* tail of frame 1 */
	k += n1 - 7;
	stream[k++] = 0xFE;
	memcpy(stream + k, w2, n2);
	k += n2;
	stream[k++] = 0xFE;
	twc_rx_init(&rx, TWC_RX_STRICT);
	twc_rx_feed(&rx, stream, k, 5, collect, &s);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.body[0][1], 0xE2);
	assert_int_equal(rx.stats.resyncs, 1);
	assert_int_equal(rx.stats.bad_checksum + rx.stats.bad_length, 0);
}

static void test_back_to_back_and_double_c0(void **state)
{
	struct twc_rx rx;
	struct seen s = {0};
	uint8_t w[TWC_WIRE_MAX], stream[256];
	size_t n = wire_of(vectors[2], w), k = 0;

	(void)state;
	memcpy(stream + k, w, n), k += n;       /* C0 body C0 */
	memcpy(stream + k, w, n), k += n;       /* C0 body C0, no junk byte */
	stream[k++] = 0xC0;                     /* stray extra C0 */
	memcpy(stream + k, w, n), k += n;
	twc_rx_init(&rx, TWC_RX_STRICT);
	twc_rx_feed(&rx, stream, k, 5, collect, &s);
	assert_int_equal(s.n, 3);
}

static void test_bad_checksum_dropped_and_counted(void **state)
{
	struct twc_rx rx;
	struct seen s = {0};
	uint8_t w[TWC_WIRE_MAX];
	size_t n = wire_of(vectors[2], w);

	(void)state;
	w[n - 2] ^= 0x01; /* checksum byte (not escaped in this vector) */
	twc_rx_init(&rx, TWC_RX_STRICT);
	twc_rx_feed(&rx, w, n, 5, collect, &s);
	assert_int_equal(s.n, 0);
	assert_int_equal(rx.stats.bad_checksum, 1);
}

static void test_bad_lengths(void **state)
{
	struct twc_rx rx;
	struct seen s = {0};
	uint8_t body[19] = {0xFD, 0xE0, 1, 2, 3, 4};

	(void)state;
	for (size_t len = 13; len <= 20; len++) {
		uint8_t w[TWC_WIRE_MAX];
		int n = twc_frame_encode(body, len - 1, w, sizeof(w));

		twc_rx_init(&rx, TWC_RX_STRICT);
		memset(&s, 0, sizeof(s));
		twc_rx_feed(&rx, w, (size_t)n, 5, collect, &s);
		if (len == 14 || len == 16 || len == 20) {
			assert_int_equal(s.n, 1);
		} else {
			assert_int_equal(s.n, 0);
			assert_int_equal(rx.stats.bad_length, 1);
		}
		/* Lenient mode (the simulator) takes any request length from 13 to 20. */
		twc_rx_init(&rx, TWC_RX_LENIENT);
		memset(&s, 0, sizeof(s));
		twc_rx_feed(&rx, w, (size_t)n, 5, collect, &s);
		assert_int_equal(s.n, 1);
	}
}

static void test_invalid_escape_drops_frame(void **state)
{
	struct twc_rx rx;
	struct seen s = {0};
	uint8_t w[TWC_WIRE_MAX], good[TWC_WIRE_MAX], stream[128];
	size_t n = wire_of(vectors[2], w), g = wire_of(vectors[3], good), k = 0;

	(void)state;
	w[5] = 0xDB; /* followed by 0x12: not a valid escape */
	memcpy(stream, w, n), k = n;
	memcpy(stream + k, good, g), k += g;
	twc_rx_init(&rx, TWC_RX_STRICT);
	twc_rx_feed(&rx, stream, k, 5, collect, &s);
	assert_int_equal(s.n, 1); /* the good frame after it still arrives */
	assert_int_equal(s.body[0][6], 0x05);
	assert_int_equal(rx.stats.bad_escape, 1);
}

static void test_overflow_bounded(void **state)
{
	struct twc_rx rx;
	struct seen s = {0};
	uint8_t stream[300], good[TWC_WIRE_MAX];
	size_t g = wire_of(vectors[2], good), k = 0;

	(void)state;
	stream[k++] = 0xC0;
	for (int i = 0; i < 200; i++)
		stream[k++] = 0x55;
	stream[k++] = 0xC0; /* ends the oversized junk */
	memcpy(stream + k, good, g), k += g;
	twc_rx_init(&rx, TWC_RX_STRICT);
	twc_rx_feed(&rx, stream, k, 5, collect, &s);
	assert_int_equal(rx.stats.overflow, 1);
	assert_int_equal(s.n, 1);
}

static void test_partial_timeout(void **state)
{
	struct twc_rx rx;
	struct seen s = {0};
	uint8_t w[TWC_WIRE_MAX];
	size_t n = wire_of(vectors[2], w);

	(void)state;
	twc_rx_init(&rx, TWC_RX_STRICT);
	twc_rx_feed(&rx, w, 8, 1000, collect, &s); /* first half */
	assert_true(twc_rx_busy(&rx));
	assert_false(twc_rx_expire(&rx, 2999));
	assert_true(twc_rx_expire(&rx, 3000));
	assert_false(twc_rx_busy(&rx));
	assert_int_equal(rx.stats.timeouts, 1);
	/* The stale half must not glue onto a later frame. */
	twc_rx_feed(&rx, w, n, 3001, collect, &s);
	assert_int_equal(s.n, 1);
}

static void test_timeout_applies_on_feed(void **state)
{
	struct twc_rx rx;
	struct seen s = {0};
	uint8_t w[TWC_WIRE_MAX];
	size_t n = wire_of(vectors[2], w);

	(void)state;
	twc_rx_init(&rx, TWC_RX_STRICT);
	twc_rx_feed(&rx, w, 8, 1000, collect, &s);
	/* The rest arrives 5 s later: the first half is stale; the tail is junk until a C0. */
	twc_rx_feed(&rx, w + 8, n - 8, 6000, collect, &s);
	assert_int_equal(s.n, 0);
	assert_int_equal(rx.stats.timeouts, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_vectors),
		cmocka_unit_test(test_encode_escaping_vector),
		cmocka_unit_test(test_encode_escapes_checksum),
		cmocka_unit_test(test_encode_rejects),
		cmocka_unit_test(test_roundtrip_all_vectors_with_junk),
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_resync_mid_frame),
		cmocka_unit_test(test_back_to_back_and_double_c0),
		cmocka_unit_test(test_bad_checksum_dropped_and_counted),
		cmocka_unit_test(test_bad_lengths),
		cmocka_unit_test(test_invalid_escape_drops_frame),
		cmocka_unit_test(test_overflow_bounded),
		cmocka_unit_test(test_partial_timeout),
		cmocka_unit_test(test_timeout_applies_on_feed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
