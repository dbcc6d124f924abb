/*
 * libFuzzer target for the Tesla vehicle API core. A client starts with connector 1 plugged in,
 * paused and drawing without a VIN (so a locate is in flight) and connector 2 granted current with
 * the TWC's VIN. The input, split into chunks at 0x00 bytes, then drives it: a chunk's first byte picks
 * an operation, the rest are its arguments. Answer the request in flight (status from a table,
 * Retry-After, the rest of the chunk as the body), answer an id that is not in flight, let time pass
 * to the next deadline or by a given amount, update a connector, step the wall clock, make the
 * gateway's HTTP start fail, or restart from the saved state files. Checked: no crash, leak or
 * undefined behaviour; one request at a time; every URL is the token endpoint or under the base URL,
 * with a bearer exactly when not the token endpoint; the configured tokens never in a log line; and
 * after every call the next deadline lies in the future (no busy loop).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tesla_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BASE "https://fleet.example:4443"
#define TOKEN_URL "https://auth.example/oauth2/v3/token"
#define AT0 "eyJhbGciOiJub25lIn0.eyJleHAiOjE3NjcyMzI4MDB9.c2ln"
#define RT0 "NA_refresh-token-0123456789abcdef"
#define VIN_A "5YJ3E1EA7KF000001"
#define VIN_B "5YJ3E1EA7KF000002"
#define MONO0 1000000u
#define WALL0 1767225607250LL

struct fz {
	struct tesla *t;
	uint64_t mono;
	int64_t wall;
	bool pending;
	uint32_t id;
	bool http_fail;
	char *files[2];
};

static const char *const file_names[2] = { TESLA_FILE_TOKENS, TESLA_FILE_STATE };

static int fz_http(void *user, const struct tesla_http_req *r)
{
	struct fz *z = user;

	if (z->pending || !r->method || !r->url || (strcmp(r->method, "GET") && strcmp(r->method, "POST")))
		abort();
	if (r->token_endpoint ? strcmp(r->url, TOKEN_URL) || r->bearer
			      : strncmp(r->url, BASE "/api/1/vehicles", strlen(BASE "/api/1/vehicles")) || !r->bearer)
		abort();
	if (z->http_fail)
		return -ECONNREFUSED;
	z->pending = true;
	z->id = r->id;
	return 0;
}

static int fz_store(void *user, const char *name, const char *text, bool secret)
{
	struct fz *z = user;

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

	if (level < 0 || level > 3 || strstr(msg, RT0))
		abort();
	/* The configured access token is scrubbed while it is the current one: until a refresh, which
	 * always writes the tokens file. */
	if (!z->files[0] && strstr(msg, AT0))
		abort();
}

static void fz_check(struct fz *z)
{
	if (tesla_next_deadline(z->t) <= z->mono)
		abort();
}

static void fz_new(struct fz *z)
{
	struct tesla_env env = { .user = z, .http = fz_http, .store = fz_store, .log = fz_log };
	struct tesla_params p = {
		.base_url = BASE,
		.token_url = TOKEN_URL,
		.client_id = "fuzz-client",
		.access_token = AT0,
		.refresh_token = RT0,
		.daily_budget = 40,
		.car_amps = 16,
		.has_home = true,
		.home_lat = 52.0,
		.home_lon = 4.0,
		.home_radius_m = 150,
		.tokens_json = z->files[0],
		.state_json = z->files[1],
	};

	z->t = tesla_new(&p, &env, z->wall);
	if (!z->t)
		abort();
	z->pending = false;
}

static void fz_update(struct fz *z, int c, uint8_t flags, uint8_t amps)
{
	static const char *const vins[4] = { NULL, "", VIN_A, VIN_B };
	struct tesla_conn_state s = {
		.present = !(flags & 8),
		.plugged = flags & 16,
		.drawing = flags & 32,
		.vin = vins[(flags >> 6) & 3],
		.granted_amps = amps % 40,
		.min_amps = 6,
	};

	tesla_connector_update(z->t, c, &s, z->mono, z->wall);
	fz_check(z);
}

static void fz_advance(struct fz *z, uint64_t ms)
{
	z->mono += ms;
	z->wall += (int64_t)ms;
	tesla_tick(z->t, z->mono, z->wall);
	fz_check(z);
}

static const int statuses[] = { 200, 200, 200, 401, 408, 429, 500, 503, 400, 403, 404, 421, 204,
				 302, -ETIMEDOUT, -ECONNREFUSED, 0, 599, 499, 100, 402, 540, 201, 412 };

static void fz_chunk(struct fz *z, const uint8_t *d, size_t n)
{
	uint8_t a = n > 1 ? d[1] : 0, b = n > 2 ? d[2] : 0;

	switch (n ? d[0] % 8 : 0) {
	case 0: /* answer the request in flight; the body is the rest of the chunk */
		if (z->pending) {
			int st = statuses[a % (sizeof(statuses) / sizeof(statuses[0]))];

			z->pending = false;
			tesla_http_done(z->t, z->id, st, n > 3 ? (const char *)d + 3 : NULL, n > 3 ? n - 3 : 0,
					b == 0xff ? -1 : (long)b * 7, z->mono, z->wall);
			fz_check(z);
		}
		break;
	case 1: /* an answer nobody asked for */
		tesla_http_done(z->t, z->id ^ (a | 0x100u), 200, (const char *)d, n, -1, z->mono, z->wall);
		fz_check(z);
		break;
	case 2: { /* to the next deadline */
		uint64_t dl = tesla_next_deadline(z->t);

		fz_advance(z, dl != UINT64_MAX && dl - z->mono < 3 * 86400000ull ? dl - z->mono : 1000u * a);
		break;
	}
	case 3:
		fz_update(z, 1 + (a & 7), a, b);
		break;
	case 4: /* the wall clock is stepped (NTP), mono is not */
		z->wall += (int64_t)(int8_t)a * 600000;
		tesla_tick(z->t, z->mono, z->wall);
		fz_check(z);
		break;
	case 5:
		z->http_fail = !z->http_fail;
		break;
	case 6: /* restart: only the state files survive */
		tesla_free(z->t);
		z->t = NULL;
		fz_new(z);
		tesla_tick(z->t, z->mono, z->wall);
		fz_check(z);
		break;
	default:
		fz_advance(z, (uint64_t)a * 1000 + (uint64_t)b * 60000);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz z = { .mono = MONO0, .wall = WALL0 };
	size_t start = 0;

	fz_new(&z);
	fz_update(&z, 1, 16 | 32, 0);       /* plugged, drawing, paused, no VIN: a locate */
	fz_update(&z, 2, 16 | 0xc0, 16);    /* plugged, granted, VIN_B */
	for (size_t i = 0; i <= size; i++)
		if (i == size || data[i] == 0) {
			fz_chunk(&z, data + start, i - start);
			start = i + 1;
		}
	tesla_free(z.t);
	free(z.files[0]);
	free(z.files[1]);
	return 0;
}
