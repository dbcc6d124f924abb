/*
 * tesla_limits: the two limits the vehicle API puts on the client, and the state file they survive a
 * restart in: the daily budget of paid calls (counted per UTC day) and the Retry-After block after a
 * 429, which must be honoured however long ago it was given.
 */
#include "tesla_internal.h"

#include <inttypes.h>

void tesla_state_save(struct tesla *t)
{
	tesla_json_store(t, TESLA_FILE_STATE,
			 json_pack("{s:I, s:I, s:I}", "blocked_until_ms", (json_int_t)t->st.blocked_until_ms,
				   "budget_day", (json_int_t)t->day, "paid_today", (json_int_t)t->st.paid_today),
			 false);
}

void tesla_budget_roll_day(struct tesla *t)
{
	int64_t d = tesla_day_of(t->wall);

	if (d == t->day)
		return;
	t->day = d;
	t->budget_logged = false;
	t->st.budget_exhausted = false;
	if (t->st.paid_today) {
		t->st.paid_today = 0;
		tesla_state_save(t);
	}
}

void tesla_budget_count_paid(struct tesla *t)
{
	tesla_budget_roll_day(t);
	t->st.paid_today++;
	if (t->st.paid_today >= (uint32_t)t->budget) {
		t->st.budget_exhausted = true;
		if (!t->budget_logged)
			tesla_log(t, CORE_LOG_WARN, "%" PRIu32 " paid calls today, the daily budget: no vehicle API "
						    "calls until 00:00 UTC", t->st.paid_today);
		t->budget_logged = true;
	}
	tesla_state_save(t);
}

void tesla_block_set(struct tesla *t, long retry_after_s)
{
	long s = retry_after_s < 0 ? BLOCK_DEFAULT_S : retry_after_s;
	int64_t until;

	s = s < 1 ? 1 : s > BLOCK_MAX_S ? BLOCK_MAX_S : s;
	until = t->wall + (int64_t)s * 1000;
	if (until > t->st.blocked_until_ms)
		t->st.blocked_until_ms = until;
	tesla_state_save(t);
	if (!t->block_logged)
		tesla_log(t, CORE_LOG_WARN, "rate limited (HTTP 429): no vehicle API calls for %ld s", s);
	t->block_logged = true;
}

/* The block is over once its time has come: forgotten, and the file says so. */
void tesla_block_expire(struct tesla *t)
{
	if (t->st.blocked_until_ms && t->wall >= t->st.blocked_until_ms) {
		t->st.blocked_until_ms = 0;
		t->block_logged = false;
		tesla_state_save(t);
		tesla_log(t, CORE_LOG_INFO, "the rate limit block is over");
	}
}

void tesla_state_load(struct tesla *t, const char *text)
{
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;
	const json_t *b = json_object_get(j, "blocked_until_ms"), *d = json_object_get(j, "budget_day");
	const json_t *pt = json_object_get(j, "paid_today");
	bool capped = false;

	if (text && (!json_is_object(j) || (b && !json_is_integer(b)) || (d && !json_is_integer(d)) ||
		     (pt && !json_is_integer(pt)))) {
		tesla_log(t, CORE_LOG_WARN, "%s does not parse; ignored", TESLA_FILE_STATE);
		json_decref(j);
		return;
	}
	/* A restart must still honour a Retry-After, however long ago the 429 was. A block beyond the
	 * longest we ever set is a damaged file: capped, and the cap written back, so that restarts do
	 * not push it further each time. */
	if (json_integer_value(b) > t->wall) {
		int64_t most = t->wall + BLOCK_MAX_S * 1000;

		t->st.blocked_until_ms = json_integer_value(b) < most ? json_integer_value(b) : most;
		capped = json_integer_value(b) > most;
	}
	if (d && json_integer_value(d) == t->day && json_integer_value(pt) > 0)
		t->st.paid_today = json_integer_value(pt) < UINT32_MAX ? (uint32_t)json_integer_value(pt) : UINT32_MAX;
	if (t->st.paid_today >= (uint32_t)t->budget) {
		t->st.budget_exhausted = true;
		t->budget_logged = true;
		tesla_log(t, CORE_LOG_WARN,
			  "the daily budget of paid calls is spent; no vehicle API calls until 00:00 UTC");
	}
	if (t->st.blocked_until_ms)
		tesla_log(t, CORE_LOG_WARN, "rate limited: no vehicle API calls for %" PRId64 " s more",
			  (t->st.blocked_until_ms - t->wall + 999) / 1000);
	if (capped)
		tesla_state_save(t);
	json_decref(j);
}
