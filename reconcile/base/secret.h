/*
 * secret.h: how every pacer program takes a secret (a Marathon password, a
 * git token, a webhook secret, an API token file) without it ever being on
 * the command line:
 *
 *   VAR         the value itself, or
 *   VAR_FILE    a file holding it (a trailing newline is dropped), or
 *   neither:    the systemd credential of the same name, the file
 *               $CREDENTIALS_DIRECTORY/<name> (PACER_MARATHON_PASSWORD ->
 *               marathon-password), which LoadCredential= gives a
 *               DynamicUser= service that could not read the file itself.
 *
 * Only cmd/ reads the environment: callers pass their lookup (getenv, or a
 * table in tests), and backends get the result through their options.
 * Every secret read is registered with the log redaction (log.h).
 */
#ifndef PACER_SECRET_H
#define PACER_SECRET_H

#include "reconcile/base/error.h"

/* The largest secret file accepted: larger ones are the wrong file. */
#define PACER_SECRET_MAX (64 * 1024)

/* Reads a variable: getenv(3) itself, or a test's table (the type is
 * getenv's, so callers pass getenv with no wrapper). */
typedef char *(*pacer_getenv_fn)(const char *name);

enum pacer_secret_flags {
	/* The value is a secret: redact it from every log line. */
	PACER_SECRET_REDACT = 1 << 0,
	/* A multi-line value is fine (an ssh private key); otherwise a file
	 * holding more than one line is refused as the wrong file. */
	PACER_SECRET_MULTILINE = 1 << 1,
	/* VAR names a file (an ssh key's path): VAR_FILE is not accepted, and
	 * the credential, when used, gives its path rather than its content. */
	PACER_SECRET_PATH = 1 << 2,
};

/*
 * Look var up as above. On success returns 0 and sets *out to a string the
 * caller frees (with pacer_secret_free() for a secret), or to NULL when none
 * of the three is set. Error messages say where the value came from
 * ("PACER_GIT_TOKEN_FILE=/path", "credential git-token=/path"). Fails
 * with PACER_EINVALID when both VAR and VAR_FILE are set or the file is
 * empty, too large or not one line, and with PACER_EIO when the file
 * cannot be read; the message names the variable and the file.
 */
int pacer_secret_lookup(pacer_getenv_fn env, const char *var, unsigned flags, char **out,
			struct pacer_error **err);

/*
 * Read a secret file named by what (for messages: "PACER_WEBHOOK_SECRET_FILE")
 * into *out (caller frees with pacer_secret_free()), as pacer_secret_lookup()
 * reads VAR_FILE.
 */
int pacer_secret_read_file(const char *path, const char *what, unsigned flags, char **out,
			   struct pacer_error **err);

/* Wipe and free a secret; NULL is fine. */
void pacer_secret_free(char *s);

#endif
