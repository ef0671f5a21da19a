/*
 * appdef_internal.h: helpers shared by the files of the appdef module
 * (appdef.c: pipeline, migration, defaults, error rendering;
 * appdef_read.c: the RAML reader's shape checks; appdef_validate.c: the
 * semantic validators; appdef_util.c: the helpers below that all three
 * use). Not for use outside reconcile/model/appdef*.c.
 *
 * Violations are collected in an "error map": a json object whose keys are
 * paths ("/", "/cpus", "/healthChecks(0)/portIndex") in order of first
 * appearance and whose values are arrays of messages. appdef__body() turns it
 * into Marathon's 422 body.
 */
#ifndef PACER_APPDEF_INTERNAL_H
#define PACER_APPDEF_INTERNAL_H

#include <stdbool.h>

#include "reconcile/model/appdef.h"

struct json_object;

/*
 * Defined in appdef_util.c, the module's leaf: appdef.c, appdef_read.c and
 * appdef_validate.c call these and never each other's helpers, so the
 * three do not depend on each other in a cycle. (A member of an object is
 * read with jsonutil_get() from reconcile/base/jsonutil.h.)
 */

/*
 * A json double that prints the way Marathon (Java) does: the shortest text
 * that reads back as d, always with a decimal point (0.1 not
 * 0.10000000000000001, 128.0 not 128). Caller owns it.
 */
struct json_object *appdef__double(double d);
/* d as Marathon prints a double ("%.15g", or "%.17g" when that is not d
 * again; ".0" after a whole number), written into buf (len >= 32): the
 * slow path of appdef__double(), there for tests to compare against. */
const char *appdef__double_text(double d, char *buf, size_t len);

/* Add message msg (copied) under path in the error map errs. Returns 0, -1 on OOM. */
int appdef__err(struct json_object *errs, const char *path, const char *msg);

/*
 * Build {"message":message,"details":[{"path":..,"errors":[..]}..]} from the
 * error map (errs is borrowed). Caller owns the result.
 */
struct json_object *appdef__body(const char *message, struct json_object *errs);

/*
 * The RAML reader: check the shape of raw (borrowed) and return a new object
 * holding only the App fields Marathon reads, with nulls dropped and enum
 * values in their canonical spelling. Shape errors go to errs (Play keys
 * such as "error.expected.jsnumber"). Returns NULL only when out of memory.
 */
struct json_object *appdef__read(struct json_object *raw, struct json_object *errs);

/*
 * validateOldAppAPI: checks of the legacy fields on the read (not yet
 * migrated) app. Violations go to errs.
 */
void appdef__validate_legacy(struct json_object *app, struct json_object *errs);

/*
 * The validators of the canonical app (after migration and defaults).
 * `resident` says whether the app has persistent volumes.
 */
void appdef__validate(struct json_object *app, const struct appdef_flags *flags, struct json_object *errs);

/*
 * True when `role` may be used by the app with absolute id `id` (NULL: no
 * id) under `flags`: it is the --mesos_role or the enforcing group's role,
 * the name of the app's top-level group. The rule of check_roles(), shared
 * with appdef_submit()'s early rejection.
 */
bool appdef__role_valid(const char *role, const char *id, const struct appdef_flags *flags);

/* True when a container volume is a persistent (local) volume. */
bool appdef__is_persistent(struct json_object *vol);

/* True when the networks array is host networking (empty or any mode "host"). */
bool appdef__is_host(struct json_object *networks);

#endif
