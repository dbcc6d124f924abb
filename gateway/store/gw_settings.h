/*
 * gw_settings: dataDir/settings.json, what an operator changed at run time (MQTT commands, later the
 * status page): the policy mode with its until/then, and a maximum per Wall Connector. Kept apart
 * from the user's config file, which twcgw never rewrites; the config stays the base and these lie
 * on top. Format: {"version":1,"policy":{"mode":"charge-now","until":"...","then":"off"},
 * "maxAmps":{"1A2B":16},"policyBy":"page","maxAmpsBy":{"1A2B":"mqtt"}}: the *By members say who made each
 * change (page, api, mqtt) so the status page can show it. The policy object is checked against the config by gw_config_with_policy();
 * here only its shape.
 */
#ifndef GW_SETTINGS_H
#define GW_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "twc_bus.h"

#define GW_SETTINGS_FILE "settings.json"

/* Who made a change: "page" (the status page), "api" (REST with a bearer token), "mqtt"; "" unknown. */
#define GW_SETTINGS_BY_MAX 8
int gw_settings_by_ok(const char *by);

struct gw_settings {
	json_t *policy; /* owned; NULL: the config's policy */
	char policy_by[GW_SETTINGS_BY_MAX];
	struct {
		uint16_t id;
		int amps;
		char by[GW_SETTINGS_BY_MAX];
	} max[TWC_MAX_KNOWN];
	int n_max;
};

/* Parse @len bytes of @text into @out (cleared first). Return 0 or -EINVAL with @err set. */
int gw_settings_parse(const char *text, size_t len, struct gw_settings *out, char *err, size_t errlen);
/* Read @dir/settings.json: 0 (none is an empty set), or a negative errno with @err naming the file. */
int gw_settings_load(const char *dir, struct gw_settings *out, char *err, size_t errlen);
/* Replace @dir/settings.json atomically and durably. 0 or a negative errno. */
int gw_settings_save(const char *dir, const struct gw_settings *s);
/* The maximum for @id, -1 if none; *@by (optional) who set it ("" unknown). */
int gw_settings_max(const struct gw_settings *s, uint16_t id);
const char *gw_settings_max_by(const struct gw_settings *s, uint16_t id);
/* Set (amps >= 0) or clear (-1) the maximum for @id. -ENOSPC when the table is full. */
int gw_settings_set_max(struct gw_settings *s, uint16_t id, int amps);
void gw_settings_clear(struct gw_settings *s);

#endif
