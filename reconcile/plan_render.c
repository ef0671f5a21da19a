/*
 * plan_render.c: the plan for humans (git-diff-like text) and for CI (one
 * JSON document). Contract in plan.h.
 *
 * Values are shown in their normalised JSON form, on one line; a value
 * longer than VALUE_MAX bytes is cut at a UTF-8 character boundary and ends
 * in "..." so a changed 10 kB cmd does not drown the plan.
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/buf.h"
#include "reconcile/jsonutil.h"
#include "reconcile/plan.h"

#define VALUE_MAX 80

#define C_GREEN "\033[32m"
#define C_RED "\033[31m"
#define C_YELLOW "\033[33m"
#define C_RESET "\033[0m"

static int put_value(struct pacer_buf *b, struct json_object *v)
{
	char *s = jsonutil_to_string(v);
	size_t len;
	int rc;

	if (!s)
		return -1;
	len = strlen(s);
	if (len > VALUE_MAX) {
		size_t cut = VALUE_MAX - 3;

		/* Never split a multi-byte character. */
		while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
			cut--;
		rc = pacer_buf_add(b, s, cut) || pacer_buf_puts(b, "...");
	} else {
		rc = pacer_buf_add(b, s, len);
	}
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

static int render_change(struct pacer_buf *b, const struct pacer_field_change *c, int color)
{
	const char *col, *sym;

	if (!c->old_value) {
		col = C_GREEN;
		sym = "+";
	} else if (!c->new_value) {
		col = C_RED;
		sym = "-";
	} else {
		col = C_YELLOW;
		sym = "~";
	}
	if (put_line_start(b, color, col) || pacer_buf_printf(b, "    %s ", sym) ||
	    put_path(b, c->path) || pacer_buf_puts(b, ": "))
		return -1;
	if (!c->old_value) {
		if (put_value(b, c->new_value))
			return -1;
	} else if (!c->new_value) {
		if (put_value(b, c->old_value))
			return -1;
	} else if (put_value(b, c->old_value) || pacer_buf_puts(b, " -> ") ||
		   put_value(b, c->new_value)) {
		return -1;
	}
	return put_line_end(b, color);
}

static int render_item(struct pacer_buf *b, const struct pacer_plan_item *it, int color,
		       int show_unchanged)
{
	size_t k;

	switch (it->action) {
	case PACER_ACT_CREATE:
		if (put_line_start(b, color, C_GREEN) || pacer_buf_printf(b, "+ %s", it->app_id))
			return -1;
		if (it->file && pacer_buf_printf(b, " (%s)", it->file))
			return -1;
		return put_line_end(b, color);
	case PACER_ACT_UPDATE:
		if (put_line_start(b, color, C_YELLOW) || pacer_buf_printf(b, "~ %s", it->app_id) ||
		    put_line_end(b, color))
			return -1;
		for (k = 0; k < it->nchanges; k++)
			if (render_change(b, &it->changes[k], color))
				return -1;
		return 0;
	case PACER_ACT_PRUNE:
		if (put_line_start(b, color, C_RED) || pacer_buf_printf(b, "- %s", it->app_id))
			return -1;
		return put_line_end(b, color);
	case PACER_ACT_UNCHANGED:
		if (!show_unchanged)
			return 0;
		return pacer_buf_printf(b, "  %s\n", it->app_id);
	}
	return 0;
}

char *plan_render_text(const struct pacer_plan *p, int color, int show_unchanged)
{
	struct pacer_buf b = PACER_BUF_INIT;
	size_t i;

	for (i = 0; p && i < p->n; i++)
		if (render_item(&b, &p->items[i], color, show_unchanged))
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
	switch (a) {
	case PACER_ACT_UNCHANGED:
		return "unchanged";
	case PACER_ACT_CREATE:
		return "create";
	case PACER_ACT_UPDATE:
		return "update";
	case PACER_ACT_PRUNE:
		return "prune";
	}
	return "unknown";
}

static struct json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
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
	json_object_object_add(doc, "revision", str_or_null(p ? p->revision : NULL));
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
		json_object_object_add(a, "file", str_or_null(it->file));
		json_object_object_add(a, "wave", json_object_new_int(it->wave));
		for (k = 0; k < it->nchanges; k++) {
			struct json_object *c = json_object_new_object();

			json_object_object_add(c, "path", json_object_new_string(it->changes[k].path));
			json_object_object_add(c, "old", json_object_get(it->changes[k].old_value));
			json_object_object_add(c, "new", json_object_get(it->changes[k].new_value));
			json_object_array_add(changes, c);
		}
		json_object_object_add(a, "changes", changes);
		json_object_array_add(apps, a);
	}
	json_object_object_add(doc, "apps", apps);
	return doc;
}
