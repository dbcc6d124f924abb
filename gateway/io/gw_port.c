/*
 * gw_port: open, watch, write and reopen the transport of one TWC bus. Whatever the kind, the loop
 * sees one raw-file adoption: lws polls the descriptor and calls back; we do the reads and writes.
 * Ownership: lws closes what it adopts, so where another owner keeps the descriptor (libserialport's
 * handle, our tty fd, a handed-over fd) lws gets a dup() and each side closes its own copy; a TCP
 * socket we create is handed to lws outright. One lws_sul per port carries whatever the port is
 * waiting for: the reconnect backoff, the DNS poll (gw_dns) or the connect timeout.
 */
#include "gw_port.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "gw_clock.h"
#include "gw_url.h"
#include "gw_dns.h"
#include "gw_log.h"
#include "gw_loop.h"
#include "gw_rawfd.h"
#include "gw_timer.h"

#define BACKOFF_MIN_MS 1000u
#define BACKOFF_MAX_MS 30000u
#define CONNECT_TIMEOUT_US (5 * LWS_US_PER_SEC)
#define RX_CHUNK 512
#define BAUD 9600

enum port_state {
	ST_IDLE,       /* not started, or stopped */
	ST_WAIT,       /* the sul will make the next attempt */
	ST_RESOLVING,  /* getaddrinfo_a() in flight; the sul polls it */
	ST_CONNECTING, /* TCP connect in flight on an adopted socket; the sul is the timeout */
	ST_UP,
	ST_CLOSING,    /* was up; we asked lws to close it and wait for RAW_CLOSE_FILE */
	ST_DEAD,       /* a handed-over fd that went away: nothing to reopen */
};

struct gw_port {
	struct gw_loop *loop;
	struct gw_port_handlers h;
	char spec[GW_PORT_SPEC_MAX];
	bool is_tcp;
	bool is_fd;
	enum gw_port_kind kind;
	enum port_state state;
	bool stopped;

	struct gw_rawfd rf;     /* on the loop while rf.wsi */
	int own_fd;      /* tty or handed-over fd whose dup lws polls; -1 if none */
	int io_fd;       /* what we read and write; valid while the wsi lives */
	bool io_socket;  /* write with send(MSG_NOSIGNAL) */
	struct sp_port *sp;
	int given_fd;    /* GW_PORT_FD before adoption */

	lws_sorted_usec_list_t sul;
	lws_sorted_usec_list_t sul_gather; /* reading again after gw_port_rx_gather() */
	bool gathering;
	struct gw_backoff backoff;
	bool quiet;      /* a failure was logged; repeats go to debug until bytes arrive again */
	char reason[128];/* why the transport is failing, for the log line */
	char desc[GW_PORT_SPEC_MAX + 64]; /* what was opened, for the "up" log line */

	char host[GW_PORT_SPEC_MAX];
	int tcp_port;
	struct gw_dns *dns;
	struct addrinfo *ai_list;
	struct addrinfo *ai_next;
	char peer[INET6_ADDRSTRLEN + 8];

	uint8_t tx[GW_PORT_TX_BUF];
	size_t tx_len;
};

static void port_sul_cb(lws_sorted_usec_list_t *sul);

const char *gw_port_kind_name(enum gw_port_kind kind)
{
	switch (kind) {
	case GW_PORT_TCP:
		return "tcp";
	case GW_PORT_SERIAL:
		return "serial";
	case GW_PORT_TTY:
		return "tty";
	case GW_PORT_FD:
		return "fd";
	}
	return "?";
}

/* The reason the last attempt failed, for the log line that reports it. */
#define set_reason(o, ...) gw_log_fmt((o)->reason, sizeof((o)->reason), __VA_ARGS__)

static void sul_in(struct gw_port *port, lws_usec_t us)
{
	lws_sul_schedule(gw_loop_context(port->loop), 0, &port->sul, port_sul_cb, us);
}

/* Close what the port owns of the current transport (not the adopted descriptor: that is lws's). */
static void transport_drop(struct gw_port *port)
{
	if (port->sp) {
		sp_close(port->sp);
		sp_free_port(port->sp);
		port->sp = NULL;
	}
	if (port->own_fd >= 0) {
		close(port->own_fd);
		port->own_fd = -1;
	}
	port->io_fd = -1;
	port->io_socket = false;
	port->tx_len = 0;
}

static void addr_release(struct gw_port *port)
{
	if (port->ai_list)
		freeaddrinfo(port->ai_list);
	port->ai_list = NULL;
	port->ai_next = NULL;
}

/* ---- state changes ---- */

static void schedule_retry(struct gw_port *port)
{
	port->state = ST_WAIT;
	sul_in(port, (lws_usec_t)gw_backoff_next(&port->backoff, 0) * LWS_US_PER_MS);
}

/* An attempt failed: log the first failure at warn and repeats at debug, then back off. */
static void attempt_failed(struct gw_port *port, const char *what)
{
	if (port->is_fd) {
		gw_log_error("port %s: %s: %s", port->spec, what, port->reason);
		port->state = ST_DEAD;
		return;
	}
	gw_log(port->quiet ? GW_LOG_DEBUG : GW_LOG_WARN, "port %s: %s: %s; retrying in %u s%s", port->spec,
	       what, port->reason, gw_backoff_step(&port->backoff) / 1000u, port->quiet ? "" : " (further failures at debug level)");
	port->quiet = true;
	schedule_retry(port);
}

static void set_up(struct gw_port *port)
{
	port->state = ST_UP;
	port->tx_len = 0;
	port->reason[0] = '\0';
	/* Not "working" yet: a peer that accepts and hangs up at once must not make every retry a
	 * warning. Bytes received end the quiet (on_readable). */
	gw_log(port->quiet ? GW_LOG_DEBUG : GW_LOG_INFO, "port %s: %s", port->spec, port->desc);
	if (port->h.on_up)
		port->h.on_up(port->h.user);
}

/* Close from outside the wsi's own callback return path: lws closes it at its next turn and then
 * calls RAW_CLOSE_FILE. */
static void port_kill(struct gw_port *port)
{
	if (!port->rf.wsi)
		return;
	if (port->state == ST_UP)
		port->state = ST_CLOSING;
	gw_rawfd_close(&port->rf);
}

static const struct gw_rawfd_ops port_ops;

static int port_adopt(struct gw_port *port, int fd, bool dup)
{
	int rc = gw_rawfd_adopt(&port->rf, port->loop, fd, dup, &port_ops, port);

	if (rc == -EIO)
		set_reason(port, "the event loop refused the descriptor");
	else if (rc < 0)
		set_reason(port, "dup: %s", strerror(-rc));
	return rc;
}

static int adopt_dup(struct gw_port *port, int fd)
{
	return port_adopt(port, fd, true);
}

/* ---- devices ---- */

static int set_nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* Return -ENODEV if libserialport does not know the device, so the caller can try termios. */
static int open_serial(struct gw_port *port, const char *path)
{
	struct sp_port *sp;
	int fd, rc;

	if (sp_get_port_by_name(path, &sp) != SP_OK)
		return -ENODEV;
	if (sp_open(sp, SP_MODE_READ_WRITE) != SP_OK) {
		rc = sp_last_error_code();
		sp_free_port(sp);
		/* libserialport insists on modem-line ioctls some ttys lack (ptmx, some virtual ports):
		 * plain termios can still drive those. */
		if (rc == ENOTTY || rc == EINVAL)
			return -ENODEV;
		set_reason(port, "%s", strerror(rc ? rc : EIO));
		return rc ? -rc : -EIO;
	}
	if (sp_set_baudrate(sp, BAUD) != SP_OK || sp_set_bits(sp, 8) != SP_OK ||
	    sp_set_parity(sp, SP_PARITY_NONE) != SP_OK || sp_set_stopbits(sp, 1) != SP_OK ||
	    sp_set_flowcontrol(sp, SP_FLOWCONTROL_NONE) != SP_OK || sp_get_port_handle(sp, &fd) != SP_OK ||
	    set_nonblocking(fd) != 0) {
		rc = sp_last_error_code();
		set_reason(port, "configuring 9600 8N1: %s", strerror(rc ? rc : EIO));
		goto fail;
	}
	/* Stale bytes from before we opened would only confuse the frame receiver. */
	sp_flush(sp, SP_BUF_BOTH);
	rc = adopt_dup(port, fd);
	if (rc)
		goto fail;
	port->sp = sp;
	port->io_fd = fd;
	port->kind = GW_PORT_SERIAL;
	snprintf(port->desc, sizeof(port->desc), "opened %s as a serial port (libserialport, 9600 8N1)", path);
	return 0;
fail:
	sp_close(sp);
	sp_free_port(sp);
	return rc ? rc : -EIO;
}

static int open_tty(struct gw_port *port, const char *path)
{
	struct termios t;
	int fd, rc;

	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		set_reason(port, "%s", strerror(errno));
		return -errno;
	}
	if (!isatty(fd)) {
		rc = -ENOTTY;
		set_reason(port, "%s is not a terminal", path);
		goto fail;
	}
	if (tcgetattr(fd, &t) != 0)
		goto fail_errno;
	cfmakeraw(&t);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB | CRTSCTS);
	t.c_cflag |= CS8 | CLOCAL | CREAD;
	t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (cfsetispeed(&t, B9600) != 0 || cfsetospeed(&t, B9600) != 0 || tcsetattr(fd, TCSANOW, &t) != 0)
		goto fail_errno;
	tcflush(fd, TCIOFLUSH);
	rc = adopt_dup(port, fd);
	if (rc)
		goto fail;
	port->own_fd = fd;
	port->io_fd = fd;
	port->kind = GW_PORT_TTY;
	snprintf(port->desc, sizeof(port->desc), "opened %s as a tty (termios, 9600 8N1)", path);
	return 0;

fail_errno:
	rc = -errno;
	set_reason(port, "configuring the tty: %s", strerror(errno));
fail:
	close(fd);
	return rc;
}

static int open_device(struct gw_port *port)
{
	char *real;
	int rc = -ENODEV;

	/* Resolve symlinks (/dev/serial/by-id/..., a test's link to /dev/pts/N) so libserialport, which
	 * looks the device up in sysfs by its name, sees the real one. */
	real = realpath(port->spec, NULL);
	if (!real) {
		set_reason(port, "%s", strerror(errno));
		return -errno;
	}
	/* libserialport refuses ptys (no sysfs entry); do not even ask. */
	if (strncmp(real, "/dev/pts/", 9) != 0)
		rc = open_serial(port, real);
	if (rc == -ENODEV)
		rc = open_tty(port, real);
	free(real);
	if (rc == 0)
		set_up(port);
	return rc;
}

static int open_given_fd(struct gw_port *port)
{
	struct stat st;
	int rc;

	port->own_fd = port->given_fd;
	port->given_fd = -1;
	port->io_fd = port->own_fd;
	port->io_socket = fstat(port->own_fd, &st) == 0 && S_ISSOCK(st.st_mode);
	port->kind = GW_PORT_FD;
	rc = adopt_dup(port, port->own_fd);
	if (rc)
		return rc;
	snprintf(port->desc, sizeof(port->desc), "using an already open %s", port->io_socket ? "socket" : "descriptor");
	set_up(port);
	return 0;
}

/* ---- TCP ---- */

static void peer_format(struct gw_port *port, const struct addrinfo *ai)
{
	char addr[INET6_ADDRSTRLEN] = "?";
	const void *src = ai->ai_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)ai->ai_addr)->sin6_addr
						     : (const void *)&((const struct sockaddr_in *)ai->ai_addr)->sin_addr;

	inet_ntop(ai->ai_family, src, addr, sizeof(addr));
	snprintf(port->peer, sizeof(port->peer), ai->ai_family == AF_INET6 ? "[%s]:%d" : "%s:%d", addr,
		 port->tcp_port);
}

/* Start a non-blocking connect to the next address; completion shows up as writable. */
static int tcp_connect_next(struct gw_port *port)
{
	int one = 1;

	while (port->ai_next) {
		struct addrinfo *ai = port->ai_next;
		int fd;

		port->ai_next = ai->ai_next;
		peer_format(port, ai);
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			set_reason(port, "%s: socket: %s", port->peer, strerror(errno));
			continue;
		}
		/* Frames are tiny and time-critical: no Nagle delay. Keepalive notices a silently dead
		 * adapter on an idle link. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
			set_reason(port, "%s: %s", port->peer, strerror(errno));
			close(fd);
			continue;
		}
		if (port_adopt(port, fd, false) != 0)
			continue;
		port->io_fd = fd;
		port->io_socket = true;
		port->kind = GW_PORT_TCP;
		port->state = ST_CONNECTING;
		gw_rawfd_want_write(&port->rf);
		sul_in(port, CONNECT_TIMEOUT_US);
		return 0;
	}
	addr_release(port);
	return -ECONNREFUSED;
}

static void dns_poll(struct gw_port *port)
{
	int rc = gw_dns_result(port->dns, &port->ai_list);

	if (rc == EAI_INPROGRESS) {
		sul_in(port, GW_DNS_POLL_US);
		return;
	}
	gw_dns_release(port->dns, false);
	port->dns = NULL;
	if (rc != 0) {
		set_reason(port, "resolving %s: %s", port->host, gai_strerror(rc));
		attempt_failed(port, "cannot connect");
		return;
	}
	port->ai_next = port->ai_list;
	if (tcp_connect_next(port) != 0)
		attempt_failed(port, "cannot connect");
}

/* Numeric addresses are answered at once; names resolve on glibc's helper thread while the sul polls,
 * so a slow DNS server never stalls the bus. */
static int tcp_begin(struct gw_port *port)
{
	char service[8];
	int gai = 0;

	snprintf(service, sizeof(service), "%d", port->tcp_port);
	port->dns = gw_dns_start(port->host, service, &gai);
	if (!port->dns) {
		set_reason(port, "resolving %s: %s", port->host, gai_strerror(gai));
		return -EINVAL;
	}
	port->state = ST_RESOLVING;
	sul_in(port, 1);
	return 0;
}

/* Writable or readable while connecting: has the connect finished, and how? */
static int tcp_connect_check(struct gw_port *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int err = 0;
	socklen_t el = sizeof(err);

	if (getsockopt(port->io_fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
		err = errno;
	if (err) {
		set_reason(port, "%s: %s", port->peer, strerror(err));
		return -1;
	}
	if (getpeername(port->io_fd, (struct sockaddr *)&ss, &sl) != 0) {
		if (errno == ENOTCONN) {
			/* Spurious wakeup: still connecting. */
			gw_rawfd_want_write(&port->rf);
			return 0;
		}
		set_reason(port, "%s: %s", port->peer, strerror(errno));
		return -1;
	}
	lws_sul_cancel(&port->sul);
	addr_release(port);
	snprintf(port->desc, sizeof(port->desc), "connected to %s (tcp)", port->peer);
	set_up(port);
	return 0;
}

/* ---- the attempt, the timer ---- */

static void port_attempt(struct gw_port *port)
{
	int rc;

	port->reason[0] = '\0';
	if (port->is_fd)
		rc = open_given_fd(port);
	else if (port->is_tcp)
		rc = tcp_begin(port);
	else
		rc = open_device(port);
	if (rc < 0) {
		if (!port->reason[0])
			set_reason(port, "%s", strerror(-rc));
		attempt_failed(port, port->is_tcp ? "cannot connect" : "cannot open");
	}
}

static void port_sul_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_port *port = lws_container_of(sul, struct gw_port, sul);

	if (port->stopped)
		return;
	switch (port->state) {
	case ST_WAIT:
		port_attempt(port);
		break;
	case ST_RESOLVING:
		dns_poll(port);
		break;
	case ST_CONNECTING:
		set_reason(port, "%s: connect timed out", port->peer);
		port_kill(port);
		break;
	default:
		break;
	}
}

/* ---- lws callbacks ---- */

static ssize_t io_write(struct gw_port *port, const uint8_t *bytes, size_t len)
{
	ssize_t n;

	do {
		if (port->io_socket)
			n = send(port->io_fd, bytes, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		else
			n = write(port->io_fd, bytes, len);
	} while (n < 0 && errno == EINTR);
	return n;
}

static int on_rx(void *owner)
{
	struct gw_port *port = owner;
	uint8_t buf[RX_CHUNK];
	ssize_t n;

	if (port->state == ST_CONNECTING)
		return tcp_connect_check(port);
	if (port->state != ST_UP)
		return 0;
	n = read(port->io_fd, buf, sizeof(buf));
	if (n > 0) {
		/* Bytes prove the link works: the next loss starts the backoff from the bottom and is
		 * worth a warning again. */
		gw_backoff_reset(&port->backoff);
		port->quiet = false;
		port->h.on_rx(port->h.user, buf, (size_t)n);
		return 0;
	}
	if (n == 0) {
		set_reason(port, "end of file");
		return -1;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	set_reason(port, "read: %s", strerror(errno));
	return -1;
}

static int on_writeable(void *owner)
{
	struct gw_port *port = owner;
	ssize_t n;

	if (port->state == ST_CONNECTING)
		return tcp_connect_check(port);
	if (port->state != ST_UP || port->tx_len == 0)
		return 0;
	n = io_write(port, port->tx, port->tx_len);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			gw_rawfd_want_write(&port->rf);
			return 0;
		}
		set_reason(port, "write: %s", strerror(errno));
		return -1;
	}
	memmove(port->tx, port->tx + n, port->tx_len - (size_t)n);
	port->tx_len -= (size_t)n;
	if (port->tx_len)
		gw_rawfd_want_write(&port->rf);
	return 0;
}

static void on_close(void *owner)
{
	struct gw_port *port = owner;
	enum port_state prev = port->state;

	lws_sul_cancel(&port->sul);
	transport_drop(port);
	if (port->stopped) {
		port->state = ST_IDLE;
		return;
	}
	if (!port->reason[0])
		set_reason(port, "hang-up");
	switch (prev) {
	case ST_CONNECTING:
		if (port->ai_next) {
			gw_log_debug("port %s: %s; trying the next address", port->spec, port->reason);
			port->state = ST_WAIT;
			sul_in(port, 1);
		} else {
			addr_release(port);
			attempt_failed(port, "cannot connect");
		}
		break;
	case ST_UP:
	case ST_CLOSING:
		if (port->is_fd) {
			gw_log_warn("port %s: closed (%s)", port->spec, port->reason);
			port->state = ST_DEAD;
		} else {
			gw_log(port->quiet ? GW_LOG_DEBUG : GW_LOG_WARN,
			       "port %s: lost (%s); reopening in %u s, then backing off up to %u s", port->spec,
			       port->reason, gw_backoff_step(&port->backoff) / 1000u, BACKOFF_MAX_MS / 1000u);
			port->quiet = true;
			schedule_retry(port);
		}
		if (port->h.on_down)
			port->h.on_down(port->h.user);
		break;
	default:
		port->state = ST_IDLE;
		break;
	}
}

static const struct gw_rawfd_ops port_ops = {
	.on_rx = on_rx,
	.on_writeable = on_writeable,
	.on_close = on_close,
};

/* ---- public API ---- */

static struct gw_port *port_alloc(struct gw_loop *loop, const char *name, const struct gw_port_handlers *h)
{
	struct gw_port *port;

	if (strlen(name) >= GW_PORT_SPEC_MAX)
		return NULL;
	port = calloc(1, sizeof(*port));
	if (!port)
		return NULL;
	port->loop = loop;
	port->h = *h;
	snprintf(port->spec, sizeof(port->spec), "%s", name);
	port->own_fd = -1;
	port->io_fd = -1;
	port->given_fd = -1;
	gw_backoff_init(&port->backoff, BACKOFF_MIN_MS, BACKOFF_MAX_MS, false);
	return port;
}

struct gw_port *gw_port_new(struct gw_loop *loop, const char *spec, const struct gw_port_handlers *h)
{
	struct gw_port *port = port_alloc(loop, spec, h);

	if (!port)
		return NULL;
	if (strncmp(spec, "tcp://", 6) == 0) {
		port->is_tcp = true;
		port->kind = GW_PORT_TCP;
		if (gw_url_tcp_split(spec, port->host, sizeof(port->host), &port->tcp_port) != 0) {
			free(port);
			return NULL;
		}
	} else {
		port->kind = GW_PORT_TTY;
	}
	return port;
}

struct gw_port *gw_port_new_fd(struct gw_loop *loop, int fd, const char *name, const struct gw_port_handlers *h)
{
	struct gw_port *port = port_alloc(loop, name, h);

	if (!port) {
		close(fd);
		return NULL;
	}
	port->is_fd = true;
	port->kind = GW_PORT_FD;
	port->given_fd = fd;
	return port;
}

int gw_port_start(struct gw_port *port)
{
	if (port->state != ST_IDLE || port->stopped)
		return -EALREADY;
	port->state = ST_WAIT;
	sul_in(port, 1);
	return 0;
}

int gw_port_write(struct gw_port *port, const uint8_t *bytes, size_t len)
{
	ssize_t n;

	if (port->state != ST_UP)
		return -ENOTCONN;
	if (len > sizeof(port->tx))
		return -EMSGSIZE;
	if (port->tx_len) {
		/* Keep the order: behind what is already queued. */
		if (port->tx_len + len > sizeof(port->tx))
			return -ENOBUFS;
		memcpy(port->tx + port->tx_len, bytes, len);
		port->tx_len += len;
		return 0;
	}
	n = io_write(port, bytes, len);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			int rc = -errno;

			set_reason(port, "write: %s", strerror(errno));
			port_kill(port);
			return rc;
		}
		n = 0;
	}
	if ((size_t)n < len) {
		memcpy(port->tx, bytes + n, len - (size_t)n);
		port->tx_len = len - (size_t)n;
		gw_rawfd_want_write(&port->rf);
	}
	return 0;
}

bool gw_port_is_up(const struct gw_port *port)
{
	return port->state == ST_UP;
}

const char *gw_port_name(const struct gw_port *port)
{
	return port->spec;
}

enum gw_port_kind gw_port_kind(const struct gw_port *port)
{
	return port->kind;
}

static void gather_cb(lws_sorted_usec_list_t *sul)
{
	struct gw_port *port = lws_container_of(sul, struct gw_port, sul_gather);

	port->gathering = false;
	/* A wsi adopted since (a reconnect) reads already; enabling it again does nothing. */
	if (!port->stopped && port->rf.wsi)
		gw_rawfd_rx_enable(&port->rf, true);
}

void gw_port_rx_gather(struct gw_port *port, unsigned ms)
{
	if (!port || port->stopped || port->state != ST_UP || !port->rf.wsi || port->gathering || !ms)
		return;
	port->gathering = true;
	gw_rawfd_rx_enable(&port->rf, false);
	gw_timer_in(port->loop, NULL, &port->sul_gather, gather_cb, ms);
}

void gw_port_stop(struct gw_port *port)
{
	if (!port)
		return;
	port->stopped = true;
	lws_sul_cancel(&port->sul);
	lws_sul_cancel(&port->sul_gather);
	addr_release(port);
}

void gw_port_free(struct gw_port *port)
{
	if (!port)
		return;
	gw_port_stop(port);
	/* The context still runs: detach so the close callback cannot reach freed memory, and let
	 * lws close its descriptor at its next turn. */
	gw_rawfd_detach(&port->rf);
	transport_drop(port);
	if (port->given_fd >= 0)
		close(port->given_fd);
	gw_dns_release(port->dns, true);
	free(port);
}
