/*
 * ocpp_auth: the authorization cache, kept as an array in recency order (oldest first, most recently
 * used last). At 256 entries a linear scan and a memmove per use cost less than any index would,
 * eviction is dropping entry 0, and the persisted list is the array itself, so loading it back in
 * order restores the recency too.
 */
#include "ocpp_auth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct auth_entry {
	char id_tag[OCPP_IDTAG_MAX + 1];
	struct ocpp_id_tag_info info;
};

struct ocpp_auth_cache {
	int n;
	struct auth_entry e[OCPP_AUTH_CACHE_MAX];
};

struct ocpp_auth_cache *ocpp_auth_cache_new(void)
{
	return calloc(1, sizeof(struct ocpp_auth_cache));
}

void ocpp_auth_cache_free(struct ocpp_auth_cache *a)
{
	free(a);
}

/* idTags are CiString20: a usable one is 1 to 20 bytes. */
bool ocpp_auth_tag_ok(const char *s)
{
	return s && s[0] && strnlen(s, OCPP_IDTAG_MAX + 1) <= OCPP_IDTAG_MAX;
}

/* ASCII-only folding: locale-free, and a tag differing in a non-ASCII byte is a different tag. */
bool ocpp_auth_tag_equal(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
		char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;

		if (x != y)
			return false;
		if (!x)
			return true;
	}
}

static int find(const struct ocpp_auth_cache *a, const char *id_tag)
{
	for (int i = 0; i < a->n; i++)
		if (ocpp_auth_tag_equal(a->e[i].id_tag, id_tag))
			return i;
	return -1;
}

/* Move entry @i to the most recent end; return its new index. */
static int touch(struct ocpp_auth_cache *a, int i)
{
	struct auth_entry tmp = a->e[i];

	memmove(&a->e[i], &a->e[i + 1], (size_t)(a->n - i - 1) * sizeof(a->e[0]));
	a->e[a->n - 1] = tmp;
	return a->n - 1;
}

bool ocpp_auth_cache_lookup(struct ocpp_auth_cache *a, const char *id_tag, int64_t now_ms,
			    struct ocpp_id_tag_info *out)
{
	struct auth_entry *en;
	int i;

	if (!a || !ocpp_auth_tag_ok(id_tag) || (i = find(a, id_tag)) < 0)
		return false;
	en = &a->e[touch(a, i)];
	/* Section 3.5.1: an entry whose validity has passed is Expired from then on. */
	if (en->info.expiry_ms != 0 && now_ms >= en->info.expiry_ms)
		en->info.status = OCPP_AUTH_EXPIRED;
	if (out)
		*out = en->info;
	return true;
}

void ocpp_auth_cache_update(struct ocpp_auth_cache *a, const char *id_tag, const struct ocpp_id_tag_info *info)
{
	struct auth_entry *en;
	int i;

	if (!a || !ocpp_auth_tag_ok(id_tag) || !info || (unsigned)info->status >= OCPP_AUTH_COUNT)
		return;
	i = find(a, id_tag);
	if (i < 0) {
		if (a->n == OCPP_AUTH_CACHE_MAX) {
			memmove(&a->e[0], &a->e[1], (size_t)(a->n - 1) * sizeof(a->e[0]));
			a->n--;
		}
		i = a->n++;
	}
	en = &a->e[touch(a, i)];
	/* Keep the spelling last given: it is what the central system knows. */
	memset(en, 0, sizeof(*en));
	memcpy(en->id_tag, id_tag, strlen(id_tag));
	en->info.status = info->status;
	en->info.expiry_ms = info->expiry_ms;
	memcpy(en->info.parent, info->parent, strnlen(info->parent, OCPP_IDTAG_MAX));
}

void ocpp_auth_cache_clear(struct ocpp_auth_cache *a)
{
	if (a)
		a->n = 0;
}

int ocpp_auth_cache_count(const struct ocpp_auth_cache *a)
{
	return a ? a->n : 0;
}

json_t *ocpp_auth_cache_to_json(const struct ocpp_auth_cache *a)
{
	json_t *arr = json_array();

	for (int i = 0; arr && a && i < a->n; i++) {
		json_t *o = ocpp_auth_entry_to_json(a->e[i].id_tag, &a->e[i].info);

		if (!o)
			continue; /* an idTag that is not UTF-8 cannot be written; it is only a cache */
		if (json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

json_t *ocpp_auth_entry_to_json(const char *id_tag, const struct ocpp_id_tag_info *info)
{
	return json_pack("{s:s, s:s, s:I, s:s}", "idTag", id_tag, "status", ocpp_auth_status_names[info->status],
			 "expiry", (json_int_t)info->expiry_ms, "parent", info->parent);
}

bool ocpp_auth_entry_from_json(const json_t *o, const char **id_tag, struct ocpp_id_tag_info *info)
{
	const json_t *jt = json_object_get(o, "idTag"), *js = json_object_get(o, "status");
	const json_t *jx = json_object_get(o, "expiry"), *jp = json_object_get(o, "parent");
	int st;

	if (!json_is_object(o) || !json_is_string(jt) || !ocpp_auth_tag_ok(json_string_value(jt)) ||
	    json_string_length(jt) > OCPP_IDTAG_MAX || !json_is_string(js))
		return false;
	for (st = 0; st < OCPP_AUTH_COUNT; st++)
		if (strcmp(json_string_value(js), ocpp_auth_status_names[st]) == 0)
			break;
	if (st == OCPP_AUTH_COUNT || (jx && (!json_is_integer(jx) || json_integer_value(jx) < 0)) ||
	    (jp && (!json_is_string(jp) || json_string_length(jp) > OCPP_IDTAG_MAX)))
		return false;
	memset(info, 0, sizeof(*info));
	*id_tag = json_string_value(jt);
	info->status = (enum ocpp_auth_status)st;
	info->expiry_ms = jx ? json_integer_value(jx) : 0;
	if (jp)
		memcpy(info->parent, json_string_value(jp), json_string_length(jp));
	return true;
}

int ocpp_auth_cache_load_json(struct ocpp_auth_cache *a, const json_t *arr)
{
	size_t i;
	const json_t *o;
	int skipped = 0;

	if (!arr)
		return 0;
	if (!a || !json_is_array(arr))
		return -EINVAL;
	json_array_foreach(arr, i, o) {
		struct ocpp_id_tag_info info;
		const char *id_tag;

		if (ocpp_auth_entry_from_json(o, &id_tag, &info))
			ocpp_auth_cache_update(a, id_tag, &info);
		else
			skipped++;
	}
	return skipped;
}
