/*
 * gw_url: the address forms the gateway's transports connect to, split by one set of rules:
 * "tcp://host:port" for an RS-485 bridge, Modbus or MQTT, and "ws[s]://host[:port][/path]" for the
 * central system. Host names are letters, digits, '.', '-', '_'; an IPv6 literal goes in brackets.
 * Pure string code, shared by the config checks and the transports.
 */
#include "gw_url.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

int gw_url_host_port_split(const char *s, size_t len, char *host, size_t hostlen, int *port, int default_port)
{
	const char *end = s + len, *h = s, *h_end, *p;

	if (len && *h == '[') {
		h++;
		h_end = memchr(h, ']', (size_t)(end - h));
		if (!h_end || (h_end + 1 < end && h_end[1] != ':'))
			return -EINVAL;
		p = h_end + 1 < end ? h_end + 2 : NULL;
		for (const char *c = h; c < h_end; c++)
			if (!isxdigit((unsigned char)*c) && *c != ':' && *c != '.')
				return -EINVAL;
	} else {
		h_end = memchr(h, ':', len);
		p = h_end ? h_end + 1 : NULL;
		if (!h_end)
			h_end = end;
		for (const char *c = h; c < h_end; c++)
			if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' && *c != '_')
				return -EINVAL;
	}
	if (h_end == h || (!p && default_port <= 0))
		return -EINVAL;
	*port = default_port;
	if (p) {
		size_t plen = (size_t)(end - p);
		long v = 0;

		if (plen > 5 || !all_digits(p, plen))
			return -EINVAL;
		for (size_t i = 0; i < plen; i++)
			v = v * 10 + (p[i] - '0');
		if (v < 1 || v > 65535)
			return -EINVAL;
		*port = (int)v;
	}
	if ((size_t)(h_end - h) >= hostlen)
		return -ENAMETOOLONG;
	memcpy(host, h, (size_t)(h_end - h));
	host[h_end - h] = '\0';
	return 0;
}

int gw_url_tcp_split(const char *spec, char *host, size_t hostlen, int *port)
{
	static const char scheme[] = "tcp://";

	if (strncmp(spec, scheme, sizeof(scheme) - 1) != 0)
		return -EINVAL;
	spec += sizeof(scheme) - 1;
	return gw_url_host_port_split(spec, strlen(spec), host, hostlen, port, 0);
}

int gw_url_split(const char *url, struct gw_url *out)
{
	const char *auth, *path;
	size_t plen;

	memset(out, 0, sizeof(*out));
	if (strncmp(url, "ws://", 5) == 0) {
		auth = url + 5;
	} else if (strncmp(url, "wss://", 6) == 0) {
		out->tls = true;
		auth = url + 6;
	} else {
		return -EINVAL;
	}
	path = auth + strcspn(auth, "/");
	if (gw_url_host_port_split(auth, (size_t)(path - auth), out->host, sizeof(out->host), &out->port,
			    out->tls ? 443 : 80) != 0)
		return -EINVAL;
	/* The charge box ID becomes the last path segment: a query or fragment has no place. */
	for (const char *c = path; *c; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f || *c == '?' || *c == '#')
			return -EINVAL;
	plen = strlen(path);
	while (plen && path[plen - 1] == '/')
		plen--;
	if (plen >= sizeof(out->path))
		return -EINVAL;
	memcpy(out->path, path, plen);
	out->path[plen] = '\0';
	return 0;
}
