/*
 * store.h: backups of live app definitions, one file each (struct
 * pacer_backup_store of reconcile/backup.h).
 *
 *   <dir>/<appid_mangle(id)>_<YYYY-mm-dd_HH:MM:SS>.json        (UTC)
 *   <dir>/<appid_mangle(id)>_<YYYY-mm-dd_HH:MM:SS>_2.json      second one in that second
 *   <dir>/<first 185 bytes of it>+<32 hex>_<YYYY-...>.json     an id too long for the above
 *
 * The mangled id never contains '/' and never starts with '.', so no app id,
 * however hostile ("/../etc/passwd"), names a file outside <dir>; the name
 * turns back into the id with appid_unmangle(). Marathon ids have no length
 * limit, but a name (and the temp file it is written as) must fit in
 * NAME_MAX: a mangled id over 218 bytes is cut, and '+' and a SHA-256 of
 * the whole id (128 bits, hex) keep it unique; its id is the backup's "id".
 * Every id Marathon accepts can so be backed up, listed and rolled back,
 * and names written before this scheme are read as they always were. A
 * file is created with an
 * atomic no-replace rename of a fsync'd temp file (durable_write_unique),
 * so two runs saving the same app in the same second both keep their
 * backup. Content: the definition pretty-printed, as Marathon returned it
 * (nothing added or removed). Files are mode 0600 and the directory 0700:
 * definitions hold environment variables, which may be secrets.
 *
 * save() takes an absolute app id (as Marathon returns them; anything else
 * is PACER_EINVALID) and returns only once the file and its name are on
 * disk; a failure is PACER_EIO naming the path, and then no file, not even
 * a temp file, is left behind. list() skips
 * files whose names it cannot parse (and hidden temp files); it opens no
 * file, except, when listing every app, the backups of shortened ids, to
 * read their id (one that does not give its name back is skipped). load() takes a
 * path; a bare file name (no '/') is looked up in <dir>.
 * All three may be called from several threads at once.
 */
#ifndef PACER_BACKUP_STORE_H
#define PACER_BACKUP_STORE_H

#include "reconcile/backup.h"
#include "reconcile/base/error.h"

/* Largest backup file load() reads. */
#define BACKUP_MAX_FILE ((size_t)16 << 20)

/*
 * A store over directory `dir` (created, mode 0700, when missing). *out is
 * owned by the caller: pacer_backup_store_free(). Returns 0, PACER_EIO when
 * the directory cannot be created, -1 when out of memory.
 */
int backup_store_new(struct pacer_backup_store **out, const char *dir, struct pacer_error **err);

#endif
