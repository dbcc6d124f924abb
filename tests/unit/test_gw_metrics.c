/*
 * Tests of GET /metrics (gw_metrics): a full status rendered with every family's name, type, labels
 * and value (base units: joules from Wh, seconds from ms), a structural check of the whole text (each
 * family's HELP and TYPE once, before its samples, counters ending in _total), label escaping,
 * unknown values and an unset maximum left out, the OCPP latency histogram, what standalone mode
 * and a missing HTTP server leave out, and a depot's charge points each family holds together.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gw_metrics.h"

static void fill(struct gw_status *st)
{
	struct gw_status_connector *c;

	memset(st, 0, sizeof(*st));
	st->wall_ms = 1765100000500;
	st->sim_ms = 12000;
	st->uptime_s = 12;
	snprintf(st->charge_point, sizeof(st->charge_point), "CP1");
	snprintf(st->bus.port, sizeof(st->bus.port), "/dev/ttyUSB0");
	st->bus.wiring_max_all = 40;
	st->bus.wiring_max_per_twc = 32;
	st->bus.held_amps = 16;
	st->bus.offered_amps = 16;
	st->bus.reserved_amps = 6;
	st->bus.measured_amps = 15.9;
	st->bus.slaves = 2;
	st->bus.link_up = true;
	st->bus.frames_rx = 100;
	st->bus.frames_tx = (1ULL << 60) + 1; /* past a double's 53 bits: must print exactly */
	st->bus.frame_errors = 3;
	st->bus.heartbeat_gap_ms = 950;

	st->n_connectors = 2;
	c = &st->c[0];
	c->connector = 1;
	snprintf(c->twc, sizeof(c->twc), "ABCD");
	c->state = GW_STATE_CHARGING;
	c->offered_amps = 16;
	c->held_amps = 16;
	c->cap_amps = 32;
	c->max_amps = 20;
	c->measured_amps = 15.9;
	c->power_w = 3657;
	c->energy_wh = 12345;
	c->in_session = true;
	c->session_wh = 1200;
	c->session_s = 1800;
	c->transaction_id = 5;
	c->sessions = 2;
	c->vehicle = 1;
	c = &st->c[1];
	c->connector = 2;
	snprintf(c->twc, sizeof(c->twc), "0F12");
	c->state = GW_STATE_IDLE;
	c->cap_amps = 32;
	c->max_amps = -1;
	c->measured_amps = 0;
	c->power_w = 0;
	c->energy_wh = NAN;
	c->vehicle = -1;

	st->ocpp.enabled = true;
	snprintf(st->ocpp.url, sizeof(st->ocpp.url), "wss://csms.example/ocpp/CP1");
	st->ocpp.connected = true;
	snprintf(st->ocpp.registration, sizeof(st->ocpp.registration), "Accepted");
	st->ocpp.security_profile = 2;
	st->ocpp.queued_tx = 4;
	st->ocpp.queued_other = 1;
	st->ocpp.latency_count = 10;
	st->ocpp.latency_sum_s = 3.75;
	{
		const uint64_t b[GW_STATUS_LATENCY_BUCKETS] = { 1, 3, 6, 8, 8, 9, 9, 9 };

		memcpy(st->ocpp.latency_buckets, b, sizeof(b));
	}

	snprintf(st->policy.mode, sizeof(st->policy.mode), "track-green");
	snprintf(st->policy.source, sizeof(st->policy.source), "config");
	st->policy.amps = 12;
	st->policy.surplus_w = 2800;
	st->policy.house_w = 600;
	st->policy.pv_w = 3400;
	st->policy.grid_w = -2800;

	st->n_meters = 2;
	snprintf(st->meters[0].name, sizeof(st->meters[0].name), "solaredge@10.0.0.5");
	snprintf(st->meters[0].type, sizeof(st->meters[0].type), "solaredge-modbus");
	st->meters[0].age_s = 2.5;
	st->meters[0].ok = true;
	st->meters[0].value_w = 3400;
	snprintf(st->meters[1].name, sizeof(st->meters[1].name), "grid");
	st->meters[1].age_s = NAN;
	st->meters[1].ok = false;
	st->meters[1].value_w = NAN;

	st->process.rss_bytes = 5000000;
	st->process.cpu_s = 1.25;
}

static const struct gw_httpd_stats http = { .requests = 42, .too_large = 1, .rate_limited = 7, .bytes_out = 123456,
					    .streams = 2 };

static char *render(const struct gw_status *st, const struct gw_httpd_stats *h)
{
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(gw_metrics_render(st, h, &text, &len), 0);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	assert_true(len > 0 && text[len - 1] == '\n');
	return text;
}

/* @line appears as a whole line of @text. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

#define assert_line(text, line)                                                                                  \
	do {                                                                                                     \
		if (!has_line(text, line))                                                                       \
			fail_msg("missing line: %s", line);                                                      \
	} while (0)

#define assert_no_line(text, line)                                                                               \
	do {                                                                                                     \
		if (has_line(text, line))                                                                        \
			fail_msg("unexpected line: %s", line);                                                   \
	} while (0)

/* A family name mentioned anywhere (its HELP, TYPE or a sample). */
static bool has_family(const char *text, const char *name)
{
	char help[160];

	snprintf(help, sizeof(help), "# TYPE %s ", name);
	return strstr(text, help) != NULL;
}

/*
 * The exposition's structure: every line is a HELP, a TYPE or a sample; each family has HELP then
 * TYPE, once, before its samples, which are contiguous and named after it; counters end in _total and
 * nothing else does; histograms have _bucket/_sum/_count only. @cp_label: on every sample, NULL on
 * none, "" not checked. Returns the number of families.
 */
static int check_structure(const char *text, const char *cp_label)
{
	char family[128] = "", type[16] = "", seen[4096] = " ";
	int families = 0;

	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		char line[512];
		size_t n;

		assert_non_null(nl);
		n = (size_t)(nl - p);
		assert_true(n > 0 && n < sizeof(line));
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl + 1;
		if (strncmp(line, "# HELP ", 7) == 0) {
			char *name = line + 7, *sp = strchr(name, ' '), key[sizeof(family) + 2];
			size_t name_len;

			assert_non_null(sp);
			*sp = '\0';
			assert_true(strlen(sp + 1) > 0);
			name_len = strlen(name);
			assert_true(name_len < sizeof(family));
			/* seen: " a b c ", each family once. */
			key[0] = ' ';
			memcpy(key + 1, name, name_len);
			memcpy(key + 1 + name_len, " ", 2);
			if (strstr(seen, key))
				fail_msg("family twice: %s", name);
			assert_true(strlen(seen) + name_len + 2 < sizeof(seen));
			memcpy(seen + strlen(seen), key + 1, name_len + 2);
			memcpy(family, name, name_len);
			family[name_len] = '\0';
			type[0] = '\0';
			families++;
			assert_memory_equal(name, "twcgw_", 6);
			/* The TYPE line follows. */
			nl = strchr(p, '\n');
			assert_non_null(nl);
			n = (size_t)(nl - p);
			assert_true(n < sizeof(line));
			memcpy(line, p, n);
			line[n] = '\0';
			p = nl + 1;
			assert_memory_equal(line, "# TYPE ", 7);
			assert_memory_equal(line + 7, family, strlen(family));
			assert_int_equal(line[7 + strlen(family)], ' ');
			assert_true(strlen(line + 8 + strlen(family)) < sizeof(type));
			memcpy(type, line + 8 + strlen(family), strlen(line + 8 + strlen(family)) + 1);
			assert_true(strcmp(type, "gauge") == 0 || strcmp(type, "counter") == 0 ||
				    strcmp(type, "histogram") == 0);
			n = strlen(family);
			if (strcmp(type, "counter") == 0)
				assert_true(n > 6 && strcmp(family + n - 6, "_total") == 0);
			else
				assert_false(n > 6 && strcmp(family + n - 6, "_total") == 0);
			continue;
		}
		assert_int_not_equal(line[0], '#');
		assert_true(family[0] != '\0');
		n = strlen(family);
		if (strncmp(line, family, n) != 0)
			fail_msg("sample outside its family %s: %s", family, line);
		if (strcmp(type, "histogram") == 0) {
			const char *rest = line + n;

			assert_true(strncmp(rest, "_bucket{", 8) == 0 || strncmp(rest, "_sum", 4) == 0 ||
				    strncmp(rest, "_count", 6) == 0);
		} else {
			assert_true(line[n] == '{' || line[n] == ' ');
		}
		if (cp_label && cp_label[0])
			assert_non_null(strstr(line, cp_label));
		else if (!cp_label)
			assert_null(strstr(line, "charge_point="));
		/* The value: a number Prometheus reads back, never NaN. */
		{
			const char *v = strrchr(line, ' ') + 1;
			char *end;

			if (strcmp(v, "+Inf") != 0) {
				double d = strtod(v, &end);

				assert_true(*end == '\0' && end != v);
				assert_false(isnan(d));
			}
			assert_null(strstr(v, "e+"));
		}
	}
	return families;
}

static void test_full(void **state)
{
	struct gw_status st;
	char *t;

	(void)state;
	fill(&st);
	t = render(&st, &http);
	assert_int_equal(check_structure(t, "charge_point=\"CP1\""), 48);

	assert_line(t, "# HELP twcgw_build_info The twcgw version running (always 1).");
	assert_line(t, "# TYPE twcgw_build_info gauge");
	assert_line(t, "twcgw_build_info{charge_point=\"CP1\",version=\"" TWCGW_VERSION "\"} 1");
	assert_line(t, "twcgw_start_time_seconds{charge_point=\"CP1\"} 1765099988.5");
	assert_line(t, "twcgw_process_resident_memory_bytes{charge_point=\"CP1\"} 5000000");
	assert_line(t, "# TYPE twcgw_process_cpu_seconds_total counter");
	assert_line(t, "twcgw_process_cpu_seconds_total{charge_point=\"CP1\"} 1.25");

	assert_line(t, "twcgw_connector_info{charge_point=\"CP1\",connector=\"1\",twc=\"ABCD\"} 1");
	assert_line(t, "twcgw_connector_info{charge_point=\"CP1\",connector=\"2\",twc=\"0F12\"} 1");
	assert_line(t, "twcgw_connector_offered_amperes{charge_point=\"CP1\",connector=\"1\"} 16");
	assert_line(t, "twcgw_connector_offered_amperes{charge_point=\"CP1\",connector=\"2\"} 0");
	assert_line(t, "twcgw_connector_held_amperes{charge_point=\"CP1\",connector=\"1\"} 16");
	assert_line(t, "twcgw_connector_measured_amperes{charge_point=\"CP1\",connector=\"1\"} 15.9");
	assert_line(t, "twcgw_connector_cap_amperes{charge_point=\"CP1\",connector=\"2\"} 32");
	assert_line(t, "twcgw_connector_max_amperes{charge_point=\"CP1\",connector=\"1\"} 20");
	assert_line(t, "twcgw_connector_power_watts{charge_point=\"CP1\",connector=\"1\"} 3657");
	assert_line(t, "# TYPE twcgw_connector_energy_joules_total counter");
	assert_line(t, "twcgw_connector_energy_joules_total{charge_point=\"CP1\",connector=\"1\"} 44442000");
	assert_line(t, "twcgw_connector_session_active{charge_point=\"CP1\",connector=\"1\"} 1");
	assert_line(t, "twcgw_connector_session_active{charge_point=\"CP1\",connector=\"2\"} 0");
	assert_line(t, "twcgw_connector_session_energy_joules{charge_point=\"CP1\",connector=\"1\"} 4320000");
	assert_line(t, "twcgw_connector_session_energy_joules{charge_point=\"CP1\",connector=\"2\"} 0");
	assert_line(t, "twcgw_connector_session_duration_seconds{charge_point=\"CP1\",connector=\"1\"} 1800");
	assert_line(t, "twcgw_connector_sessions_total{charge_point=\"CP1\",connector=\"1\"} 2");
	assert_line(t, "# TYPE twcgw_connector_sessions_total counter");
	/* One gauge per state, the current one 1. */
	for (int s = 0; s < GW_STATE_COUNT; s++) {
		char line[160];

		snprintf(line, sizeof(line), "twcgw_connector_state{charge_point=\"CP1\",connector=\"1\",state=\"%s\"} %d",
			 gw_status_state_names[s], s == GW_STATE_CHARGING);
		assert_line(t, line);
		snprintf(line, sizeof(line), "twcgw_connector_state{charge_point=\"CP1\",connector=\"2\",state=\"%s\"} %d",
			 gw_status_state_names[s], s == GW_STATE_IDLE);
		assert_line(t, line);
	}

	assert_line(t, "twcgw_bus_wiring_max_amperes{charge_point=\"CP1\"} 40");
	assert_line(t, "twcgw_bus_wiring_max_per_twc_amperes{charge_point=\"CP1\"} 32");
	assert_line(t, "twcgw_bus_held_amperes{charge_point=\"CP1\"} 16");
	assert_line(t, "twcgw_bus_offered_amperes{charge_point=\"CP1\"} 16");
	assert_line(t, "twcgw_bus_reserved_amperes{charge_point=\"CP1\"} 6");
	assert_line(t, "twcgw_bus_measured_amperes{charge_point=\"CP1\"} 15.9");
	assert_line(t, "twcgw_bus_slaves{charge_point=\"CP1\"} 2");
	assert_line(t, "twcgw_bus_link_up{charge_point=\"CP1\"} 1");
	assert_line(t, "twcgw_bus_frames_received_total{charge_point=\"CP1\"} 100");
	assert_line(t, "twcgw_bus_frames_sent_total{charge_point=\"CP1\"} 1152921504606846977");
	assert_line(t, "twcgw_bus_frame_errors_total{charge_point=\"CP1\"} 3");
	assert_line(t, "twcgw_bus_heartbeat_gap_seconds{charge_point=\"CP1\"} 0.95");

	assert_line(t, "twcgw_ocpp_connected{charge_point=\"CP1\"} 1");
	assert_line(t, "twcgw_ocpp_registered{charge_point=\"CP1\"} 1");
	assert_line(t, "twcgw_ocpp_security_profile{charge_point=\"CP1\"} 2");
	assert_line(t, "twcgw_ocpp_queued_transaction_messages{charge_point=\"CP1\"} 4");
	assert_line(t, "twcgw_ocpp_queued_other_messages{charge_point=\"CP1\"} 1");

	assert_line(t, "twcgw_policy_allowed_amperes{charge_point=\"CP1\"} 12");
	assert_line(t, "twcgw_policy_mode{charge_point=\"CP1\",mode=\"track-green\"} 1");
	assert_line(t, "twcgw_policy_mode{charge_point=\"CP1\",mode=\"off\"} 0");
	assert_line(t, "twcgw_policy_mode{charge_point=\"CP1\",mode=\"charge-now\"} 0");
	assert_line(t, "twcgw_policy_mode{charge_point=\"CP1\",mode=\"scheduled\"} 0");
	assert_line(t, "twcgw_policy_surplus_watts{charge_point=\"CP1\"} 2800");
	assert_line(t, "twcgw_policy_house_watts{charge_point=\"CP1\"} 600");
	assert_line(t, "twcgw_policy_pv_watts{charge_point=\"CP1\"} 3400");
	assert_line(t, "twcgw_policy_grid_watts{charge_point=\"CP1\"} -2800");

	assert_line(t, "twcgw_meter_age_seconds{charge_point=\"CP1\",meter=\"solaredge@10.0.0.5\"} 2.5");
	assert_line(t, "twcgw_meter_ok{charge_point=\"CP1\",meter=\"solaredge@10.0.0.5\"} 1");
	assert_line(t, "twcgw_meter_ok{charge_point=\"CP1\",meter=\"grid\"} 0");
	assert_line(t, "twcgw_meter_power_watts{charge_point=\"CP1\",meter=\"solaredge@10.0.0.5\"} 3400");

	assert_line(t, "twcgw_http_requests_total{charge_point=\"CP1\"} 42");
	assert_line(t, "twcgw_http_rejected_requests_total{charge_point=\"CP1\",code=\"413\"} 1");
	assert_line(t, "twcgw_http_rejected_requests_total{charge_point=\"CP1\",code=\"429\"} 7");
	assert_line(t, "twcgw_http_sent_bytes_total{charge_point=\"CP1\"} 123456");
	assert_line(t, "twcgw_http_event_streams{charge_point=\"CP1\"} 2");
	free(t);
}

/* Unknown values, an unset maximum: no sample, and a family with no sample at all has no header. */
static void test_unknown_left_out(void **state)
{
	struct gw_status st;
	char *t;

	(void)state;
	fill(&st);
	/* Connector 2 has no maximum and no energy register already. */
	t = render(&st, &http);
	assert_no_line(t, "twcgw_connector_max_amperes{charge_point=\"CP1\",connector=\"2\"} -1");
	assert_null(strstr(t, "twcgw_connector_max_amperes{charge_point=\"CP1\",connector=\"2\"}"));
	assert_null(strstr(t, "twcgw_connector_energy_joules_total{charge_point=\"CP1\",connector=\"2\"}"));
	assert_null(strstr(t, "twcgw_meter_age_seconds{charge_point=\"CP1\",meter=\"grid\"}"));
	assert_null(strstr(t, "twcgw_meter_power_watts{charge_point=\"CP1\",meter=\"grid\"}"));
	free(t);

	st.c[0].max_amps = -1;
	st.c[0].energy_wh = NAN;
	st.c[0].measured_amps = NAN;
	st.c[0].power_w = NAN;
	st.policy.surplus_w = NAN;
	st.policy.house_w = NAN;
	st.policy.pv_w = NAN;
	st.policy.grid_w = NAN;
	st.bus.measured_amps = NAN;
	st.meters[0].age_s = NAN;
	st.meters[0].value_w = NAN;
	st.ocpp.latency_sum_s = NAN;
	t = render(&st, &http);
	check_structure(t, "charge_point=\"CP1\"");
	assert_null(strstr(t, "NaN"));
	assert_null(strstr(t, "nan"));
	assert_false(has_family(t, "twcgw_connector_max_amperes"));
	assert_null(strstr(t, "twcgw_connector_max_amperes"));
	assert_false(has_family(t, "twcgw_connector_energy_joules_total"));
	assert_false(has_family(t, "twcgw_policy_surplus_watts"));
	assert_false(has_family(t, "twcgw_policy_house_watts"));
	assert_false(has_family(t, "twcgw_policy_pv_watts"));
	assert_false(has_family(t, "twcgw_policy_grid_watts"));
	assert_false(has_family(t, "twcgw_bus_measured_amperes"));
	assert_false(has_family(t, "twcgw_meter_age_seconds"));
	assert_false(has_family(t, "twcgw_meter_power_watts"));
	/* Connector 1's measured current goes, connector 2's 0 A stays: 0 is known, NAN is not. */
	assert_null(strstr(t, "twcgw_connector_measured_amperes{charge_point=\"CP1\",connector=\"1\"}"));
	assert_line(t, "twcgw_connector_measured_amperes{charge_point=\"CP1\",connector=\"2\"} 0");
	assert_line(t, "twcgw_ocpp_call_duration_seconds_sum{charge_point=\"CP1\"} 0");
	assert_line(t, "twcgw_meter_ok{charge_point=\"CP1\",meter=\"solaredge@10.0.0.5\"} 1");
	free(t);
}

static void test_escaping(void **state)
{
	struct gw_status st;
	char *t;

	(void)state;
	fill(&st);
	snprintf(st.charge_point, sizeof(st.charge_point), "a\"b\\c\nd");
	snprintf(st.meters[0].name, sizeof(st.meters[0].name), "x\\\"y");
	snprintf(st.c[0].twc, sizeof(st.c[0].twc), "\"\n\\");
	t = render(&st, NULL);
	check_structure(t, "charge_point=\"a\\\"b\\\\c\\nd\"");
	assert_line(t, "twcgw_bus_slaves{charge_point=\"a\\\"b\\\\c\\nd\"} 2");
	assert_line(t, "twcgw_meter_ok{charge_point=\"a\\\"b\\\\c\\nd\",meter=\"x\\\\\\\"y\"} 1");
	assert_line(t, "twcgw_connector_info{charge_point=\"a\\\"b\\\\c\\nd\",connector=\"1\",twc=\"\\\"\\n\\\\\"} 1");
	free(t);

	/* A field that fills its array without a NUL is still bounded. */
	memset(st.charge_point, 'Z', sizeof(st.charge_point));
	t = render(&st, NULL);
	{
		char want[128] = "twcgw_bus_slaves{charge_point=\"";
		size_t n = strlen(want);

		memset(want + n, 'Z', sizeof(st.charge_point));
		snprintf(want + n + sizeof(st.charge_point), sizeof(want) - n - sizeof(st.charge_point), "\"} 2");
		assert_line(t, want);
	}
	free(t);
}

static void test_histogram(void **state)
{
	struct gw_status st;
	const char *le[] = { "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf" };
	const char *want[] = { "1", "3", "6", "8", "8", "9", "9", "9", "10" };
	const char *p;
	char *t, line[160];

	(void)state;
	fill(&st);
	t = render(&st, NULL);
	assert_line(t, "# TYPE twcgw_ocpp_call_duration_seconds histogram");
	/* In order, cumulative, +Inf equal to the count. */
	p = t;
	for (size_t i = 0; i < sizeof(le) / sizeof(le[0]); i++) {
		const char *at;

		snprintf(line, sizeof(line), "\ntwcgw_ocpp_call_duration_seconds_bucket{charge_point=\"CP1\",le=\"%s\"} %s\n",
			 le[i], want[i]);
		at = strstr(t, line);
		if (!at)
			fail_msg("missing bucket: %s", line + 1);
		assert_true(at >= p);
		p = at;
	}
	assert_line(t, "twcgw_ocpp_call_duration_seconds_sum{charge_point=\"CP1\"} 3.75");
	assert_line(t, "twcgw_ocpp_call_duration_seconds_count{charge_point=\"CP1\"} 10");
	/* Nothing but the 9 buckets, _sum and _count. */
	{
		int n = 0;

		for (const char *q = t; (q = strstr(q, "\ntwcgw_ocpp_call_duration_seconds")) != NULL; q++)
			n++;
		assert_int_equal(n, 11);
	}
	free(t);

	/* No call yet: every bucket 0. */
	memset(st.ocpp.latency_buckets, 0, sizeof(st.ocpp.latency_buckets));
	st.ocpp.latency_count = 0;
	st.ocpp.latency_sum_s = 0;
	t = render(&st, NULL);
	assert_line(t, "twcgw_ocpp_call_duration_seconds_bucket{charge_point=\"CP1\",le=\"0.05\"} 0");
	assert_line(t, "twcgw_ocpp_call_duration_seconds_bucket{charge_point=\"CP1\",le=\"+Inf\"} 0");
	assert_line(t, "twcgw_ocpp_call_duration_seconds_count{charge_point=\"CP1\"} 0");
	free(t);
}

/* Standalone (no charge point, OCPP off) and no HTTP counters: no charge_point label, no OCPP or HTTP family. */
static void test_standalone(void **state)
{
	struct gw_status st;
	char *t;

	(void)state;
	fill(&st);
	st.charge_point[0] = '\0';
	st.ocpp.enabled = false;
	snprintf(st.ocpp.registration, sizeof(st.ocpp.registration), "Pending");
	t = render(&st, NULL);
	check_structure(t, NULL);
	assert_null(strstr(t, "twcgw_ocpp_"));
	assert_null(strstr(t, "twcgw_http_"));
	assert_line(t, "twcgw_bus_slaves 2");
	assert_line(t, "twcgw_build_info{version=\"" TWCGW_VERSION "\"} 1");
	assert_line(t, "twcgw_connector_offered_amperes{connector=\"1\"} 16");
	assert_line(t, "twcgw_connector_state{connector=\"1\",state=\"charging\"} 1");
	free(t);

	/* OCPP on but not accepted. */
	st.ocpp.enabled = true;
	st.ocpp.connected = false;
	t = render(&st, NULL);
	assert_line(t, "twcgw_ocpp_connected 0");
	assert_line(t, "twcgw_ocpp_registered 0");
	free(t);
}

/* No connector and no meter: those families vanish, the rest is still a valid exposition. */
static void test_empty(void **state)
{
	struct gw_status st;
	char *t;

	(void)state;
	fill(&st);
	st.n_connectors = 0;
	st.n_meters = 0;
	t = render(&st, &http);
	check_structure(t, "charge_point=\"CP1\"");
	assert_null(strstr(t, "twcgw_connector_"));
	assert_null(strstr(t, "twcgw_meter_"));
	assert_line(t, "twcgw_bus_link_up{charge_point=\"CP1\"} 1");
	assert_line(t, "twcgw_policy_allowed_amperes{charge_point=\"CP1\"} 12");
	free(t);
}

/* Numbers: whole values without exponent or fraction, fractions exact, +Inf for infinity. */
static void test_numbers(void **state)
{
	struct gw_status st;
	char *t;

	(void)state;
	fill(&st);
	st.process.rss_bytes = 123456789012.0;
	st.process.cpu_s = 0.1;
	st.c[0].power_w = -0.0;
	st.c[0].energy_wh = 1e12; /* 3.6e15 J */
	st.policy.pv_w = 1.0 / 3.0;
	st.policy.house_w = INFINITY;
	st.c[0].state = (enum gw_status_state)99;
	snprintf(st.policy.mode, sizeof(st.policy.mode), "eco");
	t = render(&st, NULL);
	check_structure(t, "charge_point=\"CP1\"");
	assert_line(t, "twcgw_process_resident_memory_bytes{charge_point=\"CP1\"} 123456789012");
	assert_line(t, "twcgw_process_cpu_seconds_total{charge_point=\"CP1\"} 0.1");
	assert_line(t, "twcgw_connector_power_watts{charge_point=\"CP1\",connector=\"1\"} 0");
	assert_line(t, "twcgw_connector_energy_joules_total{charge_point=\"CP1\",connector=\"1\"} 3600000000000000");
	assert_line(t, "twcgw_policy_pv_watts{charge_point=\"CP1\"} 0.33333333333333331");
	assert_line(t, "twcgw_policy_house_watts{charge_point=\"CP1\"} +Inf");
	/* A state out of range reads as an error, as in the JSON; a mode unknown here still shows. */
	assert_line(t, "twcgw_connector_state{charge_point=\"CP1\",connector=\"1\",state=\"error\"} 1");
	assert_line(t, "twcgw_connector_state{charge_point=\"CP1\",connector=\"1\",state=\"charging\"} 0");
	assert_line(t, "twcgw_policy_mode{charge_point=\"CP1\",mode=\"eco\"} 1");
	assert_line(t, "twcgw_policy_mode{charge_point=\"CP1\",mode=\"track-green\"} 0");
	free(t);
}

/* @a comes before @b in @text (both present). */
static void assert_before(const char *text, const char *a, const char *b)
{
	const char *pa = strstr(text, a), *pb = strstr(text, b);

	if (!pa || !pb || pa > pb)
		fail_msg("expected \"%s\" before \"%s\"", a, b);
}

/* A depot: every charge point's samples in each family (together, labelled), the process-wide ones
 * without a label; a charge point without OCPP has no OCPP samples, whole histograms per series. */
static void test_depot(void **state)
{
	struct gw_status st, more[2];
	char *t;
	int families;

	(void)state;
	fill(&st);
	for (int i = 0; i < 2; i++) {
		fill(&more[i]);
		snprintf(more[i].charge_point, sizeof(more[i].charge_point), "CP%d", i + 2);
		more[i].n_meters = 0;
	}
	more[0].bus.held_amps = 10;
	more[0].c[0].offered_amps = 10;
	more[0].c[1].state = GW_STATE_PAUSED;
	more[0].ocpp.latency_count = 3;
	more[0].policy.amps = 7;
	snprintf(more[0].policy.mode, sizeof(more[0].policy.mode), "charge-now");
	more[1].ocpp.enabled = false;
	more[1].n_connectors = 1;
	more[1].bus.link_up = false;
	st.more = more;
	st.n_more = 2;
	t = render(&st, &http);
	families = check_structure(t, "");
	/* The same families as one charge point has, no family repeated (check_structure). */
	{
		struct gw_status one;
		char *t1;

		fill(&one);
		t1 = render(&one, &http);
		assert_int_equal(families, check_structure(t1, "charge_point=\"CP1\""));
		free(t1);
	}
	assert_line(t, "twcgw_bus_held_amperes{charge_point=\"CP1\"} 16");
	assert_line(t, "twcgw_bus_held_amperes{charge_point=\"CP2\"} 10");
	assert_line(t, "twcgw_bus_held_amperes{charge_point=\"CP3\"} 16");
	assert_line(t, "twcgw_bus_link_up{charge_point=\"CP3\"} 0");
	assert_line(t, "twcgw_connector_offered_amperes{charge_point=\"CP2\",connector=\"1\"} 10");
	assert_line(t, "twcgw_connector_info{charge_point=\"CP3\",connector=\"1\",twc=\"ABCD\"} 1");
	assert_no_line(t, "twcgw_connector_info{charge_point=\"CP3\",connector=\"2\",twc=\"0F12\"} 1");
	assert_line(t, "twcgw_connector_state{charge_point=\"CP2\",connector=\"2\",state=\"paused\"} 1");
	assert_line(t, "twcgw_policy_allowed_amperes{charge_point=\"CP2\"} 7");
	assert_line(t, "twcgw_policy_mode{charge_point=\"CP2\",mode=\"charge-now\"} 1");
	assert_line(t, "twcgw_policy_mode{charge_point=\"CP1\",mode=\"track-green\"} 1");
	/* OCPP: CP1 and CP2 only, each histogram series whole before the next. */
	assert_line(t, "twcgw_ocpp_connected{charge_point=\"CP2\"} 1");
	assert_null(strstr(t, "twcgw_ocpp_connected{charge_point=\"CP3\"}"));
	assert_null(strstr(t, "twcgw_ocpp_call_duration_seconds_count{charge_point=\"CP3\"}"));
	assert_line(t, "twcgw_ocpp_call_duration_seconds_count{charge_point=\"CP2\"} 3");
	assert_before(t, "twcgw_ocpp_call_duration_seconds_count{charge_point=\"CP1\"}",
		      "twcgw_ocpp_call_duration_seconds_bucket{charge_point=\"CP2\",le=\"0.05\"}");
	/* Families stay whole: CP2's bus sample before the next family's first sample. */
	assert_before(t, "twcgw_bus_held_amperes{charge_point=\"CP3\"}", "twcgw_bus_offered_amperes{charge_point=\"CP1\"}");
	assert_before(t, "twcgw_connector_info{charge_point=\"CP3\"", "# TYPE twcgw_connector_offered_amperes");
	/* The process, the site's meters and the HTTP server are no charge point's. */
	assert_line(t, "twcgw_process_resident_memory_bytes 5000000");
	assert_line(t, "twcgw_build_info{version=\"" TWCGW_VERSION "\"} 1");
	assert_line(t, "twcgw_meter_ok{meter=\"solaredge@10.0.0.5\"} 1");
	assert_line(t, "twcgw_http_requests_total 42");
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),	   cmocka_unit_test(test_unknown_left_out), cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_histogram), cmocka_unit_test(test_standalone),	    cmocka_unit_test(test_empty),
		cmocka_unit_test(test_numbers),	  cmocka_unit_test(test_depot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
