/*
 * Tests of certs_sig, the firmware signature checks of SignedUpdateFirmware: strict base64 (RFC 4648
 * vectors, white space, padding, pad bits, bounds), the piece-by-piece SHA-256 against FIPS 180-2's
 * vectors, the signing certificate's chain to the manufacturer roots (EC and RSA signers, through an
 * intermediate, under no root or another root, expired and not yet valid, a usage that forbids
 * signing, a weak key, no roots, size and shape), and signatures made here the way `openssl dgst
 * -sha256 -sign` makes them (EC and RSA; wrong key, wrong digest, damaged, bad base64), plus one made
 * by the openssl command itself when it is installed. Every key is made at run time.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "certs.h"
#include "certs_sig.h"
#include "test_certs_mk.h"

#define FIRMWARE "twcgw firmware image 1.2.3\n"

static struct pki {
	EVP_PKEY *root_key, *inter_key, *other_root_key, *ec_key, *rsa_key, *other_key;
	X509 *root, *inter, *other_root;
	char *root_pem, *inter_pem, *other_root_pem, *ec_pem, *rsa_pem, *ec_inter_pem;
	unsigned char digest[CERTS_SHA256_LEN];
} p;

static EVP_PKEY *mk_rsa(unsigned bits)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);

	assert_non_null(k);
	return k;
}

/* A signing certificate for @key under @issuer, as PEM. */
static char *signer(struct mk_opts o, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key)
{
	X509 *x;
	char *pem;

	if (!o.cn)
		o.cn = "Firmware signer";
	if (!o.o)
		o.o = "Example Manufacturer";
	if (!o.serial)
		o.serial = 77;
	if (!o.eku)
		o.eku = "codeSigning";
	x = mk_cert(&o, key, issuer, issuer_key);
	pem = mk_pem(x);
	X509_free(x);
	return pem;
}

/* What `openssl dgst -sha256 -sign` writes for @data, as base64 (free()). */
static char *sign_b64(EVP_PKEY *key, const void *data, size_t len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char sig[1024];
	size_t sig_len = sizeof(sig);
	char *b64;

	assert_non_null(md);
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &sig_len, data, len), 1);
	EVP_MD_CTX_free(md);
	b64 = calloc(1, 4 * ((sig_len + 2) / 3) + 1);
	assert_non_null(b64);
	assert_true(EVP_EncodeBlock((unsigned char *)b64, sig, (int)sig_len) > 0);
	return b64;
}

static void sha256_of(const void *data, size_t len, unsigned char out[CERTS_SHA256_LEN])
{
	unsigned int n = 0;

	assert_int_equal(EVP_Digest(data, len, out, &n, EVP_sha256(), NULL), 1);
	assert_int_equal(n, CERTS_SHA256_LEN);
}

static int setup(void **state)
{
	struct mk_opts ro = {.cn = "Manufacturer root", .o = "Example Manufacturer", .ca = 1, .serial = 1,
			     .not_after = MK_NOW + 3650 * MK_DAY};
	struct mk_opts oo = {.cn = "Other root", .o = "Other Manufacturer", .ca = 1, .serial = 1};
	struct mk_opts io = {.cn = "Firmware CA", .o = "Example Manufacturer", .ca = 1, .serial = 2};

	(void)state;
	p.root_key = mk_key();
	p.inter_key = mk_key();
	p.other_root_key = mk_key();
	p.ec_key = mk_key();
	p.other_key = mk_key();
	p.rsa_key = mk_rsa(2048);
	p.root = mk_cert(&ro, p.root_key, NULL, NULL);
	p.inter = mk_cert(&io, p.inter_key, p.root, p.root_key);
	p.other_root = mk_cert(&oo, p.other_root_key, NULL, NULL);
	p.root_pem = mk_pem(p.root);
	p.inter_pem = mk_pem(p.inter);
	p.other_root_pem = mk_pem(p.other_root);
	p.ec_pem = signer((struct mk_opts){0}, p.ec_key, p.root, p.root_key);
	p.rsa_pem = signer((struct mk_opts){.serial = 78}, p.rsa_key, p.root, p.root_key);
	p.ec_inter_pem = signer((struct mk_opts){.serial = 79}, p.ec_key, p.inter, p.inter_key);
	sha256_of(FIRMWARE, strlen(FIRMWARE), p.digest);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(p.root_key);
	EVP_PKEY_free(p.inter_key);
	EVP_PKEY_free(p.other_root_key);
	EVP_PKEY_free(p.ec_key);
	EVP_PKEY_free(p.rsa_key);
	EVP_PKEY_free(p.other_key);
	X509_free(p.root);
	X509_free(p.inter);
	X509_free(p.other_root);
	free(p.root_pem);
	free(p.inter_pem);
	free(p.other_root_pem);
	free(p.ec_pem);
	free(p.rsa_pem);
	free(p.ec_inter_pem);
	return 0;
}

/* ---- base64 ---- */

static int dec(const char *in, char *out, size_t max)
{
	size_t n = 99;
	int rc = certs_sig_b64_decode(in, strlen(in), (unsigned char *)out, max, &n);

	if (rc == 0) {
		assert_true(n < max || n == max);
		out[n < max ? n : max - 1] = '\0';
	} else {
		assert_int_equal(n, 0);
	}
	return rc;
}

static void test_b64_vectors(void **state)
{
	static const char *const vec[][2] = {{"", ""},	       {"Zg==", "f"},	  {"Zm8=", "fo"},      {"Zm9v", "foo"},
					     {"Zm9vYg==", "foob"}, {"Zm9vYmE=", "fooba"}, {"Zm9vYmFy", "foobar"}};
	char out[32];

	(void)state;
	for (size_t k = 0; k < sizeof(vec) / sizeof(vec[0]); k++) {
		assert_int_equal(dec(vec[k][0], out, sizeof(out)), 0);
		assert_string_equal(out, vec[k][1]);
	}
	/* White space anywhere, as `openssl base64` wraps lines and JSON may carry them. */
	assert_int_equal(dec(" Zm9v\r\nYmFy\n", out, sizeof(out)), 0);
	assert_string_equal(out, "foobar");
	assert_int_equal(dec("Zm8\n=\n", out, sizeof(out)), 0);
	assert_string_equal(out, "fo");
	/* The whole alphabet. */
	assert_int_equal(dec("+/+/", out, sizeof(out)), 0);
	assert_memory_equal(out, "\xfb\xff\xbf", 3);
}

static void test_b64_refused(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(dec("Zg", out, sizeof(out)), -EINVAL);	    /* padding missing */
	assert_int_equal(dec("Zm9", out, sizeof(out)), -EINVAL);
	assert_int_equal(dec("Z===", out, sizeof(out)), -EINVAL);   /* one character is no byte */
	assert_int_equal(dec("====", out, sizeof(out)), -EINVAL);
	assert_int_equal(dec("Zg=", out, sizeof(out)), -EINVAL);    /* half a pad */
	assert_int_equal(dec("Zg==Zg==", out, sizeof(out)), -EINVAL); /* data after the end */
	assert_int_equal(dec("Zg=a", out, sizeof(out)), -EINVAL);
	assert_int_equal(dec("Zh==", out, sizeof(out)), -EINVAL);   /* non-zero pad bits */
	assert_int_equal(dec("Zm9=", out, sizeof(out)), -EINVAL);
	assert_int_equal(dec("Zm9v!", out, sizeof(out)), -EINVAL);
	assert_int_equal(dec("Zm-v", out, sizeof(out)), -EINVAL);   /* base64url is another alphabet */
	assert_int_equal(dec("Zm_v", out, sizeof(out)), -EINVAL);
	{
		size_t n = 7;
		/* An embedded NUL is a byte like any other: refused, not an end. */
		assert_int_equal(certs_sig_b64_decode("Zm\0v", 4, (unsigned char *)out, sizeof(out), &n), -EINVAL);
	}
	/* Bounds: exactly full fits, one byte more does not. */
	assert_int_equal(dec("Zm9vYmFy", out, 6), 0);
	assert_int_equal(dec("Zm9vYmFy", out, 5), -EMSGSIZE);
	assert_int_equal(dec("Zm9vYg==", out, 3), -EMSGSIZE);
	assert_int_equal(dec("Zm9vYmE=", out, 4), -EMSGSIZE);
}

/* ---- SHA-256 ---- */

static void test_sha256_pieces(void **state)
{
	static const unsigned char abc[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
					      0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
					      0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
	static const unsigned char empty[32] = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4,
						0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b,
						0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
	unsigned char out[32], whole[32];
	struct certs_sha256 *h = certs_sha256_new();
	static unsigned char big[100000];

	(void)state;
	assert_non_null(h);
	assert_int_equal(certs_sha256_update(h, "a", 1), 0);
	assert_int_equal(certs_sha256_update(h, "", 0), 0);
	assert_int_equal(certs_sha256_update(h, "bc", 2), 0);
	assert_int_equal(certs_sha256_final(h, out), 0);
	assert_memory_equal(out, abc, 32);
	/* Spent: no second digest from the same context. */
	assert_int_equal(certs_sha256_update(h, "a", 1), -EIO);
	assert_int_equal(certs_sha256_final(h, out), -EIO);
	certs_sha256_free(h);

	h = certs_sha256_new();
	assert_int_equal(certs_sha256_final(h, out), 0);
	assert_memory_equal(out, empty, 32);
	certs_sha256_free(h);

	/* Uneven pieces of a larger text give the one-shot digest. */
	for (size_t k = 0; k < sizeof(big); k++)
		big[k] = (unsigned char)(k * 31 + 7);
	sha256_of(big, sizeof(big), whole);
	h = certs_sha256_new();
	for (size_t off = 0, step = 1; off < sizeof(big); off += step, step = step * 3 + 1)
		assert_int_equal(certs_sha256_update(h, big + off, off + step > sizeof(big) ? sizeof(big) - off : step),
				 0);
	assert_int_equal(certs_sha256_final(h, out), 0);
	assert_memory_equal(out, whole, 32);
	certs_sha256_free(h);
	certs_sha256_free(NULL);
}

/* ---- the signer ---- */

static void test_signer_under_root(void **state)
{
	char *bundle = mk_cat(p.other_root_pem, p.root_pem, NULL, NULL);
	char *with_inter = mk_cat(p.ec_inter_pem, p.inter_pem, NULL, NULL);
	enum certs_reason why = CERTS_E_NOMEM;
	char detail[CERTS_DETAIL_MAX];

	(void)state;
	assert_int_equal(certs_sig_signer_check(p.ec_pem, p.root_pem, MK_NOW, &why), 0);
	assert_int_equal(why, CERTS_OK);
	assert_int_equal(certs_sig_signer_check(p.rsa_pem, p.root_pem, MK_NOW, &why), 0);
	/* Our root second in a bundle of two. */
	assert_int_equal(certs_sig_signer_check(p.ec_pem, bundle, MK_NOW, &why), 0);
	/* Through an intermediate that comes with the signing certificate. */
	assert_int_equal(certs_sig_signer_check(with_inter, p.root_pem, MK_NOW, &why), 0);
	/* Without it the signer leads nowhere... */
	assert_int_equal(certs_sig_signer_check_detail(p.ec_inter_pem, p.root_pem, MK_NOW, &why, detail, sizeof(detail)),
			 -EINVAL);
	assert_int_equal(why, CERTS_E_CHAIN);
	assert_non_null(strstr(detail, "unable to get local issuer certificate"));
	/* ...unless the intermediate itself is installed: an installed CA is an anchor. */
	assert_int_equal(certs_sig_signer_check(p.ec_inter_pem, p.inter_pem, MK_NOW, &why), 0);
	/* The root itself is trusted, but its keyUsage (keyCertSign, cRLSign) does not sign files. */
	assert_int_equal(certs_sig_signer_check(p.root_pem, p.root_pem, MK_NOW, &why), -EINVAL);
	assert_int_equal(why, CERTS_E_CHAIN);
	free(bundle);
	free(with_inter);
}

static void test_signer_refused(void **state)
{
	struct mk_opts so = {.cn = "Firmware signer", .serial = 90, .eku = "codeSigning"};
	X509 *self = mk_cert(&so, p.ec_key, NULL, NULL);
	char *self_pem = mk_pem(self);
	enum certs_reason why = CERTS_OK;
	char detail[CERTS_DETAIL_MAX];

	(void)state;
	/* Under another root only. */
	assert_int_equal(certs_sig_signer_check(p.ec_pem, p.other_root_pem, MK_NOW, &why), -EINVAL);
	assert_int_equal(why, CERTS_E_CHAIN);
	/* Self-signed, not installed. */
	assert_int_equal(certs_sig_signer_check(self_pem, p.root_pem, MK_NOW, &why), -EINVAL);
	assert_int_equal(why, CERTS_E_CHAIN);
	/* No roots at all. */
	assert_int_equal(certs_sig_signer_check(p.ec_pem, NULL, MK_NOW, &why), -EINVAL);
	assert_int_equal(why, CERTS_E_NO_ROOT);
	assert_int_equal(certs_sig_signer_check(p.ec_pem, "", MK_NOW, &why), -EINVAL);
	assert_int_equal(why, CERTS_E_NO_ROOT);
	assert_int_equal(certs_sig_signer_check(p.ec_pem, "no PEM here", MK_NOW, &why), -EINVAL);
	assert_int_equal(why, CERTS_E_NO_ROOT);
	/* Not a certificate. */
	assert_int_equal(certs_sig_signer_check("garbage", p.root_pem, MK_NOW, &why), -EINVAL);
	assert_int_equal(why, CERTS_E_PARSE);
	assert_int_equal(certs_sig_signer_check(NULL, p.root_pem, MK_NOW, &why), -EINVAL);
	assert_int_equal(why, CERTS_E_PARSE);
	assert_int_equal(certs_sig_signer_check_detail("", p.root_pem, MK_NOW, &why, detail, sizeof(detail)), -EINVAL);
	assert_int_equal(why, CERTS_E_PARSE);
	assert_string_equal(detail, "no signing certificate");
	X509_free(self);
	free(self_pem);
}

static void test_signer_time(void **state)
{
	char *expired = signer((struct mk_opts){.not_before = MK_NOW - 400 * MK_DAY, .not_after = MK_NOW - 3600},
			       p.ec_key, p.root, p.root_key);
	char *future = signer((struct mk_opts){.not_before = MK_NOW + MK_DAY, .not_after = MK_NOW + 400 * MK_DAY},
			      p.ec_key, p.root, p.root_key);
	enum certs_reason why = CERTS_OK;

	(void)state;
	assert_int_equal(certs_sig_signer_check(expired, p.root_pem, MK_NOW, &why), -EINVAL);
	assert_int_equal(why, CERTS_E_EXPIRED);
	/* The same signer was good while it lasted: the time handed in is the one checked. */
	assert_int_equal(certs_sig_signer_check(expired, p.root_pem, MK_NOW - 7200, &why), 0);
	assert_int_equal(certs_sig_signer_check(future, p.root_pem, MK_NOW, &why), -EINVAL);
	assert_int_equal(why, CERTS_E_NOT_YET_VALID);
	/* The root expires too (ten years). */
	assert_int_equal(certs_sig_signer_check(p.ec_pem, p.root_pem, MK_NOW + 3651 * MK_DAY, &why), -EINVAL);
	assert_int_equal(why, CERTS_E_EXPIRED);
	/* notAfter's second itself is expired, as OpenSSL counts it. */
	assert_int_equal(certs_sig_signer_check(p.ec_pem, p.root_pem, MK_NOW + 365 * MK_DAY, &why), -EINVAL);
	assert_int_equal(why, CERTS_E_EXPIRED);
	assert_int_equal(certs_sig_signer_check(p.ec_pem, p.root_pem, MK_NOW + 365 * MK_DAY - 1, &why), 0);
	free(expired);
	free(future);
}

static void test_signer_usage_and_key(void **state)
{
	char *tls = signer((struct mk_opts){.eku = "clientAuth"}, p.ec_key, p.root, p.root_key);
	char *any = signer((struct mk_opts){.eku = "anyExtendedKeyUsage"}, p.ec_key, p.root, p.root_key);
	char *v1 = signer((struct mk_opts){.no_ext = 1}, p.ec_key, p.root, p.root_key);
	EVP_PKEY *weak = mk_rsa(1024);
	char *weak_pem = signer((struct mk_opts){0}, weak, p.root, p.root_key);
	/* A CA certificate's keyUsage (keyCertSign, cRLSign) has no digitalSignature. */
	char *ca_pem = mk_pem(p.inter);
	enum certs_reason why = CERTS_OK;
	char detail[CERTS_DETAIL_MAX];

	(void)state;
	assert_int_equal(certs_sig_signer_check_detail(tls, p.root_pem, MK_NOW, &why, detail, sizeof(detail)), -EINVAL);
	assert_int_equal(why, CERTS_E_CHAIN);
	assert_non_null(strstr(detail, "codeSigning"));
	assert_int_equal(certs_sig_signer_check(any, p.root_pem, MK_NOW, &why), 0);
	/* No extensions at all: nothing forbids it. */
	assert_int_equal(certs_sig_signer_check(v1, p.root_pem, MK_NOW, &why), 0);
	assert_int_equal(certs_sig_signer_check_detail(weak_pem, p.root_pem, MK_NOW, &why, detail, sizeof(detail)),
			 -EINVAL);
	assert_int_equal(why, CERTS_E_KEY);
	assert_non_null(strstr(detail, "1024"));
	assert_int_equal(certs_sig_signer_check_detail(ca_pem, p.root_pem, MK_NOW, &why, detail, sizeof(detail)),
			 -EINVAL);
	assert_int_equal(why, CERTS_E_CHAIN);
	assert_non_null(strstr(detail, "digitalSignature"));
	EVP_PKEY_free(weak);
	free(tls);
	free(any);
	free(v1);
	free(weak_pem);
	free(ca_pem);
}

static void test_signer_shape_and_size(void **state)
{
	char *big = calloc(1, CERTS_CERT_MAX + 2);
	char *tail = mk_cat(p.ec_pem, "trailing\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", NULL,
			    NULL);
	enum certs_reason why = CERTS_OK;

	(void)state;
	assert_non_null(big);
	/* The real signer padded with blank lines past the bound: refused for its size alone. */
	memcpy(big, p.ec_pem, strlen(p.ec_pem));
	memset(big + strlen(p.ec_pem), '\n', CERTS_CERT_MAX + 1 - strlen(p.ec_pem));
	assert_int_equal(certs_sig_signer_check(big, p.root_pem, MK_NOW, &why), -EINVAL);
	assert_int_equal(why, CERTS_E_TOO_LONG);
	big[CERTS_CERT_MAX] = '\0';
	assert_int_equal(certs_sig_signer_check(big, p.root_pem, MK_NOW, &why), 0);
	/* A broken block after it. */
	assert_int_equal(certs_sig_signer_check(tail, p.root_pem, MK_NOW, &why), -EINVAL);
	assert_int_equal(why, CERTS_E_PARSE);
	free(big);
	free(tail);
}

/* ---- the signature ---- */

static void test_verify_ec_and_rsa(void **state)
{
	char *ec = sign_b64(p.ec_key, FIRMWARE, strlen(FIRMWARE));
	char *rsa = sign_b64(p.rsa_key, FIRMWARE, strlen(FIRMWARE));

	(void)state;
	assert_int_equal(certs_sig_verify(p.ec_pem, p.digest, ec), 0);
	assert_int_equal(certs_sig_verify(p.rsa_pem, p.digest, rsa), 0);
	/* The signing certificate may come with its chain: the first one is the signer. */
	assert_int_equal(certs_sig_verify(p.ec_inter_pem, p.digest, ec), 0);
	/* An RSA signature is 256 bytes: 344 base64 characters, well within 800. */
	assert_int_equal(strlen(rsa), 344);
	free(ec);
	free(rsa);
}

static void test_verify_wrong(void **state)
{
	char *by_other = sign_b64(p.other_key, FIRMWARE, strlen(FIRMWARE));
	char *ec = sign_b64(p.ec_key, FIRMWARE, strlen(FIRMWARE));
	char *rsa = sign_b64(p.rsa_key, FIRMWARE, strlen(FIRMWARE));
	unsigned char other_digest[CERTS_SHA256_LEN];
	char *damaged;

	(void)state;
	/* Wrong key: signed by another EC key, or checked against the RSA signer. */
	assert_int_equal(certs_sig_verify(p.ec_pem, p.digest, by_other), -EBADMSG);
	assert_int_equal(certs_sig_verify(p.rsa_pem, p.digest, ec), -EBADMSG);
	assert_int_equal(certs_sig_verify(p.ec_pem, p.digest, rsa), -EBADMSG);
	/* Wrong digest: one bit of the file changed. */
	sha256_of("twcgw firmware image 1.2.2\n", strlen(FIRMWARE), other_digest);
	assert_int_equal(certs_sig_verify(p.ec_pem, other_digest, ec), -EBADMSG);
	assert_int_equal(certs_sig_verify(p.rsa_pem, other_digest, rsa), -EBADMSG);
	/* Damaged: a character of the RSA signature changed, the EC one cut short (still base64). */
	damaged = strdup(rsa);
	damaged[10] = damaged[10] == 'A' ? 'B' : 'A';
	assert_int_equal(certs_sig_verify(p.rsa_pem, p.digest, damaged), -EBADMSG);
	free(damaged);
	damaged = strdup(ec);
	memcpy(damaged + 8, "====", 5);
	assert_int_equal(certs_sig_verify(p.ec_pem, p.digest, damaged), -EINVAL); /* bad padding for "...AAAA=" */
	memcpy(damaged + 8, "\0", 1);
	assert_int_equal(certs_sig_verify(p.ec_pem, p.digest, damaged), -EBADMSG); /* 6 bytes of DER */
	free(damaged);
	free(by_other);
	free(ec);
	free(rsa);
}

static void test_verify_base64_and_cert(void **state)
{
	char *ec = sign_b64(p.ec_key, FIRMWARE, strlen(FIRMWARE));
	char wrapped[1024], big[CERTS_SIG_B64_MAX + 8];
	size_t n = 0;

	(void)state;
	/* Wrapped at 64 columns as `openssl base64` writes it. */
	for (size_t k = 0; ec[k]; k++) {
		wrapped[n++] = ec[k];
		if (k % 64 == 63)
			wrapped[n++] = '\n';
	}
	wrapped[n++] = '\n';
	wrapped[n] = '\0';
	assert_int_equal(certs_sig_verify(p.ec_pem, p.digest, wrapped), 0);
	/* Not base64. */
	assert_int_equal(certs_sig_verify(p.ec_pem, p.digest, "not base64!"), -EINVAL);
	assert_int_equal(certs_sig_verify(p.ec_pem, p.digest, ""), -EINVAL);
	assert_int_equal(certs_sig_verify(p.ec_pem, p.digest, NULL), -EINVAL);
	/* Over the field's 800 characters, even if only white space makes it so. */
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, ec, strlen(ec));
	assert_int_equal(certs_sig_verify(p.ec_pem, p.digest, big), -EINVAL);
	/* The certificate does not parse. */
	assert_int_equal(certs_sig_verify("garbage", p.digest, ec), -EINVAL);
	assert_int_equal(certs_sig_verify(NULL, p.digest, ec), -EINVAL);
	free(ec);
}

/* The openssl command's own signature of a file, as a manufacturer would make it. */
static void test_verify_openssl_cli(void **state)
{
	char dir[] = "/tmp/test_certs_sig.XXXXXX", key_path[128], fw_path[128], sig_path[128], cmd[512];
	char *key_pem, *b64;
	unsigned char sig[1024];
	size_t len;
	FILE *f;
	int fd;

	(void)state;
	if (system("openssl version >/dev/null 2>&1") != 0) {
		skip();
		return;
	}
	assert_non_null(mkdtemp(dir));
	snprintf(key_path, sizeof(key_path), "%s/key.pem", dir);
	snprintf(fw_path, sizeof(fw_path), "%s/fw.bin", dir);
	snprintf(sig_path, sizeof(sig_path), "%s/fw.sig", dir);
	for (int k = 0; k < 2; k++) {
		key_pem = mk_key_pem(k ? p.rsa_key : p.ec_key);
		fd = open(key_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, key_pem, strlen(key_pem)), (ssize_t)strlen(key_pem));
		close(fd);
		OPENSSL_cleanse(key_pem, strlen(key_pem));
		free(key_pem);
		f = fopen(fw_path, "w");
		assert_non_null(f);
		fputs(FIRMWARE, f);
		fclose(f);
		snprintf(cmd, sizeof(cmd), "openssl dgst -sha256 -sign %s -out %s %s", key_path, sig_path, fw_path);
		assert_int_equal(system(cmd), 0);
		f = fopen(sig_path, "rb");
		assert_non_null(f);
		len = fread(sig, 1, sizeof(sig), f);
		fclose(f);
		assert_true(len > 0);
		b64 = calloc(1, 4 * ((len + 2) / 3) + 1);
		assert_non_null(b64);
		EVP_EncodeBlock((unsigned char *)b64, sig, (int)len);
		assert_int_equal(certs_sig_verify(k ? p.rsa_pem : p.ec_pem, p.digest, b64), 0);
		assert_int_equal(certs_sig_verify(k ? p.ec_pem : p.rsa_pem, p.digest, b64), -EBADMSG);
		free(b64);
	}
	unlink(key_path);
	unlink(fw_path);
	unlink(sig_path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_vectors),
		cmocka_unit_test(test_b64_refused),
		cmocka_unit_test(test_sha256_pieces),
		cmocka_unit_test(test_signer_under_root),
		cmocka_unit_test(test_signer_refused),
		cmocka_unit_test(test_signer_time),
		cmocka_unit_test(test_signer_usage_and_key),
		cmocka_unit_test(test_signer_shape_and_size),
		cmocka_unit_test(test_verify_ec_and_rsa),
		cmocka_unit_test(test_verify_wrong),
		cmocka_unit_test(test_verify_base64_and_cert),
		cmocka_unit_test(test_verify_openssl_cli),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
