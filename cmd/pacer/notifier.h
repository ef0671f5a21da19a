/*
 * notifier.h: notifications of sync, watch and serve: the options
 * (--commit-status, --notify-webhook, --notify-slack...), their secrets
 * from the environment (env.h), and the glue between a sync and the
 * senders: what reconcile/notify.h decides to tell, backends/notify/
 * delivers from its queues, off the sync's path.
 *
 * A sync calls notifier_revision() (as its sync_options.on_revision) when
 * it knows its commit, and notifier_finished() when it is over. Both only
 * queue; neither blocks on the network nor fails the sync. What was told
 * is remembered in the state directory ("notify.json"), so that a timer
 * that runs `pacer sync` does not repeat a held app's failure either.
 *
 * Threads: notifier_revision() and notifier_finished() are called by one
 * sync at a time (a mutex guards the memory anyway); the senders' workers
 * run beside them.
 */
#ifndef PACER_CMD_NOTIFIER_H
#define PACER_CMD_NOTIFIER_H

#include <stddef.h>

#include "cmd/pacer/options.h"
#include "reconcile/base/error.h"
#include "reconcile/run.h"

struct cli_common;
struct metrics;
struct notifier;

/* The notification options of sync, watch and serve (field `n` of the command's struct). */
struct cli_notify {
	const char *commit_status;      /* github | gitlab | gitea */
	const char *commit_status_api;  /* API base URL */
	const char *commit_status_repo; /* OWNER/REPO, GitLab's project path */
	const char *webhook;            /* URL */
	const char *slack;              /* URL */
	const char *cluster;            /* the name in pacer/<cluster> */
	int timeout;                    /* seconds to wait for queued notifications at exit; -1: default */
};
#define CLI_NOTIFY_INIT {.timeout = -1}

/* The default of --notify-timeout. */
#define NOTIFIER_TIMEOUT_S 10

#define CLI_NOTIFY_ROWS(type)                                                                      \
	{"commit-status", 0, OPT_STRING, offsetof(type, n.commit_status), "github|gitlab|gitea",  \
	 "post the result of each synced commit as its commit status on the forge (token: "       \
	 "PACER_COMMIT_STATUS_TOKEN or PACER_COMMIT_STATUS_TOKEN_FILE)",                          \
	 "PACER_COMMIT_STATUS"},                                                                   \
	{"commit-status-api", 0, OPT_STRING, offsetof(type, n.commit_status_api), "URL",          \
	 "the forge's API (default https://api.github.com, https://gitlab.com/api/v4, or the "    \
	 "git remote's host with /api/v3, /api/v4, /api/v1)",                                      \
	 "PACER_COMMIT_STATUS_API"},                                                               \
	{"commit-status-repo", 0, OPT_STRING, offsetof(type, n.commit_status_repo), "OWNER/REPO", \
	 "the repository (GitLab: the project path; default from the git remote URL)",            \
	 "PACER_COMMIT_STATUS_REPO"},                                                              \
	{"notify-webhook", 0, OPT_STRING, offsetof(type, n.webhook), "URL",                       \
	 "POST a JSON document of each failure, hold, degradation and recovery, signed "          \
	 "(X-Pacer-Signature) with PACER_NOTIFY_WEBHOOK_SECRET or PACER_NOTIFY_WEBHOOK_SECRET_FILE", \
	 "PACER_NOTIFY_WEBHOOK"},                                                                  \
	{"notify-slack", 0, OPT_STRING, offsetof(type, n.slack), "URL",                           \
	 "a Slack-compatible incoming webhook (Mattermost, Rocket.Chat) told of the same; "       \
	 "prefer the variable: the URL is a secret",                                               \
	 "PACER_NOTIFY_SLACK"},                                                                    \
	{"cluster-name", 0, OPT_STRING, offsetof(type, n.cluster), "NAME",                        \
	 "this cluster's name in notifications, and the status context pacer/NAME (default the " \
	 "host of the first Marathon URL)",                                                        \
	 "PACER_CLUSTER_NAME"},                                                                    \
	{"notify-timeout", 0, OPT_INT, offsetof(type, n.timeout), "SECONDS",                      \
	 "wait at most this long for notifications still queued when pacer exits (default 10)",   \
	 "PACER_NOTIFY_TIMEOUT"}

/*
 * Make the notifier the options ask for: *out NULL (and 0) when they ask
 * for none. c gives the source (the repository of commit statuses) and the
 * Marathon URLs (the default cluster name); state (borrowed, may be NULL)
 * keeps what was told; metrics (borrowed, may be NULL) counts deliveries.
 * Returns 0, PACER_EINVALID for a bad option or a missing secret (*err says
 * which and what to do), or another code (a secret file that cannot be read).
 */
int notifier_open(struct notifier **out, const struct cli_notify *o, const struct cli_common *c,
                  struct pacer_state_store *state, struct metrics *metrics,
                  struct pacer_error **err);

/* sync_options.on_revision: the sync of revision starts ("pending"). ctx is the notifier. */
void notifier_revision(void *ctx, const char *revision);

/*
 * A sync ended: res (may be NULL), what it returned, its error (may be
 * NULL). trigger names what started it; partial: a sync of some apps only
 * (never a commit status). Queues what is worth telling.
 */
void notifier_finished(struct notifier *n, const struct sync_result *res, int rc,
                       const struct pacer_error *err, const char *trigger, int partial);

/*
 * Wait (at most --notify-timeout) for what is queued; logs what is left.
 * Returns the number of notifications not delivered in time.
 */
size_t notifier_drain(struct notifier *n);

/*
 * Stop the senders: what is left is dropped (and counted); later syncs
 * tell nobody. For a front end whose metrics registry goes before the
 * notifier does. NULL is a no-op.
 */
void notifier_stop(struct notifier *n);

/* notifier_stop(), then free. NULL is a no-op. */
void notifier_free(struct notifier *n);

#endif
