/*
 * ems_parse: the meters' answers turned into the normalised reading (ems.h), one function per
 * vendor document, no I/O. Every parser fills only the values its document gives (the others are
 * left as they were: call ems_reading_clear() first) and fixes the vendor's signs and units here.
 * Return convention for every function:
 *   0        at least one value was read;
 *  -ENODATA  well-formed, but the device says it has no data now (HA "unavailable", Fronius
 *            status code != 0, a JSON null where the value should be);
 *  -EINVAL   malformed (not JSON, wrong shape or type): @err says what, in one line.
 * @err may be NULL; it is always NUL-terminated when given. Bodies need not be NUL-terminated.
 */
#ifndef EMS_PARSE_H
#define EMS_PARSE_H

#include <stddef.h>

#include "ems.h"

/*
 * Fronius Solar API v1, GET /solar_api/v1/GetPowerFlowRealtimeData.fcgi.
 * grid = Body.Data.Site.P_Grid (+ import); pv = P_PV (null at night = 0 W, the inverter sleeps);
 * load = -P_Load (Fronius counts consumption negative; null = unknown); battery = P_Akku
 * (+ discharge; null = no battery, left unknown); soc = the first Inverters.*.SOC given.
 * Head.Status.Code other than 0 is -ENODATA.
 */
int ems_fronius_parse(const char *body, size_t len, struct ems_reading *out, char *err, size_t errlen);

/*
 * Tesla Powerwall 2 local API. Login: POST /api/login/Basic with the body from
 * ems_powerwall_login_body() (username "customer"); the answer's "token" is used as
 * "Authorization: Bearer" on later calls.
 * Return of the body builder: its length, -ENOSPC if @outlen is too small, -EINVAL for a NULL
 * password or text that is not UTF-8, -ENOMEM (the body holds the password: a secret, never log it).
 */
int ems_powerwall_login_body(const char *email, const char *password, char *out, size_t outlen);
/* The token from a 200 answer to the login. -EINVAL if it has none or it does not fit. */
int ems_powerwall_login_parse(const char *body, size_t len, char *token, size_t tokenlen, char *err, size_t errlen);
/*
 * GET /api/meters/aggregates: grid = site.instant_power (+ import), battery = battery.instant_power
 * (+ discharge), load = load.instant_power, pv = solar.instant_power (a small negative night value
 * is clamped to 0), voltage = site.instant_average_voltage (0 or absent = unknown).
 */
int ems_powerwall_aggregates_parse(const char *body, size_t len, struct ems_reading *out, char *err,
				   size_t errlen);
/* GET /api/system_status/soe: soc = (percentage - 5) / 0.95, clamped to 0..100 (the app's figure). */
int ems_powerwall_soe_parse(const char *body, size_t len, struct ems_reading *out, char *err, size_t errlen);

/*
 * Enphase Envoy / IQ Gateway, GET /production.json?details=1 (firmware 7+: bearer JWT).
 * Entries are matched by measurementType, never by position: pv = the production entry of type
 * "eim" with measurementType "production" when its activeCount > 0, else the "inverters" entry;
 * load = consumption "total-consumption"; grid = consumption "net-consumption" (+ import);
 * voltage = rmsVoltage of the production eim entry when given. pv below 0 (meter noise at night)
 * is 0.
 */
int ems_envoy_parse(const char *body, size_t len, struct ems_reading *out, char *err, size_t errlen);

/*
 * Home Assistant, GET /api/states/<entity_id>. "state" is a string; "unknown", "unavailable",
 * "none" and "" are -ENODATA. attributes.unit_of_measurement scales it: "W" x1, "kW" x1000,
 * "MW" x1e6, "%" and "V" x1, absent x1; any other unit is -EINVAL (an energy sensor in kWh is a
 * configuration mistake, not a power).
 */
int ems_hass_parse(const char *body, size_t len, double *value, char *err, size_t errlen);

/*
 * A number at a JSON Pointer (RFC 6901: "/a/b/0/c", "~1" is '/', "~0" is '~'; "" is the whole
 * document) in a JSON body. The value may be a JSON number or a string holding one (optionally
 * followed by a unit: "1234.5 W", "1.2 kW" scaled to W). null is -ENODATA; a missing member or
 * anything else is -EINVAL.
 */
int ems_json_pointer_number(const char *body, size_t len, const char *pointer, double *value, char *err,
			    size_t errlen);

/*
 * An MQTT payload (or any plain-text body): with an empty @pointer, a bare number optionally
 * followed by whitespace and a unit ("W", "kW", "MW", "%", "V"), scaled to W like the JSON form;
 * "unknown", "unavailable", "null", "nan" and "" (any case, so openHAB's NULL too) are -ENODATA. With a pointer, the payload is JSON
 * and ems_json_pointer_number() applies.
 */
int ems_payload_number(const char *payload, size_t len, const char *pointer, double *value, char *err,
		       size_t errlen);

#endif
