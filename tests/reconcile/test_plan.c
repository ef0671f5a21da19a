/*
 * plan_build(), plan_render_text(), plan_to_json(): classification, bodies,
 * dependency waves and cycles, rendering, and a 10,000-app plan.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconcile/base/jsonutil.h"
#include "reconcile/plan.h"
#include "tests/lib/testlib.h"

#define J(sq) test_json(sq)

static int cmp_app(const void *a, const void *b)
{
	return strcmp(((const struct pacer_desired_app *)a)->id, ((const struct pacer_desired_app *)b)->id);
}

/* A desired state built by hand (desired_load is another module's job). */
static struct pacer_desired *mk_desired(const char *const *files, const char *const *defs, size_t n)
{
	struct pacer_desired *d = calloc(1, sizeof(*d));

	cr_assert_not_null(d);
	d->apps = calloc(n + 1, sizeof(*d->apps));
	for (size_t i = 0; i < n; i++) {
		struct pacer_desired_app *a = &d->apps[i];

		a->def = J(defs[i]);
		a->id = strdup(json_object_get_string(jsonutil_get(a->def, "id")));
		a->file = strdup(files[i]);
		a->line = 1;
		a->col = 1;
	}
	d->napps = n;
	qsort(d->apps, n, sizeof(*d->apps), cmp_app);
	return d;
}

static void free_desired(struct pacer_desired *d)
{
	for (size_t i = 0; i < d->napps; i++) {
		free(d->apps[i].id);
		free(d->apps[i].file);
		json_object_put(d->apps[i].def);
	}
	free(d->apps);
	free(d->revision);
	free(d);
}

static const struct pacer_plan_item *item(const struct pacer_plan *p, const char *id)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->items[i].app_id, id))
			return &p->items[i];
	return NULL;
}

Test(plan, create_update_unchanged_prune)
{
	const char *files[] = {"web.json", "api.json", "same.json", "scaled.json"};
	const char *defs[] = {
		"{'id':'/web','cmd':'run','instances':2,'labels':{'pacer.timeout':'900'}}",
		"{'id':'/api','container':{'docker':{'image':'api:2'}},'env':{'A':'1'}}",
		"{'id':'/same','cmd':'run'}",
		"{'id':'/scaled','cmd':'run','instances':1,'labels':{'pacer.instances':'unmanaged'}}",
	};
	struct pacer_desired *d = mk_desired(files, defs, 4);
	struct json_object *live = J(
		"[{'id':'/api','container':{'type':'DOCKER','docker':{'image':'api:1'}},'version':'v1','tasksRunning':1},"
		"{'id':'/same','cmd':'run','portDefinitions':[{'port':10001,'name':'default','protocol':'tcp'}],'version':'v'},"
		"{'id':'/scaled','cmd':'run','instances':9,'labels':{'pacer.instances':'unmanaged'}},"
		"{'id':'/old','cmd':'x'},{'id':'/foreign','cmd':'x'}]");
	const char *owned[] = {"/old", "/web", "/same"};
	struct plan_options o = PLAN_OPTIONS_INIT;
	struct pacer_plan *p = NULL;
	struct pacer_error *err = NULL;
	const struct pacer_plan_item *it;

	o.owned = owned;
	o.nowned = 3;
	cr_assert_eq(plan_build(d, live, &o, &p, &err), 0, "%s", err ? err->message : "");
	cr_assert_eq(p->n, 5, "the foreign app is neither desired nor owned: not in the plan");
	cr_expect_eq(p->ncreate, 1);
	cr_expect_eq(p->nupdate, 1);
	cr_expect_eq(p->nunchanged, 2);
	cr_expect_eq(p->nprune, 1);

	it = item(p, "/web");
	cr_assert_not_null(it);
	cr_expect_eq(it->action, PACER_ACT_CREATE);
	cr_expect_str_eq(it->file, "web.json");
	cr_expect_eq(it->timeout_s, 900);
	cr_expect_null(it->live);
	cr_expect_eq(json_object_get_int(jsonutil_get(it->body, "instances")), 2);

	it = item(p, "/api");
	cr_expect_eq(it->action, PACER_ACT_UPDATE);
	cr_assert_eq(it->nchanges, 2);
	cr_expect_str_eq(it->changes[0].path, "/container/docker/image");
	cr_expect_str_eq(it->changes[1].path, "/env/A");
	cr_expect_null(jsonutil_get(it->body, "version"));
	cr_expect_str_eq(json_object_get_string(jsonutil_get(it->body, "id")), "/api");
	cr_expect_not_null(it->live);

	it = item(p, "/same");
	cr_expect_eq(it->action, PACER_ACT_UNCHANGED);
	cr_expect_null(it->body);

	it = item(p, "/scaled");
	cr_expect_eq(it->action, PACER_ACT_UNCHANGED, "instances are not owned by the file");

	it = item(p, "/old");
	cr_expect_eq(it->action, PACER_ACT_PRUNE);
	cr_expect_null(it->file);
	cr_expect_null(it->body);
	/* Prunes come after every create/update. */
	cr_expect_eq(&p->items[p->n - 1], it);
	cr_expect_null(item(p, "/foreign"));
	plan_free(p);
	json_object_put(live);
	free_desired(d);
}

Test(plan, unowned_instances_body_takes_live)
{
	const char *files[] = {"a.json"};
	const char *defs[] = {"{'id':'/a','cmd':'new','instances':1}"};
	struct pacer_desired *d = mk_desired(files, defs, 1);
	struct json_object *live = J("[{'id':'/a','cmd':'old','instances':5}]");
	struct plan_options o = PLAN_OPTIONS_INIT;
	struct pacer_plan *p = NULL;

	o.ignore_instances = 1;
	cr_assert_eq(plan_build(d, live, &o, &p, NULL), 0);
	cr_assert_eq(p->n, 1);
	cr_expect_eq(p->items[0].action, PACER_ACT_UPDATE);
	cr_assert_eq(p->items[0].nchanges, 1);
	cr_expect_str_eq(p->items[0].changes[0].path, "/cmd");
	cr_expect_eq(json_object_get_int(jsonutil_get(p->items[0].body, "instances")), 5);
	plan_free(p);
	/* Owned again: instances is a change and the body keeps the file's value. */
	o.ignore_instances = 0;
	cr_assert_eq(plan_build(d, live, &o, &p, NULL), 0);
	cr_expect_eq(p->items[0].nchanges, 2);
	cr_expect_eq(json_object_get_int(jsonutil_get(p->items[0].body, "instances")), 1);
	plan_free(p);
	json_object_put(live);
	free_desired(d);
}

Test(plan, dependency_waves)
{
	const char *files[] = {"f", "f", "f", "f", "f"};
	const char *defs[] = {
		"{'id':'/shop/web','cmd':'w','dependencies':['/shop/api']}",
		"{'id':'/shop/api','cmd':'a','dependencies':['/shop/db','/external']}",
		"{'id':'/shop/db','cmd':'d'}",
		"{'id':'/aaa','cmd':'x'}",
		"{'id':'/zzz','cmd':'x','dependencies':['/shop/db']}",
	};
	struct pacer_desired *d = mk_desired(files, defs, 5);
	struct json_object *none = J("[]");
	struct json_object *db_live = J("[{'id':'/shop/db','cmd':'d'}]");
	struct pacer_plan *p = NULL;
	const char *want[] = {"/aaa", "/shop/db", "/shop/api", "/zzz", "/shop/web"};
	const int want_wave[] = {0, 0, 1, 1, 2};

	cr_assert_eq(plan_build(d, none, NULL, &p, NULL), 0);
	cr_assert_eq(p->n, 5);
	for (size_t i = 0; i < 5; i++) {
		cr_expect_str_eq(p->items[i].app_id, want[i], "position %zu", i);
		cr_expect_eq(p->items[i].wave, want_wave[i], "%s", p->items[i].app_id);
	}
	cr_expect_eq(item(p, "/shop/api")->ndeps, 2);
	cr_expect_str_eq(item(p, "/shop/web")->depends_on[0], "/shop/api");
	plan_free(p);

	/* /shop/db is live and unchanged: the dependency is satisfied. */
	cr_assert_eq(plan_build(d, db_live, NULL, &p, NULL), 0);
	cr_expect_eq(item(p, "/shop/db")->action, PACER_ACT_UNCHANGED);
	cr_expect_eq(item(p, "/shop/api")->wave, 0);
	cr_expect_eq(item(p, "/zzz")->wave, 0);
	cr_expect_eq(item(p, "/shop/web")->wave, 1);
	plan_free(p);
	json_object_put(none);
	json_object_put(db_live);
	free_desired(d);
}

Test(plan, cycle_is_invalid_and_named)
{
	const char *files[] = {"a.json", "b.json", "c.json", "d.json"};
	const char *defs[] = {
		"{'id':'/a','cmd':'x','dependencies':['/b']}",
		"{'id':'/b','cmd':'x','dependencies':['/c']}",
		"{'id':'/c','cmd':'x','dependencies':['/b']}",
		"{'id':'/d','cmd':'x','dependencies':['/d']}",
	};
	struct pacer_desired *d = mk_desired(files, defs, 3);
	struct pacer_desired *self = mk_desired(files + 3, defs + 3, 1);
	struct pacer_plan *p = NULL;
	struct pacer_error *err = NULL;

	cr_assert_eq(plan_build(d, NULL, NULL, &p, &err), PACER_EINVALID);
	cr_assert_null(p);
	cr_assert_not_null(err);
	cr_expect(strstr(err->message, "/b -> /c -> /b"), "%s", err->message);
	cr_expect(strstr(err->message, "dependencies"), "%s", err->message);
	pacer_error_free(err);
	err = NULL;
	cr_assert_eq(plan_build(self, NULL, NULL, &p, &err), PACER_EINVALID);
	cr_expect(strstr(err->message, "/d -> /d"), "%s", err->message);
	cr_expect_str_eq(err->file, "d.json");
	pacer_error_free(err);
	free_desired(d);
	free_desired(self);
}

Test(plan, bad_timeout_label_is_invalid)
{
	const char *files[] = {"a.json"};
	const char *defs[] = {"{'id':'/a','cmd':'x','labels':{'pacer.timeout':'ten minutes'}}"};
	struct pacer_desired *d = mk_desired(files, defs, 1);
	struct pacer_plan *p = NULL;
	struct pacer_error *err = NULL;

	cr_assert_eq(plan_build(d, NULL, NULL, &p, &err), PACER_EINVALID);
	cr_expect(strstr(err->message, "pacer.timeout"), "%s", err->message);
	cr_expect_str_eq(err->file, "a.json");
	pacer_error_free(err);
	free_desired(d);
}

static struct pacer_plan *small_plan(struct pacer_desired **dout, struct json_object **lout)
{
	const char *files[] = {"apps/new.json", "apps/web.json", "apps/same.json"};
	const char *defs[] = {
		"{'id':'/new','cmd':'x'}",
		"{'id':'/web','container':{'docker':{'image':'nginx:1.25'}},'env':{'NEW':'x'},"
		"'cmd':'" "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy" "'}",
		"{'id':'/same','cmd':'x'}",
	};
	const char *owned[] = {"/gone"};
	struct plan_options o = PLAN_OPTIONS_INIT;
	struct pacer_plan *p = NULL;

	*dout = mk_desired(files, defs, 3);
	(*dout)->revision = strdup("abc123");
	*lout = J("[{'id':'/web','container':{'docker':{'image':'nginx:1.24'}},'labels':{'OLD':'y'},'cmd':'short'},"
		  "{'id':'/same','cmd':'x'},{'id':'/gone','cmd':'x'}]");
	o.owned = owned;
	o.nowned = 1;
	cr_assert_eq(plan_build(*dout, *lout, &o, &p, NULL), 0);
	return p;
}

Test(plan, render_text)
{
	struct pacer_desired *d;
	struct json_object *live;
	struct pacer_plan *p = small_plan(&d, &live);
	char *text = plan_render_text(p, 0, 0), *all, *col;

	/* Long values whole; a create and a prune show every leaf of the normalised app. */
	cr_assert(strstr(text, "+ /new (apps/new.json)\n"
			       "    + /backoffFactor: 1.15\n"
			       "    + /backoffSeconds: 1\n"
			       "    + /cmd: \"x\"\n"
			       "    + /cpus: 1\n"),
		  "%s", text);
	cr_assert(strstr(text, "    + /mem: 128\n"
			       "    + /networks/0/mode: \"host\"\n"),
		  "%s", text);
	cr_assert(strstr(text,
			 "~ /web (apps/web.json)\n"
			 "    ~ /cmd: \"short\" -> \"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
			 "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\"\n"
			 "    ~ /container/docker/image: \"nginx:1.24\" -> \"nginx:1.25\"\n"
			 "    + /env/NEW: \"x\"\n"
			 "    - /labels/OLD: \"y\"\n"
			 "- /gone\n"
			 "    - /backoffFactor: 1.15\n"),
		  "%s", text);
	cr_assert(strstr(text, "    - /cmd: \"x\"\n"), "%s", text);
	cr_assert_null(strstr(text, "/id:"), "the header names the app:\n%s", text);
	cr_assert_null(strstr(text, "..."), "nothing is cut:\n%s", text);
	cr_assert(strstr(text, "\n1 to create, 1 to update, 1 to prune, 1 unchanged\n"), "%s", text);
	all = plan_render_text(p, 0, 1);
	cr_expect(strstr(all, "\n  /same\n"), "%s", all);
	cr_expect_null(strchr(text, '\033'), "no colour unless asked");
	col = plan_render_text(p, 1, 0);
	cr_expect(strstr(col, "\033[32m+ /new (apps/new.json)\033[0m\n"), "%s", col);
	cr_expect(strstr(col, "\033[31m- /gone\033[0m\n"), "%s", col);
	cr_expect(strstr(col, "\033[33m~ /web (apps/web.json)\033[0m\n"), "%s", col);
	free(text);
	free(all);
	free(col);
	plan_free(p);
	json_object_put(live);
	free_desired(d);
}

Test(plan, render_neutralises_control_characters_in_paths)
{
	const char *files[] = {"a.json"};
	const char *defs[] = {"{'id':'/a','cmd':'x','env':{'EVIL\\u001b[2J\\nX':'\\u001b[31m'}}"};
	struct pacer_desired *d = mk_desired(files, defs, 1);
	struct json_object *live = J("[{'id':'/a','cmd':'x'}]");
	struct pacer_plan *p = NULL;
	char *text;

	cr_assert_eq(plan_build(d, live, NULL, &p, NULL), 0);
	text = plan_render_text(p, 0, 0);
	cr_expect_null(strchr(text, '\033'), "%s", text);
	cr_expect(strstr(text, "    + /env/EVIL?[2J?X: \"\\u001b[31m\"\n"), "%s", text);
	free(text);
	plan_free(p);
	json_object_put(live);
	free_desired(d);
}

/* Render the plan of one desired app against one live app. */
static char *render_one(const char *def, const char *live_app)
{
	const char *files[] = {"a.json"};
	const char *defs[] = {def};
	struct pacer_desired *d = mk_desired(files, defs, 1);
	struct json_object *live = live_app ? test_json(live_app) : NULL, *arr = json_object_new_array();
	struct pacer_plan *p = NULL;
	char *text;

	if (live)
		json_object_array_add(arr, live);
	cr_assert_eq(plan_build(d, arr, NULL, &p, NULL), 0);
	text = plan_render_text(p, 0, 0);
	cr_assert_not_null(text);
	plan_free(p);
	json_object_put(arr);
	free_desired(d);
	return text;
}

struct render_case {
	char name[48];
	char def[400];
	char live[400];
	char want[3][260]; /* lines that must be there ("" = unused) */
	char not_want[80]; /* text that must not be there ("" = none) */
};

static struct render_case render_cases[] = {
	/* A changed health check: the old one removed, the new one added, each whole. */
	{"set element changed",
	 "{'id':'/a','cmd':'x','healthChecks':[{'protocol':'COMMAND','command':{'value':'true'},'intervalSeconds':30}]}",
	 "{'id':'/a','cmd':'x','healthChecks':[{'protocol':'COMMAND','command':{'value':'true'},'intervalSeconds':10}]}",
	 {"    - /healthChecks: {\"command\":{\"value\":\"true\"},\"delaySeconds\":15,"
	  "\"gracePeriodSeconds\":300,\"intervalSeconds\":10,\"ipProtocol\":\"IPv4\","
	  "\"maxConsecutiveFailures\":3,\"protocol\":\"COMMAND\",\"timeoutSeconds\":20}\n",
	  "    + /healthChecks: {\"command\":{\"value\":\"true\"},\"delaySeconds\":15,"
	  "\"gracePeriodSeconds\":300,\"intervalSeconds\":30,\"ipProtocol\":\"IPv4\","
	  "\"maxConsecutiveFailures\":3,\"protocol\":\"COMMAND\",\"timeoutSeconds\":20}\n",
	  ""},
	 "..."},
	/* One constraint more: only it is shown, the kept one is not. */
	{"set element added",
	 "{'id':'/a','cmd':'x','constraints':[['hostname','UNIQUE'],['rack','GROUP_BY']]}",
	 "{'id':'/a','cmd':'x','constraints':[['hostname','UNIQUE']]}",
	 {"    + /constraints: [\"rack\",\"GROUP_BY\"]\n", "", ""},
	 "UNIQUE"},
	/* An ordered array element by element, down to the leaf. */
	{"ordered array",
	 "{'id':'/a','cmd':'x','portDefinitions':[{'port':8080,'name':'http'},{'port':9090,'name':'admin'}]}",
	 "{'id':'/a','cmd':'x','portDefinitions':[{'port':8080,'name':'web'}]}",
	 {"    ~ /portDefinitions/0/name: \"web\" -> \"http\"\n",
	  "    + /portDefinitions/1/name: \"admin\"\n", "    + /portDefinitions/1/port: 9090\n"},
	 "/portDefinitions/0/port"},
	/* Objects are descended into, even below an array element. */
	{"nested object",
	 "{'id':'/a','cmd':'x','upgradeStrategy':{'minimumHealthCapacity':0.5,'maximumOverCapacity':0}}",
	 "{'id':'/a','cmd':'x','upgradeStrategy':{'minimumHealthCapacity':1,'maximumOverCapacity':0}}",
	 {"    ~ /upgradeStrategy/minimumHealthCapacity: 1 -> 0.5\n", "", ""},
	 "maximumOverCapacity"},
	/* A create lists its whole definition, the set elements whole. */
	{"create",
	 "{'id':'/a','cmd':'x','constraints':[['hostname','UNIQUE']],'env':{'K':'v'}}",
	 "",
	 {"+ /a (a.json)\n", "    + /constraints: [\"hostname\",\"UNIQUE\"]\n", "    + /env/K: \"v\"\n"},
	 "/constraints/0"},
};

ParameterizedTestParameters(plan, render_leaves)
{
	return cr_make_param_array(struct render_case, render_cases,
				   sizeof(render_cases) / sizeof(render_cases[0]));
}

ParameterizedTest(const struct render_case *c, plan, render_leaves)
{
	char *text = render_one(c->def, c->live[0] ? c->live : NULL);

	for (int i = 0; i < 3; i++)
		if (c->want[i][0])
			cr_expect(strstr(text, c->want[i]), "%s: no line\n%s\nin\n%s", c->name,
				  c->want[i], text);
	if (c->not_want[0])
		cr_expect_null(strstr(text, c->not_want), "%s: %s in\n%s", c->name, c->not_want, text);
	free(text);
}

Test(plan, to_json)
{
	struct pacer_desired *d;
	struct json_object *live;
	struct pacer_plan *p = small_plan(&d, &live);
	struct json_object *doc = plan_to_json(p), *apps, *web, *c;

	cr_assert_not_null(doc);
	cr_expect_str_eq(json_object_get_string(jsonutil_get(doc, "revision")), "abc123");
	cr_expect_eq(json_object_get_int(jsonutil_get(jsonutil_get(doc, "summary"), "create")), 1);
	cr_expect_eq(json_object_get_int(jsonutil_get(jsonutil_get(doc, "summary"), "update")), 1);
	cr_expect_eq(json_object_get_int(jsonutil_get(jsonutil_get(doc, "summary"), "prune")), 1);
	cr_expect_eq(json_object_get_int(jsonutil_get(jsonutil_get(doc, "summary"), "unchanged")), 1);
	apps = jsonutil_get(doc, "apps");
	cr_assert_eq(json_object_array_length(apps), 4);
	web = json_object_array_get_idx(apps, 2);
	cr_expect_str_eq(json_object_get_string(jsonutil_get(web, "id")), "/web");
	cr_expect_str_eq(json_object_get_string(jsonutil_get(web, "action")), "update");
	cr_expect_str_eq(json_object_get_string(jsonutil_get(web, "file")), "apps/web.json");
	c = json_object_array_get_idx(jsonutil_get(web, "changes"), 1);
	cr_expect_str_eq(json_object_get_string(jsonutil_get(c, "path")), "/container/docker/image");
	cr_expect_str_eq(json_object_get_string(jsonutil_get(c, "old")), "nginx:1.24");
	cr_expect_str_eq(json_object_get_string(jsonutil_get(c, "new")), "nginx:1.25");
	cr_expect_str_eq(json_object_get_string(jsonutil_get(json_object_array_get_idx(apps, 3), "action")),
			 "prune");
	/* A create carries the body it sends, a prune the live app; an update does not. */
	cr_expect_str_eq(json_object_get_string(jsonutil_get(
			     jsonutil_get(json_object_array_get_idx(apps, 0), "definition"), "id")),
			 "/new");
	cr_expect_str_eq(json_object_get_string(jsonutil_get(
			     jsonutil_get(json_object_array_get_idx(apps, 3), "definition"), "cmd")),
			 "x");
	cr_expect_null(jsonutil_get(web, "definition"));
	json_object_put(doc);
	plan_free(p);
	json_object_put(live);
	free_desired(d);
}

/* 10,000 apps, each depending on the previous one in a chain of 100, half
 * of them live and changed: must finish quickly (O(n log n)). */
Test(plan, ten_thousand_apps)
{
	enum { N = 10000 };
	struct pacer_desired *d = calloc(1, sizeof(*d));
	struct json_object *live = json_object_new_array();
	struct pacer_plan *p = NULL;
	struct timespec t0, t1;
	char buf[256];

	d->apps = calloc(N, sizeof(*d->apps));
	d->napps = N;
	for (int i = 0; i < N; i++) {
		struct pacer_desired_app *a = &d->apps[i];

		snprintf(buf, sizeof(buf), "/g%03d/app%05d", i / 100, i);
		a->id = strdup(buf);
		a->file = strdup("f.json");
		a->def = json_object_new_object();
		json_object_object_add(a->def, "id", json_object_new_string(buf));
		json_object_object_add(a->def, "cmd", json_object_new_string("run"));
		if (i % 100) {
			struct json_object *deps = json_object_new_array();

			snprintf(buf, sizeof(buf), "/g%03d/app%05d", i / 100, i - 1);
			json_object_array_add(deps, json_object_new_string(buf));
			json_object_object_add(a->def, "dependencies", deps);
		}
		if (i % 2) {
			struct json_object *l = NULL;

			json_object_deep_copy(a->def, &l, NULL);
			json_object_object_add(l, "cmd", json_object_new_string("old"));
			json_object_array_add(live, l);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(plan_build(d, live, NULL, &p, NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_expect_eq(p->ncreate, N / 2);
	cr_expect_eq(p->nupdate, N / 2);
	cr_expect_eq(p->items[p->n - 1].wave, 99);
	cr_expect_str_eq(p->items[0].app_id, "/g000/app00000");
	cr_expect_str_eq(p->items[1].app_id, "/g001/app00100");
	cr_expect_lt((t1.tv_sec - t0.tv_sec), 30, "10,000 apps took %lds", (long)(t1.tv_sec - t0.tv_sec));
	plan_free(p);
	json_object_put(live);
	free_desired(d);
}
