/*
 * webhook.h: verify and understand the webhooks of git hosting services.
 * Pure: no sockets, no threads; the HTTP side is pacer serve's
 * (cmd/pacer/serve_http.c).
 *
 * Providers and how a request proves it knows the shared secret:
 *   github   X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>
 *   gitlab   X-Gitlab-Token: <secret>                  (GitLab sends the token itself)
 *   gitea    X-Gitea-Signature: <hex HMAC-SHA256(secret, body)>
 *            (Forgejo also sends X-Forgejo-Signature; either is accepted)
 *   generic  X-Pacer-Signature: sha256=<hex HMAC-SHA256(secret, body)>
 * Every comparison runs in constant time (CRYPTO_memcmp over fixed-size
 * digests), so response timing does not leak how much of a guess matched.
 *
 * What triggers a sync (the "tracked branch" is the branch pacer syncs):
 *   github   X-GitHub-Event push to refs/heads/<branch> (not a deletion);
 *            pull_request with action "closed", merged true, base.ref <branch>;
 *            ping answers "pong" and triggers nothing.
 *   gitlab   X-Gitlab-Event "Push Hook" to refs/heads/<branch>;
 *            "Merge Request Hook" with object_attributes.action "merge" and
 *            target_branch <branch>.
 *   gitea    X-Gitea-Event / X-Forgejo-Event push to refs/heads/<branch>;
 *            pull_request with action "closed", merged true, base.ref <branch>.
 *   generic  any body: empty, or a JSON object that may name "ref"
 *            ("refs/heads/x") or "branch" ("x") and "after" or "commit".
 *            No branch named means "sync now".
 * Everything else (other branches, tags, other events, PRs closed without
 * merging, branch deletions) is ignored, with a reason.
 *
 * When the tracked branch is NULL (pacer follows the remote's default
 * branch), the payload's repository default_branch is used; when the
 * payload does not say, the event triggers (a sync is idempotent).
 *
 * Headers are passed as a NULL-terminated array of name/value pairs,
 * {"X-GitHub-Event", "push", NULL}; names are matched case-insensitively.
 */
#ifndef PACER_WEBHOOK_H
#define PACER_WEBHOOK_H

#include <stddef.h>

#include "reconcile/base/error.h"

enum webhook_provider {
	WEBHOOK_GITHUB = 0,
	WEBHOOK_GITLAB,
	WEBHOOK_GITEA,
	WEBHOOK_GENERIC,
};

/* "github", "gitlab", "gitea" (also "forgejo"), "generic". Returns 0, or PACER_ENOTFOUND. */
int webhook_provider_parse(const char *name, enum webhook_provider *out);
/* "github", "gitlab", "gitea", "generic". Static string. */
const char *webhook_provider_name(enum webhook_provider p);

/* The value of a header (case-insensitive name), borrowed from headers, or NULL. */
const char *webhook_header(const char *const *headers, const char *name);

/*
 * The provider's id of this delivery, borrowed from headers, or NULL when
 * the request carries none: github X-GitHub-Delivery; gitlab
 * Idempotency-Key (the same on GitLab's retries), else X-Gitlab-Event-UUID;
 * gitea X-Gitea-Delivery (X-Forgejo-Delivery, X-Gogs-Delivery); generic
 * X-Pacer-Delivery. A redelivery of the same event carries the same id.
 * Only meaningful once the request is verified (webhook_verify()).
 */
const char *webhook_delivery_id(enum webhook_provider provider, const char *const *headers);

/*
 * Check that the request was signed with `secret` (non-empty). Returns 0
 * when it was, PACER_EAUTH when the signature header is missing, malformed
 * or wrong (the message names the header and says to compare the secret
 * configured at the provider with PACER_WEBHOOK_SECRET; it never contains
 * the secret or the signature), PACER_EINVALID when secret is empty.
 */
int webhook_verify(enum webhook_provider provider, const char *const *headers, const void *body,
                   size_t len, const char *secret, struct pacer_error **err);

/*
 * Compute the hex HMAC-SHA256 of body with secret into out (65 bytes:
 * 64 lowercase hex digits and a NUL). For tests and clients of the generic
 * hook. Returns 0, or -1 when OpenSSL fails.
 */
int webhook_hmac_hex(const char *secret, const void *body, size_t len, char out[65]);

enum webhook_action {
	WEBHOOK_IGNORE = 0,
	WEBHOOK_TRIGGER,
	WEBHOOK_PING,
};

/* What a webhook asks for. Caller-owned; release with webhook_event_release(). */
struct webhook_event {
	enum webhook_action action;
	char *event;  /* the provider's event name ("push", "Merge Request Hook"), or NULL */
	char *branch; /* the branch the event is about, or NULL */
	char *commit; /* the commit it brings (push "after", merge commit), or NULL */
	char *reason; /* one human line: why it triggers or is ignored; never NULL on success */
};

#define WEBHOOK_EVENT_INIT                                                                         \
	{                                                                                          \
		WEBHOOK_IGNORE, NULL, NULL, NULL, NULL                                             \
	}

/*
 * Decide what a (verified) webhook asks for. body is len bytes (need not be
 * NUL-terminated). tracked_branch may be NULL (see above). Returns 0 and
 * fills *out (release it even on failure), or PACER_EINVALID when the
 * request is malformed: the body is not a JSON object, or the event header
 * is missing (the message names the header and the provider).
 */
int webhook_parse(enum webhook_provider provider, const char *const *headers, const char *body,
                  size_t len, const char *tracked_branch, struct webhook_event *out,
                  struct pacer_error **err);

void webhook_event_release(struct webhook_event *ev);

#endif
