/*
 * gw_control: the operator's controls at run time, whatever asks (MQTT commands, later the status
 * page and REST): the policy mode (with until/then, or a schedule) and a maximum per Wall Connector.
 * A change is checked exactly as the config file would be (errors name the key), stored in
 * dataDir/settings.json before it takes effect (so it survives a restart, and a change that cannot be
 * stored is refused rather than lost at the next one), then applied to the policy and the bus. The
 * user's config file is never rewritten: it stays the base, the settings lie on top, and SIGHUP
 * re-reads both.
 */
#ifndef GW_CONTROL_H
#define GW_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gw_config.h"

struct gw_bus;
struct gw_policy;
struct gw_control;

/*
 * gw_control_config() - the config @path with the settings in @data_dir on top, into @out. Settings
 * that no longer fit the file (say track-green with the meters removed) are left aside with a
 * warning in @warn ("" if none), and @out is the file's. Return: 0 or the file's own error.
 */
int gw_control_config(const char *path, const char *data_dir, struct gw_config *out, char *err, size_t errlen,
		      char *warn, size_t warnlen);

/* The same for every charge point of @path (gw_config_set_load), each with the settings of its own
 * dataDir on top; @warn holds the first warning. Return: 0 or the file's own error (@out empty). */
int gw_control_config_set(const char *path, struct gw_config_set *out, char *err, size_t errlen, char *warn,
			  size_t warnlen);

/* @cfg is the running config (main's, updated in place by a change); @bus and @policy are applied to.
 * Applies the stored maximums to the bus. NULL on allocation failure.
 * @config_path NULL (the demo, which has no file and no dataDir): changes are kept in memory only and
 * the policy takes mode, until and then (no schedule). */
struct gw_control *gw_control_new(const char *config_path, struct gw_config *cfg, struct gw_bus *bus,
				  struct gw_policy *policy);
void gw_control_free(struct gw_control *ctl);

/*
 * gw_control_set_policy() - the operator's policy: @json is a mode name ("charge-now") or an object
 * {"mode": ..., "until": ..., "then": ...} and/or {"schedule": [...]}, as in the config's "policy";
 * "config" goes back to the file's policy. Return 0, or -EINVAL / -errno with @err saying why (the
 * key, or that it could not be stored).
 */
int gw_control_set_policy(struct gw_control *ctl, const char *json, const char *by, char *err, size_t errlen);

/* The operator's maximum for Wall Connector @twc_id: 0 (may not charge) up to the per-TWC wiring, or
 * -1 to clear. Return 0 or a negative errno with @err set. */
int gw_control_set_max(struct gw_control *ctl, uint16_t twc_id, int amps, const char *by, char *err, size_t errlen);
int gw_control_max(const struct gw_control *ctl, uint16_t twc_id); /* -1: none */
/* Who set the maximum of @twc_id: "page", "api", "mqtt", "settings" (unknown), or "" when none. */
const char *gw_control_max_source(const struct gw_control *ctl, uint16_t twc_id);

/* @by of the two setters: who asks ("page", "api", "mqtt"), kept with the setting and shown on the page. */

/* Where the policy in force comes from: "config", or who set it ("page", "api", "mqtt"; "settings"
 * for a settings file that does not say). */
const char *gw_control_policy_source(const struct gw_control *ctl);

/* The policy in force as the config's "policy" members (mode, until, then, schedule): new reference. */
json_t *gw_control_policy_json(const struct gw_control *ctl);

/* The modes this config can run: track-green only with meters (or the demo's house). Bit per
 * enum ems_policy_mode. */
unsigned gw_control_modes(const struct gw_control *ctl);

/* After SIGHUP: @cfg was loaded through gw_control_config(); re-apply the maximums. */
void gw_control_reloaded(struct gw_control *ctl);

#endif
