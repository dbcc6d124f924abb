/*
 * gw_curl: libcurl.so.4 opened on first use and its functions resolved one by one, each checked, so
 * that a twcgw whose configuration makes no HTTP request never maps libcurl and its dependencies
 * (see gw_curl.h). A missing library or function is an error logged once with the package to install;
 * gw_http then fails its requests with -ENOSYS rather than the whole gateway failing to start.
 */
#include "gw_curl.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "gw_log.h"

int gw_curl_open(const char *soname, struct gw_curl *t, char *err, size_t errlen)
{
	void *lib;
	const char *e;

	memset(t, 0, sizeof(*t));
	(void)dlerror();
	lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		e = dlerror();
		snprintf(err, errlen, "%s", e ? e : soname);
		return -ENOSYS;
	}
	/* The cast through void ** is how POSIX says to store dlsym()'s result in a function pointer. */
#define GW_CURL_RESOLVE(name)                                                          \
	*(void **)&t->name = dlsym(lib, "curl_" #name);                                  \
	if (!t->name) {                                                                  \
		snprintf(err, errlen, "%s has no curl_%s (too old a libcurl?)", soname, #name); \
		goto missing;                                                            \
	}
	GW_CURL_FUNCS(GW_CURL_RESOLVE)
#undef GW_CURL_RESOLVE
	return 0;

missing:
	memset(t, 0, sizeof(*t));
	dlclose(lib);
	return -ENOSYS;
}

static struct {
	bool tried;
	int rc;
	struct gw_curl t;
} C;

const struct gw_curl *gw_curl_load(const char *soname)
{
	char err[512];

	if (!C.tried) {
		C.tried = true;
		C.rc = gw_curl_open(soname, &C.t, err, sizeof(err));
		/* Once: a meter polled every few seconds would otherwise repeat it forever. */
		if (C.rc)
			gw_log_error("http: libcurl cannot be loaded (%s): every HTTP request and file transfer "
				     "fails; install the package %s",
				     err, GW_CURL_PACKAGE);
		else
			gw_log_debug("http: %s loaded", soname);
	}
	return C.rc ? NULL : &C.t;
}

const struct gw_curl *gw_curl_get(void)
{
	return gw_curl_load(GW_CURL_SONAME);
}
