/*
 * twc_bus_internal: what the files of the twc_bus master share and nothing outside twc/ may use: the
 * bus and slave state, and the calls between twc_bus.c (life cycle, receiving, heartbeats, timing),
 * twc_bus_held.c (what each slave may be holding, reservations, the persisted table) and
 * twc_bus_query.c (firmware 4.5.3 queries and the FC B1 / FC B2 start/stop commands).
 */
#ifndef TWC_BUS_INTERNAL_H
#define TWC_BUS_INTERNAL_H

#include "twc_bus.h"

/* What occupies the quiet window: a query, or a start/stop command (which only gets an ack). */
enum query_kind { Q_NONE, Q_FIRMWARE, Q_SERIAL, Q_VIN, Q_METER, Q_STOP, Q_START };

struct slave {
	bool used;
	uint16_t id;
	uint8_t sign;
	uint8_t protocol;
	int rated_amps;
	uint64_t last_heard_ms;
	uint64_t last_hb_ms;
	bool have_shb;
	uint8_t state_code;
	uint16_t limit_ca;
	uint16_t measured_ca;
	uint64_t last_draw_ms;      /* last time it drew >= 1 A */
	enum twc_slave_status status;
	bool told;                  /* a limit was written to it (or restored from before a restart) */
	int told_amps;
	bool confirmed;             /* it answered a heartbeat that carried the limit we last told it */
	bool set_in_flight;         /* the last heartbeat written to it carried that limit, no answer yet */
	int keep_amps;              /* what it held before a lowering it has not confirmed (0: none) */
	bool reported_since_up;     /* it answered a heartbeat since the link (re)started */
	int cap_amps;
	int target_amps;
	bool stop_sent;             /* FC B2 went out for this pause: FC B1 is owed once it may charge */
	uint64_t control_ms;        /* when the last FC B1 / FC B2 went out, 0 never */
	uint64_t zero_told_ms;      /* when it was told 0 after being told something else */
	bool expedited;             /* a heartbeat went out early for a new limit ... */
	int expedite_amps;          /* ... this one: a second early one waits for another value */
	/* firmware 4.5.3 queries */
	bool has_firmware, has_serial, has_meter;
	uint8_t firmware[4];
	char serial[TWC_SERIAL_LEN + 1];
	uint32_t energy_raw;
	uint16_t volts[3];
	uint64_t next_meter_ms;
	int unanswered;
	uint64_t queries_paused_until;
	/* VIN: read in three parts while a car is present */
	char vin[TWC_VIN_LEN + 1];
	char vin_buf[TWC_VIN_LEN + 1];
	int vin_part;               /* next part to ask for, -1 = not reading */
	int vin_attempts;
	bool vin_done;              /* read (or empty) for this plug-in */
	uint64_t vin_next_ms;
};

struct twc_bus {
	struct twc_bus_config cfg;
	struct twc_bus_env env;
	struct twc_rx rx;
	struct slave slaves[TWC_MAX_SLAVES];
	/* Slaves out of the registry that may still hold a limit; id 0 is several merged (amps 0: free). */
	struct {
		uint16_t id;
		uint8_t protocol;
		int amps;
		uint64_t release_ms;
	} reserved[TWC_MAX_KNOWN];
	struct twc_held saved[TWC_MAX_KNOWN]; /* the table env->persist last stored */
	int n_saved;
	uint64_t up_ms;             /* the link last came up */
	struct twc_bus_stats stats;
	int available;
	int budget;                 /* twc_bus_set_budget(), -1: none */
	int linkready_left;
	uint64_t next_linkready_ms;
	uint64_t last_tx_ms;
	uint64_t last_hb_any_ms;    /* the last heartbeat to any slave, 0: none yet */
	uint64_t hb_held_ms;        /* since when a due heartbeat waits for a frame coming in, 0: none */
	int rr;                     /* slot after the last heartbeat: ties and queries start there */
	uint64_t last_other_master_ms;
	bool other_master_seen;
	struct {
		enum query_kind kind;
		int slot;
		uint64_t sent_ms;
	} q;
	uint64_t now_ms;            /* time of the call being handled */
};

/* twc_bus.c */
uint64_t twc_bus_hb_due(const struct twc_bus *bus);
void twc_bus_limits(const struct twc_bus *bus, struct twc_limits *out);
void twc_bus_emit(struct twc_bus *bus, enum twc_event_type type, int slot, uint16_t id, int amps,
		  const char *text);
int twc_bus_msg_send(struct twc_bus *bus, const struct twc_msg *m);

/* twc_bus_held.c */
int twc_bus_slave_held(const struct slave *s, bool draw);
bool twc_bus_settling(const struct twc_bus *bus);
void twc_bus_held_reserve(struct twc_bus *bus, uint16_t id, uint8_t protocol, int amps, uint64_t release_ms);
void twc_bus_held_revive(struct twc_bus *bus, struct slave *s);
void twc_bus_held_release_expired(struct twc_bus *bus);
int twc_bus_held_sync(struct twc_bus *bus);

/* twc_bus_query.c */
void twc_bus_vin_reset(struct slave *s);
void twc_bus_vin_receive(struct twc_bus *bus, struct slave *s, int slot, const struct twc_msg *m);
enum query_kind twc_bus_control_due(const struct twc_bus *bus, const struct slave *s, uint64_t now);
uint64_t twc_bus_query_time(const struct twc_bus *bus, const struct slave *s);
enum query_kind twc_bus_query_due(const struct twc_bus *bus, const struct slave *s, uint64_t now);
void twc_bus_query_send(struct twc_bus *bus, int i, enum query_kind kind);
void twc_bus_query_expire(struct twc_bus *bus);
bool twc_bus_query_window_open(const struct twc_bus *bus, uint64_t now);

#endif
