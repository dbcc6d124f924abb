/*
 * twc_sim: a pure model of up to three TWC Gen 2 slaves on one bus, each with an optional car. It
 * answers a master the way real slaves do (linkready, heartbeats, fw 4.5.3 queries), lets a test
 * plug and unplug cars and inject faults, and keeps the figures a test checks: the gap between
 * heartbeats each slave hears, the highest sum of limits the slaves held and the highest sum of
 * current the cars really drew. The bus is modelled as a real one is: half duplex at 9600 bps 8N1,
 * every frame takes its wire time, each reply comes a little after the request, and two frames that
 * overlap on the wire garble each other. No I/O, no clock: the twc-sim binary and the gateway demo
 * feed it bytes and time, and call twc_sim_tick() at twc_sim_next_deadline().
 */
#ifndef TWC_SIM_H
#define TWC_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TWC_SIM_MAX_SLAVES 3

/* 10 bits (start, 8 data, stop) at 9600 bps: 1041.7 us, rounded up. */
#define TWC_SIM_BYTE_US 1042u
/*
 * Default reply latency, from the end of the request on the wire to the start of the reply, drawn
 * per reply from the seeded PRNG. twc-protocol.md section 4.2: the latency of a real TWC is not
 * documented, and TWCManager waits 100 ms after each heartbeat "to give the slave time to respond"
 * and works with real units, so real replies come well within 100 ms. A microcontroller at 9600 bps
 * needs a few ms to check a frame and turn its transceiver round; 5..40 ms spans that without being
 * kinder than TWCManager's window. TWC_SIM_FAULT_DELAY goes beyond it.
 */
#define TWC_SIM_LATENCY_MIN_MS 5
#define TWC_SIM_LATENCY_MAX_MS 40
#define TWC_SIM_LATENCY_LIMIT_MS 10000

struct twc_sim_env {
	void *user;
	/* Bytes the slaves put on the bus (borrowed). */
	int (*write)(void *user, const uint8_t *bytes, size_t len);
	/* Optional: a human-readable line about something notable (borrowed). */
	void (*log)(void *user, const char *line);
};

struct twc_sim_slave_config {
	uint16_t id;       /* 0: random */
	uint8_t sign;      /* 0: random */
	uint8_t protocol;  /* 1 or 2 */
	int rated_amps;    /* 32 (EU) or 80 (US) */
	bool fw453;        /* answers FB EB/EC/ED/EE/EF/F1 and FC B1/B2 */
	char serial[12];   /* TSN for FB ED; "" = made up from the ID */
};

struct twc_sim_config {
	int slaves;        /* 1..3 */
	struct twc_sim_slave_config slave[TWC_SIM_MAX_SLAVES];
	uint32_t seed;     /* for random IDs, noise and jitter; same seed, same run */
	int voltage;       /* per phase, e.g. 230 */
	int phases;        /* 1 or 3 */
	/* Reply latency range in ms; both 0: TWC_SIM_LATENCY_MIN_MS..TWC_SIM_LATENCY_MAX_MS. */
	int latency_min_ms, latency_max_ms;
	/* An idealised bus, for byte-exact unit tests only: frames take no wire time, replies come at
	 * once (inside twc_sim_input()), nothing ever collides. No real bus is this kind. */
	bool ideal_bus;
};

enum twc_sim_fault {
	TWC_SIM_FAULT_ECHO,        /* bus-wide: echo every master frame back (an adapter that hears itself) */
	TWC_SIM_FAULT_NOISE,       /* bus-wide: garbage bytes between frames */
	TWC_SIM_FAULT_BAD_CHECKSUM,/* slave (or -1 all): corrupt the checksum of replies */
	/* slave (or -1 all), value 1 on / 0 off: everything it sends is lost (linkready, replies, acks),
	 * but it still hears and obeys the master, so it keeps charging while heartbeated. */
	TWC_SIM_FAULT_MUTE,
	TWC_SIM_FAULT_SILENT = TWC_SIM_FAULT_MUTE, /* the older name of the same fault */
	/* slave (or -1 all), value 1 on / 0 off: it hears nothing the master sends it or broadcasts, so
	 * it announces itself every 10 s and, after 30 s without a heartbeat, stops the car. */
	TWC_SIM_FAULT_DEAF,
	/* slave (or -1 all), value N > 0: deaf for N seconds from the sim's now, ending by itself (the
	 * first frame at or after the end is heard); 0 ends it early. */
	TWC_SIM_FAULT_DROP,
	/* slave (or -1 all), value MS > 0: every reply starts MS after the end of its request on the
	 * wire instead of the default latency (a slow unit, or an RS-485 bridge's latency); 0 ends it. */
	TWC_SIM_FAULT_DELAY,
};

/* What a test can read back. */
struct twc_sim_slave_status {
	uint16_t id;
	uint8_t protocol;
	uint8_t state_code;      /* what it last reported */
	bool plugged;
	bool charging;
	bool heard_master;       /* has had a heartbeat from the master */
	uint16_t master_id;      /* the master it last heard */
	int told_amps;           /* last limit the master told it (-1 never) */
	int in_force_amps;       /* same as held_amps (kept for older callers) */
	int held_amps;           /* what it may let the car draw now: 0 never told or halted by master
				  * silence, else the limit in force (protocol 2: told below 6 A means 6 A) */
	double drawn_amps;       /* what the car draws now */
	double energy_wh;        /* lifetime energy */
	uint32_t heartbeats;     /* heartbeats addressed to it */
	uint32_t max_gap_ms;     /* longest gap between two heartbeats it heard */
	uint64_t last_heartbeat_ms;
	char vin[18];
	uint8_t sign;            /* changes with the ID on a collision */
	bool contactor_open;     /* opened by FC B2, until FC B1 or unplug */
	bool muted;              /* TWC_SIM_FAULT_MUTE (or SILENT) */
	bool deaf;               /* TWC_SIM_FAULT_DEAF, or within a TWC_SIM_FAULT_DROP period */
	int delay_ms;            /* TWC_SIM_FAULT_DELAY (0: the default latency) */
	int burst_left;          /* linkreadies still to come of a burst answering linkready2 */
	uint32_t garbled;        /* frames of its own it put on the wire that a collision garbled */
};

struct twc_sim_stats {
	uint32_t rx_frames;       /* verified frames from the master */
	uint32_t rx_bad;          /* frames from the master that failed the checks (must stay 0) */
	uint32_t linkready1, linkready2;
	uint32_t forbidden;       /* error command 02 or other frames a master must never send */
	int max_in_force_total;   /* same as max_held_total (kept for older callers) */
	int in_force_total;       /* same as held_total */
	int held_total;           /* sum over slaves of held_amps now */
	int max_held_total;       /* highest held_total since the last reset */
	double drawn_total;       /* sum over slaves of what the cars draw now */
	double max_drawn_total;   /* highest drawn_total since the last reset, ramps included */
	/* Half duplex: two transmissions that overlapped on the wire (each pair once). Both are
	 * garbled: a master frame in one is heard by no slave, a slave's frame in one reaches the master
	 * with garbage in the overlapping bytes (its checksum or framing fails). */
	uint32_t collisions;
	uint32_t master_lost;     /* master frames no slave heard because of a collision */
	uint32_t slave_garbled;   /* slave frames a collision garbled */
};

struct twc_sim;

struct twc_sim *twc_sim_new(const struct twc_sim_config *cfg, const struct twc_sim_env *env, uint64_t now_ms);
void twc_sim_free(struct twc_sim *sim);
void twc_sim_input(struct twc_sim *sim, const uint8_t *data, size_t len, uint64_t now_ms);
/* Bring the bus up to @now_ms: slaves hear master frames once their last byte is off the wire, and
 * their frames go out byte by byte as each byte's wire time ends. Call it at next_deadline. */
void twc_sim_tick(struct twc_sim *sim, uint64_t now_ms);
/* When twc_sim_tick() next has something to do (ms, rounded up); UINT64_MAX if nothing. */
uint64_t twc_sim_next_deadline(const struct twc_sim *sim);

/* Car control. @slave is 0..slaves-1. Return 0 or -EINVAL. */
int twc_sim_plug(struct twc_sim *sim, int slave, int car_max_amps, const char *vin, uint64_t now_ms);
int twc_sim_unplug(struct twc_sim *sim, int slave, uint64_t now_ms);
/* @slave -1 for bus-wide faults or all slaves. Return 0 or -EINVAL. */
int twc_sim_fault(struct twc_sim *sim, int slave, enum twc_sim_fault f, int value);

int twc_sim_slave_count(const struct twc_sim *sim);
int twc_sim_slave_status(const struct twc_sim *sim, int slave, struct twc_sim_slave_status *out);
void twc_sim_stats(const struct twc_sim *sim, struct twc_sim_stats *out);
/* Forget the gap and maximum figures (e.g. after discovery). */
void twc_sim_reset_stats(struct twc_sim *sim, uint64_t now_ms);

#endif
