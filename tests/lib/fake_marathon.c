/*
 * fake_marathon.c: see fake_marathon.h. Plain arrays and one mutex: these
 * fakes hold a handful of apps.
 */
#include "tests/lib/fake_marathon.h"

#include <criterion/criterion.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/buf.h"
#include "reconcile/base/jsonutil.h"
#include "reconcile/base/log.h"
#include "reconcile/cache.h"

#define FAKE_MAX 128

enum dep_kind { DEP_APPLY, DEP_DELETE, DEP_RESTART };

struct fake_app {
	char *id;
	struct json_object *def;
	int running, healthy;
	int version;
};

struct fake_dep {
	char id[64];
	char *app_id;
	enum dep_kind kind;
	int polls_left; /* -1: never finishes */
	struct json_object *prev; /* definition before (APPLY), NULL when it created the app */
	int had_prev;
};

struct fake_fail {
	char op[32];
	int code;
	int times;
};

struct fake_marathon {
	struct pacer_marathon api; /* first: the api pointer is the fake */
	pthread_mutex_t mu;
	struct fake_app apps[FAKE_MAX];
	size_t napps;
	struct fake_dep deps[FAKE_MAX];
	size_t ndeps;
	struct fake_fail fails[16];
	size_t nfails;
	int polls;
	int next_dep;
	int max_inflight;
	int saw_version;
	char **log;
	size_t nlog;
	char framework_id[64]; /* GET /v2/info's frameworkId, "" for none */
};

/* ---- helpers (lock held) ---- */

static void log_locked(struct fake_marathon *f, const char *fmt, va_list ap)
{
	struct pacer_buf b = PACER_BUF_INIT;
	char **n;

	pacer_buf_vprintf(&b, fmt, ap);
	n = realloc(f->log, (f->nlog + 1) * sizeof(*n));
	if (!n) {
		pacer_buf_release(&b);
		return;
	}
	f->log = n;
	f->log[f->nlog++] = pacer_buf_detach(&b);
}

static void flog(struct fake_marathon *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void flog(struct fake_marathon *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_locked(f, fmt, ap);
	va_end(ap);
}

void fake_marathon_log(struct fake_marathon *f, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&f->mu);
	va_start(ap, fmt);
	log_locked(f, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&f->mu);
}

/*
 * Injected failures, shared by the fake Marathon and the fake state store:
 * the first armed entry for op is used up and returned, NULL when none.
 */
static struct fake_fail *fail_take(struct fake_fail *fails, size_t n, const char *op)
{
	for (size_t i = 0; i < n; i++) {
		if (fails[i].times > 0 && !strcmp(fails[i].op, op)) {
			fails[i].times--;
			return &fails[i];
		}
	}
	return NULL;
}

/* Arm op to fail `times` times with code; silently full at cap entries. */
static void fail_add(struct fake_fail *fails, size_t *n, size_t cap, const char *op, int code,
		     int times)
{
	if (*n >= cap)
		return;
	snprintf(fails[*n].op, sizeof(fails[*n].op), "%s", op);
	fails[*n].code = code;
	fails[*n].times = times;
	(*n)++;
}

static int injected(struct fake_marathon *f, const char *op, struct pacer_error **err)
{
	struct fake_fail *x = fail_take(f->fails, f->nfails, op);

	if (!x)
		return 0;
	return pacer_error_set(err, x->code, "fake: injected failure of %s (%s)", op,
			       pacer_code_name(x->code));
}

/*
 * The start of every API call: take the lock (the caller unlocks), log the
 * call, then apply an injected failure of op, whose code is returned.
 */
static int call_begin(struct fake_marathon *f, const char *op, struct pacer_error **err,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int call_begin(struct fake_marathon *f, const char *op, struct pacer_error **err,
		      const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&f->mu);
	va_start(ap, fmt);
	log_locked(f, fmt, ap);
	va_end(ap);
	return injected(f, op, err);
}

#define FORCE_SUFFIX(flags) ((flags) & PACER_MF_FORCE ? " force" : "")

const char *fake_marathon_label(struct json_object *def)
{
	struct json_object *l, *v;

	if (def && json_object_object_get_ex(def, "labels", &l) &&
	    json_object_object_get_ex(l, "fake", &v))
		return json_object_get_string(v);
	return "";
}

static int instances(struct json_object *def)
{
	struct json_object *v;

	return json_object_object_get_ex(def, "instances", &v) ? json_object_get_int(v) : 1;
}

static struct fake_app *find_app(struct fake_marathon *f, const char *id)
{
	for (size_t i = 0; i < f->napps; i++)
		if (!strcmp(f->apps[i].id, id))
			return &f->apps[i];
	return NULL;
}

/* find_app(), or NULL with *rc set to Marathon's 404. */
static struct fake_app *app_or_404(struct fake_marathon *f, const char *id, int *rc,
				   struct pacer_error **err)
{
	struct fake_app *a = find_app(f, id);

	if (!a)
		*rc = pacer_error_set(err, PACER_ENOTFOUND, "App '%s' does not exist", id);
	return a;
}

static void remove_app(struct fake_marathon *f, struct fake_app *a)
{
	free(a->id);
	json_object_put(a->def);
	*a = f->apps[--f->napps];
}

static void remove_dep(struct fake_marathon *f, size_t i)
{
	free(f->deps[i].app_id);
	json_object_put(f->deps[i].prev);
	f->deps[i] = f->deps[--f->ndeps];
}

static int app_in_deployment(struct fake_marathon *f, const char *id)
{
	for (size_t i = 0; i < f->ndeps; i++)
		if (!strcmp(f->deps[i].app_id, id))
			return 1;
	return 0;
}

static void cancel_deps(struct fake_marathon *f, const char *id)
{
	for (size_t i = 0; i < f->ndeps;) {
		if (!strcmp(f->deps[i].app_id, id)) {
			flog(f, "cancelled %s", f->deps[i].id);
			remove_dep(f, i);
		} else {
			i++;
		}
	}
}

/* Marathon's lock: a change of an app in deployment is 409 unless forced, which cancels. */
static int take_lock(struct fake_marathon *f, const char *id, unsigned flags,
		     struct pacer_error **err)
{
	if (!app_in_deployment(f, id))
		return 0;
	if (!(flags & PACER_MF_FORCE))
		return pacer_error_set(err, PACER_ELOCKED,
				       "App is locked by one or more deployments.");
	cancel_deps(f, id);
	return 0;
}

static struct fake_dep *new_dep(struct fake_marathon *f, const char *app_id, enum dep_kind kind,
				struct json_object *def, struct pacer_deploy_ref *out)
{
	struct fake_dep *d;

	if (f->ndeps >= FAKE_MAX)
		return NULL;
	d = &f->deps[f->ndeps++];
	memset(d, 0, sizeof(*d));
	snprintf(d->id, sizeof(d->id), "dep-%d", ++f->next_dep);
	d->app_id = strdup(app_id);
	d->kind = kind;
	d->polls_left = f->polls;
	if (kind != DEP_DELETE && !strcmp(fake_marathon_label(def), "unhealthy"))
		d->polls_left = -1;
	if ((int)f->ndeps > f->max_inflight)
		f->max_inflight = (int)f->ndeps;
	if (out) {
		memset(out, 0, sizeof(*out));
		snprintf(out->deployment_id, sizeof(out->deployment_id), "%s", d->id);
		snprintf(out->version, sizeof(out->version), "v%d", f->next_dep);
	}
	return d;
}

static struct json_object *copy(struct json_object *o)
{
	struct json_object *c = NULL;

	if (o && json_object_deep_copy(o, &c, NULL))
		return NULL;
	return c;
}

static int check_body(struct fake_marathon *f, struct json_object *body, struct pacer_error **err)
{
	if (json_object_object_get_ex(body, "version", NULL))
		f->saw_version = 1;
	if (!strcmp(fake_marathon_label(body), "reject")) {
		int rc = pacer_error_set(err, PACER_EINVALID,
					 "Object is not valid: /cpus: fake rejects this app");
		if (err && *err)
			(*err)->http_status = 422;
		return rc;
	}
	return 0;
}

/* Store def (a new reference) as app id, creating the app when missing. */
static struct fake_app *store(struct fake_marathon *f, const char *id_in, struct json_object *def)
{
	char *id = strdup(id_in); /* id_in may live inside def */
	struct fake_app *a = find_app(f, id);

	json_object_object_add(def, "id", json_object_new_string(id));
	if (!a) {
		if (f->napps >= FAKE_MAX) {
			json_object_put(def);
			free(id);
			return NULL;
		}
		a = &f->apps[f->napps++];
		memset(a, 0, sizeof(*a));
		a->id = id;
	} else {
		json_object_put(a->def);
		free(id);
	}
	a->def = def;
	a->version++;
	return a;
}

/* ---- the api ---- */

static int f_list_apps(struct pacer_marathon *m, struct json_object **out,
		       struct pacer_error **err)
{
	struct fake_marathon *f = (struct fake_marathon *)m;
	struct json_object *arr;
	int rc;

	*out = NULL;
	rc = call_begin(f, "list_apps", err, "list_apps");
	if (rc)
		goto done;
	arr = json_object_new_array();
	for (size_t i = 0; i < f->napps; i++) {
		struct fake_app *a = &f->apps[i];
		struct json_object *o = copy(a->def), *deps = json_object_new_array();
		char ver[32];

		snprintf(ver, sizeof(ver), "2026-01-01T00:00:%02d.000Z", a->version % 60);
		json_object_object_add(o, "version", json_object_new_string(ver));
		json_object_object_add(o, "tasksRunning", json_object_new_int(a->running));
		json_object_object_add(o, "tasksHealthy", json_object_new_int(a->healthy));
		json_object_object_add(o, "tasksStaged", json_object_new_int(0));
		json_object_object_add(o, "tasksUnhealthy", json_object_new_int(0));
		for (size_t j = 0; j < f->ndeps; j++) {
			if (strcmp(f->deps[j].app_id, a->id))
				continue;
			struct json_object *d = json_object_new_object();

			json_object_object_add(d, "id", json_object_new_string(f->deps[j].id));
			json_object_array_add(deps, d);
		}
		json_object_object_add(o, "deployments", deps);
		json_object_array_add(arr, o);
	}
	*out = arr;
done:
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int f_get_app(struct pacer_marathon *m, const char *id, struct json_object **out,
		     struct pacer_error **err)
{
	struct fake_marathon *f = (struct fake_marathon *)m;
	struct fake_app *a;
	int rc;

	*out = NULL;
	rc = call_begin(f, "get_app", err, "get_app %s", id);
	if (!rc && (a = app_or_404(f, id, &rc, err)))
		*out = copy(a->def);
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int f_put_app(struct pacer_marathon *m, const char *id, struct json_object *app,
		     unsigned flags, struct pacer_deploy_ref *out, struct pacer_error **err)
{
	struct fake_marathon *f = (struct fake_marathon *)m;
	struct fake_app *a;
	struct fake_dep *d;
	struct json_object *prev = NULL;
	int rc, had;

	rc = call_begin(f, "put_app", err, "put %s%s%s", id, FORCE_SUFFIX(flags),
			flags & PACER_MF_PARTIAL ? " partial" : "");
	if (!rc)
		rc = check_body(f, app, err);
	if (rc)
		goto done;
	a = find_app(f, id);
	had = a != NULL;
	if (a) {
		rc = take_lock(f, id, flags, err);
		if (rc)
			goto done;
		prev = copy(a->def);
	}
	a = store(f, id, copy(app));
	if (!had)
		a->running = a->healthy = 0;
	d = new_dep(f, id, DEP_APPLY, a->def, out);
	d->prev = prev;
	d->had_prev = had;
	if (out)
		out->created = !had;
done:
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int f_create_app(struct pacer_marathon *m, struct json_object *app, unsigned flags,
			struct pacer_deploy_ref *out, struct pacer_error **err)
{
	struct fake_marathon *f = (struct fake_marathon *)m;
	struct json_object *v = NULL;
	const char *id;
	struct fake_app *a;
	int rc;

	id = json_object_object_get_ex(app, "id", &v) ? json_object_get_string(v) : "";
	rc = call_begin(f, "create_app", err, "create %s%s", id, FORCE_SUFFIX(flags));
	if (!rc)
		rc = check_body(f, app, err);
	if (rc)
		goto done;
	if (find_app(f, id)) {
		rc = pacer_error_set(err, PACER_ECONFLICT, "An app with id [%s] already exists.", id);
		goto done;
	}
	a = store(f, id, copy(app));
	new_dep(f, a->id, DEP_APPLY, a->def, out);
done:
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int f_delete_app(struct pacer_marathon *m, const char *id, unsigned flags,
			struct pacer_deploy_ref *out, struct pacer_error **err)
{
	struct fake_marathon *f = (struct fake_marathon *)m;
	struct fake_app *a;
	int rc;

	rc = call_begin(f, "delete_app", err, "delete_app %s%s", id, FORCE_SUFFIX(flags));
	if (rc || !(a = app_or_404(f, id, &rc, err)))
		goto done;
	cancel_deps(f, id);
	remove_app(f, a);
	new_dep(f, id, DEP_DELETE, NULL, out);
done:
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int f_restart_app(struct pacer_marathon *m, const char *id, unsigned flags,
			 struct pacer_deploy_ref *out, struct pacer_error **err)
{
	struct fake_marathon *f = (struct fake_marathon *)m;
	struct fake_app *a;
	int rc;

	rc = call_begin(f, "restart_app", err, "restart %s%s", id, FORCE_SUFFIX(flags));
	if (rc || !(a = app_or_404(f, id, &rc, err)))
		goto done;
	rc = take_lock(f, id, flags, err);
	if (rc)
		goto done;
	a->version++;
	new_dep(f, id, DEP_RESTART, a->def, out);
done:
	pthread_mutex_unlock(&f->mu);
	return rc;
}

/* One poll: advance every deployment, finish those that are due. */
static int f_list_deployments(struct pacer_marathon *m, struct json_object **out,
			      struct pacer_error **err)
{
	struct fake_marathon *f = (struct fake_marathon *)m;
	struct json_object *arr;
	int rc;

	*out = NULL;
	rc = call_begin(f, "list_deployments", err, "list_deployments");
	if (rc)
		goto done;
	for (size_t i = 0; i < f->ndeps;) {
		struct fake_dep *d = &f->deps[i];

		if (d->polls_left > 0 && --d->polls_left == 0) {
			struct fake_app *a = find_app(f, d->app_id);

			if (a && d->kind != DEP_DELETE) {
				int ok = strcmp(fake_marathon_label(a->def), "cancel") != 0;

				a->running = a->healthy = ok ? instances(a->def) : 0;
			}
			flog(f, "finished %s", d->id);
			remove_dep(f, i);
			continue;
		}
		i++;
	}
	arr = json_object_new_array();
	for (size_t i = 0; i < f->ndeps; i++) {
		struct json_object *o = json_object_new_object(), *aff = json_object_new_array();

		json_object_object_add(o, "id", json_object_new_string(f->deps[i].id));
		json_object_array_add(aff, json_object_new_string(f->deps[i].app_id));
		json_object_object_add(o, "affectedApps", aff);
		json_object_array_add(arr, o);
	}
	*out = arr;
done:
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int f_delete_deployment(struct pacer_marathon *m, const char *id, unsigned flags,
			       struct pacer_deploy_ref *out, struct pacer_error **err)
{
	struct fake_marathon *f = (struct fake_marathon *)m;
	struct json_object *prev = NULL;
	char *app_id = NULL;
	int rc, had = 0;
	size_t i;

	if (out)
		memset(out, 0, sizeof(*out));
	rc = call_begin(f, "delete_deployment", err, "delete_deployment %s%s", id,
			FORCE_SUFFIX(flags));
	if (rc)
		goto done;
	for (i = 0; i < f->ndeps; i++)
		if (!strcmp(f->deps[i].id, id))
			break;
	if (i == f->ndeps) {
		rc = pacer_error_set(err, PACER_ENOTFOUND, "DeploymentPlan %s does not exist", id);
		goto done;
	}
	app_id = strdup(f->deps[i].app_id);
	prev = f->deps[i].prev;
	f->deps[i].prev = NULL;
	had = f->deps[i].had_prev;
	remove_dep(f, i);
	if (flags & PACER_MF_FORCE)
		goto done;
	/* Marathon's rollback: the previous definition, or remove a created app. */
	if (had && prev) {
		struct fake_app *a = store(f, app_id, prev);

		prev = NULL;
		new_dep(f, app_id, DEP_APPLY, a->def, out);
	} else {
		struct fake_app *a = find_app(f, app_id);

		if (a)
			remove_app(f, a);
		new_dep(f, app_id, DEP_DELETE, NULL, out);
	}
done:
	json_object_put(prev);
	free(app_id);
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int f_info(struct pacer_marathon *m, struct json_object **out, struct pacer_error **err)
{
	struct fake_marathon *f = (struct fake_marathon *)m;

	(void)err;
	*out = json_tokener_parse("{\"name\":\"marathon\",\"version\":\"1.10.26\"}");
	pthread_mutex_lock(&f->mu);
	if (f->framework_id[0])
		json_object_object_add(*out, "frameworkId", json_object_new_string(f->framework_id));
	pthread_mutex_unlock(&f->mu);
	return 0;
}

void fake_marathon_set_framework(struct fake_marathon *f, const char *id)
{
	pthread_mutex_lock(&f->mu);
	snprintf(f->framework_id, sizeof(f->framework_id), "%s", id ? id : "");
	pthread_mutex_unlock(&f->mu);
}

static void f_free(struct pacer_marathon *m)
{
	struct fake_marathon *f = (struct fake_marathon *)m;

	while (f->napps)
		remove_app(f, &f->apps[0]);
	while (f->ndeps)
		remove_dep(f, 0);
	for (size_t i = 0; i < f->nlog; i++)
		free(f->log[i]);
	free(f->log);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

struct fake_marathon *fake_marathon_new(void)
{
	struct fake_marathon *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->api.list_apps = f_list_apps;
	f->api.get_app = f_get_app;
	f->api.put_app = f_put_app;
	f->api.create_app = f_create_app;
	f->api.delete_app = f_delete_app;
	f->api.restart_app = f_restart_app;
	f->api.list_deployments = f_list_deployments;
	f->api.delete_deployment = f_delete_deployment;
	f->api.info = f_info;
	f->api.free = f_free;
	f->polls = 2;
	pthread_mutex_init(&f->mu, NULL);
	return f;
}

struct pacer_marathon *fake_marathon_api(struct fake_marathon *f)
{
	return &f->api;
}

int fake_marathon_add_app(struct fake_marathon *f, const char *json)
{
	struct json_object *o = json_tokener_parse(json), *v;
	struct fake_app *a;
	int rc = -1;

	if (!o || !json_object_object_get_ex(o, "id", &v)) {
		json_object_put(o);
		return -1;
	}
	pthread_mutex_lock(&f->mu);
	a = store(f, json_object_get_string(v), o);
	if (a) {
		/* A live app labelled "unhealthy" runs its tasks, none healthy. */
		a->running = a->healthy = instances(a->def);
		if (!strcmp(fake_marathon_label(a->def), "unhealthy"))
			a->healthy = 0;
		rc = 0;
	}
	pthread_mutex_unlock(&f->mu);
	return rc;
}

void fake_marathon_set_polls(struct fake_marathon *f, int polls)
{
	pthread_mutex_lock(&f->mu);
	f->polls = polls > 0 ? polls : 1;
	pthread_mutex_unlock(&f->mu);
}

void fake_marathon_fail(struct fake_marathon *f, const char *op, int code, int times)
{
	pthread_mutex_lock(&f->mu);
	fail_add(f->fails, &f->nfails, sizeof(f->fails) / sizeof(f->fails[0]), op, code, times);
	pthread_mutex_unlock(&f->mu);
}

char *fake_marathon_calls(struct fake_marathon *f)
{
	struct pacer_buf b = PACER_BUF_INIT;

	pthread_mutex_lock(&f->mu);
	for (size_t i = 0; i < f->nlog; i++) {
		pacer_buf_puts(&b, f->log[i]);
		pacer_buf_putc(&b, '\n');
	}
	pthread_mutex_unlock(&f->mu);
	return pacer_buf_detach(&b);
}

int fake_marathon_find(struct fake_marathon *f, const char *line, int from)
{
	int r = -1;

	pthread_mutex_lock(&f->mu);
	for (size_t i = from > 0 ? (size_t)from : 0; i < f->nlog; i++) {
		if (!strcmp(f->log[i], line)) {
			r = (int)i;
			break;
		}
	}
	pthread_mutex_unlock(&f->mu);
	return r;
}

int fake_marathon_count(struct fake_marathon *f, const char *prefix)
{
	int n = 0;

	pthread_mutex_lock(&f->mu);
	for (size_t i = 0; i < f->nlog; i++)
		if (!strncmp(f->log[i], prefix, strlen(prefix)))
			n++;
	pthread_mutex_unlock(&f->mu);
	return n;
}

/* One counter of f, read under the lock. */
static int read_locked(struct fake_marathon *f, const int *field)
{
	int n;

	pthread_mutex_lock(&f->mu);
	n = *field;
	pthread_mutex_unlock(&f->mu);
	return n;
}

int fake_marathon_max_inflight(struct fake_marathon *f)
{
	return read_locked(f, &f->max_inflight);
}

int fake_marathon_saw_version(struct fake_marathon *f)
{
	return read_locked(f, &f->saw_version);
}

struct json_object *fake_marathon_app(struct fake_marathon *f, const char *id)
{
	struct fake_app *a;
	struct json_object *o = NULL;

	pthread_mutex_lock(&f->mu);
	a = find_app(f, id);
	if (a)
		o = copy(a->def);
	pthread_mutex_unlock(&f->mu);
	return o;
}

/* ---- source ---- */

struct fake_source {
	struct pacer_source api;
	char **files; /* path, content pairs */
	size_t n;
	char *revision;
};

static int fs_read(struct pacer_source *s, pacer_source_file_cb cb, void *ctx,
		   struct pacer_error **err)
{
	struct fake_source *f = (struct fake_source *)s;

	(void)err;
	for (size_t i = 0; i + 1 < f->n; i += 2) {
		char key[40] = "k";
		int rc;

		/* A content key, as the real sources give one (reconcile/cache.h). */
		cache_digest(f->files[i + 1], strlen(f->files[i + 1]), key + 1);
		rc = cb(ctx, f->files[i], f->files[i + 1], strlen(f->files[i + 1]), key);

		if (rc)
			return rc;
	}
	return 0;
}

static const char *fs_describe(struct pacer_source *s)
{
	(void)s;
	return "fake-source";
}

static const char *fs_revision(struct pacer_source *s)
{
	return ((struct fake_source *)s)->revision;
}

static void fs_free(struct pacer_source *s)
{
	struct fake_source *f = (struct fake_source *)s;

	for (size_t i = 0; i < f->n; i++)
		free(f->files[i]);
	free(f->files);
	free(f->revision);
	free(f);
}

struct pacer_source *fake_source_new(const char *const *files, const char *revision)
{
	struct fake_source *f = calloc(1, sizeof(*f));
	size_t n = 0;

	if (!f)
		return NULL;
	while (files && files[n])
		n++;
	f->files = calloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		f->files[i] = strdup(files[i]);
	f->n = n;
	f->revision = revision ? strdup(revision) : NULL;
	f->api.read = fs_read;
	f->api.describe = fs_describe;
	f->api.revision = fs_revision;
	f->api.free = fs_free;
	return &f->api;
}

struct pacer_desired *fake_desired_load(const char *const *files, struct pacer_cache *cache,
                                        const struct appdef_flags *flags)
{
	struct pacer_source *src = fake_source_new(files, NULL);
	struct desired_options o = DESIRED_OPTIONS_INIT;
	struct pacer_desired *d = NULL;
	struct pacer_error *err = NULL;

	o.cache = cache;
	o.flags = flags;
	cr_assert_eq(desired_load(src, &o, &d, &err), 0, "%s", err ? err->message : "");
	pacer_source_free(src);
	return d;
}

struct pacer_cache *fake_cache_roundtrip(struct pacer_cache *c, const char *tag)
{
	struct pacer_cache *n = cache_new();
	char *data;
	size_t len;

	cr_assert_eq(cache_dump(c, tag, &data, &len), 0);
	cr_assert_eq(strlen(data), len);
	cr_assert_eq(cache_load(n, tag, data, len), 0);
	free(data);
	cache_free(c);
	return n;
}

/* ---- state ---- */

struct fake_state {
	struct pacer_state_store api;
	struct fake_marathon *log;
	pthread_mutex_t mu;
	char *owned[FAKE_MAX];
	size_t n;
	char *revision;
	struct fake_fail fails[4];
	size_t nfails;
	/* Documents (fake_state_enable_docs()): names[i] holds data[i]. */
	char *doc_names[FAKE_MAX];
	char *doc_data[FAKE_MAX];
	size_t doc_len[FAKE_MAX];
	size_t ndocs;
};

static int state_injected(struct fake_state *s, const char *op, struct pacer_error **err)
{
	struct fake_fail *x = fail_take(s->fails, s->nfails, op);

	return x ? pacer_error_set(err, x->code, "fake state: injected failure of %s", op) : 0;
}

static long state_find(struct fake_state *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->owned[i], id))
			return (long)i;
	return -1;
}

static int st_load_owned(struct pacer_state_store *ss, char ***ids, struct pacer_error **err)
{
	struct fake_state *s = (struct fake_state *)ss;
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = state_injected(s, "load_owned", err);
	if (!rc) {
		*ids = calloc(s->n + 1, sizeof(char *));
		for (size_t i = 0; i < s->n; i++)
			(*ids)[i] = strdup(s->owned[i]);
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int st_add_owned(struct pacer_state_store *ss, const char *const *ids, size_t n,
			struct pacer_error **err)
{
	struct fake_state *s = (struct fake_state *)ss;
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = state_injected(s, "add_owned", err);
	for (size_t i = 0; !rc && i < n; i++) {
		if (s->log)
			fake_marathon_log(s->log, "own %s", ids[i]);
		if (state_find(s, ids[i]) < 0 && s->n < FAKE_MAX)
			s->owned[s->n++] = strdup(ids[i]);
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int st_remove_owned(struct pacer_state_store *ss, const char *const *ids, size_t n,
			   struct pacer_error **err)
{
	struct fake_state *s = (struct fake_state *)ss;
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = state_injected(s, "remove_owned", err);
	for (size_t i = 0; !rc && i < n; i++) {
		long j = state_find(s, ids[i]);

		if (s->log)
			fake_marathon_log(s->log, "disown %s", ids[i]);
		if (j >= 0) {
			free(s->owned[j]);
			s->owned[j] = s->owned[--s->n];
		}
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int st_load_rev(struct pacer_state_store *ss, char **out, struct pacer_error **err)
{
	struct fake_state *s = (struct fake_state *)ss;

	(void)err;
	pthread_mutex_lock(&s->mu);
	*out = s->revision ? strdup(s->revision) : NULL;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

static int st_save_rev(struct pacer_state_store *ss, const char *rev, struct pacer_error **err)
{
	struct fake_state *s = (struct fake_state *)ss;
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = state_injected(s, "save_last_revision", err);
	if (!rc) {
		free(s->revision);
		s->revision = strdup(rev);
		if (s->log)
			fake_marathon_log(s->log, "revision %s", rev);
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static long doc_find(struct fake_state *s, const char *name)
{
	for (size_t i = 0; i < s->ndocs; i++)
		if (!strcmp(s->doc_names[i], name))
			return (long)i;
	return -1;
}

static int st_doc_load(struct pacer_state_store *ss, const char *name, char **data, size_t *len,
		       struct pacer_error **err)
{
	struct fake_state *s = (struct fake_state *)ss;
	long i;
	int rc;

	pthread_mutex_lock(&s->mu);
	*data = NULL;
	*len = 0;
	rc = state_injected(s, "doc_load", err);
	if (!rc && (i = doc_find(s, name)) >= 0) {
		*data = malloc(s->doc_len[i] + 1);
		memcpy(*data, s->doc_data[i], s->doc_len[i] + 1);
		*len = s->doc_len[i];
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int st_doc_save(struct pacer_state_store *ss, const char *name, const char *data,
		       size_t len, struct pacer_error **err)
{
	struct fake_state *s = (struct fake_state *)ss;
	long i;
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = state_injected(s, "doc_save", err);
	if (!rc && (i = doc_find(s, name)) < 0 && s->ndocs < FAKE_MAX) {
		i = (long)s->ndocs++;
		s->doc_names[i] = strdup(name);
		s->doc_data[i] = NULL;
	}
	if (!rc && i >= 0) {
		free(s->doc_data[i]);
		s->doc_data[i] = malloc(len + 1);
		memcpy(s->doc_data[i], data, len);
		s->doc_data[i][len] = '\0';
		s->doc_len[i] = len;
		if (s->log)
			fake_marathon_log(s->log, "doc_save %s", name);
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int st_doc_remove(struct pacer_state_store *ss, const char *name,
			 struct pacer_error **err)
{
	struct fake_state *s = (struct fake_state *)ss;
	long i;
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = state_injected(s, "doc_remove", err);
	if (!rc && (i = doc_find(s, name)) >= 0) {
		free(s->doc_names[i]);
		free(s->doc_data[i]);
		s->ndocs--;
		s->doc_names[i] = s->doc_names[s->ndocs];
		s->doc_data[i] = s->doc_data[s->ndocs];
		s->doc_len[i] = s->doc_len[s->ndocs];
		if (s->log)
			fake_marathon_log(s->log, "doc_remove %s", name);
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Full names ("journal/x.json") of the folder's documents, sorted. */
static int st_doc_list(struct pacer_state_store *ss, const char *folder, char ***names,
		       struct pacer_error **err)
{
	struct fake_state *s = (struct fake_state *)ss;
	size_t flen = strlen(folder), k = 0;
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = state_injected(s, "doc_list", err);
	*names = calloc(s->ndocs + 1, sizeof(char *));
	for (size_t i = 0; !rc && i < s->ndocs; i++)
		if (!strncmp(s->doc_names[i], folder, flen) && s->doc_names[i][flen] == '/')
			(*names)[k++] = strdup(s->doc_names[i]);
	qsort(*names, k, sizeof(char *), cmp_name);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void fake_state_enable_docs(struct pacer_state_store *ss)
{
	ss->doc_load = st_doc_load;
	ss->doc_save = st_doc_save;
	ss->doc_remove = st_doc_remove;
	ss->doc_list = st_doc_list;
}

size_t fake_state_ndocs(struct pacer_state_store *ss)
{
	struct fake_state *s = (struct fake_state *)ss;
	size_t n;

	pthread_mutex_lock(&s->mu);
	n = s->ndocs;
	pthread_mutex_unlock(&s->mu);
	return n;
}

static void st_free(struct pacer_state_store *ss)
{
	struct fake_state *s = (struct fake_state *)ss;

	for (size_t i = 0; i < s->n; i++)
		free(s->owned[i]);
	for (size_t i = 0; i < s->ndocs; i++) {
		free(s->doc_names[i]);
		free(s->doc_data[i]);
	}
	free(s->revision);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

struct pacer_state_store *fake_state_new(struct fake_marathon *log)
{
	struct fake_state *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->log = log;
	pthread_mutex_init(&s->mu, NULL);
	s->api.load_owned = st_load_owned;
	s->api.add_owned = st_add_owned;
	s->api.remove_owned = st_remove_owned;
	s->api.load_last_revision = st_load_rev;
	s->api.save_last_revision = st_save_rev;
	s->api.free = st_free;
	return &s->api;
}

int fake_state_owns(struct pacer_state_store *ss, const char *id)
{
	struct fake_state *s = (struct fake_state *)ss;
	int r;

	pthread_mutex_lock(&s->mu);
	r = state_find(s, id) >= 0;
	pthread_mutex_unlock(&s->mu);
	return r;
}

const char *fake_state_revision(struct pacer_state_store *ss)
{
	return ((struct fake_state *)ss)->revision;
}

void fake_state_fail(struct pacer_state_store *ss, const char *op, int times)
{
	struct fake_state *s = (struct fake_state *)ss;

	pthread_mutex_lock(&s->mu);
	fail_add(s->fails, &s->nfails, sizeof(s->fails) / sizeof(s->fails[0]), op, PACER_EIO,
		 times);
	pthread_mutex_unlock(&s->mu);
}

/* ---- backups ---- */

struct fake_backup {
	struct pacer_backup_store api;
	struct fake_marathon *log;
	pthread_mutex_t mu;
	struct json_object *defs[FAKE_MAX];
	char *ids[FAKE_MAX];
	size_t n;
	int fail;
};

static int bk_save(struct pacer_backup_store *bs, const char *app_id, struct json_object *def,
		   char **out_path, struct pacer_error **err)
{
	struct fake_backup *b = (struct fake_backup *)bs;
	int rc = 0;

	if (out_path)
		*out_path = NULL;
	pthread_mutex_lock(&b->mu);
	if (b->fail > 0) {
		b->fail--;
		rc = pacer_error_set(err, PACER_EIO,
				     "cannot write /backups/%s.json: No space left on device (fake)",
				     app_id);
		if (b->log)
			fake_marathon_log(b->log, "backup-failed %s", app_id);
		goto done;
	}
	if (b->n >= FAKE_MAX) {
		rc = pacer_error_set(err, PACER_EIO, "fake backup store full");
		goto done;
	}
	b->defs[b->n] = copy(def);
	b->ids[b->n] = strdup(app_id);
	if (out_path) {
		struct pacer_buf p = PACER_BUF_INIT;

		pacer_buf_printf(&p, "mem:%s#%zu", app_id, b->n);
		*out_path = pacer_buf_detach(&p);
	}
	b->n++;
	if (b->log)
		fake_marathon_log(b->log, "backup %s", app_id);
done:
	pthread_mutex_unlock(&b->mu);
	return rc;
}

static int bk_list(struct pacer_backup_store *bs, const char *app_id,
		   struct pacer_backup_entry **out, size_t *count, struct pacer_error **err)
{
	(void)bs;
	(void)app_id;
	(void)err;
	*out = NULL;
	*count = 0;
	return 0;
}

static int bk_load(struct pacer_backup_store *bs, const char *path, struct json_object **out,
		   struct pacer_error **err)
{
	(void)bs;
	*out = NULL;
	return pacer_error_set(err, PACER_ENOTFOUND, "fake backup store cannot load %s", path);
}

static void bk_free(struct pacer_backup_store *bs)
{
	struct fake_backup *b = (struct fake_backup *)bs;

	for (size_t i = 0; i < b->n; i++) {
		json_object_put(b->defs[i]);
		free(b->ids[i]);
	}
	pthread_mutex_destroy(&b->mu);
	free(b);
}

struct pacer_backup_store *fake_backup_new(struct fake_marathon *log)
{
	struct fake_backup *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->log = log;
	pthread_mutex_init(&b->mu, NULL);
	b->api.save = bk_save;
	b->api.list = bk_list;
	b->api.load = bk_load;
	b->api.free = bk_free;
	return &b->api;
}

size_t fake_backup_count(struct pacer_backup_store *bs)
{
	struct fake_backup *b = (struct fake_backup *)bs;
	size_t n;

	pthread_mutex_lock(&b->mu);
	n = b->n;
	pthread_mutex_unlock(&b->mu);
	return n;
}

struct json_object *fake_backup_get(struct pacer_backup_store *bs, size_t i)
{
	struct fake_backup *b = (struct fake_backup *)bs;

	return i < b->n ? b->defs[i] : NULL;
}

void fake_backup_fail(struct pacer_backup_store *bs, int times)
{
	struct fake_backup *b = (struct fake_backup *)bs;

	pthread_mutex_lock(&b->mu);
	b->fail = times;
	pthread_mutex_unlock(&b->mu);
}

/* ---- an execution context over the fakes ---- */

static void exec_on_event(void *ctx, const struct sync_event *ev)
{
	struct fake_exec *e = ctx;

	pthread_mutex_lock(&e->evmu);
	e->nevents[ev->kind]++;
	pthread_mutex_unlock(&e->evmu);
}

struct fake_marathon *fake_marathon_with_stores(struct pacer_marathon **m,
                                                struct pacer_backup_store **b,
                                                struct pacer_state_store **s)
{
	struct fake_marathon *f = fake_marathon_new();

	*m = fake_marathon_api(f);
	*b = fake_backup_new(f);
	*s = fake_state_new(f);
	return f;
}

void fake_sync_options_init(struct sync_options *o)
{
	static const struct sync_options defaults = SYNC_OPTIONS_INIT;

	*o = defaults;
	o->poll_ms = 10; /* fast enough for unit tests, slow enough to count cycles */
	o->timeout_s = 1;
}

int fake_exec_init(struct fake_exec *e)
{
	memset(e, 0, sizeof(*e));
	pacer_log_set_level(PACER_LOG_WARN);
	e->f = fake_marathon_with_stores(&e->m, &e->b, &e->s);
	fake_sync_options_init(&e->o);
	e->o.on_event = exec_on_event;
	e->o.event_ctx = e;
	pthread_mutex_init(&e->evmu, NULL);
	if (waiter_new(e->m, e->o.poll_ms, &e->w, NULL))
		return -1;
	e->c.m = e->m;
	e->c.backups = e->b;
	e->c.state = e->s;
	e->c.waiter = e->w;
	e->c.opts = &e->o;
	e->c.revision = "abc123";
	e->c.unreachable = &e->unreachable;
	return 0;
}

void fake_exec_fini(struct fake_exec *e)
{
	waiter_free(e->w);
	pacer_backup_store_free(e->b);
	pacer_state_store_free(e->s);
	pacer_marathon_free(e->m);
	pthread_mutex_destroy(&e->evmu);
}

struct json_object *fake_exec_live(struct fake_exec *e, const char *id)
{
	struct json_object *apps = NULL, *found = NULL;

	if (e->m->list_apps(e->m, &apps, NULL))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(apps); i++) {
		struct json_object *a = json_object_array_get_idx(apps, i);
		const char *aid = json_object_get_string(jsonutil_get(a, "id"));

		if (aid && !strcmp(aid, id))
			found = json_object_get(a);
	}
	json_object_put(apps);
	return found;
}
