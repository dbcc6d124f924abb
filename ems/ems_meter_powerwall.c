/*
 * ems_meter_powerwall: the Tesla Powerwall's steps: log in when there is no session token (and once
 * more in a cycle after a 401 or 403), read the aggregates, then the state of charge. The login body
 * and the session token are secrets: built for one call and wiped, never quoted in a log line.
 */
#include "ems_meter_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ems_parse.h"

/* The login body holds the password: built for the one call, wiped after it. */
static int send_login(struct ems_meter *m)
{
	size_t n = 6 * (strlen(m->email) + strlen(m->password)) + 160;
	char *body = malloc(n);
	int rc;

	ems_meter_what_set(m, "POST");
	if (!body)
		return -ENOMEM;
	rc = ems_powerwall_login_body(m->email, m->password, body, n);
	if (rc >= 0) {
		m->st.logins++;
		rc = ems_meter_http_send(m, "POST", body, "application/json", NULL);
	}
	explicit_bzero(body, n);
	free(body);
	return rc;
}

void ems_meter_powerwall_start(struct ems_meter *m)
{
	m->step = m->session[0] ? ST_PW_AGG : ST_PW_LOGIN;
}

int ems_meter_powerwall_send(struct ems_meter *m)
{
	if (m->step == ST_PW_LOGIN) {
		snprintf(m->req_url, sizeof(m->req_url), "%s/api/login/Basic", m->url);
		return send_login(m);
	}
	if (m->step == ST_PW_AGG)
		snprintf(m->req_url, sizeof(m->req_url), "%s/api/meters/aggregates", m->url);
	else
		snprintf(m->req_url, sizeof(m->req_url), "%s/api/system_status/soe", m->url);
	return ems_meter_http_send(m, "GET", NULL, NULL, m->session);
}

static void pw_login_result(struct ems_meter *m, int status, const char *body, size_t len, uint64_t now)
{
	char err[ERR_MAX] = "";

	if (status == 401) {
		ems_meter_http_fail(m, status, "login refused (bad credentials?)");
		ems_meter_cycle_end(m, now);
		return;
	}
	if (!ems_meter_status_ok(status)) {
		ems_meter_http_fail(m, status, NULL);
		ems_meter_cycle_end(m, now);
		return;
	}
	/* the answer holds the token: its parse error is not quoted */
	if (ems_powerwall_login_parse(body, len, m->session, sizeof(m->session), err, sizeof(err)) < 0 ||
	    strnlen(m->session, sizeof(m->session)) == sizeof(m->session) || !ems_meter_token_ok(m->session)) {
		explicit_bzero(m->session, sizeof(m->session));
		m->st.malformed++;
		ems_meter_fail(m, "malformed answer: no usable token in it", NULL);
		ems_meter_cycle_end(m, now);
		explicit_bzero(err, sizeof(err));
		return;
	}
	explicit_bzero(err, sizeof(err));
	m->step = ST_PW_AGG;
}

static void pw_agg_result(struct ems_meter *m, int status, const char *body, size_t len, uint64_t now)
{
	char err[ERR_MAX] = "";
	struct ems_reading r;

	if ((status == 401 || status == 403) && !m->relogged) {
		/* the session expired or the gateway restarted: log in once more, in this cycle */
		explicit_bzero(m->session, sizeof(m->session));
		m->relogged = true;
		ems_meter_log(m, CORE_LOG_DEBUG, "%s: HTTP %d, logging in again", m->what, status);
		m->step = ST_PW_LOGIN;
		return;
	}
	if (!ems_meter_status_ok(status)) {
		if (status == 401 || status == 403)
			explicit_bzero(m->session, sizeof(m->session));
		ems_meter_http_fail(m, status, NULL);
		ems_meter_cycle_end(m, now);
		return;
	}
	ems_reading_clear(&r);
	if (!ems_meter_take(m, ems_powerwall_aggregates_parse(body, len, &r, err, sizeof(err)), GIVES_PW_AGG, &r, err,
			    now)) {
		ems_meter_cycle_end(m, now);
		return;
	}
	m->step = ST_PW_SOE;
}

/* The state of charge is extra: its failure leaves soc to age, the cycle still counts as good. */
static void pw_soe_result(struct ems_meter *m, int status, const char *body, size_t len, uint64_t now)
{
	char err[ERR_MAX] = "", reason[ERR_MAX + 32];
	struct ems_reading r;
	int rc;

	if (ems_meter_status_ok(status)) {
		ems_reading_clear(&r);
		rc = ems_powerwall_soe_parse(body, len, &r, err, sizeof(err));
		if (rc == 0 || rc == -ENODATA) {
			ems_meter_take(m, rc, BIT(EMS_SOC), &r, err, now);
			m->soe_warned = false;
			ems_meter_cycle_end(m, now);
			return;
		}
		ems_meter_vals_clear(m, BIT(EMS_SOC));
		m->st.malformed++;
		snprintf(reason, sizeof(reason), "malformed answer: %s", *err ? err : "?");
	} else {
		m->st.failed++;
		if (status == 401 || status == 403)
			explicit_bzero(m->session, sizeof(m->session)); /* the next cycle logs in */
		if (status < 0)
			snprintf(reason, sizeof(reason), "%s", strerror(-status));
		else
			snprintf(reason, sizeof(reason), "HTTP %d", status);
	}
	ems_meter_log(m, m->soe_warned ? CORE_LOG_DEBUG : CORE_LOG_WARN, "%s: %s; the state of charge stays unknown",
		      m->what, reason);
	m->soe_warned = true;
	ems_meter_cycle_end(m, now);
}

void ems_meter_powerwall_result(struct ems_meter *m, int status, const char *body, size_t len, uint64_t now)
{
	if (m->step == ST_PW_LOGIN)
		pw_login_result(m, status, body, len, now);
	else if (m->step == ST_PW_AGG)
		pw_agg_result(m, status, body, len, now);
	else
		pw_soe_result(m, status, body, len, now);
}
