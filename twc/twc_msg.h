/*
 * twc_msg: encode and decode every TWC Gen 2 message we know into a plain struct. Works on bodies
 * (checksum already verified by twc_frame). The encoder cannot express the dangerous commands
 * (FC 19, FC 1A, FB E8) nor the master error command 02: what cannot be encoded cannot be sent.
 */
#ifndef TWC_MSG_H
#define TWC_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum twc_msg_type {
	TWC_MSG_UNKNOWN = 0,
	TWC_MSG_MASTER_LINKREADY1, /* FC E1 */
	TWC_MSG_MASTER_LINKREADY2, /* FB E2 */
	TWC_MSG_SLAVE_LINKREADY,   /* FD E2 */
	TWC_MSG_MASTER_HEARTBEAT,  /* FB E0 */
	TWC_MSG_SLAVE_HEARTBEAT,   /* FD E0 */
	TWC_MSG_METER_REQ,         /* FB EB */
	TWC_MSG_METER,             /* FD EB */
	TWC_MSG_FIRMWARE_REQ,      /* FB EC */
	TWC_MSG_FIRMWARE,          /* FD EC */
	TWC_MSG_SERIAL_REQ,        /* FB ED */
	TWC_MSG_SERIAL,            /* FD ED */
	TWC_MSG_VIN_REQ,           /* FB EE / FB EF / FB F1 (u.vin.part 0, 1, 2) */
	TWC_MSG_VIN,               /* FD EE / FD EF / FD F1 */
	TWC_MSG_START,             /* FC B1 */
	TWC_MSG_START_ACK,         /* FD B1 */
	TWC_MSG_STOP,              /* FC B2 */
	TWC_MSG_STOP_ACK,          /* FD B2 */
	TWC_MSG_IDLE,              /* FC 1D */
	TWC_MSG_TYPE_COUNT
};

/* Master heartbeat command codes (byte 6 of FB E0) that we are willing to send. */
enum twc_cmd {
	TWC_CMD_NONE = 0x00,      /* no change / keep-alive */
	TWC_CMD_SET_V1 = 0x05,    /* set the limit, protocol 1 */
	TWC_CMD_SET_V2 = 0x09,    /* set the limit, protocol 2 */
};

/* Slave state codes (byte 6 of FD E0). */
enum twc_slave_code {
	TWC_ST_READY = 0x00,
	TWC_ST_CHARGING = 0x01,
	TWC_ST_ERROR = 0x02,
	TWC_ST_PLUGGED_NO_CHARGE = 0x03,
	TWC_ST_PLUGGED_READY = 0x04,
	TWC_ST_BUSY = 0x05,
	TWC_ST_ACK_RAISE = 0x06,
	TWC_ST_ACK_LOWER = 0x07,
	TWC_ST_STARTING = 0x08,
	TWC_ST_ACK_LIMIT = 0x09,
	TWC_ST_ADJUSTED = 0x0A,
};

#define TWC_VIN_LEN 17
#define TWC_SERIAL_LEN 11

struct twc_msg {
	enum twc_msg_type type;
	uint8_t protocol; /* 1 (14-byte body) or 2 (16-byte); long replies (20) decode as 2 */
	uint8_t body_len; /* decoded body length incl. checksum; ignored by the encoder */
	uint16_t src;     /* sender TWC ID */
	uint16_t dst;     /* receiver TWC ID, 0 where the message has none */
	union {
		struct {
			uint8_t sign;
			uint16_t max_ca; /* slave: rated max in 0.01 A; master: 0 */
		} linkready;
		struct {
			uint8_t cmd;      /* enum twc_cmd */
			uint16_t ca;      /* limit in 0.01 A (for SET commands) */
			uint8_t plug_flag;/* master's own car flag; always 0 from us */
		} mhb;
		struct {
			uint8_t state;    /* enum twc_slave_code (others possible) */
			uint16_t limit_ca;
			uint16_t measured_ca;
		} shb;
		struct {
			uint32_t energy;    /* lifetime counter, raw (kWh on most units) */
			uint16_t volts[3];
			uint8_t half_amps[3]; /* phase currents in 0.5 A, 20-byte form only */
		} meter;
		struct {
			uint8_t v[4];
		} firmware;
		struct {
			char tsn[TWC_SERIAL_LEN + 1];
		} serial;
		struct {
			uint8_t part;  /* 0, 1, 2 */
			char chars[8]; /* NUL-terminated slice: 7, 7, 3 characters at most */
		} vin;
	} u;
};

/**
 * twc_msg_decode() - parse a verified body.
 * @body: body including the checksum (borrowed); @len: 13..20.
 * @out:  filled in.
 * Return: 0, or -EPROTO for a message we do not know (out->type = TWC_MSG_UNKNOWN), -EINVAL for a
 * known message with a wrong length or layout.
 */
int twc_msg_decode(const uint8_t *body, size_t len, struct twc_msg *out);

/**
 * twc_msg_encode() - build the body of a message WITHOUT the checksum.
 * Lengths: master messages 13/15 bytes (+ checksum = 14/16) by @m->protocol, broadcasts 15 (16),
 * slave long replies (METER, SERIAL, VIN) 19 (20).
 * Return: body length, -EINVAL for anything we refuse to send (unknown type, a heartbeat command other
 * than NONE/SET_V1/SET_V2, a limit that is not whole amps), -ENOSPC if @cap is too small.
 */
int twc_msg_encode(const struct twc_msg *m, uint8_t *body, size_t cap);

/* Encode straight to wire bytes (checksum, escaping, delimiters). Return: wire length or -errno. */
int twc_msg_to_wire(const struct twc_msg *m, uint8_t *out, size_t cap);

/* Human name of a type for logs ("FD E0 slave heartbeat"). Never NULL. */
const char *twc_msg_type_name(enum twc_msg_type t);

/* True if @vin is 17 characters a VIN may contain (digits and capitals except I, O, Q). The check
 * digit is not tested: it is mandatory only for North-American VINs. */
bool twc_vin_valid(const char *vin);

/* VIN replies come in three slices: characters [offset, offset + length) for part 0, 1, 2. */
size_t twc_vin_part_offset(uint8_t part);
size_t twc_vin_part_length(uint8_t part);

#endif
