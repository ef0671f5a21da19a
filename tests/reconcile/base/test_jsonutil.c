/*
 * jsonutil_equal() answers without sorting anything; it must agree with the
 * total order jsonutil_compare() on every pair (the diff's fast path and
 * the normaliser's set sorting rely on the two being one notion).
 */
#include <criterion/criterion.h>
#include <json-c/json.h>

#include "reconcile/base/jsonutil.h"

static const char *const values[] = {
    "null", "true", "false", "0", "1", "1.0", "1.5", "-1", "\"1\"", "\"\"", "\"a\"",
    "[]", "[1]", "[1.0]", "[1, 2]", "[2, 1]", "[[1], {}]", "[[1.0], {}]",
    "{}", "{\"a\": 1}", "{\"a\": 1.0}", "{\"a\": 2}", "{\"b\": 1}", "{\"a\": null}",
    "{\"a\": 1, \"b\": 2}", "{\"b\": 2, \"a\": 1}", "{\"a\": 1, \"b\": 3}",
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
