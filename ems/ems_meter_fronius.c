/*
 * ems_meter_fronius: the Fronius Solar API's poll, one GET of the power flow document per cycle
 * (parsed by ems_fronius_parse()).
 */
#include "ems_meter_internal.h"

#include <stdio.h>

#include "ems_parse.h"

int ems_meter_fronius_send(struct ems_meter *m)
{
	snprintf(m->req_url, sizeof(m->req_url), "%s/solar_api/v1/GetPowerFlowRealtimeData.fcgi", m->url);
	return ems_meter_http_send(m, "GET", NULL, NULL, NULL);
}

void ems_meter_fronius_result(struct ems_meter *m, int status, const char *body, size_t len, uint64_t now)
{
	char err[ERR_MAX] = "";
	struct ems_reading r;

	ems_reading_clear(&r);
	if (!ems_meter_status_ok(status))
		ems_meter_http_fail(m, status, NULL);
	else
		ems_meter_take(m, ems_fronius_parse(body, len, &r, err, sizeof(err)), GIVES_FRONIUS, &r, err, now);
	ems_meter_cycle_end(m, now);
}
