/*
 * certs_verify: the checks on certificates the charge point will present: a CertificateSigned chain
 * against the pending key, the chargeBoxId/CpoName and the installed central-system roots (at the
 * time handed in, never the clock), and the start-up checks of ocpp.certFile/keyFile and ocpp.caFile.
 * A chain is only ever accepted by OpenSSL's own path validation; nothing here vouches for one.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "certs_internal.h"

#define CHAIN_DEPTH_MAX 8 /* intermediates between the leaf and a root: more is not a real PKI */

enum certs_reason certs_verify_reason(int err)
{
	switch (err) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return CERTS_E_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return CERTS_E_NOT_YET_VALID;
	case X509_V_ERR_OUT_OF_MEM:
		return CERTS_E_NOMEM;
	default:
		return CERTS_E_CHAIN;
	}
}

/* OpenSSL's path validation of @leaf with @untrusted as intermediates up to a certificate of
 * @trust, at @at, for a TLS client. */
static enum certs_reason verify_chain(X509_STORE *trust, X509 *leaf, STACK_OF(X509) *untrusted, int64_t at,
				      char *detail, size_t dn)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	enum certs_reason r = CERTS_E_NOMEM;
	X509_VERIFY_PARAM *param;
	int err;

	if (!ctx || !X509_STORE_CTX_init(ctx, trust, leaf, untrusted))
		goto out;
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, (time_t)at);
	/* An installed CA is a trust anchor even when it is an intermediate: the central system
	 * decided to trust it by installing it. */
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
	X509_VERIFY_PARAM_set_depth(param, CHAIN_DEPTH_MAX);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	if (X509_verify_cert(ctx) == 1) {
		r = CERTS_OK;
		goto out;
	}
	err = X509_STORE_CTX_get_error(ctx);
	r = certs_verify_reason(err);
	certs_detail(detail, dn, "chain: %s (depth %d)", X509_verify_cert_error_string(err),
		     X509_STORE_CTX_get_error_depth(ctx));
out:
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return r;
}

static enum certs_reason signed_check(const struct certs_store *st, const struct certs_signed_req *rq,
				      struct certs_signed_res *res, STACK_OF(X509) **chain, EVP_PKEY **key,
				      X509_STORE **trust)
{
	size_t max = rq->max_chain ? rq->max_chain : CERTS_CHAIN_MAX;
	char *d = res->detail;
	size_t dn = sizeof(res->detail);
	enum certs_reason r;
	bool cn_ok, o_ok = true;
	int n_cn, n_o = 1, n_roots = 0;
	int64_t at = rq->now_s;
	X509 *leaf;

	if (!rq->chain || !rq->chain_len) {
		certs_detail(d, dn, "empty certificateChain");
		return CERTS_E_PARSE;
	}
	if (rq->chain_len > max) {
		certs_detail(d, dn, "certificateChain of %zu bytes, more than %zu", rq->chain_len, max);
		return CERTS_E_TOO_LONG;
	}
	r = certs_pem_read(rq->chain, rq->chain_len, chain);
	if (r != CERTS_OK) {
		certs_detail(d, dn, "certificateChain is not a list of PEM certificates");
		return r;
	}
	res->certs = sk_X509_num(*chain);
	if (res->certs > CHAIN_DEPTH_MAX + 1) {
		certs_detail(d, dn, "%d certificates in the chain, at most %d", res->certs, CHAIN_DEPTH_MAX + 1);
		return CERTS_E_TOO_LONG;
	}
	leaf = sk_X509_value(*chain, 0);
	if (!certs_asn1_time(X509_get0_notBefore(leaf), &res->not_before) ||
	    !certs_asn1_time(X509_get0_notAfter(leaf), &res->not_after)) {
		certs_detail(d, dn, "leaf validity is not a valid time");
		return CERTS_E_PARSE;
	}
	*key = certs_key_read(rq->key_pem, rq->key_len);
	if (!*key) {
		certs_detail(d, dn, "the pending private key does not parse");
		return CERTS_E_KEY;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(leaf), *key) != 1) {
		ERR_clear_error();
		certs_detail(d, dn, "the leaf is not for the key of our CSR");
		return CERTS_E_KEY_MISMATCH;
	}
	if (X509_check_ca(leaf) != 0) {
		ERR_clear_error();
		certs_detail(d, dn, "the leaf is a CA certificate");
		return CERTS_E_IS_CA;
	}
	n_cn = certs_name_get(X509_get_subject_name(leaf), NID_commonName, NULL, 0, rq->cn ? rq->cn : "", &cn_ok);
	if (rq->o && rq->o[0])
		n_o = certs_name_get(X509_get_subject_name(leaf), NID_organizationName, NULL, 0, rq->o, &o_ok);
	if (n_cn != 1 || !cn_ok || n_o != 1 || !o_ok) {
		certs_detail(d, dn, "subject %s is not CN=%s%s%s", n_cn != 1 || !cn_ok ? "CN" : "O",
			     rq->cn ? rq->cn : "", rq->o && rq->o[0] ? ", O=" : "", rq->o && rq->o[0] ? rq->o : "");
		return CERTS_E_SUBJECT;
	}
	*trust = st ? certs_store_trust(st, CERTS_CENTRAL_SYSTEM_ROOT, &n_roots) : NULL;
	if (st && !*trust)
		return CERTS_E_NOMEM;
	if (!n_roots) {
		certs_detail(d, dn, "no CentralSystemRootCertificate installed");
		return CERTS_E_NO_ROOT;
	}
	if (rq->allow_not_yet_valid && res->not_before > at)
		at = res->not_before;
	return verify_chain(*trust, leaf, *chain, at, d, dn);
}

enum certs_reason certs_signed_check(const struct certs_store *st, const struct certs_signed_req *rq,
				     struct certs_signed_res *res)
{
	STACK_OF(X509) *chain = NULL;
	X509_STORE *trust = NULL;
	EVP_PKEY *key = NULL;
	enum certs_reason r;

	memset(res, 0, sizeof(*res));
	r = signed_check(st, rq, res, &chain, &key, &trust);
	X509_STORE_free(trust);
	EVP_PKEY_free(key);
	sk_X509_pop_free(chain, X509_free);
	ERR_clear_error();
	return r;
}

enum certs_reason certs_pair_check(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
				   int64_t now_s, char *detail, size_t detail_len)
{
	enum certs_reason r;
	X509 *x = certs_pem_first(cert_pem, cert_len, &r);
	EVP_PKEY *k = NULL;

	certs_detail(detail, detail_len, "%s", "");
	if (!x) {
		certs_detail(detail, detail_len, "the certificate is not PEM X.509");
		return r;
	}
	k = certs_key_read(key_pem, key_len);
	if (!k) {
		certs_detail(detail, detail_len, "the key is not an unencrypted PEM private key");
		r = CERTS_E_KEY;
	} else if (EVP_PKEY_eq(X509_get0_pubkey(x), k) != 1) {
		certs_detail(detail, detail_len, "the certificate is not for this key");
		r = CERTS_E_KEY_MISMATCH;
	} else {
		r = certs_time_check(x, now_s);
		if (r != CERTS_OK)
			certs_detail(detail, detail_len, "the certificate %s",
				     r == CERTS_E_EXPIRED ? "has expired" : "is not valid yet");
	}
	EVP_PKEY_free(k);
	X509_free(x);
	ERR_clear_error();
	return r;
}

enum certs_reason certs_ca_check(const char *pem, size_t len, int64_t now_s, int *count)
{
	STACK_OF(X509) *sk;
	enum certs_reason r = certs_pem_read(pem, len, &sk);

	if (count)
		*count = 0;
	if (r != CERTS_OK)
		return r;
	if (count)
		*count = sk_X509_num(sk);
	for (int k = 0; k < sk_X509_num(sk) && r == CERTS_OK; k++) {
		X509 *x = sk_X509_value(sk, k);

		r = certs_x509_is_ca(x) ? certs_time_check(x, now_s) : CERTS_E_NOT_CA;
	}
	sk_X509_pop_free(sk, X509_free);
	return r;
}

enum certs_reason certs_issued_by(const char *pem, size_t len, const char *issuer_pem, size_t issuer_len,
				  char *detail, size_t detail_len)
{
	enum certs_reason r;
	X509 *x = certs_pem_first(pem, len, &r), *is = NULL;
	int rc;

	certs_detail(detail, detail_len, "%s", "");
	if (!x) {
		certs_detail(detail, detail_len, "the certificate is not PEM X.509");
		return r;
	}
	is = certs_pem_first(issuer_pem, issuer_len, &r);
	if (!is) {
		certs_detail(detail, detail_len, "the issuer is not PEM X.509");
		goto out;
	}
	if (!certs_x509_is_ca(is)) {
		certs_detail(detail, detail_len, "the issuer is not a CA");
		r = CERTS_E_NOT_CA;
		goto out;
	}
	/* Names, key identifiers and the issuer's keyUsage; then the signature itself, which
	 * X509_check_issued does not check. */
	rc = X509_check_issued(is, x);
	if (rc != X509_V_OK) {
		certs_detail(detail, detail_len, "not issued by it: %s", X509_verify_cert_error_string(rc));
		r = CERTS_E_CHAIN;
		goto out;
	}
	if (X509_verify(x, X509_get0_pubkey(is)) != 1) {
		certs_detail(detail, detail_len, "the signature does not verify with the issuer's key");
		r = CERTS_E_CHAIN;
		goto out;
	}
	r = CERTS_OK;
out:
	X509_free(is);
	X509_free(x);
	ERR_clear_error();
	return r;
}
