/*
 * gw_control: the operator's controls (see gw_control.h). Every change goes the same way: build the
 * new settings, check them against the config file as a whole, store settings.json, and only then
 * apply; a failure at any step leaves what runs and what is stored as they were.
 */
#include "gw_control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw_bus.h"
#include "gw_log.h"
#include "gw_policy.h"
#include "gw_settings.h"

#define COMMAND_MAX 4096

struct gw_control {
	const char *config_path;
	struct gw_config *cfg;
	struct gw_bus *bus;
	struct gw_policy *policy;
	struct gw_settings set;
};

/* Entry @cfg of @path with the settings in @data_dir on top (see gw_control_config). */
static void settings_on_top(const char *path, const char *data_dir, struct gw_config *cfg, char *warn, size_t warnlen)
{
	struct gw_settings set;
	char why[512];

	if (gw_settings_load(data_dir ? data_dir : cfg->data_dir, &set, why, sizeof(why)) < 0) {
		snprintf(warn, warnlen, "%s; the operator's settings are not used", why);
		return;
	}
	if (set.policy) {
		struct gw_config *with = malloc(sizeof(*with));

		if (with && gw_config_entry_with_policy(path, cfg->cp_id, set.policy, with, why, sizeof(why)) == 0)
			*cfg = *with;
		else
			snprintf(warn, warnlen, "%s/%s: the policy set at run time no longer fits the config (%s); the "
				 "config's policy is used", cfg->data_dir, GW_SETTINGS_FILE, with ? why : "out of memory");
		free(with);
	}
	gw_settings_clear(&set);
}

int gw_control_config(const char *path, const char *data_dir, struct gw_config *out, char *err, size_t errlen,
		      char *warn, size_t warnlen)
{
	int rc;

	warn[0] = '\0';
	rc = gw_config_load(path, out, err, errlen);
	if (rc)
		return rc;
	settings_on_top(path, data_dir, out, warn, warnlen);
	return 0;
}

int gw_control_config_set(const char *path, struct gw_config_set *out, char *err, size_t errlen, char *warn,
			  size_t warnlen)
{
	int rc;

	warn[0] = '\0';
	rc = gw_config_set_load(path, out, err, errlen);
	if (rc)
		return rc;
	for (int i = 0; i < out->n; i++) {
		char one[512] = "";

		settings_on_top(path, NULL, &out->cp[i], one, sizeof(one));
		if (one[0] && !warn[0])
			snprintf(warn, warnlen, "%s", one);
	}
	return 0;
}

static void maxes_apply(struct gw_control *ctl)
{
	for (int i = 0; i < ctl->set.n_max; i++) {
		int amps = ctl->set.max[i].amps;

		/* A reload may have lowered the per-TWC wiring below a stored maximum: the wiring wins. */
		if (amps > ctl->cfg->twc.wiring_max_per_twc)
			amps = ctl->cfg->twc.wiring_max_per_twc;
		if (gw_bus_set_user_max(ctl->bus, ctl->set.max[i].id, amps) < 0)
			gw_log_warn("control: the maximum for %04X could not be applied", ctl->set.max[i].id);
	}
}

struct gw_control *gw_control_new(const char *config_path, struct gw_config *cfg, struct gw_bus *bus,
				  struct gw_policy *policy)
{
	struct gw_control *ctl = calloc(1, sizeof(*ctl));
	char err[512];

	if (!ctl)
		return NULL;
	ctl->config_path = config_path;
	ctl->cfg = cfg;
	ctl->bus = bus;
	ctl->policy = policy;
	/* gw_control_config() already said what is wrong with a bad file; start from nothing then. */
	if (!config_path || gw_settings_load(cfg->data_dir, &ctl->set, err, sizeof(err)) < 0)
		memset(&ctl->set, 0, sizeof(ctl->set));
	maxes_apply(ctl);
	return ctl;
}

void gw_control_free(struct gw_control *ctl)
{
	if (!ctl)
		return;
	gw_settings_clear(&ctl->set);
	free(ctl);
}

void gw_control_reloaded(struct gw_control *ctl)
{
	maxes_apply(ctl);
}

/* @text as the operator's policy object: a bare mode name, "config", or JSON. NULL, "config": none. */
static int policy_parse(const char *text, json_t **out, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j;

	*out = NULL;
	if (!text || strnlen(text, COMMAND_MAX + 1) > COMMAND_MAX) {
		snprintf(err, errlen, "policy: at most %d bytes", COMMAND_MAX);
		return -EINVAL;
	}
	while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
		text++;
	if (*text != '{' && *text != '"') {
		char name[32];
		size_t n = strcspn(text, " \t\r\n");

		if (n == 0 || n >= sizeof(name) || text[n + strspn(text + n, " \t\r\n")]) {
			snprintf(err, errlen, "policy: expected a mode name or a JSON object");
			return -EINVAL;
		}
		memcpy(name, text, n);
		name[n] = '\0';
		if (!strcmp(name, "config"))
			return 0;
		*out = json_pack("{s:s}", "mode", name);
		return *out ? 0 : -ENOMEM;
	}
	j = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!j) {
		snprintf(err, errlen, "policy: not JSON (%s)", je.text);
		return -EINVAL;
	}
	if (json_is_string(j)) {
		int rc = policy_parse(json_string_value(j), out, err, errlen);

		json_decref(j);
		return rc;
	}
	if (!json_is_object(j) || json_object_size(j) == 0) {
		json_decref(j);
		snprintf(err, errlen, "policy: expected a mode name or an object with mode, until, then, schedule");
		return -EINVAL;
	}
	*out = j;
	return 0;
}

static int store(struct gw_control *ctl, char *err, size_t errlen)
{
	int rc;

	if (!ctl->config_path)
		return 0; /* the demo: nothing on disk */
	rc = gw_settings_save(ctl->cfg->data_dir, &ctl->set);

	if (rc < 0)
		snprintf(err, errlen, "cannot store %s/%s: %s; nothing changed", ctl->cfg->data_dir, GW_SETTINGS_FILE,
			 strerror(-rc));
	return rc;
}

static void max_by_set(struct gw_control *ctl, uint16_t id, const char *by)
{
	for (int i = 0; i < ctl->set.n_max; i++)
		if (ctl->set.max[i].id == id)
			snprintf(ctl->set.max[i].by, sizeof(ctl->set.max[i].by), "%s", gw_settings_by_ok(by) ? by : "");
}

/* A mode name of the policy object's member @key into @out. */
static int mode_member(const json_t *policy, const char *key, enum ems_policy_mode *out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(policy, key);
	int m = json_is_string(v) ? ems_policy_mode_from_name(json_string_value(v)) : -1;

	if (m < 0) {
		snprintf(err, errlen, "config: policy.%s: must be \"off\", \"charge-now\", \"scheduled\" or "
			 "\"track-green\"", key);
		return -EINVAL;
	}
	*out = (enum ems_policy_mode)m;
	return 0;
}

/*
 * No config file (the demo): the operator's mode, until and then over the running config, checked
 * here because there is no file to check them against. The demo's house stands in for meters, so
 * every mode is possible; a schedule needs the file's rules and is refused.
 */
static int memory_policy(struct gw_control *ctl, const json_t *policy, struct gw_config *out, char *err,
			 size_t errlen)
{
	const char *key;
	json_t *v;
	char why[160];

	*out = *ctl->cfg;
	if (!policy)
		return 0; /* back to the start-up policy: the demo keeps none apart, so nothing changes */
	json_object_foreach((json_t *)policy, key, v) {
		if (strcmp(key, "mode") && strcmp(key, "until") && strcmp(key, "then")) {
			snprintf(err, errlen, "config: policy.%.40s: not available in the demo (mode, until, then)", key);
			return -EINVAL;
		}
	}
	if (mode_member(policy, "mode", &out->policy.mode, err, errlen))
		return -EINVAL;
	if (out->policy.mode == EMS_POLICY_SCHEDULED && out->policy.n_windows == 0) {
		snprintf(err, errlen, "config: policy.mode: \"scheduled\" needs a schedule, and the demo has none");
		return -EINVAL;
	}
	out->policy.has_until = json_object_get(policy, "until") != NULL;
	out->policy.then = EMS_POLICY_OFF;
	if (out->policy.has_until) {
		v = json_object_get(policy, "until");
		if (!json_is_string(v) || gw_config_until_text(json_string_value(v), &out->policy.until_ms, why,
							       sizeof(why))) {
			snprintf(err, errlen, "config: policy.until: %s", json_is_string(v) ? why : "must be a string");
			return -EINVAL;
		}
		if (json_object_get(policy, "then") && mode_member(policy, "then", &out->policy.then, err, errlen))
			return -EINVAL;
	} else if (json_object_get(policy, "then")) {
		snprintf(err, errlen, "config: policy.then: needs policy.until (the time the mode ends)");
		return -EINVAL;
	}
	return 0;
}

int gw_control_set_policy(struct gw_control *ctl, const char *text, const char *by, char *err, size_t errlen)
{
	json_t *given, *next = NULL, *old = ctl->set.policy;
	char old_by[GW_SETTINGS_BY_MAX];
	struct gw_config with;
	int rc = policy_parse(text, &given, err, errlen);

	if (rc)
		return rc;
	if (given) {
		/* The new object on top of the operator's previous one: a mode replaces mode/until/then. */
		next = old ? json_deep_copy(old) : json_object();
		if (!next) {
			json_decref(given);
			return -ENOMEM;
		}
		if (json_object_get(given, "mode")) {
			json_object_del(next, "mode");
			json_object_del(next, "until");
			json_object_del(next, "then");
		}
		json_object_update(next, given);
		json_decref(given);
	}
	rc = ctl->config_path ? gw_config_entry_with_policy(ctl->config_path, ctl->cfg->cp_id, next, &with, err, errlen)
			      : memory_policy(ctl, next, &with, err, errlen);
	if (rc) {
		json_decref(next);
		return rc;
	}
	memcpy(old_by, ctl->set.policy_by, sizeof(old_by));
	ctl->set.policy = next;
	snprintf(ctl->set.policy_by, sizeof(ctl->set.policy_by), "%s", next && gw_settings_by_ok(by) ? by : "");
	rc = store(ctl, err, errlen);
	if (rc) {
		ctl->set.policy = old;
		memcpy(ctl->set.policy_by, old_by, sizeof(old_by));
		json_decref(next);
		return rc;
	}
	json_decref(old);
	ctl->cfg->policy = with.policy;
	gw_policy_apply_config(ctl->policy, ctl->cfg);
	gw_log_info("control: policy %s%s", ems_policy_mode_name(with.policy.mode),
		    next ? " (set at run time)" : " (the config's again)");
	return 0;
}

int gw_control_set_max(struct gw_control *ctl, uint16_t twc_id, int amps, const char *by, char *err, size_t errlen)
{
	int before = gw_settings_max(&ctl->set, twc_id), rc;
	char before_by[GW_SETTINGS_BY_MAX];

	if (twc_id == 0 || amps < -1 || amps > ctl->cfg->twc.wiring_max_per_twc) {
		snprintf(err, errlen, "maxAmps: must be 0 to %d (twc.wiringMaxAmpsPerTWC), or cleared (got %d)",
			 ctl->cfg->twc.wiring_max_per_twc, amps);
		return -EINVAL;
	}
	snprintf(before_by, sizeof(before_by), "%s", gw_settings_max_by(&ctl->set, twc_id));
	if (gw_settings_set_max(&ctl->set, twc_id, amps) < 0) {
		snprintf(err, errlen, "maxAmps: at most %d Wall Connectors may have one", TWC_MAX_KNOWN);
		return -ENOSPC;
	}
	max_by_set(ctl, twc_id, by);
	rc = store(ctl, err, errlen);
	if (rc) {
		gw_settings_set_max(&ctl->set, twc_id, before);
		max_by_set(ctl, twc_id, before_by);
		return rc;
	}
	rc = gw_bus_set_user_max(ctl->bus, twc_id, amps);
	if (rc < 0)
		snprintf(err, errlen, "stored, but the bus refused it: %s", strerror(-rc));
	return rc;
}

const char *gw_control_max_source(const struct gw_control *ctl, uint16_t twc_id)
{
	const char *by = gw_settings_max_by(&ctl->set, twc_id);

	if (gw_settings_max(&ctl->set, twc_id) < 0)
		return "";
	return by[0] ? by : "settings";
}

int gw_control_max(const struct gw_control *ctl, uint16_t twc_id)
{
	return gw_settings_max(&ctl->set, twc_id);
}

const char *gw_control_policy_source(const struct gw_control *ctl)
{
	if (!ctl->set.policy)
		return "config";
	return ctl->set.policy_by[0] ? ctl->set.policy_by : "settings";
}

static void days_text(uint8_t days, char *out, size_t n)
{
	static const char *const names[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
	size_t used = 0;

	out[0] = '\0';
	if ((days & 0x7f) == 0x7f) {
		snprintf(out, n, "daily");
		return;
	}
	for (int d = 0; d < 7; d++) {
		if ((days & (1u << d)) && used < n) {
			int w = snprintf(out + used, n - used, "%s%s", used ? "," : "", names[d]);

			if (w > 0)
				used += (size_t)w;
		}
	}
}

json_t *gw_control_policy_json(const struct gw_control *ctl)
{
	const struct gw_config_policy *p = &ctl->cfg->policy;
	json_t *j = json_pack("{s:s}", "mode", ems_policy_mode_name(p->mode)), *sched;

	if (!j)
		return NULL;
	if (p->has_until) {
		time_t t = (time_t)(p->until_ms / 1000);
		struct tm tm;
		char when[32];

		if (gmtime_r(&t, &tm) && strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
			json_object_set_new(j, "until", json_string(when));
		json_object_set_new(j, "then", json_string(ems_policy_mode_name(p->then)));
	}
	sched = json_array();
	for (int i = 0; sched && i < p->n_windows; i++) {
		const struct ems_policy_window *w = &p->windows[i];
		char days[40], start[8], end[8];

		days_text(w->days, days, sizeof(days));
		snprintf(start, sizeof(start), "%02d:%02d", (w->start_min / 60) % 24, w->start_min % 60);
		snprintf(end, sizeof(end), "%02d:%02d", (w->end_min / 60) % 24, w->end_min % 60);
		json_array_append_new(sched, json_pack("{s:s,s:s,s:s,s:i}", "days", days, "start", start, "end", end,
						       "amps", w->amps));
	}
	if (sched)
		json_object_set_new(j, "schedule", sched);
	return j;
}

unsigned gw_control_modes(const struct gw_control *ctl)
{
	unsigned m = 1u << EMS_POLICY_OFF | 1u << EMS_POLICY_CHARGE_NOW;

	if (ctl->cfg->policy.n_windows > 0)
		m |= 1u << EMS_POLICY_SCHEDULED;
	if (ctl->cfg->ems.n > 0 || !ctl->config_path)
		m |= 1u << EMS_POLICY_TRACK_GREEN;
	return m;
}
