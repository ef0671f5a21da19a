/*
 * Normalisation rules, one desired/live pair per rule: every pair that must
 * compare equal, and every real change that must never be hidden. JSON is
 * written with single quotes for readability and converted before parsing.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/jsonutil.h"
#include "reconcile/diff.h"
#include "reconcile/normalize.h"
#include "tests/lib/testlib.h"

#define J(sq) test_json(sq)

struct pair {
	const char *name;
	const char *desired;
	const char *live;
	unsigned adopt;      /* NORMALIZE_ADOPT_* */
	const char *changed; /* NULL: must be equal; else the paths that must change, comma-separated */
};

/* Normalise both sides (with or without appdef), adopt, diff. */
static void compare(const struct pair *c, int skip_appdef, struct pacer_field_change **ch, size_t *n)
{
	struct normalize_options o = NORMALIZE_OPTIONS_INIT;
	struct json_object *d = J(c->desired), *l = J(c->live), *dn = NULL, *ln = NULL;
	struct pacer_error *err = NULL;

	o.skip_appdef = skip_appdef;
	cr_assert_eq(normalize_app(d, &o, &dn, &err), 0, "%s: desired", c->name);
	cr_assert_eq(normalize_app(l, &o, &ln, &err), 0, "%s: live", c->name);
	cr_assert_eq(normalize_adopt_live(d, dn, ln, c->adopt), 0);
	cr_assert_eq(diff_apps(dn, ln, ch, n), 0);
	json_object_put(d);
	json_object_put(l);
	json_object_put(dn);
	json_object_put(ln);
}

static char *describe(struct pacer_field_change *ch, size_t n)
{
	size_t cap = 64;
	char *s = calloc(1, cap);

	for (size_t i = 0; i < n; i++) {
		char *o = jsonutil_to_string(ch[i].old_value), *v = jsonutil_to_string(ch[i].new_value);
		size_t need = strlen(s) + strlen(ch[i].path) + strlen(o) + strlen(v) + 16;

		if (need > cap) {
			cap = need * 2;
			s = realloc(s, cap);
		}
		strcat(s, ch[i].path);
		strcat(s, ": ");
		strcat(s, o);
		strcat(s, " -> ");
		strcat(s, v);
		strcat(s, "; ");
		free(o);
		free(v);
	}
	return s;
}

#define BASE "'id':'/a','cmd':'run'"
#define DOCKER_BRIDGE_LIVE                                                                      \
	"'networks':[{'mode':'container/bridge'}],'container':{'type':'DOCKER','volumes':[],"     \
	"'docker':{'image':'nginx:1.25','forcePullImage':false,'privileged':false,'parameters':[]}," \
	"'portMappings':[{'containerPort':80,'hostPort':0,'servicePort':10010,'protocol':'tcp','labels':{}}]}"

static struct pair equal_cases[] = {
	{"instances default", "{" BASE ",'instances':1}", "{" BASE "}", 0, NULL},
	{"numbers as numbers", "{" BASE ",'mem':128,'cpus':1,'disk':0}",
	 "{" BASE ",'mem':128.0,'cpus':1.0,'disk':0.0}", 0, NULL},
	{"every default filled",
	 "{" BASE "}",
	 "{" BASE ",'backoffFactor':1.15,'backoffSeconds':1,'cpus':1.0,'disk':0.0,'executor':'',"
	 "'instances':1,'labels':{},'maxLaunchDelaySeconds':300,'mem':128.0,'gpus':0,"
	 "'networks':[{'mode':'host'}],'portDefinitions':[{'port':10000,'name':'default','protocol':'tcp'}],"
	 "'requirePorts':false,'upgradeStrategy':{'maximumOverCapacity':1.0,'minimumHealthCapacity':1.0},"
	 "'killSelection':'YOUNGEST_FIRST','unreachableStrategy':{'inactiveAfterSeconds':0,'expungeAfterSeconds':0},"
	 "'role':'*'}", 0, NULL},
	{"server fields dropped", "{" BASE "}",
	 "{" BASE ",'version':'2020-07-28T13:30:27.123Z','versionInfo':{'lastScalingAt':'x','lastConfigChangeAt':'y'},"
	 "'tasksStaged':0,'tasksRunning':2,'tasksHealthy':0,'tasksUnhealthy':0,'deployments':[{'id':'d1'}],"
	 "'tasks':[{'id':'t1'}],'lastTaskFailure':{'state':'TASK_FAILED'},'readinessCheckResults':[],"
	 "'taskStats':{},'tasksStats':{},'storeUrls':[]}", 0, NULL},
	{"explicit nulls are absent", "{" BASE "}",
	 "{" BASE ",'args':null,'user':null,'container':null,'ipAddress':null,'residency':null,"
	 "'acceptedResourceRoles':null,'taskKillGracePeriodSeconds':null}", 0, NULL},
	{"desired nulls are absent", "{" BASE ",'args':null,'container':null,'env':null}", "{" BASE "}", 0, NULL},
	{"ports -> portDefinitions", "{" BASE ",'ports':[0,0]}",
	 "{" BASE ",'portDefinitions':[{'port':10001,'protocol':'tcp'},{'port':10002,'protocol':'tcp'}]}", 0, NULL},
	{"1.4 output has ports and portDefinitions", "{" BASE ",'ports':[0]}",
	 "{" BASE ",'ports':[10001],'portDefinitions':[{'port':10001,'protocol':'tcp','labels':{}}]}", 0, NULL},
	{"service port 0 matches any", "{" BASE "}",
	 "{" BASE ",'portDefinitions':[{'port':10004,'name':'default','protocol':'tcp'}]}", 0, NULL},
	{"fixed port equal", "{" BASE ",'portDefinitions':[{'port':8080}]}",
	 "{" BASE ",'portDefinitions':[{'port':8080,'protocol':'tcp'}]}", 0, NULL},
	{"uris -> fetch", "{" BASE ",'uris':['http://x/a.tgz','http://x/b.yml']}",
	 "{" BASE ",'fetch':[{'uri':'http://x/a.tgz','extract':true,'executable':false,'cache':false},"
	 "{'uri':'http://x/b.yml','extract':false,'executable':false,'cache':false}]}", 0, NULL},
	{"1.4 uris echoed next to fetch", "{" BASE ",'fetch':[{'uri':'http://x/b.yml'}]}",
	 "{" BASE ",'uris':['http://x/b.yml'],'fetch':[{'uri':'http://x/b.yml','extract':true}]}", 0, NULL},
	{"fetch defaults", "{" BASE ",'fetch':[{'uri':'http://x/b'}]}",
	 "{" BASE ",'fetch':[{'uri':'http://x/b','extract':true,'executable':false,'cache':false}]}", 0, NULL},
	{"docker.network BRIDGE + docker.portMappings",
	 "{" BASE ",'container':{'type':'DOCKER','docker':{'image':'nginx:1.25','network':'BRIDGE',"
	 "'portMappings':[{'containerPort':80,'hostPort':0,'servicePort':0}]}}}",
	 "{" BASE "," DOCKER_BRIDGE_LIVE "}", 0, NULL},
	{"bridge drops portDefinitions and ports",
	 "{" BASE ",'ports':[0],'requirePorts':true,'container':{'docker':{'image':'nginx:1.25','network':'BRIDGE',"
	 "'portMappings':[{'containerPort':80}]}}}",
	 "{" BASE "," DOCKER_BRIDGE_LIVE "}", 0, NULL},
	{"ipAddress -> container network",
	 "{" BASE ",'ipAddress':{'networkName':'dcos'},'container':{'type':'DOCKER','docker':{'image':'i','network':'USER'}}}",
	 "{" BASE ",'networks':[{'mode':'container','name':'dcos'}],'container':{'type':'DOCKER','volumes':[],"
	 "'docker':{'image':'i','forcePullImage':false,'privileged':false,'parameters':[]},"
	 "'portMappings':[{'containerPort':0,'hostPort':0,'labels':{},'name':'default','protocol':'tcp','servicePort':10020}]}}",
	 0, NULL},
	{"ipAddress discovery ports -> portMappings",
	 "{" BASE ",'ipAddress':{'networkName':'dcos','discovery':{'ports':[{'number':8080,'name':'http','protocol':'tcp'}]}},"
	 "'container':{'type':'MESOS'}}",
	 "{" BASE ",'networks':[{'mode':'container','name':'dcos'}],'container':{'type':'MESOS','volumes':[],"
	 "'portMappings':[{'containerPort':8080,'labels':{},'name':'http','protocol':'tcp','servicePort':10030}]}}",
	 0, NULL},
	{"container.type defaults to DOCKER", "{" BASE ",'container':{'docker':{'image':'i'}}}",
	 "{" BASE ",'container':{'type':'DOCKER','volumes':[],'docker':{'image':'i','forcePullImage':false,"
	 "'privileged':false,'parameters':[]}}}", 0, NULL},
	{"network mode is case-insensitive", "{" BASE ",'networks':[{'mode':'HOST'}]}", "{" BASE "}", 0, NULL},
	{"constraints are a set, operators upper-cased",
	 "{" BASE ",'constraints':[['rack','group_by','3'],['hostname','unique']]}",
	 "{" BASE ",'constraints':[['hostname','UNIQUE'],['rack','GROUP_BY','3']]}", 0, NULL},
	{"health checks are a set with defaults",
	 "{" BASE ",'healthChecks':[{'protocol':'TCP'},{'path':'/h','portIndex':0}]}",
	 "{" BASE ",'healthChecks':[{'path':'/h','protocol':'HTTP','portIndex':0,'gracePeriodSeconds':300,"
	 "'intervalSeconds':60,'timeoutSeconds':20,'maxConsecutiveFailures':3,'ignoreHttp1xx':false,"
	 "'delaySeconds':15,'ipProtocol':'IPv4'},{'protocol':'TCP','portIndex':0,'gracePeriodSeconds':300,"
	 "'intervalSeconds':60,'timeoutSeconds':20,'maxConsecutiveFailures':3,'delaySeconds':15,'ipProtocol':'IPv4'}]}",
	 0, NULL},
	{"HTTP check delaySeconds/ipProtocol ignored",
	 "{" BASE ",'healthChecks':[{'protocol':'HTTP','delaySeconds':40,'ipProtocol':'IPv6'}]}",
	 "{" BASE ",'healthChecks':[{'protocol':'HTTP','delaySeconds':15,'ipProtocol':'IPv4','portIndex':0}]}", 0, NULL},
	{"absent portIndex is 0", "{" BASE ",'healthChecks':[{'protocol':'MESOS_HTTP','path':'/'}]}",
	 "{" BASE ",'healthChecks':[{'protocol':'MESOS_HTTP','path':'/','portIndex':0,'delaySeconds':15}]}", 0, NULL},
	{"COMMAND check drops portIndex",
	 "{" BASE ",'healthChecks':[{'protocol':'COMMAND','command':{'value':'true'},'portIndex':0}]}",
	 "{" BASE ",'healthChecks':[{'protocol':'COMMAND','command':{'value':'true'},'delaySeconds':15,'ipProtocol':'IPv4'}]}",
	 0, NULL},
	{"dependencies relative (to the root) and unordered",
	 "{'id':'/g/a','cmd':'run','dependencies':['g/c','/g/b','./g/b']}",
	 "{'id':'/g/a','cmd':'run','dependencies':['/g/c','/g/b']}", 0, NULL},
	{"ipAddress without container: Mesos container, default mapping",
	 "{" BASE ",'ipAddress':{'networkName':'dcos','labels':{'a':'b'}}}",
	 "{" BASE ",'networks':[{'mode':'container','name':'dcos','labels':{'a':'b'}}],'container':{'type':'MESOS',"
	 "'volumes':[],'portMappings':[{'containerPort':0,'hostPort':0,'labels':{},'name':'default','protocol':'tcp',"
	 "'servicePort':10040}]}}", 0, NULL},
	{"bridge with more ports than mappings pads the mappings",
	 "{" BASE ",'ports':[0,0],'container':{'docker':{'image':'i','network':'BRIDGE','portMappings':[{'containerPort':80}]}}}",
	 "{" BASE ",'networks':[{'mode':'container/bridge'}],'container':{'type':'DOCKER','docker':{'image':'i'},"
	 "'portMappings':[{'containerPort':80,'hostPort':0,'servicePort':10050,'protocol':'tcp'},"
	 "{'containerPort':0,'hostPort':0,'servicePort':10051,'protocol':'tcp'}]}}", 0, NULL},
	{"acceptedResourceRoles are a set", "{" BASE ",'acceptedResourceRoles':['slave_public','*']}",
	 "{" BASE ",'acceptedResourceRoles':['*','slave_public']}", 0, NULL},
	{"readiness check defaults and status code set",
	 "{" BASE ",'readinessChecks':[{'httpStatusCodesForReady':[204,200]}]}",
	 "{" BASE ",'readinessChecks':[{'name':'readinessCheck','protocol':'HTTP','path':'/','portName':'http-api',"
	 "'intervalSeconds':30,'timeoutSeconds':10,'httpStatusCodesForReady':[200,204],'preserveLastResponse':false}]}",
	 0, NULL},
	{"empty optional collections", "{" BASE ",'env':{},'labels':{},'constraints':[],'healthChecks':[],'args':[]}",
	 "{" BASE ",'dependencies':[],'fetch':[],'secrets':{}}", 0, NULL},
	{"maxLaunchDelaySeconds 3600 of <= 1.7", "{" BASE "}", "{" BASE ",'maxLaunchDelaySeconds':3600}", 0, NULL},
	{"unreachableStrategy 300/600 of 1.4.0-1.4.8", "{" BASE "}",
	 "{" BASE ",'unreachableStrategy':{'inactiveAfterSeconds':300,'expungeAfterSeconds':600}}", 0, NULL},
	{"partial unreachableStrategy", "{" BASE ",'unreachableStrategy':{'inactiveAfterSeconds':0}}", "{" BASE "}", 0, NULL},
	{"role not set in the file (slave_public)", "{" BASE "}", "{" BASE ",'role':'slave_public'}", 0, NULL},
	{"role set but Marathon < 1.9", "{" BASE ",'role':'prod'}", "{" BASE "}", 0, NULL},
	{"instances not owned", "{" BASE ",'instances':2,'labels':{'pacer.instances':'unmanaged'}}",
	 "{" BASE ",'instances':7,'labels':{'pacer.instances':'unmanaged'}}", NORMALIZE_ADOPT_INSTANCES, NULL},
	{"unknown fields ignored", "{" BASE ",'force':true,'HAPROXY_GROUP':'external',"
	 "'container':{'type':'DOCKER','env':{'A':'1'},'docker':{'image':'i','forcePull':true}}}",
	 "{" BASE ",'container':{'type':'DOCKER','docker':{'image':'i'}}}", 0, NULL},
	{"residency has no effect", "{" BASE ",'residency':{'taskLostBehavior':'WAIT_FOREVER'}}", "{" BASE "}", 0, NULL},
	{"persistent volume defaults",
	 "{" BASE ",'container':{'type':'MESOS','volumes':[{'containerPath':'d','mode':'RW','persistent':{'size':10}}]}}",
	 "{" BASE ",'container':{'type':'MESOS','volumes':[{'containerPath':'d','mode':'RW','persistent':{'size':10}}]},"
	 "'upgradeStrategy':{'minimumHealthCapacity':0.5,'maximumOverCapacity':0.0},'unreachableStrategy':'disabled',"
	 "'residency':{'relaunchEscalationTimeoutSeconds':3600,'taskLostBehavior':'WAIT_FOREVER'}}", 0, NULL},
	{"volume defaults as Marathon writes them",
	 "{" BASE ",'container':{'type':'MESOS','volumes':[{'containerPath':'d','mode':'rw','persistent':{'size':10}},"
	 "{'containerPath':'e','mode':'RW','external':{'name':'v','provider':'dvdi','options':{}}}]}}",
	 "{" BASE ",'container':{'type':'MESOS','volumes':[{'containerPath':'d','mode':'RW','persistent':{'type':'root','size':10}},"
	 "{'containerPath':'e','mode':'RW','external':{'name':'v','provider':'dvdi','shared':false}}]},"
	 "'upgradeStrategy':{'minimumHealthCapacity':0.5,'maximumOverCapacity':0},'unreachableStrategy':'disabled'}", 0, NULL},
	{"Mesos container drops docker parameters and privileged",
	 "{" BASE ",'container':{'type':'MESOS','docker':{'image':'i','privileged':true,'parameters':[{'key':'a','value':'b'}]}}}",
	 "{" BASE ",'container':{'type':'MESOS','volumes':[],'docker':{'image':'i','forcePullImage':false,'privileged':false,"
	 "'parameters':[]}}}", 0, NULL},
	{"port protocol case", "{" BASE ",'portDefinitions':[{'port':80,'protocol':'UDP'}]}",
	 "{" BASE ",'portDefinitions':[{'port':80,'protocol':'udp'}]}", 0, NULL},
	{"executorResources defaults", "{" BASE ",'executorResources':{'cpus':0.1}}",
	 "{" BASE ",'executorResources':{'cpus':0.1,'mem':32.0,'disk':10.0}}", 0, NULL},
	{"relative id", "{'id':'a/./b/../c','cmd':'run'}", "{'id':'/a/c','cmd':'run'}", 0, NULL},
};

static struct pair diff_cases[] = {
	{"image changed",
	 "{" BASE ",'container':{'docker':{'image':'nginx:1.24','network':'BRIDGE','portMappings':[{'containerPort':80}]}}}",
	 "{" BASE "," DOCKER_BRIDGE_LIVE "}", 0, "/container/docker/image"},
	{"env value changed", "{" BASE ",'env':{'A':'1','B':'2'}}", "{" BASE ",'env':{'A':'1','B':'3'}}", 0, "/env/B"},
	{"env added", "{" BASE ",'env':{'NEW':'x'}}", "{" BASE "}", 0, "/env/NEW"},
	{"label removed", "{" BASE ",'labels':{'a':'1'}}", "{" BASE ",'labels':{'a':'1','OLD':'y'}}", 0, "/labels/OLD"},
	{"health check removed", "{" BASE ",'healthChecks':[{'protocol':'TCP'}]}",
	 "{" BASE ",'healthChecks':[{'protocol':'TCP'},{'protocol':'HTTP','path':'/'}]}", 0, "/healthChecks"},
	{"all health checks removed", "{" BASE "}", "{" BASE ",'healthChecks':[{'protocol':'TCP'}]}", 0, "/healthChecks"},
	{"instances owned", "{" BASE ",'instances':2}", "{" BASE ",'instances':3}", 0, "/instances"},
	{"instances unmanaged label alone does not adopt", "{" BASE ",'instances':2}",
	 "{" BASE ",'instances':3}", 0, "/instances"},
	{"fixed port changed", "{" BASE ",'portDefinitions':[{'port':8080}]}",
	 "{" BASE ",'portDefinitions':[{'port':8081,'protocol':'tcp'}]}", 0, "/portDefinitions"},
	{"fixed service port changed",
	 "{" BASE ",'container':{'docker':{'image':'nginx:1.25','network':'BRIDGE','portMappings':[{'containerPort':80,'servicePort':10011}]}}}",
	 "{" BASE "," DOCKER_BRIDGE_LIVE "}", 0, "/container/portMappings"},
	{"port added", "{" BASE ",'portDefinitions':[{'port':0},{'port':0}]}",
	 "{" BASE ",'portDefinitions':[{'port':10001,'protocol':'tcp'}]}", 0, "/portDefinitions"},
	{"explicit no ports", "{" BASE ",'portDefinitions':[]}", "{" BASE "}", 0, "/portDefinitions"},
	{"explicit maxLaunchDelaySeconds", "{" BASE ",'maxLaunchDelaySeconds':3600}",
	 "{" BASE ",'maxLaunchDelaySeconds':300}", 0, "/maxLaunchDelaySeconds"},
	{"non-default maxLaunchDelaySeconds live", "{" BASE "}", "{" BASE ",'maxLaunchDelaySeconds':60}", 0,
	 "/maxLaunchDelaySeconds"},
	{"explicit unreachableStrategy", "{" BASE ",'unreachableStrategy':{'inactiveAfterSeconds':0,'expungeAfterSeconds':0}}",
	 "{" BASE ",'unreachableStrategy':{'inactiveAfterSeconds':300,'expungeAfterSeconds':600}}", 0,
	 "/unreachableStrategy/expungeAfterSeconds,/unreachableStrategy/inactiveAfterSeconds"},
	{"role owned", "{" BASE ",'role':'*'}", "{" BASE ",'role':'slave_public'}", 0, "/role"},
	{"cpus", "{" BASE ",'cpus':1.5}", "{" BASE ",'cpus':1.0}", 0, "/cpus"},
	{"portIndex 1 vs absent", "{" BASE ",'portDefinitions':[{'port':0},{'port':0}],'healthChecks':[{'portIndex':1}]}",
	 "{" BASE ",'portDefinitions':[{'port':1},{'port':2}],'healthChecks':[{'protocol':'HTTP'}]}", 0, "/healthChecks"},
	{"MESOS_HTTP delaySeconds counts", "{" BASE ",'healthChecks':[{'protocol':'MESOS_HTTP','delaySeconds':30}]}",
	 "{" BASE ",'healthChecks':[{'protocol':'MESOS_HTTP','delaySeconds':15}]}", 0, "/healthChecks"},
	{"constraint changed", "{" BASE ",'constraints':[['hostname','UNIQUE']]}",
	 "{" BASE ",'constraints':[['hostname','CLUSTER','a']]}", 0, "/constraints"},
	{"cmd replaced", "{'id':'/a','cmd':'run2'}", "{'id':'/a','cmd':'run'}", 0, "/cmd"},
	{"network changed", "{" BASE ",'networks':[{'mode':'container/bridge'}],'container':{'docker':{'image':'i'},"
	 "'portMappings':[{'containerPort':80,'servicePort':0}]}}",
	 "{" BASE ",'networks':[{'mode':'container','name':'dcos'}],'container':{'docker':{'image':'i'},"
	 "'portMappings':[{'containerPort':80,'servicePort':10001}]}}", 0, "/container/portMappings,/networks"},
	{"fetch extract differs", "{" BASE ",'fetch':[{'uri':'http://x/a.yml'}]}",
	 "{" BASE ",'uris':['http://x/a.yml']}", 0, "/fetch"},
	{"docker parameters are kept for Docker", "{" BASE ",'container':{'type':'DOCKER','docker':{'image':'i',"
	 "'parameters':[{'key':'a','value':'b'}]}}}", "{" BASE ",'container':{'type':'DOCKER','docker':{'image':'i'}}}", 0,
	 "/container/docker/parameters"},
	{"volume order is a sequence",
	 "{" BASE ",'container':{'type':'MESOS','volumes':[{'containerPath':'a','hostPath':'/a','mode':'RO'},"
	 "{'containerPath':'b','hostPath':'/b','mode':'RO'}]}}",
	 "{" BASE ",'container':{'type':'MESOS','volumes':[{'containerPath':'b','hostPath':'/b','mode':'RO'},"
	 "{'containerPath':'a','hostPath':'/a','mode':'RO'}]}}", 0, "/container/volumes"},
	{"volume mode changed", "{" BASE ",'container':{'type':'MESOS','volumes':[{'containerPath':'a','hostPath':'/a','mode':'RO'}]}}",
	 "{" BASE ",'container':{'type':'MESOS','volumes':[{'containerPath':'a','hostPath':'/a','mode':'RW'}]}}", 0,
	 "/container/volumes"},
	{"label value 1 vs '1'", "{" BASE ",'env':{'A':'1'}}", "{" BASE ",'env':{'A':1}}", 0, "/env/A"},
};

#define NCASES(t) (sizeof(t) / sizeof((t)[0]))

/* Criterion runs each parameter in a fresh process (another address
 * space), so the parameters are indices into the static tables. */
static size_t indices[NCASES(equal_cases) > NCASES(diff_cases) ? NCASES(equal_cases) : NCASES(diff_cases)];

static size_t *make_indices(void)
{
	for (size_t i = 0; i < NCASES(indices); i++)
		indices[i] = i;
	return indices;
}

/*
 * Both ways (with and without appdef): a pair without c->changed must come
 * out equal, the others must change exactly the paths it lists.
 */
static void check_pair(const struct pair *c)
{
	for (int skip = 0; skip < 2; skip++) {
		struct pacer_field_change *ch = NULL;
		size_t n = 0;
		char *s;

		compare(c, skip, &ch, &n);
		s = describe(ch, n);
		if (!c->changed) {
			cr_expect_eq(n, 0, "%s (skip_appdef=%d): expected no change, got %s", c->name,
				     skip, s);
		} else {
			char got[512] = "";

			for (size_t i = 0; i < n; i++) {
				if (i)
					strncat(got, ",", sizeof(got) - strlen(got) - 1);
				strncat(got, ch[i].path, sizeof(got) - strlen(got) - 1);
			}
			cr_expect_str_eq(got, c->changed, "%s: expected exactly %s to change, got %s", c->name,
					 c->changed, s);
		}
		free(s);
		diff_changes_free(ch, n);
	}
}

ParameterizedTestParameters(normalize, equal)
{
	return cr_make_param_array(size_t, make_indices(), NCASES(equal_cases));
}

ParameterizedTest(size_t *idx, normalize, equal)
{
	cr_assert_null(equal_cases[*idx].changed);
	check_pair(&equal_cases[*idx]);
}

ParameterizedTestParameters(normalize, must_differ)
{
	return cr_make_param_array(size_t, make_indices(), NCASES(diff_cases));
}

ParameterizedTest(size_t *idx, normalize, must_differ)
{
	cr_assert_not_null(diff_cases[*idx].changed);
	check_pair(&diff_cases[*idx]);
}

Test(normalize, canonical_form_is_idempotent_and_leaves_input_alone)
{
	struct json_object *in = J("{'id':'web','cmd':'run','mem':64.0,'ports':[0],'container':null,"
				   "'constraints':[['b','UNIQUE'],['a','unique']],'healthChecks':[{}],"
				   "'version':'2020-01-01T00:00:00.000Z'}");
	struct json_object *before = NULL, *once = NULL, *twice = NULL;
	struct normalize_options o = NORMALIZE_OPTIONS_INIT;

	cr_assert_eq(json_object_deep_copy(in, &before, NULL), 0);
	cr_assert_eq(normalize_app(in, NULL, &once, NULL), 0);
	cr_assert(jsonutil_equal(in, before), "normalize_app must not modify its input");
	o.skip_appdef = 1;
	cr_assert_eq(normalize_app(once, &o, &twice, NULL), 0);
	cr_assert(jsonutil_equal(once, twice), "normalising twice changed %s",
		  json_object_to_json_string(twice));
	/* Spot checks of the canonical form. */
	cr_assert_str_eq(json_object_get_string(jsonutil_get(once, "id")), "/web");
	cr_assert(json_object_is_type(jsonutil_get(once, "mem"), json_type_int));
	cr_assert_null(jsonutil_get(once, "version"));
	cr_assert_null(jsonutil_get(once, "ports"));
	cr_assert_null(jsonutil_get(once, "container"));
	cr_assert_str_eq(json_object_to_json_string_ext(jsonutil_get(once, "constraints"), JSON_C_TO_STRING_PLAIN),
			 "[[\"a\",\"UNIQUE\"],[\"b\",\"UNIQUE\"]]");
	json_object_put(in);
	json_object_put(before);
	json_object_put(once);
	json_object_put(twice);
}

Test(normalize, known_marathon_version_fills_its_defaults)
{
	struct json_object *in = J("{'id':'/a','cmd':'x'}"), *out = NULL;
	struct normalize_options o = NORMALIZE_OPTIONS_INIT;

	o.marathon = NORMALIZE_MARATHON(1, 4, 5);
	o.skip_appdef = 1;
	cr_assert_eq(normalize_app(in, &o, &out, NULL), 0);
	cr_assert_eq(json_object_get_int(jsonutil_get(out, "maxLaunchDelaySeconds")), 3600);
	cr_assert_eq(json_object_get_int(jsonutil_get(jsonutil_get(out, "unreachableStrategy"),
						     "expungeAfterSeconds")), 600);
	json_object_put(out);
	o.marathon = NORMALIZE_MARATHON(1, 10, 0);
	cr_assert_eq(normalize_app(in, &o, &out, NULL), 0);
	cr_assert_eq(json_object_get_int(jsonutil_get(out, "maxLaunchDelaySeconds")), 300);
	json_object_put(out);
	json_object_put(in);
}

Test(normalize, not_an_object_is_invalid)
{
	struct json_object *in = J("[1,2]"), *out = NULL;
	struct pacer_error *err = NULL;

	cr_assert_eq(normalize_app(in, NULL, &out, &err), PACER_EINVALID);
	cr_assert_null(out);
	cr_assert_not_null(err);
	cr_assert(strstr(err->message, "JSON object"), "%s", err->message);
	pacer_error_free(err);
	json_object_put(in);
}

/* Apps Marathon would reject still normalise (the plan must show them),
 * whatever the field types: no crash, no assertion in json-c. */
static const char *const wrong_type_apps[] = {
	"{'id':5,'container':'x','networks':'y','healthChecks':{},'portDefinitions':[1,null,'a']}",
	"{'id':'/a','ipAddress':'z','upgradeStrategy':3,'unreachableStrategy':[1],'constraints':[1,[2],['a',3]]}",
	"{'id':'/a','container':{'docker':'x','volumes':[1,{'persistent':2,'external':'e'}],'portMappings':{}}}",
	"{'id':'/a','networks':[1,{'mode':5}],'container':{'type':7,'portMappings':[1,'x']},'fetch':[1,'u']}",
	"{'id':'/a','readinessChecks':[2,{'httpStatusCodesForReady':'x'}],'executorResources':[],'dependencies':[1,null]}",
	"{'id':'/a','ports':'x','uris':[1,{}],'ipAddress':{'discovery':{'ports':[1,{'number':'x'}]}},'labels':[]}",
	"{'id':'/a','container':{'docker':{'network':'BRIDGE','portMappings':'x'}},'healthChecks':[1,{'protocol':2}]}",
	"{'id':'/a/../..','dependencies':['../../x','']}",
};

_Static_assert(NCASES(wrong_type_apps) <= NCASES(indices), "indices too short");

ParameterizedTestParameters(normalize, wrong_types_never_crash)
{
	return cr_make_param_array(size_t, make_indices(), NCASES(wrong_type_apps));
}

ParameterizedTest(size_t *idx, normalize, wrong_types_never_crash)
{
	const char *app = wrong_type_apps[*idx];
	struct json_object *in = J(app), *out = NULL, *again = NULL;
	struct normalize_options o = NORMALIZE_OPTIONS_INIT;

	cr_expect_eq(normalize_app(in, NULL, &out, NULL), 0, "%s", app);
	o.skip_appdef = 1;
	cr_expect_eq(normalize_app(out, &o, &again, NULL), 0, "%s", app);
	json_object_put(in);
	json_object_put(out);
	json_object_put(again);
}
