/*
 * gw_auth: who may read and steer twcgw over HTTP. A password is kept only as a salted PBKDF2-SHA256
 * hash ("pbkdf2-sha256$<iterations>$<salt>$<hash>", base64, made by twcgw --hash-password); a login
 * with it opens a session (a random id in an HttpOnly, SameSite=Strict cookie, bounded table, expiry).
 * A bearer token is the alternative for scripts. Every request that changes something must carry the
 * CSRF token unless it came with a bearer token. Failed logins are slowed per process. Comparisons of
 * secrets take constant time; no secret is logged. Pure apart from OpenSSL's random bytes.
 */
#ifndef GW_AUTH_H
#define GW_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_AUTH_HASH_MAX 160
#define GW_AUTH_ID_LEN 64 /* hex characters of a session id or CSRF token */
#define GW_AUTH_COOKIE "twcgw_session"

struct gw_auth;

/* Hash @password (at least 8 characters) with a new random salt. Return 0, -EINVAL (too short, with
 * @err), -EIO (no random bytes). */
int gw_auth_hash_password(const char *password, char *out, size_t outlen, char *err, size_t errlen);

/* Is @hash a well-formed password hash? 0, or -EINVAL with @why. */
int gw_auth_hash_check(const char *hash, char *why, size_t whylen);

/* Does @password match @hash? 1 yes, 0 no, -EINVAL for a malformed hash. Constant time compare. */
int gw_auth_password_matches(const char *hash, const char *password);

/* @password_hash and @token may be "" (none). NULL on allocation failure or no random bytes. */
struct gw_auth *gw_auth_new(const char *password_hash, const char *token);
void gw_auth_free(struct gw_auth *a);

/* Is there any credential configured? A password (a login form makes sense)? */
bool gw_auth_configured(const struct gw_auth *a);
bool gw_auth_has_password(const struct gw_auth *a);

/* Login with the password at @now_ms: 0 and a new session id in @sid (GW_AUTH_ID_LEN + 1 bytes),
 * -EACCES wrong password, -EAGAIN too many failures lately (retry later), -ENOENT no password set. */
int gw_auth_login(struct gw_auth *a, const char *password, uint64_t now_ms, char *sid);

/* The session named by the Cookie header @cookie, if valid at @now_ms (sliding expiry 12 h). */
bool gw_auth_session_ok(struct gw_auth *a, const char *cookie, uint64_t now_ms);
void gw_auth_logout(struct gw_auth *a, const char *cookie);

/* "Bearer <token>" matching the configured token. */
bool gw_auth_bearer_ok(const struct gw_auth *a, const char *authorization);

/* The process's CSRF token (random at gw_auth_new), and whether @presented matches it. */
const char *gw_auth_csrf(const struct gw_auth *a);
bool gw_auth_csrf_ok(const struct gw_auth *a, const char *presented);

#endif
