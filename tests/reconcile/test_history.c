/*
 * reconcile/history.c: the run history stays bounded, keeps the newest runs,
 * and selects one app's runs. The state store is an in-memory document
 * store (one document is all history needs).
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/history.h"

struct memstore {
	struct pacer_state_store base;
	char *doc;
	size_t len;
};

static int m_load(struct pacer_state_store *s, const char *name, char **data, size_t *len,
                  struct pacer_error **err)
{
	struct memstore *m = (struct memstore *)s;

	(void)name, (void)err;
	*data = m->doc ? strndup(m->doc, m->len) : NULL;
	*len = m->len;
	return 0;
}

static int m_save(struct pacer_state_store *s, const char *name, const char *data, size_t len,
                  struct pacer_error **err)
{
	struct memstore *m = (struct memstore *)s;

	(void)name, (void)err;
	free(m->doc);
	m->doc = strndup(data, len);
	m->len = len;
	return 0;
}

static int m_remove(struct pacer_state_store *s, const char *name, struct pacer_error **err)
{
	(void)s, (void)name, (void)err;
	return 0;
}

static int m_list(struct pacer_state_store *s, const char *folder, char ***names,
                  struct pacer_error **err)
{
	(void)s, (void)folder, (void)err;
	*names = calloc(1, sizeof(char *));
	return 0;
}

static void one_run(struct pacer_state_store *s, int i, const char *app)
{
	struct sync_app_result row;
	struct sync_result r;

	memset(&r, 0, sizeof(r));
	memset(&row, 0, sizeof(row));
	row.app_id = (char *)app;
	row.outcome = i % 2 ? SYNC_OUT_UPDATED : SYNC_OUT_UNCHANGED;
	r.apps = &row;
	r.napps = 1;
	r.converged = 1;
	cr_assert_eq(history_append(s, &r, 0, "cli", i, i + 0.5, NULL), 0);
}

Test(history, bounded_newest_kept_and_per_app)
{
	struct memstore m = {{0}, NULL, 0};
	struct json_object *runs = NULL;

	m.base.doc_load = m_load;
	m.base.doc_save = m_save;
	m.base.doc_remove = m_remove;
	m.base.doc_list = m_list;
	for (int i = 0; i < HISTORY_MAX + 25; i++)
		one_run(&m.base, i, i % 4 == 1 ? "/b" : "/a");

	cr_assert_eq(history_load(&m.base, NULL, 0, &runs, NULL), 0);
	cr_expect_eq(json_object_array_length(runs), HISTORY_MAX, "bounded");
	cr_expect_eq(json_object_get_int(json_object_object_get(json_object_array_get_idx(runs, 0),
	                                                        "start")),
	             25, "the oldest runs went first");
	json_object_put(runs);

	/* Only the runs that did something to /b, each with only its row; --limit. */
	cr_assert_eq(history_load(&m.base, "/b", 10, &runs, NULL), 0);
	cr_expect_eq(json_object_array_length(runs), 10);
	for (size_t i = 0; i < json_object_array_length(runs); i++) {
		struct json_object *apps =
		    json_object_object_get(json_object_array_get_idx(runs, i), "apps");

		cr_expect_eq(json_object_array_length(apps), 1);
		cr_expect_str_eq(json_object_get_string(json_object_object_get(
		                     json_object_array_get_idx(apps, 0), "id")),
		                 "/b");
	}
	json_object_put(runs);
	free(m.doc);
}

/*
 * A history file edited by hand or written by something else: a run
 * without "apps", one whose "apps" is not an array, an entry that is not
 * a run. Reading it, whole or for one app, must not stop pacer (json-c
 * aborts on the length of a non-array); each run read has an "apps" array.
 */
Test(history, runs_without_apps_are_read)
{
	static const char doc[] =
	    "[{\"start\": 1, \"result\": \"ok\"},"
	    " {\"start\": 2, \"apps\": \"none\"},"
	    " 7,"
	    " {\"start\": 3, \"apps\": [{\"id\": \"/a\", \"outcome\": \"updated\"}, 5]}]";
	struct memstore m = {{0}, strdup(doc), sizeof(doc) - 1};
	struct json_object *runs = NULL;

	m.base.doc_load = m_load;
	m.base.doc_save = m_save;
	cr_assert_eq(history_load(&m.base, "/a", 0, &runs, NULL), 0);
	cr_assert_eq(json_object_array_length(runs), 1, "only the run that did something to /a");
	json_object_put(runs);
	cr_assert_eq(history_load(&m.base, NULL, 0, &runs, NULL), 0);
	cr_assert_eq(json_object_array_length(runs), 3, "the three runs; 7 is not one");
	for (size_t i = 0; i < json_object_array_length(runs); i++)
		cr_expect(json_object_is_type(
		              json_object_object_get(json_object_array_get_idx(runs, i), "apps"),
		              json_type_array),
		          "run %zu has an apps array", i);
	json_object_put(runs);
	free(m.doc);
}

/* An operator's action is a run of its own: who, what, and how it ended, found by its app. */
Test(history, actions_are_runs_with_who_and_outcome)
{
	struct memstore m = {{0}, NULL, 0};
	struct json_object *runs = NULL, *run, *row;

	m.base.doc_load = m_load;
	m.base.doc_save = m_save;
	one_run(&m.base, 1, "/a");
	cr_assert_eq(history_append_action(&m.base, "/a", "restart", "console by olga", NULL, 10,
	                                   12, NULL),
	             0);
	cr_assert_eq(history_append_action(&m.base, "/b", "delete", "api by adam",
	                                   "app /b: Marathon said no", 20, 21, NULL),
	             0);
	cr_assert_eq(history_load(&m.base, "/a", 0, &runs, NULL), 0);
	cr_assert_eq(json_object_array_length(runs), 2, "the sync and the restart of /a");
	run = json_object_array_get_idx(runs, 1);
	row = json_object_array_get_idx(json_object_object_get(run, "apps"), 0);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(run, "trigger")),
	                 "console by olga");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(run, "action")), "restart");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(run, "result")), "done");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(row, "outcome")), "restart");
	cr_assert_float_eq(json_object_get_double(json_object_object_get(run, "end")), 12, 1e-9);
	json_object_put(runs);
	cr_assert_eq(history_load(&m.base, "/b", 0, &runs, NULL), 0);
	run = json_object_array_get_idx(runs, 0);
	row = json_object_array_get_idx(json_object_object_get(run, "apps"), 0);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(run, "result")), "failed");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(row, "outcome")), "failed");
	cr_assert_str_eq(json_object_get_string(json_object_object_get(row, "error")),
	                 "app /b: Marathon said no");
	json_object_put(runs);
	free(m.doc);
}
