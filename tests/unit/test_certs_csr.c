/*
 * Tests of the SignCertificate half of certs/: the CSR parses, is signed by the new key, names
 * CN = chargeBoxId and O = CpoName (and C when given), asks for a TLS client leaf, the key text is the
 * matching unencrypted key, each call makes a new key, RSA 2048 on request, bad subjects are refused,
 * and a certificate a central system makes from the CSR passes the CertificateSigned check.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "certs.h"
#include "test_certs_mk.h"

static X509_REQ *csr_parse(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509_REQ *r = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);

	BIO_free(b);
	assert_non_null(r);
	return r;
}

static EVP_PKEY *key_parse(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);

	BIO_free(b);
	assert_non_null(k);
	return k;
}

static void name_is(X509_NAME *n, int nid, const char *want)
{
	char buf[128];

	if (!want) {
		assert_int_equal(X509_NAME_get_index_by_NID(n, nid, -1), -1);
		return;
	}
	assert_true(X509_NAME_get_text_by_NID(n, nid, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, want);
}

/* The extension @nid of the request as text (X509V3_EXT_print), into @out. */
static void ext_text(X509_REQ *r, int nid, char *out, size_t n, int *critical)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(r);
	int at = X509v3_get_ext_by_NID(exts, nid, -1);
	X509_EXTENSION *e;
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long len;

	assert_true(at >= 0);
	e = X509v3_get_ext(exts, at);
	*critical = X509_EXTENSION_get_critical(e);
	assert_true(X509V3_EXT_print(b, e, 0, 0));
	len = BIO_get_mem_data(b, &p);
	assert_true(len > 0 && (size_t)len < n);
	memcpy(out, p, (size_t)len);
	out[len] = '\0';
	BIO_free(b);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
}

static void test_ec_csr(void **state)
{
	const struct certs_subject s = {.cn = "TWC-0042", .o = "Example CPO", .c = "DE"};
	char *csr = NULL, *key = NULL, text[128];
	X509_REQ *r;
	EVP_PKEY *k, *pub;
	int crit;

	(void)state;
	assert_int_equal(certs_csr_new(&s, CERTS_KEY_EC_P256, &csr, &key), 0);
	assert_non_null(strstr(csr, "-----BEGIN CERTIFICATE REQUEST-----"));
	assert_true(strlen(csr) <= CERTS_CSR_MAX);
	assert_non_null(strstr(key, "-----BEGIN PRIVATE KEY-----")); /* PKCS#8, not encrypted */
	r = csr_parse(csr);
	k = key_parse(key);
	pub = X509_REQ_get_pubkey(r);
	assert_int_equal(X509_REQ_verify(r, pub), 1); /* signed by its own key */
	assert_int_equal(EVP_PKEY_eq(pub, k), 1);
	assert_true(EVP_PKEY_is_a(k, "EC"));
	assert_int_equal(EVP_PKEY_get_bits(k), 256);
	assert_int_equal(X509_REQ_get_signature_nid(r), NID_ecdsa_with_SHA256);
	name_is(X509_REQ_get_subject_name(r), NID_commonName, "TWC-0042");
	name_is(X509_REQ_get_subject_name(r), NID_organizationName, "Example CPO");
	name_is(X509_REQ_get_subject_name(r), NID_countryName, "DE");
	ext_text(r, NID_basic_constraints, text, sizeof(text), &crit);
	assert_string_equal(text, "CA:FALSE");
	assert_true(crit);
	ext_text(r, NID_key_usage, text, sizeof(text), &crit);
	assert_string_equal(text, "Digital Signature, Key Agreement");
	assert_true(crit);
	ext_text(r, NID_ext_key_usage, text, sizeof(text), &crit);
	assert_string_equal(text, "TLS Web Client Authentication");
	EVP_PKEY_free(pub);
	EVP_PKEY_free(k);
	X509_REQ_free(r);
	free(csr);
	certs_secret_free(key);
}

static void test_rsa_csr_without_country(void **state)
{
	const struct certs_subject s = {.cn = "TWC-0042", .o = "Example CPO"};
	char *csr = NULL, *key = NULL, text[128];
	X509_REQ *r;
	EVP_PKEY *k;
	int crit;

	(void)state;
	assert_int_equal(certs_csr_new(&s, CERTS_KEY_RSA_2048, &csr, &key), 0);
	r = csr_parse(csr);
	k = key_parse(key);
	assert_true(EVP_PKEY_is_a(k, "RSA"));
	assert_int_equal(EVP_PKEY_get_bits(k), 2048);
	assert_int_equal(X509_REQ_get_signature_nid(r), NID_sha256WithRSAEncryption);
	assert_int_equal(X509_REQ_verify(r, k), 1);
	name_is(X509_REQ_get_subject_name(r), NID_countryName, NULL);
	name_is(X509_REQ_get_subject_name(r), NID_commonName, "TWC-0042");
	ext_text(r, NID_key_usage, text, sizeof(text), &crit);
	assert_string_equal(text, "Digital Signature, Key Encipherment");
	assert_true(strlen(csr) <= CERTS_CSR_MAX);
	EVP_PKEY_free(k);
	X509_REQ_free(r);
	free(csr);
	certs_secret_free(key);
}

static void test_new_key_each_time(void **state)
{
	const struct certs_subject s = {.cn = "cp1", .o = "cpo"};
	char *c1, *k1, *c2, *k2;

	(void)state;
	assert_int_equal(certs_csr_new(&s, CERTS_KEY_EC_P256, &c1, &k1), 0);
	assert_int_equal(certs_csr_new(&s, CERTS_KEY_EC_P256, &c2, &k2), 0);
	assert_string_not_equal(k1, k2);
	assert_string_not_equal(c1, c2);
	free(c1);
	free(c2);
	certs_secret_free(k1);
	certs_secret_free(k2);
}

static void test_bad_subject_refused(void **state)
{
	char long_name[CERTS_NAME_MAX + 2];
	const struct certs_subject bad[] = {
		{.cn = NULL, .o = "cpo"},
		{.cn = "", .o = "cpo"},
		{.cn = "cp1", .o = NULL}, /* the whitepaper's O = CpoName is required */
		{.cn = "cp1", .o = ""},
		{.cn = long_name, .o = "cpo"},
		{.cn = "cp1", .o = long_name},
		{.cn = "cp1", .o = "cpo", .c = "DEU"},
		{.cn = "cp1", .o = "cpo", .c = "D"},
		{.cn = "cp1\xff", .o = "cpo"}, /* not UTF-8 */
	};
	char *csr = (char *)"x", *key = (char *)"y";

	(void)state;
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		assert_int_equal(certs_csr_new(&bad[k], CERTS_KEY_EC_P256, &csr, &key), -EINVAL);
		assert_null(csr);
		assert_null(key);
	}
	assert_int_equal(certs_csr_new(NULL, CERTS_KEY_EC_P256, &csr, &key), -EINVAL);
	assert_int_equal(certs_csr_new(&bad[0], (enum certs_key_type)7, &csr, &key), -EINVAL);
	assert_int_equal(certs_csr_new(&bad[0], CERTS_KEY_EC_P256, NULL, &key), -EINVAL);
	long_name[CERTS_NAME_MAX] = '\0'; /* exactly the limit is fine */
	{
		const struct certs_subject s = {.cn = long_name, .o = long_name};

		assert_int_equal(certs_csr_new(&s, CERTS_KEY_EC_P256, &csr, &key), 0);
		free(csr);
		certs_secret_free(key);
	}
	certs_secret_free(NULL);
}

/* The whole rotation in miniature: CSR out, the CSMS CA signs it, CertificateSigned accepts it with
 * the pending key and a different key is refused. */
static void test_signed_from_csr(void **state)
{
	const struct certs_subject s = {.cn = "TWC-0042", .o = "Example CPO"};
	struct mk_opts ro = {.cn = "CSMS root", .o = "Example CPO", .ca = 1, .serial = 1};
	struct certs_store *st = certs_store_new(4);
	EVP_PKEY *rk = mk_key(), *other = mk_key();
	X509 *root = mk_cert(&ro, rk, NULL, NULL), *leaf;
	X509_REQ *r;
	EVP_PKEY *pub;
	char *csr, *key, *root_pem = mk_pem(root), *leaf_pem, *other_pem = mk_key_pem(other);
	struct certs_signed_res res;
	struct certs_signed_req rq = {.cn = "TWC-0042", .o = "Example CPO", .now_s = MK_NOW};
	struct mk_opts lo = {.cn = "TWC-0042", .o = "Example CPO", .serial = 77};

	(void)state;
	assert_int_equal(certs_store_install(st, CERTS_CENTRAL_SYSTEM_ROOT, root_pem, strlen(root_pem), MK_NOW, NULL),
			 CERTS_INSTALL_ACCEPTED);
	assert_int_equal(certs_csr_new(&s, CERTS_KEY_EC_P256, &csr, &key), 0);
	r = csr_parse(csr);
	pub = X509_REQ_get_pubkey(r);
	leaf = mk_cert(&lo, pub, root, rk);
	leaf_pem = mk_pem(leaf);
	rq.chain = leaf_pem;
	rq.chain_len = strlen(leaf_pem);
	rq.key_pem = key;
	rq.key_len = strlen(key);
	assert_int_equal(certs_signed_check(st, &rq, &res), CERTS_OK);
	assert_int_equal(res.certs, 1);
	rq.key_pem = other_pem;
	rq.key_len = strlen(other_pem);
	assert_int_equal(certs_signed_check(st, &rq, &res), CERTS_E_KEY_MISMATCH);
	free(other_pem);
	free(leaf_pem);
	free(root_pem);
	free(csr);
	certs_secret_free(key);
	X509_free(leaf);
	X509_free(root);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(other);
	X509_REQ_free(r);
	certs_store_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ec_csr),
		cmocka_unit_test(test_rsa_csr_without_country),
		cmocka_unit_test(test_new_key_each_time),
		cmocka_unit_test(test_bad_subject_refused),
		cmocka_unit_test(test_signed_from_csr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
