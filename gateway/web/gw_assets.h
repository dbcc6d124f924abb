/*
 * gw_assets: the status page's files (web/), embedded in the binary at build time by
 * cmake/embed_assets.cmake, so twcgw serves its page with nothing to install beside it and loads
 * nothing from outside the machine.
 */
#ifndef GW_ASSETS_H
#define GW_ASSETS_H

#include <stddef.h>

struct gw_asset {
	const char *path;         /* "/", "/app.js", "/uPlot.min.js", ... */
	const char *content_type; /* with charset for text */
	const unsigned char *data;
	size_t len;
	const char *etag;         /* quoted hash of the content */
};

/* The asset served at @path ("/" is index.html), or NULL. */
const struct gw_asset *gw_asset_find(const char *path);

/* All of them, for tests and the page-weight figure; *@n set to their number. */
const struct gw_asset *gw_assets_all(size_t *n);

#endif
