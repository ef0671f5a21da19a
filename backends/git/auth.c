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
