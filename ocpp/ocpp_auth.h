/*
 * ocpp_auth: the authorization cache (OCPP 1.6 section 3.5.1): the last IdTagInfo the central system
 * gave for each idTag, bounded in size (least recently used entry replaced), with expiry. It decides
 * nothing by itself; ocpp_cp applies AuthorizationCacheEnabled, LocalPreAuthorize and
 * LocalAuthorizeOffline. Pure: no I/O, time passed in.
 */
#ifndef OCPP_AUTH_H
#define OCPP_AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ocpp_types.h"

#define OCPP_AUTH_CACHE_MAX 256

struct ocpp_id_tag_info {
	enum ocpp_auth_status status;
	int64_t expiry_ms;                  /* Unix ms; 0 = no expiry */
	char parent[OCPP_IDTAG_MAX + 1];    /* "" = none */
};

struct ocpp_auth_cache;

struct ocpp_auth_cache *ocpp_auth_cache_new(void);
void ocpp_auth_cache_free(struct ocpp_auth_cache *a);

/* idTags compare case-insensitively (CiString). Return true and *out if cached. An entry past its
 * expiry is returned with status OCPP_AUTH_EXPIRED. @now_ms is Unix ms. */
bool ocpp_auth_cache_lookup(struct ocpp_auth_cache *a, const char *id_tag, int64_t now_ms,
			    struct ocpp_id_tag_info *out);
/* Insert or replace; the least recently used entry makes room when full. */
void ocpp_auth_cache_update(struct ocpp_auth_cache *a, const char *id_tag, const struct ocpp_id_tag_info *info);
void ocpp_auth_cache_clear(struct ocpp_auth_cache *a);
int ocpp_auth_cache_count(const struct ocpp_auth_cache *a);

/* idTags are CiString20 (1 to 20 bytes) and compare case-insensitively, ASCII only. */
bool ocpp_auth_tag_ok(const char *s);
bool ocpp_auth_tag_equal(const char *a, const char *b);
/* One persisted entry {"idTag","status","expiry","parent"} (NULL if the idTag is not UTF-8), and
 * back; false when anything about it is wrong. */
json_t *ocpp_auth_entry_to_json(const char *id_tag, const struct ocpp_id_tag_info *info);
bool ocpp_auth_entry_from_json(const json_t *o, const char **id_tag, struct ocpp_id_tag_info *info);

/* Persistence: [{"idTag":..,"status":..,"expiry":ms,"parent":..}, ...] in recency order. */
json_t *ocpp_auth_cache_to_json(const struct ocpp_auth_cache *a);
/* Bad entries are skipped. Return the number skipped. */
int ocpp_auth_cache_load_json(struct ocpp_auth_cache *a, const json_t *arr);

#endif
