/*
 * gw_demo: the self-contained demonstration: the rig every scenario shares, the three-car "share"
 * scenario, and the entry point that picks a scenario. The rig puts two raw-file adoptions on one lws
 * loop: the bus side is an ordinary gw_bus over a gw_port of the "already open fd" kind, exactly the
 * code that drives a real RS-485 port; the slave side is the twc_sim core behind a second gw_port,
 * with its own sul for twc_sim_tick(). In the share scenario a third sul plays the script (cars plug
 * in and leave at fixed simulated times) and prints the table. The simulator, not the gateway, is the
 * judge of the current limit: it records the highest sum of limits in force it ever saw. Standalone,
 * the policy engine in charge-now mode offers the bus its 40 A. With --demo-ocpp a gw_ocpp sits on the
 * bus as in a real installation instead; then the central system lets cars charge, so the verdict no
 * longer asks for all three to charge at once.
 * The solar day is in gw_demo_solar.c.
 */
#include "gw_demo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "gw_bus.h"
#include "gw_clock.h"
#include "gw_control.h"
#include "gw_config.h"
#include "gw_demo_rig.h"
#include "gw_log.h"
#include "gw_loop.h"
#include "gw_ocpp.h"
#include "gw_policy.h"
#include "gw_port.h"
#include "gw_web.h"
#include "twc_sim.h"

#define SIM_MAX_SLEEP_MS 1000u

/* ==== the rig ==== */

uint64_t demo_rig_now(const struct demo_rig *r)
{
	return gw_clock_now_ms(&r->clock);
}

uint64_t demo_rig_elapsed(const struct demo_rig *r)
{
	return demo_rig_now(r) - r->start_ms;
}

void demo_rig_schedule(struct demo_rig *r, lws_sorted_usec_list_t *sul, sul_cb_t cb, uint64_t sim_delay_ms)
{
	lws_sul_schedule(gw_loop_context(r->loop), 0, sul, cb,
			 (lws_usec_t)gw_clock_real_delay_us(&r->clock, sim_delay_ms));
}

static void sim_tick_cb(lws_sorted_usec_list_t *sul)
{
	struct demo_rig *r = lws_container_of(sul, struct demo_rig, sul_sim);

	twc_sim_tick(r->sim, demo_rig_now(r));
	demo_rig_sim_rearm(r);
}

void demo_rig_sim_rearm(struct demo_rig *r)
{
	uint64_t now = demo_rig_now(r);
	uint64_t deadline = twc_sim_next_deadline(r->sim);
	uint64_t delta = deadline > now ? deadline - now : 0;

	if (r->finished)
		return;
	if (delta > SIM_MAX_SLEEP_MS)
		delta = SIM_MAX_SLEEP_MS;
	if (delta < 1)
		delta = 1;
	demo_rig_schedule(r, &r->sul_sim, sim_tick_cb, delta);
}

static void sim_port_rx(void *user, const uint8_t *bytes, size_t len)
{
	struct demo_rig *r = user;

	twc_sim_input(r->sim, bytes, len, demo_rig_now(r));
	demo_rig_sim_rearm(r);
}

static void sim_port_up(void *user)
{
	(void)user;
}

static int sim_write(void *user, const uint8_t *bytes, size_t len)
{
	struct demo_rig *r = user;

	return r->sim_port ? gw_port_write(r->sim_port, bytes, len) : -ENOTCONN;
}

static void sim_log(void *user, const char *line)
{
	(void)user;
	gw_log_debug("sim: %s", line);
}

static void rig_interrupted(void *user, int signo)
{
	struct demo_rig *r = user;

	(void)signo;
	r->finished = true;
	r->interrupted = true;
	if (!r->lingering)
		printf("\ndemo interrupted\n");
}

void demo_rig_config(struct gw_config *cfg, int available, int per_twc)
{
	memset(cfg, 0, sizeof(*cfg));
	/* dataDir stays empty: the bus keeps no state on disk, and the demo must not create any. */
	snprintf(cfg->twc.port, sizeof(cfg->twc.port), "demo");
	cfg->twc.wiring_max_all = available;
	cfg->twc.wiring_max_per_twc = per_twc;
	cfg->twc.min_amps = 6;
	cfg->twc.voltage = 230;
	cfg->twc.phases = 1;
	cfg->twc.master_id = 0x7777;
	cfg->policy.mode = EMS_POLICY_CHARGE_NOW;
	cfg->log.level = gw_log_get_level();
	cfg->log.status_interval = 0; /* the table replaces the status lines */
}

void demo_rig_sim_config(struct twc_sim_config *sc, int slaves, const uint16_t *ids)
{
	memset(sc, 0, sizeof(*sc));
	sc->slaves = slaves;
	sc->seed = 1;
	sc->voltage = 230;
	sc->phases = 1;
	for (int i = 0; i < slaves; i++) {
		sc->slave[i].id = ids[i];
		sc->slave[i].sign = (uint8_t)(0x11 * (i + 1));
		sc->slave[i].protocol = 2;
		sc->slave[i].rated_amps = 32;
		sc->slave[i].fw453 = true;
	}
}

int demo_rig_open(struct demo_rig *r, double speed, const struct twc_sim_config *sc, const struct gw_config *cfg)
{
	struct gw_loop_handlers lh = { .user = r, .on_stop = rig_interrupted };
	struct gw_port_handlers ph = { .user = r, .on_rx = sim_port_rx, .on_up = sim_port_up };
	struct twc_sim_env env = { .user = r, .write = sim_write, .log = sim_log };
	int sv[2];

	gw_clock_init(&r->clock, speed);
	r->start_ms = demo_rig_now(r);
	r->loop = gw_loop_new(&lh);
	if (!r->loop)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		gw_log_error("demo: socketpair: %s", strerror(errno));
		return -1;
	}
	r->sim_port = gw_port_new_fd(r->loop, sv[1], "sim", &ph);
	r->sim = twc_sim_new(sc, &env, demo_rig_now(r));
	r->bus = gw_bus_new_fd(r->loop, &r->clock, cfg, sv[0], "demo");
	if (!r->sim_port || !r->sim || !r->bus) {
		gw_log_error("demo: set-up failed");
		return -1;
	}
	return 0;
}

void demo_rig_start(struct demo_rig *r)
{
	gw_port_start(r->sim_port);
	demo_rig_sim_rearm(r);
}

int demo_rig_run(struct demo_rig *r)
{
	int code = gw_loop_run(r->loop);

	if (code < 0)
		return 1;
	if (r->lingering)
		return r->verdict;
	return r->interrupted ? 130 : code;
}

void demo_rig_end(struct demo_rig *r, int verdict)
{
	if (r->web && isatty(STDOUT_FILENO)) {
		r->lingering = true;
		r->verdict = verdict;
		printf("\nThe status page stays up, the simulated cars too: press Ctrl-C to stop.\n");
		fflush(stdout);
		return;
	}
	r->finished = true;
	gw_loop_stop(r->loop, verdict);
}

int demo_rig_web(struct demo_rig *r, struct gw_config *cfg, const char *addr, bool addr_given,
		 struct gw_policy *policy, struct gw_ocpp *ocpp)
{
	struct gw_web_parts parts;
	const char *shown = addr;
	int port;

	if (!addr)
		return 0;
	if (policy) {
		r->control = gw_control_new(NULL, cfg, r->bus, policy);
		if (!r->control)
			return -1;
	}
	parts = (struct gw_web_parts){ r->bus, ocpp, policy, r->control, NULL };
	cfg->http.enabled = true;
	cfg->http.n_listen = 1;
	snprintf(cfg->http.listen[0], sizeof(cfg->http.listen[0]), "%s", addr);
	r->web = gw_web_new(r->loop, &r->clock, cfg, &parts);
	if (!r->web && !addr_given) {
		/* Another program (or another demo) has 8080: any free port will do for a demo. */
		snprintf(cfg->http.listen[0], sizeof(cfg->http.listen[0]), "127.0.0.1:0");
		r->web = gw_web_new(r->loop, &r->clock, cfg, &parts);
	}
	if (!r->web) {
		fprintf(stderr, "twcgw: --demo-http: cannot serve the status page on %s (see the log with -v)\n", addr);
		return -1;
	}
	port = gw_web_port(r->web, 0);
	shown = cfg->http.listen[0];
	if (shown[0] == '[') {
		const char *close = strchr(shown, ']');

		printf("status page: http://%.*s:%d/\n", close ? (int)(close - shown + 1) : 0, shown, port);
	} else {
		const char *colon = strrchr(shown, ':');
		int hl = colon ? (int)(colon - shown) : 0;

		/* 0.0.0.0 is where we listen, not an address to browse to. */
		if (hl == 7 && !strncmp(shown, "0.0.0.0", 7))
			printf("status page: http://127.0.0.1:%d/\n", port);
		else
			printf("status page: http://%.*s:%d/\n", hl, shown, port);
	}
	fflush(stdout);
	return 0;
}

bool demo_rig_policy_changed(const struct demo_rig *r)
{
	return r->control && strcmp(gw_control_policy_source(r->control), "config") != 0;
}

void demo_rig_close(struct demo_rig *r)
{
	/* The simulator's timer, then the bus's and the port's, then the context: it closes both socket
	 * ends' adoptions and calls back into the port, which must still exist. */
	r->finished = true;
	lws_sul_cancel(&r->sul_sim);
	gw_web_stop(r->web);
	gw_bus_stop(r->bus);
	gw_port_stop(r->sim_port);
	gw_loop_free(r->loop);
	r->loop = NULL;
}

void demo_rig_free(struct demo_rig *r)
{
	gw_web_free(r->web);
	gw_control_free(r->control);
	r->web = NULL;
	r->control = NULL;
	gw_bus_free(r->bus);
	gw_port_free(r->sim_port);
	twc_sim_free(r->sim);
	r->bus = NULL;
	r->sim_port = NULL;
	r->sim = NULL;
}

/* ==== the share scenario: three cars, 40 A ==== */

#define DEMO_AVAILABLE_A 40
#define DEMO_PER_TWC_A 32
#define DEMO_SLAVES 3
#define DEMO_END_MS 80000u
#define DEMO_SPEED 4.0
#define SCRIPT_STEP_MS 250u     /* simulated ms between script checks */
#define TABLE_EVERY_MS 5000u    /* a table at least this often (simulated) */

enum step_kind { STEP_PLUG, STEP_UNPLUG };

struct demo_step {
	uint32_t at_ms;
	enum step_kind kind;
	int slave;
	int car_max_amps;
	const char *car;
	const char *vin;
};

/* The scenario, in simulated time. VINs are made up (valid check digits, serial 00000N). */
static const struct demo_step script[] = {
	{ 3000, STEP_PLUG, 0, 32, "car A", "5YJ3E1EA8KF000001" },
	{ 15000, STEP_PLUG, 1, 32, "car B", "5YJYGDEE2LF000002" },
	{ 30000, STEP_PLUG, 2, 16, "car C", "5YJSA1E20HF000003" },
	{ 50000, STEP_UNPLUG, 0, 0, "car A", NULL },
	{ 65000, STEP_UNPLUG, 2, 0, "car C", NULL },
};
#define SCRIPT_LEN (sizeof(script) / sizeof(script[0]))

static const uint16_t slave_ids[DEMO_SLAVES] = { 0x1234, 0x5678, 0x9ABC };

struct demo {
	struct demo_rig rig;
	struct gw_ocpp *ocpp; /* --demo-ocpp only */
	struct gw_policy *policy; /* without OCPP: charge-now, so the bus may offer its 40 A */
	bool ocpp_was_online;
	lws_sorted_usec_list_t sul_script;
	size_t next_step;
	uint64_t last_table_ms;
	char last_key[256];
	const char *car_at[DEMO_SLAVES];
	int car_max[DEMO_SLAVES];
	int max_slaves_seen;
	bool shared;                 /* all three slaves charged at once */
	int shared_in_force[DEMO_SLAVES];
};

static uint64_t demo_now(const struct demo *d)
{
	return demo_rig_now(&d->rig);
}

static double demo_t(const struct demo *d)
{
	return (double)demo_rig_elapsed(&d->rig) / 1000.0;
}
/* ---- the table ---- */

/* The bus's view of the slave with this ID, if it knows it. */
static bool bus_slave_by_id(const struct demo *d, uint16_t id, struct twc_slave_info *out)
{
	for (int slot = 0; slot < TWC_MAX_SLAVES; slot++)
		if (twc_bus_slave(gw_bus_core(d->rig.bus), slot, out) == 0 && out->id == id)
			return true;
	return false;
}

/* The OCPP status of the connector behind TWC @id, -1 without OCPP or connector. */
static int ocpp_status_of(const struct demo *d, uint16_t id)
{
	int c = d->ocpp ? gw_ocpp_connector_of(d->ocpp, id) : -1;

	return c < 0 ? -1 : (int)ocpp_cp_connector_status(gw_ocpp_core(d->ocpp), c);
}

/* One line: the link and each connector's OCPP status and transaction. */
static void print_ocpp(const struct demo *d)
{
	const struct ocpp_cp *cp = gw_ocpp_core(d->ocpp);

	printf("   ocpp: %s", gw_ocpp_online(d->ocpp) ? "online " : "offline");
	for (int i = 0; i < DEMO_SLAVES; i++) {
		int c = gw_ocpp_connector_of(d->ocpp, slave_ids[i]);
		int st = ocpp_status_of(d, slave_ids[i]);

		if (c < 0)
			continue;
		printf("  | %04X connector %d %s", slave_ids[i], c, st >= 0 && st < OCPP_ST_COUNT ? ocpp_cp_status_names[st] : "?");
		if (ocpp_cp_transaction_id(cp, c))
			printf(" tx %d %.0f Wh", ocpp_cp_transaction_id(cp, c), ocpp_cp_energy_wh(cp, c));
	}
	printf("\n");
}

/* What counts as a change worth a new table: who is where and the amps in force, not the drawn
 * current, which wanders by tenths of an amp. */
static void state_key(const struct demo *d, char *key, size_t keylen)
{
	size_t used = 0;

	used += (size_t)snprintf(key, keylen, "%d|", twc_bus_slave_count(gw_bus_core(d->rig.bus)));
	for (int i = 0; i < DEMO_SLAVES && used < keylen; i++) {
		struct twc_sim_slave_status ss;
		struct twc_slave_info bi;
		bool known;

		twc_sim_slave_status(d->rig.sim, i, &ss);
		known = bus_slave_by_id(d, ss.id, &bi);
		used += (size_t)snprintf(key + used, keylen - used, "%d,%d,%d,%d,%d,%d|", ss.plugged, ss.in_force_amps,
					 known ? (int)bi.status : -1, known ? bi.offered_amps : -1,
					 known ? bi.target_amps : -1, ocpp_status_of(d, ss.id));
	}
	if (d->ocpp && used < keylen)
		snprintf(key + used, keylen - used, "%d", gw_ocpp_online(d->ocpp));
}

static void print_table(struct demo *d, const char *why)
{
	struct twc_sim_stats st;
	int offered_total = 0, in_force_total = 0;
	double drawn_total = 0;

	twc_sim_stats(d->rig.sim, &st);
	printf("\n t = %5.1f s  (%s)\n", demo_t(d), why);
	printf("   slave  car               status     offered  target  in force    drawn\n");
	for (int i = 0; i < DEMO_SLAVES; i++) {
		struct twc_sim_slave_status ss;
		struct twc_slave_info bi;
		char car[40];

		twc_sim_slave_status(d->rig.sim, i, &ss);
		bool known = bus_slave_by_id(d, ss.id, &bi);
		if (d->car_at[i])
			snprintf(car, sizeof(car), "%s (max %d A)", d->car_at[i], d->car_max[i]);
		else
			snprintf(car, sizeof(car), "-");
		if (known) {
			offered_total += bi.offered_amps;
			printf("   %04X   %-17s %-9s  %5d A  %4d A  %6d A  %5.1f A\n", ss.id, car,
			       twc_slave_status_name(bi.status), bi.offered_amps, bi.target_amps, ss.in_force_amps,
			       ss.drawn_amps);
		} else {
			printf("   %04X   %-17s %-9s  %7s  %6s  %6d A  %5.1f A\n", ss.id, car, "unknown", "-", "-",
			       ss.in_force_amps, ss.drawn_amps);
		}
		in_force_total += ss.in_force_amps;
		drawn_total += ss.drawn_amps;
	}
	printf("   %-34s  %5d A  %6s  %6d A  %5.1f A   of %d A available\n", "total", offered_total, "",
	       in_force_total, drawn_total, DEMO_AVAILABLE_A);
	printf("   simulator: limits in force now %d A, running maximum %d A (must stay <= %d A)%s\n",
	       st.in_force_total, st.max_in_force_total, DEMO_AVAILABLE_A,
	       st.max_in_force_total > DEMO_AVAILABLE_A ? "  ** EXCEEDED **" : "");
	if (d->ocpp)
		print_ocpp(d);
	fflush(stdout);
	d->last_table_ms = demo_now(d);
}

/* ---- the script ---- */

static void run_step(struct demo *d, const struct demo_step *s)
{
	uint16_t id = slave_ids[s->slave];
	int rc;

	if (s->kind == STEP_PLUG) {
		rc = twc_sim_plug(d->rig.sim, s->slave, s->car_max_amps, s->vin, demo_now(d));
		d->car_at[s->slave] = s->car;
		d->car_max[s->slave] = s->car_max_amps;
		printf("\n t = %5.1f s  >>> %s plugs into slave %04X (the car takes at most %d A)\n", demo_t(d), s->car, id,
		       s->car_max_amps);
	} else {
		rc = twc_sim_unplug(d->rig.sim, s->slave, demo_now(d));
		d->car_at[s->slave] = NULL;
		printf("\n t = %5.1f s  <<< %s leaves slave %04X\n", demo_t(d), s->car, id);
	}
	if (rc)
		gw_log_error("demo: the simulator refused a step: %s", strerror(-rc));
	demo_rig_sim_rearm(&d->rig);
}

static void observe(struct demo *d)
{
	int n = twc_bus_slave_count(gw_bus_core(d->rig.bus));
	int charging = 0;
	int in_force[DEMO_SLAVES];

	if (n > d->max_slaves_seen)
		d->max_slaves_seen = n;
	if (d->ocpp && gw_ocpp_online(d->ocpp))
		d->ocpp_was_online = true;
	for (int i = 0; i < DEMO_SLAVES; i++) {
		struct twc_sim_slave_status ss;

		twc_sim_slave_status(d->rig.sim, i, &ss);
		in_force[i] = ss.in_force_amps;
		if (ss.charging && ss.drawn_amps >= 1.0)
			charging++;
	}
	if (charging == DEMO_SLAVES && !d->shared) {
		d->shared = true;
		memcpy(d->shared_in_force, in_force, sizeof(in_force));
	}
}

static int verdict(struct demo *d)
{
	struct twc_sim_stats st;
	uint32_t max_gap = 0;
	char why[256] = "";
	bool ok = true;

	twc_sim_stats(d->rig.sim, &st);
	for (int i = 0; i < DEMO_SLAVES; i++) {
		struct twc_sim_slave_status ss;

		twc_sim_slave_status(d->rig.sim, i, &ss);
		if (ss.max_gap_ms > max_gap)
			max_gap = ss.max_gap_ms;
	}
	if (st.max_in_force_total > DEMO_AVAILABLE_A) {
		ok = false;
		snprintf(why, sizeof(why), "the limits in force reached %d A, above the %d A available",
			 st.max_in_force_total, DEMO_AVAILABLE_A);
	} else if (d->max_slaves_seen < DEMO_SLAVES) {
		ok = false;
		snprintf(why, sizeof(why), "the gateway found only %d of %d slaves", d->max_slaves_seen, DEMO_SLAVES);
	} else if (!d->shared && !d->ocpp) {
		ok = false;
		snprintf(why, sizeof(why), "the three slaves never charged at the same time");
	} else if (st.rx_bad || st.forbidden) {
		ok = false;
		snprintf(why, sizeof(why), "the simulator saw %u bad and %u forbidden frames from the master",
			 st.rx_bad, st.forbidden);
	}
	printf("\n");
	if (ok && d->ocpp)
		printf("verdict: PASS - %d slaves found; the central system %s; peak sum of limits in force %d A "
		       "<= %d A available; longest heartbeat gap %.1f s; %u frames from the master, none bad\n",
		       d->max_slaves_seen,
		       d->shared ? "let all three charge at once" :
		       d->ocpp_was_online ? "decided who charged" : "was never reached, so no car charged",
		       st.max_in_force_total, DEMO_AVAILABLE_A, max_gap / 1000.0, st.rx_frames);
	else if (ok)
		printf("verdict: PASS - %d slaves found; all three charged at once (%d + %d + %d A); "
		       "peak sum of limits in force %d A <= %d A available; longest heartbeat gap %.1f s; "
		       "%u frames from the master, none bad\n",
		       d->max_slaves_seen, d->shared_in_force[0], d->shared_in_force[1], d->shared_in_force[2],
		       st.max_in_force_total, DEMO_AVAILABLE_A, max_gap / 1000.0, st.rx_frames);
	else
		printf("verdict: FAIL - %s (peak sum of limits in force %d A, %d A available)\n", why,
		       st.max_in_force_total, DEMO_AVAILABLE_A);
	fflush(stdout);
	return ok ? 0 : 1;
}

static void script_cb(lws_sorted_usec_list_t *sul)
{
	struct demo *d = lws_container_of(sul, struct demo, sul_script);
	uint64_t t = demo_rig_elapsed(&d->rig);
	char key[sizeof(d->last_key)];
	const char *why = NULL;

	while (d->next_step < SCRIPT_LEN && script[d->next_step].at_ms <= t)
		run_step(d, &script[d->next_step++]);
	observe(d);
	state_key(d, key, sizeof(key));
	if (strcmp(key, d->last_key) != 0) {
		memcpy(d->last_key, key, sizeof(key));
		why = "change";
	} else if (demo_now(d) - d->last_table_ms >= TABLE_EVERY_MS) {
		why = "every 5 s";
	}
	if (t >= DEMO_END_MS) {
		print_table(d, "end");
		demo_rig_end(&d->rig, verdict(d));
		return;
	}
	if (why)
		print_table(d, why);
	demo_rig_schedule(&d->rig, &d->sul_script, script_cb, SCRIPT_STEP_MS);
}

/* ---- set-up and teardown ---- */

static void demo_ocpp_config(struct gw_config *cfg, const char *ocpp_url)
{
	cfg->ocpp.enabled = true;
	snprintf(cfg->ocpp.url, sizeof(cfg->ocpp.url), "%s", ocpp_url);
	snprintf(cfg->ocpp.charge_box_id, sizeof(cfg->ocpp.charge_box_id), "twcgw-demo");
	cfg->ocpp.id_tag_source = OCPP_IDTAG_FIXED;
	snprintf(cfg->ocpp.id_tag_fixed, sizeof(cfg->ocpp.id_tag_fixed), "DEMO");
	snprintf(cfg->ocpp.vendor, sizeof(cfg->ocpp.vendor), "twcgw");
	snprintf(cfg->ocpp.model, sizeof(cfg->ocpp.model), "TWC-Gen2-Gateway");
	cfg->ocpp.call_timeout = 30;
}

static int share_run(double speed, const char *ocpp_url, const char *http, bool http_given)
{
	struct twc_sim_config sc;
	struct gw_config cfg;
	struct demo *d;
	int code = 1;

	d = calloc(1, sizeof(*d));
	if (!d)
		return 1;
	demo_rig_config(&cfg, DEMO_AVAILABLE_A, DEMO_PER_TWC_A);
	if (ocpp_url)
		demo_ocpp_config(&cfg, ocpp_url);
	demo_rig_sim_config(&sc, DEMO_SLAVES, slave_ids);
	if (demo_rig_open(&d->rig, speed, &sc, &cfg) != 0)
		goto out;
	/* Standalone, the bus offers nothing until a policy decides; under OCPP the central system
	 * decides alone, as it does in a real installation while it is reachable. */
	if (ocpp_url)
		d->ocpp = gw_ocpp_new(d->rig.loop, &d->rig.clock, &cfg, d->rig.bus);
	else
		d->policy = gw_policy_new(d->rig.loop, &d->rig.clock, &cfg, d->rig.bus, NULL, NULL);
	if (ocpp_url ? !d->ocpp : !d->policy) {
		gw_log_error("demo: set-up failed");
		goto out;
	}
	if (demo_rig_web(&d->rig, &cfg, http, http_given, d->policy, d->ocpp) != 0)
		goto out;
	demo_rig_start(&d->rig);

	printf("twcgw demo: 3 simulated TWC slaves (protocol 2, fw 4.5.3, 32 A), wiring %d A total / %d A per TWC,\n"
	       "policy %s, %d A available; simulated time runs %gx real time, %u s in all.\n",
	       DEMO_AVAILABLE_A, DEMO_PER_TWC_A, ocpp_url ? "ocpp" : "charge-now", DEMO_AVAILABLE_A, d->rig.clock.speed,
	       DEMO_END_MS / 1000u);
	if (ocpp_url)
		printf("OCPP: charge point \"twcgw-demo\" at %s, idTag \"DEMO\" for every car; a car charges once the\n"
		       "central system accepts its transaction.\n", ocpp_url);
	fflush(stdout);
	lws_sul_schedule(gw_loop_context(d->rig.loop), 0, &d->sul_script, script_cb, 1);

	code = demo_rig_run(&d->rig);
	if (code == GW_LOOP_RESTART)
		printf("\nthe central system asked for a Reset: restarting the demo\n");

out:
	/* Timers first, then the context (it closes both socket ends' dups), then our objects. */
	d->rig.finished = true;
	lws_sul_cancel(&d->sul_script);
	gw_policy_stop(d->policy);
	gw_ocpp_stop(d->ocpp);
	demo_rig_close(&d->rig);
	gw_policy_free(d->policy);
	gw_ocpp_free(d->ocpp);
	demo_rig_free(&d->rig);
	free(d);
	return code;
}

/* ==== entry ==== */

int gw_demo_scenario_from_name(const char *name)
{
	if (strcmp(name, "solar") == 0)
		return GW_DEMO_SOLAR;
	if (strcmp(name, "share") == 0)
		return GW_DEMO_SHARE;
	return -1;
}

int gw_demo_run(enum gw_demo_scenario scenario, double speed, const char *ocpp_url, const char *http)
{
	/* 8080 is only the default: a demo never fails because something else has it. */
	bool http_given = http && strcmp(http, "127.0.0.1:8080") != 0;

	if (scenario == GW_DEMO_SOLAR) {
		if (ocpp_url) {
			gw_log_error("demo: the solar day runs without OCPP");
			return 1;
		}
		return demo_solar_run(speed, http, http_given);
	}
	return share_run(speed > 0 ? speed : DEMO_SPEED, ocpp_url, http, http_given);
}
