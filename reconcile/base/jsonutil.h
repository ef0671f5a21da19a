/*
 * jsonutil.h: small json-c helpers shared by the normaliser, the diff and the
 * plan: numeric-aware deep equality, a total order over JSON values (for
 * sorting set-like arrays canonically), sorted object keys and compact
 * rendering.
 *
 * Numbers compare as numbers: 1, 1.0 and 1e0 are equal whatever json-c type
 * they were parsed as. A missing value (NULL pointer) and JSON null are the
 * same thing (json-c represents null as NULL).
 */
#ifndef PACER_JSONUTIL_H
#define PACER_JSONUTIL_H

#include <stddef.h>

struct json_object;

/* 1 when a and b are deeply equal (numbers numerically), else 0. */
int jsonutil_equal(struct json_object *a, struct json_object *b);

/*
 * A total order over JSON values, consistent with jsonutil_equal() (returns
 * 0 exactly when the values are equal): null < boolean < number < string <
 * array < object; numbers numerically; strings bytewise; arrays
 * element-wise then by length; objects by their sorted key lists, then by
 * the values in key order.
 */
int jsonutil_compare(struct json_object *a, struct json_object *b);

/*
 * Member `key` of obj, borrowed (no reference taken). NULL when obj is not an
 * object, when the key is missing, or when its value is null.
 */
struct json_object *jsonutil_get(struct json_object *obj, const char *key);

/*
 * The keys of object obj in strcmp order. *out is an array the caller frees
 * with free() (the strings are borrowed from obj and valid while obj is not
 * modified). Returns 0, or -1 when out of memory or obj is not an object.
 */
int jsonutil_sorted_keys(struct json_object *obj, const char ***out, size_t *n);

/*
 * Sort array arr in place by jsonutil_compare(); with dedup, equal
 * neighbours are removed (a set). Returns 0, -1 when out of memory.
 */
int jsonutil_sort_array(struct json_object *arr, int dedup);

/*
 * A new empty object whose table takes n members without growing: json-c
 * starts every object at 16 slots and rehashes all members each time two
 * thirds are used (four times for a 120-variable env map). Member order is
 * insertion order whatever the size. The caller releases it with
 * json_object_put(). NULL when out of memory.
 */
struct json_object *jsonutil_new_object_sized(size_t n);

/* A new JSON string of s, or NULL (JSON null) when s is NULL. */
struct json_object *jsonutil_string_or_null(const char *s);

/* Where a default would go in an object: key holds a value, is absent, or is null. */
enum jsonutil_slot {
	JSONUTIL_SLOT_TAKEN,
	JSONUTIL_SLOT_ABSENT,
	JSONUTIL_SLOT_NULL,
};

/* The slot of key in object obj. */
enum jsonutil_slot jsonutil_default_slot(struct json_object *obj, const char *key);

/*
 * obj[key] = v, taking v, in slot s (not taken) that jsonutil_default_slot()
 * found. An absent key goes in without a second lookup and without a copy of
 * key, which must then be a string literal.
 */
void jsonutil_put_default(struct json_object *obj, const char *key, struct json_object *v,
                          enum jsonutil_slot s);

/*
 * obj[key] = make unless key holds a value. `make` (an expression that
 * builds a new value) is only evaluated when the default is used: most apps
 * carry most fields, and a value built to be freed costs more than the
 * lookup.
 */
#define JSONUTIL_SET_DEFAULT(obj, key, make)                                                       \
	do {                                                                                       \
		struct json_object *o_ = (obj);                                                    \
		enum jsonutil_slot s_ = jsonutil_default_slot(o_, key);                            \
                                                                                                   \
		if (s_ != JSONUTIL_SLOT_TAKEN)                                                     \
			jsonutil_put_default(o_, key, (make), s_);                                 \
	} while (0)

/*
 * Compact one-line rendering ("nginx:1.25", 128, {"a":1}) with no escaped
 * slashes. Returns a new string the caller frees, "null" for NULL, or NULL
 * when out of memory.
 */
char *jsonutil_to_string(struct json_object *o);

#endif
