/*
 * Tests of the CertificateSigned check and the TLS file checks of certs/: every accept and reject
 * path with chains made here (a CSMS root, an intermediate, leaves for the pending key): leaf alone,
 * leaf plus intermediate, an installed intermediate as anchor, a foreign root, a manufacturer root,
 * a wrong key, subject, CA flag, purpose, signature, time (and the notBefore option), size and PEM
 * shape; then certs_pair_check and certs_ca_check.
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

#define CBID "TWC-0042"
#define CPO "Example CPO"

/* One PKI for all the tests: made once in the group setup. */
static struct pki {
	EVP_PKEY *root_key, *inter_key, *leaf_key, *other_key;
	X509 *root, *inter;
	char *root_pem, *inter_pem, *leaf_key_pem, *other_key_pem;
	struct certs_store *st; /* the root installed as CentralSystemRootCertificate */
} p;

static int setup(void **state)
{
	struct mk_opts ro = {.cn = "CSMS root", .o = CPO, .ca = 1, .serial = 1, .not_after = MK_NOW + 3650 * MK_DAY};
	struct mk_opts io = {.cn = "CSMS intermediate", .o = CPO, .ca = 1, .serial = 2};

	(void)state;
	p.root_key = mk_key();
	p.inter_key = mk_key();
	p.leaf_key = mk_key();
	p.other_key = mk_key();
	p.root = mk_cert(&ro, p.root_key, NULL, NULL);
	p.inter = mk_cert(&io, p.inter_key, p.root, p.root_key);
	p.root_pem = mk_pem(p.root);
	p.inter_pem = mk_pem(p.inter);
	p.leaf_key_pem = mk_key_pem(p.leaf_key);
	p.other_key_pem = mk_key_pem(p.other_key);
	p.st = certs_store_new(10);
	if (certs_store_install(p.st, CERTS_CENTRAL_SYSTEM_ROOT, p.root_pem, strlen(p.root_pem), MK_NOW, NULL) !=
	    CERTS_INSTALL_ACCEPTED)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(p.root_key);
	EVP_PKEY_free(p.inter_key);
	EVP_PKEY_free(p.leaf_key);
	EVP_PKEY_free(p.other_key);
	X509_free(p.root);
	X509_free(p.inter);
	free(p.root_pem);
	free(p.inter_pem);
	free(p.leaf_key_pem);
	free(p.other_key_pem);
	certs_store_free(p.st);
	return 0;
}

/* A leaf for the pending key, with @o's names and times, signed by the intermediate (@by_root: the
 * root), as PEM. */
static char *leaf(struct mk_opts o, bool by_root)
{
	X509 *x;
	char *pem;

	if (!o.cn)
		o.cn = CBID;
	if (!o.o)
		o.o = CPO;
	if (!o.serial)
		o.serial = 1000;
	x = mk_cert(&o, p.leaf_key, by_root ? p.root : p.inter, by_root ? p.root_key : p.inter_key);
	pem = mk_pem(x);
	X509_free(x);
	return pem;
}

static enum certs_reason check(const struct certs_store *st, const char *chain, const char *key_pem,
			       struct certs_signed_res *res)
{
	struct certs_signed_req rq = {.chain = chain,
				      .chain_len = chain ? strlen(chain) : 0,
				      .key_pem = key_pem,
				      .key_len = key_pem ? strlen(key_pem) : 0,
				      .cn = CBID,
				      .o = CPO,
				      .now_s = MK_NOW};

	return certs_signed_check(st, &rq, res);
}

static void test_leaf_alone_under_root(void **state)
{
	struct certs_signed_res res;
	char *l = leaf((struct mk_opts){0}, true);

	(void)state;
	assert_int_equal(check(p.st, l, p.leaf_key_pem, &res), CERTS_OK);
	assert_int_equal(res.certs, 1);
	assert_true(res.not_before == MK_NOW - MK_DAY);
	assert_true(res.not_after == MK_NOW + 365 * MK_DAY);
	free(l);
}

static void test_leaf_with_intermediate(void **state)
{
	struct certs_signed_res res;
	char *l = leaf((struct mk_opts){0}, false), *chain = mk_cat(l, p.inter_pem, NULL, NULL),
	     *chain_with_root = mk_cat(l, p.inter_pem, p.root_pem, NULL);

	(void)state;
	assert_int_equal(check(p.st, chain, p.leaf_key_pem, &res), CERTS_OK);
	assert_int_equal(res.certs, 2);
	/* The root may come along too: only the installed copy is trusted. */
	assert_int_equal(check(p.st, chain_with_root, p.leaf_key_pem, &res), CERTS_OK);
	/* Without the intermediate the leaf leads nowhere. */
	assert_int_equal(check(p.st, l, p.leaf_key_pem, &res), CERTS_E_CHAIN);
	assert_non_null(strstr(res.detail, "unable to get local issuer certificate"));
	free(l);
	free(chain);
	free(chain_with_root);
}

static void test_installed_intermediate_is_an_anchor(void **state)
{
	struct certs_store *st = certs_store_new(4);
	struct certs_signed_res res;
	char *l = leaf((struct mk_opts){0}, false);

	(void)state;
	assert_int_equal(certs_store_install(st, CERTS_CENTRAL_SYSTEM_ROOT, p.inter_pem, strlen(p.inter_pem), MK_NOW,
					     NULL),
			 CERTS_INSTALL_ACCEPTED);
	assert_int_equal(check(st, l, p.leaf_key_pem, &res), CERTS_OK);
	certs_store_free(st);
	free(l);
}

static void test_foreign_or_missing_root(void **state)
{
	struct mk_opts fo = {.cn = "CSMS root", .o = CPO, .ca = 1, .serial = 1};
	EVP_PKEY *fk = mk_key();
	X509 *foreign = mk_cert(&fo, fk, NULL, NULL);
	char *fpem = mk_pem(foreign);
	struct certs_store *other = certs_store_new(4), *mf = certs_store_new(4);
	struct certs_signed_res res;
	char *l = leaf((struct mk_opts){0}, true);

	(void)state;
	/* Same name as our root, another key: the signature does not verify. */
	assert_int_equal(certs_store_install(other, CERTS_CENTRAL_SYSTEM_ROOT, fpem, strlen(fpem), MK_NOW, NULL),
			 CERTS_INSTALL_ACCEPTED);
	assert_int_equal(check(other, l, p.leaf_key_pem, &res), CERTS_E_CHAIN);
	/* A manufacturer root is no trust anchor for the central system. */
	assert_int_equal(certs_store_install(mf, CERTS_MANUFACTURER_ROOT, p.root_pem, strlen(p.root_pem), MK_NOW, NULL),
			 CERTS_INSTALL_ACCEPTED);
	assert_int_equal(check(mf, l, p.leaf_key_pem, &res), CERTS_E_NO_ROOT);
	assert_int_equal(check(NULL, l, p.leaf_key_pem, &res), CERTS_E_NO_ROOT);
	assert_string_equal(certs_reason_name(CERTS_E_NO_ROOT), "NoCentralSystemRoot");
	certs_store_free(other);
	certs_store_free(mf);
	X509_free(foreign);
	EVP_PKEY_free(fk);
	free(fpem);
	free(l);
}

static void test_self_signed_leaf_refused(void **state)
{
	struct mk_opts so = {.cn = CBID, .o = CPO, .serial = 5};
	X509 *x = mk_cert(&so, p.leaf_key, NULL, NULL);
	char *pem = mk_pem(x);
	struct certs_signed_res res;

	(void)state;
	assert_int_equal(check(p.st, pem, p.leaf_key_pem, &res), CERTS_E_CHAIN);
	X509_free(x);
	free(pem);
}

static void test_key_and_subject(void **state)
{
	struct certs_signed_res res;
	char *l = leaf((struct mk_opts){0}, true), *wrong_cn = leaf((struct mk_opts){.cn = "TWC-0043"}, true),
	     *wrong_o = leaf((struct mk_opts){.o = "Other CPO"}, true),
	     *two_cn = leaf((struct mk_opts){.cn2 = CBID}, true), *prefix = leaf((struct mk_opts){.cn = "TWC-004"}, true);
	struct certs_signed_req rq = {.chain = wrong_o,
				      .chain_len = strlen(wrong_o),
				      .key_pem = p.leaf_key_pem,
				      .key_len = strlen(p.leaf_key_pem),
				      .cn = CBID,
				      .now_s = MK_NOW};

	(void)state;
	assert_int_equal(check(p.st, l, p.other_key_pem, &res), CERTS_E_KEY_MISMATCH);
	assert_int_equal(check(p.st, l, "not a key", &res), CERTS_E_KEY);
	assert_int_equal(check(p.st, l, NULL, &res), CERTS_E_KEY);
	assert_int_equal(check(p.st, wrong_cn, p.leaf_key_pem, &res), CERTS_E_SUBJECT);
	assert_non_null(strstr(res.detail, "CN"));
	assert_int_equal(check(p.st, prefix, p.leaf_key_pem, &res), CERTS_E_SUBJECT);
	assert_int_equal(check(p.st, two_cn, p.leaf_key_pem, &res), CERTS_E_SUBJECT);
	assert_int_equal(check(p.st, wrong_o, p.leaf_key_pem, &res), CERTS_E_SUBJECT);
	/* Without a CpoName to hold it to, O is not checked. */
	assert_int_equal(certs_signed_check(p.st, &rq, &res), CERTS_OK);
	rq.o = "";
	assert_int_equal(certs_signed_check(p.st, &rq, &res), CERTS_OK);
	free(l);
	free(wrong_cn);
	free(wrong_o);
	free(two_cn);
	free(prefix);
}

static void test_leaf_must_be_first_and_no_ca(void **state)
{
	struct certs_signed_res res;
	char *l = leaf((struct mk_opts){0}, false), *reversed = mk_cat(p.inter_pem, l, NULL, NULL),
	     *ca_leaf = leaf((struct mk_opts){.ca = 1}, true);

	(void)state;
	assert_int_equal(check(p.st, reversed, p.leaf_key_pem, &res), CERTS_E_KEY_MISMATCH);
	assert_int_equal(check(p.st, ca_leaf, p.leaf_key_pem, &res), CERTS_E_IS_CA);
	free(l);
	free(reversed);
	free(ca_leaf);
}

static void test_purpose_is_tls_client(void **state)
{
	struct certs_signed_res res;
	char *server_only = leaf((struct mk_opts){.eku = "serverAuth"}, true),
	     *both = leaf((struct mk_opts){.eku = "serverAuth,clientAuth"}, true);

	(void)state;
	assert_int_equal(check(p.st, server_only, p.leaf_key_pem, &res), CERTS_E_CHAIN);
	assert_string_equal(res.detail, "chain: unsuitable certificate purpose (depth 0)");
	assert_int_equal(check(p.st, both, p.leaf_key_pem, &res), CERTS_OK);
	free(server_only);
	free(both);
}

static void test_validity(void **state)
{
	struct certs_signed_res res;
	char *expired = leaf((struct mk_opts){.not_before = MK_NOW - 30 * MK_DAY, .not_after = MK_NOW - 1}, true),
	     *future = leaf((struct mk_opts){.not_before = MK_NOW + 3600, .not_after = MK_NOW + 30 * MK_DAY}, true),
	     *edge = leaf((struct mk_opts){.not_before = MK_NOW, .not_after = MK_NOW + 1}, true),
	     *last = leaf((struct mk_opts){.not_before = MK_NOW - 9, .not_after = MK_NOW}, true);
	struct mk_opts xo = {.cn = "CSMS intermediate", .o = CPO, .ca = 1, .serial = 3, .not_before = MK_NOW - 9 * MK_DAY,
			     .not_after = MK_NOW - MK_DAY};
	X509 *old_inter = mk_cert(&xo, p.inter_key, p.root, p.root_key);
	char *old_pem = mk_pem(old_inter), *l = leaf((struct mk_opts){0}, false),
	     *chain = mk_cat(l, old_pem, NULL, NULL);
	struct certs_signed_req rq = {.chain = future,
				      .chain_len = strlen(future),
				      .key_pem = p.leaf_key_pem,
				      .key_len = strlen(p.leaf_key_pem),
				      .cn = CBID,
				      .o = CPO,
				      .now_s = MK_NOW,
				      .allow_not_yet_valid = true};

	(void)state;
	assert_int_equal(check(p.st, expired, p.leaf_key_pem, &res), CERTS_E_EXPIRED);
	assert_int_equal(res.not_after, MK_NOW - 1);
	assert_int_equal(check(p.st, future, p.leaf_key_pem, &res), CERTS_E_NOT_YET_VALID);
	/* Valid from its notBefore second; expired from its notAfter second, as OpenSSL counts. */
	assert_int_equal(check(p.st, edge, p.leaf_key_pem, &res), CERTS_OK);
	assert_int_equal(check(p.st, last, p.leaf_key_pem, &res), CERTS_E_EXPIRED);
	assert_int_equal(certs_pair_check(last, strlen(last), p.leaf_key_pem, strlen(p.leaf_key_pem), MK_NOW, NULL, 0),
			 CERTS_E_EXPIRED);
	assert_int_equal(certs_pair_check(edge, strlen(edge), p.leaf_key_pem, strlen(p.leaf_key_pem), MK_NOW, NULL, 0),
			 CERTS_OK);
	/* The whitepaper's "switch at notBefore": accepted, and the gateway learns when. */
	assert_int_equal(certs_signed_check(p.st, &rq, &res), CERTS_OK);
	assert_int_equal(res.not_before, MK_NOW + 3600);
	rq.chain = expired;
	rq.chain_len = strlen(expired);
	assert_int_equal(certs_signed_check(p.st, &rq, &res), CERTS_E_EXPIRED);
	/* An expired copy of the intermediate (same name and key) spoils the chain. */
	assert_int_equal(check(p.st, chain, p.leaf_key_pem, &res), CERTS_E_EXPIRED);
	X509_free(old_inter);
	free(old_pem);
	free(l);
	free(chain);
	free(expired);
	free(future);
	free(edge);
	free(last);
}

static void test_shape_and_size(void **state)
{
	struct certs_signed_res res;
	char *l = leaf((struct mk_opts){0}, true), *with_key = mk_cat(l, p.leaf_key_pem, NULL, NULL),
	     *junk_after = mk_cat(l, "trailing words are fine between blocks\n", NULL, NULL), *broken = strdup(l);
	struct certs_signed_req rq = {.chain = l,
				      .chain_len = strlen(l),
				      .key_pem = p.leaf_key_pem,
				      .key_len = strlen(p.leaf_key_pem),
				      .cn = CBID,
				      .o = CPO,
				      .now_s = MK_NOW};
	char *many = calloc(1, 12 * strlen(p.inter_pem) + strlen(l) + 1);

	(void)state;
	assert_int_equal(check(p.st, NULL, p.leaf_key_pem, &res), CERTS_E_PARSE);
	assert_int_equal(check(p.st, "", p.leaf_key_pem, &res), CERTS_E_PARSE);
	assert_int_equal(check(p.st, "hello", p.leaf_key_pem, &res), CERTS_E_PARSE);
	assert_int_equal(check(p.st, with_key, p.leaf_key_pem, &res), CERTS_E_PARSE);
	assert_int_equal(check(p.st, junk_after, p.leaf_key_pem, &res), CERTS_OK);
	broken[strlen(broken) / 2] = '#'; /* bad base64 */
	assert_int_equal(check(p.st, broken, p.leaf_key_pem, &res), CERTS_E_PARSE);
	memcpy(broken, l, strlen(l));
	/* A letter of the last full base64 line: a byte of the signature changes, the DER still
	 * parses, the signature does not verify. */
	{
		char *q = strstr(broken, "-----END") - 2;

		while (*q != '\n')
			q--;
		q -= 10;
		*q = *q == 'A' ? 'B' : 'A';
	}
	assert_int_equal(check(p.st, broken, p.leaf_key_pem, &res), CERTS_E_CHAIN);
	assert_non_null(strstr(res.detail, "signature"));
	/* The length bound, default and configured. */
	rq.max_chain = strlen(l) - 1;
	assert_int_equal(certs_signed_check(p.st, &rq, &res), CERTS_E_TOO_LONG);
	rq.max_chain = strlen(l);
	assert_int_equal(certs_signed_check(p.st, &rq, &res), CERTS_OK);
	rq.max_chain = 0;
	rq.chain_len = CERTS_CHAIN_MAX + 1;
	assert_int_equal(certs_signed_check(p.st, &rq, &res), CERTS_E_TOO_LONG);
	/* More certificates than any real path. */
	memcpy(many, l, strlen(l) + 1);
	for (int k = 0; k < 12; k++)
		memcpy(many + strlen(many), p.inter_pem, strlen(p.inter_pem) + 1);
	rq.chain = many;
	rq.chain_len = strlen(many);
	rq.max_chain = strlen(many);
	assert_int_equal(certs_signed_check(p.st, &rq, &res), CERTS_E_TOO_LONG);
	free(many);
	free(l);
	free(with_key);
	free(junk_after);
	free(broken);
}

static void test_pair_check(void **state)
{
	char *l = leaf((struct mk_opts){0}, false), *chain = mk_cat(l, p.inter_pem, NULL, NULL), detail[CERTS_DETAIL_MAX];
	char *enc;
	BIO *b = BIO_new(BIO_s_mem());

	(void)state;
	assert_true(PEM_write_bio_PKCS8PrivateKey(b, p.leaf_key, EVP_aes_128_cbc(), NULL, 0, NULL, (void *)"secret"));
	enc = mk_bio_text(b);
	assert_int_equal(certs_pair_check(chain, strlen(chain), p.leaf_key_pem, strlen(p.leaf_key_pem), MK_NOW, detail,
					  sizeof(detail)),
			 CERTS_OK);
	assert_string_equal(detail, "");
	assert_int_equal(certs_pair_check(chain, strlen(chain), p.other_key_pem, strlen(p.other_key_pem), MK_NOW, detail,
					  sizeof(detail)),
			 CERTS_E_KEY_MISMATCH);
	assert_string_equal(detail, "the certificate is not for this key");
	assert_int_equal(certs_pair_check(chain, strlen(chain), enc, strlen(enc), MK_NOW, detail, sizeof(detail)),
			 CERTS_E_KEY);
	assert_int_equal(certs_pair_check(chain, strlen(chain), p.leaf_key_pem, strlen(p.leaf_key_pem),
					  MK_NOW + 366 * MK_DAY, detail, sizeof(detail)),
			 CERTS_E_EXPIRED);
	assert_string_equal(detail, "the certificate has expired");
	assert_int_equal(certs_pair_check(chain, strlen(chain), p.leaf_key_pem, strlen(p.leaf_key_pem),
					  MK_NOW - 2 * MK_DAY, NULL, 0),
			 CERTS_E_NOT_YET_VALID);
	assert_int_equal(certs_pair_check("x", 1, p.leaf_key_pem, strlen(p.leaf_key_pem), MK_NOW, detail, sizeof(detail)),
			 CERTS_E_PARSE);
	free(enc);
	free(l);
	free(chain);
}

static void test_ca_check(void **state)
{
	char *l = leaf((struct mk_opts){0}, true), *bundle = mk_cat(p.root_pem, p.inter_pem, NULL, NULL),
	     *with_leaf = mk_cat(p.root_pem, l, NULL, NULL);
	int n = -1;

	(void)state;
	assert_int_equal(certs_ca_check(bundle, strlen(bundle), MK_NOW, &n), CERTS_OK);
	assert_int_equal(n, 2);
	assert_int_equal(certs_ca_check(with_leaf, strlen(with_leaf), MK_NOW, &n), CERTS_E_NOT_CA);
	assert_int_equal(certs_ca_check(bundle, strlen(bundle), MK_NOW + 400 * MK_DAY, NULL), CERTS_E_EXPIRED);
	assert_int_equal(certs_ca_check("", 0, MK_NOW, &n), CERTS_E_PARSE);
	assert_int_equal(n, 0);
	free(l);
	free(bundle);
	free(with_leaf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leaf_alone_under_root),
		cmocka_unit_test(test_leaf_with_intermediate),
		cmocka_unit_test(test_installed_intermediate_is_an_anchor),
		cmocka_unit_test(test_foreign_or_missing_root),
		cmocka_unit_test(test_self_signed_leaf_refused),
		cmocka_unit_test(test_key_and_subject),
		cmocka_unit_test(test_leaf_must_be_first_and_no_ca),
		cmocka_unit_test(test_purpose_is_tls_client),
		cmocka_unit_test(test_validity),
		cmocka_unit_test(test_shape_and_size),
		cmocka_unit_test(test_pair_check),
		cmocka_unit_test(test_ca_check),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
