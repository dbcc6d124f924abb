/*
 * gw_notify: telling systemd how the service is (Type=notify): READY once the config is loaded and the
 * bus is open, STATUS= with a one-line summary, RELOADING/READY around a SIGHUP, STOPPING, and
 * WATCHDOG=1 fed from a timer on the one loop, so a loop that hangs is restarted by systemd
 * (WatchdogSec=). Outside systemd (no NOTIFY_SOCKET) every call does nothing.
 */
#ifndef GW_NOTIFY_H
#define GW_NOTIFY_H

#include <stdbool.h>

struct gw_loop;

/* Look for systemd; with WatchdogSec=, start feeding the watchdog at half its interval on @loop.
 * Return: true when running under a notify socket. */
bool gw_notify_init(struct gw_loop *loop);
void gw_notify_ready(const char *status);
void gw_notify_status(const char *status);
void gw_notify_reloading(void);
void gw_notify_stopping(void);
/* Stop the watchdog timer (before the loop is freed). */
void gw_notify_stop(void);

#endif
