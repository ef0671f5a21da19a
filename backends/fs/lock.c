/*
 * lock.c: flock on <state-dir>/lock.
 *
 * The file is never removed: unlinking a lock file races with a second run
 * that opened the old inode and would then lock a file nobody else sees.
 */
#include "backends/fs/lock.h"
#include "backends/fs/durable.h"
#include "reconcile/base/files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct fslock {
	int fd;
	int held;
	char *path;
};

/* The pid the holder wrote, or 0 when unknown. */
static long read_holder(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	char *end;
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	return end != buf && pid > 0 ? pid : 0;
}

/* Make dir and open (creating) its lock file into a new *out, not locked yet. */
static int open_lock_file(const char *dir, struct fslock **out, struct pacer_error **err)
{
	struct fslock *l;
	int rc = pacer_mkdir_p(dir, 0700, err);

	*out = NULL;
	if (rc < 0)
		return rc;
	l = calloc(1, sizeof(*l));
	if (!l)
		return pacer_error_set(err, -1, "cannot lock '%s': out of memory", dir);
	l->fd = -1;
	*out = l;
	if (asprintf(&l->path, "%s/lock", dir) < 0) {
		l->path = NULL;
		return pacer_error_set(err, -1, "cannot lock '%s': out of memory", dir);
	}
	l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (l->fd < 0)
		return pacer_error_set(err, PACER_EIO, "cannot open the lock file '%s': %s",
		                       l->path, durable_strerror(errno));
	return 0;
}

/* PACER_EBUSY naming the holder when it wrote its pid. */
static int busy(const struct fslock *l, struct pacer_error **err)
{
	long pid = read_holder(l->fd);

	if (pid)
		return pacer_error_set(err, PACER_EBUSY,
		                       "another pacer run (pid %ld) holds the lock '%s': "
		                       "wait for it to finish, or use --wait-lock to wait",
		                       pid, l->path);
	return pacer_error_set(err, PACER_EBUSY,
	                       "another pacer run holds the lock '%s': wait for "
	                       "it to finish, or use --wait-lock to wait",
	                       l->path);
}

/* flock the open file, at once or waiting as asked. */
static int take(struct fslock *l, enum fslock_wait wait, struct pacer_error **err)
{
	if (flock(l->fd, LOCK_EX | (wait != FSLOCK_NOWAIT ? 0 : LOCK_NB)) == 0) {
		l->held = 1;
		return 0;
	}
	if (errno == EWOULDBLOCK)
		return busy(l, err);
	/* Only a handler installed without SA_RESTART gets here: the user gave up. */
	if (errno == EINTR)
		return pacer_error_set(err, PACER_ECANCELLED,
		                       "interrupted while waiting for the lock '%s'", l->path);
	return pacer_error_set(err, PACER_EIO, "cannot lock '%s': %s", l->path,
	                       durable_strerror(errno));
}

int fslock_acquire(const char *dir, enum fslock_wait wait, struct fslock **out,
                   struct pacer_error **err)
{
	struct fslock *l = NULL;
	char pidbuf[32];
	int rc, n;

	*out = NULL;
	if ((rc = open_lock_file(dir, &l, err)) < 0 || (rc = take(l, wait, err)) < 0)
		goto done;
	/* Only for the message of a refused run: no need to make it durable. */
	n = snprintf(pidbuf, sizeof(pidbuf), "%ld\n", (long)getpid());
	if (ftruncate(l->fd, 0) < 0 || pwrite(l->fd, pidbuf, (size_t)n, 0) != n) {
		rc = pacer_error_set(err, PACER_EIO, "cannot write the lock file '%s': %s", l->path,
		                     durable_strerror(errno));
		goto done;
	}
	*out = l;
	l = NULL;
done:
	fslock_release(l);
	return rc;
}

void fslock_release(struct fslock *l)
{
	if (!l)
		return;
	if (l->fd >= 0) {
		/* Clear our pid (only a lock holder writes it), then closing drops the flock. */
		if (l->held && ftruncate(l->fd, 0) < 0) {
			/* harmless: a later refusal may name a stale pid */
		}
		close(l->fd);
	}
	free(l->path);
	free(l);
}
