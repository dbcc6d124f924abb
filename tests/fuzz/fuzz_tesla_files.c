/*
 * libFuzzer target for what the Tesla core reads back at start, and for its Retry-After handling.
 * The state files hold only what the core wrote, until a disk fault, an old version or a hand edit.
 * Input: byte 0 picks the mode (bits 0-1: the rest is the tokens file, the state file, or both split
 * at the first 0x00; 3: eight bytes of a raw Retry-After value in seconds, then both files), the
 * Retry-After value of the other modes from a table of edge values (bits 2-4), which tokens are
 * configured (bits 5-6) and whether the restart comes eight days later (bit 7). A client is built from
 * the files, a paused connector that draws makes it call the API, and the first answer to a vehicle
 * command is a 429 with that Retry-After; token requests are answered with fresh tokens. Checked: no
 * crash, leak or undefined behaviour; tesla_new() never fails on state; a block lies between now and a
 * week ahead and no request goes out before it ends; every file stored is JSON, the tokens file
 * secret; no refresh token in a log line; the next deadline never in the past; after a restart from
 * the files it wrote itself, neither "does not parse", and the block still holds to the millisecond.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tesla_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BASE "https://fleet.example:4443"
#define TOKEN_URL "https://auth.example/oauth2/v3/token"
#define AT0 "eyJhbGciOiJub25lIn0.eyJleHAiOjE3NjcyMzI4MDB9.c2ln"
#define RT0 "NA_refresh-token-0123456789abcdef"
#define RT1 "NA_refresh-token-other-login-9876"
#define RT_NEW "NA_refresh-token-issued-by-fuzz-42"
#define VIN_A "5YJ3E1EA7KF000001"
#define MONO0 1000000u
#define WALL0 1767225607250LL
#define WEEK_MS (7LL * 86400 * 1000)

struct fz {
	struct tesla *t;
	uint64_t mono;
	int64_t wall;
	bool pending, token_req, answered_429, restarting;
	uint32_t id;
	long retry_after;
	int64_t block; /* the block in force as last seen, 0 none */
	char *files[2];
	char *input[2];
};

static const char *const file_names[2] = { TESLA_FILE_TOKENS, TESLA_FILE_STATE };

static const long retry_table[8] = { -1, 0, 1, 60, 7L * 86400, 7L * 86400 + 1, LONG_MAX, LONG_MIN };

static int fz_http(void *user, const struct tesla_http_req *r)
{
	struct fz *z = user;

	if (z->pending || !r->method || !r->url)
		abort();
	if (r->token_endpoint ? strcmp(r->url, TOKEN_URL) || r->bearer
			      : strncmp(r->url, BASE "/api/1/vehicles", strlen(BASE "/api/1/vehicles")) || !r->bearer)
		abort();
	/* Retry-After is a promise: nothing goes out before it ends. */
	if (z->block && z->wall < z->block)
		abort();
	z->pending = true;
	z->token_req = r->token_endpoint;
	z->id = r->id;
	return 0;
}

static int fz_store(void *user, const char *name, const char *text, bool secret)
{
	struct fz *z = user;
	json_t *j = json_loads(text, 0, NULL);

	if (!json_is_object(j))
		abort();
	json_decref(j);
	for (int i = 0; i < 2; i++)
		if (!strcmp(name, file_names[i])) {
			if (secret != (i == 0))
				abort();
			free(z->files[i]);
			z->files[i] = strdup(text);
			return 0;
		}
	abort();
}

static void fz_log(void *user, enum core_log_level level, const char *msg)
{
	struct fz *z = user;

	if ((unsigned)level > CORE_LOG_DEBUG || strstr(msg, RT0) || strstr(msg, RT1) || strstr(msg, RT_NEW))
		abort();
	/* After the restart, the core must understand the files it wrote. */
	if (z->restarting && strstr(msg, "does not parse"))
		for (int i = 0; i < 2; i++)
			if (z->files[i] && strstr(msg, file_names[i]))
				abort();
}

static void fz_check(struct fz *z)
{
	const struct tesla_stats *st = tesla_stats(z->t);

	if (tesla_next_deadline(z->t) <= z->mono)
		abort();
	if (st->blocked_until_ms > z->wall + WEEK_MS)
		abort();
	if (st->blocked_until_ms > z->block)
		z->block = st->blocked_until_ms;
}

static void fz_new(struct fz *z, unsigned tokens, char *const *files)
{
	static const char *const at[4] = { AT0, NULL, "", AT0 };
	static const char *const rt[4] = { RT0, NULL, RT0, RT1 };
	struct tesla_env env = { .user = z, .http = fz_http, .store = fz_store, .log = fz_log };
	struct tesla_params p = {
		.base_url = BASE,
		.token_url = TOKEN_URL,
		.client_id = "fuzz-client",
		.access_token = at[tokens & 3],
		.refresh_token = rt[tokens & 3],
		.daily_budget = 40,
		.car_amps = 16,
		.tokens_json = files[0],
		.state_json = files[1],
	};

	z->t = tesla_new(&p, &env, z->wall);
	if (!z->t)
		abort();
	z->pending = false;
	tesla_tick(z->t, z->mono, z->wall);
	fz_check(z);
}

/* Answer the request in flight: tokens for the token endpoint, a 429 for the first vehicle command,
 * then success. */
static void fz_answer(struct fz *z)
{
	static const char tokens[] = "{\"access_token\":\"" AT0 "x\",\"refresh_token\":\"" RT_NEW
				     "\",\"expires_in\":28800}";
	static const char ok[] = "{\"response\":{\"result\":true,\"reason\":\"\"}}";

	if (!z->pending)
		return;
	z->pending = false;
	if (z->token_req) {
		tesla_http_done(z->t, z->id, 200, tokens, sizeof(tokens) - 1, -1, z->mono, z->wall);
	} else if (!z->answered_429) {
		z->answered_429 = true;
		tesla_http_done(z->t, z->id, 429, "{}", 2, z->retry_after, z->mono, z->wall);
		/* Blocked from now on: at least a second, at most a week. */
		if (tesla_stats(z->t)->blocked_until_ms < z->wall + 1000 ||
		    tesla_stats(z->t)->blocked_until_ms > z->wall + WEEK_MS)
			abort();
	} else {
		tesla_http_done(z->t, z->id, 200, ok, sizeof(ok) - 1, -1, z->mono, z->wall);
	}
	fz_check(z);
}

static void fz_steps(struct fz *z, int steps)
{
	for (int i = 0; i < steps; i++) {
		uint64_t dl;

		fz_answer(z);
		dl = tesla_next_deadline(z->t);
		if (dl == UINT64_MAX)
			break;
		/* At most a day at a time: the wall clock goes with it. */
		if (dl - z->mono > 86400000u)
			dl = z->mono + 86400000u;
		z->wall += (int64_t)(dl - z->mono);
		z->mono = dl;
		tesla_tick(z->t, z->mono, z->wall);
		fz_check(z);
	}
}

static void fz_update(struct fz *z, bool drawing, int granted)
{
	struct tesla_conn_state s = {
		.present = true,
		.plugged = true,
		.drawing = drawing,
		.vin = VIN_A,
		.granted_amps = granted,
		.min_amps = 6,
	};

	tesla_connector_update(z->t, 1, &s, z->mono, z->wall);
	fz_check(z);
}

static char *dup_text(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = { .mono = MONO0, .wall = WALL0 };
	unsigned mode, tokens;
	char *restart[2];
	int64_t block;

	if (size < 1)
		return 0;
	mode = data[0] & 3;
	tokens = data[0] >> 5 & 3;
	z.retry_after = retry_table[data[0] >> 2 & 7];
	if (mode == 3) {
		uint64_t v = 0;

		for (size_t i = 1; i <= 8 && i < size; i++)
			v |= (uint64_t)data[i] << (8 * (i - 1));
		memcpy(&z.retry_after, &v, sizeof(z.retry_after));
	}
	{
		const uint8_t *p = data + (mode == 3 ? (size > 9 ? 9 : size) : 1);
		size_t n = (size_t)(data + size - p);
		const uint8_t *nul = memchr(p, 0, n);

		if (mode == 0 || mode == 1) {
			z.input[mode] = dup_text(p, n);
		} else {
			size_t first = nul ? (size_t)(nul - p) : n;

			z.input[0] = first ? dup_text(p, first) : NULL;
			z.input[1] = nul ? dup_text(nul + 1, n - first - 1) : NULL;
		}
	}

	fz_new(&z, tokens, z.input);
	/* A car drawing on a paused connector: charge_stop (after a refresh or a wait, maybe). */
	fz_update(&z, true, 0);
	fz_steps(&z, 12);
	fz_update(&z, false, 16);
	fz_steps(&z, 12);

	/* Restart from the files the core wrote (the input's where it wrote none). */
	block = tesla_stats(z.t)->blocked_until_ms;
	tesla_free(z.t);
	if (data[0] & 0x80) {
		z.wall += 8 * 86400000LL;
		z.mono += 8 * 86400000ull;
		z.block = 0;
		block = 0;
	}
	for (int i = 0; i < 2; i++) {
		const char *f = z.files[i] ? z.files[i] : z.input[i];

		restart[i] = f ? strdup(f) : NULL;
	}
	z.restarting = true;
	fz_new(&z, tokens, restart);
	z.restarting = false;
	/* What it stored holds to the millisecond (a block it only read is capped again from now). */
	if (z.files[1] && block > z.wall && tesla_stats(z.t)->blocked_until_ms != block)
		abort();
	fz_update(&z, true, 0);
	fz_steps(&z, 8);

	tesla_free(z.t);
	for (int i = 0; i < 2; i++) {
		free(restart[i]);
		free(z.files[i]);
		free(z.input[i]);
	}
	return 0;
}
