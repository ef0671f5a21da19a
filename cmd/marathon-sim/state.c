/*
 * state.c: the simulator's root group: apps in a hash table plus an array
 * (for cheap iteration and cheap removal), service-port bookkeeping, version
 * history, and sim_apply(), which turns a set of requested edits into one
 * deployment plan the way Marathon's DeploymentPlan does (SPEC.md §4.3, §5.5).
 */
#include "cmd/marathon-sim/sim.h"
#include "reconcile/base/clock.h"
#include "reconcile/base/jsonutil.h"
#include "reconcile/base/secret.h"
#include "reconcile/model/appid.h"

#include <ctype.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_VERSIONS 50
/* Share equal parts of definitions when one change stores at least this many. */
#define INTERN_MIN_BATCH 16
#define PORT_MIN SIM_PORT_MIN
#define PORT_MAX SIM_PORT_MAX
/* Slot numbers of container.portMappings[] start here, after those of
 * portDefinitions[] (an app has one kind or the other, never 1000 ports). */
#define MAPPING_SLOT_BASE 1000
/* FNV-1a, 64 bits: a fast, well-spread hash for short strings (ids, JSON text). */
#define FNV_OFFSET 1469598103934665603ull
#define FNV_PRIME 1099511628211ull

enum change_kind { K_NOOP, K_NEW, K_DELETE, K_SCALE, K_UPGRADE, K_RESTART };

static size_t hash_str(const char *s)
{
	size_t h = FNV_OFFSET;

	while (*s)
		h = (h ^ (unsigned char)*s++) * FNV_PRIME;
	return h;
}

int sim_init(struct sim *s)
{
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->fmu, NULL);
	pthread_mutex_init(&s->gmu, NULL);
	/* Fault delays wait on the monotonic clock (faults_wait). */
	if (pacer_cond_init(&s->fcond))
		return -1;
	s->nbuckets = 16384;
	s->buckets = calloc(s->nbuckets, sizeof(*s->buckets));
	s->events = events_new();
	s->requests = json_object_new_array();
	s->next_host_port = 31000;
	s->next_fault_id = 1;
	sim_timestamp(s->root_version);
	sim_framework_id_new(s->framework_id);
	if (!s->buckets || !s->events || !s->requests)
		return -1;
	return 0;
}

void sim_framework_id_new(char out[64])
{
	char uuid[37];

	/* Mesos names a framework after the master that registered it plus a
	 * sequence number: "<master uuid>-0000". */
	sim_uuid(uuid);
	snprintf(out, 64, "%s-0000", uuid);
}

int sim_framework_id_ok(const char *id)
{
	size_t n = strlen(id);

	if (!n || n >= 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && !strchr("._:-", id[i]))
			return 0;
	return 1;
}

static void app_free(struct sim_app *a)
{
	if (!a)
		return;
	sim_app_invalidate(a);
	for (size_t i = 0; i < a->ntasks; i++)
		tasks_free(a->tasks[i]);
	free(a->tasks);
	for (size_t i = 0; i < a->nversions; i++)
		free(a->versions[i].text);
	free(a->versions);
	json_object_put(a->def);
	json_object_put(a->last_failure);
	free(a->deps);
	free(a->id);
	free(a);
}

void sim_clear(struct sim *s)
{
	while (s->deploys) {
		struct sim_deploy *d = s->deploys;
		s->deploys = d->next;
		deploy_free(d);
	}
	for (size_t i = 0; i < s->napps; i++)
		app_free(s->apps[i]);
	s->napps = 0;
	tasks_clear_dying(s);
	memset(s->ip_used, 0, sizeof(s->ip_used));
	s->nactive = 0;
	memset(s->buckets, 0, s->nbuckets * sizeof(*s->buckets));
	for (size_t i = 0; i < s->ngroups; i++)
		free(s->groups[i]);
	free(s->groups);
	s->groups = NULL;
	s->ngroups = 0;
	memset(s->port_refs, 0, sizeof(s->port_refs));
	sim_timestamp(s->root_version);
}

void sim_release(struct sim *s)
{
	sim_clear(s);
	free(s->apps);
	free(s->active);
	free(s->dying);
	free(s->buckets);
	faults_clear(s);
	json_object_put(s->requests);
	events_free(s->events);
	/* Secrets are wiped, not only freed. */
	pacer_secret_free(s->cfg.basic_auth);
	pacer_secret_free(s->cfg.token);
	free(s->cfg.standby_url);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->fcond);
	pthread_mutex_destroy(&s->fmu);
	pthread_mutex_destroy(&s->gmu);
}

struct sim_app *sim_app_find(struct sim *s, const char *id)
{
	struct sim_app *a = s->buckets[hash_str(id) % s->nbuckets];

	while (a && strcmp(a->id, id))
		a = a->hnext;
	return a;
}

static struct sim_app *app_add(struct sim *s, const char *id)
{
	struct sim_app *a = calloc(1, sizeof(*a));
	size_t b = hash_str(id) % s->nbuckets;

	if (!a || !(a->id = strdup(id))) {
		free(a);
		return NULL;
	}
	if (s->napps == s->aapps) {
		size_t n = s->aapps ? s->aapps * 2 : 64;
		struct sim_app **p = realloc(s->apps, n * sizeof(*p));
		if (!p) {
			free(a->id);
			free(a);
			return NULL;
		}
		s->apps = p;
		s->aapps = n;
	}
	a->behavior_override = -1;
	a->instances = 1;
	a->active_idx = SIM_IDLE;
	a->idx = s->napps;
	s->apps[s->napps++] = a;
	a->hnext = s->buckets[b];
	s->buckets[b] = a;
	sim_app_wake(s, a);
	return a;
}

static void app_remove(struct sim *s, struct sim_app *a)
{
	struct sim_app **pp = &s->buckets[hash_str(a->id) % s->nbuckets];

	while (*pp && *pp != a)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = a->hnext;
	sim_app_sleep(s, a);
	s->apps[a->idx] = s->apps[--s->napps];
	s->apps[a->idx]->idx = a->idx;
	app_free(a);
}

void sim_change_ts(struct sim *s, char out[32])
{
	struct timespec ts;
	int64_t ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	/* Versions are change markers: two changes never share one. */
	if (ms <= s->last_ts_ms)
		ms = s->last_ts_ms + 1;
	s->last_ts_ms = ms;
	sim_format_ts(ms, out);
	memcpy(s->last_ts, out, 32);
}

/*
 * The compact text of o, malloc'd (NULL when out of memory). json-c keeps the
 * text of the last serialisation inside the object it serialises until that
 * object is freed: serialising a throwaway [o] instead means a stored
 * definition does not carry a second, hidden copy of its text (~3 KB an app).
 */
static char *detached_text(struct json_object *o)
{
	struct json_object *wrap = json_object_new_array();
	char *out = NULL;

	if (wrap && !json_object_array_add(wrap, json_object_get(o))) {
		const char *t = sim_json_text(wrap);
		size_t n = strlen(t);
		out = n >= 2 ? strndup(t + 1, n - 2) : NULL;
	}
	json_object_put(wrap);
	return out;
}

const char *sim_app_json(struct sim_app *a, size_t *len)
{
	if (!a->json) {
		a->json = detached_text(a->def);
		a->json_owned = 1;
		a->json_len = a->json ? strlen(a->json) : 0;
	}
	if (len)
		*len = a->json_len;
	return a->json ? a->json : "{}";
}

void sim_app_invalidate(struct sim_app *a)
{
	if (a->json_owned)
		free(a->json);
	a->json = NULL;
}

/* The agent whose host is h ("127.0.0.3" is agent 2), INT_MAX when none is. */
static int agent_of_host(struct sim *s, const char *h)
{
	char host[SIM_HOST_LEN];

	for (int k = 0; k < (s->cfg.agents > 0 ? s->cfg.agents : 1); k++) {
		snprintf(host, sizeof(host), "127.0.0.%d", k + 1);
		if (!strcmp(host, h))
			return k;
	}
	return INT_MAX;
}

/* SIM_BEHAVIOR from the definition's env. */
static int def_behavior(struct json_object *def)
{
	struct json_object *env, *v;
	const char *b;

	if (!json_object_object_get_ex(def, "env", &env) || !json_object_object_get_ex(env, "SIM_BEHAVIOR", &v) ||
	    !json_object_is_type(v, json_type_string))
		return SIM_HEALTHY;
	b = json_object_get_string(v);
	if (!strcmp(b, "unhealthy"))
		return SIM_UNHEALTHY;
	if (!strcmp(b, "crash"))
		return SIM_CRASH;
	if (!strcmp(b, "slow"))
		return SIM_SLOW;
	if (!strcmp(b, "unready"))
		return SIM_UNREADY;
	return SIM_HEALTHY;
}

/*
 * Where and how a's tasks run: the kill grace, an address of their own on a
 * container network, and, with --agents, the hostname constraints the
 * simulator honours (UNIQUE, MAX_PER, CLUSTER; other fields and operators
 * are accepted and ignored: the simulated agents have no attributes).
 */
static void refresh_placement(struct sim *s, struct sim_app *a)
{
	struct json_object *arr;
	int64_t grace = sim_json_int(a->def, "taskKillGracePeriodSeconds", 1);

	/* --kill-ms per second of grace, as if every process used its whole grace. */
	a->kill_ms = (int)((grace < 1 ? 1 : grace > 600 ? 600 : grace) * s->cfg.kill_ms);
	a->ip_per_task = 0;
	if (json_object_object_get_ex(a->def, "networks", &arr) && json_object_is_type(arr, json_type_array))
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			const char *mode = sim_json_str(json_object_array_get_idx(arr, i), "mode");
			a->ip_per_task |= mode && !strcmp(mode, "container");
		}
	a->max_per_agent = 0;
	a->cluster_agent = -1;
	/* Only --agents makes placement a question (see tasks.c). */
	if (!s->cfg.agents || !json_object_object_get_ex(a->def, "constraints", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *c = json_object_array_get_idx(arr, i);
		const char *field = json_object_get_string(json_object_array_get_idx(c, 0)),
			   *op = json_object_get_string(json_object_array_get_idx(c, 1)),
			   *val = json_object_get_string(json_object_array_get_idx(c, 2));
		if (!json_object_is_type(c, json_type_array) || !field || !op || strcmp(field, "hostname"))
			continue;
		if (!strcasecmp(op, "UNIQUE"))
			a->max_per_agent = 1;
		else if (!strcasecmp(op, "MAX_PER") && val && strtol(val, NULL, 10) > 0)
			a->max_per_agent = (int)(strtol(val, NULL, 10) > 1000000 ? 1000000 : strtol(val, NULL, 10));
		else if (!strcasecmp(op, "CLUSTER") && val)
			a->cluster_agent = agent_of_host(s, val);
	}
}

void sim_app_refresh(struct sim *s, struct sim_app *a)
{
	struct json_object *hc, *rc;
	const char *sel = sim_json_str(a->def, "killSelection");

	a->behavior = a->behavior_override >= 0 ? a->behavior_override : def_behavior(a->def);
	a->has_health = json_object_object_get_ex(a->def, "healthChecks", &hc) &&
			json_object_is_type(hc, json_type_array) && json_object_array_length(hc) > 0;
	a->kill_oldest = sel && !strcmp(sel, "OLDEST_FIRST");
	a->has_readiness = json_object_object_get_ex(a->def, "readinessChecks", &rc) &&
			   json_object_is_type(rc, json_type_array) && json_object_array_length(rc) > 0;
	/* Any check reaching its maxConsecutiveFailures kills the task; 0 turns
	 * killing off for that check (Marathon's HealthCheckActor). */
	a->kill_after = 0;
	for (size_t i = 0; a->has_health && i < json_object_array_length(hc); i++) {
		int64_t m = sim_json_int(json_object_array_get_idx(hc, i), "maxConsecutiveFailures", 3);
		if (m > 0 && (a->kill_after == 0 || m < a->kill_after))
			a->kill_after = m > 1000000 ? 1000000 : (int)m;
	}
	a->instances = sim_json_int(a->def, "instances", 1);
	refresh_placement(s, a);
	sim_app_wake(s, a);
}

int sim_app_behavior(struct sim_app *a)
{
	return a->behavior;
}

int sim_app_has_health(struct sim_app *a)
{
	return a->has_health;
}

void sim_app_wake(struct sim *s, struct sim_app *a)
{
	if (a->active_idx != SIM_IDLE)
		return;
	if (s->nactive == s->aactive) {
		size_t n = s->aactive ? s->aactive * 2 : 64;
		struct sim_app **p = realloc(s->active, n * sizeof(*p));
		/* Out of memory: the app stays settled until the next wake; nothing
		 * else can be done from here, and it is not worth failing a request. */
		if (!p)
			return;
		s->active = p;
		s->aactive = n;
	}
	a->active_idx = s->nactive;
	s->active[s->nactive++] = a;
}

void sim_app_sleep(struct sim *s, struct sim_app *a)
{
	size_t i = a->active_idx;

	if (i == SIM_IDLE)
		return;
	s->active[i] = s->active[--s->nactive];
	s->active[i]->active_idx = i;
	a->active_idx = SIM_IDLE;
}

int sim_task_healthy(struct sim_app *a, struct sim_task *t)
{
	if (t->state != SIM_TASK_RUNNING)
		return 0;
	if (sim_app_has_health(a))
		return t->health == 1;
	/* Without health checks a running task counts, except that "unhealthy"
	 * apps never become ready so that their deployments never finish. */
	return sim_app_behavior(a) != SIM_UNHEALTHY;
}

int sim_task_ready(struct sim_app *a, struct sim_task *t)
{
	/* Healthy AND ready (SPEC §4.4, ReadinessBehavior). */
	return sim_task_healthy(a, t) && (!a->has_readiness || t->ready);
}

int sim_is_group(struct sim *s, const char *id)
{
	size_t n = strlen(id);

	if (!strcmp(id, "/"))
		return 1;
	for (size_t i = 0; i < s->ngroups; i++)
		if (!strcmp(s->groups[i], id))
			return 1;
	for (size_t i = 0; i < s->napps; i++)
		if (!strncmp(s->apps[i]->id, id, n) && s->apps[i]->id[n] == '/')
			return 1;
	return 0;
}

static int cmp_json_text(const void *pa, const void *pb)
{
	struct json_object *a = *(struct json_object *const *)pa, *b = *(struct json_object *const *)pb;
	char *ta = strdup(sim_json_text(a));
	int r = strcmp(ta ? ta : "", sim_json_text(b));

	free(ta);
	return r;
}

/* Sort (by serialised text) and dedup one array member: a set's output order. */
static void sort_set(struct json_object *obj, const char *key)
{
	struct json_object *arr, *out;
	size_t n;

	if (!obj || !json_object_object_get_ex(obj, key, &arr) || !json_object_is_type(arr, json_type_array))
		return;
	n = json_object_array_length(arr);
	if (n < 2)
		return;
	json_object_array_sort(arr, cmp_json_text);
	out = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		size_t m = json_object_array_length(out);
		if (m && jsonutil_equal(json_object_array_get_idx(out, m - 1), e))
			continue;
		json_object_array_add(out, json_object_get(e));
	}
	json_object_object_add(obj, key, out);
}

void sim_setlike(struct json_object *def)
{
	sort_set(def, "constraints");
	sort_set(def, "healthChecks");
	sort_set(def, "dependencies");
	sort_set(def, "acceptedResourceRoles");
}

/* ---------------------------------------------------------- service ports */

/* Call fn on every service-port slot of def: portDefinitions[].port and container.portMappings[].servicePort. */
static void each_port_slot(struct json_object *def, void (*fn)(struct json_object *holder, const char *key, size_t idx, void *ctx),
			   void *ctx)
{
	struct json_object *arr, *c;

	if (!def)
		return;
	if (json_object_object_get_ex(def, "portDefinitions", &arr) && json_object_is_type(arr, json_type_array))
		for (size_t i = 0; i < json_object_array_length(arr); i++)
			fn(json_object_array_get_idx(arr, i), "port", i, ctx);
	if (json_object_object_get_ex(def, "container", &c) && json_object_object_get_ex(c, "portMappings", &arr) &&
	    json_object_is_type(arr, json_type_array))
		for (size_t i = 0; i < json_object_array_length(arr); i++)
			fn(json_object_array_get_idx(arr, i), "servicePort", i + MAPPING_SLOT_BASE, ctx);
}

struct ref_ctx {
	struct sim *s;
	int delta;
};

static void ref_slot(struct json_object *holder, const char *key, size_t idx, void *p)
{
	struct ref_ctx *c = p;
	int64_t port = sim_json_int(holder, key, 0);

	(void)idx;
	if (port >= PORT_MIN && port <= PORT_MAX) {
		uint16_t *r = &c->s->port_refs[port - PORT_MIN];
		if (c->delta > 0)
			(*r)++;
		else if (*r)
			(*r)--;
	}
}

static void ports_ref(struct sim *s, struct json_object *def, int delta)
{
	struct ref_ctx c = {s, delta};

	each_port_slot(def, ref_slot, &c);
}

/* The service port at slot idx of def, 0 when none. */
struct find_ctx {
	size_t idx;
	int64_t port;
};

static void find_slot(struct json_object *holder, const char *key, size_t idx, void *p)
{
	struct find_ctx *c = p;

	if (idx == c->idx)
		c->port = sim_json_int(holder, key, 0);
}

struct assign_ctx {
	struct sim *s;
	struct json_object *before;
};

static void assign_slot(struct json_object *holder, const char *key, size_t idx, void *p)
{
	struct assign_ctx *c = p;
	struct find_ctx f = {idx, 0};
	int64_t port;

	if (!json_object_is_type(holder, json_type_object) || sim_json_int(holder, key, 0) != 0)
		return;
	/* Container port mappings only get a service port when the key is there or it is 0. */
	each_port_slot(c->before, find_slot, &f);
	port = f.port;
	if (port < PORT_MIN || port > PORT_MAX || c->s->port_refs[port - PORT_MIN]) {
		port = 0;
		for (int p2 = PORT_MIN; p2 <= PORT_MAX; p2++)
			if (!c->s->port_refs[p2 - PORT_MIN]) {
				port = p2;
				break;
			}
	}
	if (!port)
		return; /* range exhausted: leave 0, as Marathon would fail the deployment */
	c->s->port_refs[port - PORT_MIN]++;
	json_object_object_add(holder, key, json_object_new_int64(port));
}

/* ------------------------------------------------------------- sim_apply */

static const char *const NOT_COMPARED[] = {"version", "versionInfo", "instances", NULL};

static int equal_except(struct json_object *a, struct json_object *b, const char *const *skip)
{
	json_object_object_foreach(a, k, va) {
		struct json_object *vb = NULL;
		int skipped = 0;
		for (size_t i = 0; skip[i]; i++)
			skipped |= !strcmp(skip[i], k);
		if (skipped)
			continue;
		json_object_object_get_ex(b, k, &vb);
		if (!jsonutil_equal(va, vb))
			return 0;
	}
	json_object_object_foreach(b, k2, vb2) {
		int skipped = 0;
		(void)vb2;
		for (size_t i = 0; skip[i]; i++)
			skipped |= !strcmp(skip[i], k2);
		if (!skipped && !json_object_object_get_ex(a, k2, NULL))
			return 0;
	}
	return 1;
}

struct pending {
	const char *id;
	int kind;
	struct sim_app *app;       /* existing app or NULL */
	struct json_object *after; /* owned copy, with ports assigned */
	int depth;
};

static int dep_depth(struct sim *s, struct pending *p, size_t n, const char *id, struct json_object *def, int limit)
{
	struct json_object *deps;
	int best = 0;

	if (limit <= 0)
		return 0;
	/* Only apps with dependencies look others up, so 10,000 independent apps stay linear. */
	for (size_t i = 0; !def && i < n; i++)
		if (!strcmp(p[i].id, id))
			def = p[i].after;
	if (!def) {
		struct sim_app *a = sim_app_find(s, id);
		def = a ? a->def : NULL;
	}
	if (!def || !json_object_object_get_ex(def, "dependencies", &deps) || !json_object_is_type(deps, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(deps); i++) {
		const char *d = json_object_get_string(json_object_array_get_idx(deps, i));
		int x = d ? 1 + dep_depth(s, p, n, d, NULL, limit - 1) : 0;
		if (x > best)
			best = x;
	}
	return best;
}

static int step_add(struct sim_deploy *d, int kind, const char *app, int new_step)
{
	struct sim_step *st;
	struct sim_action *acts;

	if (new_step || !d->nsteps) {
		struct sim_step *steps = realloc(d->steps, (d->nsteps + 1) * sizeof(*steps));
		if (!steps)
			return -1;
		d->steps = steps;
		memset(&d->steps[d->nsteps++], 0, sizeof(struct sim_step));
	}
	st = &d->steps[d->nsteps - 1];
	acts = realloc(st->actions, (st->n + 1) * sizeof(*acts));
	if (!acts)
		return -1;
	st->actions = acts;
	st->actions[st->n].kind = kind;
	st->actions[st->n].app_id = strdup(app);
	st->n++;
	return 0;
}

/* One step with an action `act` for every app of that kind of change, if any. */
static int plan_kind(struct sim_deploy *d, const struct pending *p, size_t n, int kind, int act)
{
	int first = 1;

	for (size_t i = 0; i < n; i++)
		if (p[i].kind == kind) {
			if (step_add(d, act, p[i].id, first))
				return -1;
			first = 0;
		}
	return 0;
}

static int build_plan(struct sim *s, struct sim_deploy *d, struct pending *p, size_t n)
{
	int maxdepth = 0, first;

	if (plan_kind(d, p, n, K_DELETE, SIM_ACT_STOP) || plan_kind(d, p, n, K_NEW, SIM_ACT_START))
		return -1;
	for (size_t i = 0; i < n; i++) {
		p[i].depth = p[i].after ? dep_depth(s, p, n, p[i].id, p[i].after, 32) : 0;
		if (p[i].depth > maxdepth)
			maxdepth = p[i].depth;
	}
	for (int depth = 0; depth <= maxdepth; depth++) {
		first = 1;
		for (size_t i = 0; i < n; i++) {
			int kind;
			if (p[i].depth != depth)
				continue;
			if (p[i].kind == K_NEW || p[i].kind == K_SCALE)
				kind = SIM_ACT_SCALE;
			else if (p[i].kind == K_UPGRADE || p[i].kind == K_RESTART)
				kind = SIM_ACT_RESTART;
			else
				continue;
			if (step_add(d, kind, p[i].id, first))
				return -1;
			first = 0;
		}
	}
	for (size_t i = 0; i < n; i++) {
		char **aff;
		if (p[i].kind == K_NOOP)
			continue;
		aff = realloc(d->affected, (d->naffected + 1) * sizeof(*aff));
		if (!aff)
			return -1;
		d->affected = aff;
		d->affected[d->naffected++] = strdup(p[i].id);
	}
	return 0;
}

static int deploy_touches(struct sim_deploy *a, struct sim_deploy *b)
{
	for (size_t i = 0; i < a->naffected; i++)
		for (size_t j = 0; j < b->naffected; j++)
			if (!strcmp(a->affected[i], b->affected[j]))
				return 1;
	return 0;
}

static void set_version_info(struct json_object *def, struct json_object *old, int kind, const char *ts)
{
	struct json_object *vi = json_object_new_object(), *ovi = NULL;
	const char *lsa = ts, *lcc = ts;

	if (old)
		json_object_object_get_ex(old, "versionInfo", &ovi);
	if (kind == K_SCALE && sim_json_str(ovi, "lastConfigChangeAt"))
		lcc = sim_json_str(ovi, "lastConfigChangeAt");
	if (kind == K_RESTART && sim_json_str(ovi, "lastScalingAt"))
		lsa = sim_json_str(ovi, "lastScalingAt");
	json_object_object_add(vi, "lastScalingAt", json_object_new_string(lsa));
	json_object_object_add(vi, "lastConfigChangeAt", json_object_new_string(lcc));
	json_object_object_add(def, "version", json_object_new_string(ts));
	json_object_object_add(def, "versionInfo", vi);
}

static void app_add_dep(struct sim_app *a, const char *dep)
{
	char(*deps)[37] = realloc(a->deps, (a->ndeps + 1) * sizeof(*deps));

	if (!deps)
		return;
	a->deps = deps;
	memcpy(a->deps[a->ndeps++], dep, 37);
}

static void emit_deploy_event(struct sim *s, struct sim_deploy *d, const char *type, const char *reason)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(d->id));
	json_object_object_add(o, "plan", deploy_plan_json(d));
	if (reason)
		json_object_object_add(o, "reason", json_object_new_string(reason));
	events_emit(s->events, type, o);
}

static void store_version(struct sim_app *a)
{
	struct sim_version *v;
	const char *ver = sim_json_str(a->def, "version");
	char *text;

	sim_app_invalidate(a); /* it may point into the history */
	if (a->nversions == MAX_VERSIONS) {
		free(a->versions[0].text);
		memmove(a->versions, a->versions + 1, (a->nversions - 1) * sizeof(*v));
		a->nversions--;
	}
	v = realloc(a->versions, (a->nversions + 1) * sizeof(*v));
	if (!v)
		return;
	a->versions = v;
	if (!(text = detached_text(a->def)))
		return;
	v = &a->versions[a->nversions++];
	snprintf(v->version, sizeof(v->version), "%s", ver ? ver : "");
	v->text = text;
	/* The newest version is the stored definition: its text doubles as the
	 * cache of sim_app_json(). */
	a->json = text;
	a->json_owned = 0;
	a->json_len = strlen(text);
}

/* ------------------------------------------------------------ interning */

/*
 * Apps of one team look alike: the same upgradeStrategy, healthChecks,
 * networks, versionInfo... In json-c every object costs ~800 bytes (a hash
 * table of 16 slots), so 10,000 stored definitions took ~220 MB. When one
 * sim_apply() stores many definitions, equal objects and arrays below them
 * are replaced by one shared instance (json-c reference counts keep it alive).
 * That is safe because stored definitions are never changed in place (see
 * struct sim_app). The table lives for one sim_apply() only: no global state,
 * nothing to prune when apps go away.
 */
struct intern_ent {
	char *text;                /* compact JSON of obj */
	size_t hash;
	struct json_object *obj;   /* one reference */
};

struct intern_tab {
	struct intern_ent *e;
	size_t cap, n;
};

static void intern_release(struct intern_tab *t)
{
	for (size_t i = 0; i < t->cap; i++)
		if (t->e[i].text) {
			free(t->e[i].text);
			json_object_put(t->e[i].obj);
		}
	free(t->e);
	memset(t, 0, sizeof(*t));
}

static int intern_grow(struct intern_tab *t)
{
	size_t cap = t->cap ? t->cap * 2 : 1024;
	struct intern_ent *e = calloc(cap, sizeof(*e));

	if (!e)
		return -1;
	for (size_t i = 0; i < t->cap; i++)
		if (t->e[i].text) {
			size_t j = t->e[i].hash & (cap - 1);
			while (e[j].text)
				j = (j + 1) & (cap - 1);
			e[j] = t->e[i];
		}
	free(t->e);
	t->e = e;
	t->cap = cap;
	return 0;
}

/*
 * The shared instance equal to o (a new reference), or NULL when o is the
 * first of its kind (then the table keeps a reference to o) or memory ran
 * out (then nothing is shared: only a missed saving).
 */
static struct json_object *intern_one(struct intern_tab *t, struct json_object *o)
{
	char *text;
	size_t h, j;

	if (t->n * 2 >= t->cap && intern_grow(t))
		return NULL;
	if (!(text = detached_text(o)))
		return NULL;
	h = hash_str(text);
	for (j = h & (t->cap - 1); t->e[j].text; j = (j + 1) & (t->cap - 1))
		if (t->e[j].hash == h && !strcmp(t->e[j].text, text)) {
			free(text);
			return t->e[j].obj == o ? NULL : json_object_get(t->e[j].obj);
		}
	t->e[j].text = text;
	t->e[j].hash = h;
	t->e[j].obj = json_object_get(o);
	t->n++;
	return NULL;
}

/* Share the objects and arrays below o (not o itself), deepest first. */
static void intern_children(struct intern_tab *t, struct json_object *o)
{
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v) {
			struct json_object *shared;
			if (!json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_array))
				continue;
			intern_children(t, v);
			/* Replacing the value of an existing key keeps the key order. */
			if ((shared = intern_one(t, v)))
				json_object_object_add(o, k, shared);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			struct json_object *v = json_object_array_get_idx(o, i), *shared;
			if (!json_object_is_type(v, json_type_object) && !json_object_is_type(v, json_type_array))
				continue;
			intern_children(t, v);
			if ((shared = intern_one(t, v)))
				json_object_array_put_idx(o, i, shared);
		}
	}
}

/*
 * Step 1 of sim_apply() for one edit: take the new definition (a copy, or
 * the donated one), assign its service ports and decide what kind of change
 * it is. Ports are assigned before comparing, preferring the app's own, so
 * that re-sending 0 compares equal to the stored port. Returns 0, -1 when
 * out of memory.
 */
static int classify_edit(struct sim *s, const struct sim_edit *e, struct pending *p)
{
	struct assign_ctx ac = {s, NULL};

	p->id = e->id;
	p->app = sim_app_find(s, e->id);
	if (!e->after) {
		p->kind = p->app ? K_DELETE : K_NOOP;
		return 0;
	}
	/* A donated definition is ours to change: no deep copy (the --load
	 * of 10,000 apps would otherwise hold every definition twice). */
	p->after = e->donate ? json_object_get(e->after) : sim_json_copy(e->after);
	if (!p->after)
		return -1;
	json_object_object_del(p->after, "version");
	json_object_object_del(p->after, "versionInfo");
	sim_setlike(p->after);
	/* The app's own ports are released first so that it may keep them. */
	if (p->app)
		ports_ref(s, p->app->def, -1);
	ports_ref(s, p->after, +1); /* explicit ports; assign_slot references the ones it picks */
	ac.before = p->app ? p->app->def : NULL;
	each_port_slot(p->after, assign_slot, &ac);
	if (!p->app)
		p->kind = K_NEW;
	else if (e->restart)
		p->kind = K_RESTART;
	else if (!equal_except(p->after, p->app->def, NOT_COMPARED))
		p->kind = K_UPGRADE;
	else if (sim_json_int(p->after, "instances", 1) !=
		 sim_json_int(p->app->def, "instances", 1))
		p->kind = K_SCALE;
	else
		p->kind = K_NOOP;
	return 0;
}

/*
 * Step 2: the running deployments that lock an app of d (SPEC §1.2), as
 * [{"id":...}] (caller puts), or NULL when none does. A plan with no
 * affected apps never conflicts.
 */
static struct json_object *locking_deploys(struct sim *s, struct sim_deploy *d)
{
	struct json_object *conflicts = NULL;

	for (struct sim_deploy *o = s->deploys; o; o = o->next) {
		struct json_object *e;
		if (!deploy_touches(d, o))
			continue;
		if (!conflicts)
			conflicts = json_object_new_array();
		e = json_object_new_object();
		json_object_object_add(e, "id", json_object_new_string(o->id));
		json_object_array_add(conflicts, e);
	}
	return conflicts;
}

#define LOCKED_MESSAGE                                                                             \
	"App is locked by one or more deployments. Override with the option '?force=true'. View "  \
	"details at '/v2/deployments/<DEPLOYMENT_ID>'."

/*
 * The change is refused with Marathon's 409 (takes conflicts): res gets the
 * answer, the plan is announced as failed, and the ports step 1 took are
 * given back to the apps that held them.
 */
static void refuse_locked(struct sim *s, struct sim_deploy *d, struct pending *p, size_t n,
			  struct json_object *conflicts, struct sim_result *res)
{
	struct json_object *body = json_object_new_object();

	json_object_object_add(body, "message", json_object_new_string(LOCKED_MESSAGE));
	json_object_object_add(body, "deployments", conflicts);
	res->status = 409;
	res->body = strdup(sim_json_text(body));
	json_object_put(body);
	emit_deploy_event(s, d, "deployment_failed", NULL);
	for (size_t i = 0; i < n; i++)
		if (p[i].after) {
			ports_ref(s, p[i].after, -1);
			if (p[i].app)
				ports_ref(s, p[i].app->def, +1);
		}
}

/* With force: cancel every running deployment that touches an app of d. */
static void cancel_locking(struct sim *s, struct sim_deploy *d)
{
	struct sim_deploy *o, *next;

	for (o = s->deploys; o; o = next) {
		next = o->next;
		if (deploy_touches(d, o))
			deploy_cancel(s, o, "The upgrade has been cancelled");
	}
}

/* A new entry of d's changes for app id, before = a's definition (shared); NULL: out of memory. */
static struct sim_change *change_add(struct sim_deploy *d, const char *id, struct sim_app *a)
{
	struct sim_change *ch = realloc(d->changes, (d->nchanges + 1) * sizeof(*ch));

	if (!ch)
		return NULL;
	d->changes = ch;
	ch = &d->changes[d->nchanges++];
	ch->app_id = strdup(id);
	/* Definitions are replaced, never changed in place: share them. */
	ch->before = a ? json_object_get(a->def) : NULL;
	ch->after = NULL;
	return ch;
}

/* Delete a: its ports are free, its tasks are killed in sim.dying, and it is gone at once. */
static void delete_app(struct sim *s, struct sim_app *a, const char *id)
{
	struct json_object *ev = json_object_new_object();

	ports_ref(s, a->def, -1);
	tasks_orphan(s, a);
	app_remove(s, a);
	json_object_object_add(ev, "appId", json_object_new_string(id));
	events_emit(s->events, "app_terminated_event", ev);
}

/* Store p->after (taken) as a's definition of version ts; itab shares its parts when not NULL. */
static void store_def(struct sim *s, struct sim_app *a, struct pending *p, const char *ts,
		      struct intern_tab *itab)
{
	set_version_info(p->after, a->def, p->kind, ts);
	if (itab)
		intern_children(itab, p->after);
	json_object_put(a->def);
	a->def = p->after;
	p->after = NULL;
	sim_app_invalidate(a);
	if (p->kind == K_UPGRADE || p->kind == K_RESTART || p->kind == K_NEW) {
		/* A new config key resets the launch backoff, and drops any /_sim/ override. */
		a->failures = 0;
		a->next_launch_mono = 0;
		if (p->kind != K_RESTART)
			a->behavior_override = -1;
	}
	sim_app_refresh(s, a);
	store_version(a);
}

/*
 * Step 3 for one app: change the root group and record the change in d.
 * Returns 0, -1 when out of memory.
 */
static int commit_one(struct sim *s, struct sim_deploy *d, struct pending *p, const char *ts,
		      struct intern_tab *itab)
{
	struct sim_app *a = p->app;
	struct sim_change *ch;

	if (p->kind == K_NOOP) {
		if (p->after && a) {
			/* Same definition: keep the stored one (and its port references). */
			ports_ref(s, p->after, -1);
			ports_ref(s, a->def, +1);
		}
		return 0;
	}
	if (!(ch = change_add(d, p->id, a)))
		return -1;
	if (p->kind == K_DELETE) {
		delete_app(s, a, p->id);
		return 0;
	}
	if (!a && !(a = app_add(s, p->id)))
		return -1;
	store_def(s, a, p, ts, itab);
	ch->after = json_object_get(a->def);
	app_add_dep(a, d->id);
	return 0;
}

/* Step 4: d runs after the deployments already running (takes d). */
static void queue_deploy(struct sim *s, struct sim_deploy *d)
{
	struct sim_deploy **pp = &s->deploys;

	while (*pp)
		pp = &(*pp)->next;
	*pp = d;
}

static int cmp_edit_id(const void *pa, const void *pb)
{
	return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

/*
 * Step 0: the first app id that two edits of one change name, or NULL. One
 * change holds one definition per app: a group or bulk update listing an
 * app twice is refused (422) instead of creating it twice. Sets *oom when
 * out of memory. The result points into edits.
 */
static const char *duplicate_id(const struct sim_edit *edits, size_t n, int *oom)
{
	const char **ids = n > 1 ? malloc(n * sizeof(*ids)) : NULL;
	const char *dup = NULL;

	*oom = n > 1 && !ids;
	if (!ids)
		return NULL;
	for (size_t i = 0; i < n; i++)
		ids[i] = edits[i].id;
	qsort(ids, n, sizeof(*ids), cmp_edit_id);
	for (size_t i = 1; i < n && !dup; i++)
		if (!strcmp(ids[i - 1], ids[i]))
			dup = ids[i];
	free(ids);
	return dup;
}

static void refuse_duplicate(const char *id, struct sim_result *res)
{
	struct json_object *body = json_object_new_object(), *details = json_object_new_array();
	struct json_object *detail = json_object_new_object(), *errors = json_object_new_array();
	char msg[512];

	snprintf(msg, sizeof(msg), "Application '%.400s' is defined more than once in this change.", id);
	json_object_array_add(errors, json_object_new_string(msg));
	json_object_object_add(detail, "path", json_object_new_string("/apps"));
	json_object_object_add(detail, "errors", errors);
	json_object_array_add(details, detail);
	json_object_object_add(body, "message", json_object_new_string("Object is not valid"));
	json_object_object_add(body, "details", details);
	res->status = 422;
	res->body = strdup(sim_json_text(body));
	json_object_put(body);
}

int sim_apply(struct sim *s, const struct sim_edit *edits, size_t n, int force, struct sim_result *res)
{
	struct pending *p = calloc(n ? n : 1, sizeof(*p));
	struct sim_deploy *d = calloc(1, sizeof(*d));
	struct json_object *conflicts;
	struct intern_tab itab = {NULL, 0, 0};
	char ts[32];
	const char *dup;
	int dup_oom, rc = -1;

	memset(res, 0, sizeof(*res));
	if (!p || !d)
		goto oom;
	if ((dup = duplicate_id(edits, n, &dup_oom)) != NULL) {
		refuse_duplicate(dup, res);
		goto done;
	}
	if (dup_oom)
		goto oom;
	sim_uuid(d->id);
	for (size_t i = 0; i < n; i++)
		if (classify_edit(s, &edits[i], &p[i]))
			goto oom;
	if (build_plan(s, d, p, n))
		goto oom;
	sim_change_ts(s, ts);
	memcpy(d->version, ts, sizeof(d->version));
	if ((conflicts = locking_deploys(s, d)) && !force) {
		refuse_locked(s, d, p, n, conflicts, res);
		goto done;
	}
	if (conflicts) {
		json_object_put(conflicts);
		cancel_locking(s, d);
	}
	for (size_t i = 0; i < n; i++)
		if (commit_one(s, d, &p[i], ts, n >= INTERN_MIN_BATCH ? &itab : NULL))
			goto oom;
	memcpy(s->root_version, ts, sizeof(s->root_version));
	memcpy(res->dep_id, d->id, sizeof(res->dep_id));
	memcpy(res->version, ts, sizeof(res->version));
	rc = 0;
	if (!d->nsteps) {
		/* Nothing to do: the deployment succeeds at once and is never listed. */
		emit_deploy_event(s, d, "deployment_success", NULL);
		goto done;
	}
	queue_deploy(s, d);
	d = NULL;
	goto done;
oom:
	res->status = 500;
	res->body = sim_message_body("marathon-sim: out of memory");
done:
	for (size_t i = 0; p && i < n; i++)
		json_object_put(p[i].after);
	free(p);
	deploy_free(d);
	intern_release(&itab);
	return rc;
}

int sim_submit(struct sim *s, struct json_object *raw, const char *url_id, struct json_object **out,
	       struct json_object **out_error)
{
	int rc;
	const char *id;

	*out = NULL;
	if (out_error)
		*out_error = NULL;
	rc = appdef_submit(raw, url_id, &s->cfg.flags, out, out_error);
	if (rc)
		return rc;
	id = sim_json_str(*out, "id");
	if (!id) {
		json_object_put(*out);
		*out = NULL;
		if (out_error)
			*out_error = json_tokener_parse("{\"message\":\"Invalid JSON\",\"details\":[{\"path\":\"/id\",\"errors\":[\"error.path.missing\"]}]}");
		return PACER_EINVALID;
	}
	if (id[0] != '/' || strstr(id, "//")) {
		char *abs = appid_resolve("/", id);
		if (abs)
			json_object_object_add(*out, "id", json_object_new_string(abs));
		free(abs);
	}
	return 0;
}
