/*
 * history.c: the run history (history.h). The whole array is rewritten
 * after each run (durably, as every state document): it is bounded, and a
 * run takes seconds to hours, so the write is noise next to it.
 */
#include "reconcile/history.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/jsonutil.h"
#include "reconcile/metrics.h"

#define HISTORY_DOC "history.json"

static int load_array(struct pacer_state_store *s, struct json_object **out,
		      struct pacer_error **err)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (!s || !s->doc_load)
		return 0;
	if ((rc = s->doc_load(s, HISTORY_DOC, &data, &len, err)))
		return rc;
	*out = data ? json_tokener_parse(data) : json_object_new_array();
	free(data);
	if (!json_object_is_type(*out, json_type_array)) {
		/* History is a record, not state: a torn one starts again. */
		json_object_put(*out);
		*out = json_object_new_array();
	}
	return *out ? 0 : pacer_error_set(err, PACER_EGENERIC, "out of memory");
}

static struct json_object *app_row(const struct sync_app_result *a)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(a->app_id));
	json_object_object_add(o, "outcome", json_object_new_string(sync_outcome_name(a->outcome)));
	if (a->backup_path)
		json_object_object_add(o, "backup", json_object_new_string(a->backup_path));
	if (a->deployment_id && *a->deployment_id)
		json_object_object_add(o, "deployment", json_object_new_string(a->deployment_id));
	if (a->error) {
		char *text = pacer_error_format(a->error);

		json_object_object_add(o, "error", json_object_new_string(text ? text : ""));
		free(text);
	}
	return o;
}

static struct json_object *run_entry(const struct sync_result *r, int rc, const char *trigger,
				     double start, double end)
{
	struct json_object *o = json_object_new_object(), *apps = json_object_new_array();

	json_object_object_add(o, "start", json_object_new_double(start));
	json_object_object_add(o, "end", json_object_new_double(end));
	json_object_object_add(o, "trigger", json_object_new_string(trigger ? trigger : "cli"));
	if (r && r->revision)
		json_object_object_add(o, "commit", json_object_new_string(r->revision));
	json_object_object_add(o, "result", json_object_new_string(metrics_sync_result(
						    rc, r && r->converged)));
	for (size_t i = 0; r && i < r->napps; i++)
		if (r->apps[i].outcome != SYNC_OUT_UNCHANGED)
			json_object_array_add(apps, app_row(&r->apps[i]));
	json_object_object_add(o, "apps", apps);
	return o;
}

/* Append entry (the reference is taken) and save, the oldest dropped past HISTORY_MAX. */
static int append_entry(struct pacer_state_store *s, struct json_object *entry,
			struct pacer_error **err)
{
	struct json_object *arr = NULL;
	const char *text;
	size_t n;
	int ret;

	if ((ret = load_array(s, &arr, err)) || !arr) {
		json_object_put(entry);
		return ret;
	}
	json_object_array_add(arr, entry);
	n = json_object_array_length(arr);
	if (n > HISTORY_MAX)
		json_object_array_del_idx(arr, 0, n - HISTORY_MAX);
	text = json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	ret = s->doc_save(s, HISTORY_DOC, text, strlen(text), err);
	json_object_put(arr);
	return ret;
}

int history_append(struct pacer_state_store *s, const struct sync_result *r, int rc,
		   const char *trigger, double start_unix, double end_unix,
		   struct pacer_error **err)
{
	return append_entry(s, run_entry(r, rc, trigger, start_unix, end_unix), err);
}

int history_append_action(struct pacer_state_store *s, const char *app_id, const char *action,
			  const char *trigger, const char *error, double start_unix,
			  double end_unix, struct pacer_error **err)
{
	struct json_object *o = json_object_new_object(), *apps = json_object_new_array();
	struct json_object *row = json_object_new_object();

	json_object_object_add(o, "start", json_object_new_double(start_unix));
	json_object_object_add(o, "end", json_object_new_double(end_unix));
	json_object_object_add(o, "trigger", json_object_new_string(trigger ? trigger : "cli"));
	json_object_object_add(o, "action", json_object_new_string(action));
	json_object_object_add(o, "result", json_object_new_string(error ? "failed" : "done"));
	json_object_object_add(row, "id", json_object_new_string(app_id));
	json_object_object_add(row, "outcome", json_object_new_string(error ? "failed" : action));
	if (error)
		json_object_object_add(row, "error", json_object_new_string(error));
	json_object_array_add(apps, row);
	json_object_object_add(o, "apps", apps);
	return append_entry(s, o, err);
}

/* A copy of run with only app_id's row, or NULL when it did nothing to it. */
static struct json_object *for_app(struct json_object *run, const char *app_id)
{
	struct json_object *apps = jsonutil_get(run, "apps"), *copy = NULL, *rows;

	for (size_t i = 0; i < json_object_array_length(apps); i++) {
		struct json_object *a = json_object_array_get_idx(apps, i);
		const char *id = json_object_get_string(jsonutil_get(a, "id"));

		if (!id || strcmp(id, app_id))
			continue;
		if (json_object_deep_copy(run, &copy, NULL) || !copy)
			return NULL;
		rows = json_object_new_array();
		json_object_array_add(rows, json_object_get(a));
		json_object_object_add(copy, "apps", rows);
		return copy;
	}
	return NULL;
}

int history_load(struct pacer_state_store *s, const char *app_id, int limit,
		 struct json_object **out, struct pacer_error **err)
{
	struct json_object *arr = NULL, *sel;
	size_t n, from;
	int rc;

	*out = NULL;
	if ((rc = load_array(s, &arr, err)))
		return rc;
	if (!arr)
		arr = json_object_new_array();
	sel = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *run = json_object_array_get_idx(arr, i);

		/* A record edited or written by something else: every run read
		 * has an "apps" array, which its readers walk. */
		if (!json_object_is_type(run, json_type_object))
			continue;
		if (!json_object_is_type(jsonutil_get(run, "apps"), json_type_array))
			json_object_object_add(run, "apps", json_object_new_array());
		if (!app_id)
			json_object_array_add(sel, json_object_get(run));
		else if ((run = for_app(run, app_id)))
			json_object_array_add(sel, run);
	}
	json_object_put(arr);
	n = json_object_array_length(sel);
	from = limit > 0 && n > (size_t)limit ? n - (size_t)limit : 0;
	if (from)
		json_object_array_del_idx(sel, 0, from);
	*out = sel;
	return 0;
}
