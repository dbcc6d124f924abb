/*
 * libFuzzer target for the whole bus master: arbitrary slave traffic and timing must never crash it,
 * and every frame it writes must be a valid frame whose heartbeat command is 00, 05 or 09 with a
 * whole-amp limit within the per-TWC wiring, whatever the slaves claim.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "twc_bus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PER_TWC 32

static void check_sent(void *user, const uint8_t *body, size_t len)
{
	struct twc_msg m;

	*(int *)user += 1;
	if (twc_msg_decode(body, len, &m) != 0 || m.src != 0x7777)
		abort();
	if (m.type == TWC_MSG_MASTER_HEARTBEAT) {
		if (m.u.mhb.cmd != TWC_CMD_NONE && m.u.mhb.cmd != TWC_CMD_SET_V1 && m.u.mhb.cmd != TWC_CMD_SET_V2)
			abort();
		if (m.u.mhb.ca % 100 != 0 || m.u.mhb.ca > PER_TWC * 100)
			abort();
	}
}

static int sink(void *user, const uint8_t *bytes, size_t len)
{
	struct twc_rx rx;
	int frames = 0;

	(void)user;
	twc_rx_init(&rx, TWC_RX_LENIENT);
	twc_rx_feed(&rx, bytes, len, 0, check_sent, &frames);
	if (frames != 1)
		abort();
	return 0;
}

static void on_event(void *user, const struct twc_event *ev)
{
	struct twc_bus *bus = *(struct twc_bus **)user;

	if (ev->type == TWC_EV_SLAVE_ADDED)
		twc_bus_set_cap(bus, ev->id, 32);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct twc_bus *bus = NULL;
	struct twc_bus_config cfg = {0x7777, 0x77, {40, PER_TWC, 6}, 0, true, true};
	struct twc_bus_env env = {&bus, sink, on_event, NULL};
	uint64_t now = 1000;
	size_t i = 0;

	bus = twc_bus_new(&cfg, &env, now);
	if (!bus)
		abort();
	while (i < size) {
		size_t chunk = 1 + data[i] % 32;
		uint8_t op = data[i++];

		if (chunk > size - i)
			chunk = size - i;
		if (op & 0x80)
			twc_bus_set_available(bus, op & 0x3F);
		twc_bus_input(bus, data + i, chunk, now);
		now += (uint64_t)(op & 0x0F) * 137;
		uint64_t d = twc_bus_next_deadline(bus);
		if (d <= now)
			twc_bus_tick(bus, now);
		i += chunk;
	}
	twc_bus_free(bus);
	return 0;
}
