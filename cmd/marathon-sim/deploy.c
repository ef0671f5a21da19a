/*
 * deploy.c: time in the simulator. The ticker (main.c) calls deploy_tick()
 * every ~10 ms with the state locked. Tasks are staged, run after
 * --task-launch-ms and pass their health checks --health-ms later, each
 * according to the app's SIM_BEHAVIOR; tasks of apps with readinessChecks
 * pass them --health-ms after running (SIM_BEHAVIOR=unready: never), and
 * unhealthy tasks are killed after maxConsecutiveFailures failed checks,
 * one check every --health-ms (see advance_tasks); running deployments execute their
 * current step the way Marathon's TaskStartActor / TaskReplaceActor do
 * (SPEC.md §4.4), and move to the next step when its condition holds.
 */
#include "cmd/marathon-sim/sim.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ACTION_NAMES[] = {"StartApplication", "ScaleApplication", "RestartApplication",
					   "StopApplication"};

void deploy_task_free(struct sim_task *t)
{
	if (!t)
		return;
	free(t->id);
	free(t->version);
	free(t->cfg_version);
	free(t);
}

void deploy_free(struct sim_deploy *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nsteps; i++) {
		for (size_t j = 0; j < d->steps[i].n; j++)
			free(d->steps[i].actions[j].app_id);
		free(d->steps[i].actions);
	}
	free(d->steps);
	for (size_t i = 0; i < d->naffected; i++)
		free(d->affected[i]);
	free(d->affected);
	for (size_t i = 0; i < d->nchanges; i++) {
		free(d->changes[i].app_id);
		json_object_put(d->changes[i].before);
		json_object_put(d->changes[i].after);
	}
	free(d->changes);
	free(d);
}

static struct json_object *steps_json(struct sim_deploy *d)
{
	struct json_object *steps = json_object_new_array();

	for (size_t i = 0; i < d->nsteps; i++) {
		struct json_object *st = json_object_new_object(), *acts = json_object_new_array();
		for (size_t j = 0; j < d->steps[i].n; j++) {
			struct json_object *a = json_object_new_object();
			json_object_object_add(a, "action", json_object_new_string(ACTION_NAMES[d->steps[i].actions[j].kind]));
			json_object_object_add(a, "app", json_object_new_string(d->steps[i].actions[j].app_id));
			json_object_array_add(acts, a);
		}
		json_object_object_add(st, "actions", acts);
		json_object_array_add(steps, st);
	}
	return steps;
}

struct json_object *deploy_plan_json(struct sim_deploy *d)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(d->id));
	json_object_object_add(o, "steps", steps_json(d));
	json_object_object_add(o, "version", json_object_new_string(d->version));
	return o;
}

/* One result object per readiness check of a for task t (Marathon's ReadinessCheckResult). */
static void readiness_results(struct sim_app *a, struct sim_task *t, struct json_object *out)
{
	struct json_object *checks;

	if (!json_object_object_get_ex(a->def, "readinessChecks", &checks) || !json_object_is_type(checks, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(checks); i++) {
		struct json_object *c = json_object_array_get_idx(checks, i), *o = json_object_new_object(), *lr, *pl;
		const char *name = sim_json_str(c, "name");
		json_object_object_add(o, "name", json_object_new_string(name ? name : "readinessCheck"));
		json_object_object_add(o, "taskId", json_object_new_string(t->id));
		json_object_object_add(o, "lastCheckedAt", json_object_new_string(t->ready_at));
		json_object_object_add(o, "ready", json_object_new_boolean(t->ready));
		/* Marathon keeps the response only with preserveLastResponse. */
		if (json_object_object_get_ex(c, "preserveLastResponse", &pl) && json_object_get_boolean(pl)) {
			lr = json_object_new_object();
			json_object_object_add(lr, "status", json_object_new_int(t->ready ? 200 : 503));
			json_object_object_add(lr, "contentType", json_object_new_string("text/plain"));
			json_object_object_add(lr, "body", json_object_new_string(t->ready ? "ready" : "simulated: SIM_BEHAVIOR=unready"));
			json_object_object_add(o, "lastResponse", lr);
		}
		json_object_array_add(out, o);
	}
}

static const char *app_cfg_version(struct sim_app *a);

struct json_object *deploy_readiness_json(struct sim *s, struct sim_app *a)
{
	struct json_object *out = json_object_new_array();
	const char *cfg;

	(void)s;
	/* Marathon checks readiness only for the instances a deployment starts. */
	if (!a->has_readiness || !a->ndeps)
		return out;
	cfg = app_cfg_version(a);
	for (size_t i = 0; i < a->ntasks; i++) {
		struct sim_task *t = a->tasks[i];
		if (t->ready_checked && !strcmp(t->cfg_version, cfg))
			readiness_results(a, t, out);
	}
	return out;
}

static struct json_object *current_actions(struct sim *s, struct sim_deploy *d, int with_readiness)
{
	struct json_object *acts = json_object_new_array();

	if (d->current < 1 || d->current > d->nsteps)
		return acts;
	for (size_t j = 0; j < d->steps[d->current - 1].n; j++) {
		struct sim_action *a = &d->steps[d->current - 1].actions[j];
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "action", json_object_new_string(ACTION_NAMES[a->kind]));
		json_object_object_add(o, "app", json_object_new_string(a->app_id));
		if (with_readiness) {
			struct sim_app *app = a->kind == SIM_ACT_SCALE || a->kind == SIM_ACT_RESTART ? sim_app_find(s, a->app_id) : NULL;
			json_object_object_add(o, "readinessCheckResults",
					       app ? deploy_readiness_json(s, app) : json_object_new_array());
		}
		json_object_array_add(acts, o);
	}
	return acts;
}

struct json_object *deploy_json(struct sim *s, struct sim_deploy *d)
{
	struct json_object *o = json_object_new_object(), *aff = json_object_new_array();

	for (size_t i = 0; i < d->naffected; i++)
		json_object_array_add(aff, json_object_new_string(d->affected[i]));
	json_object_object_add(o, "id", json_object_new_string(d->id));
	json_object_object_add(o, "version", json_object_new_string(d->version));
	json_object_object_add(o, "affectedApps", aff);
	json_object_object_add(o, "affectedPods", json_object_new_array());
	json_object_object_add(o, "steps", steps_json(d));
	json_object_object_add(o, "currentActions", current_actions(s, d, 1));
	json_object_object_add(o, "currentStep", json_object_new_int((int)d->current));
	json_object_object_add(o, "totalSteps", json_object_new_int((int)d->nsteps));
	return o;
}

struct sim_deploy *deploy_find(struct sim *s, const char *id)
{
	for (struct sim_deploy *d = s->deploys; d; d = d->next)
		if (!strcmp(d->id, id))
			return d;
	return NULL;
}

static void emit_plan_event(struct sim *s, struct sim_deploy *d, const char *type, const char *reason)
{
	struct json_object *o = json_object_new_object();

	if (!strcmp(type, "deployment_info") || !strncmp(type, "deployment_step", 15)) {
		struct json_object *cs = json_object_new_object();
		json_object_object_add(o, "plan", deploy_plan_json(d));
		json_object_object_add(cs, "actions", current_actions(s, d, 0));
		json_object_object_add(o, "currentStep", cs);
	} else {
		json_object_object_add(o, "id", json_object_new_string(d->id));
		json_object_object_add(o, "plan", deploy_plan_json(d));
		if (reason)
			json_object_object_add(o, "reason", json_object_new_string(reason));
	}
	events_emit(s->events, type, o);
}

/* Unlink d from the running list and from its apps' deployment lists. */
static void deploy_unlink(struct sim *s, struct sim_deploy *d)
{
	struct sim_deploy **pp = &s->deploys;

	while (*pp && *pp != d)
		pp = &(*pp)->next;
	if (*pp)
		*pp = d->next;
	for (size_t i = 0; i < d->naffected; i++) {
		struct sim_app *a = sim_app_find(s, d->affected[i]);
		if (!a)
			continue;
		/* Without its deployment the app is driven by the launch queue again. */
		sim_app_wake(s, a);
		for (size_t j = 0; j < a->ndeps; j++)
			if (!strcmp(a->deps[j], d->id)) {
				memmove(&a->deps[j], &a->deps[j + 1], (a->ndeps - j - 1) * sizeof(a->deps[0]));
				a->ndeps--;
				break;
			}
	}
}

void deploy_cancel(struct sim *s, struct sim_deploy *d, const char *reason)
{
	deploy_unlink(s, d);
	emit_plan_event(s, d, "deployment_failed", reason);
	deploy_free(d);
}

/* ------------------------------------------------------------------ tasks */

struct json_object *deploy_task_json(struct sim *s, struct sim_app *a, struct sim_task *t)
{
	struct json_object *o = json_object_new_object(), *ips = json_object_new_array(),
			   *ip = json_object_new_object(), *ports = json_object_new_array(),
			   *sports = json_object_new_array(), *hcr = json_object_new_array(), *arr, *c;
	char inst[256];
	const char *dot = strstr(t->id, "._app.");

	snprintf(inst, sizeof(inst), "%.*s", dot ? (int)(dot - t->id) : (int)strlen(t->id), t->id);
	json_object_object_add(o, "appId", json_object_new_string(a->id));
	if (t->health && json_object_object_get_ex(a->def, "healthChecks", &arr)) {
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *r = json_object_new_object();
			json_object_object_add(r, "alive", json_object_new_boolean(t->health > 0));
			/* One failed check every --health-ms since the first (advance_tasks). */
			int64_t every = s->cfg.health_ms > 0 ? s->cfg.health_ms : 1,
				fails = t->health > 0 ? 0 : 1 + (sim_mono_ms() - t->health_mono) / every;
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
	}
	json_object_object_add(o, "healthCheckResults", hcr);
	json_object_object_add(o, "host", json_object_new_string("127.0.0.1"));
	json_object_object_add(o, "id", json_object_new_string(t->id));
	json_object_object_add(ip, "ipAddress", json_object_new_string("127.0.0.1"));
	json_object_object_add(ip, "protocol", json_object_new_string("IPv4"));
	json_object_array_add(ips, ip);
	json_object_object_add(o, "ipAddresses", ips);
	for (int i = 0; i < t->nports; i++)
		json_object_array_add(ports, json_object_new_int(t->ports[i]));
	json_object_object_add(o, "ports", ports);
	if (json_object_object_get_ex(a->def, "portDefinitions", &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++)
			json_object_array_add(sports, json_object_new_int64(sim_json_int(json_object_array_get_idx(arr, i), "port", 0)));
	if (json_object_object_get_ex(a->def, "container", &c) && json_object_object_get_ex(c, "portMappings", &arr))
		for (size_t i = 0; i < json_object_array_length(arr); i++)
			json_object_array_add(sports,
					      json_object_new_int64(sim_json_int(json_object_array_get_idx(arr, i), "servicePort", 0)));
	json_object_object_add(o, "servicePorts", sports);
	json_object_object_add(o, "slaveId", json_object_new_string("sim-agent-S0"));
	json_object_object_add(o, "state", json_object_new_string(t->state == SIM_TASK_RUNNING ? "TASK_RUNNING" : "TASK_STAGING"));
	json_object_object_add(o, "stagedAt", json_object_new_string(t->staged_at));
	if (t->state == SIM_TASK_RUNNING)
		json_object_object_add(o, "startedAt", json_object_new_string(t->started_at));
	json_object_object_add(o, "version", json_object_new_string(t->version));
	json_object_object_add(o, "localVolumes", json_object_new_array());
	json_object_object_add(o, "role", json_object_new_string(sim_json_str(a->def, "role") ? sim_json_str(a->def, "role") : "*"));
	return o;
}

static void emit_status(struct sim *s, struct sim_app *a, struct sim_task *t, const char *status, const char *msg)
{
	struct json_object *o = json_object_new_object(), *ips = json_object_new_array(), *ip = json_object_new_object(),
			   *ports = json_object_new_array();

	json_object_object_add(o, "slaveId", json_object_new_string("sim-agent-S0"));
	json_object_object_add(o, "taskId", json_object_new_string(t->id));
	json_object_object_add(o, "taskStatus", json_object_new_string(status));
	json_object_object_add(o, "message", json_object_new_string(msg));
	json_object_object_add(o, "appId", json_object_new_string(a->id));
	json_object_object_add(o, "host", json_object_new_string("127.0.0.1"));
	json_object_object_add(ip, "ipAddress", json_object_new_string("127.0.0.1"));
	json_object_object_add(ip, "protocol", json_object_new_string("IPv4"));
	json_object_array_add(ips, ip);
	json_object_object_add(o, "ipAddresses", ips);
	for (int i = 0; i < t->nports; i++)
		json_object_array_add(ports, json_object_new_int(t->ports[i]));
	json_object_object_add(o, "ports", ports);
	json_object_object_add(o, "version", json_object_new_string(t->version));
	events_emit(s->events, "status_update_event", o);
}

static const char *app_cfg_version(struct sim_app *a)
{
	struct json_object *vi;
	const char *v = NULL;

	if (json_object_object_get_ex(a->def, "versionInfo", &vi))
		v = sim_json_str(vi, "lastConfigChangeAt");
	if (!v)
		v = sim_json_str(a->def, "version");
	return v ? v : "";
}

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

static void task_launch(struct sim *s, struct sim_app *a, int64_t now)
{
	struct sim_task *t = calloc(1, sizeof(*t));
	char uuid[37], *id;
	size_t len = strlen(a->id) + 64;
	const char *v = sim_json_str(a->def, "version");

	if (!t)
		return;
	if (a->ntasks == a->atasks) {
		size_t n = a->atasks ? a->atasks * 2 : 4;
		struct sim_task **p = realloc(a->tasks, n * sizeof(*p));
		if (!p) {
			free(t);
			return;
		}
		a->tasks = p;
		a->atasks = n;
	}
	id = malloc(len);
	if (!id) {
		free(t);
		return;
	}
	sim_uuid(uuid);
	snprintf(id, len, "%s.instance-%s._app.1", a->id + 1, uuid);
	for (char *c = id; *c && c < id + strlen(a->id) - 1; c++)
		if (*c == '/')
			*c = '_';
	t->id = id;
	t->version = strdup(v ? v : "");
	t->cfg_version = strdup(app_cfg_version(a));
	t->state = SIM_TASK_STAGING;
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
	emit_status(s, a, t, "TASK_STAGING", "");
}

static void task_remove(struct sim_app *a, size_t i)
{
	deploy_task_free(a->tasks[i]);
	memmove(&a->tasks[i], &a->tasks[i + 1], (a->ntasks - i - 1) * sizeof(a->tasks[0]));
	a->ntasks--;
}

void deploy_kill_task(struct sim *s, struct sim_app *a, size_t i)
{
	emit_status(s, a, a->tasks[i], "TASK_KILLED", "");
	task_remove(a, i);
	sim_app_wake(s, a); /* the launch queue may replace it */
}

/*
 * Task i ends by itself: crashed (TASK_FAILED) or killed by Marathon for
 * failing its health checks (TASK_KILLED). Either way it is the app's
 * lastTaskFailure and the launch queue replaces it after the backoff.
 */
static void task_fail(struct sim *s, struct sim_app *a, size_t i, int64_t now, int unhealthy)
{
	struct sim_task *t = a->tasks[i];
	struct json_object *f = json_object_new_object();
	char ts[32];
	double delay = sim_json_double(a->def, "backoffSeconds", 1), factor = sim_json_double(a->def, "backoffFactor", 1.15),
	       maxd = sim_json_double(a->def, "maxLaunchDelaySeconds", 300);

	sim_timestamp(ts);
	json_object_object_add(f, "appId", json_object_new_string(a->id));
	json_object_object_add(f, "host", json_object_new_string("127.0.0.1"));
	json_object_object_add(f, "message",
			       json_object_new_string(unhealthy ? "Killed after failing its health checks (simulated: SIM_BEHAVIOR=unhealthy)"
								: "Command exited with status 1 (simulated: SIM_BEHAVIOR=crash)"));
	json_object_object_add(f, "state", json_object_new_string(unhealthy ? "TASK_KILLED" : "TASK_FAILED"));
	json_object_object_add(f, "taskId", json_object_new_string(t->id));
	json_object_object_add(f, "timestamp", json_object_new_string(ts));
	json_object_object_add(f, "version", json_object_new_string(t->version));
	json_object_object_add(f, "slaveId", json_object_new_string("sim-agent-S0"));
	json_object_put(a->last_failure);
	a->last_failure = f;
	/* Launch backoff: backoffSeconds × backoffFactor^(n-1), capped (SPEC §5.2). */
	for (int k = 1; k < a->failures && delay < maxd; k++)
		delay *= factor;
	if (delay > maxd)
		delay = maxd;
	a->failures++;
	a->next_launch_mono = now + (int64_t)(delay * 1000);
	if (unhealthy) {
		struct json_object *k = json_object_new_object();
		char inst[256];
		const char *dot = strstr(t->id, "._app.");
		snprintf(inst, sizeof(inst), "%.*s", dot ? (int)(dot - t->id) : (int)strlen(t->id), t->id);
		json_object_object_add(k, "appId", json_object_new_string(a->id));
		json_object_object_add(k, "taskId", json_object_new_string(t->id));
		json_object_object_add(k, "instanceId", json_object_new_string(inst));
		json_object_object_add(k, "version", json_object_new_string(t->version));
		json_object_object_add(k, "reason", json_object_new_string("FailedHealthChecks"));
		json_object_object_add(k, "host", json_object_new_string("127.0.0.1"));
		json_object_object_add(k, "slaveId", json_object_new_string("sim-agent-S0"));
		events_emit(s->events, "unhealthy_instance_kill_event", k);
		emit_status(s, a, t, "TASK_KILLED", "Killed after failing its health checks");
	} else {
		emit_status(s, a, t, "TASK_FAILED", "Command exited with status 1");
	}
	task_remove(a, i);
}

/* Move each task along in time. */
static void advance_tasks(struct sim *s, struct sim_app *a, int64_t now)
{
	int behavior = a->behavior;
	int64_t factor = behavior == SIM_SLOW ? 10 : 1, every = s->cfg.health_ms * factor;
	int health = a->has_health;

	for (size_t i = 0; i < a->ntasks; i++) {
		struct sim_task *t = a->tasks[i];
		if (t->state == SIM_TASK_STAGING && now - t->staged_mono >= s->cfg.task_launch_ms * factor) {
			t->state = SIM_TASK_RUNNING;
			t->started_mono = now;
			sim_timestamp(t->started_at);
			emit_status(s, a, t, "TASK_RUNNING", "");
		}
		if (t->state != SIM_TASK_RUNNING)
			continue;
		if (behavior == SIM_CRASH && now - t->started_mono >= s->cfg.task_launch_ms) {
			task_fail(s, a, i, now, 0);
			i--;
			continue;
		}
		/* Crashing tasks die before they could ever pass a health check. */
		if (health && behavior != SIM_CRASH && now - t->started_mono >= s->cfg.health_ms * factor) {
			int want = behavior == SIM_UNHEALTHY ? -1 : 1;
			if (t->health != want) {
				struct json_object *o = json_object_new_object();
				char inst[256];
				const char *dot = strstr(t->id, "._app.");
				t->health = want;
				t->health_mono = now;
				sim_timestamp(t->health_at);
				snprintf(inst, sizeof(inst), "%.*s", dot ? (int)(dot - t->id) : (int)strlen(t->id), t->id);
				json_object_object_add(o, "appId", json_object_new_string(a->id));
				json_object_object_add(o, "instanceId", json_object_new_string(inst));
				json_object_object_add(o, "version", json_object_new_string(t->version));
				json_object_object_add(o, "alive", json_object_new_boolean(want > 0));
				events_emit(s->events, "health_status_changed_event", o);
			}
			/*
			 * Marathon kills a task after maxConsecutiveFailures failed
			 * checks past its grace period. Time scale: the first check
			 * (end of gracePeriodSeconds) is --health-ms after RUNNING,
			 * then one check every --health-ms (intervalSeconds), so the
			 * kill comes kill_after × --health-ms after RUNNING.
			 */
			if (t->health < 0 && a->kill_after > 0 && now - t->health_mono >= (int64_t)(a->kill_after - 1) * every) {
				task_fail(s, a, i, now, 1);
				i--;
				continue;
			}
		}
		/*
		 * Readiness (ReadinessBehavior): first checked --health-ms after
		 * RUNNING, then every --health-ms until it passes; once ready a
		 * task is not checked again. Re-checks of an "unready" task only
		 * matter (lastCheckedAt) while a deployment waits for it, so the
		 * app can settle without one.
		 */
		if (a->has_readiness && behavior != SIM_CRASH && !t->ready && now - t->started_mono >= every &&
		    (!t->ready_checked || (now - t->ready_mono >= every && (a->ndeps || behavior != SIM_UNREADY)))) {
			t->ready_checked = 1;
			t->ready = behavior != SIM_UNREADY;
			t->ready_mono = now;
			sim_timestamp(t->ready_at);
		}
	}
	if (a->ntasks < (size_t)a->instances) {
		if (!a->queue_since[0])
			sim_timestamp(a->queue_since);
	} else {
		a->queue_since[0] = '\0';
	}
}

static int64_t instances_of(struct sim_app *a)
{
	return a->instances < 0 ? 0 : a->instances;
}

/*
 * Can a change by itself, as time passes? Not when no deployment drives it,
 * its launch queue is empty, and every task runs with its health settled
 * (crashing tasks always fail later). advance_tasks() and the launch queue
 * in deploy_tick() are the only time-driven rules; this mirrors them.
 */
static int app_settled(struct sim_app *a)
{
	int want = a->behavior == SIM_UNHEALTHY ? -1 : 1;

	if (a->ndeps || a->queue_since[0] || a->ntasks < (size_t)a->instances)
		return 0;
	/* Failing tasks are killed and replaced, again and again. */
	if (a->has_health && a->behavior == SIM_UNHEALTHY && a->kill_after > 0 && a->ntasks)
		return 0;
	for (size_t i = 0; i < a->ntasks; i++) {
		struct sim_task *t = a->tasks[i];
		if (t->state != SIM_TASK_RUNNING || a->behavior == SIM_CRASH)
			return 0;
		if (a->has_health && t->health != want)
			return 0;
		if (a->has_readiness && (!t->ready_checked || (!t->ready && a->behavior != SIM_UNREADY)))
			return 0;
	}
	return 1;
}

/*
 * Kill the task chosen by killSelection among those matching old (-1 = any)
 * and healthy (only_ready, -1 = any). Only old tasks are chosen by health,
 * and readiness is not checked for them.
 */
static int kill_one(struct sim *s, struct sim_app *a, const char *cfg, int want_old, int only_ready)
{
	int oldest = a->kill_oldest;
	size_t best = (size_t)-1;

	for (size_t i = 0; i < a->ntasks; i++) {
		struct sim_task *t = a->tasks[i];
		int is_old = strcmp(t->cfg_version, cfg) != 0;
		if (want_old >= 0 && is_old != want_old)
			continue;
		if (only_ready >= 0 && sim_task_healthy(a, t) != only_ready)
			continue;
		if (best == (size_t)-1 || (oldest ? t->seq < a->tasks[best]->seq : t->seq > a->tasks[best]->seq))
			best = i;
	}
	if (best == (size_t)-1)
		return 0;
	deploy_kill_task(s, a, best);
	return 1;
}

/* Scale/Start: converge the count; done when exactly N tasks, all ready. */
static int act_scale(struct sim *s, struct sim_app *a, int64_t now)
{
	size_t n = (size_t)instances_of(a), ready = 0;

	while (a->ntasks > n && kill_one(s, a, "", -1, -1))
		;
	while (a->ntasks < n && now >= a->next_launch_mono)
		task_launch(s, a, now);
	for (size_t i = 0; i < a->ntasks; i++)
		ready += sim_task_ready(a, a->tasks[i]);
	return a->ntasks == n && ready == n;
}

/* Restart: replace old tasks keeping minimumHealthCapacity, never above maximumOverCapacity. */
static int act_restart(struct sim *s, struct sim_app *a, int64_t now)
{
	int64_t n = instances_of(a), min_healthy, max_cap, old = 0, fresh = 0, ready = 0, ready_new = 0;
	struct json_object *us = NULL;
	double mhc, moc;
	const char *cfg = app_cfg_version(a);

	json_object_object_get_ex(a->def, "upgradeStrategy", &us);
	mhc = sim_json_double(us, "minimumHealthCapacity", 1.0);
	moc = sim_json_double(us, "maximumOverCapacity", 1.0);
	min_healthy = (int64_t)ceil((double)n * mhc - 1e-9);
	max_cap = (int64_t)floor((double)n * (1.0 + moc) + 1e-9);
	if (min_healthy == max_cap)
		max_cap++;
	/* Old tasks that are not healthy do not count toward capacity: kill them first. */
	while (kill_one(s, a, cfg, 1, 0))
		;
	for (size_t i = 0; i < a->ntasks; i++) {
		/* Old tasks count when healthy; new ones when healthy and ready. */
		int is_old = strcmp(a->tasks[i]->cfg_version, cfg) != 0,
		    r = is_old ? sim_task_healthy(a, a->tasks[i]) : sim_task_ready(a, a->tasks[i]);
		old += is_old;
		fresh += !is_old;
		ready += r;
		ready_new += r && !is_old;
	}
	while (old > 0 && ready - 1 >= min_healthy && kill_one(s, a, cfg, 1, 1)) {
		old--;
		ready--;
	}
	/* More new tasks than wanted (scale down in the same change): drop the extra ones. */
	while (fresh > n && kill_one(s, a, cfg, 0, -1))
		fresh--;
	while (fresh < n && old + fresh < max_cap && now >= a->next_launch_mono) {
		task_launch(s, a, now);
		fresh++;
	}
	if (old == 0 && fresh == n) {
		ready_new = 0;
		for (size_t i = 0; i < a->ntasks; i++)
			ready_new += sim_task_ready(a, a->tasks[i]);
		return ready_new == n;
	}
	return 0;
}

static int act_run(struct sim *s, struct sim_action *act, int64_t now)
{
	struct sim_app *a = sim_app_find(s, act->app_id);

	switch (act->kind) {
	case SIM_ACT_START:
		return 1;
	case SIM_ACT_STOP:
		return !a || a->ntasks == 0;
	case SIM_ACT_SCALE:
		return !a || act_scale(s, a, now);
	case SIM_ACT_RESTART:
		return !a || act_restart(s, a, now);
	}
	return 1;
}

void deploy_tick(struct sim *s)
{
	int64_t now = sim_mono_ms();
	struct sim_deploy *d, *next;

	/* Only apps that can change by themselves: with 10,000 settled apps a
	 * tick costs next to nothing. Whatever changes an app from outside
	 * wakes it (sim_app_wake). */
	for (size_t i = 0; i < s->nactive;) {
		struct sim_app *a = s->active[i];
		int64_t n;
		advance_tasks(s, a, now);
		if (!a->ndeps) {
			/* The launch queue: replace tasks that died (crash, kill without scale). */
			n = instances_of(a);
			while ((int64_t)a->ntasks < n && now >= a->next_launch_mono)
				task_launch(s, a, now);
		}
		if (app_settled(a))
			sim_app_sleep(s, a); /* the last active app moves to i */
		else
			i++;
	}
	for (d = s->deploys; d; d = next) {
		int done = 1;
		next = d->next;
		if (d->current == 0) {
			d->current = 1;
			emit_plan_event(s, d, "deployment_info", NULL);
		}
		for (size_t j = 0; j < d->steps[d->current - 1].n; j++)
			done &= act_run(s, &d->steps[d->current - 1].actions[j], now);
		if (!done)
			continue;
		emit_plan_event(s, d, "deployment_step_success", NULL);
		if (d->current < d->nsteps) {
			d->current++;
			emit_plan_event(s, d, "deployment_info", NULL);
			continue;
		}
		deploy_unlink(s, d);
		emit_plan_event(s, d, "deployment_success", NULL);
		deploy_free(d);
	}
}
