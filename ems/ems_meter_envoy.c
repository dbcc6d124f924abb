/*
 * ems_meter_envoy: the Enphase Envoy's poll, one GET of production.json per cycle with the owner token
 * as bearer (parsed by ems_envoy_parse()). A refused token gets a hint of its own: owner tokens expire
 * after a year.
 */
#include "ems_meter_internal.h"

#include <stdio.h>

#include "ems_parse.h"

int ems_meter_envoy_send(struct ems_meter *m)
{
	snprintf(m->req_url, sizeof(m->req_url), "%s/production.json?details=1", m->url);
	return ems_meter_http_send(m, "GET", NULL, NULL, ems_meter_bearer(m));
}

void ems_meter_envoy_result(struct ems_meter *m, int status, const char *body, size_t len, uint64_t now)
{
	char err[ERR_MAX] = "";
	struct ems_reading r;

	ems_reading_clear(&r);
	if (!ems_meter_status_ok(status))
		ems_meter_http_fail(m, status,
				    status == 401 ? "token refused (expired? owner tokens last a year)" : NULL);
	else
		ems_meter_take(m, ems_envoy_parse(body, len, &r, err, sizeof(err)), GIVES_ENVOY, &r, err, now);
	ems_meter_cycle_end(m, now);
}
