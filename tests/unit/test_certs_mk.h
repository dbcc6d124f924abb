/*
 * test_certs_mk: a small certificate authority for the certs/ tests, built with OpenSSL's APIs at
 * run time so that no key is ever committed: EC (or RSA) keys, self-signed roots, intermediates and
 * leaves with chosen names, serials, validity, CA flag and extended key usage, and their PEM text.
 * Failures abort the test through cmocka's asserts.
 */
#ifndef TEST_CERTS_MK_H
#define TEST_CERTS_MK_H

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* A fixed "now" for everything made here: 2026-01-01T00:00:00Z. */
#define MK_NOW INT64_C(1767225600)
#define MK_DAY INT64_C(86400)

struct mk_opts {
	const char *cn, *o, *c;
	const char *cn2; /* a second CN entry when set */
	long serial;
	const char *serial_hex; /* instead of serial: any size, "-" for negative */
	int64_t not_before, not_after; /* 0: MK_NOW - 1 day, MK_NOW + 365 days */
	int ca; /* 1: basicConstraints CA:TRUE with keyCertSign; 0: a leaf (CA:FALSE) */
	const char *eku; /* extendedKeyUsage of a leaf; NULL: clientAuth */
	int no_ext; /* a v1 certificate without extensions */
};

static inline EVP_PKEY *mk_key(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	assert_non_null(k);
	return k;
}

static inline void mk_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
}

/* A certificate for @key's public half, signed by @issuer_key as @issuer (both NULL: self-signed). */
static inline X509 *mk_cert(const struct mk_opts *o, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	assert_non_null(x);
	assert_non_null(n);
	if (o->c)
		assert_true(X509_NAME_add_entry_by_txt(n, "C", MBSTRING_UTF8, (const unsigned char *)o->c, -1, -1, 0));
	if (o->o)
		assert_true(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)o->o, -1, -1, 0));
	if (o->cn)
		assert_true(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)o->cn, -1, -1, 0));
	if (o->cn2)
		assert_true(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)o->cn2, -1, -1, 0));
	assert_true(X509_set_version(x, o->no_ext ? X509_VERSION_1 : X509_VERSION_3));
	if (o->serial_hex) {
		BIGNUM *bn = NULL;

		assert_true(BN_hex2bn(&bn, o->serial_hex) > 0);
		assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
		BN_free(bn);
	} else {
		assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), o->serial ? o->serial : 1));
	}
	assert_true(X509_set_subject_name(x, n));
	assert_true(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n));
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)(o->not_before ? o->not_before : MK_NOW - MK_DAY)));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(o->not_after ? o->not_after : MK_NOW + 365 * MK_DAY)));
	assert_true(X509_set_pubkey(x, key));
	if (!o->no_ext) {
		mk_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash");
		if (issuer)
			mk_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
		if (o->ca) {
			mk_ext(x, issuer ? issuer : x, NID_basic_constraints, "critical,CA:TRUE");
			mk_ext(x, issuer ? issuer : x, NID_key_usage, "critical,keyCertSign,cRLSign");
		} else {
			mk_ext(x, issuer ? issuer : x, NID_basic_constraints, "critical,CA:FALSE");
			mk_ext(x, issuer ? issuer : x, NID_key_usage, "critical,digitalSignature,keyAgreement");
			mk_ext(x, issuer ? issuer : x, NID_ext_key_usage, o->eku ? o->eku : "clientAuth");
		}
	}
	assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
	X509_NAME_free(n);
	return x;
}

static inline char *mk_bio_text(BIO *b)
{
	char *p, *t;
	long n = BIO_get_mem_data(b, &p);

	assert_true(n > 0);
	t = malloc((size_t)n + 1);
	assert_non_null(t);
	memcpy(t, p, (size_t)n);
	t[n] = '\0';
	BIO_free(b);
	return t;
}

static inline char *mk_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());

	assert_true(PEM_write_bio_X509(b, x));
	return mk_bio_text(b);
}

static inline char *mk_key_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());

	assert_true(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL));
	return mk_bio_text(b);
}

/* Concatenates up to four texts (NULLs skipped) into a new one. */
static inline char *mk_cat(const char *a, const char *b, const char *c, const char *d)
{
	const char *p[4] = {a, b, c, d};
	size_t len = 1;
	char *t;

	for (int k = 0; k < 4; k++)
		len += p[k] ? strlen(p[k]) : 0;
	t = calloc(1, len);
	assert_non_null(t);
	for (int k = 0; k < 4; k++)
		if (p[k])
			memcpy(t + strlen(t), p[k], strlen(p[k]) + 1);
	return t;
}

#endif
