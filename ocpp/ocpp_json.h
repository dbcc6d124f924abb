/*
 * ocpp_json: read OCPP payload fields into C values with the checks the 1.6 JSON schemas make, and
 * say which CALLERROR a violation deserves: a missing required field is OccurenceConstraintViolation,
 * a wrong JSON type TypeConstraintViolation, a value outside its enum, range or CiString length, or a
 * field the schema does not allow, PropertyConstraintViolation. Also the UTC date-time format every
 * OCPP timestamp uses. Pure: no I/O, no clock.
 */
#ifndef OCPP_JSON_H
#define OCPP_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ocpp_frame.h"

/* Where a payload went wrong: the code for the CALLERROR and a description naming the field. */
struct ocpp_perr {
	enum ocpp_error error; /* OCPP_ERR_NONE while all is well */
	char desc[128];
};

/*
 * Each reader checks @obj[@key] and stores it in @out. A missing key is an error only when
 * @required; then @out is untouched and the return is 0 with *present (if given) false.
 * Return: 1 when the value was read, 0 when absent and optional, -EINVAL on a violation (recorded in
 * @e, the first violation wins). @obj must be a JSON object.
 */
/* CiString of at most @maxlen characters (bytes for non-ASCII too, as the schemas count them).
 * @outsz must be > @maxlen. */
int ocpp_json_string(const json_t *obj, const char *key, size_t maxlen, bool required, char *out,
		     size_t outsz, struct ocpp_perr *e);
/* The same without a copy: *out points into @obj (valid while it lives). A string holding a NUL
 * character is PropertyConstraintViolation (it would be cut short as a C string). */
int ocpp_json_string_ref(const json_t *obj, const char *key, size_t maxlen, bool required, const char **out,
			 struct ocpp_perr *e);
/* An anyURI field (remoteLocation, firmware location) as ocpp_json_string_ref(), that must also pass
 * ocpp_uri_ok() (PropertyConstraintViolation otherwise). */
int ocpp_json_uri(const json_t *obj, const char *key, size_t maxlen, bool required, const char **out,
		  struct ocpp_perr *e);
/* RFC 3986's scheme ("ftp", "https", ...), ':', then at least one character, none of them a space
 * or a control character (UTF-8 beyond ASCII is let through, as anyURI takes IRIs). */
bool ocpp_uri_ok(const char *s);
/* JSON integer from @min to @max. A real with no fractional part (e.g. 3.0) is accepted, 3.5 is not. */
int ocpp_json_int(const json_t *obj, const char *key, int64_t min, int64_t max, bool required, int64_t *out,
		  struct ocpp_perr *e);
/* JSON number (integer or real) from @min to @max. */
int ocpp_json_number(const json_t *obj, const char *key, double min, double max, bool required, double *out,
		     struct ocpp_perr *e);
/* One of @names[0..@n-1] (exact, case-sensitive); *out = its index. */
int ocpp_json_enum(const json_t *obj, const char *key, const char *const *names, int n, bool required, int *out,
		   struct ocpp_perr *e);
/* A date-time per ocpp_time_parse(); *out = Unix time in ms. A string that does not parse is
 * PropertyConstraintViolation (the schemas say format date-time). */
int ocpp_json_time(const json_t *obj, const char *key, bool required, int64_t *out, struct ocpp_perr *e);
/* A JSON object or array (type check only); *out borrowed from @obj. */
int ocpp_json_object(const json_t *obj, const char *key, bool required, const json_t **out, struct ocpp_perr *e);
int ocpp_json_array(const json_t *obj, const char *key, bool required, const json_t **out, struct ocpp_perr *e);

/* Every key of @obj must be in the NULL-terminated @allowed list (the schemas' additionalProperties
 * false). Return 0 or -EINVAL (PropertyConstraintViolation naming the key). */
int ocpp_json_only(const json_t *obj, const char *const *allowed, struct ocpp_perr *e);

/* Record a violation if none is recorded yet (for checks the readers cannot make). Return -EINVAL. */
int ocpp_perr_set(struct ocpp_perr *e, enum ocpp_error code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define OCPP_TIME_LEN 24 /* "2026-11-21T10:00:00.000Z" */

/* Unix ms -> "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC, always with milliseconds). @buf >= OCPP_TIME_LEN + 1. */
void ocpp_time_format(int64_t unix_ms, char *buf, size_t bufsz);
/* RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS", optional fraction (any number of digits, kept to ms),
 * then "Z" or "+hh:mm"/"-hh:mm". Also accepts no zone at all (taken as UTC: some back-ends send that).
 * Return 0 and *out, or -EINVAL. */
int ocpp_time_parse(const char *s, int64_t *out);

#endif
