/*
 * desired_internal.h: helpers shared by the files of the desired module
 * (desired.c: loading, flattening, the checks of one app, the cache;
 * desired_deps.c: the dependency graph of all desired apps). Not for use
 * outside reconcile/desired*.c.
 */
#ifndef PACER_DESIRED_INTERNAL_H
#define PACER_DESIRED_INTERNAL_H

#include "reconcile/desired.h"

/*
 * Add an error diagnostic at app a (its file:line:col and id), with a
 * printf-formatted message. Returns 0, or -1 when out of memory.
 */
int desired__diag_at(struct pacer_desired *d, const struct pacer_desired_app *a, const char *fmt,
                     ...) __attribute__((format(printf, 3, 4)));

/*
 * App a's dependencies, as absolute ids: from a->def when it is parsed,
 * else as its cache entry gave them. desired__dep() is borrowed from a
 * (valid until a's def is parsed or a is freed), NULL for an element that
 * is not a string (the loader reported it).
 */
size_t desired__ndeps(const struct pacer_desired_app *a);
const char *desired__dep(const struct pacer_desired_app *a, size_t i);

/*
 * Report every dependency cycle among d's apps (sorted by id, without
 * duplicate ids: call it at the end of desired_finish()), one error each.
 * Returns 0, or -1 when out of memory.
 */
int desired__check_cycles(struct pacer_desired *d);

#endif
