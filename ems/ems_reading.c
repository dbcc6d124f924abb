/*
 * ems_reading: names of the normalised values and the empty reading (see ems.h).
 */
#include "ems.h"

#include <string.h>

static const char *const names[EMS_NVALUES] = { "grid", "pv", "load", "battery", "soc", "voltage" };

const char *ems_value_name(enum ems_value v)
{
	return (unsigned)v < EMS_NVALUES ? names[v] : NULL;
}

int ems_value_from_name(const char *name)
{
	for (int i = 0; i < EMS_NVALUES; i++)
		if (name && strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

void ems_reading_clear(struct ems_reading *r)
{
	for (int i = 0; i < EMS_NVALUES; i++)
		r->v[i] = NAN;
}
