/*
 * restore.h: put one app back to a backup ("pacer rollback APP_ID").
 *
 * A restore is a change like any other: the app's current live definition
 * is backed up first (durably), then the backup is PUT with force and
 * partialUpdate=false, and the deployment is waited for until the app runs
 * healthy. An app that no longer exists is created from the backup.
 */
#ifndef PACER_RESTORE_H
#define PACER_RESTORE_H

#include "reconcile/backup.h"
#include "reconcile/base/error.h"
#include "reconcile/marathon.h"
#include "reconcile/run.h"

struct restore_options {
	unsigned version;
	const char *backup_path; /* the backup to restore; NULL = the app's latest */
	int timeout_s;           /* deployment timeout; <= 0 means 600 */
	int poll_ms;             /* <= 0 means 1000 */
	/* The state directory (borrowed; NULL = none): the restore is journalled
	 * (reconcile/journal.h) so that a killed `pacer rollback` is finished by
	 * the next run, and the app is owned, as for any change pacer makes. */
	struct pacer_state_store *state;
};
#define RESTORE_OPTIONS_VERSION 1
#define RESTORE_OPTIONS_INIT {RESTORE_OPTIONS_VERSION, NULL, 600, 1000, NULL}

struct restore_result {
	char *restored_from;  /* backup file applied (owned) */
	char *backup_path;    /* backup of the definition that was live before (owned), or NULL */
	char *deployment_id;  /* (owned) or NULL */
	int created;          /* the app did not exist and was created */
};

/*
 * Restore app_id. Returns 0 when the backup's definition runs healthy;
 * PACER_ENOTFOUND when there is no backup of the app (or the named file
 * does not exist), PACER_EINVALID when the named backup is of another app,
 * PACER_ETIMEOUT / PACER_EFAILED when the deployment did not converge, or
 * the error of the failing call. *out is filled as far as the run got;
 * release with restore_result_release().
 */
int restore_app(struct pacer_marathon *m, struct pacer_backup_store *backups, const char *app_id,
		const struct restore_options *opts, struct restore_result *out,
		struct pacer_error **err);

void restore_result_release(struct restore_result *r);

#endif
