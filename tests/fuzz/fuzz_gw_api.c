/*
 * libFuzzer target for the HTTP request handling that is ours (gw_api): routing, query strings, JSON
 * bodies, cookies, tokens and the CSRF check, behind fake gateway ops. The input is the request's
 * fields, one per line (flags, method, path, query, Authorization, Cookie, Content-Type, X-CSRF-Token,
 * Origin, Host), then the body; "@CSRF" and "@BEARER" stand for the real token so the fuzzer reaches
 * the controls. Properties: never a crash or UB; a status from 200 to 599; a JSON answer parses; the
 * extra headers are well-formed lines (nothing from the request splits them); neither the password nor
 * the token is ever in an answer; and a control is applied only with the CSRF token or the bearer
 * token, and beyond loopback only with credentials.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gw_api.h"
#include "gw_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PASSWORD "fuzz-password-1"
#define TOKEN "fuzz-token-0123456789abcdef"

static struct gw_auth *auth;
static struct gw_api *api;
static int changes;

static void fake_status(void *user, struct gw_status *st)
{
	(void)user;
	st->wall_ms = 1796000000000LL;
	st->n_connectors = 1;
	st->c[0].connector = 1;
	memcpy(st->c[0].twc, "ABCD", 5);
	st->c[0].state = GW_STATE_CHARGING;
	st->c[0].max_amps = -1;
	st->c[0].measured_amps = 15.9;
	st->c[0].energy_wh = 1e6;
	st->c[0].vehicle = -1;
	st->policy.surplus_w = 1200;
	st->policy.house_w = st->policy.pv_w = st->policy.grid_w = 0.0 / 0.0;
	st->bus.wiring_max_all = 32;
}

static json_t *fake_settings(void *user)
{
	(void)user;
	return json_pack("{s:{s:{s:s},s:s}}", "policy", "value", "mode", "charge-now", "source", "config");
}

static int fake_set_policy(void *user, const json_t *policy, const char *by, char *err, size_t errlen)
{
	(void)user;
	if (strcmp(by, "page") && strcmp(by, "api"))
		abort();
	if (!json_is_string(json_object_get(policy, "mode"))) {
		snprintf(err, errlen, "config: policy.mode: must be a mode name");
		return -EINVAL;
	}
	changes++;
	return 0;
}

static int fake_set_max(void *user, int connector, int amps, const char *by, char *err, size_t errlen)
{
	(void)user;
	if (strcmp(by, "page") && strcmp(by, "api"))
		abort();
	(void)amps;
	if (connector != 1) {
		snprintf(err, errlen, "no connector %d", connector);
		return -ENOENT;
	}
	changes++;
	return 0;
}

static json_t *fake_history(void *user, int64_t since_s)
{
	(void)user;
	return json_pack("{s:i,s:I}", "intervalS", 60, "since", (json_int_t)since_s);
}

static uint64_t fake_now(void *user)
{
	(void)user;
	return 1000; /* fixed: the login lock-out, once reached, holds and keeps the fuzzer fast */
}

static void setup(void)
{
	struct gw_api_ops ops = {
		.status = fake_status,
		.settings = fake_settings,
		.set_policy = fake_set_policy,
		.set_max = fake_set_max,
		.history = fake_history,
		.now_ms = fake_now,
	};
	char hash[GW_AUTH_HASH_MAX], err[128];

	if (gw_auth_hash_password(PASSWORD, hash, sizeof(hash), err, sizeof(err)) != 0)
		abort();
	auth = gw_auth_new(hash, TOKEN);
	api = auth ? gw_api_new(&ops, auth, true) : NULL;
	if (!api)
		abort();
}

/* The next line of the input (without its '\n') into @out, at most @n - 1 bytes kept. */
static void next_line(const uint8_t **p, const uint8_t *end, char *out, size_t n)
{
	size_t k = 0;

	while (*p < end && **p != '\n') {
		if (k + 1 < n)
			out[k++] = (char)**p;
		(*p)++;
	}
	if (*p < end)
		(*p)++;
	out[k] = '\0';
}

static bool contains(const char *hay, size_t len, const char *needle)
{
	size_t nl = strlen(needle);

	for (size_t i = 0; hay && nl <= len && i + nl <= len; i++)
		if (!memcmp(hay + i, needle, nl))
			return true;
	return false;
}

/* Every extra header line is "Name: value\r\n" with no other CR or LF. */
static bool headers_ok(const char *h)
{
	while (*h) {
		const char *eol = strstr(h, "\r\n");
		const char *colon = strchr(h, ':');

		if (!eol || !colon || colon > eol || colon == h)
			return false;
		for (const char *c = h; c < eol; c++)
			if (*c == '\r' || *c == '\n')
				return false;
		h = eol + 2;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	char flags[4], method[16], path[256], query[256], authz[128], cookie[256], ctype[64], csrf[80], origin[96],
		host[96];
	struct gw_httpd_req req;
	struct gw_httpd_resp resp;
	char *body;
	const char *out;
	size_t out_len, body_len;
	int before;
	bool bearer, csrf_real, authed;

	if (!api)
		setup();
	next_line(&p, end, flags, sizeof(flags));
	next_line(&p, end, method, sizeof(method));
	next_line(&p, end, path, sizeof(path));
	next_line(&p, end, query, sizeof(query));
	next_line(&p, end, authz, sizeof(authz));
	next_line(&p, end, cookie, sizeof(cookie));
	next_line(&p, end, ctype, sizeof(ctype));
	next_line(&p, end, csrf, sizeof(csrf));
	next_line(&p, end, origin, sizeof(origin));
	next_line(&p, end, host, sizeof(host));
	bearer = !strcmp(authz, "@BEARER");
	if (bearer)
		snprintf(authz, sizeof(authz), "Bearer %s", TOKEN);
	csrf_real = !strcmp(csrf, "@CSRF");
	if (csrf_real)
		snprintf(csrf, sizeof(csrf), "%s", gw_auth_csrf(auth));
	body_len = (size_t)(end - p);
	body = malloc(body_len + 1);
	if (!body)
		return 0;
	memcpy(body, p, body_len);
	body[body_len] = '\0';

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = path;
	req.query = query;
	req.peer = "192.0.2.1";
	req.listener_loopback = flags[0] == 'L';
	req.tls = flags[1] == 'T';
	req.host = host;
	req.origin = origin;
	req.authorization = authz;
	req.cookie = cookie;
	req.content_type = ctype;
	req.csrf = csrf;
	req.body = body;
	req.body_len = body_len;
	memset(&resp, 0, sizeof(resp));
	before = changes;
	authed = bearer || gw_auth_session_ok(auth, cookie, fake_now(NULL));
	gw_api_handle(api, &req, &resp);

	if (resp.status < 200 || resp.status > 599)
		abort();
	out = resp.owned ? resp.owned : resp.body;
	out_len = resp.len;
	if (out_len && !out)
		abort();
	if (!headers_ok(resp.headers))
		abort();
	/* A secret the request itself carried may come back (an unknown field's name); any other is a leak. */
	if (!contains((const char *)data, size, PASSWORD) &&
	    (contains(out, out_len, PASSWORD) || contains(resp.headers, strlen(resp.headers), PASSWORD)))
		abort();
	if (!contains((const char *)data, size, TOKEN) &&
	    (contains(out, out_len, TOKEN) || contains(resp.headers, strlen(resp.headers), TOKEN)))
		abort();
	if (changes != before) {
		/* A control went through: it must have had the right to. */
		if (!bearer && !csrf_real)
			abort();
		if (!req.listener_loopback && !authed)
			abort();
	}
	if (!resp.stream && resp.status == 200 && resp.content_type && !strcmp(resp.content_type, "application/json")) {
		json_error_t e;
		json_t *j = json_loadb(out, out_len, 0, &e);

		if (!j)
			abort();
		json_decref(j);
	}
	free(resp.owned);
	free(body);
	return 0;
}
