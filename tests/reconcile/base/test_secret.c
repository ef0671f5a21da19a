/*
 * pacer_secret_lookup(): VAR, else the file VAR_FILE names, else the systemd
 * credential; what a secret file may hold; the PATH flag; redaction. The
 * environment is a table (env_set()), never the process's own, so the
 * tests cannot be disturbed by what the shell that runs them exports.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/log.h"
#include "reconcile/base/secret.h"
#include "tests/lib/testlib.h"

/* ---- the fake environment ------------------------------------------------ */

#define ENV_MAX 8

static struct {
	const char *name;
	const char *value;
} env_table[ENV_MAX];

static char *table_env(const char *name)
{
	for (size_t i = 0; i < ENV_MAX && env_table[i].name; i++)
		if (!strcmp(env_table[i].name, name))
			return (char *)env_table[i].value;
	return NULL;
}

static void env_set(const char *name, const char *value)
{
	size_t i = 0;

	while (i < ENV_MAX - 1 && env_table[i].name && strcmp(env_table[i].name, name))
		i++;
	env_table[i].name = name;
	env_table[i].value = value;
}

/* Each test gets a scratch directory; the table starts empty (one process per test). */
static char *dir;

static void setup(void)
{
	dir = test_tmpdir("pacer-secret");
	cr_assert_not_null(dir);
	memset(env_table, 0, sizeof(env_table));
}

static void teardown(void)
{
	pacer_log_clear_secrets();
	test_rmrf(dir);
	free(dir);
}

/* dir/name, holding content (NULL: not created). Caller frees. */
static char *file_in_dir(const char *name, const char *content)
{
	char *path = NULL;

	cr_assert(asprintf(&path, "%s/%s", dir, name) > 0);
	if (content)
		cr_assert_eq(test_write_file(path, content), 0);
	return path;
}

/* 1 when s no longer appears in a log line. */
static int redacted(const char *s)
{
	char *line = NULL, *clean;
	int hidden;

	cr_assert(asprintf(&line, "value=%s", s) > 0);
	clean = pacer_log_redact(line);
	cr_assert_not_null(clean);
	hidden = strstr(clean, s) == NULL;
	free(clean);
	free(line);
	return hidden;
}

/* Look var up, expecting success; the value (NULL: none) is the caller's to free. */
static char *lookup_ok(const char *var, unsigned flags)
{
	struct pacer_error *err = NULL;
	char *out = NULL;

	cr_assert_eq(pacer_secret_lookup(table_env, var, flags, &out, &err), 0, "%s: %s", var,
	             err ? err->message : "");
	cr_assert_null(err);
	return out;
}

/* Look var up, expecting code; the error is the caller's to free. */
static struct pacer_error *lookup_fails(const char *var, unsigned flags, int code)
{
	struct pacer_error *err = NULL;
	char *out = NULL;

	cr_assert_eq(pacer_secret_lookup(table_env, var, flags, &out, &err), code, "%s: %s", var,
	             err ? err->message : "(no error)");
	cr_assert_null(out, "no value on failure");
	cr_assert_not_null(err);
	return err;
}

/* ---- where the value comes from -------------------------------------------- */

TestSuite(secret, .init = setup, .fini = teardown);

Test(secret, the_variable_itself)
{
	char *out;

	env_set("PACER_GIT_TOKEN", "tok-direct-123");
	out = lookup_ok("PACER_GIT_TOKEN", PACER_SECRET_REDACT);
	cr_assert_str_eq(out, "tok-direct-123");
	cr_assert(redacted("tok-direct-123"), "a secret is registered with the log redaction");
	pacer_secret_free(out);
}

Test(secret, nothing_set_is_no_secret_and_no_error)
{
	/* An empty variable counts as unset, as the shell's VAR= does. */
	env_set("PACER_GIT_TOKEN", "");
	env_set("PACER_GIT_TOKEN_FILE", "");
	cr_assert_null(lookup_ok("PACER_GIT_TOKEN", 0));
}

Test(secret, the_file_named_by_var_file)
{
	char *path = file_in_dir("token", "tok-from-file-456\n"), *out;

	env_set("PACER_MARATHON_TOKEN_FILE", path);
	out = lookup_ok("PACER_MARATHON_TOKEN", PACER_SECRET_REDACT);
	cr_assert_str_eq(out, "tok-from-file-456", "the trailing newline is dropped");
	cr_assert(redacted("tok-from-file-456"));
	pacer_secret_free(out);
	free(path);
}

Test(secret, both_set_is_an_error_naming_both_never_the_secret)
{
	char *path = file_in_dir("token", "tok-in-file-789\n");
	struct pacer_error *err;

	env_set("PACER_MARATHON_PASSWORD", "pw-direct-789");
	env_set("PACER_MARATHON_PASSWORD_FILE", path);
	err = lookup_fails("PACER_MARATHON_PASSWORD", 0, PACER_EINVALID);
	cr_assert(strstr(err->message, "PACER_MARATHON_PASSWORD "), "%s", err->message);
	cr_assert(strstr(err->message, "PACER_MARATHON_PASSWORD_FILE"), "%s", err->message);
	cr_assert_null(strstr(err->message, "pw-direct-789"), "%s", err->message);
	cr_assert_null(strstr(err->message, "tok-in-file-789"), "%s", err->message);
	pacer_error_free(err);
	free(path);
}

Test(secret, a_missing_file_names_the_variable_and_the_path)
{
	struct pacer_error *err;

	env_set("PACER_GIT_TOKEN_FILE", "/nonexistent/pacer-token");
	err = lookup_fails("PACER_GIT_TOKEN", 0, PACER_EIO);
	cr_assert(strstr(err->message, "PACER_GIT_TOKEN_FILE=/nonexistent/pacer-token"), "%s",
	          err->message);
	pacer_error_free(err);
}

/* ---- what a secret file may hold ------------------------------------------- */

/* Strings inline: Criterion copies parameters into the test's own process. */
struct content_case {
	char content[64];
	size_t len; /* bytes of content written (it may hold a NUL) */
	unsigned flags;
	int want_rc;
	char want[64]; /* the value, or a piece of the message */
};

static struct content_case content_cases[] = {
    {"s3cret\r\n\n", 9, 0, 0, "s3cret"},
    {"\n", 1, 0, PACER_EINVALID, "is empty"},
    {"", 0, 0, PACER_EINVALID, "is empty"},
    {"line one\nline two\n", 18, 0, PACER_EINVALID, "more than one line"},
    {"-----BEGIN KEY-----\nabc\n-----END KEY-----\n", 42, PACER_SECRET_MULTILINE, 0,
     "-----BEGIN KEY-----\nabc\n-----END KEY-----"},
    {"bin\0ary", 7, 0, PACER_EINVALID, "binary data"},
};

ParameterizedTestParameters(secret_file, content)
{
	return cr_make_param_array(struct content_case, content_cases,
	                           sizeof(content_cases) / sizeof(content_cases[0]));
}

ParameterizedTest(struct content_case *c, secret_file, content, .init = setup, .fini = teardown)
{
	char *path = file_in_dir("secret", NULL), *out;
	struct pacer_error *err;
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(c->content, 1, c->len, f), c->len);
	cr_assert_eq(fclose(f), 0);
	env_set("PACER_WEBHOOK_SECRET_FILE", path);
	if (c->want_rc) {
		err = lookup_fails("PACER_WEBHOOK_SECRET", c->flags, c->want_rc);
		cr_assert(strstr(err->message, c->want), "%s", err->message);
		cr_assert(strstr(err->message, "PACER_WEBHOOK_SECRET_FILE="), "%s", err->message);
		pacer_error_free(err);
	} else {
		out = lookup_ok("PACER_WEBHOOK_SECRET", c->flags);
		cr_assert_str_eq(out, c->want);
		pacer_secret_free(out);
	}
	free(path);
}

Test(secret, a_file_bigger_than_the_limit_is_refused)
{
	char *big = malloc(PACER_SECRET_MAX + 2), *path, *out;
	struct pacer_error *err;

	cr_assert_not_null(big);
	memset(big, 'x', PACER_SECRET_MAX + 1);
	big[PACER_SECRET_MAX + 1] = '\0';
	path = file_in_dir("big", big);
	env_set("PACER_GIT_TOKEN_FILE", path);
	err = lookup_fails("PACER_GIT_TOKEN", 0, PACER_EINVALID);
	cr_assert(strstr(err->message, "bigger than 64 KiB"), "%s", err->message);
	pacer_error_free(err);

	/* Exactly the limit is still a secret. */
	big[PACER_SECRET_MAX] = '\0';
	cr_assert_eq(test_write_file(path, big), 0);
	out = lookup_ok("PACER_GIT_TOKEN", 0);
	cr_assert_eq(strlen(out), PACER_SECRET_MAX);
	pacer_secret_free(out);
	free(path);
	free(big);
}

/* ---- systemd credentials ------------------------------------------------------ */

Test(secret, the_credential_is_named_after_the_variable)
{
	char *cred = file_in_dir("git-ssh-passphrase", "from-credential-1\n"), *out;

	env_set("CREDENTIALS_DIRECTORY", dir);
	out = lookup_ok("PACER_GIT_SSH_PASSPHRASE", PACER_SECRET_REDACT);
	cr_assert_str_eq(out, "from-credential-1");
	cr_assert(redacted("from-credential-1"));
	pacer_secret_free(out);

	/* The variable comes before the credential. */
	env_set("PACER_GIT_SSH_PASSPHRASE", "from-variable-2");
	out = lookup_ok("PACER_GIT_SSH_PASSPHRASE", 0);
	cr_assert_str_eq(out, "from-variable-2");
	pacer_secret_free(out);
	free(cred);
}

Test(secret, no_credential_of_that_name_is_no_secret)
{
	char *other = file_in_dir("marathon-token", "not-the-password\n");

	env_set("CREDENTIALS_DIRECTORY", dir);
	cr_assert_null(lookup_ok("PACER_MARATHON_PASSWORD", 0));
	free(other);
}

Test(secret, a_bad_credential_names_the_credential)
{
	char *cred = file_in_dir("server-token", "\n");
	struct pacer_error *err;

	env_set("CREDENTIALS_DIRECTORY", dir);
	err = lookup_fails("PACER_SERVER_TOKEN", 0, PACER_EINVALID);
	cr_assert(strstr(err->message, "credential server-token"), "%s", err->message);
	cr_assert(strstr(err->message, "empty"), "%s", err->message);
	pacer_error_free(err);
	free(cred);
}

/* ---- variables that name a file --------------------------------------------- */

Test(secret, path_flag_takes_the_value_as_a_path_and_ignores_var_file)
{
	char *key = file_in_dir("git-ssh-key", "-----BEGIN KEY-----\n"), *out;

	/* VAR_FILE means nothing for a path: no error, no read. */
	env_set("PACER_GIT_SSH_KEY_FILE", "/nonexistent/key");
	cr_assert_null(lookup_ok("PACER_GIT_SSH_KEY", PACER_SECRET_PATH));

	/* The credential gives its path, not its content, and a path is no secret. */
	env_set("CREDENTIALS_DIRECTORY", dir);
	out = lookup_ok("PACER_GIT_SSH_KEY", PACER_SECRET_PATH | PACER_SECRET_REDACT);
	cr_assert_str_eq(out, key);
	cr_assert_not(redacted(key), "a path is left readable in the log");
	free(out);

	/* The variable is the path itself, never opened here. */
	env_set("PACER_GIT_SSH_KEY", "/etc/pacer/id_ed25519");
	out = lookup_ok("PACER_GIT_SSH_KEY", PACER_SECRET_PATH);
	cr_assert_str_eq(out, "/etc/pacer/id_ed25519");
	free(out);
	free(key);
}

Test(secret, without_the_redact_flag_nothing_is_registered)
{
	char *out;

	env_set("PACER_MARATHON_USER", "deployer-name");
	out = lookup_ok("PACER_MARATHON_USER", 0);
	cr_assert_str_eq(out, "deployer-name");
	cr_assert_not(redacted("deployer-name"));
	free(out);
}
