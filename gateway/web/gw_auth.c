/*
 * gw_auth: the password hash (PBKDF2-SHA256 in "pbkdf2-sha256$<iterations>$<salt>$<hash>"), the
 * session table behind the twcgw_session cookie, the failed-login brake, the bearer token and the
 * process's CSRF token. Everything that compares a secret does so in constant time; nothing here logs.
 * Time comes in as now_ms so the whole module is testable without clocks; the only outside input is
 * OpenSSL's random bytes.
 */
#include "gw_auth.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core_text.h"

#define HASH_PREFIX "pbkdf2-sha256$"
#define SALT_LEN 16
#define DK_LEN 32
#define ITER_DEFAULT 100000L
#define ITER_MIN 10000L
#define ITER_MAX 10000000L
#define PASSWORD_MIN_CHARS 8
#define PASSWORD_MAX_BYTES 256
#define ID_BYTES (GW_AUTH_ID_LEN / 2)

#define SESSIONS_MAX 16
#define SESSION_TTL_MS (12ull * 3600 * 1000)

#define FAIL_LIMIT 5
#define FAIL_WINDOW_MS 60000ull

struct session {
	bool used;
	uint64_t last_ms; /* last login or successful check: the sliding expiry runs from here */
	char id[GW_AUTH_ID_LEN + 1];
};

struct parsed_hash {
	long iterations;
	unsigned char salt[SALT_LEN];
	unsigned char dk[DK_LEN];
};

struct gw_auth {
	char password_hash[GW_AUTH_HASH_MAX];
	bool has_password;
	/* The token is kept only as its SHA-256: comparing digests takes the same time whatever the
	 * presented token's length, so the comparison tells nothing about the configured length either. */
	unsigned char token_md[32];
	bool has_token;
	char csrf[GW_AUTH_ID_LEN + 1];
	struct session sessions[SESSIONS_MAX];
	/* The last FAIL_LIMIT failed logins, a ring; fail_n counts the valid entries (<= FAIL_LIMIT). */
	uint64_t fail_ms[FAIL_LIMIT];
	unsigned fail_n, fail_next;
};

static void why_set(char *why, size_t whylen, const char *msg)
{
	if (why && whylen > 0)
		snprintf(why, whylen, "%s", msg);
}

/* Standard base64 with padding and no line breaks; the caller sizes @out (4 * ceil(n / 3) + 1). */
static void b64_encode(const unsigned char *in, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* Decode exactly @n bytes from the @len characters at @s: padded standard base64 and nothing else
 * (EVP_DecodeBlock would skip surrounding blanks and count the padding as decoded zero bytes, so a
 * wrong length could pass). Return 0 or -EINVAL. */
static int b64_decode_exact(const char *s, size_t len, unsigned char *out, size_t n)
{
	size_t pad = (3 - n % 3) % 3, o = 0;

	if (len != 4 * ((n + 2) / 3))
		return -EINVAL;
	for (size_t i = 0; i < len; i += 4) {
		uint32_t acc = 0;
		bool last = i + 4 == len;

		for (size_t j = 0; j < 4; j++) {
			unsigned char c = (unsigned char)s[i + j];
			int v;

			if (last && j >= 4 - pad) {
				if (c != '=')
					return -EINVAL;
				v = 0;
			} else if ((v = core_text_b64_value(c)) < 0) {
				return -EINVAL;
			}
			acc = acc << 6 | (uint32_t)v;
		}
		for (size_t j = 0; j < 3 && o < n; j++)
			out[o++] = (unsigned char)(acc >> (16 - 8 * j));
		/* The bits under the padding must be zero, or two texts would name the same bytes. */
		if (last && pad > 0 && (acc & ((1u << (8 * pad)) - 1)) != 0)
			return -EINVAL;
	}
	return 0;
}

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* A fresh random id or token: ID_BYTES random bytes as lowercase hex. Return 0 or -EIO. */
static int random_id(char out[GW_AUTH_ID_LEN + 1])
{
	unsigned char raw[ID_BYTES];
	int rc = RAND_bytes(raw, (int)sizeof(raw)) == 1 ? 0 : -EIO;

	if (rc == 0)
		hex_encode(raw, sizeof(raw), out);
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

/* Split @hash into its parts and decode them. Return 0 or -EINVAL with @why naming the bad part. */
static int hash_parse(const char *hash, struct parsed_hash *p, char *why, size_t whylen)
{
	const char *it, *salt, *dk, *end;
	char *stop = NULL;

	if (!hash || strncmp(hash, HASH_PREFIX, strlen(HASH_PREFIX)) != 0) {
		why_set(why, whylen, "prefix: expected \"" HASH_PREFIX "\"");
		return -EINVAL;
	}
	it = hash + strlen(HASH_PREFIX);
	salt = strchr(it, '$');
	/* Digits only: strtol alone would take blanks, a sign or a bare "0x". */
	if (!salt || salt == it || (size_t)(salt - it) > 8 || strspn(it, "0123456789") != (size_t)(salt - it) ||
	    it[0] == '0') {
		why_set(why, whylen, "iterations: expected a number from 10000 to 10000000");
		return -EINVAL;
	}
	errno = 0;
	p->iterations = strtol(it, &stop, 10);
	if (errno != 0 || stop != salt || p->iterations < ITER_MIN || p->iterations > ITER_MAX) {
		why_set(why, whylen, "iterations: expected a number from 10000 to 10000000");
		return -EINVAL;
	}
	salt++;
	dk = strchr(salt, '$');
	if (!dk || b64_decode_exact(salt, (size_t)(dk - salt), p->salt, SALT_LEN) != 0) {
		why_set(why, whylen, "salt: expected 16 bytes in base64");
		return -EINVAL;
	}
	dk++;
	end = dk + strlen(dk);
	if (b64_decode_exact(dk, (size_t)(end - dk), p->dk, DK_LEN) != 0) {
		why_set(why, whylen, "hash: expected 32 bytes in base64");
		return -EINVAL;
	}
	return 0;
}

/* Characters as a person counts them: UTF-8 lead bytes, so "pässwörd" is 8, not 10. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

int gw_auth_hash_password(const char *password, char *out, size_t outlen, char *err, size_t errlen)
{
	unsigned char salt[SALT_LEN], dk[DK_LEN];
	char salt64[4 * ((SALT_LEN + 2) / 3) + 1], dk64[4 * ((DK_LEN + 2) / 3) + 1];
	int n, rc = 0;

	if (out && outlen > 0)
		out[0] = '\0';
	if (!password || utf8_chars(password) < PASSWORD_MIN_CHARS) {
		why_set(err, errlen, "password: at least 8 characters");
		return -EINVAL;
	}
	if (strlen(password) > PASSWORD_MAX_BYTES) {
		why_set(err, errlen, "password: at most 256 bytes");
		return -EINVAL;
	}
	if (!out || outlen == 0) {
		why_set(err, errlen, "no room for the hash");
		return -EINVAL;
	}
	if (RAND_bytes(salt, (int)sizeof(salt)) != 1) {
		why_set(err, errlen, "no random bytes for the salt");
		return -EIO;
	}
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)sizeof(salt), (int)ITER_DEFAULT,
			      EVP_sha256(), (int)sizeof(dk), dk) != 1) {
		why_set(err, errlen, "PBKDF2 failed");
		rc = -EIO;
		goto out;
	}
	b64_encode(salt, sizeof(salt), salt64);
	b64_encode(dk, sizeof(dk), dk64);
	n = snprintf(out, outlen, HASH_PREFIX "%ld$%s$%s", ITER_DEFAULT, salt64, dk64);
	if (n < 0 || (size_t)n >= outlen) {
		OPENSSL_cleanse(out, outlen);
		out[0] = '\0';
		why_set(err, errlen, "no room for the hash");
		rc = -EINVAL;
	}
out:
	OPENSSL_cleanse(dk, sizeof(dk));
	OPENSSL_cleanse(dk64, sizeof(dk64));
	return rc;
}

int gw_auth_hash_check(const char *hash, char *why, size_t whylen)
{
	struct parsed_hash p;
	int rc;

	if (hash && strlen(hash) >= GW_AUTH_HASH_MAX) {
		why_set(why, whylen, "hash: too long");
		return -EINVAL;
	}
	rc = hash_parse(hash, &p, why, whylen);
	OPENSSL_cleanse(&p, sizeof(p));
	return rc;
}

int gw_auth_password_matches(const char *hash, const char *password)
{
	struct parsed_hash p;
	unsigned char dk[DK_LEN];
	int rc = 0;

	if (!hash || strlen(hash) >= GW_AUTH_HASH_MAX || hash_parse(hash, &p, NULL, 0) != 0) {
		OPENSSL_cleanse(&p, sizeof(p));
		return -EINVAL;
	}
	/* The length cap bounds the work a request can ask of the loop; nothing longer was ever hashed. */
	if (password && strlen(password) <= PASSWORD_MAX_BYTES &&
	    PKCS5_PBKDF2_HMAC(password, (int)strlen(password), p.salt, SALT_LEN, (int)p.iterations, EVP_sha256(),
			      DK_LEN, dk) == 1)
		rc = CRYPTO_memcmp(dk, p.dk, DK_LEN) == 0;
	OPENSSL_cleanse(dk, sizeof(dk));
	OPENSSL_cleanse(&p, sizeof(p));
	return rc;
}

struct gw_auth *gw_auth_new(const char *password_hash, const char *token)
{
	struct gw_auth *a;

	if (!password_hash)
		password_hash = "";
	if (!token)
		token = "";
	/* A hash that does not parse would lock everyone out without saying why; the caller checks it with
	 * gw_auth_hash_check first, so refusing here only guards against a caller that did not. */
	if (password_hash[0] && gw_auth_hash_check(password_hash, NULL, 0) != 0)
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	if (password_hash[0]) {
		memcpy(a->password_hash, password_hash, strlen(password_hash) + 1);
		a->has_password = true;
	}
	if (token[0]) {
		if (EVP_Digest(token, strlen(token), a->token_md, NULL, EVP_sha256(), NULL) != 1) {
			gw_auth_free(a);
			return NULL;
		}
		a->has_token = true;
	}
	if (random_id(a->csrf) != 0) {
		gw_auth_free(a);
		return NULL;
	}
	return a;
}

void gw_auth_free(struct gw_auth *a)
{
	if (!a)
		return;
	OPENSSL_cleanse(a, sizeof(*a));
	free(a);
}

bool gw_auth_configured(const struct gw_auth *a)
{
	return a && (a->has_password || a->has_token);
}

bool gw_auth_has_password(const struct gw_auth *a)
{
	return a && a->has_password;
}

static void session_clear(struct session *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
}

static bool session_expired(const struct session *s, uint64_t now_ms)
{
	return now_ms >= s->last_ms && now_ms - s->last_ms >= SESSION_TTL_MS;
}

/* Whether the last FAIL_LIMIT failures all fell within FAIL_WINDOW_MS and the newest is less than
 * FAIL_WINDOW_MS old. Attempts refused while locked are not failures: they would let anyone keep the
 * owner out for ever by knocking once a minute. */
static bool login_locked(const struct gw_auth *a, uint64_t now_ms)
{
	uint64_t newest, oldest;

	if (a->fail_n < FAIL_LIMIT)
		return false;
	newest = a->fail_ms[(a->fail_next + FAIL_LIMIT - 1) % FAIL_LIMIT];
	oldest = a->fail_ms[a->fail_next];
	return newest - oldest < FAIL_WINDOW_MS && (now_ms < newest || now_ms - newest < FAIL_WINDOW_MS);
}

static void login_failed(struct gw_auth *a, uint64_t now_ms)
{
	a->fail_ms[a->fail_next] = now_ms;
	a->fail_next = (a->fail_next + 1) % FAIL_LIMIT;
	if (a->fail_n < FAIL_LIMIT)
		a->fail_n++;
}

int gw_auth_login(struct gw_auth *a, const char *password, uint64_t now_ms, char *sid)
{
	struct session *slot = NULL;
	int rc;

	if (sid)
		sid[0] = '\0';
	if (!a || !sid)
		return -EINVAL;
	if (!a->has_password)
		return -ENOENT;
	if (login_locked(a, now_ms))
		return -EAGAIN;
	if (gw_auth_password_matches(a->password_hash, password ? password : "") != 1) {
		login_failed(a, now_ms);
		return -EACCES;
	}
	a->fail_n = 0;
	a->fail_next = 0;

	/* A free slot, else the one used least recently (an expired one, if any, is always that). */
	for (size_t i = 0; i < SESSIONS_MAX; i++) {
		struct session *s = &a->sessions[i];

		if (!s->used) {
			slot = s;
			break;
		}
		if (!slot || s->last_ms < slot->last_ms)
			slot = s;
	}
	session_clear(slot);
	rc = random_id(slot->id);
	if (rc != 0) {
		session_clear(slot);
		return rc;
	}
	slot->used = true;
	slot->last_ms = now_ms;
	memcpy(sid, slot->id, GW_AUTH_ID_LEN + 1);
	return 0;
}

/* Calls @fn with each value of a cookie named exactly GW_AUTH_COOKIE in the Cookie header @cookie
 * ("a=b; c=d"); stops when @fn returns true and returns that. */
static bool cookie_each(const char *cookie, bool (*fn)(struct gw_auth *, const char *, size_t, uint64_t),
			struct gw_auth *a, uint64_t now_ms)
{
	const size_t want = strlen(GW_AUTH_COOKIE);
	const char *p = cookie;

	if (!cookie)
		return false;
	while (*p) {
		const char *end = strchr(p, ';'), *eq, *name, *name_end, *val, *val_end;

		if (!end)
			end = p + strlen(p);
		name = p;
		while (name < end && (*name == ' ' || *name == '\t'))
			name++;
		eq = memchr(name, '=', (size_t)(end - name));
		if (eq) {
			name_end = eq;
			while (name_end > name && (name_end[-1] == ' ' || name_end[-1] == '\t'))
				name_end--;
			val = eq + 1;
			val_end = end;
			while (val < val_end && (*val == ' ' || *val == '\t'))
				val++;
			while (val_end > val && (val_end[-1] == ' ' || val_end[-1] == '\t'))
				val_end--;
			if ((size_t)(name_end - name) == want && memcmp(name, GW_AUTH_COOKIE, want) == 0 &&
			    fn(a, val, (size_t)(val_end - val), now_ms))
				return true;
		}
		p = *end ? end + 1 : end;
	}
	return false;
}

/* The slot whose id is the @len characters at @id, or NULL. Every slot is compared over the full id
 * length whatever the outcome, so the time taken says nothing about how much of an id was right. */
static struct session *session_find(struct gw_auth *a, const char *id, size_t len)
{
	struct session *hit = NULL;

	if (len != GW_AUTH_ID_LEN || strspn(id, "0123456789abcdef") < GW_AUTH_ID_LEN)
		return NULL;
	for (size_t i = 0; i < SESSIONS_MAX; i++) {
		struct session *s = &a->sessions[i];
		int same = CRYPTO_memcmp(s->id, id, GW_AUTH_ID_LEN) == 0;

		/* A free slot's id is all zero bytes and cannot equal hex, but say so anyway. */
		if (same & s->used)
			hit = s;
	}
	return hit;
}

static bool session_check_one(struct gw_auth *a, const char *id, size_t len, uint64_t now_ms)
{
	struct session *s = session_find(a, id, len);

	if (!s)
		return false;
	if (session_expired(s, now_ms)) {
		session_clear(s);
		return false;
	}
	if (now_ms > s->last_ms)
		s->last_ms = now_ms;
	return true;
}

static bool session_drop_one(struct gw_auth *a, const char *id, size_t len, uint64_t now_ms)
{
	struct session *s = session_find(a, id, len);

	(void)now_ms;
	if (s)
		session_clear(s);
	return false; /* go on: a browser may send the cookie twice (two paths), end every one */
}

bool gw_auth_session_ok(struct gw_auth *a, const char *cookie, uint64_t now_ms)
{
	return a && cookie_each(cookie, session_check_one, a, now_ms);
}

void gw_auth_logout(struct gw_auth *a, const char *cookie)
{
	if (a)
		cookie_each(cookie, session_drop_one, a, 0);
}

bool gw_auth_bearer_ok(const struct gw_auth *a, const char *authorization)
{
	unsigned char md[32];
	bool ok;

	if (!a || !a->has_token || !authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return false;
	/* Exactly one space: "Bearer  x" presents " x", which is not the token. */
	if (EVP_Digest(authorization + 7, strlen(authorization + 7), md, NULL, EVP_sha256(), NULL) != 1)
		return false;
	ok = CRYPTO_memcmp(md, a->token_md, sizeof(md)) == 0;
	OPENSSL_cleanse(md, sizeof(md));
	return ok;
}

const char *gw_auth_csrf(const struct gw_auth *a)
{
	return a ? a->csrf : "";
}

bool gw_auth_csrf_ok(const struct gw_auth *a, const char *presented)
{
	if (!a || !presented || strlen(presented) != GW_AUTH_ID_LEN)
		return false;
	return CRYPTO_memcmp(presented, a->csrf, GW_AUTH_ID_LEN) == 0;
}
