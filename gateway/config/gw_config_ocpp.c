/*
 * gw_config_ocpp: the rules of the ocpp and tesla sections beyond type and range: the URL, charge box
 * id, authorization key, idTag and CA file checks (the http URL and CA file checks serve ems too),
 * ocpp.keys against the OCPP core's own key table, the TLS files of security profiles 2 and 3 (read
 * and checked with certs/, so `twcgw -n` finds a wrong pair before the central system does), and the
 * requirements between each section's keys.
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "certs.h"
#include "gw_config_internal.h"
#include "ocpp_config.h"

int gw_config_ws_url_parse(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen)
{
	struct gw_url u;

	if (gw_url_split(value, &u) != 0) {
		snprintf(why, whylen, "must be ws://host[:port][/path] or wss://host[:port][/path] with port 1 to "
			 "65535 and no user, query or fragment");
		return -EINVAL;
	}
	return gw_config_string_copy(k, value, field, why, whylen);
}

int gw_config_cbid_parse(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen)
{
	size_t len = strlen(value);
	bool ok = len >= 1 && len <= GW_CONFIG_CBID_MAX;

	/* It is a URL path segment: '/' would split it, and the rest is percent-encoded when sent. */
	for (size_t i = 0; ok && i < len; i++)
		ok = (unsigned char)value[i] > 0x20 && value[i] != 0x7f && value[i] != '/';
	if (!ok) {
		snprintf(why, whylen, "must be 1 to %d characters without '/', spaces or control characters",
			 GW_CONFIG_CBID_MAX);
		return -EINVAL;
	}
	return gw_config_string_copy(k, value, field, why, whylen);
}

/* The OCPP core's own rule for AuthorizationKey decides, so the file and ChangeConfiguration agree. */
int gw_config_auth_key_parse(const struct key_spec *k, const char *value, void *field, char *why,
			     size_t whylen)
{
	const struct ocpp_key_info *info = ocpp_config_info(OCPP_KEY_AUTHORIZATION_KEY);
	struct ocpp_config *scratch = ocpp_config_new();
	int rc = scratch && value[0] ? ocpp_config_set(scratch, OCPP_KEY_AUTHORIZATION_KEY, value) : -EINVAL;

	ocpp_config_free(scratch);
	if (rc) {
		snprintf(why, whylen, "must be %ld to %ld printable ASCII characters other than ':'", info->min,
			 info->max);
		return -EINVAL;
	}
	return gw_config_string_copy(k, value, field, why, whylen);
}

int gw_config_ca_file_parse(const struct key_spec *k, const char *value, void *field, char *why,
			    size_t whylen)
{
	struct stat st;
	const char *fail = NULL;

	if (value[0] != '/')
		fail = "not absolute";
	else if (stat(value, &st) != 0 || access(value, R_OK) != 0)
		fail = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		fail = "not a regular file";
	if (fail) {
		snprintf(why, whylen, "must be the absolute path of a readable file: %s", fail);
		return -EINVAL;
	}
	return gw_config_string_copy(k, value, field, why, whylen);
}

/* An http:// or https:// URL with a host, no spaces. */
int gw_config_http_url_parse(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen)
{
	const char *host = !strncmp(value, "https://", 8) ? value + 8 : !strncmp(value, "http://", 7) ? value + 7 : NULL;
	bool ok = host && host[0] && host[0] != '/';

	for (const char *p = value; ok && *p; p++)
		ok = (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f;
	if (!ok) {
		snprintf(why, whylen, "must be an http:// or https:// URL");
		return -EINVAL;
	}
	return gw_config_string_copy(k, value, field, why, whylen);
}

int gw_config_id_tag_parse(const struct key_spec *k, const char *value, void *field, char *why,
			   size_t whylen)
{
	size_t len = strlen(value);
	bool ok = len >= 1 && len <= OCPP_IDTAG_MAX;

	for (size_t i = 0; ok && i < len; i++)
		ok = value[i] > 0x20 && value[i] < 0x7f;
	if (!ok) {
		snprintf(why, whylen, "must be 1 to %d printable ASCII characters without spaces", OCPP_IDTAG_MAX);
		return -EINVAL;
	}
	return gw_config_string_copy(k, value, field, why, whylen);
}

/* ---- ocpp.keys: initial values of the charge point's OCPP configuration keys ---- */

/* What the OCPP core's rule for @info asks for, for a message. */
static void key_rule(const struct ocpp_key_info *info, char *out, size_t outlen)
{
	switch (info->type) {
	case OCPP_KT_BOOL:
		snprintf(out, outlen, "must be true or false");
		break;
	case OCPP_KT_INT:
		snprintf(out, outlen, "must be an integer from %ld to %ld", info->min, info->max);
		break;
	case OCPP_KT_CSL:
		snprintf(out, outlen, "must be a comma-separated list of at most %ld known items", info->max);
		break;
	case OCPP_KT_STRING:
		snprintf(out, outlen, "must be %ld to %ld characters", info->min, info->max);
		break;
	}
}

/* A member's value as the text ChangeConfiguration would carry: "300", "true", or the string. */
static bool key_text(const json_t *v, char *out, size_t outlen)
{
	if (json_is_string(v))
		return strlen(json_string_value(v)) == json_string_length(v) &&
		       (size_t)snprintf(out, outlen, "%s", json_string_value(v)) < outlen;
	if (json_is_integer(v))
		return (size_t)snprintf(out, outlen, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < outlen;
	if (json_is_boolean(v))
		return (size_t)snprintf(out, outlen, "%s", json_is_true(v) ? "true" : "false") < outlen;
	return false;
}

/* Check one member against a scratch copy of the core's key table and keep it. */
static int ocpp_key_add(struct ocpp_config *scratch, const char *name, const json_t *v, struct gw_config_ocpp *o,
			char *err, size_t errlen)
{
	char shown[KEY_PATH_MAX], got[GOT_MAX], must[96], text[OCPP_CONFIG_VALUE_MAX + 1];
	const struct ocpp_key_info *info;
	int k = ocpp_config_find(name);

	gw_config_text_sanitize(name, shown, sizeof(shown));
	if (k < 0) {
		gw_config_err_set(err, errlen,
			"config: ocpp.keys.%s: not a configuration key of this charge point", shown);
		return -EINVAL;
	}
	info = ocpp_config_info((enum ocpp_key)k);
	/* One place for each secret and for the profile: the dedicated keys, never echoed here. */
	if (k == OCPP_KEY_AUTHORIZATION_KEY || k == OCPP_KEY_SECURITY_PROFILE) {
		gw_config_err_set(err, errlen, "config: ocpp.keys.%s: set it with ocpp.%s", shown,
			k == OCPP_KEY_AUTHORIZATION_KEY ? "authorizationKey" : "securityProfile");
		return -EINVAL;
	}
	/* AdditionalRootCertificateCheck is read-only for the central system (whitepaper 6.3) but the
	 * operator's choice: the file sets it. */
	if (info->access == OCPP_KA_R && k != OCPP_KEY_ADDITIONAL_ROOT_CERTIFICATE_CHECK) {
		gw_config_err_set(err, errlen,
			"config: ocpp.keys.%s: read-only; the charge point sets it itself", shown);
		return -EINVAL;
	}
	for (int i = 0; i < o->n_keys; i++) {
		if (strcmp(o->keys[i].name, info->name) == 0) {
			gw_config_err_set(err, errlen, "config: ocpp.keys.%s: %s is given twice", shown, info->name);
			return -EINVAL;
		}
	}
	if (o->n_keys >= GW_CONFIG_OCPP_KEYS_MAX) {
		gw_config_err_set(err, errlen, "config: ocpp.keys: at most %d keys", GW_CONFIG_OCPP_KEYS_MAX);
		return -EINVAL;
	}
	if (!key_text(v, text, sizeof(text)) || ocpp_config_set(scratch, (enum ocpp_key)k, text) != 0) {
		gw_config_value_describe(v, false, got, sizeof(got));
		if (json_is_string(v) || json_is_integer(v) || json_is_boolean(v))
			key_rule(info, must, sizeof(must));
		else
			snprintf(must, sizeof(must), "must be a string, an integer or a boolean");
		gw_config_err_set(err, errlen, "config: ocpp.keys.%s: %s (got %s)", shown, must, got);
		return -EINVAL;
	}
	snprintf(o->keys[o->n_keys].name, sizeof(o->keys[0].name), "%s", info->name);
	snprintf(o->keys[o->n_keys].value, sizeof(o->keys[0].value), "%s", text);
	o->n_keys++;
	return 0;
}

int gw_config_ocpp_keys_apply(const json_t *obj, struct gw_config *cfg, char *err, size_t errlen)
{
	struct ocpp_config *scratch;
	const char *name;
	json_t *v;
	int rc = 0;

	if (!obj)
		return 0;
	scratch = ocpp_config_new();
	if (!scratch) {
		gw_config_err_set(err, errlen, "config: ocpp.keys: out of memory");
		return -ENOMEM;
	}
	json_object_foreach((json_t *)obj, name, v) {
		rc = ocpp_key_add(scratch, name, v, &cfg->ocpp, err, errlen);
		if (rc)
			break;
	}
	ocpp_config_free(scratch);
	return rc;
}

int gw_config_exec_parse(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen)
{
	struct stat st;
	const char *fail = NULL;

	if (value[0] != '/')
		fail = "not absolute";
	else if (stat(value, &st) != 0 || access(value, X_OK) != 0)
		fail = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		fail = "not a regular file";
	if (fail) {
		snprintf(why, whylen, "must be the absolute path of an executable file: %s", fail);
		return -EINVAL;
	}
	return gw_config_string_copy(k, value, field, why, whylen);
}

/* A whole PEM file into @buf (NUL-terminated); -EFBIG past @size - 1 bytes. */
static int pem_read(const char *path, char *buf, size_t size, size_t *len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, size, f);
	fclose(f);
	if (n >= size)
		return -EFBIG;
	buf[n] = '\0';
	*len = n;
	return 0;
}

#define PEM_FILE_MAX 16384

/* Whether the certificate store in @data_dir already holds @name (gw_certs' layout): the config's
 * file was a seed, used at the first start; the store's own certificate counts from then on, and an
 * expired seed must not stop a charge point whose central system rotated the certificate since. */
static bool store_has(const char *data_dir, const char *name)
{
	char path[GW_CONFIG_PATH_MAX + 32];
	int n = snprintf(path, sizeof(path), "%s/certs/%s", data_dir, name);

	return data_dir[0] && n > 0 && (size_t)n < sizeof(path) && access(path, F_OK) == 0;
}

static bool time_reason(enum certs_reason r)
{
	return r == CERTS_E_EXPIRED || r == CERTS_E_NOT_YET_VALID;
}

/* ocpp.caFile for profiles 2 and 3 (only CA certificates, valid now unless the store took over). */
static int ocpp_ca_check(const struct gw_config *cfg, char *buf, int64_t now, char *err, size_t errlen)
{
	const struct gw_config_ocpp *o = &cfg->ocpp;
	enum certs_reason r = CERTS_E_PARSE;
	size_t len = 0;

	if (!o->ca_file[0] || o->security_profile < 2)
		return 0;
	if (pem_read(o->ca_file, buf, PEM_FILE_MAX, &len) == 0)
		r = certs_ca_check(buf, len, now, NULL);
	if (time_reason(r) && store_has(cfg->data_dir, "store.json"))
		r = CERTS_OK;
	if (r != CERTS_OK) {
		gw_config_err_set(err, errlen, "config: ocpp.caFile: must hold PEM CA certificates valid now "
				  "(the central system's root)");
		return -EINVAL;
	}
	return 0;
}

/* ocpp.certFile with ocpp.keyFile: a pair, valid now, the key private to its owner (it
 * authenticates the gateway). */
static int ocpp_pair_check(const struct gw_config *cfg, char *cert, char *key, int64_t now, char *err,
			   size_t errlen)
{
	const struct gw_config_ocpp *o = &cfg->ocpp;
	char detail[CERTS_DETAIL_MAX] = "";
	size_t clen = 0, klen = 0;
	struct stat st;
	enum certs_reason r;

	if (!o->cert_file[0] != !o->key_file[0]) {
		gw_config_err_set(err, errlen, "config: %s: required with %s (a certificate needs its key)",
				  o->cert_file[0] ? "ocpp.keyFile" : "ocpp.certFile",
				  o->cert_file[0] ? "ocpp.certFile" : "ocpp.keyFile");
		return -EINVAL;
	}
	if (!o->cert_file[0])
		return 0;
	if (stat(o->key_file, &st) == 0 && (st.st_mode & 077)) {
		gw_config_err_set(err, errlen, "config: ocpp.keyFile: readable by others (mode %03o); make it 0600 "
				  "(chmod 600)", (unsigned)(st.st_mode & 0777));
		return -EINVAL;
	}
	if (pem_read(o->cert_file, cert, PEM_FILE_MAX, &clen) != 0) {
		gw_config_err_set(err, errlen, "config: ocpp.certFile: cannot read a PEM file under 16 KiB");
		return -EINVAL;
	}
	if (pem_read(o->key_file, key, PEM_FILE_MAX, &klen) != 0) {
		gw_config_err_set(err, errlen, "config: ocpp.keyFile: cannot read a PEM file under 16 KiB");
		return -EINVAL;
	}
	r = certs_pair_check(cert, clen, key, klen, now, detail, sizeof(detail));
	if (time_reason(r) && store_has(cfg->data_dir, "cp-cert.pem"))
		r = CERTS_OK;
	if (r != CERTS_OK) {
		gw_config_err_set(err, errlen, "config: %s: %s%s%s",
				  r == CERTS_E_KEY ? "ocpp.keyFile" : "ocpp.certFile", certs_reason_name(r),
				  detail[0] ? ": " : "", detail);
		return -EINVAL;
	}
	return 0;
}

static int ocpp_tls_files_check(const struct gw_config *cfg, char *err, size_t errlen)
{
	char *cert = malloc(PEM_FILE_MAX), *key = malloc(PEM_FILE_MAX);
	int64_t now = (int64_t)time(NULL);
	int rc = -ENOMEM;

	if (!cert || !key)
		gw_config_err_set(err, errlen, "config: out of memory");
	else if ((rc = ocpp_ca_check(cfg, cert, now, err, errlen)) == 0)
		rc = ocpp_pair_check(cfg, cert, key, now, err, errlen);
	if (key)
		explicit_bzero(key, PEM_FILE_MAX);
	free(cert);
	free(key);
	return rc;
}

/* The ocpp section's requirements that involve more than one key. */
int gw_config_ocpp_check(struct gw_config *cfg, const json_t *root, char *err, size_t errlen)
{
	struct gw_config_ocpp *o = &cfg->ocpp;
	struct gw_url u;

	o->enabled = gw_config_path_lookup(root, "ocpp") != NULL;
	if (!o->enabled)
		return 0;
	if (!o->url[0] || !o->charge_box_id[0]) {
		gw_config_err_set(err, errlen, "config: %s: required key missing (the ocpp section needs it)",
			o->url[0] ? "ocpp.chargeBoxId" : "ocpp.url");
		return -EINVAL;
	}
	if (gw_url_split(o->url, &u) != 0)
		return -EINVAL; /* gw_config_ws_url_parse() let it through: cannot happen */
	if (o->security_profile >= 2 && !u.tls) {
		gw_config_err_set(err, errlen,
			"config: ocpp.securityProfile: %d (TLS and %s) needs a wss:// ocpp.url (got %d with a ws:// URL)",
			o->security_profile, o->security_profile == 3 ? "a client certificate" : "Basic auth",
			o->security_profile);
		return -EINVAL;
	}
	if (o->security_profile == 3 && !o->cert_file[0]) {
		gw_config_err_set(err, errlen,
			"config: ocpp.certFile: required key missing for ocpp.securityProfile 3 (with ocpp.keyFile)");
		return -EINVAL;
	}
	if (ocpp_tls_files_check(cfg, err, errlen) != 0)
		return -EINVAL;
	if ((o->security_profile == 1 || o->security_profile == 2) && !o->authorization_key[0]) {
		gw_config_err_set(err, errlen,
			"config: ocpp.authorizationKey: required key missing for ocpp.securityProfile %d",
			o->security_profile);
		return -EINVAL;
	}
	if ((o->security_profile == 1 || o->security_profile == 2) && strchr(o->charge_box_id, ':')) {
		gw_config_err_set(err, errlen, "config: ocpp.chargeBoxId: must not contain ':' with Basic auth "
			"(ocpp.securityProfile %d)", o->security_profile);
		return -EINVAL;
	}
	if (o->id_tag_source == OCPP_IDTAG_FIXED && !o->id_tag_fixed[0]) {
		gw_config_err_set(err, errlen,
			"config: ocpp.idTag.fixed: required key missing when ocpp.idTag.source is "
			"\"fixed\"");
		return -EINVAL;
	}
	return 0;
}

/* The tesla section's requirements that involve more than one key. */
int gw_config_tesla_check(struct gw_config *cfg, const json_t *root, char *err, size_t errlen)
{
	struct gw_config_tesla *t = &cfg->tesla;

	t->enabled = gw_config_path_lookup(root, "tesla") != NULL;
	if (!t->enabled)
		return 0;
	if (!t->client_id[0]) {
		gw_config_err_set(err, errlen,
			"config: tesla.clientId: required key missing (the tesla section needs it)");
		return -EINVAL;
	}
	if (!t->refresh_token[0] && !t->access_token[0]) {
		gw_config_err_set(err, errlen,
			"config: tesla.refreshToken: required key missing (or tesla.accessToken)");
		return -EINVAL;
	}
	t->has_home = gw_config_path_lookup(root, "tesla.home") != NULL;
	if (t->has_home && (!gw_config_path_lookup(root, "tesla.home.latitude") ||
			    !gw_config_path_lookup(root, "tesla.home.longitude"))) {
		gw_config_err_set(err, errlen,
			"config: %s: required key missing (tesla.home needs latitude and longitude)",
			gw_config_path_lookup(root, "tesla.home.latitude") ? "tesla.home.longitude"
									     : "tesla.home.latitude");
		return -EINVAL;
	}
	return 0;
}
