/*
 * notify.c: which syncs are told, and in which words (notify.h).
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/buf.h"
#include "reconcile/metrics.h"
#include "reconcile/notify.h"
#include "reconcile/sync.h"

/* The most apps a Slack message lists one per line. */
#define SLACK_MAX_APPS 20

const char *notify_sink_name(enum notify_sink s)
{
	static const char *const names[] = {"commit_status", "webhook", "slack"};

	return (unsigned)s < NOTIFY_NSINKS ? names[s] : "?";
}

const char *notify_event_name(enum notify_event e)
{
	return e == NOTIFY_PROBLEM ? "problem" : e == NOTIFY_RECOVERY ? "recovery" : "skip";
}

/* How an app's outcome counts: its word in the fingerprint (NULL: no problem). */
static const char *problem_word(enum sync_outcome o)
{
	switch (o) {
	case SYNC_OUT_FAILED:
	case SYNC_OUT_ROLLED_BACK:
	case SYNC_OUT_RESTARTED:
	case SYNC_OUT_ROLLBACK_FAILED:
	case SYNC_OUT_HELD:
		/* A failure and the hold that follows it are one problem. */
		return "failing";
	case SYNC_OUT_DEGRADED:
		return "degraded";
	case SYNC_OUT_UNKNOWN:
		return "unknown";
	default:
		return NULL;
	}
}

/* A deployment of this sync failed (not held from an earlier one). */
static int fresh_failure(enum sync_outcome o)
{
	return o == SYNC_OUT_FAILED || o == SYNC_OUT_ROLLED_BACK || o == SYNC_OUT_RESTARTED ||
	       o == SYNC_OUT_ROLLBACK_FAILED;
}

/* Words for the counts, in the order the description lists them. */
static const struct {
	enum sync_outcome o;
	const char *word;
} count_words[] = {
    {SYNC_OUT_CREATED, "created"},       {SYNC_OUT_UPDATED, "updated"},
    {SYNC_OUT_PRUNED, "pruned"},         {SYNC_OUT_FAILED, "failed"},
    {SYNC_OUT_ROLLED_BACK, "rolled back"}, {SYNC_OUT_RESTARTED, "restarted"},
    {SYNC_OUT_ROLLBACK_FAILED, "rollback failed"}, {SYNC_OUT_HELD, "held"},
    {SYNC_OUT_DEGRADED, "degraded"},     {SYNC_OUT_PROGRESSING, "progressing"},
    {SYNC_OUT_UNKNOWN, "of unknown outcome"}, {SYNC_OUT_INTERRUPTED, "interrupted"},
    {SYNC_OUT_SKIPPED, "skipped"},       {SYNC_OUT_SUSPENDED, "suspended"},
};

/* The outcome's words for people ("rolled back"). */
static const char *outcome_words(enum sync_outcome o)
{
	for (size_t i = 0; i < sizeof(count_words) / sizeof(*count_words); i++)
		if (count_words[i].o == o)
			return count_words[i].word;
	return sync_outcome_name(o);
}

/* The app that best says what went wrong: a fresh failure, else the first problem. */
static const struct sync_app_result *worst_app(const struct sync_result *res)
{
	const struct sync_app_result *first = NULL;

	for (size_t i = 0; res && i < res->napps; i++) {
		if (fresh_failure(res->apps[i].outcome))
			return &res->apps[i];
		if (!first && problem_word(res->apps[i].outcome))
			first = &res->apps[i];
	}
	return first;
}

/*
 * "<why>" of an app or a run, on one line: the error's own message and,
 * when it wraps others, the root cause (the middle of the chain says the
 * same again at each layer; `pacer sync`'s output has all of it).
 */
static int put_error(struct pacer_buf *b, const struct pacer_error *e)
{
	const struct pacer_error *root = e;

	if (!e)
		return 0;
	while (root->cause)
		root = root->cause;
	if (pacer_buf_puts(b, e->message))
		return -1;
	return root != e ? pacer_buf_printf(b, ": %s", root->message) : 0;
}

/* "2 updated, 1 rolled back"; nothing when no app changed or failed. */
static int put_counts(struct pacer_buf *b, const struct sync_result *res)
{
	int any = 0;

	for (size_t w = 0; res && w < sizeof(count_words) / sizeof(*count_words); w++) {
		size_t n = 0;

		for (size_t i = 0; i < res->napps; i++)
			n += res->apps[i].outcome == count_words[w].o;
		if (n && pacer_buf_printf(b, "%s%zu %s", any++ ? ", " : "", n, count_words[w].word))
			return -1;
	}
	return any;
}

static int describe(struct pacer_buf *b, const struct sync_result *res, const char *result,
                    const struct pacer_error *err)
{
	const struct sync_app_result *worst = worst_app(res);
	int counted = put_counts(b, res);

	if (counted < 0)
		return -1;
	if (!counted && res && !strcmp(result, "converged"))
		return pacer_buf_printf(b, "%zu app%s in sync", res->napps, res->napps == 1 ? "" : "s");
	if (worst) {
		/* The app's id once: most messages name it already. */
		int named = worst->error && strstr(worst->error->message, worst->app_id);

		if (counted && pacer_buf_puts(b, ": "))
			return -1;
		if (!named && pacer_buf_printf(b, "%s%s", worst->app_id, worst->error ? ": " : ""))
			return -1;
		return worst->error ? put_error(b, worst->error)
		                    : pacer_buf_printf(b, " %s", outcome_words(worst->outcome));
	}
	if (err)
		return pacer_buf_printf(b, "%s%s: ", counted ? "; " : "", result) || put_error(b, err);
	if (!counted)
		return pacer_buf_puts(b, result);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The problems, sorted by app id so that a change of plan order is no
 * change: "/a=failing /b=degraded", or "run=invalid" for a run that failed
 * before any app did.
 */
static int fingerprint(struct pacer_buf *b, const struct sync_result *res, const char *result,
                       const struct pacer_error *err)
{
	char **items = res && res->napps ? calloc(res->napps, sizeof(*items)) : NULL;
	size_t n = 0;
	int rc = 0;

	if (res && res->napps && !items)
		return -1;
	for (size_t i = 0; res && i < res->napps && !rc; i++) {
		const char *w = problem_word(res->apps[i].outcome);

		if (!w)
			continue;
		if (asprintf(&items[n], "%s=%s", res->apps[i].app_id, w) < 0) {
			items[n] = NULL;
			rc = -1;
		} else {
			n++;
		}
	}
	if (!rc && n)
		qsort(items, n, sizeof(*items), cmp_str);
	for (size_t i = 0; i < n && !rc; i++)
		rc = pacer_buf_printf(b, "%s%s", i ? " " : "", items[i]);
	for (size_t i = 0; i < n; i++)
		free(items[i]);
	free(items);
	if (!rc && !n && strcmp(result, "converged") && (strcmp(result, "failed") || err))
		rc = pacer_buf_printf(b, "run=%s", result);
	return rc;
}

int notify_summarize(struct notify_summary *out, const struct sync_result *res, int rc,
                     const struct pacer_error *err, int partial)
{
	struct pacer_buf d = PACER_BUF_INIT, f = PACER_BUF_INIT;
	int converged = rc == 0 && res && res->converged;

	memset(out, 0, sizeof(*out));
	out->result = metrics_sync_result(rc == 0 && !converged ? PACER_EFAILED : rc, converged);
	out->state = converged                  ? NOTIFY_STATE_SUCCESS
	             : rc == PACER_ECANCELLED   ? NOTIFY_STATE_CANCELLED
	                                        : NOTIFY_STATE_FAILURE;
	out->partial = partial;
	for (size_t i = 0; res && i < res->napps; i++)
		out->fresh |= fresh_failure(res->apps[i].outcome);
	if (describe(&d, res, out->result, err) || fingerprint(&f, res, out->result, err))
		goto fail;
	if (out->state == NOTIFY_STATE_CANCELLED) {
		pacer_buf_reset(&d);
		if (pacer_buf_puts(&d, "not finished: superseded by a newer commit, or pacer stopped"))
			goto fail;
	}
	out->description = pacer_buf_detach(&d);
	out->fingerprint = pacer_buf_detach(&f);
	if (!out->description || !out->fingerprint)
		goto fail;
	notify_text_cut(out->description, NOTIFY_DESCRIPTION_MAX);
	return 0;
fail:
	pacer_buf_release(&d);
	pacer_buf_release(&f);
	notify_summary_release(out);
	return -1;
}

void notify_summary_release(struct notify_summary *s)
{
	free(s->description);
	free(s->fingerprint);
	memset(s, 0, sizeof(*s));
}

void notify_memory_release(struct notify_memory *m)
{
	free(m->fingerprint);
	free(m->status_commit);
	free(m->status_state);
	memset(m, 0, sizeof(*m));
}

enum notify_event notify_decide(const struct notify_memory *m, const struct notify_summary *s)
{
	const char *before = m->fingerprint ? m->fingerprint : "";

	if (s->state == NOTIFY_STATE_CANCELLED)
		return NOTIFY_SKIP;
	if (s->fresh)
		return NOTIFY_PROBLEM;
	if (s->partial || !strcmp(before, s->fingerprint))
		return NOTIFY_SKIP;
	if (*s->fingerprint)
		return NOTIFY_PROBLEM;
	/* All well now; a recovery only after a problem that was told. */
	return *before ? NOTIFY_RECOVERY : NOTIFY_SKIP;
}

/* Replace *slot with a copy of s. */
static int set_str(char **slot, const char *s)
{
	char *c = s ? strdup(s) : NULL;

	if (s && !c)
		return -1;
	free(*slot);
	*slot = c;
	return 0;
}

int notify_memory_note(struct notify_memory *m, const struct notify_summary *s)
{
	if (s->state == NOTIFY_STATE_CANCELLED || s->partial)
		return 0;
	return set_str(&m->fingerprint, s->fingerprint);
}

int notify_status_pending_due(const struct notify_memory *m, const char *commit)
{
	return commit && (!m->status_commit || strcmp(m->status_commit, commit));
}

/*
 * What a final status is compared by: its state alone. A re-sync of the
 * same commit describes itself differently ("1 created", then "1 app in
 * sync"; "1 rolled back", then "1 held") without anything new to say.
 */
static char *status_key(const struct notify_summary *s)
{
	return strdup(notify_forge_state(NOTIFY_FORGE_GITHUB, s->state));
}

int notify_status_due(const struct notify_memory *m, const char *commit,
                      const struct notify_summary *s)
{
	char *k;
	int due;

	if (!commit)
		return 0;
	if (!m->status_commit || strcmp(m->status_commit, commit) || !m->status_state)
		return 1;
	if (!(k = status_key(s)))
		return 1;
	due = strcmp(k, m->status_state) != 0;
	free(k);
	return due;
}

int notify_memory_note_status(struct notify_memory *m, const char *commit,
                              const struct notify_summary *final)
{
	char *k = final ? status_key(final) : NULL;
	int rc;

	if (final && !k)
		return -1;
	rc = set_str(&m->status_commit, commit);
	free(m->status_state);
	m->status_state = k;
	return rc;
}

char *notify_memory_to_json(const struct notify_memory *m)
{
	struct json_object *o = json_object_new_object();
	char *s = NULL;

	if (!o)
		return NULL;
	json_object_object_add(o, "fingerprint",
	                       m->fingerprint ? json_object_new_string(m->fingerprint) : NULL);
	json_object_object_add(o, "status_commit",
	                       m->status_commit ? json_object_new_string(m->status_commit) : NULL);
	json_object_object_add(o, "status_state",
	                       m->status_state ? json_object_new_string(m->status_state) : NULL);
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

static void load_str(struct json_object *o, const char *key, char **slot)
{
	struct json_object *v;

	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		*slot = strdup(json_object_get_string(v));
}

void notify_memory_from_json(struct notify_memory *m, const char *text, size_t len)
{
	struct json_tokener *tok;
	struct json_object *o;

	memset(m, 0, sizeof(*m));
	if (!text || !(tok = json_tokener_new()))
		return;
	o = json_tokener_parse_ex(tok, text, (int)len);
	json_tokener_free(tok);
	if (json_object_is_type(o, json_type_object)) {
		load_str(o, "fingerprint", &m->fingerprint);
		load_str(o, "status_commit", &m->status_commit);
		load_str(o, "status_state", &m->status_state);
	}
	json_object_put(o);
}

int notify_webhook_body(char **out, const struct sync_result *res, const struct pacer_error *err,
                        const struct notify_summary *s, enum notify_event ev,
                        const struct notify_context *ctx)
{
	struct sync_result empty = {0};
	struct json_object *o = sync_result_to_json(res ? res : &empty);
	char *text = err ? pacer_error_format(err) : NULL;

	*out = NULL;
	if (!o)
		goto done;
	json_object_object_add(o, "trigger", ctx->trigger ? json_object_new_string(ctx->trigger) : NULL);
	json_object_object_add(o, "commit", ctx->commit ? json_object_new_string(ctx->commit) : NULL);
	json_object_object_add(o, "cluster", json_object_new_string(ctx->cluster ? ctx->cluster : ""));
	json_object_object_add(o, "result", json_object_new_string(s->result));
	json_object_object_add(o, "event", json_object_new_string(notify_event_name(ev)));
	json_object_object_add(o, "description", json_object_new_string(s->description));
	if (err)
		json_object_object_add(o, "error",
		                       json_object_new_string(text ? text : err->message));
	*out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                    JSON_C_TO_STRING_NOSLASHESCAPE));
done:
	json_object_put(o);
	free(text);
	return *out ? 0 : -1;
}

/* The first line: "pacer/prod: sync failed at 1a2b3c4d (startup): ..." */
static int slack_head(struct pacer_buf *b, const struct notify_summary *s, enum notify_event ev,
                      const struct notify_context *ctx)
{
	const char *what = ev == NOTIFY_RECOVERY                  ? "recovered"
	                   : s->state == NOTIFY_STATE_SUCCESS      ? "sync converged"
	                   : !strcmp(s->result, "failed")          ? "sync failed"
	                                                           : "sync";

	if (pacer_buf_printf(b, "pacer/%s: %s", ctx->cluster ? ctx->cluster : "", what))
		return -1;
	if (strcmp(what, "sync") == 0 && pacer_buf_printf(b, " %s", s->result))
		return -1;
	if (ctx->commit && pacer_buf_printf(b, " at %.8s", ctx->commit))
		return -1;
	if (ctx->trigger && pacer_buf_printf(b, " (%s)", ctx->trigger))
		return -1;
	return pacer_buf_printf(b, ": %s", s->description);
}

/* One line per app with a problem. */
static int slack_apps(struct pacer_buf *b, const struct sync_result *res)
{
	size_t shown = 0, more = 0;

	for (size_t i = 0; res && i < res->napps; i++) {
		const struct sync_app_result *a = &res->apps[i];
		struct pacer_buf why = PACER_BUF_INIT;
		int rc;

		if (!problem_word(a->outcome))
			continue;
		if (shown == SLACK_MAX_APPS) {
			more++;
			continue;
		}
		shown++;
		rc = put_error(&why, a->error);
		if (!rc && why.ptr)
			notify_text_cut(why.ptr, 300);
		if (rc || pacer_buf_printf(b, "\n\xe2\x80\xa2 %s %s%s%s", a->app_id,
		                           outcome_words(a->outcome), why.ptr ? ": " : "",
		                           why.ptr ? why.ptr : "")) {
			pacer_buf_release(&why);
			return -1;
		}
		pacer_buf_release(&why);
	}
	return more ? pacer_buf_printf(b, "\nand %zu more", more) : 0;
}

int notify_slack_body(char **out, const struct sync_result *res, const struct notify_summary *s,
                      enum notify_event ev, const struct notify_context *ctx)
{
	struct pacer_buf b = PACER_BUF_INIT;
	struct json_object *o = NULL;

	*out = NULL;
	if (slack_head(&b, s, ev, ctx) || slack_apps(&b, res) || !(o = json_object_new_object()))
		goto done;
	json_object_object_add(o, "text", json_object_new_string(pacer_buf_cstr(&b)));
	*out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	                                                    JSON_C_TO_STRING_NOSLASHESCAPE));
done:
	json_object_put(o);
	pacer_buf_release(&b);
	return *out ? 0 : -1;
}
