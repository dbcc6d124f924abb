/*
 * fake_http: what the small HTTP servers of the gateway's network tests (test_gw_http, test_gw_logs,
 * test_gw_firmware) have in common. Each runs in a forked child, started before any loop exists and
 * stopped by closing a pipe; it listens on a free loopback port; most serve many connections from
 * one poll() loop and hand each connection's bytes to the test's own answer function. What a server
 * answers, and when, stays in its test.
 */
#ifndef FAKE_HTTP_H
#define FAKE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define FAKE_HTTP_MAX_CONNS 64
#define FAKE_HTTP_CONN_BUF 16384

/* A server child. */
struct fake_http_child {
	pid_t pid; /* -1 until forked */
	int ctl;   /* the parent's end of the control pipe: closing it tells the child to exit */
};

#define FAKE_HTTP_CHILD_INIT { .pid = -1, .ctl = -1 }

/* One connection of fake_http_serve(). */
struct fake_http_conn {
	int fd;       /* -1: a free slot */
	int id;       /* 1, 2, ... in the order the connections were accepted */
	int reqs;     /* the answer function's own count */
	bool stalled; /* whatever arrives next closes it (a server that stopped half way) */
	size_t len;
	char buf[FAKE_HTTP_CONN_BUF + 1]; /* what arrived and is not answered yet, NUL-terminated */
};

/* Called with c->buf grown by what just arrived; answers what is complete, keeps the rest (or
 * closes @c with fake_http_conn_close()). */
typedef void fake_http_input_fn(struct fake_http_conn *c, void *user);

/* A listening TCP socket on 127.0.0.1 at a free port (in *@port). Return it, or -1. */
int fake_http_listen(int *port);

/* fork() with a control pipe. Return 0 in the child, whose c->ctl is then the pipe's read end (to
 * poll, or to hand fake_http_serve()); the pid in the parent, which keeps the write end in c->ctl;
 * -1 on error. */
pid_t fake_http_child_fork(struct fake_http_child *c);

/* Close the control pipe and wait for the child to exit. */
void fake_http_child_stop(struct fake_http_child *c);

/* Serve connections on @lfd until @ctl closes (the child then exits): every read goes to @input.
 * A full buffer, a stalled connection that gets more, and the peer's close end the connection. */
void fake_http_serve(int lfd, int ctl, fake_http_input_fn *input, void *user) __attribute__((noreturn));

void fake_http_conn_close(struct fake_http_conn *c);

/* Send all of @buf; a peer that went away ends it quietly. */
void fake_http_send_all(int fd, const void *buf, size_t len);

/* The request target (the request line's second word) of @req into @out, cut to fit; "" if none. */
void fake_http_req_path(const char *req, char *out, size_t outsz);

/* The Content-Length of the request head @head (@head_len bytes); 0 when it has none. */
size_t fake_http_req_content_length(const char *head, size_t head_len);

/* "http://127.0.0.1:@port@path" in one of eight rotating buffers. */
char *fake_http_url(int port, const char *path);

#endif
