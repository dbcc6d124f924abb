/*
 * ems_meter_json: the generic JSON meter's poll, one GET of the configured URL per cycle, each value
 * read at its JSON pointer (ems_json_pointer_number()) with the user's scale and sign. One value that
 * does not parse makes the answer malformed; the others are still taken.
 */
#include "ems_meter_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ems_parse.h"

bool ems_meter_json_pointer_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	return n < max && (n == 0 || s[0] == '/');
}

int ems_meter_json_send(struct ems_meter *m)
{
	snprintf(m->req_url, sizeof(m->req_url), "%s", m->url);
	return ems_meter_http_send(m, "GET", NULL, NULL, ems_meter_bearer(m));
}

void ems_meter_json_result(struct ems_meter *m, int status, const char *body, size_t len, uint64_t now)
{
	char err[ERR_MAX] = "", first[ERR_MAX + EMS_METER_KEY_MAX + 8] = "";
	unsigned bad = 0;
	int n = 0;

	if (!ems_meter_status_ok(status)) {
		ems_meter_http_fail(m, status, status == 401 ? "token refused" : NULL);
		ems_meter_cycle_end(m, now);
		return;
	}
	for (int v = 0; v < EMS_NVALUES; v++) {
		double x = NAN;
		int rc;

		if (!m->src[v].set)
			continue;
		err[0] = 0;
		rc = ems_json_pointer_number(body, len, m->src[v].key, &x, err, sizeof(err));
		if (rc == 0 && ems_meter_val_set(m, v, ems_meter_scaled(m, v, x), now)) {
			n++;
		} else if (rc == -ENODATA) {
			ems_meter_vals_clear(m, BIT(v));
		} else {
			ems_meter_vals_clear(m, BIT(v));
			if (!bad)
				/* the parser's message names the pointer */
				snprintf(first, sizeof(first), "%s%s", *err ? err : m->src[v].key,
					 *err ? "" : ": not a number");
			bad |= BIT(v);
		}
	}
	if (n)
		m->st.ok++;
	if (bad)
		ems_meter_malformed(m, bad, first);
	ems_meter_cycle_end(m, now);
}
