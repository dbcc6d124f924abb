/*
 * Tests of the chart's history ring (gw_history): samples on a grid of gateway time mapped onto the wall
 * clock of the first offer, wrap-around keeping the newest, the since filter, connectors that come and
 * go (null where absent, a slot reused only once the ring has forgotten its connector), unknown values
 * as null, rounding, and the newest sample alone for the live page.
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

#include "gw_history.h"

#define WALL0 1765100000123LL /* the wall clock at the first offer */
#define T0 1765100000LL       /* ... as the whole second the chart starts at */

/* A status at gateway time @sim_ms with the given connectors (number, measured A; 0 ends). */
static void status_at(struct gw_status *st, uint64_t sim_ms, double surplus, const int *conn, const double *amps)
{
	memset(st, 0, sizeof(*st));
	/* The wall clock runs at its own pace: the demo's gateway clock is faster. It must not matter. */
	st->wall_ms = WALL0 + (int64_t)sim_ms / 60;
	st->sim_ms = sim_ms;
	st->policy.surplus_w = surplus;
	st->policy.house_w = 600;
	st->policy.pv_w = NAN;
	st->policy.grid_w = -1;
	for (int i = 0; conn && conn[i] && i < GW_STATUS_CONNECTORS_MAX; i++) {
		st->c[i].connector = conn[i];
		st->c[i].measured_amps = amps[i];
		st->n_connectors = i + 1;
	}
}

/* The JSON compact with sorted keys, compared whole: the shape is the contract. */
static void assert_json(json_t *j, const char *want)
{
	char *got;

	assert_non_null(j);
	got = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(got);
	if (strcmp(got, want) != 0)
		fail_msg("got  %s\nwant %s", got, want);
	free(got);
	json_decref(j);
}

static void test_new_args(void **state)
{
	(void)state;
	assert_null(gw_history_new(0, 60000));
	assert_null(gw_history_new(10, 0));
	assert_null(gw_history_new(SIZE_MAX / 2, 60000));
	gw_history_free(NULL);
}

static void test_empty(void **state)
{
	struct gw_history *h = gw_history_new(4, 60000);

	(void)state;
	assert_non_null(h);
	assert_int_equal(gw_history_count(h), 0);
	assert_json(gw_history_json(h, 0),
		    "{\"amps\":[],\"connectors\":[],\"houseW\":[],\"intervalS\":60,\"pvW\":[],\"surplusW\":[],\"t\":[]}");
	assert_json(gw_history_last_json(h),
		    "{\"amps\":[],\"connectors\":[],\"houseW\":[],\"intervalS\":60,\"pvW\":[],\"surplusW\":[],\"t\":[]}");
	gw_history_free(h);
}

/* One sample per interval of gateway time, on the grid from the first offer, whatever the offer rate. */
static void test_interval(void **state)
{
	struct gw_history *h = gw_history_new(10, 60000);
	const int conn[] = { 1, 0 };
	const double amps[] = { 16 };
	struct gw_status st;
	char want[512];

	(void)state;
	status_at(&st, 5000, 100, conn, amps);
	assert_int_equal(gw_history_offer(h, &st), 1); /* the first offer is the first sample */
	status_at(&st, 6000, 200, conn, amps);
	assert_int_equal(gw_history_offer(h, &st), 0);
	status_at(&st, 64999, 300, conn, amps);
	assert_int_equal(gw_history_offer(h, &st), 0);
	status_at(&st, 65000, 400, conn, amps);
	assert_int_equal(gw_history_offer(h, &st), 1);
	status_at(&st, 65000, 450, conn, amps); /* the same time again */
	assert_int_equal(gw_history_offer(h, &st), 0);
	status_at(&st, 130000, 500, conn, amps); /* late: stands for 125 s, the grid does not drift */
	assert_int_equal(gw_history_offer(h, &st), 1);
	status_at(&st, 184999, 600, conn, amps);
	assert_int_equal(gw_history_offer(h, &st), 0);
	status_at(&st, 185000, 700, conn, amps);
	assert_int_equal(gw_history_offer(h, &st), 1);
	/* A stall of several intervals: one sample, at the latest grid point passed. */
	status_at(&st, 185000 + 4 * 60000 + 10, 800, conn, amps);
	assert_int_equal(gw_history_offer(h, &st), 1);
	status_at(&st, 185000 + 4 * 60000 + 20, 900, conn, amps);
	assert_int_equal(gw_history_offer(h, &st), 0);
	/* A clock that went back takes nothing. */
	status_at(&st, 1000, 999, conn, amps);
	assert_int_equal(gw_history_offer(h, &st), 0);
	assert_int_equal(gw_history_count(h), 5);

	snprintf(want, sizeof(want),
		 "{\"amps\":[[16.0,16.0,16.0,16.0,16.0]],\"connectors\":[1],\"houseW\":[600,600,600,600,600],"
		 "\"intervalS\":60,\"pvW\":[null,null,null,null,null],\"surplusW\":[100,400,500,700,800],"
		 "\"t\":[%lld,%lld,%lld,%lld,%lld]}",
		 T0, T0 + 60, T0 + 120, T0 + 180, T0 + 420);
	assert_json(gw_history_json(h, 0), want);
	gw_history_free(h);
}

/* A sped-up clock: the chart spans gateway time, not the few wall minutes it took. */
static void test_sim_time(void **state)
{
	struct gw_history *h = gw_history_new(1440, 60000);
	struct gw_status st;
	json_t *j, *t;

	(void)state;
	for (uint64_t ms = 0; ms <= 24 * 3600 * 1000ULL; ms += 30000) {
		status_at(&st, ms, 1, NULL, NULL);
		gw_history_offer(h, &st);
	}
	assert_int_equal(gw_history_count(h), 1440);
	j = gw_history_json(h, 0);
	t = json_object_get(j, "t");
	assert_int_equal(json_array_size(t), 1440);
	/* 1441 grid points in a day and its end; the first fell off. */
	assert_int_equal(json_integer_value(json_array_get(t, 0)), T0 + 60);
	assert_int_equal(json_integer_value(json_array_get(t, 1439)), T0 + 24 * 3600);
	json_decref(j);
	gw_history_free(h);
}

static void test_wrap(void **state)
{
	struct gw_history *h = gw_history_new(3, 1000);
	const int conn[] = { 2, 0 };
	struct gw_status st;
	char want[512];

	(void)state;
	for (int i = 0; i < 7; i++) {
		const double amps[] = { i };

		status_at(&st, (uint64_t)i * 1000, i * 10, conn, amps);
		assert_int_equal(gw_history_offer(h, &st), 1);
		assert_int_equal(gw_history_count(h), i < 3 ? i + 1 : 3);
	}
	snprintf(want, sizeof(want),
		 "{\"amps\":[[4.0,5.0,6.0]],\"connectors\":[2],\"houseW\":[600,600,600],\"intervalS\":1,"
		 "\"pvW\":[null,null,null],\"surplusW\":[40,50,60],\"t\":[%lld,%lld,%lld]}",
		 T0 + 4, T0 + 5, T0 + 6);
	assert_json(gw_history_json(h, 0), want);
	snprintf(want, sizeof(want),
		 "{\"amps\":[[6.0]],\"connectors\":[2],\"houseW\":[600],\"intervalS\":1,\"pvW\":[null],"
		 "\"surplusW\":[60],\"t\":[%lld]}",
		 T0 + 6);
	assert_json(gw_history_last_json(h), want);
	gw_history_free(h);
}

static void test_since(void **state)
{
	struct gw_history *h = gw_history_new(10, 60000);
	struct gw_status st;
	char want[512];

	(void)state;
	for (int i = 0; i < 4; i++) {
		status_at(&st, (uint64_t)i * 60000, i, NULL, NULL);
		gw_history_offer(h, &st);
	}
	/* Strictly after: a page asks with the last t it has. */
	snprintf(want, sizeof(want),
		 "{\"amps\":[],\"connectors\":[],\"houseW\":[600,600],\"intervalS\":60,\"pvW\":[null,null],"
		 "\"surplusW\":[2,3],\"t\":[%lld,%lld]}",
		 T0 + 120, T0 + 180);
	assert_json(gw_history_json(h, T0 + 60), want);
	assert_json(gw_history_json(h, T0 + 61), want);
	assert_json(gw_history_json(h, T0 + 180),
		    "{\"amps\":[],\"connectors\":[],\"houseW\":[],\"intervalS\":60,\"pvW\":[],\"surplusW\":[],\"t\":[]}");
	assert_json(gw_history_json(h, INT64_MAX),
		    "{\"amps\":[],\"connectors\":[],\"houseW\":[],\"intervalS\":60,\"pvW\":[],\"surplusW\":[],\"t\":[]}");
	/* 0 and anything before the first sample: all of it. */
	{
		json_t *all = gw_history_json(h, 0), *early = gw_history_json(h, T0 - 1), *neg = gw_history_json(h, -5);

		assert_int_equal(json_array_size(json_object_get(all, "t")), 4);
		assert_true(json_equal(all, early));
		assert_true(json_equal(all, neg));
		json_decref(all);
		json_decref(early);
		json_decref(neg);
	}
	gw_history_free(h);
}

/* Connectors come and go: a series per connector number, in number order, null where absent. */
static void test_connectors(void **state)
{
	struct gw_history *h = gw_history_new(10, 1000);
	struct gw_status st;
	char want[512];

	(void)state;
	{
		const int conn[] = { 2, 1, 0 };
		const double amps[] = { 8.04, 15.96 };

		status_at(&st, 0, 0, conn, amps);
		gw_history_offer(h, &st);
	}
	{
		const int conn[] = { 1, 0 };
		const double amps[] = { 16 };

		status_at(&st, 1000, 0, conn, amps);
		gw_history_offer(h, &st);
	}
	{
		const int conn[] = { 2, 0 };
		const double amps[] = { NAN }; /* here, but not measured */

		status_at(&st, 2000, 0, conn, amps);
		gw_history_offer(h, &st);
	}
	status_at(&st, 3000, 0, NULL, NULL); /* nobody */
	gw_history_offer(h, &st);
	{
		const int conn[] = { 2, 2, 0 }; /* the same number twice: the first counts */
		const double amps[] = { 3, 4 };

		status_at(&st, 4000, 0, conn, amps);
		gw_history_offer(h, &st);
	}
	snprintf(want, sizeof(want),
		 "{\"amps\":[[16.0,16.0,null,null,null],[8.0,null,null,null,3.0]],\"connectors\":[1,2],"
		 "\"houseW\":[600,600,600,600,600],\"intervalS\":1,\"pvW\":[null,null,null,null,null],"
		 "\"surplusW\":[0,0,0,0,0],\"t\":[%lld,%lld,%lld,%lld,%lld]}",
		 T0, T0 + 1, T0 + 2, T0 + 3, T0 + 4);
	assert_json(gw_history_json(h, 0), want);
	/* The live sample lists the same connectors, so a page appends to the right series. */
	snprintf(want, sizeof(want),
		 "{\"amps\":[[null],[3.0]],\"connectors\":[1,2],\"houseW\":[600],\"intervalS\":1,\"pvW\":[null],"
		 "\"surplusW\":[0],\"t\":[%lld]}",
		 T0 + 4);
	assert_json(gw_history_last_json(h), want);
	gw_history_free(h);
}

/*
 * More connector numbers than slots: a newcomer is charted only once the ring has forgotten a
 * connector (no sample in it has that connector), and takes its slot; a connector gone from the whole
 * ring leaves the list.
 */
static void test_slot_reuse(void **state)
{
	struct gw_history *h = gw_history_new(2, 1000);
	struct gw_status st;
	char want[512];
	const int c123[] = { 1, 2, 3, 0 }, c124[] = { 1, 2, 4, 0 }, c4[] = { 4, 0 };
	const double amps[] = { 1, 2, 3 }, a4[] = { 4 };

	(void)state;
	status_at(&st, 0, 0, c123, amps);
	gw_history_offer(h, &st);
	status_at(&st, 1000, 0, c124, amps); /* 3 is still in the ring: 4 has no slot */
	gw_history_offer(h, &st);
	snprintf(want, sizeof(want),
		 "{\"amps\":[[1.0,1.0],[2.0,2.0],[3.0,null]],\"connectors\":[1,2,3],\"houseW\":[600,600],"
		 "\"intervalS\":1,\"pvW\":[null,null],\"surplusW\":[0,0],\"t\":[%lld,%lld]}",
		 T0, T0 + 1);
	assert_json(gw_history_json(h, 0), want);
	/* The ring will hold t+1 and t+2, neither with 3: 4 takes its slot, the first moment it can. */
	status_at(&st, 2000, 0, c124, amps);
	gw_history_offer(h, &st);
	snprintf(want, sizeof(want),
		 "{\"amps\":[[1.0,1.0],[2.0,2.0],[null,3.0]],\"connectors\":[1,2,4],\"houseW\":[600,600],"
		 "\"intervalS\":1,\"pvW\":[null,null],\"surplusW\":[0,0],\"t\":[%lld,%lld]}",
		 T0 + 1, T0 + 2);
	assert_json(gw_history_json(h, 0), want);
	/* Only 4 from now on: 1 and 2 leave the list once the ring has no sample with them. */
	status_at(&st, 3000, 0, c4, a4);
	gw_history_offer(h, &st);
	status_at(&st, 4000, 0, c4, a4);
	gw_history_offer(h, &st);
	snprintf(want, sizeof(want),
		 "{\"amps\":[[4.0,4.0]],\"connectors\":[4],\"houseW\":[600,600],\"intervalS\":1,\"pvW\":[null,null],"
		 "\"surplusW\":[0,0],\"t\":[%lld,%lld]}",
		 T0 + 3, T0 + 4);
	assert_json(gw_history_json(h, 0), want);
	gw_history_free(h);
}

/* Watts to whole numbers, amperes to a tenth, unknown or out of range null; a sub-second interval. */
static void test_values(void **state)
{
	struct gw_history *h = gw_history_new(4, 1500);
	const int conn[] = { 1, 0 };
	struct gw_status st;
	char want[512];

	(void)state;
	{
		const double amps[] = { 15.94 };

		status_at(&st, 0, 2800.6, conn, amps);
		st.policy.house_w = -0.4;
		st.policy.pv_w = 1e300; /* past a float: saturates, and is not a number to chart */
		gw_history_offer(h, &st);
	}
	{
		const double amps[] = { INFINITY };

		status_at(&st, 1500, NAN, conn, amps);
		st.policy.house_w = NAN;
		st.policy.pv_w = -3.5;
		gw_history_offer(h, &st);
	}
	snprintf(want, sizeof(want),
		 "{\"amps\":[[15.9,null]],\"connectors\":[1],\"houseW\":[0,null],\"intervalS\":1.5,"
		 "\"pvW\":[null,-4],\"surplusW\":[2801,null],\"t\":[%lld,%lld.5]}",
		 T0, T0 + 1);
	assert_json(gw_history_json(h, 0), want);
	gw_history_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_args), cmocka_unit_test(test_empty),	     cmocka_unit_test(test_interval),
		cmocka_unit_test(test_sim_time), cmocka_unit_test(test_wrap),	     cmocka_unit_test(test_since),
		cmocka_unit_test(test_connectors), cmocka_unit_test(test_slot_reuse), cmocka_unit_test(test_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
