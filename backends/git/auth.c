#include "backends/git/auth.h"
#include "backends/git/deadline.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/git/knownhosts.h"
#include "backends/git/source.h"
#include "reconcile/base/buf.h"
#include "reconcile/base/log.h"

/* More than this many credential requests in one fetch is a loop. */
#define MAX_CREDENTIAL_CALLS 6
/* Secret files are small; anything bigger is the wrong file. */
#define MAX_SECRET_FILE 65536

/* ---- options from the environment ---- */

static int own(struct gitsrc_options *o, char *s)
{
	for (size_t i = 0; i < sizeof(o->owned_) / sizeof(o->owned_[0]); i++) {
		if (!o->owned_[i]) {
			o->owned_[i] = s;
			return 0;
		}
	}
	free(s);
	return -1;
}

static int read_secret_file(const char *var, const char *path, char **out, struct pacer_error **err)
{
	struct pacer_buf b;
	FILE *f = fopen(path, "r");
	char tmp[4096];
	size_t n;
	int ret = 0;

	*out = NULL;
	if (!f)
		return pacer_error_set(err, PACER_EIO,
		                       "%s: cannot read %s: %s; check the path and "
		                       "its permissions",
		                       var, path, strerror(errno));
	pacer_buf_init(&b, MAX_SECRET_FILE);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
		if (pacer_buf_add(&b, tmp, n)) {
			ret = pacer_error_set(err, PACER_EINVALID,
			                      "%s: %s is larger than %d bytes; "
			                      "it should hold only the secret",
			                      var, path, MAX_SECRET_FILE);
			goto done;
		}
	}
	if (ferror(f)) {
		ret = pacer_error_set(err, PACER_EIO, "%s: error reading %s", var, path);
		goto done;
	}
	while (b.len && (b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == '\r'))
		b.ptr[--b.len] = '\0';
	*out = pacer_buf_detach(&b);
	if (!*out)
		ret = pacer_error_set(err, PACER_EGENERIC, "out of memory");
done:
	explicit_bzero(tmp, sizeof(tmp));
	if (b.ptr)
		explicit_bzero(b.ptr, b.alloc);
	pacer_buf_release(&b);
	fclose(f);
	return ret;
}

/*
 * VAR or VAR_FILE into *slot (unchanged when none is set), else the systemd
 * credential of the same name ($CREDENTIALS_DIRECTORY/git-token for
 * PACER_GIT_TOKEN, so LoadCredential= works with DynamicUser=): its content
 * for a secret, its path for the variables that name a file (the ssh key,
 * known_hosts). `secret` registers the value with the log redaction.
 */
static int env_value(struct gitsrc_options *o, const char *var, int secret, const char **slot,
                     struct pacer_error **err)
{
	char fvar[96], cred_path[4096];
	const char *val = getenv(var), *fpath, *creds = getenv("CREDENTIALS_DIRECTORY");
	int names_file = !strcmp(var, "PACER_GIT_SSH_KEY") || !strcmp(var, "PACER_GIT_KNOWN_HOSTS");
	char *copy = NULL;
	int ret;

	snprintf(fvar, sizeof(fvar), "%s_FILE", var);
	fpath = secret ? getenv(fvar) : NULL;
	if (val && *val && fpath && *fpath)
		return pacer_error_set(err, PACER_EINVALID, "both %s and %s are set; set only one",
		                       var, fvar);
	if ((secret || names_file) && !(val && *val) && !(fpath && *fpath) && creds && *creds) {
		/* The credential's name: PACER_GIT_SSH_KEY -> git-ssh-key. */
		char name[64];
		size_t i;

		for (i = 0; var[6 + i] && i + 1 < sizeof(name); i++)
			name[i] = var[6 + i] == '_' ? '-' : (char)tolower((unsigned char)var[6 + i]);
		name[i] = '\0';
		snprintf(cred_path, sizeof(cred_path), "%s/%s", creds, name);
		if (access(cred_path, F_OK) == 0) {
			if (names_file)
				val = cred_path;
			else
				fpath = cred_path;
			snprintf(fvar, sizeof(fvar), "credential %s", name);
		}
	}
	if (val && *val) {
		copy = strdup(val);
	} else if (fpath && *fpath) {
		ret = read_secret_file(fvar, fpath, &copy, err);
		if (ret)
			return ret;
	} else {
		return 0;
	}
	if (!copy || own(o, copy))
		return pacer_error_set(err, PACER_EGENERIC, "out of memory reading %s", var);
	if (secret)
		pacer_log_add_secret(copy);
	*slot = copy;
	return 0;
}

int gitsrc_options_from_env(struct gitsrc_options *o, struct pacer_error **err)
{
	const char *password = NULL, *agent = getenv("PACER_GIT_SSH_AGENT");
	int ret;

	if ((ret = env_value(o, "PACER_GIT_TOKEN", 1, &o->https_token, err)) ||
	    (ret = env_value(o, "PACER_GIT_PASSWORD", 1, &password, err)) ||
	    (ret = env_value(o, "PACER_GIT_USER", 0, &o->https_user, err)) ||
	    (ret = env_value(o, "PACER_GIT_SSH_KEY", 0, &o->ssh_key_file, err)) ||
	    (ret = env_value(o, "PACER_GIT_SSH_PASSPHRASE", 1, &o->ssh_passphrase, err)) ||
	    (ret = env_value(o, "PACER_GIT_KNOWN_HOSTS", 0, &o->known_hosts_file, err)))
		return ret;
	if (!o->https_token)
		o->https_token = password;
	if (o->ssh_key_file && !o->ssh_pubkey_file) {
		char *pub = NULL;

		if (asprintf(&pub, "%s.pub", o->ssh_key_file) < 0 || own(o, pub))
			return pacer_error_set(err, PACER_EGENERIC, "out of memory");
		if (access(pub, R_OK) == 0)
			o->ssh_pubkey_file = pub;
	}
	if (!o->known_hosts_file && getenv("HOME")) {
		char *kh = NULL;

		if (asprintf(&kh, "%s/.ssh/known_hosts", getenv("HOME")) < 0 || own(o, kh))
			return pacer_error_set(err, PACER_EGENERIC, "out of memory");
		o->known_hosts_file = kh;
	}
	if (getenv("SSH_AUTH_SOCK") && *getenv("SSH_AUTH_SOCK"))
		o->use_ssh_agent = 1;
	if (agent && *agent)
		o->use_ssh_agent = strcmp(agent, "0") != 0;
	return 0;
}

void gitsrc_options_release(struct gitsrc_options *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < sizeof(o->owned_) / sizeof(o->owned_[0]); i++) {
		if (o->owned_[i]) {
			explicit_bzero(o->owned_[i], strlen(o->owned_[i]));
			free(o->owned_[i]);
			o->owned_[i] = NULL;
		}
	}
}

/* ---- libgit2 callbacks ---- */

/* A host key's fingerprint as ssh-keygen -l prints it: "SHA256:" and unpadded base64. */
#define FP_PREFIX "SHA256:"
#define SHA256_LEN 32
#define SHA256_B64_LEN (4 * ((SHA256_LEN + 2) / 3))

void gitsrc__auth_reset(struct gitsrc__auth *a)
{
	a->calls = 0;
	a->tried_key = a->tried_agent = a->tried_userpass = 0;
	pacer_error_clear(&a->err);
}

int gitsrc__cancelled(const struct gitsrc__auth *a)
{
	return (a->cancel && *a->cancel) ||
	       gitsrc__deadline_state(a->deadline) != GITSRC_DEADLINE_RUNNING;
}

static int stop_if_cancelled(struct gitsrc__auth *a)
{
	if (!gitsrc__cancelled(a))
		return 0;
	git_error_set_str(GIT_ERROR_NONE, "cancelled");
	return GIT_EUSER;
}

int gitsrc__transfer_progress(const git_indexer_progress *stats, void *payload)
{
	struct gitsrc__auth *a = payload;

	(void)stats;
	gitsrc__deadline_poke(a->deadline); /* data arrives: not idle */
	return stop_if_cancelled(a);
}

int gitsrc__sideband_progress(const char *str, int len, void *payload)
{
	struct gitsrc__auth *a = payload;

	(void)str;
	(void)len;
	gitsrc__deadline_poke(a->deadline);
	return stop_if_cancelled(a);
}

/* Record why we refused and give libgit2 a short error to unwind with. */
static int refuse(struct gitsrc__auth *a, const char *fmt, const char *arg)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, a->url_safe, arg ? arg : "");
	pacer_error_set(&a->err, PACER_EAUTH, "%s", msg);
	git_error_set_str(GIT_ERROR_NET, "authentication failed");
	return GIT_EAUTH;
}

/*
 * An ssh key: the key file first, then the agent, each once. A refusal
 * after both says which were tried, so the user knows which to fix.
 */
static int ssh_key_credential(git_credential **out, struct gitsrc__auth *a, const char *ssh_user)
{
	if (a->ssh_key_file && !a->tried_key) {
		a->tried_key = 1;
		PLOG_DEBUG("git: ssh key %s for %s", a->ssh_key_file, a->url_safe);
		return git_credential_ssh_key_new(out, ssh_user, a->ssh_pubkey_file,
		                                  a->ssh_key_file, a->ssh_passphrase);
	}
	if (a->use_ssh_agent && !a->tried_agent) {
		a->tried_agent = 1;
		PLOG_DEBUG("git: ssh-agent for %s", a->url_safe);
		return git_credential_ssh_key_from_agent(out, ssh_user);
	}
	if (a->tried_key || a->tried_agent)
		return refuse(a,
		              "ssh authentication to %s was refused%s: the server did not "
		              "accept the key (PACER_GIT_SSH_KEY) or the ssh-agent's keys; check "
		              "that the public key is a deploy key of the repository and that the "
		              "passphrase (PACER_GIT_SSH_PASSPHRASE) is right",
		              NULL);
	return refuse(a,
	              "the ssh server of %s asks for a key%s: set PACER_GIT_SSH_KEY to a "
	              "private key file or run an ssh-agent (SSH_AUTH_SOCK)",
	              NULL);
}

/*
 * https basic auth with the token. The user defaults to the URL's, then to
 * "x-access-token": GitHub wants that name and other forges accept any.
 */
static int userpass_credential(git_credential **out, struct gitsrc__auth *a,
                               const char *username_from_url)
{
	const char *user = a->https_user;

	if (!user || !*user)
		user =
		    username_from_url && *username_from_url ? username_from_url : "x-access-token";
	if (a->https_token && !a->tried_userpass) {
		a->tried_userpass = 1;
		return git_credential_userpass_plaintext_new(out, user, a->https_token);
	}
	if (a->tried_userpass)
		return refuse(a,
		              "%s refused the credentials (user '%s'); check PACER_GIT_TOKEN "
		              "or PACER_GIT_PASSWORD, PACER_GIT_USER, and that the token may read "
		              "the repository",
		              user);
	return refuse(a,
	              "%s asks for credentials%s: set PACER_GIT_TOKEN (or "
	              "PACER_GIT_TOKEN_FILE), and PACER_GIT_USER if the server needs a user "
	              "name",
	              NULL);
}

int gitsrc__credentials(git_credential **out, const char *url, const char *username_from_url,
                        unsigned int allowed_types, void *payload)
{
	struct gitsrc__auth *a = payload;
	const char *ssh_user = username_from_url && *username_from_url ? username_from_url : "git";

	(void)url; /* may hold credentials: never quoted */
	if (gitsrc__cancelled(a))
		return stop_if_cancelled(a);
	if (++a->calls > MAX_CREDENTIAL_CALLS)
		return refuse(a,
		              "authentication to %s failed after several attempts%s; check the "
		              "credentials (PACER_GIT_TOKEN/PACER_GIT_USER, PACER_GIT_SSH_KEY)",
		              NULL);
	/* libgit2 asks for the ssh user name alone first, then for a key. */
	if (allowed_types & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, ssh_user);
	if (allowed_types & GIT_CREDENTIAL_SSH_KEY)
		return ssh_key_credential(out, a, ssh_user);
	if (allowed_types & GIT_CREDENTIAL_USERPASS_PLAINTEXT)
		return userpass_credential(out, a, username_from_url);
	return refuse(a,
	              "%s asks for an authentication method pacer does not support%s; use an "
	              "ssh key, the ssh-agent, or an https token",
	              NULL);
}

int gitsrc__certificate_check(git_cert *cert, int valid, const char *host, void *payload)
{
	struct gitsrc__auth *a = payload;
	git_cert_hostkey *hk;
	char fp[sizeof(FP_PREFIX) + SHA256_B64_LEN] = "";
	int ret;

	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
		return GIT_PASSTHROUGH; /* TLS: libgit2's own verification stands */

	/*
	 * libgit2 1.5.0 never checked ssh host keys; 1.5.1 (CVE-2023-22742)
	 * sets `valid` from ~/.ssh/known_hosts only. We decide from the file
	 * the user configured (PACER_GIT_KNOWN_HOSTS), so `valid` is ignored:
	 * a key is accepted only when that file lists it.
	 */
	(void)valid;
	hk = (git_cert_hostkey *)cert;
	if (hk->type & GIT_CERT_SSH_SHA256) {
		memcpy(fp, FP_PREFIX, strlen(FP_PREFIX));
		gitsrc__base64_encode(hk->hash_sha256, SHA256_LEN, GITSRC_B64_NOPAD,
		                      fp + strlen(FP_PREFIX));
	}
	if (hk->type & GIT_CERT_SSH_RAW)
		ret = gitsrc_knownhosts_check(a->known_hosts_file, host, a->port,
		                              (const unsigned char *)hk->hostkey, hk->hostkey_len,
		                              fp[0] ? fp : NULL, &a->err);
	else if (hk->type & GIT_CERT_SSH_SHA1)
		ret = gitsrc_knownhosts_check_sha1(a->known_hosts_file, host, a->port,
		                                   hk->hash_sha1, fp[0] ? fp : NULL, &a->err);
	else
		ret = pacer_error_set(&a->err, PACER_EAUTH,
		                      "cannot verify the ssh host key of %s: libssh2 gave neither "
		                      "the key nor its SHA-1",
		                      host);
	if (ret) {
		git_error_set_str(GIT_ERROR_SSH, "host key verification failed");
		return GIT_ECERTIFICATE;
	}
	PLOG_DEBUG("git: ssh host key of %s verified against %s", host, a->known_hosts_file);
	return 0;
}
