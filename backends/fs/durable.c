/*
 * durable.c: temp file, write, fsync, rename, fsync the directory.
 *
 * write(2) goes straight to the file descriptor (no stdio buffer to flush
 * and forget), short writes and EINTR are retried, and close() is checked:
 * on NFS and some FUSE file systems the error of a full disk only shows up
 * there.
 */
#include "backends/fs/durable.h"
#include "reconcile/base/crash.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* durable_write_unique() gives up after <stem>_<this><ext>: something is wrong by then. */
#define MAX_UNIQUE_SUFFIX 100000

const char *durable_strerror(int errnum)
{
	switch (errnum) {
	case ENOSPC:
		return "disk full (no space left on device)";
	case EDQUOT:
		return "disk quota exceeded";
	case EFBIG:
		return "file too large (file size limit reached)";
	default:
		return strerror(errnum);
	}
}

/* What the user can do about errno. */
static const char *hint(int errnum)
{
	switch (errnum) {
	case ENOSPC:
	case EDQUOT:
		return "; free some space and retry";
	case EACCES:
	case EPERM:
		return "; check the permissions of the directory";
	case EROFS:
		return "; the file system is read-only, choose another directory";
	case ENOENT:
		return "; check that the directory exists";
	default:
		return "";
	}
}

static int fail(struct pacer_error **err, const char *path, const char *step, int errnum)
{
	return pacer_error_set(err, PACER_EIO, "cannot write '%s': %s failed: %s%s", path, step,
	                       durable_strerror(errnum), hint(errnum));
}

/* Split path into a directory ("." when none) and a base name. Caller frees *dir. */
static int split_path(const char *path, char **dir, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		*dir = strdup(".");
		*base = path;
	} else if (slash == path) {
		*dir = strdup("/");
		*base = slash + 1;
	} else {
		*dir = strndup(path, (size_t)(slash - path));
		*base = slash + 1;
	}
	return *dir ? 0 : -1;
}

/* All of data to fd, retrying short writes and EINTR. -1 with errno set on failure. */
static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, p + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) { /* no progress and no error: report it as an I/O error */
			errno = EIO;
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/*
 * Write data to a new hidden temp file in dir and make it durable. `target`
 * is only for messages. *tmp_out (caller frees) names the temp file, which
 * the caller must rename or unlink. On failure nothing is left behind.
 */
static int write_temp(const char *dir, const char *base, const char *target, const void *data,
                      size_t len, mode_t mode, char **tmp_out, struct pacer_error **err)
{
	char *tmp = NULL;
	int fd = -1, rc = PACER_EIO;

	*tmp_out = NULL;
	if (asprintf(&tmp, "%s/.%s.tmp-XXXXXX", dir, base) < 0) {
		tmp = NULL;
		rc = pacer_error_set(err, -1, "cannot write '%s': out of memory", target);
		goto done;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		fail(err, target, "creating a temp file", errno);
		free(tmp);
		tmp = NULL;
		goto done;
	}
	if (fchmod(fd, mode) < 0) {
		fail(err, target, "chmod", errno);
		goto done;
	}
	if (write_all(fd, data, len) < 0) {
		fail(err, target, "write", errno);
		goto done;
	}
	if (fsync(fd) < 0) {
		fail(err, target, "fsync", errno);
		goto done;
	}
	if (close(fd) < 0) {
		fd = -1;
		fail(err, target, "close", errno);
		goto done;
	}
	fd = -1;
	*tmp_out = tmp;
	tmp = NULL;
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	return rc;
}

int durable_sweep_temps(const char *dir, int min_age_s)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	time_t now = time(NULL);
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] != '.' || !strstr(de->d_name, ".tmp-") ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || now - st.st_mtime < min_age_s)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	return n;
}

int durable_sync_dir(const char *dir, struct pacer_error **err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return pacer_error_set(err, PACER_EIO,
		                       "cannot open directory '%s' to sync it: %s%s", dir,
		                       durable_strerror(errno), hint(errno));
	/* Some file systems cannot fsync a directory (EINVAL): nothing more to do there. */
	if (fsync(fd) < 0 && errno != EINVAL) {
		int e = errno;

		close(fd);
		return pacer_error_set(err, PACER_EIO, "cannot sync directory '%s': %s%s", dir,
		                       durable_strerror(e), hint(e));
	}
	close(fd);
	return 0;
}

int durable_write_file(const char *path, const void *data, size_t len, mode_t mode,
                       struct pacer_error **err)
{
	char *dir = NULL, *tmp = NULL;
	const char *base;
	int rc;

	if (split_path(path, &dir, &base) < 0) {
		rc = pacer_error_set(err, -1, "cannot write '%s': out of memory", path);
		goto done;
	}
	rc = write_temp(dir, base, path, data, len, mode, &tmp, err);
	if (rc < 0)
		goto done;
	/* A crash here leaves a temp file beside the old version: the state
	 * (owned set, journal, cache, held failures) must read as the old one. */
	CRASH_POINT("mid-state-write");
	if (rename(tmp, path) < 0) {
		rc = fail(err, path, "rename", errno);
		unlink(tmp);
		goto done;
	}
	rc = durable_sync_dir(dir, err);
done:
	free(tmp);
	free(dir);
	return rc;
}

/* Move tmp to name unless name exists: 0 done, 1 name taken, -1 errno set. */
static int rename_noreplace(const char *tmp, const char *name)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, name, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno == EEXIST)
		return 1;
	if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP && errno != EOPNOTSUPP)
		return -1;
	/* No RENAME_NOREPLACE here: link() refuses an existing name just as atomically. */
	if (link(tmp, name) < 0)
		return errno == EEXIST ? 1 : -1;
	unlink(tmp);
	return 0;
}

/*
 * Give the written temp file the first free name of <dir>/<stem><ext>,
 * <dir>/<stem>_2<ext>, ... *name holds the first candidate on entry and the
 * name taken on success (the caller frees it either way).
 */
static int take_free_name(const char *dir, const char *stem, const char *ext, const char *tmp,
                          char **name, struct pacer_error **err)
{
	for (unsigned k = 1;; k++) {
		int r;

		if (k > 1) {
			free(*name);
			if (asprintf(name, "%s/%s_%u%s", dir, stem, k, ext) < 0) {
				*name = NULL;
				return pacer_error_set(
				    err, -1, "cannot write a file in '%s': out of memory", dir);
			}
		}
		r = rename_noreplace(tmp, *name);
		if (r == 0)
			return 0;
		if (r < 0 || k >= MAX_UNIQUE_SUFFIX)
			return fail(err, *name, "rename", r < 0 ? errno : EEXIST);
	}
}

int durable_write_unique(const char *dir, const char *stem, const char *ext, const void *data,
                         size_t len, mode_t mode, char **out_path, struct pacer_error **err)
{
	char *tmp = NULL, *name = NULL, *base = NULL;
	int rc;

	if (out_path)
		*out_path = NULL;
	/* asprintf() leaves its pointer undefined on failure: reset it. */
	if (asprintf(&base, "%s%s", stem, ext) < 0)
		base = NULL;
	else if (asprintf(&name, "%s/%s", dir, base) < 0)
		name = NULL;
	if (!base || !name) {
		rc = pacer_error_set(err, -1, "cannot write a file in '%s': out of memory", dir);
		goto done;
	}
	rc = write_temp(dir, base, name, data, len, mode, &tmp, err);
	if (rc < 0)
		goto done;
	rc = take_free_name(dir, stem, ext, tmp, &name, err);
	if (rc < 0)
		goto done;
	/* The temp file is renamed now: nothing to unlink on the way out. */
	free(tmp);
	tmp = NULL;
	rc = durable_sync_dir(dir, err);
	if (rc == 0 && out_path) {
		*out_path = name;
		name = NULL;
	}
done:
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	free(name);
	free(base);
	return rc;
}
