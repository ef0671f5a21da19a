/*
 * Unit tests of reconcile/converge.c: an app's health from its parsed JSON
 * and from its raw bytes (the two readers must agree), whether a live app
 * runs a submitted body, and the key-order-free digest of a definition.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <json-c/json.h>
#include <string.h>

#include "reconcile/converge.h"

/* 2026-12-02T14:25:08Z: "now" for the lastTaskFailure cases. */
#define NOW 1796221508LL

/* Arrays, not pointers: Criterion hands the parameters to another process. */
struct health_case {
	char name[48];
	char json[320];
	enum converge_health want;
	char reason_has[48]; /* a part of the reason, or "" */
};

ParameterizedTestParameters(converge, health)
{
	static struct health_case cases[] = {
	    {"all healthy",
	     "{\"id\":\"/a\",\"instances\":2,\"tasksRunning\":2,\"tasksHealthy\":2,"
	     "\"healthChecks\":[{\"protocol\":\"HTTP\"}],\"deployments\":[]}",
	     CONVERGE_HEALTHY, ""},
	    {"running without health checks",
	     "{\"id\":\"/a\",\"instances\":2,\"tasksRunning\":2,\"tasksHealthy\":0}",
	     CONVERGE_HEALTHY, ""},
	    {"a deployment runs",
	     "{\"id\":\"/"
	     "a\",\"instances\":2,\"tasksRunning\":2,\"deployments\":[{\"id\":\"d-1\"}]}",
	     CONVERGE_PROGRESSING, "deployment d-1 in progress"},
	    {"too few running",
	     "{\"id\":\"/a\",\"instances\":3,\"tasksRunning\":1,\"deployments\":[]}",
	     CONVERGE_DEGRADED, "1 of 3 instances running"},
	    {"too few healthy",
	     "{\"id\":\"/a\",\"instances\":2,\"tasksRunning\":2,\"tasksHealthy\":1,"
	     "\"healthChecks\":[{}]}",
	     CONVERGE_DEGRADED, "1 of 2 instances healthy"},
	    {"failed a minute ago",
	     "{\"id\":\"/a\",\"instances\":1,\"tasksRunning\":1,\"lastTaskFailure\":"
	     "{\"timestamp\":\"2026-12-02T14:24:08.000Z\",\"message\":\"boom\"}}",
	     CONVERGE_DEGRADED, "tasks are failing"},
	    {"failed long ago",
	     "{\"id\":\"/a\",\"instances\":1,\"tasksRunning\":1,\"lastTaskFailure\":"
	     "{\"timestamp\":\"2026-12-01T14:24:08.000Z\",\"message\":\"boom\"}}",
	     CONVERGE_HEALTHY, ""},
	    {"failed before the definition changed",
	     "{\"id\":\"/a\",\"instances\":1,\"tasksRunning\":1,\"lastTaskFailure\":"
	     "{\"timestamp\":\"2026-12-02T14:24:08.000Z\"},\"versionInfo\":"
	     "{\"lastConfigChangeAt\":\"2026-12-02T14:25:00.000Z\"}}",
	     CONVERGE_HEALTHY, ""},
	    {"scaled to zero", "{\"id\":\"/a\",\"instances\":0,\"tasksRunning\":0}",
	     CONVERGE_HEALTHY, ""},
	};

	return cr_make_param_array(struct health_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct health_case *c, converge, health)
{
	struct json_object *app = json_tokener_parse(c->json);
	char parsed[200], raw[200];
	enum converge_health hp, hr;

	cr_assert_not_null(app, "%s: bad test JSON", c->name);
	hp = converge_health(app, NOW, parsed, sizeof(parsed), NULL);
	hr = converge_health_raw(c->json, strlen(c->json), NOW, raw, sizeof(raw), NULL);
	cr_expect_eq(hp, c->want, "%s: parsed says %s (%s)", c->name, converge_health_name(hp),
	             parsed);
	cr_expect_eq(hr, c->want, "%s: raw says %s (%s)", c->name, converge_health_name(hr), raw);
	cr_expect(strstr(parsed, c->reason_has), "%s: reason '%s'", c->name, parsed);
	cr_expect_str_eq(parsed, raw, "%s: both readers give one reason", c->name);
	json_object_put(app);
}

Test(converge, health_reports_the_task_counts)
{
	const char *json = "{\"id\":\"/a\",\"instances\":3,\"tasksRunning\":2,\"tasksHealthy\":1,"
	                   "\"version\":\"2026-12-02T14:00:00.000Z\"}";
	struct converge_tasks t;

	memset(&t, 0xff, sizeof(t));
	converge_health_raw(json, strlen(json), NOW, NULL, 0, &t);
	cr_assert_eq(t.instances, 3);
	cr_assert_eq(t.running, 2);
	cr_assert_eq(t.healthy, 1);
	cr_assert_str_eq(t.version, "2026-12-02T14:00:00.000Z");
}

struct match_case {
	char name[48];
	char body[160];
	char live[240];
	int ignore_instances;
	int want;
};

ParameterizedTestParameters(converge, matches)
{
	static struct match_case cases[] = {
	    {"server fields and assigned ports",
	     "{\"id\":\"/a\",\"cmd\":\"x\",\"instances\":2,\"portDefinitions\":[{\"port\":0}]}",
	     "{\"id\":\"/a\",\"cmd\":\"x\",\"instances\":2,\"portDefinitions\":[{\"port\":10001}],"
	     "\"version\":\"2026-12-02T14:00:00.000Z\",\"tasksRunning\":2,\"deployments\":[]}",
	     0, 1},
	    {"another definition", "{\"id\":\"/a\",\"cmd\":\"new\"}",
	     "{\"id\":\"/a\",\"cmd\":\"old\"}", 0, 0},
	    {"the body owns its instances", "{\"id\":\"/a\",\"cmd\":\"x\",\"instances\":2}",
	     "{\"id\":\"/a\",\"cmd\":\"x\",\"instances\":5}", 0, 0},
	    {"--ignore-instances", "{\"id\":\"/a\",\"cmd\":\"x\",\"instances\":2}",
	     "{\"id\":\"/a\",\"cmd\":\"x\",\"instances\":5}", 1, 1},
	    {"unmanaged instances",
	     "{\"id\":\"/a\",\"cmd\":\"x\",\"instances\":2,"
	     "\"labels\":{\"pacer.instances\":\"unmanaged\"}}",
	     "{\"id\":\"/a\",\"cmd\":\"x\",\"instances\":5,"
	     "\"labels\":{\"pacer.instances\":\"unmanaged\"}}",
	     0, 1},
	};

	return cr_make_param_array(struct match_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct match_case *c, converge, matches)
{
	struct json_object *body = json_tokener_parse(c->body);
	struct json_object *live = json_tokener_parse(c->live);
	int equal = -1;

	cr_assert(body && live, "%s: bad test JSON", c->name);
	cr_assert_eq(converge_matches(body, live, c->ignore_instances, &equal, NULL), 0, "%s",
	             c->name);
	cr_expect_eq(equal, c->want, "%s", c->name);
	json_object_put(body);
	json_object_put(live);
}

Test(converge, digest_does_not_depend_on_key_order)
{
	struct json_object *a =
	    json_tokener_parse("{\"id\":\"/a\",\"env\":{\"X\":\"1\",\"Y\":\"2\"}}");
	struct json_object *b =
	    json_tokener_parse("{\"env\":{\"Y\":\"2\",\"X\":\"1\"},\"id\":\"/a\"}");
	struct json_object *c =
	    json_tokener_parse("{\"env\":{\"Y\":\"3\",\"X\":\"1\"},\"id\":\"/a\"}");
	char da[33], db[33], dc[33];

	converge_digest(a, da);
	converge_digest(b, db);
	converge_digest(c, dc);
	cr_assert_eq(strlen(da), 32);
	cr_assert_str_eq(da, db);
	cr_assert_str_neq(da, dc);
	json_object_put(a);
	json_object_put(b);
	json_object_put(c);
}
