/*
 * source.h: a git repository as the source of desired state (libgit2).
 *
 * The source keeps a bare clone of the remote in a cache directory (one
 * per URL, e.g. <state-dir>/git/<repo>-<hash>), made once and fetched
 * incrementally afterwards. Every fetch force-updates the remote-tracking
 * refs and tags, so a force-pushed branch is followed to wherever it points
 * now, and prunes deleted branches. Definitions are read straight from the
 * object database: no working copy is ever checked out.
 *
 * read() = fetch, resolve the ref to a commit, then hand every *.json blob
 * below `path` in that commit's tree to the callback (hidden files and
 * folders skipped, symlinks and submodules skipped, sorted by path with
 * strcmp, paths relative to `path`), with key = the blob's 40-hex id.
 * revision() = that commit's 40-hex id. describe() = "url:path@ref" with
 * credentials removed from the URL ("url@ref" without a path; ref shown as
 * HEAD when it is the remote's default branch).
 *
 * A failed fetch changes nothing in the cache (libgit2 writes packs first
 * and refs last; the first clone is made in a temporary directory
 * "<repo>.tmp-<pid>" and renamed into place only when complete), so the
 * next read works as soon as the remote is back. A failed fetch is still an
 * error: the source never silently serves an old commit. The temporary
 * clone of a run that was killed is removed by the next read of any source
 * on that cache directory, once no process that could own it runs (its pid
 * is free, or taken by a process younger than the directory).
 *
 * Error codes (the message always names the URL without credentials, and
 * the ref or path, and says what to check):
 *   PACER_EUNREACHABLE  the remote could not be reached or read
 *   PACER_EAUTH         authentication failed, or the ssh host key is
 *                       unknown, mismatched or revoked (see knownhosts.h)
 *   PACER_ENOTFOUND     no such branch, tag or commit; no such path in it
 *   PACER_EINVALID      bad options (no URL, no cache dir), an ambiguous
 *                       short commit id, a path that is a file
 *   PACER_EIO           the cache directory cannot be created or opened
 *   PACER_ECANCELLED    options.cancel was set during the fetch
 *
 * Threads: one source is used by one thread at a time. Two processes must
 * not share a cache directory at the same time (the commands hold the
 * state-dir lock).
 */
#ifndef PACER_GITSRC_SOURCE_H
#define PACER_GITSRC_SOURCE_H

#include "reconcile/base/error.h"
#include "reconcile/source.h"

#define GITSRC_OPTIONS_VERSION 1
#define GITSRC_DEFAULT_TIMEOUT_S 60
/* Hex digits of a commit id (libgit2's GIT_OID_HEXSZ, without its header). */
#define GITSRC_OID_HEXSZ 40

/* What known_hosts_file stands for when it is NULL: a path that cannot exist. */
#define GITSRC_NO_KNOWN_HOSTS "/nonexistent/.ssh/known_hosts"

/*
 * Every string is borrowed: the caller keeps it alive until gitsrc_new()
 * returns (which copies what it keeps) and frees it afterwards. Secrets and
 * credentials come from the caller (cmd/pacer/env.h reads the environment),
 * never from this backend.
 */
struct gitsrc_options {
	unsigned version; /* GITSRC_OPTIONS_VERSION */
	/* https://, ssh://, scp-like git@host:org/repo, file://, or a local path. */
	const char *url;
	/* Branch, tag or commit (full or at least 4 hex digits); a full ref name
	 * (refs/heads/x, refs/tags/x) is accepted too. NULL = the remote's
	 * default branch (its HEAD). */
	const char *ref;
	const char *path;      /* subdirectory holding the definitions, NULL = root */
	const char *cache_dir; /* where the bare clones live, e.g. <state-dir>/git; created */
	/* ssh: a private key file (public key defaults to <key>.pub when that
	 * exists), its passphrase, and/or the ssh-agent. The key is tried before
	 * the agent. */
	const char *ssh_key_file, *ssh_pubkey_file;
	const char *ssh_passphrase;
	int use_ssh_agent;
	/* ssh host keys are checked against this file. NULL: none, so that every
	 * host is unknown (cmd/ passes ~/.ssh/known_hosts when nothing is set). */
	const char *known_hosts_file;
	/* https: user and token/password for basic auth. With only a token the
	 * user is the one in the URL, else "x-access-token" (GitHub; GitLab and
	 * Gitea accept any user name with a token). */
	const char *https_user, *https_token;
	/* Optional: when *cancel becomes non-zero (a signal handler sets it),
	 * a running fetch stops at its next progress report or when a blocking
	 * read is interrupted, and read()/gitsrc_resolve() fail with
	 * PACER_ECANCELLED leaving the cache as it was. NULL = never. */
	const volatile int *cancel;
	/* A fetch (or clone) that sees no progress for this many seconds — a
	 * remote that accepts the connection and never answers — fails with
	 * PACER_EUNREACHABLE, and *cancel stops it at once even inside a
	 * blocking read (backends/git/deadline.h). 0 = GITSRC_DEFAULT_TIMEOUT_S. */
	int timeout_s;
};

#define GITSRC_OPTIONS_INIT                                                                        \
	{                                                                                          \
		.version = GITSRC_OPTIONS_VERSION                                                  \
	}

/*
 * Make a git source. Copies every string of *o, so o may be released
 * afterwards. Does not touch the network or the disk (the first read()
 * clones). Returns 0 and *out (free with pacer_source_free()), or
 * PACER_EINVALID when url or cache_dir is missing or the version is unknown.
 * Initialises libgit2 (reference-counted; the last free shuts it down).
 */
int gitsrc_new(struct pacer_source **out, const struct gitsrc_options *o, struct pacer_error **err);

/*
 * Fetch and resolve the ref without walking the tree: the cheap poll of
 * watch and serve mode. Like every fetch of this source it first reads the
 * remote's refs (what `git ls-remote` shows) and downloads nothing when the
 * ref followed is advertised where the cache already has it. Writes the commit's 40-hex id and a NUL into the
 * caller's out.
 * `src` must come from gitsrc_new() (PACER_EINVALID otherwise). A full
 * 40-hex commit id that is already in the cache is resolved without a fetch.
 * Errors as for read(). Does not change what revision() returns.
 */
int gitsrc_resolve(struct pacer_source *src, char out[GITSRC_OID_HEXSZ + 1],
                   struct pacer_error **err);

/*
 * The URL with credentials removed, for messages: https://user:tok@h/x ->
 * https://h/x (the whole userinfo goes for http(s), since tokens are often
 * put in the user slot); ssh://git:pw@h/x -> ssh://git@h/x. Caller frees;
 * NULL when out of memory.
 */
char *gitsrc_url_redact(const char *url);

#endif
