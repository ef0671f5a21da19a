/*
 * Tests for backends/serve/webhook.c: signature checks for every provider
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

#include "backends/serve/webhook.h"
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

static const struct parse_case parse_cases[] = {
    {"github", "github_push.json", "X-GitHub-Event", "push", "main", WEBHOOK_TRIGGER,
     "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "push to main"},
    {"github", "github_push.json", "X-GitHub-Event", "push", "", WEBHOOK_TRIGGER,
     "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "push to main"},
    {"github", "github_push.json", "X-GitHub-Event", "push", "release", WEBHOOK_IGNORE,
     "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "not the tracked branch release"},
    {"github", "github_push_other_branch.json", "X-GitHub-Event", "push", "main", WEBHOOK_IGNORE,
     "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "feature/canary"},
    {"github", "github_push_other_branch.json", "X-GitHub-Event", "push", "", WEBHOOK_IGNORE,
     "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "tracked branch main"},
    {"github", "github_pull_request_merged.json", "X-GitHub-Event", "pull_request", "main",
     WEBHOOK_TRIGGER, "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "pull request merged"},
    {"github", "github_pull_request_merged.json", "X-GitHub-Event", "pull_request", "prod",
     WEBHOOK_IGNORE, "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "not the tracked"},
    {"github", "github_pull_request_closed_unmerged.json", "X-GitHub-Event", "pull_request", "main",
     WEBHOOK_IGNORE, "", "without merging"},
    {"github", "github_ping.json", "X-GitHub-Event", "ping", "main", WEBHOOK_PING, "", "ping"},
    {"github", "github_push.json", "X-GitHub-Event", "issues", "main", WEBHOOK_IGNORE, "",
     "event issues"},
    {"gitlab", "gitlab_push.json", "X-Gitlab-Event", "Push Hook", "main", WEBHOOK_TRIGGER,
     "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "push to main"},
    {"gitlab", "gitlab_push.json", "X-Gitlab-Event", "Push Hook", "dev", WEBHOOK_IGNORE,
     "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "not the tracked branch dev"},
    {"gitlab", "gitlab_merge_request_merged.json", "X-Gitlab-Event", "Merge Request Hook", "main",
     WEBHOOK_TRIGGER, "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "merge request merged"},
    {"gitlab", "gitlab_merge_request_merged.json", "X-Gitlab-Event", "Merge Request Hook", "",
     WEBHOOK_TRIGGER, "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "merge request merged"},
    {"gitlab", "gitlab_merge_request_opened.json", "X-Gitlab-Event", "Merge Request Hook", "main",
     WEBHOOK_IGNORE, "", "merge request open"},
    {"gitlab", "gitlab_push.json", "X-Gitlab-Event", "Tag Push Hook", "main", WEBHOOK_IGNORE, "",
     "Tag Push Hook"},
    {"gitea", "gitea_push.json", "X-Gitea-Event", "push", "main", WEBHOOK_TRIGGER,
     "bffeb74224043ba2feb48d137756c8a9331c449a", "push to main"},
    {"gitea", "gitea_push.json", "X-Forgejo-Event", "push", "main", WEBHOOK_TRIGGER,
     "bffeb74224043ba2feb48d137756c8a9331c449a", "push to main"},
    {"gitea", "gitea_push.json", "X-Gitea-Event", "push", "stable", WEBHOOK_IGNORE,
     "bffeb74224043ba2feb48d137756c8a9331c449a", "not the tracked branch stable"},
    {"gitea", "gitea_push.json", "X-Gitea-Event", "create", "main", WEBHOOK_IGNORE, "",
     "event create"},
    {"generic", "generic.json", "", "", "main", WEBHOOK_TRIGGER,
     "4b825dc642cb6eb9a060e54bf8d69288fbee4904", "generic hook to main"},
    {"generic", "generic.json", "", "", "other", WEBHOOK_IGNORE,
     "4b825dc642cb6eb9a060e54bf8d69288fbee4904", "not the tracked branch other"},
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
	if (c->want_commit[0] && c->want != WEBHOOK_PING)
		cr_assert(ev.commit && strcmp(ev.commit, c->want_commit) == 0, "commit %s, want %s",
		          ev.commit ? ev.commit : "NULL", c->want_commit);
	if (c->want == WEBHOOK_TRIGGER && !c->want_commit[0])
		cr_assert_null(ev.commit);
	webhook_event_release(&ev);
	free(body);
}

Test(webhook, malformed_requests)
{
	struct webhook_event ev = WEBHOOK_EVENT_INIT;
	struct pacer_error *err = NULL;
	const char *push[] = {"X-GitHub-Event", "push", NULL};
	const char *none[] = {NULL};

	/* Missing event header: names the header. */
	cr_assert_eq(webhook_parse(WEBHOOK_GITHUB, none, "{}", 2, "main", &ev, &err),
	             PACER_EINVALID);
	cr_assert_not_null(strstr(err->message, "X-GitHub-Event"), "%s", err->message);
	pacer_error_clear(&err);
	webhook_event_release(&ev);
	/* Not JSON, trailing garbage, a JSON array. */
	cr_assert_eq(webhook_parse(WEBHOOK_GITHUB, push, "ref=main", 8, "main", &ev, &err),
	             PACER_EINVALID);
	cr_assert_not_null(strstr(err->message, "application/json"), "%s", err->message);
	pacer_error_clear(&err);
	webhook_event_release(&ev);
	cr_assert_eq(webhook_parse(WEBHOOK_GITHUB, push, "{} x", 4, "main", &ev, NULL),
	             PACER_EINVALID);
	webhook_event_release(&ev);
	cr_assert_eq(webhook_parse(WEBHOOK_GITHUB, push, "[1]", 3, "main", &ev, NULL),
	             PACER_EINVALID);
	webhook_event_release(&ev);
	/* Length is honoured: the body need not be NUL-terminated. */
	cr_assert_eq(webhook_parse(WEBHOOK_GITHUB, push, "{}garbage", 2, "main", &ev, NULL), 0);
	cr_assert_eq(ev.action, WEBHOOK_IGNORE);
	webhook_event_release(&ev);
}

Test(webhook, push_edge_cases)
{
	struct webhook_event ev = WEBHOOK_EVENT_INIT;
	const char *push[] = {"X-GitHub-Event", "push", NULL};
	const char *del = "{\"ref\":\"refs/heads/main\",\"after\":"
	                  "\"0000000000000000000000000000000000000000\",\"deleted\":true}";
	const char *tag = "{\"ref\":\"refs/tags/v1.0\",\"after\":\"abc\"}";
	const char *nodef = "{\"ref\":\"refs/heads/anything\",\"after\":\"abc\"}";

	cr_assert_eq(webhook_parse(WEBHOOK_GITHUB, push, del, strlen(del), "main", &ev, NULL), 0);
	cr_assert_eq(ev.action, WEBHOOK_IGNORE);
	cr_assert_not_null(strstr(ev.reason, "deleted"));
	webhook_event_release(&ev);

	cr_assert_eq(webhook_parse(WEBHOOK_GITHUB, push, tag, strlen(tag), "main", &ev, NULL), 0);
	cr_assert_eq(ev.action, WEBHOOK_IGNORE);
	cr_assert_not_null(strstr(ev.reason, "not a branch"));
	webhook_event_release(&ev);

	/* No tracked branch and no default_branch in the payload: sync (idempotent). */
	cr_assert_eq(webhook_parse(WEBHOOK_GITHUB, push, nodef, strlen(nodef), NULL, &ev, NULL), 0);
	cr_assert_eq(ev.action, WEBHOOK_TRIGGER);
	cr_assert_str_eq(ev.commit, "abc");
	webhook_event_release(&ev);
}

Test(webhook, generic_empty_body_means_sync_now)
{
	struct webhook_event ev = WEBHOOK_EVENT_INIT;
	const char *commit = "{\"commit\":\"feedbeef\"}";

	cr_assert_eq(webhook_parse(WEBHOOK_GENERIC, NULL, "", 0, "main", &ev, NULL), 0);
	cr_assert_eq(ev.action, WEBHOOK_TRIGGER);
	cr_assert_null(ev.commit);
	webhook_event_release(&ev);
	cr_assert_eq(
	    webhook_parse(WEBHOOK_GENERIC, NULL, commit, strlen(commit), "main", &ev, NULL), 0);
	cr_assert_eq(ev.action, WEBHOOK_TRIGGER);
	cr_assert_str_eq(ev.commit, "feedbeef");
	webhook_event_release(&ev);
}

Test(webhook, provider_names)
{
	enum webhook_provider p;

	cr_assert_eq(webhook_provider_parse("forgejo", &p), 0);
	cr_assert_eq(p, WEBHOOK_GITEA);
	cr_assert_eq(webhook_provider_parse("bitbucket", &p), PACER_ENOTFOUND);
	cr_assert_str_eq(webhook_provider_name(WEBHOOK_GITLAB), "gitlab");
}
