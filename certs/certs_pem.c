/*
 * certs_pem: turning untrusted PEM text into OpenSSL objects and the facts the rest of certs/ needs
 * from them (names, times, CA or not, the serial), plus the enum names. The readers are strict: the
 * text comes from the network or from disk, so an odd block is refused rather than skipped.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "certs_internal.h"

const char *certs_type_name(enum certs_type t)
{
	switch (t) {
	case CERTS_CENTRAL_SYSTEM_ROOT:
		return "CentralSystemRootCertificate";
	case CERTS_MANUFACTURER_ROOT:
		return "ManufacturerRootCertificate";
	case CERTS_CHARGE_POINT:
		return "ChargePointCertificate";
	}
	return "?";
}

int certs_type_parse(const char *s, enum certs_type *t)
{
	if (!s || !t)
		return -EINVAL;
	if (!strcmp(s, "CentralSystemRootCertificate"))
		*t = CERTS_CENTRAL_SYSTEM_ROOT;
	else if (!strcmp(s, "ManufacturerRootCertificate"))
		*t = CERTS_MANUFACTURER_ROOT;
	else
		return -EINVAL;
	return 0;
}

const char *certs_hash_alg_name(enum certs_hash_alg a)
{
	switch (a) {
	case CERTS_SHA256:
		return "SHA256";
	case CERTS_SHA384:
		return "SHA384";
	case CERTS_SHA512:
		return "SHA512";
	}
	return "?";
}

int certs_hash_alg_parse(const char *s, enum certs_hash_alg *a)
{
	if (!s || !a)
		return -EINVAL;
	if (!strcmp(s, "SHA256"))
		*a = CERTS_SHA256;
	else if (!strcmp(s, "SHA384"))
		*a = CERTS_SHA384;
	else if (!strcmp(s, "SHA512"))
		*a = CERTS_SHA512;
	else
		return -EINVAL;
	return 0;
}

const char *certs_reason_name(enum certs_reason r)
{
	switch (r) {
	case CERTS_OK:
		return "Ok";
	case CERTS_E_PARSE:
		return "InvalidCertificate";
	case CERTS_E_TOO_LONG:
		return "TooLong";
	case CERTS_E_KEY:
		return "InvalidKey";
	case CERTS_E_KEY_MISMATCH:
		return "KeyMismatch";
	case CERTS_E_SUBJECT:
		return "SubjectMismatch";
	case CERTS_E_NOT_CA:
		return "NotACertificateAuthority";
	case CERTS_E_IS_CA:
		return "LeafIsACertificateAuthority";
	case CERTS_E_NO_ROOT:
		return "NoCentralSystemRoot";
	case CERTS_E_CHAIN:
		return "InvalidChain";
	case CERTS_E_EXPIRED:
		return "Expired";
	case CERTS_E_NOT_YET_VALID:
		return "NotYetValid";
	case CERTS_E_MULTIPLE:
		return "MoreThanOneCertificate";
	case CERTS_E_FULL:
		return "StoreFull";
	case CERTS_E_NOMEM:
		return "OutOfMemory";
	}
	return "?";
}

void certs_detail(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (!out || !n)
		return;
	va_start(ap, fmt);
	vsnprintf(out, n, fmt, ap);
	va_end(ap);
}

/* A read-only BIO over caller memory; NULL when the text is too long for OpenSSL's int lengths. */
static BIO *mem_bio(const char *p, size_t len)
{
	if (!p || len > INT_MAX)
		return NULL;
	return BIO_new_mem_buf(p, (int)len);
}

/* No passphrase, ever: an encrypted key is refused instead of prompting on a terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

enum certs_reason certs_pem_read(const char *pem, size_t len, STACK_OF(X509) **out)
{
	enum certs_reason r = CERTS_OK;
	STACK_OF(X509) *sk;
	BIO *bio;

	*out = NULL;
	if (!pem)
		return CERTS_E_PARSE;
	bio = mem_bio(pem, len);
	sk = sk_X509_new_null();
	if (!bio || !sk) {
		BIO_free(bio);
		sk_X509_free(sk);
		return len > INT_MAX ? CERTS_E_TOO_LONG : CERTS_E_NOMEM;
	}
	for (;;) {
		char *name = NULL, *header = NULL;
		unsigned char *data = NULL;
		long dlen = 0;
		const unsigned char *p;
		X509 *x;

		if (!PEM_read_bio(bio, &name, &header, &data, &dlen)) {
			unsigned long e = ERR_peek_last_error();

			/* The end of the text: no further BEGIN line. */
			if (ERR_GET_LIB(e) != ERR_LIB_PEM || ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
				r = CERTS_E_PARSE;
			break;
		}
		p = data;
		x = NULL;
		if (!strcmp(name, PEM_STRING_X509) && !header[0] && dlen > 0)
			x = d2i_X509(NULL, &p, dlen);
		if (x && p != data + dlen) {
			X509_free(x);
			x = NULL;
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		if (!x) {
			r = CERTS_E_PARSE;
			break;
		}
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			r = CERTS_E_NOMEM;
			break;
		}
	}
	BIO_free(bio);
	ERR_clear_error();
	if (r == CERTS_OK && sk_X509_num(sk) == 0)
		r = CERTS_E_PARSE;
	if (r != CERTS_OK) {
		sk_X509_pop_free(sk, X509_free);
		return r;
	}
	*out = sk;
	return CERTS_OK;
}

X509 *certs_pem_first(const char *pem, size_t len, enum certs_reason *why)
{
	STACK_OF(X509) *sk;
	enum certs_reason r = certs_pem_read(pem, len, &sk);
	X509 *x;

	if (r != CERTS_OK) {
		if (why)
			*why = r;
		return NULL;
	}
	x = sk_X509_shift(sk);
	sk_X509_pop_free(sk, X509_free);
	if (why)
		*why = CERTS_OK;
	return x;
}

EVP_PKEY *certs_key_read(const char *pem, size_t len)
{
	BIO *bio = mem_bio(pem, len);
	EVP_PKEY *k = NULL;

	if (bio)
		k = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	ERR_clear_error();
	return k;
}

char *certs_pem_write(X509 *x)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *text = NULL, *p;
	long n;

	if (bio && PEM_write_bio_X509(bio, x)) {
		n = BIO_get_mem_data(bio, &p);
		if (n > 0 && (text = malloc((size_t)n + 1))) {
			memcpy(text, p, (size_t)n);
			text[n] = '\0';
		}
	}
	BIO_free(bio);
	ERR_clear_error();
	return text;
}

/* Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil), so that no
 * C library time function (and no time zone) is involved. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

bool certs_asn1_time(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!t || !ASN1_TIME_to_tm(t, &tm)) {
		ERR_clear_error();
		return false;
	}
	*out = days_from_civil((int64_t)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) * 86400 +
	       (int64_t)tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	return true;
}

enum certs_reason certs_time_check(const X509 *x, int64_t now_s)
{
	int64_t nb, na;

	if (!certs_asn1_time(X509_get0_notBefore(x), &nb) || !certs_asn1_time(X509_get0_notAfter(x), &na))
		return CERTS_E_PARSE;
	if (now_s < nb)
		return CERTS_E_NOT_YET_VALID;
	/* OpenSSL's verifier counts the notAfter second itself as expired: so do we, so that
	 * the two never disagree. */
	if (now_s >= na)
		return CERTS_E_EXPIRED;
	return CERTS_OK;
}

bool certs_x509_is_ca(X509 *x)
{
	bool ca = X509_check_ca(x) == 1;

	ERR_clear_error();
	return ca;
}

bool certs_x509_self_signed(X509 *x)
{
	bool self = X509_self_signed(x, 0) == 1;

	ERR_clear_error();
	return self;
}

int certs_name_get(const X509_NAME *name, int nid, char *out, size_t n, const char *want, bool *exact)
{
	int count = 0, last = -1, k;

	if (n)
		out[0] = '\0';
	if (exact)
		*exact = false;
	for (k = X509_NAME_get_index_by_NID(name, nid, -1); k >= 0; k = X509_NAME_get_index_by_NID(name, nid, k)) {
		count++;
		last = k;
	}
	if (last >= 0) {
		unsigned char *utf8 = NULL;
		int ulen = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, last)));

		if (ulen >= 0) {
			size_t c = (size_t)ulen < n ? (size_t)ulen : (n ? n - 1 : 0);

			if (n) {
				memcpy(out, utf8, c);
				out[c] = '\0';
			}
			if (exact && want)
				*exact = strlen(want) == (size_t)ulen && !memcmp(want, utf8, (size_t)ulen);
		}
		OPENSSL_free(utf8);
	}
	ERR_clear_error();
	return count;
}

bool certs_serial_hex(const X509 *x, char out[CERTS_SERIAL_MAX + 1])
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;
	const char *digits;
	bool neg, ok = false;
	size_t len;

	out[0] = '\0';
	if (hex) {
		neg = hex[0] == '-';
		digits = hex + neg;
		while (digits[0] == '0' && digits[1])
			digits++;
		len = strlen(digits) + neg;
		if (len <= CERTS_SERIAL_MAX) {
			size_t k = 0;

			if (neg)
				out[k++] = '-';
			for (; *digits; digits++)
				out[k++] = (char)(*digits >= 'A' && *digits <= 'F' ? *digits - 'A' + 'a' : *digits);
			out[k] = '\0';
			ok = true;
		}
	}
	OPENSSL_free(hex);
	BN_free(bn);
	ERR_clear_error();
	return ok;
}

enum certs_reason certs_info_get(const char *pem, size_t len, struct certs_info *out)
{
	enum certs_reason r;
	X509 *x = certs_pem_first(pem, len, &r);

	memset(out, 0, sizeof(*out));
	if (!x)
		return r;
	certs_name_get(X509_get_subject_name(x), NID_commonName, out->cn, sizeof(out->cn), NULL, NULL);
	certs_name_get(X509_get_subject_name(x), NID_organizationName, out->o, sizeof(out->o), NULL, NULL);
	if (!certs_serial_hex(x, out->serial) || !certs_asn1_time(X509_get0_notBefore(x), &out->not_before) ||
	    !certs_asn1_time(X509_get0_notAfter(x), &out->not_after))
		r = CERTS_E_PARSE;
	out->is_ca = certs_x509_is_ca(x);
	out->self_signed = certs_x509_self_signed(x);
	X509_free(x);
	return r;
}
