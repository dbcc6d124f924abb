/*
 * gw_url: splitting the addresses the transports connect to: "tcp://host:port" (RS-485 bridges,
 * Modbus TCP, MQTT) and "ws[s]://host[:port][/path]" (the central system), and the addresses the HTTP
 * server listens on. One set of rules each, used by the config checks and by the code that connects
 * or binds.
 */
#ifndef GW_URL_H
#define GW_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

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

/**
 * gw_url_listen_parse() - an address to listen on: "a.b.c.d:port" or "[v6addr]:port", a literal
 * (a name could resolve to more than the operator meant to expose), port 0..65535 in decimal (0: any
 * free port). One reading for the config check and the HTTP server that binds it.
 * @sa, @sl: receive the socket address (zeroed first) and its length.
 * @loopback: set when the address is in 127.0.0.0/8 or is ::1.
 * Return: 0, or -EINVAL if @spec is NULL or not such an address.
 */
int gw_url_listen_parse(const char *spec, struct sockaddr_storage *sa, socklen_t *sl, bool *loopback);

#endif
