/*
 * Tests of gw_auth: the PBKDF2 password hash (round trip, a known answer computed apart with Python's
 * hashlib, every malformed part named), sessions (login, sliding 12 h expiry, logout, eviction of the
 * least recently used), the Cookie header traps, the failed-login brake and its release, bearer tokens
 * and the CSRF token. All time is injected; nothing sleeps.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gw_auth.h"

/* python3 -c 'import hashlib,base64; dk=hashlib.pbkdf2_hmac("sha256", b"correct horse battery staple",
 *   bytes(range(16)), 10000, 32); print(base64.b64encode(dk).decode())' */
#define KAT_PASSWORD "correct horse battery staple"
#define KAT_HASH "pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw==$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCI="
/* The same with a UTF-8 password ("pässwörd"), salt b"twcgw-kat-salt!!" and 12345 iterations. */
#define KAT2_PASSWORD "p\xc3\xa4ssw\xc3\xb6rd"
#define KAT2_HASH "pbkdf2-sha256$12345$dHdjZ3cta2F0LXNhbHQhIQ==$2ntSLnJDQ6WMUAeBrDYCuKKeiBH0TdtPUf6ALANyTRA="

#define HOUR_MS (3600ull * 1000)
#define T0 1000000ull

static bool is_lower_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	return strspn(s, "0123456789abcdef") == n;
}

static void cookie_of(char *out, size_t outlen, const char *sid)
{
	snprintf(out, outlen, GW_AUTH_COOKIE "=%.64s", sid); /* an id is 64 characters */
}

static bool sid_ok(struct gw_auth *a, const char *sid, uint64_t now_ms)
{
	char c[128];

	cookie_of(c, sizeof(c), sid);
	return gw_auth_session_ok(a, c, now_ms);
}

static void test_hash_round_trip(void **state)
{
	char h1[GW_AUTH_HASH_MAX], h2[GW_AUTH_HASH_MAX], err[96] = "", why[96] = "";
	const char *salt, *dk;

	(void)state;
	assert_int_equal(gw_auth_hash_password("correct horse", h1, sizeof(h1), err, sizeof(err)), 0);
	assert_int_equal(gw_auth_hash_password("correct horse", h2, sizeof(h2), err, sizeof(err)), 0);
	/* The format: prefix, default iterations, 16-byte salt (24 chars) and 32-byte hash (44 chars). */
	assert_int_equal(strncmp(h1, "pbkdf2-sha256$100000$", 21), 0);
	salt = h1 + 21;
	dk = strchr(salt, '$');
	assert_non_null(dk);
	assert_int_equal(dk - salt, 24);
	assert_int_equal(strlen(dk + 1), 44);
	assert_null(strchr(h1, '\n'));
	assert_int_equal(gw_auth_hash_check(h1, why, sizeof(why)), 0);
	/* A fresh salt each time: the same password never gives the same text. */
	assert_string_not_equal(h1, h2);

	assert_int_equal(gw_auth_password_matches(h1, "correct horse"), 1);
	assert_int_equal(gw_auth_password_matches(h2, "correct horse"), 1);
	assert_int_equal(gw_auth_password_matches(h1, "correct horsE"), 0);
	assert_int_equal(gw_auth_password_matches(h1, "correct horse "), 0);
	assert_int_equal(gw_auth_password_matches(h1, ""), 0);
	assert_int_equal(gw_auth_password_matches(h1, NULL), 0);
}

static void test_hash_password_refused(void **state)
{
	char h[GW_AUTH_HASH_MAX], err[96];
	char longpw[300];

	(void)state;
	err[0] = '\0';
	assert_int_equal(gw_auth_hash_password("1234567", h, sizeof(h), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "8 characters"));
	assert_string_equal(h, "");
	assert_int_equal(gw_auth_hash_password(NULL, h, sizeof(h), err, sizeof(err)), -EINVAL);
	/* Eight bytes but four characters. */
	assert_int_equal(gw_auth_hash_password("\xc3\xa4\xc3\xa4\xc3\xa4\xc3\xa4", h, sizeof(h), err, sizeof(err)),
			 -EINVAL);
	/* Eight characters in ten bytes is enough. */
	assert_int_equal(gw_auth_hash_password(KAT2_PASSWORD, h, sizeof(h), NULL, 0), 0);
	assert_int_equal(gw_auth_password_matches(h, KAT2_PASSWORD), 1);

	memset(longpw, 'x', 257);
	longpw[257] = '\0';
	err[0] = '\0';
	assert_int_equal(gw_auth_hash_password(longpw, h, sizeof(h), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "256"));
	longpw[256] = '\0';
	assert_int_equal(gw_auth_hash_password(longpw, h, sizeof(h), err, sizeof(err)), 0);
	assert_int_equal(gw_auth_password_matches(h, longpw), 1);

	/* No room: refused, and nothing half-written left behind. */
	assert_int_equal(gw_auth_hash_password("correct horse", h, 40, err, sizeof(err)), -EINVAL);
	assert_string_equal(h, "");
}

static void test_hash_known_answer(void **state)
{
	char why[96];

	(void)state;
	assert_int_equal(gw_auth_hash_check(KAT_HASH, why, sizeof(why)), 0);
	assert_int_equal(gw_auth_password_matches(KAT_HASH, KAT_PASSWORD), 1);
	assert_int_equal(gw_auth_password_matches(KAT_HASH, "correct horse battery stapl"), 0);
	assert_int_equal(gw_auth_password_matches(KAT_HASH, "correct horse battery staple!"), 0);
	assert_int_equal(gw_auth_hash_check(KAT2_HASH, why, sizeof(why)), 0);
	assert_int_equal(gw_auth_password_matches(KAT2_HASH, KAT2_PASSWORD), 1);
	assert_int_equal(gw_auth_password_matches(KAT2_HASH, "passwörd"), 0);
}

static void test_hash_malformed_named(void **state)
{
	static const struct {
		const char *hash;
		const char *part;
	} cases[] = {
		{"", "prefix"},
		{"pbkdf2-sha1$10000$AAECAwQFBgcICQoLDA0ODw==$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCI=", "prefix"},
		{"PBKDF2-SHA256$10000$AAECAwQFBgcICQoLDA0ODw==$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCI=", "prefix"},
		{" pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw==$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCI=", "prefix"},
		{"$2b$12$abcdefghijklmnopqrstuv", "prefix"},
		{"pbkdf2-sha256$9999$AAECAwQFBgcICQoLDA0ODw==$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCI=", "iterations"},
		{"pbkdf2-sha256$10000001$AAECAwQFBgcICQoLDA0ODw==$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCI=",
		 "iterations"},
		{"pbkdf2-sha256$99999999999999999999$AAECAwQFBgcICQoLDA0ODw==$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCI=",
		 "iterations"},
		{"pbkdf2-sha256$$AAECAwQFBgcICQoLDA0ODw==$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCI=", "iterations"},
		{"pbkdf2-sha256$+10000$AAECAwQFBgcICQoLDA0ODw==$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCI=", "iterations"},
		{"pbkdf2-sha256$ 10000$AAECAwQFBgcICQoLDA0ODw==$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCI=", "iterations"},
		{"pbkdf2-sha256$010000$AAECAwQFBgcICQoLDA0ODw==$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCI=", "iterations"},
		{"pbkdf2-sha256$1e5$AAECAwQFBgcICQoLDA0ODw==$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCI=", "iterations"},
		{"pbkdf2-sha256$10000", "iterations"},
		/* Salt: 15 bytes, no padding, a bad character, the URL-safe alphabet, a line break, bits
		 * under the padding set, and the hash part missing so the salt has no end. */
		{"pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0O$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCI=", "salt"},
		{"pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCI=", "salt"},
		{"pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0OD*==$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCI=", "salt"},
		{"pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0OD_==$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCI=", "salt"},
		{"pbkdf2-sha256$10000$AAECAwQFBgcICQoL\nDA0ODw==$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCI=", "salt"},
		{"pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODx==$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCI=", "salt"},
		{"pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw==", "salt"},
		{"pbkdf2-sha256$10000$$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCI=", "salt"},
		/* Hash: 31 and 33 bytes, empty, a trailing blank or line break, an extra part. */
		{"pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw==$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUA==", "hash"},
		{"pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw==$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCIA", "hash"},
		{"pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw==$", "hash"},
		{"pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw==$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCI= ", "hash"},
		{"pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw==$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCI=\n", "hash"},
		{"pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw==$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCI=$x", "hash"},
		{"pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODw==$2flfZcLfnShdJogjAMpb4p4+1QBVZmODXExi4nBRUCJ=", "hash"},
	};
	char why[96];
	char toolong[GW_AUTH_HASH_MAX + 8];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why[0] = '\0';
		if (gw_auth_hash_check(cases[i].hash, why, sizeof(why)) != -EINVAL ||
		    strncmp(why, cases[i].part, strlen(cases[i].part)) != 0)
			fail_msg("case %zu (%s): why \"%s\", expected it to name %s", i, cases[i].hash, why,
				 cases[i].part);
		assert_int_equal(gw_auth_password_matches(cases[i].hash, KAT_PASSWORD), -EINVAL);
		if (cases[i].hash[0]) /* "" is no password at all, not a bad one */
			assert_null(gw_auth_new(cases[i].hash, ""));
	}
	why[0] = '\0';
	assert_int_equal(gw_auth_hash_check(NULL, why, sizeof(why)), -EINVAL);
	assert_int_equal(strncmp(why, "prefix", 6), 0);
	/* A why too small is cut, not overrun; no why at all is fine. */
	assert_int_equal(gw_auth_hash_check("x", why, 4), -EINVAL);
	assert_string_equal(why, "pre");
	assert_int_equal(gw_auth_hash_check("x", NULL, 0), -EINVAL);

	memset(toolong, 'A', sizeof(toolong) - 1);
	toolong[sizeof(toolong) - 1] = '\0';
	memcpy(toolong, KAT_HASH, strlen(KAT_HASH));
	assert_int_equal(gw_auth_hash_check(toolong, why, sizeof(why)), -EINVAL);
	assert_int_equal(strncmp(why, "hash", 4), 0);
}

static void test_new_configured(void **state)
{
	struct gw_auth *a;
	char sid[GW_AUTH_ID_LEN + 1] = "x";

	(void)state;
	a = gw_auth_new("", "");
	assert_non_null(a);
	assert_false(gw_auth_configured(a));
	assert_int_equal(gw_auth_login(a, KAT_PASSWORD, T0, sid), -ENOENT);
	assert_string_equal(sid, "");
	assert_false(gw_auth_bearer_ok(a, "Bearer "));
	gw_auth_free(a);

	a = gw_auth_new(NULL, NULL);
	assert_non_null(a);
	assert_false(gw_auth_configured(a));
	gw_auth_free(a);

	a = gw_auth_new("", "tok");
	assert_true(gw_auth_configured(a));
	assert_int_equal(gw_auth_login(a, KAT_PASSWORD, T0, sid), -ENOENT);
	gw_auth_free(a);

	a = gw_auth_new(KAT_HASH, "");
	assert_true(gw_auth_configured(a));
	gw_auth_free(a);

	gw_auth_free(NULL);
}

static void test_session_login_and_check(void **state)
{
	struct gw_auth *a = gw_auth_new(KAT_HASH, "");
	char sid[GW_AUTH_ID_LEN + 1], sid2[GW_AUTH_ID_LEN + 1], other[GW_AUTH_ID_LEN + 1];

	(void)state;
	assert_non_null(a);
	assert_int_equal(gw_auth_login(a, "wrong password", T0, sid), -EACCES);
	assert_string_equal(sid, "");
	assert_int_equal(gw_auth_login(a, NULL, T0, sid), -EACCES);

	assert_int_equal(gw_auth_login(a, KAT_PASSWORD, T0, sid), 0);
	assert_true(is_lower_hex(sid, GW_AUTH_ID_LEN));
	assert_int_equal(gw_auth_login(a, KAT_PASSWORD, T0, sid2), 0);
	assert_string_not_equal(sid, sid2);
	assert_true(sid_ok(a, sid, T0 + 1));
	assert_true(sid_ok(a, sid2, T0 + 1));

	/* Any other id, one differing only in its last character, or in upper case, is no session. */
	memcpy(other, sid, sizeof(other));
	other[GW_AUTH_ID_LEN - 1] = other[GW_AUTH_ID_LEN - 1] == '0' ? '1' : '0';
	assert_false(sid_ok(a, other, T0 + 1));
	memcpy(other, sid, sizeof(other));
	for (size_t i = 0; i < GW_AUTH_ID_LEN; i++)
		if (other[i] >= 'a')
			other[i] = (char)(other[i] - 'a' + 'A');
	assert_string_not_equal(other, sid); /* 64 random hex digits without a letter: not in this life */
	assert_false(sid_ok(a, other, T0 + 1));
	assert_false(sid_ok(a, "0000000000000000000000000000000000000000000000000000000000000000", T0 + 1));
	assert_false(gw_auth_session_ok(a, NULL, T0));
	assert_false(gw_auth_session_ok(a, "", T0));
	gw_auth_free(a);
}

static void test_session_expiry_sliding(void **state)
{
	struct gw_auth *a = gw_auth_new(KAT_HASH, "");
	char sid[GW_AUTH_ID_LEN + 1], sid2[GW_AUTH_ID_LEN + 1];

	(void)state;
	assert_int_equal(gw_auth_login(a, KAT_PASSWORD, T0, sid), 0);
	assert_int_equal(gw_auth_login(a, KAT_PASSWORD, T0, sid2), 0);
	/* Each use moves the expiry: alive a whole day later as long as it is used twice a day. */
	assert_true(sid_ok(a, sid, T0 + 11 * HOUR_MS));
	assert_true(sid_ok(a, sid, T0 + 22 * HOUR_MS));
	assert_true(sid_ok(a, sid, T0 + 34 * HOUR_MS - 1));
	/* The unused one died 12 h after its login. */
	assert_false(sid_ok(a, sid2, T0 + 12 * HOUR_MS));
	/* 12 h idle exactly: gone, and stays gone. */
	assert_false(sid_ok(a, sid, T0 + 46 * HOUR_MS - 1));
	assert_false(sid_ok(a, sid, T0 + 34 * HOUR_MS));
	gw_auth_free(a);
}

static void test_session_logout(void **state)
{
	struct gw_auth *a = gw_auth_new(KAT_HASH, "");
	char sid[GW_AUTH_ID_LEN + 1], sid2[GW_AUTH_ID_LEN + 1], c[200];

	(void)state;
	assert_int_equal(gw_auth_login(a, KAT_PASSWORD, T0, sid), 0);
	assert_int_equal(gw_auth_login(a, KAT_PASSWORD, T0, sid2), 0);
	gw_auth_logout(a, NULL);
	gw_auth_logout(a, "junk; =; ;;");
	gw_auth_logout(NULL, "x=y");
	assert_true(sid_ok(a, sid, T0 + 1));
	snprintf(c, sizeof(c), "theme=dark; " GW_AUTH_COOKIE "=%s", sid);
	gw_auth_logout(a, c);
	assert_false(sid_ok(a, sid, T0 + 2));
	assert_true(sid_ok(a, sid2, T0 + 2));
	gw_auth_free(a);
}

static void test_session_eviction(void **state)
{
	struct gw_auth *a = gw_auth_new(KAT_HASH, "");
	char sids[17][GW_AUTH_ID_LEN + 1];

	(void)state;
	for (int i = 0; i < 16; i++)
		assert_int_equal(gw_auth_login(a, KAT_PASSWORD, T0 + (uint64_t)i, sids[i]), 0);
	for (int i = 0; i < 16; i++)
		assert_true(sid_ok(a, sids[i], T0 + 100));
	/* Everyone used at T0 + 100; then all but #5 again: #5 is the least recently used. */
	for (int i = 0; i < 16; i++)
		if (i != 5)
			assert_true(sid_ok(a, sids[i], T0 + 200 + (uint64_t)i));
	assert_int_equal(gw_auth_login(a, KAT_PASSWORD, T0 + 300, sids[16]), 0);
	for (int i = 0; i < 17; i++)
		assert_int_equal(sid_ok(a, sids[i], T0 + 400), i != 5);
	/* Touch all but #9 once more (newest first, so the table order cannot pick the victim). */
	for (int i = 16; i >= 0; i--)
		if (i != 9 && i != 5)
			assert_true(sid_ok(a, sids[i], T0 + 500 + (uint64_t)(16 - i)));
	assert_int_equal(gw_auth_login(a, KAT_PASSWORD, T0 + 600, sids[5]), 0);
	for (int i = 0; i < 17; i++)
		assert_int_equal(sid_ok(a, sids[i], T0 + 700), i != 9);
	gw_auth_free(a);
}

static void test_cookie_parsing(void **state)
{
	struct gw_auth *a = gw_auth_new(KAT_HASH, "");
	char sid[GW_AUTH_ID_LEN + 1], c[400];
	static const struct {
		const char *fmt; /* %s is the session id */
		bool ok;
	} cases[] = {
		{"twcgw_session=%s", true},
		{"a=b; twcgw_session=%s; c=d", true},
		{"a=b;twcgw_session=%s", true},
		{"  a=b ;   twcgw_session=%s   ", true},
		{"twcgw_session=%s;", true},
		{"twcgw_session=stale; twcgw_session=%s", true},
		{"xtwcgw_session=%s", false},
		{"twcgw_sessionx=%s", false},
		{"twcgw_session_old=%s", false},
		{"Twcgw_session=%s", false},
		{"a=twcgw_session=%s", false},
		{"a=b twcgw_session=%s", false},
		{"a=\"twcgw_session=%s\"", false},
		{"twcgw_session=%sx", false},
		{"twcgw_session=%s=", false},
		{"twcgw_session=x%s", false},
		{"twcgw_session", false},
		{"twcgw_session=", false},
		{"%s", false},
	};

	(void)state;
	assert_int_equal(gw_auth_login(a, KAT_PASSWORD, T0, sid), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(c, sizeof(c), cases[i].fmt, sid);
		if (gw_auth_session_ok(a, c, T0 + 1) != cases[i].ok)
			fail_msg("case %zu \"%s\": expected %s", i, cases[i].fmt, cases[i].ok ? "ok" : "refused");
	}
	/* One character short of a whole id, as the last cookie and in the middle. */
	snprintf(c, sizeof(c), "twcgw_session=%.63s", sid);
	assert_false(gw_auth_session_ok(a, c, T0 + 1));
	snprintf(c, sizeof(c), "twcgw_session=%.63s; a=b", sid);
	assert_false(gw_auth_session_ok(a, c, T0 + 1));
	gw_auth_free(a);
}

static void test_login_lockout(void **state)
{
	struct gw_auth *a = gw_auth_new(KAT_HASH, "");
	char sid[GW_AUTH_ID_LEN + 1];
	uint64_t t = T0;

	(void)state;
	for (int i = 0; i < 5; i++)
		assert_int_equal(gw_auth_login(a, "guess", T0 + 1000 * (uint64_t)i, sid), -EACCES);
	/* Locked: even the right password is not tried, and a wrong one does not extend the lock. */
	assert_int_equal(gw_auth_login(a, KAT_PASSWORD, T0 + 5000, sid), -EAGAIN);
	assert_string_equal(sid, "");
	assert_int_equal(gw_auth_login(a, "guess", T0 + 30000, sid), -EAGAIN);
	assert_int_equal(gw_auth_login(a, KAT_PASSWORD, T0 + 4000 + 59999, sid), -EAGAIN);
	/* 60 s after the last failure: open again. */
	assert_int_equal(gw_auth_login(a, KAT_PASSWORD, T0 + 4000 + 60000, sid), 0);
	assert_true(sid_ok(a, sid, T0 + 64001));

	/* A success resets the count: 4 failures, a success, 4 failures never lock. */
	t = T0 + 100000;
	for (int i = 0; i < 4; i++)
		assert_int_equal(gw_auth_login(a, "guess", t++, sid), -EACCES);
	assert_int_equal(gw_auth_login(a, KAT_PASSWORD, t++, sid), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(gw_auth_login(a, "guess", t++, sid), -EACCES);
	assert_int_equal(gw_auth_login(a, KAT_PASSWORD, t++, sid), 0);

	/* Five failures spread over more than 60 s do not lock; the fifth within 60 s of the first does. */
	t = T0 + 1000000;
	for (int i = 0; i < 5; i++)
		assert_int_equal(gw_auth_login(a, "guess", t + 20000 * (uint64_t)i, sid), -EACCES);
	assert_int_equal(gw_auth_login(a, "guess", t + 80001, sid), -EACCES); /* 20 s .. 80 s: 5 in 60.001 s */
	assert_int_equal(gw_auth_login(a, "guess", t + 80002, sid), -EACCES); /* 40 s .. 80.002 s: 5 in 40 s */
	assert_int_equal(gw_auth_login(a, KAT_PASSWORD, t + 80003, sid), -EAGAIN);
	assert_int_equal(gw_auth_login(a, KAT_PASSWORD, t + 80002 + 60000, sid), 0);
	gw_auth_free(a);
}

static void test_bearer(void **state)
{
	struct gw_auth *a = gw_auth_new("", "s3cret-token");
	struct gw_auth *empty = gw_auth_new(KAT_HASH, "");

	(void)state;
	assert_true(gw_auth_bearer_ok(a, "Bearer s3cret-token"));
	assert_true(gw_auth_bearer_ok(a, "bearer s3cret-token"));
	assert_true(gw_auth_bearer_ok(a, "BEARER s3cret-token"));
	assert_false(gw_auth_bearer_ok(a, "Bearer  s3cret-token"));
	assert_false(gw_auth_bearer_ok(a, "Bearers3cret-token"));
	assert_false(gw_auth_bearer_ok(a, "Bearer\ts3cret-token"));
	assert_false(gw_auth_bearer_ok(a, "Bearer s3cret-tokenx"));
	assert_false(gw_auth_bearer_ok(a, "Bearer s3cret-toke"));
	assert_false(gw_auth_bearer_ok(a, "Bearer S3CRET-TOKEN"));
	assert_false(gw_auth_bearer_ok(a, "Basic s3cret-token"));
	assert_false(gw_auth_bearer_ok(a, "s3cret-token"));
	assert_false(gw_auth_bearer_ok(a, "Bearer "));
	assert_false(gw_auth_bearer_ok(a, ""));
	assert_false(gw_auth_bearer_ok(a, NULL));
	/* No token configured: nothing matches, the empty token least of all. */
	assert_false(gw_auth_bearer_ok(empty, "Bearer "));
	assert_false(gw_auth_bearer_ok(empty, "Bearer"));
	assert_false(gw_auth_bearer_ok(empty, "Bearer s3cret-token"));
	assert_false(gw_auth_bearer_ok(NULL, "Bearer s3cret-token"));
	gw_auth_free(a);
	gw_auth_free(empty);
}

static void test_csrf(void **state)
{
	struct gw_auth *a = gw_auth_new("", ""), *b = gw_auth_new("", "");
	char copy[GW_AUTH_ID_LEN + 2];

	(void)state;
	assert_true(is_lower_hex(gw_auth_csrf(a), GW_AUTH_ID_LEN));
	assert_string_not_equal(gw_auth_csrf(a), gw_auth_csrf(b));
	memcpy(copy, gw_auth_csrf(a), GW_AUTH_ID_LEN + 1);
	assert_true(gw_auth_csrf_ok(a, copy));
	assert_false(gw_auth_csrf_ok(b, copy));
	assert_false(gw_auth_csrf_ok(a, NULL));
	assert_false(gw_auth_csrf_ok(a, ""));
	copy[0] = copy[0] == 'a' ? 'b' : 'a';
	assert_false(gw_auth_csrf_ok(a, copy));
	memcpy(copy, gw_auth_csrf(a), GW_AUTH_ID_LEN + 1);
	copy[GW_AUTH_ID_LEN - 1] = '\0';
	assert_false(gw_auth_csrf_ok(a, copy));
	memcpy(copy, gw_auth_csrf(a), GW_AUTH_ID_LEN);
	copy[GW_AUTH_ID_LEN] = '0';
	copy[GW_AUTH_ID_LEN + 1] = '\0';
	assert_false(gw_auth_csrf_ok(a, copy));
	assert_false(gw_auth_csrf_ok(NULL, gw_auth_csrf(a)));
	gw_auth_free(a);
	gw_auth_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_round_trip),
		cmocka_unit_test(test_hash_password_refused),
		cmocka_unit_test(test_hash_known_answer),
		cmocka_unit_test(test_hash_malformed_named),
		cmocka_unit_test(test_new_configured),
		cmocka_unit_test(test_session_login_and_check),
		cmocka_unit_test(test_session_expiry_sliding),
		cmocka_unit_test(test_session_logout),
		cmocka_unit_test(test_session_eviction),
		cmocka_unit_test(test_cookie_parsing),
		cmocka_unit_test(test_login_lockout),
		cmocka_unit_test(test_bearer),
		cmocka_unit_test(test_csrf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
