/*
 * live.h: read the live apps for a plan (the one GET /v2/apps), comparing
 * each app with its desired app as it arrives, so that only the apps that
 * differ are kept in memory.
 *
 * With a cache (reconcile/cache.h) an app whose bytes and desired file are
 * the same as in an earlier run that found them equal is not even parsed.
 * Without one, or for anything new, every app is parsed and compared with
 * plan_compare(), which makes the same decision plan_build() would.
 */
#ifndef PACER_LIVE_H
#define PACER_LIVE_H

#include <stddef.h>

#include "reconcile/cache.h"
#include "reconcile/converge.h"
#include "reconcile/desired.h"
#include "reconcile/marathon.h"
#include "reconcile/plan.h"

struct json_object;

/* A desired app equal to its live app: how it runs. */
struct live_health {
	char *id; /* owned */
	enum converge_health health;
	char reason[200]; /* why it is not healthy, "" when it is */
	struct converge_tasks tasks;
};

struct live_set {
	/* The live apps a plan still needs (owned): those that differ from
	 * their desired app, and, when opts->owned is given, owned apps that
	 * are not desired (prune candidates). A JSON array. */
	struct json_object *kept;
	/* Desired apps equal to their live app, sorted; owned (live_release()). */
	char **unchanged;
	size_t nunchanged;
	size_t nlive;    /* apps Marathon listed */
	size_t nparsed;  /* of which were parsed (not known from the cache) */
	/* Every unchanged app's health and tasks (converge.h), sorted by id; owned. */
	struct live_health *health;
	size_t nhealth;
	/* Of the ids given to live_read_tracked(), those Marathon lists and
	 * nobody desires, sorted; owned. */
	char **tracked;
	size_t ntracked;
};

/*
 * Read the live apps from m and sort them into `out` against `desired`
 * under the plan options `opts` (owned, ignore_instances; borrowed).
 * `cache` may be NULL. Returns 0, or an error from Marathon or from
 * comparing an app (*err names it); out is then released.
 */
int live_read(struct pacer_marathon *m, struct pacer_desired *desired,
	      const struct plan_options *opts, struct pacer_cache *cache, struct live_set *out,
	      struct pacer_error **err);

/*
 * live_read() that also reports which of the apps `track` (borrowed, n
 * ids; e.g. the owned set) Marathon lists while no file desires them, so
 * that ownership of apps that are neither desired nor live can expire, and
 * judges the health of every unchanged app at `now` (Unix seconds).
 */
int live_read_tracked(struct pacer_marathon *m, struct pacer_desired *desired,
		      const struct plan_options *opts, const char *const *track, size_t ntrack,
		      long long now, struct pacer_cache *cache, struct live_set *out,
		      struct pacer_error **err);

/*
 * A run that has no cache to lean on (the first run, or PACER_NO_CACHE)
 * compares each desired app as its file is loaded, so that no desired
 * definition outlives its comparison:
 *   1. live_prefetch_read() reads the app list (the one GET /v2/apps) and
 *      keeps each app's bytes, indexed by id;
 *   2. desired_load() is given live_prefetch_visit() as its visit, with
 *      the prefetch as visit_ctx: each desired app is compared with its
 *      live app (plan_compare(), as live_read() would) and, when equal,
 *      released back to its file's bytes (desired.h);
 *   3. live_read_prefetched() then sorts the list into a live_set exactly
 *      as live_read_tracked() does, reading the apps the visits found
 *      equal from their bytes (health and tasks) without parsing them.
 * The list must still be what Marathon runs when it is sorted: a caller
 * that changed Marathon in between reads it again with live_read_tracked().
 */
struct live_prefetch;

/*
 * Read the app list of m (list_apps_raw) for `opts` (ignore_instances;
 * borrowed, read now). Returns 0 and *out (live_prefetch_free()), or an
 * error from Marathon (*err; *out NULL).
 */
int live_prefetch_read(struct pacer_marathon *m, const struct plan_options *opts,
		       struct live_prefetch **out, struct pacer_error **err);

/*
 * desired_options.visit: 1 when desired app d equals its live app in the
 * prefetch `ctx`, else 0 (no live app of that id, an id Marathon lists
 * twice, a difference, or an app that cannot be compared: live_read_
 * prefetched() compares those again, and reports what fails).
 */
int live_prefetch_visit(void *ctx, struct pacer_desired_app *d);

/* live_read_tracked() over the prefetched list pf (borrowed). */
int live_read_prefetched(struct live_prefetch *pf, struct pacer_desired *desired,
			 const struct plan_options *opts, const char *const *track,
			 size_t ntrack, long long now, struct pacer_cache *cache,
			 struct live_set *out, struct pacer_error **err);

void live_prefetch_free(struct live_prefetch *pf);

void live_release(struct live_set *s);

#endif
