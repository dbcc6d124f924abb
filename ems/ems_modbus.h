/*
 * ems_modbus: Modbus TCP framing for "read holding registers" (function 3) and the SolarEdge
 * SunSpec register maps, as pure functions over bytes and register arrays. The gateway owns the
 * TCP socket (gw_port, on the one loop); a blocking library such as libmodbus would stall it.
 * Addresses are 0-based, as sent on the wire (SolarEdge's PDF lists them 1-based).
 */
#ifndef EMS_MODBUS_H
#define EMS_MODBUS_H

#include <stddef.h>
#include <stdint.h>

#include "ems.h"

#define EMS_MODBUS_MAX_REGS 125   /* per read, by the protocol */
#define EMS_MODBUS_REQ_LEN 12     /* MBAP header (7) + function, address, count */
#define EMS_MODBUS_MAX_ADU 260

/* A read request into @out (EMS_MODBUS_REQ_LEN bytes). Return EMS_MODBUS_REQ_LEN, or -EINVAL for a
 * count of 0 or above EMS_MODBUS_MAX_REGS. */
int ems_modbus_read_request(uint8_t *out, uint16_t tid, uint8_t unit, uint16_t addr, uint16_t count);

struct ems_modbus_resp {
	uint16_t tid;
	uint8_t unit;
	uint8_t exception;                    /* 0, or the exception code of a 0x83 answer (2: bad address) */
	uint16_t regs[EMS_MODBUS_MAX_REGS];
	size_t n_regs;
};

/*
 * One response at the start of @buf (a TCP stream may hold part of one, or several).
 * Return: the bytes it took (> 0) with @out filled; 0 if more bytes are needed; -EPROTO if the
 * bytes cannot be a Modbus TCP response (protocol id not 0, length out of range, a function other
 * than 3 or 0x83, a byte count that disagrees with the length): the caller drops the connection.
 */
int ems_modbus_parse_response(const uint8_t *buf, size_t len, struct ems_modbus_resp *out);

/* SolarEdge register blocks the driver reads (address, count). */
#define EMS_SE_INVERTER_ADDR 40069u /* SunSpec inverter model 101/102/103: DID, length, ... */
#define EMS_SE_INVERTER_COUNT 40u   /* through 40108 */
#define EMS_SE_METER1_ADDR 40188u   /* meter 1 DID (201..204); meter n at + (n - 1) * 0xAE */
#define EMS_SE_METER_COUNT 23u      /* DID .. total real power SF (40210) */
#define EMS_SE_METER_STRIDE 0xAEu
#define EMS_SE_BATTERY1_ADDR 0xE174u /* battery 1 instantaneous power (only battery 1 is read) */
#define EMS_SE_BATTERY_COUNT 18u     /* power (float32) .. state of energy (0xE184, float32) */

/* value x 10^sf, or -ENODATA for SunSpec's "not implemented" (value 0x8000 or sf 0x8000) or an
 * sf outside -10..10. */
int ems_sunspec_scaled(uint16_t value, uint16_t sf, double *out);

/*
 * Decoders over the blocks above (@regs starts at the block's address, @n registers).
 * inverter: pv = AC power (40083 int16 x 10^SF at 40084), clamped at 0; -EINVAL if the DID at
 *           40069 is not 101, 102 or 103 or @n is short.
 * meter:    grid = -(total real power, 40206 x 10^SF at 40210): SolarEdge meters count export
 *           positive; -EINVAL if the DID is not 201..204.
 * battery:  battery = -(instantaneous power, float32 at 0xE174: + charging), soc = state of
 *           energy (float32 at 0xE184, %); NaN floats are -ENODATA. 32-bit floats come with the
 *           low-order word first, as SolarEdge sends them.
 */
int ems_solaredge_inverter(const uint16_t *regs, size_t n, struct ems_reading *out, char *err, size_t errlen);
int ems_solaredge_meter(const uint16_t *regs, size_t n, struct ems_reading *out, char *err, size_t errlen);
int ems_solaredge_battery(const uint16_t *regs, size_t n, struct ems_reading *out, char *err, size_t errlen);

#endif
