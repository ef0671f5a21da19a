/*
 * desired_deps.c: dependency cycles among the desired apps (desired.h,
 * desired_finish()).
 *
 * Marathon refuses a change that leaves a cycle in its dependency graph,
 * and no order can deploy an app after itself. plan.c orders only the apps
 * a run creates or updates, so it sees a cycle only among changed apps, and
 * only once Marathon was read; a cycle among apps unchanged today would be
 * refused the day one of them changes. So the loader checks the whole
 * desired state, with no Marathon, for validate and sync alike.
 *
 * The graph: one node per desired app, plus one per group that some
 * dependency names (as Marathon reads it, an app that depends on a group
 * depends on every app below it). The group node keeps the graph linear: n
 * apps depending on one group of m apps cost n + m edges, not n * m. A
 * dependency that names nothing desired (an app that only runs live, or
 * nothing at all) orders nothing here, as in plan.c.
 *
 * Tarjan's algorithm, iterative (a chain of 10,000 apps must not exhaust
 * the stack), finds the strongly connected components in O(nodes + edges).
 * Each component of more than one node, or an app depending on itself,
 * holds a cycle: the shortest one through its first app by id is found by
 * a breadth-first search inside the component, so the message is short and
 * the same from run to run.
 */
#include "reconcile/desired_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/buf.h"

#define NONE SIZE_MAX

struct graph {
	struct pacer_desired *d;
	size_t napps, n;     /* nodes: the apps 0..napps-1, then the named groups */
	const char **groups; /* id of node napps + k, borrowed from an app's deps */
	size_t ngroups;
	size_t *start; /* node v's edges: adj[start[v]] .. adj[start[v + 1] - 1] */
	size_t *adj;
};

/* Tarjan's state, one slot per node; queue also serves the search for a cycle. */
struct tarjan {
	size_t *index, *low, *iter, *stack, *calls, *comp, *queue;
	unsigned char *on;
	size_t next, nstack, ncalls, ncomp;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static size_t app_index(const struct pacer_desired *d, const char *id)
{
	const struct pacer_desired_app *a = desired_find(d, id);

	return a ? (size_t)(a - d->apps) : NONE;
}

/* Where bound() stops: before g's subtree, or at its first member. */
enum bound_edge {
	BOUND_BEFORE,
	BOUND_AT,
};

/* First app whose id is not below `g` + "/" and sorts before it (BOUND_AT: or at it). */
static size_t bound(const struct pacer_desired *d, const char *g, size_t n, size_t a,
		    enum bound_edge edge)
{
	size_t b = d->napps;

	while (a < b) {
		size_t mid = a + (b - a) / 2;
		const char *id = d->apps[mid].id;
		int r = strncmp(id, g, n);
		unsigned char next = r == 0 ? (unsigned char)id[n] : 0; /* id may be shorter */

		if (r < 0 || (r == 0 && (next < '/' || (edge == BOUND_AT && next == '/'))))
			a = mid + 1;
		else
			b = mid;
	}
	return a;
}

/* The apps below group g ("/" holds them all): indexes lo .. hi - 1. Sorted, they are together. */
static void group_range(const struct pacer_desired *d, const char *g, size_t *lo, size_t *hi)
{
	size_t n = strcmp(g, "/") ? strlen(g) : 0;

	*lo = bound(d, g, n, 0, BOUND_BEFORE);
	*hi = bound(d, g, n, *lo, BOUND_AT);
}

/* The node dependency `dep` points to, or NONE when it names nothing desired. */
static size_t dep_node(const struct graph *g, const char *dep)
{
	size_t i = app_index(g->d, dep);
	const char **hit;

	if (i != NONE || !g->ngroups)
		return i;
	hit = bsearch(&dep, g->groups, g->ngroups, sizeof(*g->groups), cmp_str);
	return hit ? g->napps + (size_t)(hit - g->groups) : NONE;
}

/* Node v's edges, written to out when not NULL; returns how many. */
static size_t node_edges(const struct graph *g, size_t v, size_t *out)
{
	size_t n = 0, lo, hi;

	if (v >= g->napps) {
		group_range(g->d, g->groups[v - g->napps], &lo, &hi);
		for (size_t k = lo; out && k < hi; k++)
			out[n++] = k;
		return hi - lo;
	}
	for (size_t k = 0, nk = desired__ndeps(&g->d->apps[v]); k < nk; k++) {
		const char *dep = desired__dep(&g->d->apps[v], k);
		size_t w = dep ? dep_node(g, dep) : NONE;

		if (w != NONE && out)
			out[n] = w;
		n += w != NONE;
	}
	return n;
}

/* The groups dependencies name (not an app, but with apps below), sorted, each once. */
static int collect_groups(struct graph *g)
{
	const struct pacer_desired *d = g->d;
	const char **v;
	size_t n = 0, cap = 0, lo, hi;

	for (size_t i = 0; i < d->napps; i++) {
		for (size_t k = 0, nk = desired__ndeps(&d->apps[i]); k < nk; k++) {
			const char *dep = desired__dep(&d->apps[i], k);

			if (!dep || app_index(d, dep) != NONE)
				continue;
			group_range(d, dep, &lo, &hi);
			if (lo == hi)
				continue;
			if (!(v = pacer_array_grow(g->groups, &cap, n + 1, sizeof(*v), 8)))
				return -1;
			g->groups = v;
			g->groups[n++] = dep;
		}
	}
	if (n > 1)
		qsort(g->groups, n, sizeof(*g->groups), cmp_str);
	for (size_t r = 0; r < n; r++)
		if (!g->ngroups || strcmp(g->groups[g->ngroups - 1], g->groups[r]))
			g->groups[g->ngroups++] = g->groups[r];
	return 0;
}

/* Edges in CSR form: count each node's, then write them. */
static int graph_build(struct graph *g)
{
	if (collect_groups(g) < 0)
		return -1;
	g->n = g->napps + g->ngroups;
	if (!(g->start = calloc(g->n + 1, sizeof(*g->start))))
		return -1;
	for (size_t v = 0; v < g->n; v++)
		g->start[v + 1] = g->start[v] + node_edges(g, v, NULL);
	if (!(g->adj = malloc((g->start[g->n] + 1) * sizeof(*g->adj))))
		return -1;
	for (size_t v = 0; v < g->n; v++)
		node_edges(g, v, g->adj + g->start[v]);
	return 0;
}

static const char *node_name(const struct graph *g, size_t v)
{
	return v < g->napps ? g->d->apps[v].id : g->groups[v - g->napps];
}

/* One error for the cycle path[0] -> ... -> path[len - 1] -> path[0], at path[0]'s app. */
static int report(const struct graph *g, const size_t *path, size_t len)
{
	struct pacer_buf cyc = PACER_BUF_INIT, where = PACER_BUF_INIT;
	const struct pacer_desired_app *a = &g->d->apps[path[0]];
	size_t shown = 0, via_group = 0;
	int rc = 0;

	/* A long cycle shows its two ends: enough to find it, short enough to read. */
	for (size_t i = 0; i < len; i++)
		via_group |= path[i] >= g->napps;
	for (size_t i = 0; i <= len && !rc; i++) {
		size_t v = path[i % len];

		if (len > 20 && i == 10) {
			rc = pacer_buf_printf(&cyc, " -> ... (%zu more)", len - 19);
			i = len - 10;
			continue;
		}
		rc = pacer_buf_printf(&cyc, "%s%s%s", i ? " -> " : "",
		                      v >= g->napps ? "group " : "", node_name(g, v));
	}
	/* Where the other apps are: the cycle may span files. */
	for (size_t i = 1; i < len && !rc; i++) {
		const struct pacer_desired_app *o = &g->d->apps[path[i]];

		if (path[i] >= g->napps || shown++ >= 5)
			continue;
		rc = pacer_buf_printf(&where, "%s%s is at %s:%d:%d", shown > 1 ? ", " : " (", o->id,
		                      o->file, o->line, o->col);
	}
	if (!rc && where.len)
		rc = pacer_buf_puts(&where, shown > 5 ? ", ...)" : ")");
	if (!rc && len == 1)
		rc = desired__diag_at(
		    g->d, a,
		    "depends on itself (dependency cycle %s): remove \"%s\" from its "
		    "\"dependencies\"",
		    pacer_buf_cstr(&cyc), a->id);
	else if (!rc)
		rc = desired__diag_at(
		    g->d, a,
		    "dependency cycle: %s%s; Marathon cannot deploy apps that depend "
		    "on each other%s: remove one of these \"dependencies\" entries",
		    pacer_buf_cstr(&cyc), pacer_buf_cstr(&where),
		    via_group ? " (a dependency on a group means every app in it)" : "");
	pacer_buf_release(&cyc);
	pacer_buf_release(&where);
	return rc;
}

/*
 * Component c (members: the stack from position p up) holds a cycle: the
 * shortest one through its first node, an app (group nodes only lead to
 * apps, so every cycle holds one, and apps come first). iter[] is free
 * again once a node is finished: it keeps each node's parent in the search.
 */
static int report_component(const struct graph *g, struct tarjan *t, size_t p, size_t c)
{
	size_t s = NONE, head = 0, tail = 0, end = NONE, len = 0;

	for (size_t i = p; i < t->nstack; i++)
		if (t->stack[i] < s)
			s = t->stack[i];
	t->queue[tail++] = s;
	t->on[s] = 1; /* on[] marks what the search has seen; members are all off the stack */
	while (head < tail && end == NONE) {
		size_t u = t->queue[head++];

		for (size_t k = g->start[u]; k < g->start[u + 1]; k++) {
			size_t w = g->adj[k];

			if (t->comp[w] != c)
				continue;
			if (w == s) {
				end = u;
				break;
			}
			if (!t->on[w]) {
				t->on[w] = 1;
				t->iter[w] = u;
				t->queue[tail++] = w;
			}
		}
	}
	for (size_t i = 0; i < tail; i++)
		t->on[t->queue[i]] = 0;
	/* Strongly connected: the search always comes back to s. Walk back from there. */
	for (size_t v = end; v != s && v != NONE; v = t->iter[v])
		t->queue[len++] = v;
	t->queue[len++] = s;
	for (size_t i = 0; i < len / 2; i++) {
		size_t tmp = t->queue[i];

		t->queue[i] = t->queue[len - 1 - i];
		t->queue[len - 1 - i] = tmp;
	}
	return report(g, t->queue, len);
}

static int self_edge(const struct graph *g, size_t v)
{
	for (size_t k = g->start[v]; k < g->start[v + 1]; k++)
		if (g->adj[k] == v)
			return 1;
	return 0;
}

/* v is the root of a component: pop it and report it when it holds a cycle. */
static int close_component(const struct graph *g, struct tarjan *t, size_t v)
{
	size_t p = t->nstack, c = t->ncomp++;
	int rc = 0;

	do
		p--;
	while (t->stack[p] != v);
	for (size_t i = p; i < t->nstack; i++) {
		t->on[t->stack[i]] = 0;
		t->comp[t->stack[i]] = c;
	}
	if (t->nstack - p > 1 || self_edge(g, v))
		rc = report_component(g, t, p, c);
	t->nstack = p;
	return rc;
}

static void visit(const struct graph *g, struct tarjan *t, size_t v)
{
	t->index[v] = t->low[v] = t->next++;
	t->iter[v] = g->start[v];
	t->stack[t->nstack++] = v;
	t->on[v] = 1;
	t->calls[t->ncalls++] = v;
}

/* Tarjan's recursion, with calls[] as the call stack. */
static int strongconnect(const struct graph *g, struct tarjan *t, size_t root)
{
	visit(g, t, root);
	while (t->ncalls) {
		size_t v = t->calls[t->ncalls - 1];

		if (t->iter[v] < g->start[v + 1]) {
			size_t w = g->adj[t->iter[v]++];

			if (t->index[w] == NONE)
				visit(g, t, w);
			else if (t->on[w] && t->index[w] < t->low[v])
				t->low[v] = t->index[w];
			continue;
		}
		if (--t->ncalls) {
			size_t u = t->calls[t->ncalls - 1];

			if (t->low[v] < t->low[u])
				t->low[u] = t->low[v];
		}
		if (t->low[v] == t->index[v] && close_component(g, t, v) < 0)
			return -1;
	}
	return 0;
}

static int tarjan_run(const struct graph *g)
{
	struct tarjan t = {0};
	size_t n = g->n;
	int rc = -1;

	t.index = malloc(n * sizeof(size_t));
	t.low = malloc(n * sizeof(size_t));
	t.iter = malloc(n * sizeof(size_t));
	t.stack = malloc(n * sizeof(size_t));
	t.calls = malloc(n * sizeof(size_t));
	t.comp = malloc(n * sizeof(size_t));
	t.queue = malloc(n * sizeof(size_t));
	t.on = calloc(n, 1);
	if (!t.index || !t.low || !t.iter || !t.stack || !t.calls || !t.comp || !t.queue || !t.on)
		goto done;
	for (size_t v = 0; v < n; v++)
		t.index[v] = t.comp[v] = NONE;
	rc = 0;
	for (size_t v = 0; v < n && !rc; v++)
		if (t.index[v] == NONE)
			rc = strongconnect(g, &t, v);
done:
	free(t.index);
	free(t.low);
	free(t.iter);
	free(t.stack);
	free(t.calls);
	free(t.comp);
	free(t.queue);
	free(t.on);
	return rc;
}

int desired__check_cycles(struct pacer_desired *d)
{
	struct graph g = {d, d->napps, 0, NULL, 0, NULL, NULL};
	size_t ndeps = 0;
	int rc = -1;

	for (size_t i = 0; i < d->napps; i++)
		ndeps += desired__ndeps(&d->apps[i]);
	if (!ndeps)
		return 0; /* most desired states: nothing to build */
	if (graph_build(&g) == 0)
		rc = tarjan_run(&g);
	free(g.groups);
	free(g.start);
	free(g.adj);
	return rc;
}
