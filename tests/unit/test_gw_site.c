/*
 * Tests of gw_site on a real loop: two gw_bus objects, each over a socketpair to its own twc_sim
 * core with one slave, sharing a 40 A site on a clock sped up 40 times. Checked at every step of the
 * run (every 20 simulated ms): the sum of what the simulated slaves really hold never exceeds the
 * site; and the budgets follow the story: one car alone gets its wiring, a second car on the other
 * bus gets only the free room while the first has not heard its lowering, then half once the first
 * came down, a bus whose slave fell silent keeps its share reserved
 * until that slave must have stopped, and a bus taken out of the site leaves its hold reserved.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <libwebsockets.h>

#include "gw_bus.h"
#include "gw_clock.h"
#include "gw_config.h"
#include "gw_held.h"
#include "gw_log.h"
#include "gw_loop.h"
#include "gw_port.h"
#include "gw_site.h"
#include "gw_timer.h"
#include "twc_sim.h"

#define SPEED 40.0
#define SITE_AMPS 40
#define STEP_MS 20u        /* simulated ms between two checks */
#define WATCHDOG_US (120 * 1000000ull)

struct side {
	struct twc_sim *sim;
	struct gw_port *port;
	struct gw_bus *bus;
	char dir[64];
};

struct fixture {
	struct gw_loop *loop;
	struct gw_clock clock;
	uint64_t t0;
	struct side s[2];
	struct gw_site *site;
	lws_sorted_usec_list_t pump, watchdog;
	int phase;
	bool b_in_site;
	int max_sum;          /* most the slaves of the site's buses held together */
	int max_a_while_b_holds;
	int failures;
	char why[256];
};

static struct fixture F;

static uint64_t sim_t(void)
{
	return gw_clock_now_ms(&F.clock) - F.t0;
}

static int sim_write(void *user, const uint8_t *bytes, size_t len)
{
	struct side *sd = user;

	return gw_port_write(sd->port, bytes, len);
}

static void sim_rx(void *user, const uint8_t *bytes, size_t len)
{
	struct side *sd = user;

	twc_sim_input(sd->sim, bytes, len, gw_clock_now_ms(&F.clock));
}

static struct twc_sim_slave_status slave(int k)
{
	struct twc_sim_slave_status st;

	memset(&st, 0, sizeof(st));
	twc_sim_slave_status(F.s[k].sim, 0, &st);
	return st;
}

static void fail_at(const char *what)
{
	if (!F.failures++)
		snprintf(F.why, sizeof(F.why), "t=%llu ms phase %d: %s", (unsigned long long)sim_t(), F.phase, what);
	gw_loop_stop(F.loop, 0);
}

static void pump_cb(lws_sorted_usec_list_t *sul)
{
	uint64_t now = gw_clock_now_ms(&F.clock), t = sim_t();
	struct twc_sim_slave_status a, b;
	int sum;

	(void)sul;
	for (int k = 0; k < 2; k++)
		twc_sim_tick(F.s[k].sim, now);
	a = slave(0);
	b = slave(1);
	sum = a.held_amps + (F.b_in_site ? b.held_amps : 0);
	if (sum > F.max_sum)
		F.max_sum = sum;
	if (sum > SITE_AMPS)
		fail_at("the slaves hold more than the site");

	switch (F.phase) {
	case 0: /* both slaves found; a car on A alone */
		if (t >= 3000) {
			twc_sim_plug(F.s[0].sim, 0, 32, NULL, now);
			F.phase++;
		}
		break;
	case 1: /* A gets its wiring; then a car on B */
		if (t >= 15000) {
			if (a.told_amps != 32 || gw_site_budget(F.site, F.s[0].bus) != 32)
				fail_at("one car alone does not get 32 A");
			twc_sim_plug(F.s[1].sim, 0, 32, NULL, now);
			/* A's slave misses what it is told for 5 s, charging on at 32 A meanwhile: B may
			 * have only the 8 A left until A has reported its lowering. */
			twc_sim_fault(F.s[0].sim, 0, TWC_SIM_FAULT_DROP, 5);
			F.phase++;
		}
		break;
	case 2: /* half each; then B's slave falls silent while charging */
		if (t < 15000 + 5000 && b.told_amps > 8)
			fail_at("B raised into room A had not given up yet");
		if (t >= 35000) {
			if (a.told_amps != 20 || b.told_amps != 20 || gw_site_budget(F.site, F.s[0].bus) != 20 ||
			    gw_site_budget(F.site, F.s[1].bus) != 20)
				fail_at("two cars do not get 20 A each");
			twc_sim_fault(F.s[1].sim, 0, TWC_SIM_FAULT_MUTE, 1);
			F.phase++;
		}
		break;
	case 3: /* B's core keeps its 20 A until 60 s after its last heartbeat: A may not take them */
		if (a.told_amps > F.max_a_while_b_holds)
			F.max_a_while_b_holds = a.told_amps;
		if (t >= 35000 + 26000 + 55000) {
			if (F.max_a_while_b_holds != 20)
				fail_at("A took room a silent bus may still hold");
			F.phase++;
		}
		break;
	case 4: /* released: A gets its wiring; then B's slave speaks again */
		if (t >= 35000 + 26000 + 60000 + 15000) {
			if (a.told_amps != 32 || gw_site_budget(F.site, F.s[0].bus) != 32)
				fail_at("A did not get the released room");
			twc_sim_fault(F.s[1].sim, 0, TWC_SIM_FAULT_MUTE, 0);
			F.phase++;
		}
		break;
	case 5: /* B back (it announces itself every 10 s): half each again; then B leaves the site */
		if (t >= 136000 + 30000) {
			if (a.told_amps != 20 || b.told_amps != 20)
				fail_at("B back: not 20 A each");
			gw_site_remove(F.site, F.s[1].bus);
			F.b_in_site = false;
			F.max_a_while_b_holds = 0;
			F.phase++;
		}
		break;
	case 6: /* its 20 A stay reserved for TWC_HOLD_RELEASE_MS, then A gets them */
		if (t < 166000 + TWC_HOLD_RELEASE_MS - 2000) {
			if (a.told_amps > F.max_a_while_b_holds)
				F.max_a_while_b_holds = a.told_amps;
			if (gw_site_budget(F.site, F.s[0].bus) != 20)
				fail_at("a removed bus's hold was not kept");
		} else if (t >= 166000 + TWC_HOLD_RELEASE_MS + 12000) {
			if (F.max_a_while_b_holds != 20 || a.told_amps != 32)
				fail_at("A not raised once the removed bus's hold ended");
			gw_loop_stop(F.loop, 0);
			return;
		}
		break;
	}
	gw_timer_in(F.loop, &F.clock, &F.pump, pump_cb, STEP_MS);
}

static void watchdog_cb(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	fail_at("watchdog");
}

static void side_open(struct side *sd, const char *name, uint16_t id, uint32_t seed)
{
	struct gw_port_handlers ph = { .user = sd, .on_rx = sim_rx };
	struct twc_sim_env env = { .user = sd, .write = sim_write };
	struct twc_sim_config sc;
	struct gw_config cfg;
	char text[512], err[256];
	int sv[2];

	snprintf(sd->dir, sizeof(sd->dir), "/tmp/test_gw_site.XXXXXX");
	assert_non_null(mkdtemp(sd->dir));
	snprintf(text, sizeof(text),
		 "{\"dataDir\": \"%s\", \"twc\": {\"port\": \"/dev/null\", \"wiringMaxAmpsAllTWCs\": 32, "
		 "\"wiringMaxAmpsPerTWC\": 32, \"minAmpsPerTWC\": 6}}", sd->dir);
	assert_int_equal(gw_config_from_json_text(text, "<test>", &cfg, err, sizeof(err)), 0);
	memset(&sc, 0, sizeof(sc));
	sc.slaves = 1;
	sc.seed = seed;
	sc.voltage = 230;
	sc.phases = 1;
	sc.slave[0].id = id;
	sc.slave[0].sign = 0x42;
	sc.slave[0].protocol = 2;
	sc.slave[0].rated_amps = 32;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	sd->port = gw_port_new_fd(F.loop, sv[1], name, &ph);
	sd->sim = twc_sim_new(&sc, &env, gw_clock_now_ms(&F.clock));
	sd->bus = gw_bus_new_fd(F.loop, &F.clock, &cfg, sv[0], name);
	assert_non_null(sd->port);
	assert_non_null(sd->sim);
	assert_non_null(sd->bus);
	gw_port_start(sd->port);
	/* Standalone the policy decides the total; here the site alone limits. */
	assert_int_equal(gw_bus_set_policy_cap(sd->bus, -1), 0);
}

static void side_close(struct side *sd)
{
	char path[128];

	gw_bus_free(sd->bus);
	gw_port_free(sd->port);
	twc_sim_free(sd->sim);
	snprintf(path, sizeof(path), "%s/%s", sd->dir, GW_HELD_FILE);
	unlink(path);
	if (rmdir(sd->dir) != 0)
		fprintf(stderr, "left %s behind\n", sd->dir);
}

static void test_site_two_buses(void **state)
{
	static const struct gw_loop_handlers nh = { 0 };

	(void)state;
	memset(&F, 0, sizeof(F));
	gw_log_init(GW_LOG_WARN);
	gw_clock_init(&F.clock, SPEED);
	F.t0 = gw_clock_now_ms(&F.clock);
	F.loop = gw_loop_new(&nh);
	assert_non_null(F.loop);
	side_open(&F.s[0], "busA", 0x1111, 1);
	side_open(&F.s[1], "busB", 0x2222, 2);
	F.site = gw_site_new(F.loop, SITE_AMPS);
	assert_non_null(F.site);
	assert_int_equal(gw_site_add(F.site, F.s[0].bus), 0);
	assert_int_equal(gw_site_add(F.site, F.s[1].bus), 0);
	assert_int_equal(gw_site_add(F.site, F.s[1].bus), -EEXIST);
	F.b_in_site = true;
	gw_timer_in(F.loop, &F.clock, &F.pump, pump_cb, STEP_MS);
	lws_sul_schedule(gw_loop_context(F.loop), 0, &F.watchdog, watchdog_cb, WATCHDOG_US);

	gw_loop_run(F.loop);

	lws_sul_cancel(&F.watchdog);
	lws_sul_cancel(&F.pump);
	gw_site_free(F.site);
	for (int k = 0; k < 2; k++) {
		gw_bus_stop(F.s[k].bus);
		gw_port_stop(F.s[k].port);
	}
	gw_loop_free(F.loop);
	for (int k = 0; k < 2; k++)
		side_close(&F.s[k]);
	if (F.failures)
		fail_msg("%s", F.why);
	assert_int_equal(F.phase, 6);
	assert_true(F.max_sum <= SITE_AMPS);
	assert_int_equal(F.max_sum, SITE_AMPS); /* and the site was used in full */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_site_two_buses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
