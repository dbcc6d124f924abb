/*
 * gw_core_params: a checked config turned into the parameters each pure core is created with (the
 * bus master, the OCPP charge point, the Tesla vehicle API, the policy engine, each energy meter). One place, so
 * the gateway and the config fuzzer, which builds the cores from every config the loader accepts,
 * cannot drift apart. No I/O: the callers add the state files and the environments.
 */
#ifndef GW_CORE_PARAMS_H
#define GW_CORE_PARAMS_H

#include <stdbool.h>

#include "ems_meter.h"
#include "ems_policy.h"
#include "gw_config.h"
#include "ocpp_cp.h"
#include "tesla_api.h"
#include "twc_bus.h"

/* The params point into the config and into this struct: keep both while the core is created. */
struct gw_ocpp_core_params {
	struct ocpp_cp_params p;
	struct ocpp_key_override keys[GW_CONFIG_OCPP_KEYS_MAX + 2];
	char profile[4];
};

struct gw_tesla_core_params {
	struct tesla_params p;
	char base[GW_CONFIG_URL_MAX]; /* base_url without trailing slashes */
};

struct gw_meter_core_params {
	struct ems_meter_params p;
	char name[48];                /* "ems[0] fronius", for logs */
	char url[GW_CONFIG_URL_MAX];  /* without trailing slashes, except for a json URL */
};

/* The bus master. @ocpp: caps come from the OCPP layer, so a new slave starts at 0 A. */
void gw_core_params_twc(const struct gw_config *cfg, bool ocpp, struct twc_bus_config *out);
/* @tls: the central system's URL is wss://, so SecurityProfile 2 is possible. */
void gw_core_params_ocpp(const struct gw_config *cfg, bool tls, struct gw_ocpp_core_params *out);
void gw_core_params_tesla(const struct gw_config_tesla *c, struct gw_tesla_core_params *out);
void gw_core_params_policy(const struct gw_config_policy *c, const struct gw_config_twc *twc,
			   struct ems_policy_params *p);
/* Meter @index of the ems list. */
void gw_core_params_meter(const struct gw_config_meter *c, int index, struct gw_meter_core_params *out);

#endif
