/*
 * envsync.h: what one sync of watch and serve is: sync_run() over the
 * opened environment (cli.h: source, Marathon, state, backups), with the
 * state directory's lock taken for the sync only, one log line with the
 * result and the commit, systemd's STATUS=, the metrics file, and memory
 * of the last desired state for drift checks (envsync_drift()).
 *
 * The queue in front of it (which sync runs when, retries, supersede) is
 * the runner (runner.h): envsync_run() is its runner_sync_fn.
 *
 * Threads: envsync_run() is called from one thread at a time (the
 * runner's worker). envsync_drift() and envsync_interrupt() may be called
 * from any thread at any time.
 */
#ifndef PACER_CMD_ENVSYNC_H
#define PACER_CMD_ENVSYNC_H

#include "backends/git/source.h"
#include "cmd/pacer/cli.h"
#include "reconcile/sync.h"

struct json_object;
struct envsync;
struct metrics;
struct notifier;

/*
 * env is borrowed and must outlive the envsync; *so is copied (its
 * pointers are borrowed: stop, abandon, flags, on_event; abandon is the
 * runner's supersede flag). Returns 0 and *out (free with envsync_free()),
 * or -1 when out of memory.
 */
int envsync_new(struct envsync **out, struct cli_env *env, const struct sync_options *so,
                struct pacer_error **err);

/*
 * After every sync also write the metrics to `path` for node_exporter's
 * textfile collector (report_metrics_file(): atomic, counters carried over
 * from the file), as `pacer sync --metrics-file` does. path is borrowed and
 * must outlive the envsync; cmd names the command in messages. Call before
 * the first sync.
 */
void envsync_set_metrics_file(struct envsync *e, const char *cmd, const char *path);

/*
 * Tell of every sync through n (notifier.h; borrowed, must outlive the
 * envsync; NULL: nobody), its commit statuses included; counts (borrowed,
 * may be NULL) is the registry n counts deliveries in, which the metrics
 * file then shows. Call before the first sync.
 */
void envsync_set_notifier(struct envsync *e, struct notifier *n, struct metrics *counts);

/* NULL is a no-op. No sync may be running. */
void envsync_free(struct envsync *e);

/*
 * The commit a git source's branch is at now, into head (a fetch of the ref,
 * no checkout): how watch and serve poll git between syncs. Returns 0, or -1
 * after logging "git poll failed" (not when stopping: a stop interrupts the
 * fetch); the poller tries again at its next interval.
 */
int envsync_git_head(struct pacer_source *git, char head[GITSRC_OID_HEXSZ + 1], int stopping);

/*
 * The runner_sync_fn: one sync of the apps in only (absolute ids,
 * NULL-terminated, borrowed; NULL = every app) and what they depend on.
 * reason ("startup", "files changed", "commit 1a2b3c", "resync") goes into
 * the log line. Returns 0 when it converged, else the sync's code
 * (PACER_EINVALID: desired state did not load, PACER_EUNREACHABLE:
 * Marathon or the remote could not be reached, PACER_ECANCELLED: abandoned
 * for a newer run or stopped, -1 or another code: some app failed).
 * status_out may be NULL; else it gets a new JSON object (the
 * sync_result_to_json() shape, plus "commit", "reason" and, for some apps,
 * "only": [ids]); the caller releases it with json_object_put().
 */
int envsync_run(void *envsync, const char *reason, const char *const *only,
                struct json_object **status_out);

/* envsync_run() of every app: serve's serve_sync_fn. */
int envsync_run_all(void *envsync, const char *reason, struct json_object **status_out);

/* Wake a sync waiting for the state directory's lock: it checks the stop flag at once. */
void envsync_interrupt(void *envsync);

/*
 * Compare a live app definition (e.g. the appDefinition of an
 * api_post_event; borrowed) with the desired state of the last whole sync
 * that loaded one. Returns 1 and *paths (the changed fields,
 * comma-separated, caller frees) and *app_id (caller frees) when the app
 * is desired and differs; 0 when it is not desired, equal, or no desired
 * state is known yet; -1 on failure (not an object, out of memory).
 */
int envsync_drift(struct envsync *e, struct json_object *live, char **app_id, char **paths);

/* 1 when the desired state of the last whole sync that loaded one has app id, else 0. */
int envsync_desires(struct envsync *e, const char *id);

#endif
