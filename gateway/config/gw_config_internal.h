/*
 * gw_config_internal: what the gw_config*.c files share and nothing outside gateway/config sees: the
 * key table's entry type, the parse and list callbacks it points at, the message helpers (so every
 * message has one shape and never echoes a secret) and the member readers for the objects inside lists.
 * gw_config.c walks the table; the other files hold the checks of one section each.
 */
#ifndef GW_CONFIG_INTERNAL_H
#define GW_CONFIG_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "gw_config.h"

#define KEY_PATH_MAX 128
#define GOT_MAX 96

enum key_type {
	KEY_OBJECT, /* a nested object; its members are the keys whose path starts with "<path>." */
	KEY_INT,    /* stored as int */
	KEY_STRING, /* stored by its parse function */
	KEY_CHOICE, /* one of a list of names, stored as the int index (an enum) */
	KEY_MAP,    /* an object of free-form members checked by its own function (ocpp.keys) */
	KEY_REAL,   /* a number (integer or real) within [min, max], stored as double */
	KEY_BOOL,   /* true or false, stored as bool; default def_int */
	KEY_LIST,   /* an array checked and stored by its own function (ems, policy.schedule) */
};

struct key_spec;

/* Turn a string value into its field. Return 0, or -EINVAL with the requirement text left in @why
 * ("must be ..."); the caller adds the key and the value. */
typedef int (*key_parse_fn)(const struct key_spec *k, const char *value, void *field, char *why,
			    size_t whylen);
/* Check and store a KEY_LIST array (@v NULL when absent). Messages name the member: "ems[1].url". */
typedef int (*key_list_fn)(const json_t *v, struct gw_config *cfg, char *err, size_t errlen);
/* Extra check of an integer already inside [min, max]. */
typedef bool (*key_int_ok_fn)(long long v);

struct key_spec {
	const char *path;           /* dotted: "twc.port" */
	enum key_type type;
	bool required;
	bool secret;                /* never echo its value in a message */
	size_t offset;              /* field in struct gw_config */
	size_t size;                /* KEY_STRING: size of the field */
	long long min, max;         /* KEY_INT */
	key_int_ok_fn int_ok;       /* KEY_INT, optional */
	const char *must;           /* KEY_INT, optional: requirement text replacing the range */
	long long def_int;          /* KEY_INT and KEY_CHOICE (index) default */
	const char *def_str;        /* KEY_STRING default (parsed like a value), NULL: none */
	const char *const *choices; /* KEY_CHOICE, NULL-terminated, in the order error messages list them */
	const int *values;          /* KEY_CHOICE: the enum value of each choice; NULL: its index */
	key_parse_fn parse;         /* KEY_STRING */
	key_list_fn list;           /* KEY_LIST */
	bool string_ok;             /* KEY_LIST: a single string is also accepted (http.listen) */
};

/* ---- messages and the table walk (gw_config.c) ---- */

/* printf into @err; NULL or 0 @errlen is allowed and writes nothing. */
void gw_config_err_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void gw_config_text_sanitize(const char *s, char *out, size_t outlen);
void gw_config_value_describe(const json_t *v, bool secret, char *out, size_t outlen);
json_t *gw_config_path_lookup(const json_t *root, const char *path);
/* The key_parse_fn every string parser ends in: non-empty, fits, copied. */
int gw_config_string_copy(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen);

/* Members of the objects inside lists (policy.schedule[i], ems[i]); @where names the object. */
int gw_config_members_check(const json_t *obj, const char *where, const char *const *allowed, char *err,
			    size_t errlen);
int gw_config_member_string_read(const json_t *obj, const char *where, const char *name, bool secret, char *out,
				 size_t outlen, char *err, size_t errlen);
int gw_config_member_int_read(const json_t *obj, const char *where, const char *name, long long lo, long long hi,
			      int *out, char *err, size_t errlen);
int gw_config_member_bool_read(const json_t *obj, const char *where, const char *name, bool *out, char *err,
			       size_t errlen);

/* ---- whole files (gw_config.c) and the chargePoints list (gw_config_points.c) ---- */

/* One file-like root (no chargePoints) through the table and every section's checks; @dir_check
 * false leaves dataDir uncreated, for a list whose other entries are still to be checked. */
int gw_config_root_load(const json_t *root, struct gw_config *out, bool dir_check, char *err, size_t errlen);
/* The operator's policy object on top of @root's "policy" (modified in place). */
int gw_config_policy_overlay(json_t *root, const json_t *overlay, char *err, size_t errlen);
/* A file or a text parsed (duplicates refused), syntax errors with their position; *@out a new
 * reference on success. */
int gw_config_file_root(const char *path, json_t **out, char *err, size_t errlen);
int gw_config_text_root(const char *text, const char *source, json_t **out, char *err, size_t errlen);
/* Entry @cp_id (NULL or "": the single form or the first entry) of a parsed file, with @policy on top. */
int gw_config_root_entry(json_t *root, const char *cp_id, const json_t *policy, struct gw_config *out, char *err,
			 size_t errlen);

/* ---- ocpp.* and tesla.* (gw_config_ocpp.c) ---- */

int gw_config_ws_url_parse(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen);
int gw_config_cbid_parse(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen);
int gw_config_auth_key_parse(const struct key_spec *k, const char *value, void *field, char *why,
			     size_t whylen);
/* An absolute path of an executable regular file (ocpp.firmwareInstallCommand). */
int gw_config_exec_parse(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen);
int gw_config_ca_file_parse(const struct key_spec *k, const char *value, void *field, char *why,
			    size_t whylen);
int gw_config_id_tag_parse(const struct key_spec *k, const char *value, void *field, char *why,
			   size_t whylen);
int gw_config_http_url_parse(const struct key_spec *k, const char *value, void *field, char *why,
			     size_t whylen);
int gw_config_ocpp_keys_apply(const json_t *obj, struct gw_config *cfg, char *err, size_t errlen);
int gw_config_ocpp_check(struct gw_config *cfg, const json_t *root, char *err, size_t errlen);
int gw_config_tesla_check(struct gw_config *cfg, const json_t *root, char *err, size_t errlen);

/* ---- times (gw_config_time.c) ---- */

int gw_config_until_parse(const struct key_spec *k, const char *value, void *field, char *why, size_t whylen);
int gw_config_hhmm_parse(const char *s, int *out);

/* ---- policy.* (gw_config_policy.c) ---- */

int gw_config_schedule_apply(const json_t *v, struct gw_config *cfg, char *err, size_t errlen);
int gw_config_policy_check(struct gw_config *cfg, const json_t *root, char *err, size_t errlen);

/* ---- ems (gw_config_meters.c) ---- */

int gw_config_ems_apply(const json_t *v, struct gw_config *cfg, char *err, size_t errlen);

/* ---- dataDir (gw_config_dir.c) ---- */

int gw_config_data_dir_check(const char *dir, char *err, size_t errlen);

/* ---- the http section (gw_config_http.c) ---- */
int gw_config_http_listen_apply(const json_t *v, struct gw_config *cfg, char *err, size_t errlen);
int gw_config_http_check(struct gw_config *cfg, const json_t *root, char *err, size_t errlen);

#endif
