/*
 * certs_internal: what the files of certs/ share and nobody else needs: strict PEM readers over
 * OpenSSL objects, the time and name conversions, the CA test and the hash data of a parsed
 * certificate. Every function leaves OpenSSL's error queue empty so that one caller's failure never
 * shows up as another's.
 */
#ifndef CERTS_INTERNAL_H
#define CERTS_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "certs.h"

/* Every block of @pem as a certificate, in order, into a new stack (sk_X509_pop_free). Only
 * "CERTIFICATE" blocks without headers whose DER is exactly one certificate are taken: anything else
 * (another block type, bad base64, trailing bytes) is CERTS_E_PARSE, and so is a text without a block. */
enum certs_reason certs_pem_read(const char *pem, size_t len, STACK_OF(X509) **out);
/* The first certificate alone (X509_free), or NULL with *why set. */
X509 *certs_pem_first(const char *pem, size_t len, enum certs_reason *why);
/* An unencrypted private key (EVP_PKEY_free); NULL when it does not parse or is encrypted (never a
 * passphrase prompt). */
EVP_PKEY *certs_key_read(const char *pem, size_t len);
/* A certificate as PEM text (free()), NULL out of memory. */
char *certs_pem_write(X509 *x);

/* Seconds since the epoch of an ASN.1 time; false when it is not a valid time. */
bool certs_asn1_time(const ASN1_TIME *t, int64_t *out);
/* CERTS_OK when notBefore <= @now_s < notAfter (OpenSSL's rule), else CERTS_E_EXPIRED/CERTS_E_NOT_YET_VALID
 * (CERTS_E_PARSE for an unreadable time). */
enum certs_reason certs_time_check(const X509 *x, int64_t now_s);
/* An X509_V_ERR_* of a failed verification as a reason: expired, not yet valid, no memory, or the chain. */
enum certs_reason certs_verify_reason(int err);
/* basicConstraints CA:TRUE (and keyCertSign when keyUsage is present): X509_check_ca's answer 1. */
bool certs_x509_is_ca(X509 *x);
bool certs_x509_self_signed(X509 *x);
/* The number of entries @nid in @name; the last one as UTF-8 into @out (cut at @n - 1 bytes, "" when
 * none); *exact (may be NULL) tells whether it equals @want (NULL: not compared) byte for byte. */
int certs_name_get(const X509_NAME *name, int nid, char *out, size_t n, const char *want, bool *exact);
/* The serial number in the form of certs_hash_data; false when longer than CERTS_SERIAL_MAX. */
bool certs_serial_hex(const X509 *x, char out[CERTS_SERIAL_MAX + 1]);
/* The hash data of @x as issued by @issuer. */
enum certs_reason certs_x509_hash(const X509 *x, const X509 *issuer, enum certs_hash_alg alg,
				  struct certs_hash_data *out);
/* A new X509_STORE holding the installed certificates of type @t as trust anchors (X509_STORE_free);
 * *n gets how many. NULL out of memory. */
X509_STORE *certs_store_trust(const struct certs_store *st, enum certs_type t, int *n);
/* snprintf into a detail buffer (NULL or size 0: nothing). */
void certs_detail(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
