/*
 * gw_ocpp_internal: the charge point binding's state, shared by gw_ocpp.c (the core, the link, the
 * bus) and gw_ocpp_security.c (the security whitepaper: the certificate store, the link's trials of
 * a raised profile, a new certificate or a new root, security events, log upload and signed
 * firmware). Nothing outside gateway/bind/gw_ocpp*.c includes it.
 */
#ifndef GW_OCPP_INTERNAL_H
#define GW_OCPP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <libwebsockets.h>

#include "gw_bus.h"
#include "gw_certs.h"
#include "gw_clock.h"
#include "gw_config.h"
#include "gw_loop.h"
#include "gw_timer.h"
#include "ocpp_cp.h"

struct gw_certs;
struct gw_firmware;
struct gw_http;
struct gw_logs;
struct gw_journal;
struct gw_ws;
struct gw_ws_config;

/* The link's trial of something new, proven by the first connection that opens with it. */
struct gw_ocpp_trial {
	int sp_prev;         /* SecurityProfile before a raise not yet proven; -1 none */
	bool next_pair;      /* connecting with the charge point certificate CertificateSigned gave */
	bool new_root;       /* connecting with the new CSMS root alone (AdditionalRootCertificateCheck) */
	bool tls_dirty;      /* the TLS files changed: the next attempt loads them again */
	uint32_t reported;   /* security events of the current failure run (bit per enum gw_ws_fail) */
	lws_sorted_usec_list_t sul; /* reconfigures the link outside the callbacks that ask for it */
	lws_sorted_usec_list_t sul_expiry; /* the daily certificate expiry check */
};

struct gw_ocpp {
	struct gw_loop *loop;
	const struct gw_clock *clock;
	struct gw_bus *bus;
	char data_dir[GW_CONFIG_PATH_MAX]; /* "" = keep nothing */
	struct gw_config_ocpp cfg;         /* the file's ocpp section, for the link settings */
	bool tls;
	struct ocpp_cp *cp;
	struct gw_journal *journal;
	struct gw_ws *ws;
	struct gw_core_timer tick;    /* the core's deadline */
	lws_sorted_usec_list_t sul_evse;   /* the push a bus event asked for, at the next loop turn */
	lws_sorted_usec_list_t sul_follow; /* another look while a TWC's readings move */
	bool follow_armed;
	bool stopped;

	/* Who hears that gw_ocpp_online() may have changed (the policy); online: as last told. */
	void (*online_cb)(void *user);
	void *online_user;
	bool online;

	bool restoring;       /* replaying the journal: deletes wait until the replay is over */
	uint64_t *dels;
	size_t n_dels, cap_dels;

	uint16_t twc_of[OCPP_MAX_CONNECTORS + 1]; /* TWC seen behind each connector this run, 0 = none */
	bool present[OCPP_MAX_CONNECTORS + 1];
	int limit[OCPP_MAX_CONNECTORS + 1];
	bool limit_set[OCPP_MAX_CONNECTORS + 1];
	bool full_logged;
	/* What the core was last told of each connector, so a push hands it only what changed. */
	struct ocpp_evse pushed[OCPP_MAX_CONNECTORS + 1];
	bool pushed_ok[OCPP_MAX_CONNECTORS + 1];

	/* gw_ocpp_security.c */
	struct gw_certs *certs;
	struct gw_http *http;
	struct gw_logs *logs;
	struct gw_firmware *firmware;
	struct gw_ocpp_trial trial;
	int sp_link;          /* SecurityProfile the link was last configured with */
	/* The certificate files gw_ocpp_link_config() last named: this charge point's own, since the
	 * link settings it hands out point into it (gw_ws copies them when it takes them). */
	struct gw_certs_tls link_tls;
};

/* The charge point's monotonic and wall clocks now. */
struct ocpp_now gw_ocpp_now(const struct gw_ocpp *o);
/* After a call into the core: the tick timer at its next deadline. */
void gw_ocpp_rearm(struct gw_ocpp *o);
/* The link settings in force (profile, key, CA, client certificate, trials). The file names in @wc
 * point into @o->link_tls and stay valid until the next call for the same charge point. */
void gw_ocpp_link_config(struct gw_ocpp *o, struct gw_ws_config *wc);

/* ---- gw_ocpp_security.c ---- */

/* The certificate store, the HTTP client for uploads and downloads, the log and firmware
 * uploaders, from @cfg (after the core exists: its keys size the store). Return 0 or -errno (logged). */
int gw_ocpp_security_open(struct gw_ocpp *o, const struct gw_config *cfg);
/* The security whitepaper's callbacks into @env. */
void gw_ocpp_security_env(struct ocpp_cp_env *env);
/* The core has started: StartupOfTheDevice, a next pair left by a crash, the expiry check. */
void gw_ocpp_security_started(struct gw_ocpp *o);
/* The link's events, for the trials and the security events. */
void gw_ocpp_security_opened(struct gw_ocpp *o);
void gw_ocpp_security_closed(struct gw_ocpp *o);
void gw_ocpp_security_failed(struct gw_ocpp *o, int why, const char *detail);
/* SecurityProfile was raised from @old by the central system (before the link reconnects). */
void gw_ocpp_security_raised(struct gw_ocpp *o, int old);
/* A security event the gateway saw: to the core (the central system) and the security log. */
void gw_ocpp_security_event(struct gw_ocpp *o, const char *type, const char *techinfo);
void gw_ocpp_security_stop(struct gw_ocpp *o);
void gw_ocpp_security_free(struct gw_ocpp *o);

#endif
