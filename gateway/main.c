/*
 * twcgw: command line, start-up and shutdown of the gateway. It reads and checks the config, builds
 * the loop, per charge point (one, or each chargePoints entry) the bus, (with an ocpp section) the OCPP
 * charge point, the vehicle API client and the policy engine with its meters, with site.maxAmps the
 * site the buses share, runs the loop until SIGTERM/SIGINT, reloads on SIGHUP, and tears
 * everything down in order; an OCPP Reset tears down the same way and then re-executes the program
 * with its original arguments. Under systemd it says READY once all that is built, keeps a one-line
 * STATUS=, and says RELOADING and STOPPING (gw_notify). The work itself lives in the gw_* modules and
 * the pure cores.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_bus.h"
#include "gw_clock.h"
#include "gw_config.h"
#include "gw_control.h"
#include "gw_demo.h"
#include "gw_held.h"
#include "gw_import.h"
#include "gw_log.h"
#include "gw_loop.h"
#include "gw_mqtt_status.h"
#include "gw_notify.h"
#include "gw_timer.h"
#include "gw_web.h"
#include "gw_auth.h"
#include "gw_ocpp.h"
#include "gw_policy.h"
#include "gw_site.h"
#include "gw_tesla.h"

#ifndef TWCGW_VERSION
#error "TWCGW_VERSION must be defined by the build"
#endif

#define EXIT_USAGE 2
#define ERR_MAX 512
#define STATUS_EVERY_MS 10000u

/* One charge point: its bus with the OCPP link, vehicle API, policy, controls and MQTT status built
 * from its own config (a chargePoints entry, or the whole single-bus file). */
struct cp {
	struct app *app;
	struct gw_config cfg; /* the entry's; gw_control updates its policy in place */
	struct gw_bus *bus;
	struct gw_ocpp *ocpp;
	struct gw_tesla *tesla;      /* the app's, while this bus is attached to it */
	struct gw_policy *policy;
	struct gw_control *control;  /* the operator's run-time settings */
	struct gw_mqtt_status *mqtt; /* with an mqtt section */
};

/* The running gateway: one loop, one charge point per bus (chargePoints), one web server. */
struct app {
	const char *config_path;
	bool verbose;
	struct gw_config_set set; /* as loaded at start, until run() has built from it */
	bool list;                /* the chargePoints form (a reload cannot switch forms) */
	struct gw_config shared;  /* the first entry's config: the shared sections the web server borrows */
	struct gw_clock clock;
	struct gw_loop *loop;
	struct cp *cp[GW_CONFIG_CP_MAX];
	int n_cp;
	struct gw_policy *meters; /* the policy that polls the site's meters (see cp_source) */
	struct gw_tesla *tesla;   /* with a tesla section: one vehicle API client for every bus */
	struct gw_web *web;       /* with an http section */
	struct gw_site *site;     /* with site.maxAmps: the buses' budgets on one supply */
	lws_sorted_usec_list_t sul_status;
	char status[256];
	/* Charge points taken down at a reload, freed on the next turn of the loop: lws may still call
	 * back into their links while it closes them. */
	struct cp *gone[GW_CONFIG_CP_MAX];
	int n_gone;
	lws_sorted_usec_list_t sul_gone;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: twcgw -c FILE [-n] [-v]\n"
		"       twcgw --demo [--demo-scenario NAME] [--demo-speed N] [--demo-ocpp URL] [-v]\n"
		"       twcgw --import-twcmanager FILE > twcgw.json\n"
		"       twcgw --hash-password < password.txt\n"
		"\n"
		"Master for Tesla Wall Connector Gen 2 slaves on an RS-485 bus; with an \"ocpp\" section in\n"
		"the config, an OCPP 1.6J charge point with one connector per Wall Connector.\n"
		"\n"
		"  -c, --config FILE     run with this JSON config file\n"
		"  -n, --check           with -c: check the config, print \"config OK\" and exit\n"
		"                        (exit 2 and the error on stderr if it is not valid)\n"
		"  -v, --verbose         debug logging (overrides log.level)\n"
		"      --demo            run the built-in demo on simulated Wall Connectors (no hardware)\n"
		"      --demo-scenario NAME\n"
		"                        solar (default): a cloudy day in a minute; the track-green policy\n"
		"                        charges one car from the solar surplus only\n"
		"                        share: three cars arrive and leave and share 40 A\n"
		"      --demo-speed N    simulated gateway seconds per real second (default 15 for solar,\n"
		"                        4 for share)\n"
		"      --demo-ocpp URL   share scenario (implied): also show the cars to the OCPP central system\n"
		"                        at URL (ws:// or wss://; charge box \"twcgw-demo\", no auth, idTag \"DEMO\")\n"
		"      --demo-http ADDR  serve the status page on ADDR (default 127.0.0.1:8080; port 0 picks a free\n"
		"                        port, \"off\" serves none) and print its URL\n"
		"      --import-twcmanager FILE\n"
		"                        print the twcgw config equivalent to TWCManager's config.json FILE\n"
		"                        (and its settings.json); what is not carried over goes to stderr\n"
		"      --hash-password   read a password (one line) on standard input and print the hash to put\n"
		"                        in http.passwordHash\n"
		"      --version         print the version and exit\n"
		"  -h, --help            print this help and exit\n"
		"\n"
		"Signals: SIGTERM/SIGINT stop cleanly, SIGHUP reloads the config (ocpp.*, tesla.* and ems changes\n"
		"need a restart).\n");
}

/* The wiring against what the slaves in dataDir/twc-held.json can be brought down to. */
static int held_check(const struct gw_config *cfg, char *err, size_t errlen)
{
	struct twc_held held[TWC_MAX_KNOWN];
	struct twc_need need;
	int n = gw_held_load(cfg->data_dir, held, TWC_MAX_KNOWN, err, errlen);

	if (n < 0)
		return n;
	twc_need_of(held, n, &need);
	return gw_held_check(&need, cfg->twc.wiring_max_all, cfg->twc.wiring_max_per_twc, err, errlen);
}

/* The one line systemctl status shows: the buses, the central systems, the policy. */
static void app_status_line(const struct app *app, char *out, size_t n)
{
	int slaves = 0, held = 0, wiring = 0, online = 0, with_ocpp = 0, len;
	struct gw_policy_state ps = { 0 };

	for (int i = 0; i < app->n_cp; i++) {
		const struct twc_bus *core = gw_bus_core(app->cp[i]->bus);

		slaves += core ? twc_bus_slave_count(core) : 0;
		held += core ? twc_bus_held_total(core) : 0;
		wiring += app->cp[i]->cfg.twc.wiring_max_all;
		with_ocpp += app->cp[i]->cfg.ocpp.enabled;
		online += app->cp[i]->cfg.ocpp.enabled && gw_ocpp_online(app->cp[i]->ocpp);
	}
	if (app->n_cp == 1)
		gw_policy_state(app->cp[0]->policy, &ps);
	len = app->n_cp == 1 ? snprintf(out, n, "%d TWC, %d of %d A held", slaves, held, wiring)
			     : snprintf(out, n, "%d charge points, %d TWC, %d of %d A held", app->n_cp, slaves, held, wiring);
	if (len > 0 && (size_t)len < n && with_ocpp == 1 && app->n_cp == 1)
		len += snprintf(out + len, n - (size_t)len, "; OCPP %s", online ? "online" : "offline");
	else if (len > 0 && (size_t)len < n && with_ocpp)
		len += snprintf(out + len, n - (size_t)len, "; OCPP %d of %d online", online, with_ocpp);
	if (len > 0 && (size_t)len < n && app->n_cp == 1)
		snprintf(out + len, n - (size_t)len, "; policy %d A (%s)", ps.amps, ps.reason ? ps.reason : "-");
}

static void app_status_cb(lws_sorted_usec_list_t *sul)
{
	struct app *app = lws_container_of(sul, struct app, sul_status);
	char line[sizeof(app->status)];

	app_status_line(app, line, sizeof(line));
	if (strcmp(line, app->status)) {
		memcpy(app->status, line, sizeof(line));
		gw_notify_status(line);
	}
	gw_timer_in(app->loop, NULL, &app->sul_status, app_status_cb, STATUS_EVERY_MS);
}

static void app_stop(void *user, int signo)
{
	(void)user;
	(void)signo;
	gw_notify_stopping();
}

/* The other buses' policies read the site's meters through the first one's (gw_policy_set_share). */
static void cp_source(void *user, uint64_t now_ms, struct ems_reading *out)
{
	struct app *app = user;
	struct gw_policy_state ps;

	(void)now_ms;
	if (!app->meters)
		return;
	gw_policy_state(app->meters, &ps);
	*out = ps.reading;
}

/* MQTT: one client per charge point, under <prefix>/<chargeBoxId> (its own Home Assistant device). */
static int cp_mqtt_names(struct gw_config *cfg)
{
	struct gw_config_mqtt *m = &cfg->mqtt;
	char prefix[sizeof(m->prefix)] = "", id[sizeof(m->client_id)] = "";
	int a, b = 0;

	if (!cfg->cp_id[0])
		return 0;
	a = snprintf(prefix, sizeof(prefix), "%s/%s", m->prefix, cfg->cp_id);
	if (m->client_id[0])
		b = snprintf(id, sizeof(id), "%s-%s", m->client_id, cfg->cp_id);
	if (a < 0 || (size_t)a >= sizeof(prefix) || b < 0 || (size_t)b >= sizeof(id)) {
		gw_log_error("%s: mqtt.prefix or mqtt.clientId with \"/%s\" is too long for MQTT", cfg->cp_id, cfg->cp_id);
		return -ENAMETOOLONG;
	}
	memcpy(m->prefix, prefix, sizeof(prefix));
	if (m->client_id[0])
		memcpy(m->client_id, id, sizeof(id));
	return 0;
}

/* Timers off and links closed (lws still running): the first half of taking a charge point down. */
static void cp_stop(struct cp *cp)
{
	if (!cp)
		return;
	/* Out of the site first: what its TWCs hold stays reserved there while they may still charge. */
	if (cp->app->site && cp->bus)
		gw_site_remove(cp->app->site, cp->bus);
	gw_mqtt_status_stop(cp->mqtt);
	gw_policy_stop(cp->policy);
	gw_tesla_detach(cp->tesla, cp->bus);
	cp->tesla = NULL;
	gw_ocpp_stop(cp->ocpp);
	gw_bus_stop(cp->bus);
}

static void cp_free(struct cp *cp)
{
	if (!cp)
		return;
	gw_mqtt_status_free(cp->mqtt);
	gw_control_free(cp->control);
	gw_policy_free(cp->policy);
	gw_ocpp_free(cp->ocpp);
	gw_bus_free(cp->bus);
	memset(&cp->cfg, 0, sizeof(cp->cfg)); /* secrets */
	free(cp);
}

/* The objects of one charge point; NULL (logged) if one cannot be built. @owns_meters: its policy
 * polls the site's meters, the others read them through it. */
static struct cp *cp_new(struct app *app, const struct gw_config *cfg, bool owns_meters)
{
	struct gw_policy_source src = { .user = app, .read = cp_source };
	struct cp *cp = calloc(1, sizeof(*cp));

	if (!cp)
		return NULL;
	cp->app = app;
	cp->cfg = *cfg;
	if (cp_mqtt_names(&cp->cfg))
		goto fail;
	cp->bus = gw_bus_new(app->loop, &app->clock, &cp->cfg);
	/* Into the site before anything can raise a slave: the budget is set on adding. */
	if (cp->bus && app->site) {
		int rc = gw_site_add(app->site, cp->bus);

		if (rc) {
			gw_log_error("%s%ssite: %s", cfg->cp_id, cfg->cp_id[0] ? ": " : "", strerror(-rc));
			goto fail;
		}
	}
	if (cp->bus && cp->cfg.ocpp.enabled)
		cp->ocpp = gw_ocpp_new(app->loop, &app->clock, &cp->cfg, cp->bus);
	if (cp->bus && cp->cfg.tesla.enabled && app->tesla) {
		int rc = gw_tesla_attach(app->tesla, cp->bus, cfg->cp_id, cfg->twc.min_amps);

		if (rc)
			gw_log_error("%s%stesla: cannot serve this bus: %s", cfg->cp_id, cfg->cp_id[0] ? ": " : "",
				     strerror(-rc));
		else
			cp->tesla = app->tesla;
	} else if (cp->bus && cp->cfg.tesla.enabled) {
		gw_log_warn("%s%stesla: a tesla section added at a reload takes effect after a restart", cfg->cp_id,
			    cfg->cp_id[0] ? ": " : "");
	}
	if (cp->bus && (!cp->cfg.ocpp.enabled || cp->ocpp))
		cp->policy = gw_policy_new(app->loop, &app->clock, &cp->cfg, cp->bus, cp->ocpp,
					   owns_meters || !cp->cfg.ems.n ? NULL : &src);
	if (cp->policy && owns_meters && cp->cfg.cp_count > 1)
		gw_policy_set_share(cp->policy, cp->cfg.cp_count);
	if (cp->policy)
		cp->control = gw_control_new(app->config_path, &cp->cfg, cp->bus, cp->policy);
	if (cp->control && cp->cfg.mqtt.enabled)
		cp->mqtt = gw_mqtt_status_new(app->loop, &cp->cfg, cp->bus, cp->ocpp, cp->policy, cp->control);
	if (!cp->bus || (cp->cfg.ocpp.enabled && !cp->ocpp) || (app->tesla && cp->cfg.tesla.enabled && !cp->tesla) ||
	    !cp->policy ||
	    !cp->control || (cp->cfg.mqtt.enabled && !cp->mqtt))
		goto fail;
	return cp;
fail:
	gw_log_error("%s%scannot be started", cfg->cp_id, cfg->cp_id[0] ? ": " : "");
	cp_stop(cp);
	cp_free(cp);
	return NULL;
}

/* The web server's view: every charge point's parts, in config order. */
static void app_web_parts(struct app *app)
{
	struct gw_web_parts parts[GW_CONFIG_CP_MAX];
	const struct gw_config *cfgs[GW_CONFIG_CP_MAX];

	if (!app->web)
		return;
	for (int i = 0; i < app->n_cp; i++) {
		parts[i] = (struct gw_web_parts){ app->cp[i]->bus, app->cp[i]->ocpp, app->cp[i]->policy,
						  app->cp[i]->control, app->cp[i]->tesla };
		cfgs[i] = &app->cp[i]->cfg;
	}
	gw_web_set_parts(app->web, parts, cfgs, app->n_cp);
}

/* SIGHUP for one charge point that stays: what can change under a running bus. Return 0, or < 0 when
 * the bus refused the new limits and the charge point keeps its running config. */
static int cp_reload(struct cp *cp, struct gw_config *cfg)
{
	const char *who = cp->cfg.cp_id[0] ? cp->cfg.cp_id : "reload";
	int rc = gw_bus_apply_config(cp->bus, cfg);

	if (rc) {
		gw_log_error("%s: the bus refused the new limits%s%s%s; keeping the running config", who,
			     rc == -ERANGE ? "" : " (", rc == -ERANGE ? "" : strerror(-rc), rc == -ERANGE ? "" : ")");
		return rc;
	}
	/* The charge point keeps the section it started with: its link, identity and journal cannot
	 * change under a running session. */
	if (memcmp(&cfg->ocpp, &cp->cfg.ocpp, sizeof(cfg->ocpp)) != 0)
		gw_log_warn("%s: ocpp.* changed; those changes take effect after a restart", who);
	cfg->ocpp = cp->cfg.ocpp;
	if (memcmp(&cfg->tesla, &cp->cfg.tesla, sizeof(cfg->tesla)) != 0)
		gw_log_warn("%s: tesla.* changed; those changes take effect after a restart", who);
	cfg->tesla = cp->cfg.tesla;
	if (memcmp(&cfg->ems, &cp->cfg.ems, sizeof(cfg->ems)) != 0)
		gw_log_warn("%s: ems changed; the meters change after a restart", who);
	cfg->ems = cp->cfg.ems;
	/* Names as cp_new() made them (under <prefix>/<chargeBoxId>). */
	if (cp_mqtt_names(cfg) || memcmp(&cfg->mqtt, &cp->cfg.mqtt, sizeof(cfg->mqtt)) != 0)
		gw_log_warn("%s: mqtt.* changed; those changes take effect after a restart", who);
	cfg->mqtt = cp->cfg.mqtt;
	cfg->cp_count = cp->cfg.cp_count; /* the meters' share is set at start */
	gw_policy_apply_config(cp->policy, cfg);
	cp->cfg = *cfg;
	gw_control_reloaded(cp->control);
	return 0;
}

static int cp_find(const struct app *app, const char *id)
{
	for (int i = 0; i < app->n_cp; i++)
		if (!strcmp(app->cp[i]->cfg.cp_id, id))
			return i;
	return -1;
}

static void app_gone_free(struct app *app)
{
	for (int i = 0; i < app->n_gone; i++)
		cp_free(app->gone[i]);
	app->n_gone = 0;
}

static void app_gone_cb(lws_sorted_usec_list_t *sul)
{
	app_gone_free(lws_container_of(sul, struct app, sul_gone));
}

/* site.maxAmps at a reload: a new value, a site that starts (every running bus joins it) or ends. */
static void app_reload_site(struct app *app, int max_amps)
{
	if (max_amps > 0 && app->site) {
		if (gw_site_set_max(app->site, max_amps))
			gw_log_error("reload: site.maxAmps %d refused; keeping the running one", max_amps);
		return;
	}
	if (max_amps > 0) {
		app->site = gw_site_new(app->loop, max_amps);
		for (int i = 0; app->site && i < app->n_cp; i++)
			if (gw_site_add(app->site, app->cp[i]->bus))
				gw_log_error("reload: %s cannot join the site", app->cp[i]->cfg.cp_id);
		return;
	}
	if (app->site) {
		gw_log_info("reload: no site.maxAmps any more; each bus keeps to its own wiring");
		gw_site_free(app->site);
		app->site = NULL;
	}
}

static void app_reload_config(struct app *app)
{
	struct gw_config_set set;
	struct cp *next[GW_CONFIG_CP_MAX];
	char err[ERR_MAX], warn[ERR_MAX];
	bool kept[GW_CONFIG_CP_MAX] = { false };
	int n = 0, rc, refused = 0;

	rc = gw_control_config_set(app->config_path, &set, err, sizeof(err), warn, sizeof(warn));
	if (rc) {
		gw_log_error("reload: %s; keeping the running config", err);
		return;
	}
	if (warn[0])
		gw_log_warn("reload: %s", warn);
	/* The single-bus form and the list cannot turn into each other under running buses (the state
	 * folder of the one bus would move). */
	if (set.list != app->list) {
		gw_log_error("reload: the file changed between one bus and chargePoints; that needs a restart; "
			     "keeping the running config");
		gw_config_set_clear(&set);
		return;
	}
	if (!app->verbose)
		gw_log_set_level(set.cp[0].log.level);
	/* Removed ones leave first: the room their TWCs may still hold is reserved before anyone else
	 * is given a budget. */
	for (int j = 0; set.list && j < app->n_cp; j++) {
		int i = 0;

		while (i < set.n && strcmp(set.cp[i].cp_id, app->cp[j]->cfg.cp_id))
			i++;
		if (i < set.n)
			continue;
		if (app->cp[j]->policy == app->meters)
			app->meters = NULL; /* the others' readings go unknown: a restart moves the meters */
		gw_log_info("reload: charge point %s removed", app->cp[j]->cfg.cp_id);
		cp_stop(app->cp[j]);
		if (app->n_gone == GW_CONFIG_CP_MAX)
			app_gone_free(app); /* reloads faster than the loop turns: the oldest were stopped before */
		app->gone[app->n_gone++] = app->cp[j];
		memmove(&app->cp[j], &app->cp[j + 1], sizeof(app->cp[0]) * (size_t)(app->n_cp - j - 1));
		app->n_cp--;
		j--;
	}
	if (app->n_gone)
		gw_timer_in(app->loop, NULL, &app->sul_gone, app_gone_cb, 1);
	app_reload_site(app, set.cp[0].site.max_amps);
	for (int i = 0; i < set.n; i++) {
		int j = set.list ? cp_find(app, set.cp[i].cp_id) : 0;

		if (j >= 0 && !kept[j]) {
			struct gw_config_mqtt given = set.cp[i].mqtt;
			bool same;

			/* Unchanged (with the MQTT names cp_new() gave it): nothing is touched; changed: what
			 * can change under a running bus. */
			same = cp_mqtt_names(&set.cp[i]) == 0 &&
			       memcmp(&set.cp[i], &app->cp[j]->cfg, sizeof(set.cp[i])) == 0;
			set.cp[i].mqtt = given;
			if (!same && cp_reload(app->cp[j], &set.cp[i]) != 0)
				refused++;
			kept[j] = true;
			next[n++] = app->cp[j];
			continue;
		}
		next[n] = cp_new(app, &set.cp[i], false);
		if (next[n]) {
			gw_log_info("reload: charge point %s added", set.cp[i].cp_id);
			n++;
		}
	}
	memcpy(app->cp, next, sizeof(next[0]) * (size_t)n);
	app->n_cp = n;
	app_web_parts(app);
	gw_config_set_clear(&set);
	malloc_trim(0); /* the file's parse and its entries' configs, as at start */
	if (!refused)
		gw_log_info("reload: config %s applied", app->config_path);
	else if (app->list)
		gw_log_warn("reload: config %s applied but for %d charge point(s) whose bus refused it", app->config_path,
			    refused);
}

static void app_reload(void *user)
{
	struct app *app = user;

	gw_notify_reloading();
	app_reload_config(app);
	app_status_line(app, app->status, sizeof(app->status));
	gw_notify_ready(app->status);
}

/* The vehicle API client of the whole file: its files in the top-level dataDir (an entry's dataDir is
 * <dataDir>/<chargeBoxId>); a one-entry chargePoints file kept them in the entry's folder before. */
static int app_tesla_new(struct app *app)
{
	const struct gw_config *c = &app->set.cp[0];
	char dir[GW_CONFIG_PATH_MAX];
	size_t n = strlen(c->data_dir), id = strlen(c->cp_id);

	if (!c->tesla.enabled)
		return 0;
	memcpy(dir, c->data_dir, n + 1);
	if (id && n > id && dir[n - id - 1] == '/' && !strcmp(dir + n - id, c->cp_id))
		dir[n - id - 1] = 0;
	app->tesla = gw_tesla_new(app->loop, &app->clock, c, dir, app->set.list ? c->data_dir : NULL,
				  app->set.list ? GW_CONFIG_CP_MAX : 1);
	return app->tesla ? 0 : -EIO;
}

static int run(struct app *app)
{
	struct gw_loop_handlers h = { .user = app, .on_stop = app_stop, .on_reload = app_reload };
	int code = 0;

	gw_clock_init(&app->clock, 1.0);
	app->shared = app->set.cp[0];
	app->list = app->set.list;
	app->loop = gw_loop_new(&h);
	if (!app->loop) {
		gw_config_set_clear(&app->set);
		return 1;
	}
	if (app->shared.site.max_amps > 0) {
		app->site = gw_site_new(app->loop, app->shared.site.max_amps);
		if (!app->site)
			code = -EIO;
	}
	if (code == 0)
		code = app_tesla_new(app);
	for (int i = 0; code == 0 && i < app->set.n; i++) {
		struct cp *cp = cp_new(app, &app->set.cp[i], app->n_cp == 0);

		/* In a depot one charge point that cannot start leaves the others running. */
		if (!cp && !app->set.list) {
			code = -EIO;
			break;
		}
		if (!cp)
			continue;
		if (app->n_cp == 0)
			app->meters = cp->policy;
		app->cp[app->n_cp++] = cp;
	}
	gw_config_set_clear(&app->set);
	if (app->n_cp == 0)
		code = -EIO;
	if (code == 0 && app->shared.http.enabled) {
		struct gw_web_parts parts = { app->cp[0]->bus, app->cp[0]->ocpp, app->cp[0]->policy, app->cp[0]->control,
					      app->cp[0]->tesla };

		app->web = gw_web_new(app->loop, &app->clock, &app->cp[0]->cfg, &parts);
		if (!app->web)
			code = -EIO;
		app_web_parts(app);
	}
	if (code)
		goto out;
	gw_log_info("twcgw %s running with %s%s", TWCGW_VERSION, app->config_path,
		    app->cp[0]->cfg.cp_id[0] ? " (chargePoints)" : "");
	if (gw_notify_init(app->loop)) {
		app_status_line(app, app->status, sizeof(app->status));
		gw_notify_ready(app->status);
		gw_timer_in(app->loop, NULL, &app->sul_status, app_status_cb, STATUS_EVERY_MS);
	}

	/* What building took (the parsed file, every entry's config) is free now: give it back rather
	 * than keep it resident for years. */
	malloc_trim(0);
	code = gw_loop_run(app->loop);
	gw_notify_stopping();

out:
	/* Order matters: timers off, then lws closes what it adopted (calling back into the port and
	 * the websocket, which must still exist), then the objects and the descriptors they still own. */
	if (app->loop) {
		lws_sul_cancel(&app->sul_status);
		lws_sul_cancel(&app->sul_gone);
	}
	gw_notify_stop();
	gw_web_stop(app->web);
	/* The whole site goes down together: no bus is left behind to be reserved for (its timer needs
	 * the loop). */
	gw_site_free(app->site);
	app->site = NULL;
	for (int i = 0; i < app->n_cp; i++)
		cp_stop(app->cp[i]);
	gw_tesla_stop(app->tesla);
	gw_loop_free(app->loop);
	gw_web_free(app->web);
	for (int i = 0; i < app->n_cp; i++)
		cp_free(app->cp[i]);
	gw_tesla_free(app->tesla);
	app_gone_free(app);
	gw_log_info("stopped");
	return code < 0 ? 1 : code;
}

/* --hash-password: one line from stdin (no echo to turn off: it is meant for a pipe or a prompt the
 * shell gives), its hash on stdout. */
static int hash_password(void)
{
	char line[300], out[GW_AUTH_HASH_MAX], err[128];
	size_t n;

	if (isatty(STDIN_FILENO))
		fprintf(stderr, "password: ");
	if (!fgets(line, sizeof(line), stdin)) {
		fprintf(stderr, "twcgw: --hash-password: no password on standard input\n");
		return EXIT_USAGE;
	}
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (gw_auth_hash_password(line, out, sizeof(out), err, sizeof(err)) != 0) {
		memset(line, 0, sizeof(line));
		fprintf(stderr, "twcgw: --hash-password: %s\n", err);
		return EXIT_USAGE;
	}
	memset(line, 0, sizeof(line));
	printf("%s\n", out);
	return 0;
}

/* OCPP Reset: everything is closed and the journal is on disk; start again as we were started. */
static int restart(char **argv)
{
	gw_log_info("restarting (%s)", "/proc/self/exe");
	execv("/proc/self/exe", argv);
	gw_log_error("restart: execv failed: %s", strerror(errno));
	return 1;
}

static bool parse_speed(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !(v > 0) || v > 1000)
		return false;
	*out = v;
	return true;
}

int main(int argc, char **argv)
{
	enum { OPT_DEMO = 256, OPT_DEMO_SPEED, OPT_DEMO_OCPP, OPT_DEMO_SCENARIO, OPT_VERSION, OPT_IMPORT, OPT_DEMO_HTTP,
	       OPT_HASH };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "demo", no_argument, NULL, OPT_DEMO },
		{ "demo-speed", required_argument, NULL, OPT_DEMO_SPEED },
		{ "demo-ocpp", required_argument, NULL, OPT_DEMO_OCPP },
		{ "demo-scenario", required_argument, NULL, OPT_DEMO_SCENARIO },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "import-twcmanager", required_argument, NULL, OPT_IMPORT },
		{ "demo-http", required_argument, NULL, OPT_DEMO_HTTP },
		{ "hash-password", no_argument, NULL, OPT_HASH },
		{ NULL, 0, NULL, 0 },
	};
	struct app app;
	bool check = false, demo = false, speed_given = false;
	const char *demo_url = NULL, *import_path = NULL, *demo_http = "127.0.0.1:8080";
	bool demo_http_given = false, hash = false;
	int scenario = -1; /* not given */
	double speed = 0;  /* the scenario's default */
	char err[ERR_MAX], warn[ERR_MAX] = "";
	int c, rc;

	memset(&app, 0, sizeof(app));
	gw_log_init(GW_LOG_INFO);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":c:nvh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			app.config_path = optarg;
			break;
		case 'n':
			check = true;
			break;
		case 'v':
			app.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_IMPORT:
			import_path = optarg;
			break;
		case OPT_VERSION:
			printf("twcgw %s\n", TWCGW_VERSION);
			return 0;
		case OPT_DEMO:
			demo = true;
			break;
		case OPT_DEMO_SPEED:
			if (!parse_speed(optarg, &speed)) {
				fprintf(stderr, "twcgw: --demo-speed: expected a number above 0 and at most 1000, got \"%s\"\n",
					optarg);
				return EXIT_USAGE;
			}
			speed_given = true;
			break;
		case OPT_DEMO_OCPP:
			demo_url = optarg;
			break;
		case OPT_DEMO_HTTP:
			demo_http = optarg;
			demo_http_given = true;
			break;
		case OPT_HASH:
			hash = true;
			break;
		case OPT_DEMO_SCENARIO:
			scenario = gw_demo_scenario_from_name(optarg);
			if (scenario < 0) {
				fprintf(stderr, "twcgw: --demo-scenario: expected solar or share, got \"%s\"\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case ':':
			fprintf(stderr, "twcgw: option %s needs an argument\n", argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "twcgw: unknown option %s\n", argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "twcgw: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (hash) {
		if (demo || app.config_path || check || import_path) {
			fprintf(stderr, "twcgw: --hash-password takes no other option\n");
			return EXIT_USAGE;
		}
		return hash_password();
	}
	if (import_path) {
		if (demo || app.config_path || check) {
			fprintf(stderr, "twcgw: --import-twcmanager takes no other option\n");
			return EXIT_USAGE;
		}
		return gw_import_twcmanager_run(import_path, stdout, stderr);
	}
	if (demo) {
		if (app.config_path || check) {
			fprintf(stderr, "twcgw: --demo takes no -c or -n\n");
			usage(stderr);
			return EXIT_USAGE;
		}
		/* The table is the demo's output; log lines only with -v. */
		if (demo_url) {
			struct gw_url u;

			if (gw_url_split(demo_url, &u) != 0) {
				fprintf(stderr, "twcgw: --demo-ocpp: expected ws://host[:port][/path] or wss://..., got \"%s\"\n",
					demo_url);
				return EXIT_USAGE;
			}
		}
		/* OCPP belongs to the share scenario; the documented --demo --demo-ocpp URL still means it. */
		if (demo_url && scenario == GW_DEMO_SOLAR) {
			fprintf(stderr, "twcgw: --demo-ocpp needs the share scenario, not solar\n");
			usage(stderr);
			return EXIT_USAGE;
		}
		if (scenario < 0)
			scenario = demo_url ? GW_DEMO_SHARE : GW_DEMO_SOLAR;
		gw_log_set_level(app.verbose ? GW_LOG_DEBUG : GW_LOG_WARN);
		if (!strcmp(demo_http, "off"))
			demo_http = NULL;
		else if (gw_config_listen_check(demo_http) != 0) {
			fprintf(stderr, "twcgw: --demo-http: expected address:port such as 127.0.0.1:8080, or off; got \"%s\"\n",
				demo_http);
			return EXIT_USAGE;
		}
		rc = gw_demo_run((enum gw_demo_scenario)scenario, speed_given ? speed : 0, demo_url, demo_http);
		return rc == GW_LOOP_RESTART ? restart(argv) : rc;
	}
	if (speed_given || demo_url || scenario >= 0 || demo_http_given) {
		fprintf(stderr, "twcgw: %s needs --demo\n",
			speed_given ? "--demo-speed" : demo_url ? "--demo-ocpp" : demo_http_given ? "--demo-http" : "--demo-scenario");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!app.config_path) {
		fprintf(stderr, "twcgw: missing -c FILE\n");
		usage(stderr);
		return EXIT_USAGE;
	}

	/* The file, with what the operator set at run time (each dataDir's settings.json) on top. */
	rc = gw_control_config_set(app.config_path, &app.set, err, sizeof(err), warn, sizeof(warn));
	if (rc) {
		/* -n is a person at a terminal; otherwise it is a daemon start, so a proper log line. */
		if (check)
			fprintf(stderr, "%s\n", err);
		else
			gw_log_error("%s", err);
		return EXIT_USAGE;
	}
	/* Limits the Wall Connectors known from each dataDir could not be brought within are an error too. */
	for (int i = 0; i < app.set.n; i++) {
		rc = held_check(&app.set.cp[i], err, sizeof(err));
		if (rc) {
			if (check)
				fprintf(stderr, "%s%s%s\n", app.set.cp[i].cp_id, app.set.cp[i].cp_id[0] ? ": " : "", err);
			else
				gw_log_error("%s%s%s", app.set.cp[i].cp_id, app.set.cp[i].cp_id[0] ? ": " : "", err);
			gw_config_set_clear(&app.set);
			return EXIT_USAGE;
		}
	}
	if (warn[0]) {
		if (check)
			fprintf(stderr, "warning: %s\n", warn);
		else
			gw_log_warn("%s", warn);
	}
	if (check) {
		printf("config OK\n");
		gw_config_set_clear(&app.set);
		return 0;
	}
	gw_log_set_level(app.verbose ? GW_LOG_DEBUG : app.set.cp[0].log.level);
	rc = run(&app);
	return rc == GW_LOOP_RESTART ? restart(argv) : rc;
}
