/*
 * desired.h: the desired state, loaded from a source (reconcile/source.h).
 *
 * Every file holds one app, {"app": {...}}, an array of apps, or a group
 * ({"id": "/g", "apps": [...], "groups": [...]}), flattened into apps whose
 * ids are resolved against their group's id. Each app keeps where it came
 * from (file and line:col) for messages.
 *
 * Loading never stops at the first problem: every file is read and every
 * problem is collected (malformed JSON with line:col, not an object, missing
 * or invalid id, wrong field types, unrendered templates such as ${VAR} or
 * {{ }} where an id or number must be, duplicate ids naming both files, a key
 * written twice in one object with different values, naming both places,
 * a "pacer.timeout" label sync would refuse, dependency cycles among the
 * desired apps naming the cycle), so that a user fixes them all at once.
 * Read-only fields (version, tasks, ...) are dropped with a warning, and so
 * is a key repeated with the same value. A load with any error must stop
 * the run before anything is applied.
 */
#ifndef PACER_DESIRED_H
#define PACER_DESIRED_H

#include <stddef.h>

#include "reconcile/base/error.h"
#include "reconcile/model/appdef.h"
#include "reconcile/source.h"

struct json_object;
struct pacer_cache;
struct desired_blob;

struct pacer_desired_app {
	char *id;                /* absolute app id */
	struct json_object *def; /* the app as written: group-flattened, id absolute,
				    dependencies absolute, read-only fields removed; owned */
	char *file;              /* path relative to the source root */
	int line, col;           /* where the app's object starts, 1-based */
	char *key;               /* the source's key for the file's content
				    (reconcile/cache.h), owned, or NULL */
	struct desired_blob *blob; /* internal: while def is not parsed yet (a
	                              cache hit), the file's bytes or the source
	                              to read them from, and the app's
	                              dependencies */
	struct json_object *submitted; /* internal: during a visit only (see
	                                  desired_options.visit), Marathon's
	                                  stored form of def when the load's
	                                  validation made it under the flags
	                                  the normaliser uses, else NULL; owned */
};

/* How bad a diagnostic is: an error stops the sync, a warning does not. */
enum pacer_diag_severity {
	PACER_DIAG_WARNING = 0,
	PACER_DIAG_ERROR,
};

struct pacer_diag {
	int is_error;        /* 1 for PACER_DIAG_ERROR, 0 for PACER_DIAG_WARNING */
	struct pacer_error *error; /* owned; names file:line:col and app when known */
};

struct pacer_desired {
	struct pacer_desired_app *apps; /* sorted by id */
	size_t napps;
	struct pacer_diag *diags;       /* in file order */
	size_t ndiags;
	size_t nerrors;                 /* diags with is_error */
	size_t nfiles;                  /* files read */
	char *revision;                 /* source revision (commit id) or NULL */
	struct desired_mem *mem;        /* the loader's own (desired.c); NULL until it loads */
};

struct desired_options {
	unsigned version;
	/*
	 * When not NULL, every app is also run through Marathon's own
	 * validation (appdef_submit) with these flags and a rejection is an
	 * error naming the reason ("pacer validate"). When NULL only the
	 * checks that hold under any server flags are made.
	 */
	const struct appdef_flags *flags;
	/*
	 * When not NULL, a file whose content key (from the source) the cache
	 * knows as loading cleanly under these flags is not parsed at all: its
	 * apps are added with def NULL and their file's bytes kept, and
	 * desired_app_def() parses them when asked. Files that load with no
	 * error and no warning are added to the cache. Borrowed.
	 */
	struct pacer_cache *cache;
	/*
	 * When not NULL, called for each app of a file that loaded with no
	 * error, its definition parsed, once the whole file is loaded. A
	 * return of 1 says the definition is not needed any more (say, it
	 * equals the app Marathon runs): the app then keeps only its file's
	 * bytes and its dependencies, as an app from the cache does, and
	 * desired_app_def() parses it again when asked. 0 keeps it. The app
	 * is borrowed for the call (its key is already set).
	 */
	int (*visit)(void *ctx, struct pacer_desired_app *a);
	void *visit_ctx;
};
/*
 * With a cache and a source that reads lazily (source.h read_lazy/load,
 * e.g. git), a cached file's bytes are not even read: the desired state
 * then borrows the source to read them if an app needs its definition, so
 * the source must outlive it.
 */
#define DESIRED_OPTIONS_VERSION 1
#define DESIRED_OPTIONS_INIT {DESIRED_OPTIONS_VERSION, NULL, NULL, NULL, NULL}

/*
 * Read every file of `src` and build the desired state. Returns 0 when the
 * source could be read (even if files had errors: check out->nerrors), or a
 * negative code with *err when the source itself failed (directory missing,
 * git fetch failed). *out is owned by the caller: desired_free().
 */
int desired_load(struct pacer_source *src, const struct desired_options *opts,
		 struct pacer_desired **out, struct pacer_error **err);

/*
 * Parse one file's bytes into `d` (used by desired_load and by tests).
 * Appends apps and diagnostics; duplicates are detected by desired_finish().
 */
int desired_add_file(struct pacer_desired *d, const char *path, const char *data, size_t len,
		     const struct desired_options *opts);
/*
 * Sort apps, report duplicate ids, apps sharing an id with a group, and
 * dependency cycles. A dependency names an app or a group (then it means
 * every app below it, as Marathon reads it); one that names nothing
 * desired (an app that is only live, or none at all) orders nothing and
 * is allowed. Each cycle is one error at the position of its first app
 * (by id) whose message names the cycle ("/a -> /b -> /a") and where the
 * other apps of it are.
 */
int desired_finish(struct pacer_desired *d);

/*
 * Add the warning "no app definitions found in <where>": a source that
 * asks for no app at all (an empty directory, or one with only YAML) is
 * more likely a wrong path than an intent. desired_load() adds it when the
 * whole load found no app and no error; pacer validate for each directory
 * that gave none. Returns 0, -1 when out of memory.
 */
int desired_warn_empty(struct pacer_desired *d, const char *where);

/*
 * Unknown fields (Marathon ignores them silently) are warned about one by
 * one, each with its line, up to this many per app; the rest are counted
 * in one more warning. Each position costs a scan of the app's text, so
 * the cap also bounds the time a file full of them takes to load.
 */
#define DESIRED_UNKNOWN_LISTED 50

/*
 * The label "pacer.timeout" of an app definition (borrowed): *out_s is
 * the deployment timeout in seconds it sets, 0 when the label is absent.
 * The value is a whole number of seconds from 1 to
 * DESIRED_TIMEOUT_MAX, optionally followed by "s" ("900", "900s").
 * Returns 0, or PACER_EINVALID with *err saying what to write (no
 * position: the caller adds where the app is). The one parser of this
 * label: the loader rejects what the plan would.
 */
#define DESIRED_TIMEOUT_MAX (7 * 24 * 3600)
int desired_label_timeout(struct json_object *def, int *out_s, struct pacer_error **err);

/* A new, empty desired state (no apps, no diagnostics), or NULL when out of
 * memory; free with desired_free(). */
struct pacer_desired *desired_new(void);
/*
 * The app's definition (a->def), parsed now from the file's kept bytes when
 * the app came from the cache. Returns 0 and sets a->def (owned by the
 * app, as always), or -1 when out of memory or when the bytes no longer
 * yield this app (*err says so). Not thread-safe: it may change `a`.
 */
int desired_app_def(struct pacer_desired_app *a, struct pacer_error **err);
/* Lookup by absolute id (binary search); borrowed, NULL when absent. */
const struct pacer_desired_app *desired_find(const struct pacer_desired *d, const char *id);
void desired_free(struct pacer_desired *d);

#endif
