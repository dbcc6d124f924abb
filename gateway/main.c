/*
 * twcgw: command line, start-up and shutdown of the gateway. It reads and checks the config, builds
 * the loop, the bus, (with an ocpp section) the OCPP charge point, the vehicle API client and the
 * policy engine with its meters, runs the loop until SIGTERM/SIGINT, reloads on SIGHUP, and tears
 * everything down in order; an OCPP Reset tears down the same way and then re-executes the program
 * with its original arguments. Under systemd it says READY once all that is built, keeps a one-line
 * STATUS=, and says RELOADING and STOPPING (gw_notify). The work itself lives in the gw_* modules and
 * the pure cores.
 */
#include <errno.h>
#include <getopt.h>
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
#include "gw_tesla.h"

#ifndef TWCGW_VERSION
#error "TWCGW_VERSION must be defined by the build"
#endif

#define EXIT_USAGE 2
#define ERR_MAX 512
#define STATUS_EVERY_MS 10000u

/* The running gateway: one config, one loop, one bus (later several). */
struct app {
	const char *config_path;
	bool verbose;
	struct gw_config cfg;
	struct gw_clock clock;
	struct gw_loop *loop;
	struct gw_bus *bus;
	struct gw_ocpp *ocpp;
	struct gw_tesla *tesla;
	struct gw_policy *policy;
	struct gw_control *control;  /* the operator's run-time settings */
	struct gw_mqtt_status *mqtt; /* with an mqtt section */
	struct gw_web *web;          /* with an http section */
	lws_sorted_usec_list_t sul_status;
	char status[256];
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

/* The one line systemctl status shows: the bus, the central system, the policy. */
static void app_status_line(const struct app *app, char *out, size_t n)
{
	const struct twc_bus *core = gw_bus_core(app->bus);
	struct gw_policy_state ps;
	int len;

	gw_policy_state(app->policy, &ps);
	len = snprintf(out, n, "%d TWC, %d of %d A held", core ? twc_bus_slave_count(core) : 0,
		       core ? twc_bus_held_total(core) : 0, app->cfg.twc.wiring_max_all);
	if (len > 0 && (size_t)len < n && app->cfg.ocpp.enabled)
		len += snprintf(out + len, n - (size_t)len, "; OCPP %s", gw_ocpp_online(app->ocpp) ? "online" : "offline");
	if (len > 0 && (size_t)len < n)
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

static void app_reload_config(struct app *app)
{
	struct gw_config cfg;
	char err[ERR_MAX], warn[ERR_MAX];
	int rc;

	rc = gw_control_config(app->config_path, app->cfg.data_dir, &cfg, err, sizeof(err), warn, sizeof(warn));
	if (rc) {
		gw_log_error("reload: %s; keeping the running config", err);
		return;
	}
	if (warn[0])
		gw_log_warn("reload: %s", warn);
	rc = gw_bus_apply_config(app->bus, &cfg);
	if (rc) {
		gw_log_error("reload: the bus refused the new limits%s%s%s; keeping the running config",
			     rc == -ERANGE ? "" : " (", rc == -ERANGE ? "" : strerror(-rc), rc == -ERANGE ? "" : ")");
		return;
	}
	if (!app->verbose)
		gw_log_set_level(cfg.log.level);
	/* The charge point keeps the section it started with: its link, identity and journal cannot
	 * change under a running session. */
	if (memcmp(&cfg.ocpp, &app->cfg.ocpp, sizeof(cfg.ocpp)) != 0)
		gw_log_warn("reload: ocpp.* changed; those changes take effect after a restart");
	cfg.ocpp = app->cfg.ocpp;
	if (memcmp(&cfg.tesla, &app->cfg.tesla, sizeof(cfg.tesla)) != 0)
		gw_log_warn("reload: tesla.* changed; those changes take effect after a restart");
	cfg.tesla = app->cfg.tesla;
	if (memcmp(&cfg.ems, &app->cfg.ems, sizeof(cfg.ems)) != 0)
		gw_log_warn("reload: ems changed; the meters change after a restart");
	cfg.ems = app->cfg.ems;
	if (memcmp(&cfg.mqtt, &app->cfg.mqtt, sizeof(cfg.mqtt)) != 0)
		gw_log_warn("reload: mqtt.* changed; those changes take effect after a restart");
	cfg.mqtt = app->cfg.mqtt;
	gw_policy_apply_config(app->policy, &cfg);
	app->cfg = cfg;
	gw_control_reloaded(app->control);
	gw_log_info("reload: config %s applied", app->config_path);
}

static void app_reload(void *user)
{
	struct app *app = user;

	gw_notify_reloading();
	app_reload_config(app);
	app_status_line(app, app->status, sizeof(app->status));
	gw_notify_ready(app->status);
}

static int run(struct app *app)
{
	struct gw_loop_handlers h = { .user = app, .on_stop = app_stop, .on_reload = app_reload };
	int code;

	gw_clock_init(&app->clock, 1.0);
	app->loop = gw_loop_new(&h);
	if (!app->loop)
		return 1;
	app->bus = gw_bus_new(app->loop, &app->clock, &app->cfg);
	if (app->bus && app->cfg.ocpp.enabled)
		app->ocpp = gw_ocpp_new(app->loop, &app->clock, &app->cfg, app->bus);
	if (app->bus && app->cfg.tesla.enabled)
		app->tesla = gw_tesla_new(app->loop, &app->clock, &app->cfg, app->bus);
	if (app->bus && (!app->cfg.ocpp.enabled || app->ocpp))
		app->policy = gw_policy_new(app->loop, &app->clock, &app->cfg, app->bus, app->ocpp, NULL);
	if (app->policy)
		app->control = gw_control_new(app->config_path, &app->cfg, app->bus, app->policy);
	if (app->control && app->cfg.mqtt.enabled)
		app->mqtt = gw_mqtt_status_new(app->loop, &app->cfg, app->bus, app->ocpp, app->policy, app->control);
	if (app->control && app->cfg.http.enabled) {
		struct gw_web_parts parts = { app->bus, app->ocpp, app->policy, app->control, app->tesla };

		app->web = gw_web_new(app->loop, &app->clock, &app->cfg, &parts);
	}
	if (!app->bus || (app->cfg.ocpp.enabled && !app->ocpp) || (app->cfg.tesla.enabled && !app->tesla) ||
	    !app->policy || !app->control || (app->cfg.mqtt.enabled && !app->mqtt) || (app->cfg.http.enabled && !app->web)) {
		code = -EIO;
		goto out;
	}
	gw_log_info("twcgw %s running with %s", TWCGW_VERSION, app->config_path);
	if (gw_notify_init(app->loop)) {
		app_status_line(app, app->status, sizeof(app->status));
		gw_notify_ready(app->status);
		gw_timer_in(app->loop, NULL, &app->sul_status, app_status_cb, STATUS_EVERY_MS);
	}

	code = gw_loop_run(app->loop);
	gw_notify_stopping();

out:
	/* Order matters: timers off, then lws closes what it adopted (calling back into the port and
	 * the websocket, which must still exist), then the objects and the descriptors they still own. */
	if (app->loop)
		lws_sul_cancel(&app->sul_status);
	gw_notify_stop();
	gw_web_stop(app->web);
	gw_mqtt_status_stop(app->mqtt);
	gw_policy_stop(app->policy);
	gw_tesla_stop(app->tesla);
	gw_ocpp_stop(app->ocpp);
	gw_bus_stop(app->bus);
	gw_loop_free(app->loop);
	gw_web_free(app->web);
	gw_mqtt_status_free(app->mqtt);
	gw_control_free(app->control);
	gw_policy_free(app->policy);
	gw_tesla_free(app->tesla);
	gw_ocpp_free(app->ocpp);
	gw_bus_free(app->bus);
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

	/* The file, with what the operator set at run time (dataDir/settings.json) on top. */
	rc = gw_control_config(app.config_path, NULL, &app.cfg, err, sizeof(err), warn, sizeof(warn));
	if (rc) {
		/* -n is a person at a terminal; otherwise it is a daemon start, so a proper log line. */
		if (check)
			fprintf(stderr, "%s\n", err);
		else
			gw_log_error("%s", err);
		return EXIT_USAGE;
	}
	/* Limits the Wall Connectors known from dataDir could not be brought within are an error too. */
	rc = held_check(&app.cfg, err, sizeof(err));
	if (rc) {
		if (check)
			fprintf(stderr, "%s\n", err);
		else
			gw_log_error("%s", err);
		return EXIT_USAGE;
	}
	if (warn[0]) {
		if (check)
			fprintf(stderr, "warning: %s\n", warn);
		else
			gw_log_warn("%s", warn);
	}
	if (check) {
		printf("config OK\n");
		return 0;
	}
	gw_log_set_level(app.verbose ? GW_LOG_DEBUG : app.cfg.log.level);
	rc = run(&app);
	return rc == GW_LOOP_RESTART ? restart(argv) : rc;
}
