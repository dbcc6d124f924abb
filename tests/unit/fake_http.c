/*
 * fake_http: the shared parts of the network tests' HTTP server children (see fake_http.h): the
 * loopback listener, the fork with its control pipe, the poll() loop over the connections, and the
 * request parsing each answer function needs.
 */
#include "fake_http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int fake_http_listen(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 64) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

pid_t fake_http_child_fork(struct fake_http_child *c)
{
	int ctl[2];
	pid_t pid;

	if (pipe2(ctl, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(ctl[0]);
		close(ctl[1]);
		return -1;
	}
	if (pid == 0) {
		close(ctl[1]);
		c->ctl = ctl[0];
		return 0;
	}
	close(ctl[0]);
	c->pid = pid;
	c->ctl = ctl[1];
	return pid;
}

void fake_http_child_stop(struct fake_http_child *c)
{
	if (c->ctl >= 0)
		close(c->ctl);
	if (c->pid > 0)
		waitpid(c->pid, NULL, 0);
}

void fake_http_conn_close(struct fake_http_conn *c)
{
	close(c->fd);
	c->fd = -1;
}

void fake_http_serve(int lfd, int ctl, fake_http_input_fn *input, void *user)
{
	static struct fake_http_conn conns[FAKE_HTTP_MAX_CONNS];
	struct pollfd pfd[FAKE_HTTP_MAX_CONNS + 2];
	int next_id = 1;

	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < FAKE_HTTP_MAX_CONNS; i++)
		conns[i].fd = -1;
	for (;;) {
		int n = 0, map[FAKE_HTTP_MAX_CONNS];

		pfd[n++] = (struct pollfd){ .fd = ctl, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (int i = 0; i < FAKE_HTTP_MAX_CONNS; i++) {
			if (conns[i].fd >= 0) {
				map[n - 2] = i;
				pfd[n++] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
			}
		}
		if (poll(pfd, (nfds_t)n, -1) < 0)
			continue;
		if (pfd[0].revents)
			_exit(0);
		for (int k = 2; k < n; k++) {
			struct fake_http_conn *c = &conns[map[k - 2]];
			ssize_t r;

			if (!pfd[k].revents)
				continue;
			if (c->len == FAKE_HTTP_CONN_BUF) {
				fake_http_conn_close(c);
				continue;
			}
			r = read(c->fd, c->buf + c->len, FAKE_HTTP_CONN_BUF - c->len);
			/* A stalled connection only waits for its client to give up. */
			if (r <= 0 || c->stalled) {
				fake_http_conn_close(c);
				continue;
			}
			c->len += (size_t)r;
			c->buf[c->len] = '\0';
			input(c, user);
		}
		if (pfd[1].revents & POLLIN) {
			int fd = accept(lfd, NULL, NULL);

			for (int i = 0; fd >= 0 && i < FAKE_HTTP_MAX_CONNS; i++) {
				if (conns[i].fd < 0) {
					conns[i] = (struct fake_http_conn){ .fd = fd, .id = next_id++ };
					fd = -1;
				}
			}
			if (fd >= 0)
				close(fd);
		}
	}
}

void fake_http_send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

void fake_http_req_path(const char *req, char *out, size_t outsz)
{
	const char *sp = strchr(req, ' ');
	size_t k = 0;

	if (sp)
		for (sp++; *sp && *sp != ' ' && *sp != '\r' && *sp != '\n' && k + 1 < outsz; sp++)
			out[k++] = *sp;
	out[k] = '\0';
}

size_t fake_http_req_content_length(const char *head, size_t head_len)
{
	const char *p = head;
	const char *end = head + head_len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			break;
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			return (size_t)strtoul(p + 15, NULL, 10);
		p = nl + 1;
	}
	return 0;
}

char *fake_http_url(int port, const char *path)
{
	static char url[8][128];
	static int i;
	char *u = url[i++ % 8];

	snprintf(u, sizeof(url[0]), "http://127.0.0.1:%d%s", port, path);
	return u;
}
