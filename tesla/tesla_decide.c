/*
 * tesla_decide: per connector, what to ask of its car now, or when to look again: charge_stop for a car
 * drawing while paused, charge_start (after the grace, with set_charging_amps once per plug-in) for one
 * granted current that does not draw, never two commands to one car within the dwell. Also whether a
 * queued request is still wanted when its turn comes, and forgetting a plug-in when the car leaves.
 */
#include "tesla_internal.h"

#include <string.h>

/* ---------------------------------------------------------------- dwell */

static uint64_t dwell_until(const struct tesla *t, const char *vin)
{
	for (int i = 0; i < t->n_dw; i++)
		if (!strcmp(t->dw[i].vin, vin))
			return t->dw[i].at + t->dwell_ms;
	return 0;
}

void tesla_dwell_mark(struct tesla *t, const char *vin)
{
	int oldest = 0;

	for (int i = 0; i < t->n_dw; i++) {
		if (!strcmp(t->dw[i].vin, vin)) {
			oldest = i;
			break;
		}
		if (t->dw[i].at < t->dw[oldest].at || !t->dw[i].vin[0])
			oldest = i;
	}
	memcpy(t->dw[oldest].vin, vin, TESLA_VIN_LEN + 1);
	t->dw[oldest].at = t->mono;
}

/* ---------------------------------------------------------------- decisions */

static bool command_wanted(const struct tesla *t, const struct conn *c, enum kind k)
{
	if (t->commands_off || !c->present || !c->plugged)
		return false;
	if (k == K_STOP)
		return c->drawing && tesla_conn_paused(c);
	/* set_charging_amps only ever precedes a charge_start */
	return !c->drawing && !tesla_conn_paused(c) && !c->start_latched && !c->start_ok;
}

bool tesla_req_wanted(const struct tesla *t, const struct req *r)
{
	const struct conn *c = &t->c[r->conn];

	if (r->kind == K_TOKEN)
		return true;
	if (r->plug != c->plug || !c->plugged)
		return false;
	if (r->kind == K_LIST || r->kind == K_DATA)
		return true;
	if (strcmp(r->vin, c->vin))
		return false;
	return command_wanted(t, c, r->kind == K_WAKE ? r->for_kind : r->kind);
}

/* The connector's rules: what to ask of its car now, or when to look again. */
void tesla_decide(struct tesla *t, int ci)
{
	struct conn *c = &t->c[ci];
	uint64_t at = 0, d;
	bool stop;

	c->next_at = UINT64_MAX;
	if (!c->seen || !c->present || !c->plugged || t->st.needs_login || t->commands_off || c->loc == LOC_AMBIGUOUS)
		return;
	if (c->drawing && tesla_conn_paused(c)) {
		stop = true;
		if (c->stop_ok) /* once per pause, unless it still draws a minute later */
			at = c->stop_ok_at + STOP_REPEAT_MS;
	} else if (command_wanted(t, c, K_START)) {
		stop = false;
		if (!c->we_stopped) /* a car granted current gets the grace to start by itself */
			at = c->grant_since + t->grace_ms;
	} else {
		return;
	}
	at = tesla_max_u64(at, c->hold_until);
	if (tesla_queue_find(t, ci, stop ? K_STOP : K_START) >= 0)
		return;
	if (at > t->mono) {
		c->next_at = at;
		return;
	}
	if (!c->vin[0]) {
		if (c->loc == LOC_NONE)
			tesla_locate_start(t, ci);
		return;
	}
	d = dwell_until(t, c->vin);
	if (d > t->mono) {
		c->next_at = d;
		return;
	}
	if (stop) {
		tesla_queue_add(t, -1, K_STOP, ci, c->vin);
		return;
	}
	if (t->car_amps > 0 && !c->amps_sent) {
		struct req *r = tesla_queue_add(t, -1, K_AMPS, ci, c->vin);

		if (r) {
			r->amps = t->car_amps;
			c->amps_sent = true;
		}
	}
	tesla_queue_add(t, -1, K_START, ci, c->vin);
}

void tesla_conn_unplugged(struct tesla *t, int ci)
{
	struct conn *c = &t->c[ci];
	uint32_t plug = c->plug + 1;

	tesla_queue_remove_if(t, ci, tesla_req_any);
	if (c->vin[0] || c->loc != LOC_NONE)
		tesla_log(t, CORE_LOG_INFO, "%s: unplugged%s%s", tesla_conn_label(t, ci), c->vin[0] ? ", was " : "", c->vin);
	memset(c, 0, sizeof(*c));
	c->seen = true;
	c->plug = plug;
	t->changes++;
}
