/*
 * tesla_token: the client's tokens. When the access token needs renewing (its JWT expiry is near, or a
 * 401 said it is no good), the refresh request with its form-encoded body, what the token endpoint's
 * answer means, and the token file: written before the new tokens are used (the old refresh token is
 * single-use, so losing the new one means a new login) and read back at start.
 */
#include "tesla_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- JWT expiry */

static int b64url_val(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '-' || ch == '+')
		return 62;
	if (ch == '_' || ch == '/')
		return 63;
	return -1;
}

/* The "exp" claim of a JWT in wall ms; 0 when @tok is not a JWT we can read. The signature is not
 * checked: the expiry only decides when to refresh, the server still judges the token. */
int64_t tesla_jwt_exp_ms(const char *tok)
{
	const char *a = tok ? strchr(tok, '.') : NULL, *b = a ? strchr(a + 1, '.') : NULL;
	char buf[2048];
	size_t n = 0;
	uint32_t acc = 0;
	int bits = 0;
	json_t *j, *e;
	double secs = 0;

	if (!b)
		return 0;
	for (const char *p = a + 1; p < b && *p != '='; p++) {
		int v = b64url_val(*p);

		if (v < 0 || n == sizeof(buf))
			return 0;
		acc = ((acc << 6) | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	j = json_loadb(buf, n, 0, NULL);
	e = json_object_get(j, "exp");
	if (json_is_number(e))
		secs = json_number_value(e);
	json_decref(j);
	/* Seconds since 1970 up to the year 5138: anything else is not an expiry. */
	return secs >= 1 && secs < 1e11 ? (int64_t)secs * 1000 : 0;
}

/* ---------------------------------------------------------------- when to refresh */

/* A token goes into an HTTP header and a JSON file: printable ASCII without spaces, bounded. */
bool tesla_token_ok(const char *s)
{
	size_t n = s ? strnlen(s, TOKEN_MAX + 1) : 0;

	if (n == 0 || n > TOKEN_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

bool tesla_token_usable(const struct tesla *t)
{
	return t->access[0] && !t->token_stale && !(t->exp_ms && t->wall >= t->exp_ms - REFRESH_AHEAD_MS);
}

void tesla_token_ensure_refresh(struct tesla *t)
{
	bool due;

	if (!t->have_mono || t->st.needs_login || !t->refresh[0] || tesla_queue_find(t, 0, K_TOKEN) >= 0 ||
	    t->mono < t->refresh_hold)
		return;
	/* Idle too when the expiry is known: a chain used every few hours never reaches its 3 months. */
	due = t->token_stale || (t->exp_ms && t->wall >= t->exp_ms - REFRESH_AHEAD_MS) ||
	      (!t->access[0] && tesla_queue_base_waiting(t));
	if (due)
		tesla_queue_add(t, 0, K_TOKEN, 0, NULL);
}

void tesla_login_needed(struct tesla *t, const char *why)
{
	if (!t->st.needs_login)
		tesla_log(t, CORE_LOG_ERROR,
			  "%s: log in again (a new tesla.refreshToken); no more vehicle API calls until then", why);
	t->st.needs_login = true;
	t->nq = 0;
	t->in_flight = false;
	t->changes++;
}

/* ---------------------------------------------------------------- the refresh request */

static size_t form_encode(char *dst, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		    ch == '_' || ch == '.' || ch == '~') {
			dst[o++] = (char)ch;
		} else {
			dst[o++] = '%';
			dst[o++] = hex[ch >> 4];
			dst[o++] = hex[ch & 15];
		}
	}
	dst[o] = 0;
	return o;
}

char *tesla_token_refresh_body(const struct tesla *t)
{
	static const char a[] = "grant_type=refresh_token&client_id=", b[] = "&refresh_token=";
	char *s = malloc(sizeof(a) + sizeof(b) + 3 * (strlen(t->client_id) + strlen(t->refresh)) + 1);
	size_t o;

	if (!s)
		return NULL;
	memcpy(s, a, sizeof(a) - 1);
	o = sizeof(a) - 1;
	o += form_encode(s + o, t->client_id);
	memcpy(s + o, b, sizeof(b) - 1);
	o += sizeof(b) - 1;
	form_encode(s + o, t->refresh);
	return s;
}

/* ---------------------------------------------------------------- answers */

static void tesla_tokens_save(struct tesla *t)
{
	if (tesla_json_store(t, TESLA_FILE_TOKENS,
			     json_pack("{s:s, s:s, s:I, s:s}", "access_token", t->access, "refresh_token", t->refresh,
				       "expires_at_ms", (json_int_t)t->exp_ms, "seed_refresh_token", t->seed),
			     true) < 0)
		tesla_log(t, CORE_LOG_ERROR,
			  "the new refresh token is only in memory: after a restart a new login may be needed");
}

void tesla_token_unauthorized(struct tesla *t, int qi)
{
	struct req *r = &t->q[qi];

	if (!t->refresh[0]) {
		tesla_login_needed(t, "the access token was refused (HTTP 401) and there is no refresh token");
		return;
	}
	if (r->retried_401) {
		tesla_answer_give_up(t, qi, "HTTP 401 again after a token refresh");
		return;
	}
	r->retried_401 = true;
	t->token_stale = true;
	tesla_log(t, CORE_LOG_INFO, "the access token was refused (HTTP 401); refreshing it");
}

void tesla_token_answer(struct tesla *t, int qi, int status, const char *body, size_t len)
{
	json_t *j;
	const char *at, *rt;
	const json_t *ei;
	int64_t expiry;

	if (status == 400 || status == 401) {
		char why[TEXT_MAX + 1], msg[TEXT_MAX + 64];

		tesla_answer_error_text(why, sizeof(why), body, len);
		snprintf(msg, sizeof(msg), "the refresh token was refused (HTTP %d: %s)", status, why);
		tesla_login_needed(t, msg);
		return;
	}
	if (status < 200 || status >= 300) {
		tesla_answer_client_error(t, qi, status, body, len);
		return;
	}
	j = body ? json_loadb(body, len, 0, NULL) : NULL;
	at = json_string_value(json_object_get(j, "access_token"));
	rt = json_string_value(json_object_get(j, "refresh_token"));
	ei = json_object_get(j, "expires_in");
	if (!tesla_token_ok(at) || (rt && !tesla_token_ok(rt)) || tesla_str_set(&t->access, at) < 0 ||
	    (rt && tesla_str_set(&t->refresh, rt) < 0)) {
		json_decref(j);
		tesla_answer_give_up(t, qi, "the answer has no usable access_token");
		return;
	}
	expiry = tesla_jwt_exp_ms(t->access);
	/* An expiry already (nearly) past on a token just issued means our clock is off: expires_in is relative
	 * and immune to that; with neither, only a 401 will tell. */
	if ((!expiry || expiry <= t->wall + REFRESH_AHEAD_MS) && json_is_integer(ei) && json_integer_value(ei) > 0 &&
	    json_integer_value(ei) < 100LL * 86400)
		expiry = t->wall + json_integer_value(ei) * 1000;
	if (expiry && expiry <= t->wall + REFRESH_AHEAD_MS) {
		if (!t->clock_logged)
			tesla_log(t, CORE_LOG_WARN, "a fresh access token already expires: is the clock right?");
		t->clock_logged = true;
		expiry = 0;
	}
	json_decref(j);
	t->exp_ms = expiry;
	t->token_stale = false;
	t->refresh_hold = 0;
	t->st.refreshes++;
	tesla_queue_remove(t, qi);
	/* Saved before any use: the old refresh token is spent, losing the new one means a new login. */
	tesla_tokens_save(t);
	tesla_log(t, CORE_LOG_INFO, "access token refreshed");
}

/* ---------------------------------------------------------------- start-up */

/* Persisted tokens win, unless the configured refresh token is not the one their chain started from:
 * then the user logged in again and the configuration is newer. */
int tesla_tokens_load(struct tesla *t, const struct tesla_params *p)
{
	const char *ca = tesla_token_ok(p->access_token) ? p->access_token : "";
	const char *cr = tesla_token_ok(p->refresh_token) ? p->refresh_token : "";
	json_t *j = p->tokens_json ? json_loads(p->tokens_json, 0, NULL) : NULL;
	const char *fa = json_string_value(json_object_get(j, "access_token"));
	const char *fr = json_string_value(json_object_get(j, "refresh_token"));
	const char *fs = json_string_value(json_object_get(j, "seed_refresh_token"));
	const json_t *fe = json_object_get(j, "expires_at_ms");
	int r = 0;

	if (p->access_token && p->access_token[0] && !ca[0])
		tesla_log(t, CORE_LOG_WARN, "tesla.accessToken is not a usable token; ignored");
	if (p->refresh_token && p->refresh_token[0] && !cr[0])
		tesla_log(t, CORE_LOG_WARN, "tesla.refreshToken is not a usable token; ignored");
	if (p->tokens_json &&
	    (!tesla_token_ok(fr) || (fa && fa[0] && !tesla_token_ok(fa)) || !fs || (fe && !json_is_integer(fe)))) {
		tesla_log(t, CORE_LOG_WARN, "%s does not parse; ignored", TESLA_FILE_TOKENS);
		fr = NULL;
	} else if (fr && cr[0] && strcmp(cr, fs)) {
		tesla_log(t, CORE_LOG_INFO,
			  "tesla.refreshToken changed since %s was written: using the configured tokens",
			  TESLA_FILE_TOKENS);
		fr = NULL;
	}
	if (fr) {
		if (tesla_str_set(&t->access, fa && tesla_token_ok(fa) ? fa : "") < 0 ||
		    tesla_str_set(&t->refresh, fr) < 0 || tesla_str_set(&t->seed, fs) < 0)
			r = -ENOMEM;
		t->exp_ms = json_integer_value(fe) > 0 ? json_integer_value(fe) : tesla_jwt_exp_ms(t->access);
	} else {
		if (tesla_str_set(&t->access, ca) < 0 || tesla_str_set(&t->refresh, cr) < 0 ||
		    tesla_str_set(&t->seed, cr) < 0)
			r = -ENOMEM;
		t->exp_ms = tesla_jwt_exp_ms(t->access);
	}
	json_decref(j);
	return r;
}
