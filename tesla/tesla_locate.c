/*
 * tesla_locate: which car is on a connector when the TWC gives no VIN. Found once per plug-in: the only
 * car on the account, else the one online car that is plugged in within tesla.home's radius and not
 * already on another connector; anything else is ambiguous and the connector gets no vehicle API calls
 * until the car is unplugged.
 */
#include "tesla_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define EARTH_RADIUS_M 6371000.0

bool tesla_vin_used_elsewhere(const struct tesla *t, int ci, const char *vin)
{
	for (int i = 1; i <= t->nc; i++)
		if (i != ci && t->c[i].plugged && !strcmp(t->c[i].vin, vin))
			return true;
	return false;
}

__attribute__((format(printf, 3, 4))) static void ambiguous(struct tesla *t, int ci, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	t->c[ci].loc = LOC_AMBIGUOUS;
	t->changes++;
	tesla_log(t, CORE_LOG_WARN, "%s: cannot tell which car is plugged in (%s); no vehicle API calls "
				    "until it is unplugged", tesla_conn_label(t, ci), why);
}

void tesla_locate_found(struct tesla *t, int ci, const char *vin, const char *how)
{
	memcpy(t->c[ci].vin, vin, TESLA_VIN_LEN + 1);
	t->c[ci].loc = LOC_DONE;
	t->changes++;
	tesla_log(t, CORE_LOG_INFO, "%s: car %s (%s)", tesla_conn_label(t, ci), vin, how);
}

/* A locate that could not finish: try again after a rest rather than guess. */
void tesla_locate_failed(struct tesla *t, int ci)
{
	t->c[ci].loc = LOC_NONE;
	t->c[ci].hold_until = t->mono + HOLD_MS;
	t->changes++;
	tesla_log(t, CORE_LOG_WARN, "%s: could not find which car is plugged in; trying again in %u s",
		  tesla_conn_label(t, ci),
		  HOLD_MS / 1000);
}

void tesla_locate_start(struct tesla *t, int ci)
{
	if (!tesla_queue_add(t, -1, K_LIST, ci, NULL))
		return;
	t->c[ci].loc = LOC_LIST;
	t->c[ci].n_cand = 0;
	t->c[ci].loc_pending = 0;
	t->c[ci].loc_failed = false;
	tesla_log(t, CORE_LOG_INFO, "%s: no VIN from the TWC; asking the account which car it is",
		  tesla_conn_label(t, ci));
}

static void locate_eval(struct tesla *t, int ci)
{
	struct conn *c = &t->c[ci];
	int n = 0, one = -1;

	if (c->loc_failed) {
		tesla_locate_failed(t, ci);
		return;
	}
	for (int i = 0; i < c->n_cand; i++)
		if (!tesla_vin_used_elsewhere(t, ci, c->cand[i])) {
			n++;
			one = i;
		}
	if (n == 1)
		tesla_locate_found(t, ci, c->cand[one], "plugged in at home");
	else
		ambiguous(t, ci, "%d candidate cars plugged in within tesla.home and not on another connector", n);
}

/* ---------------------------------------------------------------- tesla.home */

static double rad(double deg)
{
	return deg * M_PI / 180.0;
}

static double distance_m(double lat1, double lon1, double lat2, double lon2)
{
	double a = sin(rad(lat2 - lat1) / 2) * sin(rad(lat2 - lat1) / 2) +
		   cos(rad(lat1)) * cos(rad(lat2)) * sin(rad(lon2 - lon1) / 2) * sin(rad(lon2 - lon1) / 2);

	return 2 * EARTH_RADIUS_M * asin(sqrt(a < 0 ? 0 : a > 1 ? 1 : a));
}

/* A vehicle_data answer's car is a candidate: plugged in (to something) and within tesla.home. */
static bool candidate(const struct tesla *t, const json_t *resp)
{
	static const char *const where[] = { "drive_state", "location_data" };
	const char *cs = json_string_value(json_object_get(json_object_get(resp, "charge_state"), "charging_state"));

	if (!cs || !strcmp(cs, "Disconnected"))
		return false;
	for (int i = 0; i < 2; i++) {
		const json_t *o = json_object_get(resp, where[i]);
		const json_t *la = json_object_get(o, "latitude"), *lo = json_object_get(o, "longitude");

		if (json_is_number(la) && json_is_number(lo))
			return distance_m(t->home_lat, t->home_lon, json_number_value(la), json_number_value(lo)) <=
			       t->home_r;
	}
	return false;
}

/* ---------------------------------------------------------------- answers */

/* One vehicle_data answer (@resp NULL: none usable; @failed: not a clean answer). */
void tesla_locate_data_done(struct tesla *t, int ci, const char *vin, const json_t *resp, bool failed)
{
	struct conn *c = &t->c[ci];

	if (c->loc != LOC_DATA)
		return;
	if (failed)
		c->loc_failed = true;
	else if (resp && candidate(t, resp) && c->n_cand < LOCATE_MAX)
		memcpy(c->cand[c->n_cand++], vin, TESLA_VIN_LEN + 1);
	if (--c->loc_pending <= 0)
		locate_eval(t, ci);
}

void tesla_locate_list_answer(struct tesla *t, int ci, const json_t *j)
{
	struct conn *c = &t->c[ci];
	const json_t *arr = json_object_get(j, "response"), *v;
	const char *only = NULL;
	int n = 0, online = 0, asked = 0;
	size_t i;

	if (c->loc != LOC_LIST)
		return;
	if (!json_is_array(arr)) {
		t->st.failures++;
		tesla_log(t, CORE_LOG_WARN, "%s: the vehicle list answer has no \"response\" array",
			  tesla_conn_label(t, ci));
		tesla_locate_failed(t, ci);
		return;
	}
	json_array_foreach(arr, i, v) {
		const char *vin = json_string_value(json_object_get(v, "vin"));

		if (tesla_vin_ok(vin)) {
			n++;
			only = vin;
		}
	}
	if (n == 1) {
		if (tesla_vin_used_elsewhere(t, ci, only))
			ambiguous(t, ci, "the account's only car %s is on another connector", only);
		else
			tesla_locate_found(t, ci, only, "the only car on the account");
		return;
	}
	if (n == 0) {
		ambiguous(t, ci, "no cars on the account");
		return;
	}
	if (!t->has_home) {
		ambiguous(t, ci, "%d cars on the account and no tesla.home to tell them apart", n);
		return;
	}
	c->loc = LOC_DATA;
	c->n_cand = 0;
	c->loc_failed = false;
	/* Only cars already online: waking a car costs 20 commands' worth, and the one just plugged in
	 * is awake. A car on another connector cannot be this one. */
	json_array_foreach(arr, i, v) {
		const char *vin = json_string_value(json_object_get(v, "vin"));
		const char *state = json_string_value(json_object_get(v, "state"));

		if (!tesla_vin_ok(vin) || !state || strcmp(state, "online") || tesla_vin_used_elsewhere(t, ci, vin))
			continue;
		if (++online > LOCATE_MAX)
			continue;
		if (tesla_queue_add(t, -1, K_DATA, ci, vin))
			asked++;
	}
	if (online > LOCATE_MAX) {
		tesla_queue_remove_if(t, ci, tesla_req_locate);
		ambiguous(t, ci, "%d cars online on the account, more than the %d looked at", online, LOCATE_MAX);
		return;
	}
	c->loc_pending = asked;
	if (!asked)
		locate_eval(t, ci);
}
