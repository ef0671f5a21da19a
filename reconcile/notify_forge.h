/*
 * notify_forge.h: commit statuses on the forges that host the desired
 * state's repository: what request each forge's API wants. Pure: the
 * requests are sent by backends/notify/ (the queue and its worker).
 *
 *   github  POST {api}/repos/{owner}/{repo}/statuses/{sha}
 *           Authorization: Bearer <token>
 *           {"state": "pending|success|failure|error", "description", "context"}
 *   gitlab  POST {api}/projects/{url-encoded namespace/project}/statuses/{sha}
 *           PRIVATE-TOKEN: <token>
 *           {"state": "pending|success|failed|canceled", "description", "name"}
 *   gitea   POST {api}/repos/{owner}/{repo}/statuses/{sha}   (Forgejo too)
 *           Authorization: token <token>
 *           {"state": "pending|success|failure|error", "description", "context"}
 *
 * The API base defaults to the public forge's (https://api.github.com,
 * https://gitlab.com/api/v4) or, for a repository on another host, to that
 * host's (https://HOST/api/v3 for GitHub Enterprise, https://HOST/api/v4,
 * https://HOST/api/v1 for Gitea); a self-hosted forge elsewhere is named
 * with --commit-status-api.
 */
#ifndef PACER_NOTIFY_FORGE_H
#define PACER_NOTIFY_FORGE_H

#include <stddef.h>

#include "reconcile/base/error.h"

enum notify_forge {
	NOTIFY_FORGE_GITHUB = 0,
	NOTIFY_FORGE_GITLAB,
	NOTIFY_FORGE_GITEA,
};

/* What a commit status says. */
enum notify_state {
	NOTIFY_STATE_PENDING = 0, /* the sync of the commit started */
	NOTIFY_STATE_SUCCESS,     /* every app converged */
	NOTIFY_STATE_FAILURE,     /* something did not: failed, held, degraded, invalid... */
	NOTIFY_STATE_CANCELLED,   /* a newer commit superseded the sync, or pacer stopped */
};

/* "github", "gitlab", "gitea" (also "forgejo"). Returns 0, or PACER_EINVALID naming the choices. */
int notify_forge_parse(const char *name, enum notify_forge *out, struct pacer_error **err);
/* "github", "gitlab", "gitea". Static string. */
const char *notify_forge_name(enum notify_forge f);
/* The forge's word for a state ("failure" on GitHub, "failed" on GitLab). Static string. */
const char *notify_forge_state(enum notify_forge f, enum notify_state st);

/*
 * The host and repository path of a git remote URL:
 *   https://[user[:pass]@]host[:port]/owner/repo[.git][/]   host keeps the port
 *   http://...                                              likewise
 *   ssh://[user@]host[:port]/owner/repo[.git]               host without the port
 *   [user@]host:owner/repo[.git]                            (scp form)
 * *repo is "owner/repo" ("group/subgroup/project" for GitLab). Both are the
 * caller's to free. Returns 0, or PACER_EINVALID (file:// URLs, local paths,
 * no path) with a message naming the URL without its credentials and
 * saying to pass --commit-status-repo.
 */
int notify_remote_parse(const char *url, char **host, char **repo, struct pacer_error **err);

/*
 * Check repo for the forge: GitHub and Gitea want exactly OWNER/REPO,
 * GitLab a project path of two or more parts; no empty part, no "..",
 * only [A-Za-z0-9._-] in a part. Returns 0 or PACER_EINVALID.
 */
int notify_forge_check_repo(enum notify_forge f, const char *repo, struct pacer_error **err);

/*
 * The default API base for a repository on host (may be NULL: the public
 * forge): see the top of this file. *out is the caller's to free. Returns
 * 0, or PACER_EINVALID for Gitea without a host (no public default).
 */
int notify_forge_api_default(enum notify_forge f, const char *host, char **out,
                             struct pacer_error **err);

/* One request to a forge. Release with notify_forge_request_release(). */
struct notify_forge_request {
	char *url;  /* api + path */
	char *body; /* JSON */
	char *auth; /* the authentication header line, "Name: value": a secret */
};

/*
 * The request that sets the status of commit sha (hex, 7 to 64 digits) in
 * repo, with the one-line description (cut to the forge's 140 bytes, on a
 * UTF-8 boundary, "..." added) under context ("pacer/prod"). api is the
 * base without a trailing slash (one is dropped); token is the forge
 * token. Returns 0, PACER_EINVALID for a bad sha or repo, -1 when out of
 * memory; on failure *out is left empty.
 */
int notify_forge_request(enum notify_forge f, const char *api, const char *repo, const char *sha,
                         enum notify_state st, const char *description, const char *context,
                         const char *token, struct notify_forge_request *out,
                         struct pacer_error **err);
/* Free the members (the auth line wiped) and zero *r. */
void notify_forge_request_release(struct notify_forge_request *r);

/* The longest description a forge takes (GitHub's limit; GitLab's is larger). */
#define NOTIFY_DESCRIPTION_MAX 140

/*
 * Cut s in place to at most max bytes (max >= 4): on a UTF-8 character
 * boundary, ending in "..." when something was cut. Newlines and tabs
 * become spaces first, so the result is one line.
 */
void notify_text_cut(char *s, size_t max);

#endif
