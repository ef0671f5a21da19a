/*
 * appid.h: Marathon app ids (SPEC.md §2) and their safe use as file names.
 */
#ifndef PACER_APPID_H
#define PACER_APPID_H

#include "reconcile/base/error.h"

/*
 * Resolve `id` against the group `base` ("/" or "/prod"; NULL means "/"):
 * relative ids are joined to base, "." and ".." segments resolved, leading,
 * trailing and double slashes removed. "web" under "/prod" is "/prod/web";
 * "/x" stays "/x". Does not validate segments. Returns a new string the
 * caller frees, or NULL when out of memory or when ".." climbs above "/".
 */
char *appid_resolve(const char *base, const char *id);

/*
 * Check an absolute, resolved id against Marathon 1.10's rules: every
 * segment matches the PathId pattern (lowercase letters, digits, '-' inside,
 * '.' between labels), at least one segment, last segment not one of
 * restart/tasks/versions. Returns 0, or PACER_EINVALID with a message in
 * *err saying what is wrong and how to fix it ("'/My_App' contains an
 * uppercase letter: Marathon ids allow a-z 0-9 - .").
 */
int appid_check(const char *id, struct pacer_error **err);

/*
 * Reversible, safe file-name form of an absolute id, for backups:
 * "/prod/web" -> "prod~web". Segments may only hold [a-z0-9.-], so '~' never
 * occurs in a valid id; any other byte (from an invalid id) is written as
 * "%XX", and "." / ".." segments can never produce a path element. The
 * result never contains '/' and never starts with '.'. Caller frees.
 */
char *appid_mangle(const char *id);

/* Inverse of appid_mangle(); NULL when name is not a mangled id. Caller frees. */
char *appid_unmangle(const char *name);

#endif
