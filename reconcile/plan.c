/*
 * plan.c: desired vs live, app by app (contract in plan.h).
 *
 * Cost: the live apps and the owned list are sorted once and looked up by
 * binary search, dependencies are resolved the same way and ordered with
 * Kahn's algorithm, so a plan of n apps costs O(n log n) plus the size of
 * the apps themselves; nothing scans all apps per app.
 *
 * Ordering decisions:
 *   - a dependency only orders the plan when its target is created or
 *     updated by this plan; a dependency on an unchanged live app, or on an
 *     app outside the desired state, is already satisfied;
 *   - prunes come last, in a wave of their own after every create/update:
 *     new definitions land before old ones go (a rename never leaves a gap).
 */
#include "reconcile/plan.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/buf.h"
#include "reconcile/base/jsonutil.h"
#include "reconcile/bluegreen.h"
#include "reconcile/diff.h"
#include "reconcile/normalize.h"

struct live_ent {
	const char *id;
	struct json_object *app;
	int matched;
};

struct des_ent {
	const char *id;
	struct pacer_desired_app *app;
	size_t item; /* index into the plan's items */
};

static int cmp_live(const void *a, const void *b)
{
	return strcmp(((const struct live_ent *)a)->id, ((const struct live_ent *)b)->id);
}

static int cmp_des(const void *a, const void *b)
{
	return strcmp(((const struct des_ent *)a)->id, ((const struct des_ent *)b)->id);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static struct live_ent *find_live(struct live_ent *v, size_t n, const char *id)
{
	struct live_ent key = {id, NULL, 0};

	return bsearch(&key, v, n, sizeof(*v), cmp_live);
}

static struct des_ent *find_des(struct des_ent *v, size_t n, const char *id)
{
	struct des_ent key = {id, NULL, 0};

	return bsearch(&key, v, n, sizeof(*v), cmp_des);
}

static const char *label(struct json_object *app, const char *key)
{
	struct json_object *v = jsonutil_get(jsonutil_get(app, "labels"), key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* "pacer.timeout", by the loader's parser (the loader already refused what it refuses). */
static int parse_timeout(const struct pacer_desired_app *d, int *out, struct pacer_error **err)
{
	int rc = desired_label_timeout(d->def, out, err);

	if (rc && err && *err) {
		pacer_error_set_file(*err, d->file, d->line, d->col);
		pacer_error_set_app(*err, d->id);
	}
	return rc;
}

/*
 * The body to PUT/POST: the app as written, id absolute, no version. When
 * adopt_from (a live app) is not NULL its instances replace the file's:
 * the file does not own the scale.
 */
static int make_body(const struct pacer_desired_app *d, struct json_object *adopt_from,
		     struct json_object **out)
{
	struct json_object *body = NULL, *inst;

	*out = NULL;
	if (json_object_deep_copy(d->def, &body, NULL))
		return -1;
	json_object_object_del(body, "version");
	json_object_object_del(body, "versionInfo");
	json_object_object_add(body, "id", json_object_new_string(d->id));
	if (adopt_from && (inst = jsonutil_get(adopt_from, "instances")))
		json_object_object_add(body, "instances", json_object_get(inst));
	*out = body;
	return 0;
}

static int oom(struct pacer_error **err, const char *what)
{
	return pacer_error_set(err, PACER_EGENERIC, "out of memory while %s", what);
}

/* A failure to normalise d (or its live app), with d's file and id. */
static int compare_failed(struct pacer_error **err, int rc, const struct pacer_desired_app *d)
{
	pacer_error_wrap(err, rc, "cannot compare app %s with Marathon", d->id);
	if (err && *err) {
		pacer_error_set_file(*err, d->file, d->line, d->col);
		pacer_error_set_app(*err, d->id);
	}
	return rc;
}

/* The item's dependencies (normalised: absolute ids) from dn, copied. */
static int item_deps(struct pacer_plan_item *it, struct json_object *dn, struct pacer_error **err)
{
	struct json_object *deps = jsonutil_get(dn, "dependencies");
	size_t n = json_object_is_type(deps, json_type_array) ? json_object_array_length(deps) : 0;

	if (!n)
		return 0;
	it->depends_on = calloc(n, sizeof(*it->depends_on));
	if (!it->depends_on)
		return oom(err, "building the plan");
	for (size_t i = 0; i < n; i++) {
		const char *dep = json_object_get_string(json_object_array_get_idx(deps, i));

		if (!dep)
			continue;
		if (!(it->depends_on[it->ndeps] = strdup(dep)))
			return oom(err, "building the plan");
		it->ndeps++;
	}
	return 0;
}

/*
 * The item of a desired app Marathon runs: both sides normalised (dn is the
 * desired one), live's defaults adopted where the file is silent, then
 * compared field by field.
 */
static int item_against_live(struct pacer_plan_item *it, struct pacer_desired_app *d,
			     struct json_object *live, struct json_object *dn, int adopt_instances,
			     int inplace, struct pacer_error **err)
{
	struct normalize_options no = NORMALIZE_OPTIONS_INIT;
	struct json_object *ln = NULL;
	int rc;

	it->live = json_object_get(live);
	rc = inplace ? normalize_app_inplace(live, &no, &ln, err) : normalize_app(live, &no, &ln, err);
	if (rc)
		return compare_failed(err, rc, d);
	if (normalize_adopt_live(d->def, dn, ln, adopt_instances ? NORMALIZE_ADOPT_INSTANCES : 0) ||
	    diff_apps(dn, ln, &it->changes, &it->nchanges)) {
		rc = oom(err, "comparing apps");
		goto done;
	}
	it->action = it->nchanges ? PACER_ACT_UPDATE : PACER_ACT_UNCHANGED;
	/* A live app normalised in place is no base for a body (nor asked one). */
	if (it->nchanges && !inplace && make_body(d, adopt_instances ? live : NULL, &it->body))
		rc = oom(err, "building the plan");
done:
	json_object_put(ln);
	return rc;
}

/* The item of one desired app: a create when live is NULL, else an update
 * or unchanged; with `inplace`, live may be changed (plan_compare_inplace()). */
static int item_desired(struct pacer_plan_item *it, struct pacer_desired_app *d,
			struct json_object *live, const struct plan_options *o, int inplace,
			struct pacer_error **err)
{
	struct normalize_options no = NORMALIZE_OPTIONS_INIT;
	struct json_object *dn = NULL;
	const char *inst;
	int adopt_instances, rc;

	if ((rc = desired_app_def(d, err)))
		return rc;
	inst = label(d->def, "pacer.instances");
	adopt_instances = o->ignore_instances || (inst && !strcmp(inst, "unmanaged"));
	it->app_id = strdup(d->id);
	it->file = d->file ? strdup(d->file) : NULL;
	if (!it->app_id || (d->file && !it->file)) {
		rc = oom(err, "building the plan");
		goto done;
	}
	if ((rc = parse_timeout(d, &it->timeout_s, err)))
		goto done;
	/* The load's validation may have run Marathon's pipeline already. */
	if (d->submitted)
		rc = normalize_app_submitted(d->def, d->submitted, &dn, err);
	else
		rc = normalize_app(d->def, &no, &dn, err);
	d->submitted = NULL;
	if (rc) {
		compare_failed(err, rc, d);
		goto done;
	}
	if ((rc = item_deps(it, dn, err)))
		goto done;
	if (!live) {
		it->action = PACER_ACT_CREATE;
		if (make_body(d, NULL, &it->body))
			rc = oom(err, "building the plan");
		goto done;
	}
	rc = item_against_live(it, d, live, dn, adopt_instances, inplace, err);
done:
	json_object_put(dn);
	return rc;
}

static int plan_item_desired(struct pacer_plan_item *it, struct pacer_desired_app *d,
			     struct json_object *live, const struct plan_options *o,
			     struct pacer_error **err)
{
	return item_desired(it, d, live, o, 0, err);
}

/*
 * Name one dependency cycle among the apps Kahn's algorithm could not
 * order. Every such app has an unordered dependency, so walking unordered
 * dependencies from any of them must come back to an app already seen.
 */
static int report_cycle(const struct pacer_plan *p, struct des_ent *des, size_t nd,
			const size_t *indeg, struct pacer_error **err)
{
	size_t *seen_at = NULL, *path = NULL, len = 0, start = 0, cur = SIZE_MAX, i;
	struct pacer_buf msg = PACER_BUF_INIT;
	int rc = PACER_EINVALID;

	seen_at = malloc(nd * sizeof(*seen_at));
	path = malloc((nd + 1) * sizeof(*path));
	if (!seen_at || !path) {
		rc = oom(err, "reporting a dependency cycle");
		goto done;
	}
	for (i = 0; i < nd; i++) {
		seen_at[i] = SIZE_MAX;
		if (indeg[i] && cur == SIZE_MAX)
			cur = i;
	}
	while (cur != SIZE_MAX && seen_at[cur] == SIZE_MAX) {
		const struct pacer_plan_item *it = &p->items[des[cur].item];
		size_t next = SIZE_MAX, k;

		seen_at[cur] = len;
		path[len++] = cur;
		for (k = 0; k < it->ndeps && next == SIZE_MAX; k++) {
			struct des_ent *t = find_des(des, nd, it->depends_on[k]);

			if (t && indeg[t - des])
				next = (size_t)(t - des);
		}
		cur = next;
	}
	if (cur == SIZE_MAX) {
		/* Cannot happen; still say something useful. */
		rc = pacer_error_set(err, PACER_EINVALID,
				     "the apps' dependencies form a cycle: remove one dependency");
		goto done;
	}
	start = seen_at[cur];
	for (i = start; i < len; i++) {
		if (pacer_buf_puts(&msg, des[path[i]].id) || pacer_buf_puts(&msg, " -> "))
			goto nomem;
	}
	if (pacer_buf_puts(&msg, des[cur].id))
		goto nomem;
	rc = pacer_error_set(err, PACER_EINVALID,
			     "dependency cycle: %s; Marathon cannot deploy apps that depend on each "
			     "other: remove one of these \"dependencies\" entries",
			     pacer_buf_cstr(&msg));
	if (err && *err) {
		const struct pacer_desired_app *d = des[cur].app;

		pacer_error_set_file(*err, d->file, d->line, d->col);
		pacer_error_set_app(*err, d->id);
	}
	goto done;
nomem:
	rc = oom(err, "reporting a dependency cycle");
done:
	pacer_buf_release(&msg);
	free(seen_at);
	free(path);
	return rc;
}

static int is_change(enum pacer_action a)
{
	return a == PACER_ACT_CREATE || a == PACER_ACT_UPDATE;
}

/*
 * The ordering edge of item it's k-th dependency: the desired entry of the
 * app it depends on, when this plan creates or updates that app; else NULL
 * (a dependency on an unchanged or unknown app is already satisfied).
 */
static struct des_ent *edge_target(const struct pacer_plan *p, struct des_ent *des, size_t nd,
				   const struct pacer_plan_item *it, size_t k)
{
	struct des_ent *t = find_des(des, nd, it->depends_on[k]);

	return t && is_change(p->items[t->item].action) ? t : NULL;
}

/*
 * The dependency graph in CSR layout: the dependents of desired entry v are
 * adj[start[v] .. start[v + 1]), and indeg[u] counts u's unordered
 * dependencies. Arrays of nd (+1, +2) entries; freed by graph_release().
 */
struct dep_graph {
	size_t *indeg, *start, *adj;
};

static void graph_release(struct dep_graph *g)
{
	free(g->indeg);
	free(g->start);
	free(g->adj);
}

/* Count the edges, then lay them out; only changed items have edges. */
static int graph_build(const struct pacer_plan *p, struct des_ent *des, size_t nd,
		       struct dep_graph *g)
{
	size_t nedges = 0, *fill = NULL;
	struct des_ent *t;

	g->indeg = calloc(nd + 1, sizeof(*g->indeg));
	g->start = calloc(nd + 2, sizeof(*g->start));
	if (!g->indeg || !g->start)
		return -1;
	for (size_t i = 0; i < nd; i++) {
		const struct pacer_plan_item *it = &p->items[des[i].item];

		for (size_t k = 0; is_change(it->action) && k < it->ndeps; k++) {
			if ((t = edge_target(p, des, nd, it, k))) {
				g->start[(size_t)(t - des) + 1]++;
				g->indeg[i]++;
				nedges++;
			}
		}
	}
	for (size_t i = 0; i < nd; i++)
		g->start[i + 1] += g->start[i];
	g->adj = calloc(nedges + 1, sizeof(*g->adj));
	fill = calloc(nd + 1, sizeof(*fill));
	if (!g->adj || !fill) {
		free(fill);
		return -1;
	}
	for (size_t i = 0; i < nd; i++) {
		const struct pacer_plan_item *it = &p->items[des[i].item];

		for (size_t k = 0; is_change(it->action) && k < it->ndeps; k++) {
			size_t tv;

			if (!(t = edge_target(p, des, nd, it, k)))
				continue;
			tv = (size_t)(t - des);
			g->adj[g->start[tv] + fill[tv]++] = i;
		}
	}
	free(fill);
	return 0;
}

/*
 * Kahn's algorithm: an app's wave is one more than the latest wave of what
 * it depends on. Consumes g->indeg. Returns how many entries were ordered
 * (fewer than nd: a cycle), or -1 when out of memory.
 */
static long graph_order(struct pacer_plan *p, struct des_ent *des, size_t nd, struct dep_graph *g)
{
	size_t *queue = calloc(nd + 1, sizeof(*queue)), head = 0, tail = 0;

	if (!queue)
		return -1;
	for (size_t i = 0; i < nd; i++)
		if (!g->indeg[i])
			queue[tail++] = i;
	while (head < tail) {
		size_t v = queue[head++];
		int w = p->items[des[v].item].wave;

		for (size_t k = g->start[v]; k < g->start[v + 1]; k++) {
			size_t u = g->adj[k];
			struct pacer_plan_item *iu = &p->items[des[u].item];

			if (iu->wave < w + 1)
				iu->wave = w + 1;
			if (--g->indeg[u] == 0)
				queue[tail++] = u;
		}
	}
	free(queue);
	return (long)tail;
}

/* Waves by Kahn's algorithm over the desired apps; edges only towards
 * apps this plan creates or updates. */
static int compute_waves(struct pacer_plan *p, struct des_ent *des, size_t nd,
			 struct pacer_error **err)
{
	struct dep_graph g = {NULL, NULL, NULL};
	long ordered = 0;
	int rc = 0;

	if (graph_build(p, des, nd, &g) || (ordered = graph_order(p, des, nd, &g)) < 0)
		rc = oom(err, "ordering the plan");
	else if ((size_t)ordered < nd)
		rc = report_cycle(p, des, nd, g.indeg, err);
	graph_release(&g);
	return rc;
}

static int cmp_item(const void *a, const void *b)
{
	const struct pacer_plan_item *x = a, *y = b;

	if (x->wave != y->wave)
		return x->wave < y->wave ? -1 : 1;
	return strcmp(x->app_id, y->app_id);
}

/* The live apps with a string id, sorted by id, into live (room for all). */
static size_t index_live(struct json_object *live_apps, struct live_ent *live)
{
	size_t n = live_apps ? json_object_array_length(live_apps) : 0, nl = 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *a = json_object_array_get_idx(live_apps, i);
		struct json_object *id = jsonutil_get(a, "id");

		if (!json_object_is_type(id, json_type_string))
			continue;
		live[nl].id = json_object_get_string(id);
		live[nl].app = a;
		nl++;
	}
	qsort(live, nl, sizeof(*live), cmp_live);
	return nl;
}

/* An app the caller knows equals its live app: no need for its definition. */
static int item_known_unchanged(struct pacer_plan_item *it, const struct pacer_desired_app *d,
				struct pacer_error **err)
{
	it->action = PACER_ACT_UNCHANGED;
	it->app_id = strdup(d->id);
	it->file = d->file ? strdup(d->file) : NULL;
	if (!it->app_id || (d->file && !it->file))
		return oom(err, "building the plan");
	return 0;
}

/*
 * A blue/green app (reconcile/bluegreen.h) runs as /id-blue or /id-green:
 * the desired app is rendered as the colour that runs (its start time
 * included) and compared with it, so an unchanged definition is unchanged
 * whichever colour runs. Both colours live is a release left half-way:
 * always an update (the release finishes or reverts it). The item keeps
 * the desired app's id and, as body, its definition as written.
 */
static int plan_item_bluegreen(struct pacer_plan_item *it, struct pacer_desired_app *d,
			       struct live_ent *live, size_t nl, const struct plan_options *o,
			       struct pacer_error **err)
{
	struct live_ent *cur = NULL, *le;
	struct pacer_desired_app tmp = *d;
	struct json_object *rendered;
	const char *colours[] = {"blue", "green"}, *at, *cur_at = NULL;
	char id[600];
	int rc, both = 0;

	for (size_t i = 0; i < 2; i++) {
		snprintf(id, sizeof(id), "%s-%s", d->id, colours[i]);
		if (!(le = find_live(live, nl, id)))
			continue;
		le->matched = 1;
		at = label(le->app, "HAPROXY_DEPLOYMENT_STARTED_AT");
		both = cur != NULL;
		if (!cur || (at && (!cur_at || strcmp(at, cur_at) > 0))) {
			cur = le;
			cur_at = at;
		}
	}
	if (!cur)
		return plan_item_desired(it, d, NULL, o, err);
	rendered = bluegreen_render_like(d->def, d->id, cur->app);
	if (!rendered)
		return oom(err, "building the plan");
	tmp.def = rendered;
	tmp.id = (char *)cur->id;
	tmp.blob = NULL;
	rc = plan_item_desired(it, &tmp, cur->app, o, err);
	json_object_put(rendered);
	if (rc)
		return rc;
	free(it->app_id);
	json_object_put(it->body);
	it->body = NULL;
	if (both)
		it->action = PACER_ACT_UPDATE;
	if (!(it->app_id = strdup(d->id)) ||
	    (it->action == PACER_ACT_UPDATE && make_body(d, NULL, &it->body)))
		return oom(err, "building the plan");
	return 0;
}

/* One item per desired app (des sorted by id), marking the live apps matched. */
static int plan_desired_items(struct pacer_plan *p, struct des_ent *des, size_t nd,
			      struct live_ent *live, size_t nl, const struct plan_options *o,
			      struct pacer_error **err)
{
	int rc;

	for (size_t i = 0; i < nd; i++) {
		struct live_ent *le = find_live(live, nl, des[i].id);
		struct pacer_plan_item *it = &p->items[p->n++];

		des[i].item = p->n - 1;
		if (le)
			le->matched = 1;
		rc = 0;
		if (o->nunchanged && bsearch(&des[i].id, o->unchanged, o->nunchanged,
					     sizeof(*o->unchanged), cmp_str))
			rc = item_known_unchanged(it, des[i].app, err);
		else if (!le && (rc = desired_app_def(des[i].app, err)) == 0 &&
			 bluegreen_enabled(des[i].app->def))
			rc = plan_item_bluegreen(it, des[i].app, live, nl, o, err);
		else if (!rc)
			rc = plan_item_desired(it, des[i].app, le ? le->app : NULL, o, err);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * A prune item for every live app that no desired app matched and that
 * pacer owns, in `wave` (after every create and update).
 */
static int plan_prunes(struct pacer_plan *p, const struct live_ent *live, size_t nl,
		       const struct plan_options *o, int wave, struct pacer_error **err)
{
	const char **owned = NULL;
	int rc = 0;

	if (!o->owned || !o->nowned)
		return 0;
	owned = malloc(o->nowned * sizeof(*owned));
	if (!owned)
		return oom(err, "building the plan");
	memcpy(owned, o->owned, o->nowned * sizeof(*owned));
	qsort(owned, o->nowned, sizeof(*owned), cmp_str);
	for (size_t i = 0; i < nl; i++) {
		struct pacer_plan_item *it;

		if (live[i].matched ||
		    !bsearch(&live[i].id, owned, o->nowned, sizeof(*owned), cmp_str))
			continue;
		if (i > 0 && !strcmp(live[i].id, live[i - 1].id))
			continue; /* a duplicate id in the list: prune once */
		it = &p->items[p->n++];
		it->action = PACER_ACT_PRUNE;
		it->wave = wave;
		it->live = json_object_get(live[i].app);
		if (!(it->app_id = strdup(live[i].id))) {
			rc = oom(err, "building the plan");
			break;
		}
	}
	free(owned);
	return rc;
}

/* Sort the items by wave then id, and count them by action. */
static void plan_finish(struct pacer_plan *p)
{
	size_t *count[] = {
		[PACER_ACT_UNCHANGED] = &p->nunchanged,
		[PACER_ACT_CREATE] = &p->ncreate,
		[PACER_ACT_UPDATE] = &p->nupdate,
		[PACER_ACT_PRUNE] = &p->nprune,
	};

	qsort(p->items, p->n, sizeof(*p->items), cmp_item);
	for (size_t i = 0; i < p->n; i++)
		(*count[p->items[i].action])++;
}

int plan_build(struct pacer_desired *desired, struct json_object *live_apps,
	       const struct plan_options *opts, struct pacer_plan **out,
	       struct pacer_error **err)
{
	static const struct plan_options defaults = PLAN_OPTIONS_INIT;
	const struct plan_options *o = opts ? opts : &defaults;
	size_t nd = desired ? desired->napps : 0, nl, nlive_total, i;
	struct live_ent *live = NULL;
	struct des_ent *des = NULL;
	struct pacer_plan *p = NULL;
	int rc = -1, max_wave = 0;

	*out = NULL;
	if (live_apps && !json_object_is_type(live_apps, json_type_array))
		return pacer_error_set(err, PACER_EINVALID,
				       "Marathon's app list is not a JSON array: check that the URL "
				       "points at Marathon's /v2/apps");
	nlive_total = live_apps ? json_object_array_length(live_apps) : 0;
	p = calloc(1, sizeof(*p));
	live = calloc(nlive_total + 1, sizeof(*live));
	des = calloc(nd + 1, sizeof(*des));
	/* Room for every desired app and every live one (prunes). */
	if (!p || !live || !des || !(p->items = calloc(nd + nlive_total + 1, sizeof(*p->items))) ||
	    (desired && desired->revision && !(p->revision = strdup(desired->revision)))) {
		rc = oom(err, "building the plan");
		goto done;
	}
	nl = index_live(live_apps, live);
	for (i = 0; i < nd; i++) {
		des[i].id = desired->apps[i].id;
		des[i].app = &desired->apps[i];
	}
	qsort(des, nd, sizeof(*des), cmp_des);
	if ((rc = plan_desired_items(p, des, nd, live, nl, o, err)) ||
	    (rc = compute_waves(p, des, nd, err)))
		goto done;
	for (i = 0; i < p->n; i++)
		if (p->items[i].wave > max_wave)
			max_wave = p->items[i].wave;
	if ((rc = plan_prunes(p, live, nl, o, nd ? max_wave + 1 : 0, err)))
		goto done;
	plan_finish(p);
	*out = p;
	p = NULL;
done:
	plan_free(p);
	free(live);
	free(des);
	return rc;
}

static void item_release(struct pacer_plan_item *it)
{
	free(it->app_id);
	json_object_put(it->body);
	json_object_put(it->live);
	diff_changes_free(it->changes, it->nchanges);
	free(it->file);
	for (size_t k = 0; k < it->ndeps; k++)
		free(it->depends_on[k]);
	free(it->depends_on);
}

static int compare(struct pacer_desired_app *d, struct json_object *live,
		   const struct plan_options *opts, int inplace, int *unchanged,
		   struct pacer_error **err)
{
	static const struct plan_options defaults = PLAN_OPTIONS_INIT;
	struct pacer_plan_item it;
	int rc;

	memset(&it, 0, sizeof(it));
	*unchanged = 0;
	rc = item_desired(&it, d, live, opts ? opts : &defaults, inplace, err);
	if (!rc)
		*unchanged = it.action == PACER_ACT_UNCHANGED;
	item_release(&it);
	return rc;
}

int plan_compare(struct pacer_desired_app *d, struct json_object *live,
		 const struct plan_options *opts, int *unchanged, struct pacer_error **err)
{
	return compare(d, live, opts, 0, unchanged, err);
}

int plan_compare_inplace(struct pacer_desired_app *d, struct json_object *live,
			 const struct plan_options *opts, int *unchanged,
			 struct pacer_error **err)
{
	return compare(d, live, opts, 1, unchanged, err);
}

void plan_retain(struct pacer_plan *p, int (*keep)(void *ctx, const struct pacer_plan_item *it),
		 void *ctx)
{
	size_t w = 0;

	p->ncreate = p->nupdate = p->nunchanged = p->nprune = 0;
	for (size_t r = 0; r < p->n; r++) {
		struct pacer_plan_item *it = &p->items[r];

		if (!keep(ctx, it)) {
			item_release(it);
			continue;
		}
		p->ncreate += it->action == PACER_ACT_CREATE;
		p->nupdate += it->action == PACER_ACT_UPDATE;
		p->nunchanged += it->action == PACER_ACT_UNCHANGED;
		p->nprune += it->action == PACER_ACT_PRUNE;
		if (w != r)
			p->items[w] = *it;
		w++;
	}
	p->n = w;
}

void plan_free(struct pacer_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		item_release(&p->items[i]);
	free(p->items);
	free(p->revision);
	free(p);
}
