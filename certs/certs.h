/*
 * certs: the certificate work of the OCPP 1.6 security whitepaper (edition 3) on OpenSSL 3: the key
 * and CSR of SignCertificate, the checks of CertificateSigned, the store of root certificates behind
 * InstallCertificate, DeleteCertificate and GetInstalledCertificateIds (hashes as an RFC 6960 CertID),
 * expiry warnings, and the checks of the TLS files for `twcgw -n`. Pure: PEM bytes and the current
 * time (seconds since the epoch) go in, results come out; the gateway reads and writes the files.
 */
#ifndef CERTS_H
#define CERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CERTS_NAME_MAX 64 /* ub-common-name (RFC 5280); also the longest O we compare */
#define CERTS_SERIAL_MAX 40 /* CertificateHashData.serialNumber is a CiString40 */
#define CERTS_HASH_HEX_MAX 128 /* issuerNameHash/issuerKeyHash: CiString128, a SHA-512 in hex */
#define CERTS_CHAIN_MAX 10000 /* CertificateSigned.certificateChain: string[0..10000] */
#define CERTS_CSR_MAX 5500 /* SignCertificate.csr: string[0..5500] */
#define CERTS_CERT_MAX 5500 /* InstallCertificate.certificate: string[0..5500] */
#define CERTS_DETAIL_MAX 160 /* a reason's detail, sized for SecurityEventNotification.techInfo (255) */

/* What a certificate is for. The store holds the two root types; the charge-point certificate only
 * appears in expiry reports. Names are the OCPP CertificateUseEnumType strings. */
enum certs_type {
	CERTS_CENTRAL_SYSTEM_ROOT,
	CERTS_MANUFACTURER_ROOT,
	CERTS_CHARGE_POINT,
};
const char *certs_type_name(enum certs_type t);
/* 0 and *t for "CentralSystemRootCertificate" or "ManufacturerRootCertificate" (the installable
 * ones), -EINVAL otherwise. */
int certs_type_parse(const char *s, enum certs_type *t);

enum certs_hash_alg {
	CERTS_SHA256,
	CERTS_SHA384,
	CERTS_SHA512,
};
const char *certs_hash_alg_name(enum certs_hash_alg a); /* "SHA256" ... */
int certs_hash_alg_parse(const char *s, enum certs_hash_alg *a);

/* Why a certificate (or key) was refused; CERTS_OK when it was not. The names (certs_reason_name)
 * are short CamelCase words for a security event's techInfo. */
enum certs_reason {
	CERTS_OK = 0,
	CERTS_E_PARSE, /* not a PEM X.509 certificate, or none in the text */
	CERTS_E_TOO_LONG, /* longer than the configured bound */
	CERTS_E_KEY, /* the private key does not parse */
	CERTS_E_KEY_MISMATCH, /* the certificate is not for that private key */
	CERTS_E_SUBJECT, /* CN is not the chargeBoxId, or O is not the CpoName */
	CERTS_E_NOT_CA, /* a CA certificate was expected */
	CERTS_E_IS_CA, /* a leaf certificate was expected */
	CERTS_E_NO_ROOT, /* no CentralSystemRootCertificate installed to check against */
	CERTS_E_CHAIN, /* the chain does not lead to an installed root (or a signature is bad) */
	CERTS_E_EXPIRED,
	CERTS_E_NOT_YET_VALID,
	CERTS_E_MULTIPLE, /* more than one certificate where one was expected */
	CERTS_E_FULL, /* CertificateStoreMaxLength reached */
	CERTS_E_NOMEM,
};
const char *certs_reason_name(enum certs_reason r);

/* ---- SignCertificate (certs_csr.c) ---- */

enum certs_key_type {
	CERTS_KEY_EC_P256, /* the default: prime256v1, for the whitepaper's ECDHE-ECDSA suites */
	CERTS_KEY_RSA_2048,
};

/* The CSR's subject: CN = chargeBoxId, O = CpoName, C (optional, two letters). */
struct certs_subject {
	const char *cn;
	const char *o;
	const char *c; /* NULL or "" leaves C out */
};

/* A new key pair and a PKCS#10 request for it, signed with it (SHA-256), with the subject above and
 * the extensions a TLS client certificate needs (basicConstraints CA:FALSE, keyUsage
 * digitalSignature plus keyAgreement for EC or keyEncipherment for RSA, extendedKeyUsage
 * clientAuth). *csr_pem (free()) and *key_pem (unencrypted PKCS#8, certs_secret_free()) on 0;
 * -EINVAL for a missing CN or O, a name longer than CERTS_NAME_MAX or a C that is not two letters,
 * -ENOMEM/-EIO when OpenSSL fails (nothing returned). */
int certs_csr_new(const struct certs_subject *s, enum certs_key_type kt, char **csr_pem, char **key_pem);
/* Wipes and frees a private key's text (NULL is fine). */
void certs_secret_free(char *p);

/* ---- Certificate information (certs_pem.c) ---- */

struct certs_info {
	char cn[CERTS_NAME_MAX + 1]; /* subject CN, "" when absent, cut at CERTS_NAME_MAX bytes */
	char o[CERTS_NAME_MAX + 1];
	char serial[CERTS_SERIAL_MAX + 1]; /* as in certs_hash_data */
	int64_t not_before, not_after; /* seconds since the epoch */
	bool is_ca; /* basicConstraints CA:TRUE and, if keyUsage is present, keyCertSign */
	bool self_signed;
};
/* The first certificate of @pem: CERTS_OK, CERTS_E_PARSE or CERTS_E_NOMEM. */
enum certs_reason certs_info_get(const char *pem, size_t len, struct certs_info *out);

/* ---- CertificateHashData (certs_hash.c) ---- */

/* RFC 6960 CertID as OCPP carries it: hex of the hash of the DER of the certificate's issuer name, hex
 * of the hash of the issuer's public key (the BIT STRING value of its subjectPublicKeyInfo, without
 * tag, length and unused-bits octet), and the serial number in hex. All hex is lower case; the serial
 * has no leading zeros ("0" for zero): the 2.0.1 errata and 2.1 wording, which edition 3 follows. */
struct certs_hash_data {
	enum certs_hash_alg alg;
	char issuer_name_hash[CERTS_HASH_HEX_MAX + 1];
	char issuer_key_hash[CERTS_HASH_HEX_MAX + 1];
	char serial[CERTS_SERIAL_MAX + 1];
};
/* The hash data of the first certificate of @pem issued by the first of @issuer_pem (NULL: @pem is
 * self-signed and is its own issuer). CERTS_OK; CERTS_E_PARSE; CERTS_E_CHAIN when @issuer_pem is
 * not the issuer; CERTS_E_TOO_LONG for a serial of more than 40 hex digits. */
enum certs_reason certs_hash_data_get(const char *pem, size_t len, const char *issuer_pem, size_t issuer_len,
				      enum certs_hash_alg alg, struct certs_hash_data *out);
/* Same certificate? The algorithm must be the same; hex compares without regard to case, and the
 * serial also without regard to leading zeros (peers differ on both). */
bool certs_hash_data_equal(const struct certs_hash_data *a, const struct certs_hash_data *b);

/* ---- The root certificate store (certs_store.c) ---- */

struct certs_store;

/* An empty store of at most @max certificates (CertificateStoreMaxLength, >= 1). */
struct certs_store *certs_store_new(int max);
void certs_store_free(struct certs_store *st);
int certs_store_max(const struct certs_store *st);
int certs_store_count(const struct certs_store *st, enum certs_type t);

enum certs_install_status {
	CERTS_INSTALL_ACCEPTED,
	CERTS_INSTALL_REJECTED, /* invalid, not a CA, expired, or the store is full (*why says which) */
	CERTS_INSTALL_FAILED, /* out of memory */
};
const char *certs_install_status_name(enum certs_install_status s); /* "Accepted" ... */
/* InstallCertificate: one PEM certificate of type CentralSystemRoot or ManufacturerRoot, a CA valid at
 * @now_s with a positive serial of at most 20 octets (RFC 5280; else its CertID could not be sent). One already installed with that type is Accepted again without a second copy. A certificate
 * need not be self-signed: an installed CA is a trust anchor. @why (may be NULL) gets the reason. */
enum certs_install_status certs_store_install(struct certs_store *st, enum certs_type t, const char *pem,
					      size_t len, int64_t now_s, enum certs_reason *why);
/* The same for each certificate of a PEM bundle (ocpp.caFile at start): the number of certificates
 * newly installed, or -EINVAL (store unchanged) when one of them would be rejected (*why says why),
 * -ENOMEM. */
int certs_store_import(struct certs_store *st, enum certs_type t, const char *pem, size_t len, int64_t now_s,
		       enum certs_reason *why);

enum certs_delete_status {
	CERTS_DELETE_ACCEPTED,
	CERTS_DELETE_FAILED, /* it is the last CentralSystemRootCertificate and the profile needs one */
	CERTS_DELETE_NOT_FOUND,
};
const char *certs_delete_status_name(enum certs_delete_status s);
/* DeleteCertificate: every installed certificate whose hash data (computed with h->alg) equals @h.
 * Refused when that would leave no CentralSystemRootCertificate while @security_profile >= 2. */
enum certs_delete_status certs_store_delete(struct certs_store *st, const struct certs_hash_data *h,
					    int security_profile);
/* GetInstalledCertificateIds: the hash data of the certificates of type @t, in install order, at most
 * @max of them; the count (0 = NotFound), -EINVAL for a bad argument. The issuer of a certificate is
 * itself when self-signed, else an installed certificate that issued it, else (not knowable here)
 * itself again, so its issuerKeyHash is then that of its own key. */
int certs_store_ids(const struct certs_store *st, enum certs_type t, enum certs_hash_alg alg,
		    struct certs_hash_data *out, int max);
/* The installed certificates of type @t as one PEM bundle (free()): the TLS trust anchors for
 * CentralSystemRoot. NULL when there are none or out of memory. */
char *certs_store_bundle(const struct certs_store *st, enum certs_type t);

/* The installed certificates one by one, in install order, for a gateway that keeps facts of its own
 * about some of them (AdditionalRootCertificateCheck's fallback root): certs_store_size counts all of
 * them; certs_store_entry gives entry @i's type and canonical PEM text (borrowed, valid until the
 * store next changes; the same certificate always has the same text), 0 or -ERANGE;
 * certs_store_remove takes entry @i out, 0 or -ERANGE. */
int certs_store_size(const struct certs_store *st);
int certs_store_entry(const struct certs_store *st, int i, enum certs_type *t, const char **pem);
int certs_store_remove(struct certs_store *st, int i);

/* Persistence, one JSON text the gateway writes atomically:
 * {"version":1,"certificates":[{"type":"CentralSystemRootCertificate","pem":"-----BEGIN ..."},...]}.
 * certs_store_format: the text (free()), NULL out of memory. certs_store_parse replaces the content of
 * @st from @text: 0; -EINVAL with @err naming the fault (not JSON, a bad member, a certificate that
 * does not parse or is no CA, a duplicate), -EOVERFLOW when over certs_store_max; @st is unchanged on
 * error. Expiry is not checked here: certs_expiring reports it. */
char *certs_store_format(const struct certs_store *st);
int certs_store_parse(struct certs_store *st, const char *text, size_t len, char *err, size_t errlen);

/* ---- Expiry (certs_store.c) ---- */

struct certs_expiry {
	enum certs_type type;
	char cn[CERTS_NAME_MAX + 1];
	char serial[CERTS_SERIAL_MAX + 1];
	int64_t not_after;
	bool expired; /* now_s >= notAfter (OpenSSL's rule); else it expires within the window */
};
/* The installed certificates and the charge-point certificate (@cp_pem, its first certificate; NULL
 * for none) that have expired at @now_s or expire within @within_s seconds after it: at most @max
 * entries in @out, store order then the CP certificate; the number found (may exceed @max). */
int certs_expiring(const struct certs_store *st, const char *cp_pem, size_t cp_len, int64_t now_s, int64_t within_s,
		   struct certs_expiry *out, int max);

/* ---- CertificateSigned and the TLS files (certs_verify.c) ---- */

struct certs_signed_req {
	const char *chain; /* certificateChain: the leaf first, then any intermediates */
	size_t chain_len;
	size_t max_chain; /* CertificateSignedMaxChainSize; 0 = CERTS_CHAIN_MAX */
	const char *key_pem; /* the pending private key made with the CSR */
	size_t key_len;
	const char *cn; /* chargeBoxId: the leaf's CN must equal it */
	const char *o; /* CpoName: the leaf's O must equal it; NULL or "" = not checked */
	int64_t now_s;
	/* Accept a chain whose leaf is not valid yet (the whitepaper: switch at notBefore); the
	 * chain is then checked at the leaf's notBefore and the gateway waits for it. */
	bool allow_not_yet_valid;
};
struct certs_signed_res {
	char detail[CERTS_DETAIL_MAX]; /* a human line: which check, OpenSSL's verify error */
	int64_t not_before, not_after; /* of the leaf, when it parsed */
	int certs; /* certificates in the chain */
};
/* CertificateSigned: CERTS_OK (Accepted) when the chain parses, its leaf is for the pending key,
 * is not a CA, names cn (and o), and verifies up to an installed CentralSystemRootCertificate at
 * now_s (purpose: TLS client); any other reason is Rejected, to be reported as the security event
 * InvalidChargePointCertificate with certs_reason_name() and the detail as techInfo. */
enum certs_reason certs_signed_check(const struct certs_store *st, const struct certs_signed_req *rq,
				     struct certs_signed_res *res);

/* ocpp.certFile/ocpp.keyFile: the first certificate of @cert_pem (a leaf, maybe followed by its
 * intermediates) is for the private key @key_pem and is valid at @now_s. @detail (may be NULL) says
 * what is wrong. */
enum certs_reason certs_pair_check(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
				   int64_t now_s, char *detail, size_t detail_len);
/* ocpp.caFile: every certificate of the bundle is a CA valid at @now_s; *count (may be NULL) gets how
 * many there are. */
enum certs_reason certs_ca_check(const char *pem, size_t len, int64_t now_s, int *count);
/* AdditionalRootCertificateCheck: the first certificate of @pem was issued by the first of
 * @issuer_pem, a CA (issuer name and key identifiers match, keyCertSign if keyUsage is present, and
 * the signature verifies with the issuer's key). Times are not looked at: an old root may hand over
 * to its successor on the day it expires. CERTS_OK, CERTS_E_PARSE, CERTS_E_NOT_CA (the issuer),
 * CERTS_E_CHAIN; @detail (may be NULL) says which check failed. */
enum certs_reason certs_issued_by(const char *pem, size_t len, const char *issuer_pem, size_t issuer_len,
				  char *detail, size_t detail_len);

#endif
