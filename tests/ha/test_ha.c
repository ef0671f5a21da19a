/*
 * pacer serve --ha end to end: a real ZooKeeper ensemble (Debian's
 * zookeeper, 3 nodes on loopback), a real marathon-sim, real pacer serve
 * replicas. One leader; a webhook that reaches a follower is applied by the
 * leader; the leader SIGKILLed in the middle of a failing deployment: a
 * follower takes over within the session timeout + 2 s and rolls the
 * change back from the backup in ZooKeeper, and prunes with the ownership
 * the old leader recorded; a leader cut off from ZooKeeper stops acting
 * and, once its session is found expired, exits.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tests/lib/longrun.h"
#include "tests/lib/testlib.h"
#include "tests/lib/testsim.h"
#include "tests/lib/zkserver.h"

#define SESSION_S 2
#define NREP 3

struct replica {
	struct lr_proc p;
	int port;
};

static struct zkserver zk;
static struct test_sim sim;
static struct replica rep[NREP];
static char *dir, *src;

static void fini(void)
{
	for (int i = 0; i < NREP; i++)
		if (rep[i].p.pid)
			lr_stop(&rep[i].p, SIGKILL, 5000);
	if (sim.pid)
		test_sim_stop(&sim);
	zks_stop(&zk);
	if (dir && !getenv("PACER_TEST_KEEP"))
		test_rmrf(dir);
	free(dir);
	free(src);
}

static void write_app(const char *name, const char *id, int mem, int failing)
{
	char *p = NULL, *s = NULL;

	cr_assert(asprintf(&p, "%s/%s.json", src, name) >= 0);
	cr_assert(asprintf(&s,
			   "{\"id\": \"%s\", \"cmd\": \"sleep 1000\", \"cpus\": 0.1, \"mem\": %d, "
			   "\"instances\": 1, \"healthChecks\": [{\"protocol\": \"COMMAND\", "
			   "\"command\": {\"value\": \"true\"}}]%s}\n",
			   id, mem, failing ? ", \"env\": {\"SIM_BEHAVIOR\": \"unhealthy\"}" : "") >= 0);
	cr_assert_eq(test_write_file(p, s), 0);
	free(p);
	free(s);
}

static void setup(int zk_nodes)
{
	cr_assert_eq(zks_start(&zk, zk_nodes), 0, "ZooKeeper did not start");
	cr_assert_eq(test_sim_start(&sim, NULL), 0);
	cr_assert((dir = test_tmpdir("ha")));
	cr_assert(asprintf(&src, "%s/src", dir) >= 0);
	cr_assert_eq(mkdir(src, 0700), 0);
}

/* Replica i over the ZooKeeper nodes of mask (0: all). */
static void start_replica(int i, unsigned mask, const char *const *extra)
{
	char *url = zks_url(&zk, mask, "/pacer"), *state = NULL, *log = NULL, *ha = NULL;
	const char *argv[40] = {test_pacer_bin(), "serve", "--source", src, "--marathon", sim.url,
				"--listen", "127.0.0.1:0", "--interval", "0", "--timeout", "8",
				"--ha-session-timeout", "2", "--log-level", "info",
				"--insecure-no-webhook-secret"};
	size_t n = 17;
	const char *env[3] = {NULL, NULL, NULL};

	cr_assert(asprintf(&state, "%s/state%d", dir, i) >= 0);
	cr_assert(asprintf(&log, "%s/replica%d.log", dir, i) >= 0);
	cr_assert(asprintf(&ha, "PACER_HA=%s", url) >= 0);
	argv[n++] = "--state-dir";
	argv[n++] = state;
	for (size_t k = 0; extra && extra[k]; k++)
		argv[n++] = extra[k];
	argv[n] = NULL;
	env[0] = ha;
	lr_start(&rep[i].p, argv, env, log);
	lr_expect_log(&rep[i].p, "replica", "(port ", 1, 15000);
	rep[i].port = lr_port(&rep[i].p);
	lr_expect_log(&rep[i].p, "replica", "ha: joined the election", 1, 10000);
	free(url);
	free(state);
	free(log);
	free(ha);
}

/* GET path of replica i: the JSON (caller puts) and *status. */
static struct json_object *get(int i, const char *path, int *status)
{
	char *url = NULL, *resp = NULL;
	struct json_object *o;

	cr_assert(asprintf(&url, "http://127.0.0.1:%d%s", rep[i].port, path) >= 0);
	test_http("GET", url, NULL, NULL, status, &resp);
	o = resp ? json_tokener_parse(resp) : NULL;
	free(url);
	free(resp);
	return o;
}

static const char *str_at(struct json_object *o, const char *path)
{
	struct json_object *v = test_json_get(o, path);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

/* The replica whose /readyz says it leads, or -1; never two at once. */
static int leader_now(void)
{
	int leader = -1;

	for (int i = 0; i < NREP; i++) {
		struct json_object *o;
		int st = 0;

		if (!rep[i].p.pid)
			continue;
		o = get(i, "/readyz", &st);
		if (!strcmp(str_at(o, "role"), "leader")) {
			cr_assert_eq(leader, -1, "two replicas say they lead");
			leader = i;
		}
		json_object_put(o);
	}
	return leader;
}

/* Every live follower's /readyz names leader's name, within 5 s. */
static void expect_agreement(int leader)
{
	long long end = lr_now_ms() + 5000;
	struct json_object *o;
	char name[128];
	int st, agree = 0;

	o = get(leader, "/readyz", &st);
	snprintf(name, sizeof(name), "%s", str_at(o, "name"));
	json_object_put(o);
	while (!agree && lr_now_ms() < end) {
		agree = 1;
		for (int i = 0; i < NREP; i++) {
			if (!rep[i].p.pid || i == leader)
				continue;
			o = get(i, "/readyz", &st);
			agree &= st == 200 && !strcmp(str_at(o, "leader"), name) &&
				 !strcmp(str_at(o, "role"), "follower");
			json_object_put(o);
		}
		if (!agree)
			lr_sleep_ms(100);
	}
	cr_assert(agree, "the followers do not all name %s as the leader", name);
}

static int wait_leader(int timeout_ms)
{
	long long end = lr_now_ms() + timeout_ms;
	int l;

	while ((l = leader_now()) < 0 && lr_now_ms() < end)
		lr_sleep_ms(50);
	return l;
}

static int post_hook(int i)
{
	char *url = NULL;
	const char *h[] = {"Content-Type: application/json", NULL};
	int st = 0;

	cr_assert(asprintf(&url, "http://127.0.0.1:%d/hooks/generic", rep[i].port) >= 0);
	test_http("POST", url, "{\"ref\":\"refs/heads/main\"}", h, &st, NULL);
	free(url);
	return st;
}

/* The app's mem in Marathon, -1 when absent. */
static int sim_mem(const char *id)
{
	char path[128], *resp = NULL;
	struct json_object *o;
	int st, mem = -1;

	snprintf(path, sizeof(path), "/v2/apps%s", id);
	st = test_sim_request(&sim, "GET", path, NULL, &resp);
	o = st == 200 && resp ? json_tokener_parse(resp) : NULL;
	if (o && test_json_get(o, "app.mem"))
		mem = json_object_get_int(test_json_get(o, "app.mem"));
	json_object_put(o);
	free(resp);
	return mem;
}

static void expect_mem(const char *id, int mem, int timeout_ms, const char *why)
{
	long long end = lr_now_ms() + timeout_ms;

	while (sim_mem(id) != mem && lr_now_ms() < end)
		lr_sleep_ms(100);
	if (sim_mem(id) != mem)
		for (int i = 0; i < NREP; i++)
			if (rep[i].p.log)
				lr_dump(&rep[i].p, "replica");
	cr_assert_eq(sim_mem(id), mem, "%s: %s has mem %d, want %d", why, id, sim_mem(id), mem);
}

/* /status: the leader's own; a follower's is the leader's last, both saying who leads. */
static void expect_status_roles(int leader, int follower)
{
	long long end = lr_now_ms() + 5000;
	struct json_object *l = NULL, *f = NULL;
	int st, same = 0;

	/* Published when a sync starts and ends; a follower looks every second. */
	while (!same && lr_now_ms() < end) {
		json_object_put(l);
		json_object_put(f);
		l = get(leader, "/status", &st);
		f = get(follower, "/status", &st);
		same = test_json_get(l, "last_sync.id") && test_json_get(f, "last_sync.id") &&
		       json_object_get_int(test_json_get(l, "last_sync.id")) ==
			   json_object_get_int(test_json_get(f, "last_sync.id"));
		if (!same)
			lr_sleep_ms(100);
	}
	cr_assert(same, "a follower's /status is not the leader's last sync");
	cr_assert_str_eq(str_at(l, "ha.role"), "leader");
	cr_assert_str_eq(str_at(f, "ha.role"), "follower");
	cr_assert_str_eq(str_at(f, "ha.leader"), str_at(l, "ha.name"));
	json_object_put(l);
	json_object_put(f);
}

static void force_stop_deployments(void)
{
	char *resp = NULL, path[160];
	struct json_object *arr;

	cr_assert_eq(test_sim_request(&sim, "GET", "/v2/deployments", NULL, &resp), 200);
	arr = json_tokener_parse(resp);
	cr_assert(arr && json_object_array_length(arr) == 1, "deployments: %s", resp);
	snprintf(path, sizeof(path), "/v2/deployments/%s?force=true",
		 str_at(json_object_array_get_idx(arr, 0), "id"));
	cr_assert_eq(test_sim_request(&sim, "DELETE", path, NULL, NULL), 202);
	json_object_put(arr);
	free(resp);
}

Test(ha, election_forwarding_failover_rollback_prune, .init = NULL, .fini = fini,
     .timeout = 150)
{
	const char *prune[] = {"--prune", NULL};
	int leader, follower, next;
	long long killed, took;

	setup(3);
	write_app("web", "/web", 32, 0);
	write_app("api", "/api", 32, 0);
	for (int i = 0; i < NREP; i++)
		start_replica(i, 0, prune);
	leader = wait_leader(10000);
	cr_assert_geq(leader, 0, "no replica leads");
	expect_agreement(leader);
	expect_mem("/web", 32, 15000, "the leader's first sync");
	lr_expect_log(&rep[leader].p, "leader", "sync result=converged", 1, 15000);
	/* Followers hold: nobody but the leader synced. */
	for (int i = 0; i < NREP; i++)
		if (i != leader)
			cr_assert_eq(lr_count(&rep[i].p, "sync start"), 0, "follower %d synced", i);

	/* A webhook that reaches a follower is applied by the leader. */
	follower = (leader + 1) % NREP;
	expect_status_roles(leader, follower);
	write_app("web", "/web", 64, 0);
	cr_assert_eq(post_hook(follower), 202);
	expect_mem("/web", 64, 15000, "a webhook to a follower");
	lr_expect_log(&rep[follower].p, "follower", "handed to the leader as q-", 1, 5000);
	lr_expect_log(&rep[leader].p, "leader", "(via ", 1, 5000);
	cr_assert_eq(lr_count(&rep[follower].p, "event=submit"), 0);
	/* Settled (healthy), so that it is the definition a rollback returns to. */
	lr_expect_log(&rep[leader].p, "leader", "outcome=updated", 1, 10000);

	/* A failing change; the leader dies in the middle of its deployment. */
	write_app("web", "/web", 128, 1);
	cr_assert_eq(post_hook(follower), 202);
	lr_expect_log(&rep[leader].p, "leader", "event=submit action=update", 2, 10000);
	killed = lr_now_ms();
	lr_stop(&rep[leader].p, SIGKILL, 5000);
	/*
	 * The deployment stopped by force meanwhile: the new leader has nothing
	 * to cancel (Marathon's own rollback) and must write back the backup the
	 * old leader kept in ZooKeeper.
	 */
	force_stop_deployments();
	next = -1;
	while ((next = leader_now()) < 0 && lr_now_ms() - killed < (SESSION_S + 5) * 1000)
		lr_sleep_ms(20);
	took = lr_now_ms() - killed;
	cr_assert_geq(next, 0, "no replica took over");
	cr_log_info("failover: %lld ms", took);
	cr_assert_leq(took, (SESSION_S + 2) * 1000, "took over after %lld ms", took);
	expect_agreement(next);
	/* The new leader finishes the rollback from the backup in ZooKeeper. */
	expect_mem("/web", 64, 20000, "the new leader rolls the failing change back");
	lr_expect_log(&rep[next].p, "new leader", "outcome=rolled_back", 1, 10000);
	lr_expect_log(&rep[next].p, "new leader", "restore backup", 1, 1000);

	/* Prune from the new leader: the ownership the old one recorded survived. */
	{
		char *p = NULL;

		cr_assert(asprintf(&p, "%s/api.json", src) >= 0);
		cr_assert_eq(unlink(p), 0);
		free(p);
	}
	cr_assert_eq(post_hook(next), 202);
	expect_mem("/api", -1, 15000, "prune by the new leader");
}

/* Exit status of replica i within ms, or -1 while it runs. */
static int wait_exit(int i, int ms)
{
	long long end = lr_now_ms() + ms;
	int st;

	while (lr_now_ms() < end) {
		if (waitpid(rep[i].p.pid, &st, WNOHANG) == rep[i].p.pid) {
			rep[i].p.pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		lr_sleep_ms(50);
	}
	return -1;
}

Test(ha, a_partitioned_leader_stops_acting, .fini = fini, .timeout = 150)
{
	long long cut, took;
	int next, code, syncs, submits;

	setup(3);
	write_app("web", "/web", 32, 0);
	/* Replica 0 knows only ZooKeeper node 0, the others only nodes 1 and 2. */
	start_replica(0, 1u << 0, NULL);
	cr_assert_eq(wait_leader(10000), 0, "replica 0 should lead: it joined first");
	expect_mem("/web", 32, 15000, "the leader's first sync");
	lr_expect_log(&rep[0].p, "leader", "sync result=converged", 1, 15000);
	start_replica(1, 6u, NULL);
	start_replica(2, 6u, NULL);
	expect_agreement(0);

	/*
	 * A failing change in flight, then the leader is cut off: its only
	 * ZooKeeper node dies (the ensemble keeps a quorum). Its deployment
	 * times out after the cut: the rollback is the new leader's, never the
	 * cut-off one's.
	 */
	write_app("web", "/web", 48, 1);
	cr_assert_eq(post_hook(0), 202);
	lr_expect_log(&rep[0].p, "leader", "event=submit action=update", 1, 10000);
	syncs = lr_count(&rep[0].p, "sync start reason");
	submits = lr_count(&rep[0].p, "event=submit");
	cut = lr_now_ms();
	zks_kill(&zk, 0);
	while ((next = leader_now()) <= 0 && lr_now_ms() - cut < (SESSION_S + 5) * 1000)
		lr_sleep_ms(20);
	took = lr_now_ms() - cut;
	cr_assert_gt(next, 0, "no other replica took over from the partitioned leader");
	cr_log_info("partition: replica %d leads after %lld ms", next, took);
	cr_assert_leq(took, (SESSION_S + 2) * 1000, "took over after %lld ms", took);
	lr_expect_log(&rep[0].p, "old leader", "ha: this replica stops acting", 1, 1000);
	expect_mem("/web", 32, 20000, "the new leader rolls the change in flight back");
	lr_expect_log(&rep[next].p, "new leader", "outcome=rolled_back", 1, 5000);

	/*
	 * A change, and a webhook that reaches only the cut-off replica: it
	 * cannot hand it over, and sends Marathon nothing itself.
	 */
	write_app("web", "/web", 96, 0);
	cr_assert_eq(post_hook(0), 202);
	lr_sleep_ms(2500);
	cr_assert_eq(sim_mem("/web"), 32, "the partitioned replica changed Marathon");
	cr_assert_eq(lr_count(&rep[0].p, "event=submit"), submits,
		     "the partitioned replica submitted to Marathon after it was cut off");
	cr_assert_eq(lr_count(&rep[0].p, "sync start reason"), syncs,
		     "the partitioned replica synced after it was cut off");

	/* Back in touch, it learns its session expired, and stops (exit 4). */
	cr_assert_eq(zks_restart(&zk, 0), 0);
	code = wait_exit(0, 20000);
	if (code != 4)
		lr_dump(&rep[0].p, "old leader");
	cr_assert_eq(code, 4, "the replica whose session expired exited %d", code);
	/* The new leader was never disturbed. */
	cr_assert_eq(leader_now(), next);
}

/* An API call to replica i: the status, and the body in *resp (caller frees; may be NULL). */
static int api(int i, const char *method, const char *path, const char *body, char **resp)
{
	const char *h[] = {"Content-Type: application/json", "Authorization: Bearer op-token-4711-0123456789abcdef",
			   NULL};
	char *url = NULL;
	int st = 0;

	cr_assert(asprintf(&url, "http://127.0.0.1:%d/api/v1%s", rep[i].port, path) >= 0);
	test_http(method, url, body, h, &st, resp);
	free(url);
	return st;
}

static int sim_instances(const char *id)
{
	char path[128], *resp = NULL;
	struct json_object *o;
	int n = -1;

	snprintf(path, sizeof(path), "/v2/apps%s", id);
	if (test_sim_request(&sim, "GET", path, NULL, &resp) == 200 && (o = json_tokener_parse(resp))) {
		if (test_json_get(o, "app.instances"))
			n = json_object_get_int(test_json_get(o, "app.instances"));
		json_object_put(o);
	}
	free(resp);
	return n;
}

Test(ha, api_actions_on_a_follower_run_on_the_leader, .fini = fini, .timeout = 120)
{
	const char *extra[] = {"--tokens-file", NULL, NULL};
	char *tokens = NULL, *resp = NULL;
	int leader, follower, st;

	setup(1);
	write_app("web", "/web", 32, 0);
	cr_assert(asprintf(&tokens, "%s/tokens", dir) >= 0);
	cr_assert_eq(test_write_file(tokens, "operator ops op-token-4711-0123456789abcdef\n"), 0);
	cr_assert_eq(chmod(tokens, 0600), 0);
	extra[1] = tokens;
	start_replica(0, 0, extra);
	cr_assert_eq(wait_leader(10000), 0);
	lr_expect_log(&rep[0].p, "leader", "sync result=converged", 1, 15000);
	start_replica(1, 0, extra);
	expect_agreement(0);
	leader = 0;
	follower = 1;

	/* Reads are the follower's own. */
	cr_assert_eq(api(follower, "GET", "/apps", NULL, &resp), 200, "%s", resp);
	cr_assert(strstr(resp, "/web"), "%s", resp);
	free(resp);
	/* An action is handed to the leader, and its answer comes back. */
	st = api(follower, "POST", "/apps/web/scale", "{\"instances\": 2}", &resp);
	cr_assert_eq(st, 200, "scale through a follower: %d %s", st, resp ? resp : "");
	free(resp);
	cr_assert_eq(sim_instances("/web"), 2);
	lr_expect_log(&rep[follower].p, "follower", "handed to the leader as q-", 1, 1000);
	lr_expect_log(&rep[leader].p, "leader", "carried out", 1, 1000);
	cr_assert_eq(lr_count(&rep[follower].p, "fenced"), 0, "the follower never tried Marathon");
	free(tokens);
}
