/*
 * gw_demo_solar: the demo's solar day. One simulated TWC with one car sits on the shared demo rig (the
 * real gw_bus over a socketpair to the twc_sim core), and the real policy engine (gw_policy, mode
 * track-green) decides how much it may charge. Instead of meters the policy reads a synthetic house:
 * sim_solar's cloudy day for PV and house load, plus what the simulated car really draws. The day
 * runs SOLAR_FACTOR times faster than the gateway's clock, and the policy's delays are divided by the
 * same factor so they keep their proportion to the clouds. A script timer integrates the day's energy
 * second by second of solar time, prints a line every 15 solar minutes and at every start and stop,
 * and ends with a summary and a verdict measured during the run.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "ems.h"
#include "gw_config.h"
#include "gw_demo_rig.h"
#include "gw_log.h"
#include "gw_policy.h"
#include "sim_solar.h"
#include "twc_sim.h"

#define SOLAR_FACTOR 10          /* solar seconds per gateway second */
#define SOLAR_START_S (6 * 3600)
#define SOLAR_END_S (21 * 3600)
#define SOLAR_SPEED 90.0         /* default gateway speed: 5400 gateway s in 60 s */
#define SOLAR_AMPS 32            /* wiring, all TWCs and per TWC; also the car's own maximum */
#define SOLAR_MIN_A 6
#define SOLAR_VOLTS 230
#define SOLAR_SLAVE_ID 0x1234
#define SOLAR_VIN "5YJ3E1EA8KF000001"
/* The policy's delays in solar seconds: the gateway's defaults. */
#define SOLAR_ENABLE_S 60
#define SOLAR_DISABLE_S 180
#define SOLAR_DWELL_S 120
#define SOLAR_MARGIN_W 100
#define STEP_MS 100u             /* gateway ms between script steps: 1 solar s */
#define LINE_EVERY_S (15 * 60)   /* solar */
/* The verdict's bars. */
#define PASS_MIN_KWH 5.0
#define PASS_MIN_SOLAR_SHARE 0.70
#define PASS_MAX_SWITCHES 24     /* 12 start/stop cycles: the default timers give 9 on this day */

struct solar {
	struct demo_rig rig;
	struct sim_solar_day *day;
	struct gw_policy *policy;
	lws_sorted_usec_list_t sul_script;
	uint64_t steps;           /* script steps so far; step k is due at k x STEP_MS */
	uint32_t next_line_s;     /* solar time of the next regular line */
	uint32_t integrated_s;    /* solar seconds [SOLAR_START_S, integrated_s) are summed */
	double car_w;             /* the car's draw at the last step, held until the next */
	double read_pv, read_house, read_grid; /* what the policy's meter last read, W */
	unsigned starts, stops;   /* as last printed */
	/* Energy over the day, Wh. */
	double pv_wh, house_wh, car_wh, solar_car_wh, import_wh, export_wh;
};

/* Solar seconds after midnight at gateway time @now_ms. */
static double solar_time(const struct solar *s, uint64_t now_ms)
{
	uint64_t e = now_ms > s->rig.start_ms ? now_ms - s->rig.start_ms : 0;

	return SOLAR_START_S + (double)e * SOLAR_FACTOR / 1000.0;
}

static uint32_t solar_second(double t)
{
	return t >= 86399 ? 86399 : (uint32_t)t;
}

/* What the car draws now, W: the simulator's truth, not what the bus has heard. */
static double car_draw_w(const struct solar *s)
{
	struct twc_sim_slave_status ss;

	if (twc_sim_slave_status(s->rig.sim, 0, &ss) != 0)
		return 0;
	return ss.drawn_amps * SOLAR_VOLTS;
}

/* The policy's meter: the synthetic house at the solar time, the car inside its load and grid. */
static void solar_read(void *user, uint64_t now_ms, struct ems_reading *out)
{
	struct solar *s = user;
	uint32_t t = solar_second(solar_time(s, now_ms));
	double pv = sim_solar_pv_w(s->day, t), house = sim_solar_load_w(s->day, t), car = car_draw_w(s);

	out->v[EMS_GRID] = house + car - pv;
	out->v[EMS_PV] = pv;
	out->v[EMS_LOAD] = house + car;
	s->read_pv = pv;
	s->read_house = house;
	s->read_grid = out->v[EMS_GRID];
}

/* Sum whole solar seconds up to @t with the car at the draw seen at the previous step. */
static void integrate_to(struct solar *s, double t)
{
	uint32_t end = t >= SOLAR_END_S ? SOLAR_END_S : (uint32_t)t;

	for (; s->integrated_s < end; s->integrated_s++) {
		double pv = sim_solar_pv_w(s->day, s->integrated_s);
		double house = sim_solar_load_w(s->day, s->integrated_s);
		double spare = pv - house > 0 ? pv - house : 0;
		double grid = house + s->car_w - pv;

		s->pv_wh += pv / 3600.0;
		s->house_wh += house / 3600.0;
		s->car_wh += s->car_w / 3600.0;
		s->solar_car_wh += (s->car_w < spare ? s->car_w : spare) / 3600.0;
		if (grid > 0)
			s->import_wh += grid / 3600.0;
		else
			s->export_wh += -grid / 3600.0;
	}
}

/* ---- output ---- */

static void print_header(const struct solar *s)
{
	printf("twcgw demo: a cloudy day of solar charging, 06:00 to 21:00.\n"
	       "\n"
	       "What is simulated: one TWC slave (protocol 2, fw 4.5.3, 32 A) on the gateway's real bus code, with a\n"
	       "car (max %d A) plugged in all day; wiring %d A total / %d A per TWC, min %d A, %d V, 1 phase. The\n"
	       "house and its PV array are synthetic too (a ~9.5 kWp array under passing clouds and a household\n"
	       "with a kettle, a washer and an oven: sim_solar \"cloudy\", seed 1); they stand in for the energy\n"
	       "meter the policy engine would read.\n"
	       "The policy (track-green): charge from the solar surplus only, 100 W kept back. Start once the\n"
	       "surplus has paid for %d A for %d minute; meanwhile follow the surplus; when it falls short keep\n"
	       "%d A and stop once that has cost as much grid energy as %d minutes of %d A (a thin cloud takes\n"
	       "longer, sun pays it back); never sooner than %d minutes after the last start or stop. These are\n"
	       "the defaults; bench_solar compares them with an oracle that knows the day.\n"
	       "Stopping: a real installation stops and starts the car through the Tesla vehicle API; the demo's\n"
	       "simulated TWC gets the firmware stop/start command instead (FC B2 / FC B1, twc.stopCommands).\n"
	       "Time: the day runs %dx faster than the gateway's clock, and the policy's delays are divided by\n"
	       "the same factor (%d s / %d s / %d s) so they keep their proportion to the clouds; the gateway's\n"
	       "clock runs %gx real time, so the day takes %.0f s. The bus, the TWC and the car keep their own\n"
	       "timing in gateway time, which the day stretches %d-fold: a new limit reaches the TWC with its\n"
	       "next heartbeat (up to %d s of the day), a car ramps for %d s, and the bus sends one TWC at most\n"
	       "one stop or start command per 60 s (%d minutes of the day), so a stopped car may wait a little\n"
	       "longer than the policy to start again.\n"
	       "\n"
	       "How to read a line: the time of day; then what the policy last read from its meter: pv = what\n"
	       "the panels make, house = the house without the car, surplus = pv - house, grid = + import /\n"
	       "- export; policy = the amps the policy allows the bus then, and why; TWC = the limit the gateway\n"
	       "told the slave / the limit in force on it (\"stopped\": its contactor is open; \"-\": told nothing\n"
	       "yet); car = what the car draws now. A line every 15 minutes and one whenever the policy starts\n"
	       "or stops charging.\n"
	       "\n"
	       " time   pv kW  house kW  surplus kW  policy                 TWC told/in force    car  grid kW\n",
	       SOLAR_AMPS, SOLAR_AMPS, SOLAR_AMPS, SOLAR_MIN_A, SOLAR_VOLTS, SOLAR_MIN_A, SOLAR_ENABLE_S / 60,
	       SOLAR_MIN_A, SOLAR_DISABLE_S / 60, SOLAR_MIN_A, SOLAR_DWELL_S / 60, SOLAR_FACTOR,
	       SOLAR_ENABLE_S / SOLAR_FACTOR, SOLAR_DISABLE_S / SOLAR_FACTOR, SOLAR_DWELL_S / SOLAR_FACTOR,
	       s->rig.clock.speed, (double)(SOLAR_END_S - SOLAR_START_S) / SOLAR_FACTOR / s->rig.clock.speed,
	       SOLAR_FACTOR, SOLAR_FACTOR, 2 * SOLAR_FACTOR, SOLAR_FACTOR);
	fflush(stdout);
}

static void print_line(const struct solar *s, double t, const struct gw_policy_state *ps, const char *note)
{
	uint32_t sec = solar_second(t);
	struct twc_sim_slave_status ss;
	char told[16], policy[48];

	twc_sim_slave_status(s->rig.sim, 0, &ss);
	if (ss.told_amps >= 0)
		snprintf(told, sizeof(told), "%d", ss.told_amps);
	else
		snprintf(told, sizeof(told), "-");
	snprintf(policy, sizeof(policy), "%2d A %s", ps->amps, ps->reason ? ps->reason : "-");
	printf(" %02u:%02u  %5.2f  %8.2f  %10.2f  %-20s  %4s / %2d A %-7s  %4.1f A  %+6.2f%s%s\n", sec / 3600,
	       sec / 60 % 60, s->read_pv / 1000, s->read_house / 1000, (s->read_pv - s->read_house) / 1000, policy,
	       told, ss.in_force_amps, ss.contactor_open ? "stopped" : "", ss.drawn_amps, s->read_grid / 1000,
	       note ? "   " : "", note ? note : "");
	fflush(stdout);
}

static int verdict(const struct solar *s, const struct gw_policy_state *ps)
{
	struct twc_sim_stats st;
	double share = s->car_wh > 0 ? s->solar_car_wh / s->car_wh : 0;
	unsigned switches = ps->starts + ps->stops;
	char why[256] = "";
	/* The operator took over from the page: the day's solar figures then say nothing of the policy. */
	bool changed = demo_rig_policy_changed(&s->rig);

	twc_sim_stats(s->rig.sim, &st);
	printf("\nThe day in figures (06:00-21:00, summed second by second of solar time):\n"
	       "  pv       %6.1f kWh made by the panels\n"
	       "  house    %6.1f kWh used by the house without the car\n"
	       "  charged  %6.1f kWh into the car, %.0f %% of it (%.1f kWh) covered by solar\n"
	       "  grid     %6.1f kWh imported, %.1f kWh exported\n"
	       "  charging %u starts, %u stops (the policy's count)\n"
	       "  limits   peak sum of limits in force %d A (the simulator's record) vs %d A wiring\n",
	       s->pv_wh / 1000, s->house_wh / 1000, s->car_wh / 1000, share * 100, s->solar_car_wh / 1000,
	       s->import_wh / 1000, s->export_wh / 1000, ps->starts, ps->stops, st.max_in_force_total, SOLAR_AMPS);
	if (st.max_in_force_total > SOLAR_AMPS)
		snprintf(why, sizeof(why), "the limits in force reached %d A, above the %d A wiring",
			 st.max_in_force_total, SOLAR_AMPS);
	else if (!changed && s->car_wh / 1000 <= PASS_MIN_KWH)
		snprintf(why, sizeof(why), "the car charged only %.1f kWh (more than %.0f kWh expected)",
			 s->car_wh / 1000, PASS_MIN_KWH);
	else if (!changed && share < PASS_MIN_SOLAR_SHARE)
		snprintf(why, sizeof(why), "only %.0f %% of the charge came from solar (at least %.0f %% expected)",
			 share * 100, PASS_MIN_SOLAR_SHARE * 100);
	else if (!changed && switches > PASS_MAX_SWITCHES)
		snprintf(why, sizeof(why), "charging flapped: %u starts + %u stops (at most %d expected)", ps->starts,
			 ps->stops, PASS_MAX_SWITCHES);
	else if (st.rx_bad || st.forbidden)
		snprintf(why, sizeof(why), "the simulator saw %u bad and %u forbidden frames from the master",
			 st.rx_bad, st.forbidden);
	printf("\n");
	if (why[0])
		printf("verdict: FAIL - %s\n", why);
	else if (changed)
		printf("verdict: PASS - the policy was changed from the status page, so only the safety checks apply: "
		       "peak sum of limits in force %d A <= %d A wiring\n", st.max_in_force_total, SOLAR_AMPS);
	else
		printf("verdict: PASS - charged %.1f kWh, %.0f %% from solar; %u starts + %u stops on a cloudy day; "
		       "peak sum of limits in force %d A <= %d A wiring\n",
		       s->car_wh / 1000, share * 100, ps->starts, ps->stops, st.max_in_force_total, SOLAR_AMPS);
	fflush(stdout);
	return why[0] ? 1 : 0;
}

/* ---- the script ---- */

static void script_cb(lws_sorted_usec_list_t *sul)
{
	struct solar *s = lws_container_of(sul, struct solar, sul_script);
	double t = solar_time(s, demo_rig_now(&s->rig));
	struct gw_policy_state ps;
	const char *note = NULL;
	uint64_t due, elapsed;

	integrate_to(s, t);
	s->car_w = car_draw_w(s);
	gw_policy_state(s->policy, &ps);
	if (ps.starts != s->starts)
		note = "<< the policy starts charging";
	else if (ps.stops != s->stops)
		note = "<< the policy stops charging";
	s->starts = ps.starts;
	s->stops = ps.stops;
	if (t >= SOLAR_END_S) {
		print_line(s, SOLAR_END_S, &ps, note);
		demo_rig_end(&s->rig, verdict(s, &ps));
		return;
	}
	if (note || t >= s->next_line_s) {
		print_line(s, t, &ps, note);
		while (s->next_line_s <= t)
			s->next_line_s += LINE_EVERY_S;
	}
	/* Steps at fixed points of gateway time, so timer latency never accumulates into drift. */
	s->steps++;
	due = s->steps * STEP_MS;
	elapsed = demo_rig_elapsed(&s->rig);
	demo_rig_schedule(&s->rig, &s->sul_script, script_cb, due > elapsed ? due - elapsed : 1);
}

/* ---- set-up and teardown ---- */

static void solar_config(struct gw_config *cfg)
{
	demo_rig_config(cfg, SOLAR_AMPS, SOLAR_AMPS);
	cfg->twc.min_amps = SOLAR_MIN_A;
	cfg->twc.voltage = SOLAR_VOLTS;
	cfg->twc.stop_commands = true;
	cfg->policy.mode = EMS_POLICY_TRACK_GREEN;
	cfg->policy.enable_delay = SOLAR_ENABLE_S / SOLAR_FACTOR;
	cfg->policy.disable_delay = SOLAR_DISABLE_S / SOLAR_FACTOR;
	cfg->policy.dwell = SOLAR_DWELL_S / SOLAR_FACTOR;
	cfg->policy.margin_w = SOLAR_MARGIN_W;
	cfg->policy.load_includes_chargers = true;
	cfg->policy.fallback_after = 300;
}

int demo_solar_run(double speed, const char *http, bool http_given)
{
	static const uint16_t ids[1] = { SOLAR_SLAVE_ID };
	struct twc_sim_config sc;
	struct gw_policy_source src;
	struct gw_config cfg;
	struct solar *s;
	int code = 1;

	s = calloc(1, sizeof(*s));
	if (!s)
		return 1;
	s->next_line_s = SOLAR_START_S;
	s->integrated_s = SOLAR_START_S;
	s->day = sim_solar_day_new(SIM_SOLAR_CLOUDY, 1);
	solar_config(&cfg);
	demo_rig_sim_config(&sc, 1, ids);
	if (!s->day || demo_rig_open(&s->rig, speed > 0 ? speed : SOLAR_SPEED, &sc, &cfg) != 0)
		goto out;
	if (twc_sim_plug(s->rig.sim, 0, SOLAR_AMPS, SOLAR_VIN, demo_rig_now(&s->rig)) != 0)
		goto out;
	src.user = s;
	src.read = solar_read;
	s->policy = gw_policy_new(s->rig.loop, &s->rig.clock, &cfg, s->rig.bus, NULL, &src);
	if (!s->policy) {
		gw_log_error("demo: set-up failed");
		goto out;
	}
	if (demo_rig_web(&s->rig, &cfg, http, http_given, s->policy, NULL) != 0)
		goto out;
	demo_rig_start(&s->rig);
	print_header(s);
	lws_sul_schedule(gw_loop_context(s->rig.loop), 0, &s->sul_script, script_cb, 1);

	code = demo_rig_run(&s->rig);

out:
	s->rig.finished = true;
	lws_sul_cancel(&s->sul_script);
	gw_policy_stop(s->policy);
	demo_rig_close(&s->rig);
	gw_policy_free(s->policy);
	demo_rig_free(&s->rig);
	sim_solar_day_free(s->day);
	free(s);
	return code;
}
