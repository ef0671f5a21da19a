/*
 * reconcile/notify.c: the one-line description of a sync, which syncs are
 * told (failures, holds, recoveries; a held app only once), the memory
 * across runs, and the webhook and Slack documents.
 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/notify.h"
#include "reconcile/sync.h"

/* A sync result of n apps with these outcomes; errors only on failures. */
static struct sync_result *result(int converged, const char *const *ids,
                                  const enum sync_outcome *outs, size_t n)
{
	struct sync_result *r = calloc(1, sizeof(*r));

	r->apps = calloc(n ? n : 1, sizeof(*r->apps));
	r->napps = n;
	r->converged = converged;
	r->revision = strdup("0123456789abcdef0123456789abcdef01234567");
	for (size_t i = 0; i < n; i++) {
		r->apps[i].app_id = strdup(ids[i]);
		r->apps[i].outcome = outs[i];
		r->apps[i].instances = -1;
		if (outs[i] == SYNC_OUT_ROLLED_BACK)
			pacer_error_set(&r->apps[i].error, PACER_EFAILED,
			                "unhealthy: 0 of 2 tasks passed their health checks");
		if (outs[i] != SYNC_OUT_UNCHANGED && outs[i] != SYNC_OUT_CREATED &&
		    outs[i] != SYNC_OUT_UPDATED)
			r->nfailed++;
	}
	return r;
}

static const char *ids3[] = {"/shop/api", "/shop/web", "/shop/db"};

Test(notify, description_failure)
{
	const enum sync_outcome o[] = {SYNC_OUT_ROLLED_BACK, SYNC_OUT_UPDATED, SYNC_OUT_UPDATED};
	struct sync_result *r = result(0, ids3, o, 3);
	struct notify_summary s;

	cr_assert_eq(notify_summarize(&s, r, 0, NULL, 0), 0);
	cr_assert_eq(s.state, NOTIFY_STATE_FAILURE);
	cr_assert_str_eq(s.result, "failed");
	cr_assert_str_eq(s.description, "2 updated, 1 rolled back: /shop/api: unhealthy: 0 of 2 "
	                                "tasks passed their health checks");
	cr_assert_str_eq(s.fingerprint, "/shop/api=failing");
	cr_assert(s.fresh);
	notify_summary_release(&s);
	sync_result_free(r);
}

Test(notify, description_success)
{
	const enum sync_outcome o[] = {SYNC_OUT_UNCHANGED, SYNC_OUT_UNCHANGED, SYNC_OUT_UNCHANGED};
	struct sync_result *r = result(1, ids3, o, 3);
	struct notify_summary s;

	cr_assert_eq(notify_summarize(&s, r, 0, NULL, 0), 0);
	cr_assert_eq(s.state, NOTIFY_STATE_SUCCESS);
	cr_assert_str_eq(s.description, "3 apps in sync");
	cr_assert_str_eq(s.fingerprint, "");
	cr_assert_not(s.fresh);
	notify_summary_release(&s);
	sync_result_free(r);
}

Test(notify, description_run_failed)
{
	struct pacer_error *err = NULL;
	struct notify_summary s;

	pacer_error_set(&err, PACER_EUNREACHABLE, "no Marathon answered at http://m:8080");
	cr_assert_eq(notify_summarize(&s, NULL, PACER_EUNREACHABLE, err, 0), 0);
	cr_assert_eq(s.state, NOTIFY_STATE_FAILURE);
	cr_assert_str_eq(s.description, "unreachable: no Marathon answered at http://m:8080");
	cr_assert_str_eq(s.fingerprint, "run=unreachable");
	notify_summary_release(&s);
	pacer_error_free(err);
}

Test(notify, description_is_one_short_line)
{
	const enum sync_outcome o[] = {SYNC_OUT_DEGRADED};
	const char *ids[] = {"/a"};
	struct sync_result *r = result(0, ids, o, 1);
	struct notify_summary s;
	char why[600];

	memset(why, 'w', sizeof(why) - 1);
	why[sizeof(why) - 1] = '\0';
	why[10] = '\n';
	pacer_error_set(&r->apps[0].error, PACER_EFAILED, "%s", why);
	cr_assert_eq(notify_summarize(&s, r, 0, NULL, 0), 0);
	cr_assert_leq(strlen(s.description), NOTIFY_DESCRIPTION_MAX);
	cr_assert_null(strchr(s.description, '\n'));
	cr_assert(!strncmp(s.description, "1 degraded: /a: ", 16), "%s", s.description);
	notify_summary_release(&s);
	sync_result_free(r);
}

Test(notify, cancelled_is_not_told)
{
	const enum sync_outcome o[] = {SYNC_OUT_SKIPPED};
	const char *ids[] = {"/a"};
	struct sync_result *r = result(0, ids, o, 1);
	struct notify_memory m = {0};
	struct notify_summary s;

	cr_assert_eq(notify_summarize(&s, r, PACER_ECANCELLED, NULL, 0), 0);
	cr_assert_eq(s.state, NOTIFY_STATE_CANCELLED);
	cr_assert(strstr(s.description, "superseded"), "%s", s.description);
	cr_assert_eq(notify_decide(&m, &s), NOTIFY_SKIP);
	notify_summary_release(&s);
	sync_result_free(r);
}

/* One whole sync through decide and note, as the notifier runs it. */
static enum notify_event step(struct notify_memory *m, int converged, const char *const *ids,
                              const enum sync_outcome *o, size_t n, int partial)
{
	struct sync_result *r = result(converged, ids, o, n);
	struct notify_summary s;
	enum notify_event ev;

	cr_assert_eq(notify_summarize(&s, r, 0, NULL, partial), 0);
	ev = notify_decide(m, &s);
	cr_assert_eq(notify_memory_note(m, &s), 0);
	notify_summary_release(&s);
	sync_result_free(r);
	return ev;
}

Test(notify, held_app_told_once_then_recovery)
{
	const char *ids[] = {"/a", "/b"};
	const enum sync_outcome fine[] = {SYNC_OUT_UNCHANGED, SYNC_OUT_UNCHANGED};
	const enum sync_outcome failed[] = {SYNC_OUT_ROLLED_BACK, SYNC_OUT_UNCHANGED};
	const enum sync_outcome held[] = {SYNC_OUT_HELD, SYNC_OUT_UNCHANGED};
	const enum sync_outcome held_deg[] = {SYNC_OUT_HELD, SYNC_OUT_DEGRADED};
	const enum sync_outcome fixed[] = {SYNC_OUT_UPDATED, SYNC_OUT_UNCHANGED};
	struct notify_memory m = {0};

	cr_assert_eq(step(&m, 1, ids, fine, 2, 0), NOTIFY_SKIP, "all well from the start");
	cr_assert_eq(step(&m, 0, ids, failed, 2, 0), NOTIFY_PROBLEM);
	/* Five timer runs with the app held: nobody is paged again. */
	for (int i = 0; i < 5; i++)
		cr_assert_eq(step(&m, 0, ids, held, 2, 0), NOTIFY_SKIP, "run %d", i);
	/* Something new goes wrong: told. */
	cr_assert_eq(step(&m, 0, ids, held_deg, 2, 0), NOTIFY_PROBLEM);
	cr_assert_eq(step(&m, 0, ids, held_deg, 2, 0), NOTIFY_SKIP);
	/* A sync of some apps tells nothing and forgets nothing. */
	cr_assert_eq(step(&m, 1, ids + 1, fine, 1, 1), NOTIFY_SKIP);
	cr_assert_eq(step(&m, 0, ids, held_deg, 2, 0), NOTIFY_SKIP);
	cr_assert_eq(step(&m, 1, ids, fixed, 2, 0), NOTIFY_RECOVERY);
	cr_assert_eq(step(&m, 1, ids, fine, 2, 0), NOTIFY_SKIP);
	/* A deployment that fails again is told again, held or not before. */
	cr_assert_eq(step(&m, 0, ids, failed, 2, 0), NOTIFY_PROBLEM);
	cr_assert_eq(step(&m, 0, ids, failed, 2, 0), NOTIFY_PROBLEM);
	notify_memory_release(&m);
}

Test(notify, memory_survives_json)
{
	struct notify_memory m = {0}, back;
	const char *ids[] = {"/a"};
	const enum sync_outcome held[] = {SYNC_OUT_HELD};
	struct sync_result *r = result(0, ids, held, 1);
	struct notify_summary s;
	char *text;

	cr_assert_eq(notify_summarize(&s, r, 0, NULL, 0), 0);
	cr_assert_eq(notify_memory_note(&m, &s), 0);
	cr_assert_eq(notify_memory_note_status(&m, r->revision, &s), 0);
	text = notify_memory_to_json(&m);
	notify_memory_from_json(&back, text, strlen(text));
	cr_assert_str_eq(back.fingerprint, "/a=failing");
	cr_assert_eq(notify_decide(&back, &s), NOTIFY_SKIP, "the next process remembers");
	cr_assert_not(notify_status_pending_due(&back, r->revision));
	cr_assert_not(notify_status_due(&back, r->revision, &s));
	cr_assert(notify_status_pending_due(&back, "fedcba9876543210"));
	notify_memory_release(&back);
	notify_memory_from_json(&back, "{not json", 9);
	cr_assert_null(back.fingerprint);
	notify_memory_release(&back);
	free(text);
	notify_memory_release(&m);
	notify_summary_release(&s);
	sync_result_free(r);
}

Test(notify, status_posted_again_when_result_changes)
{
	const char *ids[] = {"/a"};
	const enum sync_outcome held[] = {SYNC_OUT_HELD}, fine[] = {SYNC_OUT_UNCHANGED};
	struct sync_result *r1 = result(0, ids, held, 1), *r2 = result(1, ids, fine, 1);
	struct notify_memory m = {0};
	struct notify_summary s1, s2;

	notify_summarize(&s1, r1, 0, NULL, 0);
	notify_summarize(&s2, r2, 0, NULL, 0);
	cr_assert(notify_status_pending_due(&m, r1->revision));
	notify_memory_note_status(&m, r1->revision, NULL);
	cr_assert_not(notify_status_pending_due(&m, r1->revision));
	cr_assert(notify_status_due(&m, r1->revision, &s1));
	notify_memory_note_status(&m, r1->revision, &s1);
	cr_assert_not(notify_status_due(&m, r1->revision, &s1));
	cr_assert(notify_status_due(&m, r1->revision, &s2), "failure to success is posted");
	notify_memory_release(&m);
	notify_summary_release(&s1);
	notify_summary_release(&s2);
	sync_result_free(r1);
	sync_result_free(r2);
}

Test(notify, webhook_body)
{
	const enum sync_outcome o[] = {SYNC_OUT_ROLLED_BACK, SYNC_OUT_UPDATED, SYNC_OUT_HELD};
	struct sync_result *r = result(0, ids3, o, 3);
	struct notify_context ctx = {"prod", "cli", r->revision};
	struct notify_summary s;
	struct json_object *j, *v;
	char *body;

	notify_summarize(&s, r, 0, NULL, 0);
	cr_assert_eq(notify_webhook_body(&body, r, NULL, &s, NOTIFY_PROBLEM, &ctx), 0);
	j = json_tokener_parse(body);
	cr_assert_not_null(j, "%s", body);
	cr_assert(json_object_object_get_ex(j, "trigger", &v));
	cr_assert_str_eq(json_object_get_string(v), "cli");
	cr_assert(json_object_object_get_ex(j, "commit", &v));
	cr_assert_str_eq(json_object_get_string(v), r->revision);
	cr_assert(json_object_object_get_ex(j, "cluster", &v));
	cr_assert_str_eq(json_object_get_string(v), "prod");
	cr_assert(json_object_object_get_ex(j, "event", &v));
	cr_assert_str_eq(json_object_get_string(v), "problem");
	cr_assert(json_object_object_get_ex(j, "result", &v));
	cr_assert_str_eq(json_object_get_string(v), "failed");
	/* The keys of `pacer sync --output json`. */
	cr_assert(json_object_object_get_ex(j, "converged", NULL));
	cr_assert(json_object_object_get_ex(j, "diagnostics", NULL));
	cr_assert(json_object_object_get_ex(j, "apps", &v));
	cr_assert_eq(json_object_array_length(v), 3);
	cr_assert_str_eq(json_object_get_string(json_object_object_get(
	                     json_object_array_get_idx(v, 0), "outcome")),
	                 "rolled_back");
	json_object_put(j);
	free(body);
	notify_summary_release(&s);
	sync_result_free(r);
}

Test(notify, slack_body)
{
	const enum sync_outcome o[] = {SYNC_OUT_ROLLED_BACK, SYNC_OUT_UPDATED, SYNC_OUT_DEGRADED};
	struct sync_result *r = result(0, ids3, o, 3);
	struct notify_context ctx = {"prod", "cli", r->revision};
	struct notify_summary s;
	struct json_object *j, *v;
	char *body;

	notify_summarize(&s, r, 0, NULL, 0);
	cr_assert_eq(notify_slack_body(&body, r, &s, NOTIFY_PROBLEM, &ctx), 0);
	j = json_tokener_parse(body);
	cr_assert(json_object_object_get_ex(j, "text", &v), "%s", body);
	cr_assert_eq(json_object_object_length(j), 1, "%s", body);
	cr_assert_str_eq(json_object_get_string(v),
	                 "pacer/prod: sync failed at 01234567 (cli): 1 updated, 1 rolled back, 1 "
	                 "degraded: /shop/api: unhealthy: 0 of 2 tasks passed their health checks\n"
	                 "\xe2\x80\xa2 /shop/api rolled back: unhealthy: 0 of 2 tasks passed their "
	                 "health checks\n"
	                 "\xe2\x80\xa2 /shop/db degraded");
	json_object_put(j);
	free(body);
	notify_summary_release(&s);
	sync_result_free(r);
}

Test(notify, slack_recovery)
{
	const enum sync_outcome o[] = {SYNC_OUT_UPDATED};
	struct sync_result *r = result(1, ids3, o, 1);
	struct notify_context ctx = {"prod", "resync", NULL};
	struct notify_summary s;
	char *body;

	notify_summarize(&s, r, 0, NULL, 0);
	cr_assert_eq(notify_slack_body(&body, r, &s, NOTIFY_RECOVERY, &ctx), 0);
	cr_assert_str_eq(body, "{\"text\":\"pacer/prod: recovered (resync): 1 updated\"}");
	free(body);
	notify_summary_release(&s);
	sync_result_free(r);
}

Test(notify, description_names_the_root_cause_once)
{
	const enum sync_outcome o[] = {SYNC_OUT_ROLLED_BACK};
	const char *ids[] = {"/z"};
	struct sync_result *r = result(0, ids, o, 1);
	struct notify_summary s;

	pacer_error_free(r->apps[0].error);
	r->apps[0].error = NULL;
	pacer_error_set(&r->apps[0].error, PACER_ETIMEOUT, "deployment d1 of app /z did not finish");
	pacer_error_wrap(&r->apps[0].error, PACER_EFAILED, "while waiting");
	pacer_error_wrap(&r->apps[0].error, PACER_EFAILED, "app /z did not converge and was rolled back");
	cr_assert_eq(notify_summarize(&s, r, 0, NULL, 0), 0);
	cr_assert_str_eq(s.description, "1 rolled back: app /z did not converge and was rolled back: "
	                                "deployment d1 of app /z did not finish");
	notify_summary_release(&s);
	sync_result_free(r);
}
