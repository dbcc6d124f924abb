/*
 * tesla_answer: what an HTTP answer means for its request and its connector. 2xx goes on (a command's
 * result, a locate answer); 401 refreshes the token once; 408 wakes the car and tries again; 429
 * blocks everything; 5xx and transport failures retry with backoff; other 4xx are dropped (403 to a
 * command stops all commands). A request dropped for good rests its connector.
 */
#include "tesla_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The request is dropped for good; what that means for its connector. */
static void dropped(struct tesla *t, const struct req *r)
{
	struct conn *c = &t->c[r->conn];

	t->st.failures++;
	switch (r->kind) {
	case K_TOKEN:
		t->refresh_hold = t->mono + HOLD_MS;
		break;
	case K_LIST:
		if (c->loc == LOC_LIST)
			tesla_locate_failed(t, r->conn);
		break;
	case K_DATA:
		tesla_locate_data_done(t, r->conn, r->vin, NULL, true);
		break;
	case K_START:
	case K_STOP:
		c->hold_until = t->mono + HOLD_MS;
		break;
	default:
		break;
	}
}

void tesla_answer_give_up(struct tesla *t, int qi, const char *why)
{
	struct req r = t->q[qi];

	tesla_queue_remove(t, qi);
	tesla_log(t, CORE_LOG_WARN, "%s%s%s given up: %s", tesla_kind_names[r.kind], r.vin[0] ? " for " : "", r.vin,
		  why);
	dropped(t, &r);
}

static void transient(struct tesla *t, int qi, int status)
{
	struct req *r = &t->q[qi];
	char why[64];
	uint32_t delay;

	if (status < 0)
		snprintf(why, sizeof(why), "no answer (%s)", strerror(-status));
	else
		snprintf(why, sizeof(why), "HTTP %d", status);
	if (++r->attempts >= RETRY_ATTEMPTS) {
		tesla_answer_give_up(t, qi, why);
		return;
	}
	delay = RETRY_FIRST_MS << (r->attempts - 1);
	if (delay > RETRY_MAX_MS)
		delay = RETRY_MAX_MS;
	r->not_before = t->mono + delay;
	tesla_log(t, CORE_LOG_INFO, "%s%s%s: %s; again in %" PRIu32 " s", tesla_kind_names[r->kind],
		  r->vin[0] ? " for " : "", r->vin, why, delay / 1000);
}

void tesla_answer_error_text(char *dst, size_t n, const char *body, size_t len)
{
	json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
	const json_t *e = json_object_get(j, "error");

	if (json_is_string(e))
		tesla_text_quote(dst, n, json_string_value(e), json_string_length(e));
	else
		tesla_text_quote(dst, n, body, len < 60 ? len : 60);
	json_decref(j);
}

void tesla_answer_client_error(struct tesla *t, int qi, int status, const char *body, size_t len)
{
	struct req r = t->q[qi];
	char why[TEXT_MAX + 1];

	tesla_answer_error_text(why, sizeof(why), body, len);
	tesla_queue_remove(t, qi);
	if (status == 403 && tesla_kind_is_command(r.kind)) {
		if (!t->commands_off)
			tesla_log(t, CORE_LOG_ERROR, "%s refused (HTTP 403: %s): a virtual key or scope problem; no "
						     "more charge commands until restart", tesla_kind_names[r.kind], why);
		t->commands_off = true;
		tesla_queue_remove_if(t, 0, tesla_req_command_or_wake);
	} else if (tesla_log_first_time(t, (uint32_t)r.kind << 16 | (uint32_t)(status & 0xffff))) {
		tesla_log(t, CORE_LOG_WARN, "%s%s%s: HTTP %d (%s); dropped", tesla_kind_names[r.kind],
			  r.vin[0] ? " for " : "", r.vin, status, why);
	}
	dropped(t, &r);
}

static void asleep(struct tesla *t, int qi)
{
	struct req *r = &t->q[qi];
	struct req *w;
	uint32_t delay;

	if (r->kind == K_DATA) { /* an asleep car is not the one just plugged in; never woken for this */
		struct req copy = *r;

		tesla_queue_remove(t, qi);
		tesla_locate_data_done(t, copy.conn, copy.vin, NULL, false);
		return;
	}
	if (r->kind == K_WAKE) {
		tesla_queue_remove(t, qi);
		return;
	}
	if (r->wakes >= WAKES_MAX) {
		tesla_answer_give_up(t, qi, "the car stays asleep after three wake_ups");
		return;
	}
	delay = WAKE_FIRST_MS << r->wakes;
	r->wakes++;
	r->not_before = t->mono + delay;
	tesla_log(t, CORE_LOG_INFO, "%s for %s: the car is asleep (HTTP 408); wake_up, then again in %" PRIu32 " s",
		  tesla_kind_names[r->kind], r->vin, delay / 1000);
	w = tesla_queue_add(t, qi, K_WAKE, r->conn, r->vin); /* before it: the connector's order holds */
	if (w) {
		w->for_kind = t->q[qi + 1].kind;
		w->plug = t->q[qi + 1].plug;
	}
}

static void command_answer(struct tesla *t, int qi, const json_t *j)
{
	struct req r = t->q[qi];
	struct conn *c = &t->c[r.conn];
	const json_t *resp = json_object_get(j, "response"), *res = json_object_get(resp, "result");
	const json_t *rs = json_object_get(resp, "reason");
	char reason[TEXT_MAX + 1] = "";
	bool ok = json_is_true(res);

	if (!json_is_boolean(res)) {
		tesla_answer_give_up(t, qi, "the answer has no response.result");
		return;
	}
	if (json_is_string(rs))
		tesla_text_quote(reason, sizeof(reason), json_string_value(rs), json_string_length(rs));
	if (!ok && !strcmp(reason, "could_not_wake_buses")) {
		if (t->q[qi].buses < BUSES_RETRIES) {
			t->q[qi].buses++;
			t->q[qi].not_before = t->mono + BUSES_RETRY_MS;
			tesla_log(t, CORE_LOG_INFO, "%s for %s: could_not_wake_buses; again in %u s",
				  tesla_kind_names[r.kind], r.vin, BUSES_RETRY_MS / 1000);
			return;
		}
		tesla_answer_give_up(t, qi, "could_not_wake_buses, four times");
		return;
	}
	tesla_queue_remove(t, qi);
	switch (r.kind) {
	case K_AMPS:
		if (ok)
			tesla_log(t, CORE_LOG_INFO, "%s: %s limited to %d A", tesla_conn_label(t, r.conn), r.vin, r.amps);
		else
			tesla_log(t, CORE_LOG_WARN, "%s: %s refused set_charging_amps %d (%s)",
				  tesla_conn_label(t, r.conn), r.vin,
				  r.amps, reason);
		break;
	case K_START:
		if (ok) {
			c->start_ok = true;
			tesla_log(t, CORE_LOG_INFO, "%s: charge_start to %s done", tesla_conn_label(t, r.conn), r.vin);
		} else {
			c->start_latched = true;
			tesla_log(t, CORE_LOG_INFO, "%s: %s refused charge_start (%s); not asked again until it "
						    "draws or is unplugged", tesla_conn_label(t, r.conn), r.vin, reason);
		}
		break;
	default:
		/* A car that is not charging has stopped, which is all that was asked. */
		if (ok || !strcmp(reason, "not_charging") || !strcmp(reason, "disconnected") ||
		    !strcmp(reason, "complete")) {
			c->stop_ok = true;
			c->stop_ok_at = t->mono;
			c->we_stopped = true;
			tesla_log(t, CORE_LOG_INFO, "%s: charge_stop to %s done%s%s", tesla_conn_label(t, r.conn), r.vin,
				  ok ? "" : ": ", ok ? "" : reason);
		} else {
			t->st.failures++;
			tesla_log(t, CORE_LOG_WARN, "%s: %s refused charge_stop (%s)", tesla_conn_label(t, r.conn), r.vin, reason);
		}
		break;
	}
}

static void success(struct tesla *t, int qi, const char *body, size_t len)
{
	json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
	struct req r = t->q[qi];

	switch (r.kind) {
	case K_WAKE:
		tesla_queue_remove(t, qi);
		break;
	case K_LIST:
		tesla_queue_remove(t, qi);
		tesla_locate_list_answer(t, r.conn, j);
		break;
	case K_DATA:
		if (!json_is_object(json_object_get(j, "response"))) {
			tesla_answer_give_up(t, qi, "the answer has no response object");
		} else {
			tesla_queue_remove(t, qi);
			tesla_locate_data_done(t, r.conn, r.vin, json_object_get(j, "response"), false);
		}
		break;
	default:
		command_answer(t, qi, j);
		break;
	}
	json_decref(j);
}

void tesla_answer(struct tesla *t, uint32_t id, int status, const char *body, size_t len, long retry_after_s)
{
	struct req *r = NULL;
	int qi;

	for (qi = 0; qi < t->nq; qi++)
		if (t->q[qi].in_flight && t->q[qi].id == id) {
			r = &t->q[qi];
			break;
		}
	if (!r) {
		tesla_log(t, CORE_LOG_DEBUG, "answer to request %" PRIu32 ", which is not in flight; ignored", id);
		return;
	}
	r->in_flight = false;
	t->in_flight = false;
	t->changes++;
	if (r->kind != K_TOKEN && status >= 0 && status < 500)
		tesla_budget_count_paid(t);
	if (r->kind != K_TOKEN && r->plug != t->c[r->conn].plug) {
		tesla_queue_remove(t, qi); /* for a car unplugged since */
		return;
	}
	if (status < 0 || status >= 500)
		transient(t, qi, status);
	else if (status == 429)
		tesla_block_set(t, retry_after_s); /* the request stays and goes again when the block ends */
	else if (r->kind == K_TOKEN)
		tesla_token_answer(t, qi, status, body, len);
	else if (status == 401)
		tesla_token_unauthorized(t, qi);
	else if (status == 408 && r->kind != K_LIST)
		asleep(t, qi);
	else if (status >= 200 && status < 300)
		success(t, qi, body, len);
	else
		tesla_answer_client_error(t, qi, status, body, len);
}
