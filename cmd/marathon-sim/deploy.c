/*
 * deploy.c: time in the simulator. The ticker (main.c) calls deploy_tick()
 * every ~10 ms with the state locked. Tasks move along by themselves
 * (tasks.c: states, health, readiness, crashes, kills, each according to the
 * app's SIM_BEHAVIOR); the launch queue replaces tasks that died; running
 * deployments execute their current step the way Marathon's TaskStartActor
 * / TaskReplaceActor do (SPEC.md §4.4), and move to the next step when its
 * condition holds. Deployment plans as JSON live here too.
 */
#include "cmd/marathon-sim/sim.h"
#include "reconcile/base/clock.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ACTION_NAMES[] = {"StartApplication", "ScaleApplication", "RestartApplication",
					   "StopApplication"};

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

struct json_object *deploy_readiness_json(struct sim *s, struct sim_app *a)
{
	struct json_object *out = json_object_new_array();
	const char *cfg;

	(void)s;
	/* Marathon checks readiness only for the instances a deployment starts. */
	if (!a->has_readiness || !a->ndeps)
		return out;
	cfg = tasks_cfg_version(a);
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

	if (!strcmp(type, "deployment_info") || sim_after_prefix(type, "deployment_step")) {
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

/* ------------------------------------------------------------------ steps */

static int64_t instances_of(struct sim_app *a)
{
	return a->instances < 0 ? 0 : a->instances;
}

/*
 * Can a change by itself, as time passes? Not when no deployment drives it,
 * its launch queue is empty, and every task runs with its health settled
 * (crashing tasks always fail later). tasks_advance() and the launch queue
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
		if (t->state == SIM_TASK_KILLING)
			continue;
		if (want_old >= 0 && is_old != want_old)
			continue;
		if (only_ready >= 0 && sim_task_healthy(a, t) != only_ready)
			continue;
		if (best == (size_t)-1 || (oldest ? t->seq < a->tasks[best]->seq : t->seq > a->tasks[best]->seq))
			best = i;
	}
	if (best == (size_t)-1)
		return 0;
	tasks_kill(s, a, best);
	return 1;
}

/* The tasks of a that are not being killed, and those that are. */
static void count_tasks(struct sim_app *a, int64_t *live, int64_t *dying)
{
	*live = *dying = 0;
	for (size_t i = 0; i < a->ntasks; i++) {
		int k = a->tasks[i]->state == SIM_TASK_KILLING;
		*dying += k;
		*live += !k;
	}
}

/*
 * Scale/Start: converge the count; done when exactly N tasks run, all
 * ready, and those killed on the way are gone (Marathon waits until killed
 * instances are terminal). A task being killed still holds its place: its
 * replacement is launched once it is gone.
 */
static int act_scale(struct sim *s, struct sim_app *a, int64_t now)
{
	int64_t n = instances_of(a), live, dying, ready = 0;

	count_tasks(a, &live, &dying);
	while (live > n && kill_one(s, a, "", -1, -1))
		count_tasks(a, &live, &dying);
	while (live + dying < n && now >= a->next_launch_mono && !tasks_launch(s, a, now))
		live++;
	for (size_t i = 0; i < a->ntasks; i++)
		ready += sim_task_ready(a, a->tasks[i]);
	return live == n && dying == 0 && ready == n;
}

/* A restart's view of the tasks of a, against the config version cfg. */
struct restart_count {
	int64_t old, fresh, dying; /* old and new tasks not being killed; tasks being killed */
	int64_t ready, ready_new;  /* old ones healthy plus new ones healthy and ready; new ones only */
};

static void restart_count(struct sim_app *a, const char *cfg, struct restart_count *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < a->ntasks; i++) {
		struct sim_task *t = a->tasks[i];
		int is_old = strcmp(t->cfg_version, cfg) != 0, r;
		if (t->state == SIM_TASK_KILLING) {
			c->dying++;
			continue;
		}
		r = is_old ? sim_task_healthy(a, t) : sim_task_ready(a, t);
		c->old += is_old;
		c->fresh += !is_old;
		c->ready += r;
		c->ready_new += r && !is_old;
	}
}

/*
 * Restart: replace old tasks keeping minimumHealthCapacity, never above
 * maximumOverCapacity; tasks being killed count toward the capacity until
 * they are gone, and the step ends only when they are.
 */
static int act_restart(struct sim *s, struct sim_app *a, int64_t now)
{
	int64_t n = instances_of(a), min_healthy, max_cap;
	struct json_object *us = NULL;
	const char *cfg = tasks_cfg_version(a);
	struct restart_count c;

	json_object_object_get_ex(a->def, "upgradeStrategy", &us);
	min_healthy = (int64_t)ceil((double)n * sim_json_double(us, "minimumHealthCapacity", 1.0) - 1e-9);
	max_cap = (int64_t)floor((double)n * (1.0 + sim_json_double(us, "maximumOverCapacity", 1.0)) + 1e-9);
	if (min_healthy == max_cap)
		max_cap++;
	/* Old tasks that are not healthy do not count toward capacity: kill them first. */
	while (kill_one(s, a, cfg, 1, 0))
		;
	restart_count(a, cfg, &c);
	while (c.old > 0 && c.ready - 1 >= min_healthy && kill_one(s, a, cfg, 1, 1))
		restart_count(a, cfg, &c);
	/* More new tasks than wanted (scale down in the same change): drop the extra ones. */
	while (c.fresh > n && kill_one(s, a, cfg, 0, -1))
		restart_count(a, cfg, &c);
	while (c.fresh < n && c.old + c.fresh + c.dying < max_cap && now >= a->next_launch_mono && !tasks_launch(s, a, now))
		c.fresh++;
	return !c.old && !c.dying && c.fresh == n && c.ready_new == n;
}

static int act_run(struct sim *s, struct sim_action *act, int64_t now)
{
	struct sim_app *a = sim_app_find(s, act->app_id);

	switch (act->kind) {
	case SIM_ACT_START:
		return 1;
	case SIM_ACT_STOP:
		/* The app is gone at once; its tasks when their kills end. */
		return a ? a->ntasks == 0 : tasks_dying_of(s, act->app_id) == 0;
	case SIM_ACT_SCALE:
		return !a || act_scale(s, a, now);
	case SIM_ACT_RESTART:
		return !a || act_restart(s, a, now);
	}
	return 1;
}

void deploy_tick(struct sim *s)
{
	int64_t now = pacer_now_ms();
	struct sim_deploy *d, *next;

	/* Only apps that can change by themselves: with 10,000 settled apps a
	 * tick costs next to nothing. Whatever changes an app from outside
	 * wakes it (sim_app_wake). */
	tasks_advance_dying(s, now);
	for (size_t i = 0; i < s->nactive;) {
		struct sim_app *a = s->active[i];
		int64_t n;
		tasks_advance(s, a, now);
		if (!a->ndeps) {
			/* The launch queue: replace tasks that died (crash, kill without scale). */
			n = instances_of(a);
			while ((int64_t)a->ntasks < n && now >= a->next_launch_mono && !tasks_launch(s, a, now))
				;
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
