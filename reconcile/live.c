/*
 * live.c: the live apps, compared as they arrive (contract in live.h).
 *
 * For each app of the list, in order:
 *   1. with the app's bytes and a cache: the digest of the bytes names the
 *      app ("L <digest>" -> id) and, with its desired file's key, an
 *      earlier verdict ("P <file key> <id> <digest> <opts>"): a hit is
 *      UNCHANGED without parsing anything;
 *   2. otherwise the app is parsed; a desired app is compared with
 *      plan_compare(): equal apps are recorded (and remembered in the
 *      cache), different ones kept for the plan;
 *   3. an app nobody desires is kept only when it may be pruned (owned), or
 *      when it is a colour of a desired blue/green app (bluegreen.h).
 */
#include "reconcile/live.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reconcile/base/buf.h"
#include "reconcile/base/json_pos.h"
#include "reconcile/base/jsonutil.h"
#include "reconcile/bluegreen.h"

/* One app of a prefetched list: its bytes in the list's buffer. */
struct pf_app {
	size_t off, len;
	char *id;  /* as written; NULL when the bytes do not give it plainly */
	int dup;   /* another app of the list has this id */
	int equal; /* a visit found it equal to its desired app */
};

struct live_prefetch {
	struct pacer_buf buf; /* every app's bytes, one after the other */
	struct pf_app *apps;  /* in the list's order */
	size_t n, cap;
	struct pf_app **byid; /* the apps with an id, sorted by it */
	size_t nbyid;
	int ignore_instances;
	struct json_tokener *tok;
};

struct reader {
	struct pacer_desired *desired;
	const struct plan_options *opts;
	const char **owned; /* sorted copy of opts->owned */
	const char **track; /* sorted copy of the tracked ids */
	size_t ntrack, captracked, caphealth;
	long long now;
	struct pacer_cache *cache;
	struct json_tokener *tok;
	struct live_set *out;
	size_t cap;
	struct pacer_error **err;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int oom(struct pacer_error **err)
{
	return pacer_error_set(err, PACER_EGENERIC, "out of memory while reading the live apps");
}

static int add_unchanged(struct reader *r, const char *id)
{
	struct live_set *s = r->out;
	char **v = pacer_array_grow(s->unchanged, &r->cap, s->nunchanged + 1, sizeof(*v), 64);

	if (!v)
		return oom(r->err);
	s->unchanged = v;
	if (!(s->unchanged[s->nunchanged] = strdup(id)))
		return oom(r->err);
	s->nunchanged++;
	return 0;
}

static int add_str(char ***v, size_t *n, size_t *cap, const char *s)
{
	char **nv = pacer_array_grow(*v, cap, *n + 1, sizeof(*nv), 16);

	if (!nv)
		return -1;
	*v = nv;
	if (!((*v)[*n] = strdup(s)))
		return -1;
	(*n)++;
	return 0;
}

/* How an unchanged app runs is remembered (status reports it; sync judges it). */
static int add_health(struct reader *r, const char *id, enum converge_health h,
		      const char *reason, const struct converge_tasks *tasks)
{
	struct live_set *s = r->out;
	struct live_health *e, *v;

	if (!(v = pacer_array_grow(s->health, &r->caphealth, s->nhealth + 1, sizeof(*v), 64)))
		return oom(r->err);
	s->health = v;
	e = &s->health[s->nhealth];
	if (!(e->id = strdup(id)))
		return oom(r->err);
	e->health = h;
	snprintf(e->reason, sizeof(e->reason), "%s", h == CONVERGE_HEALTHY ? "" : reason);
	e->tasks = *tasks;
	s->nhealth++;
	return 0;
}

static int cmp_health(const void *a, const void *b)
{
	return strcmp(((const struct live_health *)a)->id, ((const struct live_health *)b)->id);
}

/* "L <digest>": which app these bytes are. */
static void live_key(char out[40], const char *digest)
{
	snprintf(out, 40, "L %s", digest);
}

/* "P <file key> <id> <digest> <opts>", or NULL when it cannot be cached. */
static char *pair_key(const struct pacer_desired_app *d, const char *id, const char *digest,
		      const struct plan_options *o)
{
	char *k = NULL;

	if (!d->key || !digest)
		return NULL;
	if (asprintf(&k, "P %s %s %s i%d", d->key, id, digest, o->ignore_instances ? 1 : 0) < 0)
		return NULL;
	return k;
}

/* Remember which app the live bytes of `digest` are (when there is a cache). */
static int remember_live(struct reader *r, const char *digest, const char *id)
{
	char key[40];

	if (!digest || !r->cache)
		return 0;
	live_key(key, digest);
	return cache_put(r->cache, key, id) < 0 ? oom(r->err) : 0;
}

/*
 * Live app `id` (bytes of `digest`) equals desired app d: recorded as
 * unchanged with its health, and the pair remembered for the next run.
 */
static int record_equal(struct reader *r, const struct pacer_desired_app *d, const char *id,
			const char *digest, enum converge_health h, const char *reason,
			const struct converge_tasks *tasks)
{
	char *pk;
	int rc;

	if ((rc = add_unchanged(r, id)) || (rc = add_health(r, id, h, reason, tasks)))
		return rc;
	if (r->cache && (pk = pair_key(d, id, digest, r->opts))) {
		rc = cache_put(r->cache, pk, NULL);
		free(pk);
		if (rc < 0)
			return oom(r->err);
	}
	return 0;
}

/* Step 1: a cached verdict for these bytes? 1 = yes (recorded), 0 = no, <0 error. */
static int from_cache(struct reader *r, const char *digest, const char *json, size_t len)
{
	char reason[200];
	struct converge_tasks tasks;
	enum converge_health h;
	struct pacer_desired_app *d;
	const char *id;
	char key[40], *pk;
	int hit;

	live_key(key, digest);
	id = cache_get(r->cache, key);
	if (!id || !(d = (struct pacer_desired_app *)desired_find(r->desired, id)))
		return 0;
	if (!(pk = pair_key(d, id, digest, r->opts)))
		return 0;
	hit = cache_get(r->cache, pk) != NULL;
	free(pk);
	if (!hit)
		return 0;
	/* Equal definitions, but is it running well? Read from the bytes. */
	h = converge_health_raw(json, len, r->now, reason, sizeof(reason), &tasks);
	return add_unchanged(r, id) || add_health(r, id, h, reason, &tasks) ? -1 : 1;
}

static int is_owned(struct reader *r, const char *id)
{
	return r->owned && bsearch(&id, r->owned, r->opts->nowned, sizeof(*r->owned), cmp_str);
}

/* Steps 2 and 3 for one parsed app (a reference is taken when it is kept). */
static int take(struct reader *r, struct json_object *app, const char *digest)
{
	struct json_object *idv = jsonutil_get(app, "id");
	struct pacer_desired_app *d;
	const char *id;
	int rc, same = 0;

	if (!json_object_is_type(idv, json_type_string))
		return 0; /* not an app: plan_build() skips these too */
	id = json_object_get_string(idv);
	if ((rc = remember_live(r, digest, id)))
		return rc;
	d = (struct pacer_desired_app *)desired_find(r->desired, id);
	if (!d) {
		if (r->track &&
		    bsearch(&id, r->track, r->ntrack, sizeof(*r->track), cmp_str) &&
		    add_str(&r->out->tracked, &r->out->ntracked, &r->captracked, id))
			return oom(r->err);
		/* A colour of a desired blue/green app: the plan compares it. */
		if (is_owned(r, id) || bluegreen_desired_of(r->desired, id, NULL))
			goto keep;
		return 0;
	}
	if ((rc = plan_compare(d, app, r->opts, &same, r->err)))
		return rc;
	if (!same)
		goto keep;
	{
		char reason[200];
		struct converge_tasks tasks;
		enum converge_health h =
			converge_health(app, r->now, reason, sizeof(reason), &tasks);

		return record_equal(r, d, id, digest, h, reason, &tasks);
	}
keep:
	if (json_object_array_add(r->out->kept, json_object_get(app))) {
		json_object_put(app);
		return oom(r->err);
	}
	return 0;
}

static int on_raw(void *ctx, const char *json, size_t len)
{
	struct reader *r = ctx;
	struct json_object *app;
	char digest[33];
	int rc;

	r->out->nlive++;
	cache_digest(json, len, digest);
	if (r->cache && (rc = from_cache(r, digest, json, len)) != 0)
		return rc < 0 ? rc : 0;
	r->out->nparsed++;
	json_tokener_reset(r->tok);
	app = len <= 0x7fffffff ? json_tokener_parse_ex(r->tok, json, (int)len) : NULL;
	if (!app || json_tokener_get_error(r->tok) != json_tokener_success)
		return pacer_error_set(r->err, PACER_EHTTP,
				       "app %zu of Marathon's app list is not valid JSON (%s): is "
				       "the URL Marathon?",
				       r->out->nlive,
				       json_tokener_error_desc(json_tokener_get_error(r->tok)));
	rc = take(r, app, digest);
	json_object_put(app);
	return rc;
}

/*
 * A visited app (pf_app.equal): recorded as take() records an equal app,
 * from its bytes, as a cached verdict is (from_cache()). An app that is
 * not desired after all (cannot be: the run stops on any load error) is
 * read as usual.
 */
static int take_equal(struct reader *r, const struct pf_app *a, const char *json, size_t len)
{
	struct pacer_desired_app *d = (struct pacer_desired_app *)desired_find(r->desired, a->id);
	struct converge_tasks tasks;
	enum converge_health h;
	char digest[33], reason[200];
	const char *dg = NULL; /* the bytes' digest, made only for a cache */
	int rc;

	if (!d)
		return on_raw(r, json, len);
	r->out->nlive++;
	r->out->nparsed++;
	if (r->cache) {
		cache_digest(json, len, digest);
		dg = digest;
	}
	if ((rc = remember_live(r, dg, a->id)))
		return rc;
	h = converge_health_raw(json, len, r->now, reason, sizeof(reason), &tasks);
	return record_equal(r, d, a->id, dg, h, reason, &tasks);
}

/* Every app of a prefetched list, in its order. */
static int replay(struct reader *r, const struct live_prefetch *pf)
{
	int rc = 0;

	for (size_t i = 0; i < pf->n && !rc; i++) {
		const struct pf_app *a = &pf->apps[i];
		const char *json = pf->buf.ptr + a->off;

		rc = a->equal ? take_equal(r, a, json, a->len) : on_raw(r, json, a->len);
	}
	return rc;
}

static int cmp_pf_id(const void *a, const void *b)
{
	return strcmp((*(struct pf_app *const *)a)->id, (*(struct pf_app *const *)b)->id);
}

/*
 * The id of an app's bytes when written plainly (no escapes), else NULL.
 * Marathon writes "id" first, which spares a scan of the whole app; an id
 * written twice may then give the first one, whose app is found not equal
 * (the parsed app has the other id) and read again as usual.
 */
static char *raw_id(const char *json, size_t len)
{
	size_t p = json_pos_skip_ws(json, len, 0), v, end;

	if (p < len && json[p] == '{')
		p = json_pos_skip_ws(json, len, p + 1);
	if (p + 4 <= len && !memcmp(json + p, "\"id\"", 4) &&
	    (v = json_pos_skip_ws(json, len, p + 4)) < len && json[v] == ':')
		v = json_pos_skip_ws(json, len, v + 1);
	else if (json_pos_member(json, len, json_pos_skip_ws(json, len, 0), "id", &v))
		return NULL;
	if (v >= len || json[v] != '"')
		return NULL;
	end = json_pos_skip_value(json, len, v);
	if (end < v + 2 || end > len || memchr(json + v + 1, '\\', end - v - 2))
		return NULL;
	return strndup(json + v + 1, end - v - 2);
}

static int pf_add(void *ctx, const char *json, size_t len)
{
	struct live_prefetch *pf = ctx;
	struct pf_app *v = pacer_array_grow(pf->apps, &pf->cap, pf->n + 1, sizeof(*v), 1024);

	if (!v)
		return -1;
	pf->apps = v;
	memset(&v[pf->n], 0, sizeof(*v));
	v[pf->n].off = pf->buf.len;
	v[pf->n].len = len;
	if (pacer_buf_add(&pf->buf, json, len))
		return -1;
	v[pf->n].id = raw_id(json, len);
	pf->n++;
	return 0;
}

/* The index by id; an id the list holds twice is never visited. */
static int pf_index(struct live_prefetch *pf)
{
	if (pf->n && !(pf->byid = malloc(pf->n * sizeof(*pf->byid))))
		return -1;
	for (size_t i = 0; i < pf->n; i++)
		if (pf->apps[i].id)
			pf->byid[pf->nbyid++] = &pf->apps[i];
	if (pf->nbyid > 1)
		qsort(pf->byid, pf->nbyid, sizeof(*pf->byid), cmp_pf_id);
	for (size_t i = 1; i < pf->nbyid; i++)
		if (!strcmp(pf->byid[i - 1]->id, pf->byid[i]->id))
			pf->byid[i - 1]->dup = pf->byid[i]->dup = 1;
	return 0;
}

int live_prefetch_read(struct pacer_marathon *m, const struct plan_options *opts,
		       struct live_prefetch **out, struct pacer_error **err)
{
	struct live_prefetch *pf;
	int rc;

	*out = NULL;
	if (!m->list_apps_raw)
		return pacer_error_set(err, PACER_EINVALID,
				       "this Marathon client cannot hand out the app list app by app");
	if (!(pf = calloc(1, sizeof(*pf))) || !(pf->tok = json_tokener_new())) {
		free(pf);
		return oom(err);
	}
	pf->ignore_instances = opts && opts->ignore_instances;
	rc = m->list_apps_raw(m, pf_add, pf, err);
	if (!rc && pf_index(pf))
		rc = -1;
	if (rc) {
		if (err && !*err)
			oom(err);
		live_prefetch_free(pf);
		return rc;
	}
	*out = pf;
	return 0;
}

int live_prefetch_visit(void *ctx, struct pacer_desired_app *d)
{
	struct live_prefetch *pf = ctx;
	struct plan_options po = PLAN_OPTIONS_INIT;
	struct pacer_error *e = NULL;
	struct json_object *app;
	struct pf_app key = {.id = d->id}, *kp = &key, **hit;
	int same = 0;

	hit = pf->nbyid ? bsearch(&kp, pf->byid, pf->nbyid, sizeof(*pf->byid), cmp_pf_id) : NULL;
	if (!hit || (*hit)->dup || (*hit)->len > 0x7fffffff)
		return 0;
	json_tokener_reset(pf->tok);
	app = json_tokener_parse_ex(pf->tok, pf->buf.ptr + (*hit)->off, (int)(*hit)->len);
	if (!app || json_tokener_get_error(pf->tok) != json_tokener_success) {
		json_object_put(app);
		return 0; /* the list is read as usual, which reports it */
	}
	po.ignore_instances = pf->ignore_instances;
	/* An app that cannot be compared is compared again, and reported, later. */
	if (plan_compare_inplace(d, app, &po, &same, &e))
		same = 0;
	pacer_error_free(e);
	json_object_put(app);
	(*hit)->equal = same;
	return same;
}

void live_prefetch_free(struct live_prefetch *pf)
{
	if (!pf)
		return;
	for (size_t i = 0; i < pf->n; i++)
		free(pf->apps[i].id);
	free(pf->apps);
	free(pf->byid);
	pacer_buf_release(&pf->buf);
	if (pf->tok)
		json_tokener_free(pf->tok);
	free(pf);
}

int live_read(struct pacer_marathon *m, struct pacer_desired *desired,
	      const struct plan_options *opts, struct pacer_cache *cache, struct live_set *out,
	      struct pacer_error **err)
{
	return live_read_tracked(m, desired, opts, NULL, 0, (long long)time(NULL), cache, out, err);
}

static int read_live(struct pacer_marathon *m, struct live_prefetch *pf,
		     struct pacer_desired *desired, const struct plan_options *opts,
		     const char *const *track, size_t ntrack, long long now,
		     struct pacer_cache *cache, struct live_set *out, struct pacer_error **err);

static void sort_out(struct live_set *out)
{
	if (out->nunchanged > 1)
		qsort(out->unchanged, out->nunchanged, sizeof(*out->unchanged), cmp_str);
	if (out->ntracked > 1)
		qsort(out->tracked, out->ntracked, sizeof(*out->tracked), cmp_str);
	if (out->nhealth > 1)
		qsort(out->health, out->nhealth, sizeof(*out->health), cmp_health);
}

/* A client without list_apps_raw: the list as one tree (*list owned by the caller). */
static int read_whole(struct reader *r, struct pacer_marathon *m, struct json_object **list)
{
	int rc = m->list_apps(m, list, r->err);

	if (!rc && !json_object_is_type(*list, json_type_array))
		rc = pacer_error_set(r->err, PACER_EINVALID,
				     "Marathon's app list is not a JSON array: check that the "
				     "URL points at Marathon's /v2/apps");
	for (size_t i = 0; !rc && i < json_object_array_length(*list); i++) {
		r->out->nlive++;
		r->out->nparsed++;
		rc = take(r, json_object_array_get_idx(*list, i), NULL);
	}
	return rc;
}

int live_read_tracked(struct pacer_marathon *m, struct pacer_desired *desired,
		      const struct plan_options *opts, const char *const *track, size_t ntrack,
		      long long now, struct pacer_cache *cache, struct live_set *out,
		      struct pacer_error **err)
{
	return read_live(m, NULL, desired, opts, track, ntrack, now, cache, out, err);
}

int live_read_prefetched(struct live_prefetch *pf, struct pacer_desired *desired,
			 const struct plan_options *opts, const char *const *track,
			 size_t ntrack, long long now, struct pacer_cache *cache,
			 struct live_set *out, struct pacer_error **err)
{
	return read_live(NULL, pf, desired, opts, track, ntrack, now, cache, out, err);
}

static int read_live(struct pacer_marathon *m, struct live_prefetch *pf,
		     struct pacer_desired *desired, const struct plan_options *opts,
		     const char *const *track, size_t ntrack, long long now,
		     struct pacer_cache *cache, struct live_set *out, struct pacer_error **err)
{
	struct json_object *list = NULL;
	struct reader r;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	r.now = now;
	if (track && ntrack) {
		if (!(r.track = malloc(ntrack * sizeof(*r.track))))
			return oom(err);
		memcpy(r.track, track, ntrack * sizeof(*r.track));
		qsort(r.track, ntrack, sizeof(*r.track), cmp_str);
		r.ntrack = ntrack;
	}
	r.desired = desired;
	r.opts = opts;
	r.cache = cache;
	r.out = out;
	r.err = err;
	if (!(out->kept = json_object_new_array())) {
		rc = oom(err);
		goto done;
	}
	if (opts->owned && opts->nowned) {
		if (!(r.owned = malloc(opts->nowned * sizeof(*r.owned)))) {
			rc = oom(err);
			goto done;
		}
		memcpy(r.owned, opts->owned, opts->nowned * sizeof(*r.owned));
		qsort(r.owned, opts->nowned, sizeof(*r.owned), cmp_str);
	}
	if (!pf && !m->list_apps_raw)
		rc = read_whole(&r, m, &list);
	else if (!(r.tok = json_tokener_new()))
		rc = oom(err);
	else
		rc = pf ? replay(&r, pf) : m->list_apps_raw(m, on_raw, &r, err);
	if (!rc)
		sort_out(out);
done:
	if (rc)
		live_release(out);
	json_object_put(list);
	if (r.tok)
		json_tokener_free(r.tok);
	free(r.owned);
	free(r.track);
	return rc;
}

void live_release(struct live_set *s)
{
	for (size_t i = 0; i < s->nunchanged; i++)
		free(s->unchanged[i]);
	free(s->unchanged);
	for (size_t i = 0; i < s->nhealth; i++)
		free(s->health[i].id);
	free(s->health);
	for (size_t i = 0; i < s->ntracked; i++)
		free(s->tracked[i]);
	free(s->tracked);
	json_object_put(s->kept);
	memset(s, 0, sizeof(*s));
}
