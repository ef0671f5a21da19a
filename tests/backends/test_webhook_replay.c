/*
 * Tests for backends/webhook/replay.c and webhook_delivery_id(): which
 * header names a delivery for each provider, and a bounded set that knows
 * a delivery again until it is among the oldest forgotten.
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "backends/webhook/replay.h"
#include "backends/webhook/webhook.h"

Test(webhook_replay, delivery_id_per_provider)
{
	const char *gh[] = {"X-GitHub-Event", "push", "x-github-delivery", "72d3162e", NULL};
	const char *gl[] = {"X-Gitlab-Event-UUID", "ev-uuid", "Idempotency-Key", "idem", NULL};
	const char *gl_old[] = {"X-Gitlab-Event-UUID", "ev-uuid", NULL};
	const char *gt[] = {"X-Forgejo-Delivery", "f-1", NULL};
	const char *gen[] = {"X-Pacer-Delivery", "p-1", NULL};
	const char *none[] = {"X-GitHub-Delivery", "", "X-Gitea-Delivery", "g", NULL};

	cr_assert_str_eq(webhook_delivery_id(WEBHOOK_GITHUB, gh), "72d3162e");
	/* GitLab's idempotency key (stable across retries) comes first. */
	cr_assert_str_eq(webhook_delivery_id(WEBHOOK_GITLAB, gl), "idem");
	cr_assert_str_eq(webhook_delivery_id(WEBHOOK_GITLAB, gl_old), "ev-uuid");
	cr_assert_str_eq(webhook_delivery_id(WEBHOOK_GITEA, gt), "f-1");
	cr_assert_str_eq(webhook_delivery_id(WEBHOOK_GENERIC, gen), "p-1");
	/* Empty is none; another provider's header is not this one's id. */
	cr_assert_null(webhook_delivery_id(WEBHOOK_GITHUB, none));
	cr_assert_null(webhook_delivery_id(WEBHOOK_GITLAB, gh));
}

Test(webhook_replay, remembers_and_tells_apart)
{
	struct webhook_replay *r = NULL;

	cr_assert_eq(webhook_replay_new(&r, 8), 0);
	cr_assert_eq(webhook_replay_check(r, WEBHOOK_GITHUB, "push", "d-1"), 0);
	cr_assert_eq(webhook_replay_check(r, WEBHOOK_GITHUB, "push", "d-1"), 1);
	cr_assert_eq(webhook_replay_check(r, WEBHOOK_GITHUB, "push", "d-1"), 1);
	/* The same id of another provider or another event is another delivery. */
	cr_assert_eq(webhook_replay_check(r, WEBHOOK_GITEA, "push", "d-1"), 0);
	cr_assert_eq(webhook_replay_check(r, WEBHOOK_GITHUB, "pull_request", "d-1"), 0);
	cr_assert_eq(webhook_replay_check(r, WEBHOOK_GITHUB, NULL, "d-1"), 0);
	/* Fields do not run into each other. */
	cr_assert_eq(webhook_replay_check(r, WEBHOOK_GITHUB, "pushd", "-1"), 0);
	cr_assert_eq(webhook_replay_count(r), 5);
	webhook_replay_free(r);
}

Test(webhook_replay, bounded_oldest_forgotten_first)
{
	struct webhook_replay *r = NULL;
	char id[32];

	cr_assert_eq(webhook_replay_new(&r, 100), 0);
	for (int i = 0; i < 1000; i++) {
		snprintf(id, sizeof(id), "id-%d", i);
		cr_assert_eq(webhook_replay_check(r, WEBHOOK_GITHUB, "push", id), 0, "%s", id);
	}
	cr_assert_eq(webhook_replay_count(r), 100);
	/* The last 100 are known, the ones before are forgotten. */
	cr_assert_eq(webhook_replay_check(r, WEBHOOK_GITHUB, "push", "id-999"), 1);
	cr_assert_eq(webhook_replay_check(r, WEBHOOK_GITHUB, "push", "id-900"), 1);
	cr_assert_eq(webhook_replay_check(r, WEBHOOK_GITHUB, "push", "id-899"), 0);
	/* Remembering id-899 again pushed id-900 out. */
	cr_assert_eq(webhook_replay_check(r, WEBHOOK_GITHUB, "push", "id-900"), 0);
	webhook_replay_free(r);
}
