/*
 * gw_loop: create the lws context with its protocols table, adopt a signalfd so signals are ordinary
 * loop events (no async-signal-safety questions, no global flags), and run lws_service() until told
 * to stop. lws 4.1.6 has no external-poll support, so lws must own the loop and everything else
 * joins it as an adopted descriptor or an lws_sul. The plain vhost serves the raw files and ws://;
 * wss:// gets vhosts of its own because lws binds a client's CA to its vhost.
 */
#include "gw_loop.h"

#include <errno.h>
#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "gw_http.h"
#include "gw_log.h"
#include "gw_mqtt.h"
#include "gw_port.h"
#include "gw_ws.h"

#define SIGNALS_PROTOCOL "signals"

struct gw_loop {
	struct gw_loop_handlers h;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	struct lws *sig_wsi;
	int sig_fd; /* owned by lws once adopted */
	bool stop;
	int code;
};

static int signals_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			    size_t len);

/* One entry per kind of I/O; lws 4.1.6 wants an all-zero terminator. */
static const struct lws_protocols protocols[] = {
	{ GW_PORT_PROTOCOL, gw_port_lws_callback, 0, 0, 0, NULL, 0 },
	{ SIGNALS_PROTOCOL, signals_callback, 0, 0, 0, NULL, 0 },
	{ GW_WS_PROTOCOL, gw_ws_lws_callback, 0, 0, 0, NULL, 0 },
	{ GW_HTTP_PROTOCOL, gw_http_lws_callback, 0, 0, 0, NULL, 0 },
	{ GW_MQTT_PROTOCOL, gw_mqtt_lws_callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

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

static int signals_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
			    size_t len)
{
	(void)user;
	(void)in;
	(void)len;
	struct gw_loop *loop = lws_get_opaque_user_data(wsi);

	if (!loop)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		return signals_rx(loop);
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		loop->sig_wsi = NULL;
		loop->sig_fd = -1;
		return 0;
	default:
		return 0;
	}
}

static void lws_log_emit(int level, const char *line)
{
	gw_log(level & LLL_ERR ? GW_LOG_ERROR : level & LLL_WARN ? GW_LOG_WARN : GW_LOG_DEBUG, "lws: %s", line);
}

static int signals_open(struct gw_loop *loop)
{
	sigset_t mask;
	lws_adopt_desc_t ad;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0)
		return -errno;
	loop->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (loop->sig_fd < 0)
		return -errno;

	memset(&ad, 0, sizeof(ad));
	ad.vh = loop->vh;
	ad.type = LWS_ADOPT_RAW_FILE_DESC;
	ad.fd.filefd = loop->sig_fd;
	ad.vh_prot_name = SIGNALS_PROTOCOL;
	ad.opaque = loop;
	loop->sig_wsi = lws_adopt_descriptor_vhost_via_info(&ad);
	if (!loop->sig_wsi) {
		/* lws closes only sockets when a raw-file adoption fails; the fd is still ours. */
		close(loop->sig_fd);
		loop->sig_fd = -1;
		return -EIO;
	}
	return 0;
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
	/* OpenSSL's per-process set-up happens with the context; client TLS itself only on the vhosts
	 * that ask for it (gw_loop_tls_vhost_new). */
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	/* lws sizes its fd lookup table by this; the default (the process fd limit) can be huge. */
	info.fd_limit_per_thread = 1024;
	info.vhost_name = "twcgw";
	loop->ctx = lws_create_context(&info);
	if (!loop->ctx) {
		gw_log_error("loop: cannot create the lws context");
		goto fail;
	}
	info.options &= ~(uint64_t)LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
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

struct lws_vhost *gw_loop_tls_vhost_new(struct gw_loop *loop, const char *name, const char *ca_file)
{
	struct lws_context_creation_info info;
	struct lws_vhost *vh;

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.vhost_name = name;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	if (ca_file && ca_file[0]) {
		/* The operator's CA replaces the system store: pinning, not an addition. */
		info.options |= LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
		info.client_ssl_ca_filepath = ca_file;
	}
	info.ssl_client_options_set = SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1;
	vh = lws_create_vhost(loop->ctx, &info);
	if (!vh)
		gw_log_error("loop: cannot create the TLS client vhost %s", name);
	return vh;
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
