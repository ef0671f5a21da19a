/*
 * run.h: the vocabulary of one reconciliation run, below every step that
 * makes it up.
 *
 * The steps (apply, rollback, restore, resume, the journal, held failures,
 * suspensions, the history) and the run that drives them (sync.h) share
 * these values: the options of a run, the outcome of each app, the result
 * rows, the progress events and the state store interface. Keeping them
 * here lets a step include what it needs without including the run that
 * drives it; sync.h, the top of the pipeline, includes this header.
 */
#ifndef PACER_RUN_H
#define PACER_RUN_H

#include <signal.h>
#include <stddef.h>

#include "reconcile/base/error.h"
#include "reconcile/base/strv.h"
#include "reconcile/desired.h"
#include "reconcile/model/appdef.h"
#include "reconcile/plan.h"

struct waiter_bell;

/*
 * Persistent state of pacer between runs (backends/fs/state.c keeps it in
 * the state directory, written durably). "Owned" apps are the ones pacer
 * created or applied: only those can ever be pruned. Ownership is recorded
 * before the app is created, so a crash can never leave an app pacer made
 * but does not know about.
 */
struct pacer_state_store {
	/* *ids is a NULL-terminated array; free with pacer_strv_free(). */
	int (*load_owned)(struct pacer_state_store *s, char ***ids, struct pacer_error **err);
	int (*add_owned)(struct pacer_state_store *s, const char *const *ids, size_t n,
			 struct pacer_error **err);
	int (*remove_owned)(struct pacer_state_store *s, const char *const *ids, size_t n,
			    struct pacer_error **err);
	/* Last revision (commit) applied with every app converged; *out NULL if none. */
	int (*load_last_revision)(struct pacer_state_store *s, char **out, struct pacer_error **err);
	int (*save_last_revision)(struct pacer_state_store *s, const char *rev,
				  struct pacer_error **err);
	/*
	 * Optional (NULL = no cache): the run-to-run cache's bytes
	 * (reconcile/cache.h). load: *data NULL when there is none yet, else
	 * owned by the caller (free()). save replaces it as a whole.
	 */
	int (*load_cache)(struct pacer_state_store *s, char **data, size_t *len,
			  struct pacer_error **err);
	int (*save_cache)(struct pacer_state_store *s, const char *data, size_t len,
			  struct pacer_error **err);
	/*
	 * Small named documents, each written durably as a whole (temp file,
	 * fsync, rename, fsync the directory) so that a crash leaves the old or
	 * the new one, never a torn one: the intent journal
	 * ("journal/<digest>.json", reconcile/journal.h), held failures
	 * ("held.json") and the cluster identity ("cluster.json"). Names are
	 * made of [A-Za-z0-9._-] with at most one "/" for a folder.
	 *   doc_load:   *data NULL (and 0 returned) when the document does not
	 *               exist, else owned by the caller (free());
	 *   doc_save:   replaces the document;
	 *   doc_remove: 0 also when it did not exist;
	 *   doc_list:   the names of the documents in a folder ("journal"),
	 *               sorted, NULL-terminated; free with pacer_strv_free().
	 * Optional as a group: all four NULL means no journal (unit tests of
	 * other parts); sync then refuses nothing but records nothing either.
	 */
	int (*doc_load)(struct pacer_state_store *s, const char *name, char **data, size_t *len,
			struct pacer_error **err);
	int (*doc_save)(struct pacer_state_store *s, const char *name, const char *data,
			size_t len, struct pacer_error **err);
	int (*doc_remove)(struct pacer_state_store *s, const char *name, struct pacer_error **err);
	int (*doc_list)(struct pacer_state_store *s, const char *folder, char ***names,
			struct pacer_error **err);
	void (*free)(struct pacer_state_store *s);
};


enum sync_on_failure {
	SYNC_ON_FAILURE_ROLLBACK = 0, /* default */
	SYNC_ON_FAILURE_RESTART,
	SYNC_ON_FAILURE_NONE,
};

enum sync_outcome {
	SYNC_OUT_UNCHANGED = 0,
	SYNC_OUT_CREATED,
	SYNC_OUT_UPDATED,
	SYNC_OUT_PRUNED,
	SYNC_OUT_PLANNED,      /* dry run: would change */
	SYNC_OUT_FAILED,       /* failed, nothing more done (--on-failure none) */
	SYNC_OUT_ROLLED_BACK,  /* failed, previous version restored and healthy */
	SYNC_OUT_RESTARTED,    /* failed, restarted per policy */
	SYNC_OUT_ROLLBACK_FAILED, /* failed and the rollback failed too */
	SYNC_OUT_SKIPPED,      /* not started: stopped by a signal, or a dependency failed */
	SYNC_OUT_HELD,         /* this definition failed before: not tried again (held.h) */
	SYNC_OUT_DEGRADED,     /* definition in sync, but tasks unhealthy/failing/missing */
	SYNC_OUT_PROGRESSING,  /* definition in sync, a deployment pacer did not start runs */
	SYNC_OUT_UNKNOWN,      /* submitted, outcome unknown (reply lost, Marathon unreadable):
				  the journal keeps it and the next run reads it back */
	SYNC_OUT_INTERRUPTED,  /* submitted, stopped waiting (signal, newer run): the
				  journal hands it to the next run, nothing rolled back */
	SYNC_OUT_SUSPENDED,    /* differs from git, but an operator suspended it
				  (reconcile/suspend.h): left alone, not a failure */
};
/* The outcome's name in JSON, logs and the history ("created",
 * "rolled_back"...): a static string. */
const char *sync_outcome_name(enum sync_outcome o);

/* Progress events for the TTY display and the log. */
enum sync_event_kind {
	SYNC_EV_BACKUP,      /* backup written: detail = path */
	SYNC_EV_SUBMIT,      /* PUT/POST/DELETE accepted: deployment_id set */
	SYNC_EV_PROGRESS,    /* still waiting: tasks_healthy/tasks_total */
	SYNC_EV_DONE,        /* app finished: outcome set */
	SYNC_EV_ROLLBACK,    /* rollback started: detail = reason */
};
struct sync_event {
	enum sync_event_kind kind;
	const char *app_id;
	const char *deployment_id; /* or NULL */
	const char *detail;        /* or NULL */
	enum sync_outcome outcome;
	int tasks_healthy, tasks_running, tasks_total;
	double elapsed_s;
};

struct sync_options {
	unsigned version;
	int dry_run;
	int prune;            /* --prune */
	int force_prune;      /* --force-prune: allow deleting more than half the owned apps */
	int parallel;         /* max concurrent deployments; 0 = unbounded. Default 8 */
	int timeout_s;        /* per-app deployment timeout; default 600 */
	enum sync_on_failure on_failure;
	int atomic;           /* --atomic: any failure rolls back every change of the run */
	int ignore_instances; /* --ignore-instances */
	int poll_ms;          /* deployment poll interval; default 500 (one GET /v2/deployments for all apps) */
	const struct appdef_flags *flags; /* server flags for validation, NULL = universal checks */
	/* Set (by a signal handler) to stop starting new work; in-flight apps finish or roll back. */
	volatile sig_atomic_t *stop;
	void (*on_event)(void *ctx, const struct sync_event *ev); /* may be NULL; called from worker threads */
	void *event_ctx;
	/*
	 * Set (by another thread) to abandon the run: stop waiting for the
	 * deployments in flight WITHOUT rolling them back, and start nothing
	 * more, because a newer run will PUT with force and supersede them
	 * (watch/serve: "newest commit wins"). Abandoned apps end as
	 * SYNC_OUT_SKIPPED with a PACER_ECANCELLED error (the run returns 0,
	 * not converged). Checked at least once per poll_ms. May be NULL.
	 */
	volatile sig_atomic_t *abandon;
	/*
	 * Names the program for the run-to-run cache in the state store
	 * (reconcile/cache.h): entries written under another tag are ignored.
	 * NULL = no cache (every file parsed, every app normalised).
	 */
	const char *cache_tag;
	/* --retry-failed: apply held changes again (reconcile/held.h). */
	int retry_failed;
	/*
	 * Only these apps (absolute ids, borrowed; NULL = all), plus what they
	 * depend on so that ordering holds: `pacer sync APP...`.
	 */
	const char *const *only;
	size_t nonly;
	/* What started the run, for the history ("cli", "webhook", "interval"...); may be NULL. */
	const char *trigger;
	/*
	 * Called (when not NULL, and not in a dry run) once the run knows the
	 * revision it deploys (NULL for a source without one), before it reads
	 * Marathon or changes anything: commit statuses say "pending" here.
	 * Runs on the caller's thread; revision is borrowed for the call.
	 */
	void (*on_revision)(void *ctx, const char *revision);
	void *revision_ctx;
	/*
	 * Rung when Marathon's event stream reports a deployment ended: the
	 * run's waiter polls at once instead of at poll_ms (reconcile/wait.h).
	 * Borrowed; NULL = poll only. Attached when the run first waits.
	 */
	struct waiter_bell *bell;
};
#define SYNC_OPTIONS_VERSION 1
#define SYNC_OPTIONS_INIT                                                                          \
	{SYNC_OPTIONS_VERSION, 0, 0, 0, 8, 600, SYNC_ON_FAILURE_ROLLBACK, 0, 0, 500, NULL, NULL,  \
	 NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL}

struct sync_app_result {
	char *app_id;
	enum pacer_action action;
	enum sync_outcome outcome;
	char *deployment_id;      /* or NULL */
	char *backup_path;        /* or NULL */
	struct pacer_error *error; /* why it failed, or NULL */
	double seconds;
	int resumed;              /* finished a change an earlier run started (journal) */
	/* How the app runs, as the run's GET /v2/apps showed it (-1: not listed). */
	long tasks_healthy, tasks_running, instances;
	char version[40];
	char colour[8];           /* a blue/green app's live colour ("blue", "green"), or "" */
};

struct sync_result {
	struct pacer_desired *desired; /* owned; its diags say what failed to load */
	struct pacer_plan *plan;       /* owned; NULL when loading failed */
	struct sync_app_result *apps;  /* owned, in plan order */
	size_t napps;
	int converged;                 /* every app in sync at the end */
	size_t nfailed;
	char *revision;                /* source revision, or NULL */
	double seconds;
};

/* Free r and everything it owns (desired, plan, rows). NULL is a no-op. */
void sync_result_free(struct sync_result *r);

/* Free the members of one row (not the row itself) and zero it. */
void sync_app_result_release(struct sync_app_result *a);

/* Call the store's free slot. NULL is a no-op. */
static inline void pacer_state_store_free(struct pacer_state_store *s)
{
	if (s && s->free)
		s->free(s);
}

#endif
