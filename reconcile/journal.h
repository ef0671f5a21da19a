/*
 * journal.h: the intent journal. Before pacer sends anything that changes
 * Marathon, it writes down durably what it is about to do; afterwards it
 * records what came back; only when the outcome is settled is the entry
 * cleared. Every run first finishes what the journal holds
 * (reconcile/resume.h), so a run that was killed, superseded, or lost a
 * reply is finished or undone by the next one, never forgotten.
 *
 * One entry per app, as the document "journal/<digest of the id>.json" of
 * the state store (struct pacer_state_store's doc_* methods): an app has at
 * most one change in flight, and a newer intent for an app replaces the
 * older one in one durable write.
 *
 *   {"app": "/shop/api", "action": "update", "phase": "submitted",
 *    "body": {...}, "digest": "...", "backup": "/var/lib/pacer/backups/...",
 *    "commit": "3f2a...", "started": 1764690000, "deadline": 1764690600,
 *    "timeout": 600, "on_failure": "rollback",
 *    "deployment": "5ed4...", "version": "2026-12-02T14:25:08.123Z"}
 */
#ifndef PACER_JOURNAL_H
#define PACER_JOURNAL_H

#include "reconcile/base/error.h"
#include "reconcile/run.h"

struct json_object;

enum journal_action {
	JOURNAL_CREATE = 0, /* POST body */
	JOURNAL_UPDATE,     /* PUT body with force */
	JOURNAL_PRUNE,      /* DELETE with force */
	JOURNAL_UNDO,       /* putting back what `undo` changed: body is the previous
			       definition (NULL when undoing a create = DELETE) */
	JOURNAL_RESTART,    /* --on-failure restart of a failed change */
	JOURNAL_OPERATOR,   /* an operator's action (restart, cancel, scale, delete):
			       a later run waits for its deployment and reports it,
			       nothing is undone */
	JOURNAL_BLUEGREEN,  /* a blue/green release of the pair app_id
			       (reconcile/bluegreen_run.h): body is the new colour
			       at its target, backup the old colour; undo is
			       JOURNAL_BLUEGREEN while it is being reverted */
};

enum journal_phase {
	JOURNAL_INTENT = 0, /* written before the request: it may or may not have been sent */
	JOURNAL_SUBMITTED,  /* Marathon accepted it: deployment (maybe "") and version known */
	JOURNAL_UNKNOWN,    /* sent, no answer: maybe applied; read the app to know */
};

struct journal_entry {
	char *app_id;                /* owned */
	enum journal_action action;
	enum journal_action undo;    /* JOURNAL_UNDO: what is being undone */
	enum journal_phase phase;
	struct json_object *body;    /* owned reference or NULL: what is submitted */
	char digest[33];             /* of the desired body of the change (held key), or "" */
	char *backup;                /* owned or NULL: backup of the live app before the change */
	char *commit;                /* owned or NULL */
	long long started, deadline; /* wall clock, Unix seconds (survive a reboot) */
	int timeout_s;
	enum sync_on_failure on_failure;
	char *deployment;            /* owned or NULL */
	char *version;               /* owned or NULL */
};

/* Whether the state store keeps a journal at all (the doc_* methods). */
int journal_supported(const struct pacer_state_store *s);

/*
 * Durably write e (borrowed) as the app's entry, replacing any older one.
 * Returns 0, or a negative code with *err naming the state file; the caller
 * must then not send the request.
 */
int journal_write(struct pacer_state_store *s, const struct journal_entry *e,
		  struct pacer_error **err);

/* Durably remove the app's entry (0 when there was none). */
int journal_clear(struct pacer_state_store *s, const char *app_id, struct pacer_error **err);

/*
 * Every entry, sorted by app id. *out is an array of *n entries; free with
 * journal_entries_free(). An entry that cannot be parsed is an error naming
 * its file (never silently dropped: it may be the only record of a change).
 */
int journal_load(struct pacer_state_store *s, struct journal_entry **out, size_t *n,
		 struct pacer_error **err);

/* Release the members of one entry (not the entry itself). NULL-safe. */
void journal_entry_release(struct journal_entry *e);
void journal_entries_free(struct journal_entry *v, size_t n);

/*
 * An --atomic run that failed must be undone as a whole, also when it is
 * killed half-way through the undo: the first failure is written down
 * (document "atomic.json") before anything is held or undone, and cleared
 * once the run is settled. journal_atomic_pending() gives the failed app of
 * such an interrupted run (the caller frees it with free()), or NULL.
 */
void journal_atomic_failed(struct pacer_state_store *s, const char *failed_app);
char *journal_atomic_pending(struct pacer_state_store *s);
void journal_atomic_settled(struct pacer_state_store *s);

/* "create", "update", "prune", "undo", "restart", "operator", "bluegreen": a static string. */
const char *journal_action_name(enum journal_action a);

#endif
