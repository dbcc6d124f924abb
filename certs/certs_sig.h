/*
 * certs_sig: the signature checks of the whitepaper's secure firmware update (use case L01,
 * SignedUpdateFirmware): the signing certificate must chain to an installed ManufacturerRootCertificate,
 * and the firmware's signature must verify with that certificate's key. Pure like the rest of certs/:
 * PEM text, a SHA-256 digest and base64 go in, answers come out; the gateway reads the file.
 *
 * What a signature is (the whitepaper's "signature: Base64 encoded firmware signature", checked the
 * way EVerest's libevse-security does for OCTT TC_080/TC_081): the base64 of a signature over the
 * SHA-256 of the firmware file, as `openssl dgst -sha256 -sign key.pem -out fw.sig fw.bin` writes
 * it: RSA PKCS#1 v1.5 (a SHA-256 DigestInfo) for an RSA key, a DER ECDSA-Sig-Value for an EC key.
 * RSA-PSS, a raw r||s ECDSA value and EdDSA (which cannot sign a digest) are not accepted.
 */
#ifndef CERTS_SIG_H
#define CERTS_SIG_H

#include <stddef.h>
#include <stdint.h>

#include "certs.h"

#define CERTS_SHA256_LEN 32
#define CERTS_SIG_B64_MAX 800 /* SignedUpdateFirmware firmware.signature: string[0..800] */
#define CERTS_SIG_MAX 600 /* decoded: an RSA 4096 signature is 512 bytes, DER ECDSA P-521 139 */
#define CERTS_SIG_RSA_MIN_BITS 2048 /* the whitepaper's key-size floor for RSA */

/* SignedUpdateFirmware, before anything is downloaded: the first certificate of @signing_cert_pem
 * (the signingCertificate, at most CERTS_CERT_MAX bytes; certificates after it are taken as
 * intermediates) verifies up to one of the certificates of @roots_pem (a PEM bundle of the installed
 * ManufacturerRootCertificates, certs_store_bundle(st, CERTS_MANUFACTURER_ROOT); an installed CA
 * is a trust anchor even when it is not self-signed) with every certificate valid at @now_s. The
 * signer must also be able to sign: an RSA key of at least CERTS_SIG_RSA_MIN_BITS or an EC key, a
 * keyUsage (when present) with digitalSignature, an extendedKeyUsage (when present) with
 * codeSigning or anyExtendedKeyUsage. No purpose is otherwise required (manufacturer PKIs differ).
 * Return 0 (Accepted), -EINVAL refused with *why (may be NULL): CERTS_E_PARSE, CERTS_E_TOO_LONG,
 * CERTS_E_NO_ROOT (@roots_pem NULL, empty or holding no certificate), CERTS_E_CHAIN (not under a
 * root, a bad certificate signature, or a usage that forbids signing), CERTS_E_EXPIRED,
 * CERTS_E_NOT_YET_VALID, CERTS_E_KEY (an unsupported or weak key); -ENOMEM (CERTS_E_NOMEM). */
int certs_sig_signer_check(const char *signing_cert_pem, const char *roots_pem, int64_t now_s,
			   enum certs_reason *why);
/* The same with a human line for the log or a security event's techInfo (@detail may be NULL). */
int certs_sig_signer_check_detail(const char *signing_cert_pem, const char *roots_pem, int64_t now_s,
				  enum certs_reason *why, char *detail, size_t detail_len);

/* The firmware's signature: @signature_b64 (the signature field, whitespace allowed between the
 * characters, at most CERTS_SIG_B64_MAX bytes) is a signature by the key of the first certificate of
 * @signing_cert_pem over @digest (the file's SHA-256), in the form described at the top. No chain or
 * time check here: certs_sig_signer_check did that when the request came. Return 0 when it verifies;
 * -EBADMSG when it does not (wrong key, wrong digest, a damaged signature); -EINVAL when the base64
 * or the certificate does not parse or the key is of another type; -ENOMEM. */
int certs_sig_verify(const char *signing_cert_pem, const unsigned char digest[CERTS_SHA256_LEN],
		     const char *signature_b64);

/* Strict base64 (RFC 4648 standard alphabet, '=' padding required when the length needs it, spaces,
 * tabs, CR and LF skipped anywhere): 0 and *out_len bytes in @out, or -EINVAL for any other byte, bad
 * padding or non-zero pad bits, -EMSGSIZE when the result would not fit in @max. @len bytes of @in
 * are read; no NUL needed. */
int certs_sig_b64_decode(const char *in, size_t len, unsigned char *out, size_t max, size_t *out_len);

/* A SHA-256 computed piece by piece (a firmware file read in chunks between loop turns). */
struct certs_sha256;
struct certs_sha256 *certs_sha256_new(void); /* NULL out of memory */
int certs_sha256_update(struct certs_sha256 *h, const void *p, size_t n); /* 0 or -EIO */
/* The digest into @out: 0 or -EIO. The context is then spent: free it (or make a new one). */
int certs_sha256_final(struct certs_sha256 *h, unsigned char out[CERTS_SHA256_LEN]);
void certs_sha256_free(struct certs_sha256 *h); /* NULL is a no-op */

#endif
