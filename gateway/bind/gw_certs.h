/*
 * gw_certs: the charge point's certificate store on disk (OCPP 1.6 security whitepaper, issue 18).
 * It binds the pure certs/ core to files in <dataDir>/certs/: the CentralSystemRoot and
 * ManufacturerRoot certificates (InstallCertificate, DeleteCertificate, GetInstalledCertificateIds),
 * the CSMS roots written out as the CA file the websocket's TLS trusts, and the charge-point
 * certificate and key through their rotation (SignCertificate -> CertificateSigned -> a connection
 * that proves the new pair -> in use, the old one kept). The link (gw_ocpp, gw_ws) only ever reads
 * the files named by gw_certs_tls().
 *
 * Layout of <dataDir>/certs/ (the directory 0700; files holding a private key 0600, the others 0640;
 * every write atomic and durable through gw_store_write, a removal fsyncs the directory):
 *   store.json            the root store, certs' own JSON text (certs_store_format); the truth
 *   csms-roots.pem        every CentralSystemRootCertificate (fallback included) as one PEM bundle,
 *                         lws's client_ssl_ca_filepath; rewritten from store.json on every change and
 *                         at start, removed when there is no CSMS root
 *   csms-roots.new.pem    AdditionalRootCertificateCheck only, while a fallback root exists: the CSMS
 *                         roots without the fallback, to prove the new root by a connection
 *   csms-fallback.pem     AdditionalRootCertificateCheck only: the fallback root (a copy of one entry
 *                         of store.json, naming it; ignored when it names none)
 *   cp-cert.pem, cp-key.pem             the charge-point certificate chain in use and its key
 *   cp-key.pending.pem                  the key of the last CSR (SignCertificate)
 *   cp-cert.next.pem, cp-key.next.pem   accepted by CertificateSigned, not yet proven by a connection
 *   cp-cert.prev.pem, cp-key.prev.pem   the pair the last promotion replaced (kept for a manual
 *                                       fallback: the whitepaper keeps the old certificate a while)
 *
 * Crash safety: each file is replaced atomically; between files the order is chosen so that start-up
 * can finish or undo a half-done step (a next pair whose two files do not match is dropped; a
 * cp-key.pem that equals cp-key.next.pem means a promotion stopped half way, and it is finished).
 *
 * Key material is never logged, and texts holding a key are wiped before they are freed.
 *
 * ocpp.keyFile's permissions: the config loader refuses a key file readable by group or others
 * (the contract is 0600), so `twcgw -n` says so before anything starts. This store, which also serves
 * callers that did not go through the loader, only warns about such a file (path and mode, never
 * content); the copy it makes is 0600 whatever the source's mode.
 *
 * Call only from the loop's thread. Every function returning int returns 0 or a negative errno unless
 * said otherwise.
 */
#ifndef GW_CERTS_H
#define GW_CERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "certs.h"
#include "ocpp_cp.h"

#define GW_CERTS_PATH_MAX 320        /* a dataDir of up to 256 bytes plus "/certs/<longest name>" */
#define GW_CERTS_STORE_MAX_DEFAULT 10 /* CertificateStoreMaxLength when the caller passes 0 */

struct gw_certs;

struct gw_certs_params {
	/* dataDir. NULL or "" keeps everything in memory only (the demo): nothing is read from or
	 * written to disk except the seed files below, and gw_certs_tls() then names those seed files
	 * as they are (OCPP changes answer OCPP but never reach the link). */
	const char *dir;
	/* ocpp.caFile: a PEM bundle of CA certificates imported as CentralSystemRootCertificate when the
	 * store holds no CSMS root (first start); ignored (logged) once the store has one. A file that
	 * cannot be read, or holds a certificate that is no CA or not valid now, fails gw_certs_new. */
	const char *ca_file;
	/* ocpp.certFile / ocpp.keyFile: copied to cp-cert.pem / cp-key.pem when the store has no
	 * charge-point certificate; both or neither. They must parse and belong together (else
	 * gw_certs_new fails); an expired or not yet valid certificate is copied with a warning
	 * (gw_certs_ready() reports it). Ignored (logged) once the store has a certificate. */
	const char *cert_file;
	const char *key_file;
	const char *charge_box_id; /* the CSR's CN and the CN a signed certificate must have; 1..64 bytes */
	int store_max;             /* CertificateStoreMaxLength, 1..1000; 0 = GW_CERTS_STORE_MAX_DEFAULT */
	int chain_max;             /* CertificateSignedMaxChainSize, 1..10000; 0 = 10000 */
	bool additional_root_check; /* AdditionalRootCertificateCheck, see gw_certs_install() */
	enum certs_key_type key_type; /* for the CSR's new key; CERTS_KEY_EC_P256 by default (0) */
	int64_t now_s;             /* wall clock for the seed checks, seconds since the epoch; 0 = time() */
};

/**
 * gw_certs_new() - open (or create) the store under @p->dir, read it back, finish a half-done step,
 * seed it from the configured files on first start and rewrite the derived CA files.
 * @err: on failure, what went wrong (which file, which check), @errlen bytes; never key material.
 * Return: the store, or NULL: a bad parameter, a directory that cannot be created, a store.json that
 * does not parse (or holds more than store_max certificates), a seed file refused as above.
 */
struct gw_certs *gw_certs_new(const struct gw_certs_params *p, char *err, size_t errlen);

/* NULL is a no-op. Wipes the keys held in memory. */
void gw_certs_free(struct gw_certs *c);

/* ---- SignCertificate and CertificateSigned ---- */

/**
 * gw_certs_sign() - a new key (written to cp-key.pending.pem, 0600, replacing an earlier pending key)
 * and a PEM PKCS#10 request for it with CN = chargeBoxId, O = @cpo_name (CpoName), for
 * SignCertificate.req.
 * @csr: receives the request, NUL-terminated; @csrlen its size (OCPP_CSR_MAX + 1 always fits).
 * Return: 0; -EINVAL (no or too long CpoName), -ENOSPC (@csrlen too small: nothing changed), -EIO or
 * -ENOMEM (OpenSSL), or the error of writing the key (nothing changed).
 */
int gw_certs_sign(struct gw_certs *c, const char *cpo_name, char *csr, size_t csrlen);

/**
 * gw_certs_signed() - CertificateSigned: @chain (the leaf, maybe followed by its intermediates)
 * must be for the pending key, not a CA, name CN = chargeBoxId (and O = the CpoName of the CSR when
 * it was made in this run; after a restart O is not known and not checked), and verify up to an
 * installed CentralSystemRootCertificate at @now_s, or at the leaf's notBefore when that is later
 * (the whitepaper switches at notBefore: see gw_certs_next_not_before()). It is at most chain_max
 * characters.
 * On success the chain and the pending key become the "next" pair (cp-cert.next.pem,
 * cp-key.next.pem, replacing an earlier next pair) and the pending key is gone.
 * @reason: on failure, "<certs reason name>: <detail>" (for the InvalidChargePointCertificate
 * security event's techInfo), @reasonlen bytes; "" on success.
 * Return: 0; -ENOENT no pending key (no SignCertificate since the last accepted one); -EINVAL the
 * chain was refused; -ENOMEM; or the error of writing the files (the pending key is then kept).
 */
int gw_certs_signed(struct gw_certs *c, const char *chain, int64_t now_s, char *reason, size_t reasonlen);

/* ---- The root store ---- */

/**
 * gw_certs_install() - InstallCertificate of @type ("CentralSystemRootCertificate" or
 * "ManufacturerRootCertificate") with @pem (one PEM certificate, at most CERTS_CERT_MAX characters)
 * at @now_s.
 * Without AdditionalRootCertificateCheck: certs_store_install's rules (a CA valid now, with a
 * CertID; a certificate already installed is Accepted again; the store full is Rejected).
 * With AdditionalRootCertificateCheck, for CentralSystemRootCertificate (ManufacturerRoot is not
 * affected), these exact rules:
 *   1. The certificate itself must pass the rules above (else Rejected).
 *   2. Already installed as a CSMS root (current or fallback): Accepted, nothing changes.
 *   3. No CSMS root installed: it is installed as the one current root (nothing to be signed by).
 *   4. Otherwise it must be issued by one of the installed CSMS roots that is not the fallback
 *      (certs_issued_by: names, key identifiers, signature; not the times, so a root can hand over
 *      on the day it expires), else Rejected, even when it is self-signed.
 *   5. Accepted: the root that issued it becomes the fallback, the former fallback (if any) is
 *      deleted, and the new one is the current root. So there is never more than one current root
 *      plus one fallback (unless ocpp.caFile seeded several; those stay, each may sign a successor).
 *   6. Both stay in csms-roots.pem until gw_certs_drop_fallback() (a connection trusting the new root
 *      alone worked) or a DeleteCertificate of either; with one CSMS root left there is no fallback.
 * Every change is written (store.json, then the CA files); when a write fails the change is undone in
 * memory and the answer is Failed.
 * Return: an enum ocpp_cert_install: 0 Accepted, 1 Rejected (logged with the reason), -1 Failed.
 */
int gw_certs_install(struct gw_certs *c, const char *type, const char *pem, int64_t now_s);

/**
 * gw_certs_delete() - DeleteCertificate: every installed root whose CertificateHashData equals @h.
 * Never the last CentralSystemRootCertificate (Failed), whatever the SecurityProfile: TLS needs it
 * and the profile can only go up. Deleting the fallback root ends the fallback.
 * Return: an enum ocpp_cert_delete: 0 Accepted, 1 NotFound, -1 Failed (the last CSMS root, or the
 * change could not be written and was undone).
 */
int gw_certs_delete(struct gw_certs *c, const struct ocpp_cert_hash *h);

/**
 * gw_certs_ids() - GetInstalledCertificateIds: the SHA256 CertificateHashData of the installed roots
 * of @type (as for install) into @out, at most @max, in install order.
 * Return: how many (0 = NotFound), -EINVAL for an unknown @type or a bad @max.
 */
int gw_certs_ids(struct gw_certs *c, const char *type, struct ocpp_cert_hash *out, int max);

/* ---- TLS material for the link ---- */

struct gw_certs_tls {
	char ca[GW_CERTS_PATH_MAX];   /* the CSMS roots; "" when there is none */
	char cert[GW_CERTS_PATH_MAX]; /* the charge-point certificate chain; "" when none */
	char key[GW_CERTS_PATH_MAX];  /* its key; "" when none */
};

/**
 * gw_certs_tls() - the files lws should use: @next false, the pair in use; @next true, the next pair
 * (with the same CA), to try once. In memory mode: the configured ocpp.caFile/certFile/keyFile.
 * Return: 0; -ENOENT when @next and there is no next pair (always in memory mode).
 */
int gw_certs_tls(const struct gw_certs *c, bool next, struct gw_certs_tls *out);

/* A next pair waits to be tried (false in memory mode, where it has no files). */
bool gw_certs_has_next(const struct gw_certs *c);
/* The next pair's leaf notBefore (seconds; try it no earlier), 0 when there is no next pair. */
int64_t gw_certs_next_not_before(const struct gw_certs *c);

/**
 * gw_certs_promote() - a connection with the next pair worked (under SecurityProfile 3, where the
 * central system checked it): it becomes the pair in use, the one in use becomes prev (replacing the
 * old prev). Return: 0, -ENOENT (no next pair), or a write error (then nothing changed in memory; on
 * disk start-up finishes the step).
 */
int gw_certs_promote(struct gw_certs *c);

/**
 * gw_certs_drop_next() - the next pair failed to connect: remove it; the pair in use stays.
 * Return: 0, -ENOENT (no next pair), or an unlink error (the pair is forgotten in memory anyway).
 */
int gw_certs_drop_next(struct gw_certs *c);

/* AdditionalRootCertificateCheck: a fallback CSMS root is kept (a new root was installed and no
 * connection has proven it yet). */
bool gw_certs_has_fallback(const struct gw_certs *c);

/**
 * gw_certs_tls_new_root() - like gw_certs_tls(c, false, out), but @out->ca is csms-roots.new.pem, the
 * CSMS roots without the fallback: a connection that works with it proves the new root, then call
 * gw_certs_drop_fallback(); one that fails leaves both (connect with gw_certs_tls()). Note that a new
 * root signed by the old one is not self-signed: TLS must then accept a trust anchor that is not
 * self-signed (OpenSSL's X509_V_FLAG_PARTIAL_CHAIN), as the whitepaper notes.
 * Return: 0, -ENOENT when there is no fallback (or in memory mode).
 */
int gw_certs_tls_new_root(const struct gw_certs *c, struct gw_certs_tls *out);

/**
 * gw_certs_drop_fallback() - the new CSMS root worked alone: delete the fallback root from the store
 * (and csms-roots.pem). Return: 0, -ENOENT (no fallback), or a write error (nothing changed).
 */
int gw_certs_drop_fallback(struct gw_certs *c);

/* The installed roots of type @t as one PEM bundle (free() it), NULL when there is none: the
 * ManufacturerRootCertificates that a firmware signing certificate must chain to. */
char *gw_certs_roots_pem(const struct gw_certs *c, enum certs_type t);

/* ---- Checks ---- */

/**
 * gw_certs_ready() - may the link use SecurityProfile @profile at @now_s (whitepaper A05: checked
 * before ChangeConfiguration SecurityProfile is Accepted)? 0 and 1 need nothing here (the
 * AuthorizationKey is the core's). 2 and 3: a CentralSystemRootCertificate valid at @now_s. 3 also: a
 * charge-point certificate and key that parse, belong together and are valid at @now_s: the pair in
 * use, or else the next pair (the first profile 3 connection then tries it).
 * @why: on failure, what is missing, @whylen bytes.
 * Return: 0 ready; -ENOENT (no root, no certificate), -EKEYEXPIRED (expired or not yet valid),
 * -EKEYREJECTED (a pair that does not parse or match), -EINVAL (@profile not 0..3).
 */
int gw_certs_ready(const struct gw_certs *c, int profile, int64_t now_s, char *why, size_t whylen);

/**
 * gw_certs_expiring() - the certificates in use (the charge-point certificate in use and every
 * CentralSystemRootCertificate; not the manufacturer roots) that have expired at @now_s or expire
 * within @days days.
 * @what: "<type> <CN> expires|expired <UTC time>" for each, "; " between them, cut at @len bytes.
 * Return: how many (0 none), -EINVAL for @days < 0.
 */
int gw_certs_expiring(const struct gw_certs *c, int64_t now_s, int days, char *what, size_t len);

#endif
