/*
 * metrics_sample: prints what GET /metrics would serve for a representative depot (two connectors,
 * one charging, OCPP with latencies, a solar policy, two meters, the HTTP server's counters), so the
 * promtool_metrics test can run `promtool check metrics` (format and lint) over real gw_metrics output.
 * With the argument "standalone": no charge point, OCPP off, unknown values, no HTTP counters. With
 * "several": three charge points of one process (chargePoints), the third without OCPP.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_metrics.h"

static void fill_depot(struct gw_status *st)
{
	const uint64_t buckets[GW_STATUS_LATENCY_BUCKETS] = { 12, 40, 75, 88, 95, 97, 98, 98 };
	struct gw_status_connector *c = &st->c[0];

	st->wall_ms = 1765117800000;
	st->sim_ms = 3600000;
	st->uptime_s = 3600;
	snprintf(st->charge_point, sizeof(st->charge_point), "DEPOT-\"7\"\\bay");
	snprintf(st->bus.port, sizeof(st->bus.port), "/dev/ttyUSB0");
	st->bus.wiring_max_all = 40;
	st->bus.wiring_max_per_twc = 32;
	st->bus.held_amps = 22;
	st->bus.offered_amps = 16;
	st->bus.reserved_amps = 6;
	st->bus.measured_amps = 15.9;
	st->bus.slaves = 2;
	st->bus.link_up = true;
	st->bus.frames_rx = 7200;
	st->bus.frames_tx = 7300;
	st->bus.frame_errors = 2;
	st->bus.heartbeat_gap_ms = 950;

	st->n_connectors = 2;
	c->connector = 1;
	snprintf(c->twc, sizeof(c->twc), "ABCD");
	c->state = GW_STATE_CHARGING;
	c->offered_amps = 16;
	c->held_amps = 16;
	c->cap_amps = 32;
	c->max_amps = 24;
	c->measured_amps = 15.9;
	c->power_w = 3657.4;
	c->energy_wh = 1234567;
	c->in_session = true;
	c->session_wh = 1200;
	c->session_s = 1800;
	c->transaction_id = 5;
	c->sessions = 2;
	c = &st->c[1];
	c->connector = 2;
	snprintf(c->twc, sizeof(c->twc), "0F12");
	c->state = GW_STATE_PAUSED;
	c->held_amps = 6;
	c->cap_amps = 0;
	c->max_amps = -1;
	c->energy_wh = NAN;

	st->ocpp.enabled = true;
	st->ocpp.connected = true;
	snprintf(st->ocpp.registration, sizeof(st->ocpp.registration), "Accepted");
	st->ocpp.security_profile = 2;
	st->ocpp.queued_tx = 3;
	st->ocpp.queued_other = 1;
	st->ocpp.latency_count = 100;
	st->ocpp.latency_sum_s = 31.25;
	memcpy(st->ocpp.latency_buckets, buckets, sizeof(buckets));

	snprintf(st->policy.mode, sizeof(st->policy.mode), "track-green");
	st->policy.amps = 12;
	st->policy.surplus_w = 2800;
	st->policy.house_w = 600;
	st->policy.pv_w = 3400;
	st->policy.grid_w = -2800;

	st->n_meters = 2;
	snprintf(st->meters[0].name, sizeof(st->meters[0].name), "solaredge@10.0.0.5");
	st->meters[0].age_s = 2.1;
	st->meters[0].ok = true;
	st->meters[0].value_w = 3400;
	snprintf(st->meters[1].name, sizeof(st->meters[1].name), "grid \"main\"");
	st->meters[1].age_s = 120;
	st->meters[1].ok = false;
	st->meters[1].value_w = -2800;

	st->process.rss_bytes = 5242880;
	st->process.cpu_s = 12.34;
}

static void fill_standalone(struct gw_status *st)
{
	fill_depot(st);
	st->charge_point[0] = '\0';
	st->ocpp.enabled = false;
	st->c[0].energy_wh = NAN;
	st->c[0].max_amps = -1;
	st->policy.surplus_w = st->policy.house_w = st->policy.pv_w = st->policy.grid_w = NAN;
	st->meters[1].age_s = NAN;
	st->meters[1].value_w = NAN;
}

/* Two more charge points behind @st (owned by the caller's @more). */
static void fill_several(struct gw_status *st, struct gw_status more[2])
{
	fill_depot(st);
	snprintf(st->charge_point, sizeof(st->charge_point), "DEPOT-1");
	for (int i = 0; i < 2; i++) {
		fill_depot(&more[i]);
		snprintf(more[i].charge_point, sizeof(more[i].charge_point), "DEPOT-%d", i + 2);
		more[i].n_meters = 0;
		more[i].bus.held_amps = 10 + i;
		more[i].c[0].sessions = 7 + (uint64_t)i;
	}
	more[1].ocpp.enabled = false;
	more[1].n_connectors = 1;
	st->more = more;
	st->n_more = 2;
}

int main(int argc, char **argv)
{
	const struct gw_httpd_stats http = { .requests = 1234, .too_large = 2, .rate_limited = 17, .bytes_out = 9876543,
					     .streams = 3 };
	bool standalone = argc > 1 && strcmp(argv[1], "standalone") == 0;
	bool several = argc > 1 && strcmp(argv[1], "several") == 0;
	struct gw_status st, more[2];
	char *text;
	size_t len;

	memset(&st, 0, sizeof(st));
	memset(more, 0, sizeof(more));
	if (standalone)
		fill_standalone(&st);
	else if (several)
		fill_several(&st, more);
	else
		fill_depot(&st);
	if (gw_metrics_render(&st, standalone ? NULL : &http, &text, &len) < 0) {
		fputs("metrics_sample: out of memory\n", stderr);
		return 1;
	}
	if (fwrite(text, 1, len, stdout) != len) {
		free(text);
		return 1;
	}
	free(text);
	return 0;
}
