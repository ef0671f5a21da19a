/*
 * secret.c: secrets from VAR, VAR_FILE or a systemd credential (secret.h).
 */
#include "reconcile/base/secret.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reconcile/base/buf.h"
#include "reconcile/base/log.h"

void pacer_secret_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* Check what a secret file held, trailing newlines already dropped. */
static int check_content(const struct pacer_buf *b, const char *what, const char *path,
			 unsigned flags, struct pacer_error **err)
{
	if (!b->len)
		return pacer_error_set(err, PACER_EINVALID, "%s=%s is empty: put the secret in it",
				       what, path);
	if (memchr(b->ptr, '\0', b->len))
		return pacer_error_set(err, PACER_EINVALID,
				       "%s=%s holds binary data: it must hold only the secret", what,
				       path);
	if (!(flags & PACER_SECRET_MULTILINE) && memchr(b->ptr, '\n', b->len))
		return pacer_error_set(err, PACER_EINVALID,
				       "%s=%s holds more than one line: it must hold only the secret",
				       what, path);
	return 0;
}

int pacer_secret_read_file(const char *path, const char *what, unsigned flags, char **out,
			   struct pacer_error **err)
{
	struct pacer_buf b;
	char chunk[4096];
	FILE *f = NULL;
	size_t n;
	int rc = 0;

	*out = NULL;
	pacer_buf_init(&b, PACER_SECRET_MAX);
	f = fopen(path, "re");
	if (!f) {
		rc = pacer_error_set(err, PACER_EIO,
				     "cannot read %s=%s: %s: check the path and that pacer may read it",
				     what, path, strerror(errno));
		goto cleanup;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (pacer_buf_add(&b, chunk, n)) {
			rc = pacer_error_set(err, PACER_EINVALID,
					     "%s=%s is bigger than %d KiB: is it the right file?", what,
					     path, PACER_SECRET_MAX >> 10);
			goto cleanup;
		}
	}
	if (ferror(f)) {
		rc = pacer_error_set(err, PACER_EIO, "cannot read %s=%s: %s", what, path,
				     strerror(errno));
		goto cleanup;
	}
	/* Editors and `echo` end files with a newline; the secret does not. */
	while (b.len && (b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == '\r'))
		b.ptr[--b.len] = '\0';
	rc = check_content(&b, what, path, flags, err);
	if (rc)
		goto cleanup;
	*out = pacer_buf_detach(&b);
	if (!*out)
		rc = pacer_error_set(err, PACER_EGENERIC, "out of memory reading %s", what);
	else if (flags & PACER_SECRET_REDACT)
		pacer_log_add_secret(*out);
cleanup:
	explicit_bzero(chunk, sizeof(chunk));
	if (b.ptr)
		explicit_bzero(b.ptr, b.alloc);
	pacer_buf_release(&b);
	if (f)
		fclose(f);
	return rc;
}

/*
 * The systemd credential for var: PACER_GIT_SSH_KEY -> git-ssh-key (the
 * variable without "PACER_", lower case, '_' -> '-'). Writes its path into
 * path and returns 1 when $CREDENTIALS_DIRECTORY holds it, else 0.
 */
static int credential_path(pacer_getenv_fn env, const char *var, char *path, size_t size,
			   char *name, size_t name_size)
{
	const char *dir = env("CREDENTIALS_DIRECTORY");
	const char *base = strncmp(var, "PACER_", 6) ? var : var + 6;
	size_t i;

	if (!dir || !*dir)
		return 0;
	for (i = 0; base[i] && i + 1 < name_size; i++)
		name[i] = base[i] == '_' ? '-' : (char)tolower((unsigned char)base[i]);
	name[i] = '\0';
	if ((size_t)snprintf(path, size, "%s/%s", dir, name) >= size)
		return 0;
	return access(path, F_OK) == 0;
}

static int dup_value(const char *value, const char *var, unsigned flags, char **out,
		     struct pacer_error **err)
{
	*out = strdup(value);
	if (!*out)
		return pacer_error_set(err, PACER_EGENERIC, "out of memory reading %s", var);
	if (flags & PACER_SECRET_REDACT)
		pacer_log_add_secret(*out);
	return 0;
}

int pacer_secret_lookup(pacer_getenv_fn env, const char *var, unsigned flags, char **out,
			struct pacer_error **err)
{
	char file_var[128], cred[4096], name[64], what[96];
	const char *value = env(var), *file = NULL;

	*out = NULL;
	snprintf(file_var, sizeof(file_var), "%s_FILE", var);
	if (!(flags & PACER_SECRET_PATH))
		file = env(file_var);
	if (value && !*value)
		value = NULL;
	if (file && !*file)
		file = NULL;
	if (value && file)
		return pacer_error_set(err, PACER_EINVALID,
				       "both %s and %s are set: set only one of them", var, file_var);
	if (value)
		return dup_value(value, var, flags, out, err);
	if (file)
		return pacer_secret_read_file(file, file_var, flags, out, err);
	if (!credential_path(env, var, cred, sizeof(cred), name, sizeof(name)))
		return 0;
	if (flags & PACER_SECRET_PATH)
		return dup_value(cred, var, flags & ~(unsigned)PACER_SECRET_REDACT, out, err);
	snprintf(what, sizeof(what), "credential %s", name);
	return pacer_secret_read_file(cred, what, flags, out, err);
}
