/*
 * gw_port: the byte transport of one TWC bus, adopted into the gateway's lws loop as a raw file
 * (protocol "twc-port"). The port string picks the kind:
 *   tcp://host:port  an RS-485-to-TCP adapter or the simulator: non-blocking connect, DNS that never
 *                    blocks the loop (getaddrinfo_a polled from a timer), TCP_NODELAY, SO_KEEPALIVE;
 *   /dev/...         a serial port through libserialport, 9600 8N1, no flow control; a tty or pty
 *                    that libserialport refuses (it refuses /dev/pts/N) is opened with termios.
 * gw_port_new_fd() wraps an already-open descriptor (the demo's socketpair). A port that goes down
 * (read error, EOF, hang-up) is closed, logged once and reopened with backoff from 1 s doubling to
 * 30 s, except the fd kind, which cannot be reopened. Writes go out directly; what a non-blocking
 * write cannot take waits in a 1 KiB buffer for the loop's writable callback.
 *
 * Call only from the loop's thread. Callbacks run from the loop and may call gw_port_write().
 */
#ifndef GW_PORT_H
#define GW_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#define GW_PORT_TX_BUF 1024
#define GW_PORT_SPEC_MAX 256

struct gw_loop;
struct gw_port;

enum gw_port_kind {
	GW_PORT_TCP,    /* tcp://host:port */
	GW_PORT_SERIAL, /* opened by libserialport */
	GW_PORT_TTY,    /* opened with open() + termios (ptys and other ttys libserialport refuses) */
	GW_PORT_FD,     /* handed over already open */
};

struct gw_port_handlers {
	void *user;
	/* Bytes read (borrowed for the call). */
	void (*on_rx)(void *user, const uint8_t *bytes, size_t len);
	/* The transport is open / connected; writes now work. */
	void (*on_up)(void *user);
	/* The transport went down; a reconnect is scheduled unless the kind is GW_PORT_FD. Optional. */
	void (*on_down)(void *user);
};

/**
 * gw_port_new() - a port for a config string ("tcp://host:port" or a device path, symlinks allowed).
 * @loop: the gateway loop (borrowed; must outlive the port's use of it).
 * @spec: port string (copied).
 * @h:    handlers (copied).
 * Nothing is opened until gw_port_start(). Return: the port, or NULL (-ENOMEM, or a malformed @spec).
 */
struct gw_port *gw_port_new(struct gw_loop *loop, const char *spec, const struct gw_port_handlers *h);

/**
 * gw_port_new_fd() - a port over a descriptor that is already open (a socketpair end, a pipe).
 * @fd:   taken over: the port closes it, whatever happens.
 * @name: for logs (copied).
 */
struct gw_port *gw_port_new_fd(struct gw_loop *loop, int fd, const char *name, const struct gw_port_handlers *h);

/* Start opening from the loop (the first attempt runs at the next loop turn). Return 0. */
int gw_port_start(struct gw_port *port);

/**
 * gw_port_write() - send bytes to the bus.
 * Return: 0 once the bytes are written or queued, -ENOTCONN while the port is down, -ENOBUFS if
 * the 1 KiB queue is full, -EMSGSIZE for more than that at once, or the -errno of a failed write
 * (the port then closes and reconnects).
 */
int gw_port_write(struct gw_port *port, const uint8_t *bytes, size_t len);

/*
 * gw_port_rx_gather() - read nothing for @ms (real time), then read what came meanwhile in one go.
 * For a frame that is coming in: an adapter that hands over each byte as it comes off a 9600 bps
 * wire (an FTDI one with a 1 ms latency timer) would otherwise cost one wake-up per byte. Nothing
 * is lost: the bytes wait in the kernel. A no-op while the port is down or already gathering.
 */
void gw_port_rx_gather(struct gw_port *port, unsigned ms);

bool gw_port_is_up(const struct gw_port *port);
/* The string the port was made from (or the fd port's name). */
const char *gw_port_name(const struct gw_port *port);
/* The kind of the transport now open (or last tried). */
enum gw_port_kind gw_port_kind(const struct gw_port *port);
const char *gw_port_kind_name(enum gw_port_kind kind);

/* Cancel timers and pending work; no handler is called after this. The adopted descriptor is left
 * for lws_context_destroy() or gw_port_free() to close. */
void gw_port_stop(struct gw_port *port);

/* Stop, close everything the port owns and free it. Works before or after the lws context is
 * destroyed. NULL is a no-op. */
void gw_port_free(struct gw_port *port);

#endif
