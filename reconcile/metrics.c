/*
 * metrics.c: the registry behind metrics.h and its Prometheus rendering.
 *
 * A series is keyed by its rendered, escaped label string ('a="x",b="y"'):
 * that is what is printed anyway, and two label sets render equal exactly
 * when they are equal (for a fixed label order, which every caller of ours
 * keeps). Lookups are linear: pacer has a handful of families with a few
 * series each, and a scrape every 15 s does not justify a hash table.
 */
#include "reconcile/metrics.h"

#include <json-c/json.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/buf.h"
#include "reconcile/base/error.h"
#include "reconcile/base/jsonutil.h"

struct series {
	char *labels; /* rendered, without braces; "" for none */
	double value; /* counter/gauge */
	double sum;   /* histogram */
	unsigned long long count;
	unsigned long long *buckets; /* histogram: per-bucket (not cumulative) counts */
};

struct family {
	char *name;
	char *help;
	enum metrics_type type;
	double *bounds;
	size_t nbounds;
	struct series *series;
	size_t nseries, aseries;
};

struct metrics {
	pthread_mutex_t mu;
	struct family *fams;
	size_t nfams, afams;
};

/* Prometheus' names: a metric's may hold ':' (recording rules), a label's not. */
enum name_kind {
	NAME_LABEL,
	NAME_METRIC,
};

static int valid_name(const char *s, enum name_kind kind)
{
	if (!s || !*s)
		return 0;
	for (const char *p = s; *p; p++) {
		int alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
		            (kind == NAME_METRIC && *p == ':');
		int digit = *p >= '0' && *p <= '9';

		if (!alpha && !(digit && p != s))
			return 0;
	}
	return 1;
}

/* What put_escaped() escapes for: HELP text (no quote to escape) or a label value. */
enum escape_kind {
	ESCAPE_HELP,
	ESCAPE_LABEL,
};

/* Escape a label value (backslash, quote, newline) or HELP text (no quote). */
static int put_escaped(struct pacer_buf *b, const char *s, enum escape_kind kind)
{
	int rc = 0;

	for (const char *p = s; *p && rc == 0; p++) {
		if (*p == '\\')
			rc = pacer_buf_puts(b, "\\\\");
		else if (*p == '\n')
			rc = pacer_buf_puts(b, "\\n");
		else if (kind == ESCAPE_LABEL && *p == '"')
			rc = pacer_buf_puts(b, "\\\"");
		else
			rc = pacer_buf_putc(b, *p);
	}
	return rc;
}

/*
 * Numbers the way the Prometheus client libraries print them: the shortest
 * decimal that reads back as the same double, so 0.1 is "0.1" and not
 * "0.10000000000000001", and integers have no exponent up to 1e15.
 */
static int put_number(struct pacer_buf *b, double v)
{
	char tmp[64];

	if (isnan(v))
		return pacer_buf_puts(b, "NaN");
	if (isinf(v))
		return pacer_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
	/* %g would print 10 as "1e+01" at the precision that round-trips. */
	if (v == floor(v) && fabs(v) < 1e15)
		return pacer_buf_printf(b, "%.0f", v == 0 ? 0.0 : v);
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	return pacer_buf_puts(b, tmp);
}

static int render_labels(const char *const *labels, char **out, struct pacer_error **err)
{
	struct pacer_buf b = PACER_BUF_INIT;
	int rc = 0;

	for (size_t i = 0; labels && labels[i]; i += 2) {
		if (!labels[i + 1] || !valid_name(labels[i], NAME_LABEL) ||
		    strncmp(labels[i], "__", 2) == 0) {
			pacer_buf_release(&b);
			return pacer_error_set(
			    err, PACER_EINVALID,
			    "metrics: bad label '%s' (label names are "
			    "[a-zA-Z_][a-zA-Z0-9_]* and every name needs a value)",
			    labels[i]);
		}
		if (i > 0)
			rc |= pacer_buf_putc(&b, ',');
		rc |= pacer_buf_printf(&b, "%s=\"", labels[i]);
		rc |= put_escaped(&b, labels[i + 1], ESCAPE_LABEL);
		rc |= pacer_buf_putc(&b, '"');
	}
	if (rc) {
		pacer_buf_release(&b);
		return pacer_error_set(err, PACER_EGENERIC, "metrics: out of memory");
	}
	*out = pacer_buf_detach(&b);
	pacer_buf_release(&b);
	return *out ? 0 : pacer_error_set(err, PACER_EGENERIC, "metrics: out of memory");
}

static struct family *find_family(struct metrics *m, const char *name)
{
	for (size_t i = 0; i < m->nfams; i++)
		if (strcmp(m->fams[i].name, name) == 0)
			return &m->fams[i];
	return NULL;
}

static struct series *find_series(struct family *f, const char *labels)
{
	for (size_t i = 0; i < f->nseries; i++)
		if (strcmp(f->series[i].labels, labels) == 0)
			return &f->series[i];
	return NULL;
}

/* Find or create. Takes ownership of *labels (sets it NULL when kept). */
static struct series *get_series(struct family *f, char **labels)
{
	struct series *s = find_series(f, *labels), *ns;

	if (s)
		return s;
	ns = pacer_array_grow(f->series, &f->aseries, f->nseries + 1, sizeof(*ns), 4);
	if (!ns)
		return NULL;
	f->series = ns;
	s = &f->series[f->nseries];
	memset(s, 0, sizeof(*s));
	if (f->type == METRICS_HISTOGRAM) {
		s->buckets = calloc(f->nbounds + 1, sizeof(*s->buckets));
		if (!s->buckets)
			return NULL;
	}
	s->labels = *labels;
	*labels = NULL;
	f->nseries++;
	return s;
}

int metrics_new(struct metrics **out, struct pacer_error **err)
{
	struct metrics *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (!m)
		return pacer_error_set(err, PACER_EGENERIC, "metrics: out of memory");
	pthread_mutex_init(&m->mu, NULL);
	*out = m;
	return 0;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nfams; i++) {
		struct family *f = &m->fams[i];

		for (size_t j = 0; j < f->nseries; j++) {
			free(f->series[j].labels);
			free(f->series[j].buckets);
		}
		free(f->series);
		free(f->name);
		free(f->help);
		free(f->bounds);
	}
	free(m->fams);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

int metrics_define(struct metrics *m, const char *name, enum metrics_type type, const char *help,
                   const double *buckets, size_t nbuckets, struct pacer_error **err)
{
	struct family f = {0}, *nf;
	int rc = 0;

	if (!valid_name(name, NAME_METRIC))
		return pacer_error_set(err, PACER_EINVALID,
		                       "metrics: bad metric name '%s' (must match "
		                       "[a-zA-Z_:][a-zA-Z0-9_:]*)",
		                       name ? name : "(null)");
	if (type == METRICS_HISTOGRAM) {
		for (size_t i = 0; i < nbuckets; i++)
			if (!isfinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1]))
				return pacer_error_set(
				    err, PACER_EINVALID,
				    "metrics: histogram %s: buckets must be finite "
				    "and strictly increasing",
				    name);
	} else if (nbuckets) {
		return pacer_error_set(err, PACER_EINVALID,
		                       "metrics: %s: only histograms have buckets", name);
	}

	pthread_mutex_lock(&m->mu);
	if (find_family(m, name)) {
		rc = pacer_error_set(err, PACER_EINVALID, "metrics: %s is defined twice", name);
		goto done;
	}
	nf = pacer_array_grow(m->fams, &m->afams, m->nfams + 1, sizeof(*nf), 8);
	if (!nf)
		goto oom;
	m->fams = nf;
	f.name = strdup(name);
	f.help = strdup(help ? help : "");
	f.type = type;
	if (nbuckets) {
		f.bounds = malloc(nbuckets * sizeof(*f.bounds));
		if (f.bounds)
			memcpy(f.bounds, buckets, nbuckets * sizeof(*f.bounds));
	}
	f.nbounds = nbuckets;
	if (!f.name || !f.help || (nbuckets && !f.bounds))
		goto oom;
	m->fams[m->nfams++] = f;
	goto done;
oom:
	free(f.name);
	free(f.help);
	free(f.bounds);
	rc = pacer_error_set(err, PACER_EGENERIC, "metrics: out of memory");
done:
	pthread_mutex_unlock(&m->mu);
	return rc;
}

enum op { OP_ADD, OP_SET, OP_OBSERVE };

static int update(struct metrics *m, const char *name, const char *const *labels, double v,
                  enum op op, struct pacer_error **err)
{
	struct family *f;
	struct series *s;
	char *key = NULL;
	int rc;

	rc = render_labels(labels, &key, err);
	if (rc)
		return rc;
	pthread_mutex_lock(&m->mu);
	f = find_family(m, name);
	if (!f) {
		rc = pacer_error_set(err, PACER_ENOTFOUND, "metrics: %s is not defined", name);
		goto done;
	}
	if ((op == OP_OBSERVE) != (f->type == METRICS_HISTOGRAM) ||
	    (op == OP_SET && f->type != METRICS_GAUGE)) {
		rc = pacer_error_set(err, PACER_EINVALID, "metrics: wrong operation for %s", name);
		goto done;
	}
	if (op == OP_ADD && f->type == METRICS_COUNTER && !(v >= 0)) {
		rc = pacer_error_set(err, PACER_EINVALID,
		                     "metrics: counter %s can only go up (got %g)", name, v);
		goto done;
	}
	s = get_series(f, &key);
	if (!s) {
		rc = pacer_error_set(err, PACER_EGENERIC, "metrics: out of memory");
		goto done;
	}
	switch (op) {
	case OP_ADD:
		s->value += v;
		break;
	case OP_SET:
		s->value = v;
		break;
	case OP_OBSERVE: {
		size_t i = 0;

		while (i < f->nbounds && v > f->bounds[i])
			i++;
		s->buckets[i]++; /* i == nbounds is the +Inf bucket */
		s->count++;
		s->sum += v;
		break;
	}
	}
done:
	pthread_mutex_unlock(&m->mu);
	free(key);
	return rc;
}

int metrics_add(struct metrics *m, const char *name, const char *const *labels, double v,
                struct pacer_error **err)
{
	return update(m, name, labels, v, OP_ADD, err);
}

int metrics_set(struct metrics *m, const char *name, const char *const *labels, double v,
                struct pacer_error **err)
{
	return update(m, name, labels, v, OP_SET, err);
}

int metrics_observe(struct metrics *m, const char *name, const char *const *labels, double v,
                    struct pacer_error **err)
{
	return update(m, name, labels, v, OP_OBSERVE, err);
}

int metrics_get(struct metrics *m, const char *name, const char *const *labels, double *out)
{
	struct family *f;
	struct series *s = NULL;
	char *key = NULL;

	if (render_labels(labels, &key, NULL))
		return PACER_EINVALID;
	pthread_mutex_lock(&m->mu);
	f = find_family(m, name);
	if (f && f->type != METRICS_HISTOGRAM)
		s = find_series(f, key);
	if (s)
		*out = s->value;
	pthread_mutex_unlock(&m->mu);
	free(key);
	return s ? 0 : PACER_ENOTFOUND;
}

static const char *type_name(enum metrics_type t)
{
	/* In the order of the enum. */
	static const char *const names[] = {"counter", "gauge", "histogram"};

	return (unsigned)t < sizeof(names) / sizeof(*names) ? names[t] : "untyped";
}

/* name{labels[,extra]} with the braces left out when there is nothing in them. */
static int put_series_name(struct pacer_buf *b, const char *name, const char *suffix,
                           const char *labels, const char *extra)
{
	int rc = pacer_buf_printf(b, "%s%s", name, suffix);

	if (*labels || extra) {
		rc |= pacer_buf_putc(b, '{');
		rc |= pacer_buf_puts(b, labels);
		if (extra) {
			if (*labels)
				rc |= pacer_buf_putc(b, ',');
			rc |= pacer_buf_puts(b, extra);
		}
		rc |= pacer_buf_putc(b, '}');
	}
	return rc;
}

static int render_histogram(struct pacer_buf *b, const struct family *f, const struct series *s)
{
	unsigned long long cum = 0;
	int rc = 0;

	for (size_t i = 0; i <= f->nbounds && rc == 0; i++) {
		struct pacer_buf le = PACER_BUF_INIT;

		cum += s->buckets[i];
		rc |= pacer_buf_puts(&le, "le=\"");
		rc |= put_number(&le, i < f->nbounds ? f->bounds[i] : INFINITY);
		rc |= pacer_buf_putc(&le, '"');
		rc |= put_series_name(b, f->name, "_bucket", s->labels, pacer_buf_cstr(&le));
		rc |= pacer_buf_printf(b, " %llu\n", cum);
		pacer_buf_release(&le);
	}
	rc |= put_series_name(b, f->name, "_sum", s->labels, NULL);
	rc |= pacer_buf_putc(b, ' ');
	rc |= put_number(b, s->sum);
	rc |= pacer_buf_putc(b, '\n');
	rc |= put_series_name(b, f->name, "_count", s->labels, NULL);
	rc |= pacer_buf_printf(b, " %llu\n", s->count);
	return rc;
}

int metrics_render(struct metrics *m, struct pacer_buf *out)
{
	int rc = 0;

	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < m->nfams && rc == 0; i++) {
		const struct family *f = &m->fams[i];

		rc |= pacer_buf_printf(out, "# HELP %s ", f->name);
		rc |= put_escaped(out, f->help, ESCAPE_HELP);
		rc |= pacer_buf_printf(out, "\n# TYPE %s %s\n", f->name, type_name(f->type));
		for (size_t j = 0; j < f->nseries && rc == 0; j++) {
			const struct series *s = &f->series[j];

			if (f->type == METRICS_HISTOGRAM) {
				rc |= render_histogram(out, f, s);
				continue;
			}
			rc |= put_series_name(out, f->name, "", s->labels, NULL);
			rc |= pacer_buf_putc(out, ' ');
			rc |= put_number(out, s->value);
			rc |= pacer_buf_putc(out, '\n');
		}
	}
	pthread_mutex_unlock(&m->mu);
	/* pacer_buf returns PACER_EINVALID (cap) or -1; |= may mix them: report one. */
	if (rc)
		return rc == PACER_EINVALID ? PACER_EINVALID : PACER_EGENERIC;
	return 0;
}

/* ---- pacer's families -------------------------------------------------- */

static const char *const sync_results[] = {"converged", "failed", "invalid", "unreachable", "abandoned"};
static const char *const app_states[] = {"in_sync", "out_of_sync", "failed", "degraded",
                                         "progressing", "held", "unknown", "suspended"};
static const char *const providers[] = {"github", "gitlab", "gitea", "generic"};
static const char *const hook_results[] = {"accepted",     "ignored",   "duplicate",
                                           "unauthorized", "too_large", "bad_request"};
static const char *const notify_sinks[] = {"commit_status", "webhook", "slack"};
static const char *const notify_results[] = {"sent", "failed", "dropped"};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* pacer_notifications_total{sink,result}, every series at zero. */
static int define_notifications(struct metrics *m, struct pacer_error **err)
{
	int rc = metrics_define(m, "pacer_notifications_total", METRICS_COUNTER,
	                        "Notifications (commit statuses, webhooks, Slack messages), by sink "
	                        "and result: sent, failed (after its retries) or dropped (the queue "
	                        "was full, or pacer stopped first).",
	                        NULL, 0, err);

	for (size_t i = 0; i < NELEM(notify_sinks) && rc == 0; i++)
		for (size_t j = 0; j < NELEM(notify_results) && rc == 0; j++) {
			const char *l[] = {"sink", notify_sinks[i], "result", notify_results[j],
			                   NULL};

			rc = metrics_add(m, "pacer_notifications_total", l, 0, err);
		}
	return rc;
}

/* Deployments take seconds to tens of minutes. */
static const double duration_buckets[] = {0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800};

int metrics_new_pacer(struct metrics **out, struct pacer_error **err)
{
	struct metrics *m = NULL;
	int rc;

	*out = NULL;
	rc = metrics_new(&m, err);
	if (rc)
		goto done;
	if ((rc = metrics_define(m, "pacer_syncs_total", METRICS_COUNTER, "Syncs run, by result.",
	                         NULL, 0, err)) ||
	    (rc = metrics_define(m, "pacer_sync_duration_seconds", METRICS_HISTOGRAM,
	                         "Duration of whole syncs in seconds.", duration_buckets,
	                         NELEM(duration_buckets), err)) ||
	    (rc = metrics_define(m, "pacer_apps", METRICS_GAUGE,
	                         "Managed apps by state after the last sync.", NULL, 0, err)) ||
	    (rc = metrics_define(m, "pacer_apps_last_update_timestamp_seconds", METRICS_GAUGE,
	                         "Unix time pacer_apps was last computed from Marathon's state "
	                         "(0 = never).",
	                         NULL, 0, err)) ||
	    (rc = metrics_define(m, "pacer_last_sync_timestamp_seconds", METRICS_GAUGE,
	                         "Unix time the last sync finished.", NULL, 0, err)) ||
	    (rc = metrics_define(m, "pacer_last_success_timestamp_seconds", METRICS_GAUGE,
	                         "Unix time the last converged sync finished (0 = never).", NULL, 0,
	                         err)) ||
	    (rc = metrics_define(m, "pacer_webhooks_total", METRICS_COUNTER,
	                         "Webhook requests, by provider and result.", NULL, 0, err)) ||
	    (rc = metrics_define(m, "pacer_build_info", METRICS_GAUGE,
	                         "pacer's version and commit (value 1).", NULL, 0, err)) ||
	    (rc = metrics_define(m, "pacer_app_status", METRICS_GAUGE,
	                         "1 for each app's state after the last sync that read it "
	                         "(synced, out_of_sync, failed, degraded, progressing, held, "
	                         "suspended, unknown).",
	                         NULL, 0, err)) ||
	    (rc = metrics_define(m, "pacer_app_tasks", METRICS_GAUGE,
	                         "Each app's tasks by kind (healthy, running, instances).", NULL, 0,
	                         err)))
		goto done;
	for (size_t i = 0; i < NELEM(sync_results) && rc == 0; i++) {
		const char *l[] = {"result", sync_results[i], NULL};

		rc = metrics_add(m, "pacer_syncs_total", l, 0, err);
	}
	for (size_t i = 0; i < NELEM(app_states) && rc == 0; i++) {
		const char *l[] = {"state", app_states[i], NULL};

		rc = metrics_set(m, "pacer_apps", l, 0, err);
	}
	if (rc == 0)
		rc = metrics_set(m, "pacer_last_sync_timestamp_seconds", NULL, 0, err);
	if (rc == 0)
		rc = metrics_set(m, "pacer_apps_last_update_timestamp_seconds", NULL, 0, err);
	if (rc == 0)
		rc = metrics_set(m, "pacer_last_success_timestamp_seconds", NULL, 0, err);
	for (size_t i = 0; i < NELEM(providers) && rc == 0; i++)
		for (size_t j = 0; j < NELEM(hook_results) && rc == 0; j++) {
			const char *l[] = {"provider", providers[i], "result", hook_results[j],
			                   NULL};

			rc = metrics_add(m, "pacer_webhooks_total", l, 0, err);
		}
	if (rc == 0)
		rc = define_notifications(m, err);
done:
	if (rc)
		metrics_free(m);
	else
		*out = m;
	return rc;
}

const char *metrics_sync_result(int rc, int converged)
{
	if (rc == 0)
		return converged ? "converged" : "failed";
	if (rc == PACER_EINVALID)
		return "invalid";
	if (rc == PACER_EUNREACHABLE)
		return "unreachable";
	if (rc == PACER_ECANCELLED)
		return "abandoned";
	return "failed";
}

const char *metrics_app_state(const char *outcome)
{
	static const char *const in_sync[] = {"unchanged", "created", "updated"};
	static const char *const out_of_sync[] = {"planned", "skipped"};
	static const char *const failed[] = {"failed", "rolled_back", "restarted",
	                                     "rollback_failed"};

	if (!outcome)
		return NULL;
	for (size_t i = 0; i < NELEM(in_sync); i++)
		if (strcmp(outcome, in_sync[i]) == 0)
			return "in_sync";
	for (size_t i = 0; i < NELEM(out_of_sync); i++)
		if (strcmp(outcome, out_of_sync[i]) == 0)
			return "out_of_sync";
	for (size_t i = 0; i < NELEM(failed); i++)
		if (strcmp(outcome, failed[i]) == 0)
			return "failed";
	/* Their own states: each needs another kind of attention. */
	if (!strcmp(outcome, "degraded") || !strcmp(outcome, "progressing") ||
	    !strcmp(outcome, "held") || !strcmp(outcome, "unknown") ||
	    !strcmp(outcome, "suspended"))
		return outcome;
	if (!strcmp(outcome, "interrupted"))
		return "unknown";
	return NULL;
}

/* ---- per-app series ----------------------------------------------------- */

static void drop_series_at(struct family *f, size_t i)
{
	free(f->series[i].labels);
	free(f->series[i].buckets);
	memmove(&f->series[i], &f->series[i + 1], (f->nseries - i - 1) * sizeof(f->series[0]));
	f->nseries--;
}

/* Under mu: drop f's series whose labels start with prefix (NULL: every series). */
static void drop_series(struct family *f, const char *prefix)
{
	for (size_t i = f->nseries; f && i-- > 0;)
		if (!prefix || !strncmp(f->series[i].labels, prefix, strlen(prefix)))
			drop_series_at(f, i);
}

int metrics_remove(struct metrics *m, const char *name, const char *const *labels)
{
	struct family *f;
	char *key = NULL;
	int rc = PACER_ENOTFOUND;

	if (render_labels(labels, &key, NULL))
		return -1;
	pthread_mutex_lock(&m->mu);
	f = find_family(m, name);
	for (size_t i = 0; f && i < f->nseries; i++)
		if (!strcmp(f->series[i].labels, key)) {
			drop_series_at(f, i);
			rc = 0;
			break;
		}
	pthread_mutex_unlock(&m->mu);
	free(key);
	return rc;
}

/* Under mu: set the gauge series of f named by labels to v. */
static int set_locked(struct family *f, const char *const *labels, double v)
{
	struct series *s;
	char *key = NULL;

	if (!f || render_labels(labels, &key, NULL))
		return -1;
	s = get_series(f, &key);
	free(key);
	if (!s)
		return -1;
	s->value = v;
	return 0;
}

/* The word of pacer_app_status for an outcome: the states of `pacer status`. */
static const char *app_status_word(const char *outcome)
{
	const char *st = metrics_app_state(outcome);

	return st && !strcmp(st, "in_sync") ? "synced" : st;
}

/* One app's series: its status (value 1) and its task counts. */
static int record_app(struct family *fs, struct family *ft, struct json_object *a)
{
	static const char *const kinds[] = {"healthy", "running", "instances"};
	const char *id = json_object_get_string(jsonutil_get(a, "id"));
	const char *st = app_status_word(json_object_get_string(jsonutil_get(a, "outcome")));
	struct json_object *t = jsonutil_get(a, "tasks");
	int rc = 0;

	if (!id || !st)
		return 0; /* pruned: gone, no series */
	{
		const char *l[] = {"app", id, "status", st, NULL};

		rc = set_locked(fs, l, 1);
	}
	for (size_t k = 0; t && k < NELEM(kinds) && !rc; k++) {
		const char *l[] = {"app", id, "kind", kinds[k], NULL};

		rc = set_locked(ft, l, (double)json_object_get_int64(jsonutil_get(t, kinds[k])));
	}
	return rc;
}

/*
 * pacer_app_status and pacer_app_tasks from the apps of a sync, in one
 * hold of the lock so a scrape never sees half of them. A whole sync
 * replaces every series (apps that are gone lose theirs); a partial one
 * ("only" in the status) replaces only the series of its apps.
 */
static int record_apps(struct metrics *m, struct json_object *status, struct json_object *apps)
{
	struct family *fs, *ft;
	int partial = jsonutil_get(status, "only") != NULL, rc = 0;

	pthread_mutex_lock(&m->mu);
	fs = find_family(m, "pacer_app_status");
	ft = find_family(m, "pacer_app_tasks");
	if (!fs || !ft)
		goto done;
	for (size_t i = 0; i < json_object_array_length(apps); i++) {
		const char *id =
		    json_object_get_string(jsonutil_get(json_object_array_get_idx(apps, i), "id"));
		struct pacer_buf b = PACER_BUF_INIT;

		if (!partial || !id)
			break;
		if (pacer_buf_puts(&b, "app=\"") || put_escaped(&b, id, ESCAPE_LABEL) ||
		    pacer_buf_puts(&b, "\",")) {
			pacer_buf_release(&b);
			rc = -1;
			goto done;
		}
		drop_series(fs, pacer_buf_cstr(&b));
		drop_series(ft, pacer_buf_cstr(&b));
		pacer_buf_release(&b);
	}
	if (!partial) {
		drop_series(fs, NULL);
		drop_series(ft, NULL);
	}
	for (size_t i = 0; i < json_object_array_length(apps) && !rc; i++)
		rc = record_app(fs, ft, json_object_array_get_idx(apps, i));
done:
	pthread_mutex_unlock(&m->mu);
	return rc;
}

int metrics_set_build_info(struct metrics *m, const char *version, const char *commit,
			   struct pacer_error **err)
{
	const char *l[] = {"version", version ? version : "", "commit", commit ? commit : "",
			   NULL};

	return metrics_set(m, "pacer_build_info", l, 1, err);
}

int metrics_record_sync(struct metrics *m, int rc, const struct json_object *status, double seconds,
                        double finished_unix, struct pacer_error **err)
{
	struct json_object *conv = NULL, *apps = NULL, *plan = NULL;
	const char *result;
	int converged = 0, r;

	/* json-c's getters take non-const pointers but do not modify. */
	if (status && json_object_object_get_ex((struct json_object *)status, "converged", &conv))
		converged = json_object_get_boolean(conv);
	else
		converged = rc == 0; /* a caller without a status: rc alone says it */
	result = metrics_sync_result(rc, converged);
	{
		const char *l[] = {"result", result, NULL};

		r = metrics_add(m, "pacer_syncs_total", l, 1, err);
	}
	if (r == 0)
		r = metrics_observe(m, "pacer_sync_duration_seconds", NULL, seconds, err);
	if (r == 0)
		r = metrics_set(m, "pacer_last_sync_timestamp_seconds", NULL, finished_unix, err);
	if (r == 0 && strcmp(result, "converged") == 0)
		r = metrics_set(m, "pacer_last_success_timestamp_seconds", NULL, finished_unix,
		                err);
	/*
	 * The per-state gauges change only when this sync read Marathon (it has
	 * a plan): a sync that could not read it knows nothing new, and zeroing
	 * them would clear alerts exactly when Marathon is down. Their age is
	 * pacer_apps_last_update_timestamp_seconds.
	 */
	if (r == 0 && status &&
	    json_object_object_get_ex((struct json_object *)status, "plan", &plan) && plan &&
	    json_object_object_get_ex((struct json_object *)status, "apps", &apps) &&
	    json_object_is_type(apps, json_type_array)) {
		double counts[NELEM(app_states)] = {0};

		for (size_t i = 0; i < json_object_array_length(apps); i++) {
			struct json_object *a = json_object_array_get_idx(apps, i), *o = NULL;
			const char *state = NULL;

			if (json_object_object_get_ex(a, "outcome", &o))
				state = metrics_app_state(json_object_get_string(o));
			for (size_t k = 0; state && k < NELEM(app_states); k++)
				if (strcmp(state, app_states[k]) == 0)
					counts[k]++;
		}
		for (size_t k = 0; k < NELEM(app_states) && r == 0; k++) {
			const char *l[] = {"state", app_states[k], NULL};

			r = metrics_set(m, "pacer_apps", l, counts[k], err);
		}
		if (r == 0)
			r = metrics_set(m, "pacer_apps_last_update_timestamp_seconds", NULL,
			                finished_unix, err);
		if (r == 0 && record_apps(m, (struct json_object *)status, apps))
			r = pacer_error_set(err, PACER_EGENERIC, "metrics: out of memory");
	}
	return r;
}

int metrics_record_webhook(struct metrics *m, const char *provider, const char *result,
                           struct pacer_error **err)
{
	const char *l[] = {"provider", provider, "result", result, NULL};

	return metrics_add(m, "pacer_webhooks_total", l, 1, err);
}

int metrics_record_notification(struct metrics *m, const char *sink, const char *result, double n,
                                struct pacer_error **err)
{
	const char *l[] = {"sink", sink, "result", result, NULL};

	return metrics_add(m, "pacer_notifications_total", l, n, err);
}
