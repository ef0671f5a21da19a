/*
 * wait.h: the one deployment waiter shared by every app of a sync run.
 *
 * Many apps deploy at once, and Marathon must not be polled once per app
 * per interval. A waiter owns one thread that, every poll interval, makes
 * ONE GET /v2/deployments for all the apps being waited on, and at most
 * ONE GET /v2/apps in the same cycle (only when a deployment vanished, an
 * app is being checked for health after its deployment, or a progress
 * report is due). When the last whole list had at least 64 apps per app
 * judged in the cycle (a large cluster, a few apps deploying), those apps
 * are read one by one (GET /v2/apps/{id}) instead of the whole list. Worker threads call waiter_wait() and block until their
 * app is done.
 *
 * "Done" for an app:
 *   WAITER_HEALTHY: its deployment id is no longer listed AND the app runs
 *                   `instances` tasks that are healthy (when it has health
 *                   checks) or running (when it has none).
 *   WAITER_GONE:    its deployment id is no longer listed AND the app is no
 *                   longer in GET /v2/apps (a delete).
 * An empty deployment id means "Marathon returned none": only the app's
 * state is checked.
 *
 * Times come from CLOCK_MONOTONIC; the poll interval is the only clock knob
 * (tests use 10 ms).
 */
#ifndef PACER_WAIT_H
#define PACER_WAIT_H

#include <signal.h>

#include "reconcile/base/error.h"
#include "reconcile/marathon.h"

struct waiter;

/* What a poll interval or a timeout <= 0 means. */
#define WAITER_DEFAULT_POLL_MS 1000
#define WAITER_DEFAULT_TIMEOUT_S 600

enum waiter_goal {
	WAITER_HEALTHY = 0,
	WAITER_GONE,
};

/*
 * Called from the waiter thread (with the waiter's lock held: the callback
 * must not call back into the waiter) whenever fresh task counts for the
 * app were read: at most every couple of seconds.
 */
typedef void (*waiter_progress_cb)(void *ctx, const char *app_id, const char *deployment_id,
				   int healthy, int running, int total);

/*
 * Start a waiter polling `m` (borrowed; must outlive the waiter) every
 * poll_ms milliseconds (<= 0 means 1000). *out is freed with waiter_free().
 */
int waiter_new(struct pacer_marathon *m, int poll_ms, struct waiter **out,
	       struct pacer_error **err);

/*
 * Stop the thread and free. Every waiter_wait() must have returned.
 * NULL is a no-op.
 */
void waiter_free(struct waiter *w);

/*
 * Block until app_id's deployment reaches `goal` or timeout_s seconds pass
 * (<= 0 means 600). Safe to call from many threads at once. Returns:
 *   0                  done;
 *   PACER_ETIMEOUT     the deadline passed (message: tasks healthy/total);
 *   PACER_EFAILED      the deployment ended but the app is not healthy
 *                      (cancelled, or superseded), or the app vanished;
 *   PACER_EUNREACHABLE Marathon could not be polled for several cycles in a
 *                      row (the last poll error is the cause).
 * On failure *err names the app and deployment. cb may be NULL.
 */
int waiter_wait(struct waiter *w, const char *app_id, const char *deployment_id,
		enum waiter_goal goal, int timeout_s, waiter_progress_cb cb, void *cb_ctx,
		struct pacer_error **err);

/*
 * waiter_wait() that also hands out, on success with WAITER_HEALTHY, the app
 * as the last GET /v2/apps showed it (*out_app: caller puts; NULL on
 * failure, or when not read), so the caller can check that the version it
 * submitted is the one running without another request.
 */
int waiter_wait_app(struct waiter *w, const char *app_id, const char *deployment_id,
		    enum waiter_goal goal, int timeout_s, waiter_progress_cb cb, void *cb_ctx,
		    struct json_object **out_app, struct pacer_error **err);

/*
 * Stop: like abandon below, for SIGTERM/SIGINT (sync_options.stop): waits
 * return PACER_ECANCELLED within one poll interval and leave the
 * deployments to the journal and the next run.
 */
void waiter_set_stop(struct waiter *w, volatile sig_atomic_t *flag);

/*
 * Abandon: when *flag (may be NULL = never; borrowed, must outlive the
 * waiter) becomes non-zero, every wait in progress and every later one
 * returns PACER_ECANCELLED within one poll interval, without judging the
 * deployment (sync_options.abandon: a newer run supersedes this one).
 */
void waiter_set_abandon(struct waiter *w, volatile sig_atomic_t *flag);

/*
 * A bell that Marathon's event stream rings when a deployment ended
 * (deployment_success, deployment_failed): every waiter attached to it
 * runs its next poll cycle now instead of at the interval, so a wave of
 * --parallel deployments is seen done as soon as Marathon is done, not up
 * to a poll interval later. A ring is a hint, never an answer: the cycle
 * reads the deployments and the apps back as always, and without rings
 * the waiter polls at its interval. Rings closer than
 * WAITER_BELL_MIN_GAP_MS to the previous cycle are coalesced into one
 * cycle at that gap (a burst of events costs one GET /v2/deployments).
 *
 * on_first_attach (may be NULL) is called once, from the thread of the
 * first waiter_set_bell() and outside every waiter lock, so the caller
 * opens the event stream only for a run that waits for something.
 * Thread-safe: waiter_bell_ring() may be called from any thread. Free the
 * bell after every waiter attached to it.
 */
#define WAITER_BELL_MIN_GAP_MS 20
struct waiter_bell;

int waiter_bell_new(struct waiter_bell **out, void (*on_first_attach)(void *ctx), void *ctx,
                    struct pacer_error **err);
void waiter_bell_ring(struct waiter_bell *b);
/* Rings so far, for tests and logs. */
unsigned long waiter_bell_rings(struct waiter_bell *b);
void waiter_bell_free(struct waiter_bell *b);
/* Attach w to b (borrowed; NULL: none). waiter_free() detaches it. */
void waiter_set_bell(struct waiter *w, struct waiter_bell *b);

/* Poll cycles made so far (one GET /v2/deployments each), for tests and logs. */
unsigned long waiter_cycles(struct waiter *w);

/*
 * Whether a live app object (from GET /v2/apps) runs its instances healthy:
 * tasksHealthy (with health checks) or tasksRunning (without) >= instances.
 * Fills the counts when the pointers are not NULL.
 */
int waiter_app_converged(struct json_object *app, int *healthy, int *running, int *total);

#endif
