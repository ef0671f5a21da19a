/*
 * env.c (cmd): the credentials pacer reads from its environment (env.h).
 */
#include "cmd/pacer/env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/git/source.h"
#include "backends/marathon/client.h"
#include "reconcile/base/secret.h"

/* A setting (not a secret): the variable's value, NULL when unset or empty. */
static const char *env_setting(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

void env_strings_release(struct env_strings *keep)
{
	/* Wiped whether secret or not: telling them apart is not worth a mistake. */
	for (size_t i = 0; i < ENV_STRINGS_MAX; i++) {
		pacer_secret_free(keep->s[i]);
		keep->s[i] = NULL;
	}
}

/* Hand s over to keep; on failure (keep full: a bug) s is freed. */
static int keep_string(struct env_strings *keep, char *s, struct pacer_error **err)
{
	for (size_t i = 0; i < ENV_STRINGS_MAX; i++) {
		if (!keep->s[i]) {
			keep->s[i] = s;
			return 0;
		}
	}
	pacer_secret_free(s);
	return pacer_error_set(err, PACER_EGENERIC, "too many values read from the environment");
}

/*
 * *field (when still unset) from var through pacer_secret_lookup(): the
 * variable, its _FILE or the credential, as flags say.
 */
static int env_lookup(const char **field, const char *var, unsigned flags, struct env_strings *keep,
                      struct pacer_error **err)
{
	char *value = NULL;
	int rc;

	if (*field)
		return 0;
	rc = pacer_secret_lookup(getenv, var, flags, &value, err);
	if (rc || !value)
		return rc;
	rc = keep_string(keep, value, err);
	if (!rc)
		*field = value;
	return rc;
}

int env_marathon_options(struct marathon_options *o, struct env_strings *keep,
                         struct pacer_error **err)
{
	int rc;

	if (!o->user)
		o->user = env_setting("PACER_MARATHON_USER");
	if ((rc = env_lookup(&o->password, "PACER_MARATHON_PASSWORD", PACER_SECRET_REDACT, keep,
	                     err)) ||
	    (rc = env_lookup(&o->token, "PACER_MARATHON_TOKEN", PACER_SECRET_REDACT, keep, err)))
		return rc;
	return 0;
}

/* The public key beside a private key file, when there is one pacer may read. */
static int env_ssh_pubkey(struct gitsrc_options *o, struct env_strings *keep,
                          struct pacer_error **err)
{
	char *pub = NULL;
	int rc;

	if (!o->ssh_key_file || o->ssh_pubkey_file)
		return 0;
	if (asprintf(&pub, "%s.pub", o->ssh_key_file) < 0)
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	if (access(pub, R_OK)) {
		free(pub);
		return 0;
	}
	if (!(rc = keep_string(keep, pub, err)))
		o->ssh_pubkey_file = pub;
	return rc;
}

/* ~/.ssh/known_hosts, as ssh itself uses, when nothing else was named. */
static int env_known_hosts(struct gitsrc_options *o, struct env_strings *keep,
                           struct pacer_error **err)
{
	const char *home = env_setting("HOME");
	char *kh = NULL;
	int rc;

	if (o->known_hosts_file || !home)
		return 0;
	if (asprintf(&kh, "%s/.ssh/known_hosts", home) < 0)
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	if (!(rc = keep_string(keep, kh, err)))
		o->known_hosts_file = kh;
	return rc;
}

int env_gitsrc_options(struct gitsrc_options *o, struct env_strings *keep, struct pacer_error **err)
{
	const char *password = NULL, *agent = env_setting("PACER_GIT_SSH_AGENT");
	int rc;

	/* Both are read, so that a broken PACER_GIT_PASSWORD_FILE is reported
	 * even when a token makes it unused. */
	if ((rc = env_lookup(&o->https_token, "PACER_GIT_TOKEN", PACER_SECRET_REDACT, keep, err)) ||
	    (rc = env_lookup(&password, "PACER_GIT_PASSWORD", PACER_SECRET_REDACT, keep, err)) ||
	    (rc =
	         env_lookup(&o->ssh_key_file, "PACER_GIT_SSH_KEY", PACER_SECRET_PATH, keep, err)) ||
	    (rc = env_lookup(&o->ssh_passphrase, "PACER_GIT_SSH_PASSPHRASE", PACER_SECRET_REDACT,
	                     keep, err)) ||
	    (rc = env_lookup(&o->known_hosts_file, "PACER_GIT_KNOWN_HOSTS", PACER_SECRET_PATH, keep,
	                     err)) ||
	    (rc = env_ssh_pubkey(o, keep, err)) || (rc = env_known_hosts(o, keep, err)))
		return rc;
	if (!o->https_token)
		o->https_token = password;
	if (!o->https_user)
		o->https_user = env_setting("PACER_GIT_USER");
	if (env_setting("SSH_AUTH_SOCK"))
		o->use_ssh_agent = 1;
	if (agent)
		o->use_ssh_agent = strcmp(agent, "0") != 0;
	return 0;
}

int env_server_token(char **out, struct pacer_error **err)
{
	return pacer_secret_lookup(getenv, "PACER_SERVER_TOKEN", PACER_SECRET_REDACT, out, err);
}

int env_commit_status_token(char **out, struct pacer_error **err)
{
	return pacer_secret_lookup(getenv, "PACER_COMMIT_STATUS_TOKEN", PACER_SECRET_REDACT, out,
	                           err);
}

int env_notify_webhook_secret(char **out, struct pacer_error **err)
{
	return pacer_secret_lookup(getenv, "PACER_NOTIFY_WEBHOOK_SECRET", PACER_SECRET_REDACT, out,
	                           err);
}

int env_notify_slack(char **out, struct pacer_error **err)
{
	return pacer_secret_lookup(getenv, "PACER_NOTIFY_SLACK", PACER_SECRET_REDACT, out, err);
}
