/*
 * twc_bus: the RS-485 master for up to three TWC Gen 2 slaves on one bus, as a pure state machine.
 * Bytes from the port and the current time come in; frames to write and events go out through
 * struct twc_bus_env; twc_bus_next_deadline() says when it next wants twc_bus_tick(). It never reads
 * a clock or touches a file descriptor. Every amp value it sends comes from twc_alloc.
 *
 * Call only from the gateway's loop; a bus object is not shared between threads.
 */
#ifndef TWC_BUS_H
#define TWC_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "twc_alloc.h"
#include "twc_frame.h"
#include "twc_msg.h"

/* Timing (ms). Heartbeats go out oldest-first (round robin) TWC_HEARTBEAT_SPACING_MS apart, as TWCManager
 * does, so with three slaves each hears from us every ~3 s, inside the ~3.5 s a TWC expects. A slave
 * whose limit changes takes the next heartbeat instead, as soon as TWC_HEARTBEAT_MIN_SPACING_MS after
 * the last one, but only while every other slave can still be heartbeated within
 * TWC_HEARTBEAT_DEADLINE_MS of its last one (the rest of the 3.5 s is for a frame coming in,
 * TWC_BUSY_DEFER_MAX_MS, and timer jitter). The least spacing is above the 0.25 s pauses that
 * jnicolson's and erwin314's masters leave between a heartbeat and the next frame and the 100-200 ms
 * a master listens after each (twc-protocol.md sections 4.1 and 11): two changes on a three-slave bus
 * are on the wire within three of them, under 1 s. */
#define TWC_HEARTBEAT_SPACING_MS 1000u
#define TWC_HEARTBEAT_MIN_SPACING_MS 300u
#define TWC_HEARTBEAT_DEADLINE_MS 3200u
#define TWC_LINKREADY_SPACING_MS 150u
#define TWC_SLAVE_TIMEOUT_MS 26000u
#define TWC_REPLY_WINDOW_MS 250u      /* quiet time after a frame of ours before a query */
#define TWC_QUERY_TIMEOUT_MS 600u     /* a query not answered by then counts as unanswered */
#define TWC_METER_INTERVAL_MS 60000u
#define TWC_BUSY_DEFER_MS 30u         /* wait while a frame is coming in, ... */
#define TWC_BUSY_DEFER_MAX_MS 120u    /* ... but never delay a heartbeat by more than this */
/* A slave that hears no heartbeat lets its car charge on for about 30 s (twc-protocol.md section 4.2;
 * cdragon says 10 s): what a silent slave, or one known from before a restart, may hold stays reserved
 * until twice that long after the master last heartbeated it (or after the start). */
#define TWC_HOLD_RELEASE_MS 60000u
#define TWC_MAX_KNOWN 8                /* slaves whose held limit is remembered (registry + reserved) */

/* Normalised slave status for the layers above. */
enum twc_slave_status {
	TWC_SLAVE_ABSENT = 0,
	TWC_SLAVE_IDLE,     /* no car, or a car that is not asking for anything */
	TWC_SLAVE_PLUGGED,  /* a car is plugged in and not drawing */
	TWC_SLAVE_CHARGING, /* drawing at least 1 A */
	TWC_SLAVE_ERROR,    /* the TWC reports an error state */
};

const char *twc_slave_status_name(enum twc_slave_status st);

/* A copy of what the bus knows about one slave (twc_bus_slave()). */
struct twc_slave_info {
	uint16_t id;
	uint8_t sign;
	uint8_t protocol;
	int rated_amps;
	enum twc_slave_status status;
	uint8_t state_code;     /* raw FD E0 state byte */
	double measured_amps;   /* what the car draws, from FD E0 */
	double reported_amps;   /* the limit the slave says is in force */
	int offered_amps;       /* what we last told it, in force (twc_alloc_in_force) */
	int held_amps;          /* the most it may be allowing now (twc_alloc_held): what the clamp counts */
	int target_amps;        /* what the allocator wants it to have */
	int cap_amps;           /* cap set by the layer above */
	uint64_t last_heard_ms;
	uint64_t last_heartbeat_ms;
	/* firmware 4.5.3 extras; empty / zero until the slave answers */
	bool has_meter;
	uint32_t energy_raw;    /* lifetime counter as sent (see docs: kWh on most units) */
	uint16_t volts[3];
	char vin[TWC_VIN_LEN + 1];
	char serial[TWC_SERIAL_LEN + 1];
	uint8_t firmware[4];
	bool has_firmware;
};

/* Events for logging and for the layers above. Strings are borrowed for the call only. */
enum twc_event_type {
	TWC_EV_SLAVE_ADDED,     /* slave = its index */
	TWC_EV_SLAVE_REMOVED,   /* silent for TWC_SLAVE_TIMEOUT_MS */
	TWC_EV_SLAVE_REJECTED,  /* a fourth slave, ignored */
	TWC_EV_STATUS_CHANGED,  /* normalised status changed */
	TWC_EV_VIN,             /* a VIN was read (text = VIN, "" when the car left) */
	TWC_EV_ID_COLLISION,    /* a slave announced our own ID; linkready burst repeated */
	TWC_EV_OTHER_MASTER,    /* a master frame from another ID: a TWC not set to slave mode? */
	TWC_EV_GRANT,           /* a new limit was sent (amps) */
	TWC_EV_UNKNOWN_FRAME,   /* a verified frame we do not understand (text = hex) */
	TWC_EV_STOP_SENT,       /* FC B2 sent to a paused slave whose car drew (amps = what it drew) */
	TWC_EV_START_SENT,      /* FC B1 sent: that slave may charge again (amps = its limit) */
	TWC_EV_HOLD_RESERVED,   /* a removed or not yet heard slave keeps amps reserved (id, amps) */
	TWC_EV_HOLD_RELEASED,   /* ... until now: it must have stopped (id, amps) */
};

struct twc_event {
	enum twc_event_type type;
	int slave;       /* index 0..2, -1 where none */
	uint16_t id;     /* TWC ID involved */
	int amps;        /* TWC_EV_GRANT, TWC_EV_STOP_SENT, TWC_EV_START_SENT */
	const char *text;
};

/* What one slave may hold, as remembered across restarts (protocol 0: not known). */
struct twc_held {
	uint16_t id;
	uint8_t protocol;
	int amps;
};

struct twc_bus_env {
	void *user;
	/* Write these wire bytes now (borrowed). Return 0 or -errno. A frame that was not written was
	 * not told: the slave keeps counting what it held before. */
	int (*write)(void *user, const uint8_t *bytes, size_t len);
	/* Optional. */
	void (*event)(void *user, const struct twc_event *ev);
	/* Optional: store this table of what every known slave may hold (borrowed, @n entries, amps > 0)
	 * durably before returning 0. Called whenever it changes; a raise goes on the bus only after the
	 * table with the raised value was stored, so a restart never assumes less than a slave holds. */
	int (*persist)(void *user, const struct twc_held *held, int n);
};

struct twc_bus_config {
	uint16_t master_id;     /* twc.masterId, default 0x7777 */
	uint8_t master_sign;    /* 0x77 */
	struct twc_limits limits;
	int default_cap_amps;   /* cap given to a newly found slave (0: it waits for the layer above) */
	bool query_meter;       /* poll FB EB / VIN / serial / firmware (firmware 4.5.3 slaves) */
	/* Send FC B2 to a slave the allocator pauses while its car draws, and FC B1 when it may charge
	 * again; firmware 4.5.3 only (a protocol 2 slave that answered FB EC). A Tesla car treats the cut
	 * as a fault after a few times (twc-protocol.md §2.12). Amps are unaffected: they still come only
	 * from twc_alloc. A B1 owed from before a reload that turns this off is still sent. */
	bool stop_commands;
};

struct twc_bus_stats {
	uint32_t tx_frames;
	uint32_t tx_errors;
	uint32_t heartbeats;
	uint32_t queries;
	uint32_t echoes;        /* our own frames heard back */
	uint32_t unknown;       /* verified but not understood */
	uint32_t foreign;       /* verified, addressed to another master */
	uint32_t collisions;
	uint32_t stop_cmds;     /* FC B2 sent */
	uint32_t start_cmds;    /* FC B1 sent */
	uint32_t persist_errors;/* env->persist failures (a raise held back each time) */
	struct twc_rx_stats rx;
};

struct twc_bus;

/* Return: a new bus that starts with the linkready burst at @now_ms, or NULL (-ENOMEM, bad config). */
struct twc_bus *twc_bus_new(const struct twc_bus_config *cfg, const struct twc_bus_env *env, uint64_t now_ms);
void twc_bus_free(struct twc_bus *bus);

/* Bytes read from the port. */
void twc_bus_input(struct twc_bus *bus, const uint8_t *data, size_t len, uint64_t now_ms);
/* A frame is coming in: bytes after its opening C0 are in, its end is not (what makes the master
 * hold its own frames back: listen before talk). */
bool twc_bus_rx_busy(const struct twc_bus *bus);
/* Do whatever is due at @now_ms (heartbeats, queries, timeouts). */
void twc_bus_tick(struct twc_bus *bus, uint64_t now_ms);
/* When twc_bus_tick() next has something to do (monotonic ms). */
uint64_t twc_bus_next_deadline(const struct twc_bus *bus);

/* The port (re)connected: forget partial input, restart linkready, and do not time slaves out for
 * the time the link was down. Nobody is raised until every registered slave has reported again (or
 * TWC_SLAVE_TIMEOUT_MS passed). */
void twc_bus_link_up(struct twc_bus *bus, uint64_t now_ms);

/**
 * twc_bus_restore() - what slaves may hold from before a restart (the table env->persist stored).
 * Each entry is reserved until that slave registers (then it counts as told that limit until it
 * reports) or TWC_HOLD_RELEASE_MS after @now_ms. Call once, right after twc_bus_new().
 * Return: 0, or -EINVAL for a bad entry (the valid ones are taken).
 */
int twc_bus_restore(struct twc_bus *bus, const struct twc_held *held, int n, uint64_t now_ms);

/* The least wiring a set of slaves can be brought down to over the bus (twc_alloc_floor() each). */
struct twc_need {
	int all;        /* for twc.wiringMaxAmpsAllTWCs */
	int per_twc;    /* for twc.wiringMaxAmpsPerTWC: 6 when a protocol 2 slave holds anything, else 0 */
	int floored;    /* how many slaves hold a floor */
};
void twc_need_of(const struct twc_held *held, int n, struct twc_need *out);
/* The same for the slaves this bus knows now (registered and reserved). */
void twc_bus_need(const struct twc_bus *bus, struct twc_need *out);

/* New wiring limits or default cap (SIGHUP). Return 0, -EINVAL, or -ERANGE when the slaves that hold
 * a limit cannot be brought within the new wiring (twc_bus_need() says how much they need): nothing
 * is changed then. A lowering that can be met takes effect through the clamp at each slave's next
 * heartbeat; the held sum comes down as the slaves report their new limits. */
int twc_bus_set_config(struct twc_bus *bus, const struct twc_bus_config *cfg);

/* Total amps the layer above makes available to this bus (clipped to the wiring). */
void twc_bus_set_available(struct twc_bus *bus, int amps);

/*
 * twc_bus_set_budget() - the most this bus may hold in total, from a site shared with other buses
 * (twc_alloc_site()); -1 (the default) for none. Unlike twc_bus_set_available(), which only changes
 * the shares, it caps the clamp: no slave is raised so that what the bus holds (twc_bus_held_total())
 * would exceed it, and a lower budget is met by lowering slaves first, each counted until it reports
 * its new limit. A budget below what the slaves can be brought down to (twc_bus_need()) is met as far
 * as the bus can.
 */
void twc_bus_set_budget(struct twc_bus *bus, int amps);
/* What the bus holds, can be brought down to, and wants, for twc_alloc_site(). */
void twc_bus_site_view(const struct twc_bus *bus, struct twc_site_bus *out);
/* Cap for one slave by TWC ID; -ENOENT if unknown. The cap is forgotten when the slave is. */
int twc_bus_set_cap(struct twc_bus *bus, uint16_t id, int amps);

/* Slaves are kept in slots 0..TWC_MAX_SLAVES-1. Return: 0 and a copy, or -ENOENT for an empty slot. */
int twc_bus_slave(const struct twc_bus *bus, int slot, struct twc_slave_info *out);
int twc_bus_slave_count(const struct twc_bus *bus);
/* Sum of what the slaves may hold, reserved amps included: what the clamp keeps within the wiring. */
int twc_bus_held_total(const struct twc_bus *bus);
/* Amps reserved for slaves not in the registry (silent, or known from before a restart). */
int twc_bus_reserved(const struct twc_bus *bus);
/* The table env->persist would store now; returns the number of entries (at most @cap). */
int twc_bus_held_table(const struct twc_bus *bus, struct twc_held *out, int cap);
const struct twc_bus_stats *twc_bus_stats(const struct twc_bus *bus);

#endif
