/*
 * certs_hash: OCPP's CertificateHashData, the RFC 6960 CertID of a certificate (hash of the issuer's
 * name, hash of the issuer's key, the serial), computed the way OpenSSL's OCSP_cert_id_new does, and
 * the comparison DeleteCertificate needs, tolerant of the case and leading-zero differences that
 * central systems show.
 */
#include <ctype.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "certs_internal.h"

static const EVP_MD *alg_md(enum certs_hash_alg alg)
{
	switch (alg) {
	case CERTS_SHA256:
		return EVP_sha256();
	case CERTS_SHA384:
		return EVP_sha384();
	case CERTS_SHA512:
		return EVP_sha512();
	}
	return NULL;
}

static void hex_lower(const unsigned char *b, unsigned n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (unsigned k = 0; k < n; k++) {
		out[2 * k] = digits[b[k] >> 4];
		out[2 * k + 1] = digits[b[k] & 15];
	}
	out[2 * n] = '\0';
}

enum certs_reason certs_x509_hash(const X509 *x, const X509 *issuer, enum certs_hash_alg alg,
				  struct certs_hash_data *out)
{
	const EVP_MD *md = alg_md(alg);
	unsigned char buf[EVP_MAX_MD_SIZE], *der = NULL;
	const ASN1_BIT_STRING *key = X509_get0_pubkey_bitstr(issuer);
	unsigned n = 0;
	int dlen;
	bool ok;

	memset(out, 0, sizeof(*out));
	out->alg = alg;
	if (!md || !key)
		return CERTS_E_PARSE;
	/* The issuer name as it is encoded in @x (its issuer field), not re-encoded from the
	 * issuer's subject: the two are equal for a proper chain, and CertID hashes the former. */
	dlen = i2d_X509_NAME(X509_get_issuer_name(x), &der);
	ok = dlen > 0 && EVP_Digest(der, (size_t)dlen, buf, &n, md, NULL) && n * 2 <= CERTS_HASH_HEX_MAX;
	OPENSSL_free(der);
	if (ok)
		hex_lower(buf, n, out->issuer_name_hash);
	ok = ok && EVP_Digest(key->data, (size_t)key->length, buf, &n, md, NULL) && n * 2 <= CERTS_HASH_HEX_MAX;
	if (ok)
		hex_lower(buf, n, out->issuer_key_hash);
	ERR_clear_error();
	if (!ok)
		return CERTS_E_NOMEM;
	return certs_serial_hex(x, out->serial) ? CERTS_OK : CERTS_E_TOO_LONG;
}

enum certs_reason certs_hash_data_get(const char *pem, size_t len, const char *issuer_pem, size_t issuer_len,
				      enum certs_hash_alg alg, struct certs_hash_data *out)
{
	enum certs_reason r;
	X509 *x = certs_pem_first(pem, len, &r), *is = NULL;

	memset(out, 0, sizeof(*out));
	if (!x)
		return r;
	if (issuer_pem) {
		is = certs_pem_first(issuer_pem, issuer_len, &r);
		if (is && X509_check_issued(is, x) != X509_V_OK)
			r = CERTS_E_CHAIN;
	}
	if (r == CERTS_OK)
		r = certs_x509_hash(x, is ? is : x, alg, out);
	X509_free(is);
	X509_free(x);
	ERR_clear_error();
	return r;
}

static bool hex_equal(const char *a, const char *b)
{
	if (strlen(a) != strlen(b))
		return false;
	for (; *a; a++, b++)
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
	return true;
}

static const char *skip_zeros(const char *s)
{
	while (s[0] == '0' && s[1])
		s++;
	return s;
}

bool certs_hash_data_equal(const struct certs_hash_data *a, const struct certs_hash_data *b)
{
	const char *sa = a->serial, *sb = b->serial;
	bool na = sa[0] == '-', nb = sb[0] == '-';

	if (a->alg != b->alg || na != nb || !a->serial[0] || !b->serial[0])
		return false;
	return hex_equal(a->issuer_name_hash, b->issuer_name_hash) && hex_equal(a->issuer_key_hash, b->issuer_key_hash) &&
	       hex_equal(skip_zeros(sa + na), skip_zeros(sb + nb));
}
