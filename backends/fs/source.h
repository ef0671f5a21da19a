/*
 * source.h: the desired state from a directory (struct pacer_source of
 * reconcile/source.h).
 *
 * read() walks the directory recursively and hands every "*.json" file to
 * the callback, sorted by path (strcmp over the path relative to the root),
 * with that relative path. Hidden files and directories (name starting with
 * '.') are skipped. Symbolic links are followed, to files and to
 * directories, as long as their target stays inside the root: a link that
 * escapes the root, a loop, a dangling link or a "*.json" that is not a
 * regular file fails the read with PACER_EINVALID naming the link, since a
 * file silently left out of the desired state could get its app pruned.
 * A file larger than FS_SOURCE_MAX_FILE fails the read with PACER_EINVALID;
 * an unreadable one with PACER_EIO; a missing root with PACER_ENOTFOUND.
 *
 * The root may also be a single file: then that file alone is read, and
 * its path is the one given (for `pacer validate FILE`).
 *
 * The files are read afresh on every read(); revision() is always NULL and
 * the callback's key is NULL.
 */
#ifndef PACER_FS_SOURCE_H
#define PACER_FS_SOURCE_H

#include <stddef.h>

#include "reconcile/base/error.h"
#include "reconcile/source.h"

#define FS_SOURCE_MAX_FILE ((size_t)16 << 20)

/*
 * A source over directory (or file) `dir`, copied. Nothing is read until
 * read(); a missing directory is reported then. *out is owned by the
 * caller: pacer_source_free(). Returns 0, or -1 when out of memory.
 */
int fs_source_new(struct pacer_source **out, const char *dir, struct pacer_error **err);

/*
 * Read a whole file of at most `max` bytes. *out (caller frees with free())
 * is NUL-terminated; *len (may be NULL) its length. Returns 0,
 * PACER_ENOTFOUND when the file does not exist, PACER_EINVALID when it is
 * larger than max, PACER_EIO for other errors; messages name the path.
 */
int fs_read_file(const char *path, size_t max, char **out, size_t *len, struct pacer_error **err);

/*
 * A copy of the directory path dir without its trailing slashes, so that
 * "apps/" and "apps" name the same root and messages stay free of "//"
 * ("/" stays "/"). Caller frees with free(); NULL when out of memory.
 */
char *fs_dir_dup(const char *dir);

#endif
