/*
 * gw_api: routes one HTTP request to its answer. Reading is open on loopback; on a listener beyond
 * loopback a change (and, with http.authRead, a read) needs a session from POST /api/v1/login or a
 * bearer token. Every change must also carry the CSRF token from GET /api/v1/session, unless it came
 * with a bearer token: a cookie is sent by the browser whoever made the page, a custom header is not.
 * Bodies are JSON objects whose members are checked by name, so a typo is an error naming the field
 * rather than a silently ignored setting.
 */
#include "gw_api.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw_assets.h"
#include "gw_metrics.h"

struct gw_api {
	struct gw_api_ops ops;
	struct gw_auth *auth;
	bool auth_read;
};

struct gw_api *gw_api_new(const struct gw_api_ops *ops, struct gw_auth *auth, bool auth_read)
{
	struct gw_api *api = calloc(1, sizeof(*api));

	if (!api)
		return NULL;
	api->ops = *ops;
	api->auth = auth;
	api->auth_read = auth_read;
	return api;
}

void gw_api_free(struct gw_api *api)
{
	free(api);
}

/* ---- answers ---- */

static void header_add(struct gw_httpd_resp *resp, const char *fmt, const char *value)
{
	size_t used = strlen(resp->headers);

	if (used < sizeof(resp->headers))
		snprintf(resp->headers + used, sizeof(resp->headers) - used, fmt, value);
}

static void reply_json(struct gw_httpd_resp *resp, int status, json_t *j)
{
	char *text = j ? json_dumps(j, GW_STATUS_JSON_FLAGS) : NULL;

	json_decref(j);
	if (!text) {
		resp->status = 500;
		resp->body = "{\"error\":\"out of memory\"}";
		resp->len = strlen(resp->body);
		return;
	}
	resp->status = status;
	resp->content_type = "application/json";
	resp->owned = text;
	resp->len = strlen(text);
	header_add(resp, "Cache-Control: %s\r\n", "no-store");
}

/* @field: the member the error is about, or NULL. */
static void reply_error(struct gw_httpd_resp *resp, int status, const char *field, const char *msg)
{
	json_t *j = json_pack("{s:s}", "error", msg);

	if (j && field)
		json_object_set_new(j, "field", json_string(field));
	reply_json(resp, status, j);
}

static void reply_ok(struct gw_httpd_resp *resp)
{
	reply_json(resp, 200, json_pack("{s:b}", "ok", 1));
}

/* ---- who is asking ---- */

struct who {
	bool bearer;      /* a valid bearer token */
	bool credentials; /* a valid bearer token or session */
};

static struct who who_of(struct gw_api *api, const struct gw_httpd_req *req)
{
	struct who w = { false, false };

	if (!api->auth || !gw_auth_configured(api->auth))
		return w;
	w.bearer = gw_auth_bearer_ok(api->auth, req->authorization);
	w.credentials = w.bearer || gw_auth_session_ok(api->auth, req->cookie, api->ops.now_ms(api->ops.user));
	return w;
}

static bool read_allowed(const struct gw_api *api, const struct gw_httpd_req *req, const struct who *w)
{
	return req->listener_loopback || !api->auth_read || w->credentials;
}

static bool control_allowed(const struct gw_httpd_req *req, const struct who *w)
{
	return req->listener_loopback || w->credentials;
}

/* The Origin a browser sends with a change must be this server's own: scheme://Host. */
static bool origin_ok(const struct gw_httpd_req *req)
{
	const char *o = req->origin, *scheme = req->tls ? "https://" : "http://";
	size_t sl = strlen(scheme);

	if (!o[0])
		return true; /* not a browser, or a same-origin GET-like request: the CSRF token decides */
	return strncasecmp(o, scheme, sl) == 0 && req->host[0] && strcasecmp(o + sl, req->host) == 0;
}

/*
 * On a loopback listener nothing needs credentials, so a page elsewhere must not reach it by pointing
 * its own name at 127.0.0.1 (DNS rebinding): the browser would then send that name as Host, and count
 * the answers as same-origin. Only loopback names are served there.
 */
static bool host_loopback(const char *host)
{
	char name[64];
	size_t n;

	if (host[0] == '[')
		return strncmp(host, "[::1]", 5) == 0 && (host[5] == '\0' || host[5] == ':');
	n = strcspn(host, ":");
	if (n == 0 || n >= sizeof(name))
		return false;
	memcpy(name, host, n);
	name[n] = '\0';
	if (strcasecmp(name, "localhost") == 0)
		return true;
	if (strncmp(name, "127.", 4) != 0)
		return false;
	for (size_t i = 4; i < n; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || name[i] == '.'))
			return false;
	return true;
}

/*
 * The checks every change passes before its body is read: credentials, the CSRF token (the page's
 * only way to get it is a same-origin read) and Origin. Return true to go on; else @resp is set.
 */
static bool change_allowed(struct gw_api *api, const struct gw_httpd_req *req, const struct who *w,
			   struct gw_httpd_resp *resp, bool need_credentials)
{
	if (need_credentials && !control_allowed(req, w)) {
		reply_error(resp, 401, NULL, "credentials required: log in or send a bearer token");
		header_add(resp, "WWW-Authenticate: %s\r\n", "Bearer realm=\"twcgw\"");
		return false;
	}
	if (w->bearer)
		return true;
	if (!origin_ok(req)) {
		reply_error(resp, 403, NULL, "Origin does not match this server");
		return false;
	}
	if (!api->auth || !gw_auth_csrf_ok(api->auth, req->csrf)) {
		reply_error(resp, 403, NULL, "X-CSRF-Token missing or wrong: get it from GET /api/v1/session");
		return false;
	}
	return true;
}

/*
 * The body as a JSON object with only the members in @allowed (NULL-terminated). NULL with @resp
 * set (400 naming the member, 415 for another content type).
 */
static json_t *body_object(const struct gw_httpd_req *req, struct gw_httpd_resp *resp, const char *const *allowed)
{
	json_error_t e;
	json_t *j;
	const char *key;
	json_t *v;
	char msg[256];

	if (strncasecmp(req->content_type, "application/json", 16) != 0 ||
	    (req->content_type[16] && req->content_type[16] != ';' && req->content_type[16] != ' ')) {
		reply_error(resp, 415, NULL, "Content-Type must be application/json");
		return NULL;
	}
	j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &e);
	if (!j) {
		/* Line and column only: jansson's text quotes the body, which may hold a password. */
		snprintf(msg, sizeof(msg), "body: not valid JSON (line %d, column %d)", e.line, e.column);
		reply_error(resp, 400, NULL, msg);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		reply_error(resp, 400, NULL, "body: must be a JSON object");
		return NULL;
	}
	json_object_foreach(j, key, v) {
		bool known = false;

		for (size_t i = 0; allowed[i]; i++)
			known = known || strcmp(key, allowed[i]) == 0;
		if (!known) {
			char field[64];
			size_t k = 0;

			/* The name goes back in the answer: printable ASCII only, bounded. */
			for (size_t i = 0; key[i] && k + 1 < sizeof(field); i++)
				field[k++] = key[i] >= 0x20 && key[i] < 0x7f ? key[i] : '?';
			field[k] = '\0';
			snprintf(msg, sizeof(msg), "%s: unknown field", field);
			reply_error(resp, 400, field, msg);
			json_decref(j);
			return NULL;
		}
	}
	return j;
}

/* "config: policy.until: must be ..." (gw_control's words) -> field "until"; "" when the error is not
 * about a member (a full disk, no controls). */
static void field_of(const char *err, char *out, size_t n)
{
	const char *p = err;
	size_t k = 0;

	if (strncmp(p, "config: ", 8) == 0)
		p += 8;
	if (strncmp(p, "policy.", 7) != 0) {
		out[0] = '\0';
		return;
	}
	p += 7;
	while (p[k] && p[k] != ':' && p[k] != ' ' && k + 1 < n) {
		out[k] = p[k];
		k++;
	}
	out[k] = '\0';
}

/* ---- queries ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode @in[0..n) into @out; -EINVAL for a bad escape, a NUL or no room. */
static int url_decode(const char *in, size_t n, char *out, size_t outlen)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)in[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -EINVAL;
			hi = hexval(in[i + 1]);
			lo = hexval(in[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = hi * 16 + lo;
			i += 2;
		} else if (c == '+') {
			c = ' ';
		}
		if (c == 0 || k + 1 >= outlen)
			return -EINVAL;
		out[k++] = (char)c;
	}
	out[k] = '\0';
	return 0;
}

#define QUERY_VALUE_MAX 64 /* a decoded query value: a chargeBoxId (48) fits */

/*
 * Walk the query's name=value pairs; only the names in @names (NULL-terminated) are allowed, their
 * decoded values land in @values (each @vlen bytes, "" when absent). Return 0 or -EINVAL with @resp set.
 */
static int query_parse(const char *query, const char *const *names, char (*values)[QUERY_VALUE_MAX],
		       struct gw_httpd_resp *resp)
{
	const char *p = query;

	for (size_t i = 0; names[i]; i++)
		values[i][0] = '\0';
	while (*p) {
		const char *amp = strchr(p, '&'), *eq;
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		char name[32];
		bool known = false;

		eq = memchr(p, '=', len);
		if (len) {
			size_t nl = eq ? (size_t)(eq - p) : len;

			if (url_decode(p, nl, name, sizeof(name)) != 0) {
				reply_error(resp, 400, NULL, "query: malformed parameter name");
				return -EINVAL;
			}
			for (size_t i = 0; names[i]; i++) {
				if (strcmp(name, names[i]) == 0) {
					known = true;
					if (url_decode(eq ? eq + 1 : p + len, eq ? len - nl - 1 : 0, values[i],
						       QUERY_VALUE_MAX) != 0) {
						char msg[96];

						snprintf(msg, sizeof(msg), "%s: malformed or too long", names[i]);
						reply_error(resp, 400, names[i], msg);
						return -EINVAL;
					}
				}
			}
			if (!known) {
				char msg[96];

				for (char *c = name; *c; c++)
					if (*c < 0x20 || *c >= 0x7f)
						*c = '?';
				snprintf(msg, sizeof(msg), "%s: unknown query parameter", name);
				reply_error(resp, 400, name, msg);
				return -EINVAL;
			}
		}
		p += len;
		if (*p == '&')
			p++;
	}
	return 0;
}

/* A whole decimal number in [lo, hi]. */
static bool number_parse(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	long long v;

	if (!s[0] || !((s[0] >= '0' && s[0] <= '9') || s[0] == '-'))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* ---- routes ---- */

char *gw_api_status_text(struct gw_api *api, size_t *len)
{
	struct gw_status st;
	json_t *j;
	char *text;

	memset(&st, 0, sizeof(st));
	api->ops.status(api->ops.user, &st);
	j = gw_status_json(&st);
	gw_status_clear(&st);
	text = j ? json_dumps(j, GW_STATUS_JSON_FLAGS) : NULL;
	json_decref(j);
	if (text && len)
		*len = strlen(text);
	return text;
}

static void get_status(struct gw_api *api, struct gw_httpd_resp *resp)
{
	size_t len = 0;
	char *text = gw_api_status_text(api, &len);

	if (!text) {
		reply_error(resp, 500, NULL, "out of memory");
		return;
	}
	resp->status = 200;
	resp->content_type = "application/json";
	resp->owned = text;
	resp->len = len;
	header_add(resp, "Cache-Control: %s\r\n", "no-store");
}

static void get_history(struct gw_api *api, const struct gw_httpd_req *req, struct gw_httpd_resp *resp)
{
	static const char *const names[] = { "since", NULL };
	char values[1][QUERY_VALUE_MAX];
	long long since = 0;
	json_t *j;

	if (query_parse(req->query, names, values, resp) != 0)
		return;
	if (values[0][0] && !number_parse(values[0], 0, INT64_MAX / 1000, &since)) {
		reply_error(resp, 400, "since", "since: must be epoch seconds, a whole number >= 0");
		return;
	}
	j = api->ops.history(api->ops.user, since);
	if (!j) {
		reply_error(resp, 500, NULL, "out of memory");
		return;
	}
	reply_json(resp, 200, j);
}

static void get_metrics(struct gw_api *api, struct gw_httpd_resp *resp)
{
	struct gw_status st;
	struct gw_httpd_stats hs;
	char *text = NULL;
	size_t len = 0;
	int rc;

	memset(&st, 0, sizeof(st));
	memset(&hs, 0, sizeof(hs));
	api->ops.status(api->ops.user, &st);
	if (api->ops.http_stats)
		api->ops.http_stats(api->ops.user, &hs);
	rc = gw_metrics_render(&st, api->ops.http_stats ? &hs : NULL, &text, &len);
	gw_status_clear(&st);
	if (rc) {
		reply_error(resp, 500, NULL, "out of memory");
		return;
	}
	resp->status = 200;
	resp->content_type = GW_METRICS_CONTENT_TYPE;
	resp->owned = text;
	resp->len = len;
	header_add(resp, "Cache-Control: %s\r\n", "no-store");
}

static void get_session(struct gw_api *api, const struct gw_httpd_req *req, const struct who *w,
			struct gw_httpd_resp *resp)
{
	bool configured = api->auth && gw_auth_has_password(api->auth);
	bool need_control = !req->listener_loopback, need_read = need_control && api->auth_read;

	reply_json(resp, 200,
		   json_pack("{s:s,s:b,s:{s:b,s:b},s:b}", "csrf", api->auth ? gw_auth_csrf(api->auth) : "",
			     "authenticated", w->credentials || !need_control, "authRequired", "read", need_read,
			     "control", need_control, "password", configured));
}

static void post_login(struct gw_api *api, const struct gw_httpd_req *req, struct gw_httpd_resp *resp)
{
	static const char *const allowed[] = { "password", NULL };
	char sid[GW_AUTH_ID_LEN + 1], cookie[GW_AUTH_ID_LEN + 96];
	json_t *body = body_object(req, resp, allowed), *pw;
	int rc;

	if (!body)
		return;
	pw = json_object_get(body, "password");
	if (!json_is_string(pw)) {
		json_decref(body);
		reply_error(resp, 400, "password", "password: required, a string");
		return;
	}
	rc = api->auth ? gw_auth_login(api->auth, json_string_value(pw), api->ops.now_ms(api->ops.user), sid)
		       : -ENOENT;
	json_decref(body);
	if (rc == -EAGAIN) {
		reply_error(resp, 429, NULL, "too many failed logins: wait a minute");
		header_add(resp, "Retry-After: %s\r\n", "60");
		return;
	}
	if (rc == -ENOENT) {
		reply_error(resp, 404, NULL, "no password is configured (http.passwordHash)");
		return;
	}
	if (rc) {
		reply_error(resp, 401, "password", "wrong password");
		return;
	}
	snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200%s", GW_AUTH_COOKIE,
		 sid, req->tls ? "; Secure" : "");
	reply_ok(resp);
	header_add(resp, "Set-Cookie: %s\r\n", cookie);
}

/* The charge point a request addresses (@cp "" or NULL: the first); false with @resp set if none. */
static bool cp_select(struct gw_api *api, const char *cp, struct gw_httpd_resp *resp)
{
	if (!cp || !cp[0]) {
		if (api->ops.select)
			api->ops.select(api->ops.user, NULL);
		return true;
	}
	if (!api->ops.select || api->ops.select(api->ops.user, cp) != 0) {
		reply_error(resp, 404, "chargePoint", "chargePoint: no such charge point");
		return false;
	}
	return true;
}

/* Back to the first charge point once a request is answered. */
static void cp_release(struct gw_api *api)
{
	if (api->ops.select)
		api->ops.select(api->ops.user, NULL);
}

/* The optional "chargePoint" member of a body, taken out of it into @cp; false with @resp set if it is
 * not a string that fits. */
static bool cp_member(json_t *body, char *cp, size_t n, struct gw_httpd_resp *resp)
{
	json_t *v = json_object_get(body, "chargePoint");

	cp[0] = '\0';
	if (!v)
		return true;
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= n) {
		reply_error(resp, 400, "chargePoint", "chargePoint: must be a charge point's chargeBoxId");
		return false;
	}
	memcpy(cp, json_string_value(v), json_string_length(v) + 1);
	json_object_del(body, "chargePoint");
	return true;
}

static void get_settings(struct gw_api *api, const struct gw_httpd_req *req, struct gw_httpd_resp *resp)
{
	static const char *const names[] = { "chargePoint", NULL };
	char values[1][QUERY_VALUE_MAX];

	if (query_parse(req->query, names, values, resp) != 0 || !cp_select(api, values[0], resp))
		return;
	reply_json(resp, 200, api->ops.settings(api->ops.user));
	cp_release(api);
}

static void put_policy(struct gw_api *api, const struct gw_httpd_req *req, const char *by, struct gw_httpd_resp *resp)
{
	static const char *const allowed[] = { "mode", "until", "then", "schedule", "chargePoint", NULL };
	json_t *body = body_object(req, resp, allowed);
	char err[512] = "", field[32], cp[QUERY_VALUE_MAX];
	int rc;

	if (!body)
		return;
	if (!cp_member(body, cp, sizeof(cp), resp)) {
		json_decref(body);
		return;
	}
	if (!json_object_size(body)) {
		json_decref(body);
		reply_error(resp, 400, "mode", "mode: required (or schedule)");
		return;
	}
	if (!cp_select(api, cp, resp)) {
		json_decref(body);
		return;
	}
	rc = api->ops.set_policy(api->ops.user, body, by, err, sizeof(err));
	json_decref(body);
	if (rc) {
		field_of(err, field, sizeof(field));
		reply_error(resp, rc == -EINVAL ? 400 : 500, field[0] ? field : NULL, err);
	} else {
		reply_json(resp, 200, api->ops.settings(api->ops.user));
	}
	cp_release(api);
}

static void put_max(struct gw_api *api, const struct gw_httpd_req *req, int connector, const char *by,
		    struct gw_httpd_resp *resp)
{
	static const char *const allowed[] = { "maxAmps", "chargePoint", NULL };
	json_t *body = body_object(req, resp, allowed), *v;
	char err[512] = "", cp[QUERY_VALUE_MAX];
	int amps, rc;

	if (!body)
		return;
	if (!cp_member(body, cp, sizeof(cp), resp)) {
		json_decref(body);
		return;
	}
	v = json_object_get(body, "maxAmps");
	if (!v) {
		json_decref(body);
		reply_error(resp, 400, "maxAmps", "maxAmps: required, a whole number of amps or null");
		return;
	}
	if (json_is_null(v)) {
		amps = -1;
	} else if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 1000) {
		amps = (int)json_integer_value(v);
	} else {
		json_decref(body);
		reply_error(resp, 400, "maxAmps", "maxAmps: must be a whole number of amps from 0, or null");
		return;
	}
	json_decref(body);
	if (!cp_select(api, cp, resp))
		return;
	rc = api->ops.set_max(api->ops.user, connector, amps, by, err, sizeof(err));
	if (rc == -ENOENT)
		reply_error(resp, 404, NULL, "no such connector");
	else if (rc)
		reply_error(resp, rc == -EINVAL || rc == -ERANGE ? 400 : 500, rc == -EINVAL || rc == -ERANGE ? "maxAmps" : NULL,
			    err);
	else
		reply_json(resp, 200, api->ops.settings(api->ops.user));
	cp_release(api);
}

/* "/api/v1/connectors/<n>/maxAmps" -> n (1..99), else 0. */
static int connector_route(const char *path)
{
	static const char prefix[] = "/api/v1/connectors/";
	const char *p = path + sizeof(prefix) - 1;
	int n = 0, digits = 0;

	if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
		return 0;
	while (*p >= '0' && *p <= '9' && digits < 3) {
		n = n * 10 + (*p++ - '0');
		digits++;
	}
	if (!digits || n < 1 || n > 99 || strcmp(p, "/maxAmps") != 0)
		return 0;
	return n;
}

static void method_not_allowed(struct gw_httpd_resp *resp, const char *allow)
{
	reply_error(resp, 405, NULL, "method not allowed");
	header_add(resp, "Allow: %s\r\n", allow);
}

void gw_api_handle(struct gw_api *api, const struct gw_httpd_req *req, struct gw_httpd_resp *resp)
{
	bool get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	bool put = strcmp(req->method, "PUT") == 0, post = strcmp(req->method, "POST") == 0;
	const struct gw_asset *asset;
	struct who w = who_of(api, req);
	int conn;

	if (req->listener_loopback && !host_loopback(req->host)) {
		reply_error(resp, 403, NULL, "Host is not a loopback name: this listener serves only localhost");
		return;
	}
	/* The page's files: open to all, the page itself asks for a login when the API wants one. */
	asset = strncmp(req->path, "/api/", 5) ? gw_asset_find(req->path) : NULL;
	if (asset) {
		if (!get) {
			method_not_allowed(resp, "GET, HEAD");
			return;
		}
		resp->status = 200;
		resp->content_type = asset->content_type;
		resp->body = asset->data;
		resp->len = asset->len;
		header_add(resp, "ETag: %s\r\n", asset->etag);
		header_add(resp, "Cache-Control: %s\r\n", "no-cache");
		return;
	}
	if (strcmp(req->path, "/api/v1/session") == 0) {
		if (!get)
			method_not_allowed(resp, "GET, HEAD");
		else
			get_session(api, req, &w, resp);
		return;
	}
	if (strcmp(req->path, "/api/v1/login") == 0 || strcmp(req->path, "/api/v1/logout") == 0) {
		bool login = strcmp(req->path, "/api/v1/login") == 0;
		if (!post) {
			method_not_allowed(resp, "POST");
			return;
		}
		if (!change_allowed(api, req, &w, resp, false))
			return;
		if (login) {
			post_login(api, req, resp);
		} else {
			if (api->auth)
				gw_auth_logout(api->auth, req->cookie);
			reply_ok(resp);
			header_add(resp, "Set-Cookie: %s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0\r\n",
				   GW_AUTH_COOKIE);
		}
		return;
	}
	if (strcmp(req->path, "/metrics") && strncmp(req->path, "/api/v1/", 8)) {
		reply_error(resp, 404, NULL, "not found");
		return;
	}
	if (!read_allowed(api, req, &w)) {
		reply_error(resp, 401, NULL, "credentials required: log in or send a bearer token");
		header_add(resp, "WWW-Authenticate: %s\r\n", "Bearer realm=\"twcgw\"");
		return;
	}
	if (strcmp(req->path, "/metrics") == 0) {
		if (!get)
			method_not_allowed(resp, "GET, HEAD");
		else
			get_metrics(api, resp);
		return;
	}
	if (strcmp(req->path, "/api/v1/status") == 0) {
		if (!get)
			method_not_allowed(resp, "GET, HEAD");
		else
			get_status(api, resp);
		return;
	}
	if (strcmp(req->path, "/api/v1/history") == 0) {
		if (!get)
			method_not_allowed(resp, "GET, HEAD");
		else
			get_history(api, req, resp);
		return;
	}
	if (strcmp(req->path, "/api/v1/events") == 0) {
		if (!get) {
			method_not_allowed(resp, "GET, HEAD");
			return;
		}
		/* The first event is the status now, so a page has something to show at once. */
		size_t len = 0;
		char *text = gw_api_status_text(api, &len), *ev;

		if (!text) {
			reply_error(resp, 500, NULL, "out of memory");
			return;
		}
		ev = malloc(len + 32);
		if (!ev) {
			free(text);
			reply_error(resp, 500, NULL, "out of memory");
			return;
		}
		resp->len = (size_t)snprintf(ev, len + 32, "event: status\ndata: %s\n\n", text);
		free(text);
		resp->status = 200;
		resp->content_type = "text/event-stream";
		resp->owned = ev;
		resp->stream = true;
		return;
	}
	if (strcmp(req->path, "/api/v1/settings") == 0) {
		if (!get)
			method_not_allowed(resp, "GET, HEAD");
		else
			get_settings(api, req, resp);
		return;
	}
	if (strcmp(req->path, "/api/v1/settings/policy") == 0) {
		if (!put && !post)
			method_not_allowed(resp, "PUT, POST");
		else if (change_allowed(api, req, &w, resp, true))
			put_policy(api, req, w.bearer ? "api" : "page", resp);
		return;
	}
	conn = connector_route(req->path);
	if (conn) {
		if (!put && !post)
			method_not_allowed(resp, "PUT, POST");
		else if (change_allowed(api, req, &w, resp, true))
			put_max(api, req, conn, w.bearer ? "api" : "page", resp);
		return;
	}
	reply_error(resp, 404, NULL, "not found");
}
