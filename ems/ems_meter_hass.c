/*
 * ems_meter_hass: Home Assistant's steps, one GET /api/states/<entity> per configured value (parsed by
 * ems_hass_parse()). A 404 is that entity's problem and the others are still read; a server that is
 * down or refuses the token ends the cycle.
 */
#include "ems_meter_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ems_parse.h"

bool ems_meter_hass_entity_ok(const char *s)
{
	size_t n = strnlen(s, EMS_METER_KEY_MAX);

	if (n == 0 || n == EMS_METER_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

static int hass_next(const struct ems_meter *m, int from)
{
	for (int v = from; v < EMS_NVALUES; v++)
		if (m->src[v].set)
			return v;
	return -1;
}

void ems_meter_hass_start(struct ems_meter *m)
{
	m->hass_v = hass_next(m, 0);
	m->step = ST_HASS;
}

int ems_meter_hass_send(struct ems_meter *m)
{
	snprintf(m->req_url, sizeof(m->req_url), "%s/api/states/%s", m->url, m->src[m->hass_v].key);
	return ems_meter_http_send(m, "GET", NULL, NULL, ems_meter_bearer(m));
}

void ems_meter_hass_result(struct ems_meter *m, int status, const char *body, size_t len, uint64_t now)
{
	char err[ERR_MAX] = "";
	int v = m->hass_v, rc;
	double x = NAN;

	if (!ems_meter_status_ok(status)) {
		ems_meter_http_fail(m, status, status == 401 ? "token refused" : NULL);
		/* The server is down or refuses us: the other entities would fare no better. A 404 is one
		 * entity's problem; the others are still read. */
		if (status < 0 || status == 401 || status == 403 || status == 429 || status >= 500) {
			ems_meter_cycle_end(m, now);
			return;
		}
	} else {
		rc = ems_hass_parse(body, len, &x, err, sizeof(err));
		if (rc == 0) {
			if (ems_meter_val_set(m, v, ems_meter_scaled(m, v, x), now))
				m->st.ok++;
		} else if (rc == -ENODATA) {
			ems_meter_vals_clear(m, BIT(v));
			ems_meter_log(m, CORE_LOG_DEBUG, "%s: unavailable", m->what);
		} else {
			ems_meter_malformed(m, BIT(v), err);
		}
	}
	m->hass_v = hass_next(m, v + 1);
	if (m->hass_v < 0)
		ems_meter_cycle_end(m, now);
}
