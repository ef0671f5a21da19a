/*
 * notify_forge.c: the commit status requests of GitHub, GitLab and Gitea
 * (notify_forge.h).
 */
#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/buf.h"
#include "reconcile/base/secret.h"
#include "reconcile/notify_forge.h"

struct forge_row {
	const char *name;
	const char *state[4];   /* by enum notify_state */
	const char *context;    /* the body's key for the context */
	const char *auth;       /* header line before the token */
	const char *public_api; /* NULL: none */
	const char *host_api;   /* path of the API on a self-hosted forge */
};

static const struct forge_row forges[] = {
    [NOTIFY_FORGE_GITHUB] = {"github", {"pending", "success", "failure", "error"}, "context",
                             "Authorization: Bearer ", "https://api.github.com", "/api/v3"},
    [NOTIFY_FORGE_GITLAB] = {"gitlab", {"pending", "success", "failed", "canceled"}, "name",
                             "PRIVATE-TOKEN: ", "https://gitlab.com/api/v4", "/api/v4"},
    [NOTIFY_FORGE_GITEA] = {"gitea", {"pending", "success", "failure", "error"}, "context",
                            "Authorization: token ", NULL, "/api/v1"},
};

int notify_forge_parse(const char *name, enum notify_forge *out, struct pacer_error **err)
{
	for (size_t i = 0; i < sizeof(forges) / sizeof(*forges); i++)
		if (name && !strcmp(name, forges[i].name)) {
			*out = (enum notify_forge)i;
			return 0;
		}
	if (name && !strcmp(name, "forgejo")) {
		*out = NOTIFY_FORGE_GITEA;
		return 0;
	}
	return pacer_error_set(err, PACER_EINVALID,
	                       "--commit-status must be github, gitlab or gitea (forgejo), not '%s'",
	                       name ? name : "");
}

const char *notify_forge_name(enum notify_forge f)
{
	return (unsigned)f < sizeof(forges) / sizeof(*forges) ? forges[f].name : "?";
}

const char *notify_forge_state(enum notify_forge f, enum notify_state st)
{
	if ((unsigned)f >= sizeof(forges) / sizeof(*forges) || (unsigned)st > NOTIFY_STATE_CANCELLED)
		return "error";
	return forges[f].state[st];
}

void notify_text_cut(char *s, size_t max)
{
	size_t n;

	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	n = strlen(s);
	if (n <= max)
		return;
	n = max - 3;
	/* Back off continuation bytes (10xxxxxx): never cut a character in two. */
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	memcpy(s + n, "...", 4);
}

/* The URL with any "user:password@" left out, for messages. */
static char *url_for_humans(const char *url)
{
	const char *scheme = strstr(url, "://"), *at, *slash;
	struct pacer_buf b = PACER_BUF_INIT;

	if (!scheme)
		return strdup(url);
	slash = strchr(scheme + 3, '/');
	at = strchr(scheme + 3, '@');
	if (!at || (slash && at > slash))
		return strdup(url);
	if (pacer_buf_add(&b, url, (size_t)(scheme + 3 - url)) || pacer_buf_puts(&b, at + 1)) {
		pacer_buf_release(&b);
		return NULL;
	}
	return pacer_buf_detach(&b);
}

/* repo from a path "owner/repo.git/" (leading and trailing slashes, .git dropped). */
static char *repo_from_path(const char *p)
{
	size_t n;
	char *r;

	while (*p == '/')
		p++;
	n = strlen(p);
	while (n && p[n - 1] == '/')
		n--;
	if (n > 4 && !strncmp(p + n - 4, ".git", 4))
		n -= 4;
	if (!n || !(r = strndup(p, n)))
		return NULL;
	return r;
}

/* host and path of "scheme://[user@]host[:port]/path"; keep_port for http(s). */
static int split_url(const char *rest, int keep_port, char **host, const char **path)
{
	const char *slash = strchr(rest, '/'), *at, *end;

	if (!slash)
		return -1;
	at = memchr(rest, '@', (size_t)(slash - rest));
	if (at)
		rest = at + 1;
	end = slash;
	if (!keep_port) {
		const char *colon = memchr(rest, ':', (size_t)(slash - rest));

		if (colon)
			end = colon;
	}
	if (end == rest || !(*host = strndup(rest, (size_t)(end - rest))))
		return -1;
	*path = slash;
	return 0;
}

int notify_remote_parse(const char *url, char **host, char **repo, struct pacer_error **err)
{
	const char *path = NULL, *colon, *slash;
	int rc = -1;

	*host = *repo = NULL;
	if (!strncmp(url, "https://", 8))
		rc = split_url(url + 8, 1, host, &path);
	else if (!strncmp(url, "http://", 7))
		rc = split_url(url + 7, 1, host, &path);
	else if (!strncmp(url, "ssh://", 6))
		rc = split_url(url + 6, 0, host, &path);
	else if (!strstr(url, "://") && (colon = strchr(url, ':')) &&
	         (!(slash = strchr(url, '/')) || slash > colon)) {
		/* scp form: [user@]host:path */
		const char *at = memchr(url, '@', (size_t)(colon - url)), *h = at ? at + 1 : url;

		if (colon > h && (*host = strndup(h, (size_t)(colon - h)))) {
			path = colon + 1;
			rc = 0;
		}
	}
	if (!rc && !(*repo = repo_from_path(path)))
		rc = -1;
	if (!rc && strchr(*repo, '/'))
		return 0;
	free(*host);
	free(*repo);
	*host = *repo = NULL;
	{
		char *shown = url_for_humans(url);

		rc = pacer_error_set(err, PACER_EINVALID,
		                     "cannot tell the forge repository from the source %s: pass "
		                     "--commit-status-repo OWNER/REPO",
		                     shown ? shown : "(its URL)");
		free(shown);
	}
	return rc;
}

/* One part of a repository path: [A-Za-z0-9._-]+, not "." or "..". */
static int good_part(const char *p, size_t n)
{
	if (!n || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)p[i]) && !strchr("._-", p[i]))
			return 0;
	return 1;
}

int notify_forge_check_repo(enum notify_forge f, const char *repo, struct pacer_error **err)
{
	size_t parts = 0;
	const char *p = repo;

	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (!good_part(p, n))
			goto bad;
		parts++;
		if (!slash)
			break;
		p = slash + 1;
	}
	if (parts == 2 || (f == NOTIFY_FORGE_GITLAB && parts > 2))
		return 0;
bad:
	return pacer_error_set(err, PACER_EINVALID,
	                       "'%s' is not a %s repository: --commit-status-repo wants %s", repo,
	                       notify_forge_name(f),
	                       f == NOTIFY_FORGE_GITLAB ? "the project path, GROUP[/SUBGROUP]/PROJECT"
	                                                : "OWNER/REPO");
}

int notify_forge_api_default(enum notify_forge f, const char *host, char **out,
                             struct pacer_error **err)
{
	const struct forge_row *row = &forges[f];

	*out = NULL;
	if (!host || (f == NOTIFY_FORGE_GITHUB && !strcmp(host, "github.com")) ||
	    (f == NOTIFY_FORGE_GITLAB && !strcmp(host, "gitlab.com"))) {
		if (!row->public_api)
			return pacer_error_set(err, PACER_EINVALID,
			                       "a %s commit status needs --commit-status-api URL (the "
			                       "forge's API, e.g. https://gitea.example.com/api/v1)",
			                       row->name);
		*out = strdup(row->public_api);
	} else if (asprintf(out, "https://%s%s", host, row->host_api) < 0) {
		*out = NULL;
	}
	return *out ? 0 : pacer_error_set(err, -1, "out of memory");
}

/* The path of repo in a GitLab URL: "group/project" -> "group%2Fproject". */
static int put_repo(struct pacer_buf *b, enum notify_forge f, const char *repo)
{
	if (f != NOTIFY_FORGE_GITLAB)
		return pacer_buf_puts(b, repo);
	for (const char *p = repo; *p; p++)
		if (*p == '/' ? pacer_buf_puts(b, "%2F") : pacer_buf_putc(b, *p))
			return -1;
	return 0;
}

static int good_sha(const char *sha)
{
	size_t n = strlen(sha);

	if (n < 7 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)sha[i]))
			return 0;
	return 1;
}

static char *request_body(enum notify_forge f, enum notify_state st, const char *description,
                          const char *context)
{
	struct json_object *o = json_object_new_object();
	char *desc = strdup(description ? description : ""), *body = NULL;

	if (o && desc) {
		notify_text_cut(desc, NOTIFY_DESCRIPTION_MAX);
		json_object_object_add(o, "state",
		                       json_object_new_string(notify_forge_state(f, st)));
		json_object_object_add(o, "description", json_object_new_string(desc));
		json_object_object_add(o, forges[f].context, json_object_new_string(context));
		body = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
		                                                    JSON_C_TO_STRING_NOSLASHESCAPE));
	}
	json_object_put(o);
	free(desc);
	return body;
}

int notify_forge_request(enum notify_forge f, const char *api, const char *repo, const char *sha,
                         enum notify_state st, const char *description, const char *context,
                         const char *token, struct notify_forge_request *out,
                         struct pacer_error **err)
{
	struct pacer_buf url = PACER_BUF_INIT, auth = PACER_BUF_INIT;
	size_t n = strlen(api);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!good_sha(sha))
		return pacer_error_set(err, PACER_EINVALID, "'%s' is not a commit id", sha);
	if ((rc = notify_forge_check_repo(f, repo, err)))
		return rc;
	while (n && api[n - 1] == '/')
		n--;
	if (pacer_buf_add(&url, api, n) ||
	    pacer_buf_puts(&url, f == NOTIFY_FORGE_GITLAB ? "/projects/" : "/repos/") ||
	    put_repo(&url, f, repo) || pacer_buf_printf(&url, "/statuses/%s", sha) ||
	    pacer_buf_puts(&auth, forges[f].auth) || pacer_buf_puts(&auth, token ? token : ""))
		goto oom;
	out->url = pacer_buf_detach(&url);
	out->auth = pacer_buf_detach(&auth);
	out->body = request_body(f, st, description, context);
	if (out->url && out->auth && out->body)
		return 0;
	notify_forge_request_release(out);
oom:
	pacer_buf_release(&url);
	if (auth.ptr)
		memset(auth.ptr, 0, auth.len);
	pacer_buf_release(&auth);
	return pacer_error_set(err, -1, "out of memory");
}

void notify_forge_request_release(struct notify_forge_request *r)
{
	free(r->url);
	free(r->body);
	pacer_secret_free(r->auth);
	memset(r, 0, sizeof(*r));
}
