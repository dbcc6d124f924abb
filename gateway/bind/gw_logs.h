/*
 * gw_logs: the charge point's logs for the central system (OCPP security whitepaper, use case N01
 * GetLog). Two logs: the diagnostics log (gw_log's in-memory ring of recent lines) and the security
 * log (<dir>/security.log, appended one line per security event, rotated to security.log.1 past
 * 1 MiB). gw_logs_get() writes the chosen log, cut to a time window and scrubbed of anything that
 * looks like a secret, to <dir>/upload/ and uploads it through gw_http with retries, reporting
 * progress as LogStatusNotification status strings. No OCPP beyond those strings: the OCPP binding
 * turns GetLog into a call here and each status into a LogStatusNotification.
 *
 * Call only from the loop's thread. gw_logs_free() before gw_http_free().
 */
#ifndef GW_LOGS_H
#define GW_LOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gw_loop;
struct gw_http;
struct gw_logs;

struct gw_logs_params {
	const char *dir;           /* the data directory: security.log and upload/ live here */
	const char *charge_box_id; /* the first part of an upload's file name */
	const char *ca_file;       /* https/ftps uploads: the only CA trusted; NULL = the system store */
};

struct gw_logs_callbacks {
	void *user;
	/* An upload's progress, always from the loop and never from inside gw_logs_get(): "Uploading",
	 * then one of "Uploaded", "UploadFailure" (after the retries), "BadMessage" (a URL that cannot be
	 * used), "PermissionDenied" (HTTP 401/403, FTP 530). A cancelled upload reports nothing more. */
	void (*status)(void *user, const char *status, int request_id);
};

/* Strings copied. Removes upload files a crash left behind. Return: the object, or NULL (logged). */
struct gw_logs *gw_logs_new(struct gw_loop *loop, struct gw_http *http, const struct gw_logs_params *p,
			    const struct gw_logs_callbacks *cb);

/* Append "<UTC stamp> <type>[ <tech_info>]" to the security log (0600, O_APPEND: a crash loses at
 * most the line being written). @tech_info may be NULL; newlines in either become spaces. */
void gw_logs_security_event(struct gw_logs *l, const char *type, int64_t when_ms, const char *tech_info);

#define GW_LOGS_RETRIES_DEFAULT 2        /* @retries < 0: retries after the first attempt */
#define GW_LOGS_RETRY_INTERVAL_DEFAULT 60 /* @retry_interval_s < 0 */

/*
 * gw_logs_get() - GetLog: write the log to a file and upload it to @url.
 * @security:  the security log, else the diagnostics log.
 * @url:       http://, https://, ftp:// or ftps:// (POST multipart "file", or STOR; a URL ending in
 *             '/' gets the file's name for STOR).
 * @oldest_ms, @latest_ms: Unix ms; only lines stamped within [oldest, latest]; <= 0: no bound.
 * @retries:   attempts after the first; < 0: GW_LOGS_RETRIES_DEFAULT.
 * @retry_interval_s: seconds between attempts; < 0: GW_LOGS_RETRY_INTERVAL_DEFAULT.
 * @now_ms:    Unix ms, for the file name.
 * @file_name: out (@len bytes): "<chargeBoxId>-<security|diagnostics>-<yyyymmddThhmmssZ>.log".
 * An upload in progress is cancelled (no further status for it). Return: 0 Accepted, 1
 * AcceptedCanceled, or -errno Rejected (-EPROTONOSUPPORT for a scheme other than the four, -EINVAL,
 * an error writing the file); after a rejection nothing is reported.
 */
int gw_logs_get(struct gw_logs *l, bool security, const char *url, int request_id, int64_t oldest_ms,
		int64_t latest_ms, int retries, int retry_interval_s, int64_t now_ms, char *file_name, size_t len);

/* "Uploading" while an upload is in progress (its request id in *@request_id), else "Idle": for a
 * triggered LogStatusNotification. @request_id may be NULL. */
const char *gw_logs_status(const struct gw_logs *l, int *request_id);

/*
 * Copy one line of @in (@len bytes) to @out (@outlen bytes, always NUL-terminated) with secrets
 * replaced by "***": the token after "Basic " / "Bearer " (12 characters or more), the value after a
 * key containing "authorizationKey", "password", "passwd", "secret" or "token" (then ':' or '=', or
 * ',"value":' as in an OCPP key/value pair; quoted or not), the password of a URL's userinfo, and
 * everything from "-----BEGIN ... PRIVATE KEY-----" to its END line; *@in_key carries an unfinished
 * key block over to the next line (start false). Return the length written. The input is whatever
 * was logged, so it is treated as hostile: any bytes, any length, never read past @len.
 */
size_t gw_logs_scrub(const char *in, size_t len, char *out, size_t outlen, bool *in_key);

/* Cancel an upload in progress and its timer (its file is removed); nothing is reported afterwards. */
void gw_logs_stop(struct gw_logs *l);
void gw_logs_free(struct gw_logs *l); /* NULL is a no-op */

#endif
