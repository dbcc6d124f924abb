/*
 * twc-sim: puts the twc_sim slaves on a pseudo-terminal or a loopback TCP port so a real master (the
 * gateway) can drive them, and takes line commands on a unix socket so a test can plug cars, inject
 * faults and read the figures back as JSON. A test tool: one plain poll() loop on CLOCK_MONOTONIC,
 * no libwebsockets, woken at the core's next deadline (the slaves' bytes go out one by one at their
 * 9600 bps wire times, replies a latency after each request). With --adapter-ms the bytes reach the
 * master the way a USB adapter hands them over (a chunk when its latency timer runs out or its
 * buffer fills) instead of one by one. Prints one "ready ..." line on stdout once it is listening.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <jansson.h>

#include "twc_sim.h"

#define CTL_MAX_CLIENTS 8
#define CTL_LINE_MAX 512
#define PORT_READ_MAX 512
#define TICK_MAX_MS 1000

struct ctl_client {
	int fd;
	char buf[CTL_LINE_MAX + 1];
	size_t len;
	const char *discard_why; /* the current line is bad (too long, NUL): drop it up to its newline */
};

#define ADAPTER_CHUNK 62 /* an FTDI adapter's USB packet: 64 bytes less 2 of status */

struct app {
	struct twc_sim *sim;
	bool verbose;
	int car_amps;
	uint64_t start_ms;

	/* pty mode */
	int pty_fd;       /* master side: what we read and write */
	int pty_slave_fd; /* held open so the master side never sees EIO/HUP between gateway opens */
	uint64_t pty_last_write_ms;
	/* A USB adapter between the bus and the master: bytes wait until ADAPTER_CHUNK of them are
	 * in or adapter_ms after the first (0: each byte as it comes off the wire, a bare UART). */
	int adapter_ms;
	uint8_t abuf[ADAPTER_CHUNK];
	size_t alen;
	uint64_t afirst_ms;
	char link[PATH_MAX];
	bool link_made;

	/* tcp mode */
	int listen_fd;
	int client_fd;
	bool client_broken;

	/* control socket */
	int ctl_fd;
	char ctl_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool ctl_made;
	struct ctl_client ctl[CTL_MAX_CLIENTS];

	bool quit;
};

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

__attribute__((format(printf, 1, 2))) static void die_msg(const char *fmt, ...)
{
	va_list ap;

	fputs("twc-sim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void sim_log_line(void *user, const char *line)
{
	struct app *a = user;
	uint64_t t = mono_ms() - a->start_ms;

	if (a->verbose)
		fprintf(stderr, "[%6llu.%03llu] %s\n", (unsigned long long)(t / 1000), (unsigned long long)(t % 1000),
			line);
}

/* Our own slave-side fd keeps the pty alive, but it also keeps bytes queued while no master has the
 * port open, and a master opening it later would read them as if they were new. A master that is
 * there reads within milliseconds; bytes still unread a second after they were written have nobody
 * to hear them, and are dropped as they would be on a real line. */
static void pty_drop_stale(struct app *a)
{
	uint64_t now = mono_ms();
	int queued = 0;

	if (now - a->pty_last_write_ms > 1000 && ioctl(a->pty_slave_fd, TIOCINQ, &queued) == 0 && queued > 0)
		tcflush(a->pty_slave_fd, TCIFLUSH);
	a->pty_last_write_ms = now;
}

/* The bus: bytes go to whoever is listening, and are lost (as on a real line) when nobody is. */
static int bus_write_now(struct app *a, const uint8_t *bytes, size_t len)
{
	ssize_t n;

	if (a->pty_fd >= 0) {
		pty_drop_stale(a);
		n = write(a->pty_fd, bytes, len);
	} else if (a->client_fd >= 0 && !a->client_broken) {
		n = send(a->client_fd, bytes, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			a->client_broken = true;
	} else {
		return 0;
	}
	if (n < 0)
		return -errno;
	if ((size_t)n < len && a->verbose)
		fprintf(stderr, "twc-sim: bus write short (%zd of %zu), rest dropped\n", n, len);
	return 0;
}

static int adapter_flush(struct app *a)
{
	int rc = a->alen ? bus_write_now(a, a->abuf, a->alen) : 0;

	a->alen = 0;
	return rc;
}

static int sim_write_bus(void *user, const uint8_t *bytes, size_t len)
{
	struct app *a = user;
	int rc = 0;

	if (a->adapter_ms <= 0)
		return bus_write_now(a, bytes, len);
	while (len > 0) {
		size_t take = len < ADAPTER_CHUNK - a->alen ? len : ADAPTER_CHUNK - a->alen;

		if (!a->alen)
			a->afirst_ms = mono_ms();
		memcpy(a->abuf + a->alen, bytes, take);
		a->alen += take;
		bytes += take;
		len -= take;
		if (a->alen == ADAPTER_CHUNK)
			rc = adapter_flush(a);
	}
	return rc;
}

/* Whole-string integer with bounds; no atoi, no silent garbage. */
static int parse_long(const char *text, int base, long min, long max, long *out)
{
	char *end;
	long v;

	if (!text || !*text)
		return -EINVAL;
	errno = 0;
	v = strtol(text, &end, base);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static int pty_open(struct app *a, const char *link)
{
	char name[PATH_MAX];
	struct termios t;
	struct stat st;
	int m, s;

	if (snprintf(a->link, sizeof(a->link), "%s", link) >= (int)sizeof(a->link))
		return -ENAMETOOLONG;
	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return -errno;
	if (grantpt(m) < 0 || unlockpt(m) < 0 || ptsname_r(m, name, sizeof(name)) != 0)
		goto fail_master;
	s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0)
		goto fail_master;
	/* Raw 9600 8N1 as on the real bus; above all no echo and no line editing of binary frames. */
	if (tcgetattr(s, &t) < 0)
		goto fail_slave;
	cfmakeraw(&t);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB | CRTSCTS);
	t.c_cflag |= CS8 | CLOCAL | CREAD;
	cfsetispeed(&t, B9600);
	cfsetospeed(&t, B9600);
	if (tcsetattr(s, TCSANOW, &t) < 0 || set_nonblock(m) < 0)
		goto fail_slave;
	/* Replace a link left by an earlier run, never a real file or device. */
	if (lstat(link, &st) == 0) {
		if (!S_ISLNK(st.st_mode)) {
			errno = EEXIST;
			goto fail_slave;
		}
		if (unlink(link) < 0)
			goto fail_slave;
	}
	if (symlink(name, link) < 0)
		goto fail_slave;
	a->pty_fd = m;
	a->pty_slave_fd = s;
	a->link_made = true;
	return 0;

fail_slave: {
	int e = -errno;

	close(s);
	close(m);
	return e;
}
fail_master: {
	int e = -errno;

	close(m);
	return e;
}
}

static int tcp_listen(struct app *a, long port, uint16_t *bound)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	*bound = ntohs(sin.sin_port);
	a->listen_fd = fd;
	return 0;
}

static int ctl_listen(struct app *a, const char *path)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path) >= (int)sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	/* A socket left behind by a killed run is ours to replace; anything else is not. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, CTL_MAX_CLIENTS) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	snprintf(a->ctl_path, sizeof(a->ctl_path), "%s", path);
	a->ctl_fd = fd;
	a->ctl_made = true;
	return 0;
}

static void ctl_close(struct ctl_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = 0;
	c->discard_why = NULL;
}

/* One JSON document per line. A client that does not read its replies is dropped, not waited for. */
static void ctl_send_json(struct ctl_client *c, json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
	size_t len;
	ssize_t n;

	json_decref(j);
	if (!text) {
		ctl_close(c);
		return;
	}
	len = strlen(text);
	text[len] = '\n'; /* the terminating NUL becomes the line end */
	n = send(c->fd, text, len + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	free(text);
	if (n < 0 || (size_t)n != len + 1)
		ctl_close(c);
}

static void ctl_reply_ok(struct ctl_client *c)
{
	ctl_send_json(c, json_pack("{s:b}", "ok", 1));
}

static void ctl_reply_error(struct ctl_client *c, const char *why)
{
	ctl_send_json(c, json_pack("{s:b, s:s}", "ok", 0, "error", why));
}

static double round2(double v)
{
	return (double)(long long)(v * 100 + (v < 0 ? -0.5 : 0.5)) / 100;
}

static json_t *status_json(const struct app *a, uint64_t now)
{
	struct twc_sim_stats st;
	json_t *slaves = json_array();
	int n = twc_sim_slave_count(a->sim);

	if (!slaves)
		return NULL;
	for (int i = 0; i < n; i++) {
		struct twc_sim_slave_status s;
		char id[5], mid[5];
		json_t *o;

		if (twc_sim_slave_status(a->sim, i, &s) < 0)
			continue;
		snprintf(id, sizeof(id), "%04X", (unsigned)s.id);
		snprintf(mid, sizeof(mid), "%04X", (unsigned)s.master_id);
		o = json_pack("{s:i, s:s, s:i, s:i, s:b, s:b, s:b, s:s, s:i, s:i, s:i, s:f, s:f, s:I, s:I, s:s, "
			      "s:b, s:b, s:i, s:I, s:i}",
			      "index", i, "id", id, "protocol", (int)s.protocol, "state", (int)s.state_code,
			      "plugged", (int)s.plugged, "charging", (int)s.charging, "heardMaster",
			      (int)s.heard_master, "masterId", mid, "toldAmps", s.told_amps, "inForceAmps",
			      s.in_force_amps, "heldAmps", s.held_amps, "drawnAmps", round2(s.drawn_amps),
			      "energyWh", round2(s.energy_wh), "heartbeats", (json_int_t)s.heartbeats, "maxGapMs",
			      (json_int_t)s.max_gap_ms, "vin", s.vin, "muted", (int)s.muted, "deaf", (int)s.deaf,
			      "delayMs", s.delay_ms, "garbled", (json_int_t)s.garbled, "burstLeft", s.burst_left);
		if (!o || json_array_append_new(slaves, o) < 0) {
			json_decref(slaves);
			return NULL;
		}
	}
	twc_sim_stats(a->sim, &st);
	return json_pack("{s:b, s:I, s:o, s:{s:I, s:I, s:I, s:I, s:I, s:i, s:i, s:i, s:i, s:f, s:f, s:I, s:I, s:I}}",
			 "ok", 1,
			 "nowMs", (json_int_t)now, "slaves", slaves, "stats", "rxFrames", (json_int_t)st.rx_frames,
			 "rxBad", (json_int_t)st.rx_bad, "linkready1", (json_int_t)st.linkready1, "linkready2",
			 (json_int_t)st.linkready2, "forbidden", (json_int_t)st.forbidden, "maxInForceTotal",
			 st.max_in_force_total, "inForceTotal", st.in_force_total, "heldTotal", st.held_total,
			 "maxHeldTotal", st.max_held_total, "drawnTotal", round2(st.drawn_total), "maxDrawnTotal",
			 round2(st.max_drawn_total), "collisions", (json_int_t)st.collisions, "masterLost",
			 (json_int_t)st.master_lost, "slaveGarbled", (json_int_t)st.slave_garbled);
}

static int parse_onoff(const char *w)
{
	if (w && strcmp(w, "on") == 0)
		return 1;
	if (w && strcmp(w, "off") == 0)
		return 0;
	return -1;
}

/* "N" or "all" (-1); -2 when neither. */
static int parse_slave(const struct app *a, const char *w, bool allow_all)
{
	long v;

	if (allow_all && w && strcmp(w, "all") == 0)
		return -1;
	if (parse_long(w, 10, 0, twc_sim_slave_count(a->sim) - 1, &v) < 0)
		return -2;
	return (int)v;
}

#define FAULT_USAGE                                                                                        \
	"usage: fault echo|noise on|off, fault badcrc|mute|silent|deaf N|all on|off, fault drop N|all SECONDS, " \
	"fault delay N|all MS"

/* The per-slave on/off faults by control word; "silent" is the older name of "mute". */
static bool fault_by_name(const char *w, enum twc_sim_fault *f)
{
	static const struct {
		const char *name;
		enum twc_sim_fault f;
	} map[] = {
		{"badcrc", TWC_SIM_FAULT_BAD_CHECKSUM},
		{"mute", TWC_SIM_FAULT_MUTE},
		{"silent", TWC_SIM_FAULT_SILENT},
		{"deaf", TWC_SIM_FAULT_DEAF},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(w, map[i].name) == 0) {
			*f = map[i].f;
			return true;
		}
	}
	return false;
}

static void ctl_fault(struct app *a, struct ctl_client *c, char **w, int n)
{
	int slave = -1, value;
	enum twc_sim_fault f;

	if (n == 3 && strcmp(w[1], "echo") == 0) {
		f = TWC_SIM_FAULT_ECHO;
		value = parse_onoff(w[2]);
	} else if (n == 3 && strcmp(w[1], "noise") == 0) {
		f = TWC_SIM_FAULT_NOISE;
		value = parse_onoff(w[2]);
	} else if (n == 4 && fault_by_name(w[1], &f)) {
		slave = parse_slave(a, w[2], true);
		value = parse_onoff(w[3]);
	} else if (n == 4 && strcmp(w[1], "drop") == 0) {
		long secs = 0;

		f = TWC_SIM_FAULT_DROP;
		slave = parse_slave(a, w[2], true);
		if (slave != -2 && parse_long(w[3], 10, 0, 3600, &secs) < 0) {
			ctl_reply_error(c, "expected SECONDS 0..3600");
			return;
		}
		value = (int)secs;
	} else if (n == 4 && strcmp(w[1], "delay") == 0) {
		long ms = 0;

		f = TWC_SIM_FAULT_DELAY;
		slave = parse_slave(a, w[2], true);
		if (slave != -2 && parse_long(w[3], 10, 0, TWC_SIM_LATENCY_LIMIT_MS, &ms) < 0) {
			ctl_reply_error(c, "expected MS 0..10000");
			return;
		}
		value = (int)ms;
	} else {
		ctl_reply_error(c, FAULT_USAGE);
		return;
	}
	if (slave == -2) {
		ctl_reply_error(c, "bad slave index");
		return;
	}
	if (value < 0) {
		ctl_reply_error(c, "expected on or off");
		return;
	}
	if (twc_sim_fault(a->sim, slave, f, value) < 0)
		ctl_reply_error(c, "fault refused");
	else
		ctl_reply_ok(c);
}

static void ctl_plug(struct app *a, struct ctl_client *c, char **w, int n, uint64_t now)
{
	int slave = n >= 2 ? parse_slave(a, w[1], false) : -2;
	long amps = a->car_amps;

	if (n < 2 || n > 4 || slave < 0) {
		ctl_reply_error(c, "usage: plug N [AMPS [VIN]]");
		return;
	}
	if (n >= 3 && parse_long(w[2], 10, 1, 655, &amps) < 0) {
		ctl_reply_error(c, "bad amps");
		return;
	}
	if (twc_sim_plug(a->sim, slave, (int)amps, n == 4 ? w[3] : NULL, now) < 0)
		ctl_reply_error(c, "bad VIN");
	else
		ctl_reply_ok(c);
}

/* Split @line in place on blanks; at most @max words. Return the count, or -1 if there were more. */
static int split_words(char *line, char **w, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p)
			return n;
		if (n == max)
			return -1;
		w[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		if (*p)
			*p++ = '\0';
	}
}

static void ctl_command(struct app *a, struct ctl_client *c, char *line)
{
	char *w[6];
	int n = split_words(line, w, 6);
	uint64_t now = mono_ms();

	if (n == 0)
		return; /* blank lines get no reply */
	twc_sim_tick(a->sim, now);
	if (n < 0) {
		ctl_reply_error(c, "too many words");
	} else if (strcmp(w[0], "status") == 0 && n == 1) {
		json_t *j = status_json(a, now);

		if (j)
			ctl_send_json(c, j);
		else
			ctl_reply_error(c, "out of memory");
	} else if (strcmp(w[0], "plug") == 0) {
		ctl_plug(a, c, w, n, now);
	} else if (strcmp(w[0], "unplug") == 0) {
		int slave = n == 2 ? parse_slave(a, w[1], false) : -2;

		if (slave < 0 || twc_sim_unplug(a->sim, slave, now) < 0)
			ctl_reply_error(c, "usage: unplug N");
		else
			ctl_reply_ok(c);
	} else if (strcmp(w[0], "fault") == 0) {
		ctl_fault(a, c, w, n);
	} else if (strcmp(w[0], "reset-stats") == 0 && n == 1) {
		twc_sim_reset_stats(a->sim, now);
		ctl_reply_ok(c);
	} else if (strcmp(w[0], "quit") == 0 && n == 1) {
		ctl_reply_ok(c);
		a->quit = true;
	} else {
		ctl_reply_error(c, "unknown command");
	}
}

static void ctl_read(struct app *a, struct ctl_client *c)
{
	char tmp[CTL_LINE_MAX];
	ssize_t n = read(c->fd, tmp, sizeof(tmp));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		ctl_close(c);
		return;
	}
	for (ssize_t i = 0; i < n && c->fd >= 0; i++) {
		char ch = tmp[i];

		if (ch == '\n') {
			if (c->discard_why) {
				const char *why = c->discard_why;

				c->discard_why = NULL;
				ctl_reply_error(c, why);
			} else {
				c->buf[c->len] = '\0';
				ctl_command(a, c, c->buf);
			}
			c->len = 0;
		} else if (c->discard_why) {
			continue;
		} else if (c->len == CTL_LINE_MAX) {
			c->discard_why = "line too long";
		} else if (ch == '\0') {
			c->discard_why = "NUL in line"; /* it would cut the command short silently */
		} else {
			c->buf[c->len++] = ch;
		}
	}
}

static void ctl_accept(struct app *a)
{
	int fd = accept4(a->ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		if (a->ctl[i].fd < 0) {
			a->ctl[i].fd = fd;
			a->ctl[i].len = 0;
			a->ctl[i].discard_why = NULL;
			return;
		}
	}
	close(fd); /* full */
}

static void tcp_accept(struct app *a)
{
	int one = 1;
	int fd = accept4(a->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	/* Frames are small and timing matters more than throughput. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	a->client_fd = fd;
	a->client_broken = false;
	sim_log_line(a, "bus client connected");
}

static void tcp_drop(struct app *a)
{
	close(a->client_fd);
	a->client_fd = -1;
	a->client_broken = false;
	sim_log_line(a, "bus client gone");
}

static void bus_read(struct app *a, int fd)
{
	uint8_t buf[PORT_READ_MAX];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n > 0) {
		twc_sim_input(a->sim, buf, (size_t)n, mono_ms());
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (fd == a->client_fd)
		a->client_broken = true;
}

static void usage(FILE *f)
{
	fputs("usage: twc-sim (--pty LINK | --tcp PORT) [options]\n"
	      "  --pty LINK        pseudo-terminal, LINK becomes a symlink to its /dev/pts/N\n"
	      "  --tcp PORT        listen on 127.0.0.1:PORT (0: any free port), one client at a time\n"
	      "  --control PATH    unix socket for line commands, one JSON reply each:\n"
	      "                      status | plug N [AMPS [VIN]] | unplug N | reset-stats | quit\n"
	      "                      fault echo|noise on|off\n"
	      "                      fault badcrc|mute|deaf N|all on|off   (silent = mute)\n"
	      "                      fault drop N|all SECONDS   deaf for SECONDS (0..3600, 0 ends it)\n"
	      "                      fault delay N|all MS       replies MS after the request (0: default)\n"
	      "  --slaves N        1-3 (3)\n"
	      "  --protocol 1|2    (2)\n"
	      "  --fw453 | --no-fw453  answer firmware 4.5.3 queries (on)\n"
	      "  --rated A         rated amps advertised in linkready (32)\n"
	      "  --ids H,H,H       slave IDs in hex (random)\n"
	      "  --seed N          PRNG seed (from the clock)\n"
	      "  --voltage V       (230)   --phases P  (1)\n"
	      "  --plug LIST       slaves with a car at start, e.g. 0,2\n"
	      "  --car-amps A      car maximum (32)\n"
	      "  --latency MIN,MAX reply latency range in ms (5,40)\n"
	      "  --adapter-ms MS   hand bytes over as a USB adapter does: a chunk once MS ms passed\n"
	      "                    since its first byte or 62 bytes are in (FTDI: 16); 0 = byte by byte (0)\n"
	      "  -v                log to stderr   -h  this help\n",
	      f);
}

/* "a,b,c" -> values with @base within [min, max]; return the count or -EINVAL. */
static int parse_list(const char *text, int base, long min, long max, long *out, int cap)
{
	char item[16];
	int n = 0;
	const char *p = text;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (n == cap || len == 0 || len >= sizeof(item))
			return -EINVAL;
		memcpy(item, p, len);
		item[len] = '\0';
		if (parse_long(item, base, min, max, &out[n++]) < 0)
			return -EINVAL;
		if (!comma)
			return n;
		p = comma + 1;
	}
}

static void app_cleanup(struct app *a)
{
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		ctl_close(&a->ctl[i]);
	if (a->ctl_fd >= 0)
		close(a->ctl_fd);
	if (a->ctl_made)
		unlink(a->ctl_path);
	if (a->link_made) {
		struct stat st;

		if (lstat(a->link, &st) == 0 && S_ISLNK(st.st_mode))
			unlink(a->link);
	}
	if (a->pty_fd >= 0)
		close(a->pty_fd);
	if (a->pty_slave_fd >= 0)
		close(a->pty_slave_fd);
	if (a->client_fd >= 0)
		close(a->client_fd);
	if (a->listen_fd >= 0)
		close(a->listen_fd);
	twc_sim_free(a->sim);
}

enum {
	OPT_PTY = 256,
	OPT_TCP,
	OPT_CONTROL,
	OPT_SLAVES,
	OPT_PROTOCOL,
	OPT_FW453,
	OPT_NO_FW453,
	OPT_RATED,
	OPT_IDS,
	OPT_SEED,
	OPT_VOLTAGE,
	OPT_PHASES,
	OPT_PLUG,
	OPT_CAR_AMPS,
	OPT_LATENCY,
	OPT_ADAPTER_MS,
};

struct options {
	const char *pty;
	long tcp_port;
	const char *control;
	long slaves, protocol, rated, voltage, phases, car_amps;
	bool fw453;
	bool verbose;
	long ids[TWC_SIM_MAX_SLAVES];
	int nids;
	bool have_seed;
	long seed;
	long plug[TWC_SIM_MAX_SLAVES];
	int nplug;
	long latency[2]; /* {0, 0}: the core's default */
	long adapter_ms;
};

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"pty", required_argument, NULL, OPT_PTY},
		{"tcp", required_argument, NULL, OPT_TCP},
		{"control", required_argument, NULL, OPT_CONTROL},
		{"slaves", required_argument, NULL, OPT_SLAVES},
		{"protocol", required_argument, NULL, OPT_PROTOCOL},
		{"fw453", no_argument, NULL, OPT_FW453},
		{"no-fw453", no_argument, NULL, OPT_NO_FW453},
		{"rated", required_argument, NULL, OPT_RATED},
		{"ids", required_argument, NULL, OPT_IDS},
		{"seed", required_argument, NULL, OPT_SEED},
		{"voltage", required_argument, NULL, OPT_VOLTAGE},
		{"phases", required_argument, NULL, OPT_PHASES},
		{"plug", required_argument, NULL, OPT_PLUG},
		{"car-amps", required_argument, NULL, OPT_CAR_AMPS},
		{"latency", required_argument, NULL, OPT_LATENCY},
		{"adapter-ms", required_argument, NULL, OPT_ADAPTER_MS},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *plug_text = NULL;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PTY:
			o->pty = optarg;
			break;
		case OPT_TCP:
			rc = parse_long(optarg, 10, 0, 65535, &o->tcp_port);
			break;
		case OPT_CONTROL:
			o->control = optarg;
			break;
		case OPT_SLAVES:
			rc = parse_long(optarg, 10, 1, TWC_SIM_MAX_SLAVES, &o->slaves);
			break;
		case OPT_PROTOCOL:
			rc = parse_long(optarg, 10, 1, 2, &o->protocol);
			break;
		case OPT_FW453:
			o->fw453 = true;
			break;
		case OPT_NO_FW453:
			o->fw453 = false;
			break;
		case OPT_RATED:
			rc = parse_long(optarg, 10, 1, 655, &o->rated);
			break;
		case OPT_IDS:
			rc = o->nids = parse_list(optarg, 16, 1, 0xFFFF, o->ids, TWC_SIM_MAX_SLAVES);
			break;
		case OPT_SEED:
			rc = parse_long(optarg, 0, 0, 0x7FFFFFFFL, &o->seed);
			o->have_seed = true;
			break;
		case OPT_VOLTAGE:
			rc = parse_long(optarg, 10, 1, 1000, &o->voltage);
			break;
		case OPT_PHASES:
			rc = parse_long(optarg, 10, 1, 3, &o->phases);
			break;
		case OPT_PLUG:
			plug_text = optarg;
			break;
		case OPT_CAR_AMPS:
			rc = parse_long(optarg, 10, 1, 655, &o->car_amps);
			break;
		case OPT_LATENCY:
			rc = parse_list(optarg, 10, 0, TWC_SIM_LATENCY_LIMIT_MS, o->latency, 2);
			if (rc == 2 && o->latency[1] < o->latency[0])
				rc = -EINVAL;
			else if (rc >= 0 && rc != 2)
				rc = -EINVAL;
			break;
		case OPT_ADAPTER_MS:
			rc = parse_long(optarg, 10, 0, 255, &o->adapter_ms);
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
		if (rc < 0) {
			die_msg("bad value for option %s: %s", argv[optind - 1], optarg ? optarg : "");
			return -EINVAL;
		}
	}
	if (optind != argc) {
		die_msg("unexpected argument %s", argv[optind]);
		return -EINVAL;
	}
	if (!o->pty == (o->tcp_port < 0)) {
		die_msg("need exactly one of --pty LINK and --tcp PORT");
		return -EINVAL;
	}
	if (o->nids > o->slaves) {
		die_msg("more --ids than --slaves");
		return -EINVAL;
	}
	if (plug_text) {
		o->nplug = parse_list(plug_text, 10, 0, o->slaves - 1, o->plug, TWC_SIM_MAX_SLAVES);
		if (o->nplug < 0) {
			die_msg("bad --plug list %s (indices 0..%ld)", plug_text, o->slaves - 1);
			return -EINVAL;
		}
	}
	return 0;
}

static int app_setup(struct app *a, const struct options *o)
{
	struct twc_sim_config cfg;
	struct twc_sim_env env = {.user = a, .write = sim_write_bus, .log = sim_log_line};
	uint64_t now = mono_ms();
	uint16_t port = 0;
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.slaves = (int)o->slaves;
	cfg.voltage = (int)o->voltage;
	cfg.phases = (int)o->phases;
	cfg.latency_min_ms = (int)o->latency[0];
	cfg.latency_max_ms = (int)o->latency[1];
	a->adapter_ms = (int)o->adapter_ms;
	if (o->have_seed) {
		cfg.seed = (uint32_t)o->seed;
	} else {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		cfg.seed = ((uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec ^ (uint32_t)getpid() << 16) & 0x7FFFFFFFu;
	}
	for (int i = 0; i < cfg.slaves; i++) {
		cfg.slave[i].protocol = (uint8_t)o->protocol;
		cfg.slave[i].rated_amps = (int)o->rated;
		cfg.slave[i].fw453 = o->fw453;
		cfg.slave[i].id = i < o->nids ? (uint16_t)o->ids[i] : 0;
	}
	a->car_amps = (int)o->car_amps;
	a->start_ms = now;
	if (a->verbose)
		fprintf(stderr, "twc-sim: seed %u\n", (unsigned)cfg.seed);
	a->sim = twc_sim_new(&cfg, &env, now);
	if (!a->sim) {
		die_msg("bad simulator configuration");
		return -EINVAL;
	}
	for (int i = 0; i < o->nplug; i++)
		twc_sim_plug(a->sim, (int)o->plug[i], a->car_amps, NULL, now);

	if (o->pty) {
		rc = pty_open(a, o->pty);
		if (rc < 0) {
			die_msg("cannot set up pty %s: %s", o->pty, strerror(-rc));
			return rc;
		}
	} else {
		rc = tcp_listen(a, o->tcp_port, &port);
		if (rc < 0) {
			die_msg("cannot listen on 127.0.0.1:%ld: %s", o->tcp_port, strerror(-rc));
			return rc;
		}
	}
	if (o->control) {
		rc = ctl_listen(a, o->control);
		if (rc < 0) {
			die_msg("cannot listen on %s: %s", o->control, strerror(-rc));
			return rc;
		}
	}
	if (o->pty)
		printf("ready pty %s\n", o->pty);
	else
		printf("ready tcp 127.0.0.1:%u\n", (unsigned)port);
	fflush(stdout);
	return 0;
}

static int poll_timeout_ms(const struct app *a, uint64_t now)
{
	uint64_t d = twc_sim_next_deadline(a->sim);

	if (a->alen && a->afirst_ms + (uint64_t)a->adapter_ms < d)
		d = a->afirst_ms + (uint64_t)a->adapter_ms;

	if (d <= now)
		return 1; /* the core should never ask for the past after a tick; do not spin if it does */
	if (d - now > TICK_MAX_MS)
		return TICK_MAX_MS;
	return (int)(d - now);
}

static void app_run(struct app *a, const sigset_t *run_mask)
{
	while (!a->quit && !g_stop) {
		struct pollfd pfd[3 + CTL_MAX_CLIENTS];
		int who[3 + CTL_MAX_CLIENTS]; /* -1 bus, -2 tcp listener, -3 control listener, else client */
		int n = 0;
		uint64_t now = mono_ms();
		struct timespec ts;
		int timeout;

		twc_sim_tick(a->sim, now);
		if (a->alen && now >= a->afirst_ms + (uint64_t)a->adapter_ms)
			adapter_flush(a);
		if (a->client_broken && a->client_fd >= 0)
			tcp_drop(a);
		timeout = poll_timeout_ms(a, now);
		ts.tv_sec = timeout / 1000;
		ts.tv_nsec = (long)(timeout % 1000) * 1000000L;

		if (a->pty_fd >= 0 || a->client_fd >= 0) {
			pfd[n] = (struct pollfd){.fd = a->pty_fd >= 0 ? a->pty_fd : a->client_fd, .events = POLLIN};
			who[n++] = -1;
		} else if (a->listen_fd >= 0) {
			/* An RS-485-to-TCP bridge serves one client; the next one waits in the backlog. */
			pfd[n] = (struct pollfd){.fd = a->listen_fd, .events = POLLIN};
			who[n++] = -2;
		}
		if (a->ctl_fd >= 0) {
			pfd[n] = (struct pollfd){.fd = a->ctl_fd, .events = POLLIN};
			who[n++] = -3;
		}
		for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
			if (a->ctl[i].fd >= 0) {
				pfd[n] = (struct pollfd){.fd = a->ctl[i].fd, .events = POLLIN};
				who[n++] = i;
			}
		}
		if (ppoll(pfd, (nfds_t)n, &ts, run_mask) < 0) {
			if (errno == EINTR)
				continue;
			die_msg("poll: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n && !a->quit; i++) {
			if (!pfd[i].revents)
				continue;
			if (who[i] == -1) {
				if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
					bus_read(a, pfd[i].fd);
			} else if (who[i] == -2) {
				tcp_accept(a);
			} else if (who[i] == -3) {
				ctl_accept(a);
			} else if (a->ctl[who[i]].fd == pfd[i].fd) {
				ctl_read(a, &a->ctl[who[i]]);
			}
		}
	}
}

int main(int argc, char **argv)
{
	struct options o = {.tcp_port = -1, .slaves = 3, .protocol = 2, .rated = 32, .voltage = 230,
			    .phases = 1, .car_amps = 32, .fw453 = true};
	struct app a;
	struct sigaction sa;
	sigset_t block, run_mask;
	int rc;

	memset(&a, 0, sizeof(a));
	a.pty_fd = a.pty_slave_fd = a.listen_fd = a.client_fd = a.ctl_fd = -1;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		a.ctl[i].fd = -1;
	if (parse_options(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	a.verbose = o.verbose;

	/* Signals are blocked except inside ppoll(), so a stop request is never lost between the flag
	 * check and the wait. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &run_mask);
	sigdelset(&run_mask, SIGTERM);
	sigdelset(&run_mask, SIGINT);

	rc = app_setup(&a, &o);
	if (rc == 0)
		app_run(&a, &run_mask);
	app_cleanup(&a);
	return rc == 0 ? 0 : 1;
}
