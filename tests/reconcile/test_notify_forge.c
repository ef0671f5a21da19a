/*
 * reconcile/notify_forge.c: the repository of a git remote URL, the API
 * defaults, and the exact request each forge gets for a commit status.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/notify_forge.h"

struct remote_case {
	const char *url, *host, *repo; /* host NULL: refused */
};

static struct remote_case remote_cases[] = {
    {"https://github.com/acme/apps.git", "github.com", "acme/apps"},
    {"https://github.com/acme/apps", "github.com", "acme/apps"},
    {"https://github.com/acme/apps/", "github.com", "acme/apps"},
    {"https://x-access-token:s3cret@github.com/acme/apps.git", "github.com", "acme/apps"},
    {"https://git.example.com:8443/ops/deploy.git", "git.example.com:8443", "ops/deploy"},
    {"http://gitea.local/team/marathon", "gitea.local", "team/marathon"},
    {"https://gitlab.com/group/sub/apps.git", "gitlab.com", "group/sub/apps"},
    {"ssh://git@github.com/acme/apps.git", "github.com", "acme/apps"},
    {"ssh://git@gitlab.example.com:2222/group/apps.git", "gitlab.example.com", "group/apps"},
    {"git@github.com:acme/apps.git", "github.com", "acme/apps"},
    {"github.com:acme/apps", "github.com", "acme/apps"},
    {"file:///srv/git/apps.git", NULL, NULL},
    {"/srv/git/apps", NULL, NULL},
    {"https://github.com/", NULL, NULL},
    {"https://github.com/apps.git", NULL, NULL},
    {"git@github.com:apps.git", NULL, NULL},
};

static void check_remote(const struct remote_case *c)
{
	struct pacer_error *err = NULL;
	char *host = NULL, *repo = NULL;
	int rc = notify_remote_parse(c->url, &host, &repo, &err);

	if (!c->host) {
		cr_assert_eq(rc, PACER_EINVALID, "%s must be refused", c->url);
		cr_assert_null(host);
		cr_assert_null(repo);
		cr_assert(strstr(err->message, "--commit-status-repo"), "%s", err->message);
		pacer_error_free(err);
		return;
	}
	cr_assert_eq(rc, 0, "%s: %s", c->url, err ? err->message : "");
	cr_assert_str_eq(host, c->host, "%s", c->url);
	cr_assert_str_eq(repo, c->repo, "%s", c->url);
	free(host);
	free(repo);
}

/* A table, not a ParameterizedTest: its strings would not cross into Criterion's workers. */
Test(notify_forge, remote)
{
	for (size_t i = 0; i < sizeof(remote_cases) / sizeof(*remote_cases); i++)
		check_remote(&remote_cases[i]);
}

Test(notify_forge, refusal_hides_credentials)
{
	struct pacer_error *err = NULL;
	char *host, *repo;

	cr_assert_eq(notify_remote_parse("https://bob:hunter22@example.com/", &host, &repo, &err),
	             PACER_EINVALID);
	cr_assert_null(strstr(err->message, "hunter22"), "%s", err->message);
	cr_assert(strstr(err->message, "https://example.com/"), "%s", err->message);
	pacer_error_free(err);
}

Test(notify_forge, repo_check)
{
	struct pacer_error *err = NULL;

	cr_assert_eq(notify_forge_check_repo(NOTIFY_FORGE_GITHUB, "acme/apps", NULL), 0);
	cr_assert_eq(notify_forge_check_repo(NOTIFY_FORGE_GITLAB, "g/s/apps", NULL), 0);
	cr_assert_eq(notify_forge_check_repo(NOTIFY_FORGE_GITHUB, "g/s/apps", NULL),
	             PACER_EINVALID);
	cr_assert_eq(notify_forge_check_repo(NOTIFY_FORGE_GITEA, "acme/../x", NULL),
	             PACER_EINVALID);
	cr_assert_eq(notify_forge_check_repo(NOTIFY_FORGE_GITEA, "acme/a?b", NULL),
	             PACER_EINVALID);
	cr_assert_eq(notify_forge_check_repo(NOTIFY_FORGE_GITLAB, "apps", &err), PACER_EINVALID);
	cr_assert(strstr(err->message, "GROUP"), "%s", err->message);
	pacer_error_free(err);
}

Test(notify_forge, parse)
{
	enum notify_forge f;
	struct pacer_error *err = NULL;

	cr_assert_eq(notify_forge_parse("forgejo", &f, NULL), 0);
	cr_assert_eq(f, NOTIFY_FORGE_GITEA);
	cr_assert_eq(notify_forge_parse("gitlab", &f, NULL), 0);
	cr_assert_eq(f, NOTIFY_FORGE_GITLAB);
	cr_assert_eq(notify_forge_parse("bitbucket", &f, &err), PACER_EINVALID);
	cr_assert(strstr(err->message, "github, gitlab or gitea"), "%s", err->message);
	pacer_error_free(err);
}

Test(notify_forge, api_defaults)
{
	char *api = NULL;

	cr_assert_eq(notify_forge_api_default(NOTIFY_FORGE_GITHUB, "github.com", &api, NULL), 0);
	cr_assert_str_eq(api, "https://api.github.com");
	free(api);
	cr_assert_eq(notify_forge_api_default(NOTIFY_FORGE_GITHUB, "ghe.corp", &api, NULL), 0);
	cr_assert_str_eq(api, "https://ghe.corp/api/v3");
	free(api);
	cr_assert_eq(notify_forge_api_default(NOTIFY_FORGE_GITLAB, NULL, &api, NULL), 0);
	cr_assert_str_eq(api, "https://gitlab.com/api/v4");
	free(api);
	cr_assert_eq(notify_forge_api_default(NOTIFY_FORGE_GITEA, "git.corp:3000", &api, NULL), 0);
	cr_assert_str_eq(api, "https://git.corp:3000/api/v1");
	free(api);
	cr_assert_eq(notify_forge_api_default(NOTIFY_FORGE_GITEA, NULL, &api, NULL),
	             PACER_EINVALID);
	cr_assert_null(api);
}

#define SHA "0123456789abcdef0123456789abcdef01234567"

struct request_case {
	enum notify_forge f;
	enum notify_state st;
	const char *url, *auth, *body;
};

static struct request_case request_cases[] = {
    {NOTIFY_FORGE_GITHUB, NOTIFY_STATE_PENDING, "http://h/api/repos/acme/apps/statuses/" SHA,
     "Authorization: Bearer T0KEN",
     "{\"state\":\"pending\",\"description\":\"d\",\"context\":\"pacer/prod\"}"},
    {NOTIFY_FORGE_GITHUB, NOTIFY_STATE_FAILURE, "http://h/api/repos/acme/apps/statuses/" SHA,
     "Authorization: Bearer T0KEN",
     "{\"state\":\"failure\",\"description\":\"d\",\"context\":\"pacer/prod\"}"},
    {NOTIFY_FORGE_GITLAB, NOTIFY_STATE_FAILURE,
     "http://h/api/projects/acme%2Fapps/statuses/" SHA, "PRIVATE-TOKEN: T0KEN",
     "{\"state\":\"failed\",\"description\":\"d\",\"name\":\"pacer/prod\"}"},
    {NOTIFY_FORGE_GITLAB, NOTIFY_STATE_CANCELLED,
     "http://h/api/projects/acme%2Fapps/statuses/" SHA, "PRIVATE-TOKEN: T0KEN",
     "{\"state\":\"canceled\",\"description\":\"d\",\"name\":\"pacer/prod\"}"},
    {NOTIFY_FORGE_GITEA, NOTIFY_STATE_SUCCESS, "http://h/api/repos/acme/apps/statuses/" SHA,
     "Authorization: token T0KEN",
     "{\"state\":\"success\",\"description\":\"d\",\"context\":\"pacer/prod\"}"},
};

Test(notify_forge, request)
{
	for (size_t i = 0; i < sizeof(request_cases) / sizeof(*request_cases); i++) {
		const struct request_case *c = &request_cases[i];
		struct notify_forge_request rq;

		/* A trailing slash of the API base is dropped. */
		cr_assert_eq(notify_forge_request(c->f, "http://h/api/", "acme/apps", SHA, c->st,
		                                  "d", "pacer/prod", "T0KEN", &rq, NULL),
		             0);
		cr_assert_str_eq(rq.url, c->url);
		cr_assert_str_eq(rq.auth, c->auth);
		cr_assert_str_eq(rq.body, c->body);
		notify_forge_request_release(&rq);
	}
}

Test(notify_forge, request_refuses_bad_input)
{
	struct notify_forge_request rq;

	cr_assert_eq(notify_forge_request(NOTIFY_FORGE_GITHUB, "http://h", "acme/apps", "xyz",
	                                  NOTIFY_STATE_SUCCESS, "d", "c", "t", &rq, NULL),
	             PACER_EINVALID);
	cr_assert_null(rq.url);
	cr_assert_eq(notify_forge_request(NOTIFY_FORGE_GITHUB, "http://h", "a/b/c", SHA,
	                                  NOTIFY_STATE_SUCCESS, "d", "c", "t", &rq, NULL),
	             PACER_EINVALID);
}

Test(notify_forge, long_description_cut)
{
	struct notify_forge_request rq;
	char desc[400];

	memset(desc, 'x', sizeof(desc) - 1);
	desc[sizeof(desc) - 1] = '\0';
	cr_assert_eq(notify_forge_request(NOTIFY_FORGE_GITHUB, "http://h", "a/b", SHA,
	                                  NOTIFY_STATE_FAILURE, desc, "c", "t", &rq, NULL),
	             0);
	/* 137 x's and "...": GitHub refuses descriptions over 140 characters. */
	cr_assert(strstr(rq.body, "xxx...\""), "%s", rq.body);
	cr_assert_null(strstr(rq.body, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                               "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	                               "xxxxxxxxxxxx"));
	notify_forge_request_release(&rq);
}

Test(notify_forge, cut_keeps_utf8_whole)
{
	char s[64];

	/* "é" is two bytes: a cut at 8 must not split the one that straddles it. */
	strcpy(s, "ab\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	notify_text_cut(s, 8);
	cr_assert_str_eq(s, "ab\xc3\xa9...");
	strcpy(s, "one\ntwo\tthree");
	notify_text_cut(s, 40);
	cr_assert_str_eq(s, "one two three");
}
