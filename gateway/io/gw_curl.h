/*
 * gw_curl: libcurl loaded with dlopen() the first time an HTTP request or file transfer needs it, and
 * its functions reached through one table. Linked in, libcurl maps itself and the ~26 libraries it
 * pulls in (GnuTLS through librtmp, Kerberos, LDAP, SSH, p11-kit...: about 4 MB of RSS) into every
 * twcgw, although the common configuration (OCPP and the bus, no HTTP meter, no vehicle API, no GetLog
 * or firmware transfer yet) never makes a request. curl's headers still give the types and constants
 * at compile time; the table's entries take their exact types from curl's own prototypes. Only
 * gw_http.c uses it. The library stays loaded until the process ends (never dlclose()d: OpenSSL and
 * curl's resolver threads may still refer to it).
 */
#ifndef GW_CURL_H
#define GW_CURL_H

#include <stddef.h>

#include <curl/curl.h>

/* The package that holds it, for the error line (Debian and derivatives). */
#define GW_CURL_SONAME "libcurl.so.4"
#define GW_CURL_PACKAGE "libcurl4"

/* Every curl function gw_http.c calls: X(name) stands for curl_name. */
#define GW_CURL_FUNCS(X)                                                                               \
	X(global_init) X(global_cleanup) X(easy_init) X(easy_setopt) X(easy_getinfo) X(easy_cleanup)   \
	X(easy_strerror) X(easy_escape) X(free) X(getdate) X(slist_append) X(slist_free_all)           \
	X(mime_init) X(mime_free) X(mime_addpart) X(mime_name) X(mime_filename) X(mime_type)           \
	X(mime_data_cb) X(multi_init) X(multi_setopt) X(multi_add_handle) X(multi_remove_handle)       \
	X(multi_info_read) X(multi_socket_action) X(multi_assign) X(multi_strerror) X(multi_cleanup)

struct gw_curl {
#define GW_CURL_FIELD(name) __typeof__(curl_##name) *name;
	GW_CURL_FUNCS(GW_CURL_FIELD)
#undef GW_CURL_FIELD
};

/**
 * gw_curl_open() - load @soname and resolve every function into @t (this process keeps the library).
 * Return: 0, or -ENOSYS with @err (@errlen bytes) saying what is missing: the library (dlerror()) or
 * the first function it lacks; @t is then all NULL and the library is not kept.
 */
int gw_curl_open(const char *soname, struct gw_curl *t, char *err, size_t errlen);

/**
 * gw_curl_load() - the process-wide table from @soname, loaded at the first call only: later calls
 * return the first outcome whatever they name (gw_curl_get() calls it with GW_CURL_SONAME; a test may
 * call it first with another name). A failure is logged once, as an error naming GW_CURL_PACKAGE.
 * Return: the table, or NULL when libcurl cannot be used.
 */
const struct gw_curl *gw_curl_load(const char *soname);

/* gw_curl_load(GW_CURL_SONAME). */
const struct gw_curl *gw_curl_get(void);

#endif
