/*
 * gw_url: the address forms the gateway's transports connect to, split by one set of rules:
 * "tcp://host:port" for an RS-485 bridge, Modbus or MQTT, and "ws[s]://host[:port][/path]" for the
 * central system, plus "IPv4:port" / "[IPv6]:port" for what the HTTP server listens on. Host names
 * are letters, digits, '.', '-', '_'; an IPv6 literal goes in brackets. Pure string code, shared by
 * the config checks and the transports.
 */
#include "gw_url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define LISTEN_HOST_MAX 64 /* an IPv6 literal with a scope or an embedded IPv4 fits with room */

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

int gw_url_listen_parse(const char *spec, struct sockaddr_storage *sa, socklen_t *sl, bool *loopback)
{
	char host[LISTEN_HOST_MAX];
	const char *hb, *he, *colon;
	long port = 0;

	memset(sa, 0, sizeof(*sa));
	if (!spec)
		return -EINVAL;
	if (spec[0] == '[') {
		hb = spec + 1;
		he = strchr(hb, ']');
		if (!he || he[1] != ':')
			return -EINVAL;
		colon = he + 1;
	} else {
		hb = spec;
		colon = strrchr(spec, ':');
		if (!colon)
			return -EINVAL;
		he = colon;
	}
	if (he == hb || (size_t)(he - hb) >= sizeof(host))
		return -EINVAL;
	memcpy(host, hb, (size_t)(he - hb));
	host[he - hb] = '\0';
	/* Digits only (no sign, no blank), leading zeros allowed as the config has always taken them. */
	if (!colon[1])
		return -EINVAL;
	for (const char *p = colon + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		port = port * 10 + (*p - '0');
		if (port > 65535)
			return -EINVAL;
	}
	if (spec[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)sa;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return -EINVAL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*a6);
		*loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)sa;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return -EINVAL;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*sl = sizeof(*a4);
		*loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
	}
	return 0;
}
