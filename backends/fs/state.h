/*
 * state.h: pacer's memory between runs, in the state directory
 * (struct pacer_state_store of reconcile/sync.h).
 *
 *   <state-dir>/owned.json      {"owned": ["/a", "/b/c"]}: the apps pacer
 *                               created or applied, sorted, unique; only
 *                               these may ever be pruned.
 *   <state-dir>/last-revision   the last revision applied with every app
 *                               converged, one line.
 *   <state-dir>/cache           what earlier runs worked out (reconcile/cache.h);
 *                               safe to delete at any time.
 *   <state-dir>/journal/        the intent journal, one .json per app (reconcile/journal.h),
 *   <state-dir>/held.json       held failures (reconcile/held.h) and
 *   <state-dir>/cluster.json    the cluster it belongs to (reconcile/cluster.h):
 *                               the documents of the doc_* methods.
 *
 * Every change rewrites the file with durable_write_file() (temp, fsync,
 * rename, fsync the directory), so a crash leaves the old or the new set,
 * never a torn one. Missing files mean "nothing owned" and "no revision". A
 * corrupt owned.json is an error naming the file, never silently an empty
 * set (that would make pacer forget apps it must be able to prune).
 *
 * The store may be used from several threads of one run (add_owned and
 * remove_owned are serialised by a mutex); different runs are kept apart by
 * the state directory's lock (backends/fs/lock.h), which the caller holds.
 */
#ifndef PACER_FS_STATE_H
#define PACER_FS_STATE_H

#include "reconcile/base/error.h"
#include "reconcile/sync.h"

/*
 * A store over `state_dir` (created, mode 0700, when missing). *out is
 * owned by the caller: pacer_state_store_free(). Returns 0, PACER_EIO when
 * the directory cannot be created, -1 when out of memory.
 */
int fs_state_new(struct pacer_state_store **out, const char *state_dir, struct pacer_error **err);

/*
 * Remove the temp files that writes cut short by a crash left in the state
 * directory (and its journal folder). Only for the holder of the state
 * directory's lock: nobody else writes there but an unlocked dry run's
 * cache, which at worst loses that write.
 */
void fs_state_sweep(const char *state_dir);

#endif
