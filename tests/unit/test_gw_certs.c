/*
 * Tests of the certificate store on disk (gw_certs) with real files in a temporary directory and a
 * PKI made here at run time: seeding from ocpp.caFile/certFile/keyFile (and what is refused), file
 * and directory modes, persistence across free/new, the rotation SignCertificate -> CertificateSigned
 * -> next -> promote or drop, refused chains with their reason, install/delete/ids with the last
 * CSMS root and a full store, the AdditionalRootCertificateCheck rules, ready() per profile,
 * expiring(), recovery from a crash in mid-step, a failed write undone, and the demo's memory mode.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gw_certs.h"
#include "test_certs_mk.h"

#define CBID "TWC-0042"
#define CPO "Example CPO"
#define CSMS "CentralSystemRootCertificate"
#define MFR "ManufacturerRootCertificate"

static char tmp_root[64];
static int dir_seq;

/* One PKI for every test, made in the group setup. */
static struct pki {
	EVP_PKEY *root_key, *root2_key, *root3_key, *foreign_key, *mf_key, *inter_key, *leaf_key, *other_key;
	X509 *root, *root2, *inter;
	char *root_pem, *root2_pem, *root3_pem, *foreign_pem, *mf_pem, *inter_pem;
	char *leaf_pem, *leaf_key_pem, *other_key_pem, *other_leaf_pem;
} p;

static int group_setup(void **state)
{
	struct mk_opts ro = {.cn = "CSMS root", .o = CPO, .ca = 1, .serial = 1, .not_after = MK_NOW + 3650 * MK_DAY};
	struct mk_opts r2 = {.cn = "CSMS root 2", .o = CPO, .ca = 1, .serial = 2, .not_after = MK_NOW + 3650 * MK_DAY};
	struct mk_opts r3 = {.cn = "CSMS root 3", .o = CPO, .ca = 1, .serial = 3, .not_after = MK_NOW + 3650 * MK_DAY};
	struct mk_opts fo = {.cn = "Other root", .o = "Other", .ca = 1, .serial = 9};
	struct mk_opts mo = {.cn = "Manufacturer root", .o = "TWC Inc", .ca = 1, .serial = 5,
			     .not_after = MK_NOW + 20 * MK_DAY};
	struct mk_opts io = {.cn = "CSMS intermediate", .o = CPO, .ca = 1, .serial = 6};
	struct mk_opts lo = {.cn = CBID, .o = CPO, .serial = 100};
	X509 *x;

	(void)state;
	snprintf(tmp_root, sizeof(tmp_root), "/tmp/test_gw_certs.XXXXXX");
	if (!mkdtemp(tmp_root))
		return -1;
	p.root_key = mk_key();
	p.root2_key = mk_key();
	p.root3_key = mk_key();
	p.foreign_key = mk_key();
	p.mf_key = mk_key();
	p.inter_key = mk_key();
	p.leaf_key = mk_key();
	p.other_key = mk_key();
	p.root = mk_cert(&ro, p.root_key, NULL, NULL);
	p.root2 = mk_cert(&r2, p.root2_key, p.root, p.root_key); /* the successor, signed by the old root */
	p.inter = mk_cert(&io, p.inter_key, p.root, p.root_key);
	p.root_pem = mk_pem(p.root);
	p.root2_pem = mk_pem(p.root2);
	p.inter_pem = mk_pem(p.inter);
	x = mk_cert(&r3, p.root3_key, p.root2, p.root2_key);
	p.root3_pem = mk_pem(x);
	X509_free(x);
	x = mk_cert(&fo, p.foreign_key, NULL, NULL);
	p.foreign_pem = mk_pem(x);
	X509_free(x);
	x = mk_cert(&mo, p.mf_key, NULL, NULL);
	p.mf_pem = mk_pem(x);
	X509_free(x);
	x = mk_cert(&lo, p.leaf_key, p.root, p.root_key);
	p.leaf_pem = mk_pem(x);
	X509_free(x);
	lo.serial = 101;
	x = mk_cert(&lo, p.other_key, p.root, p.root_key);
	p.other_leaf_pem = mk_pem(x);
	X509_free(x);
	p.leaf_key_pem = mk_key_pem(p.leaf_key);
	p.other_key_pem = mk_key_pem(p.other_key);
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int group_teardown(void **state)
{
	EVP_PKEY *keys[] = {p.root_key, p.root2_key, p.root3_key, p.foreign_key,
			    p.mf_key,   p.inter_key, p.leaf_key,  p.other_key};
	char *texts[] = {p.root_pem, p.root2_pem, p.root3_pem, p.foreign_pem, p.mf_pem, p.inter_pem,
			 p.leaf_pem, p.leaf_key_pem, p.other_key_pem, p.other_leaf_pem};

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		EVP_PKEY_free(keys[i]);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		free(texts[i]);
	X509_free(p.root);
	X509_free(p.root2);
	X509_free(p.inter);
	return nftw(tmp_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- helpers ---- */

/* A fresh dataDir for one test. */
static void new_dir(char *dir, size_t n)
{
	assert_true((size_t)snprintf(dir, n, "%s/d%d", tmp_root, ++dir_seq) < n);
	assert_int_equal(mkdir(dir, 0755), 0);
}

static void put(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[512];
	int fd;

	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) < sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* The text of @dir/certs/@name, or NULL when it does not exist. */
static char *get(const char *dir, const char *name)
{
	char path[512], *t;
	FILE *f;
	long n;

	assert_true((size_t)snprintf(path, sizeof(path), "%s/certs/%s", dir, name) < sizeof(path));
	f = fopen(path, "r");
	if (!f)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	t = calloc(1, (size_t)n + 1);
	assert_non_null(t);
	assert_int_equal(fread(t, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return t;
}

static bool exists(const char *dir, const char *name)
{
	char *t = get(dir, name);

	free(t);
	return t != NULL;
}

static int mode_of(const char *path)
{
	struct stat sb;

	return stat(path, &sb) ? -1 : (int)(sb.st_mode & 07777);
}

static int mode_in(const char *dir, const char *name)
{
	char path[512];

	assert_true((size_t)snprintf(path, sizeof(path), "%s/certs/%s", dir, name) < sizeof(path));
	return mode_of(path);
}

static struct gw_certs_params params(const char *dir)
{
	return (struct gw_certs_params){.dir = dir, .charge_box_id = CBID, .store_max = 10, .now_s = MK_NOW};
}

/* Params seeding the CSMS root (and, with @pair, the charge-point pair) from files in @dir. */
static struct gw_certs_params seeded(const char *dir, bool pair, char *ca, char *cert, char *key, size_t n)
{
	struct gw_certs_params pp = params(dir);

	put(dir, "ca.pem", p.root_pem, 0644);
	assert_true((size_t)snprintf(ca, n, "%s/ca.pem", dir) < n);
	pp.ca_file = ca;
	if (pair) {
		put(dir, "cp.pem", p.leaf_pem, 0644);
		put(dir, "cp.key", p.leaf_key_pem, 0600);
		assert_true((size_t)snprintf(cert, n, "%s/cp.pem", dir) < n);
		assert_true((size_t)snprintf(key, n, "%s/cp.key", dir) < n);
		pp.cert_file = cert;
		pp.key_file = key;
	}
	return pp;
}

static struct gw_certs *open_ok(const struct gw_certs_params *pp)
{
	char err[256];
	struct gw_certs *c = gw_certs_new(pp, err, sizeof(err));

	if (!c)
		fail_msg("gw_certs_new: %s", err);
	return c;
}

/* The CA's answer to a CSR: a leaf for the CSR's key with @o's names, signed by @issuer. */
static char *ca_sign(const char *csr, struct mk_opts o, X509 *issuer, EVP_PKEY *issuer_key)
{
	BIO *b = BIO_new_mem_buf(csr, -1);
	X509_REQ *r = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
	EVP_PKEY *pub;
	X509 *x;
	char *pem;

	assert_non_null(r);
	pub = X509_REQ_get_pubkey(r);
	assert_non_null(pub);
	if (!o.cn)
		o.cn = CBID;
	if (!o.o)
		o.o = CPO;
	if (!o.serial)
		o.serial = 500;
	x = mk_cert(&o, pub, issuer, issuer_key);
	pem = mk_pem(x);
	X509_free(x);
	EVP_PKEY_free(pub);
	X509_REQ_free(r);
	BIO_free(b);
	return pem;
}

/* The SHA256 CertificateHashData of the installed root of @type whose serial is @serial. */
static struct ocpp_cert_hash hash_of(struct gw_certs *c, const char *type, const char *serial)
{
	struct ocpp_cert_hash ids[10];
	int n = gw_certs_ids(c, type, ids, 10);

	for (int i = 0; i < n; i++)
		if (!strcmp(ids[i].serial, serial))
			return ids[i];
	fail_msg("serial %s not installed", serial);
	return ids[0];
}

static bool has_serial(struct gw_certs *c, const char *type, const char *serial)
{
	struct ocpp_cert_hash ids[10];
	int n = gw_certs_ids(c, type, ids, 10);

	for (int i = 0; i < n; i++)
		if (!strcmp(ids[i].serial, serial))
			return true;
	return false;
}

/* Count the certificates of a PEM text. */
static int pem_count(const char *t)
{
	int n = 0;

	for (const char *s = t; s && (s = strstr(s, "-----BEGIN CERTIFICATE-----")); s++)
		n++;
	return n;
}

/* stderr into a file while @on, so the log lines can be read back. */
static int saved_stderr = -1;
static char log_path[128];

static void log_capture(void)
{
	int fd;

	assert_true((size_t)snprintf(log_path, sizeof(log_path), "%s/log.txt", tmp_root) < sizeof(log_path));
	fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	saved_stderr = dup(2);
	assert_true(saved_stderr >= 0);
	assert_true(dup2(fd, 2) == 2);
	close(fd);
}

static char *log_release(void)
{
	FILE *f;
	char *t = calloc(1, 65536);

	assert_non_null(t);
	fflush(stderr);
	assert_true(dup2(saved_stderr, 2) == 2);
	close(saved_stderr);
	f = fopen(log_path, "r");
	assert_non_null(f);
	assert_true(fread(t, 1, 65535, f) < 65535);
	fclose(f);
	return t;
}

/* ---- seeding, modes, persistence ---- */

static void test_seed_and_modes(void **state)
{
	char dir[256], ca[300], cert[300], key[300], path[400];
	struct gw_certs_params pp;
	struct gw_certs_tls tls;
	struct ocpp_cert_hash ids[4];
	struct gw_certs *c;
	char *t;

	(void)state;
	new_dir(dir, sizeof(dir));
	pp = seeded(dir, true, ca, cert, key, sizeof(ca));
	c = open_ok(&pp);
	snprintf(path, sizeof(path), "%s/certs", dir);
	assert_int_equal(mode_of(path), 0700);
	assert_int_equal(mode_in(dir, "cp-key.pem"), 0600);
	assert_int_equal(mode_in(dir, "cp-cert.pem"), 0640);
	assert_int_equal(mode_in(dir, "store.json"), 0640);
	t = get(dir, "csms-roots.pem");
	assert_string_equal(t, p.root_pem);
	free(t);
	t = get(dir, "cp-cert.pem");
	assert_string_equal(t, p.leaf_pem);
	free(t);
	t = get(dir, "cp-key.pem");
	assert_string_equal(t, p.leaf_key_pem);
	free(t);
	t = get(dir, "store.json");
	assert_non_null(strstr(t, "\"version\":1"));
	assert_non_null(strstr(t, CSMS));
	free(t);
	assert_int_equal(gw_certs_ids(c, CSMS, ids, 4), 1);
	assert_string_equal(ids[0].serial, "1");
	assert_int_equal(ids[0].alg, OCPP_HASH_SHA256);
	assert_int_equal(strlen(ids[0].issuer_name_hash), 64);
	assert_int_equal(gw_certs_ids(c, MFR, ids, 4), 0);
	assert_int_equal(gw_certs_ids(c, "ChargePointCertificate", ids, 4), -EINVAL);

	assert_int_equal(gw_certs_tls(c, false, &tls), 0);
	snprintf(path, sizeof(path), "%s/certs/csms-roots.pem", dir);
	assert_string_equal(tls.ca, path);
	snprintf(path, sizeof(path), "%s/certs/cp-cert.pem", dir);
	assert_string_equal(tls.cert, path);
	snprintf(path, sizeof(path), "%s/certs/cp-key.pem", dir);
	assert_string_equal(tls.key, path);
	assert_int_equal(gw_certs_tls(c, true, &tls), -ENOENT);
	assert_false(gw_certs_has_next(c));
	gw_certs_free(c);
	gw_certs_free(NULL);

	/* A dataDir/certs left 0755 (by hand) is tightened. */
	snprintf(path, sizeof(path), "%s/certs", dir);
	assert_int_equal(chmod(path, 0755), 0);
	c = open_ok(&pp);
	assert_int_equal(mode_of(path), 0700);
	gw_certs_free(c);
}

static void test_seed_refused(void **state)
{
	char dir[256], ca[300], cert[300], key[300], err[256];
	struct gw_certs_params pp;

	(void)state;
	new_dir(dir, sizeof(dir));
	pp = seeded(dir, true, ca, cert, key, sizeof(ca));

	/* A key that is not the certificate's. */
	put(dir, "cp.key", p.other_key_pem, 0600);
	assert_null(gw_certs_new(&pp, err, sizeof(err)));
	assert_non_null(strstr(err, "not for this key"));
	assert_null(strstr(err, "PRIVATE"));
	put(dir, "cp.key", p.leaf_key_pem, 0600);

	/* One without the other. */
	pp.key_file = NULL;
	assert_null(gw_certs_new(&pp, err, sizeof(err)));
	assert_non_null(strstr(err, "go together"));
	pp.key_file = key;

	/* A caFile holding a leaf, not a CA; then one that does not exist (in a fresh dataDir: the
	 * attempts above already seeded the root, which is then not read again). */
	new_dir(dir, sizeof(dir));
	pp = seeded(dir, false, ca, NULL, NULL, sizeof(ca));
	put(dir, "ca.pem", p.leaf_pem, 0644);
	assert_null(gw_certs_new(&pp, err, sizeof(err)));
	assert_non_null(strstr(err, "ocpp.caFile"));
	assert_non_null(strstr(err, "NotACertificateAuthority"));
	pp.ca_file = "/nonexistent/ca.pem";
	assert_null(gw_certs_new(&pp, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot read ocpp.caFile"));

	/* Bad parameters. */
	pp = params(dir);
	pp.charge_box_id = "";
	assert_null(gw_certs_new(&pp, err, sizeof(err)));
	pp = params(dir);
	pp.store_max = 1001;
	assert_null(gw_certs_new(&pp, err, sizeof(err)));
	pp = params(dir);
	pp.chain_max = 10001;
	assert_null(gw_certs_new(&pp, err, sizeof(err)));
}

/* A group/world-readable ocpp.keyFile is used (decision in gw_certs.h) with a warning that names the
 * file and never the key; the store's copy is 0600. */
static void test_key_file_mode_warned(void **state)
{
	char dir[256], ca[300], cert[300], key[300], line[17], *log, *b64;
	struct gw_certs_params pp;
	struct gw_certs *c;

	(void)state;
	new_dir(dir, sizeof(dir));
	pp = seeded(dir, true, ca, cert, key, sizeof(ca));
	put(dir, "cp.key", p.leaf_key_pem, 0644);
	log_capture();
	c = gw_certs_new(&pp, NULL, 0);
	log = log_release();
	assert_non_null(c);
	assert_non_null(strstr(log, "ocpp.keyFile"));
	assert_non_null(strstr(log, "0644"));
	assert_null(strstr(log, "PRIVATE"));
	/* Nor any line of the key's base64. */
	b64 = strchr(p.leaf_key_pem, '\n') + 1;
	memcpy(line, b64, 16);
	line[16] = '\0';
	assert_null(strstr(log, line));
	free(log);
	assert_int_equal(mode_in(dir, "cp-key.pem"), 0600);
	gw_certs_free(c);
}

static void test_persistence_no_reseed(void **state)
{
	char dir[256], ca[300], cert[300], key[300];
	struct gw_certs_params pp;
	struct gw_certs *c;
	char *t;

	(void)state;
	new_dir(dir, sizeof(dir));
	pp = seeded(dir, true, ca, cert, key, sizeof(ca));
	c = open_ok(&pp);
	assert_int_equal(gw_certs_install(c, MFR, p.mf_pem, MK_NOW), OCPP_CERT_INSTALL_ACCEPTED);
	gw_certs_free(c);

	/* The config files now name other certificates: the store keeps its own. */
	put(dir, "ca.pem", p.foreign_pem, 0644);
	put(dir, "cp.pem", p.other_leaf_pem, 0644);
	put(dir, "cp.key", p.other_key_pem, 0600);
	c = open_ok(&pp);
	assert_true(has_serial(c, CSMS, "1"));
	assert_false(has_serial(c, CSMS, "9"));
	assert_true(has_serial(c, MFR, "5"));
	t = get(dir, "cp-cert.pem");
	assert_string_equal(t, p.leaf_pem);
	free(t);
	gw_certs_free(c);

	/* Without any seed files at all. */
	pp = params(dir);
	c = open_ok(&pp);
	assert_true(has_serial(c, CSMS, "1"));
	assert_int_equal(gw_certs_ready(c, 3, MK_NOW, NULL, 0), 0);
	gw_certs_free(c);

	/* A damaged store.json stops the start with the file named. */
	{
		char err[256], sd[300];

		snprintf(sd, sizeof(sd), "%s/certs", dir);
		put(sd, "store.json", "{\"version\":1,", 0640);
		assert_null(gw_certs_new(&pp, err, sizeof(err)));
		assert_non_null(strstr(err, "store.json"));
	}
}

/* ---- the rotation ---- */

static void test_rotation_promote(void **state)
{
	char dir[256], ca[300], cert[300], key[300], csr[OCPP_CSR_MAX + 1], reason[256], *chain, *t, *pending;
	struct gw_certs_params pp;
	struct gw_certs_tls tls;
	struct gw_certs *c;
	BIO *b;
	X509_REQ *r;
	X509_NAME *n;
	char name[80];

	(void)state;
	new_dir(dir, sizeof(dir));
	pp = seeded(dir, true, ca, cert, key, sizeof(ca));
	c = open_ok(&pp);

	assert_int_equal(gw_certs_sign(c, CPO, csr, sizeof(csr)), 0);
	assert_non_null(strstr(csr, "-----BEGIN CERTIFICATE REQUEST-----"));
	b = BIO_new_mem_buf(csr, -1);
	r = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL);
	assert_non_null(r);
	n = X509_REQ_get_subject_name(r);
	assert_true(X509_NAME_get_text_by_NID(n, NID_commonName, name, sizeof(name)) > 0);
	assert_string_equal(name, CBID);
	assert_true(X509_NAME_get_text_by_NID(n, NID_organizationName, name, sizeof(name)) > 0);
	assert_string_equal(name, CPO);
	X509_REQ_free(r);
	BIO_free(b);
	assert_int_equal(mode_in(dir, "cp-key.pending.pem"), 0600);
	pending = get(dir, "cp-key.pending.pem");
	assert_non_null(strstr(pending, "PRIVATE KEY"));
	/* A buffer too small changes nothing. */
	assert_int_equal(gw_certs_sign(c, CPO, name, sizeof(name)), -ENOSPC);
	t = get(dir, "cp-key.pending.pem");
	assert_string_equal(t, pending);
	free(t);
	assert_int_equal(gw_certs_sign(c, "", csr + 0, 0), -EINVAL);

	chain = ca_sign(csr, (struct mk_opts){0}, p.root, p.root_key);
	assert_int_equal(gw_certs_signed(c, chain, MK_NOW, reason, sizeof(reason)), 0);
	assert_string_equal(reason, "");
	assert_false(exists(dir, "cp-key.pending.pem"));
	assert_true(gw_certs_has_next(c));
	assert_int_equal(gw_certs_next_not_before(c), MK_NOW - MK_DAY);
	t = get(dir, "cp-cert.next.pem");
	assert_string_equal(t, chain);
	free(t);
	t = get(dir, "cp-key.next.pem");
	assert_string_equal(t, pending);
	free(t);
	assert_int_equal(mode_in(dir, "cp-key.next.pem"), 0600);
	/* The same chain again: the pending key is used up. */
	assert_int_equal(gw_certs_signed(c, chain, MK_NOW, reason, sizeof(reason)), -ENOENT);
	assert_non_null(strstr(reason, "NoPendingKey"));

	assert_int_equal(gw_certs_tls(c, true, &tls), 0);
	assert_non_null(strstr(tls.cert, "/certs/cp-cert.next.pem"));
	assert_non_null(strstr(tls.key, "/certs/cp-key.next.pem"));
	assert_non_null(strstr(tls.ca, "/certs/csms-roots.pem"));
	/* The pair in use is still the seeded one until promote. */
	assert_int_equal(gw_certs_tls(c, false, &tls), 0);
	assert_non_null(strstr(tls.cert, "/certs/cp-cert.pem"));
	t = get(dir, "cp-cert.pem");
	assert_string_equal(t, p.leaf_pem);
	free(t);

	/* The next pair survives a restart. */
	gw_certs_free(c);
	c = open_ok(&pp);
	assert_true(gw_certs_has_next(c));

	assert_int_equal(gw_certs_promote(c), 0);
	assert_false(gw_certs_has_next(c));
	assert_int_equal(gw_certs_tls(c, true, &tls), -ENOENT);
	assert_int_equal(gw_certs_promote(c), -ENOENT);
	t = get(dir, "cp-cert.pem");
	assert_string_equal(t, chain);
	free(t);
	t = get(dir, "cp-key.pem");
	assert_string_equal(t, pending);
	free(t);
	t = get(dir, "cp-cert.prev.pem");
	assert_string_equal(t, p.leaf_pem);
	free(t);
	t = get(dir, "cp-key.prev.pem");
	assert_string_equal(t, p.leaf_key_pem);
	free(t);
	assert_int_equal(mode_in(dir, "cp-key.prev.pem"), 0600);
	assert_int_equal(mode_in(dir, "cp-key.pem"), 0600);
	assert_false(exists(dir, "cp-cert.next.pem"));
	assert_false(exists(dir, "cp-key.next.pem"));
	assert_int_equal(gw_certs_ready(c, 3, MK_NOW, NULL, 0), 0);
	gw_certs_free(c);

	/* After a restart the promoted pair is the one in use. */
	c = open_ok(&pp);
	assert_false(gw_certs_has_next(c));
	assert_int_equal(gw_certs_ready(c, 3, MK_NOW, NULL, 0), 0);
	gw_certs_free(c);
	free(chain);
	free(pending);
}

static void test_drop_next(void **state)
{
	char dir[256], ca[300], cert[300], key[300], csr[OCPP_CSR_MAX + 1], reason[256], *chain, *t;
	struct gw_certs_params pp;
	struct gw_certs_tls tls;
	struct gw_certs *c;

	(void)state;
	new_dir(dir, sizeof(dir));
	pp = seeded(dir, true, ca, cert, key, sizeof(ca));
	pp.key_type = CERTS_KEY_RSA_2048;
	c = open_ok(&pp);
	assert_int_equal(gw_certs_drop_next(c), -ENOENT);
	assert_int_equal(gw_certs_sign(c, CPO, csr, sizeof(csr)), 0);
	t = get(dir, "cp-key.pending.pem");
	assert_non_null(t);
	free(t);
	chain = ca_sign(csr, (struct mk_opts){0}, p.root, p.root_key);
	assert_int_equal(gw_certs_signed(c, chain, MK_NOW, reason, sizeof(reason)), 0);
	assert_int_equal(gw_certs_drop_next(c), 0);
	assert_false(gw_certs_has_next(c));
	assert_int_equal(gw_certs_next_not_before(c), 0);
	assert_false(exists(dir, "cp-cert.next.pem"));
	assert_false(exists(dir, "cp-key.next.pem"));
	assert_int_equal(gw_certs_tls(c, false, &tls), 0);
	assert_non_null(strstr(tls.cert, "/certs/cp-cert.pem"));
	t = get(dir, "cp-cert.pem");
	assert_string_equal(t, p.leaf_pem);
	free(t);
	t = get(dir, "cp-key.pem");
	assert_string_equal(t, p.leaf_key_pem);
	free(t);
	gw_certs_free(c);
	c = open_ok(&pp);
	assert_false(gw_certs_has_next(c));
	gw_certs_free(c);
	free(chain);
}

static void test_signed_refused(void **state)
{
	char dir[256], ca[300], csr[OCPP_CSR_MAX + 1], reason[256], *chain, *t, *leaf_alone;
	struct gw_certs_params pp;
	struct gw_certs *c;
	X509 *fr;
	struct mk_opts fo = {.cn = "Other root", .o = "Other", .ca = 1, .serial = 9};

	(void)state;
	new_dir(dir, sizeof(dir));
	pp = seeded(dir, false, ca, NULL, NULL, sizeof(ca));
	pp.chain_max = 1500;
	c = open_ok(&pp);
	assert_int_equal(gw_certs_signed(c, p.leaf_pem, MK_NOW, reason, sizeof(reason)), -ENOENT);
	assert_int_equal(gw_certs_sign(c, CPO, csr, sizeof(csr)), 0);

	/* Signed by a root that is not installed. */
	fr = mk_cert(&fo, p.foreign_key, NULL, NULL);
	chain = ca_sign(csr, (struct mk_opts){0}, fr, p.foreign_key);
	X509_free(fr);
	assert_int_equal(gw_certs_signed(c, chain, MK_NOW, reason, sizeof(reason)), -EINVAL);
	assert_non_null(strstr(reason, "InvalidChain: "));
	free(chain);

	/* A valid certificate, but for another key than the CSR's. */
	assert_int_equal(gw_certs_signed(c, p.other_leaf_pem, MK_NOW, reason, sizeof(reason)), -EINVAL);
	assert_non_null(strstr(reason, "KeyMismatch"));

	/* The wrong CN, the wrong O (known in this run). */
	chain = ca_sign(csr, (struct mk_opts){.cn = "TWC-0043"}, p.root, p.root_key);
	assert_int_equal(gw_certs_signed(c, chain, MK_NOW, reason, sizeof(reason)), -EINVAL);
	assert_non_null(strstr(reason, "Subject"));
	free(chain);
	chain = ca_sign(csr, (struct mk_opts){.o = "Another CPO"}, p.root, p.root_key);
	assert_int_equal(gw_certs_signed(c, chain, MK_NOW, reason, sizeof(reason)), -EINVAL);
	assert_non_null(strstr(reason, "Subject"));
	free(chain);

	/* Expired at @now_s. */
	chain = ca_sign(csr, (struct mk_opts){0}, p.root, p.root_key);
	assert_int_equal(gw_certs_signed(c, chain, MK_NOW + 400 * MK_DAY, reason, sizeof(reason)), -EINVAL);
	assert_non_null(strstr(reason, "Expired"));

	/* Longer than CertificateSignedMaxChainSize (1500 here): leaf + intermediate + root. */
	leaf_alone = ca_sign(csr, (struct mk_opts){0}, p.inter, p.inter_key);
	t = mk_cat(leaf_alone, p.inter_pem, p.root_pem, NULL);
	assert_true(strlen(t) > 1500);
	assert_int_equal(gw_certs_signed(c, t, MK_NOW, reason, sizeof(reason)), -EINVAL);
	assert_non_null(strstr(reason, "TooLong"));
	free(t);
	/* Nothing was accepted so far, the pending key is still there. */
	assert_false(gw_certs_has_next(c));
	assert_true(exists(dir, "cp-key.pending.pem"));

	/* The leaf under an intermediate: alone it is refused, with the intermediate accepted. */
	assert_int_equal(gw_certs_signed(c, leaf_alone, MK_NOW, reason, sizeof(reason)), -EINVAL);
	t = mk_cat(leaf_alone, p.inter_pem, NULL, NULL);
	assert_int_equal(gw_certs_signed(c, t, MK_NOW, reason, sizeof(reason)), 0);
	assert_true(gw_certs_has_next(c));
	free(t);
	free(leaf_alone);
	free(chain);

	/* Not valid yet: accepted, to be tried from its notBefore. */
	assert_int_equal(gw_certs_sign(c, CPO, csr, sizeof(csr)), 0);
	chain = ca_sign(csr, (struct mk_opts){.not_before = MK_NOW + 2 * MK_DAY}, p.root, p.root_key);
	assert_int_equal(gw_certs_signed(c, chain, MK_NOW, reason, sizeof(reason)), 0);
	assert_int_equal(gw_certs_next_not_before(c), MK_NOW + 2 * MK_DAY);
	free(chain);
	gw_certs_free(c);

	/* After a restart the pending key is still the CSR's (O is then not known: not checked). */
	c = open_ok(&pp);
	assert_int_equal(gw_certs_next_not_before(c), MK_NOW + 2 * MK_DAY);
	assert_int_equal(gw_certs_sign(c, CPO, csr, sizeof(csr)), 0);
	gw_certs_free(c);
	c = open_ok(&pp);
	chain = ca_sign(csr, (struct mk_opts){.o = "Renamed CPO"}, p.root, p.root_key);
	assert_int_equal(gw_certs_signed(c, chain, MK_NOW, reason, sizeof(reason)), 0);
	free(chain);
	gw_certs_free(c);
}

/* ---- the root store ---- */

static void test_install_delete_ids(void **state)
{
	char dir[256], ca[300], *t;
	struct gw_certs_params pp;
	struct ocpp_cert_hash h, ids[4];
	struct gw_certs *c;

	(void)state;
	new_dir(dir, sizeof(dir));
	pp = seeded(dir, false, ca, NULL, NULL, sizeof(ca));
	pp.store_max = 3;
	c = open_ok(&pp);

	assert_int_equal(gw_certs_install(c, MFR, p.mf_pem, MK_NOW), OCPP_CERT_INSTALL_ACCEPTED);
	assert_int_equal(gw_certs_install(c, MFR, p.mf_pem, MK_NOW), OCPP_CERT_INSTALL_ACCEPTED); /* once */
	assert_int_equal(gw_certs_ids(c, MFR, ids, 4), 1);
	assert_string_equal(ids[0].serial, "5");
	/* Only the CSMS roots go to the TLS CA file. */
	t = get(dir, "csms-roots.pem");
	assert_int_equal(pem_count(t), 1);
	free(t);
	/* Refused: a leaf, garbage, an unknown type, a root expired at @now_s. */
	assert_int_equal(gw_certs_install(c, CSMS, p.leaf_pem, MK_NOW), OCPP_CERT_INSTALL_REJECTED);
	assert_int_equal(gw_certs_install(c, CSMS, "not a certificate", MK_NOW), OCPP_CERT_INSTALL_REJECTED);
	assert_int_equal(gw_certs_install(c, "ChargePointCertificate", p.root2_pem, MK_NOW), OCPP_CERT_INSTALL_REJECTED);
	assert_int_equal(gw_certs_install(c, CSMS, p.foreign_pem, MK_NOW + 400 * MK_DAY), OCPP_CERT_INSTALL_REJECTED);
	/* Without AdditionalRootCertificateCheck any valid root is added. */
	assert_int_equal(gw_certs_install(c, CSMS, p.foreign_pem, MK_NOW), OCPP_CERT_INSTALL_ACCEPTED);
	t = get(dir, "csms-roots.pem");
	assert_int_equal(pem_count(t), 2);
	free(t);
	/* The store is full at 3. */
	assert_int_equal(gw_certs_install(c, CSMS, p.root2_pem, MK_NOW), OCPP_CERT_INSTALL_REJECTED);
	assert_int_equal(gw_certs_ids(c, CSMS, ids, 4), 2);

	/* Delete the manufacturer root; again NotFound. */
	h = hash_of(c, MFR, "5");
	assert_int_equal(gw_certs_delete(c, &h), OCPP_CERT_DELETE_ACCEPTED);
	assert_int_equal(gw_certs_delete(c, &h), OCPP_CERT_DELETE_NOT_FOUND);
	assert_int_equal(gw_certs_ids(c, MFR, ids, 4), 0);
	/* Room again. */
	assert_int_equal(gw_certs_install(c, CSMS, p.root2_pem, MK_NOW), OCPP_CERT_INSTALL_ACCEPTED);
	h = hash_of(c, CSMS, "2");
	assert_int_equal(gw_certs_delete(c, &h), OCPP_CERT_DELETE_ACCEPTED);
	h = hash_of(c, CSMS, "9");
	assert_int_equal(gw_certs_delete(c, &h), OCPP_CERT_DELETE_ACCEPTED);
	/* The last CSMS root stays. */
	h = hash_of(c, CSMS, "1");
	assert_int_equal(gw_certs_delete(c, &h), OCPP_CERT_DELETE_FAILED);
	assert_int_equal(gw_certs_ids(c, CSMS, ids, 4), 1);
	t = get(dir, "csms-roots.pem");
	assert_string_equal(t, p.root_pem);
	free(t);
	/* The hash matched case-insensitively, and a bad algorithm is NotFound. */
	for (char *s = h.issuer_key_hash; *s; s++)
		if (*s >= 'a' && *s <= 'f')
			*s = (char)(*s - 'a' + 'A');
	assert_int_equal(gw_certs_delete(c, &h), OCPP_CERT_DELETE_FAILED);
	h.alg = (enum ocpp_hash_alg)7;
	assert_int_equal(gw_certs_delete(c, &h), OCPP_CERT_DELETE_NOT_FOUND);
	assert_int_equal(gw_certs_ids(c, CSMS, ids, 0), 0);
	assert_int_equal(gw_certs_ids(c, CSMS, NULL, 2), -EINVAL);
	gw_certs_free(c);

	/* All of it on disk. */
	c = open_ok(&pp);
	assert_int_equal(gw_certs_ids(c, CSMS, ids, 4), 1);
	assert_int_equal(gw_certs_ids(c, MFR, ids, 4), 0);
	gw_certs_free(c);
}

/* With no CSMS root at all, tls() has no CA and ready(2) says so; the first root installed fixes both. */
static void test_no_root(void **state)
{
	char dir[256], why[128];
	struct gw_certs_params pp;
	struct gw_certs_tls tls;
	struct gw_certs *c;

	(void)state;
	new_dir(dir, sizeof(dir));
	pp = params(dir);
	pp.additional_root_check = true;
	c = open_ok(&pp);
	assert_int_equal(gw_certs_tls(c, false, &tls), 0);
	assert_string_equal(tls.ca, "");
	assert_string_equal(tls.cert, "");
	assert_string_equal(tls.key, "");
	assert_false(exists(dir, "csms-roots.pem"));
	assert_int_equal(gw_certs_ready(c, 2, MK_NOW, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "no CentralSystemRootCertificate"));
	/* Rule 3: with none installed, any valid root is the first. */
	assert_int_equal(gw_certs_install(c, CSMS, p.foreign_pem, MK_NOW), OCPP_CERT_INSTALL_ACCEPTED);
	assert_false(gw_certs_has_fallback(c));
	assert_int_equal(gw_certs_ready(c, 2, MK_NOW, why, sizeof(why)), 0);
	assert_int_equal(gw_certs_tls(c, false, &tls), 0);
	assert_non_null(strstr(tls.ca, "/certs/csms-roots.pem"));
	gw_certs_free(c);
}

/* ---- AdditionalRootCertificateCheck ---- */

static void test_additional_root_check(void **state)
{
	char dir[256], ca[300], *t;
	struct gw_certs_params pp;
	struct gw_certs_tls tls;
	struct ocpp_cert_hash h, ids[4];
	struct gw_certs *c;

	(void)state;
	new_dir(dir, sizeof(dir));
	pp = seeded(dir, false, ca, NULL, NULL, sizeof(ca));
	pp.additional_root_check = true;
	pp.store_max = 3;
	c = open_ok(&pp);
	assert_false(gw_certs_has_fallback(c));
	assert_int_equal(gw_certs_tls_new_root(c, &tls), -ENOENT);
	assert_int_equal(gw_certs_drop_fallback(c), -ENOENT);

	/* Rule 4: a self-signed root, or one signed by someone else, is refused. */
	assert_int_equal(gw_certs_install(c, CSMS, p.foreign_pem, MK_NOW), OCPP_CERT_INSTALL_REJECTED);
	assert_int_equal(gw_certs_install(c, CSMS, p.root3_pem, MK_NOW), OCPP_CERT_INSTALL_REJECTED);
	/* Manufacturer roots are not affected. */
	assert_int_equal(gw_certs_install(c, MFR, p.mf_pem, MK_NOW), OCPP_CERT_INSTALL_ACCEPTED);

	/* Rule 5: root2 (signed by root) is current, root the fallback; both trusted. */
	assert_int_equal(gw_certs_install(c, CSMS, p.root2_pem, MK_NOW), OCPP_CERT_INSTALL_ACCEPTED);
	assert_true(gw_certs_has_fallback(c));
	assert_int_equal(gw_certs_ids(c, CSMS, ids, 4), 2);
	t = get(dir, "csms-roots.pem");
	assert_int_equal(pem_count(t), 2);
	free(t);
	t = get(dir, "csms-roots.new.pem");
	assert_string_equal(t, p.root2_pem);
	free(t);
	t = get(dir, "csms-fallback.pem");
	assert_string_equal(t, p.root_pem);
	free(t);
	assert_int_equal(gw_certs_tls_new_root(c, &tls), 0);
	assert_non_null(strstr(tls.ca, "/certs/csms-roots.new.pem"));
	/* Rule 2: either of them again changes nothing. */
	assert_int_equal(gw_certs_install(c, CSMS, p.root2_pem, MK_NOW), OCPP_CERT_INSTALL_ACCEPTED);
	assert_int_equal(gw_certs_install(c, CSMS, p.root_pem, MK_NOW), OCPP_CERT_INSTALL_ACCEPTED);
	assert_int_equal(gw_certs_ids(c, CSMS, ids, 4), 2);
	/* The fallback cannot sign a successor; the current one must. */
	assert_int_equal(gw_certs_install(c, CSMS, p.foreign_pem, MK_NOW), OCPP_CERT_INSTALL_REJECTED);

	/* The fallback survives a restart. */
	gw_certs_free(c);
	c = open_ok(&pp);
	assert_true(gw_certs_has_fallback(c));

	/* A connection with root2 alone worked: the fallback goes. */
	assert_int_equal(gw_certs_drop_fallback(c), 0);
	assert_false(gw_certs_has_fallback(c));
	assert_false(has_serial(c, CSMS, "1"));
	t = get(dir, "csms-roots.pem");
	assert_string_equal(t, p.root2_pem);
	free(t);
	assert_false(exists(dir, "csms-roots.new.pem"));
	assert_false(exists(dir, "csms-fallback.pem"));

	/* Next rotation: root3 (signed by root2). Then root2 is the fallback. Store: mf, root2, root3 =
	 * full; a fourth rotation must still work, since the old fallback makes room. */
	assert_int_equal(gw_certs_install(c, CSMS, p.root3_pem, MK_NOW), OCPP_CERT_INSTALL_ACCEPTED);
	t = get(dir, "csms-fallback.pem");
	assert_string_equal(t, p.root2_pem);
	free(t);
	{
		EVP_PKEY *k4 = mk_key();
		struct mk_opts r4 = {.cn = "CSMS root 4", .o = CPO, .ca = 1, .serial = 4};
		BIO *b = BIO_new_mem_buf(p.root3_pem, -1);
		X509 *root3 = PEM_read_bio_X509(b, NULL, NULL, NULL), *root4;
		char *root4_pem;

		root4 = mk_cert(&r4, k4, root3, p.root3_key);
		root4_pem = mk_pem(root4);
		assert_int_equal(gw_certs_install(c, CSMS, root4_pem, MK_NOW), OCPP_CERT_INSTALL_ACCEPTED);
		assert_false(has_serial(c, CSMS, "2")); /* the former fallback is deleted */
		assert_true(has_serial(c, CSMS, "3"));
		assert_true(has_serial(c, CSMS, "4"));
		assert_true(has_serial(c, MFR, "5"));
		t = get(dir, "csms-fallback.pem");
		assert_string_equal(t, p.root3_pem);
		free(t);

		/* Deleting the current root leaves the fallback as the only one: no fallback any more. */
		h = hash_of(c, CSMS, "4");
		assert_int_equal(gw_certs_delete(c, &h), OCPP_CERT_DELETE_ACCEPTED);
		assert_false(gw_certs_has_fallback(c));
		assert_false(exists(dir, "csms-fallback.pem"));
		t = get(dir, "csms-roots.pem");
		assert_string_equal(t, p.root3_pem);
		free(t);
		h = hash_of(c, CSMS, "3");
		assert_int_equal(gw_certs_delete(c, &h), OCPP_CERT_DELETE_FAILED);

		/* Deleting the fallback ends it too. */
		assert_int_equal(gw_certs_install(c, CSMS, root4_pem, MK_NOW), OCPP_CERT_INSTALL_ACCEPTED);
		assert_true(gw_certs_has_fallback(c));
		h = hash_of(c, CSMS, "3");
		assert_int_equal(gw_certs_delete(c, &h), OCPP_CERT_DELETE_ACCEPTED);
		assert_false(gw_certs_has_fallback(c));
		assert_true(has_serial(c, CSMS, "4"));
		free(root4_pem);
		X509_free(root4);
		X509_free(root3);
		BIO_free(b);
		EVP_PKEY_free(k4);
	}
	gw_certs_free(c);

	/* Without the check, the marker file is ignored. */
	pp.additional_root_check = false;
	c = open_ok(&pp);
	assert_false(gw_certs_has_fallback(c));
	gw_certs_free(c);
}

/* ---- checks ---- */

static void test_ready(void **state)
{
	char dir[256], ca[300], cert[300], key[300], why[256], csr[OCPP_CSR_MAX + 1], reason[128], *chain;
	struct gw_certs_params pp;
	struct gw_certs *c;

	(void)state;
	new_dir(dir, sizeof(dir));
	pp = seeded(dir, false, ca, cert, key, sizeof(ca));
	c = open_ok(&pp);
	assert_int_equal(gw_certs_ready(c, 0, MK_NOW, why, sizeof(why)), 0);
	assert_int_equal(gw_certs_ready(c, 1, MK_NOW, why, sizeof(why)), 0);
	assert_int_equal(gw_certs_ready(c, 2, MK_NOW, why, sizeof(why)), 0);
	assert_int_equal(gw_certs_ready(c, 3, MK_NOW, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "ChargePointCertificate"));
	assert_int_equal(gw_certs_ready(c, 4, MK_NOW, why, sizeof(why)), -EINVAL);
	/* The root has expired by then. */
	assert_int_equal(gw_certs_ready(c, 2, MK_NOW + 4000 * MK_DAY, why, sizeof(why)), -EKEYEXPIRED);
	assert_non_null(strstr(why, "valid now"));
	/* A next pair counts for profile 3 (its first connection tries it). */
	assert_int_equal(gw_certs_sign(c, CPO, csr, sizeof(csr)), 0);
	chain = ca_sign(csr, (struct mk_opts){0}, p.root, p.root_key);
	assert_int_equal(gw_certs_signed(c, chain, MK_NOW, reason, sizeof(reason)), 0);
	assert_int_equal(gw_certs_ready(c, 3, MK_NOW, why, sizeof(why)), 0);
	free(chain);
	gw_certs_free(c);

	/* The seeded pair: ready now, expired after a year. */
	new_dir(dir, sizeof(dir));
	pp = seeded(dir, true, ca, cert, key, sizeof(ca));
	c = open_ok(&pp);
	assert_int_equal(gw_certs_ready(c, 3, MK_NOW, why, sizeof(why)), 0);
	assert_int_equal(gw_certs_ready(c, 3, MK_NOW + 366 * MK_DAY, why, sizeof(why)), -EKEYEXPIRED);
	assert_non_null(strstr(why, "expired"));
	gw_certs_free(c);
	/* A cp-cert.pem that is not for cp-key.pem (changed by hand) is kept but not ready. */
	{
		char sd[300];

		snprintf(sd, sizeof(sd), "%s/certs", dir);
		put(sd, "cp-key.pem", p.other_key_pem, 0600);
		c = open_ok(&pp);
		assert_int_equal(gw_certs_ready(c, 3, MK_NOW, why, sizeof(why)), -EKEYREJECTED);
		assert_non_null(strstr(why, "not for this key"));
		gw_certs_free(c);
	}
}

static void test_expiring(void **state)
{
	char dir[256], ca[300], cert[300], key[300], what[512];
	struct gw_certs_params pp;
	struct gw_certs *c;

	(void)state;
	new_dir(dir, sizeof(dir));
	pp = seeded(dir, true, ca, cert, key, sizeof(ca));
	c = open_ok(&pp);
	/* The manufacturer root expires in 20 days, but it is not in use. */
	assert_int_equal(gw_certs_install(c, MFR, p.mf_pem, MK_NOW), OCPP_CERT_INSTALL_ACCEPTED);
	assert_int_equal(gw_certs_expiring(c, MK_NOW, 30, what, sizeof(what)), 0);
	assert_string_equal(what, "");
	/* The CP certificate (notAfter MK_NOW + 365 d = 2027-01-01) within 30 days of it. */
	assert_int_equal(gw_certs_expiring(c, MK_NOW + 340 * MK_DAY, 30, what, sizeof(what)), 1);
	assert_string_equal(what, "ChargePointCertificate " CBID " expires 2027-01-01T00:00:00Z");
	assert_int_equal(gw_certs_expiring(c, MK_NOW + 340 * MK_DAY, 20, what, sizeof(what)), 0);
	/* Both, once the root is close too; cut to the buffer. */
	assert_int_equal(gw_certs_expiring(c, MK_NOW + 3640 * MK_DAY, 30, what, sizeof(what)), 2);
	assert_non_null(strstr(what, "CentralSystemRootCertificate CSMS root expires"));
	assert_non_null(strstr(what, "; ChargePointCertificate " CBID " expired 2027-01-01T00:00:00Z"));
	assert_int_equal(gw_certs_expiring(c, MK_NOW + 3640 * MK_DAY, 30, what, 20), 2);
	assert_int_equal(strlen(what), 19);
	assert_int_equal(gw_certs_expiring(c, MK_NOW, -1, what, sizeof(what)), -EINVAL);
	gw_certs_free(c);
}

/* ---- crashes and failures ---- */

static void test_crash_recovery(void **state)
{
	char dir[256], ca[300], cert[300], key[300], csr[OCPP_CSR_MAX + 1], reason[128], sd[300], *chain, *nk, *t;
	struct gw_certs_params pp;
	struct gw_certs *c;

	(void)state;
	new_dir(dir, sizeof(dir));
	snprintf(sd, sizeof(sd), "%s/certs", dir);
	pp = seeded(dir, true, ca, cert, key, sizeof(ca));
	c = open_ok(&pp);
	assert_int_equal(gw_certs_sign(c, CPO, csr, sizeof(csr)), 0);
	chain = ca_sign(csr, (struct mk_opts){0}, p.root, p.root_key);
	assert_int_equal(gw_certs_signed(c, chain, MK_NOW, reason, sizeof(reason)), 0);
	gw_certs_free(c);
	nk = get(dir, "cp-key.next.pem");

	/* A promotion stopped after cp-key.pem: the next start finishes it. */
	put(sd, "cp-key.pem", nk, 0600);
	c = open_ok(&pp);
	assert_false(gw_certs_has_next(c));
	assert_int_equal(gw_certs_ready(c, 3, MK_NOW, NULL, 0), 0);
	t = get(dir, "cp-cert.pem");
	assert_string_equal(t, chain);
	free(t);
	assert_false(exists(dir, "cp-cert.next.pem"));
	assert_false(exists(dir, "cp-key.next.pem"));
	gw_certs_free(c);

	/* A next certificate without its key (or with a foreign one) is dropped. */
	put(sd, "cp-cert.next.pem", p.leaf_pem, 0640);
	c = open_ok(&pp);
	assert_false(gw_certs_has_next(c));
	assert_false(exists(dir, "cp-cert.next.pem"));
	gw_certs_free(c);
	put(sd, "cp-cert.next.pem", p.leaf_pem, 0640);
	put(sd, "cp-key.next.pem", p.other_key_pem, 0600);
	c = open_ok(&pp);
	assert_false(gw_certs_has_next(c));
	assert_false(exists(dir, "cp-key.next.pem"));
	gw_certs_free(c);

	/* A key file left with a wide mode is tightened; a stale CA file is rewritten. */
	snprintf(sd, sizeof(sd), "%s/certs/cp-key.pem", dir);
	assert_int_equal(chmod(sd, 0644), 0);
	snprintf(sd, sizeof(sd), "%s/certs", dir);
	put(sd, "csms-roots.pem", p.foreign_pem, 0640);
	c = open_ok(&pp);
	assert_int_equal(mode_in(dir, "cp-key.pem"), 0600);
	t = get(dir, "csms-roots.pem");
	assert_string_equal(t, p.root_pem);
	free(t);
	gw_certs_free(c);
	free(nk);
	free(chain);
}

/* A write that fails (the disk-full hook of gw_store) answers Failed and leaves memory and disk as
 * they were. */
static void test_write_failure_undone(void **state)
{
	char dir[256], ca[300], flag[300], csr[OCPP_CSR_MAX + 1], reason[128], *before, *before_key, *chain, *t;
	struct gw_certs_params pp;
	struct ocpp_cert_hash h, ids[4];
	struct gw_certs *c;

	(void)state;
	new_dir(dir, sizeof(dir));
	pp = seeded(dir, false, ca, NULL, NULL, sizeof(ca));
	pp.additional_root_check = true;
	c = open_ok(&pp);
	assert_int_equal(gw_certs_install(c, MFR, p.mf_pem, MK_NOW), OCPP_CERT_INSTALL_ACCEPTED);
	assert_int_equal(gw_certs_sign(c, CPO, csr, sizeof(csr)), 0);
	chain = ca_sign(csr, (struct mk_opts){0}, p.root, p.root_key);
	before = get(dir, "store.json");
	snprintf(flag, sizeof(flag), "%s/full", dir);
	put(dir, "full", "", 0600);
	assert_int_equal(setenv("TWCGW_FAULT_DISK_FULL", flag, 1), 0);

	assert_int_equal(gw_certs_install(c, CSMS, p.root2_pem, MK_NOW), OCPP_CERT_INSTALL_FAILED);
	assert_false(gw_certs_has_fallback(c));
	assert_int_equal(gw_certs_ids(c, CSMS, ids, 4), 1);
	h = hash_of(c, MFR, "5");
	assert_int_equal(gw_certs_delete(c, &h), OCPP_CERT_DELETE_FAILED);
	assert_int_equal(gw_certs_ids(c, MFR, ids, 4), 1);
	/* CertificateSigned cannot store the pair: refused, the pending key kept for a retry. */
	assert_int_equal(gw_certs_signed(c, chain, MK_NOW, reason, sizeof(reason)), -ENOSPC);
	assert_non_null(strstr(reason, "StorageFailed"));
	assert_false(gw_certs_has_next(c));
	assert_false(exists(dir, "cp-key.next.pem"));
	assert_false(exists(dir, "cp-cert.next.pem"));
	assert_true(exists(dir, "cp-key.pending.pem"));
	t = get(dir, "cp-key.pending.pem");
	/* A new CSR cannot store its key: the old pending key stays. */
	assert_int_equal(gw_certs_sign(c, CPO, csr, sizeof(csr)), -ENOSPC);
	before_key = get(dir, "cp-key.pending.pem");
	assert_string_equal(t, before_key);
	free(t);
	free(before_key);
	t = get(dir, "store.json");
	assert_string_equal(t, before);
	free(t);

	assert_int_equal(unsetenv("TWCGW_FAULT_DISK_FULL"), 0);
	assert_int_equal(gw_certs_install(c, CSMS, p.root2_pem, MK_NOW), OCPP_CERT_INSTALL_ACCEPTED);
	assert_true(gw_certs_has_fallback(c));
	assert_int_equal(gw_certs_signed(c, chain, MK_NOW, reason, sizeof(reason)), 0);
	assert_true(gw_certs_has_next(c));

	/* A promotion that cannot be written leaves the next pair waiting. */
	assert_int_equal(setenv("TWCGW_FAULT_DISK_FULL", flag, 1), 0);
	assert_int_equal(gw_certs_promote(c), -ENOSPC);
	assert_true(gw_certs_has_next(c));
	assert_false(exists(dir, "cp-cert.pem"));
	/* Dropping the fallback cannot be written either: it stays. */
	assert_int_equal(gw_certs_drop_fallback(c), -ENOSPC);
	assert_true(gw_certs_has_fallback(c));
	assert_int_equal(unsetenv("TWCGW_FAULT_DISK_FULL"), 0);
	assert_int_equal(gw_certs_promote(c), 0);
	assert_int_equal(gw_certs_ready(c, 3, MK_NOW, NULL, 0), 0);
	gw_certs_free(c);
	free(before);
	free(chain);
}

/* ---- the demo ---- */

static void test_memory_mode(void **state)
{
	char dir[256], ca[300], cert[300], key[300], csr[OCPP_CSR_MAX + 1], reason[128], *chain;
	struct gw_certs_params pp;
	struct gw_certs_tls tls;
	struct ocpp_cert_hash h, ids[4];
	struct gw_certs *c;

	(void)state;
	new_dir(dir, sizeof(dir));
	pp = seeded(dir, true, ca, cert, key, sizeof(ca));
	pp.dir = "";
	c = open_ok(&pp);
	assert_int_equal(gw_certs_tls(c, false, &tls), 0);
	assert_string_equal(tls.ca, ca);
	assert_string_equal(tls.cert, cert);
	assert_string_equal(tls.key, key);
	assert_int_equal(gw_certs_ready(c, 3, MK_NOW, NULL, 0), 0);
	assert_int_equal(gw_certs_install(c, MFR, p.mf_pem, MK_NOW), OCPP_CERT_INSTALL_ACCEPTED);
	assert_int_equal(gw_certs_ids(c, MFR, ids, 4), 1);
	h = hash_of(c, MFR, "5");
	assert_int_equal(gw_certs_delete(c, &h), OCPP_CERT_DELETE_ACCEPTED);
	assert_int_equal(gw_certs_sign(c, CPO, csr, sizeof(csr)), 0);
	chain = ca_sign(csr, (struct mk_opts){0}, p.root, p.root_key);
	assert_int_equal(gw_certs_signed(c, chain, MK_NOW, reason, sizeof(reason)), 0);
	assert_false(gw_certs_has_next(c)); /* nothing the link could load */
	assert_int_equal(gw_certs_tls(c, true, &tls), -ENOENT);
	assert_int_equal(gw_certs_promote(c), 0);
	assert_int_equal(gw_certs_ready(c, 3, MK_NOW, NULL, 0), 0);
	free(chain);
	gw_certs_free(c);
	/* Nothing was written beside the seed files. */
	assert_false(exists(dir, "store.json"));
	{
		char path[300];

		snprintf(path, sizeof(path), "%s/certs", dir);
		assert_int_equal(mode_of(path), -1);
	}
	pp.dir = NULL;
	pp.ca_file = pp.cert_file = pp.key_file = NULL;
	c = open_ok(&pp);
	assert_int_equal(gw_certs_tls(c, false, &tls), 0);
	assert_string_equal(tls.ca, "");
	gw_certs_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_and_modes),
		cmocka_unit_test(test_seed_refused),
		cmocka_unit_test(test_key_file_mode_warned),
		cmocka_unit_test(test_persistence_no_reseed),
		cmocka_unit_test(test_rotation_promote),
		cmocka_unit_test(test_drop_next),
		cmocka_unit_test(test_signed_refused),
		cmocka_unit_test(test_install_delete_ids),
		cmocka_unit_test(test_no_root),
		cmocka_unit_test(test_additional_root_check),
		cmocka_unit_test(test_ready),
		cmocka_unit_test(test_expiring),
		cmocka_unit_test(test_crash_recovery),
		cmocka_unit_test(test_write_failure_undone),
		cmocka_unit_test(test_memory_mode),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
