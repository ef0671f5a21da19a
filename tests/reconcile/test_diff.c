/*
 * diff_apps(): paths, values, order, escaping. Inputs are taken as already
 * normalised (the rules themselves are in test_normalize.c).
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/jsonutil.h"
#include "reconcile/diff.h"
#include "tests/lib/testlib.h"

static void expect_value(struct json_object *got, const char *want_sq)
{
	if (!want_sq) {
		cr_expect_null(got, "expected absent, got %s", json_object_to_json_string(got));
		return;
	}
	struct json_object *want = test_json(want_sq);

	cr_expect(jsonutil_equal(got, want), "expected %s, got %s", json_object_to_json_string(want),
		  json_object_to_json_string(got));
	json_object_put(want);
}

/* Leave a value unchecked in expect_change(). */
static const char ANY[] = "<any>";

/* ch[i] has path; old/new are single-quoted JSON, NULL for absent, or ANY. */
static void expect_change(const struct pacer_field_change *ch, size_t i, const char *path,
			  const char *old_sq, const char *new_sq)
{
	cr_expect_str_eq(ch[i].path, path, "change %zu", i);
	if (old_sq != ANY)
		expect_value(ch[i].old_value, old_sq);
	if (new_sq != ANY)
		expect_value(ch[i].new_value, new_sq);
}

/* One diff_apps() of two single-quoted documents, kept alive until diff_done(). */
struct diff_run {
	struct json_object *desired, *live;
	struct pacer_field_change *ch;
	size_t n;
};

/* Diff desired against live; the run must succeed with want_n changes. */
static void diff_run(struct diff_run *r, const char *desired_sq, const char *live_sq,
		     size_t want_n)
{
	r->desired = test_json(desired_sq);
	r->live = test_json(live_sq);
	r->ch = NULL;
	r->n = 0;
	cr_assert_eq(diff_apps(r->desired, r->live, &r->ch, &r->n), 0);
	cr_assert_eq(r->n, want_n);
}

static void diff_done(struct diff_run *r)
{
	diff_changes_free(r->ch, r->n);
	json_object_put(r->desired);
	json_object_put(r->live);
}

Test(diff, nested_paths_sorted_with_old_and_new)
{
	struct diff_run r;

	diff_run(&r,
		 "{'id':'/a','env':{'B':'2','NEW':'x'},'labels':{'keep':'1'},"
		 "'container':{'docker':{'image':'nginx:1.25'}},'healthChecks':[{'p':1}],"
		 "'upgradeStrategy':{'minimumHealthCapacity':0.5,'maximumOverCapacity':1}}",
		 "{'id':'/a','env':{'B':'1'},'labels':{'keep':'1','OLD':'y'},"
		 "'container':{'docker':{'image':'nginx:1.24'}},'healthChecks':[{'p':2}],"
		 "'upgradeStrategy':{'minimumHealthCapacity':1.0,'maximumOverCapacity':1.0}}",
		 6);
	expect_change(r.ch, 0, "/container/docker/image", "'nginx:1.24'", "'nginx:1.25'");
	expect_change(r.ch, 1, "/env/B", ANY, ANY);
	expect_change(r.ch, 2, "/env/NEW", NULL, "'x'");
	expect_change(r.ch, 3, "/healthChecks", "[{'p':2}]", ANY);
	expect_change(r.ch, 4, "/labels/OLD", "'y'", NULL);
	expect_change(r.ch, 5, "/upgradeStrategy/minimumHealthCapacity", ANY, ANY);
	diff_done(&r);
}

Test(diff, equal_documents_and_numbers)
{
	struct json_object *d = test_json("{'a':1,'b':[1,2.0],'c':{'x':0.5}}");
	struct json_object *l = test_json("{'c':{'x':0.50},'b':[1.0,2],'a':1.0}");
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
	struct diff_run r;

	diff_run(&r, "{'labels':{'a/b':'1','c~d':'2'},'env':{'X':'1','Y':'2'}}", "{}", 4);
	expect_change(r.ch, 0, "/env/X", ANY, ANY);
	expect_change(r.ch, 1, "/env/Y", ANY, ANY);
	expect_change(r.ch, 2, "/labels/a~1b", ANY, ANY);
	expect_change(r.ch, 3, "/labels/c~0d", ANY, ANY);
	diff_done(&r);
}

Test(diff, type_change_and_empty_object_are_reported)
{
	struct diff_run r;

	diff_run(&r, "{'unreachableStrategy':'disabled','check':{}}",
		 "{'unreachableStrategy':{'inactiveAfterSeconds':0,'expungeAfterSeconds':0}}", 2);
	expect_change(r.ch, 0, "/check", ANY, "{}");
	expect_change(r.ch, 1, "/unreachableStrategy", ANY, "'disabled'");
	diff_done(&r);
}

Test(diff, changes_own_their_values)
{
	struct diff_run r;

	diff_run(&r, "{'cmd':'b'}", "{'cmd':'a'}", 1);
	/* The inputs are gone; the change still holds its values. */
	json_object_put(r.desired);
	json_object_put(r.live);
	r.desired = r.live = NULL;
	cr_expect_str_eq(json_object_get_string(r.ch[0].old_value), "a");
	cr_expect_str_eq(json_object_get_string(r.ch[0].new_value), "b");
	diff_done(&r);
}
