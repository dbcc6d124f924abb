/*
 * tesla_queue: the one FIFO of requests and sending them. Requests go one at a time so the single-use
 * refresh token is never raced and each paid call is counted before the next goes out; the token
 * refresh goes first, and one connector's requests keep their order. Also when the queue next has
 * something to send.
 */
#include "tesla_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const tesla_kind_names[K_COUNT] = {
	"token refresh", "vehicle list", "vehicle_data", "wake_up", "set_charging_amps", "charge_start",
	"charge_stop",
};

int tesla_queue_find(const struct tesla *t, int ci, enum kind k)
{
	for (int i = 0; i < t->nq; i++)
		if (t->q[i].conn == ci && t->q[i].kind == k)
			return i;
	return -1;
}

struct req *tesla_queue_add(struct tesla *t, int pos, enum kind k, int ci, const char *vin)
{
	char v[TESLA_VIN_LEN + 1] = "";
	struct req *r;

	if (vin) /* it may point into the queue, which is about to move */
		memcpy(v, vin, sizeof(v));
	if (t->nq == t->q_max) {
		if (tesla_log_first_time(t, 0xffff0000u))
			tesla_log(t, CORE_LOG_WARN, "request queue full; %s for %s dropped",
				  tesla_kind_names[k], tesla_conn_label(t, ci));
		return NULL;
	}
	if (pos < 0 || pos > t->nq)
		pos = t->nq;
	memmove(&t->q[pos + 1], &t->q[pos], (size_t)(t->nq - pos) * sizeof(t->q[0]));
	t->nq++;
	t->changes++;
	r = &t->q[pos];
	memset(r, 0, sizeof(*r));
	r->kind = k;
	r->conn = ci;
	r->plug = t->c[ci].plug;
	memcpy(r->vin, v, sizeof(v));
	return r;
}

void tesla_queue_remove(struct tesla *t, int i)
{
	memmove(&t->q[i], &t->q[i + 1], (size_t)(t->nq - i - 1) * sizeof(t->q[0]));
	t->nq--;
	t->changes++;
}

/* Remove what waits for connector @ci (all connectors when 0) and matches @pred; a request in flight
 * stays, its answer is handled (or ignored) when it comes. */
void tesla_queue_remove_if(struct tesla *t, int ci, bool (*pred)(const struct req *r))
{
	for (int i = 0; i < t->nq; i++)
		if (!t->q[i].in_flight && (!ci || t->q[i].conn == ci) && t->q[i].kind != K_TOKEN && pred(&t->q[i]))
			tesla_queue_remove(t, i--);
}

bool tesla_req_any(const struct req *r)
{
	(void)r;
	return true;
}

bool tesla_req_command_or_wake(const struct req *r)
{
	return tesla_kind_is_command(r->kind) || r->kind == K_WAKE;
}

bool tesla_req_locate(const struct req *r)
{
	return r->kind == K_LIST || r->kind == K_DATA;
}

bool tesla_queue_base_waiting(const struct tesla *t)
{
	for (int i = 0; i < t->nq; i++)
		if (t->q[i].kind != K_TOKEN)
			return true;
	return false;
}

/* ---------------------------------------------------------------- sending */

static void send_req(struct tesla *t, int qi)
{
	struct req *r = &t->q[qi];
	struct tesla_http_req h = { .method = "POST" };
	static const char *const cmd[K_COUNT] = {
		[K_AMPS] = "set_charging_amps", [K_START] = "charge_start", [K_STOP] = "charge_stop",
	};
	char url[URL_MAX], amps[48];
	char *form = NULL;
	uint32_t id;
	int rc;

	h.url = url;
	switch (r->kind) {
	case K_TOKEN:
		form = tesla_token_refresh_body(t);
		h.url = t->token_url;
		h.body = form;
		h.content_type = "application/x-www-form-urlencoded";
		h.token_endpoint = true;
		break;
	case K_LIST:
		h.method = "GET";
		snprintf(url, sizeof(url), "%s/api/1/vehicles", t->base_url);
		break;
	case K_DATA:
		h.method = "GET";
		snprintf(url, sizeof(url),
			 "%s/api/1/vehicles/%s/vehicle_data?endpoints=charge_state%%3Bdrive_state%%3Blocation_data",
			 t->base_url, r->vin);
		break;
	case K_WAKE:
		snprintf(url, sizeof(url), "%s/api/1/vehicles/%s/wake_up", t->base_url, r->vin);
		t->st.wakes++;
		break;
	default:
		snprintf(url, sizeof(url), "%s/api/1/vehicles/%s/command/%s", t->base_url, r->vin, cmd[r->kind]);
		snprintf(amps, sizeof(amps), "{\"charging_amps\":%d}", r->amps);
		h.body = r->kind == K_AMPS ? amps : "{}";
		h.content_type = "application/json";
		if (r->kind == K_START || r->kind == K_STOP) {
			tesla_dwell_mark(t, r->vin);
			if (r->kind == K_START)
				t->st.starts++;
			else
				t->st.stops++;
		}
		break;
	}
	if (!h.token_endpoint)
		h.bearer = t->access;
	if (++t->last_id == 0)
		t->last_id = 1;
	id = h.id = r->id = t->last_id;
	r->in_flight = true;
	t->in_flight = true;
	t->changes++;
	t->st.requests++;
	tesla_log(t, CORE_LOG_DEBUG, "%s %s", h.method, h.url);
	rc = r->kind == K_TOKEN && !form ? -ENOMEM : t->env.http(t->env.user, &h);
	free(form);
	/* A refused start is a transport failure; the answer may also have come back already */
	if (rc < 0)
		tesla_answer(t, id, rc < -4095 ? -EIO : rc, NULL, 0, -1);
}

/* Connectors met earlier in the queue, whose later requests wait their turn. */
struct conn_set {
	uint64_t w[(TESLA_MAX_CONNECTORS + 1 + 63) / 64];
};

static bool conn_set_has(const struct conn_set *set, int ci)
{
	return set->w[ci / 64] & 1ull << (ci % 64);
}

static void conn_set_add(struct conn_set *set, int ci)
{
	set->w[ci / 64] |= 1ull << (ci % 64);
}

/* The next request that may go now, or -1. FIFO, except that the token refresh goes first, and one
 * connector's requests keep their order (a wake_up before its command, the amps before the start). */
static int pick(struct tesla *t)
{
	struct conn_set busy = { { 0 } };
	int i;

	if (t->in_flight || t->st.needs_login || t->nq == 0)
		return -1;
	if (t->st.blocked_until_ms && t->wall < t->st.blocked_until_ms)
		return -1;
	i = tesla_queue_find(t, 0, K_TOKEN);
	if (i >= 0)
		return t->q[i].not_before <= t->mono ? i : -1;
	if (!tesla_token_usable(t)) {
		if (t->refresh[0])
			return -1; /* tesla_token_ensure_refresh() queues the refresh once any hold is over */
		if (!t->access[0]) {
			tesla_login_needed(t, "no Tesla tokens");
			return -1;
		}
		/* an expired access token and nothing to renew it with: let the server say so */
	}
	tesla_budget_roll_day(t);
	if (t->st.paid_today >= (uint32_t)t->budget) {
		t->st.budget_exhausted = true;
		return -1;
	}
	for (i = 0; i < t->nq; i++) {
		const struct req *r = &t->q[i];

		if (conn_set_has(&busy, r->conn))
			continue;
		if (!tesla_req_wanted(t, r)) {
			if (r->kind == K_AMPS)
				t->c[r->conn].amps_sent = false;
			tesla_queue_remove(t, i--);
			continue;
		}
		if (r->not_before > t->mono) {
			conn_set_add(&busy, r->conn);
			continue;
		}
		return i;
	}
	return -1;
}

void tesla_queue_pump(struct tesla *t)
{
	int i;

	if (t->pumping)
		return;
	t->pumping = true;
	while ((i = pick(t)) >= 0)
		send_req(t, i);
	t->pumping = false;
}

/* ---------------------------------------------------------------- the deadline */

uint64_t tesla_queue_deadline(const struct tesla *t)
{
	uint64_t lo = 0, d = UINT64_MAX;
	struct conn_set busy = { { 0 } };
	int i;

	if (t->in_flight || t->nq == 0)
		return UINT64_MAX;
	if (t->st.blocked_until_ms && t->wall < t->st.blocked_until_ms)
		lo = tesla_wall_to_mono(t, t->st.blocked_until_ms);
	i = tesla_queue_find(t, 0, K_TOKEN);
	if (i >= 0)
		return tesla_max_u64(lo, t->q[i].not_before);
	if (!tesla_token_usable(t) && t->refresh[0])
		return tesla_max_u64(lo, t->refresh_hold);
	if (t->st.paid_today >= (uint32_t)t->budget)
		lo = tesla_max_u64(lo, tesla_wall_to_mono(t, (t->day + 1) * DAY_MS));
	for (i = 0; i < t->nq; i++) {
		if (conn_set_has(&busy, t->q[i].conn))
			continue;
		conn_set_add(&busy, t->q[i].conn);
		if (t->q[i].not_before < d)
			d = t->q[i].not_before;
	}
	return d == UINT64_MAX ? d : tesla_max_u64(lo, d);
}
