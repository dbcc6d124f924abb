/*
 * gw_loop: create the lws context with the protocols the transports registered, adopt a signalfd so
 * signals are ordinary loop events (no async-signal-safety questions, no global flags), and run
 * lws_service() until told to stop. lws 4.1.6 has no external-poll support, so lws must own the loop and everything else
 * joins it as an adopted descriptor or an lws_sul. The plain vhost serves the raw files and ws://;
 * wss:// gets vhosts of its own because lws binds a client's CA, certificate and key to its vhost.
 * We build those vhosts' OpenSSL contexts ourselves (lws's provided_client_ssl_ctx): lws 4.1.6 would
 * otherwise share a context between vhosts whose file names match (a hash of the paths), so a
 * certificate rewritten in place would never be read again, and we could not watch the TLS alerts
 * that tell why a handshake failed.
 */
#include "gw_loop.h"

#include <errno.h>
#include <libwebsockets.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "gw_log.h"
#include "gw_rawfd.h"

struct gw_loop {
	struct gw_loop_handlers h;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	struct gw_rawfd sig;
	int sig_fd; /* owned by lws once adopted */
	bool stop;
	int code;
	unsigned tls_vhosts; /* TLS vhosts made so far: their names' suffix */
};

/*
 * Protocol 0: lws 4.1.6 calls only protocol 0 for some per-wsi reasons (WSI_DESTROY, and with a
 * fake wsi the vhost-wide ones). The wsi's own protocol gets WSI_DESTROY from here, with its user
 * data, so a transport learns when lws has let go of a wsi (gw_ws frees a retired vhost then).
 */
static int loop_protocol_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	const struct lws_protocols *p;

	if (reason != LWS_CALLBACK_WSI_DESTROY)
		return 0;
	p = lws_get_protocol(wsi);
	if (p && p->callback && p->callback != loop_protocol_cb)
		return p->callback(wsi, reason, user, in, len);
	return 0;
}

/* The protocols the transports registered after the loop's own, and lws 4.1.6's all-zero
 * terminator. */
static struct lws_protocols protocols[GW_LOOP_PROTOCOLS_MAX + 2] = {
	{ "gw-loop", loop_protocol_cb, 0, 0, 0, NULL, 0 },
};
static int n_protocols = 1;

void gw_loop_register_protocol(const struct lws_protocols *p)
{
	for (int i = 0; i < n_protocols; i++)
		if (protocols[i].callback == p->callback)
			return;
	if (n_protocols < GW_LOOP_PROTOCOLS_MAX + 1)
		protocols[n_protocols++] = *p;
}

static void signal_dispatch(struct gw_loop *loop, int signo)
{
	switch (signo) {
	case SIGTERM:
	case SIGINT:
		gw_log_info("%s: stopping", signo == SIGTERM ? "SIGTERM" : "SIGINT");
		if (loop->h.on_stop)
			loop->h.on_stop(loop->h.user, signo);
		gw_loop_stop(loop, 0);
		break;
	case SIGHUP:
		gw_log_info("SIGHUP: reloading the config");
		if (loop->h.on_reload)
			loop->h.on_reload(loop->h.user);
		break;
	default:
		break;
	}
}

static int signals_rx(struct gw_loop *loop)
{
	struct signalfd_siginfo si;

	for (;;) {
		ssize_t n = read(loop->sig_fd, &si, sizeof(si));

		if (n == (ssize_t)sizeof(si)) {
			signal_dispatch(loop, (int)si.ssi_signo);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		/* A signalfd never returns short reads or EOF; treat anything else as fatal for it. */
		gw_log_error("signalfd: read failed: %s", n < 0 ? strerror(errno) : "short read");
		return -1;
	}
}

static int signals_on_rx(void *owner)
{
	return signals_rx(owner);
}

static void signals_on_close(void *owner)
{
	struct gw_loop *loop = owner;

	loop->sig_fd = -1;
}

static const struct gw_rawfd_ops signals_ops = {
	.on_rx = signals_on_rx,
	.on_close = signals_on_close,
};

static void lws_log_emit(int level, const char *line)
{
	gw_log(level & LLL_ERR ? GW_LOG_ERROR : level & LLL_WARN ? GW_LOG_WARN : GW_LOG_DEBUG, "lws: %s", line);
}

static int signals_open(struct gw_loop *loop)
{
	sigset_t mask;
	int rc;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0)
		return -errno;
	loop->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (loop->sig_fd < 0)
		return -errno;

	rc = gw_rawfd_adopt(&loop->sig, loop, loop->sig_fd, false, &signals_ops, loop);
	if (rc < 0)
		loop->sig_fd = -1; /* closed by gw_rawfd_adopt() */
	return rc;
}

struct gw_loop *gw_loop_new(const struct gw_loop_handlers *h)
{
	struct lws_context_creation_info info;
	struct gw_loop *loop;
	int rc;

	loop = calloc(1, sizeof(*loop));
	if (!loop)
		return NULL;
	loop->h = *h;
	loop->sig_fd = -1;

	/* Before the context exists, so its start-up chatter goes through our log too. */
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
	/* Writes to a dead TCP peer use MSG_NOSIGNAL; this also covers anything lws writes. */
	signal(SIGPIPE, SIG_IGN);

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	/* No LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT: OpenSSL sets itself up at the first SSL_CTX_new() (a
	 * wss:// vhost, the https listener, curl), and a gateway with none of them (ws:// only) saves
	 * the ~1.7 MB of libcrypto pages and heap that the eager set-up (all ciphers and digests, error
	 * strings, the config file) touches (docs/performance.md, "Memory: what is mapped"). All that
	 * lws 4.1.6 does besides is take two ex_data indexes, which it keeps in zero-initialised
	 * statics: left at 0, lws keeps its wsi and vhost pointers in OpenSSL's index 0, the app_data
	 * slot of its own SSL and SSL_CTX objects, which nothing else here uses (tls_ex_idx is ours, from
	 * SSL_get_ex_new_index(), never 0). Client TLS itself is made only on the vhosts that ask for
	 * it (gw_loop_tls_vhost_new). */
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	/* lws sizes its fd lookup table by this; the default (the process fd limit) can be huge. */
	info.fd_limit_per_thread = 1024;
	info.vhost_name = "twcgw";
	loop->ctx = lws_create_context(&info);
	if (!loop->ctx) {
		gw_log_error("loop: cannot create the lws context");
		goto fail;
	}
	loop->vh = lws_create_vhost(loop->ctx, &info);
	if (!loop->vh) {
		gw_log_error("loop: cannot create the lws vhost");
		goto fail;
	}
	rc = signals_open(loop);
	if (rc) {
		gw_log_error("loop: cannot set up the signalfd: %s", strerror(-rc));
		goto fail;
	}
	return loop;

fail:
	gw_loop_free(loop);
	return NULL;
}

int gw_loop_run(struct gw_loop *loop)
{
	while (!loop->stop) {
		/* The timeout argument is ignored by 4.1.6 beyond "may wait": suls set the poll timeout. */
		if (lws_service(loop->ctx, 0) < 0) {
			gw_log_error("loop: lws_service failed");
			return -EIO;
		}
	}
	return loop->code;
}

void gw_loop_stop(struct gw_loop *loop, int code)
{
	if (loop->stop)
		return;
	loop->stop = true;
	loop->code = code;
	/* Called from a sul, lws_service() would otherwise go on to poll() until the next event. */
	lws_cancel_service(loop->ctx);
}

bool gw_loop_stopping(const struct gw_loop *loop)
{
	return loop->stop;
}

struct lws_context *gw_loop_context(const struct gw_loop *loop)
{
	return loop->ctx;
}

struct lws_vhost *gw_loop_vhost(const struct gw_loop *loop)
{
	return loop->vh;
}

/* ---- TLS client vhosts ---- */

/* TLS 1.2 suites of the OCPP 1.6 security whitepaper (edition 2, section 4.1.5); TLS 1.3 keeps
 * OpenSSL's default suites, all of them AEAD. */
#define TLS12_CIPHERS                                                                                     \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:"      \
	"ECDHE-RSA-AES256-GCM-SHA384:AES128-GCM-SHA256:AES256-GCM-SHA384"

/* What one TLS vhost owns; lws keeps a pointer to the name, and the context is ours to free. */
struct tls_vhost {
	SSL_CTX *ctx;
	bool creating; /* inside lws_create_vhost(): a failure there leaves tv to us */
	char name[48];
};

/* The SSL ex_data slot where tls_info_cb() keeps the alerts of a connection (two bytes + flags). */
static int tls_ex_idx = -1;

#define ALERT_SENT_SET 0x100u
#define ALERT_RCVD_SET 0x10000u
#define HANDSHAKE_DONE 0x4000000u
#define CERT_SENT 0x8000000u

static void tls_info_cb(const SSL *cssl, int where, int ret)
{
	SSL *ssl = (SSL *)cssl; /* OpenSSL hands a const pointer; its ex_data is ours to set */
	uintptr_t v;
	unsigned desc = (unsigned)ret & 0xffu;

	if (tls_ex_idx < 0)
		return;
	v = (uintptr_t)SSL_get_ex_data(ssl, tls_ex_idx);
	/* Kept: a TLS 1.3 server refuses our certificate after our handshake is done, and a read error
	 * then puts OpenSSL's state machine back into "not finished". */
	if (where & SSL_CB_HANDSHAKE_DONE)
		v |= HANDSHAKE_DONE;
	else if ((where & SSL_CB_LOOP) && SSL_get_state(ssl) == TLS_ST_CW_CERT)
		v |= CERT_SENT;
	else if (!(where & SSL_CB_ALERT) || desc == SSL_AD_CLOSE_NOTIFY)
		return;
	else if ((where & SSL_CB_WRITE) && !(v & ALERT_SENT_SET))
		v |= ALERT_SENT_SET | desc;
	else if ((where & SSL_CB_READ) && !(v & ALERT_RCVD_SET))
		v |= ALERT_RCVD_SET | (uintptr_t)desc << 17;
	SSL_set_ex_data(ssl, tls_ex_idx, (void *)v);
}

void gw_loop_tls_diag(struct lws *wsi, struct gw_loop_tls_diag *d)
{
	SSL *ssl = wsi ? lws_get_ssl(wsi) : NULL;
	uintptr_t v;

	memset(d, 0, sizeof(*d));
	d->verify = X509_V_OK;
	d->alert_sent = d->alert_rcvd = -1;
	if (!ssl)
		return;
	d->tls = true;
	d->verify = SSL_get_verify_result(ssl);
	d->version = SSL_version(ssl);
	v = tls_ex_idx >= 0 ? (uintptr_t)SSL_get_ex_data(ssl, tls_ex_idx) : 0;
	d->done = SSL_is_init_finished(ssl) || (v & HANDSHAKE_DONE);
	d->cert_sent = (v & CERT_SENT) != 0;
	if (v & ALERT_SENT_SET)
		d->alert_sent = (int)(v & 0xffu);
	if (v & ALERT_RCVD_SET)
		d->alert_rcvd = (int)((v >> 17) & 0xffu);
}

/* An encrypted key must not make OpenSSL prompt on the terminal: no passphrase, no key. */
static int tls_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

/* OpenSSL's reason for the last failure (its text names files and algorithms, never key bytes). */
static const char *tls_err(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();

	if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "unknown error");
	ERR_clear_error();
	return buf;
}

static SSL_CTX *tls_ctx_new(const struct gw_loop_tls *t, const char *name)
{
	bool ca = t->ca_file && t->ca_file[0], cert = t->cert_file && t->cert_file[0];
	char e[160];
	SSL_CTX *ctx;

	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		gw_log_error("loop: %s: cannot create a TLS context: %s", name, tls_err(e, sizeof(e)));
		return NULL;
	}
	SSL_CTX_set_default_passwd_cb(ctx, tls_no_passphrase);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_info_callback(ctx, tls_info_cb);
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) || !SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS)) {
		gw_log_error("loop: %s: cannot restrict TLS to 1.2+: %s", name, tls_err(e, sizeof(e)));
		goto fail;
	}
	/* The operator's CA replaces the system store: pinning, not an addition. */
	if (ca ? SSL_CTX_load_verify_locations(ctx, t->ca_file, NULL) != 1 : SSL_CTX_set_default_verify_paths(ctx) != 1) {
		gw_log_error("loop: %s: cannot load the CA %s: %s", name, ca ? t->ca_file : "store",
			     tls_err(e, sizeof(e)));
		goto fail;
	}
	/* A CSMS root installed under AdditionalRootCertificateCheck is signed by the root before it,
	 * so it is not self-signed: every certificate of the operator's CA file is a trust anchor. */
	if (ca)
		X509_STORE_set_flags(SSL_CTX_get_cert_store(ctx), X509_V_FLAG_PARTIAL_CHAIN);
	if (cert) {
		if (SSL_CTX_use_certificate_chain_file(ctx, t->cert_file) != 1) {
			gw_log_error("loop: %s: cannot load the client certificate %s: %s", name, t->cert_file,
				     tls_err(e, sizeof(e)));
			goto fail;
		}
		if (!t->key_file || SSL_CTX_use_PrivateKey_file(ctx, t->key_file, SSL_FILETYPE_PEM) != 1) {
			gw_log_error("loop: %s: cannot load the client key %s: %s", name,
				     t->key_file ? t->key_file : "(none)", tls_err(e, sizeof(e)));
			goto fail;
		}
		if (SSL_CTX_check_private_key(ctx) != 1) {
			gw_log_error("loop: %s: the key %s is not the key of %s", name, t->key_file, t->cert_file);
			ERR_clear_error();
			goto fail;
		}
	}
	return ctx;

fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* lws is done with the vhost (destroyed, or its creation failed part-way). */
static void tls_vhost_finalize(struct lws_vhost *vh, void *arg)
{
	struct tls_vhost *tv = arg;

	(void)vh;
	if (tv->creating)
		return;
	SSL_CTX_free(tv->ctx);
	free(tv);
}

struct lws_vhost *gw_loop_tls_vhost_new(struct gw_loop *loop, const char *name, const struct gw_loop_tls *tls)
{
	struct lws_context_creation_info info;
	struct tls_vhost *tv;
	struct lws_vhost *vh;

	if (tls_ex_idx < 0)
		tls_ex_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	tv = calloc(1, sizeof(*tv));
	if (!tv) {
		gw_log_error("loop: out of memory");
		return NULL;
	}
	snprintf(tv->name, sizeof(tv->name), "%s-%u", name, ++loop->tls_vhosts);
	tv->ctx = tls_ctx_new(tls, tv->name);
	if (!tv->ctx) {
		free(tv);
		return NULL;
	}
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.vhost_name = tv->name;
	/* On a vhost this only says "this vhost does TLS" (the per-process set-up is the context's). */
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.provided_client_ssl_ctx = tv->ctx;
	info.finalize = tls_vhost_finalize;
	info.finalize_arg = tv;
	tv->creating = true;
	vh = lws_create_vhost(loop->ctx, &info);
	tv->creating = false;
	if (!vh) {
		/* Whether or not lws got as far as finalizing, nothing of lws points at tv any more. */
		gw_log_error("loop: cannot create the TLS client vhost %s", tv->name);
		SSL_CTX_free(tv->ctx);
		free(tv);
		return NULL;
	}
	gw_log_debug("loop: TLS client vhost %s%s%s", tv->name, tls->cert_file && tls->cert_file[0] ? ", certificate " : "",
		     tls->cert_file && tls->cert_file[0] ? tls->cert_file : "");
	return vh;
}

void gw_loop_tls_vhost_free(struct lws_vhost *vh)
{
	if (vh)
		lws_vhost_destroy(vh);
}

void gw_loop_free(struct gw_loop *loop)
{
	if (!loop)
		return;
	if (loop->ctx)
		lws_context_destroy(loop->ctx); /* closes the adopted signalfd among others */
	else if (loop->sig_fd >= 0)
		close(loop->sig_fd);
	free(loop);
}
