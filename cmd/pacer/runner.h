/*
 * runner.h: one sync at a time for the long-running commands (watch,
 * serve), with memory of the last result.
 *
 * A runner borrows the opened environment (cli.h: source, Marathon, state,
 * backups) and a copy of the sync options. runner_sync() runs sync_run()
 * once, logs one line with the result and the commit, records the run in a
 * metrics registry when one was given, and keeps the result: its JSON for
 * status reports, its desired state for drift checks (runner_drift()).
 *
 * Threads: runner_sync() is called from one worker thread at a time.
 * runner_busy(), runner_last_end_ms(), runner_drift() and runner_last_status()
 * may be called from any thread at any time.
 */
#ifndef PACER_CMD_RUNNER_H
#define PACER_CMD_RUNNER_H

#include <signal.h>

#include "cmd/pacer/cli.h"
#include "reconcile/sync.h"

struct json_object;
struct metrics;
struct runner;

/*
 * env is borrowed and must outlive the runner; *so is copied (its pointers
 * are borrowed: stop, abandon, flags, on_event). The caller owns the
 * abandon flag: it sets it only while it knows a sync of an older state
 * runs, and clears it before the next one. metrics may be NULL (no recording); borrowed.
 * Returns 0 and *out (free with runner_free()), or -1 when out of memory.
 */
int runner_new(struct runner **out, struct cli_env *env, const struct sync_options *so,
               struct metrics *metrics, struct pacer_error **err);

/*
 * After every sync also write the metrics to `path` for node_exporter's
 * textfile collector (report_metrics_file(): atomic, counters carried over
 * from the file), as `pacer sync --metrics-file` does. path is borrowed and
 * must outlive the runner; cmd names the command in messages. Call before
 * the first sync.
 */
void runner_set_metrics_file(struct runner *r, const char *cmd, const char *path);

/* NULL is a no-op. No sync may be running. */
void runner_free(struct runner *r);

/*
 * Run one whole sync; reason ("startup", "files changed", "commit 1a2b3c",
 * "drift", "resync") goes into the log line. Returns 0 when it converged,
 * else the sync's code (PACER_EINVALID: desired state did not load,
 * PACER_EUNREACHABLE: Marathon or the remote could not be reached,
 * PACER_ECANCELLED: abandoned for a newer run, -1 or another code: some app
 * failed). status_out may be NULL; else it gets a new JSON object (the
 * sync_result_to_json() shape, plus "commit" and "reason"); the caller
 * releases it with json_object_put(). The serve_sync_fn signature.
 */
int runner_sync(void *runner, const char *reason, struct json_object **status_out);

/*
 * runner_sync() of the apps in only (absolute ids, NULL-terminated,
 * borrowed; NULL = every app) and what they depend on: sync_options.only.
 * The status JSON then has "only": [ids]. The serve_sync_only_fn signature.
 */
int runner_sync_only(void *runner, const char *reason, const char *const *only,
		     struct json_object **status_out);

/* 1 while a sync runs. */
int runner_busy(struct runner *r);

/* Monotonic milliseconds when the last sync ended (0: none yet). */
long long runner_last_end_ms(struct runner *r);

/*
 * Compare a live app definition (e.g. the appDefinition of an
 * api_post_event; borrowed) with the desired state of the last sync that
 * loaded one. Returns 1 and *paths (the changed fields, comma-separated,
 * caller frees) and *app_id (caller frees) when the app is desired and
 * differs; 0 when it is not desired, equal, or no desired state is known
 * yet; -1 on failure (not an object, out of memory).
 */
int runner_drift(struct runner *r, struct json_object *live, char **app_id, char **paths);

/* The last sync's status JSON (a new reference; NULL before the first sync). */
struct json_object *runner_last_status(struct runner *r);

#endif
