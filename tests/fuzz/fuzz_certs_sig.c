/*
 * libFuzzer target for what SignedUpdateFirmware brings from the network into certs_sig: the
 * signature's base64, the signature itself (raw, or a real one with bytes flipped), the signing
 * certificate's PEM (raw, or a real one with bytes of its DER flipped) and the roots bundle. Nothing
 * may crash, and nothing may be accepted that is not real: decoded base64 must re-encode to the input
 * without its white space, an accepted signature must verify with our signer's key over the firmware
 * by OpenSSL's other API, an accepted signer must carry a signature by our root's key, and a roots
 * bundle that lets our signer through must hold our root's (or the signer's own) key.
 * The first input byte picks the mode; the rest is the payload.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certs.h"
#include "certs_sig.h"

#define NOW INT64_C(1811808000) /* 2027-06-01 */
#define FIRMWARE "fuzz firmware image"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	EVP_PKEY *root_key, *signer_key;
	X509 *root, *signer;
	char *root_pem, *signer_pem;
	unsigned char *signer_der;
	int signer_der_len;
	unsigned char sig[CERTS_SIG_MAX];
	size_t sig_len;
	unsigned char digest[CERTS_SHA256_LEN];
	bool ready;
} f;

static void need(int ok)
{
	if (!ok)
		abort();
}

static void ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	need(e && X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
}

static X509 *cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, long serial)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	need(x && n);
	need(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0));
	need(X509_set_version(x, X509_VERSION_3) && ASN1_INTEGER_set(X509_get_serialNumber(x), serial));
	need(X509_set_subject_name(x, n) && X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n));
	need(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)(NOW - 86400)) != NULL);
	need(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(NOW + 86400 * 365)) != NULL);
	need(X509_set_pubkey(x, key));
	if (!issuer) {
		ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		ext(x, x, NID_key_usage, "critical,keyCertSign");
	} else {
		ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
		ext(x, issuer, NID_key_usage, "critical,digitalSignature");
		ext(x, issuer, NID_ext_key_usage, "codeSigning");
	}
	need(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
	X509_NAME_free(n);
	return x;
}

static char *pem_of(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *t;
	long n;

	need(b && PEM_write_bio_X509(b, x));
	n = BIO_get_mem_data(b, &p);
	t = malloc((size_t)n + 1);
	need(t != NULL);
	memcpy(t, p, (size_t)n);
	t[n] = '\0';
	BIO_free(b);
	return t;
}

static void init(void)
{
	EVP_MD_CTX *md;
	unsigned int dn = 0;

	if (f.ready)
		return;
	f.root_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	f.signer_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	need(f.root_key && f.signer_key);
	f.root = cert("Fuzz manufacturer root", f.root_key, NULL, NULL, 1);
	f.signer = cert("Fuzz firmware signer", f.signer_key, f.root, f.root_key, 2);
	f.root_pem = pem_of(f.root);
	f.signer_pem = pem_of(f.signer);
	f.signer_der_len = i2d_X509(f.signer, &f.signer_der);
	need(f.signer_der_len > 0);
	md = EVP_MD_CTX_new();
	f.sig_len = sizeof(f.sig);
	need(md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, f.signer_key) == 1 &&
	     EVP_DigestSign(md, f.sig, &f.sig_len, (const unsigned char *)FIRMWARE, strlen(FIRMWARE)) == 1);
	EVP_MD_CTX_free(md);
	need(EVP_Digest(FIRMWARE, strlen(FIRMWARE), f.digest, &dn, EVP_sha256(), NULL) == 1);
	f.ready = true;
}

static char *b64_of(const unsigned char *p, size_t n)
{
	char *t = malloc(4 * ((n + 2) / 3) + 1);

	need(t != NULL);
	EVP_EncodeBlock((unsigned char *)t, p, (int)n);
	return t;
}

static char *text_of(const uint8_t *p, size_t n)
{
	char *t = malloc(n + 1);

	need(t != NULL);
	memcpy(t, p, n);
	t[n] = '\0';
	return t;
}

/* Decoding is canonical: what decodes re-encodes to the input without its white space. */
static void b64_roundtrip(const char *p, size_t n)
{
	unsigned char out[1024];
	size_t len = 0, k = 0;
	char *again, *squeezed;

	if (certs_sig_b64_decode(p, n, out, sizeof(out), &len) != 0) {
		need(len == 0);
		return;
	}
	need(len <= sizeof(out));
	squeezed = malloc(n + 1);
	need(squeezed != NULL);
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			squeezed[k++] = p[i];
	squeezed[k] = '\0';
	again = b64_of(out, len);
	need(!strcmp(again, squeezed));
	free(again);
	free(squeezed);
}

/* An accepted signature verifies with the signer's key over the firmware itself. */
static void signature_check(const char *b64)
{
	unsigned char sig[CERTS_SIG_MAX];
	size_t len = 0;
	EVP_MD_CTX *md;

	if (certs_sig_verify(f.signer_pem, f.digest, b64) != 0)
		return;
	need(certs_sig_b64_decode(b64, strlen(b64), sig, sizeof(sig), &len) == 0);
	md = EVP_MD_CTX_new();
	need(md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, f.signer_key) == 1);
	need(EVP_DigestVerify(md, sig, len, (const unsigned char *)FIRMWARE, strlen(FIRMWARE)) == 1);
	EVP_MD_CTX_free(md);
}

/* An accepted signer is the first certificate of @pem and is signed by our root's key. */
static void signer_check(const char *pem)
{
	BIO *b;
	X509 *x;

	if (certs_sig_signer_check(pem, f.root_pem, NOW, NULL) != 0)
		return;
	b = BIO_new_mem_buf(pem, -1);
	x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	need(x != NULL);
	need(X509_verify(x, f.root_key) == 1);
	X509_free(x);
	BIO_free(b);
}

/* Roots that let our signer through hold our root's key, or the signer's own. */
static void roots_check(const char *pem)
{
	BIO *b;
	X509 *x;
	bool found = false;

	if (certs_sig_signer_check(f.signer_pem, pem, NOW, NULL) != 0)
		return;
	b = BIO_new_mem_buf(pem, -1);
	need(b != NULL);
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		if (EVP_PKEY_eq(X509_get0_pubkey(x), f.root_key) == 1 ||
		    EVP_PKEY_eq(X509_get0_pubkey(x), f.signer_key) == 1)
			found = true;
		X509_free(x);
	}
	need(found);
	BIO_free(b);
}

/* (offset, xor) pairs from @p applied to a copy of @src. */
static unsigned char *mutated(const unsigned char *src, size_t len, const uint8_t *p, size_t n)
{
	unsigned char *c = malloc(len);

	need(c != NULL);
	memcpy(c, src, len);
	for (size_t k = 0; k + 2 < n; k += 3)
		c[((size_t)p[k] << 8 | p[k + 1]) % len] ^= p[k + 2];
	return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data + 1;
	size_t n = size ? size - 1 : 0;
	char *t;

	init();
	if (!size)
		return 0;
	switch (data[0] % 6) {
	case 0:
		b64_roundtrip((const char *)p, n);
		break;
	case 1:
		t = text_of(p, n);
		signature_check(t);
		free(t);
		break;
	case 2: {
		unsigned char *sig = mutated(f.sig, f.sig_len, p, n);
		/* The length may change too: the first byte cuts it short. */
		size_t len = n && p[0] < 16 ? f.sig_len - p[0] % f.sig_len : f.sig_len;

		t = b64_of(sig, len);
		if (memcmp(sig, f.sig, f.sig_len) != 0 || len != f.sig_len)
			signature_check(t);
		else
			need(certs_sig_verify(f.signer_pem, f.digest, t) == 0);
		free(t);
		free(sig);
		break;
	}
	case 3:
		t = text_of(p, n);
		signer_check(t);
		/* The same text as the signing certificate of a signature check. */
		certs_sig_verify(t, f.digest, "AAAA");
		free(t);
		break;
	case 4: {
		unsigned char *der = mutated(f.signer_der, (size_t)f.signer_der_len, p, n);
		const unsigned char *q = der;
		X509 *x = d2i_X509(NULL, &q, f.signer_der_len);

		if (x) {
			t = pem_of(x);
			signer_check(t);
			free(t);
			X509_free(x);
		}
		free(der);
		break;
	}
	default:
		t = text_of(p, n);
		roots_check(t);
		free(t);
		break;
	}
	return 0;
}
