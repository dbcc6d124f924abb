/*
 * ems: the one normalised energy reading every meter driver produces and the policy engine reads.
 * Signs are fixed here, at the edge, whatever the vendor does: grid + import / - export, battery
 * + discharge / - charge, pv and load >= 0. A value a meter does not give, or gives no longer
 * (stale, unavailable, malformed), is NAN: "unknown". Unknown never produces more current.
 */
#ifndef EMS_H
#define EMS_H

#include <math.h>
#include <stdbool.h>

/* The values a meter can give; also the index into per-value config tables. */
enum ems_value {
	EMS_GRID = 0, /* W, + import from the grid, - export */
	EMS_PV,       /* W generated, >= 0 */
	EMS_LOAD,     /* W consumed by the house, >= 0 (whether the chargers are inside it is config) */
	EMS_BATTERY,  /* W, + discharging into the house, - charging */
	EMS_SOC,      /* home battery state of charge, % 0..100 */
	EMS_VOLTAGE,  /* V, line to neutral */
	EMS_NVALUES
};

struct ems_reading {
	double v[EMS_NVALUES]; /* NAN = unknown */
};

/* "grid", "pv", "load", "battery", "soc", "voltage"; NULL for an out-of-range value. */
const char *ems_value_name(enum ems_value v);
/* The value named @name, or -1. */
int ems_value_from_name(const char *name);

/* Every value unknown. */
void ems_reading_clear(struct ems_reading *r);

static inline bool ems_known(double v)
{
	return !isnan(v);
}

#endif
