/*
 * durable.h: writes that survive a crash (after redis's rdbSave and git's
 * lockfile).
 *
 * A file is never rewritten in place: the data goes to a hidden temp file in
 * the same directory (".<name>.tmp-XXXXXX"), is flushed and fsync'd, then
 * renamed over (or, for durable_write_unique, linked beside) the target, and
 * the directory is fsync'd so the new name itself is on disk. After a crash
 * the target holds either the old or the new content, never a mix. On any
 * failure the temp file is removed and the target is untouched.
 *
 * Errors (PACER_EIO) name the path, the step that failed and the errno text;
 * ENOSPC says "disk full", EDQUOT "disk quota exceeded", EFBIG "file too large".
 *
 * Directories are made with pacer_mkdir_p() (reconcile/base/files.h); a
 * file written here must go into a directory that exists.
 */
#ifndef PACER_FS_DURABLE_H
#define PACER_FS_DURABLE_H

#include <stddef.h>
#include <sys/types.h>

#include "reconcile/base/error.h"

/*
 * Atomically replace (or create) `path` with len bytes of data and
 * permission bits `mode` (e.g. 0600; not filtered by the umask).
 * Returns 0 once the content and the name are on disk, PACER_EIO otherwise.
 */
int durable_write_file(const char *path, const void *data, size_t len, mode_t mode,
                       struct pacer_error **err);

/*
 * Create a new file that never replaces an existing one, even when another
 * process writes the same name at the same time: the first free name of
 *   <dir>/<stem><ext>, <dir>/<stem>_2<ext>, <dir>/<stem>_3<ext>, ...
 * is taken with an atomic no-replace rename (renameat2 RENAME_NOREPLACE,
 * or link() where the file system lacks it). *out_path (caller frees with
 * free(); may be NULL) is the name written. Returns 0, PACER_EIO.
 */
int durable_write_unique(const char *dir, const char *stem, const char *ext, const void *data,
                         size_t len, mode_t mode, char **out_path, struct pacer_error **err);

/*
 * Remove the temp files (".<name>.tmp-XXXXXX") that writes interrupted by a
 * crash left in dir, when older than min_age_s seconds (a younger one may
 * be another process's write in progress). Returns how many were removed;
 * a directory that does not exist has none.
 */
int durable_sweep_temps(const char *dir, int min_age_s);

/* fsync a directory so that names created or removed in it are durable. */
int durable_sync_dir(const char *dir, struct pacer_error **err);

/* A short human explanation of errno values about space ("disk full"), or strerror(). */
const char *durable_strerror(int errnum);

#endif
