/*
 * tesla_internal: what the files of the Tesla API core share and nothing outside tesla/ may see: the
 * client's state (struct tesla, its request queue and connectors), the limits it works to, and the
 * functions one part of the core calls in another. The public contract is tesla_api.h.
 *
 * The parts: tesla_api.c (life, the loop, the API, small shared helpers), tesla_token.c (tokens, JWT
 * expiry, the refresh request and answer, the token file), tesla_limits.c (the daily budget and the
 * Retry-After block, and the state file they live in), tesla_locate.c (which car is on a connector),
 * tesla_decide.c (what to ask of a car, dwell), tesla_queue.c (the request FIFO and sending) and
 * tesla_answer.c (what an answer means for its request and connector).
 */
#ifndef TESLA_INTERNAL_H
#define TESLA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core_text.h"
#include "tesla_api.h"

#define DAY_MS 86400000LL
#define REFRESH_AHEAD_MS 300000LL /* renew the access token this long before it expires */
#define RETRY_FIRST_MS 5000u      /* 5xx and transport failures: 5 s doubling ... */
#define RETRY_MAX_MS 600000u      /* ... up to 10 min ... */
#define RETRY_ATTEMPTS 5          /* ... and given up after this many sends */
#define WAKE_FIRST_MS 15000u      /* after a 408: wake_up, the command again 15, 30, 60 s later */
#define WAKES_MAX 3
#define BUSES_RETRY_MS 5000u      /* could_not_wake_buses: the car itself asks for another try */
#define BUSES_RETRIES 3
#define BLOCK_DEFAULT_S 60L       /* a 429 without Retry-After */
#define BLOCK_MAX_S (7L * 86400)  /* longer (or a corrupt state file) is taken as a week */
#define STOP_REPEAT_MS 60000u     /* a stopped car still drawing this long after is told again */
#define HOLD_MS 600000u           /* a connector whose command or locate was given up rests this long */
#define QUEUE_PER_CONNECTOR 6  /* queue room: 48 with the default 8 connectors */
#define LOCATE_MAX 8              /* online cars asked for vehicle_data when telling cars apart */
#define TOKEN_MAX 8192
#define BASE_URL_MAX 512
#define URL_MAX (BASE_URL_MAX + 160)
#define DWELL_PER_CONNECTOR 2  /* cars whose last command is remembered: 16 with 8 connectors */
#define TEXT_MAX 120              /* text from an answer quoted in a log line */
#define LOGGED_MAX 48
#define SCRUB_MIN 6               /* shorter "tokens" would mangle ordinary words in a log line */

enum kind { K_TOKEN, K_LIST, K_DATA, K_WAKE, K_AMPS, K_START, K_STOP, K_COUNT };

/* "token refresh", "vehicle list", ...: for log lines. */
extern const char *const tesla_kind_names[K_COUNT];

struct req {
	uint32_t id;          /* of the latest send */
	enum kind kind;
	enum kind for_kind;   /* wake_up: the command it wakes the car for */
	int conn;             /* 1..t->nc; 0 for the token refresh */
	uint32_t plug;        /* the connector's plug-in it was made for */
	char vin[TESLA_VIN_LEN + 1];
	int amps;
	bool in_flight;
	bool retried_401;
	uint64_t not_before;  /* mono ms */
	int attempts;         /* 5xx and transport failures so far */
	int wakes;            /* 408s answered with a wake_up */
	int buses;            /* could_not_wake_buses retries */
};

enum loc { LOC_NONE, LOC_LIST, LOC_DATA, LOC_DONE, LOC_AMBIGUOUS };

struct conn {
	bool seen, present, plugged, drawing;
	int granted, min;
	char vin[TESLA_VIN_LEN + 1];  /* the car in use; "" none yet */
	uint32_t plug;                /* bumped at each unplug: answers for an earlier plug-in are ignored */
	enum loc loc;
	int loc_pending;              /* vehicle_data answers still expected */
	bool loc_failed;              /* one of them failed: the answer is not trustworthy */
	int n_cand;
	char cand[LOCATE_MAX][TESLA_VIN_LEN + 1];
	bool amps_sent;               /* set_charging_amps done (or queued) this plug-in */
	bool start_latched;           /* the car refused charge_start: not again until it draws */
	bool start_ok;                /* the car took charge_start: not again until it draws */
	bool we_stopped;              /* our charge_stop took: a grant restarts it without the grace */
	bool stop_ok;                 /* charge_stop took during this pause */
	uint64_t stop_ok_at;
	bool grant_active;            /* granted >= min while not drawing ... */
	uint64_t grant_since;         /* ... since then */
	uint64_t hold_until;          /* after a command or locate was given up */
	uint64_t next_at;             /* when deciding again may do something */
};

/* Dwell is per car, not per connector: a car moved to another connector keeps its history. */
struct dwell {
	char vin[TESLA_VIN_LEN + 1];
	uint64_t at;
};

struct tesla {
	struct tesla_env env;
	char *base_url, *token_url, *client_id;
	int budget, car_amps;
	uint64_t dwell_ms, grace_ms;
	bool has_home;
	double home_lat, home_lon, home_r;

	char *access, *refresh, *seed; /* never NULL; "" when absent */
	int64_t exp_ms;                /* access token expiry, wall ms; 0 unknown */
	bool token_stale;              /* a 401 said the access token is no good */
	uint64_t refresh_hold;         /* no refresh before this (mono) after one was given up */
	bool commands_off;             /* a 403 to a command: until restart */
	int64_t day;                   /* UTC day of paid_today */

	struct req *q;                 /* q_max of them */
	int nq, q_max;
	bool in_flight;
	uint32_t last_id;
	struct conn *c;                /* [0] for the token refresh, then connectors 1..nc */
	int nc;
	struct dwell *dw;              /* n_dw of them */
	int n_dw;
	char label[64];                /* tesla_conn_label()'s answer */

	bool have_mono;
	uint64_t mono;                 /* the latest (mono, wall) pair maps wall deadlines to mono */
	int64_t wall;
	bool pumping;
	uint32_t changes;
	uint64_t deadline;

	uint32_t logged[LOGGED_MAX];
	int n_logged;
	bool budget_logged, block_logged, clock_logged;
	struct tesla_stats st;
};

/* ---------------------------------------------------------------- tiny helpers */

static inline uint64_t tesla_add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - 1 - b ? UINT64_MAX - 1 : a + b;
}

static inline uint64_t tesla_max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* A wall-clock instant as mono ms, through the latest pair of readings. */
static inline uint64_t tesla_wall_to_mono(const struct tesla *t, int64_t w)
{
	if (w <= t->wall)
		return t->mono;
	return tesla_add_sat(t->mono, (uint64_t)w - (uint64_t)t->wall);
}

static inline int64_t tesla_day_of(int64_t wall)
{
	return wall >= 0 ? wall / DAY_MS : 0;
}

static inline bool tesla_conn_paused(const struct conn *c)
{
	return c->granted <= 0 || c->granted < c->min;
}

static inline bool tesla_kind_is_command(enum kind k)
{
	return k == K_AMPS || k == K_START || k == K_STOP;
}

/* ---------------------------------------------------------------- tesla_api.c */

/* One log line, with every token blanked out. */
__attribute__((format(printf, 3, 4))) void tesla_log(struct tesla *t, enum core_log_level level, const char *fmt,
						       ...);
/* How log lines name connector @ci ("connector 3", or the gateway's name): valid until the next call. */
const char *tesla_conn_label(struct tesla *t, int ci);
/* True the first time @key is seen: "log once per kind". */
bool tesla_log_first_time(struct tesla *t, uint32_t key);
/* Text from an answer, made safe for a log line. */
void tesla_text_quote(char *dst, size_t n, const char *src, size_t len);
bool tesla_vin_ok(const char *s);
int tesla_str_set(char **dst, const char *src);
/* Serialise @j (consumed) and hand it to env.store; a failure is logged. Return 0 or -errno. */
int tesla_json_store(struct tesla *t, const char *name, json_t *j, bool secret);

/* ---------------------------------------------------------------- tesla_token.c */

bool tesla_token_ok(const char *s);
int64_t tesla_jwt_exp_ms(const char *tok);
bool tesla_token_usable(const struct tesla *t);
void tesla_token_ensure_refresh(struct tesla *t);
/* The x-www-form-urlencoded body of the refresh request (malloc'd), or NULL. */
char *tesla_token_refresh_body(const struct tesla *t);
void tesla_token_answer(struct tesla *t, int qi, int status, const char *body, size_t len);
void tesla_token_unauthorized(struct tesla *t, int qi);
void tesla_login_needed(struct tesla *t, const char *why);
int tesla_tokens_load(struct tesla *t, const struct tesla_params *p);

/* ---------------------------------------------------------------- tesla_limits.c */

void tesla_state_save(struct tesla *t);
void tesla_state_load(struct tesla *t, const char *text);
void tesla_budget_roll_day(struct tesla *t);
void tesla_budget_count_paid(struct tesla *t);
void tesla_block_set(struct tesla *t, long retry_after_s);
void tesla_block_expire(struct tesla *t);

/* ---------------------------------------------------------------- tesla_locate.c */

bool tesla_vin_used_elsewhere(const struct tesla *t, int ci, const char *vin);
void tesla_locate_found(struct tesla *t, int ci, const char *vin, const char *how);
void tesla_locate_failed(struct tesla *t, int ci);
void tesla_locate_start(struct tesla *t, int ci);
void tesla_locate_data_done(struct tesla *t, int ci, const char *vin, const json_t *resp, bool failed);
void tesla_locate_list_answer(struct tesla *t, int ci, const json_t *j);

/* ---------------------------------------------------------------- tesla_decide.c */

bool tesla_req_wanted(const struct tesla *t, const struct req *r);
void tesla_decide(struct tesla *t, int ci);
void tesla_conn_unplugged(struct tesla *t, int ci);
void tesla_dwell_mark(struct tesla *t, const char *vin);

/* ---------------------------------------------------------------- tesla_queue.c */

int tesla_queue_find(const struct tesla *t, int ci, enum kind k);
struct req *tesla_queue_add(struct tesla *t, int pos, enum kind k, int ci, const char *vin);
void tesla_queue_remove(struct tesla *t, int i);
void tesla_queue_remove_if(struct tesla *t, int ci, bool (*pred)(const struct req *r));
bool tesla_req_any(const struct req *r);
bool tesla_req_command_or_wake(const struct req *r);
bool tesla_req_locate(const struct req *r);
bool tesla_queue_base_waiting(const struct tesla *t);
void tesla_queue_pump(struct tesla *t);
uint64_t tesla_queue_deadline(const struct tesla *t);

/* ---------------------------------------------------------------- tesla_answer.c */

void tesla_answer(struct tesla *t, uint32_t id, int status, const char *body, size_t len, long retry_after_s);
void tesla_answer_give_up(struct tesla *t, int qi, const char *why);
void tesla_answer_client_error(struct tesla *t, int qi, int status, const char *body, size_t len);
void tesla_answer_error_text(char *dst, size_t n, const char *body, size_t len);

#endif
