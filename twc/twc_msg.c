/*
 * twc_msg: the TWC Gen 2 message catalogue as a table, with one decoder and one encoder driven by it.
 * Layouts are in ../shared/reference/twc-protocol.md section 2. The encoder refuses anything not in
 * the table and any master heartbeat command other than 00/05/09, so the error command 02 and the
 * flash-writing commands cannot be produced by this code at all.
 */
#include "twc_msg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "twc_frame.h"

/* How the bytes after the two code bytes are laid out. */
enum layout {
	L_LINKREADY,     /* id(2) sign(1) max(2) zeros */
	L_HEARTBEAT,     /* src(2) dst(2) data */
	L_REQUEST,       /* master(2) slave(2) zeros */
	L_REPLY_ID,      /* slave(2) payload */
};

struct msg_def {
	enum twc_msg_type type;
	uint8_t b0, b1;
	enum layout layout;
	uint8_t vin_part;
	const char *name;
};

static const struct msg_def defs[] = {
	{TWC_MSG_MASTER_LINKREADY1, 0xFC, 0xE1, L_LINKREADY, 0, "FC E1 master linkready1"},
	{TWC_MSG_MASTER_LINKREADY2, 0xFB, 0xE2, L_LINKREADY, 0, "FB E2 master linkready2"},
	{TWC_MSG_SLAVE_LINKREADY, 0xFD, 0xE2, L_LINKREADY, 0, "FD E2 slave linkready"},
	{TWC_MSG_MASTER_HEARTBEAT, 0xFB, 0xE0, L_HEARTBEAT, 0, "FB E0 master heartbeat"},
	{TWC_MSG_SLAVE_HEARTBEAT, 0xFD, 0xE0, L_HEARTBEAT, 0, "FD E0 slave heartbeat"},
	{TWC_MSG_METER_REQ, 0xFB, 0xEB, L_REQUEST, 0, "FB EB meter request"},
	{TWC_MSG_METER, 0xFD, 0xEB, L_REPLY_ID, 0, "FD EB meter"},
	{TWC_MSG_FIRMWARE_REQ, 0xFB, 0xEC, L_REQUEST, 0, "FB EC firmware request"},
	{TWC_MSG_FIRMWARE, 0xFD, 0xEC, L_REPLY_ID, 0, "FD EC firmware"},
	{TWC_MSG_SERIAL_REQ, 0xFB, 0xED, L_REQUEST, 0, "FB ED serial request"},
	{TWC_MSG_SERIAL, 0xFD, 0xED, L_REPLY_ID, 0, "FD ED serial"},
	{TWC_MSG_VIN_REQ, 0xFB, 0xEE, L_REQUEST, 0, "FB EE VIN request 1"},
	{TWC_MSG_VIN_REQ, 0xFB, 0xEF, L_REQUEST, 1, "FB EF VIN request 2"},
	{TWC_MSG_VIN_REQ, 0xFB, 0xF1, L_REQUEST, 2, "FB F1 VIN request 3"},
	{TWC_MSG_VIN, 0xFD, 0xEE, L_REPLY_ID, 0, "FD EE VIN 1"},
	{TWC_MSG_VIN, 0xFD, 0xEF, L_REPLY_ID, 1, "FD EF VIN 2"},
	{TWC_MSG_VIN, 0xFD, 0xF1, L_REPLY_ID, 2, "FD F1 VIN 3"},
	{TWC_MSG_START, 0xFC, 0xB1, L_REQUEST, 0, "FC B1 start"},
	{TWC_MSG_START_ACK, 0xFD, 0xB1, L_REPLY_ID, 0, "FD B1 start ack"},
	{TWC_MSG_STOP, 0xFC, 0xB2, L_REQUEST, 0, "FC B2 stop"},
	{TWC_MSG_STOP_ACK, 0xFD, 0xB2, L_REPLY_ID, 0, "FD B2 stop ack"},
	{TWC_MSG_IDLE, 0xFC, 0x1D, L_REPLY_ID, 0, "FC 1D idle"},
};

#define NDEFS (sizeof(defs) / sizeof(defs[0]))

/* VIN slices: first character and length of each part. */
static const uint8_t vin_off[3] = {0, 7, 14};
static const uint8_t vin_cnt[3] = {7, 7, 3};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static const struct msg_def *find_by_code(uint8_t b0, uint8_t b1)
{
	for (size_t i = 0; i < NDEFS; i++)
		if (defs[i].b0 == b0 && defs[i].b1 == b1)
			return &defs[i];
	return NULL;
}

static const struct msg_def *find_by_type(enum twc_msg_type t, uint8_t part)
{
	for (size_t i = 0; i < NDEFS; i++)
		if (defs[i].type == t && defs[i].vin_part == part)
			return &defs[i];
	return NULL;
}

const char *twc_msg_type_name(enum twc_msg_type t)
{
	const struct msg_def *d = find_by_type(t, 0);

	return d ? d->name : "unknown";
}

/* Copy printable ASCII up to the first NUL; anything else ends the text. */
static void copy_text(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 1 < cap; i++) {
		if (src[i] < 0x20 || src[i] > 0x7E)
			break;
		dst[k++] = (char)src[i];
	}
	dst[k] = '\0';
}

int twc_msg_decode(const uint8_t *body, size_t len, struct twc_msg *out)
{
	const struct msg_def *d;
	size_t data_len; /* bytes between the code bytes and the checksum */
	const uint8_t *p;

	memset(out, 0, sizeof(*out));
	if (!body || len < TWC_BODY_MIN || len > TWC_BODY_MAX)
		return -EINVAL;
	out->body_len = (uint8_t)len;
	out->protocol = len == 14 ? 1 : 2;
	d = find_by_code(body[0], body[1]);
	if (!d)
		return -EPROTO;
	out->type = d->type;
	p = body + 2;
	data_len = len - 3;

	switch (d->layout) {
	case L_LINKREADY:
		out->src = get16(p);
		out->u.linkready.sign = p[2];
		out->u.linkready.max_ca = get16(p + 3);
		return 0;
	case L_HEARTBEAT:
		out->src = get16(p);
		out->dst = get16(p + 2);
		if (d->type == TWC_MSG_MASTER_HEARTBEAT) {
			out->u.mhb.cmd = p[4];
			out->u.mhb.ca = get16(p + 5);
			out->u.mhb.plug_flag = p[7];
		} else {
			out->u.shb.state = p[4];
			out->u.shb.limit_ca = get16(p + 5);
			out->u.shb.measured_ca = get16(p + 7);
		}
		return 0;
	case L_REQUEST:
		out->src = get16(p);
		out->dst = get16(p + 2);
		out->u.vin.part = d->vin_part;
		return 0;
	case L_REPLY_ID:
		break;
	}

	if (d->type == TWC_MSG_IDLE)
		return 0;
	out->src = get16(p);
	p += 2;
	data_len -= 2;
	switch (d->type) {
	case TWC_MSG_METER:
		if (len != 16 && len != 20)
			return -EINVAL;
		out->u.meter.energy = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		for (int i = 0; i < 3; i++)
			out->u.meter.volts[i] = get16(p + 4 + 2 * i);
		if (len == 20)
			for (int i = 0; i < 3; i++)
				out->u.meter.half_amps[i] = p[10 + i];
		return 0;
	case TWC_MSG_FIRMWARE:
		memcpy(out->u.firmware.v, p, 4);
		return 0;
	case TWC_MSG_SERIAL:
		copy_text(out->u.serial.tsn, sizeof(out->u.serial.tsn), p,
			  data_len < TWC_SERIAL_LEN ? data_len : TWC_SERIAL_LEN);
		return 0;
	case TWC_MSG_VIN:
		out->u.vin.part = d->vin_part;
		if (data_len < vin_cnt[d->vin_part])
			return -EINVAL;
		copy_text(out->u.vin.chars, sizeof(out->u.vin.chars), p, vin_cnt[d->vin_part]);
		return 0;
	default:
		return 0; /* start/stop acks carry nothing but the ID */
	}
}

/* Body length without checksum for a message. */
static size_t encode_len(const struct twc_msg *m)
{
	/* Firmware 4.5.3 long replies. */
	if (m->type == TWC_MSG_METER || m->type == TWC_MSG_SERIAL || m->type == TWC_MSG_VIN)
		return 19;
	if (m->type == TWC_MSG_START || m->type == TWC_MSG_STOP)
		return 15;
	return m->protocol == 1 ? 13 : 15;
}

int twc_msg_encode(const struct twc_msg *m, uint8_t *body, size_t cap)
{
	const struct msg_def *d;
	uint8_t b[TWC_BODY_MAX];
	uint8_t *p = b + 2;
	size_t n;

	if (!m || (m->protocol != 1 && m->protocol != 2))
		return -EINVAL;
	d = find_by_type(m->type, m->type == TWC_MSG_VIN || m->type == TWC_MSG_VIN_REQ ? m->u.vin.part : 0);
	if (!d)
		return -EINVAL;
	n = encode_len(m);
	if (n > cap)
		return -ENOSPC;
	memset(b, 0, sizeof(b));
	b[0] = d->b0;
	b[1] = d->b1;

	switch (d->layout) {
	case L_LINKREADY:
		put16(p, m->src);
		p[2] = m->u.linkready.sign;
		put16(p + 3, m->u.linkready.max_ca);
		break;
	case L_HEARTBEAT:
		put16(p, m->src);
		put16(p + 2, m->dst);
		if (m->type == TWC_MSG_MASTER_HEARTBEAT) {
			uint8_t cmd = m->u.mhb.cmd;

			/* Only keep-alive and "set limit" leave this code; 02 would lock the TWC in
			 * an error state that needs a manual reset. Limits are whole amps. */
			if (cmd != TWC_CMD_NONE && cmd != TWC_CMD_SET_V1 && cmd != TWC_CMD_SET_V2)
				return -EINVAL;
			if (m->u.mhb.ca % 100 != 0 || (cmd == TWC_CMD_NONE && m->u.mhb.ca != 0))
				return -EINVAL;
			p[4] = cmd;
			put16(p + 5, m->u.mhb.ca);
			p[7] = m->u.mhb.plug_flag ? 1 : 0;
		} else {
			p[4] = m->u.shb.state;
			put16(p + 5, m->u.shb.limit_ca);
			put16(p + 7, m->u.shb.measured_ca);
		}
		break;
	case L_REQUEST:
		put16(p, m->src);
		put16(p + 2, m->dst);
		break;
	case L_REPLY_ID:
		if (m->type == TWC_MSG_IDLE)
			break;
		put16(p, m->src);
		p += 2;
		switch (m->type) {
		case TWC_MSG_METER:
			p[0] = (uint8_t)(m->u.meter.energy >> 24);
			p[1] = (uint8_t)(m->u.meter.energy >> 16);
			p[2] = (uint8_t)(m->u.meter.energy >> 8);
			p[3] = (uint8_t)m->u.meter.energy;
			for (int i = 0; i < 3; i++) {
				put16(p + 4 + 2 * i, m->u.meter.volts[i]);
				p[10 + i] = m->u.meter.half_amps[i];
			}
			break;
		case TWC_MSG_FIRMWARE:
			memcpy(p, m->u.firmware.v, 4);
			break;
		case TWC_MSG_SERIAL:
			memcpy(p, m->u.serial.tsn, strnlen(m->u.serial.tsn, TWC_SERIAL_LEN));
			break;
		case TWC_MSG_VIN:
			memcpy(p, m->u.vin.chars, strnlen(m->u.vin.chars, vin_cnt[m->u.vin.part]));
			break;
		default:
			break;
		}
		break;
	}
	memcpy(body, b, n);
	return (int)n;
}

int twc_msg_to_wire(const struct twc_msg *m, uint8_t *out, size_t cap)
{
	uint8_t body[TWC_BODY_MAX];
	int n = twc_msg_encode(m, body, sizeof(body));

	if (n < 0)
		return n;
	return twc_frame_encode(body, (size_t)n, out, cap);
}

bool twc_vin_valid(const char *vin)
{
	if (!vin || strlen(vin) != TWC_VIN_LEN)
		return false;
	for (size_t i = 0; i < TWC_VIN_LEN; i++) {
		char c = vin[i];

		/* I, O and Q are never used in a VIN (ISO 3779). */
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')) || c == 'I' || c == 'O' || c == 'Q')
			return false;
	}
	return true;
}

size_t twc_vin_part_offset(uint8_t part)
{
	return part < 3 ? vin_off[part] : 0;
}

size_t twc_vin_part_length(uint8_t part)
{
	return part < 3 ? vin_cnt[part] : 0;
}
