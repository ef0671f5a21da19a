/*
 * normalize_app()'s handling of an app's members, on both of its paths (the
 * app accepted by appdef_submit(), and the raw fallback for an app appdef
 * rejects): every field Marathon reads is kept, every other one dropped
 * (the known-field list is searched by bisection, so a field missing from
 * it, or the list out of order, shows here), nulls are absent at any depth,
 * integral doubles are integers at any depth, and the input is never
 * touched.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/normalize.h"
#include "tests/lib/testlib.h"

#define J(sq) test_json(sq)

static const char *text(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

static struct json_object *norm(struct json_object *app, int skip_appdef)
{
	struct normalize_options o = NORMALIZE_OPTIONS_INIT;
	struct json_object *out = NULL;
	struct pacer_error *err = NULL;

	o.skip_appdef = skip_appdef;
	cr_assert_eq(normalize_app(app, &o, &out, &err), 0, "%s", err ? err->message : "");
	cr_assert_not_null(out);
	return out;
}

/* Every App field (1.10 RAML) with a value that survives canonicalisation;
 * role "*" makes appdef reject it under the default DC/OS flags, so the
 * default options take the raw fallback, as for a live app. */
static const char every_field[] =
	"{'id': '/team/app', 'acceptedResourceRoles': ['*'], 'args': ['a'], 'backoffFactor': 1.5,"
	" 'backoffSeconds': 2, 'check': {'tcp': {'endpoint': 'x'}}, 'cmd': 'run', 'constraints': [['host', 'UNIQUE']],"
	" 'container': {'type': 'MESOS', 'volumes': [{'containerPath': 'c', 'hostPath': 'h', 'mode': 'RO'}]},"
	" 'cpus': 0.5, 'dependencies': ['/team/db'], 'disk': 5, 'env': {'A': 'b'}, 'executor': 'e',"
	" 'executorResources': {'cpus': 0.5, 'mem': 64, 'disk': 20}, 'fetch': [{'uri': 'http://x/y'}], 'gpus': 1,"
	" 'healthChecks': [{'protocol': 'TCP'}], 'instances': 3, 'killSelection': 'OLDEST_FIRST', 'labels': {'l': 'v'},"
	" 'maxLaunchDelaySeconds': 60, 'mem': 256, 'networks': [{'mode': 'host'}], 'portDefinitions': [{'port': 0}],"
	" 'readinessChecks': [{'name': 'r'}], 'requirePorts': true, 'resourceLimits': {'cpus': 'unlimited'},"
	" 'role': '*', 'secrets': {'s': {'source': 'x'}}, 'taskKillGracePeriodSeconds': 5, 'tty': true,"
	" 'unreachableStrategy': {'inactiveAfterSeconds': 1, 'expungeAfterSeconds': 2},"
	" 'upgradeStrategy': {'minimumHealthCapacity': 0.5, 'maximumOverCapacity': 0.5}, 'user': 'nobody',"
	" 'AAA': 1, 'zzz': 2, 'version': '2026-01-01T00:00:00Z', 'tasks': [{'id': 't'}], 'deployments': [],"
	" 'tasksRunning': 1, 'force': true, 'residency': {'taskLostBehavior': 'WAIT_FOREVER'}, 'Cmd': 'x'}";

static const char *const kept[] = {
	"id", "acceptedResourceRoles", "args", "backoffFactor", "backoffSeconds", "check", "cmd", "constraints",
	"container", "cpus", "dependencies", "disk", "env", "executor", "executorResources", "fetch", "gpus",
	"healthChecks", "instances", "killSelection", "labels", "maxLaunchDelaySeconds", "mem", "networks",
	"portDefinitions", "readinessChecks", "requirePorts", "resourceLimits", "role", "secrets",
	"taskKillGracePeriodSeconds", "tty", "unreachableStrategy", "upgradeStrategy", "user", NULL,
};
static const char *const dropped[] = {
	"AAA", "zzz", "version", "tasks", "deployments", "tasksRunning", "force", "residency", "Cmd", NULL,
};

static void expect_members(struct json_object *out, const char *what)
{
	size_t i;

	for (i = 0; kept[i]; i++)
		cr_expect(json_object_object_get_ex(out, kept[i], NULL), "%s: %s was dropped: %s", what, kept[i], text(out));
	for (i = 0; dropped[i]; i++)
		cr_expect(!json_object_object_get_ex(out, dropped[i], NULL), "%s: %s was kept", what, dropped[i]);
}

Test(normalize_members, every_app_field_is_kept_and_nothing_else)
{
	struct json_object *app = J(every_field);
	struct json_object *raw = norm(app, 1), *fallback = norm(app, 0);

	expect_members(raw, "skip_appdef");
	expect_members(fallback, "appdef rejects, raw fallback");
	/* Both paths are pacer's canonicalisation of the same raw app. */
	cr_expect_str_eq(text(raw), text(fallback));
	json_object_put(raw);
	json_object_put(fallback);
	json_object_put(app);
}

/* The raw fallback's copy sizes large maps up front: every member stays, in order. */
Test(normalize_members, large_maps_keep_their_order)
{
	struct json_object *app = J("{'id': '/a', 'cmd': 'x', 'role': '*'}"), *labels = json_object_new_object();
	char key[32];
	int i = 0, skip;

	for (int k = 0; k < 300; k++) {
		snprintf(key, sizeof(key), "%c%03d", k % 2 ? 'a' : 'z', 299 - k);
		json_object_object_add(labels, key, k % 7 ? json_object_new_string(key) : NULL);
	}
	json_object_object_add(app, "labels", labels);
	for (skip = 0; skip <= 1; skip++) {
		struct json_object *out = norm(app, skip);

		i = 0;
		json_object_object_foreach(json_object_object_get(out, "labels"), k, v) {
			/* nulls (every 7th) are absent */
			while (i % 7 == 0)
				i++;
			snprintf(key, sizeof(key), "%c%03d", i % 2 ? 'a' : 'z', 299 - i);
			cr_expect_str_eq(k, key);
			cr_expect_str_eq(json_object_get_string(v), key);
			i++;
		}
		cr_expect_eq(i, 300, "skip_appdef %d", skip);
		json_object_put(out);
	}
	json_object_put(app);
}

Test(normalize_members, legacy_fields_are_migrated_not_kept)
{
	struct json_object *app = J("{'id': '/a', 'cmd': 'x', 'role': '*', 'ports': [80], 'uris': ['http://h/f.tgz']}");
	struct json_object *out = norm(app, 0);

	cr_expect(!json_object_object_get_ex(out, "ports", NULL), "%s", text(out));
	cr_expect(!json_object_object_get_ex(out, "uris", NULL), "%s", text(out));
	cr_expect_eq(json_object_get_int(json_object_object_get(
			     json_object_array_get_idx(json_object_object_get(out, "portDefinitions"), 0), "port")),
		     80);
	cr_expect_str_eq(text(json_object_object_get(json_object_array_get_idx(json_object_object_get(out, "fetch"), 0),
						     "uri")),
			 "\"http://h/f.tgz\"");
	json_object_put(out);
	json_object_put(app);
}

Test(normalize_members, nulls_and_integral_doubles_at_any_depth)
{
	static const char app_text[] =
		"{'id': '/a', 'cmd': 'x', 'role': '*', 'cpus': 2.0, 'mem': 128.5, 'user': null,"
		" 'env': {'A': null, 'B': 'c'}, 'labels': {'x': null},"
		" 'container': {'type': 'MESOS', 'docker': null, 'volumes': [{'containerPath': 'c', 'hostPath': 'h',"
		" 'mode': 'RW', 'persistent': null}]},"
		" 'healthChecks': [{'protocol': 'TCP', 'gracePeriodSeconds': 30.0, 'path': null}],"
		" 'constraints': [['rack', 'GROUP_BY', null]], 'upgradeStrategy': {'minimumHealthCapacity': 1.0,"
		" 'maximumOverCapacity': 0.25}}";
	struct json_object *app = J(app_text);
	char *before = strdup(text(app));
	int skip;

	for (skip = 0; skip <= 1; skip++) {
		struct json_object *out = norm(app, skip);
		struct json_object *hc = json_object_array_get_idx(json_object_object_get(out, "healthChecks"), 0);
		struct json_object *c = json_object_object_get(out, "container");
		struct json_object *us = json_object_object_get(out, "upgradeStrategy");

		cr_expect(json_object_is_type(json_object_object_get(out, "cpus"), json_type_int), "%s", text(out));
		cr_expect(json_object_is_type(json_object_object_get(out, "mem"), json_type_double), "%s", text(out));
		cr_expect(!json_object_object_get_ex(out, "user", NULL), "%s", text(out));
		cr_expect_str_eq(text(json_object_object_get(out, "env")), "{\"B\":\"c\"}");
		cr_expect(!json_object_object_get_ex(out, "labels", NULL), "empty after nulls: %s", text(out));
		cr_expect(!json_object_object_get_ex(c, "docker", NULL), "%s", text(out));
		cr_expect(!json_object_object_get_ex(json_object_array_get_idx(json_object_object_get(c, "volumes"), 0),
						     "persistent", NULL),
			  "%s", text(out));
		cr_expect(json_object_is_type(json_object_object_get(hc, "gracePeriodSeconds"), json_type_int), "%s",
			  text(out));
		cr_expect(!json_object_object_get_ex(hc, "path", NULL), "%s", text(out));
		cr_expect(json_object_is_type(json_object_object_get(us, "minimumHealthCapacity"), json_type_int), "%s",
			  text(out));
		cr_expect_str_eq(text(json_object_object_get(us, "maximumOverCapacity")), "0.25");
		/* A null inside an array is a value (its position counts), not an absent member. */
		cr_expect_eq(json_object_array_length(json_object_array_get_idx(json_object_object_get(out, "constraints"), 0)),
			     3u, "%s", text(out));
		json_object_put(out);
	}
	cr_expect_str_eq(text(app), before, "the input must be left alone");
	free(before);
	json_object_put(app);
}

Test(normalize_members, ids_and_enum_case)
{
	struct json_object *app = J("{'id': 'a/./b/../c/', 'cmd': 'x', 'role': '*', 'killSelection': 'oldest_first',"
				    " 'constraints': [['host', 'unique']], 'dependencies': ['/a//d', 'e']}");
	struct json_object *same = J("{'id': '/a/c', 'cmd': 'x', 'role': '*', 'killSelection': 'OLDEST_FIRST',"
				     " 'constraints': [['host', 'UNIQUE']], 'dependencies': ['/a/d', '/e']}");
	struct json_object *o1 = norm(app, 0), *o2 = norm(same, 0);

	cr_expect_str_eq(json_object_get_string(json_object_object_get(o1, "id")), "/a/c");
	cr_expect_str_eq(text(o1), text(o2));
	json_object_put(o1);
	json_object_put(o2);
	json_object_put(app);
	json_object_put(same);
}
