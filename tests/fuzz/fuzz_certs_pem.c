/*
 * libFuzzer target for the certificate text certs/ takes from the network: the certificateChain of
 * CertificateSigned (raw, or a real leaf with bytes of its DER flipped), the certificate of
 * InstallCertificate, and a private key against a real chain. Nothing may crash, and nothing may be
 * accepted that does not really chain to our root: an accepted leaf must carry the pending key and be
 * signed by our intermediate's or root's key, checked here directly with the keys we made.
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

#define NOW INT64_C(1811808000) /* 2027-06-01: the seeds are valid then */
#define CBID "TWC-FUZZ"
#define CPO "Fuzz CPO"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	EVP_PKEY *root_key, *inter_key, *leaf_key;
	X509 *root, *inter, *leaf;
	char *inter_pem, *leaf_pem, *leaf_key_pem;
	unsigned char *leaf_der;
	int leaf_der_len;
	struct certs_store *st;
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

static X509 *cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, long serial, int ca)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	need(x && n);
	need(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)CPO, -1, -1, 0));
	need(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0));
	need(X509_set_version(x, X509_VERSION_3) && ASN1_INTEGER_set(X509_get_serialNumber(x), serial));
	need(X509_set_subject_name(x, n) && X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n));
	need(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)(NOW - 86400)) != NULL);
	need(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(NOW + 86400 * 365)) != NULL);
	need(X509_set_pubkey(x, key));
	ext(x, issuer ? issuer : x, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	if (ca)
		ext(x, issuer ? issuer : x, NID_key_usage, "critical,keyCertSign");
	need(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
	X509_NAME_free(n);
	return x;
}

static char *pem_of(X509 *x, EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *t;
	long n;

	need(b && (x ? PEM_write_bio_X509(b, x) : PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)));
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
	char *root_pem;

	if (f.st)
		return;
	f.root_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	f.inter_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	f.leaf_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	need(f.root_key && f.inter_key && f.leaf_key);
	f.root = cert("Fuzz root", f.root_key, NULL, NULL, 1, 1);
	f.inter = cert("Fuzz intermediate", f.inter_key, f.root, f.root_key, 2, 1);
	f.leaf = cert(CBID, f.leaf_key, f.inter, f.inter_key, 3, 0);
	root_pem = pem_of(f.root, NULL);
	f.inter_pem = pem_of(f.inter, NULL);
	f.leaf_pem = pem_of(f.leaf, NULL);
	f.leaf_key_pem = pem_of(NULL, f.leaf_key);
	f.leaf_der_len = i2d_X509(f.leaf, &f.leaf_der);
	need(f.leaf_der_len > 0);
	f.st = certs_store_new(4);
	need(certs_store_install(f.st, CERTS_CENTRAL_SYSTEM_ROOT, root_pem, strlen(root_pem), NOW, NULL) ==
	     CERTS_INSTALL_ACCEPTED);
	free(root_pem);
}

/* The oracle for an accepted chain: its first certificate is for the pending key, names CBID, and
 * carries a signature by the intermediate's or the root's key. */
static void accepted_really_chains(const char *chain, size_t len)
{
	BIO *b = BIO_new_mem_buf(chain, (int)len);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	char cn[64];

	need(x != NULL);
	need(EVP_PKEY_eq(X509_get0_pubkey(x), f.leaf_key) == 1);
	need(X509_verify(x, f.inter_key) == 1 || X509_verify(x, f.root_key) == 1);
	need(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn)) == (int)strlen(CBID));
	need(!strcmp(cn, CBID));
	X509_free(x);
	BIO_free(b);
}

static enum certs_reason signed_check(const char *chain, size_t len, const char *key, size_t key_len)
{
	struct certs_signed_req rq = {.chain = chain,
				      .chain_len = len,
				      .key_pem = key,
				      .key_len = key_len,
				      .cn = CBID,
				      .o = CPO,
				      .now_s = NOW,
				      .allow_not_yet_valid = len & 1};
	struct certs_signed_res res;
	enum certs_reason r = certs_signed_check(f.st, &rq, &res);

	need(strlen(res.detail) < sizeof(res.detail));
	need(r == CERTS_OK || res.detail[0]);
	return r;
}

/* The real leaf with (offset, xor) pairs from @p applied to its DER, as PEM, then the intermediate. */
static char *mutated_chain(const uint8_t *p, size_t n, size_t *len)
{
	unsigned char *der = malloc((size_t)f.leaf_der_len);
	const unsigned char *q;
	X509 *x;
	char *leaf_pem = NULL, *chain;

	need(der != NULL);
	memcpy(der, f.leaf_der, (size_t)f.leaf_der_len);
	for (size_t k = 0; k + 2 < n; k += 3)
		der[((size_t)p[k] << 8 | p[k + 1]) % (size_t)f.leaf_der_len] ^= p[k + 2];
	q = der;
	x = d2i_X509(NULL, &q, f.leaf_der_len);
	if (x) {
		leaf_pem = pem_of(x, NULL);
		X509_free(x);
	}
	free(der);
	if (!leaf_pem)
		return NULL;
	*len = strlen(leaf_pem) + strlen(f.inter_pem);
	chain = malloc(*len + 1);
	need(chain != NULL);
	memcpy(chain, leaf_pem, strlen(leaf_pem));
	memcpy(chain + strlen(leaf_pem), f.inter_pem, strlen(f.inter_pem) + 1);
	free(leaf_pem);
	return chain;
}

static void install(const char *p, size_t n)
{
	struct certs_store *st = certs_store_new(3);
	struct certs_hash_data ids[3];
	struct certs_info info;
	enum certs_reason why;
	char *text;

	need(st != NULL);
	if (certs_store_install(st, CERTS_CENTRAL_SYSTEM_ROOT, p, n, NOW, &why) == CERTS_INSTALL_ACCEPTED) {
		need(why == CERTS_OK);
		need(certs_ca_check(p, n, NOW, NULL) == CERTS_OK);
		need(certs_info_get(p, n, &info) == CERTS_OK && info.is_ca);
		need(certs_store_ids(st, CERTS_CENTRAL_SYSTEM_ROOT, CERTS_SHA256, ids, 3) == 1);
		text = certs_store_bundle(st, CERTS_CENTRAL_SYSTEM_ROOT);
		need(text != NULL);
		free(text);
		need(certs_store_delete(st, &ids[0], 2) == CERTS_DELETE_FAILED);
		need(certs_store_delete(st, &ids[0], 0) == CERTS_DELETE_ACCEPTED);
		need(certs_store_count(st, CERTS_CENTRAL_SYSTEM_ROOT) == 0);
	} else {
		need(why != CERTS_OK);
		need(certs_store_count(st, CERTS_CENTRAL_SYSTEM_ROOT) == 0);
	}
	certs_store_free(st);
	/* The same text as a caFile bundle: all or nothing, and every entry can be deleted by the
	 * ids the store lists. */
	st = certs_store_new(3);
	need(st != NULL);
	if (certs_store_import(st, CERTS_MANUFACTURER_ROOT, p, n, NOW, &why) < 0)
		need(why != CERTS_OK && certs_store_count(st, CERTS_MANUFACTURER_ROOT) == 0);
	for (int k = 0; k < 3 && certs_store_count(st, CERTS_MANUFACTURER_ROOT); k++) {
		need(certs_store_ids(st, CERTS_MANUFACTURER_ROOT, CERTS_SHA512, ids, 1) == 1);
		need(certs_store_delete(st, &ids[0], 3) == CERTS_DELETE_ACCEPTED);
	}
	need(certs_store_count(st, CERTS_MANUFACTURER_ROOT) == 0);
	certs_store_free(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1;
	size_t n = size ? size - 1 : 0;
	struct certs_hash_data h;
	char *chain;
	size_t len;

	init();
	if (!size)
		return 0;
	switch (data[0] % 4) {
	case 0:
		if (signed_check(p, n, f.leaf_key_pem, strlen(f.leaf_key_pem)) == CERTS_OK)
			accepted_really_chains(p, n);
		certs_hash_data_get(p, n, f.inter_pem, strlen(f.inter_pem), CERTS_SHA384, &h);
		break;
	case 1:
		chain = mutated_chain(data + 1, n, &len);
		if (chain && signed_check(chain, len, f.leaf_key_pem, strlen(f.leaf_key_pem)) == CERTS_OK)
			accepted_really_chains(chain, len);
		free(chain);
		break;
	case 2:
		install(p, n);
		break;
	default: {
		/* The payload as the pending key against the real chain. */
		size_t cl = strlen(f.leaf_pem) + strlen(f.inter_pem);

		chain = malloc(cl + 1);
		need(chain != NULL);
		memcpy(chain, f.leaf_pem, strlen(f.leaf_pem));
		memcpy(chain + strlen(f.leaf_pem), f.inter_pem, strlen(f.inter_pem) + 1);
		if (signed_check(chain, cl, p, n) == CERTS_OK) {
			BIO *b = BIO_new_mem_buf(p, (int)n);
			EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;

			need(k && EVP_PKEY_eq(k, f.leaf_key) == 1);
			EVP_PKEY_free(k);
			BIO_free(b);
		}
		certs_pair_check(f.leaf_pem, strlen(f.leaf_pem), p, n, NOW, NULL, 0);
		free(chain);
		break;
	}
	}
	return 0;
}
