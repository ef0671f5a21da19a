/*
 * notifier.c: the notifications of a sync, from the options to the
 * senders' queues (notifier.h).
 */
#include "cmd/pacer/notifier.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "backends/notify/sender.h"
#include "backends/webhook/webhook.h"
#include "cmd/pacer/cli.h"
#include "cmd/pacer/env.h"
#include "reconcile/base/clock.h"
#include "reconcile/base/log.h"
#include "reconcile/base/secret.h"
#include "reconcile/notify.h"

/* The state store's document of what was told. */
#define MEMORY_DOC "notify.json"

struct notifier {
	struct notify_sender *senders[NOTIFY_NSINKS]; /* NULL: the sink is off */
	enum notify_forge forge;
	char *api, *repo, *token, *context; /* commit status */
	char *webhook, *secret;             /* webhook */
	char *slack;                        /* slack */
	char *cluster;
	int timeout_s;
	struct pacer_state_store *state; /* borrowed, may be NULL */

	pthread_mutex_t mu; /* guards mem */
	struct notify_memory mem;
};

/* "host[:port]" of the first of the comma-separated Marathon URLs. */
static char *cluster_from_marathon(const char *urls)
{
	const char *p = urls ? urls : "http://127.0.0.1:8080", *s = strstr(p, "://"), *end, *at;

	p = s ? s + 3 : p;
	end = p + strcspn(p, "/,?#");
	at = memchr(p, '@', (size_t)(end - p));
	if (at)
		p = at + 1;
	return end > p ? strndup(p, (size_t)(end - p)) : strdup("marathon");
}

/* The commit status sink: forge, repository, API, token. */
static int open_status(struct notifier *n, const struct cli_notify *o, const char *source,
                       struct pacer_error **err)
{
	char *host = NULL;
	int rc;

	if ((rc = notify_forge_parse(o->commit_status, &n->forge, err)))
		return rc;
	if (o->commit_status_repo)
		rc = !(n->repo = strdup(o->commit_status_repo)) ? -1 : 0;
	else
		rc = notify_remote_parse(source ? source : "", &host, &n->repo, err);
	if (!rc)
		rc = notify_forge_check_repo(n->forge, n->repo, err);
	if (!rc && o->commit_status_api)
		rc = !(n->api = strdup(o->commit_status_api)) ? -1 : 0;
	else if (!rc)
		rc = notify_forge_api_default(n->forge, host, &n->api, err);
	free(host);
	if (rc)
		return rc;
	if ((rc = env_commit_status_token(&n->token, err)))
		return rc;
	if (!n->token)
		return pacer_error_set(err, PACER_EINVALID,
		                       "--commit-status %s needs a token: set PACER_COMMIT_STATUS_TOKEN "
		                       "or PACER_COMMIT_STATUS_TOKEN_FILE",
		                       notify_forge_name(n->forge));
	if (asprintf(&n->context, "pacer/%s", n->cluster) < 0) {
		n->context = NULL;
		return -1;
	}
	return 0;
}

static int open_webhook(struct notifier *n, const struct cli_notify *o, struct pacer_error **err)
{
	int rc;

	if (!(n->webhook = strdup(o->webhook)))
		return -1;
	if ((rc = env_notify_webhook_secret(&n->secret, err)))
		return rc;
	if (!n->secret)
		return pacer_error_set(err, PACER_EINVALID,
		                       "--notify-webhook needs a secret to sign with: set "
		                       "PACER_NOTIFY_WEBHOOK_SECRET or PACER_NOTIFY_WEBHOOK_SECRET_FILE "
		                       "(the receiver checks X-Pacer-Signature with it)");
	/* The URL may carry a token of its own: never in a log line. */
	pacer_log_add_secret(n->webhook);
	return 0;
}

static int start_senders(struct notifier *n, struct metrics *metrics, struct pacer_error **err)
{
	int on[NOTIFY_NSINKS] = {n->api != NULL, n->webhook != NULL, n->slack != NULL};

	for (int i = 0; i < NOTIFY_NSINKS; i++) {
		struct notify_sender_options so = NOTIFY_SENDER_OPTIONS_INIT;
		int rc;

		if (!on[i])
			continue;
		so.sink = notify_sink_name((enum notify_sink)i);
		so.user_agent = "pacer/" PACER_VERSION;
		so.metrics = metrics;
		if ((rc = notify_sender_new(&n->senders[i], &so, err)))
			return rc;
	}
	return 0;
}

static void load_memory(struct notifier *n)
{
	struct pacer_error *e = NULL;
	char *data = NULL;
	size_t len = 0;

	if (!n->state || !n->state->doc_load)
		return;
	if (n->state->doc_load(n->state, MEMORY_DOC, &data, &len, &e))
		PLOG_WARN("notify: cannot read what was told before (%s): telling afresh",
		          e ? e->message : "?");
	notify_memory_from_json(&n->mem, data, len);
	free(data);
	pacer_error_free(e);
}

int notifier_open(struct notifier **out, const struct cli_notify *o, const struct cli_common *c,
                  struct pacer_state_store *state, struct metrics *metrics,
                  struct pacer_error **err)
{
	struct notifier *n;
	char *slack = NULL;
	int rc = -1;

	*out = NULL;
	/* The URL of a Slack webhook is a credential: a file or systemd's may hold it. */
	if (!o->slack && (rc = env_notify_slack(&slack, err)))
		return rc;
	if (!o->commit_status && !o->webhook && !o->slack && !slack)
		return 0;
	if (!(n = calloc(1, sizeof(*n)))) {
		pacer_secret_free(slack);
		return pacer_error_set(err, -1, "out of memory");
	}
	n->slack = slack;
	rc = -1;
	pthread_mutex_init(&n->mu, NULL);
	n->state = state;
	n->timeout_s = o->timeout >= 0 ? o->timeout : NOTIFIER_TIMEOUT_S;
	n->cluster = o->cluster ? strdup(o->cluster) : cluster_from_marathon(c->marathon);
	if (!n->cluster)
		goto fail;
	if (o->commit_status && (rc = open_status(n, o, c->source, err)))
		goto fail;
	if (o->commit_status && c->source && !cli_source_is_git(c->source))
		PLOG_WARN("notify: --commit-status posts the result of a commit, and the source %s "
		          "is a directory, which has none: no commit status will be posted (use "
		          "the git URL as --source)",
		          c->source);
	if (o->webhook && (rc = open_webhook(n, o, err)))
		goto fail;
	if (o->slack && !(n->slack = strdup(o->slack)))
		goto fail;
	/* A Slack webhook URL is its own credential: never in a log line. */
	if (n->slack)
		pacer_log_add_secret(n->slack);
	if ((rc = start_senders(n, metrics, err)))
		goto fail;
	load_memory(n);
	*out = n;
	return 0;
fail:
	if (rc == -1 && !(err && *err))
		pacer_error_set(err, -1, "out of memory");
	notifier_free(n);
	return rc ? rc : -1;
}

/* Store the memory for the next run (a timer's next pacer sync). Under n->mu. */
static void save_memory(struct notifier *n)
{
	struct pacer_error *e = NULL;
	char *text;

	if (!n->state || !n->state->doc_save || !(text = notify_memory_to_json(&n->mem)))
		return;
	if (n->state->doc_save(n->state, MEMORY_DOC, text, strlen(text), &e))
		PLOG_WARN("notify: cannot record what was told (%s): the next run may tell it again",
		          e ? e->message : "?");
	free(text);
	pacer_error_free(e);
}

/* Queue one commit status. Under n->mu. */
static void post_status(struct notifier *n, const char *commit, enum notify_state st,
                        const char *description)
{
	struct notify_forge_request rq;
	struct pacer_error *e = NULL;
	char what[96];

	if (notify_forge_request(n->forge, n->api, n->repo, commit, st, description, n->context,
	                         n->token, &rq, &e)) {
		PLOG_WARN("notify: commit_status: %s", e ? e->message : "out of memory");
		pacer_error_free(e);
		return;
	}
	snprintf(what, sizeof(what), "status %s of %.12s", notify_forge_state(n->forge, st),
	         commit);
	{
		const char *headers[] = {rq.auth, "Accept: application/json", NULL};

		notify_sender_post(n->senders[NOTIFY_SINK_COMMIT_STATUS], rq.url, headers, rq.body,
		                   what);
	}
	notify_forge_request_release(&rq);
}

void notifier_revision(void *ctx, const char *revision)
{
	struct notifier *n = ctx;

	if (!n || !revision)
		return;
	pthread_mutex_lock(&n->mu);
	if (n->senders[NOTIFY_SINK_COMMIT_STATUS] && notify_status_pending_due(&n->mem, revision)) {
		char desc[NOTIFY_DESCRIPTION_MAX + 1];

		snprintf(desc, sizeof(desc), "deploying to %s", n->cluster);
		post_status(n, revision, NOTIFY_STATE_PENDING, desc);
		notify_memory_note_status(&n->mem, revision, NULL);
		save_memory(n);
	}
	pthread_mutex_unlock(&n->mu);
}

/*
 * A delivery id, the same for every retry of one message, so that a
 * receiver can tell a retry (its answer lost) from a new message, as
 * pacer serve's own hooks do with X-Pacer-Delivery.
 */
static void delivery_id(char out[33])
{
	unsigned char r[16];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		/* No entropy to spare: the time and the address still make it unique here. */
		unsigned long long t = (unsigned long long)time(NULL), p = (unsigned long long)(size_t)out;

		memcpy(r, &t, 8);
		memcpy(r + 8, &p, 8);
	}
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* The webhook's signed document. */
static void post_webhook(struct notifier *n, const char *body, const char *what)
{
	char hex[65], sig[96], id[33], delivery[64];
	const char *headers[] = {sig, delivery, "X-Pacer-Event: sync", NULL};

	if (webhook_hmac_hex(n->secret, body, strlen(body), hex)) {
		PLOG_WARN("notify: webhook: cannot sign %s", what);
		return;
	}
	snprintf(sig, sizeof(sig), "X-Pacer-Signature: sha256=%s", hex);
	delivery_id(id);
	snprintf(delivery, sizeof(delivery), "X-Pacer-Delivery: %s", id);
	notify_sender_post(n->senders[NOTIFY_SINK_WEBHOOK], n->webhook, headers, body, what);
}

/* The webhook and Slack messages of a sync worth telling. Under n->mu. */
static void tell(struct notifier *n, const struct sync_result *res, const struct pacer_error *err,
                 const struct notify_summary *s, enum notify_event ev, const char *trigger)
{
	struct notify_context ctx = {n->cluster, trigger, res ? res->revision : NULL};
	char *body = NULL, what[64];

	snprintf(what, sizeof(what), "%s of a %s sync", notify_event_name(ev), s->result);
	PLOG_INFO("notify: %s: %s", notify_event_name(ev), s->description);
	if (n->senders[NOTIFY_SINK_WEBHOOK] && !notify_webhook_body(&body, res, err, s, ev, &ctx))
		post_webhook(n, body, what);
	free(body);
	body = NULL;
	if (n->senders[NOTIFY_SINK_SLACK] && !notify_slack_body(&body, res, s, ev, &ctx))
		notify_sender_post(n->senders[NOTIFY_SINK_SLACK], n->slack, NULL, body, what);
	free(body);
}

void notifier_finished(struct notifier *n, const struct sync_result *res, int rc,
                       const struct pacer_error *err, const char *trigger, int partial)
{
	const char *commit = res ? res->revision : NULL;
	struct notify_summary s;
	enum notify_event ev;

	if (!n || notify_summarize(&s, res, rc, err, partial))
		return;
	pthread_mutex_lock(&n->mu);
	if (n->senders[NOTIFY_SINK_COMMIT_STATUS] && !partial &&
	    notify_status_due(&n->mem, commit, &s)) {
		post_status(n, commit, s.state, s.description);
		notify_memory_note_status(&n->mem, commit, &s);
	}
	ev = notify_decide(&n->mem, &s);
	if (ev != NOTIFY_SKIP && (n->senders[NOTIFY_SINK_WEBHOOK] || n->senders[NOTIFY_SINK_SLACK]))
		tell(n, res, err, &s, ev, trigger);
	else if (ev == NOTIFY_SKIP && *s.fingerprint)
		PLOG_DEBUG("notify: not told again: %s", s.fingerprint);
	notify_memory_note(&n->mem, &s);
	save_memory(n);
	pthread_mutex_unlock(&n->mu);
	notify_summary_release(&s);
}

size_t notifier_drain(struct notifier *n)
{
	long long deadline;
	size_t left = 0;

	if (!n)
		return 0;
	deadline = pacer_now_ms() + (long long)n->timeout_s * 1000;
	for (int i = 0; i < NOTIFY_NSINKS; i++)
		if (n->senders[i])
			left += notify_sender_drain(n->senders[i], deadline);
	if (left)
		PLOG_WARN("notify: %zu notification%s not delivered within %ds (--notify-timeout): "
		          "given up",
		          left, left == 1 ? "" : "s", n->timeout_s);
	return left;
}

void notifier_stop(struct notifier *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->mu);
	for (int i = 0; i < NOTIFY_NSINKS; i++) {
		notify_sender_free(n->senders[i]);
		n->senders[i] = NULL;
	}
	pthread_mutex_unlock(&n->mu);
}

void notifier_free(struct notifier *n)
{
	if (!n)
		return;
	notifier_stop(n);
	notify_memory_release(&n->mem);
	pthread_mutex_destroy(&n->mu);
	free(n->api);
	free(n->repo);
	pacer_secret_free(n->token);
	free(n->context);
	free(n->webhook);
	pacer_secret_free(n->secret);
	pacer_secret_free(n->slack);
	free(n->cluster);
	free(n);
}
