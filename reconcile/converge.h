/*
 * converge.h: what "in sync" means beyond "the definitions are equal".
 *
 * - An apply has converged only when the definition pacer submitted is the
 *   one that runs, healthy: a deployment that vanished because someone
 *   cancelled it (Marathon rolls back) or replaced it is a failure, not
 *   success. converge_matches() tells whether a live app runs a submitted
 *   body, by the same normalisation the plan uses.
 * - An app whose definition equals the desired one may still not be
 *   running well: converge_health_raw() reads its task counts, deployments
 *   and last task failure from the bytes Marathon sent (without parsing
 *   them into a tree, so a no-op sync of 10,000 apps stays cheap).
 * - A failed change is held by the digest of its body: converge_digest().
 */
#ifndef PACER_CONVERGE_H
#define PACER_CONVERGE_H

#include <stddef.h>

#include "reconcile/base/error.h"

struct json_object;

/*
 * *equal = 1 when the live app (an element of GET /v2/apps or the "app" of
 * GET /v2/apps/{id}; borrowed) runs the definition `body` (borrowed; as
 * submitted): equal after both are normalised, service ports 0 matching
 * assigned ones, instances compared only when the body owns them (no
 * "pacer.instances": "unmanaged" label) and ignore_instances is 0. Returns
 * 0, or a negative code when either cannot be normalised.
 */
int converge_matches(struct json_object *body, struct json_object *live, int ignore_instances,
		     int *equal, struct pacer_error **err);

/*
 * A digest of a definition that does not depend on key order (keys sorted
 * at every level, compact), 32 hex digits + NUL into out.
 */
void converge_digest(struct json_object *body, char out[33]);

enum converge_health {
	CONVERGE_HEALTHY = 0,
	CONVERGE_PROGRESSING, /* a deployment runs for the app */
	CONVERGE_DEGRADED,    /* no deployment, but too few healthy/running tasks,
				 or tasks failed recently (crash-looping) */
};

/* How recent a lastTaskFailure makes an app degraded, in seconds. */
#define CONVERGE_FAILURE_WINDOW_S 300

/* What status reports of an app's tasks, read with its health. */
struct converge_tasks {
	long instances, running, healthy;
	char version[40]; /* versionInfo.lastConfigChangeAt, else version; "" if none */
};

/*
 * The health of one live app from its JSON bytes (as GET /v2/apps with
 * embed=apps.counts, apps.deployments, apps.lastTaskFailure sends it).
 * now is the wall clock (Unix seconds). reason (may be NULL) gets a short
 * explanation for a non-healthy verdict ("1 of 3 instances healthy",
 * "deployment 5ed4... in progress", "tasks are failing: ... at ...").
 * tasks (may be NULL) gets the counts and the version.
 */
enum converge_health converge_health_raw(const char *json, size_t len, long long now,
					 char *reason, size_t reason_len,
					 struct converge_tasks *tasks);

/* The same for a parsed app (borrowed). tasks may be NULL. */
enum converge_health converge_health(struct json_object *app, long long now, char *reason,
				     size_t reason_len, struct converge_tasks *tasks);

/* "healthy", "progressing", "degraded": a static string. */
const char *converge_health_name(enum converge_health h);

#endif
