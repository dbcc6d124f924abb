/*
 * gw_url: splitting the addresses the transports connect to: "tcp://host:port" (RS-485 bridges,
 * Modbus TCP, MQTT) and "ws[s]://host[:port][/path]" (the central system). One set of host rules for
 * both, used by the config checks and by the transports themselves.
 */
#ifndef GW_URL_H
#define GW_URL_H

#include <stdbool.h>
#include <stddef.h>

#define GW_URL_MAX 256

struct gw_url {
	bool tls;                 /* wss:// */
	char host[GW_URL_MAX];    /* without brackets for an IPv6 literal */
	int port;                 /* 80 / 443 unless given */
	char path[GW_URL_MAX];    /* "" or "/base", no trailing '/' */
};

/**
 * gw_url_host_port_split() - "host:port" or "[v6addr]:port" in @s (@len bytes).
 * @default_port: > 0 lets the port be left out.
 * Return: 0, -EINVAL if malformed, -ENAMETOOLONG if the host does not fit @hostlen.
 */
int gw_url_host_port_split(const char *s, size_t len, char *host, size_t hostlen, int *port, int default_port);

/**
 * gw_url_tcp_split() - split "tcp://host:port" (host may be "[v6addr]").
 * @host, @hostlen: receives the host without brackets.
 * @port: receives the TCP port, 1..65535.
 * Return: 0, -EINVAL if @spec is not a well-formed tcp:// address, -ENAMETOOLONG if the host does
 * not fit.
 */
int gw_url_tcp_split(const char *spec, char *host, size_t hostlen, int *port);

/**
 * gw_url_split() - split "ws[s]://host[:port][/path]" (host may be "[v6addr]").
 * No credentials, query or fragment. Return: 0, or -EINVAL if @url is not such a URL.
 */
int gw_url_split(const char *url, struct gw_url *out);

#endif
