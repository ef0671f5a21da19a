/*
 * notify.h: what pacer tells people after a sync, and when. Pure: the
 * words and documents are made here; backends/notify/ sends them, cmd/
 * wires both to the syncs of sync, watch and serve.
 *
 * Three sinks:
 *   commit_status  the forge's status of the synced commit (notify_forge.h):
 *                  "pending" when the sync of a commit starts, then
 *                  "success"/"failure" with a one-line description;
 *   webhook        a JSON document per sync worth telling (the shape of
 *                  `pacer sync --output json`, plus "trigger", "commit",
 *                  "cluster", "result", "event" and "description");
 *   slack          a Slack-compatible incoming webhook ({"text": ...}),
 *                  accepted as it is by Mattermost and Rocket.Chat.
 *
 * Which syncs are worth telling (webhook, slack): a failure (an app
 * failed, rolled back, was restarted, or its rollback failed; the desired
 * state did not load; Marathon was unreachable), a held, degraded or
 * unknown app, and a recovery (all well after one of those). The set of
 * problems of a sync is its fingerprint ("/a=failing /b=degraded"); a sync
 * whose fingerprint is the one last told, and whose deployments did not
 * fail afresh, is not told again: a held app does not page anyone on
 * every timer run. A sync superseded by a newer commit is never told, and
 * a sync of some apps only (watch's drift fixes, the API) only when a
 * deployment failed, without changing the memory.
 *
 * Commit statuses: "pending" once per commit (not again for a re-sync of
 * the commit that already has a status), and the final state whenever it
 * is not the one last posted for that commit (a held app's commit stays
 * "failure" without a post per timer run; fixed by hand in Marathon and
 * synced again, it turns "success").
 *
 * The memory (struct notify_memory) is kept by the caller between syncs
 * and may be stored as JSON (notify_memory_to_json()), so that a pacer
 * sync run by a timer remembers what the previous run told.
 */
#ifndef PACER_NOTIFY_H
#define PACER_NOTIFY_H

#include <stddef.h>

#include "reconcile/base/error.h"
#include "reconcile/notify_forge.h"
#include "reconcile/run.h"

enum notify_sink {
	NOTIFY_SINK_COMMIT_STATUS = 0,
	NOTIFY_SINK_WEBHOOK,
	NOTIFY_SINK_SLACK,
	NOTIFY_NSINKS,
};
/* "commit_status", "webhook", "slack": the sink label of pacer_notifications_total. */
const char *notify_sink_name(enum notify_sink s);

/* What one finished sync amounts to; release with notify_summary_release(). */
struct notify_summary {
	enum notify_state state; /* SUCCESS, FAILURE or CANCELLED */
	const char *result;      /* metrics_sync_result(): "converged", "failed"... static */
	char *description;       /* one line, at most NOTIFY_DESCRIPTION_MAX bytes */
	char *fingerprint;       /* the problems, sorted; "" when none */
	int fresh;               /* a deployment of this sync failed (not merely held) */
	int partial;             /* a sync of some apps only */
};

/*
 * Sum up a finished sync: res may be NULL (the sync did not start: the
 * lock, the cluster check), rc is what the sync returned (0 with
 * res->converged false counts as failed), err its error or NULL. The
 * description reads "2 updated, 1 rolled back: /shop/api: <why>" or
 * "3 apps in sync" or "invalid: <the error>". Returns 0, or -1 when out
 * of memory (nothing to release then).
 */
int notify_summarize(struct notify_summary *out, const struct sync_result *res, int rc,
                     const struct pacer_error *err, int partial);
void notify_summary_release(struct notify_summary *s);

/* What was told before: kept between syncs. Zero-initialise; release with notify_memory_release(). */
struct notify_memory {
	char *fingerprint;   /* of the last sync told; NULL: nothing told yet */
	char *status_commit; /* the commit whose status was posted last; NULL: none */
	char *status_state;  /* its last final state ("success"); NULL: only pending yet */
};
void notify_memory_release(struct notify_memory *m);

enum notify_event {
	NOTIFY_SKIP = 0,  /* nothing worth telling */
	NOTIFY_PROBLEM,   /* a failure, or a new set of problems */
	NOTIFY_RECOVERY,  /* all well after a problem */
};
/* "skip", "problem", "recovery". Static string. */
const char *notify_event_name(enum notify_event e);

/* Whether the webhook and slack sinks hear of this sync (see the top of this file). */
enum notify_event notify_decide(const struct notify_memory *m, const struct notify_summary *s);

/* Remember that s was told (or judged not worth telling): whole syncs only. -1: out of memory. */
int notify_memory_note(struct notify_memory *m, const struct notify_summary *s);

/* 1 when the sync of commit starting now should post "pending". */
int notify_status_pending_due(const struct notify_memory *m, const char *commit);
/* 1 when the final status of commit after s should be posted; CANCELLED ones are, once. */
int notify_status_due(const struct notify_memory *m, const char *commit,
                      const struct notify_summary *s);
/* Remember the status posted for commit (pending: final NULL). -1: out of memory. */
int notify_memory_note_status(struct notify_memory *m, const char *commit,
                              const struct notify_summary *final);

/* The memory as JSON text (caller frees), and back. from_json: text NULL or unreadable
 * leaves *m empty (a fresh start tells again; nothing is lost). */
char *notify_memory_to_json(const struct notify_memory *m);
void notify_memory_from_json(struct notify_memory *m, const char *text, size_t len);

/* What the webhook and slack documents say besides the sync itself. */
struct notify_context {
	const char *cluster; /* "prod": the context is pacer/<cluster> */
	const char *trigger; /* "cli", "startup", "commit 1a2b3c", "webhook"... or NULL */
	const char *commit;  /* or NULL */
};

/*
 * The webhook document: sync_result_to_json(res) (or, without res, the
 * same keys empty) plus "trigger", "commit", "cluster", "result",
 * "event" and "description", and "error" when err is set. *out is the
 * caller's. Returns 0 or -1 (out of memory).
 */
int notify_webhook_body(char **out, const struct sync_result *res, const struct pacer_error *err,
                        const struct notify_summary *s, enum notify_event ev,
                        const struct notify_context *ctx);

/*
 * The Slack message: {"text": "..."} whose first line is
 * "pacer/<cluster>: sync failed at 1a2b3c4d (trigger): <description>"
 * (or "recovered", "converged"), followed by one line per app that
 * failed, rolled back, was restarted, is held, degraded or of unknown
 * outcome ("• /shop/api rolled back: <why>"), at most 20 with "and N
 * more". *out is the caller's. Returns 0 or -1 (out of memory).
 */
int notify_slack_body(char **out, const struct sync_result *res, const struct notify_summary *s,
                      enum notify_event ev, const struct notify_context *ctx);

#endif
