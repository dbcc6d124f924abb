/*
 * ocpp_local_list: the Local Authorization List as an array in the order the central system built
 * it. At 1000 entries a linear scan per lookup (a plug-in, a remote start) costs microseconds, and
 * an update works on a copy so that a failed one leaves the list as it was.
 */
#include "ocpp_local_list.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct local_entry {
	char id_tag[OCPP_IDTAG_MAX + 1];
	struct ocpp_id_tag_info info;
};

struct ocpp_local_list {
	int version;
	int n;
	struct local_entry e[OCPP_LOCAL_LIST_MAX];
};

struct ocpp_local_list *ocpp_local_list_new(void)
{
	return calloc(1, sizeof(struct ocpp_local_list));
}

struct ocpp_local_list *ocpp_local_list_dup(const struct ocpp_local_list *l)
{
	struct ocpp_local_list *d = l ? malloc(sizeof(*d)) : NULL;

	if (d)
		memcpy(d, l, sizeof(*d));
	return d;
}

void ocpp_local_list_free(struct ocpp_local_list *l)
{
	free(l);
}

int ocpp_local_list_version(const struct ocpp_local_list *l)
{
	return l ? l->version : 0;
}

int ocpp_local_list_count(const struct ocpp_local_list *l)
{
	return l ? l->n : 0;
}

static int find(const struct ocpp_local_list *l, const char *id_tag)
{
	for (int i = 0; i < l->n; i++)
		if (ocpp_auth_tag_equal(l->e[i].id_tag, id_tag))
			return i;
	return -1;
}

bool ocpp_local_list_lookup(const struct ocpp_local_list *l, const char *id_tag, int64_t now_ms,
			    struct ocpp_id_tag_info *out)
{
	int i;

	if (!l || !ocpp_auth_tag_ok(id_tag) || (i = find(l, id_tag)) < 0)
		return false;
	if (out) {
		*out = l->e[i].info;
		if (out->expiry_ms != 0 && now_ms >= out->expiry_ms)
			out->status = OCPP_AUTH_EXPIRED;
	}
	return true;
}

/* Insert or replace @id_tag; false when the list is full. */
static bool put(struct ocpp_local_list *l, const char *id_tag, const struct ocpp_id_tag_info *info)
{
	int i = find(l, id_tag);

	if (i < 0) {
		if (l->n == OCPP_LOCAL_LIST_MAX)
			return false;
		i = l->n++;
	}
	memset(&l->e[i], 0, sizeof(l->e[i]));
	memcpy(l->e[i].id_tag, id_tag, strlen(id_tag));
	l->e[i].info = *info;
	return true;
}

static void drop(struct ocpp_local_list *l, const char *id_tag)
{
	int i = find(l, id_tag);

	if (i >= 0) {
		memmove(&l->e[i], &l->e[i + 1], (size_t)(l->n - i - 1) * sizeof(l->e[0]));
		l->n--;
	}
}

int ocpp_local_list_apply(struct ocpp_local_list *l, int version, bool full, const struct ocpp_local_entry *e,
			  int n)
{
	struct ocpp_local_list *w;

	if (!l || n < 0 || (n > 0 && !e) || version < 0)
		return -EINVAL;
	for (int i = 0; i < n; i++)
		if (!ocpp_auth_tag_ok(e[i].id_tag) || (e[i].has_info && (unsigned)e[i].info.status >= OCPP_AUTH_COUNT))
			return -EINVAL;
	w = full ? ocpp_local_list_new() : ocpp_local_list_dup(l);
	if (!w)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		if (!e[i].has_info) {
			drop(w, e[i].id_tag);
		} else if (!put(w, e[i].id_tag, &e[i].info)) {
			free(w);
			return -EOVERFLOW;
		}
	}
	w->version = version;
	memcpy(l, w, sizeof(*l));
	free(w);
	return 0;
}

json_t *ocpp_local_list_to_json(const struct ocpp_local_list *l)
{
	json_t *arr = json_array(), *j;

	for (int i = 0; arr && l && i < l->n; i++) {
		json_t *o = ocpp_auth_entry_to_json(l->e[i].id_tag, &l->e[i].info);

		/* Every idTag came through jansson from a frame, so it is UTF-8: an entry that cannot be
		 * written is a fault, and a list saved without it would authorise differently. */
		if (!o || json_array_append_new(arr, o) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	if (!arr)
		return NULL;
	j = json_pack("{s:i,s:o}", "version", l ? l->version : 0, "list", arr);
	return j;
}

int ocpp_local_list_load_json(struct ocpp_local_list *l, const json_t *j)
{
	const json_t *arr = json_object_get(j, "list"), *jv = json_object_get(j, "version"), *o;
	struct ocpp_local_list *w;
	size_t i;

	if (!l || !json_is_object(j) || !json_is_array(arr) || !json_is_integer(jv) || json_integer_value(jv) < 0 ||
	    json_integer_value(jv) > INT32_MAX || json_array_size(arr) > OCPP_LOCAL_LIST_MAX)
		return -EINVAL;
	w = ocpp_local_list_new();
	if (!w)
		return -ENOMEM;
	json_array_foreach(arr, i, o) {
		struct ocpp_id_tag_info info;
		const char *id_tag;

		if (!ocpp_auth_entry_from_json(o, &id_tag, &info) || !put(w, id_tag, &info)) {
			free(w);
			return -EINVAL;
		}
	}
	w->version = (int)json_integer_value(jv);
	memcpy(l, w, sizeof(*l));
	free(w);
	return 0;
}
