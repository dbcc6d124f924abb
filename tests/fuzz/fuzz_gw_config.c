/*
 * libFuzzer target for the config loader (gw_config): the input is the text of an operator's config
 * file, loaded with gw_config_from_json_text(), the loader gw_config_load() runs after reading the
 * file. Checked, besides no crash, leak or undefined behaviour: only a documented return value; on
 * failure the output untouched and the message one NUL-terminated line starting with "config: ", the
 * same again (cut short, never overrun) into an 8-byte buffer and with no buffer at all; on success
 * every range and rule the loader promises, and then what twcgw does next with a config: it builds
 * the charge point, vehicle API, policy and meter cores from it with the params gw_core_params.c
 * gives the gateway, and none of them may refuse a config `twcgw -n` called OK. (-n itself only prints
 * "config OK": the loader has no dump or free function; the struct is plain.)
 *
 * A missing dataDir is created by the loader; here mkdir fails as on a read-only file system, so
 * fuzzed paths never become directories on the machine that runs the fuzzer. Seeds use dataDir
 * "/tmp", which exists and is writable, to reach the success path.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ems_meter.h"
#include "ems_policy.h"
#include "gw_config.h"
#include "gw_core_params.h"
#include "ocpp_cp.h"
#include "tesla_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ERR_LEN 512   /* what gateway/main.c passes */
#define SMALL_ERR 8
#define WALL0 1767225607250LL

static bool in_loader;

/* Replaces libc's for this binary. libFuzzer's own calls (corpus directories) still create. */
int mkdir(const char *path, mode_t mode)
{
	if (in_loader) {
		errno = EROFS;
		return -1;
	}
	return (int)syscall(SYS_mkdirat, AT_FDCWD, path, mode);
}

static int load(const char *text, struct gw_config *out, char *err, size_t errlen)
{
	int rc;

	in_loader = true;
	rc = gw_config_from_json_text(text, "<fuzz>", out, err, errlen);
	in_loader = false;
	return rc;
}

static void check_rc(int rc)
{
	/* Validation, or what dataDir's stat, mkdir or access may say about a fuzzed path. */
	if (rc > 0 || (rc < 0 && rc != -EINVAL && rc != -ENOMEM && rc != -EROFS && rc != -ENOENT &&
		       rc != -ENOTDIR && rc != -EACCES && rc != -ENAMETOOLONG && rc != -ELOOP && rc != -EPERM))
		abort();
}

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

#define TERM(f) terminated((f), sizeof(f))

static bool in_range(long long v, long long lo, long long hi)
{
	return v >= lo && v <= hi;
}

/* The promises of gw_config.h and the key table, on a config the loader accepted. */
static void check_config(const struct gw_config *c)
{
	const struct gw_config_twc *t = &c->twc;
	const struct gw_config_policy *p = &c->policy;
	const struct gw_config_ocpp *o = &c->ocpp;
	const struct gw_config_tesla *ts = &c->tesla;

	if (!TERM(c->data_dir) || !c->data_dir[0])
		abort();

	if (!TERM(t->port) || !t->port[0])
		abort();
	if (strncmp(t->port, "tcp://", 6) == 0) {
		char host[GW_CONFIG_PORT_MAX];
		int port = 0;

		if (gw_url_tcp_split(t->port, host, sizeof(host), &port) != 0 || !in_range(port, 1, 65535) || !host[0])
			abort();
	} else if (t->port[0] != '/') {
		abort();
	}
	if (!in_range(t->wiring_max_all, 1, 240) || !in_range(t->wiring_max_per_twc, 5, 80) ||
	    t->wiring_max_per_twc > t->wiring_max_all || !in_range(t->min_amps, 5, t->wiring_max_per_twc) ||
	    !in_range(t->voltage, 100, 480) || (t->phases != 1 && t->phases != 3) || t->master_id == 0 ||
	    t->master_id == 0xFFFF)
		abort();

	if (!in_range(p->mode, 0, EMS_POLICY_TRACK_GREEN) || !in_range(p->then, 0, EMS_POLICY_TRACK_GREEN) ||
	    !ems_policy_mode_name(p->mode) || (p->has_until && p->then == p->mode) ||
	    !in_range(p->n_windows, 0, EMS_POLICY_MAX_WINDOWS))
		abort();
	for (int i = 0; i < p->n_windows; i++) {
		const struct ems_policy_window *w = &p->windows[i];

		if (!in_range(w->days, 1, 0x7f) || !in_range(w->start_min, 0, 1439) || !in_range(w->end_min, 0, 1439) ||
		    !in_range(w->amps, t->min_amps, t->wiring_max_all))
			abort();
	}
	if ((p->mode == EMS_POLICY_SCHEDULED && !p->n_windows) || (p->mode == EMS_POLICY_TRACK_GREEN && !c->ems.n))
		abort();

	if (!in_range(c->ems.n, 0, GW_CONFIG_EMS_MAX))
		abort();
	for (int i = 0; i < c->ems.n; i++) {
		const struct gw_config_meter *m = &c->ems.m[i];
		bool http = m->type != EMS_METER_SOLAREDGE && m->type != EMS_METER_MQTT;
		bool any = false;

		if (!in_range(m->type, EMS_METER_FRONIUS, EMS_METER_MQTT) || !TERM(m->url) || !TERM(m->host) ||
		    !TERM(m->email) || !TERM(m->username) || !TERM(m->password) || !TERM(m->token) || !TERM(m->ca_file))
			abort();
		if (http ? !m->url[0] || strchr(m->url, '@') : !m->host[0])
			abort();
		if (!in_range(m->port, 1, 65535) || !in_range(m->poll_s, 1, 3600) || !in_range(m->max_age_s, 1, 86400) ||
		    (m->type != EMS_METER_MQTT && m->max_age_s < m->poll_s))
			abort();
		for (int v = 0; v < EMS_NVALUES; v++) {
			if (!m->src[v].set)
				continue;
			any = true;
			if (!TERM(m->src[v].key) || !TERM(m->src[v].pointer) || !isfinite(m->src[v].scale) ||
			    m->src[v].scale == 0)
				abort();
		}
		if ((m->type == EMS_METER_HASS || m->type == EMS_METER_JSON || m->type == EMS_METER_MQTT) && !any)
			abort();
	}

	if (!in_range(c->log.level, GW_LOG_ERROR, GW_LOG_DEBUG) || !in_range(c->log.status_interval, 0, 86400))
		abort();

	if (o->enabled) {
		struct gw_url u;

		if (!TERM(o->url) || !TERM(o->charge_box_id) || !TERM(o->authorization_key) || !TERM(o->ca_file) ||
		    !TERM(o->id_tag_fixed) || !TERM(o->vendor) || !TERM(o->model))
			abort();
		if (gw_url_split(o->url, &u) != 0 || !u.host[0] || !in_range(u.port, 1, 65535) ||
		    !o->charge_box_id[0] || !in_range(o->security_profile, 0, 2) ||
		    (o->security_profile == 2 && !u.tls) || (o->security_profile >= 1 && !o->authorization_key[0]) ||
		    !in_range(o->n_keys, 0, GW_CONFIG_OCPP_KEYS_MAX) ||
		    (o->id_tag_source == OCPP_IDTAG_FIXED && !o->id_tag_fixed[0]) || !in_range(o->call_timeout, 1, 300) ||
		    !o->vendor[0] || !o->model[0])
			abort();
		for (int i = 0; i < o->n_keys; i++)
			if (!TERM(o->keys[i].name) || !TERM(o->keys[i].value) || !o->keys[i].name[0])
				abort();
	}

	if (ts->enabled) {
		if (!TERM(ts->base_url) || !TERM(ts->ca_file) || !TERM(ts->token_url) || !TERM(ts->client_id) ||
		    !TERM(ts->access_token) || !TERM(ts->refresh_token))
			abort();
		if (!ts->base_url[0] || !ts->token_url[0] || !ts->client_id[0] ||
		    (!ts->access_token[0] && !ts->refresh_token[0]) || !in_range(ts->daily_budget, 1, 100000) ||
		    !in_range(ts->car_amps, 0, 80))
			abort();
		if (ts->has_home && (!(ts->home_lat >= -90 && ts->home_lat <= 90) ||
				     !(ts->home_lon >= -180 && ts->home_lon <= 180) || !in_range(ts->home_radius, 10, 100000)))
			abort();
	}
}

/* ---- the cores a running gateway builds from the config ---- */

static int stub_send(void *user, const char *text, size_t len)
{
	(void)user;
	(void)text;
	(void)len;
	return -ENOTCONN;
}

static int stub_journal_put(void *user, uint64_t seq, const char *text)
{
	(void)user;
	(void)seq;
	(void)text;
	return 0;
}

static int stub_journal_del(void *user, uint64_t seq)
{
	(void)user;
	(void)seq;
	return 0;
}

static int stub_store(void *user, const char *name, const char *text, bool secret)
{
	(void)user;
	(void)name;
	(void)text;
	(void)secret;
	return 0;
}

static void stub_set_limit(void *user, int connector, int amps)
{
	(void)user;
	(void)connector;
	(void)amps;
}

static void stub_reset(void *user, bool hard)
{
	(void)user;
	(void)hard;
}

/* Without state files the only warning ocpp_cp_new() has is an initial key it refused: one the
 * loader, which checks ocpp.keys against the same key table, should have refused first. */
static void ocpp_log(void *user, enum core_log_level level, const char *msg)
{
	(void)user;
	(void)msg;
	if (level <= 1)
		abort();
}

static void start_ocpp(const struct gw_config *cfg)
{
	struct gw_ocpp_core_params cp;
	struct gw_url u;
	struct ocpp_cp_env env;
	struct ocpp_cp *cp_core;

	if (gw_url_split(cfg->ocpp.url, &u) != 0)
		abort();
	gw_core_params_ocpp(cfg, u.tls, &cp);
	memset(&env, 0, sizeof(env));
	env.send = stub_send;
	env.journal_put = stub_journal_put;
	env.journal_del = stub_journal_del;
	env.store = stub_store;
	env.set_limit = stub_set_limit;
	env.reset = stub_reset;
	env.log = ocpp_log;
	cp_core = ocpp_cp_new(&cp.p, &env);
	if (!cp_core)
		abort();
	ocpp_cp_free(cp_core);
}

static int stub_tesla_http(void *user, const struct tesla_http_req *r)
{
	(void)user;
	(void)r;
	return -ECONNREFUSED;
}

static void stub_log(void *user, enum core_log_level level, const char *msg)
{
	(void)user;
	(void)level;
	(void)msg;
}

static void start_tesla(const struct gw_config *cfg)
{
	struct tesla_env env = { .http = stub_tesla_http, .store = stub_store, .log = stub_log };
	struct gw_tesla_core_params tp;
	struct tesla *t;

	gw_core_params_tesla(&cfg->tesla, &tp);
	t = tesla_new(&tp.p, &env, WALL0);
	if (!t)
		abort();
	tesla_free(t);
}

static int stub_meter_http(void *user, const struct ems_meter_http_req *r)
{
	(void)user;
	(void)r;
	return -ECONNREFUSED;
}

static int stub_modbus_write(void *user, const uint8_t *bytes, size_t len)
{
	(void)user;
	(void)bytes;
	(void)len;
	return -ENOTCONN;
}

static void stub_meter_log(void *user, enum core_log_level level, const char *msg)
{
	(void)user;
	(void)level;
	(void)msg;
}

static void start_policy(const struct gw_config *cfg)
{
	struct ems_meter_env env = { .http = stub_meter_http, .modbus_write = stub_modbus_write, .log = stub_meter_log };
	struct ems_policy_params p;
	struct ems_policy *pol;
	char err[160];

	gw_core_params_policy(&cfg->policy, &cfg->twc, &p);
	if (ems_policy_params_check(&p, err, sizeof(err)) != 0)
		abort();
	pol = ems_policy_new(&p);
	if (!pol)
		abort();
	ems_policy_free(pol);

	for (int i = 0; i < cfg->ems.n; i++) {
		struct gw_meter_core_params mp;
		struct ems_meter *core;

		gw_core_params_meter(&cfg->ems.m[i], i, &mp);
		core = ems_meter_new(&mp.p, &env, 1000);
		if (!core)
			abort();
		ems_meter_free(core);
	}
}

/* ---- failure ---- */

static void check_err(const char *err, size_t errlen)
{
	if (!terminated(err, errlen) || strchr(err, '\n') || strncmp(err, "config: ", errlen - 1 < 8 ? errlen - 1 : 8))
		abort();
}

/* The same input again: the same answer, cut to a buffer too small for it, and with no buffer. */
static void check_failure_again(const char *text, int rc, const char *err)
{
	static struct gw_config out;
	char *small = malloc(SMALL_ERR);

	if (!small)
		return;
	memset(small, 'x', SMALL_ERR);
	if (load(text, &out, small, SMALL_ERR) != rc)
		abort();
	check_err(small, SMALL_ERR);
	if (strncmp(small, err, SMALL_ERR - 1) != 0)
		abort();
	free(small);
	if (load(text, &out, NULL, 0) != rc)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Static: the struct is some 30 kB, and the untouched check needs a second copy. */
	static struct gw_config out, before;
	char *text, *err;
	int rc;

	text = malloc(size + 1);
	err = malloc(ERR_LEN);
	if (!text || !err) {
		free(text);
		free(err);
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0'; /* an embedded 0x00 ends the text early, as it does for json_loads() */
	memset(&before, 0xA5, sizeof(before));
	out = before;
	memset(err, 'x', ERR_LEN);

	rc = load(text, &out, err, ERR_LEN);
	check_rc(rc);
	if (rc == 0) {
		check_config(&out);
		if (out.ocpp.enabled)
			start_ocpp(&out);
		if (out.tesla.enabled)
			start_tesla(&out);
		start_policy(&out);
	} else {
		if (memcmp(&out, &before, sizeof(out)) != 0)
			abort();
		check_err(err, ERR_LEN);
		check_failure_again(text, rc, err);
	}
	free(err);
	free(text);
	return 0;
}
