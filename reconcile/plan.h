/*
 * plan.h: what a sync will do, app by app.
 *
 * The plan compares the desired state with the live apps of one
 * GET /v2/apps after both are normalised (reconcile/normalize.h), so an
 * unchanged app never shows as changed. Items come in a stable order: by
 * dependency wave (an app comes after the apps it depends on), then by id.
 */
#ifndef PACER_PLAN_H
#define PACER_PLAN_H

#include <stddef.h>

#include "reconcile/base/error.h"
#include "reconcile/desired.h"
#include "reconcile/diff.h"

struct json_object;

enum pacer_action {
	PACER_ACT_UNCHANGED = 0,
	PACER_ACT_CREATE,
	PACER_ACT_UPDATE,
	PACER_ACT_PRUNE,
};

/*
 * The action's name in JSON documents and logs: "create", "update",
 * "prune", "unchanged" ("unknown" for a value outside the enum). Static
 * string. Defined in plan_render.c; shared by plan_to_json() and
 * sync_result_to_json().
 */
const char *plan_action_name(enum pacer_action a);

struct pacer_plan_item {
	enum pacer_action action;
	char *app_id;                 /* owned */
	struct json_object *body;     /* owned: what to PUT/POST (desired as written,
					 plus instances from live when the file does
					 not own them); NULL for prune/unchanged */
	struct json_object *live;     /* owned: live app from GET, NULL for create */
	struct pacer_field_change *changes; /* owned, for update */
	size_t nchanges;
	char *file;                   /* owned: desired file, NULL for prune */
	char **depends_on;            /* owned: absolute ids (desired dependencies) */
	size_t ndeps;
	int wave;                     /* 0 = no dependencies inside the plan */
	int timeout_s;                /* per-app deployment timeout from the label
					 "pacer.timeout", 0 when not set */
};

struct pacer_plan {
	struct pacer_plan_item *items;
	size_t n;
	size_t ncreate, nupdate, nunchanged, nprune;
	char *revision; /* source revision (commit), owned, or NULL */
};

struct plan_options {
	unsigned version;
	/* Apps that may be pruned (pacer owns them); NULL = prune nothing. */
	const char *const *owned;
	size_t nowned;
	/* Leave every app's instances alone (--ignore-instances). The label
	 * "pacer.instances": "unmanaged" in a file does the same for one app. */
	int ignore_instances;
	/* Desired apps already known to equal their live app (plan_compare()
	 * or the cache): sorted ids, borrowed. They become UNCHANGED items with
	 * no live object, whether or not live_apps holds them. */
	const char *const *unchanged;
	size_t nunchanged;
};
#define PLAN_OPTIONS_VERSION 1
#define PLAN_OPTIONS_INIT {PLAN_OPTIONS_VERSION, NULL, 0, 0, NULL, 0}

/*
 * Build the plan. live_apps (borrowed) is the "apps" array of GET /v2/apps.
 * Returns 0 and *out (plan_free()), or PACER_EINVALID when dependencies form
 * a cycle (the message names it).
 */
int plan_build(struct pacer_desired *desired, struct json_object *live_apps,
	       const struct plan_options *opts, struct pacer_plan **out,
	       struct pacer_error **err);

void plan_free(struct pacer_plan *p);

/*
 * Keep only the items for which keep(ctx, item) is non-zero, in their order,
 * and recount (`pacer sync APP...`). Dropped items are freed.
 */
void plan_retain(struct pacer_plan *p, int (*keep)(void *ctx, const struct pacer_plan_item *it),
		 void *ctx);
/*
 * Compare one desired app with its live app (an element of GET /v2/apps,
 * borrowed) by the rules of plan_build(): *unchanged is 1 when the plan
 * would hold it as UNCHANGED. Parses the desired app's file when it came
 * from the cache (desired_app_def()). Returns 0, or an error as
 * plan_build() would give for this app (e.g. a bad "pacer.timeout").
 */
int plan_compare(struct pacer_desired_app *d, struct json_object *live,
		 const struct plan_options *opts, int *unchanged, struct pacer_error **err);

/* plan_compare() for a live app parsed only for it: live may be changed
 * (normalize_app_inplace()); it stays the caller's to release. */
int plan_compare_inplace(struct pacer_desired_app *d, struct json_object *live,
			 const struct plan_options *opts, int *unchanged,
			 struct pacer_error **err);

/*
 * Render like git diff, for review: "+ /app (file)" create, "~ /app (file)"
 * update, "- /app" prune, each followed by one line per changed leaf with
 * its full path and whole value, never cut:
 *     ~ /container/docker/image: "nginx:1.24" -> "nginx:1.25"
 *     + /env/NEW: "x"
 *     - /healthChecks: {"gracePeriodSeconds":300,...,"protocol":"HTTP"}
 *     + /healthChecks: {"gracePeriodSeconds":300,...,"protocol":"HTTPS"}
 * Objects and ordered arrays are descended into ("/portDefinitions/0/port");
 * an element of a set-like collection (constraints, healthChecks,
 * dependencies, acceptedResourceRoles, readinessChecks) is shown whole, a
 * changed one as removed + added. A create and a prune list every leaf of
 * the normalised definition. Then a summary line. Colour only when
 * `color`. Caller frees.
 */
char *plan_render_text(const struct pacer_plan *p, int color, int show_unchanged);

/*
 * The same plan as one JSON document (new object, caller puts): per app its
 * id, action, file, wave and changes (path, old, new; values whole), and as
 * "definition" the body a create sends or the live app a prune deletes.
 */
struct json_object *plan_to_json(const struct pacer_plan *p);

#endif
