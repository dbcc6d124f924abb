/*
 * certs_store: the root certificates the central system installs (InstallCertificate), deletes by
 * CertID (DeleteCertificate) and lists (GetInstalledCertificateIds), bounded by
 * CertificateStoreMaxLength, kept in memory and turned into one JSON text for the gateway to write;
 * plus the expiry report over them and the charge-point certificate.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "certs_internal.h"

#define STORE_LIMIT 1000 /* far above any CertificateStoreMaxLength; bounds a store file */
#define STORE_VERSION 1

struct certs_entry {
	enum certs_type type;
	X509 *x;
	char *pem; /* re-encoded from x, so that the file holds canonical text */
};

struct certs_store {
	int max, n;
	struct certs_entry *e;
};

struct certs_store *certs_store_new(int max)
{
	struct certs_store *st;

	if (max < 1 || max > STORE_LIMIT)
		return NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->e = calloc((size_t)max, sizeof(*st->e));
	if (!st->e) {
		free(st);
		return NULL;
	}
	st->max = max;
	return st;
}

static void entries_free(struct certs_entry *e, int n)
{
	for (int k = 0; k < n; k++) {
		X509_free(e[k].x);
		free(e[k].pem);
	}
}

void certs_store_free(struct certs_store *st)
{
	if (!st)
		return;
	entries_free(st->e, st->n);
	free(st->e);
	free(st);
}

int certs_store_max(const struct certs_store *st)
{
	return st->max;
}

int certs_store_count(const struct certs_store *st, enum certs_type t)
{
	int c = 0;

	for (int k = 0; k < st->n; k++)
		c += st->e[k].type == t;
	return c;
}

const char *certs_install_status_name(enum certs_install_status s)
{
	switch (s) {
	case CERTS_INSTALL_ACCEPTED:
		return "Accepted";
	case CERTS_INSTALL_REJECTED:
		return "Rejected";
	case CERTS_INSTALL_FAILED:
		return "Failed";
	}
	return "?";
}

const char *certs_delete_status_name(enum certs_delete_status s)
{
	switch (s) {
	case CERTS_DELETE_ACCEPTED:
		return "Accepted";
	case CERTS_DELETE_FAILED:
		return "Failed";
	case CERTS_DELETE_NOT_FOUND:
		return "NotFound";
	}
	return "?";
}

static bool installable(enum certs_type t)
{
	return t == CERTS_CENTRAL_SYSTEM_ROOT || t == CERTS_MANUFACTURER_ROOT;
}

static int find(const struct certs_entry *e, int n, enum certs_type t, const X509 *x)
{
	for (int k = 0; k < n; k++)
		if (e[k].type == t && !X509_cmp(e[k].x, x))
			return k;
	return -1;
}

/* Adds @x (taking it) to @e[*n] unless already there; CERTS_OK, CERTS_E_FULL or CERTS_E_NOMEM (then
 * @x is freed). *added tells whether it was new. */
static enum certs_reason entry_add(struct certs_entry *e, int *n, int max, enum certs_type t, X509 *x, bool *added)
{
	char *pem;

	*added = false;
	if (find(e, *n, t, x) >= 0) {
		X509_free(x);
		return CERTS_OK;
	}
	if (*n >= max) {
		X509_free(x);
		return CERTS_E_FULL;
	}
	pem = certs_pem_write(x);
	if (!pem) {
		X509_free(x);
		return CERTS_E_NOMEM;
	}
	e[*n].type = t;
	e[*n].x = x;
	e[*n].pem = pem;
	(*n)++;
	*added = true;
	return CERTS_OK;
}

/* What the store holds: CA certificates whose CertID can be written (a positive serial of at most
 * 20 octets, as RFC 5280 requires), so that each can be listed and deleted again. */
static enum certs_reason storable(X509 *x)
{
	char serial[CERTS_SERIAL_MAX + 1];

	if (!certs_serial_hex(x, serial) || serial[0] == '-')
		return CERTS_E_PARSE;
	return certs_x509_is_ca(x) ? CERTS_OK : CERTS_E_NOT_CA;
}

/* What InstallCertificate requires of one certificate. */
static enum certs_reason install_check(X509 *x, int64_t now_s)
{
	enum certs_reason r = storable(x);

	return r == CERTS_OK ? certs_time_check(x, now_s) : r;
}

enum certs_install_status certs_store_install(struct certs_store *st, enum certs_type t, const char *pem,
					      size_t len, int64_t now_s, enum certs_reason *why)
{
	STACK_OF(X509) *sk = NULL;
	enum certs_reason r = CERTS_E_PARSE;
	bool added;

	if (!installable(t))
		goto out;
	if (len > CERTS_CERT_MAX) {
		r = CERTS_E_TOO_LONG;
		goto out;
	}
	r = certs_pem_read(pem, len, &sk);
	if (r != CERTS_OK)
		goto out;
	if (sk_X509_num(sk) != 1) {
		r = CERTS_E_MULTIPLE;
		goto out;
	}
	r = install_check(sk_X509_value(sk, 0), now_s);
	if (r == CERTS_OK)
		r = entry_add(st->e, &st->n, st->max, t, sk_X509_shift(sk), &added);
out:
	sk_X509_pop_free(sk, X509_free);
	if (why)
		*why = r;
	if (r == CERTS_OK)
		return CERTS_INSTALL_ACCEPTED;
	return r == CERTS_E_NOMEM ? CERTS_INSTALL_FAILED : CERTS_INSTALL_REJECTED;
}

int certs_store_import(struct certs_store *st, enum certs_type t, const char *pem, size_t len, int64_t now_s,
		       enum certs_reason *why)
{
	STACK_OF(X509) *sk = NULL;
	struct certs_entry *e;
	enum certs_reason r = CERTS_E_PARSE;
	int n = st->n, added_n = 0, rc;
	bool added;

	/* Into a copy of the table, so that a refusal half way leaves the store as it was. */
	e = calloc((size_t)st->max, sizeof(*e));
	if (!e) {
		r = CERTS_E_NOMEM;
		goto out;
	}
	memcpy(e, st->e, (size_t)st->n * sizeof(*e));
	if (installable(t))
		r = certs_pem_read(pem, len, &sk);
	while (r == CERTS_OK && sk_X509_num(sk) > 0) {
		X509 *x = sk_X509_shift(sk);

		r = install_check(x, now_s);
		if (r != CERTS_OK) {
			X509_free(x);
			break;
		}
		r = entry_add(e, &n, st->max, t, x, &added);
		added_n += added;
	}
	if (r == CERTS_OK) {
		free(st->e);
		st->e = e;
		st->n = n;
		e = NULL;
	} else if (e) {
		entries_free(e + st->n, n - st->n);
	}
out:
	free(e);
	sk_X509_pop_free(sk, X509_free);
	if (why)
		*why = r;
	rc = r == CERTS_OK ? added_n : r == CERTS_E_NOMEM ? -ENOMEM : -EINVAL;
	return rc;
}

/* The issuer of entry @k for its CertID: itself when self-signed, else an installed certificate that
 * issued it, else itself (its real issuer is not known here). */
static const X509 *issuer_of(const struct certs_store *st, int k)
{
	X509 *x = st->e[k].x;

	if (certs_x509_self_signed(x))
		return x;
	for (int j = 0; j < st->n; j++)
		if (j != k && X509_check_issued(st->e[j].x, x) == X509_V_OK) {
			ERR_clear_error();
			return st->e[j].x;
		}
	ERR_clear_error();
	return x;
}

enum certs_delete_status certs_store_delete(struct certs_store *st, const struct certs_hash_data *h,
					    int security_profile)
{
	bool *hit;
	int found = 0, csms_left = 0, j = 0;

	if (!h || !st->n)
		return CERTS_DELETE_NOT_FOUND;
	hit = calloc((size_t)st->n, sizeof(*hit));
	if (!hit)
		return CERTS_DELETE_FAILED;
	for (int k = 0; k < st->n; k++) {
		struct certs_hash_data d;

		hit[k] = certs_x509_hash(st->e[k].x, issuer_of(st, k), h->alg, &d) == CERTS_OK &&
			 certs_hash_data_equal(&d, h);
		found += hit[k];
		csms_left += !hit[k] && st->e[k].type == CERTS_CENTRAL_SYSTEM_ROOT;
	}
	if (!found) {
		free(hit);
		return CERTS_DELETE_NOT_FOUND;
	}
	if (security_profile >= 2 && !csms_left && certs_store_count(st, CERTS_CENTRAL_SYSTEM_ROOT) > 0) {
		free(hit);
		return CERTS_DELETE_FAILED;
	}
	for (int k = 0; k < st->n; k++) {
		if (hit[k]) {
			X509_free(st->e[k].x);
			free(st->e[k].pem);
		} else {
			st->e[j++] = st->e[k];
		}
	}
	st->n = j;
	free(hit);
	return CERTS_DELETE_ACCEPTED;
}

int certs_store_ids(const struct certs_store *st, enum certs_type t, enum certs_hash_alg alg,
		    struct certs_hash_data *out, int max)
{
	int c = 0;

	if (max < 0 || (max > 0 && !out))
		return -EINVAL;
	for (int k = 0; k < st->n; k++) {
		if (st->e[k].type != t)
			continue;
		if (c < max && certs_x509_hash(st->e[k].x, issuer_of(st, k), alg, &out[c]) != CERTS_OK)
			continue;
		c++;
	}
	return c < max ? c : max;
}

char *certs_store_bundle(const struct certs_store *st, enum certs_type t)
{
	size_t len = 0, at = 0;
	char *text;

	for (int k = 0; k < st->n; k++)
		if (st->e[k].type == t)
			len += strlen(st->e[k].pem);
	if (!len || !(text = malloc(len + 1)))
		return NULL;
	for (int k = 0; k < st->n; k++) {
		if (st->e[k].type == t) {
			size_t l = strlen(st->e[k].pem);

			memcpy(text + at, st->e[k].pem, l);
			at += l;
		}
	}
	text[at] = '\0';
	return text;
}

X509_STORE *certs_store_trust(const struct certs_store *st, enum certs_type t, int *n)
{
	X509_STORE *xs = X509_STORE_new();

	*n = 0;
	if (!xs)
		return NULL;
	for (int k = 0; k < st->n; k++) {
		if (st->e[k].type != t)
			continue;
		if (!X509_STORE_add_cert(xs, st->e[k].x)) {
			X509_STORE_free(xs);
			ERR_clear_error();
			*n = 0;
			return NULL;
		}
		(*n)++;
	}
	return xs;
}

char *certs_store_format(const struct certs_store *st)
{
	json_t *root = json_object(), *list = json_array();
	char *text = NULL;
	bool ok = root && list && !json_object_set_new(root, "version", json_integer(STORE_VERSION)) &&
		  !json_object_set(root, "certificates", list);

	for (int k = 0; ok && k < st->n; k++) {
		json_t *o = json_pack("{s:s,s:s}", "type", certs_type_name(st->e[k].type), "pem", st->e[k].pem);

		ok = o && !json_array_append_new(list, o);
	}
	if (ok)
		text = json_dumps(root, JSON_COMPACT);
	json_decref(list);
	json_decref(root);
	return text;
}

static int parse_fail(char *err, size_t errlen, int rc, const char *what, int k)
{
	if (k >= 0)
		certs_detail(err, errlen, "certificates[%d]: %s", k, what);
	else
		certs_detail(err, errlen, "%s", what);
	return rc;
}

/* The entries of a parsed store document into @e (at most @max); the count or a negative errno with
 * @err set. */
static int parse_entries(const json_t *root, struct certs_entry *e, int max, char *err, size_t errlen)
{
	const json_t *list = json_object_get(root, "certificates"), *v = json_object_get(root, "version");
	size_t k;
	int n = 0;

	if (!json_is_object(root) || json_object_size(root) != 2 || !json_is_integer(v) ||
	    json_integer_value(v) != STORE_VERSION || !json_is_array(list))
		return parse_fail(err, errlen, -EINVAL, "not a version 1 certificate store", -1);
	if (json_array_size(list) > (size_t)max)
		return parse_fail(err, errlen, -EOVERFLOW, "more certificates than CertificateStoreMaxLength", -1);
	for (k = 0; k < json_array_size(list); k++) {
		const json_t *o = json_array_get(list, k), *jt = json_object_get(o, "type"),
			     *jp = json_object_get(o, "pem");
		enum certs_type t;
		enum certs_reason r;
		STACK_OF(X509) *sk = NULL;
		bool added;

		if (!json_is_object(o) || json_object_size(o) != 2 || !json_is_string(jt) || !json_is_string(jp) ||
		    certs_type_parse(json_string_value(jt), &t))
			return parse_fail(err, errlen, -EINVAL, "not {\"type\":<root type>,\"pem\":<text>}", (int)k);
		if (json_string_length(jp) > CERTS_CERT_MAX)
			return parse_fail(err, errlen, -EINVAL, "pem too long", (int)k);
		r = certs_pem_read(json_string_value(jp), json_string_length(jp), &sk);
		if (r == CERTS_OK && sk_X509_num(sk) != 1)
			r = CERTS_E_MULTIPLE;
		if (r == CERTS_OK)
			r = storable(sk_X509_value(sk, 0));
		if (r == CERTS_OK && find(e, n, t, sk_X509_value(sk, 0)) >= 0) {
			sk_X509_pop_free(sk, X509_free);
			return parse_fail(err, errlen, -EINVAL, "installed twice", (int)k);
		}
		if (r == CERTS_OK)
			r = entry_add(e, &n, max, t, sk_X509_shift(sk), &added);
		sk_X509_pop_free(sk, X509_free);
		if (r != CERTS_OK)
			return parse_fail(err, errlen, r == CERTS_E_NOMEM ? -ENOMEM : -EINVAL, certs_reason_name(r),
					  (int)k);
	}
	return n;
}

int certs_store_parse(struct certs_store *st, const char *text, size_t len, char *err, size_t errlen)
{
	struct certs_entry *e;
	json_error_t je;
	json_t *root;
	int n;

	certs_detail(err, errlen, "%s", "");
	if (!text)
		return -EINVAL;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		certs_detail(err, errlen, "not JSON: %s (line %d)", je.text, je.line);
		return -EINVAL;
	}
	e = calloc((size_t)st->max, sizeof(*e));
	if (!e) {
		json_decref(root);
		return -ENOMEM;
	}
	n = parse_entries(root, e, st->max, err, errlen);
	json_decref(root);
	if (n < 0) {
		/* parse_entries stops at the first fault; what it added before is in e[0..]. */
		for (int k = 0; k < st->max && e[k].x; k++) {
			X509_free(e[k].x);
			free(e[k].pem);
		}
		free(e);
		return n;
	}
	entries_free(st->e, st->n);
	free(st->e);
	st->e = e;
	st->n = n;
	return 0;
}

static bool expiring(X509 *x, int64_t now_s, int64_t within_s, int64_t *na)
{
	return certs_asn1_time(X509_get0_notAfter(x), na) && *na - now_s <= within_s;
}

static void expiry_fill(struct certs_expiry *o, enum certs_type t, X509 *x, int64_t na, int64_t now_s)
{
	memset(o, 0, sizeof(*o));
	o->type = t;
	certs_name_get(X509_get_subject_name(x), NID_commonName, o->cn, sizeof(o->cn), NULL, NULL);
	certs_serial_hex(x, o->serial);
	o->not_after = na;
	o->expired = now_s >= na;
}

int certs_expiring(const struct certs_store *st, const char *cp_pem, size_t cp_len, int64_t now_s, int64_t within_s,
		   struct certs_expiry *out, int max)
{
	int c = 0;
	int64_t na;

	for (int k = 0; st && k < st->n; k++) {
		if (!expiring(st->e[k].x, now_s, within_s, &na))
			continue;
		if (c < max && out)
			expiry_fill(&out[c], st->e[k].type, st->e[k].x, na, now_s);
		c++;
	}
	if (cp_pem) {
		X509 *x = certs_pem_first(cp_pem, cp_len, NULL);

		if (x && expiring(x, now_s, within_s, &na)) {
			if (c < max && out)
				expiry_fill(&out[c], CERTS_CHARGE_POINT, x, na, now_s);
			c++;
		}
		X509_free(x);
	}
	return c;
}

int certs_store_size(const struct certs_store *st)
{
	return st->n;
}

int certs_store_entry(const struct certs_store *st, int i, enum certs_type *t, const char **pem)
{
	if (i < 0 || i >= st->n)
		return -ERANGE;
	if (t)
		*t = st->e[i].type;
	if (pem)
		*pem = st->e[i].pem;
	return 0;
}

int certs_store_remove(struct certs_store *st, int i)
{
	if (i < 0 || i >= st->n)
		return -ERANGE;
	X509_free(st->e[i].x);
	free(st->e[i].pem);
	memmove(&st->e[i], &st->e[i + 1], (size_t)(st->n - i - 1) * sizeof(st->e[0]));
	st->n--;
	memset(&st->e[st->n], 0, sizeof(st->e[0]));
	return 0;
}
