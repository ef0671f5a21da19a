/*
 * tasks.c: the life of one task, as Mesos reports it to Marathon.
 *
 * TASK_STAGING, TASK_STARTING half way through --task-launch-ms, then
 * TASK_RUNNING; health and readiness checks from there (tasks_advance); an
 * end: TASK_FAILED at once (SIM_BEHAVIOR=crash), or a kill: TASK_KILLING for
 * the app's kill grace (--kill-ms per second of taskKillGracePeriodSeconds),
 * then TASK_KILLED and gone. Marathon 1.10 registers the TASK_KILLING_STATE
 * capability, so every kill is seen in two steps.
 *
 * Where a task runs: one of --agents simulated agents, hosts 127.0.0.1,
 * 127.0.0.2, ..., the least loaded one that the app's hostname constraints
 * allow (none: the task is not launched and the app waits in the launch
 * queue, as on Marathon). Without --agents there is one agent and
 * constraints are not looked at: app definitions written for real clusters
 * (CLUSTER on a real hostname, UNIQUE over more instances than one agent)
 * still deploy, as they always did in the simulator. A task on a container network ("mode":"container")
 * also gets an address of its own from 127.0.1.1 up: the lowest free one, so
 * a replacement takes the address of the task it replaces.
 *
 * Everything here runs with the state lock held.
 */
#include "cmd/marathon-sim/sim.h"
#include "reconcile/base/clock.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const STATE_NAMES[] = {"TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING"};

void tasks_free(struct sim_task *t)
{
	if (!t)
		return;
	free(t->id);
	free(t->version);
	free(t->cfg_version);
	free(t->app_id);
	free(t);
}

/* Give back what t holds in s (its address) and free it. */
static void task_release(struct sim *s, struct sim_task *t)
{
	if (t->ip >= 0)
		s->ip_used[t->ip] = 0;
	tasks_free(t);
}

void tasks_host(const struct sim_task *t, char out[SIM_HOST_LEN])
{
	snprintf(out, SIM_HOST_LEN, "127.0.0.%d", t->agent + 1);
}

static void agent_id(const struct sim_task *t, char out[32])
{
	snprintf(out, 32, "sim-agent-S%d", t->agent);
}

/* The address of t: its own on a container network, else its agent's. */
static void task_ip(const struct sim_task *t, char out[SIM_HOST_LEN])
{
	if (t->ip < 0)
		tasks_host(t, out);
	else
		snprintf(out, SIM_HOST_LEN, "127.0.%d.%d", 1 + t->ip / 254, 1 + t->ip % 254);
}

/* "app.instance-<uuid>" of "app.instance-<uuid>._app.1". */
static void instance_id(const struct sim_task *t, char out[256])
{
	const char *dot = strstr(t->id, "._app.");

	snprintf(out, 256, "%.*s", dot ? (int)(dot - t->id) : (int)strlen(t->id), t->id);
}

/* host, ipAddresses and slaveId of t, added to o. */
static void add_location(struct json_object *o, const struct sim_task *t)
{
	struct json_object *ips = json_object_new_array(), *ip = json_object_new_object();
	char host[SIM_HOST_LEN], addr[SIM_HOST_LEN], agent[32];

	tasks_host(t, host);
	task_ip(t, addr);
	agent_id(t, agent);
	json_object_object_add(o, "host", json_object_new_string(host));
	json_object_object_add(ip, "ipAddress", json_object_new_string(addr));
	json_object_object_add(ip, "protocol", json_object_new_string("IPv4"));
	json_object_array_add(ips, ip);
	json_object_object_add(o, "ipAddresses", ips);
	json_object_object_add(o, "slaveId", json_object_new_string(agent));
}

static struct json_object *health_results(struct sim *s, struct sim_app *a, struct sim_task *t)
{
	struct json_object *hcr = json_object_new_array(), *arr;
	char inst[256];

	if (!t->health || !json_object_object_get_ex(a->def, "healthChecks", &arr))
		return hcr;
	instance_id(t, inst);
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *r = json_object_new_object();
		/* One failed check every --health-ms since the first (tasks_advance). */
		int64_t every = s->cfg.health_ms > 0 ? s->cfg.health_ms : 1,
			fails = t->health > 0 ? 0 : 1 + (pacer_now_ms() - t->health_mono) / every;
		json_object_object_add(r, "alive", json_object_new_boolean(t->health > 0));
		json_object_object_add(r, "consecutiveFailures", json_object_new_int64(fails));
		if (t->health > 0) {
			json_object_object_add(r, "firstSuccess", json_object_new_string(t->health_at));
			json_object_object_add(r, "lastSuccess", json_object_new_string(t->health_at));
		} else {
			json_object_object_add(r, "lastFailure", json_object_new_string(t->health_at));
			json_object_object_add(r, "lastFailureCause", json_object_new_string("simulated: SIM_BEHAVIOR=unhealthy"));
		}
		json_object_object_add(r, "instanceId", json_object_new_string(inst));
		json_object_array_add(hcr, r);
	}
	return hcr;
}

static struct json_object *service_ports(struct sim_app *a)
{
	struct json_object *sports = json_object_new_array(), *arr, *c;

	if (json_object_object_get_ex(a->def, "portDefinitions", &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++)
			json_object_array_add(sports, json_object_new_int64(sim_json_int(json_object_array_get_idx(arr, i), "port", 0)));
	if (json_object_object_get_ex(a->def, "container", &c) && json_object_object_get_ex(c, "portMappings", &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++)
			json_object_array_add(sports,
					      json_object_new_int64(sim_json_int(json_object_array_get_idx(arr, i), "servicePort", 0)));
	return sports;
}

static struct json_object *host_ports(const struct sim_task *t)
{
	struct json_object *ports = json_object_new_array();

	for (int i = 0; i < t->nports; i++)
		json_object_array_add(ports, json_object_new_int(t->ports[i]));
	return ports;
}

struct json_object *tasks_json(struct sim *s, struct sim_app *a, struct sim_task *t)
{
	struct json_object *o = json_object_new_object();
	const char *role = sim_json_str(a->def, "role");

	json_object_object_add(o, "appId", json_object_new_string(a->id));
	json_object_object_add(o, "healthCheckResults", health_results(s, a, t));
	add_location(o, t);
	json_object_object_add(o, "id", json_object_new_string(t->id));
	json_object_object_add(o, "ports", host_ports(t));
	json_object_object_add(o, "servicePorts", service_ports(a));
	json_object_object_add(o, "state", json_object_new_string(STATE_NAMES[t->state]));
	json_object_object_add(o, "stagedAt", json_object_new_string(t->staged_at));
	if (t->started_at[0])
		json_object_object_add(o, "startedAt", json_object_new_string(t->started_at));
	json_object_object_add(o, "version", json_object_new_string(t->version));
	json_object_object_add(o, "localVolumes", json_object_new_array());
	json_object_object_add(o, "role", json_object_new_string(role ? role : "*"));
	return o;
}

static void emit_status(struct sim *s, const char *app_id, struct sim_task *t, const char *status, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "taskId", json_object_new_string(t->id));
	json_object_object_add(o, "taskStatus", json_object_new_string(status));
	json_object_object_add(o, "message", json_object_new_string(msg));
	json_object_object_add(o, "appId", json_object_new_string(app_id ? app_id : ""));
	add_location(o, t);
	json_object_object_add(o, "ports", host_ports(t));
	json_object_object_add(o, "version", json_object_new_string(t->version));
	events_emit(s->events, "status_update_event", o);
}

const char *tasks_cfg_version(struct sim_app *a)
{
	struct json_object *vi;
	const char *v = NULL;

	if (json_object_object_get_ex(a->def, "versionInfo", &vi))
		v = sim_json_str(vi, "lastConfigChangeAt");
	if (!v)
		v = sim_json_str(a->def, "version");
	return v ? v : "";
}

/* ---------------------------------------------------------------- launch */

static int host_port_count(struct sim_app *a)
{
	struct json_object *arr, *c;
	int n = 0;

	if (json_object_object_get_ex(a->def, "portDefinitions", &arr) && json_object_is_type(arr, json_type_array))
		n += (int)json_object_array_length(arr);
	if (json_object_object_get_ex(a->def, "container", &c) && json_object_object_get_ex(c, "portMappings", &arr) &&
	    json_object_is_type(arr, json_type_array))
		for (size_t i = 0; i < json_object_array_length(arr); i++)
			if (json_object_object_get_ex(json_object_array_get_idx(arr, i), "hostPort", NULL))
				n++;
	return n > 8 ? 8 : n;
}

/*
 * The agent for a new task of a: the one with the fewest tasks of a among
 * those its hostname constraints allow (lowest number on a tie), -1 when
 * none does. Tasks being killed still occupy their agent.
 */
static int place(struct sim *s, struct sim_app *a)
{
	int best = -1, agents = s->cfg.agents > 0 ? s->cfg.agents : 1;
	size_t best_n = 0;

	for (int k = 0; k < agents; k++) {
		size_t n = 0;
		if (a->cluster_agent >= 0 && a->cluster_agent != k)
			continue;
		for (size_t i = 0; i < a->ntasks; i++)
			n += a->tasks[i]->agent == k;
		if (a->max_per_agent > 0 && n >= (size_t)a->max_per_agent)
			continue;
		if (best < 0 || n < best_n) {
			best = k;
			best_n = n;
		}
	}
	return best;
}

/* The lowest free container-network address, taken; -1 when all are in use. */
static int ip_take(struct sim *s)
{
	unsigned char *free_one = memchr(s->ip_used, 0, SIM_IP_POOL);

	if (!free_one)
		return -1;
	*free_one = 1;
	return (int)(free_one - s->ip_used);
}

/* Room for one more in *v (n used of *cap, doubled from `first`): 0, or -1 out of memory. */
static int task_array_grow(struct sim_task ***v, size_t n, size_t *cap, size_t first)
{
	size_t want = *cap ? *cap * 2 : first;
	struct sim_task **p;

	if (n < *cap)
		return 0;
	if (!(p = realloc(*v, want * sizeof(*p))))
		return -1;
	*v = p;
	*cap = want;
	return 0;
}

/* "prod_web.instance-<uuid>._app.1" for /prod/web. */
static char *new_task_id(const char *app_id)
{
	size_t len = strlen(app_id) + 64;
	char uuid[37], *id = malloc(len);

	if (!id)
		return NULL;
	sim_uuid(uuid);
	snprintf(id, len, "%s.instance-%s._app.1", app_id + 1, uuid);
	for (char *c = id; *c && c < id + strlen(app_id) - 1; c++)
		if (*c == '/')
			*c = '_';
	return id;
}

int tasks_launch(struct sim *s, struct sim_app *a, int64_t now)
{
	struct sim_task *t;
	const char *v = sim_json_str(a->def, "version");
	int agent = place(s, a);

	if (agent < 0 || task_array_grow(&a->tasks, a->ntasks, &a->atasks, 4) || !(t = calloc(1, sizeof(*t))))
		return -1;
	if (!(t->id = new_task_id(a->id))) {
		free(t);
		return -1;
	}
	t->version = strdup(v ? v : "");
	t->cfg_version = strdup(tasks_cfg_version(a));
	t->state = SIM_TASK_STAGING;
	t->agent = agent;
	t->ip = a->ip_per_task ? ip_take(s) : -1;
	t->staged_mono = now;
	sim_timestamp(t->staged_at);
	t->nports = host_port_count(a);
	for (int i = 0; i < t->nports; i++) {
		t->ports[i] = s->next_host_port++;
		if (s->next_host_port > 32000)
			s->next_host_port = 31000;
	}
	t->seq = ++s->task_seq;
	a->tasks[a->ntasks++] = t;
	emit_status(s, a->id, t, "TASK_STAGING", "");
	return 0;
}

/* ------------------------------------------------------------------ ends */

static void task_remove(struct sim *s, struct sim_app *a, size_t i)
{
	task_release(s, a->tasks[i]);
	memmove(&a->tasks[i], &a->tasks[i + 1], (a->ntasks - i - 1) * sizeof(a->tasks[0]));
	a->ntasks--;
}

static void kill_begin(struct sim *s, struct sim_app *a, struct sim_task *t, int64_t now)
{
	/* A slow app is slow to stop as well (SIM_BEHAVIOR=slow: 10x). */
	t->state = SIM_TASK_KILLING;
	t->kill_mono = now + (int64_t)a->kill_ms * (a->behavior == SIM_SLOW ? 10 : 1);
	emit_status(s, a->id, t, "TASK_KILLING", "");
}

static void kill_end(struct sim *s, const char *app_id, struct sim_task *t)
{
	emit_status(s, app_id, t, "TASK_KILLED", t->killed_unhealthy ? "Killed after failing its health checks" : "");
}

void tasks_kill(struct sim *s, struct sim_app *a, size_t i)
{
	struct sim_task *t = a->tasks[i];
	int64_t now = pacer_now_ms();

	if (t->state == SIM_TASK_KILLING)
		return;
	kill_begin(s, a, t, now);
	sim_app_wake(s, a); /* the kill ends in time; the launch queue may replace it */
	if (t->kill_mono <= now) {
		kill_end(s, a->id, t);
		task_remove(s, a, i);
	}
}

/*
 * Task t ends by itself: crashed, or killed by Marathon for failing its
 * health checks. Either way it is the app's lastTaskFailure and the launch
 * queue replaces it after the backoff.
 */
static void record_failure(struct sim_app *a, struct sim_task *t, int64_t now, int unhealthy)
{
	struct json_object *f = json_object_new_object();
	char ts[32], host[SIM_HOST_LEN], agent[32];
	double delay = sim_json_double(a->def, "backoffSeconds", 1), factor = sim_json_double(a->def, "backoffFactor", 1.15),
	       maxd = sim_json_double(a->def, "maxLaunchDelaySeconds", 300);

	sim_timestamp(ts);
	tasks_host(t, host);
	agent_id(t, agent);
	json_object_object_add(f, "appId", json_object_new_string(a->id));
	json_object_object_add(f, "host", json_object_new_string(host));
	json_object_object_add(f, "message",
			       json_object_new_string(unhealthy ? "Killed after failing its health checks (simulated: SIM_BEHAVIOR=unhealthy)"
								: "Command exited with status 1 (simulated: SIM_BEHAVIOR=crash)"));
	json_object_object_add(f, "state", json_object_new_string(unhealthy ? "TASK_KILLED" : "TASK_FAILED"));
	json_object_object_add(f, "taskId", json_object_new_string(t->id));
	json_object_object_add(f, "timestamp", json_object_new_string(ts));
	json_object_object_add(f, "version", json_object_new_string(t->version));
	json_object_object_add(f, "slaveId", json_object_new_string(agent));
	json_object_put(a->last_failure);
	a->last_failure = f;
	/* Launch backoff: backoffSeconds × backoffFactor^(n-1), capped (SPEC §5.2). */
	for (int k = 1; k < a->failures && delay < maxd; k++)
		delay *= factor;
	if (delay > maxd)
		delay = maxd;
	a->failures++;
	a->next_launch_mono = now + (int64_t)(delay * 1000);
}

static void crash(struct sim *s, struct sim_app *a, size_t i, int64_t now)
{
	record_failure(a, a->tasks[i], now, 0);
	emit_status(s, a->id, a->tasks[i], "TASK_FAILED", "Command exited with status 1");
	task_remove(s, a, i);
}

/* Marathon kills task i for failing its health checks. */
static void health_kill(struct sim *s, struct sim_app *a, size_t i, int64_t now)
{
	struct sim_task *t = a->tasks[i];
	struct json_object *k = json_object_new_object();
	char inst[256], host[SIM_HOST_LEN], agent[32];

	record_failure(a, t, now, 1);
	instance_id(t, inst);
	tasks_host(t, host);
	agent_id(t, agent);
	json_object_object_add(k, "appId", json_object_new_string(a->id));
	json_object_object_add(k, "taskId", json_object_new_string(t->id));
	json_object_object_add(k, "instanceId", json_object_new_string(inst));
	json_object_object_add(k, "version", json_object_new_string(t->version));
	json_object_object_add(k, "reason", json_object_new_string("FailedHealthChecks"));
	json_object_object_add(k, "host", json_object_new_string(host));
	json_object_object_add(k, "slaveId", json_object_new_string(agent));
	events_emit(s->events, "unhealthy_instance_kill_event", k);
	t->killed_unhealthy = 1;
	tasks_kill(s, a, i);
}

/* ------------------------------------------------------------------ time */

/* Health: checked from --health-ms after RUNNING. Returns 1 when task i was killed and is gone. */
static int advance_health(struct sim *s, struct sim_app *a, size_t i, int64_t now, int64_t every)
{
	struct sim_task *t = a->tasks[i];
	int want = a->behavior == SIM_UNHEALTHY ? -1 : 1;

	if (now - t->started_mono < every)
		return 0;
	if (t->health != want) {
		struct json_object *o = json_object_new_object();
		char inst[256];
		t->health = want;
		t->health_mono = now;
		sim_timestamp(t->health_at);
		instance_id(t, inst);
		json_object_object_add(o, "appId", json_object_new_string(a->id));
		json_object_object_add(o, "instanceId", json_object_new_string(inst));
		json_object_object_add(o, "version", json_object_new_string(t->version));
		json_object_object_add(o, "alive", json_object_new_boolean(want > 0));
		events_emit(s->events, "health_status_changed_event", o);
	}
	/*
	 * Marathon kills a task after maxConsecutiveFailures failed checks past
	 * its grace period. Time scale: the first check (end of
	 * gracePeriodSeconds) is --health-ms after RUNNING, then one check every
	 * --health-ms (intervalSeconds), so the kill comes kill_after ×
	 * --health-ms after RUNNING.
	 */
	if (t->health < 0 && a->kill_after > 0 && now - t->health_mono >= (int64_t)(a->kill_after - 1) * every) {
		size_t before = a->ntasks;
		health_kill(s, a, i, now);
		return a->ntasks < before;
	}
	return 0;
}

/*
 * Readiness (ReadinessBehavior): first checked --health-ms after RUNNING,
 * then every --health-ms until it passes; once ready a task is not checked
 * again. Re-checks of an "unready" task only matter (lastCheckedAt) while a
 * deployment waits for it, so the app can settle without one.
 */
static void advance_ready(struct sim_app *a, struct sim_task *t, int64_t now, int64_t every)
{
	if (!a->has_readiness || a->behavior == SIM_CRASH || t->ready || now - t->started_mono < every)
		return;
	if (t->ready_checked && (now - t->ready_mono < every || (!a->ndeps && a->behavior == SIM_UNREADY)))
		return;
	t->ready_checked = 1;
	t->ready = a->behavior != SIM_UNREADY;
	t->ready_mono = now;
	sim_timestamp(t->ready_at);
}

/* Move task i along in time. Returns 1 when it is gone. */
static int advance_one(struct sim *s, struct sim_app *a, size_t i, int64_t now)
{
	struct sim_task *t = a->tasks[i];
	int64_t factor = a->behavior == SIM_SLOW ? 10 : 1, launch = s->cfg.task_launch_ms * factor;

	if (t->state == SIM_TASK_KILLING) {
		if (now < t->kill_mono)
			return 0;
		kill_end(s, a->id, t);
		task_remove(s, a, i);
		return 1;
	}
	if (t->state == SIM_TASK_STAGING && now - t->staged_mono >= launch / 2) {
		t->state = SIM_TASK_STARTING;
		emit_status(s, a->id, t, "TASK_STARTING", "");
	}
	if (t->state == SIM_TASK_STARTING && now - t->staged_mono >= launch) {
		t->state = SIM_TASK_RUNNING;
		t->started_mono = now;
		sim_timestamp(t->started_at);
		emit_status(s, a->id, t, "TASK_RUNNING", "");
	}
	if (t->state != SIM_TASK_RUNNING)
		return 0;
	if (a->behavior == SIM_CRASH) {
		/* Crashing tasks die before they could ever pass a health check. */
		if (now - t->started_mono < s->cfg.task_launch_ms)
			return 0;
		crash(s, a, i, now);
		return 1;
	}
	if (a->has_health && advance_health(s, a, i, now, s->cfg.health_ms * factor))
		return 1;
	if (t->state == SIM_TASK_KILLING)
		return 0; /* killed for its health checks, the kill runs */
	advance_ready(a, t, now, s->cfg.health_ms * factor);
	return 0;
}

void tasks_advance(struct sim *s, struct sim_app *a, int64_t now)
{
	for (size_t i = 0; i < a->ntasks;)
		if (!advance_one(s, a, i, now))
			i++;
	if (a->ntasks < (size_t)(a->instances < 0 ? 0 : a->instances)) {
		if (!a->queue_since[0])
			sim_timestamp(a->queue_since);
	} else {
		a->queue_since[0] = '\0';
	}
}

/* --------------------------------------------------- tasks of deleted apps */

void tasks_orphan(struct sim *s, struct sim_app *a)
{
	int64_t now = pacer_now_ms();

	for (size_t i = 0; i < a->ntasks; i++) {
		struct sim_task *t = a->tasks[i];
		if (t->state != SIM_TASK_KILLING)
			kill_begin(s, a, t, now);
		t->app_id = strdup(a->id);
		if (!t->app_id || task_array_grow(&s->dying, s->ndying, &s->adying, 16)) {
			/* Out of memory: the kill ends now rather than never. */
			kill_end(s, a->id, t);
			task_release(s, t);
			continue;
		}
		s->dying[s->ndying++] = t;
	}
	a->ntasks = 0;
}

void tasks_advance_dying(struct sim *s, int64_t now)
{
	for (size_t i = 0; i < s->ndying;) {
		struct sim_task *t = s->dying[i];
		if (now < t->kill_mono) {
			i++;
			continue;
		}
		kill_end(s, t->app_id, t);
		task_release(s, t);
		s->dying[i] = s->dying[--s->ndying];
	}
}

size_t tasks_dying_of(struct sim *s, const char *app_id)
{
	size_t n = 0;

	for (size_t i = 0; i < s->ndying; i++)
		n += !strcmp(s->dying[i]->app_id, app_id);
	return n;
}

void tasks_clear_dying(struct sim *s)
{
	for (size_t i = 0; i < s->ndying; i++)
		task_release(s, s->dying[i]);
	s->ndying = 0;
}
