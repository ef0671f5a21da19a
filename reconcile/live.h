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
#include "reconcile/desired.h"
#include "reconcile/marathon.h"
#include "reconcile/plan.h"

struct json_object;

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

void live_release(struct live_set *s);

#endif
