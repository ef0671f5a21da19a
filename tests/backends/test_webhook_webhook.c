/*
 * Tests for backends/webhook/webhook.c: signature checks for every provider
 * (the expected HMAC computed here with OpenSSL, independently of the
 * module) and the trigger/ignore/ping decisions over the provider-shaped
 * payloads in testdata/webhooks/.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/webhook/webhook.h"
#include "tests/lib/testlib.h"

#define SECRET "s3cret-for-tests"

static char *payload(const char *name, size_t *len)
{
	char rel[128], *path, *body;

	snprintf(rel, sizeof(rel), "testdata/webhooks/%s", name);
	path = test_source_path(rel);
	body = test_read_file(path, len);
	cr_assert_not_null(body, "cannot read %s", path);
	free(path);
	return body;
}

/* Independent HMAC: OpenSSL's one-shot HMAC(), hex by sprintf. */
static void hmac_hex(const char *key, const char *body, size_t len, char out[65])
{
	unsigned char mac[32];
	unsigned int n = 0;

	cr_assert_not_null(
	    HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)body, len, mac, &n));
	cr_assert_eq(n, 32);
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", mac[i]);
}

enum sig_kind { SIG_GOOD, SIG_WRONG_KEY, SIG_MISSING, SIG_NO_PREFIX, SIG_TRUNCATED, SIG_UPPER };

struct verify_case {
	char provider[12];
	char header[24];
	char prefix[8];
	enum sig_kind kind;
	int want; /* 0 or PACER_EAUTH */
};

static const struct verify_case verify_cases[] = {
    {"github", "X-Hub-Signature-256", "sha256=", SIG_GOOD, 0},
    {"github", "X-Hub-Signature-256", "sha256=", SIG_UPPER, 0},
    {"github", "X-Hub-Signature-256", "sha256=", SIG_WRONG_KEY, PACER_EAUTH},
    {"github", "X-Hub-Signature-256", "sha256=", SIG_MISSING, PACER_EAUTH},
    {"github", "X-Hub-Signature-256", "sha256=", SIG_NO_PREFIX, PACER_EAUTH},
    {"github", "X-Hub-Signature-256", "sha256=", SIG_TRUNCATED, PACER_EAUTH},
    {"github", "X-Hub-Signature", "sha1=", SIG_GOOD, PACER_EAUTH}, /* old SHA-1 header only */
    {"gitea", "X-Gitea-Signature", "", SIG_GOOD, 0},
    {"gitea", "X-Forgejo-Signature", "", SIG_GOOD, 0},
    {"gitea", "X-Gitea-Signature", "", SIG_WRONG_KEY, PACER_EAUTH},
    {"gitea", "X-Gitea-Signature", "", SIG_MISSING, PACER_EAUTH},
    {"gitea", "X-Gitea-Signature", "", SIG_TRUNCATED, PACER_EAUTH},
    {"generic", "X-Pacer-Signature", "sha256=", SIG_GOOD, 0},
    {"generic", "X-Pacer-Signature", "sha256=", SIG_WRONG_KEY, PACER_EAUTH},
    {"generic", "X-Pacer-Signature", "sha256=", SIG_MISSING, PACER_EAUTH},
    {"generic", "X-Pacer-Signature", "sha256=", SIG_NO_PREFIX, PACER_EAUTH},
    {"generic", "X-Hub-Signature-256", "sha256=", SIG_GOOD, PACER_EAUTH}, /* wrong header */
};

ParameterizedTestParameters(webhook, verify)
{
	return cr_make_param_array(struct verify_case, verify_cases,
	                           sizeof(verify_cases) / sizeof(verify_cases[0]));
}

ParameterizedTest(const struct verify_case *c, webhook, verify)
{
	enum webhook_provider p;
	struct pacer_error *err = NULL;
	char hex[65], value[128];
	size_t len = 0;
	char *body = payload(
	    strcmp(c->provider, "gitea") == 0 ? "gitea_push.json" : "github_push.json", &len);
	const char *headers[] = {c->header, value, NULL};
	int rc;

	cr_assert_eq(webhook_provider_parse(c->provider, &p), 0);
	hmac_hex(c->kind == SIG_WRONG_KEY ? "not-the-secret" : SECRET, body, len, hex);
	if (c->kind == SIG_UPPER)
		for (char *q = hex; *q; q++)
			if (*q >= 'a' && *q <= 'f')
				*q = (char)(*q - 'a' + 'A');
	if (c->kind == SIG_TRUNCATED)
		hex[40] = '\0';
	snprintf(value, sizeof(value), "%s%s", c->kind == SIG_NO_PREFIX ? "" : c->prefix, hex);
	if (c->kind == SIG_MISSING)
		headers[0] = NULL;

	rc = webhook_verify(p, headers, body, len, SECRET, &err);
	cr_assert_eq(rc, c->want, "%s %s kind %d: rc %d (%s)", c->provider, c->header, c->kind, rc,
	             err ? err->message : "");
	if (c->want) {
		cr_assert_not_null(err);
		/* Says what to do, never leaks the secret or the signature. */
		cr_assert_not_null(strstr(err->message, "PACER_WEBHOOK_SECRET"), "%s",
		                   err->message);
		cr_assert_null(strstr(err->message, SECRET));
		cr_assert_null(strstr(err->message, hex));
	} else {
		cr_assert_null(err);
	}
	pacer_error_free(err);
	free(body);
}

Test(webhook, body_tampering_is_detected)
{
	char hex[65], value[80];
	size_t len = 0;
	char *body = payload("github_push.json", &len);
	const char *headers[] = {"x-hub-signature-256", value, NULL}; /* any case */

	hmac_hex(SECRET, body, len, hex);
	snprintf(value, sizeof(value), "sha256=%s", hex);
	cr_assert_eq(webhook_verify(WEBHOOK_GITHUB, headers, body, len, SECRET, NULL), 0);
	body[20] ^= 1;
	cr_assert_eq(webhook_verify(WEBHOOK_GITHUB, headers, body, len, SECRET, NULL), PACER_EAUTH);
	body[20] ^= 1;
	cr_assert_eq(webhook_verify(WEBHOOK_GITHUB, headers, body, len - 1, SECRET, NULL),
	             PACER_EAUTH);
	free(body);
}

Test(webhook, gitlab_token)
{
	size_t len = 0;
	char *body = payload("gitlab_push.json", &len);
	const char *good[] = {"X-Gitlab-Token", SECRET, NULL};
	const char *wrong[] = {"X-Gitlab-Token", SECRET "x", NULL};
	const char *prefix[] = {"X-Gitlab-Token", "s3cret", NULL};
	const char *empty[] = {"X-Gitlab-Token", "", NULL};
	const char *missing[] = {"X-Gitlab-Event", "Push Hook", NULL};
	struct pacer_error *err = NULL;

	cr_assert_eq(webhook_verify(WEBHOOK_GITLAB, good, body, len, SECRET, NULL), 0);
	cr_assert_eq(webhook_verify(WEBHOOK_GITLAB, wrong, body, len, SECRET, NULL), PACER_EAUTH);
	cr_assert_eq(webhook_verify(WEBHOOK_GITLAB, prefix, body, len, SECRET, NULL), PACER_EAUTH);
	cr_assert_eq(webhook_verify(WEBHOOK_GITLAB, empty, body, len, SECRET, NULL), PACER_EAUTH);
	cr_assert_eq(webhook_verify(WEBHOOK_GITLAB, missing, body, len, SECRET, &err), PACER_EAUTH);
	cr_assert_not_null(strstr(err->message, "X-Gitlab-Token is missing"), "%s", err->message);
	pacer_error_clear(&err);
	/* No secret configured is a caller error, not a pass. */
	cr_assert_eq(webhook_verify(WEBHOOK_GITLAB, good, body, len, "", &err), PACER_EINVALID);
	pacer_error_free(err);
	free(body);
}

Test(webhook, hmac_hex_matches_openssl)
{
	char a[65], b[65];

	cr_assert_eq(webhook_hmac_hex("key", "The quick brown fox jumps over the lazy dog", 43, a),
	             0);
	/* RFC 4231-style known answer (Wikipedia's HMAC example). */
	cr_assert_str_eq(a, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
	hmac_hex("key", "", 0, b);
	cr_assert_eq(webhook_hmac_hex("key", NULL, 0, a), 0);
	cr_assert_str_eq(a, b);
}

struct parse_case {
	char provider[10];
	char file[48];
	char ev_header[20];
	char ev_value[24];
	char branch[24]; /* "" = NULL: the repository's default branch */
	enum webhook_action want;
	char want_commit[48]; /* "" = NULL */
	char reason_has[40];
};

/* The commits the payloads in testdata/webhooks/ carry. */
#define GH_SHA "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"
#define GL_SHA "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"
#define GT_SHA "bffeb74224043ba2feb48d137756c8a9331c449a"
#define GN_SHA "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

/* One row per provider: its event header is the provider's own. */
#define GITHUB(file, ev, branch, want, commit, reason)                                             \
	{"github", file, "X-GitHub-Event", ev, branch, want, commit, reason}
#define GITLAB(file, ev, branch, want, commit, reason)                                             \
	{"gitlab", file, "X-Gitlab-Event", ev, branch, want, commit, reason}
#define GITEA(header, ev, branch, want, commit, reason)                                            \
	{"gitea", "gitea_push.json", header, ev, branch, want, commit, reason}
#define GENERIC(branch, want, reason)                                                              \
	{"generic", "generic.json", "", "", branch, want, GN_SHA, reason}

static const struct parse_case parse_cases[] = {
    GITHUB("github_push.json", "push", "main", WEBHOOK_TRIGGER, GH_SHA, "push to main"),
    GITHUB("github_push.json", "push", "", WEBHOOK_TRIGGER, GH_SHA, "push to main"),
    GITHUB("github_push.json", "push", "release", WEBHOOK_IGNORE, GH_SHA,
           "not the tracked branch release"),
    GITHUB("github_push_other_branch.json", "push", "main", WEBHOOK_IGNORE, GH_SHA,
           "feature/canary"),
    GITHUB("github_push_other_branch.json", "push", "", WEBHOOK_IGNORE, GH_SHA,
           "tracked branch main"),
    GITHUB("github_pull_request_merged.json", "pull_request", "main", WEBHOOK_TRIGGER, GH_SHA,
           "pull request merged"),
    GITHUB("github_pull_request_merged.json", "pull_request", "prod", WEBHOOK_IGNORE, GH_SHA,
           "not the tracked"),
    GITHUB("github_pull_request_closed_unmerged.json", "pull_request", "main", WEBHOOK_IGNORE, "",
           "without merging"),
    GITHUB("github_ping.json", "ping", "main", WEBHOOK_PING, "", "ping"),
    GITHUB("github_push.json", "issues", "main", WEBHOOK_IGNORE, "", "event issues"),
    GITLAB("gitlab_push.json", "Push Hook", "main", WEBHOOK_TRIGGER, GL_SHA, "push to main"),
    GITLAB("gitlab_push.json", "Push Hook", "dev", WEBHOOK_IGNORE, GL_SHA,
           "not the tracked branch dev"),
    GITLAB("gitlab_merge_request_merged.json", "Merge Request Hook", "main", WEBHOOK_TRIGGER,
           GL_SHA, "merge request merged"),
    GITLAB("gitlab_merge_request_merged.json", "Merge Request Hook", "", WEBHOOK_TRIGGER, GL_SHA,
           "merge request merged"),
    GITLAB("gitlab_merge_request_opened.json", "Merge Request Hook", "main", WEBHOOK_IGNORE, "",
           "merge request open"),
    GITLAB("gitlab_push.json", "Tag Push Hook", "main", WEBHOOK_IGNORE, "", "Tag Push Hook"),
    GITEA("X-Gitea-Event", "push", "main", WEBHOOK_TRIGGER, GT_SHA, "push to main"),
    GITEA("X-Forgejo-Event", "push", "main", WEBHOOK_TRIGGER, GT_SHA, "push to main"),
    GITEA("X-Gitea-Event", "push", "stable", WEBHOOK_IGNORE, GT_SHA,
          "not the tracked branch stable"),
    GITEA("X-Gitea-Event", "create", "main", WEBHOOK_IGNORE, "", "event create"),
    GENERIC("main", WEBHOOK_TRIGGER, "hook to main"),
    GENERIC("other", WEBHOOK_IGNORE, "not the tracked branch other"),
};

ParameterizedTestParameters(webhook, parse)
{
	return cr_make_param_array(struct parse_case, parse_cases,
	                           sizeof(parse_cases) / sizeof(parse_cases[0]));
}

ParameterizedTest(const struct parse_case *c, webhook, parse)
{
	enum webhook_provider p;
	struct webhook_event ev = WEBHOOK_EVENT_INIT;
	struct pacer_error *err = NULL;
	size_t len = 0;
	char *body = payload(c->file, &len);
	const char *headers[] = {"Content-Type", "application/json", c->ev_header, c->ev_value,
	                         NULL};
	int rc;

	if (!c->ev_header[0])
		headers[2] = NULL;
	cr_assert_eq(webhook_provider_parse(c->provider, &p), 0);
	rc = webhook_parse(p, headers, body, len, c->branch[0] ? c->branch : NULL, &ev, &err);
	cr_assert_eq(rc, 0, "%s: %s", c->file, err ? err->message : "");
	cr_assert_eq(ev.action, c->want, "%s %s: action %d, want %d (%s)", c->file, c->ev_value,
	             ev.action, c->want, ev.reason);
	cr_assert_not_null(ev.reason);
	cr_assert_not_null(strstr(ev.reason, c->reason_has), "reason '%s' lacks '%s'", ev.reason,
	                   c->reason_has);
	/* The server puts the provider's name first: the reason must not repeat it. */
	cr_assert(strncmp(ev.reason, c->provider, strlen(c->provider)), "reason '%s' starts with '%s'",
	          ev.reason, c->provider);
	if (c->want_commit[0] && c->want != WEBHOOK_PING)
		cr_assert(ev.commit && strcmp(ev.commit, c->want_commit) == 0, "commit %s, want %s",
		          ev.commit ? ev.commit : "NULL", c->want_commit);
	if (c->want == WEBHOOK_TRIGGER && !c->want_commit[0])
		cr_assert_null(ev.commit);
	webhook_event_release(&ev);
	free(body);
}

/* Leave the commit unchecked in expect_parse(). */
static const char ANY_COMMIT[] = "<any>";

/*
 * webhook_parse() of body (len bytes) succeeds with action want; the reason
 * contains reason_has (unless NULL) and the commit is commit (NULL: none,
 * ANY_COMMIT: not checked).
 */
static void expect_parse(enum webhook_provider p, const char *const *headers, const char *body,
                         size_t len, enum webhook_action want, const char *reason_has,
                         const char *commit)
{
	struct webhook_event ev = WEBHOOK_EVENT_INIT;

	cr_assert_eq(webhook_parse(p, headers, body, len, "main", &ev, NULL), 0, "%.*s", (int)len,
	             body);
	cr_assert_eq(ev.action, want, "%.*s: action %d, want %d (%s)", (int)len, body, ev.action,
	             want, ev.reason ? ev.reason : "");
	if (reason_has)
		cr_assert_not_null(strstr(ev.reason, reason_has), "reason '%s' lacks '%s'",
		                   ev.reason, reason_has);
	if (!commit)
		cr_assert_null(ev.commit);
	else if (commit != ANY_COMMIT)
		cr_assert_str_eq(ev.commit, commit);
	webhook_event_release(&ev);
}

/*
 * A GitHub webhook_parse() that must fail with PACER_EINVALID. With msg_has
 * the error is asked for and must contain it; without, err is NULL (the
 * module must cope).
 */
static void expect_malformed(const char *const *headers, const char *body, size_t len,
                             const char *msg_has)
{
	struct webhook_event ev = WEBHOOK_EVENT_INIT;
	struct pacer_error *err = NULL;

	cr_assert_eq(webhook_parse(WEBHOOK_GITHUB, headers, body, len, "main", &ev,
	                           msg_has ? &err : NULL),
	             PACER_EINVALID, "%.*s", (int)len, body);
	if (msg_has)
		cr_assert_not_null(strstr(err->message, msg_has), "%s", err->message);
	pacer_error_free(err);
	webhook_event_release(&ev);
}

Test(webhook, malformed_requests)
{
	const char *push[] = {"X-GitHub-Event", "push", NULL};
	const char *none[] = {NULL};

	/* Missing event header: names the header. */
	expect_malformed(none, "{}", 2, "X-GitHub-Event");
	/* Not JSON, trailing garbage, a JSON array. */
	expect_malformed(push, "ref=main", 8, "application/json");
	expect_malformed(push, "{} x", 4, NULL);
	expect_malformed(push, "[1]", 3, NULL);
	/* Length is honoured: the body need not be NUL-terminated. */
	expect_parse(WEBHOOK_GITHUB, push, "{}garbage", 2, WEBHOOK_IGNORE, NULL, ANY_COMMIT);
}

Test(webhook, push_edge_cases)
{
	const char *push[] = {"X-GitHub-Event", "push", NULL};
	const char *del = "{\"ref\":\"refs/heads/main\",\"after\":"
	                  "\"0000000000000000000000000000000000000000\",\"deleted\":true}";
	const char *tag = "{\"ref\":\"refs/tags/v1.0\",\"after\":\"abc\"}";
	const char *nodef = "{\"ref\":\"refs/heads/anything\",\"after\":\"abc\"}";
	struct webhook_event ev = WEBHOOK_EVENT_INIT;

	expect_parse(WEBHOOK_GITHUB, push, del, strlen(del), WEBHOOK_IGNORE, "deleted", ANY_COMMIT);
	expect_parse(WEBHOOK_GITHUB, push, tag, strlen(tag), WEBHOOK_IGNORE, "not a branch",
	             ANY_COMMIT);

	/* No tracked branch and no default_branch in the payload: sync (idempotent). */
	cr_assert_eq(webhook_parse(WEBHOOK_GITHUB, push, nodef, strlen(nodef), NULL, &ev, NULL), 0);
	cr_assert_eq(ev.action, WEBHOOK_TRIGGER);
	cr_assert_str_eq(ev.commit, "abc");
	webhook_event_release(&ev);
}

Test(webhook, generic_empty_body_means_sync_now)
{
	const char *commit = "{\"commit\":\"feedbeef\"}";

	expect_parse(WEBHOOK_GENERIC, NULL, "", 0, WEBHOOK_TRIGGER, NULL, NULL);
	expect_parse(WEBHOOK_GENERIC, NULL, commit, strlen(commit), WEBHOOK_TRIGGER, NULL,
	             "feedbeef");
}

Test(webhook, provider_names)
{
	enum webhook_provider p;

	cr_assert_eq(webhook_provider_parse("forgejo", &p), 0);
	cr_assert_eq(p, WEBHOOK_GITEA);
	cr_assert_eq(webhook_provider_parse("bitbucket", &p), PACER_ENOTFOUND);
	cr_assert_str_eq(webhook_provider_name(WEBHOOK_GITLAB), "gitlab");
}
