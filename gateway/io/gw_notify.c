/*
 * gw_notify: the sd_notify side of Type=notify. libsystemd does the talking (sd_notify(),
 * sd_watchdog_enabled()), but it is loaded with dlopen() only when NOTIFY_SOCKET says systemd is
 * listening: a gateway started by hand, in a container or in the tests does not map libsystemd and
 * the four compression and crypto libraries it pulls in. The watchdog is fed from an lws timer at
 * half of WatchdogSec=, so it proves that the one loop still turns, not merely that the process lives.
 */
#include "gw_notify.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <libwebsockets.h>

#include "gw_log.h"
#include "gw_loop.h"

#define LIBSYSTEMD "libsystemd.so.0"

static struct {
	void *lib;
	int (*notify)(int unset_environment, const char *state);
	int (*watchdog_enabled)(int unset_environment, uint64_t *usec);
	struct gw_loop *loop;
	lws_sorted_usec_list_t sul;
	uint64_t feed_us;
} N;

static void say(const char *state)
{
	if (N.notify && N.notify(0, state) < 0)
		gw_log_debug("sd_notify(%s) failed", state);
}

static void feed(lws_sorted_usec_list_t *sul)
{
	say("WATCHDOG=1");
	lws_sul_schedule(gw_loop_context(N.loop), 0, sul, feed, (lws_usec_t)N.feed_us);
}

bool gw_notify_init(struct gw_loop *loop)
{
	uint64_t usec = 0;
	const char *sock = getenv("NOTIFY_SOCKET");

	if (!sock || !sock[0])
		return false;
	N.lib = dlopen(LIBSYSTEMD, RTLD_NOW | RTLD_LOCAL);
	if (N.lib) {
		*(void **)&N.notify = dlsym(N.lib, "sd_notify");
		*(void **)&N.watchdog_enabled = dlsym(N.lib, "sd_watchdog_enabled");
	}
	if (!N.notify || !N.watchdog_enabled) {
		/* systemd waits for READY=1 and then gives up: say why in the journal. */
		gw_log_error("NOTIFY_SOCKET is set but %s cannot be used (%s): systemd will not hear READY=1",
			     LIBSYSTEMD, N.lib ? "symbols missing" : dlerror());
		N.notify = NULL;
		N.watchdog_enabled = NULL;
		return false;
	}
	N.loop = loop;
	if (N.watchdog_enabled(0, &usec) > 0 && usec > 0) {
		N.feed_us = usec / 2 ? usec / 2 : 1;
		gw_log_info("systemd watchdog: %llu ms, fed every %llu ms", (unsigned long long)(usec / 1000),
			    (unsigned long long)(N.feed_us / 1000));
		feed(&N.sul);
	}
	return true;
}

void gw_notify_ready(const char *status)
{
	char buf[300];

	snprintf(buf, sizeof(buf), "READY=1\nSTATUS=%s", status ? status : "running");
	say(buf);
}

void gw_notify_status(const char *status)
{
	char buf[300];

	snprintf(buf, sizeof(buf), "STATUS=%s", status);
	say(buf);
}

void gw_notify_reloading(void)
{
	say("RELOADING=1");
}

void gw_notify_stopping(void)
{
	say("STOPPING=1");
}

void gw_notify_stop(void)
{
	if (N.feed_us)
		lws_sul_cancel(&N.sul);
	N.feed_us = 0;
}
