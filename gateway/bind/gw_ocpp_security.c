/*
 * gw_ocpp_security: the OCPP 1.6 security whitepaper in the gateway. It binds the core's certificate,
 * log and firmware callbacks to the certificate store in <dataDir>/certs (gw_certs), the log uploader
 * (gw_logs) and the signed firmware updater (gw_firmware), turns what the link says about failed
 * attempts into security events, and runs the link's trials: a SecurityProfile the central system
 * raised, a certificate CertificateSigned gave and a new CSMS root are each proven by the first
 * connection that opens with them. Until then the old setting is kept, and it is taken back when the
 * trial fails where the central system judged it (a raised profile on the first failed attempt; a new
 * certificate when TLS or the upgrade refused it; a new root when the server's certificate did not
 * verify with it alone). Every security event also goes to the security log that GetLog uploads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_certs.h"
#include "gw_firmware.h"
#include "gw_http.h"
#include "gw_log.h"
#include "gw_logs.h"
#include "gw_ocpp_internal.h"
#include "gw_ws.h"

#define EXPIRY_WARN_DAYS 30
#define EXPIRY_CHECK_MS (24u * 3600u * 1000u)
#define ROOTS_PEM_MAX (64 * 1024)

static struct gw_ocpp *user_ocpp(void *user)
{
	return user;
}

static int64_t wall_s(void)
{
	return gw_clock_wall_ms() / 1000;
}

void gw_ocpp_security_event(struct gw_ocpp *o, const char *type, const char *techinfo)
{
	int rc = ocpp_cp_security_event(o->cp, type, techinfo, gw_ocpp_now(o));

	if (rc)
		gw_log_error("ocpp: security event %s not queued: %s", type, strerror(-rc));
	gw_ocpp_rearm(o);
}

/* The core's own events (ResetOrReboot, InvalidChargePointCertificate, ...) reach the security log
 * through this; the gateway's through gw_ocpp_security_event() and then here too. */
static void env_security_logged(void *user, const char *type, int64_t when_ms, const char *techinfo)
{
	struct gw_ocpp *o = user_ocpp(user);

	if (o->logs)
		gw_logs_security_event(o->logs, type, when_ms, techinfo);
}

/* ---- the link's trials ---- */

/* Reconfigure the link with what gw_ocpp_link_config() says now: from a timer, never from inside the
 * websocket's or the core's callbacks. */
static void trial_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_ocpp *o = lws_container_of(sul, struct gw_ocpp, trial.sul);
	struct gw_ws_config wc;

	if (o->stopped || !o->ws)
		return;
	o->trial.tls_dirty = false;
	gw_ocpp_link_config(o, &wc);
	o->sp_link = wc.security_profile;
	if (gw_ws_reconfigure(o->ws, &wc) != 0 && o->trial.next_pair) {
		/* The new files do not load: they will not get better. */
		gw_log_error("ocpp: the new charge point certificate does not load; keeping the one in use");
		o->trial.next_pair = false;
		gw_certs_drop_next(o->certs);
		gw_ocpp_link_config(o, &wc);
		gw_ws_reconfigure(o->ws, &wc);
	}
}

static void trial_soon(struct gw_ocpp *o, uint64_t ms)
{
	gw_timer_in(o->loop, NULL, &o->trial.sul, trial_cb, ms);
}

/* A next pair waits: try it under profile 3 (from its notBefore on); below 3 the central system
 * never sees it, so it is taken at once. */
static void next_pair_consider(struct gw_ocpp *o)
{
	int64_t nb, now = wall_s();

	if (!gw_certs_has_next(o->certs))
		return;
	if (ocpp_config_int(ocpp_cp_config(o->cp), OCPP_KEY_SECURITY_PROFILE) < 3) {
		if (gw_certs_promote(o->certs) == 0)
			gw_log_info("ocpp: the new charge point certificate is in use (for security profile 3)");
		return;
	}
	nb = gw_certs_next_not_before(o->certs);
	o->trial.next_pair = true;
	gw_log_info("ocpp: reconnecting with the new charge point certificate%s", nb > now ? " at its notBefore" : "");
	trial_soon(o, nb > now ? (uint64_t)(nb - now) * 1000u : 0);
}

void gw_ocpp_security_opened(struct gw_ocpp *o)
{
	struct gw_ocpp_trial *t = &o->trial;

	if (t->sp_prev >= 0)
		gw_log_info("ocpp: security profile %d works", o->sp_link);
	t->sp_prev = -1;
	t->reported = 0;
	if (t->next_pair) {
		t->next_pair = false;
		if (gw_certs_promote(o->certs) == 0)
			gw_log_info("ocpp: the new charge point certificate works; it is the one in use now");
	}
	if (t->new_root) {
		t->new_root = false;
		if (gw_certs_drop_fallback(o->certs) == 0)
			gw_log_info("ocpp: the new central system root works alone; the fallback root is deleted");
		t->tls_dirty = true;
	}
}

void gw_ocpp_security_closed(struct gw_ocpp *o)
{
	if (o->trial.tls_dirty)
		trial_soon(o, 0);
}

/* Events of one run of failures are sent once each: a central system down for a day is not a
 * thousand events. */
static void fail_event(struct gw_ocpp *o, int why, const char *type, const char *detail)
{
	char info[256];

	if (o->trial.reported & (1u << why))
		return;
	o->trial.reported |= 1u << why;
	snprintf(info, sizeof(info), "%s", detail ? detail : "");
	gw_ocpp_security_event(o, type, info);
}

void gw_ocpp_security_failed(struct gw_ocpp *o, int why, const char *detail)
{
	struct gw_ocpp_trial *t = &o->trial;
	bool refused = why == GW_WS_FAIL_TLS || why == GW_WS_FAIL_AUTH || why == GW_WS_FAIL_HTTP;

	if (why == GW_WS_FAIL_SERVER_CERT)
		fail_event(o, why, "InvalidCentralSystemCertificate", detail);
	else if (why == GW_WS_FAIL_TLS_VERSION)
		fail_event(o, why, "InvalidTLSVersion", detail);
	else if (why == GW_WS_FAIL_AUTH)
		fail_event(o, why, "FailedToAuthenticateAtCentralSystem", detail);
	if (t->sp_prev >= 0) {
		/* Whitepaper A05 (and libocpp): the first connection with the new profile failed. */
		gw_log_warn("ocpp: the first connection with security profile %d failed (%s); back to %d",
			    o->sp_link, gw_ws_fail_name((enum gw_ws_fail)why), t->sp_prev);
		ocpp_cp_security_profile_fallback(o->cp, t->sp_prev, gw_ocpp_now(o));
		gw_ocpp_rearm(o);
		t->sp_prev = -1;
		t->next_pair = false;
		trial_soon(o, 0);
		return;
	}
	if (t->next_pair && (refused || gw_ws_attempts_failed(o->ws) >= 5)) {
		gw_log_warn("ocpp: the central system refused the new charge point certificate (%s); "
			    "keeping the one in use", gw_ws_fail_name((enum gw_ws_fail)why));
		t->next_pair = false;
		gw_certs_drop_next(o->certs);
		trial_soon(o, 0);
		return;
	}
	if (t->new_root && why == GW_WS_FAIL_SERVER_CERT) {
		gw_log_warn("ocpp: the server's certificate does not verify with the new root alone; "
			    "keeping the fallback root");
		t->new_root = false;
		trial_soon(o, 0);
		return;
	}
	if (t->tls_dirty)
		trial_soon(o, 0);
}

void gw_ocpp_security_raised(struct gw_ocpp *o, int old)
{
	/* A second raise before the first was proven falls back to the last proven profile. */
	if (o->trial.sp_prev < 0)
		o->trial.sp_prev = old;
	o->trial.reported = 0;
}

void gw_ocpp_link_config(struct gw_ocpp *o, struct gw_ws_config *wc)
{
	struct gw_certs_tls *tls = &o->link_tls;
	struct ocpp_config *k = ocpp_cp_config(o->cp);
	char why[96];
	int rc = -ENOENT;

	memset(wc, 0, sizeof(*wc));
	wc->url = o->cfg.url;
	wc->charge_box_id = o->cfg.charge_box_id;
	wc->security_profile = (int)ocpp_config_int(k, OCPP_KEY_SECURITY_PROFILE);
	wc->authorization_key = ocpp_config_str(k, OCPP_KEY_AUTHORIZATION_KEY);
	wc->ping_interval_s = (int)ocpp_config_int(k, OCPP_KEY_WEB_SOCKET_PING_INTERVAL);
	if (o->certs) {
		if (o->trial.next_pair)
			rc = gw_certs_tls(o->certs, true, tls);
		else if (o->trial.new_root)
			rc = gw_certs_tls_new_root(o->certs, tls);
		if (rc)
			rc = gw_certs_tls(o->certs, false, tls);
	}
	if (rc == 0) {
		wc->ca_file = tls->ca;
		wc->cert_file = tls->cert;
		wc->key_file = tls->key;
	} else {
		wc->ca_file = o->cfg.ca_file;
		wc->cert_file = o->cfg.cert_file;
		wc->key_file = o->cfg.key_file;
	}
	if (gw_ws_check_config(wc, why, sizeof(why)) != 0) {
		/* Saved settings the link cannot use (the URL changed since): the file's own. */
		gw_log_error("ocpp: the saved security settings cannot work (%s); using the config file's", why);
		wc->security_profile = o->cfg.security_profile;
		wc->authorization_key = o->cfg.authorization_key;
	}
}

/* ---- certificates ---- */

static int env_sign_certificate(void *user)
{
	struct gw_ocpp *o = user_ocpp(user);
	const char *cpo = ocpp_config_str(ocpp_cp_config(o->cp), OCPP_KEY_CPO_NAME);
	char *csr = malloc(OCPP_CSR_MAX + 1);
	int rc;

	if (!csr)
		return -ENOMEM;
	rc = gw_certs_sign(o->certs, cpo, csr, OCPP_CSR_MAX + 1);
	if (rc == 0)
		rc = ocpp_cp_sign_certificate(o->cp, csr, gw_ocpp_now(o));
	if (rc == 0)
		gw_log_info("ocpp: new key and certificate signing request made (CN %s, O %s)", o->cfg.charge_box_id,
			    cpo);
	else
		gw_log_error("ocpp: cannot make a certificate signing request: %s", strerror(-rc));
	free(csr);
	return rc;
}

static int env_certificate_signed(void *user, const char *chain, char *reason, size_t reasonlen)
{
	struct gw_ocpp *o = user_ocpp(user);
	int rc = gw_certs_signed(o->certs, chain, wall_s(), reason, reasonlen);

	if (rc == -ENOENT && !reason[0])
		snprintf(reason, reasonlen, "NoPendingRequest: no SignCertificate is waiting for a certificate");
	if (rc) {
		gw_log_warn("ocpp: CertificateSigned refused: %s", reason);
		return rc;
	}
	gw_log_info("ocpp: CertificateSigned accepted");
	/* The reconnect runs from a timer: the CALLRESULT goes out first. */
	o->trial.next_pair = false;
	next_pair_consider(o);
	return 0;
}

/* After a change of the roots the link loads the files again at its next attempt. */
static void roots_changed(struct gw_ocpp *o, const char *type)
{
	if (strcmp(type, "CentralSystemRootCertificate") != 0)
		return;
	o->trial.tls_dirty = true;
	if (gw_certs_has_fallback(o->certs) && o->sp_link >= 2 && !o->trial.new_root) {
		o->trial.new_root = true;
		gw_log_info("ocpp: reconnecting to prove the new central system root");
		trial_soon(o, 0);
	}
}

static int env_install_certificate(void *user, const char *type, const char *pem)
{
	struct gw_ocpp *o = user_ocpp(user);
	int rc = gw_certs_install(o->certs, type, pem, wall_s());

	if (rc == OCPP_CERT_INSTALL_ACCEPTED)
		roots_changed(o, type);
	else if (rc > 0 && strcmp(type, "CentralSystemRootCertificate") == 0)
		/* libocpp does the same: a refused CSMS root is an invalid central system certificate. */
		gw_ocpp_security_event(o, "InvalidCentralSystemCertificate", "InstallCertificate refused");
	return rc;
}

static int env_delete_certificate(void *user, const struct ocpp_cert_hash *h)
{
	struct gw_ocpp *o = user_ocpp(user);
	int rc = gw_certs_delete(o->certs, h);

	if (rc == OCPP_CERT_DELETE_ACCEPTED)
		o->trial.tls_dirty = true;
	return rc;
}

static int env_installed_certificates(void *user, const char *type, struct ocpp_cert_hash *out, int max)
{
	struct gw_ocpp *o = user_ocpp(user);

	return gw_certs_ids(o->certs, type, out, max);
}

static int env_security_ready(void *user, int profile, char *why, size_t whylen)
{
	struct gw_ocpp *o = user_ocpp(user);
	struct ocpp_cert_hash h;

	/* Profile 2 without an installed root trusts the system CA store, as the config file allows
	 * (no ocpp.caFile); profile 3 needs the central system's own root. */
	if (profile == 2 && gw_certs_ids(o->certs, "CentralSystemRootCertificate", &h, 1) == 0)
		return 0;
	return gw_certs_ready(o->certs, profile, wall_s(), why, whylen);
}

static void expiry_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_ocpp *o = lws_container_of(sul, struct gw_ocpp, trial.sul_expiry);
	char what[256];
	int n;

	if (o->stopped)
		return;
	n = gw_certs_expiring(o->certs, wall_s(), EXPIRY_WARN_DAYS, what, sizeof(what));
	if (n > 0) {
		gw_log_warn("ocpp: certificate expiry: %s", what);
		/* Not in the whitepaper's list, which is open: a central system can alert on it. */
		gw_ocpp_security_event(o, "CertificateExpiresSoon", what);
	}
	gw_timer_in(o->loop, NULL, &o->trial.sul_expiry, expiry_cb, EXPIRY_CHECK_MS);
}

/* ---- GetLog ---- */

static void log_status(void *user, const char *status, int request_id)
{
	struct gw_ocpp *o = user_ocpp(user);
	int rc = ocpp_cp_log_status(o->cp, status, request_id, gw_ocpp_now(o));

	if (rc)
		gw_log_error("ocpp: LogStatusNotification %s not queued: %s", status, strerror(-rc));
	gw_ocpp_rearm(o);
}

static int env_get_log(void *user, const struct ocpp_get_log *req, char *file_name, size_t len)
{
	struct gw_ocpp *o = user_ocpp(user);
	int rc;

	if (!o->logs)
		return -ENOTSUP;
	rc = gw_logs_get(o->logs, req->type == OCPP_LOG_SECURITY, req->location, req->request_id, req->oldest_ms,
			 req->latest_ms, req->retries, req->retry_interval_s, gw_clock_wall_ms(), file_name, len);
	if (rc < 0)
		gw_log_warn("ocpp: GetLog refused: %s", strerror(-rc));
	return rc;
}

/* ---- SignedUpdateFirmware ---- */

static void firmware_status(void *user, const char *status, int request_id)
{
	struct gw_ocpp *o = user_ocpp(user);
	int rc = ocpp_cp_firmware_status(o->cp, status, request_id, gw_ocpp_now(o));

	if (rc)
		gw_log_error("ocpp: SignedFirmwareStatusNotification %s not queued: %s", status, strerror(-rc));
	gw_ocpp_rearm(o);
	/* Whitepaper L01: a firmware installed is a critical security event. */
	if (strcmp(status, "Installed") == 0)
		gw_ocpp_security_event(o, "FirmwareUpdated", "installed by ocpp.firmwareInstallCommand");
}

static int env_signed_update_firmware(void *user, const struct ocpp_signed_firmware *req)
{
	struct gw_ocpp *o = user_ocpp(user);
	struct gw_firmware_req r = {
		.request_id = req->request_id,
		.location = req->location,
		.retrieve_ms = req->retrieve_ms,
		.install_ms = req->install_ms,
		.retries = req->retries,
		.retry_interval_s = req->retry_interval_s,
		.signing_certificate = req->signing_certificate,
		.signature = req->signature,
	};
	char detail[160] = "";
	char *roots;
	int rc;

	if (!o->firmware)
		return OCPP_FW_REJECTED;
	roots = gw_certs_roots_pem(o->certs, CERTS_MANUFACTURER_ROOT);
	rc = gw_firmware_start(o->firmware, &r, roots, gw_clock_wall_ms(), detail, sizeof(detail));
	free(roots);
	if (rc != GW_FIRMWARE_ACCEPTED && rc != GW_FIRMWARE_ACCEPTED_CANCELED)
		gw_log_warn("ocpp: SignedUpdateFirmware %s%s%s", gw_firmware_answer_name(rc), detail[0] ? ": " : "",
			    detail);
	switch (rc) {
	case GW_FIRMWARE_ACCEPTED:
		return OCPP_FW_ACCEPTED;
	case GW_FIRMWARE_ACCEPTED_CANCELED:
		return OCPP_FW_ACCEPTED_CANCELED;
	case GW_FIRMWARE_INVALID_CERTIFICATE:
		return OCPP_FW_INVALID_CERTIFICATE;
	default:
		return OCPP_FW_REJECTED;
	}
}

/* ---- life cycle ---- */

void gw_ocpp_security_env(struct ocpp_cp_env *env)
{
	env->sign_certificate = env_sign_certificate;
	env->certificate_signed = env_certificate_signed;
	env->install_certificate = env_install_certificate;
	env->delete_certificate = env_delete_certificate;
	env->installed_certificates = env_installed_certificates;
	env->security_ready = env_security_ready;
	env->get_log = env_get_log;
	env->signed_update_firmware = env_signed_update_firmware;
	env->security_logged = env_security_logged;
}

int gw_ocpp_security_open(struct gw_ocpp *o, const struct gw_config *cfg)
{
	const struct ocpp_config *k = ocpp_cp_config(o->cp);
	struct gw_certs_params cp = {
		.dir = o->data_dir,
		.ca_file = cfg->ocpp.ca_file,
		.cert_file = cfg->ocpp.cert_file,
		.key_file = cfg->ocpp.key_file,
		.charge_box_id = cfg->ocpp.charge_box_id,
		.store_max = (int)ocpp_config_int(k, OCPP_KEY_CERTIFICATE_STORE_MAX_LENGTH),
		.chain_max = (int)ocpp_config_int(k, OCPP_KEY_CERTIFICATE_SIGNED_MAX_CHAIN_SIZE),
		.additional_root_check = ocpp_config_int(k, OCPP_KEY_ADDITIONAL_ROOT_CERTIFICATE_CHECK) != 0,
	};
	struct gw_logs_params lp = { .dir = o->data_dir, .charge_box_id = cfg->ocpp.charge_box_id };
	struct gw_logs_callbacks lc = { .user = o, .status = log_status };
	struct gw_firmware_params fp = { .dir = o->data_dir, .install_command = cfg->ocpp.firmware_install };
	struct gw_firmware_cb fc = { .user = o, .status = firmware_status };
	char err[256] = "";

	o->trial.sp_prev = -1;
	o->certs = gw_certs_new(&cp, err, sizeof(err));
	if (!o->certs) {
		gw_log_error("ocpp: certificate store: %s", err);
		return -EINVAL;
	}
	/* Uploads and downloads need somewhere to put their files: not in the demo. */
	if (!o->data_dir[0])
		return 0;
	o->http = gw_http_new(o->loop);
	if (!o->http)
		return -ENOMEM;
	o->logs = gw_logs_new(o->loop, o->http, &lp, &lc);
	/* InvalidFirmwareSignature is raised by the core when it hears InvalidSignature (fc has no
	 * security_event, so it is not sent twice). */
	o->firmware = gw_firmware_new(o->loop, o->clock, o->http, &fp, &fc);
	return o->logs && o->firmware ? 0 : -ENOMEM;
}

void gw_ocpp_security_started(struct gw_ocpp *o)
{
	gw_ocpp_security_event(o, "StartupOfTheDevice", "twcgw " TWCGW_VERSION " started");
	next_pair_consider(o);
	gw_timer_in(o->loop, NULL, &o->trial.sul_expiry, expiry_cb, 10u * 1000u);
}

void gw_ocpp_security_stop(struct gw_ocpp *o)
{
	lws_sul_cancel(&o->trial.sul);
	lws_sul_cancel(&o->trial.sul_expiry);
	gw_logs_stop(o->logs);
	gw_firmware_stop(o->firmware);
	if (o->http)
		gw_http_stop(o->http);
}

void gw_ocpp_security_free(struct gw_ocpp *o)
{
	gw_firmware_free(o->firmware);
	gw_logs_free(o->logs);
	gw_http_free(o->http);
	gw_certs_free(o->certs);
	o->firmware = NULL;
	o->logs = NULL;
	o->http = NULL;
	o->certs = NULL;
}
