/*
 * gw_http: HTTP(S) client requests, and file transfers over HTTP(S) and FTP(S) (gw_http_transfer),
 * on the gateway's one lws loop, through libcurl's multi interface. curl's sockets are adopted into
 * lws as raw files (a dup() of each, so lws and curl close their own descriptors) and curl's timer
 * is an lws_sul; no thread, no blocking call (but see the FTP note at gw_http_xfer). DNS uses curl's
 * threaded resolver if the library has one, so a slow name server does not stall the loop. No other
 * file in the gateway knows curl exists, and libcurl itself is loaded at the first request
 * (gw_curl): a configuration that never makes one never maps it and the ~26 libraries it pulls in.
 *
 * TLS trust per request: the system CA store (default), one CA file (ca_file), a pinned public key
 * (pin: the server's key is checked in the handshake, before a byte of the request goes out; chain
 * and host name are not, for self-signed devices), or nothing (insecure). A pin_probe opens the
 * connection, completes the handshake and sends nothing at all: it reports the server's key, so a
 * caller can learn a pin (trust on first use) without handing a credential to an unpinned peer.
 *
 * Call only from the loop's thread. A done callback may start requests and may call gw_http_stop(),
 * but not gw_http_free().
 */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>


struct gw_loop;
struct gw_http;

/* "sha256//" and the base64 of a SHA-256 of the server's SubjectPublicKeyInfo (DER): curl's
 * CURLOPT_PINNEDPUBLICKEY form. */
#define GW_HTTP_PIN_PREFIX "sha256//"
#define GW_HTTP_PIN_LEN 52 /* 8 + 44 */

struct gw_http_req {
	const char *method;        /* "GET", "POST", ... */
	const char *url;
	const char *body;          /* NULL: none */
	const char *content_type;  /* header for @body; NULL: none */
	const char *bearer;        /* "Authorization: Bearer ..." when set (a secret: never logged) */
	const char *ca_file;       /* PEM file of the only CA trusted for https; NULL: the system store */
	bool insecure;             /* skip certificate checks (self-signed local devices; logged once) */
	const char *pin;           /* https: "sha256//B64[;sha256//B64...]": the server's key must be one of
				    * these, or the request fails with -EKEYREJECTED before anything is sent;
				    * chain and host name are then not checked. Not with ca_file or insecure */
	bool pin_probe;            /* https: connect (TLS handshake) and send nothing; resp.pin is the server's
				    * key. No body or bearer; status 0 when the handshake succeeded */
	long timeout_ms;           /* whole request; 0 = 15000 */
	size_t max_body;           /* answers longer than this fail with -EMSGSIZE; 0 = 1 MiB */
};

struct gw_http_resp {
	int status;                /* HTTP status, or a negative errno when there was no answer
				    * (-ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH, -EPROTO for TLS, -EKEYREJECTED
				    * for a server key that is not the pin, -EIO...); 0 after a pin_probe */
	const char *body;          /* NUL-terminated, borrowed for the callback; "" when none */
	size_t len;
	long retry_after_s;        /* Retry-After header in seconds (delta form or HTTP date), -1 when absent */
	const char *error;         /* curl's description when status < 0, else "" */
	const char *pin;           /* the server's key as seen in this request's handshake, GW_HTTP_PIN_PREFIX
				    * form: after a pin_probe, and after a pin mismatch (-EKEYREJECTED); else "" */
};

/* Called once per request from the loop, never from inside gw_http_request(). */
typedef void (*gw_http_done_fn)(void *user, const struct gw_http_resp *resp);

/* Return: the client, or NULL (logged). */
struct gw_http *gw_http_new(struct gw_loop *loop);

/* Start @r (strings copied). Return a request number > 0, or -errno (-EINVAL for a malformed request
 * or conflicting trust settings, -ESHUTDOWN after gw_http_stop(), -ENOSYS when libcurl cannot be
 * loaded: logged once, naming the package). */
long gw_http_request(struct gw_http *h, const struct gw_http_req *r, gw_http_done_fn done, void *user);

/* A file transfer (issue 18: GetLog uploads, firmware downloads). User names and passwords in the URL
 * (ftp://user:pass@host/) are used but never logged: the URL is logged with its userinfo and query
 * removed. Success is a status of 200..299 (HTTP 2xx, FTP 226/250); a download is in place under
 * its name exactly then, and otherwise neither it nor its .part exists. A URL ending in '/' gets the
 * file's name (percent-encoded) only for an FTP upload; an HTTP upload POSTs to the URL as given.
 * HTTP downloads follow up to 5 redirects, to http(s) only. An FTP server's refusal with a reply
 * code (530 not logged in, 550 no such file, 552...) is reported as that code, not an errno.
 * ftps:// is implicit TLS (port 990). Known limit: once an FTP transfer's data is through, curl
 * waits for the server's final reply without returning to the loop (normally milliseconds; at most
 * a minute or the transfer's timeout). */
struct gw_http_xfer {
	const char *url;       /* http://, https://, ftp://, ftps:// */
	const char *path;      /* local file: read for an upload; for a download written to path + ".part"
				  (0600) and renamed to path when complete */
	bool upload;           /* HTTP(S): POST multipart/form-data, one part "file" named after the file's
				  basename; FTP(S): STOR; a URL ending in '/' gets the basename appended */
	const char *ca_file;   /* https/ftps: the only CA trusted; NULL = system store */
	long timeout_ms;       /* whole transfer; 0 = 300000 */
	uint64_t max_bytes;    /* download bound; 0 = 64 MiB; past it: -EFBIG */
};

/* Start a transfer; done() gets resp.status = the HTTP status or the FTP final reply code (e.g. 226),
 * or a negative errno when it failed (-ECONNREFUSED, -ETIMEDOUT, -EPROTO for TLS, -EFBIG, -EIO...);
 * resp.body is "" for transfers. Return a request number > 0 or -errno (-ENOSYS as for
 * gw_http_request). */
long gw_http_transfer(struct gw_http *h, const struct gw_http_xfer *x, gw_http_done_fn done, void *user);

/* Abort request or transfer @id: no callback afterwards; a partial download is removed. Return 0, or
 * -ENOENT when @id is not in flight (finished, cancelled or never started). */
int gw_http_cancel(struct gw_http *h, long id);

/* Requests in flight. */
int gw_http_pending(const struct gw_http *h);

/* A Retry-After header's value (@len bytes, no NUL needed): seconds from @now_s (Unix seconds), 0 for
 * a date gone by, LONG_MAX when too large, -1 when it is neither delay-seconds nor an HTTP-date.
 * Outside input: fuzz_gw_http_parse. */
long gw_http_retry_after(const char *v, size_t len, int64_t now_s);

/* Abort everything in flight (no callbacks) and cancel the timer: before lws_context_destroy(). */
void gw_http_stop(struct gw_http *h);
void gw_http_free(struct gw_http *h); /* NULL is a no-op; before or after lws_context_destroy() */


#endif
