/*
 * twc_frame: checksum, SLIP-style escaping and a resynchronising byte-wise receiver for the TWC Gen 2
 * bus. The receiver is written for a noisy half-duplex line: a C0 that arrives too early restarts the
 * frame instead of ending it (that is how we lock back on after joining mid-frame), bytes between
 * frames (the junk byte real TWCs send after the closing C0) are skipped, and every frame that fails
 * a check is dropped and counted, never passed on.
 */
#include "twc_frame.h"

#include <errno.h>
#include <string.h>

uint8_t twc_frame_checksum(const uint8_t *body, size_t len)
{
	unsigned sum = 0;

	/* The type byte (FB/FC/FD) is not part of the sum. */
	for (size_t i = 1; i < len; i++)
		sum += body[i];
	return (uint8_t)sum;
}

static size_t put_escaped(uint8_t *out, size_t pos, uint8_t b)
{
	if (b == TWC_FRAME_END) {
		out[pos++] = TWC_FRAME_ESC;
		out[pos++] = TWC_FRAME_ESC_END;
	} else if (b == TWC_FRAME_ESC) {
		out[pos++] = TWC_FRAME_ESC;
		out[pos++] = TWC_FRAME_ESC_ESC;
	} else {
		out[pos++] = b;
	}
	return pos;
}

int twc_frame_encode(const uint8_t *body, size_t len, uint8_t *out, size_t cap)
{
	uint8_t tmp[TWC_WIRE_MAX];
	size_t pos = 0;

	if (!body || len + 1 < TWC_BODY_MIN || len + 1 > TWC_BODY_MAX)
		return -EINVAL;
	tmp[pos++] = TWC_FRAME_END;
	for (size_t i = 0; i < len; i++)
		pos = put_escaped(tmp, pos, body[i]);
	pos = put_escaped(tmp, pos, twc_frame_checksum(body, len));
	tmp[pos++] = TWC_FRAME_END;
	if (pos > cap)
		return -ENOSPC;
	memcpy(out, tmp, pos);
	return (int)pos;
}

void twc_rx_init(struct twc_rx *rx, enum twc_rx_mode mode)
{
	memset(rx, 0, sizeof(*rx));
	rx->mode = mode;
}

static bool length_ok(enum twc_rx_mode mode, size_t len)
{
	if (mode == TWC_RX_LENIENT)
		return len >= TWC_BODY_MIN && len <= TWC_BODY_MAX;
	return len == 14 || len == 16 || len == 20;
}

static void start_frame(struct twc_rx *rx)
{
	rx->in_frame = true;
	rx->len = 0;
	rx->escape = false;
}

/* A C0 closed a frame of rx->len bytes: check it and hand it on. */
static void close_frame(struct twc_rx *rx, twc_rx_frame_cb cb, void *user)
{
	rx->in_frame = false;
	if (rx->escape) {
		rx->stats.bad_escape++; /* DB right before the closing C0 */
		return;
	}
	if (!length_ok(rx->mode, rx->len)) {
		rx->stats.bad_length++;
		return;
	}
	if (twc_frame_checksum(rx->buf, rx->len - 1) != rx->buf[rx->len - 1]) {
		rx->stats.bad_checksum++;
		return;
	}
	rx->stats.frames++;
	if (cb)
		cb(user, rx->buf, rx->len);
}

/* A frame known to be bad is abandoned at once, not at its closing C0: otherwise, if that C0 was
 * lost in the noise, the next frame's opening C0 would close it and that good frame would be lost
 * too. */
static void push_byte(struct twc_rx *rx, uint8_t b)
{
	if (rx->escape) {
		rx->escape = false;
		if (b == TWC_FRAME_ESC_END) {
			b = TWC_FRAME_END;
		} else if (b == TWC_FRAME_ESC_ESC) {
			b = TWC_FRAME_ESC;
		} else {
			rx->stats.bad_escape++;
			rx->in_frame = false;
			return;
		}
	} else if (b == TWC_FRAME_ESC) {
		rx->escape = true;
		return;
	}
	if (rx->len == TWC_BODY_MAX) {
		rx->stats.overflow++;
		rx->in_frame = false;
		return;
	}
	rx->buf[rx->len++] = b;
}

bool twc_rx_expire(struct twc_rx *rx, uint64_t now_ms)
{
	if (!twc_rx_busy(rx))
		return false;
	if (now_ms - rx->last_byte_ms < TWC_RX_PARTIAL_TIMEOUT_MS)
		return false;
	rx->stats.timeouts++;
	rx->in_frame = false;
	return true;
}

void twc_rx_feed(struct twc_rx *rx, const uint8_t *data, size_t len, uint64_t now_ms, twc_rx_frame_cb cb,
		 void *user)
{
	if (len == 0)
		return;
	twc_rx_expire(rx, now_ms);
	rx->last_byte_ms = now_ms;
	for (size_t i = 0; i < len; i++) {
		uint8_t b = data[i];

		if (b != TWC_FRAME_END) {
			if (rx->in_frame)
				push_byte(rx, b);
			else
				rx->stats.junk_bytes++;
			continue;
		}
		if (!rx->in_frame) {
			start_frame(rx);
		} else if (rx->len < TWC_BODY_MIN) {
			/* Too short to be a frame: we joined mid-frame or read the junk byte as data.
			 * This C0 is the start of the next frame. */
			if (rx->len > 0 || rx->escape)
				rx->stats.resyncs++;
			start_frame(rx);
		} else {
			close_frame(rx, cb, user);
		}
	}
}

bool twc_rx_busy(const struct twc_rx *rx)
{
	return rx->in_frame && (rx->len > 0 || rx->escape);
}
