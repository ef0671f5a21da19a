/*
 * files.c: file-system helpers (files.h).
 */
#include "reconcile/base/files.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* What an operator can do about the usual reasons a directory cannot be made. */
static const char *mkdir_hint(int e)
{
	switch (e) {
	case EACCES:
	case EPERM:
		return ": check the permissions of its parent, or choose another directory";
	case ENOSPC:
	case EDQUOT:
		return ": free some space";
	case EROFS:
		return ": the file system is read-only; choose another directory";
	default:
		return "";
	}
}

int pacer_mkdir_p(const char *dir, mode_t mode, struct pacer_error **err)
{
	struct stat st;
	int rc = 0;
	char *p;

	/* Checked before the copy is made: an early return must not leak it. */
	if (!*dir)
		return pacer_error_set(err, PACER_EINVALID, "cannot create a directory with an empty name");
	p = strdup(dir);
	if (!p)
		return pacer_error_set(err, PACER_EGENERIC, "cannot create directory '%s': out of memory",
				       dir);
	/* Each prefix in turn ("/a", "/a/b", ...), then dir itself. */
	for (char *s = p + 1;; s++) {
		char save = *s;

		if (save && save != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			int e = errno;

			rc = pacer_error_set(err, PACER_EIO, "cannot create directory '%s': %s%s", p,
					     strerror(e), mkdir_hint(e));
			goto cleanup;
		}
		*s = save;
		if (!save)
			break;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		rc = pacer_error_set(err, PACER_EIO,
				     "'%s' is not a directory: pacer needs a directory there", dir);
cleanup:
	free(p);
	return rc;
}
