/*
 * jsonutil_equal() answers without sorting anything; it must agree with the
 * total order jsonutil_compare() on every pair (the diff's fast path and
 * the normaliser's set sorting rely on the two being one notion).
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "reconcile/base/jsonutil.h"

static const char *const values[] = {
    "null", "true", "false", "0", "1", "1.0", "1.5", "-1", "\"1\"", "\"\"", "\"a\"",
    "[]", "[1]", "[1.0]", "[1, 2]", "[2, 1]", "[[1], {}]", "[[1.0], {}]",
    "{}", "{\"a\": 1}", "{\"a\": 1.0}", "{\"a\": 2}", "{\"b\": 1}", "{\"a\": null}",
    "{\"a\": 1, \"b\": 2}", "{\"b\": 2, \"a\": 1}", "{\"a\": 1, \"b\": 3}", "{\"a\": 1, \"c\": 2}",
    "{\"c\": 2, \"a\": 1}", "{\"b\": 3, \"a\": 1}", "{\"a\": 1, \"b\": 2, \"c\": 3}", "{\"c\": 3, \"a\": 1, \"b\": 2}",
    "{\"a\": {\"x\": [1, {\"y\": null}]}}", "{\"a\": {\"x\": [1.0, {\"y\": null}]}}",
    "{\"a\": {\"x\": [1, {\"y\": 0}]}}", "{\"a\": {\"x\": [1, {}]}}",
    NULL};

Test(jsonutil, equal_agrees_with_compare_on_every_pair)
{
	struct json_object *v[64];
	size_t n = 0, equal_pairs = 0;

	for (; values[n]; n++) {
		v[n] = json_tokener_parse(values[n]);
		cr_assert(v[n] || !strcmp(values[n], "null"), "cannot parse %s", values[n]);
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			int eq = jsonutil_equal(v[i], v[j]), cmp = jsonutil_compare(v[i], v[j]);

			cr_assert_eq(eq, cmp == 0, "%s vs %s: equal %d, compare %d", values[i],
				     values[j], eq, cmp);
			equal_pairs += eq && i != j;
		}
	}
	/* 1 = 1.0 at three depths, and key order: the list holds such pairs. */
	cr_assert_geq(equal_pairs, 8, "only %zu equal pairs of different texts", equal_pairs);
	for (size_t i = 0; i < n; i++)
		json_object_put(v[i]);
}

/*
 * jsonutil_get() and jsonutil_default_slot() compare keys in order in small
 * objects and hash them in larger ones: both must find every member, null
 * ones included, and nothing else, at every size around the switch.
 */
Test(jsonutil, get_finds_members_at_every_object_size)
{
	char key[32], other[32];

	for (int n = 0; n <= 40; n++) {
		struct json_object *o = json_object_new_object();

		for (int i = 0; i < n; i++) {
			snprintf(key, sizeof(key), "k%02d", i);
			json_object_object_add(o, key, i % 5 == 4 ? NULL : json_object_new_int(i));
		}
		for (int i = 0; i < n; i++) {
			snprintf(key, sizeof(key), "k%02d", i);
			snprintf(other, sizeof(other), "k%02dx", i);
			if (i % 5 == 4) {
				cr_assert_null(jsonutil_get(o, key));
				cr_assert_eq(jsonutil_default_slot(o, key), JSONUTIL_SLOT_NULL, "%s of %d", key, n);
			} else {
				cr_assert_eq(json_object_get_int(jsonutil_get(o, key)), i, "%s of %d", key, n);
				cr_assert_eq(jsonutil_default_slot(o, key), JSONUTIL_SLOT_TAKEN, "%s of %d", key, n);
			}
			cr_assert_null(jsonutil_get(o, other), "%s of %d", other, n);
			cr_assert_eq(jsonutil_default_slot(o, other), JSONUTIL_SLOT_ABSENT);
		}
		cr_assert_null(jsonutil_get(o, ""));
		cr_assert_null(jsonutil_get(o, "k"));
		json_object_put(o);
	}
	cr_assert_null(jsonutil_get(NULL, "a"));
	cr_assert_eq(jsonutil_default_slot(NULL, "a"), JSONUTIL_SLOT_ABSENT);
}
