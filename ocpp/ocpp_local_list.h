/*
 * ocpp_local_list: the Local Authorization List (OCPP 1.6 sections 3.5.2 and 5.15): idTags the
 * central system sends with SendLocalList, with a version number, consulted before the cache. It
 * decides nothing by itself; ocpp_cp applies LocalAuthListEnabled, LocalPreAuthorize and
 * LocalAuthorizeOffline. Pure: no I/O, time passed in.
 */
#ifndef OCPP_LOCAL_LIST_H
#define OCPP_LOCAL_LIST_H

#include <jansson.h>
#include <stdbool.h>

#include "ocpp_auth.h"

#define OCPP_LOCAL_LIST_MAX 1000 /* LocalAuthListMaxLength */
#define OCPP_SEND_LOCAL_LIST_MAX 250 /* SendLocalListMaxLength: ~140 bytes an entry fits one 64 kB frame */

/* One entry of a SendLocalList: without info it removes the idTag (differential update). */
struct ocpp_local_entry {
	char id_tag[OCPP_IDTAG_MAX + 1];
	bool has_info;
	struct ocpp_id_tag_info info;
};

struct ocpp_local_list;

struct ocpp_local_list *ocpp_local_list_new(void);
struct ocpp_local_list *ocpp_local_list_dup(const struct ocpp_local_list *l);
void ocpp_local_list_free(struct ocpp_local_list *l);

int ocpp_local_list_version(const struct ocpp_local_list *l); /* 0: none installed */
int ocpp_local_list_count(const struct ocpp_local_list *l);
/* idTags compare case-insensitively. An entry past its expiry is returned as Expired. */
bool ocpp_local_list_lookup(const struct ocpp_local_list *l, const char *id_tag, int64_t now_ms,
			    struct ocpp_id_tag_info *out);
/* Apply an update: @full replaces the list (entries without info are left out), a differential one
 * adds or replaces the entries with info and removes those without; a later duplicate wins. The
 * version becomes @version. -EOVERFLOW (list unchanged) when the result would pass
 * OCPP_LOCAL_LIST_MAX, -EINVAL for a bad argument. */
int ocpp_local_list_apply(struct ocpp_local_list *l, int version, bool full, const struct ocpp_local_entry *e,
			  int n);

/* Persistence: {"version":N,"list":[{"idTag":..,"status":..,"expiry":ms,"parent":..}, ...]}. */
json_t *ocpp_local_list_to_json(const struct ocpp_local_list *l);
/* Replace @l with the persisted list; -EINVAL (list unchanged) when @j is not one. */
int ocpp_local_list_load_json(struct ocpp_local_list *l, const json_t *j);

#endif
