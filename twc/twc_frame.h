/*
 * twc_frame: the link layer of the TWC Gen 2 RS-485 bus. It turns a message body into wire bytes
 * (checksum, SLIP-style escaping, C0 delimiters) and turns a noisy byte stream back into verified
 * bodies. Pure: no I/O, time comes in as an argument. See docs/twc-protocol-notes.md and
 * ../shared/reference/twc-protocol.md section 1.
 */
#ifndef TWC_FRAME_H
#define TWC_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TWC_FRAME_END 0xC0
#define TWC_FRAME_ESC 0xDB
#define TWC_FRAME_ESC_END 0xDC
#define TWC_FRAME_ESC_ESC 0xDD

/* Longest body anyone sends (firmware 4.5.3 long replies), checksum included. */
#define TWC_BODY_MAX 20
/* Shortest body we consider at all (13 is what some masters send as requests). */
#define TWC_BODY_MIN 13
/* Worst case on the wire: C0, every body byte escaped, C0. */
#define TWC_WIRE_MAX (2 + 2 * TWC_BODY_MAX)
/* A partial frame older than this is dropped (TWCManager uses the same 2 s). */
#define TWC_RX_PARTIAL_TIMEOUT_MS 2000u

/**
 * twc_frame_checksum() - the TWC checksum of a body.
 * @body: body bytes, type byte first, WITHOUT the checksum byte.
 * @len:  number of bytes in @body.
 * Return: low byte of the sum of every byte but the first.
 */
uint8_t twc_frame_checksum(const uint8_t *body, size_t len);

/**
 * twc_frame_encode() - build the wire form of a body.
 * @body: body WITHOUT checksum (12 to 19 bytes); the checksum is appended here.
 * @len:  length of @body.
 * @out:  output buffer (copied into); TWC_WIRE_MAX bytes always suffice.
 * @cap:  size of @out.
 * Return: number of wire bytes written, -EINVAL for a bad length, -ENOSPC if @cap is too small.
 * No trailing junk byte is written; a simulator adds its own.
 */
int twc_frame_encode(const uint8_t *body, size_t len, uint8_t *out, size_t cap);

/* Receiver acceptance: the master accepts the body lengths real slaves send; the simulator, like a
 * real slave, accepts any request length from 13 to 20. */
enum twc_rx_mode {
	TWC_RX_STRICT,  /* bodies of 14, 16 or 20 bytes only */
	TWC_RX_LENIENT, /* bodies of 13 to 20 bytes */
};

/* Counters of everything the receiver dropped, for the status line and the tests. */
struct twc_rx_stats {
	uint32_t frames;       /* verified frames handed to the callback */
	uint32_t bad_checksum; /* right length, wrong checksum */
	uint32_t bad_length;   /* closed frame of a length we do not accept */
	uint32_t bad_escape;   /* DB followed by something other than DC/DD */
	uint32_t overflow;     /* more than TWC_BODY_MAX body bytes before a C0 */
	uint32_t timeouts;     /* partial frame abandoned after TWC_RX_PARTIAL_TIMEOUT_MS */
	uint32_t resyncs;      /* C0 after too few bytes: restarted as a frame start */
	uint32_t junk_bytes;   /* bytes outside any frame (the trailing FE and noise) */
};

/* Receiver state. Embedded by value in its owner; initialise with twc_rx_init(). */
struct twc_rx {
	uint8_t buf[TWC_BODY_MAX];
	size_t len;
	bool in_frame;
	bool escape;    /* previous byte was DB */
	uint64_t last_byte_ms;
	enum twc_rx_mode mode;
	struct twc_rx_stats stats;
};

/* Called for each verified body; @body includes the checksum byte, @len is 13..20; borrowed. */
typedef void (*twc_rx_frame_cb)(void *user, const uint8_t *body, size_t len);

void twc_rx_init(struct twc_rx *rx, enum twc_rx_mode mode);

/**
 * twc_rx_feed() - push received bytes through the receiver.
 * @rx:  receiver.
 * @data, @len: bytes as read from the port (borrowed).
 * @now_ms: monotonic time of the read, for the partial-frame timeout.
 * @cb, @user: called synchronously once per verified frame, in order.
 */
void twc_rx_feed(struct twc_rx *rx, const uint8_t *data, size_t len, uint64_t now_ms, twc_rx_frame_cb cb,
		 void *user);

/**
 * twc_rx_expire() - abandon a partial frame older than TWC_RX_PARTIAL_TIMEOUT_MS.
 * Return: true if a partial frame was dropped.
 */
bool twc_rx_expire(struct twc_rx *rx, uint64_t now_ms);

/* True while a frame is being received: a polite master does not start talking then. */
bool twc_rx_busy(const struct twc_rx *rx);

#endif
