/*
 * wait.c: one polling thread for every deployment of a run.
 *
 * Waiting callers put an entry on a list (the entry lives on their stack)
 * and sleep on a condition variable. The thread runs cycles: one
 * GET /v2/deployments, then, only if needed, one GET /v2/apps, then it
 * settles every entry it can and sleeps until the next cycle. Calls to
 * Marathon are made without the lock held so callers can join at any time.
 *
 * Of GET /v2/apps only the apps being waited for are parsed (when the
 * backend hands out each app's bytes): the id is found by scanning, so a
 * cluster of 10,000 apps costs one scan per cycle, not 10,000 parses.
 */
#include "reconcile/wait.h"

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconcile/base/clock.h"
#include "reconcile/base/thread.h"
#include "reconcile/base/json_pos.h"
#include "reconcile/base/log.h"
#include "reconcile/base/strv.h"

/* Consecutive failed polls before every waiting app fails. */
#define WAITER_MAX_POLL_FAILURES 5
/* A deployment that vanished while the app is not healthy and has no other
 * deployment gets this many cycles (Marathon's counts may lag) before the
 * app is declared failed. */
#define WAITER_GRACE_CYCLES 3
/* How often fresh task counts are read for progress reports. */
#define WAITER_PROGRESS_MS 2000
/* The apps judged in a cycle are read one by one (GET /v2/apps/{id}) once
 * the last whole list had at least this many apps per app judged: then a
 * few small replies cost Marathon far less than rendering every app. */
#define WAITER_LIST_PER_APP 64

struct waiter_entry {
	const char *app_id;
	const char *deployment_id;
	enum waiter_goal goal;
	double deadline;
	int timeout_s;
	waiter_progress_cb cb;
	void *cb_ctx;
	int ready;     /* joined before the current poll started */
	int vanished;  /* deployment no longer listed */
	int grace;     /* cycles seen vanished, unhealthy, idle */
	int healthy, running, total;
	int done, rc;
	struct pacer_error *err;
	struct json_object *app; /* on success: the app as last read, or NULL */
	struct waiter_entry *next;
};

struct waiter {
	struct pacer_marathon *m;
	int poll_ms;
	/* worker.cv wakes the thread: a new entry or quit. Timed waits on the
	 * monotonic clock: a wall-clock jump neither stalls nor rushes polling. */
	struct pacer_worker worker;
	pthread_cond_t done; /* callers: some entry settled */
	struct waiter_entry *entries;
	int poll_failures;
	unsigned long cycles;
	double last_progress;
	double next_cycle; /* monotonic time of the next poll */
	volatile sig_atomic_t *abandon; /* or NULL */
	volatile sig_atomic_t *stop;    /* or NULL */
	double last_cycle;              /* monotonic time the last poll started */
	size_t last_napps;              /* apps in the last whole GET /v2/apps; 0: none yet */
	struct waiter_bell *bell;       /* or NULL; guarded by the bell's lock */
	struct waiter *bell_next;       /* the bell's list; guarded by the bell's lock */
};

struct waiter_bell {
	pthread_mutex_t mu; /* guards waiters, rings and attached; taken before a waiter's */
	struct waiter *waiters;
	unsigned long rings;
	int attached;
	void (*on_first_attach)(void *ctx);
	void *ctx;
};

static int json_int(struct json_object *o, const char *key, int def)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return def;
	return json_object_get_int(v);
}

int waiter_app_converged(struct json_object *app, int *healthy, int *running, int *total)
{
	struct json_object *hc = NULL;
	int h = json_int(app, "tasksHealthy", 0);
	int r = json_int(app, "tasksRunning", 0);
	int n = json_int(app, "instances", 1);
	int has_hc;

	json_object_object_get_ex(app, "healthChecks", &hc);
	has_hc = hc && json_object_is_type(hc, json_type_array) && json_object_array_length(hc) > 0;
	if (healthy)
		*healthy = h;
	if (running)
		*running = r;
	if (total)
		*total = n;
	return has_hc ? (h >= n && r >= n) : r >= n;
}

static int app_has_deployments(struct json_object *app)
{
	struct json_object *d = NULL;

	return json_object_object_get_ex(app, "deployments", &d) &&
	       json_object_is_type(d, json_type_array) && json_object_array_length(d) > 0;
}

static int listed(struct json_object *deps, const char *id)
{
	size_t n = deps ? json_object_array_length(deps) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(deps, i), *v;

		if (json_object_object_get_ex(d, "id", &v) &&
		    !strcmp(json_object_get_string(v), id))
			return 1;
	}
	return 0;
}

static struct json_object *find_app(struct json_object *apps, const char *id)
{
	size_t n = apps ? json_object_array_length(apps) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *a = json_object_array_get_idx(apps, i), *v;

		if (json_object_object_get_ex(a, "id", &v) &&
		    !strcmp(json_object_get_string(v), id))
			return a;
	}
	return NULL;
}

static void settle(struct waiter_entry *e, int rc, struct pacer_error *err)
{
	e->done = 1;
	e->rc = rc;
	e->err = err;
	if (err && !err->app_id)
		pacer_error_set_app(err, e->app_id);
}

static const char *dep_name(const struct waiter_entry *e)
{
	return e->deployment_id && *e->deployment_id ? e->deployment_id : "(none)";
}

/* Every waiting entry fails because Marathon could not be polled. */
static void fail_all(struct waiter *w, const struct pacer_error *cause)
{
	char *why = cause ? pacer_error_format(cause) : NULL;

	for (struct waiter_entry *e = w->entries; e; e = e->next) {
		if (e->done || !e->ready)
			continue;
		settle(e, PACER_EUNREACHABLE,
		       pacer_error_new(PACER_EUNREACHABLE,
				       "could not follow deployment %s of app %s: %d polls of "
				       "GET /v2/deployments failed in a row (%s); check that Marathon "
				       "is up and reachable",
				       dep_name(e), e->app_id, WAITER_MAX_POLL_FAILURES,
				       why ? why : "unknown error"));
	}
	free(why);
}

static void check_deadline(struct waiter_entry *e, double now);

/* Decide one entry after a cycle. apps is NULL when no GET /v2/apps was made. */
static void judge(struct waiter_entry *e, struct json_object *deps, struct json_object *apps,
		  double now)
{
	struct json_object *app;

	if (!e->vanished && (!e->deployment_id || !*e->deployment_id ||
			     !listed(deps, e->deployment_id)))
		e->vanished = 1;
	if (apps) {
		app = find_app(apps, e->app_id);
		if (app) {
			int ok = waiter_app_converged(app, &e->healthy, &e->running, &e->total);

			if (e->cb)
				e->cb(e->cb_ctx, e->app_id, e->deployment_id, e->healthy,
				      e->running, e->total);
			/* "Done" also means that the app has no deployment left:
			 * a PUT of a definition equal to the one an earlier
			 * deployment is rolling out ends at once (or answers
			 * none) while that deployment still runs. */
			if (ok && app_has_deployments(app))
				ok = 0;
			if (e->vanished && e->goal == WAITER_HEALTHY) {
				if (ok) {
					settle(e, 0, NULL);
					e->app = json_object_get(app);
					return;
				}
				/* Marathon only ends a deployment once the app is
				 * healthy, or when it was cancelled or superseded.
				 * Counts can lag a little: allow a few cycles. */
				if (!app_has_deployments(app) && ++e->grace >= WAITER_GRACE_CYCLES) {
					settle(e, PACER_EFAILED,
					       pacer_error_new(PACER_EFAILED,
							       "deployment %s of app %s ended but only "
							       "%d of %d instances are %s: the "
							       "deployment was cancelled or replaced; see "
							       "the app's lastTaskFailure in Marathon",
							       dep_name(e), e->app_id, e->healthy,
							       e->total, "healthy"));
					return;
				}
			}
		} else if (e->vanished) {
			if (e->goal == WAITER_GONE) {
				settle(e, 0, NULL);
				return;
			}
			settle(e, PACER_EFAILED,
			       pacer_error_new(PACER_EFAILED,
					       "app %s disappeared from Marathon while pacer waited "
					       "for deployment %s: someone deleted it; run the sync "
					       "again to recreate it",
					       e->app_id, dep_name(e)));
			return;
		}
	}
	check_deadline(e, now);
}

static void check_deadline(struct waiter_entry *e, double now)
{
	if (!e->done && now >= e->deadline)
		settle(e, PACER_ETIMEOUT,
		       pacer_error_new(PACER_ETIMEOUT,
				       "deployment %s of app %s did not finish within %d s "
				       "(%d of %d instances healthy/running at the last check); "
				       "look at the app's tasks and lastTaskFailure in Marathon, "
				       "or raise --timeout or the label pacer.timeout",
				       dep_name(e), e->app_id, e->timeout_s, e->healthy, e->total));
}

/* The apps one cycle reads: those of the waiting entries, by id. */
struct wanted {
	char **ids; /* sorted, owned */
	size_t n;
	size_t seen; /* apps in the list, wanted or not */
	struct json_object *apps; /* array of the parsed apps */
	struct json_tokener *tok;
	struct pacer_error **err;
};

struct id_key {
	const char *p;
	size_t len;
};

static int cmp_id_key(const void *k, const void *e)
{
	const struct id_key *key = k;
	const char *id = *(char *const *)e;
	size_t n = strlen(id);
	int r = memcmp(key->p, id, key->len < n ? key->len : n);

	return r ? r : (key->len < n ? -1 : key->len > n);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int on_app(void *ctx, const char *json, size_t len)
{
	struct wanted *wd = ctx;
	struct json_object *app;
	struct id_key key;
	size_t off, end;

	wd->seen++;
	if (json_pos_member(json, len, 0, "id", &off) || off >= len || json[off] != '"')
		return 0; /* not an app: nothing to judge by it */
	end = json_pos_skip_value(json, len, off);
	if (end < off + 2)
		return 0;
	key.p = json + off + 1;
	key.len = end - off - 2;
	if (!bsearch(&key, wd->ids, wd->n, sizeof(*wd->ids), cmp_id_key))
		return 0;
	json_tokener_reset(wd->tok);
	app = len <= 0x7fffffff ? json_tokener_parse_ex(wd->tok, json, (int)len) : NULL;
	if (!app || json_tokener_get_error(wd->tok) != json_tokener_success) {
		json_object_put(app);
		return pacer_error_set(wd->err, PACER_EHTTP,
				       "app %.*s in Marathon's app list is not valid JSON (%s)",
				       (int)key.len, key.p,
				       json_tokener_error_desc(json_tokener_get_error(wd->tok)));
	}
	if (json_object_array_add(wd->apps, app)) {
		json_object_put(app);
		return pacer_error_set(wd->err, PACER_EGENERIC, "out of memory reading the apps");
	}
	return 0;
}

/*
 * GET /v2/apps for the entries being judged this cycle (copied under the
 * lock by the caller into ids). *out: an array holding those apps that
 * Marathon lists (an app it does not list is absent from it, as from the
 * whole list). Called without the lock.
 */
static int list_wanted(struct pacer_marathon *m, char **ids, size_t n, struct json_object **out,
		       size_t *napps, struct pacer_error **err)
{
	struct wanted wd = {ids, n, 0, NULL, NULL, err};
	int rc;

	*out = NULL;
	if (!m->list_apps_raw) {
		rc = m->list_apps(m, out, err);
		*napps = rc ? 0 : json_object_array_length(*out);
		return rc;
	}
	qsort(ids, n, sizeof(*ids), cmp_str);
	wd.apps = json_object_new_array();
	wd.tok = json_tokener_new();
	if (!wd.apps || !wd.tok) {
		rc = pacer_error_set(err, PACER_EGENERIC, "out of memory reading the apps");
		goto done;
	}
	rc = m->list_apps_raw(m, on_app, &wd, err);
	if (!rc) {
		*out = wd.apps;
		wd.apps = NULL;
		*napps = wd.seen;
	}
done:
	json_object_put(wd.apps);
	if (wd.tok)
		json_tokener_free(wd.tok);
	return rc;
}

/*
 * The same answer as list_wanted() from one GET /v2/apps/{id} per id (an
 * app Marathon does not know is absent from *out). Called without the lock.
 */
static int get_wanted(struct pacer_marathon *m, char **ids, size_t n, struct json_object **out,
		      struct pacer_error **err)
{
	struct json_object *apps = json_object_new_array();
	int rc = 0;

	*out = NULL;
	if (!apps)
		return pacer_error_set(err, PACER_EGENERIC, "out of memory reading the apps");
	for (size_t i = 0; i < n && !rc; i++) {
		struct json_object *app = NULL;
		struct pacer_error *e = NULL;

		rc = m->get_app(m, ids[i], &app, &e);
		if (rc == PACER_ENOTFOUND) {
			pacer_error_free(e);
			rc = 0;
			continue;
		}
		if (rc) {
			if (err && !*err)
				*err = e;
			else
				pacer_error_free(e);
			break;
		}
		if (json_object_array_add(apps, app)) {
			json_object_put(app);
			rc = pacer_error_set(err, PACER_EGENERIC, "out of memory reading the apps");
		}
	}
	if (rc)
		json_object_put(apps);
	else
		*out = apps;
	return rc;
}

/* The ids of the entries judged this cycle; NULL when out of memory. Under the lock. */
static char **judged_ids(struct waiter *w, size_t *n)
{
	char **ids;
	size_t k = 0;

	*n = 0;
	for (struct waiter_entry *e = w->entries; e; e = e->next)
		k++;
	ids = calloc(k + 1, sizeof(*ids));
	if (!ids)
		return NULL;
	for (struct waiter_entry *e = w->entries; e; e = e->next) {
		if (e->done || !e->ready)
			continue;
		if (!(ids[*n] = strdup(e->app_id))) {
			pacer_strv_free(ids);
			*n = 0;
			return NULL;
		}
		(*n)++;
	}
	return ids;
}

/*
 * Abandoned (a newer run supersedes these deployments) or stopped
 * (SIGTERM): every open wait ends PACER_ECANCELLED without its deployment
 * being judged; the caller must not roll back, the journal hands them on.
 * Called with the lock held.
 */
static void cancel_all(struct waiter *w)
{
	int newer = w->abandon && *w->abandon;

	for (struct waiter_entry *e = w->entries; e; e = e->next)
		if (!e->done)
			settle(e, PACER_ECANCELLED,
			       pacer_error_new(PACER_ECANCELLED,
					       "app %s: stopped waiting for deployment %s: %s; the "
					       "next run finishes it",
					       e->app_id, dep_name(e),
					       newer ? "a newer sync supersedes it"
						     : "pacer is stopping"));
}

/* The poll failed: after several failures in a row every wait fails;
 * deadlines pass all the same. Called with the lock held; perr is freed. */
static void poll_failed(struct waiter *w, int rc, struct pacer_error *perr, double now)
{
	PLOG_WARN("polling deployments failed (%s); retrying",
		  perr ? perr->message : pacer_code_name(rc));
	if (++w->poll_failures >= WAITER_MAX_POLL_FAILURES) {
		fail_all(w, perr);
		w->poll_failures = 0;
	}
	for (struct waiter_entry *e = w->entries; e; e = e->next)
		if (e->ready)
			check_deadline(e, now);
	pacer_error_free(perr);
}

/*
 * Whether this cycle must read the apps: a ready entry's deployment is no
 * longer listed (or it had none), or a progress report is due. Marks the
 * entries whose deployment vanished. Called with the lock held.
 */
static int apps_needed(struct waiter *w, struct json_object *deps, double now)
{
	int need = 0;

	for (struct waiter_entry *e = w->entries; e; e = e->next) {
		if (e->done || !e->ready)
			continue;
		if (!e->vanished &&
		    (!e->deployment_id || !*e->deployment_id || !listed(deps, e->deployment_id)))
			e->vanished = 1;
		if (e->vanished)
			need = 1;
	}
	return need || now - w->last_progress >= WAITER_PROGRESS_MS / 1000.0;
}

/*
 * One GET /v2/apps for the apps being judged, made without the lock (taken
 * again before returning). NULL when it failed: the entries are judged
 * again next cycle, and a failing Marathon also fails the next
 * list_deployments.
 */
static struct json_object *read_apps(struct waiter *w, double now)
{
	struct json_object *apps = NULL;
	struct pacer_error *perr = NULL;
	size_t nids = 0, napps = w->last_napps;
	char **ids = judged_ids(w, &nids);
	int one_by_one = w->m->get_app && nids && napps / nids >= WAITER_LIST_PER_APP;
	int rc;

	pthread_mutex_unlock(&w->worker.mu);
	if (!ids)
		rc = pacer_error_set(&perr, PACER_EGENERIC, "out of memory reading the apps");
	else if (one_by_one)
		rc = get_wanted(w->m, ids, nids, &apps, &perr);
	else
		rc = list_wanted(w->m, ids, nids, &apps, &napps, &perr);
	pacer_strv_free(ids);
	pthread_mutex_lock(&w->worker.mu);
	if (!rc)
		w->last_napps = napps;
	if (rc) {
		PLOG_WARN("reading apps failed (%s); retrying",
			  perr ? perr->message : pacer_code_name(rc));
		pacer_error_free(perr);
		return NULL;
	}
	w->last_progress = now;
	return apps;
}

/*
 * One poll cycle: GET /v2/deployments without the lock, then (when needed)
 * GET /v2/apps, then judge every entry that was there before the request.
 * Called with the lock held; returns with it held.
 */
static void poll_cycle(struct waiter *w)
{
	struct json_object *deps = NULL, *apps = NULL;
	struct pacer_error *perr = NULL;
	double now;
	int rc;

	/* Only entries present before the request are judged on its answer: a
	 * deployment submitted meanwhile may be missing from it without having
	 * finished. */
	for (struct waiter_entry *e = w->entries; e; e = e->next)
		e->ready = 1;
	pthread_mutex_unlock(&w->worker.mu);
	rc = w->m->list_deployments(w->m, &deps, &perr);
	pthread_mutex_lock(&w->worker.mu);
	w->cycles++;
	now = pacer_now_s();
	if (rc) {
		poll_failed(w, rc, perr, now);
	} else {
		w->poll_failures = 0;
		if (apps_needed(w, deps, now))
			apps = read_apps(w, now);
		for (struct waiter_entry *e = w->entries; e; e = e->next)
			if (!e->done && e->ready)
				judge(e, deps, apps, now);
	}
	json_object_put(deps);
	json_object_put(apps);
	pthread_cond_broadcast(&w->done);
}

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;

	pthread_mutex_lock(&w->worker.mu);
	while (!w->worker.quit) {
		double now = pacer_now_s();

		if (!w->entries) {
			pthread_cond_wait(&w->worker.cv, &w->worker.mu);
			continue;
		}
		if ((w->abandon && *w->abandon) || (w->stop && *w->stop)) {
			cancel_all(w);
			pthread_cond_broadcast(&w->done);
			pthread_cond_wait(&w->worker.cv, &w->worker.mu);
			continue;
		}
		/* One GET /v2/deployments per interval whatever the number of
		 * apps: a join never starts a cycle early. */
		if (now < w->next_cycle) {
			/* Rounded up: waking a little early would only loop back here. */
			struct timespec ts =
				pacer_deadline_ms((long long)((w->next_cycle - now) * 1000.0) + 1);

			pthread_cond_timedwait(&w->worker.cv, &w->worker.mu, &ts);
			continue;
		}
		w->next_cycle = now + w->poll_ms / 1000.0;
		w->last_cycle = now;
		poll_cycle(w);
	}
	pthread_mutex_unlock(&w->worker.mu);
	return NULL;
}

int waiter_new(struct pacer_marathon *m, int poll_ms, struct waiter **out,
	       struct pacer_error **err)
{
	struct waiter *w;
	int rc;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return pacer_error_set(err, PACER_EGENERIC, "out of memory starting the deployment waiter");
	w->m = m;
	w->poll_ms = poll_ms > 0 ? poll_ms : WAITER_DEFAULT_POLL_MS;
	w->last_progress = pacer_now_s();
	pthread_cond_init(&w->done, NULL);
	rc = pacer_worker_start(&w->worker, waiter_main, w);
	if (rc) {
		pthread_cond_destroy(&w->done);
		free(w);
		return pacer_error_set(err, PACER_EGENERIC,
				       "cannot start the deployment waiter thread: %s", strerror(rc));
	}
	*out = w;
	return 0;
}

void waiter_free(struct waiter *w)
{
	if (!w)
		return;
	waiter_set_bell(w, NULL);
	pacer_worker_stop(&w->worker);
	pthread_cond_destroy(&w->done);
	free(w);
}

unsigned long waiter_cycles(struct waiter *w)
{
	unsigned long c;

	pthread_mutex_lock(&w->worker.mu);
	c = w->cycles;
	pthread_mutex_unlock(&w->worker.mu);
	return c;
}

void waiter_set_abandon(struct waiter *w, volatile sig_atomic_t *flag)
{
	pthread_mutex_lock(&w->worker.mu);
	w->abandon = flag;
	pthread_mutex_unlock(&w->worker.mu);
}

void waiter_set_stop(struct waiter *w, volatile sig_atomic_t *flag)
{
	pthread_mutex_lock(&w->worker.mu);
	w->stop = flag;
	pthread_mutex_unlock(&w->worker.mu);
}

int waiter_wait(struct waiter *w, const char *app_id, const char *deployment_id,
		enum waiter_goal goal, int timeout_s, waiter_progress_cb cb, void *cb_ctx,
		struct pacer_error **err)
{
	return waiter_wait_app(w, app_id, deployment_id, goal, timeout_s, cb, cb_ctx, NULL, err);
}

int waiter_wait_app(struct waiter *w, const char *app_id, const char *deployment_id,
		    enum waiter_goal goal, int timeout_s, waiter_progress_cb cb, void *cb_ctx,
		    struct json_object **out_app, struct pacer_error **err)
{
	struct waiter_entry e, **pp;

	memset(&e, 0, sizeof(e));
	e.app_id = app_id;
	e.deployment_id = deployment_id;
	e.goal = goal;
	e.timeout_s = timeout_s > 0 ? timeout_s : WAITER_DEFAULT_TIMEOUT_S;
	e.deadline = pacer_now_s() + e.timeout_s;
	e.cb = cb;
	e.cb_ctx = cb_ctx;

	pthread_mutex_lock(&w->worker.mu);
	e.next = w->entries;
	w->entries = &e;
	pthread_cond_signal(&w->worker.cv);
	while (!e.done)
		pthread_cond_wait(&w->done, &w->worker.mu);
	for (pp = &w->entries; *pp; pp = &(*pp)->next) {
		if (*pp == &e) {
			*pp = e.next;
			break;
		}
	}
	pthread_mutex_unlock(&w->worker.mu);

	if (out_app)
		*out_app = e.app;
	else
		json_object_put(e.app);
	if (e.rc) {
		if (err && !*err)
			*err = e.err;
		else
			pacer_error_free(e.err);
	}
	return e.rc;
}

/* ---- the bell: deployment events make the next cycle come now ---- */

int waiter_bell_new(struct waiter_bell **out, void (*on_first_attach)(void *ctx), void *ctx,
                    struct pacer_error **err)
{
	struct waiter_bell *b = calloc(1, sizeof(*b));

	*out = NULL;
	if (!b)
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	pthread_mutex_init(&b->mu, NULL);
	b->on_first_attach = on_first_attach;
	b->ctx = ctx;
	*out = b;
	return 0;
}

void waiter_bell_free(struct waiter_bell *b)
{
	if (!b)
		return;
	pthread_mutex_destroy(&b->mu);
	free(b);
}

/* Poll now, or at the minimum gap after the last cycle. Under w's lock. */
static void hint(struct waiter *w)
{
	double at = w->last_cycle + WAITER_BELL_MIN_GAP_MS / 1000.0;

	if (!w->entries || at >= w->next_cycle)
		return;
	w->next_cycle = at;
	pthread_cond_signal(&w->worker.cv);
}

void waiter_bell_ring(struct waiter_bell *b)
{
	pthread_mutex_lock(&b->mu);
	b->rings++;
	for (struct waiter *w = b->waiters; w; w = w->bell_next) {
		pthread_mutex_lock(&w->worker.mu);
		hint(w);
		pthread_mutex_unlock(&w->worker.mu);
	}
	pthread_mutex_unlock(&b->mu);
}

unsigned long waiter_bell_rings(struct waiter_bell *b)
{
	unsigned long n;

	pthread_mutex_lock(&b->mu);
	n = b->rings;
	pthread_mutex_unlock(&b->mu);
	return n;
}

static void bell_detach(struct waiter *w)
{
	struct waiter_bell *b = w->bell;

	if (!b)
		return;
	pthread_mutex_lock(&b->mu);
	for (struct waiter **pp = &b->waiters; *pp; pp = &(*pp)->bell_next)
		if (*pp == w) {
			*pp = w->bell_next;
			break;
		}
	pthread_mutex_unlock(&b->mu);
	w->bell = NULL;
	w->bell_next = NULL;
}

void waiter_set_bell(struct waiter *w, struct waiter_bell *b)
{
	int first;

	bell_detach(w);
	if (!b)
		return;
	pthread_mutex_lock(&b->mu);
	w->bell = b;
	w->bell_next = b->waiters;
	b->waiters = w;
	first = !b->attached;
	b->attached = 1;
	pthread_mutex_unlock(&b->mu);
	if (first && b->on_first_attach)
		b->on_first_attach(b->ctx);
}
