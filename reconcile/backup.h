/*
 * backup.h: where live definitions are saved before pacer touches them.
 *
 * The real store is backends/backup/store.c: one file per backup,
 * <dir>/<mangled-app-id>_<YYYY-mm-dd_HH:MM:SS>.json (UTC), written durably
 * (temp file, fsync, rename, fsync the directory). An id too long for a file
 * name is named by its first 185 bytes, '+' and a SHA-256 of the whole id;
 * the file holds the full id. save() returns only once
 * the backup is on disk; if it fails, the app must not be touched.
 */
#ifndef PACER_BACKUP_H
#define PACER_BACKUP_H

#include <stddef.h>

#include "reconcile/base/error.h"

struct json_object;

struct pacer_backup_entry {
	char *app_id; /* owned */
	char *path;   /* owned: full path of the backup file */
	char *time;   /* owned: "YYYY-mm-dd_HH:MM:SS" as in the name (plus a suffix if any) */
};

struct pacer_backup_store {
	/* Durably save def (borrowed) as a backup of app_id. *out_path (caller
	 * frees with free()) is the file written; out_path may be NULL. */
	int (*save)(struct pacer_backup_store *s, const char *app_id, struct json_object *def,
		    char **out_path, struct pacer_error **err);
	/* List backups, oldest first, of one app (app_id) or of all (NULL).
	 * *out is an array of *count entries; free with pacer_backup_entries_free(). */
	int (*list)(struct pacer_backup_store *s, const char *app_id,
		    struct pacer_backup_entry **out, size_t *count, struct pacer_error **err);
	/* Read a backup file; *out is owned by the caller. */
	int (*load)(struct pacer_backup_store *s, const char *path, struct json_object **out,
		    struct pacer_error **err);
	void (*free)(struct pacer_backup_store *s);
};

void pacer_backup_entries_free(struct pacer_backup_entry *v, size_t count);

static inline void pacer_backup_store_free(struct pacer_backup_store *s)
{
	if (s && s->free)
		s->free(s);
}

#endif
