/*
 * gw_config_http: the http section's own rules. http.listen is one address or a list of them, each
 * "IPv4:port" or "[IPv6]:port" (a literal: a name could resolve to more than the operator meant to
 * expose). Listening beyond loopback needs a credential (http.passwordHash or http.token), because the
 * controls change what the chargers may draw; certFile and keyFile come together.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gw_auth.h"
#include "gw_config_internal.h"
#include "gw_url.h"

#define HTTP_DEFAULT_LISTEN "127.0.0.1:8080"

/* The address syntax is gw_url's, shared with the HTTP server that binds it: what passes here binds. */
static bool listen_parse(const char *s, bool *loopback)
{
	struct sockaddr_storage sa;
	socklen_t sl;

	return gw_url_listen_parse(s, &sa, &sl, loopback) == 0;
}

int gw_config_listen_check(const char *addr)
{
	bool loopback;

	return addr && strlen(addr) < 64 && listen_parse(addr, &loopback) ? 0 : -EINVAL;
}

static int listen_one(const json_t *v, const char *where, struct gw_config *cfg, char *err, size_t errlen)
{
	struct gw_config_http *h = &cfg->http;
	char got[GOT_MAX];
	bool loopback = false;
	const char *s = json_string_value(v);

	if (!s || !listen_parse(s, &loopback) || strlen(s) >= sizeof(h->listen[0])) {
		gw_config_value_describe(v, false, got, sizeof(got));
		gw_config_err_set(err, errlen,
				  "config: %s: must be \"address:port\" with a literal address, such as \"127.0.0.1:8080\" "
				  "or \"[::]:8080\" (got %s)", where, got);
		return -EINVAL;
	}
	if (h->n_listen >= GW_CONFIG_HTTP_LISTEN_MAX) {
		gw_config_err_set(err, errlen, "config: http.listen: at most %d addresses", GW_CONFIG_HTTP_LISTEN_MAX);
		return -EINVAL;
	}
	memcpy(h->listen[h->n_listen++], s, strlen(s) + 1);
	h->beyond_loopback = h->beyond_loopback || !loopback;
	return 0;
}

int gw_config_http_listen_apply(const json_t *v, struct gw_config *cfg, char *err, size_t errlen)
{
	char where[48];
	size_t i;
	json_t *e;

	cfg->http.n_listen = 0;
	if (!v)
		return 0; /* absent: gw_config_http_check() puts the default in */
	if (json_is_string(v))
		return listen_one(v, "http.listen", cfg, err, errlen);
	if (json_array_size(v) == 0) {
		gw_config_err_set(err, errlen, "config: http.listen: must name at least one address");
		return -EINVAL;
	}
	json_array_foreach(v, i, e) {
		int rc;

		snprintf(where, sizeof(where), "http.listen[%zu]", i);
		rc = listen_one(e, where, cfg, err, errlen);
		if (rc)
			return rc;
	}
	return 0;
}

static int file_readable(const char *key, const char *path, char *err, size_t errlen)
{
	if (access(path, R_OK) != 0) {
		char shown[GOT_MAX];

		gw_config_text_sanitize(path, shown, sizeof(shown));
		gw_config_err_set(err, errlen, "config: %s: cannot read \"%s\" (%s)", key, shown, strerror(errno));
		return -EINVAL;
	}
	return 0;
}

int gw_config_http_check(struct gw_config *cfg, const json_t *root, char *err, size_t errlen)
{
	struct gw_config_http *h = &cfg->http;
	char why[160];
	int rc;

	h->enabled = gw_config_path_lookup(root, "http") != NULL;
	if (!h->enabled)
		return 0;
	if (h->n_listen == 0) {
		memcpy(h->listen[0], HTTP_DEFAULT_LISTEN, sizeof(HTTP_DEFAULT_LISTEN));
		h->n_listen = 1;
	}
	if (!h->cert_file[0] != !h->key_file[0]) {
		gw_config_err_set(err, errlen, "config: %s: required with %s (HTTPS needs both)",
				  h->cert_file[0] ? "http.keyFile" : "http.certFile",
				  h->cert_file[0] ? "http.certFile" : "http.keyFile");
		return -EINVAL;
	}
	if (h->cert_file[0]) {
		rc = file_readable("http.certFile", h->cert_file, err, errlen);
		if (!rc)
			rc = file_readable("http.keyFile", h->key_file, err, errlen);
		if (rc)
			return rc;
	}
	if (h->password_hash[0] && gw_auth_hash_check(h->password_hash, why, sizeof(why)) != 0) {
		gw_config_err_set(err, errlen, "config: http.passwordHash: %s (make one with twcgw --hash-password)", why);
		return -EINVAL;
	}
	if (h->token[0] && strlen(h->token) < 16) {
		gw_config_err_set(err, errlen, "config: http.token: must be at least 16 characters");
		return -EINVAL;
	}
	if (h->beyond_loopback && !h->password_hash[0] && !h->token[0]) {
		gw_config_err_set(err, errlen,
				  "config: http.listen: an address beyond loopback needs http.passwordHash or http.token "
				  "(anyone on the network could change what the chargers draw)");
		return -EINVAL;
	}
	return 0;
}
