/*
 * sync_json.c: a sync result as one JSON document (for --output json and
 * the serve API). Shape:
 *   {"converged": bool, "failed": n, "revision": "..."|null, "seconds": s,
 *    "plan": <plan_to_json()>|null,
 *    "apps": [{"id", "action", "outcome", "deployment_id", "backup",
 *              "seconds", "error", "resumed", "tasks": {"healthy", "running",
 *              "instances"}|null, "version", and for a blue/green app
 *              "colour" and "live_id", its colour's id in Marathon}],
 *    "diagnostics": [{"level": "error"|"warning", "message", "file",
 *                     "line", "column", "app"}]}
 * Absent values are null so consumers can rely on every key.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "reconcile/base/jsonutil.h"
#include "reconcile/sync.h"

const char *sync_outcome_name(enum sync_outcome o)
{
	/* In the order of the enum. */
	static const char *const names[] = {
	    "unchanged",   "created",   "updated",         "pruned",   "planned", "failed",
	    "rolled_back", "restarted", "rollback_failed", "skipped",  "held",    "degraded",
	    "progressing", "unknown",   "interrupted",     "suspended"};

	return (unsigned)o < sizeof(names) / sizeof(*names) ? names[o] : "?";
}

static struct json_object *error_json(const struct pacer_error *e)
{
	struct json_object *o;
	char *text;

	if (!e)
		return NULL;
	o = json_object_new_object();
	text = pacer_error_format(e);
	json_object_object_add(o, "code", json_object_new_string(pacer_code_name(e->code)));
	json_object_object_add(o, "message", jsonutil_string_or_null(text ? text : e->message));
	free(text);
	return o;
}

struct json_object *sync_result_to_json(const struct sync_result *r)
{
	struct json_object *o = json_object_new_object(), *apps, *diags;

	if (!o || !r)
		return o;
	json_object_object_add(o, "converged", json_object_new_boolean(r->converged));
	json_object_object_add(o, "failed", json_object_new_int64((int64_t)r->nfailed));
	json_object_object_add(o, "revision", jsonutil_string_or_null(r->revision));
	json_object_object_add(o, "seconds", json_object_new_double(r->seconds));
	json_object_object_add(o, "plan", r->plan ? plan_to_json(r->plan) : NULL);

	apps = json_object_new_array();
	for (size_t i = 0; i < r->napps; i++) {
		const struct sync_app_result *a = &r->apps[i];
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "id", jsonutil_string_or_null(a->app_id));
		json_object_object_add(x, "action",
				       json_object_new_string(plan_action_name(a->action)));
		json_object_object_add(x, "outcome",
				       json_object_new_string(sync_outcome_name(a->outcome)));
		json_object_object_add(x, "deployment_id",
				       a->deployment_id && *a->deployment_id
					       ? json_object_new_string(a->deployment_id)
					       : NULL);
		json_object_object_add(x, "backup", jsonutil_string_or_null(a->backup_path));
		json_object_object_add(x, "seconds", json_object_new_double(a->seconds));
		json_object_object_add(x, "error", error_json(a->error));
		json_object_object_add(x, "resumed", json_object_new_boolean(a->resumed));
		if (a->instances >= 0) {
			struct json_object *t = json_object_new_object();

			json_object_object_add(t, "healthy", json_object_new_int64(a->tasks_healthy));
			json_object_object_add(t, "running", json_object_new_int64(a->tasks_running));
			json_object_object_add(t, "instances", json_object_new_int64(a->instances));
			json_object_object_add(x, "tasks", t);
		} else {
			json_object_object_add(x, "tasks", NULL);
		}
		json_object_object_add(x, "version",
				       a->version[0] ? json_object_new_string(a->version) : NULL);
		if (a->colour[0]) {
			/* A blue/green app: the colour that runs, and its id in Marathon. */
			char live_id[600];

			snprintf(live_id, sizeof(live_id), "%s-%s", a->app_id, a->colour);
			json_object_object_add(x, "colour", json_object_new_string(a->colour));
			json_object_object_add(x, "live_id", json_object_new_string(live_id));
		}
		json_object_array_add(apps, x);
	}
	json_object_object_add(o, "apps", apps);

	diags = json_object_new_array();
	for (size_t i = 0; r->desired && i < r->desired->ndiags; i++) {
		const struct pacer_diag *d = &r->desired->diags[i];
		struct json_object *x = json_object_new_object();
		const struct pacer_error *e = d->error;

		json_object_object_add(x, "level",
				       json_object_new_string(d->is_error ? "error" : "warning"));
		json_object_object_add(x, "message", jsonutil_string_or_null(e ? e->message : NULL));
		json_object_object_add(x, "file", jsonutil_string_or_null(e ? e->file : NULL));
		json_object_object_add(x, "line", e && e->line ? json_object_new_int(e->line) : NULL);
		json_object_object_add(x, "column", e && e->col ? json_object_new_int(e->col) : NULL);
		json_object_object_add(x, "app", jsonutil_string_or_null(e ? e->app_id : NULL));
		json_object_array_add(diags, x);
	}
	json_object_object_add(o, "diagnostics", diags);
	return o;
}
