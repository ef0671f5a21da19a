/*
 * lock.h: one pacer run at a time per state directory.
 *
 * The lock is an flock(2) on <state-dir>/lock, held for the life of the
 * struct fslock. The kernel drops it when the process dies, so a crashed run
 * never leaves a stale lock behind. The holder writes its pid into the file
 * so that a refused run can say who holds it. flock locks belong to an open
 * file description: two fslock_acquire() calls in one process exclude each
 * other too.
 */
#ifndef PACER_FS_LOCK_H
#define PACER_FS_LOCK_H

#include "reconcile/base/error.h"

struct fslock;

/* What fslock_acquire() does when another run holds the lock. */
enum fslock_wait {
	FSLOCK_NOWAIT, /* fail at once with PACER_EBUSY */
	FSLOCK_WAIT,   /* block until it is free */
};

/*
 * Take the lock of state directory `dir` (created, mode 0700, when
 * missing). FSLOCK_NOWAIT: fail at once with PACER_EBUSY when another run
 * holds it ("another pacer run (pid 123) holds the lock <dir>/lock: wait
 * for it to finish or use --wait-lock"). FSLOCK_WAIT: block until it is
 * free; a signal interrupting the wait gives PACER_ECANCELLED (only a
 * handler installed without SA_RESTART interrupts flock). PACER_EIO when
 * the file cannot be opened. On success *out is the caller's, released
 * (unlocked and freed) with fslock_release(); on failure *out is NULL.
 */
int fslock_acquire(const char *dir, enum fslock_wait wait, struct fslock **out,
                   struct pacer_error **err);

/* Release the lock and free. NULL is a no-op. */
void fslock_release(struct fslock *l);

#endif
