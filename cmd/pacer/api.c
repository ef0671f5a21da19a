/*
 * api.c (cmd): the calls of the serve API (api.h), built from what the
 * commands use.
 */
#include "cmd/pacer/api.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/fs/lock.h"
#include "cmd/pacer/serve_api.h"
#include "cmd/pacer/status.h"
#include "reconcile/action.h"
#include "reconcile/base/jsonutil.h"
#include "reconcile/base/log.h"
#include "reconcile/desired.h"
#include "reconcile/history.h"
#include "reconcile/plan.h"
#include "reconcile/model/appid.h"
#include "reconcile/restore.h"
#include "reconcile/suspend.h"

#define DEFAULT_TIMEOUT_S 300
#define MAX_TIMEOUT_S 1800

struct api {
	struct cli_env *env;
	volatile sig_atomic_t *stop;
	int ignore_instances;
	pthread_mutex_t mu; /* one call at a time uses env */
	/*
	 * The last GET apps that read the cluster (owned, under mu), and when:
	 * what a caller that accepts it ("stale_ok") gets while a sync holds
	 * the state, marked "stale" with that time.
	 */
	struct json_object *last_apps;
	double last_apps_at;
};

int api_new(struct api **out, struct cli_env *env, volatile sig_atomic_t *stop,
	    int ignore_instances)
{
	struct api *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (!a)
		return -1;
	a->env = env;
	a->stop = stop;
	a->ignore_instances = ignore_instances;
	pthread_mutex_init(&a->mu, NULL);
	*out = a;
	return 0;
}

void api_free(struct api *a)
{
	if (!a)
		return;
	pthread_mutex_destroy(&a->mu);
	json_object_put(a->last_apps);
	free(a);
}

static unsigned http_status_for(int code)
{
	switch (code) {
	case PACER_ENOTFOUND:
		return 404;
	case PACER_EINVALID:
		return 400;
	case PACER_EBUSY:
	case PACER_ELOCKED:
	case PACER_ECONFLICT:
		return 409;
	case PACER_EUNREACHABLE:
		return 502;
	case PACER_ETIMEOUT:
		return 504;
	case PACER_ECANCELLED:
		return 503;
	default:
		break;
	}
	return 500;
}

/* {"status":"error", ...} for err; returns the HTTP status. */
static unsigned error_reply(const struct pacer_error *err, struct json_object **reply)
{
	struct json_object *o = json_object_new_object();
	int code = err ? pacer_error_root_code(err) : PACER_EGENERIC;
	char *msg = err ? pacer_error_format(err) : NULL;

	json_object_object_add(o, "status", json_object_new_string("error"));
	json_object_object_add(o, "error", json_object_new_string(msg ? msg : "failed"));
	json_object_object_add(o, "code", json_object_new_string(pacer_code_name(code)));
	json_object_object_add(o, "pacer_code", json_object_new_int(code));
	free(msg);
	*reply = o;
	return http_status_for(code);
}

/*
 * The state directory's lock, as the CLI takes it, waiting for a sync in
 * progress (polling, so that a stop is seen) for at most API_LOCK_WAIT_S.
 */
static int lock_state(struct api *a, int wait_s, struct fslock **lock, struct pacer_error **err)
{
	const struct timespec tick = {0, 100 * 1000000L};

	*lock = NULL;
	if (!a->env->state_dir)
		return 0;
	for (int i = 0; i < wait_s * 10 || i == 0; i++) {
		struct pacer_error *e = NULL;
		int rc = fslock_acquire(a->env->state_dir, FSLOCK_NOWAIT, lock, &e);

		if (rc != PACER_EBUSY) {
			if (rc)
				*err = e;
			return rc;
		}
		pacer_error_free(e);
		if (a->stop && *a->stop)
			return pacer_error_set(err, PACER_ECANCELLED, "pacer serve is stopping");
		nanosleep(&tick, NULL);
	}
	return pacer_error_set(err, PACER_EBUSY,
			       "a sync has held the state directory for %d s: retry when it is "
			       "done (GET /status says)",
			       wait_s);
}

static int body_int(struct json_object *body, const char *key, int dflt)
{
	struct json_object *v = jsonutil_get(body, key);

	return v && json_object_is_type(v, json_type_int) ? json_object_get_int(v) : dflt;
}

static const char *body_str(struct json_object *body, const char *key)
{
	struct json_object *v = jsonutil_get(body, key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static struct json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* {"status":"done","app","action"} plus what the call adds. */
static struct json_object *done_reply(const char *app, const char *action)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "status", json_object_new_string("done"));
	json_object_object_add(o, "app", str_or_null(app));
	json_object_object_add(o, "action", json_object_new_string(action));
	return o;
}

/* The app's two sides as the plan compared them: "desired" and "live" (null when absent). */
static void add_sides(const struct sync_result *res, const char *app_id, struct json_object *row)
{
	json_object_object_add(row, "desired", NULL);
	json_object_object_add(row, "live", NULL);
	for (size_t i = 0; res && res->plan && i < res->plan->n; i++) {
		const struct pacer_plan_item *it = &res->plan->items[i];

		if (strcmp(it->app_id, app_id))
			continue;
		json_object_object_add(row, "desired", json_object_get(it->body));
		json_object_object_add(row, "live", json_object_get(it->live));
	}
	/* An unchanged app keeps neither side in the plan: the source's definition then. */
	if (!jsonutil_get(row, "desired") && res && res->desired) {
		struct pacer_desired_app *d =
		    (struct pacer_desired_app *)desired_find(res->desired, app_id);
		struct pacer_error *e = NULL;

		if (d && !desired_app_def(d, &e))
			json_object_object_add(row, "desired", json_object_get(d->def));
		pacer_error_free(e);
	}
}

/* "diff": the app's plan item (its changes, field by field), then both sides. */
static void add_diff(const struct sync_result *res, const char *app_id, struct json_object *row)
{
	struct json_object *plan = res && res->plan ? plan_to_json(res->plan) : NULL;
	struct json_object *items = jsonutil_get(plan, "apps");

	json_object_object_add(row, "diff", NULL);
	for (size_t i = 0; json_object_is_type(items, json_type_array) &&
			   i < json_object_array_length(items);
	     i++) {
		struct json_object *it = json_object_array_get_idx(items, i);

		if (!strcmp(json_object_get_string(jsonutil_get(it, "id")) ?: "", app_id))
			json_object_object_add(row, "diff", json_object_get(it));
	}
	json_object_put(plan);
	add_sides(res, app_id, row);
}

/* Marathon's app without what is not its definition (tasks, counts...), for "live". */
static struct json_object *live_definition(struct json_object *app)
{
	static const char *const extra[] = {"tasks",	     "deployments",  "lastTaskFailure",
					    "tasksHealthy",  "tasksRunning", "tasksStaged",
					    "tasksUnhealthy", "readinessCheckResults"};
	struct json_object *copy = NULL;

	if (!app || json_object_deep_copy(app, &copy, NULL))
		return NULL;
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		json_object_object_del(copy, extra[i]);
	return copy;
}

/* The app's tasks and Marathon's deployments touching it: "tasks_live", "deployments". */
static int add_live(struct api *a, const char *app_id, struct json_object *row,
		    struct pacer_error **err)
{
	struct pacer_marathon *m = a->env->marathon;
	struct json_object *app = NULL, *deps = NULL, *mine = json_object_new_array();
	struct pacer_error *e = NULL;
	int rc = m->get_app(m, app_id, &app, &e);

	if (rc == PACER_ENOTFOUND) { /* missing: no tasks, not an error */
		pacer_error_free(e);
		e = NULL;
		rc = 0;
	}
	if (!rc)
		rc = m->list_deployments(m, &deps, &e);
	for (size_t i = 0; !rc && json_object_is_type(deps, json_type_array) &&
			   i < json_object_array_length(deps);
	     i++) {
		struct json_object *d = json_object_array_get_idx(deps, i);
		struct json_object *aff = jsonutil_get(d, "affectedApps");
		size_t naff = json_object_is_type(aff, json_type_array) ? json_object_array_length(aff)
									 : 0;

		for (size_t k = 0; k < naff; k++)
			if (!strcmp(json_object_get_string(json_object_array_get_idx(aff, k)) ?: "",
				    app_id)) {
				json_object_array_add(mine, json_object_get(d));
				break;
			}
	}
	if (rc)
		*err = e;
	json_object_object_add(row, "tasks_live", json_object_get(jsonutil_get(app, "tasks")));
	if (!jsonutil_get(row, "live"))
		json_object_object_add(row, "live", live_definition(app));
	json_object_object_add(row, "deployments", mine);
	json_object_put(app);
	json_object_put(deps);
	return rc;
}

/* GET apps, GET apps/{id}: the rows of pacer status (one app: with its diff, history, backups). */
static int get_apps(struct api *a, const char *app_id, struct json_object **reply,
		    struct pacer_error **err)
{
	struct sync_result *res = NULL;
	struct json_object *doc = NULL, *runs = NULL, *row = NULL, *bl;
	struct pacer_backup_entry *be = NULL;
	size_t bad = 0, nb = 0;
	int rc;

	rc = status_collect(a->env, app_id ? &app_id : NULL, app_id ? 1 : 0, a->ignore_instances,
			    &doc, &res, &bad, err);
	if (!rc && a->env->source && a->env->source->describe)
		json_object_object_add(doc, "source",
				       str_or_null(a->env->source->describe(a->env->source)));
	if (rc || !app_id)
		goto done;
	for (size_t i = 0; i < json_object_array_length(jsonutil_get(doc, "apps")); i++) {
		struct json_object *r = json_object_array_get_idx(jsonutil_get(doc, "apps"), i);

		if (!strcmp(json_object_get_string(jsonutil_get(r, "id")), app_id))
			row = json_object_get(r);
	}
	if (!row) {
		rc = pacer_error_set(err, PACER_ENOTFOUND,
				     "%s is neither desired, owned, held nor live", app_id);
		goto done;
	}
	add_diff(res, app_id, row);
	if ((rc = add_live(a, app_id, row, err)))
		goto done;
	if ((rc = history_load(a->env->state, app_id, 50, &runs, err)) ||
	    (rc = a->env->backups->list(a->env->backups, app_id, &be, &nb, err)))
		goto done;
	json_object_object_add(row, "history", json_object_get(runs));
	bl = json_object_new_array();
	for (size_t i = 0; i < nb; i++) {
		struct json_object *b = json_object_new_object();
		const char *base = strrchr(be[i].path, '/');

		json_object_object_add(b, "name", json_object_new_string(base ? base + 1 : be[i].path));
		json_object_object_add(b, "time", str_or_null(be[i].time));
		json_object_array_add(bl, b);
	}
	json_object_object_add(row, "backups", bl);
done:
	if (!rc)
		*reply = app_id ? json_object_get(row) : json_object_get(doc);
	pacer_backup_entries_free(be, nb);
	json_object_put(row);
	json_object_put(runs);
	json_object_put(doc);
	sync_result_free(res);
	return rc;
}

/* restart, cancel, scale, delete: action_run(), as the commands run it. */
static int run_action(struct api *a, const struct serve_api_call *call,
		      struct json_object **reply, struct pacer_error **err)
{
	struct action_options o = ACTION_OPTIONS_INIT;
	struct action_result res = {0};
	char by[96];
	int rc;

	o.kind = call->op == SERVE_API_RESTART ? ACTION_RESTART
		 : call->op == SERVE_API_CANCEL ? ACTION_CANCEL
		 : call->op == SERVE_API_SCALE	? ACTION_SCALE
						: ACTION_DELETE;
	o.instances = body_int(call->body, "instances", -1);
	if (o.kind == ACTION_SCALE && (o.instances < 0 || o.instances > 100000))
		return pacer_error_set(err, PACER_EINVALID,
				       "scale needs {\"instances\": N} with N from 0 to 100000");
	o.force = json_object_get_boolean(jsonutil_get(call->body, "force"));
	o.timeout_s = body_int(call->body, "timeout", DEFAULT_TIMEOUT_S);
	if (o.timeout_s <= 0 || o.timeout_s > MAX_TIMEOUT_S)
		o.timeout_s = DEFAULT_TIMEOUT_S;
	snprintf(by, sizeof(by), "%s (%s)", call->who, call->via ? call->via : "api");
	o.by = by;
	o.state = a->env->state;
	o.backups = a->env->backups;
	o.stop = a->stop;
	rc = action_run(a->env->marathon, call->app_id, &o, &res, err);
	if (!rc) {
		*reply = done_reply(call->app_id, action_name(o.kind));
		json_object_object_add(*reply, "live", str_or_null(res.live_id));
		json_object_object_add(*reply, "deployment", str_or_null(res.deployment_id));
		json_object_object_add(*reply, "backup", str_or_null(res.backup_path));
		json_object_object_add(*reply, "suspended", json_object_new_boolean(res.suspended));
	}
	action_result_release(&res);
	return rc;
}

/* suspend, resume: the record in the state directory (suspend.h). */
static int run_suspend(struct api *a, const struct serve_api_call *call,
		       struct json_object **reply, struct pacer_error **err)
{
	struct suspend *sp = NULL;
	int rc = suspend_open(a->env->state, &sp, err);

	if (!rc && call->op == SERVE_API_SUSPEND)
		rc = suspend_put(sp, call->app_id, call->who, body_str(call->body, "reason"), err);
	else if (!rc)
		rc = suspend_drop(sp, call->app_id, err);
	if (!rc) {
		*reply = done_reply(call->app_id, serve_api_op_name(call->op));
		json_object_object_add(*reply, "suspended",
				       json_object_new_boolean(call->op == SERVE_API_SUSPEND));
	}
	suspend_free(sp);
	return rc;
}

/* {"backup": "<name>"}: a file among the app's backups, never a path. */
static int find_backup(struct api *a, const char *app_id, const char *name, char **path,
		       struct pacer_error **err)
{
	struct pacer_backup_entry *be = NULL;
	size_t nb = 0;
	int rc;

	*path = NULL;
	if (!name)
		return 0;
	rc = a->env->backups->list(a->env->backups, app_id, &be, &nb, err);
	for (size_t i = 0; !rc && i < nb && !*path; i++) {
		const char *base = strrchr(be[i].path, '/');

		if (!strcmp(base ? base + 1 : be[i].path, name))
			*path = strdup(be[i].path);
	}
	if (!rc && !*path)
		rc = pacer_error_set(err, PACER_ENOTFOUND,
				     "%s has no backup named '%.200s' (GET /api/v1/apps%s lists "
				     "them)",
				     app_id, name, app_id);
	pacer_backup_entries_free(be, nb);
	return rc;
}

/* rollback: suspend first (git still holds the newer definition), then restore. */
static int run_rollback(struct api *a, const struct serve_api_call *call,
			struct json_object **reply, struct pacer_error **err)
{
	struct restore_options ro = RESTORE_OPTIONS_INIT;
	struct restore_result res = {0};
	struct suspend *sp = NULL;
	const char *name = body_str(call->body, "backup");
	char *path = NULL, why[512];
	int rc;

	rc = find_backup(a, call->app_id, name, &path, err);
	snprintf(why, sizeof(why), "rolled back to %s", name ? name : "its latest backup");
	if (!rc)
		rc = suspend_open(a->env->state, &sp, err);
	if (!rc)
		rc = suspend_put(sp, call->app_id, call->who, why, err);
	ro.backup_path = path;
	ro.timeout_s = body_int(call->body, "timeout", DEFAULT_TIMEOUT_S);
	if (ro.timeout_s <= 0 || ro.timeout_s > MAX_TIMEOUT_S)
		ro.timeout_s = DEFAULT_TIMEOUT_S;
	ro.state = a->env->state;
	if (!rc)
		rc = restore_app(a->env->marathon, a->env->backups, call->app_id, &ro, &res, err);
	if (!rc) {
		const char *base = strrchr(res.restored_from, '/');

		*reply = done_reply(call->app_id, "rollback");
		json_object_object_add(*reply, "restored_from",
				       str_or_null(base ? base + 1 : res.restored_from));
		json_object_object_add(*reply, "deployment", str_or_null(res.deployment_id));
		json_object_object_add(*reply, "backup", str_or_null(res.backup_path));
		json_object_object_add(*reply, "suspended", json_object_new_boolean(1));
	}
	restore_result_release(&res);
	suspend_free(sp);
	free(path);
	return rc;
}

static int run_call(struct api *a, const struct serve_api_call *call, struct json_object **reply,
		    struct pacer_error **err)
{
	switch (call->op) {
	case SERVE_API_APPS:
		return get_apps(a, NULL, reply, err);
	case SERVE_API_APP:
		return get_apps(a, call->app_id, reply, err);
	case SERVE_API_SUSPEND:
	case SERVE_API_RESUME:
		return run_suspend(a, call, reply, err);
	case SERVE_API_ROLLBACK:
		return run_rollback(a, call, reply, err);
	case SERVE_API_RESTART:
	case SERVE_API_CANCEL:
	case SERVE_API_SCALE:
	case SERVE_API_DELETE:
		return run_action(a, call, reply, err);
	default:
		break;
	}
	return pacer_error_set(err, PACER_EINVALID, "%s is not handled here",
			       serve_api_op_name(call->op));
}

/* GET history: the state's history.json is replaced by rename: no lock needed. */
static int get_history(struct api *a, const struct serve_api_call *call,
		       struct json_object **reply, struct pacer_error **err)
{
	const char *app = body_str(call->body, "app");
	char *id = app ? appid_resolve("/", app) : NULL;
	struct json_object *runs = NULL;
	int rc;

	if (app && !id)
		return pacer_error_set(err, PACER_EINVALID, "app=%.200s is not an app id", app);
	rc = history_load(a->env->state, id, body_int(call->body, "limit", 0), &runs, err);
	if (!rc) {
		*reply = json_object_new_object();
		json_object_object_add(*reply, "runs", runs);
	}
	free(id);
	return rc;
}

/* How long a call waits for a sync in progress: API_LOCK_WAIT_S, or less when a read asks. */
static int lock_wait(const struct serve_api_call *call)
{
	int w = body_int(call->body, "lock_wait", API_LOCK_WAIT_S);

	if (call->op != SERVE_API_APPS && call->op != SERVE_API_APP)
		return API_LOCK_WAIT_S;
	return w < 0 || w > API_LOCK_WAIT_S ? API_LOCK_WAIT_S : w;
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The action in the history, with who did it ("console by alice"); under the lock. */
static void record_action(struct api *a, const struct serve_api_call *call,
			  const struct pacer_error *failed, double start)
{
	struct pacer_error *err = NULL;
	char trigger[128], *why = failed ? pacer_error_format(failed) : NULL;

	if (!a->env->state || !call->app_id)
		return;
	snprintf(trigger, sizeof(trigger), "%s by %s", call->via ? call->via : "api", call->who);
	if (history_append_action(a->env->state, call->app_id, serve_api_op_name(call->op),
				  trigger, failed ? (why ? why : "failed") : NULL, start,
				  wall_now(), &err)) {
		PLOG_WARN("api: %s of %s is not in the history: %s", serve_api_op_name(call->op),
			  call->app_id, err->message);
		pacer_error_free(err);
	}
	free(why);
}

/* Keep a copy of a fresh GET apps reply (the whole list) for stale_reply(). */
static void keep_apps(struct api *a, const struct serve_api_call *call, struct json_object *reply,
		      double at)
{
	struct json_object *copy = NULL;

	if (call->op != SERVE_API_APPS || json_object_deep_copy(reply, &copy, NULL))
		return;
	json_object_put(a->last_apps);
	a->last_apps = copy;
	a->last_apps_at = at;
}

/*
 * While a sync holds the state (busy, its error): the last list read, for
 * a caller that asked for it with "stale_ok", marked {"stale": {"as_of":
 * seconds, "why": ...}}. 0 with *reply set, or -1 (answer busy).
 */
static int stale_reply(struct api *a, const struct serve_api_call *call,
		       const struct pacer_error *busy, struct json_object **reply)
{
	struct json_object *copy = NULL, *stale;

	if (call->op != SERVE_API_APPS || !a->last_apps ||
	    !json_object_get_boolean(jsonutil_get(call->body, "stale_ok")) ||
	    json_object_deep_copy(a->last_apps, &copy, NULL))
		return -1;
	stale = json_object_new_object();
	json_object_object_add(stale, "as_of", json_object_new_double(a->last_apps_at));
	json_object_object_add(stale, "why", json_object_new_string(busy->message));
	json_object_object_add(copy, "stale", stale);
	*reply = copy;
	return 0;
}

unsigned api_handle(void *ctx, const struct serve_api_call *call, struct json_object **reply)
{
	struct api *a = ctx;
	struct pacer_error *err = NULL;
	struct fslock *lock = NULL;
	unsigned status = 200;
	int rc;

	*reply = NULL;
	if (call->op != SERVE_API_APPS && call->op != SERVE_API_APP &&
	    call->op != SERVE_API_HISTORY)
		PLOG_INFO("api: token=%s op=%s app=%s started", call->who,
			  serve_api_op_name(call->op), call->app_id ? call->app_id : "-");
	pthread_mutex_lock(&a->mu);
	if (call->op == SERVE_API_HISTORY)
		rc = get_history(a, call, reply, &err);
	else if (!(rc = lock_state(a, lock_wait(call), &lock, &err))) {
		double start = wall_now();

		rc = run_call(a, call, reply, &err);
		if (!rc)
			keep_apps(a, call, *reply, start);
		if (call->op != SERVE_API_APPS && call->op != SERVE_API_APP)
			record_action(a, call, rc ? err : NULL, start);
	} else if (rc == PACER_EBUSY && !stale_reply(a, call, err, reply)) {
		pacer_error_clear(&err);
		rc = 0;
	}
	fslock_release(lock);
	pthread_mutex_unlock(&a->mu);
	if (rc) {
		json_object_put(*reply);
		status = error_reply(err, reply);
	}
	pacer_error_free(err);
	return status;
}
