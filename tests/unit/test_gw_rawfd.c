/*
 * Tests of gw_rawfd on a real lws loop: a writer whose socket buffer fills asks for the rest from
 * inside its writeable callback, and every byte still arrives (lws 4.1.6 clears POLLOUT after that
 * callback, so without the rearm the rest would wait for ever); a request made outside the callback
 * works as before.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rearm_inside_writeable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
