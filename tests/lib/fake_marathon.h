/*
 * fake_marathon.h: in-memory test doubles for the sync engine's unit tests.
 *
 * fake_marathon is a `struct pacer_marathon` that keeps apps and
 * deployments in memory, no HTTP. Its rules follow SPEC.md where the engine
 * depends on them:
 * - every PUT/POST/DELETE/restart starts a deployment that is listed by
 *   GET /v2/deployments until that call has been made `polls` times
 *   (fake_marathon_set_polls, default 2), then vanishes and the app runs
 *   `instances` healthy tasks;
 * - force cancels the app's running deployments, without force a change of
 *   an app in deployment is PACER_ELOCKED;
 * - DELETE /v2/deployments/{id} without force cancels and starts a
 *   rollback deployment to the previous definition (a created app is
 *   removed);
 * - behaviour is carried by the definition itself, label "fake":
 *     "unhealthy"  its deployments never finish (Marathon keeps relaunching)
 *     "cancel"     its deployment vanishes but the app has 0 healthy tasks
 *     "reject"     PUT/POST answer 422 (PACER_EINVALID)
 *   so rolling back to a definition without the label heals the app.
 * Every call is appended to a log ("put /a", "create /b", "list_deployments",
 * "delete_deployment dep-3", ...) that the fake stores below share, so tests
 * check what happened in what order. Thread-safe.
 *
 * fake_source / fake_state / fake_backup: a source over an in-memory table,
 * a state store and a backup store, logging to the same fake_marathon
 * ("backup /a", "own /a", "disown /a", "revision abc").
 */
#ifndef PACER_FAKE_MARATHON_H
#define PACER_FAKE_MARATHON_H

#include <pthread.h>
#include <signal.h>

#include "reconcile/backup.h"
#include "reconcile/cache.h"
#include "reconcile/desired.h"
#include "reconcile/exec.h"
#include "reconcile/marathon.h"
#include "reconcile/source.h"
#include "reconcile/sync.h"

struct json_object;
struct fake_marathon;

/* New fake; free with pacer_marathon_free(fake_marathon_api(f)). */
struct fake_marathon *fake_marathon_new(void);
struct pacer_marathon *fake_marathon_api(struct fake_marathon *f);

/* Add a live app (JSON text with an absolute "id"), running healthy (with the
 * label "fake": "unhealthy", running and none healthy). 0 or -1. */
int fake_marathon_add_app(struct fake_marathon *f, const char *json);
/* The frameworkId GET /v2/info names (NULL or "": none, the default). */
void fake_marathon_set_framework(struct fake_marathon *f, const char *id);
/* Deployments vanish after this many GET /v2/deployments (>= 1). */
void fake_marathon_set_polls(struct fake_marathon *f, int polls);
/* The next `times` calls of op ("put_app", "list_deployments", ...) fail with code. */
void fake_marathon_fail(struct fake_marathon *f, const char *op, int code, int times);

/* Append a line to the shared log (used by the fake stores). */
void fake_marathon_log(struct fake_marathon *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The log, one call per line; caller frees. */
char *fake_marathon_calls(struct fake_marathon *f);
/* Index of the first log line equal to `line` at or after `from`, or -1. */
int fake_marathon_find(struct fake_marathon *f, const char *line, int from);
/* How many log lines start with prefix. */
int fake_marathon_count(struct fake_marathon *f, const char *prefix);
/* Most deployments listed at the same time (rollbacks included). */
int fake_marathon_max_inflight(struct fake_marathon *f);
/* Whether a PUT/POST body ever carried "version". */
int fake_marathon_saw_version(struct fake_marathon *f);
/* Copy of the stored definition of app id (json_object_put), or NULL. */
struct json_object *fake_marathon_app(struct fake_marathon *f, const char *id);
/* The definition's "fake" label (borrowed from def), "" when it has none or def is NULL. */
const char *fake_marathon_label(struct json_object *def);

/*
 * A source over files[] = {path, content, path, content, ..., NULL}
 * (copied), handing "k" + cache_digest() of each content as its key.
 * revision may be NULL. Free with pacer_source_free().
 */
struct pacer_source *fake_source_new(const char *const *files, const char *revision);

/*
 * desired_load() over fake_source_new(files, NULL) with cache and flags
 * (both may be NULL): the desired state, which the caller frees with
 * desired_free(). A failed load fails the running Criterion test.
 */
struct pacer_desired *fake_desired_load(const char *const *files, struct pacer_cache *cache,
                                        const struct appdef_flags *flags);
/*
 * What the next run reads of cache c: c written with tag, freed, and read
 * back into a new cache, which the caller frees with cache_free(). Failing
 * steps fail the running Criterion test.
 */
struct pacer_cache *fake_cache_roundtrip(struct pacer_cache *c, const char *tag);

/* State store. log may be NULL. Free with pacer_state_store_free(). */
struct pacer_state_store *fake_state_new(struct fake_marathon *log);
int fake_state_owns(struct pacer_state_store *s, const char *id);
/* Last saved revision, borrowed; NULL when none. */
const char *fake_state_revision(struct pacer_state_store *s);
/* The next `times` calls of op ("add_owned", "doc_save", ...) fail with PACER_EIO. */
void fake_state_fail(struct pacer_state_store *s, const char *op, int times);
/*
 * Give the store the doc_* methods (in memory; saves and removes are logged
 * as "doc_save NAME", "doc_remove NAME"), so that the journal, held
 * failures and the cluster identity are kept. Without it the store has no
 * documents, as the tests of other parts expect.
 */
void fake_state_enable_docs(struct pacer_state_store *s);
/* How many documents the store holds. */
size_t fake_state_ndocs(struct pacer_state_store *s);

/* Backup store. log may be NULL. Free with pacer_backup_store_free(). */
struct pacer_backup_store *fake_backup_new(struct fake_marathon *log);
size_t fake_backup_count(struct pacer_backup_store *s);
/* The i-th saved definition, borrowed. */
struct json_object *fake_backup_get(struct pacer_backup_store *s, size_t i);
/* The next `times` save() calls fail with PACER_EIO. */
void fake_backup_fail(struct pacer_backup_store *s, int times);

/*
 * A fake Marathon with a backup and a state store that log into it: the
 * three a run writes to. Free with pacer_backup_store_free(*b),
 * pacer_state_store_free(*s) and pacer_marathon_free(*m), which frees the
 * fake too.
 */
struct fake_marathon *fake_marathon_with_stores(struct pacer_marathon **m,
                                                struct pacer_backup_store **b,
                                                struct pacer_state_store **s);
/* SYNC_OPTIONS_INIT as unit tests run it: a poll every 10 ms, a 1 s timeout. */
void fake_sync_options_init(struct sync_options *o);

/*
 * What a step that changes Marathon (apply, rollback) runs in, for its
 * unit tests: a fake Marathon, state and backup stores, a waiter polling
 * every 10 ms, options with a 1 s timeout, and the execution context c
 * over them (revision "abc123"). Progress events are counted by kind in
 * nevents. Release with fake_exec_fini().
 */
struct fake_exec {
	struct fake_marathon *f;
	struct pacer_marathon *m;
	struct pacer_backup_store *b;
	struct pacer_state_store *s;
	struct waiter *w;
	struct sync_options o;
	struct exec_ctx c;
	volatile sig_atomic_t unreachable;
	int nevents[5];
	pthread_mutex_t evmu;
};
/* 0, or -1 when the waiter could not be started. */
int fake_exec_init(struct fake_exec *e);
void fake_exec_fini(struct fake_exec *e);
/* The live app id as GET /v2/apps shows it (server fields included): a new
 * reference (json_object_put()), NULL when Marathon has no such app. */
struct json_object *fake_exec_live(struct fake_exec *e, const char *id);

#endif
