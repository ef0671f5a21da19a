/*
 * runner.h: the sync queue of the long-running commands (watch, serve):
 * one worker thread that runs one sync at a time, coalesces the triggers
 * that arrive meanwhile, retries transient failures with backoff, and
 * keeps a status that the front ends read (serve's /status, watch's drift
 * checks).
 *
 * A front end feeds it triggers (runner_trigger()): watch its file,
 * git-poll, resync and drift triggers, serve its webhooks, API calls,
 * interval and suspended.json changes. What a sync is, is a function
 * (runner_sync_fn): envsync.h's envsync_run() in the program, a fake in the
 * tests.
 *
 * Queue semantics:
 *   - At most one sync runs and one waits behind it ("pending"). A trigger
 *     while none is pending makes one (a new sync id, its reason kept); a
 *     trigger while one is pending joins it (same id, first reason kept).
 *     A burst of triggers therefore yields at most two syncs, and none is
 *     lost: the pending sync starts after the last trigger arrived.
 *   - A pending sync of some apps (only) joined by another takes the
 *     union of both lists; joined by a sync of every app it becomes one.
 *   - RUNNER_SUPERSEDE: the source changed, so the sync that is running
 *     now works on an older state. The runner sets *supersede (the flag
 *     the front end gave the sync as sync_options.abandon): that sync stops
 *     waiting for its deployments (no rollback) and the pending one starts
 *     at once. The flag is cleared before and after every sync.
 *   - With retry, a sync that failed transiently (runner_transient()) is
 *     run again, reason "retry", after a backoff from retry_min_ms doubling
 *     up to retry_max_ms; any other outcome resets the backoff.
 *   - runner_hold() keeps a pending sync from starting (watch: files are
 *     being written) without dropping it.
 *
 * Threads: runner_start() starts the worker; every function below may be
 * called from any thread, except that runner_free() must not race the
 * others. The sync function and the hooks run on the worker thread. Lock
 * order: the runner's lock is taken before a front end's own locks (the
 * hooks' task_due runs under it), so a front end must never call the
 * runner while holding a lock task_due takes.
 */
#ifndef PACER_CMD_RUNNER_H
#define PACER_CMD_RUNNER_H

#include <pthread.h>
#include <signal.h>

#include "reconcile/base/error.h"

struct json_object;
struct runner;

/* The longest reason kept (longer ones are cut): "github push to main at 1a2b3c4d5e6f". */
#define RUNNER_REASON_MAX 256

/* Retries of a transiently failed sync: the first after 1 s, doubling up to a minute. */
#define RUNNER_RETRY_MIN_MS 1000L
#define RUNNER_RETRY_MAX_MS 60000L

enum runner_flags {
	/* The source changed: the running sync stops waiting (see above). */
	RUNNER_SUPERSEDE = 1 << 0,
};

/*
 * One sync: of the apps in only (NULL-terminated absolute ids, borrowed;
 * NULL = every app). Returns 0 when it converged, else its code. Sets
 * *status_out to a new JSON object describing it ("converged", "commit"
 * or "revision", "apps": [...]) or leaves it NULL; the runner takes the
 * reference.
 */
typedef int (*runner_sync_fn)(void *ctx, const char *reason, const char *const *only,
                              struct json_object **status_out);

/* What a finished sync did: handed to hooks.done, kept as the status's last. */
struct runner_result {
	unsigned long id;
	char reason[RUNNER_REASON_MAX];
	int partial;              /* a sync of some apps */
	int rc;                   /* what the sync function returned */
	int converged;            /* rc == 0 and the status did not say otherwise */
	double started, finished; /* wall clock, seconds since the epoch */
	double seconds;           /* how long it ran (monotonic) */
	/* The status JSON. In hooks.done: borrowed for the call. In a
	 * runner_status: a deep copy the snapshot owns, or NULL. */
	struct json_object *status;
};

/* Optional calls a front end adds to the worker (any may be NULL); all get ctx. */
struct runner_hooks {
	void *ctx;
	/* Work the worker does between syncs, before a pending one (watch's
	 * drift checks): task_due says when there is some (monotonic ms; <=
	 * now: at once; -1: none); called under the runner's lock. task_run
	 * does it, outside the lock. Use runner_wake() when task_due changes. */
	long long (*task_due)(void *ctx);
	void (*task_run)(void *ctx);
	/* Just before a pending sync starts, outside the lock: 1 runs it, 0
	 * leaves it pending (looked at again at the next wake-up). */
	int (*confirm)(void *ctx);
	/* A sync starts; a sync ended (res borrowed for the call). */
	void (*started)(void *ctx, unsigned long id, const char *reason, int partial);
	void (*done)(void *ctx, const struct runner_result *res);
};

struct runner_options {
	unsigned version;
	runner_sync_fn sync; /* required */
	void *ctx;           /* for sync and interrupt */
	/* Wakes a sync that waits for something other than Marathon (the
	 * state directory's lock) when the runner is stopped; may be NULL. */
	void (*interrupt)(void *ctx);
	/* The sync's sync_options.abandon (borrowed; NULL: nothing supersedes). */
	volatile sig_atomic_t *supersede;
	/* The process's stop flag (borrowed; may be NULL): no retry is planned
	 * for a sync that failed because it was stopped. */
	volatile sig_atomic_t *stop;
	int retry;                       /* retry transient failures */
	long retry_min_ms, retry_max_ms; /* 0: RUNNER_RETRY_MIN_MS, _MAX_MS */
	struct runner_hooks hooks;
};
#define RUNNER_OPTIONS_VERSION 1
#define RUNNER_OPTIONS_INIT                                                                        \
	{                                                                                          \
		.version = RUNNER_OPTIONS_VERSION                                                  \
	}

/* A snapshot of the queue, for reports (runner_status_get()). */
struct runner_status {
	int running;
	unsigned long running_id;
	int pending;
	unsigned long pending_id;
	char pending_reason[RUNNER_REASON_MAX];
	int held;
	unsigned long nsyncs;  /* syncs run so far */
	long long retry_at_ms; /* monotonic time of the planned retry; 0: none */
	long backoff_ms;       /* its wait; 0: no transient failure */
	int have_last;         /* last is set */
	struct runner_result last;
	double last_success;   /* wall clock of the last converged sync; 0: never */
	long long last_end_ms; /* monotonic end of the last sync; 0: none */
};

/*
 * Prepare a runner; nothing runs before runner_start(). opts is copied
 * (its pointers are borrowed and must outlive the runner). Returns 0 and
 * *out (free with runner_free()), PACER_EINVALID for a wrong version or no
 * sync function, -1 when out of memory.
 */
int runner_new(struct runner **out, const struct runner_options *opts, struct pacer_error **err);

/* Start the worker thread. Call once. 0, or -1 when the thread cannot start. */
int runner_start(struct runner *r, struct pacer_error **err);

/*
 * Ask for a sync (see the queue semantics above); reason is copied, only
 * (NULL = every app) is copied. Returns the id of the sync that will cover
 * this request. After runner_quit() it is dropped (returns 0).
 */
unsigned long runner_trigger(struct runner *r, const char *reason, unsigned flags,
                             const char *const *only);

/* While held, a pending sync does not start. */
void runner_hold(struct runner *r, int held);

/*
 * Take the pending sync off the queue without running it (a follower of
 * serve --ha hands it to the leader): 1 and its reason and *only (caller
 * frees with pacer_strv_free(); NULL = every app), or 0 when none was
 * pending.
 */
int runner_take_pending(struct runner *r, char reason[RUNNER_REASON_MAX], char ***only);

/* Make the worker look again (hooks.task_due or hooks.confirm may answer otherwise now). */
void runner_wake(struct runner *r);

/* 1 while a sync runs. */
int runner_busy(struct runner *r);

/*
 * Fill *out. with_json: out->last.status is a deep copy of the last
 * status JSON (else NULL); release it with runner_status_release().
 */
void runner_status_get(struct runner *r, int with_json, struct runner_status *out);
void runner_status_release(struct runner_status *st);

/*
 * Stop taking syncs: the pending one is dropped, none starts; with
 * RUNNER_SUPERSEDE the running one stops waiting for its deployments.
 * Returns at once; runner_stopped() says when the worker is done.
 */
void runner_quit(struct runner *r, unsigned flags);
/* 1 once the worker has returned (or never started). */
int runner_stopped(struct runner *r);
/* runner_quit(), then wait for the sync in flight to return. */
void runner_stop(struct runner *r, unsigned flags);

/* Stop (as runner_stop(r, 0)) and free. NULL is a no-op. */
void runner_free(struct runner *r);

/* The failures worth retrying: Marathon or git unreachable, HTTP, auth, timeouts, the lock. */
int runner_transient(int rc);

/*
 * A backoff: the first wait is min_ms, each next one doubles, up to max_ms;
 * reset starts over. Used for the sync retries and watch's event stream.
 */
struct runner_backoff {
	long min_ms, max_ms;
	long ms; /* the current wait; 0: none yet */
};
#define RUNNER_BACKOFF_INIT(min, max)                                                              \
	{                                                                                          \
		.min_ms = (min), .max_ms = (max), .ms = 0                                          \
	}
long runner_backoff_next(struct runner_backoff *b);
void runner_backoff_reset(struct runner_backoff *b);

/*
 * With mu held: wait on cv (from pacer_cond_init()) until woken or until
 * at_ms on the monotonic clock (pacer_now_ms()); at_ms < 0: until woken.
 * The runner's worker and watch's loop wait this way.
 */
void runner_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, long long at_ms);

#endif
