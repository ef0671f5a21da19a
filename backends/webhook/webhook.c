/*
 * webhook.c: signature checks and payload decisions for webhook.h.
 *
 * Payload fields read (and nothing else, so unrelated changes in the
 * providers' large payloads cannot break us):
 *   push (all):     ref, after (GitLab: checkout_sha when after is absent),
 *                   deleted (GitHub)
 *   pull request:   action, pull_request.merged, pull_request.base.ref,
 *                   pull_request.merge_commit_sha
 *   merge request:  object_attributes.action, .target_branch, .merge_commit_sha
 *   default branch: repository.default_branch (GitHub, Gitea),
 *                   project.default_branch (GitLab)
 */
#include "backends/webhook/webhook.h"

#include <ctype.h>
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SHA256_LEN 32

enum sig_kind {
	SIG_HMAC,  /* the header carries hex HMAC-SHA256(secret, body) */
	SIG_TOKEN, /* the header carries the secret itself */
};

/*
 * What tells the providers apart, one row each, indexed by enum
 * webhook_provider: how a request is signed and which events it sends.
 * The checks and decisions below are the same code for every row.
 */
/* Hex digits, in the lower case webhook_hmac_hex() writes. */
static const char hex_digits[] = "0123456789abcdef";

static const struct provider {
	const char *name;
	/* Signature: the headers tried in order; how to name them when none is
	 * present (NULL: the first); the prefix before the hex digest, if any. */
	const char *sig_headers[2];
	const char *sig_missing;
	const char *sig_prefix;
	enum sig_kind sig;
	/* Event: the headers tried in order; must one be present? */
	const char *event_headers[3];
	int event_required;
	/* The event names understood (NULL: none); the generic hook has none
	 * and is decided by decide_generic(). */
	const char *ping, *push, *pull_request, *merge_request;
	const char *default_branch_in; /* the object holding "default_branch" */
	int push_deleted;              /* pushes carry GitHub's "deleted" flag */
	/* The delivery id: the headers tried in order (webhook_delivery_id()). */
	const char *delivery_headers[3];
} providers[] = {
    [WEBHOOK_GITHUB] =
        {
            .name = "github",
            .sig_headers = {"X-Hub-Signature-256"},
            .sig_prefix = "sha256=",
            .sig = SIG_HMAC,
            .event_headers = {"X-GitHub-Event"},
            .event_required = 1,
            .ping = "ping",
            .push = "push",
            .pull_request = "pull_request",
            .default_branch_in = "repository",
            .push_deleted = 1,
            .delivery_headers = {"X-GitHub-Delivery"},
        },
    [WEBHOOK_GITLAB] =
        {
            .name = "gitlab",
            .sig_headers = {"X-Gitlab-Token"},
            .sig = SIG_TOKEN,
            .event_headers = {"X-Gitlab-Event"},
            .event_required = 1,
            .push = "Push Hook",
            .merge_request = "Merge Request Hook",
            .default_branch_in = "project",
            /* Idempotency-Key stays the same across GitLab's retries of one
             * event; older GitLabs send only the event's UUID. */
            .delivery_headers = {"Idempotency-Key", "X-Gitlab-Event-UUID"},
        },
    [WEBHOOK_GITEA] =
        {
            .name = "gitea",
            .sig_headers = {"X-Gitea-Signature", "X-Forgejo-Signature"},
            .sig_missing = "X-Gitea-Signature (or X-Forgejo-Signature)",
            .sig = SIG_HMAC,
            .event_headers = {"X-Gitea-Event", "X-Forgejo-Event", "X-Gogs-Event"},
            .event_required = 1,
            .push = "push",
            .pull_request = "pull_request",
            .default_branch_in = "repository",
            .delivery_headers = {"X-Gitea-Delivery", "X-Forgejo-Delivery", "X-Gogs-Delivery"},
        },
    [WEBHOOK_GENERIC] =
        {
            .name = "generic",
            .sig_headers = {"X-Pacer-Signature"},
            .sig_prefix = "sha256=",
            .sig = SIG_HMAC,
            .event_headers = {"X-Pacer-Event"},
            .delivery_headers = {"X-Pacer-Delivery"},
        },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define NPROVIDERS NELEM(providers)

/* The row of p, or NULL when p is out of range. */
static const struct provider *provider_get(enum webhook_provider p)
{
	return (unsigned)p < NPROVIDERS ? &providers[p] : NULL;
}

int webhook_provider_parse(const char *name, enum webhook_provider *out)
{
	for (size_t i = 0; i < NPROVIDERS; i++)
		if (strcmp(name, providers[i].name) == 0) {
			*out = (enum webhook_provider)i;
			return 0;
		}
	if (strcmp(name, "forgejo") == 0) {
		*out = WEBHOOK_GITEA;
		return 0;
	}
	return PACER_ENOTFOUND;
}

const char *webhook_provider_name(enum webhook_provider p)
{
	const struct provider *row = provider_get(p);

	return row ? row->name : "unknown";
}

const char *webhook_header(const char *const *headers, const char *name)
{
	for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2)
		if (strcasecmp(headers[i], name) == 0)
			return headers[i + 1];
	return NULL;
}

const char *webhook_delivery_id(enum webhook_provider provider, const char *const *headers)
{
	const struct provider *p = provider_get(provider);
	const char *v = NULL;

	for (size_t i = 0; p && i < NELEM(p->delivery_headers) && p->delivery_headers[i] && !v; i++)
		v = webhook_header(headers, p->delivery_headers[i]);
	return v && *v ? v : NULL;
}

static int hmac_sha256(const char *secret, const void *body, size_t len,
                       unsigned char out[SHA256_LEN])
{
	unsigned int n = 0;
	static const unsigned char empty[1];

	/* HMAC() wants a non-NULL data pointer even for an empty body. */
	if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), body ? body : empty, len, out, &n) ||
	    n != SHA256_LEN)
		return -1;
	return 0;
}

int webhook_hmac_hex(const char *secret, const void *body, size_t len, char out[65])
{
	unsigned char mac[SHA256_LEN];

	if (hmac_sha256(secret, body, len, mac))
		return -1;
	for (int i = 0; i < SHA256_LEN; i++) {
		out[2 * i] = hex_digits[mac[i] >> 4];
		out[2 * i + 1] = hex_digits[mac[i] & 15];
	}
	out[64] = '\0';
	return 0;
}

/* The value of hex digit c (either case), or -1. */
static int hexval(char c)
{
	const char *p = c ? strchr(hex_digits, tolower((unsigned char)c)) : NULL;

	return p ? (int)(p - hex_digits) : -1;
}

/* Exactly 64 hex digits (surrounding blanks allowed) -> 32 bytes. */
static int parse_hex_digest(const char *s, unsigned char out[SHA256_LEN])
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n != 2 * SHA256_LEN)
		return -1;
	for (int i = 0; i < SHA256_LEN; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static int auth_error(struct pacer_error **err, enum webhook_provider p, const char *header,
                      const char *what)
{
	return pacer_error_set(err, PACER_EAUTH,
	                       "%s webhook: %s %s: check that the secret configured for this "
	                       "webhook at %s is the one in PACER_WEBHOOK_SECRET (or "
	                       "PACER_WEBHOOK_SECRET_FILE)",
	                       webhook_provider_name(p), header, what,
	                       p == WEBHOOK_GENERIC ? "the sender" : webhook_provider_name(p));
}

/* SHA-256 of a string, for comparing tokens of any length in constant time. */
static int sha256_str(const char *s, unsigned char out[SHA256_LEN])
{
	unsigned int n = 0;

	return EVP_Digest(s, strlen(s), out, &n, EVP_sha256(), NULL) && n == SHA256_LEN ? 0 : -1;
}

int webhook_verify(enum webhook_provider provider, const char *const *headers, const void *body,
                   size_t len, const char *secret, struct pacer_error **err)
{
	const struct provider *p = provider_get(provider);
	unsigned char want[SHA256_LEN], got[SHA256_LEN];
	const char *header = NULL, *value = NULL, *mismatch;
	int rc;

	if (!secret || !*secret)
		return pacer_error_set(err, PACER_EINVALID,
		                       "webhook: no secret to verify %s webhooks with: set "
		                       "PACER_WEBHOOK_SECRET or PACER_WEBHOOK_SECRET_FILE",
		                       webhook_provider_name(provider));
	if (!p)
		return pacer_error_set(err, PACER_EINVALID, "webhook: unknown provider %d",
		                       (int)provider);

	for (size_t i = 0; i < NELEM(p->sig_headers) && p->sig_headers[i] && !value; i++) {
		header = p->sig_headers[i];
		value = webhook_header(headers, header);
	}
	if (!value)
		return auth_error(err, provider,
		                  p->sig_missing ? p->sig_missing : p->sig_headers[0],
		                  "is missing");
	/*
	 * Either way the comparison is CRYPTO_memcmp over two fixed-size
	 * digests, so neither a matching prefix nor the length of a guess shows
	 * in the timing.
	 */
	if (p->sig == SIG_TOKEN) {
		/* The token itself: hashing both sides gives equal-length inputs. */
		if (sha256_str(value, got) || sha256_str(secret, want))
			return pacer_error_set(err, PACER_EGENERIC,
			                       "%s webhook: SHA-256 failed in OpenSSL", p->name);
		mismatch = "does not match";
	} else {
		size_t plen = p->sig_prefix ? strlen(p->sig_prefix) : 0;

		if (plen && strncasecmp(value, p->sig_prefix, plen) != 0) {
			char what[80];

			snprintf(what, sizeof(what), "is malformed (expected %s<64 hex digits>)",
			         p->sig_prefix);
			return auth_error(err, provider, header, what);
		}
		if (parse_hex_digest(value + plen, got))
			return auth_error(err, provider, header,
			                  "is malformed (expected 64 hex digits)");
		if (hmac_sha256(secret, body, len, want))
			return pacer_error_set(err, PACER_EGENERIC,
			                       "%s webhook: HMAC-SHA256 failed in OpenSSL",
			                       p->name);
		mismatch = "does not match the body";
	}
	rc = 0;
	if (CRYPTO_memcmp(want, got, SHA256_LEN) != 0)
		rc = auth_error(err, provider, header, mismatch);
	OPENSSL_cleanse(want, sizeof(want));
	return rc;
}

/* ---- payloads ----------------------------------------------------------- */

/* The string at a path of object keys (NULL-terminated varargs), or NULL. */
static const char *jstr(struct json_object *o, ...)
{
	va_list ap;
	const char *k;

	va_start(ap, o);
	while (o && (k = va_arg(ap, const char *)) != NULL)
		if (!json_object_object_get_ex(o, k, &o))
			o = NULL;
	va_end(ap);
	return o && json_object_is_type(o, json_type_string) ? json_object_get_string(o) : NULL;
}

static int jbool(struct json_object *o, const char *k1, const char *k2)
{
	if (!json_object_object_get_ex(o, k1, &o))
		return 0;
	if (k2 && !json_object_object_get_ex(o, k2, &o))
		return 0;
	return json_object_is_type(o, json_type_boolean) && json_object_get_boolean(o);
}

static int set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = NULL;
	if (!s)
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : -1;
}

static int set_reason(struct webhook_event *ev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int set_reason(struct webhook_event *ev, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	free(ev->reason);
	ev->reason = s;
	return 0;
}

static int all_zero(const char *sha)
{
	if (!sha || !*sha)
		return 0;
	for (; *sha; sha++)
		if (*sha != '0')
			return 0;
	return 1;
}

/*
 * Decide for an event about `branch` (already without refs/heads/).
 * `what` describes the event for the reason line.
 */
static int decide_branch(struct webhook_event *ev, const char *what, const char *branch,
                         const char *commit, const char *tracked, const char *default_branch)
{
	const char *want = tracked ? tracked : default_branch;
	const char *c = commit && *commit && !all_zero(commit) ? commit : NULL;

	if (set_str(&ev->branch, branch) || set_str(&ev->commit, c))
		return -1;
	if (!want) {
		ev->action = WEBHOOK_TRIGGER;
		return set_reason(ev, "%s to %s%s%.12s", what, branch, c ? " at " : "", c ? c : "");
	}
	if (strcmp(branch, want) != 0) {
		ev->action = WEBHOOK_IGNORE;
		return set_reason(ev, "%s to branch %s, not the tracked branch %s", what, branch,
		                  want);
	}
	ev->action = WEBHOOK_TRIGGER;
	return set_reason(ev, "%s to %s%s%.12s", what, branch, c ? " at " : "", c ? c : "");
}

/* A push: ref refs/heads/<b>; tags and other refs are ignored. */
static int decide_push(struct webhook_event *ev, struct json_object *o, const char *tracked,
                       const char *default_branch, int deleted)
{
	const char *ref = jstr(o, "ref", NULL);
	const char *after = jstr(o, "after", NULL);

	if (!after || all_zero(after)) {
		const char *checkout = jstr(o, "checkout_sha", NULL); /* GitLab */

		if (checkout)
			after = checkout;
	}
	if (!ref) {
		ev->action = WEBHOOK_IGNORE;
		return set_reason(ev, "push without a ref");
	}
	if (strncmp(ref, "refs/heads/", 11) != 0) {
		ev->action = WEBHOOK_IGNORE;
		return set_reason(ev, "push to %s, which is not a branch", ref);
	}
	if (deleted || all_zero(after)) {
		if (set_str(&ev->branch, ref + 11))
			return -1;
		ev->action = WEBHOOK_IGNORE;
		return set_reason(ev, "branch %s was deleted", ref + 11);
	}
	return decide_branch(ev, "push", ref + 11, after, tracked, default_branch);
}

/* GitHub and Gitea pull_request: only "closed" with merged = true counts. */
static int decide_pull_request(struct webhook_event *ev, struct json_object *o, const char *tracked,
                               const char *default_branch)
{
	const char *action = jstr(o, "action", NULL);
	const char *base = jstr(o, "pull_request", "base", "ref", NULL);

	if (!action || strcmp(action, "closed") != 0) {
		ev->action = WEBHOOK_IGNORE;
		return set_reason(ev, "pull request %s, not merged", action ? action : "event");
	}
	if (!jbool(o, "pull_request", "merged")) {
		ev->action = WEBHOOK_IGNORE;
		return set_reason(ev, "pull request closed without merging");
	}
	if (!base) {
		ev->action = WEBHOOK_IGNORE;
		return set_reason(ev, "merged pull request without pull_request.base.ref");
	}
	return decide_branch(ev, "pull request merged", base,
	                     jstr(o, "pull_request", "merge_commit_sha", NULL), tracked,
	                     default_branch);
}

/* GitLab Merge Request Hook: only action "merge" counts. */
static int decide_merge_request(struct webhook_event *ev, struct json_object *o,
                                const char *tracked, const char *default_branch)
{
	const char *action = jstr(o, "object_attributes", "action", NULL);
	const char *target = jstr(o, "object_attributes", "target_branch", NULL);

	if (!action || strcmp(action, "merge") != 0) {
		ev->action = WEBHOOK_IGNORE;
		return set_reason(ev, "merge request %s, not merged", action ? action : "event");
	}
	if (!target) {
		ev->action = WEBHOOK_IGNORE;
		return set_reason(ev, "merged merge request without "
		                      "object_attributes.target_branch");
	}
	return decide_branch(ev, "merge request merged", target,
	                     jstr(o, "object_attributes", "merge_commit_sha", NULL), tracked,
	                     default_branch);
}

/* A git host's event (GitHub, GitLab, Gitea), by the names in its row. */
static int decide_hosted(const struct provider *p, struct webhook_event *ev, const char *event,
                         struct json_object *o, const char *tracked)
{
	const char *def = jstr(o, p->default_branch_in, "default_branch", NULL);

	if (p->ping && strcmp(event, p->ping) == 0) {
		ev->action = WEBHOOK_PING;
		return set_reason(ev, "ping");
	}
	if (strcmp(event, p->push) == 0)
		return decide_push(ev, o, tracked, def,
		                   p->push_deleted && jbool(o, "deleted", NULL));
	if (p->pull_request && strcmp(event, p->pull_request) == 0)
		return decide_pull_request(ev, o, tracked, def);
	if (p->merge_request && strcmp(event, p->merge_request) == 0)
		return decide_merge_request(ev, o, tracked, def);
	ev->action = WEBHOOK_IGNORE;
	return set_reason(ev, "event %s does not change the branch", event);
}

static int decide_generic(struct webhook_event *ev, struct json_object *o, const char *tracked)
{
	const char *ref = o ? jstr(o, "ref", NULL) : NULL;
	const char *branch = o ? jstr(o, "branch", NULL) : NULL;
	const char *commit = o ? jstr(o, "after", NULL) : NULL;

	if (o && !commit)
		commit = jstr(o, "commit", NULL);
	if (!branch && ref) {
		if (strncmp(ref, "refs/heads/", 11) != 0) {
			ev->action = WEBHOOK_IGNORE;
			return set_reason(ev, "ref %s is not a branch", ref);
		}
		branch = ref + 11;
	}
	if (!branch) {
		if (set_str(&ev->commit, commit))
			return -1;
		ev->action = WEBHOOK_TRIGGER;
		return set_reason(ev, "sync requested");
	}
	/* The server names the provider first: "generic hook to main". */
	return decide_branch(ev, "hook", branch, commit, tracked, NULL);
}

static int only_blanks(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

int webhook_parse(enum webhook_provider provider, const char *const *headers, const char *body,
                  size_t len, const char *tracked_branch, struct webhook_event *out,
                  struct pacer_error **err)
{
	const struct provider *p = provider_get(provider);
	struct json_tokener *tok = NULL;
	struct json_object *o = NULL;
	const char *event = NULL;
	int rc = 0;

	out->action = WEBHOOK_IGNORE;
	if (!p)
		return pacer_error_set(err, PACER_EINVALID, "webhook: unknown provider %d",
		                       (int)provider);
	for (size_t i = 0; i < NELEM(p->event_headers) && p->event_headers[i] && !event; i++)
		event = webhook_header(headers, p->event_headers[i]);
	if (p->event_required && !event)
		return pacer_error_set(err, PACER_EINVALID,
		                       "%s webhook: the %s header is missing: is the webhook "
		                       "configured as a %s webhook?",
		                       p->name, p->event_headers[0], p->name);
	if (set_str(&out->event, event))
		goto oom;

	/* The generic hook may have no body at all: "sync now". */
	if (!(provider == WEBHOOK_GENERIC && len == 0)) {
		tok = json_tokener_new();
		if (!tok)
			goto oom;
		o = json_tokener_parse_ex(tok, body ? body : "", (int)len);
		if (!o || json_tokener_get_error(tok) != json_tokener_success ||
		    !only_blanks(body + json_tokener_get_parse_end(tok),
		                 len - json_tokener_get_parse_end(tok)) ||
		    !json_object_is_type(o, json_type_object)) {
			rc = pacer_error_set(err, PACER_EINVALID,
			                     "%s webhook: the body is not a JSON object: set the "
			                     "webhook's content type to application/json",
			                     p->name);
			goto done;
		}
	}

	if (provider == WEBHOOK_GENERIC)
		rc = decide_generic(out, o, tracked_branch);
	else
		rc = decide_hosted(p, out, event, o, tracked_branch);
	if (rc)
		goto oom;
	goto done;
oom:
	rc = pacer_error_set(err, PACER_EGENERIC, "%s webhook: out of memory", p->name);
done:
	json_object_put(o);
	if (tok)
		json_tokener_free(tok);
	return rc;
}

void webhook_event_release(struct webhook_event *ev)
{
	if (!ev)
		return;
	free(ev->event);
	free(ev->branch);
	free(ev->commit);
	free(ev->reason);
	ev->event = ev->branch = ev->commit = ev->reason = NULL;
	ev->action = WEBHOOK_IGNORE;
}
