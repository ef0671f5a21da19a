/*
 * diff_apps(): paths, values, order, escaping. Inputs are taken as already
 * normalised (the rules themselves are in test_normalize.c).
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/diff.h"
#include "reconcile/jsonutil.h"

static struct json_object *J(const char *sq)
{
	char *s = strdup(sq);
	struct json_object *o;

	cr_assert_not_null(s);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	o = json_tokener_parse(s);
	cr_assert_not_null(o, "bad test JSON: %s", s);
	free(s);
	return o;
}

static void expect_value(struct json_object *got, const char *want_sq)
{
	if (!want_sq) {
		cr_expect_null(got, "expected absent, got %s", json_object_to_json_string(got));
		return;
	}
	struct json_object *want = J(want_sq);

	cr_expect(jsonutil_equal(got, want), "expected %s, got %s", json_object_to_json_string(want),
		  json_object_to_json_string(got));
	json_object_put(want);
}

Test(diff, nested_paths_sorted_with_old_and_new)
{
	struct json_object *d = J("{'id':'/a','env':{'B':'2','NEW':'x'},'labels':{'keep':'1'},"
				  "'container':{'docker':{'image':'nginx:1.25'}},'healthChecks':[{'p':1}],"
				  "'upgradeStrategy':{'minimumHealthCapacity':0.5,'maximumOverCapacity':1}}");
	struct json_object *l = J("{'id':'/a','env':{'B':'1'},'labels':{'keep':'1','OLD':'y'},"
				  "'container':{'docker':{'image':'nginx:1.24'}},'healthChecks':[{'p':2}],"
				  "'upgradeStrategy':{'minimumHealthCapacity':1.0,'maximumOverCapacity':1.0}}");
	struct pacer_field_change *ch = NULL;
	size_t n = 0;

	cr_assert_eq(diff_apps(d, l, &ch, &n), 0);
	cr_assert_eq(n, 6);
	cr_expect_str_eq(ch[0].path, "/container/docker/image");
	expect_value(ch[0].old_value, "'nginx:1.24'");
	expect_value(ch[0].new_value, "'nginx:1.25'");
	cr_expect_str_eq(ch[1].path, "/env/B");
	cr_expect_str_eq(ch[2].path, "/env/NEW");
	expect_value(ch[2].old_value, NULL);
	expect_value(ch[2].new_value, "'x'");
	cr_expect_str_eq(ch[3].path, "/healthChecks");
	expect_value(ch[3].old_value, "[{'p':2}]");
	cr_expect_str_eq(ch[4].path, "/labels/OLD");
	expect_value(ch[4].old_value, "'y'");
	expect_value(ch[4].new_value, NULL);
	cr_expect_str_eq(ch[5].path, "/upgradeStrategy/minimumHealthCapacity");
	diff_changes_free(ch, n);
	json_object_put(d);
	json_object_put(l);
}

Test(diff, equal_documents_and_numbers)
{
	struct json_object *d = J("{'a':1,'b':[1,2.0],'c':{'x':0.5}}");
	struct json_object *l = J("{'c':{'x':0.50},'b':[1.0,2],'a':1.0}");
	struct pacer_field_change *ch = (void *)1;
	size_t n = 9;

	cr_assert_eq(diff_apps(d, l, &ch, &n), 0);
	cr_expect_eq(n, 0);
	cr_expect_null(ch);
	json_object_put(d);
	json_object_put(l);
}

Test(diff, keys_are_escaped_and_new_objects_expand)
{
	struct json_object *d = J("{'labels':{'a/b':'1','c~d':'2'},'env':{'X':'1','Y':'2'}}");
	struct json_object *l = J("{}");
	struct pacer_field_change *ch = NULL;
	size_t n = 0;

	cr_assert_eq(diff_apps(d, l, &ch, &n), 0);
	cr_assert_eq(n, 4);
	cr_expect_str_eq(ch[0].path, "/env/X");
	cr_expect_str_eq(ch[1].path, "/env/Y");
	cr_expect_str_eq(ch[2].path, "/labels/a~1b");
	cr_expect_str_eq(ch[3].path, "/labels/c~0d");
	diff_changes_free(ch, n);
	json_object_put(d);
	json_object_put(l);
}

Test(diff, type_change_and_empty_object_are_reported)
{
	struct json_object *d = J("{'unreachableStrategy':'disabled','check':{}}");
	struct json_object *l = J("{'unreachableStrategy':{'inactiveAfterSeconds':0,'expungeAfterSeconds':0}}");
	struct pacer_field_change *ch = NULL;
	size_t n = 0;

	cr_assert_eq(diff_apps(d, l, &ch, &n), 0);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(ch[0].path, "/check");
	expect_value(ch[0].new_value, "{}");
	cr_expect_str_eq(ch[1].path, "/unreachableStrategy");
	expect_value(ch[1].new_value, "'disabled'");
	diff_changes_free(ch, n);
	json_object_put(d);
	json_object_put(l);
}

Test(diff, changes_own_their_values)
{
	struct json_object *d = J("{'cmd':'b'}"), *l = J("{'cmd':'a'}");
	struct pacer_field_change *ch = NULL;
	size_t n = 0;

	cr_assert_eq(diff_apps(d, l, &ch, &n), 0);
	json_object_put(d);
	json_object_put(l);
	/* The inputs are gone; the change still holds its values. */
	cr_assert_eq(n, 1);
	cr_expect_str_eq(json_object_get_string(ch[0].old_value), "a");
	cr_expect_str_eq(json_object_get_string(ch[0].new_value), "b");
	diff_changes_free(ch, n);
}
