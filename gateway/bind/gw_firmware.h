/*
 * gw_firmware: the whitepaper's secure firmware update (L01, SignedUpdateFirmware) on the gateway's
 * loop. It checks the signing certificate against the installed manufacturer roots before anything
 * is fetched, downloads the file into <dataDir>/firmware/ through gw_http (with retries), checks the
 * signature over its SHA-256 (certs_sig), and hands the verified file to the configured install
 * command, reporting each step as a SignedFirmwareStatusNotification status string.
 *
 * Status sequence: DownloadScheduled (only when retrieveDateTime is ahead) -> Downloading (each
 * attempt) -> Downloaded | DownloadFailed (after 1 + retries attempts) -> SignatureVerified |
 * InvalidSignature -> InstallScheduled (only when installDateTime is ahead) -> Installing ->
 * Installed | InstallationFailed. With no install command configured Installed is never claimed:
 * InstallationFailed follows SignatureVerified, with a log line saying so.
 *
 * The installer is started with posix_spawn (no shell) as `install_command <file>`, stdin on
 * /dev/null, in a process group of its own, with the signal mask and the dispositions the gateway
 * changed (SIGTERM, SIGINT, SIGHUP blocked; SIGPIPE ignored) back to the defaults. Its end is
 * watched by waitpid(pid, WNOHANG) every 200 ms on an lws_sul, so no SIGCHLD handler is involved;
 * past the install timeout its group is killed and the update is InstallationFailed. Exit status 0
 * is Installed, anything else InstallationFailed. An installer that reboots the machine never
 * reports: the lead's boot path says what happened after it.
 *
 * Times: retrieveDateTime and installDateTime are wall times; the wall time at gw_firmware_start()
 * is handed in and later wall times are that plus the time the given clock has run since, so a test
 * can run the schedule, the retry interval and the install timeout on a sped-up clock. The 200 ms
 * poll of the installer is real time (the child runs in real time).
 *
 * Files: <dir>/firmware/ is ours: a new accepted update removes whatever a previous one left there;
 * a failed or cancelled download leaves nothing (gw_http removes the .part file); the verified file
 * stays until the next update; a file whose signature does not verify is removed.
 *
 * Call only from the loop's thread.
 */
#ifndef GW_FIRMWARE_H
#define GW_FIRMWARE_H

#include <stdint.h>

#include "gw_clock.h"
#include "gw_http.h"
#include "gw_loop.h"

struct gw_firmware;

#define GW_FIRMWARE_INSTALL_TIMEOUT_S 600 /* ten minutes: an installer still running is killed */
#define GW_FIRMWARE_RETRIES_DEFAULT 2 /* retries absent from the request */
#define GW_FIRMWARE_RETRY_INTERVAL_DEFAULT_S 60 /* retryInterval absent (or 0) */
#define GW_FIRMWARE_LOCATION_MAX 512 /* firmware.location: string[0..512] */

struct gw_firmware_params {
	const char *dir;             /* dataDir: files go to <dir>/firmware/ (made 0700 when missing) */
	const char *install_command; /* absolute path of the installer; NULL or "": none (never Installed) */
	const char *ca_file;         /* the only CA trusted for https/ftps downloads; NULL: the system store */
	uint32_t install_timeout_s;  /* 0: GW_FIRMWARE_INSTALL_TIMEOUT_S */
	long download_timeout_ms;    /* per attempt; 0: gw_http's default (5 min) */
	uint64_t max_bytes;          /* download bound; 0: gw_http's default (64 MiB) */
};

struct gw_firmware_cb {
	void *user;
	/* One SignedFirmwareStatusNotification: @status is the FirmwareStatusEnumType string
	 * ("Downloading", ...), @request_id the request's requestId. Required. Called from the loop,
	 * never from inside gw_firmware_start(); the callback may call gw_firmware_start(). */
	void (*status)(void *user, const char *status, int request_id);
	/* A security event to send: "InvalidFirmwareSignature" when the signature does not verify
	 * (OCTT TC_081 expects it) with @tech_info saying why. Optional (NULL: not reported). An
	 * InvalidCertificate answer is the caller's to report (InvalidFirmwareSigningCertificate):
	 * gw_firmware_start() returns it synchronously with the reason in *detail. */
	void (*security_event)(void *user, const char *type, const char *tech_info);
};

struct gw_firmware_req {
	int request_id;
	const char *location;            /* http://, https://, ftp://, ftps:// URL of the file */
	int64_t retrieve_ms;             /* retrieveDateTime, wall ms since the epoch */
	int64_t install_ms;              /* installDateTime, wall ms; 0 or past: as soon as verified */
	int retries;                     /* < 0: absent (GW_FIRMWARE_RETRIES_DEFAULT) */
	int retry_interval_s;            /* <= 0: absent (GW_FIRMWARE_RETRY_INTERVAL_DEFAULT_S) */
	const char *signing_certificate; /* PEM */
	const char *signature;           /* base64 of the signature over the file's SHA-256 */
};

/* SignedUpdateFirmware.conf status values, as gw_firmware_start() returns them. */
enum gw_firmware_answer {
	GW_FIRMWARE_ACCEPTED = 0,
	GW_FIRMWARE_REJECTED = 1,             /* a malformed request, or an installer is running */
	GW_FIRMWARE_ACCEPTED_CANCELED = 2,    /* accepted; the update in progress was cancelled */
	GW_FIRMWARE_INVALID_CERTIFICATE = 3,  /* the signer does not chain to a manufacturer root */
};
const char *gw_firmware_answer_name(int answer); /* "Accepted", "Rejected", "AcceptedCanceled", ... */

/* Return: the updater, idle, or NULL (logged). @loop, @clock and @http are borrowed and outlive it;
 * @p's strings are copied. An install command that is not an absolute path to an executable is
 * logged (the update would end InstallationFailed) but not refused: the file may appear later. */
struct gw_firmware *gw_firmware_new(struct gw_loop *loop, const struct gw_clock *clock, struct gw_http *http,
				    const struct gw_firmware_params *p, const struct gw_firmware_cb *cb);

/* SignedUpdateFirmware: check @r (location shape, signature present) and its signing certificate
 * against @roots_pem (the installed ManufacturerRootCertificates as one PEM bundle, NULL for none) at
 * @now_ms (wall ms) before anything is downloaded, then start the update. Returns a
 * gw_firmware_answer; with InvalidCertificate or Rejected an update in progress goes on untouched.
 * @detail (may be NULL) gets a line saying why for a refusal (techInfo for the security event). */
int gw_firmware_start(struct gw_firmware *fw, const struct gw_firmware_req *r, const char *roots_pem,
		      int64_t now_ms, char *detail, size_t detail_len);

/* Whether an update is in progress (scheduled, downloading, verifying, waiting or installing), and
 * the last status reported ("Idle" when none since start): for TriggerMessage. */
bool gw_firmware_busy(const struct gw_firmware *fw);
const char *gw_firmware_last_status(const struct gw_firmware *fw, int *request_id);

/* Cancel timers and the download: before lws_context_destroy(). A running installer is left to
 * finish (killing a flash half way is worse); it is no longer watched. NULL is a no-op. */
void gw_firmware_stop(struct gw_firmware *fw);
void gw_firmware_free(struct gw_firmware *fw); /* NULL is a no-op; stops first */

#endif
