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

int gw_control_config(const char *path, const char *data_dir, struct gw_config *out, char *err, size_t errlen,
		      char *warn, size_t warnlen)
{
	struct gw_settings set;
	char why[512];
	int rc;

	warn[0] = '\0';
	rc = gw_config_load(path, out, err, errlen);
	if (rc)
		return rc;
	if (gw_settings_load(data_dir ? data_dir : out->data_dir, &set, why, sizeof(why)) < 0) {
		snprintf(warn, warnlen, "%s; the operator's settings are not used", why);
		return 0;
	}
	if (set.policy) {
		struct gw_config with;

		if (gw_config_with_policy(path, set.policy, &with, why, sizeof(why)) == 0)
			*out = with;
		else
			snprintf(warn, warnlen, "%s/%s: the policy set at run time no longer fits the config (%s); the "
				 "config's policy is used", out->data_dir, GW_SETTINGS_FILE, why);
	}
	gw_settings_clear(&set);
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
	if (gw_settings_load(cfg->data_dir, &ctl->set, err, sizeof(err)) < 0)
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
	int rc = gw_settings_save(ctl->cfg->data_dir, &ctl->set);

	if (rc < 0)
		snprintf(err, errlen, "cannot store %s/%s: %s; nothing changed", ctl->cfg->data_dir, GW_SETTINGS_FILE,
			 strerror(-rc));
	return rc;
}

int gw_control_set_policy(struct gw_control *ctl, const char *text, char *err, size_t errlen)
{
	json_t *given, *next = NULL, *old = ctl->set.policy;
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
	rc = gw_config_with_policy(ctl->config_path, next, &with, err, errlen);
	if (rc) {
		json_decref(next);
		return rc;
	}
	ctl->set.policy = next;
	rc = store(ctl, err, errlen);
	if (rc) {
		ctl->set.policy = old;
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

int gw_control_set_max(struct gw_control *ctl, uint16_t twc_id, int amps, char *err, size_t errlen)
{
	int before = gw_settings_max(&ctl->set, twc_id), rc;

	if (twc_id == 0 || amps < -1 || amps > ctl->cfg->twc.wiring_max_per_twc) {
		snprintf(err, errlen, "maxAmps: must be 0 to %d (twc.wiringMaxAmpsPerTWC), or -1 to clear (got %d)",
			 ctl->cfg->twc.wiring_max_per_twc, amps);
		return -EINVAL;
	}
	if (gw_settings_set_max(&ctl->set, twc_id, amps) < 0) {
		snprintf(err, errlen, "maxAmps: at most %d Wall Connectors may have one", TWC_MAX_KNOWN);
		return -ENOSPC;
	}
	rc = store(ctl, err, errlen);
	if (rc) {
		gw_settings_set_max(&ctl->set, twc_id, before);
		return rc;
	}
	rc = gw_bus_set_user_max(ctl->bus, twc_id, amps);
	if (rc < 0)
		snprintf(err, errlen, "stored, but the bus refused it: %s", strerror(-rc));
	return rc;
}

int gw_control_max(const struct gw_control *ctl, uint16_t twc_id)
{
	return gw_settings_max(&ctl->set, twc_id);
}

const char *gw_control_policy_source(const struct gw_control *ctl)
{
	return ctl->set.policy ? "settings" : "config";
}
