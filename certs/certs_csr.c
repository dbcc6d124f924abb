/*
 * certs_csr: the charge point's half of SignCertificate: a fresh key pair (P-256 by default, RSA 2048
 * on request) and a PKCS#10 request signed with it whose subject and extensions are those the
 * whitepaper asks of a charge-point certificate. The private key is returned as text to the gateway,
 * which stores it 0600; it never leaves the charge point.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "certs_internal.h"

void certs_secret_free(char *p)
{
	if (!p)
		return;
	OPENSSL_cleanse(p, strlen(p));
	free(p);
}

/* The text of a memory BIO as a NUL-terminated heap string, or NULL. */
static char *bio_text(BIO *bio)
{
	char *p, *text;
	long n = BIO_get_mem_data(bio, &p);

	if (n <= 0 || !(text = malloc((size_t)n + 1)))
		return NULL;
	memcpy(text, p, (size_t)n);
	text[n] = '\0';
	return text;
}

static bool name_ok(const char *s, bool required)
{
	if (!s || !s[0])
		return !required;
	return strlen(s) <= CERTS_NAME_MAX;
}

static int add_ext(STACK_OF(X509_EXTENSION) *exts, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, nid, value);

	if (!e)
		return -EIO;
	if (!sk_X509_EXTENSION_push(exts, e)) {
		X509_EXTENSION_free(e);
		return -ENOMEM;
	}
	return 0;
}

/* The subject in the usual order (C, O, CN); -EINVAL when OpenSSL refuses a value (a C that is not
 * two printable characters, bad UTF-8). */
static int set_subject(X509_REQ *req, const struct certs_subject *s)
{
	X509_NAME *n = X509_NAME_new();
	int rc = 0;

	if (!n)
		return -ENOMEM;
	if (s->c && s->c[0] &&
	    (strlen(s->c) != 2 || !X509_NAME_add_entry_by_NID(n, NID_countryName, MBSTRING_UTF8,
							       (const unsigned char *)s->c, -1, -1, 0)))
		rc = -EINVAL;
	if (!rc && !X509_NAME_add_entry_by_NID(n, NID_organizationName, MBSTRING_UTF8, (const unsigned char *)s->o,
					       -1, -1, 0))
		rc = -EINVAL;
	if (!rc && !X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_UTF8, (const unsigned char *)s->cn, -1,
					       -1, 0))
		rc = -EINVAL;
	if (!rc && !X509_REQ_set_subject_name(req, n))
		rc = -ENOMEM;
	X509_NAME_free(n);
	return rc;
}

static EVP_PKEY *key_new(enum certs_key_type kt)
{
	switch (kt) {
	case CERTS_KEY_EC_P256:
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	case CERTS_KEY_RSA_2048:
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	}
	return NULL;
}

int certs_csr_new(const struct certs_subject *s, enum certs_key_type kt, char **csr_pem, char **key_pem)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	EVP_PKEY *key = NULL;
	X509_REQ *req = NULL;
	BIO *cb = NULL, *kb = NULL;
	char *csr = NULL, *kt_text = NULL;
	int rc = 0;

	if (!csr_pem || !key_pem)
		return -EINVAL;
	*csr_pem = NULL;
	*key_pem = NULL;
	if (!s || !name_ok(s->cn, true) || !name_ok(s->o, true) || (kt != CERTS_KEY_EC_P256 && kt != CERTS_KEY_RSA_2048))
		return -EINVAL;
	req = X509_REQ_new();
	exts = sk_X509_EXTENSION_new_null();
	if (!req || !exts) {
		rc = -ENOMEM;
		goto out;
	}
	rc = set_subject(req, s);
	if (rc)
		goto out;
	key = key_new(kt);
	if (!key) {
		rc = -EIO;
		goto out;
	}
	/* A TLS client certificate: not a CA; the key signs the handshake (ECDHE-ECDSA, and
	 * ECDH-based agreement for EC) or decrypts the premaster secret (TLS_RSA_* suites). */
	rc = add_ext(exts, NID_basic_constraints, "critical,CA:FALSE");
	if (!rc)
		rc = add_ext(exts, NID_key_usage,
			     kt == CERTS_KEY_EC_P256 ? "critical,digitalSignature,keyAgreement"
						     : "critical,digitalSignature,keyEncipherment");
	if (!rc)
		rc = add_ext(exts, NID_ext_key_usage, "clientAuth");
	if (rc)
		goto out;
	if (!X509_REQ_set_version(req, X509_REQ_VERSION_1) || !X509_REQ_set_pubkey(req, key) ||
	    !X509_REQ_add_extensions(req, exts) || !X509_REQ_sign(req, key, EVP_sha256())) {
		rc = -EIO;
		goto out;
	}
	cb = BIO_new(BIO_s_mem());
	/* The secure-memory BIO wipes the key text when it is freed. */
	kb = BIO_new(BIO_s_secmem());
	if (!cb || !kb || !PEM_write_bio_X509_REQ(cb, req) ||
	    !PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL)) {
		rc = -EIO;
		goto out;
	}
	csr = bio_text(cb);
	kt_text = bio_text(kb);
	if (!csr || !kt_text) {
		free(csr);
		certs_secret_free(kt_text);
		rc = -ENOMEM;
		goto out;
	}
	*csr_pem = csr;
	*key_pem = kt_text;
out:
	BIO_free(cb);
	BIO_free(kb);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return rc;
}
