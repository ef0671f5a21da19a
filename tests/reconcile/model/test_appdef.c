/*
 * appdef_submit(): defaults against real Marathon output, and the individual
 * shape, migration and validation rules as tables.
 *
 * Real output: shared/marathon-api/examples/ holds request bodies and
 * pre-1.5 responses only (null fields, "ports", "uris"), so the 1.5+-shaped
 * GET output used here is the corpus' two group dumps of a 1.5+ Marathon
 * (065/066: every default written out) plus the two 1.10 responses quoted
 * in SPEC.md §3.2/§3.3. Server fields are removed, the app is submitted, and
 * what comes back must equal what Marathon answered (numbers numerically,
 * set-valued fields unordered), apart from "role", which 1.9+ adds.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconcile/model/appdef.h"
#include "tests/lib/testlib.h"

/*
 * The reference material's folder. It lives outside the repository
 * (../shared); without it the test skips. Caller frees.
 */
static char *shared_dir_or_skip(void)
{
	char *dir = test_shared_path("");

	if (!dir)
		cr_skip_test("reference material not found (set PACER_SHARED_DIR)");
	return dir;
}

static const char *text(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Fields Marathon stores as sets: compare without order. */
static int is_set_key(const char *key)
{
	static const char *const sets[] = {"constraints", "healthChecks", "dependencies", "acceptedResourceRoles",
					   "httpStatusCodesForReady", NULL};
	size_t i;

	for (i = 0; key && sets[i]; i++)
		if (strcmp(key, sets[i]) == 0)
			return 1;
	return 0;
}

static int json_eq(struct json_object *a, struct json_object *b, const char *key);

static int arrays_eq(struct json_object *a, struct json_object *b, const char *key)
{
	size_t n = json_object_array_length(a), i, j;
	int ok = 1;
	char *used;

	if (n != json_object_array_length(b))
		return 0;
	if (!is_set_key(key)) {
		for (i = 0; i < n; i++)
			if (!json_eq(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i), NULL))
				return 0;
		return 1;
	}
	used = calloc(n + 1, 1);
	for (i = 0; ok && i < n; i++) {
		int found = 0;

		for (j = 0; j < n && !found; j++)
			if (!used[j] && json_eq(json_object_array_get_idx(a, i), json_object_array_get_idx(b, j), NULL))
				used[j] = found = 1;
		ok = found;
	}
	free(used);
	return ok;
}

static int json_eq(struct json_object *a, struct json_object *b, const char *key)
{
	enum json_type ta = json_object_get_type(a), tb = json_object_get_type(b);

	if ((ta == json_type_int || ta == json_type_double) && (tb == json_type_int || tb == json_type_double))
		return json_object_get_double(a) == json_object_get_double(b);
	if (ta != tb)
		return 0;
	switch (ta) {
	case json_type_null:
		return 1;
	case json_type_boolean:
		return json_object_get_boolean(a) == json_object_get_boolean(b);
	case json_type_string:
		return strcmp(json_object_get_string(a), json_object_get_string(b)) == 0;
	case json_type_array:
		return arrays_eq(a, b, key);
	case json_type_object:
		if (json_object_object_length(a) != json_object_object_length(b))
			return 0;
		{
			json_object_object_foreach(a, k, va) {
				struct json_object *vb = NULL;

				if (!json_object_object_get_ex(b, k, &vb) || !json_eq(va, vb, k))
					return 0;
			}
		}
		return 1;
	default:
		return 0;
	}
}

static struct json_object *parse(const char *s)
{
	struct json_object *o = json_tokener_parse(s);

	cr_assert_not_null(o, "bad JSON in test: %s", s);
	return o;
}

static void strip_server_fields(struct json_object *app)
{
	static const char *const server[] = {"version", "versionInfo", "tasksStaged", "tasksRunning", "tasksHealthy",
					     "tasksUnhealthy", "deployments", "tasks", "readinessCheckResults",
					     "lastTaskFailure", "taskStats", "tasksStats", NULL};
	size_t i;

	for (i = 0; server[i]; i++)
		json_object_object_del(app, server[i]);
}

/* Submit a copy of a GET answer; the result must be the answer itself (plus role). */
static void expect_round_trip(struct json_object *live, const char *what)
{
	struct json_object *body = NULL, *out = NULL, *err = NULL, *want = NULL;
	int rc;

	cr_assert_eq(json_object_deep_copy(live, &body, NULL), 0);
	strip_server_fields(body);
	cr_assert_eq(json_object_deep_copy(body, &want, NULL), 0);
	if (!json_object_object_get_ex(want, "role", NULL))
		json_object_object_add(want, "role", json_object_new_string("*"));
	rc = appdef_submit(body, NULL, NULL, &out, &err);
	cr_assert_eq(rc, 0, "%s rejected: %s", what, text(err));
	cr_expect(json_eq(out, want, NULL), "%s:\n got  %s\n want %s", what, text(out), text(want));
	json_object_put(body);
	json_object_put(want);
	json_object_put(out);
	json_object_put(err);
}

Test(appdef, round_trip_of_marathon_group_dumps)
{
	char *dir = shared_dir_or_skip();
	static const char *const files[] = {"065_mesosphere_marathon_155_100.json", "066_mesosphere_marathon_155_1000.json"};
	size_t f, i;

	for (f = 0; f < 2; f++) {
		char path[1024];
		struct json_object *root, *apps = NULL;

		snprintf(path, sizeof(path), "%s/corpus/realworld/%s", dir, files[f]);
		root = json_object_from_file(path);
		cr_assert_not_null(root, "cannot read %s", path);
		cr_assert(json_object_object_get_ex(root, "apps", &apps));
		cr_assert_gt(json_object_array_length(apps), 99);
		for (i = 0; i < json_object_array_length(apps); i++)
			expect_round_trip(json_object_array_get_idx(apps, i), files[f]);
		json_object_put(root);
	}
	free(dir);
}

/* SPEC.md §3.2: GET /v2/apps/simple of a 1.10 Marathon. */
Test(appdef, round_trip_of_spec_get_answer)
{
	struct json_object *live = parse(
		"{\"id\":\"/simple\",\"backoffFactor\":1.15,\"backoffSeconds\":1,\"cmd\":\"sleep 1000\",\"cpus\":0.1,\"disk\":0.0,"
		"\"executor\":\"\",\"instances\":2,\"labels\":{},\"maxLaunchDelaySeconds\":300,\"mem\":16.0,\"gpus\":0,"
		"\"networks\":[{\"mode\":\"host\"}],\"portDefinitions\":[{\"port\":10000,\"name\":\"default\",\"protocol\":\"tcp\"}],"
		"\"requirePorts\":false,\"upgradeStrategy\":{\"maximumOverCapacity\":1.0,\"minimumHealthCapacity\":1.0},"
		"\"version\":\"2020-07-28T13:30:27.123Z\",\"versionInfo\":{\"lastScalingAt\":\"2020-07-28T13:30:27.123Z\","
		"\"lastConfigChangeAt\":\"2020-07-28T13:30:27.123Z\"},\"killSelection\":\"YOUNGEST_FIRST\","
		"\"unreachableStrategy\":{\"inactiveAfterSeconds\":0,\"expungeAfterSeconds\":0},\"role\":\"*\","
		"\"tasksStaged\":0,\"tasksRunning\":2,\"tasksHealthy\":0,\"tasksUnhealthy\":0,\"deployments\":[],\"tasks\":[]}");

	expect_round_trip(live, "SPEC §3.2");
	json_object_put(live);
}

/* SPEC.md §3.3: the POST body and the 201 answer (service port not yet assigned). */
Test(appdef, spec_post_answer)
{
	struct json_object *body = parse("{\"id\":\"simple\",\"cmd\":\"sleep 1000\",\"instances\":2,\"cpus\":0.1,\"mem\":16}");
	struct json_object *want = parse(
		"{\"id\":\"/simple\",\"backoffFactor\":1.15,\"backoffSeconds\":1,\"cmd\":\"sleep 1000\",\"cpus\":0.1,\"disk\":0.0,"
		"\"executor\":\"\",\"instances\":2,\"labels\":{},\"maxLaunchDelaySeconds\":300,\"mem\":16.0,\"gpus\":0,"
		"\"networks\":[{\"mode\":\"host\"}],\"portDefinitions\":[{\"port\":0,\"name\":\"default\",\"protocol\":\"tcp\"}],"
		"\"requirePorts\":false,\"upgradeStrategy\":{\"maximumOverCapacity\":1.0,\"minimumHealthCapacity\":1.0},"
		"\"killSelection\":\"YOUNGEST_FIRST\",\"unreachableStrategy\":{\"inactiveAfterSeconds\":0,\"expungeAfterSeconds\":0},"
		"\"role\":\"*\"}");
	struct json_object *out = NULL, *err = NULL;
	char *s;

	cr_assert_eq(appdef_submit(body, NULL, NULL, &out, &err), 0, "%s", text(err));
	cr_expect(json_eq(out, want, NULL), "\n got  %s\n want %s", text(out), text(want));
	/* Doubles are written the way Marathon writes them. */
	s = strdup(text(out));
	cr_expect(strstr(s, "\"cpus\":0.1,") && strstr(s, "\"mem\":16.0") && strstr(s, "\"backoffFactor\":1.15"), "%s", s);
	free(s);
	/* The input is not modified. */
	cr_expect_str_eq(json_object_get_string(json_object_object_get(body, "id")), "simple");
	json_object_put(body);
	json_object_put(want);
	json_object_put(out);
	json_object_put(err);
}

/* --- table of rules ---------------------------------------------------- */

/*
 * One case: an app body, the flags (0 default, 1 DC/OS), and either the
 * outcome "ok" or the expected 422: message ("Invalid JSON" / "Object is not
 * valid"), a path that must be among the details, and a substring of that
 * path's errors. `check` optionally names a JSON pointer-ish path in the
 * result ("container/portMappings/0/hostPort") and its expected JSON value
 * ("-" for absent).
 */
struct rule {
	const char *name;
	int dcos;
	const char *body;
	const char *message; /* NULL = accepted */
	const char *path;
	const char *error;
	const char *check_at, *check_value;
};

#define OK(n, f, b, at, v) {n, f, b, NULL, NULL, NULL, at, v}
#define SHAPE(n, b, p, e) {n, 0, b, "Invalid JSON", p, e, NULL, NULL}
#define INVALID(n, f, b, p, e) {n, f, b, "Object is not valid", p, e, NULL, NULL}

static const struct rule rules[] = {
	/* shape checks of the RAML reader */
	SHAPE("cpus as string", "{\"id\":\"/a\",\"cmd\":\"x y\",\"cpus\":\"2\"}", "/cpus", "error.expected.jsnumber"),
	SHAPE("cpus below minimum", "{\"id\":\"/a\",\"cmd\":\"x y\",\"cpus\":0}", "/cpus", "error.min"),
	SHAPE("negative instances", "{\"id\":\"/a\",\"cmd\":\"x y\",\"instances\":-1}", "/instances", "error.min"),
	SHAPE("fractional instances", "{\"id\":\"/a\",\"cmd\":\"x y\",\"instances\":1.5}", "/instances", "error.expected.int"),
	SHAPE("mem as bool", "{\"id\":\"/a\",\"cmd\":\"x y\",\"mem\":true}", "/mem", "error.expected.jsnumber"),
	SHAPE("upgradeStrategy half given", "{\"id\":\"/a\",\"cmd\":\"x y\",\"upgradeStrategy\":{\"minimumHealthCapacity\":0.5}}",
	      "/upgradeStrategy/maximumOverCapacity", "error.path.missing"),
	SHAPE("upgradeStrategy above 1", "{\"id\":\"/a\",\"cmd\":\"x y\",\"upgradeStrategy\":{\"minimumHealthCapacity\":1.5,\"maximumOverCapacity\":0}}",
	      "/upgradeStrategy/minimumHealthCapacity", "error.max"),
	SHAPE("killSelection camel case", "{\"id\":\"/a\",\"cmd\":\"x y\",\"killSelection\":\"YoungestFirst\"}", "/killSelection",
	      "error.unknown.enum.literal"),
	SHAPE("id with uppercase", "{\"id\":\"/My_App\",\"cmd\":\"x y\"}", "/id", "error.pattern"),
	SHAPE("id missing", "{\"cmd\":\"x y\"}", "/id", "error.path.missing"),
	SHAPE("id not a string", "{\"id\":5,\"cmd\":\"x y\"}", "/id", "error.expected.jsstring"),
	SHAPE("empty cmd", "{\"id\":\"/a\",\"cmd\":\"\"}", "/cmd", "error.minLength"),
	SHAPE("args element not a string", "{\"id\":\"/a\",\"args\":[\"a\",1]}", "/args(1)", "error.expected.jsstring"),
	SHAPE("port out of range", "{\"id\":\"/a\",\"cmd\":\"x y\",\"portDefinitions\":[{\"port\":70000}]}", "/portDefinitions(0)/port",
	      "error.max"),
	SHAPE("bad protocol in port mapping",
	      "{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\"},\"portMappings\":[{\"protocol\":\"sctp\"}]},\"networks\":[{\"mode\":\"container/bridge\"}]}",
	      "/container/portMappings(0)/protocol", "error.unknown.enum.literal"),
	SHAPE("docker without image", "{\"id\":\"/a\",\"container\":{\"docker\":{}}}", "/container/docker/image", "error.path.missing"),
	SHAPE("constraint with one field", "{\"id\":\"/a\",\"cmd\":\"x y\",\"constraints\":[[\"hostname\"]]}", "/constraints(0)",
	      "error.minLength"),
	SHAPE("labels not strings", "{\"id\":\"/a\",\"cmd\":\"x y\",\"labels\":{\"a\":1}}", "/labels/a", "error.expected.jsstring"),
	SHAPE("body is an array", "[1]", "/", "error.expected.jsobject"),
	SHAPE("bad docker network", "{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\",\"network\":\"bogus\"}}}",
	      "/container/docker/network", "error.unknown.enum.literal"),
	SHAPE("unreachableStrategy bad string", "{\"id\":\"/a\",\"cmd\":\"x y\",\"unreachableStrategy\":\"off\"}", "/unreachableStrategy",
	      "error.unknown.enum.literal"),
	/* what the reader lets through */
	OK("integral double instances", 0, "{\"id\":\"/a\",\"cmd\":\"x y\",\"instances\":2.0}", "instances", "2"),
	OK("enum case-insensitive", 0, "{\"id\":\"/a\",\"cmd\":\"x y\",\"killSelection\":\"oldest_first\"}", "killSelection", "\"OLDEST_FIRST\""),
	OK("network mode HOST", 0, "{\"id\":\"/a\",\"cmd\":\"x y\",\"networks\":[{\"mode\":\"HOST\"}]}", "networks/0/mode", "\"host\""),
	OK("unknown field ignored", 0, "{\"id\":\"/a\",\"cmd\":\"x y\",\"HAPROXY_GROUP\":\"x\"}", "HAPROXY_GROUP", "-"),
	OK("null is absent", 0, "{\"id\":\"/a\",\"cmd\":\"x y\",\"args\":null,\"container\":null,\"user\":null}", "container", "-"),
	OK("read-only fields ignored", 0,
	   "{\"id\":\"/a\",\"cmd\":\"x y\",\"version\":\"2015-01-01T00:00:00.000Z\",\"versionInfo\":{},\"tasks\":[],\"tasksRunning\":3,\"deployments\":[{\"id\":\"x\"}]}",
	   "tasksRunning", "-"),
	OK("relative id made absolute", 0, "{\"id\":\"a/b/../c\",\"cmd\":\"x y\"}", "id", "\"/a/c\""),
	OK("dependencies made absolute", 0, "{\"id\":\"/a\",\"cmd\":\"x y\",\"dependencies\":[\"b\",\"/c/x/../d\"]}", "dependencies/1", "\"/c/d\""),
	/* legacy migration */
	OK("ports become portDefinitions", 0, "{\"id\":\"/a\",\"cmd\":\"x y\",\"ports\":[0,0]}", "portDefinitions",
	   "[{\"port\":0,\"protocol\":\"tcp\"},{\"port\":0,\"protocol\":\"tcp\"}]"),
	OK("uris extract archives", 0, "{\"id\":\"/a\",\"cmd\":\"x y\",\"uris\":[\"http://h/a.tar.gz\",\"http://h/b.yml\"]}", "fetch",
	   "[{\"uri\":\"http://h/a.tar.gz\",\"extract\":true,\"executable\":false,\"cache\":false},"
	   "{\"uri\":\"http://h/b.yml\",\"extract\":false,\"executable\":false,\"cache\":false}]"),
	OK("docker BRIDGE becomes container/bridge", 0,
	   "{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\",\"network\":\"BRIDGE\",\"portMappings\":[{\"containerPort\":80}]}},\"requirePorts\":true}",
	   "container/portMappings", "[{\"containerPort\":80,\"hostPort\":0,\"labels\":{},\"protocol\":\"tcp\",\"servicePort\":0}]"),
	OK("bridge forces requirePorts false", 0,
	   "{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\",\"network\":\"BRIDGE\"}},\"requirePorts\":true,\"ports\":[0]}",
	   "requirePorts", "false"),
	OK("bridge drops portDefinitions", 0,
	   "{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\",\"network\":\"BRIDGE\"}},\"portDefinitions\":[{\"port\":80}]}",
	   "portDefinitions", "-"),
	OK("container mode default port mapping", 0,
	   "{\"id\":\"/a\",\"container\":{\"type\":\"MESOS\",\"docker\":{\"image\":\"i\"}},\"networks\":[{\"name\":\"dcos\"}]}",
	   "container/portMappings",
	   "[{\"containerPort\":0,\"hostPort\":0,\"labels\":{},\"name\":\"default\",\"protocol\":\"tcp\",\"servicePort\":0}]"),
	OK("network mode defaults to container", 0,
	   "{\"id\":\"/a\",\"container\":{\"type\":\"MESOS\",\"docker\":{\"image\":\"i\"}},\"networks\":[{\"name\":\"dcos\"}]}",
	   "networks", "[{\"mode\":\"container\",\"name\":\"dcos\"}]"),
	OK("ipAddress discovery becomes port mappings", 0,
	   "{\"id\":\"/a\",\"cmd\":\"x y\",\"container\":{\"type\":\"MESOS\"},\"ipAddress\":{\"networkName\":\"n\",\"discovery\":{\"ports\":[{\"number\":80,\"name\":\"http\",\"protocol\":\"udp\"}]}}}",
	   "container/portMappings",
	   "[{\"containerPort\":80,\"labels\":{},\"name\":\"http\",\"protocol\":\"udp\",\"servicePort\":0}]"),
	OK("bridge pads mappings up to the legacy ports", 0,
	   "{\"id\":\"/a\",\"ports\":[0,10051],\"container\":{\"docker\":{\"image\":\"i\",\"network\":\"BRIDGE\",\"portMappings\":[{\"containerPort\":80}]}}}",
	   "container/portMappings",
	   "[{\"containerPort\":80,\"hostPort\":0,\"labels\":{},\"protocol\":\"tcp\",\"servicePort\":0},"
	   "{\"containerPort\":0,\"hostPort\":0,\"labels\":{},\"protocol\":\"tcp\",\"servicePort\":10051}]"),
	OK("bridge default port mapping", 0, "{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\",\"network\":\"BRIDGE\"}}}",
	   "container/portMappings",
	   "[{\"containerPort\":0,\"hostPort\":0,\"labels\":{},\"name\":\"default\",\"protocol\":\"tcp\",\"servicePort\":0}]"),
	OK("USER network with ipAddress name", 0,
	   "{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\",\"network\":\"USER\",\"portMappings\":[{\"containerPort\":80}]}},\"ipAddress\":{\"networkName\":\"dcos\"}}",
	   "networks", "[{\"mode\":\"container\",\"name\":\"dcos\"}]"),
	OK("container mode keeps hostPort absent", 0,
	   "{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\",\"network\":\"USER\",\"portMappings\":[{\"containerPort\":80}]}},\"ipAddress\":{\"networkName\":\"dcos\"}}",
	   "container/portMappings/0/hostPort", "-"),
	OK("host networking drops port mappings", 0,
	   "{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\",\"network\":\"HOST\",\"portMappings\":[{\"containerPort\":80}]}}}",
	   "container/portMappings", "-"),
	OK("docker legacy fields removed", 0,
	   "{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\",\"network\":\"HOST\",\"portMappings\":[]}}}",
	   "container/docker", "{\"image\":\"i\",\"forcePullImage\":false,\"privileged\":false,\"parameters\":[]}"),
	/* defaults */
	OK("container type DOCKER and volumes", 0, "{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\"}}}", "container/type", "\"DOCKER\""),
	OK("volumes shown", 0, "{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\"}}}", "container/volumes", "[]"),
	OK("HTTP check forces delay and ipProtocol", 0,
	   "{\"id\":\"/a\",\"cmd\":\"x y\",\"healthChecks\":[{\"protocol\":\"HTTP\",\"delaySeconds\":99,\"ipProtocol\":\"IPv6\",\"path\":\"/h\"}]}",
	   "healthChecks/0",
	   "{\"protocol\":\"HTTP\",\"path\":\"/h\",\"gracePeriodSeconds\":300,\"intervalSeconds\":60,\"timeoutSeconds\":20,"
	   "\"maxConsecutiveFailures\":3,\"delaySeconds\":15,\"ipProtocol\":\"IPv4\",\"ignoreHttp1xx\":false}"),
	OK("MESOS_HTTP keeps delay", 0,
	   "{\"id\":\"/a\",\"cmd\":\"x y\",\"portDefinitions\":[{\"port\":0}],\"healthChecks\":[{\"protocol\":\"MESOS_HTTP\",\"delaySeconds\":99}]}",
	   "healthChecks/0",
	   "{\"protocol\":\"MESOS_HTTP\",\"gracePeriodSeconds\":300,\"intervalSeconds\":60,\"timeoutSeconds\":20,"
	   "\"maxConsecutiveFailures\":3,\"delaySeconds\":99,\"ipProtocol\":\"IPv4\",\"portIndex\":0}"),
	OK("COMMAND check drops portIndex", 0,
	   "{\"id\":\"/a\",\"cmd\":\"x y\",\"healthChecks\":[{\"protocol\":\"COMMAND\",\"command\":{\"value\":\"true\"},\"portIndex\":0}]}",
	   "healthChecks/0/portIndex", "-"),
	OK("portIndex not invented for default ports", 0, "{\"id\":\"/a\",\"cmd\":\"x y\",\"healthChecks\":[{\"protocol\":\"TCP\"}]}",
	   "healthChecks/0/portIndex", "-"),
	OK("readiness defaults", 0,
	   "{\"id\":\"/a\",\"cmd\":\"x y\",\"portDefinitions\":[{\"port\":0,\"name\":\"http-api\"}],\"readinessChecks\":[{}]}",
	   "readinessChecks/0",
	   "{\"name\":\"readinessCheck\",\"protocol\":\"HTTP\",\"path\":\"/\",\"portName\":\"http-api\",\"intervalSeconds\":30,"
	   "\"timeoutSeconds\":10,\"httpStatusCodesForReady\":[200],\"preserveLastResponse\":false}"),
	OK("role from --mesos_role", 1, "{\"id\":\"/a\",\"cmd\":\"x y\"}", "role", "\"slave_public\""),
	OK("empty collections omitted", 0, "{\"id\":\"/a\",\"cmd\":\"x y\",\"env\":{},\"constraints\":[],\"healthChecks\":[]}", "env", "-"),
	OK("labels always shown", 0, "{\"id\":\"/a\",\"cmd\":\"x y\"}", "labels", "{}"),
	OK("explicit empty portDefinitions kept", 0, "{\"id\":\"/a\",\"cmd\":\"x y\",\"portDefinitions\":[]}", "portDefinitions", "[]"),
	OK("unreachableStrategy half given", 0, "{\"id\":\"/a\",\"cmd\":\"x y\",\"unreachableStrategy\":{\"expungeAfterSeconds\":60}}",
	   "unreachableStrategy", "{\"inactiveAfterSeconds\":0,\"expungeAfterSeconds\":60}"),
	OK("resident app defaults", 1,
	   "{\"id\":\"/a\",\"cmd\":\"x y\",\"container\":{\"type\":\"MESOS\",\"volumes\":[{\"containerPath\":\"data\",\"mode\":\"RW\",\"persistent\":{\"size\":10}}]}}",
	   "upgradeStrategy", "{\"minimumHealthCapacity\":0.5,\"maximumOverCapacity\":0.0}"),
	OK("resident app unreachable disabled", 1,
	   "{\"id\":\"/a\",\"cmd\":\"x y\",\"container\":{\"type\":\"MESOS\",\"volumes\":[{\"containerPath\":\"data\",\"mode\":\"RW\",\"persistent\":{\"size\":10}}]}}",
	   "unreachableStrategy", "\"disabled\""),
	OK("resident app residency", 1,
	   "{\"id\":\"/a\",\"cmd\":\"x y\",\"container\":{\"type\":\"MESOS\",\"volumes\":[{\"containerPath\":\"data\",\"mode\":\"RW\",\"persistent\":{\"size\":10}}]}}",
	   "residency", "{\"relaunchEscalationTimeoutSeconds\":3600,\"taskLostBehavior\":\"WAIT_FOREVER\"}"),
	OK("single instance app", 0,
	   "{\"id\":\"/a\",\"cmd\":\"x y\",\"labels\":{\"MARATHON_SINGLE_INSTANCE_APP\":\"true\"},\"upgradeStrategy\":{\"minimumHealthCapacity\":0,\"maximumOverCapacity\":0}}",
	   "instances", "1"),
	OK("group role allowed", 0, "{\"id\":\"/prod/web\",\"cmd\":\"x y\",\"role\":\"prod\",\"acceptedResourceRoles\":[\"*\",\"prod\"]}", "role",
	   "\"prod\""),
	OK("gpus with the feature", 1, "{\"id\":\"/a\",\"cmd\":\"x y\",\"gpus\":1,\"container\":{\"type\":\"MESOS\"}}", "gpus", "1"),
	/* validateOldAppAPI */
	INVALID("ports differ from portDefinitions", 0, "{\"id\":\"/a\",\"cmd\":\"x y\",\"ports\":[1],\"portDefinitions\":[{\"port\":2}]}", "/",
		"cannot specify both ports and port definitions"),
	INVALID("docker.network with networks", 0,
		"{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\",\"network\":\"BRIDGE\"}},\"networks\":[{\"mode\":\"container/bridge\"}]}",
		"/", "must not specify both container.docker.network and networks"),
	INVALID("ipAddress with networks", 0, "{\"id\":\"/a\",\"cmd\":\"x y\",\"ipAddress\":{},\"networks\":[{\"mode\":\"host\"}]}", "/",
		"must not specify both networks and ipAddress"),
	INVALID("uris with fetch", 0, "{\"id\":\"/a\",\"cmd\":\"x y\",\"uris\":[\"http://a\"],\"fetch\":[{\"uri\":\"http://b\"}]}", "/uris",
		"may not be set in conjunction with fetch"),
	INVALID("ipAddress discovery with docker", 0,
		"{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\"}},\"ipAddress\":{\"discovery\":{\"ports\":[{\"number\":80,\"name\":\"http\"}]}}}",
		"/ipAddress", "ipAddress/discovery is not allowed for Docker containers"),
	INVALID("ipAddress with ports", 0, "{\"id\":\"/a\",\"cmd\":\"x y\",\"ipAddress\":{\"networkName\":\"n\"},\"ports\":[80]}", "/",
		"cannot specify both an IP address and port"),
	/* canonical validation */
	INVALID("cmd and args", 0, "{\"id\":\"/a\",\"cmd\":\"x y\",\"args\":[\"a\"]}", "/", "one of 'cmd' or 'args'"),
	INVALID("neither cmd nor container", 0, "{\"id\":\"/a\"}", "/", "one of 'cmd' or 'args'"),
	INVALID("health check port index out of range", 0,
		"{\"id\":\"/a\",\"cmd\":\"x y\",\"portDefinitions\":[{\"port\":0}],\"healthChecks\":[{\"portIndex\":1}]}", "/healthChecks(0)",
		"Health check port indices"),
	INVALID("two Mesos health checks", 0,
		"{\"id\":\"/a\",\"cmd\":\"x y\",\"healthChecks\":[{\"protocol\":\"MESOS_TCP\"},{\"protocol\":\"MESOS_HTTP\"}]}", "/",
		"at most one Mesos health check"),
	INVALID("two readiness checks", 0,
		"{\"id\":\"/a\",\"cmd\":\"x y\",\"portDefinitions\":[{\"name\":\"http-api\"}],\"readinessChecks\":[{},{\"name\":\"b\"}]}",
		"/readinessChecks", "expected 1 or less"),
	INVALID("readiness port name unknown", 0, "{\"id\":\"/a\",\"cmd\":\"x y\",\"readinessChecks\":[{}]}", "/readinessChecks(0)/portName",
		"No port definition reference for portName http-api"),
	INVALID("single instance with 2 instances", 0,
		"{\"id\":\"/a\",\"cmd\":\"x y\",\"instances\":2,\"labels\":{\"MARATHON_SINGLE_INSTANCE_APP\":\"true\"},\"upgradeStrategy\":{\"minimumHealthCapacity\":0,\"maximumOverCapacity\":0}}",
		"/", "Single instance app may only have one instance"),
	INVALID("single instance default strategy", 0,
		"{\"id\":\"/a\",\"cmd\":\"x y\",\"labels\":{\"MARATHON_SINGLE_INSTANCE_APP\":\"true\"}}", "/upgradeStrategy",
		"got 1.0, expected 0.0"),
	INVALID("acceptedResourceRoles outside role", 0,
		"{\"id\":\"/a\",\"cmd\":\"x y\",\"acceptedResourceRoles\":[\"slave_public\"]}", "/acceptedResourceRoles",
		"acceptedResourceRoles can only contain *"),
	OK("acceptedResourceRoles with DC/OS role", 1, "{\"id\":\"/a\",\"cmd\":\"x y\",\"acceptedResourceRoles\":[\"slave_public\"]}",
	   "acceptedResourceRoles", "[\"slave_public\"]"),
	INVALID("role not valid", 0, "{\"id\":\"/prod/web\",\"cmd\":\"x y\",\"role\":\"dev\"}", "/role", "is not valid"),
	INVALID("resident with role *", 0,
		"{\"id\":\"/a\",\"cmd\":\"x y\",\"container\":{\"type\":\"MESOS\",\"volumes\":[{\"containerPath\":\"data\",\"mode\":\"RW\",\"persistent\":{\"size\":10}}]}}",
		"/role", "Resident apps cannot have the role *"),
	INVALID("secrets without the feature", 0, "{\"id\":\"/a\",\"cmd\":\"x y\",\"secrets\":{\"s\":{\"source\":\"/x\"}}}", "/secrets",
		"Feature secrets is not enabled"),
	INVALID("secret env without the feature", 0,
		"{\"id\":\"/a\",\"cmd\":\"x y\",\"env\":{\"P\":{\"secret\":\"s\"}},\"secrets\":{\"s\":{\"source\":\"/x\"}}}", "/env",
		"requires the secrets feature"),
	INVALID("secret volume without the feature", 0,
		"{\"id\":\"/a\",\"cmd\":\"x y\",\"container\":{\"type\":\"MESOS\",\"volumes\":[{\"containerPath\":\"p\",\"secret\":\"s\"}]},\"secrets\":{\"s\":{\"source\":\"/x\"}}}",
		"/container", "Feature secrets is not enabled"),
	INVALID("pullConfig without the feature", 0,
		"{\"id\":\"/a\",\"container\":{\"type\":\"MESOS\",\"docker\":{\"image\":\"i\",\"pullConfig\":{\"secret\":\"s\"}}},\"secrets\":{\"s\":{\"source\":\"/x\"}}}",
		"/container/docker/pullConfig", "Feature secrets is not enabled"),
	INVALID("env secret undefined", 1, "{\"id\":\"/a\",\"cmd\":\"x y\",\"env\":{\"P\":{\"secret\":\"nope\"}}}", "/env/P",
		"undefined secret"),
	INVALID("gpus without the feature", 0, "{\"id\":\"/a\",\"cmd\":\"x y\",\"gpus\":1,\"container\":{\"type\":\"MESOS\"}}", "/gpus",
		"Feature gpu_resources is not enabled"),
	INVALID("external volume without the feature", 0,
		"{\"id\":\"/a\",\"cmd\":\"x y\",\"container\":{\"type\":\"MESOS\",\"volumes\":[{\"containerPath\":\"p\",\"mode\":\"RW\",\"external\":{\"name\":\"v\",\"provider\":\"dvdi\"}}]}}",
		"/container/volumes(0)", "Feature external_volumes is not enabled"),
	INVALID("reserved id suffix", 0, "{\"id\":\"/x/restart\",\"cmd\":\"x y\"}", "/id", "reserved keywords"),
	INVALID("duplicate port names", 0, "{\"id\":\"/a\",\"cmd\":\"x y\",\"portDefinitions\":[{\"name\":\"a\"},{\"name\":\"a\"}]}",
		"/portDefinitions", "Port names must be unique."),
	INVALID("bad constraint operator", 0, "{\"id\":\"/a\",\"cmd\":\"x y\",\"constraints\":[[\"hostname\",\"ONE_PER\"]]}", "/constraints(0)",
		"Constraint operator must be one of"),
	INVALID("container network without a name", 0,
		"{\"id\":\"/a\",\"container\":{\"docker\":{\"image\":\"i\"}},\"networks\":[{\"mode\":\"container\"}]}", "/",
		"Network name must be specified"),
};

/* Walk "a/b/0/c" through objects and arrays; NULL when absent. */
static struct json_object *at(struct json_object *o, const char *path)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, "/", &save); tok && o; tok = strtok_r(NULL, "/", &save)) {
		if (json_object_is_type(o, json_type_array)) {
			size_t i = (size_t)strtoul(tok, NULL, 10);

			o = i < json_object_array_length(o) ? json_object_array_get_idx(o, i) : NULL;
		} else if (!json_object_object_get_ex(o, tok, &o)) {
			return NULL;
		}
	}
	return o;
}

static int details_have(struct json_object *body, const char *path, const char *needle)
{
	struct json_object *details = NULL;
	size_t i, j;

	if (!json_object_object_get_ex(body, "details", &details))
		return 0;
	for (i = 0; i < json_object_array_length(details); i++) {
		struct json_object *d = json_object_array_get_idx(details, i), *p = NULL, *errs = NULL;

		if (!json_object_object_get_ex(d, "path", &p) || strcmp(json_object_get_string(p), path) != 0)
			continue;
		json_object_object_get_ex(d, "errors", &errs);
		for (j = 0; j < json_object_array_length(errs); j++)
			if (strstr(json_object_get_string(json_object_array_get_idx(errs, j)), needle))
				return 1;
	}
	return 0;
}

/* Criterion runs each parameter in another process: the parameters are
 * indices into the static table, never pointers. */
static size_t rule_indices[sizeof(rules) / sizeof(rules[0])];

ParameterizedTestParameters(appdef, rules)
{
	for (size_t i = 0; i < sizeof(rule_indices) / sizeof(rule_indices[0]); i++)
		rule_indices[i] = i;
	return cr_make_param_array(size_t, rule_indices, sizeof(rule_indices) / sizeof(rule_indices[0]));
}

ParameterizedTest(size_t *i, appdef, rules)
{
	static const struct appdef_flags def = APPDEF_FLAGS_INIT, dc = APPDEF_FLAGS_DCOS;
	const struct rule *r = &rules[*i];
	struct json_object *body = parse(r->body), *out = NULL, *err = NULL;
	int rc = appdef_submit(body, NULL, r->dcos ? &dc : &def, &out, &err);

	if (!r->message) {
		cr_expect_eq(rc, 0, "%s: rejected: %s", r->name, text(err));
		if (rc == 0 && r->check_at) {
			struct json_object *got = at(out, r->check_at);

			if (strcmp(r->check_value, "-") == 0) {
				cr_expect_null(got, "%s: %s should be absent, is %s", r->name, r->check_at, text(got));
			} else {
				struct json_object *want = parse(r->check_value);

				cr_expect(got && json_eq(got, want, NULL), "%s: %s is %s, want %s (app %s)", r->name,
					  r->check_at, got ? text(got) : "absent", r->check_value, text(out));
				json_object_put(want);
			}
		}
	} else {
		struct json_object *msg = NULL;

		cr_expect_eq(rc, PACER_EINVALID, "%s: accepted: %s", r->name, text(out));
		if (rc == PACER_EINVALID) {
			cr_expect(json_object_object_get_ex(err, "message", &msg) &&
					  strcmp(json_object_get_string(msg), r->message) == 0,
				  "%s: message %s, want %s", r->name, text(err), r->message);
			cr_expect(details_have(err, r->path, r->error), "%s: no '%s' at %s in %s", r->name, r->error,
				  r->path, text(err));
		}
	}
	json_object_put(body);
	json_object_put(out);
	json_object_put(err);
}

Test(appdef, put_url_id_wins)
{
	struct json_object *body = parse("{\"id\":\"/other\",\"cmd\":\"x y\"}"), *out = NULL;

	cr_assert_eq(appdef_submit(body, "/prod/web", NULL, &out, NULL), 0);
	cr_expect_str_eq(json_object_get_string(json_object_object_get(out, "id")), "/prod/web");
	json_object_put(out);
	json_object_put(body);
	/* PUT does not need a body id at all. */
	body = parse("{\"cmd\":\"x y\"}");
	cr_assert_eq(appdef_submit(body, "web", NULL, &out, NULL), 0);
	cr_expect_str_eq(json_object_get_string(json_object_object_get(out, "id")), "/web");
	json_object_put(out);
	json_object_put(body);
}

Test(appdef, errors_grouped_by_path)
{
	struct json_object *body = parse("{\"id\":\"/a\",\"cmd\":\"x y\",\"cpus\":\"1\",\"mem\":\"2\",\"instances\":\"3\"}");
	struct json_object *out = NULL, *err = NULL, *details;

	cr_assert_eq(appdef_submit(body, NULL, NULL, &out, &err), PACER_EINVALID);
	cr_assert_null(out);
	details = json_object_object_get(err, "details");
	cr_expect_eq(json_object_array_length(details), 3, "%s", text(err));
	json_object_put(err);
	/* out_error may be NULL */
	cr_assert_eq(appdef_submit(body, NULL, NULL, &out, NULL), PACER_EINVALID);
	json_object_put(body);
}

Test(appdef, format_error_in_words)
{
	struct json_object *b = parse("{\"message\":\"Invalid JSON\",\"details\":[{\"path\":\"/cpus\",\"errors\":[\"error.expected.jsnumber\"]},"
				      "{\"path\":\"/upgradeStrategy/maximumOverCapacity\",\"errors\":[\"error.path.missing\",\"error.max\"]}]}");
	char *s = appdef_format_error(b);

	cr_expect(strstr(s, "/cpus: expected a number") != NULL, "%s", s);
	cr_expect(strstr(s, "\n/upgradeStrategy/maximumOverCapacity: is required but missing\n") != NULL, "%s", s);
	cr_expect(strstr(s, "between 0.0 and 1.0") != NULL, "%s", s);
	cr_expect(strstr(s, "error.") == NULL, "Play keys must be translated: %s", s);
	free(s);
	json_object_put(b);
	b = parse("{\"message\":\"Object is not valid\",\"details\":[{\"path\":\"/role\",\"errors\":[\"Resident apps cannot have the role *\"]}]}");
	s = appdef_format_error(b);
	cr_expect_str_eq(s, "/role: Resident apps cannot have the role *");
	free(s);
	json_object_put(b);
	b = parse("{\"message\":\"Invalid JSON\",\"details\":\"Unexpected end-of-input\"}");
	s = appdef_format_error(b);
	cr_expect_str_eq(s, "Invalid JSON: Unexpected end-of-input");
	free(s);
	json_object_put(b);
}

Test(appdef, parse_features)
{
	cr_expect_eq(appdef_parse_features("secrets,external_volumes,gpu_resources"),
		     APPDEF_FEATURE_SECRETS | APPDEF_FEATURE_EXTERNAL_VOLUMES | APPDEF_FEATURE_GPU_RESOURCES);
	cr_expect_eq(appdef_parse_features("vips,task_killing,gpu_resources"), APPDEF_FEATURE_GPU_RESOURCES);
	cr_expect_eq(appdef_parse_features("no_secrets_here"), 0u);
	cr_expect_eq(appdef_parse_features(""), 0u);
	cr_expect_eq(appdef_parse_features(NULL), 0u);
}

Test(appdef, default_network_name_flag)
{
	struct appdef_flags flags = APPDEF_FLAGS_INIT;
	struct json_object *body = parse("{\"id\":\"/a\",\"cmd\":\"x y\",\"networks\":[{\"mode\":\"container\"}]}");
	struct json_object *out = NULL, *err = NULL;

	cr_assert_eq(appdef_submit(body, NULL, &flags, &out, &err), PACER_EINVALID);
	cr_expect(strstr(text(err), "Network name must be specified"), "%s", text(err));
	json_object_put(err);
	err = NULL;
	flags.default_network_name = "dcos";
	cr_assert_eq(appdef_submit(body, NULL, &flags, &out, &err), 0, "%s", text(err));
	cr_expect_str_eq(json_object_get_string(at(out, "networks/0/name")), "dcos");
	json_object_put(out);
	json_object_put(body);
}

/*
 * Marathon's own system-test apps run on clusters with DC/OS's flags: they
 * must pass. Under the default flags only the feature/role rules may refuse
 * them.
 */
Test(appdef, marathon_system_test_apps)
{
	char *dir = shared_dir_or_skip();
	static const char *const apps[] = {
		"app-with-https-readiness-checks", "docker-http-server", "docker-nginx-ssl", "external-volume-mesos-app",
		"fake-framework", "healthcheck-and-volume", "http-server", "ipv6-healthcheck", "large-sleep", "mesos-app",
		"persistent-volume-app", "pinger-bridge-app", "pinger-container-app", "pinger-localhost-app",
		"private-docker-app", "private-ucr-docker-app", "readiness-and-health-app", "resident-docker-app",
		"sleep-app", "ucr-docker-http-server",
	};
	static const struct appdef_flags dc = APPDEF_FLAGS_DCOS;
	size_t i;

	for (i = 0; i < sizeof(apps) / sizeof(apps[0]); i++) {
		char path[1024];
		struct json_object *body, *out = NULL, *err = NULL;

		snprintf(path, sizeof(path), "%s/marathon-api/examples/system-tests/apps/%s.json", dir, apps[i]);
		body = json_object_from_file(path);
		cr_assert_not_null(body, "cannot read %s", path);
		cr_expect_eq(appdef_submit(body, NULL, &dc, &out, &err), 0, "%s: %s", apps[i], text(err));
		json_object_put(out);
		json_object_put(err);
		out = err = NULL;
		if (appdef_submit(body, NULL, NULL, &out, &err) != 0) {
			char *words = appdef_format_error(err);

			cr_expect(strstr(words, "Feature ") || strstr(words, "role"), "%s: %s", apps[i], words);
			free(words);
		}
		json_object_put(out);
		json_object_put(err);
		json_object_put(body);
	}
	free(dir);
}

/* marathon-sim runs the pipeline for 10,000 apps at load; keep it linear and quick. */
Test(appdef, ten_thousand_apps)
{
	char *dir = shared_dir_or_skip();
	char path[1024];
	struct json_object *root, *apps = NULL;
	struct timespec t0, t1;
	size_t i, n;
	double secs;

	snprintf(path, sizeof(path), "%s/corpus/realworld/066_mesosphere_marathon_155_1000.json", dir);
	free(dir);
	root = json_object_from_file(path);
	cr_assert_not_null(root);
	cr_assert(json_object_object_get_ex(root, "apps", &apps));
	n = json_object_array_length(apps);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 10000; i++) {
		struct json_object *out = NULL;

		cr_assert_eq(appdef_submit(json_object_array_get_idx(apps, i % n), NULL, NULL, &out, NULL), 0);
		json_object_put(out);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* Generous: sanitizers and 8 engineers share 2 cores. ~0.5 s without them. */
	cr_expect_lt(secs, 60.0, "10,000 apps took %.1f s", secs);
	json_object_put(root);
}
