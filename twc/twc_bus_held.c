/*
 * twc_bus_held: what counts as in force on the bus. A limit counts as held once its frame was
 * written, a lowering only once the slave reports it and its car has come down; a slave that falls
 * silent, or that a restart knows of only from the persisted table, keeps its amps reserved until it
 * must have stopped. Every change of that table goes to env->persist before a raise may go out.
 */
#include "twc_bus_internal.h"

#include <errno.h>
#include <string.h>

/* What the slave may be allowing now; with @draw, the current its car still draws above that. */
/* A lowering counts only once the slave has answered a heartbeat that carried it: a slave with no car
 * reports limit 00 00 whatever it holds, so its report cannot show that a lowering arrived. */
int twc_bus_slave_held(const struct slave *s, bool draw)
{
	int held = twc_alloc_held(s->told, s->told_amps, s->protocol, s->have_shb ? s->limit_ca : -1,
				  s->have_shb && draw ? s->measured_ca : -1);

	return held > s->keep_amps ? held : s->keep_amps;
}

int twc_bus_reserved(const struct twc_bus *bus)
{
	int sum = 0;

	for (int k = 0; k < TWC_MAX_KNOWN; k++)
		sum += bus->reserved[k].amps;
	return sum;
}

/* Settling: after a start or reconnect nobody is raised until every registered slave has reported
 * what it holds, or a slave timeout has passed (a slave that never answers must not block for ever;
 * it still counts what it held). */
bool twc_bus_settling(const struct twc_bus *bus)
{
	if (bus->now_ms - bus->up_ms >= TWC_SLAVE_TIMEOUT_MS)
		return false;
	for (int i = 0; i < TWC_MAX_SLAVES; i++)
		if (bus->slaves[i].used && !bus->slaves[i].reported_since_up)
			return true;
	return false;
}

void twc_bus_held_reserve(struct twc_bus *bus, uint16_t id, uint8_t protocol, int amps, uint64_t release_ms)
{
	int k, free_k = -1, late = 0;

	if (amps <= 0)
		return;
	for (k = 0; k < TWC_MAX_KNOWN; k++) {
		if (bus->reserved[k].amps > 0 && id != 0 && bus->reserved[k].id == id)
			break;
		if (bus->reserved[k].amps <= 0 && free_k < 0)
			free_k = k;
		if (bus->reserved[k].release_ms > bus->reserved[late].release_ms)
			late = k;
	}
	if (k < TWC_MAX_KNOWN) {
		/* The same slave again: keep the larger claim for the longer time. */
		if (amps > bus->reserved[k].amps)
			bus->reserved[k].amps = amps;
		if (release_ms > bus->reserved[k].release_ms)
			bus->reserved[k].release_ms = release_ms;
		return;
	}
	if (free_k >= 0) {
		bus->reserved[free_k].id = id;
		bus->reserved[free_k].protocol = protocol;
		bus->reserved[free_k].amps = amps;
		bus->reserved[free_k].release_ms = release_ms;
		return;
	}
	/* Full: never drop a claim; fold this one into the longest-lasting one (anonymous from now on). */
	bus->reserved[late].id = 0;
	if (protocol > bus->reserved[late].protocol)
		bus->reserved[late].protocol = protocol;
	bus->reserved[late].amps += amps;
	if (release_ms > bus->reserved[late].release_ms)
		bus->reserved[late].release_ms = release_ms;
}

int twc_bus_held_table(const struct twc_bus *bus, struct twc_held *out, int cap)
{
	int n = 0;

	for (int i = 0; i < TWC_MAX_SLAVES && n < cap; i++) {
		const struct slave *s = &bus->slaves[i];
		int amps = s->used ? twc_bus_slave_held(s, false) : 0;

		if (amps > 0)
			out[n++] = (struct twc_held){s->id, s->protocol, amps};
	}
	for (int k = 0; k < TWC_MAX_KNOWN && n < cap; k++)
		if (bus->reserved[k].amps > 0)
			out[n++] = (struct twc_held){bus->reserved[k].id, bus->reserved[k].protocol,
						     bus->reserved[k].amps};
	return n;
}

void twc_need_of(const struct twc_held *held, int n, struct twc_need *out)
{
	memset(out, 0, sizeof(*out));
	for (int k = 0; k < n; k++) {
		/* Not knowing the protocol, assume the one that cannot be stopped. */
		int f = twc_alloc_floor(held[k].protocol == 1 ? 1 : 2, held[k].amps);

		if (f > 0) {
			out->all += f;
			out->per_twc = f > out->per_twc ? f : out->per_twc;
			out->floored++;
		}
	}
}

void twc_bus_need(const struct twc_bus *bus, struct twc_need *out)
{
	struct twc_held t[TWC_MAX_SLAVES + TWC_MAX_KNOWN];

	twc_need_of(t, twc_bus_held_table(bus, t, TWC_MAX_SLAVES + TWC_MAX_KNOWN), out);
}

/* Store the held table if it changed. Return 0, or the env's error (the old table stays saved, so a
 * later call tries again; what is stored then is never below what a slave may hold, since raises
 * wait for a successful store). */
int twc_bus_held_sync(struct twc_bus *bus)
{
	struct twc_held t[TWC_MAX_KNOWN];
	int n, rc;

	if (!bus->env.persist)
		return 0;
	n = twc_bus_held_table(bus, t, TWC_MAX_KNOWN);
	if (n == bus->n_saved) {
		int k = 0;

		/* Field by field: the struct has padding. */
		while (k < n && t[k].id == bus->saved[k].id && t[k].protocol == bus->saved[k].protocol &&
		       t[k].amps == bus->saved[k].amps)
			k++;
		if (k == n)
			return 0;
	}
	rc = bus->env.persist(bus->env.user, t, n);
	if (rc < 0) {
		bus->stats.persist_errors++;
		return rc;
	}
	memcpy(bus->saved, t, sizeof(t[0]) * (size_t)n);
	bus->n_saved = n;
	return 0;
}

int twc_bus_restore(struct twc_bus *bus, const struct twc_held *held, int n, uint64_t now_ms)
{
	int rc = 0;

	bus->now_ms = now_ms;
	for (int k = 0; k < n; k++) {
		if (held[k].amps <= 0 || held[k].amps > 655 || held[k].protocol > 2) {
			rc = -EINVAL;
			continue;
		}
		twc_bus_held_reserve(bus, held[k].id, held[k].protocol, held[k].amps,
				     now_ms + TWC_HOLD_RELEASE_MS);
		twc_bus_emit(bus, TWC_EV_HOLD_RESERVED, -1, held[k].id, held[k].amps, NULL);
	}
	/* What was read back is what is stored: no write until something changes. */
	bus->n_saved = twc_bus_held_table(bus, bus->saved, TWC_MAX_KNOWN);
	return rc;
}

/* Reservations whose time is up: the slave heard no heartbeat for long enough to have stopped. */
void twc_bus_held_release_expired(struct twc_bus *bus)
{
	for (int k = 0; k < TWC_MAX_KNOWN; k++) {
		if (bus->reserved[k].amps <= 0 || bus->now_ms < bus->reserved[k].release_ms)
			continue;
		int amps = bus->reserved[k].amps;

		bus->reserved[k].amps = 0;
		twc_bus_emit(bus, TWC_EV_HOLD_RELEASED, -1, bus->reserved[k].id, amps, NULL);
	}
}

/* A slave we reserved amps for is back: it counts as told that limit until it reports (and is
 * told something else), so the reservation moves into the registry without a gap. */
void twc_bus_held_revive(struct twc_bus *bus, struct slave *s)
{
	for (int k = 0; k < TWC_MAX_KNOWN; k++) {
		if (bus->reserved[k].amps <= 0 || bus->reserved[k].id != s->id)
			continue;
		s->told = true;
		s->told_amps = bus->reserved[k].amps;
		s->keep_amps = 0;
		bus->reserved[k].amps = 0;
		break;
	}
}

int twc_bus_held_total(const struct twc_bus *bus)
{
	int sum = twc_bus_reserved(bus);

	for (int i = 0; i < TWC_MAX_SLAVES; i++)
		if (bus->slaves[i].used)
			sum += twc_bus_slave_held(&bus->slaves[i], true);
	return sum;
}
