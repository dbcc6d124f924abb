/*
 * certs_sig: the firmware signing certificate's chain to the installed manufacturer roots, the
 * firmware signature over the file's SHA-256, the strict base64 the signature arrives in, and a
 * piece-by-piece SHA-256 for the gateway to feed the file through. The chain is only ever accepted
 * by OpenSSL's path validation and the signature only by EVP_PKEY_verify; nothing here vouches.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "certs_internal.h"
#include "certs_sig.h"
#include "core_text.h"
#include "core_text.h"

#define CHAIN_DEPTH_MAX 8 /* as for CertificateSigned: more is not a real PKI */

/* ---- base64 ---- */

static int b64_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int certs_sig_b64_decode(const char *in, size_t len, unsigned char *out, size_t max, size_t *out_len)
{
	uint32_t acc = 0;
	size_t n = 0;
	int have = 0; /* sextets in the current quantum */
	int pad = 0;  /* '=' seen in the current quantum */

	*out_len = 0;
	if (!in && len)
		return -EINVAL;
	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)in[k];
		int v;

		if (b64_space(c))
			continue;
		if (c == '=') {
			/* Padding only ends a quantum of two or three characters. */
			if (have + pad < 2)
				return -EINVAL;
			pad++;
			if (have + pad > 4)
				return -EINVAL;
			if (have + pad == 4) {
				/* Nothing but white space may follow a padded quantum. */
				for (size_t j = k + 1; j < len; j++)
					if (!b64_space((unsigned char)in[j]))
						return -EINVAL;
				break;
			}
			continue;
		}
		if (pad)
			return -EINVAL;
		v = core_text_b64_value(c);
		if (v < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		if (++have == 4) {
			if (n + 3 > max)
				return -EMSGSIZE;
			out[n++] = (unsigned char)(acc >> 16);
			out[n++] = (unsigned char)(acc >> 8);
			out[n++] = (unsigned char)acc;
			acc = 0;
			have = 0;
		}
	}
	if (have == 0 && pad == 0) {
		*out_len = n;
		return 0;
	}
	/* A final quantum of 2 or 3 characters, padded to 4; its unused bits must be zero so that
	 * one signature has exactly one spelling. */
	if (have + pad != 4 || have < 2)
		return -EINVAL;
	if (have == 2) {
		if (acc & 0xf)
			return -EINVAL;
		if (n + 1 > max)
			return -EMSGSIZE;
		out[n++] = (unsigned char)(acc >> 4);
	} else {
		if (acc & 0x3)
			return -EINVAL;
		if (n + 2 > max)
			return -EMSGSIZE;
		out[n++] = (unsigned char)(acc >> 10);
		out[n++] = (unsigned char)(acc >> 2);
	}
	*out_len = n;
	return 0;
}

/* ---- the signer ---- */

/* RSA of at least CERTS_SIG_RSA_MIN_BITS or EC: what `openssl dgst -sha256 -sign` makes a signature
 * over a digest with, and what EVP_PKEY_verify checks one against. */
static enum certs_reason key_check(const EVP_PKEY *pk, char *detail, size_t dn)
{
	int id = pk ? EVP_PKEY_get_base_id(pk) : EVP_PKEY_NONE;

	if (id == EVP_PKEY_RSA) {
		int bits = EVP_PKEY_get_bits(pk);

		if (bits < CERTS_SIG_RSA_MIN_BITS) {
			certs_detail(detail, dn, "RSA key of %d bits, fewer than %d", bits, CERTS_SIG_RSA_MIN_BITS);
			return CERTS_E_KEY;
		}
		return CERTS_OK;
	}
	if (id == EVP_PKEY_EC)
		return CERTS_OK;
	certs_detail(detail, dn, "the key is neither RSA nor EC");
	return CERTS_E_KEY;
}

/* keyUsage and extendedKeyUsage, when present, must allow signing code. */
static enum certs_reason usage_check(X509 *x, char *detail, size_t dn)
{
	uint32_t flags = X509_get_extension_flags(x);

	if (flags & EXFLAG_INVALID) {
		certs_detail(detail, dn, "the signing certificate has invalid extensions");
		return CERTS_E_PARSE;
	}
	if ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE)) {
		certs_detail(detail, dn, "keyUsage of the signing certificate lacks digitalSignature");
		return CERTS_E_CHAIN;
	}
	if ((flags & EXFLAG_XKUSAGE) && !(X509_get_extended_key_usage(x) & (XKU_CODE_SIGN | XKU_ANYEKU))) {
		certs_detail(detail, dn, "extendedKeyUsage of the signing certificate lacks codeSigning");
		return CERTS_E_CHAIN;
	}
	return CERTS_OK;
}

static enum certs_reason signer_check(const char *cert_pem, const char *roots_pem, int64_t now_s,
				      STACK_OF(X509) **chain, STACK_OF(X509) **roots, X509_STORE **trust,
				      X509_STORE_CTX **ctx, char *d, size_t dn)
{
	size_t len = cert_pem ? strlen(cert_pem) : 0;
	X509_VERIFY_PARAM *param;
	enum certs_reason r;
	X509 *leaf;
	int err;

	if (!len) {
		certs_detail(d, dn, "no signing certificate");
		return CERTS_E_PARSE;
	}
	if (len > CERTS_CERT_MAX) {
		certs_detail(d, dn, "signing certificate of %zu bytes, more than %d", len, CERTS_CERT_MAX);
		return CERTS_E_TOO_LONG;
	}
	r = certs_pem_read(cert_pem, len, chain);
	if (r != CERTS_OK) {
		certs_detail(d, dn, "the signing certificate is not PEM X.509");
		return r;
	}
	if (sk_X509_num(*chain) > CHAIN_DEPTH_MAX + 1) {
		certs_detail(d, dn, "%d certificates with the signing certificate, at most %d", sk_X509_num(*chain),
			     CHAIN_DEPTH_MAX + 1);
		return CERTS_E_TOO_LONG;
	}
	leaf = sk_X509_value(*chain, 0);
	r = key_check(X509_get0_pubkey(leaf), d, dn);
	if (r != CERTS_OK)
		return r;
	r = usage_check(leaf, d, dn);
	if (r != CERTS_OK)
		return r;
	if (!roots_pem || !roots_pem[0] || certs_pem_read(roots_pem, strlen(roots_pem), roots) != CERTS_OK) {
		certs_detail(d, dn, "no ManufacturerRootCertificate installed");
		return CERTS_E_NO_ROOT;
	}
	*trust = X509_STORE_new();
	if (!*trust)
		return CERTS_E_NOMEM;
	for (int k = 0; k < sk_X509_num(*roots); k++)
		if (!X509_STORE_add_cert(*trust, sk_X509_value(*roots, k)))
			return CERTS_E_NOMEM;
	*ctx = X509_STORE_CTX_new();
	if (!*ctx || !X509_STORE_CTX_init(*ctx, *trust, leaf, *chain))
		return CERTS_E_NOMEM;
	param = X509_STORE_CTX_get0_param(*ctx);
	X509_VERIFY_PARAM_set_time(param, (time_t)now_s);
	/* An installed CA is a trust anchor even when it is an intermediate: the central system
	 * decided to trust it by installing it. */
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
	X509_VERIFY_PARAM_set_depth(param, CHAIN_DEPTH_MAX);
	if (X509_verify_cert(*ctx) == 1)
		return CERTS_OK;
	err = X509_STORE_CTX_get_error(*ctx);
	certs_detail(d, dn, "signing certificate: %s (depth %d)", X509_verify_cert_error_string(err),
		     X509_STORE_CTX_get_error_depth(*ctx));
	return certs_verify_reason(err);
}

int certs_sig_signer_check_detail(const char *signing_cert_pem, const char *roots_pem, int64_t now_s,
				  enum certs_reason *why, char *detail, size_t detail_len)
{
	STACK_OF(X509) *chain = NULL, *roots = NULL;
	X509_STORE *trust = NULL;
	X509_STORE_CTX *ctx = NULL;
	enum certs_reason r;

	certs_detail(detail, detail_len, "%s", "");
	r = signer_check(signing_cert_pem, roots_pem, now_s, &chain, &roots, &trust, &ctx, detail, detail_len);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(trust);
	sk_X509_pop_free(roots, X509_free);
	sk_X509_pop_free(chain, X509_free);
	ERR_clear_error();
	if (why)
		*why = r;
	if (r == CERTS_OK)
		return 0;
	return r == CERTS_E_NOMEM ? -ENOMEM : -EINVAL;
}

int certs_sig_signer_check(const char *signing_cert_pem, const char *roots_pem, int64_t now_s,
			   enum certs_reason *why)
{
	return certs_sig_signer_check_detail(signing_cert_pem, roots_pem, now_s, why, NULL, 0);
}

/* ---- the signature ---- */

int certs_sig_verify(const char *signing_cert_pem, const unsigned char digest[CERTS_SHA256_LEN],
		     const char *signature_b64)
{
	unsigned char sig[CERTS_SIG_MAX];
	size_t b64_len, sig_len;
	EVP_PKEY_CTX *ctx = NULL;
	enum certs_reason why;
	EVP_PKEY *pk;
	X509 *x;
	int rc;

	if (!signing_cert_pem || !digest || !signature_b64)
		return -EINVAL;
	b64_len = strlen(signature_b64);
	if (b64_len > CERTS_SIG_B64_MAX)
		return -EINVAL;
	rc = certs_sig_b64_decode(signature_b64, b64_len, sig, sizeof(sig), &sig_len);
	if (rc < 0 || sig_len == 0)
		return -EINVAL;
	if (strlen(signing_cert_pem) > CERTS_CERT_MAX)
		return -EINVAL;
	x = certs_pem_first(signing_cert_pem, strlen(signing_cert_pem), &why);
	if (!x)
		return why == CERTS_E_NOMEM ? -ENOMEM : -EINVAL;
	pk = X509_get0_pubkey(x);
	if (!pk || key_check(pk, NULL, 0) != CERTS_OK) {
		rc = -EINVAL;
		goto out;
	}
	ctx = EVP_PKEY_CTX_new(pk, NULL);
	if (!ctx || EVP_PKEY_verify_init(ctx) <= 0 || EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) <= 0) {
		rc = -ENOMEM;
		goto out;
	}
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0) {
		rc = -ENOMEM;
		goto out;
	}
	/* 1 verified, 0 a wrong signature, < 0 one that does not even parse (a damaged DER
	 * ECDSA value, an RSA signature of the wrong length): all the same to the caller. */
	rc = EVP_PKEY_verify(ctx, sig, sig_len, digest, CERTS_SHA256_LEN) == 1 ? 0 : -EBADMSG;
out:
	EVP_PKEY_CTX_free(ctx);
	X509_free(x);
	OPENSSL_cleanse(sig, sizeof(sig));
	ERR_clear_error();
	return rc;
}

/* ---- SHA-256 piece by piece ---- */

struct certs_sha256 {
	EVP_MD_CTX *md;
	bool ok;
};

struct certs_sha256 *certs_sha256_new(void)
{
	struct certs_sha256 *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->md = EVP_MD_CTX_new();
	if (!h->md || EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1) {
		certs_sha256_free(h);
		ERR_clear_error();
		return NULL;
	}
	h->ok = true;
	return h;
}

int certs_sha256_update(struct certs_sha256 *h, const void *p, size_t n)
{
	if (!h || !h->ok || (n && !p))
		return -EIO;
	if (n && EVP_DigestUpdate(h->md, p, n) != 1) {
		h->ok = false;
		ERR_clear_error();
		return -EIO;
	}
	return 0;
}

int certs_sha256_final(struct certs_sha256 *h, unsigned char out[CERTS_SHA256_LEN])
{
	unsigned int len = 0;
	int rc;

	if (!h || !h->ok)
		return -EIO;
	h->ok = false;
	rc = EVP_DigestFinal_ex(h->md, out, &len) == 1 && len == CERTS_SHA256_LEN ? 0 : -EIO;
	ERR_clear_error();
	return rc;
}

void certs_sha256_free(struct certs_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->md);
	free(h);
}
