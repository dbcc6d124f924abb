/*
 * gw_certs: the certificate store of the charge point on disk. The certs/ core decides (what is a
 * valid root, chain or pair); this file keeps its state in <dataDir>/certs/, in an order a crash
 * cannot confuse, and names the files the websocket's TLS reads. Roots change through a snapshot:
 * when a file cannot be written the change is undone in memory, so what OCPP was told and what is on
 * disk agree. Keys are wiped from memory before they are freed and never reach a log line.
 */
#include "gw_certs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gw_log.h"
#include "gw_store.h"

#define F_STORE "store.json"
#define F_ROOTS "csms-roots.pem"
#define F_ROOTS_NEW "csms-roots.new.pem"
#define F_FALLBACK "csms-fallback.pem"
#define F_CERT "cp-cert.pem"
#define F_KEY "cp-key.pem"
#define F_PENDING "cp-key.pending.pem"
#define F_NEXT_CERT "cp-cert.next.pem"
#define F_NEXT_KEY "cp-key.next.pem"
#define F_PREV_CERT "cp-cert.prev.pem"
#define F_PREV_KEY "cp-key.prev.pem"
#define NAME_LONGEST 20 /* strlen("csms-roots.new.pem") and some room */

#define STORE_FILE_MAX (4u * 1024 * 1024) /* 1000 roots of a few KiB, JSON-escaped */
#define SEED_CA_MAX (1024u * 1024)        /* ocpp.caFile */
#define CERT_FILE_MAX (64u * 1024)        /* a chain: CertificateSigned allows 10000 characters */
#define KEY_FILE_MAX (16u * 1024)         /* an RSA 4096 key is about 3.3 KiB of PEM */
#define STORE_MAX_LIMIT 1000
#define DAY_S INT64_C(86400)

_Static_assert(OCPP_CERT_HASH_MAX == CERTS_HASH_HEX_MAX, "CertificateHashData sizes differ");
_Static_assert(OCPP_CERT_SERIAL_MAX == CERTS_SERIAL_MAX, "CertificateHashData sizes differ");
_Static_assert((int)OCPP_HASH_SHA256 == (int)CERTS_SHA256 && (int)OCPP_HASH_SHA384 == (int)CERTS_SHA384 &&
		       (int)OCPP_HASH_SHA512 == (int)CERTS_SHA512,
	       "hash algorithm orders differ");

struct gw_certs {
	char dir[GW_CERTS_PATH_MAX]; /* <dataDir>/certs; "" = in memory only */
	char cbid[CERTS_NAME_MAX + 1];
	size_t chain_max;
	bool arcc;
	enum certs_key_type key_type;
	struct certs_store *st;
	char *fallback; /* AdditionalRootCertificateCheck: canonical PEM of the fallback root, or NULL */

	/* The charge-point pairs as text; keys are wiped on free. NULL = absent. */
	char *cur_cert, *cur_key;
	char *next_cert, *next_key;
	int64_t next_not_before;
	char *pending_key;
	char pending_o[CERTS_NAME_MAX + 1]; /* CpoName of the pending CSR, "" = not known (restart) */

	/* In memory mode: the configured files, as gw_certs_tls() names them. */
	char mem_ca[GW_CERTS_PATH_MAX], mem_cert[GW_CERTS_PATH_MAX], mem_key[GW_CERTS_PATH_MAX];
};

static void err_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void err_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool on_disk(const struct gw_certs *c)
{
	return c->dir[0] != '\0';
}

static void secret_set(char **slot, char *v)
{
	certs_secret_free(*slot);
	*slot = v;
}

static void text_set(char **slot, char *v)
{
	free(*slot);
	*slot = v;
}

/* ---- files ---- */

static int path_of(const struct gw_certs *c, const char *name, char *out, size_t n)
{
	int w = snprintf(out, n, "%s/%s", c->dir, name);

	return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

static int file_put(const struct gw_certs *c, const char *name, const char *text, bool secret)
{
	if (!on_disk(c))
		return 0;
	return gw_store_write(c->dir, name, text, strlen(text), secret ? 0600 : 0640);
}

/* Remove @name (absent is fine) and make the removal durable. */
static int file_del(const struct gw_certs *c, const char *name)
{
	int dfd, rc = 0;

	if (!on_disk(c))
		return 0;
	dfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (unlinkat(dfd, name, 0) != 0)
		rc = errno == ENOENT ? 1 : -errno;
	if (rc == 0 && fsync(dfd) != 0 && errno != EINVAL)
		rc = -errno;
	close(dfd);
	return rc > 0 ? 0 : rc;
}

/* @name's text into *out (NULL when absent: 0). A secret's buffer is wiped if it is refused. */
static int file_get(const struct gw_certs *c, const char *name, size_t max, char **out)
{
	size_t len;
	int rc;

	*out = NULL;
	if (!on_disk(c))
		return 0;
	rc = gw_store_read(c->dir, name, out, &len, max);
	if (rc == -ENOENT)
		return 0;
	if (rc == 0 && strlen(*out) != len) {
		certs_secret_free(*out);
		*out = NULL;
		return -EINVAL; /* a NUL inside: not PEM text */
	}
	return rc;
}

/* Derived files are rewritten only when their text changes: most starts change nothing, and flash
 * storage is worn by every write. */
static int file_put_changed(const struct gw_certs *c, const char *name, const char *text)
{
	char *old = NULL;
	int rc;

	if (!on_disk(c))
		return 0;
	rc = file_get(c, name, STORE_FILE_MAX, &old);
	if (rc == 0 && old && !strcmp(old, text)) {
		free(old);
		return 0;
	}
	free(old);
	return file_put(c, name, text, false);
}

/* A configured file (any path) into *out; *mode gets its permission bits. */
static int path_read(const char *path, size_t max, char **out, mode_t *mode)
{
	struct stat sb;
	size_t have = 0;
	char *buf;
	int fd, rc = 0;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) != 0)
		rc = -errno;
	else if (!S_ISREG(sb.st_mode))
		rc = -EINVAL;
	else if ((uint64_t)sb.st_size > max)
		rc = -EFBIG;
	buf = rc ? NULL : calloc(1, (size_t)sb.st_size + 1);
	if (!buf) {
		close(fd);
		return rc ? rc : -ENOMEM;
	}
	while (have < (size_t)sb.st_size) {
		ssize_t r = read(fd, buf + have, (size_t)sb.st_size - have);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		if (r == 0)
			break;
		have += (size_t)r;
	}
	close(fd);
	if (!rc && strlen(buf) != have)
		rc = -EINVAL;
	if (rc) {
		certs_secret_free(buf);
		return rc;
	}
	if (mode)
		*mode = sb.st_mode & 07777;
	*out = buf;
	return 0;
}

/* <dataDir>/certs, 0700: created, or tightened when it exists with a wider mode. */
static int dir_make(const char *dir, char *err, size_t errlen)
{
	struct stat sb;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		int rc = -errno;

		err_set(err, errlen, "cannot create %s: %s", dir, strerror(-rc));
		return rc;
	}
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		err_set(err, errlen, "%s is not a directory", dir);
		return -ENOTDIR;
	}
	if ((sb.st_mode & 07777) != 0700) {
		if (chmod(dir, 0700) != 0) {
			int rc = -errno;

			err_set(err, errlen, "cannot make %s mode 0700: %s", dir, strerror(-rc));
			return rc;
		}
		gw_log_warn("certs: %s had mode %04o; now 0700", dir, (unsigned)(sb.st_mode & 07777));
	}
	return 0;
}

/* A key file written by someone else (or an old version) with a wider mode is tightened. */
static void key_mode_fix(const struct gw_certs *c, const char *name)
{
	char path[GW_CERTS_PATH_MAX];
	struct stat sb;

	if (!on_disk(c) || path_of(c, name, path, sizeof(path)) || stat(path, &sb) != 0 || !(sb.st_mode & 077))
		return;
	if (chmod(path, 0600) == 0)
		gw_log_warn("certs: %s had mode %04o; now 0600", path, (unsigned)(sb.st_mode & 07777));
	else
		gw_log_error("certs: %s has mode %04o and cannot be made 0600: %s", path,
			     (unsigned)(sb.st_mode & 07777), strerror(errno));
}

/* ---- the roots ---- */

static int fallback_index(const struct gw_certs *c)
{
	for (int i = 0; c->fallback && i < certs_store_size(c->st); i++) {
		enum certs_type t;
		const char *pem;

		if (!certs_store_entry(c->st, i, &t, &pem) && t == CERTS_CENTRAL_SYSTEM_ROOT && !strcmp(pem, c->fallback))
			return i;
	}
	return -1;
}

/* A fallback is only one while AdditionalRootCertificateCheck is on, it is installed, and another
 * CSMS root is there to be the current one. */
static void fallback_fix(struct gw_certs *c)
{
	if (c->fallback && (!c->arcc || fallback_index(c) < 0 ||
			    certs_store_count(c->st, CERTS_CENTRAL_SYSTEM_ROOT) < 2)) {
		free(c->fallback);
		c->fallback = NULL;
	}
}

/* The CSMS roots except the fallback, as one PEM text (free()). */
static char *bundle_without_fallback(const struct gw_certs *c)
{
	size_t len = 1, at = 0;
	char *text;
	int fb = fallback_index(c);

	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < certs_store_size(c->st); i++) {
			enum certs_type t;
			const char *pem;
			size_t l;

			if (i == fb || certs_store_entry(c->st, i, &t, &pem) || t != CERTS_CENTRAL_SYSTEM_ROOT)
				continue;
			l = strlen(pem);
			if (pass == 0) {
				len += l;
			} else {
				memcpy(text + at, pem, l);
				at += l;
			}
		}
		if (pass == 0 && !(text = malloc(len)))
			return NULL;
	}
	text[at] = '\0';
	return text;
}

/* csms-roots.pem and, with a fallback, csms-fallback.pem and csms-roots.new.pem. */
static int ca_files_write(const struct gw_certs *c)
{
	char *text;
	int rc;

	if (!on_disk(c))
		return 0;
	if (certs_store_count(c->st, CERTS_CENTRAL_SYSTEM_ROOT) == 0) {
		rc = file_del(c, F_ROOTS);
	} else {
		text = certs_store_bundle(c->st, CERTS_CENTRAL_SYSTEM_ROOT);
		if (!text)
			return -ENOMEM;
		rc = file_put_changed(c, F_ROOTS, text);
		free(text);
	}
	if (rc)
		return rc;
	if (!c->fallback) {
		rc = file_del(c, F_FALLBACK);
		return rc ? rc : file_del(c, F_ROOTS_NEW);
	}
	rc = file_put_changed(c, F_FALLBACK, c->fallback);
	if (rc)
		return rc;
	text = bundle_without_fallback(c);
	if (!text)
		return -ENOMEM;
	rc = file_put_changed(c, F_ROOTS_NEW, text);
	free(text);
	return rc;
}

/* store.json first (the truth), then the files made from it. */
static int roots_write(const struct gw_certs *c)
{
	char *json;
	int rc;

	if (!on_disk(c))
		return 0;
	json = certs_store_format(c->st);
	if (!json)
		return -ENOMEM;
	rc = file_put_changed(c, F_STORE, json);
	free(json);
	return rc ? rc : ca_files_write(c);
}

struct snap {
	char *json;
	char *fallback;
};

static int snap_take(const struct gw_certs *c, struct snap *s)
{
	s->json = certs_store_format(c->st);
	s->fallback = c->fallback ? strdup(c->fallback) : NULL;
	if (!s->json || (c->fallback && !s->fallback)) {
		free(s->json);
		free(s->fallback);
		return -ENOMEM;
	}
	return 0;
}

static void snap_free(struct snap *s)
{
	free(s->json);
	free(s->fallback);
	s->json = s->fallback = NULL;
}

/* Back to the snapshot in memory; @write: also put the files back (a write failed half way). */
static void snap_restore(struct gw_certs *c, struct snap *s, bool write)
{
	char err[128];

	if (certs_store_parse(c->st, s->json, strlen(s->json), err, sizeof(err)) != 0)
		gw_log_error("certs: cannot restore the root store in memory: %s", err);
	free(c->fallback);
	c->fallback = s->fallback;
	s->fallback = NULL;
	if (write && roots_write(c) != 0)
		gw_log_error("certs: cannot restore %s either; it is fixed at the next start", c->dir);
}

/* Write a change made since @s, or undo it. */
static int roots_commit(struct gw_certs *c, struct snap *s)
{
	int rc;

	fallback_fix(c);
	rc = roots_write(c);
	if (rc) {
		gw_log_error("certs: cannot write the root store in %s: %s; the change is undone", c->dir,
			     strerror(-rc));
		snap_restore(c, s, true);
	}
	snap_free(s);
	return rc;
}

/* ---- start-up ---- */

static int store_load(struct gw_certs *c, char *err, size_t errlen)
{
	char *text, detail[CERTS_DETAIL_MAX];
	int rc = file_get(c, F_STORE, STORE_FILE_MAX, &text);

	if (rc) {
		err_set(err, errlen, "cannot read %s/%s: %s", c->dir, F_STORE, strerror(-rc));
		return rc;
	}
	if (!text)
		return 0;
	rc = certs_store_parse(c->st, text, strlen(text), detail, sizeof(detail));
	free(text);
	if (rc)
		err_set(err, errlen, "%s/%s: %s", c->dir, F_STORE,
			 rc == -EOVERFLOW ? "more certificates than CertificateStoreMaxLength" : detail);
	return rc;
}

static int fallback_load(struct gw_certs *c, char *err, size_t errlen)
{
	int rc = file_get(c, F_FALLBACK, CERT_FILE_MAX, &c->fallback);

	if (rc) {
		err_set(err, errlen, "cannot read %s/%s: %s", c->dir, F_FALLBACK, strerror(-rc));
		return rc;
	}
	fallback_fix(c);
	return 0;
}

static int roots_seed(struct gw_certs *c, const char *ca_file, int64_t now_s, char *err, size_t errlen)
{
	int n = certs_store_count(c->st, CERTS_CENTRAL_SYSTEM_ROOT), rc;
	enum certs_reason why = CERTS_OK;
	char *text;

	if (!ca_file || !ca_file[0])
		return 0;
	if (n > 0) {
		gw_log_info("certs: ocpp.caFile %s not read: the store already holds %d CentralSystemRootCertificate(s) "
			    "(the central system manages them; remove %s/store.json to seed it from the file again)",
			    ca_file, n, c->dir);
		return 0;
	}
	rc = path_read(ca_file, SEED_CA_MAX, &text, NULL);
	if (rc) {
		err_set(err, errlen, "cannot read ocpp.caFile %s: %s", ca_file, strerror(-rc));
		return rc;
	}
	rc = certs_store_import(c->st, CERTS_CENTRAL_SYSTEM_ROOT, text, strlen(text), now_s, &why);
	free(text);
	if (rc < 0 || rc == 0) {
		if (rc == 0)
			why = CERTS_E_PARSE;
		rc = rc ? rc : -EINVAL;
		err_set(err, errlen, "ocpp.caFile %s refused: %s", ca_file, certs_reason_name(why));
		return rc;
	}
	rc = roots_write(c);
	if (rc) {
		err_set(err, errlen, "cannot write %s: %s", c->dir, strerror(-rc));
		return rc;
	}
	gw_log_info("certs: %d CentralSystemRootCertificate(s) from ocpp.caFile %s",
		    certs_store_count(c->st, CERTS_CENTRAL_SYSTEM_ROOT), ca_file);
	return 0;
}

/* Does @cert belong to @key? Expiry does not matter here. */
static bool pair_matches(const char *cert, const char *key)
{
	enum certs_reason r = certs_pair_check(cert, strlen(cert), key, strlen(key), 0, NULL, 0);

	return r == CERTS_OK || r == CERTS_E_EXPIRED || r == CERTS_E_NOT_YET_VALID;
}

static int64_t leaf_not_before(const char *cert)
{
	struct certs_info ci;

	return certs_info_get(cert, strlen(cert), &ci) == CERTS_OK ? ci.not_before : 0;
}

static int pairs_load(struct gw_certs *c, char *err, size_t errlen)
{
	const struct {
		const char *name;
		char **slot;
		size_t max;
	} files[] = {
		{ F_CERT, &c->cur_cert, CERT_FILE_MAX },
		{ F_KEY, &c->cur_key, KEY_FILE_MAX },
		{ F_NEXT_CERT, &c->next_cert, CERT_FILE_MAX },
		{ F_NEXT_KEY, &c->next_key, KEY_FILE_MAX },
		{ F_PENDING, &c->pending_key, KEY_FILE_MAX },
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int rc = file_get(c, files[i].name, files[i].max, files[i].slot);

		if (rc) {
			err_set(err, errlen, "cannot read %s/%s: %s", c->dir, files[i].name, strerror(-rc));
			return rc;
		}
	}
	key_mode_fix(c, F_KEY);
	key_mode_fix(c, F_NEXT_KEY);
	key_mode_fix(c, F_PENDING);
	key_mode_fix(c, F_PREV_KEY);

	/* gw_certs_promote() writes cp-key.pem before cp-cert.pem and removes the next pair last: the
	 * next key in cp-key.pem means a promotion stopped half way. Finish it. */
	if (c->next_cert && c->next_key && c->cur_key && !strcmp(c->cur_key, c->next_key)) {
		if (!c->cur_cert || strcmp(c->cur_cert, c->next_cert)) {
			int rc = file_put(c, F_CERT, c->next_cert, false);

			if (rc) {
				err_set(err, errlen, "cannot finish a promotion in %s: %s", c->dir, strerror(-rc));
				return rc;
			}
		}
		text_set(&c->cur_cert, c->next_cert);
		c->next_cert = NULL;
		secret_set(&c->next_key, NULL);
		file_del(c, F_NEXT_CERT);
		file_del(c, F_NEXT_KEY);
		gw_log_warn("certs: finished promoting the next charge-point certificate (stopped half way)");
	}
	/* gw_certs_signed() writes the next key, then the next certificate: a lone or foreign half is
	 * what a crash left. */
	if ((c->next_cert || c->next_key) &&
	    (!c->next_cert || !c->next_key || !pair_matches(c->next_cert, c->next_key))) {
		gw_log_warn("certs: %s/%s and %s do not make a pair; dropped", c->dir, F_NEXT_CERT, F_NEXT_KEY);
		text_set(&c->next_cert, NULL);
		secret_set(&c->next_key, NULL);
		file_del(c, F_NEXT_CERT);
		file_del(c, F_NEXT_KEY);
	}
	if (c->next_cert)
		c->next_not_before = leaf_not_before(c->next_cert);
	if (c->cur_cert && c->cur_key && !pair_matches(c->cur_cert, c->cur_key))
		gw_log_warn("certs: %s/%s is not for %s (kept; SecurityProfile 3 cannot use it)", c->dir, F_CERT, F_KEY);
	return 0;
}

static int pair_seed(struct gw_certs *c, const struct gw_certs_params *p, int64_t now_s, char *err, size_t errlen)
{
	char *cert = NULL, *key = NULL, detail[CERTS_DETAIL_MAX];
	enum certs_reason r;
	mode_t mode = 0;
	int rc;

	if (!p->cert_file || !p->cert_file[0])
		return 0;
	if (c->cur_cert || c->cur_key) {
		gw_log_info("certs: ocpp.certFile %s not read: the store already holds a charge-point certificate",
			    p->cert_file);
		return 0;
	}
	rc = path_read(p->cert_file, CERT_FILE_MAX, &cert, NULL);
	if (rc) {
		err_set(err, errlen, "cannot read ocpp.certFile %s: %s", p->cert_file, strerror(-rc));
		return rc;
	}
	rc = path_read(p->key_file, KEY_FILE_MAX, &key, &mode);
	if (rc) {
		err_set(err, errlen, "cannot read ocpp.keyFile %s: %s", p->key_file, strerror(-rc));
		goto out;
	}
	if (mode & 077)
		gw_log_warn("certs: ocpp.keyFile %s is readable by %s (mode %04o); the store's copy is 0600, "
			    "tighten or remove the original", p->key_file, mode & 007 ? "anyone" : "its group",
			    (unsigned)mode);
	r = certs_pair_check(cert, strlen(cert), key, strlen(key), now_s, detail, sizeof(detail));
	if (r != CERTS_OK && r != CERTS_E_EXPIRED && r != CERTS_E_NOT_YET_VALID) {
		err_set(err, errlen, "ocpp.certFile %s / keyFile %s: %s", p->cert_file, p->key_file, detail);
		rc = r == CERTS_E_NOMEM ? -ENOMEM : -EINVAL;
		goto out;
	}
	if (r != CERTS_OK)
		gw_log_warn("certs: ocpp.certFile %s: %s", p->cert_file, detail);
	/* The key first: a certificate without its key would be offered to TLS. */
	rc = file_put(c, F_KEY, key, true);
	if (!rc)
		rc = file_put(c, F_CERT, cert, false);
	if (rc) {
		err_set(err, errlen, "cannot write %s: %s", c->dir, strerror(-rc));
		goto out;
	}
	c->cur_cert = cert;
	c->cur_key = key;
	cert = key = NULL;
	gw_log_info("certs: charge-point certificate from ocpp.certFile %s", p->cert_file);
out:
	free(cert);
	certs_secret_free(key);
	return rc;
}

static int params_check(const struct gw_certs_params *p, char *err, size_t errlen)
{
	bool cert = p->cert_file && p->cert_file[0], key = p->key_file && p->key_file[0];
	size_t cbid = p->charge_box_id ? strlen(p->charge_box_id) : 0;

	if (!cbid || cbid > CERTS_NAME_MAX) {
		err_set(err, errlen, "chargeBoxId must be 1 to %d bytes for a certificate's CN", CERTS_NAME_MAX);
		return -EINVAL;
	}
	if (p->store_max < 0 || p->store_max > STORE_MAX_LIMIT) {
		err_set(err, errlen, "CertificateStoreMaxLength %d is not 1..%d", p->store_max, STORE_MAX_LIMIT);
		return -EINVAL;
	}
	if (p->chain_max < 0 || p->chain_max > CERTS_CHAIN_MAX) {
		err_set(err, errlen, "CertificateSignedMaxChainSize %d is not 1..%d", p->chain_max, CERTS_CHAIN_MAX);
		return -EINVAL;
	}
	if (p->key_type != CERTS_KEY_EC_P256 && p->key_type != CERTS_KEY_RSA_2048) {
		err_set(err, errlen, "unknown key type");
		return -EINVAL;
	}
	if (cert != key) {
		err_set(err, errlen, "ocpp.certFile and ocpp.keyFile go together");
		return -EINVAL;
	}
	return 0;
}

static int mem_path(char *dst, const char *src)
{
	int w = snprintf(dst, GW_CERTS_PATH_MAX, "%s", src ? src : "");

	return w < 0 || w >= GW_CERTS_PATH_MAX ? -ENAMETOOLONG : 0;
}

struct gw_certs *gw_certs_new(const struct gw_certs_params *p, char *err, size_t errlen)
{
	struct gw_certs *c;
	int64_t now_s;
	int w;

	err_set(err, errlen, "%s", "");
	if (!p || params_check(p, err, errlen))
		return NULL;
	now_s = p->now_s ? p->now_s : (int64_t)time(NULL);
	c = calloc(1, sizeof(*c));
	if (!c) {
		err_set(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(c->cbid, p->charge_box_id, strlen(p->charge_box_id) + 1);
	c->chain_max = p->chain_max ? (size_t)p->chain_max : CERTS_CHAIN_MAX;
	c->arcc = p->additional_root_check;
	c->key_type = p->key_type;
	c->st = certs_store_new(p->store_max ? p->store_max : GW_CERTS_STORE_MAX_DEFAULT);
	if (!c->st) {
		err_set(err, errlen, "out of memory");
		goto fail;
	}
	if (p->dir && p->dir[0]) {
		w = snprintf(c->dir, sizeof(c->dir), "%s/certs", p->dir);
		if (w < 0 || (size_t)w + 1 + NAME_LONGEST >= sizeof(c->dir)) {
			err_set(err, errlen, "dataDir %s is too long", p->dir);
			goto fail;
		}
		if (dir_make(c->dir, err, errlen))
			goto fail;
	} else if (mem_path(c->mem_ca, p->ca_file) || mem_path(c->mem_cert, p->cert_file) ||
		   mem_path(c->mem_key, p->key_file)) {
		err_set(err, errlen, "a certificate file name is too long");
		goto fail;
	}
	if (store_load(c, err, errlen) || fallback_load(c, err, errlen) ||
	    roots_seed(c, p->ca_file, now_s, err, errlen) || pairs_load(c, err, errlen) ||
	    pair_seed(c, p, now_s, err, errlen))
		goto fail;
	/* The CA files are made from store.json; a crash or an older version may have left them stale. */
	w = ca_files_write(c);
	if (w) {
		err_set(err, errlen, "cannot write the CA files in %s: %s", c->dir, strerror(-w));
		goto fail;
	}
	return c;
fail:
	gw_certs_free(c);
	return NULL;
}

void gw_certs_free(struct gw_certs *c)
{
	if (!c)
		return;
	certs_store_free(c->st);
	free(c->fallback);
	free(c->cur_cert);
	free(c->next_cert);
	certs_secret_free(c->cur_key);
	certs_secret_free(c->next_key);
	certs_secret_free(c->pending_key);
	free(c);
}

/* ---- SignCertificate, CertificateSigned ---- */

int gw_certs_sign(struct gw_certs *c, const char *cpo_name, char *csr, size_t csrlen)
{
	struct certs_subject s = { .cn = c->cbid, .o = cpo_name };
	char *csr_pem = NULL, *key_pem = NULL;
	size_t n;
	int rc;

	if (!cpo_name || !cpo_name[0] || strlen(cpo_name) > CERTS_NAME_MAX || !csr)
		return -EINVAL;
	rc = certs_csr_new(&s, c->key_type, &csr_pem, &key_pem);
	if (rc)
		return rc;
	n = strlen(csr_pem);
	if (n + 1 > csrlen) {
		rc = -ENOSPC;
		goto out;
	}
	rc = file_put(c, F_PENDING, key_pem, true);
	if (rc) {
		gw_log_error("certs: cannot write %s/%s: %s", c->dir, F_PENDING, strerror(-rc));
		goto out;
	}
	memcpy(csr, csr_pem, n + 1);
	secret_set(&c->pending_key, key_pem);
	key_pem = NULL;
	memcpy(c->pending_o, cpo_name, strlen(cpo_name) + 1);
	gw_log_info("certs: new %s key and CSR for CN=%s, O=%s", c->key_type == CERTS_KEY_RSA_2048 ? "RSA 2048" : "P-256",
		    c->cbid, cpo_name);
out:
	free(csr_pem);
	certs_secret_free(key_pem);
	return rc;
}

int gw_certs_signed(struct gw_certs *c, const char *chain, int64_t now_s, char *reason, size_t reasonlen)
{
	struct certs_signed_req rq = {
		.chain = chain,
		.chain_len = chain ? strnlen(chain, c->chain_max + 1) : 0,
		.max_chain = c->chain_max,
		.key_pem = c->pending_key,
		.key_len = c->pending_key ? strlen(c->pending_key) : 0,
		.cn = c->cbid,
		.o = c->pending_o,
		.now_s = now_s,
		.allow_not_yet_valid = true,
	};
	struct certs_signed_res res;
	enum certs_reason r;
	char *cert;
	int rc;

	err_set(reason, reasonlen, "%s", "");
	if (!c->pending_key) {
		err_set(reason, reasonlen, "NoPendingKey: no SignCertificate was sent for this chain");
		return -ENOENT;
	}
	r = certs_signed_check(c->st, &rq, &res);
	if (r != CERTS_OK) {
		err_set(reason, reasonlen, "%s: %s", certs_reason_name(r), res.detail);
		gw_log_warn("certs: CertificateSigned refused: %s: %s", certs_reason_name(r), res.detail);
		return r == CERTS_E_NOMEM ? -ENOMEM : -EINVAL;
	}
	cert = malloc(rq.chain_len + 1);
	if (!cert)
		return -ENOMEM;
	memcpy(cert, chain, rq.chain_len);
	cert[rq.chain_len] = '\0';
	/* The key first: start-up drops a next certificate whose key is not beside it. */
	rc = file_put(c, F_NEXT_KEY, c->pending_key, true);
	if (!rc) {
		rc = file_put(c, F_NEXT_CERT, cert, false);
		/* The next pair on disk must stay the one in memory (or none). */
		if (rc && (c->next_key ? file_put(c, F_NEXT_KEY, c->next_key, true) : file_del(c, F_NEXT_KEY)))
			gw_log_error("certs: %s/%s is left without its certificate; the next start drops it", c->dir,
				     F_NEXT_KEY);
	}
	if (rc) {
		err_set(reason, reasonlen, "StorageFailed: %s", strerror(-rc));
		gw_log_error("certs: cannot write the next charge-point certificate in %s: %s", c->dir, strerror(-rc));
		free(cert);
		return rc;
	}
	if (file_del(c, F_PENDING) != 0)
		gw_log_warn("certs: cannot remove %s/%s", c->dir, F_PENDING);
	text_set(&c->next_cert, cert);
	secret_set(&c->next_key, c->pending_key);
	c->pending_key = NULL;
	c->pending_o[0] = '\0';
	c->next_not_before = res.not_before;
	gw_log_info("certs: CertificateSigned accepted (%d certificate(s)); it is tried at the next connection",
		    res.certs);
	return 0;
}

/* ---- the root store ---- */

/* AdditionalRootCertificateCheck for a CentralSystemRootCertificate: the rules of gw_certs_install()
 * in gw_certs.h. The store may be left changed on refusal; the caller restores its snapshot. */
static enum certs_install_status install_checked(struct gw_certs *c, const char *pem, size_t len, int64_t now_s,
						 enum certs_reason *why, char *detail, size_t dn)
{
	struct certs_store *scratch = certs_store_new(1);
	enum certs_install_status s = CERTS_INSTALL_FAILED;
	const char *canon, *issuer = NULL;
	char *fallback;
	int fb = fallback_index(c), n = certs_store_size(c->st);

	*why = CERTS_E_NOMEM;
	if (!scratch)
		return s;
	/* Rule 1, and the canonical text to compare with. */
	s = certs_store_install(scratch, CERTS_CENTRAL_SYSTEM_ROOT, pem, len, now_s, why);
	if (s != CERTS_INSTALL_ACCEPTED || certs_store_entry(scratch, 0, NULL, &canon))
		goto out;
	for (int i = 0; i < n; i++) {
		enum certs_type t;
		const char *e;

		if (certs_store_entry(c->st, i, &t, &e) || t != CERTS_CENTRAL_SYSTEM_ROOT)
			continue;
		if (!strcmp(e, canon)) /* rule 2 */
			goto out;
		if (!issuer && i != fb &&
		    certs_issued_by(canon, strlen(canon), e, strlen(e), detail, dn) == CERTS_OK) /* rule 4 */
			issuer = e;
	}
	if (certs_store_count(c->st, CERTS_CENTRAL_SYSTEM_ROOT) == 0) { /* rule 3 */
		s = certs_store_install(c->st, CERTS_CENTRAL_SYSTEM_ROOT, canon, strlen(canon), now_s, why);
		goto out;
	}
	if (!issuer) {
		*why = CERTS_E_CHAIN;
		snprintf(detail, dn, "not issued by the installed CentralSystemRootCertificate");
		s = CERTS_INSTALL_REJECTED;
		goto out;
	}
	fallback = strdup(issuer);
	if (!fallback) {
		*why = CERTS_E_NOMEM;
		s = CERTS_INSTALL_FAILED;
		goto out;
	}
	/* Rule 5: one fallback only, and removing it first makes room in a full store. */
	if (fb >= 0)
		certs_store_remove(c->st, fb);
	s = certs_store_install(c->st, CERTS_CENTRAL_SYSTEM_ROOT, canon, strlen(canon), now_s, why);
	if (s == CERTS_INSTALL_ACCEPTED)
		text_set(&c->fallback, fallback);
	else
		free(fallback);
out:
	certs_store_free(scratch);
	return s;
}

int gw_certs_install(struct gw_certs *c, const char *type, const char *pem, int64_t now_s)
{
	enum certs_reason why = CERTS_OK;
	enum certs_install_status s;
	char detail[CERTS_DETAIL_MAX] = "";
	enum certs_type t;
	struct snap snap;
	bool new_fallback;
	size_t len;

	if (!pem || certs_type_parse(type, &t)) {
		gw_log_warn("certs: InstallCertificate of type %s: Rejected", type ? type : "(none)");
		return OCPP_CERT_INSTALL_REJECTED;
	}
	len = strnlen(pem, CERTS_CERT_MAX + 1);
	if (snap_take(c, &snap))
		return OCPP_CERT_INSTALL_FAILED;
	if (c->arcc && t == CERTS_CENTRAL_SYSTEM_ROOT)
		s = install_checked(c, pem, len, now_s, &why, detail, sizeof(detail));
	else
		s = certs_store_install(c->st, t, pem, len, now_s, &why);
	if (s != CERTS_INSTALL_ACCEPTED) {
		snap_restore(c, &snap, false);
		snap_free(&snap);
		gw_log_warn("certs: InstallCertificate %s: %s (%s%s%s)", type, certs_install_status_name(s),
			    certs_reason_name(why), detail[0] ? ": " : "", detail);
		return s == CERTS_INSTALL_FAILED ? OCPP_CERT_INSTALL_FAILED : OCPP_CERT_INSTALL_REJECTED;
	}
	new_fallback = c->fallback && (!snap.fallback || strcmp(c->fallback, snap.fallback));
	if (roots_commit(c, &snap))
		return OCPP_CERT_INSTALL_FAILED;
	gw_log_info("certs: InstallCertificate %s: Accepted%s", type,
		    new_fallback ? " (the former root kept as fallback until a connection proves the new one)" : "");
	return OCPP_CERT_INSTALL_ACCEPTED;
}

static void hash_to_certs(const struct ocpp_cert_hash *h, struct certs_hash_data *d)
{
	memset(d, 0, sizeof(*d));
	d->alg = (enum certs_hash_alg)h->alg;
	memcpy(d->issuer_name_hash, h->issuer_name_hash, sizeof(d->issuer_name_hash));
	memcpy(d->issuer_key_hash, h->issuer_key_hash, sizeof(d->issuer_key_hash));
	memcpy(d->serial, h->serial, sizeof(d->serial));
	d->issuer_name_hash[CERTS_HASH_HEX_MAX] = d->issuer_key_hash[CERTS_HASH_HEX_MAX] = '\0';
	d->serial[CERTS_SERIAL_MAX] = '\0';
}

static void hash_to_ocpp(const struct certs_hash_data *d, struct ocpp_cert_hash *h)
{
	memset(h, 0, sizeof(*h));
	h->alg = (enum ocpp_hash_alg)d->alg;
	memcpy(h->issuer_name_hash, d->issuer_name_hash, sizeof(h->issuer_name_hash));
	memcpy(h->issuer_key_hash, d->issuer_key_hash, sizeof(h->issuer_key_hash));
	memcpy(h->serial, d->serial, sizeof(h->serial));
}

int gw_certs_delete(struct gw_certs *c, const struct ocpp_cert_hash *h)
{
	enum certs_delete_status s;
	struct certs_hash_data d;
	struct snap snap;

	if (!h || (unsigned)h->alg > (unsigned)OCPP_HASH_SHA512)
		return OCPP_CERT_DELETE_NOT_FOUND;
	hash_to_certs(h, &d);
	if (snap_take(c, &snap))
		return OCPP_CERT_DELETE_FAILED;
	/* Profile 2 to certs: "never the last CSMS root", whatever the profile is now. */
	s = certs_store_delete(c->st, &d, 2);
	if (s != CERTS_DELETE_ACCEPTED) {
		snap_free(&snap);
		gw_log_info("certs: DeleteCertificate serial %s: %s%s", d.serial, certs_delete_status_name(s),
			    s == CERTS_DELETE_FAILED ? " (the last CentralSystemRootCertificate stays)" : "");
		return s == CERTS_DELETE_FAILED ? OCPP_CERT_DELETE_FAILED : OCPP_CERT_DELETE_NOT_FOUND;
	}
	if (roots_commit(c, &snap))
		return OCPP_CERT_DELETE_FAILED;
	gw_log_info("certs: DeleteCertificate serial %s: Accepted", d.serial);
	return OCPP_CERT_DELETE_ACCEPTED;
}

int gw_certs_ids(struct gw_certs *c, const char *type, struct ocpp_cert_hash *out, int max)
{
	struct certs_hash_data *d;
	enum certs_type t;
	int n;

	if (certs_type_parse(type, &t) || max < 0 || (max > 0 && !out))
		return -EINVAL;
	if (max == 0)
		return 0;
	d = calloc((size_t)max, sizeof(*d));
	if (!d)
		return -ENOMEM;
	n = certs_store_ids(c->st, t, CERTS_SHA256, d, max);
	for (int i = 0; i < n; i++)
		hash_to_ocpp(&d[i], &out[i]);
	free(d);
	return n;
}

/* ---- TLS material ---- */

static int tls_fill(const struct gw_certs *c, const char *ca, const char *cert, const char *key,
		    struct gw_certs_tls *out)
{
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (ca)
		rc = path_of(c, ca, out->ca, sizeof(out->ca));
	if (!rc && cert)
		rc = path_of(c, cert, out->cert, sizeof(out->cert));
	if (!rc && key)
		rc = path_of(c, key, out->key, sizeof(out->key));
	return rc;
}

int gw_certs_tls(const struct gw_certs *c, bool next, struct gw_certs_tls *out)
{
	bool roots = certs_store_count(c->st, CERTS_CENTRAL_SYSTEM_ROOT) > 0;

	if (!on_disk(c)) {
		memset(out, 0, sizeof(*out));
		if (next)
			return -ENOENT;
		memcpy(out->ca, c->mem_ca, sizeof(out->ca));
		memcpy(out->cert, c->mem_cert, sizeof(out->cert));
		memcpy(out->key, c->mem_key, sizeof(out->key));
		return 0;
	}
	if (next) {
		if (!c->next_cert) {
			memset(out, 0, sizeof(*out));
			return -ENOENT;
		}
		return tls_fill(c, roots ? F_ROOTS : NULL, F_NEXT_CERT, F_NEXT_KEY, out);
	}
	if (c->cur_cert && c->cur_key)
		return tls_fill(c, roots ? F_ROOTS : NULL, F_CERT, F_KEY, out);
	return tls_fill(c, roots ? F_ROOTS : NULL, NULL, NULL, out);
}

bool gw_certs_has_next(const struct gw_certs *c)
{
	return on_disk(c) && c->next_cert;
}

int64_t gw_certs_next_not_before(const struct gw_certs *c)
{
	return c->next_cert ? c->next_not_before : 0;
}

int gw_certs_promote(struct gw_certs *c)
{
	int rc = 0;

	if (!c->next_cert)
		return -ENOENT;
	if (c->cur_cert && c->cur_key) {
		rc = file_put(c, F_PREV_KEY, c->cur_key, true);
		if (!rc)
			rc = file_put(c, F_PREV_CERT, c->cur_cert, false);
	}
	/* The key before the certificate, the next files removed last: see pairs_load(). */
	if (!rc)
		rc = file_put(c, F_KEY, c->next_key, true);
	if (!rc) {
		rc = file_put(c, F_CERT, c->next_cert, false);
		if (rc && c->cur_key && file_put(c, F_KEY, c->cur_key, true) != 0)
			gw_log_error("certs: %s/%s and %s do not match now; the next start finishes the promotion",
				     c->dir, F_CERT, F_KEY);
	}
	if (rc) {
		gw_log_error("certs: cannot promote the next charge-point certificate in %s: %s", c->dir, strerror(-rc));
		return rc;
	}
	if (file_del(c, F_NEXT_CERT) || file_del(c, F_NEXT_KEY))
		gw_log_warn("certs: cannot remove the next pair from %s; the next start does", c->dir);
	text_set(&c->cur_cert, c->next_cert);
	secret_set(&c->cur_key, c->next_key);
	c->next_cert = c->next_key = NULL;
	c->next_not_before = 0;
	gw_log_info("certs: the new charge-point certificate is in use; the former one is kept as %s", F_PREV_CERT);
	return 0;
}

int gw_certs_drop_next(struct gw_certs *c)
{
	int rc, rc2;

	if (!c->next_cert)
		return -ENOENT;
	rc = file_del(c, F_NEXT_CERT);
	rc2 = file_del(c, F_NEXT_KEY);
	text_set(&c->next_cert, NULL);
	secret_set(&c->next_key, NULL);
	c->next_not_before = 0;
	gw_log_warn("certs: the new charge-point certificate did not connect; dropped, the former one stays");
	return rc ? rc : rc2;
}

bool gw_certs_has_fallback(const struct gw_certs *c)
{
	return c->fallback != NULL;
}

int gw_certs_tls_new_root(const struct gw_certs *c, struct gw_certs_tls *out)
{
	bool pair = c->cur_cert && c->cur_key;

	if (!c->fallback || !on_disk(c)) {
		memset(out, 0, sizeof(*out));
		return -ENOENT;
	}
	return tls_fill(c, F_ROOTS_NEW, pair ? F_CERT : NULL, pair ? F_KEY : NULL, out);
}

int gw_certs_drop_fallback(struct gw_certs *c)
{
	struct snap snap;
	int fb = fallback_index(c), rc;

	if (fb < 0)
		return -ENOENT;
	rc = snap_take(c, &snap);
	if (rc)
		return rc;
	certs_store_remove(c->st, fb);
	rc = roots_commit(c, &snap);
	if (!rc)
		gw_log_info("certs: the new CentralSystemRootCertificate worked; the fallback root is deleted");
	return rc;
}

/* ---- checks ---- */

static int roots_valid(const struct gw_certs *c, int64_t now_s, int *expired)
{
	int valid = 0;

	*expired = 0;
	for (int i = 0; i < certs_store_size(c->st); i++) {
		struct certs_info ci;
		enum certs_type t;
		const char *pem;

		if (certs_store_entry(c->st, i, &t, &pem) || t != CERTS_CENTRAL_SYSTEM_ROOT ||
		    certs_info_get(pem, strlen(pem), &ci) != CERTS_OK)
			continue;
		if (ci.not_before <= now_s && now_s < ci.not_after)
			valid++;
		else
			(*expired)++;
	}
	return valid;
}

static int pair_ready(const char *cert, const char *key, int64_t now_s, char *detail, size_t dn)
{
	enum certs_reason r;

	if (!cert || !key) {
		snprintf(detail, dn, "none installed");
		return -ENOENT;
	}
	r = certs_pair_check(cert, strlen(cert), key, strlen(key), now_s, detail, dn);
	if (r == CERTS_OK)
		return 0;
	return r == CERTS_E_EXPIRED || r == CERTS_E_NOT_YET_VALID ? -EKEYEXPIRED : -EKEYREJECTED;
}

int gw_certs_ready(const struct gw_certs *c, int profile, int64_t now_s, char *why, size_t whylen)
{
	char detail[CERTS_DETAIL_MAX];
	int expired, rc;

	err_set(why, whylen, "%s", "");
	if (profile < 0 || profile > 3) {
		err_set(why, whylen, "SecurityProfile %d is not 0..3", profile);
		return -EINVAL;
	}
	if (profile < 2)
		return 0;
	if (!roots_valid(c, now_s, &expired)) {
		err_set(why, whylen, expired ? "no CentralSystemRootCertificate valid now" :
			 "no CentralSystemRootCertificate installed");
		return expired ? -EKEYEXPIRED : -ENOENT;
	}
	if (profile < 3)
		return 0;
	rc = pair_ready(c->cur_cert, c->cur_key, now_s, detail, sizeof(detail));
	if (rc && c->next_cert && pair_ready(c->next_cert, c->next_key, now_s, detail, sizeof(detail)) == 0)
		return 0;
	if (rc)
		err_set(why, whylen, "ChargePointCertificate: %s", detail);
	return rc;
}

int gw_certs_expiring(const struct gw_certs *c, int64_t now_s, int days, char *what, size_t len)
{
	int n = certs_store_size(c->st) + 1, found, count = 0;
	struct certs_expiry *e;
	size_t at = 0;

	err_set(what, len, "%s", "");
	if (days < 0)
		return -EINVAL;
	e = calloc((size_t)n, sizeof(*e));
	if (!e)
		return -ENOMEM;
	found = certs_expiring(c->st, c->cur_cert, c->cur_cert ? strlen(c->cur_cert) : 0, now_s,
			       (int64_t)days * DAY_S, e, n);
	for (int i = 0; i < found && i < n; i++) {
		char when[32] = "?";
		time_t t = (time_t)e[i].not_after;
		struct tm tm;
		int w;

		if (e[i].type == CERTS_MANUFACTURER_ROOT)
			continue;
		count++;
		if (gmtime_r(&t, &tm))
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (!what || at >= len)
			continue;
		w = snprintf(what + at, len - at, "%s%s %s %s %s", count > 1 ? "; " : "", certs_type_name(e[i].type),
			     e[i].cn[0] ? e[i].cn : "(no CN)", e[i].expired ? "expired" : "expires", when);
		at = w < 0 ? len : at + (size_t)w;
	}
	free(e);
	return count;
}

char *gw_certs_roots_pem(const struct gw_certs *c, enum certs_type t)
{
	return c && c->st ? certs_store_bundle(c->st, t) : NULL;
}
