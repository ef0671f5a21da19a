/*
 * env.h (cmd): what pacer takes from its environment besides the option
 * tables (options.h): the credentials of Marathon, of the git remote and of
 * a running pacer serve's API. Only cmd/ reads the environment; the
 * backends get these values through their options structs.
 *
 * Secrets come from VAR, the file VAR_FILE names, or the systemd
 * credential of that name (reconcile/base/secret.h), never from the
 * command line, and are registered with the log redaction as they are read.
 *
 * Ownership: the strings env_*() read are kept in a struct env_strings the
 * caller provides; the options they fill point into it (or into the
 * environment itself), so the options are valid until env_strings_release(),
 * which wipes and frees them. marathon_new() and gitsrc_new() copy what they
 * keep, so releasing right after them is fine.
 */
#ifndef PACER_CMD_ENV_H
#define PACER_CMD_ENV_H

#include "reconcile/base/error.h"

struct marathon_options;
struct gitsrc_options;

#define ENV_STRINGS_MAX 8

/* Strings read for an options struct; zero-initialise ({0}). */
struct env_strings {
	char *s[ENV_STRINGS_MAX];
};

/* Wipe and free every string of keep; the options that pointed into it are stale. */
void env_strings_release(struct env_strings *keep);

/*
 * Marathon's credentials, for the fields still unset (flags win):
 *   PACER_MARATHON_USER                               -> user
 *   PACER_MARATHON_PASSWORD[_FILE], credential marathon-password -> password
 *   PACER_MARATHON_TOKEN[_FILE], credential marathon-token       -> token
 * Returns 0, or PACER_EINVALID / PACER_EIO with *err naming the variable
 * and the file (never the secret).
 */
int env_marathon_options(struct marathon_options *o, struct env_strings *keep,
                         struct pacer_error **err);

/*
 * The git remote's credentials (url, ref, path and cache_dir are left alone):
 *   PACER_GIT_TOKEN[_FILE], else PACER_GIT_PASSWORD[_FILE] -> https_token
 *   PACER_GIT_USER                                       -> https_user
 *   PACER_GIT_SSH_KEY (a path; credential git-ssh-key)   -> ssh_key_file, and
 *                                      ssh_pubkey_file when <key>.pub is readable
 *   PACER_GIT_SSH_PASSPHRASE[_FILE]                      -> ssh_passphrase
 *   PACER_GIT_KNOWN_HOSTS (a path; credential git-known-hosts) -> known_hosts_file
 *                                      (default $HOME/.ssh/known_hosts)
 *   SSH_AUTH_SOCK set -> use_ssh_agent; PACER_GIT_SSH_AGENT=0|1 overrides it
 * Returns 0, or PACER_EINVALID / PACER_EIO as env_marathon_options().
 */
int env_gitsrc_options(struct gitsrc_options *o, struct env_strings *keep,
                       struct pacer_error **err);

/*
 * The bearer token for --server: PACER_SERVER_TOKEN[_FILE] or the
 * credential server-token. *out (NULL when none is set) is the caller's to
 * free with pacer_secret_free().
 */
int env_server_token(char **out, struct pacer_error **err);

/*
 * The secrets of notifications (notifier.h), as env_server_token():
 *   PACER_COMMIT_STATUS_TOKEN[_FILE], credential commit-status-token: the forge token;
 *   PACER_NOTIFY_WEBHOOK_SECRET[_FILE], credential notify-webhook-secret: the
 *   key of the webhook's X-Pacer-Signature.
 * *out (NULL when none is set) is freed with pacer_secret_free().
 */
int env_commit_status_token(char **out, struct pacer_error **err);
int env_notify_webhook_secret(char **out, struct pacer_error **err);

/*
 * The Slack webhook URL (itself a credential) when --notify-slack and
 * PACER_NOTIFY_SLACK are unset: PACER_NOTIFY_SLACK_FILE or the credential
 * notify-slack. *out as above.
 */
int env_notify_slack(char **out, struct pacer_error **err);

#endif
