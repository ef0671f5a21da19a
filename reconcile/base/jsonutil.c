/*
 * jsonutil.c: numeric-aware comparison and sorting of json-c values.
 *
 * Why a total order and not just equality: set-like collections
 * (constraints, health checks, ...) are stored by Marathon as sets and come
 * back in any order. Sorting both sides with the same total order turns set
 * comparison into plain element-wise comparison, in O(n log n).
 */
#include "reconcile/base/jsonutil.h"

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int type_rank(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null:
		return 0;
	case json_type_boolean:
		return 1;
	case json_type_int:
	case json_type_double:
		return 2;
	case json_type_string:
		return 3;
	case json_type_array:
		return 4;
	case json_type_object:
		return 5;
	}
	return 0;
}

static int compare_numbers(struct json_object *a, struct json_object *b)
{
	/* Two integers compare exactly; anything involving a double compares
	 * as doubles, so 1 == 1.0. */
	if (json_object_get_type(a) == json_type_int && json_object_get_type(b) == json_type_int) {
		int64_t x = json_object_get_int64(a), y = json_object_get_int64(b);

		return x < y ? -1 : x > y;
	} else {
		double x = json_object_get_double(a), y = json_object_get_double(b);

		return x < y ? -1 : x > y;
	}
}

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int jsonutil_sorted_keys(struct json_object *obj, const char ***out, size_t *n)
{
	const char **keys;
	size_t i = 0, len;

	*out = NULL;
	*n = 0;
	if (!json_object_is_type(obj, json_type_object))
		return -1;
	len = (size_t)json_object_object_length(obj);
	keys = calloc(len ? len : 1, sizeof(*keys));
	if (!keys)
		return -1;
	json_object_object_foreach(obj, k, v) {
		(void)v;
		keys[i++] = k;
	}
	qsort(keys, i, sizeof(*keys), cmp_cstr);
	*out = keys;
	*n = i;
	return 0;
}

static int compare_objects(struct json_object *a, struct json_object *b)
{
	const char **ka = NULL, **kb = NULL;
	size_t na = 0, nb = 0, i;
	int r = 0;

	if (jsonutil_sorted_keys(a, &ka, &na) || jsonutil_sorted_keys(b, &kb, &nb)) {
		/* Out of memory: fall back to an order that is still consistent
		 * for identical objects. */
		r = (int)json_object_object_length(a) - (int)json_object_object_length(b);
		goto done;
	}
	for (i = 0; i < na && i < nb && !r; i++)
		r = strcmp(ka[i], kb[i]);
	if (!r && na != nb)
		r = na < nb ? -1 : 1;
	for (i = 0; i < na && !r; i++)
		r = jsonutil_compare(json_object_object_get(a, ka[i]), json_object_object_get(b, ka[i]));
done:
	free(ka);
	free(kb);
	return r;
}

int jsonutil_compare(struct json_object *a, struct json_object *b)
{
	int ra = type_rank(a), rb = type_rank(b);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	switch (json_object_get_type(a)) {
	case json_type_null:
		return 0;
	case json_type_boolean:
		return json_object_get_boolean(a) - json_object_get_boolean(b);
	case json_type_int:
	case json_type_double:
		return compare_numbers(a, b);
	case json_type_string: {
		int la = json_object_get_string_len(a), lb = json_object_get_string_len(b);
		int r = memcmp(json_object_get_string(a), json_object_get_string(b),
			       (size_t)(la < lb ? la : lb));

		if (r)
			return r < 0 ? -1 : 1;
		return la < lb ? -1 : la > lb;
	}
	case json_type_array: {
		size_t na = json_object_array_length(a), nb = json_object_array_length(b), i;

		for (i = 0; i < na && i < nb; i++) {
			int r = jsonutil_compare(json_object_array_get_idx(a, i),
						 json_object_array_get_idx(b, i));
			if (r)
				return r;
		}
		return na < nb ? -1 : na > nb;
	}
	case json_type_object:
		return compare_objects(a, b);
	}
	return 0;
}

/*
 * Objects a and b have the same members. Normalised objects mostly list
 * their keys in the same order, so b's members are walked beside a's and
 * a key is looked up only where the orders differ (the walk then goes on
 * after the member found).
 */
static int objects_equal(struct json_object *a, struct json_object *b)
{
	struct lh_entry *ea, *eb;

	if (json_object_object_length(a) != json_object_object_length(b))
		return 0;
	eb = json_object_get_object(b)->head;
	for (ea = json_object_get_object(a)->head; ea; ea = ea->next, eb = eb->next) {
		const char *key = (const char *)lh_entry_k(ea);

		/* Out of step: find the key, and walk on from there. */
		if (!eb || strcmp(key, (const char *)lh_entry_k(eb)))
			eb = lh_table_lookup_entry(json_object_get_object(b), key);
		if (!eb || !jsonutil_equal((struct json_object *)lh_entry_v(ea),
					   (struct json_object *)lh_entry_v(eb)))
			return 0;
	}
	return 1;
}

/*
 * The same answer as jsonutil_compare() == 0 without ordering anything:
 * objects by lookup of each key (no sorted key lists), arrays element by
 * element, everything else through jsonutil_compare().
 */
int jsonutil_equal(struct json_object *a, struct json_object *b)
{
	enum json_type ta = json_object_get_type(a), tb = json_object_get_type(b);
	size_t i, n;

	if (a == b)
		return 1;
	/* Strings, most of the leaves, without jsonutil_compare()'s ordering. */
	if (ta == json_type_string && tb == json_type_string)
		return json_object_get_string_len(a) == json_object_get_string_len(b) &&
		       !memcmp(json_object_get_string(a), json_object_get_string(b),
			       (size_t)json_object_get_string_len(a));
	if (type_rank(a) != type_rank(b))
		return 0;
	switch (ta) {
	case json_type_object:
		return objects_equal(a, b);
	case json_type_array:
		n = json_object_array_length(a);
		if (n != json_object_array_length(b))
			return 0;
		for (i = 0; i < n; i++)
			if (!jsonutil_equal(json_object_array_get_idx(a, i),
					    json_object_array_get_idx(b, i)))
				return 0;
		return 1;
	default:
		return jsonutil_compare(a, b) == 0;
	}
}

/*
 * json_object_object_get_ex() for the lookups of the normaliser and of
 * Marathon's pipeline, most of them in small objects (a health check, a
 * port mapping) and for absent keys: in an object of up to SMALL_OBJECT
 * members (a table json-c never had to grow) the members are compared in
 * order (first byte, then the rest) instead of hashing the key.
 */
#define SMALL_OBJECT 16

static int member(struct json_object *obj, const char *key, struct json_object **v)
{
	struct lh_entry *e;

	if (json_object_object_length(obj) > SMALL_OBJECT)
		return json_object_object_get_ex(obj, key, v);
	for (e = json_object_get_object(obj)->head; e; e = e->next) {
		const char *k = (const char *)lh_entry_k(e);

		if (k[0] == key[0] && !strcmp(k, key)) {
			*v = (struct json_object *)lh_entry_v(e);
			return 1;
		}
	}
	*v = NULL;
	return 0;
}

struct json_object *jsonutil_get(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_is_type(obj, json_type_object))
		return NULL;
	if (!member(obj, key, &v))
		return NULL;
	return v; /* NULL for JSON null */
}

static int sort_fn(const void *a, const void *b)
{
	return jsonutil_compare(*(struct json_object *const *)a, *(struct json_object *const *)b);
}

int jsonutil_sort_array(struct json_object *arr, int dedup)
{
	size_t i, n;

	if (!json_object_is_type(arr, json_type_array))
		return 0;
	json_object_array_sort(arr, sort_fn);
	if (!dedup)
		return 0;
	n = json_object_array_length(arr);
	/* Delete duplicates from the end so indices stay valid. */
	for (i = n; i > 1; i--) {
		if (jsonutil_equal(json_object_array_get_idx(arr, i - 1),
				   json_object_array_get_idx(arr, i - 2)))
			json_object_array_del_idx(arr, i - 1, 1);
	}
	return 0;
}

struct json_object *jsonutil_new_object_sized(size_t n)
{
	struct json_object *o = json_object_new_object();
	int size = JSON_OBJECT_DEF_HASH_ENTRIES;

	if (!o)
		return NULL;
	/* The size at which inserting the n-th member does not trigger a resize. */
	while ((double)n >= size * LH_LOAD_FACTOR && size < (1 << 20))
		size *= 2;
	if (size > JSON_OBJECT_DEF_HASH_ENTRIES && lh_table_resize(json_object_get_object(o), size) != 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

char *jsonutil_to_string(struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	return strdup(s ? s : "null");
}

enum jsonutil_slot jsonutil_default_slot(struct json_object *obj, const char *key)
{
	struct json_object *cur = NULL;

	if (!json_object_is_type(obj, json_type_object) || !member(obj, key, &cur))
		return JSONUTIL_SLOT_ABSENT;
	return cur ? JSONUTIL_SLOT_TAKEN : JSONUTIL_SLOT_NULL;
}

void jsonutil_put_default(struct json_object *obj, const char *key, struct json_object *v,
                          enum jsonutil_slot s)
{
	if (s == JSONUTIL_SLOT_ABSENT)
		json_object_object_add_ex(obj, key, v,
		                          JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_KEY_IS_CONSTANT);
	else
		json_object_object_add(obj, key, v);
}

struct json_object *jsonutil_string_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}
