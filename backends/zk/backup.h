/*
 * backup.h: the backup store (struct pacer_backup_store of
 * reconcile/backup.h) in ZooKeeper, for `pacer serve --ha`:
 *
 *   <root>/backups/<appid_mangle(id)>/<YYYY-mm-dd_HH:MM:SS>-<10-digit seq>
 *
 * one blob (layout.h) per backup, the definition as Marathon returned it,
 * pretty-printed. The sequence ZooKeeper appends orders the backups of an
 * app, oldest first. save() returns once ZooKeeper's quorum has committed
 * the backup (its transaction is fenced: a deposed leader saves nothing,
 * and so changes nothing); then it drops the app's oldest backups beyond
 * `keep`. An entry's path is the node's full path; load() takes that path
 * (or a bare node name found among the backups of any app is not
 * accepted: use list()). Thread-safe.
 */
#ifndef PACER_ZK_BACKUP_H
#define PACER_ZK_BACKUP_H

#include "backends/zk/conn.h"
#include "reconcile/backup.h"

/* Backups kept per app when keep is 0. */
#define ZK_BACKUPS_KEEP 10

/* c is borrowed and must outlive the store. *out: pacer_backup_store_free(). */
int zk_backup_store_new(struct pacer_backup_store **out, struct zkconn *c, int keep,
			struct pacer_error **err);

#endif
