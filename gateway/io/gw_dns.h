/*
 * gw_dns: name resolution that never blocks the loop. glibc's getaddrinfo_a() resolves on its own
 * helper thread; the caller polls gw_dns_result() from an lws_sul, so a slow or dead DNS server
 * never stalls the bus or the OCPP link. A numeric address is answered at once, without the
 * resolver. Used for tcp:// bus ports and the OCPP websocket.
 */
#ifndef GW_DNS_H
#define GW_DNS_H

#include <netdb.h>
#include <stdbool.h>

#define GW_DNS_POLL_US 20000 /* how often callers poll a request in flight */

struct gw_dns;

/**
 * gw_dns_start() - start resolving @host (TCP, @service a port number as text).
 * @host, @service: copied.
 * @gai: set to an EAI_ code when NULL is returned.
 * Return: the request, or NULL (malformed address or the resolver refused the request).
 */
struct gw_dns *gw_dns_start(const char *host, const char *service, int *gai);

/**
 * gw_dns_result() - whether the request is done.
 * Return: EAI_INPROGRESS while it runs, 0 once resolved (*@out then takes the list: freeaddrinfo()
 * it), or the EAI_ code of the failure (gai_strerror() describes it). Call gw_dns_release() after
 * anything but EAI_INPROGRESS.
 */
int gw_dns_result(struct gw_dns *d, struct addrinfo **out);

/**
 * gw_dns_release() - give up a request (done or not) and free it, now or, while glibc's thread
 * may still write into it, at a later release. NULL releases nothing new.
 * @wait: block up to 2 s for requests glibc cannot cancel yet (teardown only); one that runs
 * longer than that is left allocated.
 */
void gw_dns_release(struct gw_dns *d, bool wait);

#endif
