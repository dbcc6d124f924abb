/*
 * ocpp_sc: the Smart Charging profile of OCPP 1.6 as pure data and arithmetic. It parses and checks
 * a csChargingProfiles object, keeps the installed profiles (replacement by id or by connector,
 * purpose and stack level; clearing by id or by criteria), saves and loads them as JSON, and computes
 * what the profiles allow: the limit in force at one instant with the instant it next changes, and
 * the composite schedule GetCompositeSchedule reports. Pure: no clock, no I/O; every time is given.
 *
 * Rules (OCPP 1.6 section 3.13 and 5.16):
 * - For a connector with a running transaction the limit is the TxProfile of the highest stackLevel
 *   that covers the instant (one with a transactionId only for that transaction), else the
 *   TxDefaultProfile of the highest stackLevel that covers it, a profile for the connector itself
 *   beating one for connector 0 at any stack level. A TxProfile needs a running transaction; a
 *   TxDefaultProfile is evaluated as for a transaction starting at the evaluation start when none
 *   runs (that is what GetCompositeSchedule reports; the charge point offers nothing without one).
 * - ChargePointMaxProfile (connector 0 only) limits the whole charge point; the composite schedule
 *   of connector N is the minimum of its own limit and that of connector 0.
 * - A profile covers an instant when validFrom <= t < validTo and the schedule has begun and not
 *   ended (duration). Absolute starts at startSchedule (or at the transaction start, else at the
 *   evaluation start, when absent); Relative at the transaction start (else the evaluation start);
 *   Recurring Daily/Weekly at startSchedule plus whole days/weeks, so the schedule repeats.
 * - Units: A, or W converted through the nominal voltage and the installation's phase count (a TWC
 *   cannot choose how many phases a car uses, so numberPhases is kept and reported, not applied).
 */
#ifndef OCPP_SC_H
#define OCPP_SC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ocpp_json.h"

/* Capacities, also reported as the read-only keys of the same names. */
#define OCPP_SC_MAX_STACK_LEVEL 8      /* ChargeProfileMaxStackLevel */
#define OCPP_SC_MAX_PERIODS 48         /* ChargingScheduleMaxPeriods */
#define OCPP_SC_MAX_PROFILES 32        /* MaxChargingProfilesInstalled */

enum ocpp_sc_purpose { OCPP_SC_CP_MAX = 0, OCPP_SC_TX_DEFAULT, OCPP_SC_TX, OCPP_SC_PURPOSE_COUNT };
enum ocpp_sc_kind { OCPP_SC_ABSOLUTE = 0, OCPP_SC_RECURRING, OCPP_SC_RELATIVE, OCPP_SC_KIND_COUNT };
enum ocpp_sc_recurrency { OCPP_SC_REC_NONE = 0, OCPP_SC_DAILY, OCPP_SC_WEEKLY };
enum ocpp_sc_unit { OCPP_SC_AMPS = 0, OCPP_SC_WATTS, OCPP_SC_UNIT_COUNT };

/* Wire names, in enum order: "ChargePointMaxProfile", ...; "Absolute", ...; "A", "W". */
extern const char *const ocpp_sc_purpose_names[OCPP_SC_PURPOSE_COUNT];
extern const char *const ocpp_sc_kind_names[OCPP_SC_KIND_COUNT];
extern const char *const ocpp_sc_unit_names[OCPP_SC_UNIT_COUNT];

struct ocpp_sc_period {
	int32_t start_s;   /* startPeriod, seconds from the schedule start; strictly increasing, first 0 */
	double limit;      /* in the schedule's unit, >= 0 */
	int phases;        /* numberPhases 1..3, 0 when absent */
};

struct ocpp_sc_profile {
	int id;                        /* chargingProfileId */
	int connector;                 /* the SetChargingProfile connectorId it was installed for */
	int tx_id;                     /* transactionId, 0 when absent */
	int stack;                     /* stackLevel 0..OCPP_SC_MAX_STACK_LEVEL */
	enum ocpp_sc_purpose purpose;
	enum ocpp_sc_kind kind;
	enum ocpp_sc_recurrency recurrency;
	bool has_valid_from, has_valid_to;
	int64_t valid_from_ms, valid_to_ms;
	bool has_start;                /* chargingSchedule.startSchedule */
	int64_t start_ms;
	bool has_duration;             /* chargingSchedule.duration (seconds) */
	int32_t duration_s;
	enum ocpp_sc_unit unit;
	bool has_min_rate;
	double min_rate;               /* minChargingRate, in unit */
	int n_periods;                 /* 1..OCPP_SC_MAX_PERIODS */
	struct ocpp_sc_period periods[OCPP_SC_MAX_PERIODS];
};

/**
 * ocpp_sc_profile_parse() - read a csChargingProfiles object (SetChargingProfile, or
 * RemoteStartTransaction's chargingProfile) with the schema's checks.
 * @obj:        the JSON object.
 * @connector:  stored in out->connector.
 * @max_periods: periods allowed (ChargingScheduleMaxPeriods); more is PropertyConstraintViolation.
 * Schema violations are reported as ocpp_json does (missing: OccurenceConstraintViolation, type:
 * TypeConstraintViolation, enum/range/extra key: PropertyConstraintViolation). Also
 * PropertyConstraintViolation: periods not starting at 0 or not strictly increasing, a Recurring
 * profile without recurrencyKind or startSchedule, recurrencyKind on another kind, a negative limit.
 * Return: 0, or -EINVAL with @e set.
 */
int ocpp_sc_profile_parse(const json_t *obj, int connector, int max_periods, struct ocpp_sc_profile *out,
			  struct ocpp_perr *e);

/* The profile as a csChargingProfiles object (for persistence and tests); new reference. */
json_t *ocpp_sc_profile_json(const struct ocpp_sc_profile *p);

struct ocpp_sc;

struct ocpp_sc *ocpp_sc_new(int max_profiles);
void ocpp_sc_free(struct ocpp_sc *sc); /* NULL is a no-op */

/*
 * Install @p (copied). It replaces an installed profile with the same id, and one with the same
 * connector, purpose and stack level (both if they differ). Return 0, or -ENOSPC when
 * max_profiles are installed and nothing is replaced.
 */
int ocpp_sc_install(struct ocpp_sc *sc, const struct ocpp_sc_profile *p);

/* ClearChargingProfile criteria; each "has_" false means "any". */
struct ocpp_sc_filter {
	bool has_id, has_connector, has_purpose, has_stack;
	int id, connector, stack;
	enum ocpp_sc_purpose purpose;
};

/* Remove the profiles matching @f: with has_id only that id (other criteria ignored, as the spec
 * says), otherwise every profile matching all the given criteria (none given: all). Return how many
 * were removed. */
int ocpp_sc_clear(struct ocpp_sc *sc, const struct ocpp_sc_filter *f);

/* The transaction on @connector ended: its TxProfiles go. Return how many were removed. */
int ocpp_sc_clear_tx(struct ocpp_sc *sc, int connector);

int ocpp_sc_count(const struct ocpp_sc *sc);
/* Installed profile @i (0..count-1) in installation order; borrowed until the next change. */
const struct ocpp_sc_profile *ocpp_sc_get(const struct ocpp_sc *sc, int i);

/* Save as {"profiles":[csChargingProfiles + "connectorId"]}; new reference. */
json_t *ocpp_sc_save(const struct ocpp_sc *sc);
/* Replace the contents with what ocpp_sc_save() wrote. A profile that does not parse is skipped.
 * Return how many were loaded, or -EINVAL if @j is not that shape (contents then empty). */
int ocpp_sc_load(struct ocpp_sc *sc, const json_t *j);

/* What the evaluation needs to know about the connector and the installation. */
struct ocpp_sc_ctx {
	int connector;         /* 0 = the whole charge point */
	bool tx_active;        /* a transaction runs on the connector */
	int tx_id;             /* its id as the central system knows it (may be < 0 while provisional) */
	int64_t tx_start_ms;   /* wall ms it started */
	double voltage;        /* nominal V for W <-> A, > 0 */
	int phases;            /* installation phases, 1 or 3 */
	double default_amps;   /* what an instant no profile covers allows (the wiring), in A */
};

/*
 * ocpp_sc_limit() - the limit in A at @now_ms for ctx->connector (connector N: min of its Tx/TxDefault
 * limit and the ChargePointMaxProfile; connector 0: the ChargePointMaxProfile).
 * @next_ms: out, wall ms at which the result may next change (a period boundary, a schedule start or
 *           end, validFrom/validTo, a recurrence); INT64_MAX when never.
 * Return: the limit in A (may be fractional), or -1 when no profile covers @now_ms.
 */
double ocpp_sc_limit(const struct ocpp_sc *sc, const struct ocpp_sc_ctx *ctx, int64_t now_ms, int64_t *next_ms);

/* One period of a composite schedule. */
struct ocpp_sc_slot {
	int32_t start_s;
	double limit;          /* in the requested unit; gaps carry ctx->default_amps converted */
};

/*
 * ocpp_sc_composite() - the composite schedule for GetCompositeSchedule.
 * @start_ms, @duration_s: the window (request time, requested duration).
 * @unit:   unit of the result.
 * @out, @max_out: periods out, adjacent periods with equal limits merged, first at start_s 0.
 * Limits are rounded to one decimal (the schema's precision). Return: the number of periods (>= 1),
 * truncated to @max_out.
 */
int ocpp_sc_composite(const struct ocpp_sc *sc, const struct ocpp_sc_ctx *ctx, int64_t start_ms,
		      int32_t duration_s, enum ocpp_sc_unit unit, struct ocpp_sc_slot *out, int max_out);

#endif
