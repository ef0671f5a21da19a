/*
 * plan_render.c: the plan for humans (git-diff-like text) and for CI (one
 * JSON document). Contract in plan.h.
 *
 * The text is for review, so nothing is cut and nothing is summarised:
 *   - a change is shown leaf by leaf, each with its full path and its whole
 *     value, in the normalised JSON form on one line (a 10 kB cmd is shown
 *     whole: the reviewer decides what matters, not a width limit);
 *   - objects are descended into ("/upgradeStrategy/minimumHealthCapacity");
 *   - an ordered array (args, portDefinitions, networks, fetch, ...) is
 *     compared element by element ("/portDefinitions/0/port");
 *   - an element of a set-like collection (constraints, healthChecks,
 *     dependencies, ...; the ones normalize.h sorts) has no stable index, so
 *     a changed element is one removed and one added element, each whole;
 *   - a create or a prune shows the whole normalised definition, leaf by
 *     leaf, so a new app is reviewed like a changed one.
 * diff.c reports arrays whole (its contract); the walk into them happens
 * here, only when a plan is rendered.
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/buf.h"
#include "reconcile/base/jsonutil.h"
#include "reconcile/bluegreen.h"
#include "reconcile/normalize.h"
#include "reconcile/plan.h"

#define C_GREEN "\033[32m"
#define C_RED "\033[31m"
#define C_YELLOW "\033[33m"
#define C_RESET "\033[0m"

/* Collections Marathon keeps as sets (normalize.h sorts and de-duplicates them). */
static const char *const set_like[] = {
	"constraints",	   "healthChecks",    "dependencies",
	"acceptedResourceRoles", "readinessChecks", "httpStatusCodesForReady",
};

/* One line being rendered: where it goes and how it looks. */
struct out {
	struct pacer_buf *b;
	int color;
};

/*
 * A whole value on one line, with object keys sorted at every depth: the
 * removed and the added element of a set then line up key by key, however
 * Marathon or the file ordered them.
 */
static int put_value(struct pacer_buf *b, struct json_object *v)
{
	const char **keys = NULL;
	size_t n = 0;
	char *s;
	int rc = 0;

	if (json_object_is_type(v, json_type_array)) {
		n = json_object_array_length(v);
		rc = pacer_buf_putc(b, '[');
		for (size_t i = 0; i < n && !rc; i++)
			rc = (i && pacer_buf_putc(b, ',')) ||
			     put_value(b, json_object_array_get_idx(v, i));
		return rc || pacer_buf_putc(b, ']') ? -1 : 0;
	}
	if (json_object_is_type(v, json_type_object)) {
		if (jsonutil_sorted_keys(v, &keys, &n))
			return -1;
		rc = pacer_buf_putc(b, '{');
		for (size_t i = 0; i < n && !rc; i++) {
			struct json_object *k = json_object_new_string(keys[i]);

			rc = !k || (i && pacer_buf_putc(b, ',')) || put_value(b, k) ||
			     pacer_buf_putc(b, ':') || put_value(b, jsonutil_get(v, keys[i]));
			json_object_put(k);
		}
		free(keys);
		return rc || pacer_buf_putc(b, '}') ? -1 : 0;
	}
	if (!(s = jsonutil_to_string(v)))
		return -1;
	rc = pacer_buf_puts(b, s);
	free(s);
	return rc ? -1 : 0;
}

/* Paths come from object keys (env names, labels): a control character
 * there must not break the one-line-per-field layout or drive the
 * terminal. */
static int put_path(struct pacer_buf *b, const char *path)
{
	for (; *path; path++) {
		unsigned char c = (unsigned char)*path;

		if (pacer_buf_putc(b, c < 0x20 || c == 0x7f ? '?' : (char)c))
			return -1;
	}
	return 0;
}

static int put_line_start(struct pacer_buf *b, int color, const char *col)
{
	return color ? pacer_buf_puts(b, col) : 0;
}

static int put_line_end(struct pacer_buf *b, int color)
{
	if (color && pacer_buf_puts(b, C_RESET))
		return -1;
	return pacer_buf_putc(b, '\n');
}

/* "    + /path: value", "    - /path: value" or "    ~ /path: old -> new". */
static int leaf(const struct out *o, char sym, const char *path, struct json_object *old_v,
		struct json_object *new_v)
{
	const char *col = sym == '+' ? C_GREEN : sym == '-' ? C_RED : C_YELLOW;
	struct pacer_buf *b = o->b;

	if (put_line_start(b, o->color, col) || pacer_buf_printf(b, "    %c ", sym) ||
	    put_path(b, path) || pacer_buf_puts(b, ": "))
		return -1;
	if (sym == '~') {
		if (put_value(b, old_v) || pacer_buf_puts(b, " -> ") || put_value(b, new_v))
			return -1;
	} else if (put_value(b, sym == '+' ? new_v : old_v)) {
		return -1;
	}
	return put_line_end(b, o->color);
}

/* path + "/" + key, escaped as a JSON pointer ("~" -> "~0", "/" -> "~1"). Caller frees. */
static char *child_path(const char *path, const char *key)
{
	struct pacer_buf b = PACER_BUF_INIT;

	pacer_buf_puts(&b, path);
	pacer_buf_putc(&b, '/');
	for (; *key; key++)
		pacer_buf_puts(&b, *key == '~' ? "~0" : *key == '/' ? "~1" : (char[]){*key, 0});
	return pacer_buf_detach(&b);
}

static char *index_path(const char *path, size_t i)
{
	struct pacer_buf b = PACER_BUF_INIT;

	pacer_buf_printf(&b, "%s/%zu", path, i);
	return pacer_buf_detach(&b);
}

/* Whether path (a JSON pointer) ends in the name of a set-like collection. */
static int is_set_like(const char *path)
{
	const char *last = strrchr(path, '/');

	last = last ? last + 1 : path;
	for (size_t i = 0; i < sizeof(set_like) / sizeof(set_like[0]); i++)
		if (!strcmp(last, set_like[i]))
			return 1;
	return 0;
}

static int is_container(struct json_object *v, enum json_type t)
{
	if (!json_object_is_type(v, t))
		return 0;
	return t == json_type_object ? json_object_object_length(v) > 0
				     : json_object_array_length(v) > 0;
}

/* A whole value added ('+') or removed ('-'), one line per leaf. */
static int walk_value(const struct out *o, char sym, const char *path, struct json_object *v)
{
	const char **keys = NULL;
	size_t n = 0;
	int rc = 0;

	if (is_container(v, json_type_object)) {
		if (jsonutil_sorted_keys(v, &keys, &n))
			return -1;
		for (size_t i = 0; i < n && !rc; i++) {
			char *p = child_path(path, keys[i]);

			rc = p ? walk_value(o, sym, p, jsonutil_get(v, keys[i])) : -1;
			free(p);
		}
		free(keys);
		return rc;
	}
	if (is_container(v, json_type_array)) {
		n = json_object_array_length(v);
		for (size_t i = 0; i < n && !rc; i++) {
			struct json_object *e = json_object_array_get_idx(v, i);
			char *p;

			/* An element of a set has no address: it is shown whole. */
			if (is_set_like(path)) {
				rc = leaf(o, sym, path, e, e);
				continue;
			}
			p = index_path(path, i);
			rc = p ? walk_value(o, sym, p, e) : -1;
			free(p);
		}
		return rc;
	}
	return leaf(o, sym, path, v, v);
}

static int walk_change(const struct out *o, const char *path, struct json_object *old_v,
		       struct json_object *new_v);

/* Both objects: every key of either, in order. */
static int walk_objects(const struct out *o, const char *path, struct json_object *old_v,
			struct json_object *new_v)
{
	struct json_object *u = json_object_new_object();
	const char **keys = NULL;
	size_t n = 0;
	int rc = -1;

	/* The union of the keys, sorted once. */
	if (!u)
		return -1;
	json_object_object_foreach(old_v, ko, vo) {
		(void)vo;
		json_object_object_add(u, ko, NULL);
	}
	json_object_object_foreach(new_v, kn, vn) {
		(void)vn;
		json_object_object_add(u, kn, NULL);
	}
	if (jsonutil_sorted_keys(u, &keys, &n))
		goto done;
	rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		char *p = child_path(path, keys[i]);

		rc = p ? walk_change(o, p, jsonutil_get(old_v, keys[i]), jsonutil_get(new_v, keys[i]))
		       : -1;
		free(p);
	}
done:
	free(keys);
	json_object_put(u);
	return rc;
}

static int in_array(struct json_object *arr, struct json_object *v)
{
	size_t n = json_object_array_length(arr);

	for (size_t i = 0; i < n; i++)
		if (jsonutil_equal(json_object_array_get_idx(arr, i), v))
			return 1;
	return 0;
}

/* Both arrays: a set by membership, an ordered array by index. */
static int walk_arrays(const struct out *o, const char *path, struct json_object *old_v,
		       struct json_object *new_v)
{
	size_t no = json_object_array_length(old_v), nn = json_object_array_length(new_v);
	int rc = 0;

	if (is_set_like(path)) {
		for (size_t i = 0; i < no && !rc; i++) {
			struct json_object *e = json_object_array_get_idx(old_v, i);

			if (!in_array(new_v, e))
				rc = leaf(o, '-', path, e, NULL);
		}
		for (size_t i = 0; i < nn && !rc; i++) {
			struct json_object *e = json_object_array_get_idx(new_v, i);

			if (!in_array(old_v, e))
				rc = leaf(o, '+', path, NULL, e);
		}
		return rc;
	}
	for (size_t i = 0; i < (no > nn ? no : nn) && !rc; i++) {
		char *p = index_path(path, i);

		rc = p ? walk_change(o, p, i < no ? json_object_array_get_idx(old_v, i) : NULL,
				     i < nn ? json_object_array_get_idx(new_v, i) : NULL)
		       : -1;
		free(p);
	}
	return rc;
}

static int walk_change(const struct out *o, const char *path, struct json_object *old_v,
		       struct json_object *new_v)
{
	if (!old_v && !new_v)
		return 0;
	if (!old_v)
		return walk_value(o, '+', path, new_v);
	if (!new_v)
		return walk_value(o, '-', path, old_v);
	if (json_object_is_type(old_v, json_type_object) &&
	    json_object_is_type(new_v, json_type_object))
		return walk_objects(o, path, old_v, new_v);
	if (json_object_is_type(old_v, json_type_array) && json_object_is_type(new_v, json_type_array))
		return walk_arrays(o, path, old_v, new_v);
	if (jsonutil_equal(old_v, new_v))
		return 0;
	return leaf(o, '~', path, old_v, new_v);
}

/* A whole definition, normalised (as diffs compare them), or as it is if it cannot be; new. */
static struct json_object *normalised(struct json_object *def)
{
	struct normalize_options no = NORMALIZE_OPTIONS_INIT;
	struct json_object *norm = NULL;

	if (!def)
		return NULL;
	/* A copy either way: the caller may edit what it gets. */
	if (normalize_app(def, &no, &norm, NULL) == 0)
		return norm;
	norm = NULL;
	if (json_object_deep_copy(def, &norm, NULL))
		return NULL;
	return norm;
}

static int walk_definition(const struct out *o, char sym, struct json_object *def)
{
	struct json_object *norm = normalised(def);
	int rc;

	if (!norm)
		return 0;
	/* The header line names the app: its id is not repeated. */
	json_object_object_del(norm, "id");
	rc = walk_value(o, sym, "", norm);
	json_object_put(norm);
	return rc;
}

/*
 * A blue/green app (reconcile/bluegreen.h) names its colours: the one that
 * runs, and for a change the one the release deploys.
 */
static int colour_note(struct pacer_buf *b, const struct pacer_plan_item *it)
{
	const char *c = bluegreen_item_colour(it);

	if (it->action == PACER_ACT_CREATE && bluegreen_enabled(it->body))
		return pacer_buf_printf(b, " [-> blue]");
	if (!*c)
		return 0;
	if (it->action == PACER_ACT_UPDATE)
		return pacer_buf_printf(b, " [%s -> %s]", c, bluegreen_other(c));
	return pacer_buf_printf(b, " [%s]", c);
}

static int item_header(const struct out *o, const char *col, char sym,
		       const struct pacer_plan_item *it)
{
	if (put_line_start(o->b, o->color, col) || pacer_buf_printf(o->b, "%c %s", sym, it->app_id))
		return -1;
	if (it->file && pacer_buf_printf(o->b, " (%s)", it->file))
		return -1;
	if (colour_note(o->b, it))
		return -1;
	return put_line_end(o->b, o->color);
}

static int render_item(const struct out *o, const struct pacer_plan_item *it, int show_unchanged)
{
	switch (it->action) {
	case PACER_ACT_CREATE:
		return item_header(o, C_GREEN, '+', it) || walk_definition(o, '+', it->body) ? -1 : 0;
	case PACER_ACT_UPDATE:
		if (item_header(o, C_YELLOW, '~', it))
			return -1;
		for (size_t k = 0; k < it->nchanges; k++)
			if (walk_change(o, it->changes[k].path, it->changes[k].old_value,
					it->changes[k].new_value))
				return -1;
		return 0;
	case PACER_ACT_PRUNE:
		return item_header(o, C_RED, '-', it) || walk_definition(o, '-', it->live) ? -1 : 0;
	case PACER_ACT_UNCHANGED:
		if (!show_unchanged)
			return 0;
		return pacer_buf_printf(o->b, "  %s", it->app_id) || colour_note(o->b, it) ||
			       pacer_buf_printf(o->b, "\n");
	}
	return 0;
}

char *plan_render_text(const struct pacer_plan *p, int color, int show_unchanged)
{
	struct pacer_buf b = PACER_BUF_INIT;
	struct out o = {&b, color};
	size_t i;

	for (i = 0; p && i < p->n; i++)
		if (render_item(&o, &p->items[i], show_unchanged))
			goto fail;
	if (pacer_buf_printf(&b, "%zu to create, %zu to update, %zu to prune, %zu unchanged\n",
			     p ? p->ncreate : 0, p ? p->nupdate : 0, p ? p->nprune : 0,
			     p ? p->nunchanged : 0))
		goto fail;
	return pacer_buf_detach(&b);
fail:
	pacer_buf_release(&b);
	return NULL;
}

const char *plan_action_name(enum pacer_action a)
{
	/* In the order of the enum. */
	static const char *const names[] = {"unchanged", "create", "update", "prune"};

	return (unsigned)a < sizeof(names) / sizeof(*names) ? names[a] : "unknown";
}

struct json_object *plan_to_json(const struct pacer_plan *p)
{
	struct json_object *doc = json_object_new_object();
	struct json_object *summary = json_object_new_object();
	struct json_object *apps = json_object_new_array();
	size_t i, k;

	if (!doc || !summary || !apps) {
		json_object_put(doc);
		json_object_put(summary);
		json_object_put(apps);
		return NULL;
	}
	json_object_object_add(doc, "revision", jsonutil_string_or_null(p ? p->revision : NULL));
	json_object_object_add(summary, "create", json_object_new_int64(p ? (int64_t)p->ncreate : 0));
	json_object_object_add(summary, "update", json_object_new_int64(p ? (int64_t)p->nupdate : 0));
	json_object_object_add(summary, "prune", json_object_new_int64(p ? (int64_t)p->nprune : 0));
	json_object_object_add(summary, "unchanged",
			       json_object_new_int64(p ? (int64_t)p->nunchanged : 0));
	json_object_object_add(doc, "summary", summary);
	for (i = 0; p && i < p->n; i++) {
		const struct pacer_plan_item *it = &p->items[i];
		struct json_object *a = json_object_new_object();
		struct json_object *changes = json_object_new_array();

		json_object_object_add(a, "id", json_object_new_string(it->app_id));
		json_object_object_add(a, "action",
				       json_object_new_string(plan_action_name(it->action)));
		json_object_object_add(a, "file", jsonutil_string_or_null(it->file));
		json_object_object_add(a, "wave", json_object_new_int(it->wave));
		if (*bluegreen_item_colour(it))
			json_object_object_add(a, "colour",
					       json_object_new_string(bluegreen_item_colour(it)));
		for (k = 0; k < it->nchanges; k++) {
			struct json_object *c = json_object_new_object();

			json_object_object_add(c, "path", json_object_new_string(it->changes[k].path));
			json_object_object_add(c, "old", json_object_get(it->changes[k].old_value));
			json_object_object_add(c, "new", json_object_get(it->changes[k].new_value));
			json_object_array_add(changes, c);
		}
		json_object_object_add(a, "changes", changes);
		/*
		 * What a create sends and what a prune deletes, as they are (a
		 * reference, no copy): the result of every watch and serve run is
		 * rendered as JSON, so normalising here would cost each run.
		 */
		if (it->action == PACER_ACT_CREATE || it->action == PACER_ACT_PRUNE)
			json_object_object_add(a, "definition",
					       json_object_get(it->action == PACER_ACT_CREATE
								   ? it->body
								   : it->live));
		json_object_array_add(apps, a);
	}
	json_object_object_add(doc, "apps", apps);
	return doc;
}
