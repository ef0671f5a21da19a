/*
 * Unit tests of the intent journal (reconcile/journal.c) over the fake
 * state store's documents: an entry survives a write/load round trip, a
 * newer intent replaces the older one, clearing removes it, an unreadable
 * entry is an error and never dropped, and the --atomic marker.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/journal.h"
#include "tests/lib/fake_marathon.h"

static struct pacer_state_store *store_new(void)
{
	struct pacer_state_store *s = fake_state_new(NULL);

	fake_state_enable_docs(s);
	return s;
}

/* An update of id in the submitted phase; strings borrowed, body owned. */
static void entry_init(struct journal_entry *e, const char *id, const char *cmd)
{
	char body[64];

	memset(e, 0, sizeof(*e));
	snprintf(body, sizeof(body), "{\"id\":\"%s\",\"cmd\":\"%s\"}", id, cmd);
	e->app_id = (char *)id;
	e->action = JOURNAL_UPDATE;
	e->phase = JOURNAL_SUBMITTED;
	e->body = json_tokener_parse(body);
	strcpy(e->digest, "0123456789abcdef0123456789abcdef");
	e->backup = "/backups/a.json";
	e->commit = "abc123";
	e->started = 1000;
	e->deadline = 1600;
	e->timeout_s = 600;
	e->on_failure = SYNC_ON_FAILURE_RESTART;
	e->deployment = "dep-1";
	e->version = "2026-12-02T14:25:08.123Z";
}

Test(journal, without_documents_nothing_is_kept)
{
	struct pacer_state_store *s = fake_state_new(NULL);
	struct journal_entry e, *v = NULL;
	size_t n = 1;

	entry_init(&e, "/a", "x");
	cr_assert_not(journal_supported(s));
	cr_assert_eq(journal_write(s, &e, NULL), 0);
	cr_assert_eq(journal_load(s, &v, &n, NULL), 0);
	cr_assert_eq(n, 0);
	cr_assert_null(v);
	json_object_put(e.body);
	pacer_state_store_free(s);
}

Test(journal, entry_round_trips)
{
	struct pacer_state_store *s = store_new();
	struct journal_entry e, *v = NULL;
	size_t n = 0;

	entry_init(&e, "/shop/api", "x");
	cr_assert(journal_supported(s));
	cr_assert_eq(journal_write(s, &e, NULL), 0);
	cr_assert_eq(journal_load(s, &v, &n, NULL), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(v[0].app_id, "/shop/api");
	cr_assert_eq(v[0].action, JOURNAL_UPDATE);
	cr_assert_eq(v[0].phase, JOURNAL_SUBMITTED);
	cr_assert(json_object_equal(v[0].body, e.body));
	cr_assert_str_eq(v[0].digest, e.digest);
	cr_assert_str_eq(v[0].backup, e.backup);
	cr_assert_str_eq(v[0].commit, e.commit);
	cr_assert_eq(v[0].started, 1000);
	cr_assert_eq(v[0].deadline, 1600);
	cr_assert_eq(v[0].timeout_s, 600);
	cr_assert_eq(v[0].on_failure, SYNC_ON_FAILURE_RESTART);
	cr_assert_str_eq(v[0].deployment, "dep-1");
	cr_assert_str_eq(v[0].version, e.version);
	journal_entries_free(v, n);
	json_object_put(e.body);
	pacer_state_store_free(s);
}

Test(journal, a_newer_intent_replaces_the_older_one)
{
	struct pacer_state_store *s = store_new();
	struct journal_entry a, b, *v = NULL;
	size_t n = 0;

	entry_init(&a, "/a", "old");
	entry_init(&b, "/a", "new");
	b.phase = JOURNAL_INTENT;
	b.deployment = NULL;
	cr_assert_eq(journal_write(s, &a, NULL), 0);
	cr_assert_eq(journal_write(s, &b, NULL), 0);
	cr_assert_eq(journal_load(s, &v, &n, NULL), 0);
	cr_assert_eq(n, 1, "one entry per app");
	cr_assert(json_object_equal(v[0].body, b.body));
	cr_assert_eq(v[0].phase, JOURNAL_INTENT);
	cr_assert_null(v[0].deployment);
	journal_entries_free(v, n);
	json_object_put(a.body);
	json_object_put(b.body);
	pacer_state_store_free(s);
}

Test(journal, entries_load_sorted_and_clear_one_by_one)
{
	struct pacer_state_store *s = store_new();
	const char *ids[] = {"/c", "/a", "/b"};
	struct journal_entry e, *v = NULL;
	size_t n = 0;

	for (size_t i = 0; i < 3; i++) {
		entry_init(&e, ids[i], "x");
		cr_assert_eq(journal_write(s, &e, NULL), 0);
		json_object_put(e.body);
	}
	cr_assert_eq(journal_clear(s, "/b", NULL), 0);
	cr_assert_eq(journal_clear(s, "/never", NULL), 0, "clearing nothing is fine");
	cr_assert_eq(journal_load(s, &v, &n, NULL), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(v[0].app_id, "/a");
	cr_assert_str_eq(v[1].app_id, "/c");
	journal_entries_free(v, n);
	pacer_state_store_free(s);
}

Test(journal, an_unreadable_entry_is_an_error)
{
	struct pacer_state_store *s = store_new();
	struct journal_entry *v = NULL;
	struct pacer_error *err = NULL;
	size_t n = 0;

	cr_assert_eq(s->doc_save(s, "journal/broken.json", "{not json", 9, NULL), 0);
	cr_assert_neq(journal_load(s, &v, &n, &err), 0);
	cr_assert_not_null(err);
	cr_assert(strstr(err->message, "journal/broken.json"), "%s", err->message);
	cr_assert_eq(n, 0);
	pacer_error_free(err);
	pacer_state_store_free(s);
}

Test(journal, a_failed_write_is_reported)
{
	struct pacer_state_store *s = store_new();
	struct journal_entry e;
	struct pacer_error *err = NULL;

	entry_init(&e, "/a", "x");
	fake_state_fail(s, "doc_save", 1);
	cr_assert_neq(journal_write(s, &e, &err), 0, "the request must then not be sent");
	cr_assert_not_null(err);
	pacer_error_free(err);
	json_object_put(e.body);
	pacer_state_store_free(s);
}

Test(journal, atomic_marker_keeps_the_first_failure)
{
	struct pacer_state_store *s = store_new();
	char *app;

	cr_assert_null(journal_atomic_pending(s));
	journal_atomic_failed(s, "/first");
	journal_atomic_failed(s, "/second");
	app = journal_atomic_pending(s);
	cr_assert_str_eq(app, "/first");
	free(app);
	journal_atomic_settled(s);
	cr_assert_null(journal_atomic_pending(s));
	pacer_state_store_free(s);
}

Test(journal, action_names)
{
	cr_assert_str_eq(journal_action_name(JOURNAL_CREATE), "create");
	cr_assert_str_eq(journal_action_name(JOURNAL_OPERATOR), "operator");
}
