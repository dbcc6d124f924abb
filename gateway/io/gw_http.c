/*
 * gw_http: libcurl's multi interface driven by the lws loop. curl tells us which sockets it wants
 * watched (CURLMOPT_SOCKETFUNCTION) and when it next needs a turn (CURLMOPT_TIMERFUNCTION); we
 * adopt a dup() of each socket into lws as a raw file, so lws only polls it and calls back, and keep
 * curl's timer as one lws_sul. Every poll event and timer expiry becomes curl_multi_socket_action(),
 * after which finished transfers are drained and their callbacks run: always from the loop, never
 * from inside a curl callback or gw_http_request().
 *
 * Ownership: lws closes the dup it adopted, curl closes its own socket (possibly much later, from its
 * connection cache). A socket record lives from curl's first sighting of a socket until lws reports
 * the dup closed; the record is curl's socketp and the wsi's opaque pointer at the same time.
 * lws closes its dup a loop turn later, so a socket curl closes would stay connected until then;
 * curl's close therefore shuts the connection down first (on_curl_close). FTP needs that: the server
 * sends its final reply only once the data connection is closed, and curl waits for that reply
 * before it returns to the loop.
 *
 * Pins: curl checks CURLOPT_PINNEDPUBLICKEY during the handshake, so a request to the wrong key dies
 * before its headers (and any secret in them) are written. curl keeps a connection for reuse only by
 * a request with the same TLS settings, the pin included, so a pinned request never rides a
 * connection opened without it. What key the server showed comes from CURLOPT_CERTINFO (the leaf
 * certificate, hashed here with OpenSSL as curl hashes it); a probe is CURLOPT_CONNECT_ONLY, which
 * curl closes when the transfer is removed and never hands to another request.
 *
 * File transfers (gw_http_transfer) are the same machinery with a file at one end: an upload reads a
 * descriptor opened when the transfer starts (so the file may be deleted meanwhile), a download
 * writes path.part and renames it only after a complete, successful answer; a failed, cancelled or
 * stopped download leaves no file behind. The URL may carry ftp://user:password@: every log line
 * shows it with the userinfo and the query removed.
 *
 * libcurl itself is loaded (gw_curl) by the first request or transfer, not by gw_http_new(): the OCPP
 * binding makes a client for GetLog and firmware transfers in every configuration, and most never
 * use it. Without the library a request fails with -ENOSYS (logged once, naming the package).
 */
#include "gw_http.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gw_clock.h"
#include "gw_curl.h"
#include "gw_log.h"
#include "gw_loop.h"
#include "gw_rawfd.h"

#define DEFAULT_TIMEOUT_MS 15000L
#define DEFAULT_MAX_BODY ((size_t)1 << 20)
#define DEFAULT_XFER_TIMEOUT_MS 300000L
#define DEFAULT_XFER_MAX_BYTES ((uint64_t)64 << 20)
#define RX_FIRST_CAP 4096u
#define LOG_URL_MAX 256

/* libcurl's functions, set by the first http_start() (or Retry-After parse) that loads it. Every use
 * below comes after one: a transfer or multi handle exists only once the table does. */
static const struct gw_curl *cu;

/* One transfer in flight. */
struct xfer {
	struct xfer *next;
	struct gw_http *h;
	CURL *easy;
	struct curl_slist *headers;
	long id;
	gw_http_done_fn done;
	void *user;

	size_t max_body;
	char *rx;
	size_t rx_len, rx_cap;
	bool too_big;
	bool rx_oom;
	bool probe;   /* pin_probe: nothing is sent */
	bool pinned;  /* a pin was set: say which key was seen if it does not match */
	long retry_after_s;
	char pin_seen[GW_HTTP_PIN_LEN + 1];

	/* gw_http_transfer() only. */
	bool file;         /* a file transfer: no body kept, errors as the transfer API says */
	bool upload;
	bool ftp;          /* ftp:// or ftps://: a failure with a server reply reports the reply code */
	int fd;            /* the upload's source or the download's .part; -1 when none */
	curl_mime *mime;
	char *part_path;   /* the download's path + ".part" (removed unless renamed) */
	char *final_path;  /* the download's path */
	uint64_t max_bytes, got;
	int io_err;        /* errno of a failed read or write of the local file */

	char what[LOG_URL_MAX + 16]; /* "METHOD url" without query or credentials, for logs */
	char errbuf[CURL_ERROR_SIZE];
};

/* One socket curl asked us to watch; see the ownership note at the top. */
struct sock_rec {
	struct sock_rec *next;
	struct gw_http *h;
	curl_socket_t s;
	struct gw_rawfd rf; /* a dup() of s on the loop */
	int want;     /* CURL_POLL_* last asked for */
	bool removed; /* curl is done with it; the wsi is being closed */
	bool in_writeable; /* inside its writeable callback: see sock_want_write() */
	bool rearm;   /* wants POLLOUT again, once that callback has returned */
};

struct gw_http {
	struct gw_loop *loop;
	CURLM *multi; /* NULL until the first request (http_start()) */
	lws_sorted_usec_list_t sul; /* curl's timer */
	lws_sorted_usec_list_t rearm_sul; /* POLLOUT asked for again after a writeable callback */
	struct xfer *xfers;
	struct sock_rec *socks;
	int pending;
	long next_id;
	bool stopped;
	bool insecure_logged;
	bool global_init;
};

/* ---- small helpers ---- */

static void url_for_log(const char *url, char *out, size_t outlen)
{
	const char *p = strstr(url, "://");
	const char *host = p ? p + 3 : url;
	const char *end = host + strcspn(host, "/?#");
	const char *at = memchr(host, '@', (size_t)(end - host));
	size_t n;

	/* Drop user:password@ and the query, either of which may carry a secret. */
	n = (size_t)(host - url);
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, url, n);
	out[n] = '\0';
	if (at)
		host = at + 1;
	snprintf(out + n, outlen - n, "%.*s", (int)strcspn(host, "?#"), host);
}

static bool header_safe(const char *s)
{
	return s && !strpbrk(s, "\r\n");
}

static bool method_ok(const char *m)
{
	if (!m || !m[0] || strlen(m) > 16)
		return false;
	for (; *m; m++)
		if (*m < 'A' || *m > 'Z')
			return false;
	return true;
}

static void xfer_free(struct xfer *x)
{
	struct curl_slist *l;

	if (x->easy)
		cu->easy_cleanup(x->easy);
	cu->mime_free(x->mime);
	if (x->fd >= 0)
		close(x->fd);
	/* A download that did not finish (failed, cancelled, stopped) leaves nothing half-written. */
	if (x->part_path)
		unlink(x->part_path);
	free(x->part_path);
	free(x->final_path);
	/* The Authorization line is a secret: do not leave it lying in freed heap memory. */
	for (l = x->headers; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	cu->slist_free_all(x->headers);
	free(x->rx);
	free(x);
}

static void xfer_unlink(struct gw_http *h, struct xfer *x)
{
	struct xfer **pp;

	for (pp = &h->xfers; *pp; pp = &(*pp)->next) {
		if (*pp == x) {
			*pp = x->next;
			h->pending--;
			return;
		}
	}
}

static void sock_unlink(struct gw_http *h, struct sock_rec *rec)
{
	struct sock_rec **pp;

	for (pp = &h->socks; *pp; pp = &(*pp)->next) {
		if (*pp == rec) {
			*pp = rec->next;
			return;
		}
	}
}

/* ---- answers ---- */

/* Retry-After is either delta seconds or an HTTP date (RFC 9110 10.2.3); -1 when it is neither. */
long gw_http_retry_after(const char *v, size_t len, int64_t now_s)
{
	char buf[128];
	char *end;
	long n;
	time_t t;

	while (len && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	if (!len || len >= sizeof(buf))
		return -1;
	memcpy(buf, v, len);
	buf[len] = '\0';
	if (buf[0] >= '0' && buf[0] <= '9') {
		errno = 0;
		n = strtol(buf, &end, 10);
		if (*end)
			return -1;
		return errno == ERANGE ? LONG_MAX : n;
	}
	/* Reached from a running transfer, where curl is loaded, or from the fuzzer, which loads it here. */
	if (!cu)
		cu = gw_curl_get();
	if (!cu)
		return -1;
	t = cu->getdate(buf, NULL);
	if (t == (time_t)-1)
		return -1;
	if (t <= now_s)
		return 0;
	return (int64_t)t - now_s > LONG_MAX ? LONG_MAX : (long)((int64_t)t - now_s);
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;
	static const char ra[] = "Retry-After:";
	struct timespec now;

	/* A new status line starts a new answer (after a 100 Continue, say): forget the last one's. */
	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		x->retry_after_s = -1;
	} else if (len > sizeof(ra) - 1 && strncasecmp(p, ra, sizeof(ra) - 1) == 0) {
		gw_clock_wall(&now);
		x->retry_after_s = gw_http_retry_after(p + sizeof(ra) - 1, len - (sizeof(ra) - 1), now.tv_sec);
	}
	return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;

	/* CURLOPT_MAXFILESIZE only catches a Content-Length announced up front; chunked answers end here. */
	if (len > x->max_body - x->rx_len) {
		x->too_big = true;
		return 0;
	}
	if (x->rx_len + len + 1 > x->rx_cap) {
		size_t cap = x->rx_cap ? x->rx_cap : RX_FIRST_CAP;
		char *nb;

		while (cap < x->rx_len + len + 1)
			cap *= 2;
		if (cap > x->max_body + 1)
			cap = x->max_body + 1;
		nb = realloc(x->rx, cap);
		if (!nb) {
			x->rx_oom = true;
			return 0;
		}
		x->rx = nb;
		x->rx_cap = cap;
	}
	memcpy(x->rx + x->rx_len, p, len);
	x->rx_len += len;
	x->rx[x->rx_len] = '\0';
	return len;
}

static int errno_of(const struct xfer *x, CURLcode rc)
{
	long os = 0;

	if (x->file && (x->too_big || rc == CURLE_FILESIZE_EXCEEDED))
		return -EFBIG;
	if (x->too_big || rc == CURLE_FILESIZE_EXCEEDED)
		return -EMSGSIZE;
	if (x->io_err)
		return -x->io_err;
	if (x->rx_oom)
		return -ENOMEM;
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		cu->easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &os);
		if (os == EHOSTUNREACH || os == ENETUNREACH)
			return -EHOSTUNREACH;
		if (os == ETIMEDOUT)
			return -ETIMEDOUT;
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_USE_SSL_FAILED:
		return -EPROTO;
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return -EKEYREJECTED;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return -EINVAL;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_ABORTED_BY_CALLBACK:
		return -ECANCELED;
	case CURLE_LOGIN_DENIED:
	case CURLE_REMOTE_ACCESS_DENIED:
		return -EACCES;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		cu->easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &os);
		return os == ECONNRESET ? -ECONNRESET : -EIO;
	default:
		return -EIO;
	}
}

/* The pin of the public key in @pem (one certificate): what curl compares with CURLOPT_PINNEDPUBLICKEY,
 * the SHA-256 of the DER SubjectPublicKeyInfo in base64. Return 0 or -EPROTO. */
static int pin_of_pem(const char *pem, char *out, size_t outlen)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	int n = cert ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der) : -1;
	int rc = -EPROTO;

	if (n > 0 && EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) == 1 && mdlen == 32) {
		EVP_EncodeBlock((unsigned char *)b64, md, (int)mdlen);
		if ((size_t)snprintf(out, outlen, GW_HTTP_PIN_PREFIX "%s", b64) < outlen)
			rc = 0;
	}
	OPENSSL_free(der);
	X509_free(cert);
	BIO_free(bio);
	return rc;
}

/* The server's pin from the certificates curl collected in this transfer's handshake (none when it
 * reused a connection). Return 0 or -ENOENT. */
static int pin_seen(struct xfer *x)
{
	struct curl_certinfo *ci = NULL;

	if (cu->easy_getinfo(x->easy, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci || ci->num_of_certs < 1)
		return -ENOENT;
	/* Entry 0 is the server's own certificate, the one whose key curl pins. */
	for (struct curl_slist *l = ci->certinfo[0]; l; l = l->next)
		if (strncmp(l->data, "Cert:", 5) == 0)
			return pin_of_pem(l->data + 5, x->pin_seen, sizeof(x->pin_seen)) ? -ENOENT : 0;
	return -ENOENT;
}

/* A complete download: on disk for good, then under its name. Return 0 or -errno. */
static int download_commit(struct xfer *x)
{
	int fd = x->fd, e = 0;

	x->fd = -1;
	/* A rename that outlives a power cut while the data does not would name a torn file. */
	if (fsync(fd) != 0)
		e = errno;
	if (close(fd) != 0 && !e)
		e = errno;
	if (!e && rename(x->part_path, x->final_path) != 0)
		e = errno;
	if (e) {
		gw_log_warn("http: %s: cannot keep the download: %s", x->what, strerror(e));
		return -e;
	}
	free(x->part_path);
	x->part_path = NULL; /* renamed: nothing for xfer_free() to remove */
	return 0;
}

/* A file transfer's resp.status: see gw_http_transfer(). */
static int file_status(struct xfer *x, CURLcode rc)
{
	long code = 0;

	cu->easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OK && code > 0) {
		if (!x->upload && code >= 200 && code < 300) {
			int r = download_commit(x);

			if (r)
				return r;
		}
		return (int)code;
	}
	if (rc == CURLE_OK)
		return -EPROTO;
	/* An FTP server's refusal (530 not logged in, 550 no such file, 552 quota) says more than an
	 * errno would; the caller tells a wrong password from a server that is down by it. */
	if (x->ftp && code >= 400 && code < 600 && !x->too_big && !x->io_err)
		return (int)code;
	return errno_of(x, rc);
}

static void finish_file(struct xfer *x, CURLcode rc)
{
	struct gw_http_resp resp;

	memset(&resp, 0, sizeof(resp));
	resp.body = "";
	resp.error = "";
	resp.pin = "";
	resp.retry_after_s = x->retry_after_s;
	resp.status = file_status(x, rc);
	if (resp.status < 0) {
		resp.retry_after_s = -1;
		if (resp.status == -EFBIG)
			resp.error = "file larger than allowed";
		else if (x->io_err)
			resp.error = strerror(x->io_err);
		else
			resp.error = x->errbuf[0] ? x->errbuf : cu->easy_strerror(rc);
		gw_log_debug("http: %s: %s (%s)", x->what, strerror(-resp.status), resp.error);
	} else {
		gw_log_debug("http: %s: %d (%llu bytes in)", x->what, resp.status, (unsigned long long)x->got);
	}
	x->done(x->user, &resp);
	xfer_free(x);
}

/* Hand one finished transfer to its owner and free it; @x is already unlinked. */
static void finish(struct xfer *x, CURLcode rc)
{
	struct gw_http_resp resp;
	char why[96];
	long code = 0;

	if (x->file) {
		finish_file(x, rc);
		return;
	}
	memset(&resp, 0, sizeof(resp));
	resp.retry_after_s = x->retry_after_s;
	resp.body = "";
	resp.error = "";
	resp.pin = "";
	if (rc == CURLE_OK)
		cu->easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	if ((x->probe && rc == CURLE_OK) || (x->pinned && rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH))
		resp.pin = pin_seen(x) == 0 ? x->pin_seen : "";
	if (x->probe && rc == CURLE_OK) {
		resp.status = resp.pin[0] ? 0 : -EPROTO;
		resp.error = resp.pin[0] ? "" : "no server certificate seen";
		resp.retry_after_s = -1;
		gw_log_debug("http: %s: key %s", x->what, resp.pin[0] ? resp.pin : "not seen");
	} else if (rc == CURLE_OK && code > 0) {
		resp.status = (int)code;
		resp.body = x->rx ? x->rx : "";
		resp.len = x->rx_len;
		gw_log_debug("http: %s: %d (%zu bytes)", x->what, resp.status, resp.len);
	} else {
		resp.status = rc == CURLE_OK ? -EPROTO : errno_of(x, rc);
		if (resp.status == -EMSGSIZE) {
			snprintf(why, sizeof(why), "answer longer than %zu bytes", x->max_body);
			resp.error = why;
		} else {
			resp.error = x->errbuf[0] ? x->errbuf : cu->easy_strerror(rc);
		}
		resp.retry_after_s = -1;
		gw_log_debug("http: %s: %s (%s)", x->what, strerror(-resp.status), resp.error);
	}
	x->done(x->user, &resp);
	xfer_free(x);
}

/* Run the callbacks of whatever curl has finished. A callback may start requests or stop us. */
static void drain(struct gw_http *h)
{
	CURLMsg *m;
	int left;

	while (!h->stopped && (m = cu->multi_info_read(h->multi, &left))) {
		struct xfer *x;
		char *priv = NULL;
		CURLcode rc;

		if (m->msg != CURLMSG_DONE)
			continue;
		rc = m->data.result;
		cu->easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		x = (struct xfer *)priv;
		/* @m dies with the removal. */
		cu->multi_remove_handle(h->multi, m->easy_handle);
		if (!x)
			continue;
		xfer_unlink(h, x);
		finish(x, rc);
	}
}

static void socket_action(struct gw_http *h, curl_socket_t s, int ev)
{
	int running;
	CURLMcode mc = cu->multi_socket_action(h->multi, s, ev, &running);

	if (mc != CURLM_OK)
		gw_log_warn("http: curl_multi_socket_action: %s", cu->multi_strerror(mc));
	drain(h);
}

/* ---- curl's socket and timer callbacks ---- */

static void timer_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_http *h = lws_container_of(sul, struct gw_http, sul);

	socket_action(h, CURL_SOCKET_TIMEOUT, 0);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *ud)
{
	struct gw_http *h = ud;
	lws_usec_t us;

	(void)multi;
	if (timeout_ms < 0 || h->stopped) {
		lws_sul_cancel(&h->sul);
		return 0;
	}
	/* 0 ms means "soon", and curl must not be re-entered from here: the next loop turn it is. */
	us = (lws_usec_t)timeout_ms * LWS_US_PER_MS;
	lws_sul_schedule(gw_loop_context(h->loop), 0, &h->sul, timer_cb, us ? us : 1);
	return 0;
}

static void rearm_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_http *h = lws_container_of(sul, struct gw_http, rearm_sul);

	for (struct sock_rec *rec = h->socks; rec; rec = rec->next) {
		if (rec->rearm && !rec->removed)
			gw_rawfd_want_write(&rec->rf);
		rec->rearm = false;
	}
}

/* lws 4.1.6 clears POLLOUT on a raw file *after* its writeable callback returns, undoing any request
 * made inside it: a send that filled the socket buffer would then wait for curl's next timeout. So
 * inside that callback the request is kept and made on the next loop turn. */
static void sock_want_write(struct gw_http *h, struct sock_rec *rec)
{
	if (!rec->in_writeable) {
		gw_rawfd_want_write(&rec->rf);
		return;
	}
	rec->rearm = true;
	lws_sul_schedule(gw_loop_context(h->loop), 0, &h->rearm_sul, rearm_cb, 1);
}

static void sock_kill(struct gw_http *h, struct sock_rec *rec)
{
	rec->removed = true;
	cu->multi_assign(h->multi, rec->s, NULL);
	gw_rawfd_rx_enable(&rec->rf, false);
	gw_rawfd_close(&rec->rf);
}

static const struct gw_rawfd_ops sock_ops;

static struct sock_rec *sock_adopt(struct gw_http *h, curl_socket_t s)
{
	struct sock_rec *rec;
	int rc;

	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return NULL;
	rec->h = h;
	rec->s = s;
	rc = gw_rawfd_adopt(&rec->rf, h->loop, s, true, &sock_ops, rec);
	if (rc < 0) {
		free(rec);
		if (rc == -EIO)
			gw_log_warn("http: the event loop refused a socket");
		else
			gw_log_warn("http: dup: %s", strerror(-rc));
		return NULL;
	}
	rec->next = h->socks;
	h->socks = rec;
	cu->multi_assign(h->multi, s, rec);
	return rec;
}

static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *ud, void *socketp)
{
	struct gw_http *h = ud;
	struct sock_rec *rec = socketp;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (rec)
			sock_kill(h, rec);
		return 0;
	}
	if (h->stopped)
		return 0;
	if (!rec) {
		rec = sock_adopt(h, s);
		/* Unwatched, the transfer runs into its timeout and fails with a proper error. */
		if (!rec)
			return 0;
	}
	rec->want = what;
	gw_rawfd_rx_enable(&rec->rf, (what & CURL_POLL_IN) != 0);
	if (what & CURL_POLL_OUT)
		sock_want_write(h, rec);
	return 0;
}

/* curl closes a socket: end the connection now, although lws still holds a dup of it (see the top). */
static int on_curl_close(void *ud, curl_socket_t s)
{
	(void)ud;
	shutdown(s, SHUT_RDWR);
	return close(s);
}

/* ---- the "curl-sock" protocol ---- */

static void on_close(void *owner)
{
	struct sock_rec *rec = owner;
	struct gw_http *h = rec->h;

	sock_unlink(h, rec);
	if (!rec->removed) {
		/* lws saw a hang-up or error before curl was done with the socket: let curl find out. */
		cu->multi_assign(h->multi, rec->s, NULL);
		if (!h->stopped)
			socket_action(h, rec->s, CURL_CSELECT_ERR);
	}
	free(rec);
}

static int sock_on_rx(void *owner)
{
	struct sock_rec *rec = owner;

	if (!rec->removed && !rec->h->stopped)
		socket_action(rec->h, rec->s, CURL_CSELECT_IN);
	return 0;
}

static int sock_on_writeable(void *owner)
{
	struct sock_rec *rec = owner;

	if (rec->removed || rec->h->stopped)
		return 0;
	rec->in_writeable = true;
	socket_action(rec->h, rec->s, CURL_CSELECT_OUT);
	rec->in_writeable = false;
	/* curl only calls back on a change of interest: still wanting to write, it says nothing. */
	if (!rec->removed && !rec->h->stopped && (rec->want & CURL_POLL_OUT)) {
		rec->in_writeable = true;
		sock_want_write(rec->h, rec);
		rec->in_writeable = false;
	}
	return 0;
}

static const struct gw_rawfd_ops sock_ops = {
	.on_rx = sock_on_rx,
	.on_writeable = sock_on_writeable,
	.on_close = on_close,
};

/* ---- public API ---- */

struct gw_http *gw_http_new(struct gw_loop *loop)
{
	struct gw_http *h = calloc(1, sizeof(*h));

	if (!h) {
		gw_log_error("http: out of memory");
		return NULL;
	}
	h->loop = loop;
	h->next_id = 1;
	return h;
}

/* libcurl loaded, initialised and a multi handle made, at the first request. Return 0 or -errno. */
static int http_start(struct gw_http *h)
{
	if (h->multi)
		return 0;
	if (!cu)
		cu = gw_curl_get();
	if (!cu)
		return -ENOSYS;
	if (!h->global_init) {
		if (cu->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			gw_log_error("http: curl_global_init failed");
			return -ENOMEM;
		}
		h->global_init = true;
	}
	h->multi = cu->multi_init();
	if (!h->multi) {
		gw_log_error("http: curl_multi_init failed");
		return -ENOMEM;
	}
	cu->multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	cu->multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	cu->multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	cu->multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	return 0;
}

#define SET(opt, val)                                                  \
	do {                                                           \
		if (cu->easy_setopt(x->easy, opt, val) != CURLE_OK) { \
			gw_log_error("http: cannot set " #opt);        \
			goto fail;                                     \
		}                                                      \
	} while (0)

static int header_add(struct xfer *x, const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 3;
	char *line = malloc(n);
	struct curl_slist *l;

	if (!line)
		return -ENOMEM;
	snprintf(line, n, "%s: %s", name, value);
	l = cu->slist_append(x->headers, line);
	explicit_bzero(line, n);
	free(line);
	if (!l)
		return -ENOMEM;
	x->headers = l;
	return 0;
}

/* "sha256//B64" with 44 base64 characters, one or more separated by ';': nothing curl would read as the
 * name of a key file instead. */
static bool pin_ok(const char *p)
{
	const size_t plen = sizeof(GW_HTTP_PIN_PREFIX) - 1;

	for (;;) {
		size_t n;

		if (strncmp(p, GW_HTTP_PIN_PREFIX, plen) != 0)
			return false;
		n = strcspn(p + plen, ";");
		if (n != GW_HTTP_PIN_LEN - plen ||
		    strspn(p + plen, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != n)
			return false;
		p += plen + n;
		if (!*p)
			return true;
		p++;
	}
}

static bool is_https(const char *url)
{
	return strncasecmp(url, "https://", 8) == 0;
}

static int request_check(const struct gw_http_req *r)
{
	if (!r || !r->url || !r->url[0] || !method_ok(r->method))
		return -EINVAL;
	/* One way of trusting the server per request: mixing them would leave it unclear which applies. */
	if ((r->pin || r->pin_probe) && (r->insecure || (r->ca_file && r->ca_file[0]) || !is_https(r->url)))
		return -EINVAL;
	if (r->pin && (r->pin_probe || !pin_ok(r->pin)))
		return -EINVAL;
	/* A probe goes to a peer nobody vouches for: it must have nothing to give away. */
	if (r->pin_probe && (r->body || r->bearer))
		return -EINVAL;
	if (r->bearer && (!r->bearer[0] || !header_safe(r->bearer)))
		return -EINVAL;
	if (r->content_type && !header_safe(r->content_type))
		return -EINVAL;
	if (r->timeout_ms < 0)
		return -EINVAL;
	return 0;
}

/* A new record for a transfer of @h, libcurl started first. Return 0 with *@out, or -errno. */
static int xfer_alloc(struct gw_http *h, gw_http_done_fn done, void *user, struct xfer **out)
{
	struct xfer *x;
	int rc;

	if (h->stopped)
		return -ESHUTDOWN;
	rc = http_start(h);
	if (rc)
		return rc;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->h = h;
	x->fd = -1;
	x->done = done;
	x->user = user;
	x->retry_after_s = -1;
	*out = x;
	return 0;
}

/* The options requests and file transfers set alike, on @x's handle. @protocols are the schemes
 * curl may speak, @body_fn takes the answer's body, @ca_file (if set) is the CA to trust.
 * Return 0 or -ENOMEM. */
static int xfer_setopt_common(struct xfer *x, const char *url, const char *protocols, long timeout_ms,
			      curl_write_callback body_fn, const char *ca_file)
{
	SET(CURLOPT_PRIVATE, (void *)x);
	SET(CURLOPT_ERRORBUFFER, x->errbuf);
	SET(CURLOPT_URL, url);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CLOSESOCKETFUNCTION, on_curl_close);
	SET(CURLOPT_PROTOCOLS_STR, protocols);
	SET(CURLOPT_USERAGENT, "twcgw/" TWCGW_VERSION);
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	SET(CURLOPT_TIMEOUT_MS, timeout_ms);
	SET(CURLOPT_WRITEFUNCTION, body_fn);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, x);
	if (ca_file && ca_file[0]) {
		/* The given CA replaces the system store (pinning, as for the OCPP link), so no CA path. */
		SET(CURLOPT_CAINFO, ca_file);
		SET(CURLOPT_CAPATH, (char *)NULL);
	}
	return 0;

fail:
	return -ENOMEM;
}

/* Hand @x to curl and list it; frees it on failure. Return its number or -errno. */
static long xfer_enqueue(struct gw_http *h, struct xfer *x)
{
	/* This only asks for a timer (handled on the next loop turn): no callback can run from here. */
	if (cu->multi_add_handle(h->multi, x->easy) != CURLM_OK) {
		xfer_free(x);
		return -EIO;
	}
	x->id = h->next_id++;
	if (h->next_id <= 0)
		h->next_id = 1;
	x->next = h->xfers;
	h->xfers = x;
	h->pending++;
	gw_log_debug("http: %s: started", x->what);
	return x->id;
}

long gw_http_request(struct gw_http *h, const struct gw_http_req *r, gw_http_done_fn done, void *user)
{
	struct xfer *x;
	char shown[LOG_URL_MAX];
	int rc = -ENOMEM;

	if (!h || !done || request_check(r) != 0)
		return -EINVAL;
	rc = xfer_alloc(h, done, user, &x);
	if (rc)
		return rc;
	rc = -ENOMEM;
	x->max_body = r->max_body ? r->max_body : DEFAULT_MAX_BODY;
	url_for_log(r->url, shown, sizeof(shown));
	snprintf(x->what, sizeof(x->what), "%s %s", r->pin_probe ? "key of" : r->method, shown);
	x->easy = cu->easy_init();
	if (!x->easy)
		goto fail;

	if (xfer_setopt_common(x, r->url, "http,https", r->timeout_ms ? r->timeout_ms : DEFAULT_TIMEOUT_MS,
			       on_body, r->ca_file))
		goto fail;
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)(x->max_body > (size_t)INT64_MAX ? INT64_MAX : x->max_body));
	if (r->pin || r->pin_probe) {
		/* Self-signed: the key is what is trusted, not a chain or a name. */
		SET(CURLOPT_SSL_VERIFYPEER, 0L);
		SET(CURLOPT_SSL_VERIFYHOST, 0L);
		SET(CURLOPT_CERTINFO, 1L);
	}
	if (r->pin) {
		SET(CURLOPT_PINNEDPUBLICKEY, r->pin);
		x->pinned = true;
	}
	if (r->pin_probe) {
		/* The handshake and nothing else; HTTP/1.1 so not even an HTTP/2 preface goes out. */
		SET(CURLOPT_CONNECT_ONLY, 1L);
		SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
		x->probe = true;
	}
	if (r->insecure) {
		SET(CURLOPT_SSL_VERIFYPEER, 0L);
		SET(CURLOPT_SSL_VERIFYHOST, 0L);
		if (!h->insecure_logged)
			gw_log_warn("http: certificate checks are off for %s (and any later insecure request)", shown);
		h->insecure_logged = true;
	}

	if (r->body) {
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(r->body));
		SET(CURLOPT_COPYPOSTFIELDS, r->body);
		if (strcmp(r->method, "POST") != 0)
			SET(CURLOPT_CUSTOMREQUEST, r->method);
	} else if (strcmp(r->method, "POST") == 0) {
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
		SET(CURLOPT_COPYPOSTFIELDS, "");
	} else if (strcmp(r->method, "HEAD") == 0) {
		SET(CURLOPT_NOBODY, 1L);
	} else if (strcmp(r->method, "GET") != 0) {
		SET(CURLOPT_CUSTOMREQUEST, r->method);
	}
	/* curl would otherwise send a form Content-Type the caller did not ask for, and wait a second for
	 * "100 Continue" before a larger body. */
	if (header_add(x, "Content-Type", r->body && r->content_type ? r->content_type : "") ||
	    header_add(x, "Expect", ""))
		goto fail;
	if (r->bearer) {
		/* Built by hand rather than with CURLOPT_XOAUTH2_BEARER, which only applies with HTTPAUTH set. */
		static const char scheme[] = "Bearer ";
		size_t n = sizeof(scheme) + strlen(r->bearer);
		char *v = malloc(n);

		if (!v)
			goto fail;
		snprintf(v, n, "%s%s", scheme, r->bearer);
		rc = header_add(x, "Authorization", v);
		explicit_bzero(v, n);
		free(v);
		if (rc)
			goto fail;
		rc = -ENOMEM;
	}
	SET(CURLOPT_HTTPHEADER, x->headers);
	return xfer_enqueue(h, x);

fail:
	xfer_free(x);
	return rc;
}

/* ---- file transfers ---- */

static size_t on_file_body(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n, off = 0;

	/* What a server says to an upload is not wanted: only its status is. */
	if (x->upload)
		return len;
	/* CURLOPT_MAXFILESIZE only catches a size announced up front; chunked answers end here. */
	if (len > x->max_bytes - x->got) {
		x->too_big = true;
		return 0;
	}
	while (off < len) {
		ssize_t w = write(x->fd, p + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			x->io_err = w < 0 ? errno : EIO;
			return 0;
		}
		off += (size_t)w;
	}
	x->got += len;
	return len;
}

static size_t on_file_read(char *buf, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;

	for (;;) {
		ssize_t r = read(x->fd, buf, size * n);

		if (r >= 0)
			return (size_t)r;
		if (errno != EINTR) {
			x->io_err = errno;
			return CURL_READFUNC_ABORT;
		}
	}
}

/* curl rewinds when it sends the body again (a redirect, an authentication round). */
static int on_file_seek(void *ud, curl_off_t off, int origin)
{
	struct xfer *x = ud;

	return lseek(x->fd, (off_t)off, origin) < 0 ? CURL_SEEKFUNC_FAIL : CURL_SEEKFUNC_OK;
}

/* Return true for the four schemes a transfer may use, setting *@ftp for the FTP two. */
static bool xfer_scheme_ok(const char *url, bool *ftp)
{
	static const struct {
		const char *prefix;
		bool ftp;
	} ok[] = { { "http://", false }, { "https://", false }, { "ftp://", true }, { "ftps://", true } };

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		size_t n = strlen(ok[i].prefix);

		if (strncasecmp(url, ok[i].prefix, n) == 0 && url[n] && url[n] != '/') {
			*ftp = ok[i].ftp;
			return true;
		}
	}
	return false;
}

static bool url_chars_ok(const char *url)
{
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return false;
	return true;
}

static const char *path_base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* @url, or for an FTP upload to a directory ("ftp://host/dir/") @url with the file's name added
 * (percent-encoded): STOR needs a file name. NULL when out of memory. */
static char *xfer_url(const struct gw_http_xfer *t, bool ftp, CURL *easy)
{
	size_t ulen = strlen(t->url);
	char *esc, *out;

	if (!t->upload || !ftp || t->url[ulen - 1] != '/')
		return strdup(t->url);
	esc = cu->easy_escape(easy, path_base(t->path), 0);
	if (!esc)
		return NULL;
	out = malloc(ulen + strlen(esc) + 1);
	if (out) {
		memcpy(out, t->url, ulen);
		memcpy(out + ulen, esc, strlen(esc) + 1);
	}
	cu->free(esc);
	return out;
}

/* The local end: the upload's file opened for reading (its size in *@size), or the download's .part
 * created 0600. Return 0 or -errno. */
static int xfer_open_local(struct xfer *x, const struct gw_http_xfer *t, curl_off_t *size)
{
	struct stat st;
	size_t n;

	if (x->upload) {
		x->fd = open(t->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (x->fd < 0)
			return -errno;
		if (fstat(x->fd, &st) != 0)
			return -errno;
		if (!S_ISREG(st.st_mode))
			return -EINVAL;
		*size = (curl_off_t)st.st_size;
		return 0;
	}
	n = strlen(t->path);
	x->final_path = strdup(t->path);
	x->part_path = malloc(n + sizeof(".part"));
	if (!x->final_path || !x->part_path)
		return -ENOMEM;
	memcpy(x->part_path, t->path, n);
	memcpy(x->part_path + n, ".part", sizeof(".part"));
	x->fd = open(x->part_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (x->fd < 0) {
		int e = errno;

		/* Not ours to remove: it was never opened. */
		free(x->part_path);
		x->part_path = NULL;
		return -e;
	}
	/* A .part left by someone else keeps its mode through O_TRUNC. */
	if (fchmod(x->fd, 0600) != 0)
		return -errno;
	return 0;
}

long gw_http_transfer(struct gw_http *h, const struct gw_http_xfer *t, gw_http_done_fn done, void *user)
{
	struct xfer *x;
	char shown[LOG_URL_MAX];
	char *url = NULL;
	curl_off_t size = 0;
	bool ftp = false;
	int rc = -ENOMEM;

	if (!h || !t || !done || !t->url || !t->path || !t->path[0] || !path_base(t->path)[0] ||
	    t->timeout_ms < 0 || !xfer_scheme_ok(t->url, &ftp) || !url_chars_ok(t->url))
		return -EINVAL;
	rc = xfer_alloc(h, done, user, &x);
	if (rc)
		return rc;
	x->file = true;
	x->upload = t->upload;
	x->ftp = ftp;
	x->max_bytes = t->max_bytes ? t->max_bytes : DEFAULT_XFER_MAX_BYTES;
	url_for_log(t->url, shown, sizeof(shown));
	snprintf(x->what, sizeof(x->what), "%s %s", t->upload ? "upload to" : "download of", shown);
	rc = xfer_open_local(x, t, &size);
	if (rc) {
		gw_log_warn("http: %s: %s: %s", x->what, t->path, strerror(-rc));
		goto fail;
	}
	rc = -ENOMEM;
	x->easy = cu->easy_init();
	if (!x->easy)
		goto fail;
	url = xfer_url(t, ftp, x->easy);
	if (!url)
		goto fail;

	if (xfer_setopt_common(x, url, "http,https,ftp,ftps",
			       t->timeout_ms ? t->timeout_ms : DEFAULT_XFER_TIMEOUT_MS, on_file_body, t->ca_file))
		goto fail;
	if (t->upload && ftp) {
		SET(CURLOPT_UPLOAD, 1L);
		SET(CURLOPT_READFUNCTION, on_file_read);
		SET(CURLOPT_READDATA, x);
		SET(CURLOPT_SEEKFUNCTION, on_file_seek);
		SET(CURLOPT_SEEKDATA, x);
		SET(CURLOPT_INFILESIZE_LARGE, size);
	} else if (t->upload) {
		curl_mimepart *part;

		x->mime = cu->mime_init(x->easy);
		part = x->mime ? cu->mime_addpart(x->mime) : NULL;
		if (!part || cu->mime_name(part, "file") != CURLE_OK ||
		    cu->mime_filename(part, path_base(t->path)) != CURLE_OK ||
		    cu->mime_type(part, "application/octet-stream") != CURLE_OK ||
		    cu->mime_data_cb(part, size, on_file_read, on_file_seek, NULL, x) != CURLE_OK)
			goto fail;
		SET(CURLOPT_MIMEPOST, x->mime);
		/* curl would wait a second for "100 Continue" before a larger body. */
		if (header_add(x, "Expect", ""))
			goto fail;
		SET(CURLOPT_HTTPHEADER, x->headers);
	} else {
		SET(CURLOPT_MAXFILESIZE_LARGE,
		    (curl_off_t)(x->max_bytes > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)x->max_bytes));
		if (!ftp) {
			/* Firmware often sits behind a redirect to a file store; never to another scheme. */
			SET(CURLOPT_FOLLOWLOCATION, 1L);
			SET(CURLOPT_MAXREDIRS, 5L);
			SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
		}
	}
	/* The URL may hold a password: no copy of it stays in our memory. */
	explicit_bzero(url, strlen(url));
	free(url);
	return xfer_enqueue(h, x);

fail:
	if (url) {
		explicit_bzero(url, strlen(url));
		free(url);
	}
	xfer_free(x);
	return rc;
}

#undef SET

int gw_http_cancel(struct gw_http *h, long id)
{
	if (!h || id <= 0)
		return -ENOENT;
	for (struct xfer *x = h->xfers; x; x = x->next) {
		if (x->id != id)
			continue;
		xfer_unlink(h, x);
		/* Also drops a finished-but-undrained message of this handle: no callback can follow. */
		cu->multi_remove_handle(h->multi, x->easy);
		gw_log_debug("http: %s: cancelled", x->what);
		xfer_free(x);
		return 0;
	}
	return -ENOENT;
}

int gw_http_pending(const struct gw_http *h)
{
	return h ? h->pending : 0;
}

void gw_http_stop(struct gw_http *h)
{
	if (!h)
		return;
	h->stopped = true;
	lws_sul_cancel(&h->sul);
	lws_sul_cancel(&h->rearm_sul);
	while (h->xfers) {
		struct xfer *x = h->xfers;

		h->xfers = x->next;
		h->pending--;
		/* Closes or caches the connection; curl reports its sockets removed as it goes. */
		cu->multi_remove_handle(h->multi, x->easy);
		xfer_free(x);
	}
	/* Whatever curl still watches (a cached connection) must not keep waking a loop that may run on. */
	for (struct sock_rec *rec = h->socks; rec; rec = rec->next)
		if (!rec->removed)
			sock_kill(h, rec);
}

void gw_http_free(struct gw_http *h)
{
	if (!h)
		return;
	gw_http_stop(h);
	/* Records still listed have live wsis, so the context still runs: detach them and let lws
	 * close the dups at its next turn. */
	while (h->socks) {
		struct sock_rec *rec = h->socks;

		h->socks = rec->next;
		if (h->multi && !rec->removed)
			cu->multi_assign(h->multi, rec->s, NULL);
		gw_rawfd_detach(&rec->rf);
		free(rec);
	}
	if (h->multi)
		cu->multi_cleanup(h->multi);
	if (h->global_init)
		cu->global_cleanup();
	free(h);
}
