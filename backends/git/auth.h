/*
 * auth.h: credentials and ssh host key checks for the git source
 * (module-internal; only backends/git/ includes it).
 *
 * One struct gitsrc__auth lives for one fetch: libgit2 calls
 * gitsrc__credentials() each time the server asks for credentials and
 * gitsrc__certificate_check() once per connection, both with the struct as
 * payload. Each credential kind is offered once (libgit2 asks again and
 * again after a refusal otherwise), and the callbacks leave a human error
 * in `err` for the fetch to report instead of libgit2's terse one.
 */
#ifndef PACER_GITSRC_AUTH_H
#define PACER_GITSRC_AUTH_H

#include <git2.h>

#include "reconcile/base/error.h"

struct gitsrc__deadline;

struct gitsrc__auth {
	/* Configuration, borrowed from the source. */
	const char *url_safe; /* for messages */
	const char *ssh_key_file, *ssh_pubkey_file, *ssh_passphrase;
	int use_ssh_agent;
	const char *known_hosts_file; /* never NULL */
	const char *https_user, *https_token;
	int port;                   /* ssh port from the URL (22 when none) */
	const volatile int *cancel; /* may be NULL */
	struct gitsrc__deadline *deadline; /* the running fetch's (deadline.h), or NULL */

	/* Per-fetch state: zero before each fetch with gitsrc__auth_reset(). */
	int calls;
	int tried_key, tried_agent, tried_userpass;
	struct pacer_error *err; /* owned; set when a callback refused */
};

/* Forget the per-fetch state: attempts, credentials tried, and (freeing it) err. */
void gitsrc__auth_reset(struct gitsrc__auth *a);

/*
 * libgit2's credentials callback (payload: the struct gitsrc__auth). Offers
 * the ssh user name, then the key file, then the agent, or the https token;
 * each once. On success *out is a new credential that libgit2 takes over
 * (it frees it). A refusal returns GIT_EAUTH and leaves in a->err (owned by
 * the struct) a message saying what to configure; cancellation GIT_EUSER.
 */
int gitsrc__credentials(git_credential **out, const char *url, const char *username_from_url,
                        unsigned int allowed_types, void *payload);

/*
 * libgit2's certificate callback: TLS certificates are left to libgit2
 * (GIT_PASSTHROUGH); an ssh host key is accepted only when known_hosts_file
 * lists it (knownhosts.h), whatever libgit2's `valid` says. A refusal is
 * GIT_ECERTIFICATE with the reason in a->err.
 */
int gitsrc__certificate_check(git_cert *cert, int valid, const char *host, void *payload);

/* Progress callbacks: they only check for cancellation. */
int gitsrc__transfer_progress(const git_indexer_progress *stats, void *payload);
int gitsrc__sideband_progress(const char *str, int len, void *payload);

/* Non-zero when the fetch must stop. */
int gitsrc__cancelled(const struct gitsrc__auth *a);

#endif
