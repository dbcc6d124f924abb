/*
 * gw_status: one snapshot of everything the status page, the REST API, /metrics and the history chart
 * show, as plain data. gw_status_fill() reads it from the running objects (the bus, the charge point,
 * the policy, the operator's settings, the vehicle API, the process); everything that renders it
 * (gw_status_json, gw_metrics, gw_history) is pure and works on this struct alone, so tests and fuzz
 * targets build one by hand.
 */
#ifndef GW_STATUS_H
#define GW_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#define GW_STATUS_CONNECTORS_MAX 3 /* slaves on one bus */
/* How every answer is written: one line, and 0.1 A as 0.1, not 0.10000000000000001. */
#define GW_STATUS_JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(10))
#define GW_STATUS_METERS_MAX 8
/* OCPP CALL -> CALLRESULT latency histogram upper bounds, seconds (then +Inf). */
#define GW_STATUS_LATENCY_BUCKETS 8
extern const double gw_status_latency_bounds[GW_STATUS_LATENCY_BUCKETS];

/* What a connector is doing, in words the page shows. */
enum gw_status_state {
	GW_STATE_IDLE = 0,    /* no car */
	GW_STATE_PLUGGED,     /* a car, not charging and not held back: waiting for it or for a start */
	GW_STATE_CHARGING,    /* current flows */
	GW_STATE_PAUSED,      /* a car that may not charge now (limit 0, policy, central system) */
	GW_STATE_ERROR,
	GW_STATE_UNAVAILABLE, /* not heard on the bus, or Inoperative */
	GW_STATE_COUNT
};
extern const char *const gw_status_state_names[GW_STATE_COUNT]; /* "idle", "plugged", "charging", ... */

struct gw_status_connector {
	int connector;           /* OCPP connector number; standalone: slot + 1 */
	char twc[5];             /* TWC ID, 4 hex digits */
	enum gw_status_state state;
	int offered_amps;        /* told and in force */
	int held_amps;           /* the most it may be allowing now (what the clamp counts) */
	int cap_amps;            /* the layer above's cap */
	int max_amps;            /* the operator's maximum, -1 none */
	double measured_amps;    /* what the car draws */
	double power_w;
	double energy_wh;        /* the connector's energy register (lifetime), NAN if unknown */
	bool in_session;
	double session_wh;       /* energy of the session in progress */
	uint64_t session_s;      /* its duration */
	int transaction_id;      /* OCPP transaction, 0 none */
	uint32_t sessions;       /* sessions started since twcgw started */
	char vin[18];            /* from the TWC, "" unknown */
	int vehicle;             /* vehicle API: -1 not configured / no car, 0 cannot reach it, 1 reachable */
	char vehicle_detail[64]; /* why not, or what it said last ("asleep", "budget spent") */
};

struct gw_status_meter {
	char name[64];           /* type@host or the configured name */
	char type[32];
	double age_s;            /* since the last good reading, NAN never read */
	bool ok;                 /* within its maxAge */
	double value_w;          /* what it measured last (W; grid: + import), NAN unknown */
};

struct gw_status {
	int64_t wall_ms;         /* when (epoch ms) */
	uint64_t sim_ms;         /* the gateway clock (sped up in the demo): history time */
	uint64_t uptime_s;
	char charge_point[64];   /* chargeBoxId, "" standalone */

	struct {
		char port[128];
		int wiring_max_all, wiring_max_per_twc;
		int held_amps, offered_amps, reserved_amps;
		double measured_amps;
		int slaves;
		bool link_up;
		uint64_t frames_rx, frames_tx, frame_errors; /* errors: bad checksum, length, garbage */
		uint64_t heartbeat_gap_ms; /* the longest time since a slave last heard us, now */
	} bus;

	int n_connectors;
	struct gw_status_connector c[GW_STATUS_CONNECTORS_MAX];

	struct {
		bool enabled;
		char url[256];           /* without credentials */
		bool connected;
		char registration[16];   /* "Accepted", "Pending", "Rejected", "none" */
		int security_profile;
		uint32_t queued_tx;      /* transaction messages waiting */
		uint32_t queued_other;
		uint64_t latency_count;  /* CALL -> CALLRESULT */
		double latency_sum_s;
		uint64_t latency_buckets[GW_STATUS_LATENCY_BUCKETS]; /* cumulative, as Prometheus wants */
	} ocpp;

	struct {
		char mode[24];           /* off, charge-now, scheduled, track-green */
		char source[16];         /* config, settings (the page, MQTT, REST), central system */
		int amps;                /* what it allows the bus */
		char reason[160];        /* the same words as the status line */
		double surplus_w, house_w, pv_w, grid_w; /* NAN unknown */
		char until[32];          /* ISO time, "" none */
		char then[24];
		json_t *settings;        /* the policy object in force (borrowed/owned: see gw_status_clear) */
	} policy;

	int n_meters;
	struct gw_status_meter meters[GW_STATUS_METERS_MAX];

	/* The other charge points of a depot (chargePoints[1..]), each a snapshot like this one without
	 * process and meters; NULL and 0 with one bus. Owned: gw_status_clear() frees them. */
	struct gw_status *more;
	int n_more;

	struct {
		double rss_bytes;        /* from /proc/self/statm */
		double cpu_s;            /* user + system, /proc/self/stat */
	} process;
};

/* The JSON of GET /api/v1/status (docs/api.md): the first charge point's fields at the top (what a
 * one-bus page reads), and "chargePoints": one object per charge point (chargePoint, bus, connectors,
 * ocpp, policy), the first included.  New reference; NULL on allocation failure. */
json_t *gw_status_json(const struct gw_status *st);

/* Release what a filled status owns (policy.settings, more). */
void gw_status_clear(struct gw_status *st);

#endif
