/*
 * gw_config_policy: the policy section's own rules: the schedule list (days, start, end, amps of
 * each window) and the checks that need other keys (until/then, amps against the twc limits, what
 * the modes "scheduled" and "track-green" require). Its plain keys are in the key table.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gw_config_internal.h"

static const char *const day_names[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

static int day_index(const char *s, size_t len)
{
	for (int i = 0; i < 7; i++)
		if (len == 3 && strncasecmp(s, day_names[i], 3) == 0)
			return i;
	return -1;
}

/* "daily", or comma-separated days and ranges: "mon-fri", "sat,sun", "fri-mon". Bit 0 is Sunday. */
static int parse_days(const char *s, uint8_t *out)
{
	uint8_t bits = 0;

	if (strcasecmp(s, "daily") == 0) {
		*out = 0x7f;
		return 0;
	}
	while (*s) {
		size_t len = strcspn(s, ",");
		const char *dash = memchr(s, '-', len);
		int a, b;

		if (dash) {
			a = day_index(s, (size_t)(dash - s));
			b = day_index(dash + 1, len - (size_t)(dash - s) - 1);
		} else {
			a = b = day_index(s, len);
		}
		if (a < 0 || b < 0)
			return -EINVAL;
		for (int i = a;; i = (i + 1) % 7) {
			bits |= (uint8_t)(1u << i);
			if (i == b)
				break;
		}
		s += len;
		if (*s == ',' && *++s == '\0')
			return -EINVAL;
	}
	if (!bits)
		return -EINVAL;
	*out = bits;
	return 0;
}

int gw_config_schedule_apply(const json_t *v, struct gw_config *cfg, char *err, size_t errlen)
{
	static const char *const keys[] = { "days", "start", "end", "amps", NULL };
	struct gw_config_policy *p = &cfg->policy;
	size_t i;
	json_t *w;

	if (!v)
		return 0;
	if (json_array_size(v) > EMS_POLICY_MAX_WINDOWS) {
		gw_config_err_set(err, errlen,
			"config: policy.schedule: at most %d windows (got %zu)", EMS_POLICY_MAX_WINDOWS,
			json_array_size(v));
		return -EINVAL;
	}
	json_array_foreach(v, i, w) {
		struct ems_policy_window *win = &p->windows[i];
		char where[48], text[64] = "daily", got[GOT_MAX];
		int rc;

		snprintf(where, sizeof(where), "policy.schedule[%zu]", i);
		if (!json_is_object(w)) {
			gw_config_value_describe(w, false, got, sizeof(got));
			gw_config_err_set(err, errlen, "config: %s: must be an object (got %s)", where, got);
			return -EINVAL;
		}
		rc = gw_config_members_check(w, where, keys, err, errlen);
		if (rc)
			return rc;
		for (int k = 1; k <= 2; k++) {
			const char *name = k == 1 ? "start" : "end";
			char hhmm[8] = "";

			if (!json_object_get(w, name)) {
				gw_config_err_set(err, errlen, "config: %s.%s: required key missing", where, name);
				return -EINVAL;
			}
			rc = gw_config_member_string_read(w, where, name, false, hhmm, sizeof(hhmm), err, errlen);
			if (!rc && gw_config_hhmm_parse(hhmm, k == 1 ? &win->start_min : &win->end_min) != 0) {
				gw_config_value_describe(json_object_get(w, name), false, got, sizeof(got));
				gw_config_err_set(err, errlen,
					"config: %s.%s: must be a time HH:MM from 00:00 to 23:59 (got %s)",
					where, name, got);
				rc = -EINVAL;
			}
			if (rc)
				return rc;
		}
		rc = gw_config_member_string_read(w, where, "days", false, text, sizeof(text), err, errlen);
		if (!rc && parse_days(text, &win->days) != 0) {
			gw_config_value_describe(json_object_get(w, "days"), false, got, sizeof(got));
			gw_config_err_set(err, errlen, "config: %s.days: must be \"daily\" or days and ranges such as "
				"\"mon-fri\" or \"sat,sun\" (got %s)", where, got);
			rc = -EINVAL;
		}
		if (rc)
			return rc;
		if (!json_object_get(w, "amps")) {
			gw_config_err_set(err, errlen, "config: %s.amps: required key missing", where);
			return -EINVAL;
		}
		/* The range against the twc limits is checked in gw_config_policy_check(), once they are known. */
		rc = gw_config_member_int_read(w, where, "amps", 1, 240, &win->amps, err, errlen);
		if (rc)
			return rc;
	}
	p->n_windows = (int)json_array_size(v);
	return 0;
}

/* The policy section's rules that involve other keys. */
int gw_config_policy_check(struct gw_config *cfg, const json_t *root, char *err, size_t errlen)
{
	struct gw_config_policy *p = &cfg->policy;
	int lo = cfg->twc.min_amps, hi = cfg->twc.wiring_max_all;

	p->has_until = gw_config_path_lookup(root, "policy.until") != NULL;
	if (gw_config_path_lookup(root, "policy.then") && !p->has_until) {
		gw_config_err_set(err, errlen, "config: policy.then: needs policy.until (the time the mode ends)");
		return -EINVAL;
	}
	if (p->has_until && p->then == p->mode) {
		gw_config_err_set(err, errlen, "config: policy.then: must differ from policy.mode (got \"%s\")",
			ems_policy_mode_name(p->then));
		return -EINVAL;
	}
	for (int i = 0; i < p->n_windows; i++) {
		if (p->windows[i].amps < lo || p->windows[i].amps > hi) {
			gw_config_err_set(err, errlen,
				"config: policy.schedule[%d].amps: must be from %d (twc.minAmpsPerTWC) to %d "
				"(twc.wiringMaxAmpsAllTWCs) (got %d)", i, lo, hi, p->windows[i].amps);
			return -EINVAL;
		}
	}
	if ((p->mode == EMS_POLICY_SCHEDULED || (p->has_until && p->then == EMS_POLICY_SCHEDULED)) && !p->n_windows) {
		gw_config_err_set(err, errlen, "config: policy.schedule: required key missing for mode \"scheduled\"");
		return -EINVAL;
	}
	if ((p->mode == EMS_POLICY_TRACK_GREEN || (p->has_until && p->then == EMS_POLICY_TRACK_GREEN)) && !cfg->ems.n) {
		gw_config_err_set(err, errlen,
			"config: ems: required key missing for mode \"track-green\" (a meter to track)");
		return -EINVAL;
	}
	return 0;
}
