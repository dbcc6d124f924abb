/*
 * gw_loop: create the lws context with the protocols the transports registered, adopt a signalfd so
 * signals are ordinary loop events (no async-signal-safety questions, no global flags), and run
 * lws_service() until told to stop. lws 4.1.6 has no external-poll support, so lws must own the loop and everything else
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
};

/* The protocols the transports registered, and lws 4.1.6's all-zero terminator. */
static struct lws_protocols protocols[GW_LOOP_PROTOCOLS_MAX + 1];
static int n_protocols;

void gw_loop_register_protocol(const struct lws_protocols *p)
{
	for (int i = 0; i < n_protocols; i++)
		if (protocols[i].callback == p->callback)
			return;
	if (n_protocols < GW_LOOP_PROTOCOLS_MAX)
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
