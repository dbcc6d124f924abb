/*
 * gw_core_params: the field-by-field mapping from gw_config to the cores' params. Defaults and
 * ranges are the loader's business; this only carries values across and derives the few that
 * depend on more than one key.
 */
#include "gw_core_params.h"

#include <stdio.h>
#include <string.h>

#define MASTER_SIGN 0x77 /* the sign byte of our linkready; any value works, 77 is TWCManager's */

void gw_core_params_twc(const struct gw_config *cfg, bool ocpp, struct twc_bus_config *out)
{
	const struct gw_config_twc *twc = &cfg->twc;

	memset(out, 0, sizeof(*out));
	out->master_id = twc->master_id;
	out->master_sign = MASTER_SIGN;
	out->limits.wiring_max_all = twc->wiring_max_all;
	out->limits.wiring_max_per_twc = twc->wiring_max_per_twc;
	out->limits.min_amps = twc->min_amps;
	/* Standalone, the bus total (the policy's decision) limits a new slave; under OCPP it gets
	 * nothing until a transaction allows it. */
	out->default_cap_amps = ocpp ? 0 : twc->wiring_max_per_twc;
	out->query_meter = true;
	out->stop_commands = twc->stop_commands;
}

void gw_core_params_ocpp(const struct gw_config *cfg, bool tls, struct gw_ocpp_core_params *out)
{
	const struct gw_config_ocpp *c = &cfg->ocpp;
	struct ocpp_cp_params *p = &out->p;
	int n = 0;

	/* The file's profile and key are initial values like ocpp.keys: what the central system
	 * changed since (persisted by the core) wins. */
	snprintf(out->profile, sizeof(out->profile), "%d", c->security_profile);
	out->keys[n++] = (struct ocpp_key_override){ "SecurityProfile", out->profile };
	if (c->authorization_key[0])
		out->keys[n++] = (struct ocpp_key_override){ "AuthorizationKey", c->authorization_key };
	for (int i = 0; i < c->n_keys; i++)
		out->keys[n++] = (struct ocpp_key_override){ c->keys[i].name, c->keys[i].value };

	memset(p, 0, sizeof(*p));
	p->vendor = c->vendor;
	p->model = c->model;
	p->firmware = TWCGW_VERSION;
	p->id_tag_source = c->id_tag_source;
	p->fixed_id_tag = c->id_tag_fixed;
	p->voltage = cfg->twc.voltage;
	p->phases = cfg->twc.phases;
	p->max_amps_per_connector = cfg->twc.wiring_max_per_twc;
	p->max_amps_total = cfg->twc.wiring_max_all;
	p->min_amps = cfg->twc.min_amps;
	p->call_timeout_s = c->call_timeout;
	/* 3 over TLS: the client certificate comes from the store (its prerequisite is the gateway's to check). */
	p->max_security_profile = tls ? 3 : 1;
	p->keys = out->keys;
	p->n_keys = n;
}

void gw_core_params_tesla(const struct gw_config_tesla *c, struct gw_tesla_core_params *out)
{
	struct tesla_params *p = &out->p;
	size_t n;

	snprintf(out->base, sizeof(out->base), "%s", c->base_url);
	n = strlen(out->base);
	while (n > 0 && out->base[n - 1] == '/')
		out->base[--n] = '\0';
	memset(p, 0, sizeof(*p));
	p->base_url = out->base;
	p->token_url = c->token_url;
	p->client_id = c->client_id;
	p->access_token = c->access_token;
	p->refresh_token = c->refresh_token;
	p->daily_budget = c->daily_budget;
	p->car_amps = c->car_amps;
	p->has_home = c->has_home;
	p->home_lat = c->home_lat;
	p->home_lon = c->home_lon;
	p->home_radius_m = c->home_radius;
	p->dwell_s = c->dwell;
	p->start_grace_s = c->start_grace;
}

void gw_core_params_policy(const struct gw_config_policy *c, const struct gw_config_twc *twc,
			   struct ems_policy_params *p)
{
	ems_policy_params_default(p, twc->wiring_max_all, twc->min_amps, twc->voltage, twc->phases);
	p->mode = c->mode;
	p->has_until = c->has_until;
	p->until_wall_ms = c->until_ms;
	p->then = c->then;
	memcpy(p->windows, c->windows, sizeof(p->windows));
	p->n_windows = c->n_windows;
	p->enable_delay_s = c->enable_delay;
	p->disable_delay_s = c->disable_delay;
	p->dwell_s = c->dwell;
	p->margin_w = c->margin_w;
	p->battery_soc = c->battery_soc;
	p->load_includes_chargers = c->load_includes_chargers;
}

void gw_core_params_meter(const struct gw_config_meter *c, int index, struct gw_meter_core_params *out)
{
	struct ems_meter_params *p = &out->p;
	size_t n;

	snprintf(out->name, sizeof(out->name), "ems[%d] %s", index, ems_meter_type_name(c->type));
	snprintf(out->url, sizeof(out->url), "%s", c->url);
	/* A json URL is the document itself; every other type's is a base that paths are added to. */
	n = strlen(out->url);
	while (n > 0 && out->url[n - 1] == '/' && c->type != EMS_METER_JSON)
		out->url[--n] = '\0';
	memset(p, 0, sizeof(*p));
	p->type = c->type;
	p->name = out->name;
	p->url = out->url;
	p->email = c->email;
	p->password = c->password;
	p->token = c->token[0] ? c->token : NULL;
	p->unit_id = (uint8_t)c->unit_id;
	p->se_meter = c->se_meter;
	p->se_battery = c->se_battery;
	p->poll_ms = (uint32_t)c->poll_s * 1000u;
	p->max_age_ms = (uint32_t)c->max_age_s * 1000u;
	memcpy(p->src, c->src, sizeof(p->src));
}
