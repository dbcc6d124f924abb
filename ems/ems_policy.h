/*
 * ems_policy: the standalone policy engine, a pure state machine. Given the time, the combined
 * meter reading and what the chargers draw now, it decides how much current all TWCs of the bus
 * may share: 0 (cars wait or are stopped) or from minAmpsPerTWC up to wiringMaxAmpsAllTWCs, in
 * whole amps. The bus shares that total and keeps every limit; the vehicle API stops and starts
 * cars when the total drops to 0 or rises from it. Modes: off, charge-now, scheduled (time windows
 * with amps and days), track-green (solar surplus).
 *
 * Track-green works like this:
 *   base surplus  = pv - house load, where house load = load - chargers when the meter's load
 *                   includes the chargers (it is counted once), or from the grid meter:
 *                   -grid + chargers - battery (0 for a site whose meters never reported a
 *                   battery; once reported, a battery gone unknown makes the surplus unknown);
 *                   the grid form is used whenever grid is known, pv - load otherwise;
 *   battery first = while the home battery's SoC is below batterySoc (or unknown with batterySoc
 *                   set), power the battery is charging with is not surplus;
 *   amps          = floor((surplus - marginW) / (voltage x phases)), at most max_amps.
 *   Charging starts once amps >= min_amps has held for enable_delay_s. While charging, the total
 *   follows the surplus every evaluation; when the surplus falls short, min_amps is kept and the
 *   grid energy that costs is counted (min power - surplus, per second), and charging stops once
 *   it reaches min power x disable_delay_s: after exactly disable_delay_s of no surplus at all,
 *   later when a cloud leaves part of the minimum covered. Time with enough surplus pays the count
 *   back at min power per second. Starts and stops are never closer than dwell_s.
 *   Unknown data (any value the computation needs is NAN) never gives more current: a charging
 *   bus drops to min_amps and the disable delay runs; a waiting bus keeps waiting.
 *
 * Nothing here reads a clock: every call carries the monotonic time, the wall time and the local
 * calendar position. Call ems_policy_eval() whenever a reading arrives and at
 * ems_policy_next_deadline().
 */
#ifndef EMS_POLICY_H
#define EMS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ems.h"

#define EMS_POLICY_MAX_WINDOWS 16

enum ems_policy_mode {
	EMS_POLICY_OFF = 0,
	EMS_POLICY_CHARGE_NOW,
	EMS_POLICY_SCHEDULED,
	EMS_POLICY_TRACK_GREEN,
};

/* One schedule window: on the days in @days, from @start_min to @end_min (minutes after local
 * midnight, 0..1439), offer @amps. end <= start crosses midnight and belongs to the day it starts. */
struct ems_policy_window {
	uint8_t days;   /* bit 0 Sunday .. bit 6 Saturday */
	int start_min;
	int end_min;
	int amps;       /* min_amps..max_amps */
};

struct ems_policy_params {
	enum ems_policy_mode mode;
	bool has_until;           /* mode applies until @until_wall_ms, then @then */
	int64_t until_wall_ms;    /* UTC, ms since the epoch */
	enum ems_policy_mode then;
	struct ems_policy_window windows[EMS_POLICY_MAX_WINDOWS];
	int n_windows;
	int max_amps;             /* twc.wiringMaxAmpsAllTWCs */
	int min_amps;             /* twc.minAmpsPerTWC */
	int voltage;              /* twc.voltage */
	int phases;               /* twc.phases */
	int enable_delay_s;       /* default 60 */
	int disable_delay_s;      /* default 180: seconds of min power from the grid before a stop */
	int dwell_s;              /* least time between a start and a stop, either way; default 120 */
	int margin_w;             /* surplus kept back, W; default 100 */
	int battery_soc;          /* home battery first below this SoC %, 0 = off */
	bool load_includes_chargers; /* the meters' load counts the TWCs (most house meters); default true */
};

/* Fill @p with the defaults above for a bus of @max_amps / @min_amps, @voltage, @phases, mode off. */
void ems_policy_params_default(struct ems_policy_params *p, int max_amps, int min_amps, int voltage, int phases);

struct ems_policy_input {
	uint64_t now_ms;          /* monotonic */
	int64_t wall_ms;          /* UTC, ms since the epoch */
	int wday;                 /* local day of the week, 0 Sunday .. 6 Saturday */
	int minute;               /* local minutes after midnight, 0..1439 */
	struct ems_reading reading; /* combined from every meter; NAN = unknown */
	double charger_w;         /* what the TWCs draw now, W (>= 0) */
};

struct ems_policy_decision {
	int amps;                 /* total for the bus: 0, or min_amps..max_amps */
	enum ems_policy_mode mode; /* in force now (after "until") */
	bool charging;            /* track-green's state; amps > 0 in the other modes */
	double surplus_w;         /* track-green: after battery priority and margin; NAN otherwise/unknown */
	const char *reason;       /* static, for the log: "surplus", "enable delay", "disable delay",
				   * "dwell", "no surplus", "meter unknown", "battery first", "window",
				   * "outside windows", "charge-now", "off" */
};

struct ems_policy;

/* Return: the engine, or NULL (-ENOMEM or bad params: see ems_policy_params_check()). */
struct ems_policy *ems_policy_new(const struct ems_policy_params *p);
void ems_policy_free(struct ems_policy *pol); /* NULL is a no-op */

/* 0, or -EINVAL with a one-line @err naming the field (min > max, voltage 0, a window out of range). */
int ems_policy_params_check(const struct ems_policy_params *p, char *err, size_t errlen);

/* New params (a reload); the charging state and its timers are kept. Return 0 or -EINVAL. */
int ems_policy_set_params(struct ems_policy *pol, const struct ems_policy_params *p);

/* Decide now. Monotonic time must not go backwards. */
void ems_policy_eval(struct ems_policy *pol, const struct ems_policy_input *in, struct ems_policy_decision *out);

/* Monotonic ms at which an eval would decide differently with the same reading (a delay or dwell
 * running out, a window edge: windows and "until" are given as the number of ms after the last
 * eval's now_ms, computed from its wall and calendar position), or UINT64_MAX. */
uint64_t ems_policy_next_deadline(const struct ems_policy *pol);

/* "off", "charge-now", "scheduled", "track-green"; and back (-1 for an unknown name). */
const char *ems_policy_mode_name(enum ems_policy_mode m);
int ems_policy_mode_from_name(const char *name);

struct ems_policy_stats {
	unsigned starts;          /* 0 -> charging */
	unsigned stops;           /* charging -> 0 */
};
void ems_policy_stats(const struct ems_policy *pol, struct ems_policy_stats *out);

#endif
