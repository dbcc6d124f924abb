/*
 * Tests of gw_rawfd on a real lws loop: a writer whose socket buffer fills asks for the rest from
 * inside its writeable callback, and every byte still arrives (lws 4.1.6 clears POLLOUT after that
 * callback, so without the rearm the rest would wait for ever); a request made outside the callback
 * works as before. And gw_port_rx_gather() on a port over a socketpair: bytes that come one at a
 * time while it gathers are read in one go when it ends, and none is lost.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "gw_loop.h"
#include "gw_port.h"
#include "gw_rawfd.h"
#include "gw_timer.h"

#define TOTAL (4u * 1024u * 1024u)
#define CHUNK 65536u

struct pipe_test {
	struct gw_loop *loop;
	struct gw_rawfd wr, rd;
	int wfd, rfd;
	size_t sent, got;
	unsigned writeables, partial;
	uint8_t pattern_ok;
	lws_sorted_usec_list_t sul_timeout;
};

static int on_writeable(void *owner)
{
	struct pipe_test *t = owner;
	static uint8_t buf[CHUNK];

	t->writeables++;
	while (t->sent < TOTAL) {
		size_t n = TOTAL - t->sent < CHUNK ? TOTAL - t->sent : CHUNK;
		ssize_t w;

		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)((t->sent + i) & 0xff);
		w = write(t->wfd, buf, n);
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* Full: the rest when it drains, asked for from inside the callback. */
			t->partial++;
			gw_rawfd_want_write(&t->wr);
			return 0;
		}
		assert_true(w > 0);
		t->sent += (size_t)w;
	}
	return 0;
}

static int on_rx(void *owner)
{
	struct pipe_test *t = owner;
	uint8_t buf[CHUNK];
	ssize_t n = read(t->rfd, buf, sizeof(buf));

	if (n <= 0)
		return 0;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] != (uint8_t)((t->got + (size_t)i) & 0xff))
			t->pattern_ok = 0;
	t->got += (size_t)n;
	if (t->got == TOTAL)
		gw_loop_stop(t->loop, 0);
	return 0;
}

static void on_close(void *owner)
{
	(void)owner;
}

static const struct gw_rawfd_ops wr_ops = { .on_writeable = on_writeable, .on_close = on_close };
static const struct gw_rawfd_ops rd_ops = { .on_rx = on_rx, .on_close = on_close };

static void timeout_cb(lws_sorted_usec_list_t *sul)
{
	struct pipe_test *t = lws_container_of(sul, struct pipe_test, sul_timeout);

	gw_loop_stop(t->loop, -ETIMEDOUT);
}

/* 4 MiB through a socketpair with small buffers: dozens of partial writes, each continued by a
 * request made inside on_writeable. */
static void test_rearm_inside_writeable(void **state)
{
	struct gw_loop_handlers h = { 0 };
	struct pipe_test *t = calloc(1, sizeof(*t));
	int sv[2], small = 4096, rc;

	(void)state;
	assert_non_null(t);
	t->pattern_ok = 1;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	t->wfd = sv[0];
	t->rfd = sv[1];
	t->loop = gw_loop_new(&h);
	assert_non_null(t->loop);
	assert_int_equal(gw_rawfd_adopt(&t->wr, t->loop, t->wfd, true, &wr_ops, t), 0);
	assert_int_equal(gw_rawfd_adopt(&t->rd, t->loop, t->rfd, true, &rd_ops, t), 0);
	/* Outside any callback: the first request goes straight to lws. */
	gw_rawfd_want_write(&t->wr);
	gw_timer_in(t->loop, NULL, &t->sul_timeout, timeout_cb, 10000);
	rc = gw_loop_run(t->loop);
	assert_int_equal(rc, 0);
	assert_int_equal(t->got, TOTAL);
	assert_true(t->pattern_ok);
	assert_true(t->partial > 10);
	assert_true(t->writeables > t->partial);
	lws_sul_cancel(&t->sul_timeout);
	gw_rawfd_detach(&t->wr);
	gw_rawfd_detach(&t->rd);
	gw_loop_free(t->loop);
	close(sv[0]);
	close(sv[1]);
	free(t);
}

/* ---- gw_port_rx_gather ---- */

#define GATHER_MS 60
#define DRIP 4 /* bytes written one at a time while the port gathers */

struct gather_test {
	struct gw_loop *loop;
	struct gw_port *port;
	int peer;                  /* the other end of the socketpair: the "bus" */
	int reads;
	size_t got, first_len, second_len;
	uint8_t data[16];
	int dripped;
	lws_sorted_usec_list_t sul_drip[DRIP], sul_first, sul_end;
};

static struct gather_test *G;

static void gather_rx(void *user, const uint8_t *bytes, size_t len)
{
	struct gather_test *t = user;

	assert_true(t->got + len <= sizeof(t->data));
	memcpy(t->data + t->got, bytes, len);
	t->got += len;
	t->reads++;
	if (t->reads == 1) {
		t->first_len = len;
		/* The frame's first byte is in: gather the rest. */
		gw_port_rx_gather(t->port, GATHER_MS);
	} else if (t->reads == 2) {
		t->second_len = len;
	}
}

static void gather_up(void *user)
{
	(void)user;
}

static void drip_cb(lws_sorted_usec_list_t *sul)
{
	uint8_t b = (uint8_t)(0x10 + G->dripped);

	(void)sul;
	assert_int_equal(write(G->peer, &b, 1), 1);
	G->dripped++;
}

static void first_cb(lws_sorted_usec_list_t *sul)
{
	uint8_t b = 0xC0;

	(void)sul;
	assert_int_equal(write(G->peer, &b, 1), 1);
	/* One byte every 5 ms from 10 ms on, all before the gathering (60 ms from the first read) ends. */
	for (int i = 0; i < DRIP; i++)
		gw_timer_in(G->loop, NULL, &G->sul_drip[i], drip_cb, 10 + 5 * (uint64_t)i);
}

static void end_cb(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	gw_loop_stop(G->loop, 0);
}

static void test_port_rx_gather(void **state)
{
	struct gw_loop_handlers h = { 0 };
	struct gw_port_handlers ph = { .on_rx = gather_rx, .on_up = gather_up };
	struct gather_test *t = calloc(1, sizeof(*t));
	int sv[2];

	(void)state;
	assert_non_null(t);
	G = t;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	t->peer = sv[1];
	t->loop = gw_loop_new(&h);
	assert_non_null(t->loop);
	ph.user = t;
	t->port = gw_port_new_fd(t->loop, sv[0], "pair", &ph);
	assert_non_null(t->port);
	assert_int_equal(gw_port_start(t->port), 0);
	gw_timer_in(t->loop, NULL, &t->sul_first, first_cb, 50);
	gw_timer_in(t->loop, NULL, &t->sul_end, end_cb, 400);
	assert_int_equal(gw_loop_run(t->loop), 0);
	/* The first byte alone, then the four that came while gathering, in one read; none lost. */
	assert_int_equal(t->dripped, DRIP);
	assert_int_equal(t->got, 1 + DRIP);
	assert_int_equal(t->reads, 2);
	assert_int_equal(t->first_len, 1);
	assert_int_equal(t->second_len, DRIP);
	assert_int_equal(t->data[0], 0xC0);
	for (int i = 0; i < DRIP; i++)
		assert_int_equal(t->data[1 + i], 0x10 + i);
	gw_port_free(t->port);
	gw_loop_free(t->loop);
	close(sv[1]);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rearm_inside_writeable),
		cmocka_unit_test(test_port_rx_gather),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
