/*
 * Tests of the root certificate store of certs/ and of CertificateHashData: the hashes of a fixed
 * certificate pair (tests/fixtures/certs) against values computed by `openssl ocsp` and by hashlib,
 * InstallCertificate's accept and reject paths, DeleteCertificate (NotFound, Failed for the last
 * CSMS root at profile 2 and 3, tolerant matching), GetInstalledCertificateIds, the PEM bundle, the
 * caFile import, the JSON round trip with its bound and malformed files, and the expiry report.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "certs.h"
#include "test_certs_mk.h"

/*
 * tests/fixtures/certs/{root,leaf}.pem: an EC P-256 root (serial 0x0A1B, self-signed) and a leaf it
 * issued (serial 0x8F0102030405060708, so its DER integer has a leading zero byte). The expected
 * values were computed once by hand, two independent ways that agreed:
 *   openssl ocsp -issuer root.pem -sha256 -cert leaf.pem -reqout r.der -no_nonce
 *   openssl ocsp -reqin r.der -req_text              (and -sha384, -sha512; and -cert root.pem)
 * and python3 hashlib over the issuer Name DER and the subjectPublicKey BIT STRING value cut out of
 * `openssl x509 -outform DER` at the offsets `openssl asn1parse` shows.
 */
#define FIX_NAME_256 "2d763a1238d940a7fbd70a01a67879f85a0ec2323ed5e282b25131a3e154d56a"
#define FIX_KEY_256 "101ce2a3a3c9548c1ebaec455b3fefd0ebcc56dd08e46588500e1122483a74f8"
#define FIX_NAME_384                                                                                         \
	"6c76a84b018c6f0424eb89df47d6a6560177b58d2ee437dd61e93d9f755551cf304d8f1a7a41424cac81370d52888a51"
#define FIX_KEY_384                                                                                          \
	"f1e02ece4094a89d9792ccf5faf470d2f9497a54e4af06ee880ed7e0fcf12b4dfba2430c154871f192cd9dbb1cf8cc77"
#define FIX_NAME_512                                                                                         \
	"29ee869760adf8c6df621f9f56bcb5265a93dc6d6cf24bf50989fb864ec1cd1d2336318ced6bd7b555cb18a35e101b17732c5c" \
	"e84c001acfa8e7d42fa4d8eaee"
#define FIX_KEY_512                                                                                          \
	"f0217784dd662adb240ff83afa01d25b1da53decdbaccadecb5a8414d058835e14986cf071d121a1fe2f2f96eef58729ee4f57" \
	"98c98e60474351ceb162f5b938"
#define FIX_NOT_BEFORE INT64_C(1796655487) /* 2026-12-07T14:58:07Z */
#define FIX_NOT_AFTER INT64_C(4950255487) /* 2126-11-13T14:58:07Z */

static char *fix_root, *fix_leaf;

/* Made once: two CSMS roots, a manufacturer root, an intermediate under root A, a leaf. */
static struct pki {
	EVP_PKEY *ka, *kb, *km, *ki, *kl;
	X509 *a, *b, *m, *inter;
	char *a_pem, *b_pem, *m_pem, *inter_pem, *leaf_pem;
} p;

static char *slurp(const char *name)
{
	char path[512];
	FILE *f;
	char *buf = calloc(1, 8192);
	size_t n;

	snprintf(path, sizeof(path), "%s/tests/fixtures/certs/%s", TWCGW_SOURCE_DIR, name);
	f = fopen(path, "rb");
	if (!f || !buf) {
		free(buf);
		if (f)
			fclose(f);
		return NULL;
	}
	n = fread(buf, 1, 8191, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int setup(void **state)
{
	struct mk_opts ao = {.cn = "CSMS root A", .o = "CPO", .ca = 1, .serial = 0x1111},
		       bo = {.cn = "CSMS root B", .o = "CPO", .ca = 1, .serial = 0x2222},
		       mo = {.cn = "Maker root", .o = "Maker", .ca = 1, .serial = 0x3333},
		       io = {.cn = "CSMS intermediate", .o = "CPO", .ca = 1, .serial = 0x4444},
		       lo = {.cn = "TWC-1", .o = "CPO", .serial = 0x5555};
	X509 *leaf;

	(void)state;
	fix_root = slurp("root.pem");
	fix_leaf = slurp("leaf.pem");
	if (!fix_root || !fix_leaf)
		return -1;
	p.ka = mk_key();
	p.kb = mk_key();
	p.km = mk_key();
	p.ki = mk_key();
	p.kl = mk_key();
	p.a = mk_cert(&ao, p.ka, NULL, NULL);
	p.b = mk_cert(&bo, p.kb, NULL, NULL);
	p.m = mk_cert(&mo, p.km, NULL, NULL);
	p.inter = mk_cert(&io, p.ki, p.a, p.ka);
	leaf = mk_cert(&lo, p.kl, p.inter, p.ki);
	p.a_pem = mk_pem(p.a);
	p.b_pem = mk_pem(p.b);
	p.m_pem = mk_pem(p.m);
	p.inter_pem = mk_pem(p.inter);
	p.leaf_pem = mk_pem(leaf);
	X509_free(leaf);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(fix_root);
	free(fix_leaf);
	EVP_PKEY_free(p.ka);
	EVP_PKEY_free(p.kb);
	EVP_PKEY_free(p.km);
	EVP_PKEY_free(p.ki);
	EVP_PKEY_free(p.kl);
	X509_free(p.a);
	X509_free(p.b);
	X509_free(p.m);
	X509_free(p.inter);
	free(p.a_pem);
	free(p.b_pem);
	free(p.m_pem);
	free(p.inter_pem);
	free(p.leaf_pem);
	return 0;
}

static enum certs_install_status install(struct certs_store *st, enum certs_type t, const char *pem,
					 enum certs_reason *why)
{
	return certs_store_install(st, t, pem, strlen(pem), MK_NOW, why);
}

static void test_fixture_hashes(void **state)
{
	static const struct {
		enum certs_hash_alg alg;
		const char *name, *key;
	} want[] = {
		{CERTS_SHA256, FIX_NAME_256, FIX_KEY_256},
		{CERTS_SHA384, FIX_NAME_384, FIX_KEY_384},
		{CERTS_SHA512, FIX_NAME_512, FIX_KEY_512},
	};
	struct certs_hash_data h;

	(void)state;
	for (size_t k = 0; k < 3; k++) {
		assert_int_equal(certs_hash_data_get(fix_leaf, strlen(fix_leaf), fix_root, strlen(fix_root), want[k].alg, &h),
				 CERTS_OK);
		assert_int_equal(h.alg, want[k].alg);
		assert_string_equal(h.issuer_name_hash, want[k].name);
		assert_string_equal(h.issuer_key_hash, want[k].key);
		assert_string_equal(h.serial, "8f0102030405060708"); /* no 00 sign byte */
		/* The root is its own issuer: same hashes, its own serial without the leading zero. */
		assert_int_equal(certs_hash_data_get(fix_root, strlen(fix_root), NULL, 0, want[k].alg, &h), CERTS_OK);
		assert_string_equal(h.issuer_name_hash, want[k].name);
		assert_string_equal(h.issuer_key_hash, want[k].key);
		assert_string_equal(h.serial, "a1b");
	}
	/* The leaf is not the root's issuer. */
	assert_int_equal(certs_hash_data_get(fix_root, strlen(fix_root), fix_leaf, strlen(fix_leaf), CERTS_SHA256, &h),
			 CERTS_E_CHAIN);
	assert_int_equal(certs_hash_data_get("x", 1, NULL, 0, CERTS_SHA256, &h), CERTS_E_PARSE);
}

static void test_fixture_info_and_store(void **state)
{
	struct certs_store *st = certs_store_new(3);
	struct certs_hash_data ids[3];
	struct certs_info info;
	enum certs_reason why;

	(void)state;
	assert_int_equal(certs_info_get(fix_leaf, strlen(fix_leaf), &info), CERTS_OK);
	assert_string_equal(info.cn, "TWC-FIXTURE-1");
	assert_string_equal(info.o, "twcgw test");
	assert_string_equal(info.serial, "8f0102030405060708");
	assert_true(info.not_before == FIX_NOT_BEFORE);
	assert_true(info.not_after == FIX_NOT_AFTER); /* GeneralizedTime past 2050 */
	assert_false(info.is_ca);
	assert_false(info.self_signed);
	assert_int_equal(certs_info_get(fix_root, strlen(fix_root), &info), CERTS_OK);
	assert_true(info.is_ca);
	assert_true(info.self_signed);
	/* Valid from 2026-12-07: refused before, accepted after. */
	assert_int_equal(certs_store_install(st, CERTS_CENTRAL_SYSTEM_ROOT, fix_root, strlen(fix_root), FIX_NOT_BEFORE - 1,
					     &why),
			 CERTS_INSTALL_REJECTED);
	assert_int_equal(why, CERTS_E_NOT_YET_VALID);
	assert_int_equal(certs_store_install(st, CERTS_CENTRAL_SYSTEM_ROOT, fix_root, strlen(fix_root), FIX_NOT_BEFORE,
					     &why),
			 CERTS_INSTALL_ACCEPTED);
	assert_int_equal(certs_store_ids(st, CERTS_CENTRAL_SYSTEM_ROOT, CERTS_SHA256, ids, 3), 1);
	assert_string_equal(ids[0].issuer_name_hash, FIX_NAME_256);
	assert_string_equal(ids[0].issuer_key_hash, FIX_KEY_256);
	assert_string_equal(ids[0].serial, "a1b");
	assert_int_equal(certs_store_ids(st, CERTS_MANUFACTURER_ROOT, CERTS_SHA256, ids, 3), 0);
	certs_store_free(st);
}

/* The epoch conversion against the C library's over the range certificates use. */
static void test_time_conversion(void **state)
{
	struct mk_opts o = {.cn = "t", .o = "t", .ca = 1, .serial = 9};
	EVP_PKEY *k = mk_key();
	const int64_t samples[] = {1, 951782400 /* 2000-02-29 */, 2147483647, 2147483648, 2524607999 /* 2049 */,
				   2524608000 /* 2050: GeneralizedTime */, 253402300799 /* 9999-12-31 */};

	(void)state;
	for (size_t s = 0; s < sizeof(samples) / sizeof(samples[0]); s++) {
		struct certs_info info;
		X509 *x;
		char *pem;

		o.not_before = samples[s];
		o.not_after = samples[s];
		x = mk_cert(&o, k, NULL, NULL);
		pem = mk_pem(x);
		assert_int_equal(certs_info_get(pem, strlen(pem), &info), CERTS_OK);
		assert_true(info.not_before == o.not_before);
		assert_true(info.not_after == o.not_after);
		X509_free(x);
		free(pem);
	}
	EVP_PKEY_free(k);
}

static void test_hash_data_equal(void **state)
{
	struct certs_hash_data a = {.alg = CERTS_SHA256, .issuer_name_hash = "ab12", .issuer_key_hash = "cd34",
				    .serial = "a1b"};
	struct certs_hash_data b = a;

	(void)state;
	assert_true(certs_hash_data_equal(&a, &b));
	memcpy(b.issuer_name_hash, "AB12", 5);
	memcpy(b.serial, "000A1B", 7);
	assert_true(certs_hash_data_equal(&a, &b));
	b.alg = CERTS_SHA384;
	assert_false(certs_hash_data_equal(&a, &b));
	b = a;
	memcpy(b.serial, "a1c", 4);
	assert_false(certs_hash_data_equal(&a, &b));
	b = a;
	memcpy(b.serial, "-a1b", 5);
	assert_false(certs_hash_data_equal(&a, &b));
	b = a;
	b.issuer_key_hash[3] = '\0';
	assert_false(certs_hash_data_equal(&a, &b));
	b = a;
	b.serial[0] = '\0';
	assert_false(certs_hash_data_equal(&a, &b));
}

/* A store document with one entry {"type":@type,"pem":@pem} (JSON-escaped here). */
static char *doc(const char *type, const char *pem, const char *extra)
{
	size_t n = strlen(pem) * 2 + 256;
	char *t = malloc(n), *q;

	assert_non_null(t);
	q = t + snprintf(t, n, "{\"version\":1,\"certificates\":[{\"type\":\"%s\",\"pem\":\"", type);
	for (; *pem; pem++) {
		if (*pem == '\n') {
			*q++ = '\\';
			*q++ = 'n';
		} else {
			*q++ = *pem;
		}
	}
	snprintf(q, n - (size_t)(q - t), "\"%s}]}", extra);
	return t;
}

static void test_install(void **state)
{
	struct certs_store *st = certs_store_new(3);
	enum certs_reason why;
	char *two = mk_cat(p.a_pem, p.b_pem, NULL, NULL), big[CERTS_CERT_MAX + 2];
	struct mk_opts eo = {.cn = "old", .o = "x", .ca = 1, .serial = 7, .not_before = MK_NOW - 9 * MK_DAY,
			     .not_after = MK_NOW - MK_DAY},
		       vo = {.cn = "v1 root", .o = "x", .serial = 8, .no_ext = 1};
	X509 *old = mk_cert(&eo, p.ka, NULL, NULL), *v1 = mk_cert(&vo, p.ka, NULL, NULL);
	char *old_pem = mk_pem(old), *v1_pem = mk_pem(v1);
	struct certs_hash_data ids[1];

	(void)state;
	assert_int_equal(certs_store_max(st), 3);
	assert_int_equal(install(st, CERTS_CENTRAL_SYSTEM_ROOT, p.a_pem, &why), CERTS_INSTALL_ACCEPTED);
	assert_int_equal(why, CERTS_OK);
	/* Again: Accepted, still one copy. */
	assert_int_equal(install(st, CERTS_CENTRAL_SYSTEM_ROOT, p.a_pem, &why), CERTS_INSTALL_ACCEPTED);
	assert_int_equal(certs_store_count(st, CERTS_CENTRAL_SYSTEM_ROOT), 1);
	/* Refusals, each with its reason, none of them stored. */
	assert_int_equal(install(st, CERTS_CENTRAL_SYSTEM_ROOT, p.leaf_pem, &why), CERTS_INSTALL_REJECTED);
	assert_int_equal(why, CERTS_E_NOT_CA);
	assert_int_equal(install(st, CERTS_CENTRAL_SYSTEM_ROOT, v1_pem, &why), CERTS_INSTALL_REJECTED);
	assert_int_equal(why, CERTS_E_NOT_CA);
	assert_int_equal(install(st, CERTS_CENTRAL_SYSTEM_ROOT, "garbage", &why), CERTS_INSTALL_REJECTED);
	assert_int_equal(why, CERTS_E_PARSE);
	assert_int_equal(install(st, CERTS_CENTRAL_SYSTEM_ROOT, two, &why), CERTS_INSTALL_REJECTED);
	assert_int_equal(why, CERTS_E_MULTIPLE);
	assert_int_equal(install(st, CERTS_CENTRAL_SYSTEM_ROOT, old_pem, &why), CERTS_INSTALL_REJECTED);
	assert_int_equal(why, CERTS_E_EXPIRED);
	assert_int_equal(install(st, CERTS_CHARGE_POINT, p.b_pem, &why), CERTS_INSTALL_REJECTED);
	/* Serials a CertID cannot carry (RFC 5280: positive, at most 20 octets). */
	{
		struct mk_opts so = {.cn = "odd serial", .o = "x", .ca = 1};
		const char *serials[] = {"-05", "0102030405060708090a0b0c0d0e0f101112131415"};
		char *pem, *json;
		X509 *x;

		for (int k = 0; k < 2; k++) {
			so.serial_hex = serials[k];
			x = mk_cert(&so, p.ka, NULL, NULL);
			pem = mk_pem(x);
			assert_int_equal(install(st, CERTS_CENTRAL_SYSTEM_ROOT, pem, &why), CERTS_INSTALL_REJECTED);
			assert_int_equal(why, CERTS_E_PARSE);
			json = doc("CentralSystemRootCertificate", pem, "");
			assert_int_equal(certs_store_parse(st, json, strlen(json), NULL, 0), -EINVAL);
			free(json);
			X509_free(x);
			free(pem);
		}
		/* Twenty octets is fine, and its CertID is all forty digits. */
		so.serial_hex = "7102030405060708090a0b0c0d0e0f1011121314";
		x = mk_cert(&so, p.ka, NULL, NULL);
		pem = mk_pem(x);
		assert_int_equal(install(st, CERTS_MANUFACTURER_ROOT, pem, &why), CERTS_INSTALL_ACCEPTED);
		assert_int_equal(certs_store_ids(st, CERTS_MANUFACTURER_ROOT, CERTS_SHA256, ids, 1), 1);
		assert_string_equal(ids[0].serial, "7102030405060708090a0b0c0d0e0f1011121314");
		assert_int_equal(certs_store_delete(st, &ids[0], 3), CERTS_DELETE_ACCEPTED);
		X509_free(x);
		free(pem);
	}
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(install(st, CERTS_CENTRAL_SYSTEM_ROOT, big, &why), CERTS_INSTALL_REJECTED);
	assert_int_equal(why, CERTS_E_TOO_LONG);
	assert_int_equal(certs_store_count(st, CERTS_CENTRAL_SYSTEM_ROOT), 1);
	/* The same certificate as the other type is a second entry; then the bound. */
	assert_int_equal(install(st, CERTS_MANUFACTURER_ROOT, p.a_pem, NULL), CERTS_INSTALL_ACCEPTED);
	assert_int_equal(install(st, CERTS_CENTRAL_SYSTEM_ROOT, p.inter_pem, NULL), CERTS_INSTALL_ACCEPTED);
	assert_int_equal(install(st, CERTS_MANUFACTURER_ROOT, p.m_pem, &why), CERTS_INSTALL_REJECTED);
	assert_int_equal(why, CERTS_E_FULL);
	assert_string_equal(certs_reason_name(why), "StoreFull");
	/* A full store still answers Accepted for one it holds. */
	assert_int_equal(install(st, CERTS_MANUFACTURER_ROOT, p.a_pem, NULL), CERTS_INSTALL_ACCEPTED);
	assert_int_equal(certs_store_count(st, CERTS_CENTRAL_SYSTEM_ROOT), 2);
	assert_int_equal(certs_store_count(st, CERTS_MANUFACTURER_ROOT), 1);
	assert_string_equal(certs_install_status_name(CERTS_INSTALL_REJECTED), "Rejected");
	assert_null(certs_store_new(0));
	certs_store_free(st);
	X509_free(old);
	X509_free(v1);
	free(old_pem);
	free(v1_pem);
	free(two);
}

static void test_ids_and_issuer(void **state)
{
	struct certs_store *st = certs_store_new(5), *alone = certs_store_new(5);
	struct certs_hash_data ids[5], want;

	(void)state;
	assert_int_equal(install(st, CERTS_CENTRAL_SYSTEM_ROOT, p.inter_pem, NULL), CERTS_INSTALL_ACCEPTED);
	assert_int_equal(install(st, CERTS_CENTRAL_SYSTEM_ROOT, p.a_pem, NULL), CERTS_INSTALL_ACCEPTED);
	assert_int_equal(install(st, CERTS_MANUFACTURER_ROOT, p.m_pem, NULL), CERTS_INSTALL_ACCEPTED);
	assert_int_equal(certs_store_ids(st, CERTS_CENTRAL_SYSTEM_ROOT, CERTS_SHA384, ids, 5), 2);
	/* Install order; the intermediate's issuer is root A, which is installed. */
	assert_int_equal(certs_hash_data_get(p.inter_pem, strlen(p.inter_pem), p.a_pem, strlen(p.a_pem), CERTS_SHA384,
					     &want),
			 CERTS_OK);
	assert_true(certs_hash_data_equal(&ids[0], &want));
	assert_string_equal(ids[0].serial, "4444");
	assert_int_equal(certs_hash_data_get(p.a_pem, strlen(p.a_pem), NULL, 0, CERTS_SHA384, &want), CERTS_OK);
	assert_true(certs_hash_data_equal(&ids[1], &want));
	assert_int_equal(strlen(ids[1].issuer_key_hash), 96);
	/* Room for one: one. */
	assert_int_equal(certs_store_ids(st, CERTS_CENTRAL_SYSTEM_ROOT, CERTS_SHA256, ids, 1), 1);
	assert_int_equal(certs_store_ids(st, CERTS_MANUFACTURER_ROOT, CERTS_SHA512, ids, 5), 1);
	assert_string_equal(ids[0].serial, "3333");
	assert_int_equal(certs_store_ids(st, CERTS_MANUFACTURER_ROOT, CERTS_SHA512, NULL, 5), -EINVAL);
	/* The intermediate alone: its issuer is unknown, its own key stands in (documented). */
	assert_int_equal(install(alone, CERTS_CENTRAL_SYSTEM_ROOT, p.inter_pem, NULL), CERTS_INSTALL_ACCEPTED);
	assert_int_equal(certs_store_ids(alone, CERTS_CENTRAL_SYSTEM_ROOT, CERTS_SHA256, ids, 5), 1);
	assert_int_equal(certs_hash_data_get(p.inter_pem, strlen(p.inter_pem), p.a_pem, strlen(p.a_pem), CERTS_SHA256,
					     &want),
			 CERTS_OK);
	assert_string_equal(ids[0].issuer_name_hash, want.issuer_name_hash); /* from its issuer field */
	assert_string_not_equal(ids[0].issuer_key_hash, want.issuer_key_hash);
	certs_store_free(st);
	certs_store_free(alone);
}

static void test_delete(void **state)
{
	struct certs_store *st = certs_store_new(5);
	struct certs_hash_data ha, hb, hm, hi;

	(void)state;
	assert_int_equal(install(st, CERTS_CENTRAL_SYSTEM_ROOT, p.a_pem, NULL), CERTS_INSTALL_ACCEPTED);
	assert_int_equal(install(st, CERTS_CENTRAL_SYSTEM_ROOT, p.b_pem, NULL), CERTS_INSTALL_ACCEPTED);
	assert_int_equal(install(st, CERTS_MANUFACTURER_ROOT, p.m_pem, NULL), CERTS_INSTALL_ACCEPTED);
	certs_hash_data_get(p.a_pem, strlen(p.a_pem), NULL, 0, CERTS_SHA256, &ha);
	certs_hash_data_get(p.b_pem, strlen(p.b_pem), NULL, 0, CERTS_SHA512, &hb);
	certs_hash_data_get(p.m_pem, strlen(p.m_pem), NULL, 0, CERTS_SHA384, &hm);
	certs_hash_data_get(p.inter_pem, strlen(p.inter_pem), p.a_pem, strlen(p.a_pem), CERTS_SHA256, &hi);
	assert_int_equal(certs_store_delete(st, &hi, 3), CERTS_DELETE_NOT_FOUND);
	assert_int_equal(certs_store_delete(st, NULL, 3), CERTS_DELETE_NOT_FOUND);
	/* Upper-case hex and a zero-padded serial still name root A. */
	for (char *c = ha.issuer_key_hash; *c; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 'a' + 'A');
	memcpy(ha.serial, "00001111", 9);
	assert_int_equal(certs_store_delete(st, &ha, 3), CERTS_DELETE_ACCEPTED);
	assert_int_equal(certs_store_delete(st, &ha, 3), CERTS_DELETE_NOT_FOUND);
	/* B is the last CSMS root now: refused while a TLS profile needs it, with any algorithm. */
	assert_int_equal(certs_store_delete(st, &hb, 2), CERTS_DELETE_FAILED);
	assert_int_equal(certs_store_delete(st, &hb, 3), CERTS_DELETE_FAILED);
	assert_int_equal(certs_store_count(st, CERTS_CENTRAL_SYSTEM_ROOT), 1);
	/* Manufacturer roots are not guarded. */
	assert_int_equal(certs_store_delete(st, &hm, 3), CERTS_DELETE_ACCEPTED);
	assert_int_equal(certs_store_delete(st, &hb, 1), CERTS_DELETE_ACCEPTED);
	assert_int_equal(certs_store_count(st, CERTS_CENTRAL_SYSTEM_ROOT), 0);
	assert_int_equal(certs_store_delete(st, &hb, 0), CERTS_DELETE_NOT_FOUND);
	assert_string_equal(certs_delete_status_name(CERTS_DELETE_NOT_FOUND), "NotFound");
	certs_store_free(st);
}

static void test_delete_same_cert_both_types(void **state)
{
	struct certs_store *st = certs_store_new(5);
	struct certs_hash_data ha;

	(void)state;
	assert_int_equal(install(st, CERTS_CENTRAL_SYSTEM_ROOT, p.a_pem, NULL), CERTS_INSTALL_ACCEPTED);
	assert_int_equal(install(st, CERTS_MANUFACTURER_ROOT, p.a_pem, NULL), CERTS_INSTALL_ACCEPTED);
	certs_hash_data_get(p.a_pem, strlen(p.a_pem), NULL, 0, CERTS_SHA256, &ha);
	/* Deleting it would take the only CSMS root too. */
	assert_int_equal(certs_store_delete(st, &ha, 2), CERTS_DELETE_FAILED);
	assert_int_equal(certs_store_count(st, CERTS_MANUFACTURER_ROOT), 1);
	assert_int_equal(certs_store_delete(st, &ha, 0), CERTS_DELETE_ACCEPTED);
	assert_int_equal(certs_store_count(st, CERTS_MANUFACTURER_ROOT) + certs_store_count(st, CERTS_CENTRAL_SYSTEM_ROOT),
			 0);
	certs_store_free(st);
}

static void test_bundle_and_import(void **state)
{
	struct certs_store *st = certs_store_new(3);
	char *bundle = mk_cat(p.a_pem, p.inter_pem, NULL, NULL), *with_leaf = mk_cat(p.b_pem, p.leaf_pem, NULL, NULL),
	     *three = mk_cat(p.b_pem, p.m_pem, NULL, NULL), *text;
	enum certs_reason why;

	(void)state;
	assert_null(certs_store_bundle(st, CERTS_CENTRAL_SYSTEM_ROOT));
	assert_int_equal(certs_store_import(st, CERTS_CENTRAL_SYSTEM_ROOT, bundle, strlen(bundle), MK_NOW, &why), 2);
	assert_int_equal(certs_store_import(st, CERTS_CENTRAL_SYSTEM_ROOT, bundle, strlen(bundle), MK_NOW, &why), 0);
	text = certs_store_bundle(st, CERTS_CENTRAL_SYSTEM_ROOT);
	assert_string_equal(text, bundle); /* PEM as OpenSSL writes it: the same text back */
	free(text);
	assert_null(certs_store_bundle(st, CERTS_MANUFACTURER_ROOT));
	/* A leaf in the bundle: nothing of it is installed. */
	assert_int_equal(certs_store_import(st, CERTS_CENTRAL_SYSTEM_ROOT, with_leaf, strlen(with_leaf), MK_NOW, &why),
			 -EINVAL);
	assert_int_equal(why, CERTS_E_NOT_CA);
	assert_int_equal(certs_store_count(st, CERTS_CENTRAL_SYSTEM_ROOT), 2);
	/* Over the bound half way: nothing either. */
	assert_int_equal(certs_store_import(st, CERTS_MANUFACTURER_ROOT, three, strlen(three), MK_NOW, &why), -EINVAL);
	assert_int_equal(why, CERTS_E_FULL);
	assert_int_equal(certs_store_count(st, CERTS_MANUFACTURER_ROOT), 0);
	assert_int_equal(certs_store_import(st, CERTS_CHARGE_POINT, p.b_pem, strlen(p.b_pem), MK_NOW, &why), -EINVAL);
	assert_int_equal(certs_store_import(st, CERTS_MANUFACTURER_ROOT, "", 0, MK_NOW, &why), -EINVAL);
	certs_store_free(st);
	free(bundle);
	free(with_leaf);
	free(three);
}

static void test_json_round_trip(void **state)
{
	struct certs_store *st = certs_store_new(4), *back = certs_store_new(4), *small = certs_store_new(2);
	struct certs_hash_data h1[4], h2[4];
	char *text, *again, err[CERTS_DETAIL_MAX];

	(void)state;
	text = certs_store_format(st);
	assert_string_equal(text, "{\"version\":1,\"certificates\":[]}");
	free(text);
	assert_int_equal(install(st, CERTS_CENTRAL_SYSTEM_ROOT, p.a_pem, NULL), CERTS_INSTALL_ACCEPTED);
	assert_int_equal(install(st, CERTS_MANUFACTURER_ROOT, p.m_pem, NULL), CERTS_INSTALL_ACCEPTED);
	assert_int_equal(install(st, CERTS_CENTRAL_SYSTEM_ROOT, p.inter_pem, NULL), CERTS_INSTALL_ACCEPTED);
	text = certs_store_format(st);
	assert_non_null(strstr(text, "{\"type\":\"ManufacturerRootCertificate\",\"pem\":\"-----BEGIN CERTIFICATE-----\\n"));
	assert_int_equal(certs_store_parse(back, text, strlen(text), err, sizeof(err)), 0);
	assert_string_equal(err, "");
	again = certs_store_format(back);
	assert_string_equal(again, text);
	assert_int_equal(certs_store_ids(st, CERTS_CENTRAL_SYSTEM_ROOT, CERTS_SHA256, h1, 4), 2);
	assert_int_equal(certs_store_ids(back, CERTS_CENTRAL_SYSTEM_ROOT, CERTS_SHA256, h2, 4), 2);
	assert_true(certs_hash_data_equal(&h1[0], &h2[0]) && certs_hash_data_equal(&h1[1], &h2[1]));
	/* The bound: three entries do not fit a store of two, which keeps what it had. */
	assert_int_equal(install(small, CERTS_MANUFACTURER_ROOT, p.b_pem, NULL), CERTS_INSTALL_ACCEPTED);
	assert_int_equal(certs_store_parse(small, text, strlen(text), err, sizeof(err)), -EOVERFLOW);
	assert_non_null(strstr(err, "CertificateStoreMaxLength"));
	assert_int_equal(certs_store_count(small, CERTS_MANUFACTURER_ROOT), 1);
	free(text);
	free(again);
	certs_store_free(st);
	certs_store_free(back);
	certs_store_free(small);
}

static void test_json_malformed(void **state)
{
	char *good = doc("CentralSystemRootCertificate", p.a_pem, ""),
	     *leaf = doc("CentralSystemRootCertificate", p.leaf_pem, ""),
	     *cp = doc("ChargePointCertificate", p.a_pem, ""), *extra = doc("CentralSystemRootCertificate", p.a_pem, ",\"x\":1"),
	     *two = mk_cat(p.a_pem, p.b_pem, NULL, NULL), *two_doc = doc("CentralSystemRootCertificate", two, ""),
	     *dup = NULL;
	const char *bad[] = {
		"",
		"[]",
		"{\"version\":2,\"certificates\":[]}",
		"{\"version\":1}",
		"{\"version\":1,\"certificates\":{}}",
		"{\"version\":1,\"certificates\":[],\"more\":0}",
		"{\"version\":1,\"version\":1,\"certificates\":[]}",
		"{\"version\":1,\"certificates\":[1]}",
		"{\"version\":1,\"certificates\":[{\"type\":\"CentralSystemRootCertificate\"}]}",
		"{\"version\":1,\"certificates\":[{\"type\":\"CentralSystemRootCertificate\",\"pem\":\"x\"}]}",
		"{\"version\":1,\"certificates\":[{\"type\":1,\"pem\":\"x\"}]}",
		leaf,
		cp,
		extra,
		two_doc,
	};
	struct certs_store *st = certs_store_new(4);
	char err[CERTS_DETAIL_MAX];
	size_t gl = strlen(good);

	(void)state;
	/* A duplicate entry: the good document's array twice. */
	dup = malloc(2 * gl);
	assert_non_null(dup);
	memcpy(dup, good, gl - 2);
	dup[gl - 2] = ',';
	memcpy(dup + gl - 1, strstr(good, "[") + 1, gl - (size_t)(strstr(good, "[") + 1 - good) + 1);
	assert_int_equal(certs_store_parse(st, good, gl, err, sizeof(err)), 0);
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		err[0] = '\0';
		assert_int_equal(certs_store_parse(st, bad[k], strlen(bad[k]), err, sizeof(err)), -EINVAL);
		assert_true(err[0] != '\0');
		assert_int_equal(certs_store_count(st, CERTS_CENTRAL_SYSTEM_ROOT), 1); /* unchanged */
	}
	assert_int_equal(certs_store_parse(st, dup, strlen(dup), err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "certificates[1]: installed twice");
	assert_int_equal(certs_store_parse(st, leaf, strlen(leaf), err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "certificates[0]: NotACertificateAuthority");
	assert_int_equal(certs_store_parse(st, NULL, 0, err, sizeof(err)), -EINVAL);
	certs_store_free(st);
	free(good);
	free(leaf);
	free(cp);
	free(extra);
	free(two);
	free(two_doc);
	free(dup);
}

static void test_expiry(void **state)
{
	struct mk_opts so = {.cn = "soon", .o = "x", .ca = 1, .serial = 0x51, .not_after = MK_NOW + 10 * MK_DAY},
		       go = {.cn = "gone", .o = "x", .ca = 1, .serial = 0x52, .not_before = MK_NOW - 99 * MK_DAY,
			     .not_after = MK_NOW - 5},
		       co = {.cn = "TWC-1", .o = "CPO", .serial = 0x53, .not_after = MK_NOW + 20 * MK_DAY};
	X509 *soon = mk_cert(&so, p.ka, NULL, NULL), *gone = mk_cert(&go, p.kb, NULL, NULL),
	     *cp = mk_cert(&co, p.kl, p.a, p.ka);
	char *soon_pem = mk_pem(soon), *gone_pem = mk_pem(gone), *cp_pem = mk_pem(cp);
	struct certs_store *st = certs_store_new(5);
	struct certs_expiry out[5];

	(void)state;
	assert_int_equal(install(st, CERTS_CENTRAL_SYSTEM_ROOT, p.a_pem, NULL), CERTS_INSTALL_ACCEPTED);
	assert_int_equal(install(st, CERTS_MANUFACTURER_ROOT, soon_pem, NULL), CERTS_INSTALL_ACCEPTED);
	/* Installed while valid (earlier), expired now. */
	assert_int_equal(certs_store_install(st, CERTS_CENTRAL_SYSTEM_ROOT, gone_pem, strlen(gone_pem),
					     MK_NOW - 50 * MK_DAY, NULL),
			 CERTS_INSTALL_ACCEPTED);
	assert_int_equal(certs_expiring(st, cp_pem, strlen(cp_pem), MK_NOW, 30 * MK_DAY, out, 5), 3);
	assert_int_equal(out[0].type, CERTS_MANUFACTURER_ROOT);
	assert_string_equal(out[0].cn, "soon");
	assert_string_equal(out[0].serial, "51");
	assert_true(out[0].not_after == MK_NOW + 10 * MK_DAY);
	assert_false(out[0].expired);
	assert_int_equal(out[1].type, CERTS_CENTRAL_SYSTEM_ROOT);
	assert_string_equal(out[1].cn, "gone");
	assert_true(out[1].expired);
	assert_int_equal(out[2].type, CERTS_CHARGE_POINT);
	assert_string_equal(out[2].cn, "TWC-1");
	assert_string_equal(certs_type_name(out[2].type), "ChargePointCertificate");
	/* A shorter window leaves the CP certificate out; a zero window only the expired one. */
	assert_int_equal(certs_expiring(st, cp_pem, strlen(cp_pem), MK_NOW, 15 * MK_DAY, out, 5), 2);
	assert_int_equal(certs_expiring(st, NULL, 0, MK_NOW, 0, out, 5), 1);
	assert_string_equal(out[0].cn, "gone");
	/* Room for one: the count still tells how many there are. */
	assert_int_equal(certs_expiring(st, cp_pem, strlen(cp_pem), MK_NOW, 30 * MK_DAY, out, 1), 3);
	assert_int_equal(certs_expiring(NULL, "junk", 4, MK_NOW, 30 * MK_DAY, out, 5), 0);
	certs_store_free(st);
	X509_free(soon);
	X509_free(gone);
	X509_free(cp);
	free(soon_pem);
	free(gone_pem);
	free(cp_pem);
}

static void test_names(void **state)
{
	enum certs_type t;
	enum certs_hash_alg a;

	(void)state;
	assert_int_equal(certs_type_parse("CentralSystemRootCertificate", &t), 0);
	assert_int_equal(t, CERTS_CENTRAL_SYSTEM_ROOT);
	assert_int_equal(certs_type_parse("ManufacturerRootCertificate", &t), 0);
	assert_int_equal(t, CERTS_MANUFACTURER_ROOT);
	assert_int_equal(certs_type_parse("ChargePointCertificate", &t), -EINVAL);
	assert_int_equal(certs_type_parse(NULL, &t), -EINVAL);
	for (int k = CERTS_SHA256; k <= CERTS_SHA512; k++) {
		assert_int_equal(certs_hash_alg_parse(certs_hash_alg_name((enum certs_hash_alg)k), &a), 0);
		assert_int_equal(a, k);
	}
	assert_int_equal(certs_hash_alg_parse("sha256", &a), -EINVAL);
	for (int r = CERTS_OK; r <= CERTS_E_NOMEM; r++)
		assert_string_not_equal(certs_reason_name((enum certs_reason)r), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_hashes),
		cmocka_unit_test(test_fixture_info_and_store),
		cmocka_unit_test(test_time_conversion),
		cmocka_unit_test(test_hash_data_equal),
		cmocka_unit_test(test_install),
		cmocka_unit_test(test_ids_and_issuer),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_delete_same_cert_both_types),
		cmocka_unit_test(test_bundle_and_import),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_malformed),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
