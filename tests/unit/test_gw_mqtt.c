/*
 * Tests of gw_mqtt on a real gateway loop against a real broker: /usr/sbin/mosquitto, started per test
 * on a free loopback port from a generated config. A plain libmosquitto client in the test publishes,
 * blocking (fine here: it is the test, not the gateway). Covered: messages on subscribed topics
 * arrive with their topic and payload (binary too) and others do not; a retained message arrives on
 * connect; a host name goes through gw_dns; a broker killed and restarted on the same port gives one
 * on_link(false), one warning for the whole outage, then on_link(true) and messages again (so the
 * client subscribed again); user name and password, accepted and refused, with the password never in
 * the log; gw_mqtt_stop() while the broker is gone, while waiting for CONNACK, before the first loop
 * turn and from inside a handler (no handler after it, a clean DISCONNECT); gw_mqtt_free() while lws
 * still has the socket adopted; bad parameters; a payload over GW_MQTT_PAYLOAD_MAX dropped before the
 * handler, counted and warned about once, and one over the MQTT 5 Maximum Packet Size dropped by the
 * broker; a broker that speaks only MQTT 3.1.1 (a forked fake that refuses MQTT 5 as 3.1.1 requires)
 * spoken to in 3.1.1 at once, with no warning. Each test stops its loop from a callback; a watchdog
 * timer only guards against a hang. The gateway's log (stderr) is captured to a file per test, so the
 * tests can read it; lines that are not the gateway's (sanitizer, valgrind) are passed on to stderr.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <libwebsockets.h>
#include <mosquitto.h>

#include "gw_log.h"
#include "gw_loop.h"
#include "gw_mqtt.h"

#define BROKER_BIN "/usr/sbin/mosquitto"
#define PASSWD_BIN "/usr/bin/mosquitto_passwd"
#define WATCHDOG_US (30 * LWS_US_PER_SEC)
#define POLL_US (20 * LWS_US_PER_MS)
#define USER "meter"
#define SECRET "Pw-7f3a9c-never-in-logs"
#define WRONG_SECRET "Wrong-51be02-also-secret"
#define MAX_MSGS 16
#define LOG_MAX (1 << 20)

static char tmpdir[64];
static bool have_broker;
/* Under valgrind, names are not resolved: glibc 2.36's __libc_freeres frees getaddrinfo_a's request
 * pool rows it never initialised (free_res in gai_misc.c), which memcheck reports at exit whatever the
 * program did. A ten-line getaddrinfo_a() program shows the same 7 errors. The ASan build covers it. */
static bool names_ok = true;

/* ---- the broker ---- */

struct broker {
	pid_t pid;
	int port;
	bool auth;
};

static void path_in(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", tmpdir, name);
}

static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static bool port_accepts(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	assert_true(fd >= 0);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static void write_config(const struct broker *b)
{
	char path[128], logp[128], pw[128];
	FILE *fp;

	path_in(path, sizeof(path), "broker.conf");
	path_in(logp, sizeof(logp), "broker.log");
	path_in(pw, sizeof(pw), "passwd");
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "listener %d 127.0.0.1\n", b->port);
	if (b->auth)
		fprintf(fp, "allow_anonymous false\npassword_file %s\n", pw);
	else
		fprintf(fp, "allow_anonymous true\n");
	fprintf(fp, "log_dest file %s\nlog_type all\n", logp);
	/* Run as root (a container), mosquitto would switch to its own user, who cannot read our files. */
	if (geteuid() == 0)
		fprintf(fp, "user root\n");
	fclose(fp);
}

static int run_cmd(const char *const argv[])
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(devnull, 1);
		dup2(devnull, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void broker_start(struct broker *b)
{
	char conf[128];
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	path_in(conf, sizeof(conf), "broker.conf");
	write_config(b);
	b->pid = fork();
	assert_true(b->pid >= 0);
	if (b->pid == 0) {
		sigset_t none;
		char out[128];
		int fd;

		/* gw_loop blocks the stop signals and ignores SIGPIPE; exec keeps both. Undo them. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		path_in(out, sizeof(out), "broker.out");
		fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(BROKER_BIN, BROKER_BIN, "-c", conf, (char *)NULL);
		_exit(127);
	}
	/* The one wait on wall time: until the broker listens (at most 10 s). */
	for (int i = 0; i < 1000; i++) {
		int status;

		if (port_accepts(b->port))
			return;
		assert_int_equal(waitpid(b->pid, &status, WNOHANG), 0);
		nanosleep(&ts, NULL);
	}
	fail_msg("the broker does not listen on port %d", b->port);
}

static void broker_kill(struct broker *b, int sig)
{
	if (b->pid <= 0)
		return;
	kill(b->pid, sig);
	waitpid(b->pid, NULL, 0);
	b->pid = -1;
}

/* ---- the publisher: a plain blocking libmosquitto client ---- */

struct pub_msg {
	const char *topic;
	const void *payload;
	int len;
	bool retain;
};

static void on_published(struct mosquitto *mosq, void *obj, int mid)
{
	(void)mosq;
	(void)mid;
	(*(int *)obj)++;
}

/* Publish at QoS 1 over one connection and wait for every PUBACK: in order, and with the broker
 * holding each message before this returns. */
static void publish(int port, const struct pub_msg *msgs, int n, const char *user, const char *pass)
{
	int acked = 0;
	struct mosquitto *p = mosquitto_new(NULL, true, &acked);

	assert_non_null(p);
	mosquitto_publish_callback_set(p, on_published);
	if (user)
		assert_int_equal(mosquitto_username_pw_set(p, user, pass), MOSQ_ERR_SUCCESS);
	assert_int_equal(mosquitto_connect(p, "127.0.0.1", port, 10), MOSQ_ERR_SUCCESS);
	for (int i = 0; i < n; i++)
		assert_int_equal(mosquitto_publish(p, NULL, msgs[i].topic, msgs[i].len, msgs[i].payload, 1,
						   msgs[i].retain),
				 MOSQ_ERR_SUCCESS);
	for (int i = 0; i < 200 && acked < n; i++)
		mosquitto_loop(p, 50, 1);
	assert_int_equal(acked, n);
	mosquitto_disconnect(p);
	mosquitto_loop(p, 50, 1);
	mosquitto_destroy(p);
}

static void publish1(int port, const char *topic, const char *text)
{
	struct pub_msg m = { topic, text, (int)strlen(text), false };

	publish(port, &m, 1, NULL, NULL);
}

/* ---- the gateway side ---- */

struct got {
	char topic[128];
	uint8_t payload[64];
	size_t len;
	size_t whole; /* the payload's length, len the part kept */
};

struct fixture;

struct client {
	struct fixture *f;
	struct gw_mqtt *m;
	int ups, downs, msgs;
	int late;                 /* handler calls after gw_mqtt_stop() */
	bool stopped;
	struct got got[MAX_MSGS];
	void (*on_link)(struct client *c, bool up);
	void (*on_msg)(struct client *c);
};

struct fixture {
	struct gw_loop *loop;
	struct broker broker;
	struct client c[2];
	lws_sorted_usec_list_t watchdog;
	lws_sorted_usec_list_t poll;  /* calls poll_fn every POLL_US while set */
	lws_sorted_usec_list_t later; /* one-shot later_fn */
	bool (*poll_fn)(struct fixture *f);
	void (*later_fn)(struct fixture *f);
	int step;
	pid_t fake_pid; /* a fake broker of the test's own, killed at teardown */
	int saved_stderr;
	char log[LOG_MAX];
};

static void h_message(void *user, const char *topic, const uint8_t *payload, size_t len)
{
	struct client *c = user;
	struct got *g;

	if (c->stopped)
		c->late++;
	if (c->msgs < MAX_MSGS) {
		g = &c->got[c->msgs];
		snprintf(g->topic, sizeof(g->topic), "%s", topic);
		g->len = len < sizeof(g->payload) ? len : sizeof(g->payload);
		g->whole = len;
		memcpy(g->payload, payload, g->len);
	}
	c->msgs++;
	if (c->on_msg)
		c->on_msg(c);
}

static void h_link(void *user, bool up)
{
	struct client *c = user;

	if (c->stopped)
		c->late++;
	/* gw_mqtt_connected() agrees with the handler while it runs. */
	if (gw_mqtt_connected(c->m) != up)
		c->late += 1000;
	if (up)
		c->ups++;
	else
		c->downs++;
	if (c->on_link)
		c->on_link(c, up);
}

static struct gw_mqtt *client_new(struct fixture *f, int i, const char *host, int port, const char *const *topics,
				  size_t n, const char *user, const char *pass)
{
	struct client *c = &f->c[i];
	struct gw_mqtt_params p = {
		.host = host,
		.port = port,
		.username = user,
		.password = pass,
		.topics = topics,
		.n_topics = n,
		.name = i == 0 ? "test mqtt" : "other mqtt",
	};
	struct gw_mqtt_handlers h = { .user = c, .on_message = h_message, .on_link = h_link };

	c->f = f;
	c->m = gw_mqtt_new(f->loop, &p, &h);
	assert_non_null(c->m);
	return c->m;
}

static void client_stop(struct client *c)
{
	gw_mqtt_stop(c->m);
	c->stopped = true;
}

static void watchdog_cb(lws_sorted_usec_list_t *sul)
{
	struct fixture *f = lws_container_of(sul, struct fixture, watchdog);

	gw_loop_stop(f->loop, -ETIME);
}

static void poll_cb(lws_sorted_usec_list_t *sul)
{
	struct fixture *f = lws_container_of(sul, struct fixture, poll);

	if (f->poll_fn && f->poll_fn(f)) {
		f->poll_fn = NULL;
		return;
	}
	if (f->poll_fn)
		lws_sul_schedule(gw_loop_context(f->loop), 0, &f->poll, poll_cb, POLL_US);
}

static void poll_every(struct fixture *f, bool (*fn)(struct fixture *f))
{
	f->poll_fn = fn;
	lws_sul_schedule(gw_loop_context(f->loop), 0, &f->poll, poll_cb, POLL_US);
}

static void later_cb(lws_sorted_usec_list_t *sul)
{
	struct fixture *f = lws_container_of(sul, struct fixture, later);

	f->later_fn(f);
}

static void later(struct fixture *f, lws_usec_t us, void (*fn)(struct fixture *f))
{
	f->later_fn = fn;
	lws_sul_schedule(gw_loop_context(f->loop), 0, &f->later, later_cb, us);
}

static void stop_loop(struct fixture *f)
{
	gw_loop_stop(f->loop, 0);
}

static int run(struct fixture *f)
{
	int rc;

	lws_sul_schedule(gw_loop_context(f->loop), 0, &f->watchdog, watchdog_cb, WATCHDOG_US);
	rc = gw_loop_run(f->loop);
	lws_sul_cancel(&f->watchdog);
	return rc;
}

/* ---- the captured log ---- */

static const char *log_text(struct fixture *f)
{
	char path[128];
	int fd;
	ssize_t n;

	path_in(path, sizeof(path), "gw.log");
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, f->log, sizeof(f->log) - 1);
	close(fd);
	f->log[n > 0 ? n : 0] = '\0';
	return f->log;
}

static bool log_has(struct fixture *f, const char *s)
{
	return strstr(log_text(f), s) != NULL;
}

/* Lines of @p holding both @a and @b. */
static int count_lines(const char *p, const char *a, const char *b)
{
	int n = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[2048];

		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		if (strstr(line, a) && strstr(line, b))
			n++;
		p += len + (nl ? 1 : 0);
	}
	return n;
}

static int log_count(struct fixture *f, const char *a, const char *b)
{
	return count_lines(log_text(f), a, b);
}

static const char *broker_log(void)
{
	static char buf[LOG_MAX];
	char path[128];
	int fd;
	ssize_t n;

	path_in(path, sizeof(path), "broker.log");
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return "";
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static bool broker_log_has(const char *s)
{
	return strstr(broker_log(), s) != NULL;
}

static int broker_log_count(const char *a, const char *b)
{
	return count_lines(broker_log(), a, b);
}

static void capture_start(struct fixture *f)
{
	char path[128];
	int fd;

	path_in(path, sizeof(path), "gw.log");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	f->saved_stderr = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

/* Put stderr back, passing on every line that is not the gateway's (a sanitizer's or valgrind's
 * report must not vanish into the capture). TWCGW_TEST_VERBOSE passes on everything. */
static void capture_end(struct fixture *f)
{
	bool all = getenv("TWCGW_TEST_VERBOSE") != NULL;
	const char *p;

	if (f->saved_stderr < 0)
		return;
	fflush(stderr);
	dup2(f->saved_stderr, STDERR_FILENO);
	close(f->saved_stderr);
	f->saved_stderr = -1;
	p = log_text(f);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
		bool ours = len > 20 && p[4] == '-' && p[7] == '-' && p[13] == ':';

		if (all || !ours)
			fwrite(p, 1, len, stderr);
		p += len;
	}
}

/* ---- setup ---- */

static int setup_common(void **state, bool auth)
{
	static const struct gw_loop_handlers nh = { 0 };
	struct fixture *f;

	*state = NULL;
	if (!have_broker)
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->saved_stderr = -1;
	*state = f;
	f->broker.port = free_port();
	f->broker.auth = auth;
	if (auth) {
		char pw[128];
		const char *argv[] = { PASSWD_BIN, "-c", "-b", pw, USER, SECRET, NULL };

		path_in(pw, sizeof(pw), "passwd");
		unlink(pw);
		if (access(PASSWD_BIN, X_OK) != 0 || run_cmd(argv) != 0) {
			printf("# %s is missing or failed: the password test is skipped\n", PASSWD_BIN);
			free(f);
			*state = NULL;
			return 0;
		}
	}
	capture_start(f);
	gw_log_set_level(GW_LOG_DEBUG);
	broker_start(&f->broker);
	f->loop = gw_loop_new(&nh);
	assert_non_null(f->loop);
	return 0;
}

static int setup(void **state)
{
	return setup_common(state, false);
}

static int setup_auth(void **state)
{
	return setup_common(state, true);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char path[128];

	if (!f)
		return 0;
	/* The order main() uses: stop the clients, destroy the context (closing adopted fds), free. */
	for (int i = 0; i < 2; i++)
		gw_mqtt_stop(f->c[i].m);
	if (f->loop) {
		lws_sul_cancel(&f->watchdog);
		lws_sul_cancel(&f->poll);
		lws_sul_cancel(&f->later);
		gw_loop_free(f->loop);
	}
	for (int i = 0; i < 2; i++)
		gw_mqtt_free(f->c[i].m);
	broker_kill(&f->broker, SIGTERM);
	if (f->fake_pid > 0) {
		kill(f->fake_pid, SIGKILL);
		waitpid(f->fake_pid, NULL, 0);
	}
	gw_log_set_level(GW_LOG_INFO);
	capture_end(f);
	path_in(path, sizeof(path), "broker.log");
	unlink(path);
	free(f);
	return 0;
}

/* ---- tests ---- */

/* NULL when the broker (or, for the password test, mosquitto_passwd) is missing: skip. */
static struct fixture *fixture_of(void **state)
{
	if (!*state)
		skip();
	return *state;
}

/* Threads in this process: gw_mqtt must not start libmosquitto's. */
static int threads(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void pub_three(struct client *c, bool up)
{
	static const uint8_t bin[] = { 0x00, 0x01, 0xff, 0x7f };
	const struct pub_msg msgs[] = {
		{ "gw/a", "one", 3, false },
		{ "gw/c", "not subscribed", 14, false },
		{ "gw/b/x", bin, (int)sizeof(bin), false },
	};

	if (up && c->ups == 1) {
		c->f->step = threads();
		publish(c->f->broker.port, msgs, 3, NULL, NULL);
	}
}

static void stop_after_two(struct client *c)
{
	if (c->msgs == 2)
		gw_loop_stop(c->f->loop, 0);
}

static void test_messages(void **state)
{
	struct fixture *f = fixture_of(state);
	static const char *const topics[] = { "gw/a", "gw/b/+" };
	char id[32];
	/* Before the client: the process's own threads (1, or 2 under qemu-user, which adds one). */
	int base = threads();

	client_new(f, 0, "127.0.0.1", f->broker.port, topics, 2, NULL, NULL);
	f->c[0].on_link = pub_three;
	f->c[0].on_msg = stop_after_two;
	assert_false(gw_mqtt_connected(f->c[0].m));
	assert_int_equal(run(f), 0);

	assert_int_equal(f->c[0].ups, 1);
	assert_int_equal(f->c[0].downs, 0);
	assert_int_equal(f->c[0].late, 0);
	assert_true(gw_mqtt_connected(f->c[0].m));
	/* Connected and subscribed on this thread alone (by address, so not even gw_dns's helper). */
	assert_int_equal(f->step, base);
	/* gw/c, published between the two, would have come before gw/b/x. */
	assert_int_equal(f->c[0].msgs, 2);
	assert_string_equal(f->c[0].got[0].topic, "gw/a");
	assert_int_equal(f->c[0].got[0].len, 3);
	assert_memory_equal(f->c[0].got[0].payload, "one", 3);
	assert_string_equal(f->c[0].got[1].topic, "gw/b/x");
	assert_int_equal(f->c[0].got[1].len, 4);
	assert_memory_equal(f->c[0].got[1].payload, "\x00\x01\xff\x7f", 4);
	/* The default client id. */
	snprintf(id, sizeof(id), " as twcgw-%ld", (long)getpid());
	assert_true(broker_log_has(id));
}

static void stop_after_one(struct client *c)
{
	gw_loop_stop(c->f->loop, 0);
}

static void test_retained(void **state)
{
	struct fixture *f = fixture_of(state);
	static const char *const topics[] = { "gw/x", "gw/retained" };
	const struct pub_msg keep = { "gw/retained", "42", 2, true };

	publish(f->broker.port, &keep, 1, NULL, NULL);
	client_new(f, 0, "127.0.0.1", f->broker.port, topics, 2, NULL, NULL);
	f->c[0].on_msg = stop_after_one;
	assert_int_equal(run(f), 0);
	assert_int_equal(f->c[0].msgs, 1);
	assert_string_equal(f->c[0].got[0].topic, "gw/retained");
	assert_int_equal(f->c[0].got[0].len, 2);
	assert_memory_equal(f->c[0].got[0].payload, "42", 2);
}

static void pub_on_up(struct client *c, bool up)
{
	if (up)
		publish1(c->f->broker.port, "gw/a", "by name");
}

static void test_hostname(void **state)
{
	struct fixture *f = fixture_of(state);
	static const char *const topics[] = { "gw/a" };

	if (!names_ok)
		skip();
	client_new(f, 0, "localhost", f->broker.port, topics, 1, NULL, NULL);
	f->c[0].on_link = pub_on_up;
	f->c[0].on_msg = stop_after_one;
	assert_int_equal(run(f), 0);
	assert_int_equal(f->c[0].ups, 1);
	assert_int_equal(f->c[0].msgs, 1);
	assert_memory_equal(f->c[0].got[0].payload, "by name", 7);
	assert_true(log_has(f, "test mqtt: connected to localhost:"));
}

static void restart_broker(struct fixture *f)
{
	broker_start(&f->broker);
}

static void restart_link(struct client *c, bool up)
{
	struct fixture *f = c->f;

	if (up && c->ups == 1) {
		/* A crash, not a clean stop: the kernel resets the connection. */
		broker_kill(&f->broker, SIGKILL);
	} else if (!up) {
		/* Long enough for the retry after 1 s to fail and the next (2 s later) to succeed. */
		later(f, 2500 * LWS_US_PER_MS, restart_broker);
	} else if (up && c->ups == 2) {
		publish1(f->broker.port, "gw/a", "again");
	}
}

static void test_broker_restart(void **state)
{
	struct fixture *f = fixture_of(state);
	static const char *const topics[] = { "gw/a", "gw/b" };

	client_new(f, 0, "127.0.0.1", f->broker.port, topics, 2, NULL, NULL);
	f->c[0].on_link = restart_link;
	f->c[0].on_msg = stop_after_one;
	assert_int_equal(run(f), 0);
	assert_int_equal(f->c[0].ups, 2);
	assert_int_equal(f->c[0].downs, 1);
	assert_int_equal(f->c[0].late, 0);
	assert_int_equal(f->c[0].msgs, 1);
	assert_memory_equal(f->c[0].got[0].payload, "again", 5);
	/* One warning for the outage; the failed attempt inside it only at debug level. */
	assert_int_equal(log_count(f, "WARN", "test mqtt:"), 1);
	assert_int_equal(log_count(f, "WARN", "lost the connection"), 1);
	assert_true(log_count(f, "DEBUG", "test mqtt: cannot connect") >= 1);
	assert_int_equal(log_count(f, "INFO", "test mqtt: connected to 127.0.0.1"), 2);
}

static void pub_auth_on_up(struct client *c, bool up)
{
	const struct pub_msg m = { "gw/a", "authorised", 10, false };

	if (up)
		publish(c->f->broker.port, &m, 1, USER, SECRET);
}

static bool auth_done(struct fixture *f)
{
	if (f->c[0].msgs < 1 || !log_has(f, "other mqtt: cannot connect"))
		return false;
	gw_loop_stop(f->loop, 0);
	return true;
}

static void test_password(void **state)
{
	struct fixture *f = fixture_of(state);
	static const char *const topics[] = { "gw/a" };

	client_new(f, 0, "127.0.0.1", f->broker.port, topics, 1, USER, SECRET);
	client_new(f, 1, "127.0.0.1", f->broker.port, topics, 1, USER, WRONG_SECRET);
	f->c[0].on_link = pub_auth_on_up;
	poll_every(f, auth_done);
	assert_int_equal(run(f), 0);
	assert_int_equal(f->c[0].ups, 1);
	assert_int_equal(f->c[0].msgs, 1);
	assert_memory_equal(f->c[0].got[0].payload, "authorised", 10);
	assert_int_equal(f->c[1].ups, 0);
	assert_int_equal(f->c[1].downs, 0);
	assert_true(log_has(f, "(Not authorized)")); /* MQTT 5's CONNACK reason */
	/* Neither password anywhere in the gateway's log, at debug level with libmosquitto's own lines. */
	assert_true(log_has(f, "libmosquitto: "));
	assert_false(log_has(f, SECRET));
	assert_false(log_has(f, WRONG_SECRET));
}

static bool first_failure_seen(struct fixture *f)
{
	if (!log_has(f, "test mqtt: cannot connect"))
		return false;
	client_stop(&f->c[0]);
	/* Past the 1 s retry a stop must have cancelled. */
	later(f, 2500 * LWS_US_PER_MS, stop_loop);
	f->step = log_count(f, "test mqtt:", "");
	return true;
}

static void test_stop_broker_gone(void **state)
{
	struct fixture *f = fixture_of(state);
	static const char *const topics[] = { "gw/a" };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int hold = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	/* A port bound and never listened on refuses every connection, and nobody else can take it
	 * meanwhile: the dead broker's port could be reused by another test running in parallel. */
	broker_kill(&f->broker, SIGTERM);
	assert_true(hold >= 0);
	assert_int_equal(bind(hold, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(hold, (struct sockaddr *)&sa, &sl), 0);
	client_new(f, 0, "127.0.0.1", ntohs(sa.sin_port), topics, 1, NULL, NULL);
	/* And one stopped before the loop ever turns. */
	client_new(f, 1, "127.0.0.1", ntohs(sa.sin_port), topics, 1, NULL, NULL);
	client_stop(&f->c[1]);
	poll_every(f, first_failure_seen);
	assert_int_equal(run(f), 0);
	close(hold);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(f->c[i].ups + f->c[i].downs + f->c[i].msgs, 0);
		assert_false(gw_mqtt_connected(f->c[i].m));
	}
	/* Nothing at all from the client after the stop: no retry, not even at debug level. */
	assert_int_equal(log_count(f, "test mqtt:", ""), f->step);
	assert_false(log_has(f, "other mqtt: connecting"));
}

static void stop_both_clients(struct fixture *f)
{
	client_stop(&f->c[0]);
	client_stop(&f->c[1]);
	later(f, 1500 * LWS_US_PER_MS, stop_loop);
}

static bool connecting_seen(struct fixture *f)
{
	if (!log_has(f, "test mqtt: connecting to 127.0.0.1"))
		return false;
	later(f, 200 * LWS_US_PER_MS, stop_both_clients);
	return true;
}

static void test_stop_connecting(void **state)
{
	struct fixture *f = fixture_of(state);
	static const char *const topics[] = { "gw/a" };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	/* A listener that never accepts: the kernel completes the handshake, no CONNACK ever comes. */
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	client_new(f, 0, "127.0.0.1", ntohs(sa.sin_port), topics, 1, NULL, NULL);
	/* By name, so this one may still be resolving when it stops. */
	client_new(f, 1, names_ok ? "localhost" : "127.0.0.1", ntohs(sa.sin_port), topics, 1, NULL, NULL);
	poll_every(f, connecting_seen);
	assert_int_equal(run(f), 0);
	close(lfd);
	for (int i = 0; i < 2; i++)
		assert_int_equal(f->c[i].ups + f->c[i].downs + f->c[i].msgs + f->c[i].late, 0);
	assert_false(log_has(f, "test mqtt: cannot connect"));
}

static void stop_in_handler(struct client *c)
{
	client_stop(c);
	later(c->f, 300 * LWS_US_PER_MS, stop_loop);
}

static void pub_two(struct client *c, bool up)
{
	const struct pub_msg msgs[] = { { "gw/a", "1", 1, false }, { "gw/a", "2", 1, false } };

	if (up)
		publish(c->f->broker.port, msgs, 2, NULL, NULL);
}

static void test_stop_from_handler(void **state)
{
	struct fixture *f = fixture_of(state);
	static const char *const topics[] = { "gw/a" };
	char id[32];

	client_new(f, 0, "127.0.0.1", f->broker.port, topics, 1, NULL, NULL);
	f->c[0].on_link = pub_two;
	f->c[0].on_msg = stop_in_handler;
	assert_int_equal(run(f), 0);
	assert_int_equal(f->c[0].msgs, 1);
	assert_int_equal(f->c[0].late, 0);
	assert_int_equal(f->c[0].downs, 0);
	assert_false(gw_mqtt_connected(f->c[0].m));
	/* A DISCONNECT packet, not a dropped socket. */
	snprintf(id, sizeof(id), "Client twcgw-%ld", (long)getpid());
	broker_kill(&f->broker, SIGTERM);
	assert_int_equal(broker_log_count(id, " disconnected."), 1);
	assert_int_equal(broker_log_count(id, "closed its connection"), 0);
}

static bool pong_seen(struct fixture *f)
{
	if (!log_has(f, "received PINGRESP"))
		return false;
	gw_loop_stop(f->loop, 0);
	return true;
}

/* The sul's loop_misc: with a 5 s keepalive, a PINGREQ goes out and its PINGRESP comes back. */
static void test_keepalive(void **state)
{
	struct fixture *f = fixture_of(state);
	static const char *const topics[] = { "gw/a" };
	struct gw_mqtt_params p = { .host = "127.0.0.1", .port = f->broker.port, .topics = topics, .n_topics = 1,
				    .keepalive_s = 5, .name = "test mqtt" };
	struct gw_mqtt_handlers h = { .user = &f->c[0], .on_message = h_message, .on_link = h_link };

	f->c[0].f = f;
	f->c[0].m = gw_mqtt_new(f->loop, &p, &h);
	assert_non_null(f->c[0].m);
	poll_every(f, pong_seen);
	assert_int_equal(run(f), 0);
	assert_int_equal(f->c[0].ups, 1);
	assert_int_equal(f->c[0].downs, 0);
	assert_true(log_has(f, "sending PINGREQ"));
	assert_true(gw_mqtt_connected(f->c[0].m));
}

static bool gave_up(struct fixture *f)
{
	if (!log_has(f, "test mqtt: cannot connect"))
		return false;
	gw_loop_stop(f->loop, 0);
	return true;
}

/* A peer that takes the TCP connection but never answers CONNECT: the attempt ends and is retried. */
static void test_connack_timeout(void **state)
{
	struct fixture *f = fixture_of(state);
	static const char *const topics[] = { "gw/a" };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct gw_mqtt_params p = { .host = "127.0.0.1", .topics = topics, .n_topics = 1, .keepalive_s = 5,
				    .name = "test mqtt" };
	struct gw_mqtt_handlers h = { .user = &f->c[0], .on_message = h_message, .on_link = h_link };

	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	p.port = ntohs(sa.sin_port);
	f->c[0].f = f;
	f->c[0].m = gw_mqtt_new(f->loop, &p, &h);
	assert_non_null(f->c[0].m);
	poll_every(f, gave_up);
	assert_int_equal(run(f), 0);
	close(lfd);
	assert_int_equal(f->c[0].ups + f->c[0].downs + f->c[0].msgs, 0);
	assert_false(gw_mqtt_connected(f->c[0].m));
}

static void stop_loop_on_up(struct client *c, bool up)
{
	if (up)
		gw_loop_stop(c->f->loop, 0);
}

/* The other order: the client goes first while lws still has its socket adopted. */
static void test_free_before_loop(void **state)
{
	struct fixture *f = fixture_of(state);
	static const char *const topics[] = { "gw/a" };

	client_new(f, 0, "127.0.0.1", f->broker.port, topics, 1, NULL, NULL);
	f->c[0].on_link = stop_loop_on_up;
	assert_int_equal(run(f), 0);
	assert_int_equal(f->c[0].ups, 1);
	/* teardown then destroys the context, which closes the detached dup: no callback, no leak. */
	gw_mqtt_free(f->c[0].m);
	f->c[0].m = NULL;
	assert_int_equal(f->c[0].downs, 0);
}

static void test_bad_params(void **state)
{
	struct fixture *f = fixture_of(state);
	static const char *const topics[] = { "gw/a" };
	static const char *const bad_topics[] = { "gw/#/x" };
	const struct gw_mqtt_handlers h = { 0 };
	struct gw_mqtt_params ok = { .host = "127.0.0.1", .topics = topics, .n_topics = 1 };
	struct gw_mqtt_params p;
	struct gw_mqtt *m;

	p = ok;
	p.host = NULL;
	assert_null(gw_mqtt_new(f->loop, &p, &h));
	p = ok;
	p.host = "";
	assert_null(gw_mqtt_new(f->loop, &p, &h));
	p = ok;
	p.port = 65536;
	assert_null(gw_mqtt_new(f->loop, &p, &h));
	p = ok;
	p.keepalive_s = 3;
	assert_null(gw_mqtt_new(f->loop, &p, &h));
	p = ok;
	p.topics = bad_topics;
	assert_null(gw_mqtt_new(f->loop, &p, &h));
	p = ok;
	p.topics = NULL;
	assert_null(gw_mqtt_new(f->loop, &p, &h));
	p = ok;
	p.password = SECRET;
	assert_null(gw_mqtt_new(f->loop, &p, &h));
	assert_null(gw_mqtt_new(f->loop, NULL, &h));
	assert_null(gw_mqtt_new(f->loop, &ok, NULL));
	assert_false(log_has(f, SECRET));
	/* The good one works, with no handlers at all. */
	m = gw_mqtt_new(f->loop, &ok, &h);
	assert_non_null(m);
	gw_mqtt_free(m);
	gw_mqtt_free(NULL);
}

/* ---- payload size ---- */

static uint8_t big_payload[1024 * 1024 + 1];

static void pub_sizes(struct client *c, bool up)
{
	const struct pub_msg msgs[] = {
		{ "gw/big", big_payload, GW_MQTT_PAYLOAD_MAX + 1, false },
		{ "gw/huge", big_payload, (int)sizeof(big_payload), false }, /* over the 256 KiB packet maximum */
		{ "gw/max", big_payload, GW_MQTT_PAYLOAD_MAX, false },
		{ "gw/big", big_payload, GW_MQTT_PAYLOAD_MAX + 1000, false },
		{ "gw/a", "ok", 2, false },
	};

	if (up && c->ups == 1)
		publish(c->f->broker.port, msgs, 5, NULL, NULL);
}

static void stop_on_ok(struct client *c)
{
	if (c->msgs && !strcmp(c->got[c->msgs - 1].topic, "gw/a"))
		gw_loop_stop(c->f->loop, 0);
}

/* Over GW_MQTT_PAYLOAD_MAX: dropped before the handler, counted, one warning; over the MQTT 5 Maximum
 * Packet Size: the broker drops it, libmosquitto never buffers it. The others arrive, in order. */
static void test_payload_cap(void **state)
{
	struct fixture *f = fixture_of(state);
	static const char *const topics[] = { "gw/#" };

	memset(big_payload, 'x', sizeof(big_payload));
	client_new(f, 0, "127.0.0.1", f->broker.port, topics, 1, NULL, NULL);
	f->c[0].on_link = pub_sizes;
	f->c[0].on_msg = stop_on_ok;
	assert_int_equal(run(f), 0);
	assert_int_equal(f->c[0].msgs, 2);
	assert_string_equal(f->c[0].got[0].topic, "gw/max");
	assert_int_equal(f->c[0].got[0].whole, GW_MQTT_PAYLOAD_MAX);
	assert_string_equal(f->c[0].got[1].topic, "gw/a");
	assert_memory_equal(f->c[0].got[1].payload, "ok", 2);
	assert_int_equal(gw_mqtt_dropped(f->c[0].m), 2);
	assert_int_equal(log_count(f, "test mqtt: a message of", "dropped"), 1);
	assert_true(log_has(f, "a message of 16385 bytes on gw/big is over 16384 bytes: dropped (1 so far)"));
	assert_int_equal(broker_log_count("Dropping too large outgoing PUBLISH", ""), 1);
	assert_int_equal(f->c[0].downs, 0);
}

/* ---- a broker that speaks MQTT 3.1.1 only ---- */

static bool read_full(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r <= 0)
			return false;
		p += r;
		n -= (size_t)r;
	}
	return true;
}

/* One packet into @buf; its length, 0 on EOF or one too long. @hdr: the fixed header's length. */
static size_t read_packet(int fd, uint8_t *buf, size_t cap, size_t *hdr)
{
	size_t len = 0, mult = 1, i = 1;

	if (!read_full(fd, buf, 1))
		return 0;
	do {
		if (i > 4 || !read_full(fd, &buf[i], 1))
			return 0;
		len += (buf[i] & 127u) * mult;
		mult *= 128;
	} while (buf[i++] & 128u);
	*hdr = i;
	if (i + len > cap || !read_full(fd, buf + i, len))
		return 0;
	return i + len;
}

static void write_all(int fd, const void *p, size_t n)
{
	if (write(fd, p, n) != (ssize_t)n)
		_exit(3);
}

/* A PUBLISH at QoS 0 on gw/a: @text, or @n bytes of 'x' when NULL. */
static void send_publish(int fd, const char *text, size_t n)
{
	uint8_t h[8] = { 0x30 };
	size_t rl = 2 + 4 + n, i = 1;
	static const uint8_t topic[] = { 0, 4, 'g', 'w', '/', 'a' };
	char chunk[1024];

	do {
		h[i] = (uint8_t)(rl % 128);
		rl /= 128;
		if (rl)
			h[i] |= 128;
		i++;
	} while (rl);
	write_all(fd, h, i);
	write_all(fd, topic, sizeof(topic));
	memset(chunk, 'x', sizeof(chunk));
	for (size_t left = n; left;) {
		size_t k = left < sizeof(chunk) ? left : sizeof(chunk);

		write_all(fd, text ? text + (n - left) : chunk, k);
		left -= k;
	}
}

/* The fake broker, in a child: MQTT 5 is refused with 3.1.1's CONNACK 1 (3.1.2-2); a 3.1.1 client
 * is accepted, subscribed, and sent a payload over the cap and then "ok". */
static void fake311_serve(int lfd)
{
	for (;;) {
		uint8_t buf[4096];
		size_t hdr = 0, n;
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			_exit(1);
		n = read_packet(fd, buf, sizeof(buf), &hdr);
		if (n < hdr + 7 || (buf[0] & 0xf0) != 0x10) {
			close(fd);
			continue;
		}
		if (buf[hdr + 6] != 4) {
			write_all(fd, "\x20\x02\x00\x01", 4);
			close(fd);
			continue;
		}
		write_all(fd, "\x20\x02\x00\x00", 4);
		n = read_packet(fd, buf, sizeof(buf), &hdr);
		if (n >= hdr + 2 && buf[0] == 0x82) {
			uint8_t ack[5] = { 0x90, 3, buf[hdr], buf[hdr + 1], 0 };

			write_all(fd, ack, sizeof(ack));
			send_publish(fd, NULL, GW_MQTT_PAYLOAD_MAX + 1);
			send_publish(fd, "ok", 2);
		}
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
}

static void test_broker_v311_only(void **state)
{
	struct fixture *f = fixture_of(state);
	static const char *const topics[] = { "gw/a" };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 8), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	f->fake_pid = fork();
	assert_true(f->fake_pid >= 0);
	if (f->fake_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fake311_serve(lfd);
		_exit(0);
	}
	close(lfd);
	client_new(f, 0, "127.0.0.1", ntohs(sa.sin_port), topics, 1, NULL, NULL);
	f->c[0].on_msg = stop_on_ok;
	assert_int_equal(run(f), 0);
	assert_int_equal(f->c[0].ups, 1);
	assert_int_equal(f->c[0].msgs, 1);
	assert_memory_equal(f->c[0].got[0].payload, "ok", 2);
	assert_int_equal(gw_mqtt_dropped(f->c[0].m), 1);
	assert_true(log_has(f, "does not speak MQTT 5; using 3.1.1"));
	assert_false(log_has(f, "WARN  test mqtt: cannot connect"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retained, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostname, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broker_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password, setup_auth, teardown),
		cmocka_unit_test_setup_teardown(test_stop_broker_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_connecting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_from_handler, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connack_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_before_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_payload_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broker_v311_only, setup, teardown),
	};
	char path[128];
	int rc;

	have_broker = access(BROKER_BIN, X_OK) == 0;
	/* TWCGW_TEST_RESOLVE=1 resolves anyway (valgrind --run-libc-freeres=no is then clean). */
	names_ok = getenv("TWCGW_TEST_RESOLVE") || !getenv("LD_PRELOAD") ||
		   !strstr(getenv("LD_PRELOAD"), "vgpreload_memcheck");
	if (!names_ok)
		printf("# under valgrind: no name resolution (glibc's getaddrinfo_a freeres bug), test_hostname skipped\n");
	if (!have_broker)
		printf("# %s is missing (Debian package mosquitto): every test is skipped\n", BROKER_BIN);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/twcgw-mqtt-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	/* The publisher is a plain libmosquitto client of the test's own. */
	mosquitto_lib_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	mosquitto_lib_cleanup();
	for (const char *const *n = (const char *const[]){ "gw.log", "broker.conf", "broker.log", "broker.out",
							"passwd", NULL };
	     *n; n++) {
		path_in(path, sizeof(path), *n);
		unlink(path);
	}
	rmdir(tmpdir);
	return rc;
}
