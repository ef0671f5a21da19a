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

void gitsrc__auth_reset(struct gitsrc__auth *a);

int gitsrc__credentials(git_credential **out, const char *url, const char *username_from_url,
                        unsigned int allowed_types, void *payload);

int gitsrc__certificate_check(git_cert *cert, int valid, const char *host, void *payload);

/* Progress callbacks: they only check for cancellation. */
int gitsrc__transfer_progress(const git_indexer_progress *stats, void *payload);
int gitsrc__sideband_progress(const char *str, int len, void *payload);

/* Non-zero when the fetch must stop. */
int gitsrc__cancelled(const struct gitsrc__auth *a);

#endif
