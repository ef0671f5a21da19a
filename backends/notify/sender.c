/*
 * sender.c: one sink's queue and the worker that delivers it (sender.h).
 */
#include "backends/notify/sender.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/buf.h"
#include "reconcile/base/clock.h"
#include "reconcile/base/log.h"
#include "reconcile/base/secret.h"
#include "reconcile/base/thread.h"
#include "reconcile/metrics.h"

/* The most header lines a message carries (an auth line, a signature). */
#define MAX_HEADERS 4
/* What is kept of a sink's answer, for the log. */
#define ANSWER_MAX 4096

struct message {
	char *url, *body, *what;
	char *headers[MAX_HEADERS + 1];
	int attempt;        /* attempts made */
	long long due_ms;   /* not before (monotonic) */
	struct message *next;
};

struct notify_sender {
	struct notify_sender_options o;
	char *sink, *user_agent;
	struct pacer_worker w; /* w.mu guards the fields below */
	pthread_cond_t idle;   /* signalled when the queue empties and nothing is in flight */
	struct message *head, *tail;
	size_t queued;
	int busy;              /* a message is being sent */
	int abort;             /* set (atomically) by notify_sender_free(): end the request */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void message_free(struct message *m)
{
	if (!m)
		return;
	free(m->url);
	free(m->body);
	free(m->what);
	for (size_t i = 0; i < MAX_HEADERS && m->headers[i]; i++)
		pacer_secret_free(m->headers[i]);
	free(m);
}

static void count(struct notify_sender *s, const char *result, size_t n)
{
	if (s->o.metrics && n)
		metrics_record_notification(s->o.metrics, s->sink, result, (double)n, NULL);
}

/* ---- one request ------------------------------------------------------- */

static size_t on_answer(char *ptr, size_t size, size_t n, void *ctx)
{
	struct pacer_buf *b = ctx;
	size_t len = size * n, room = ANSWER_MAX - b->len;

	/* Keep the start for the log; read the rest so the connection ends well. */
	if (b->len < ANSWER_MAX)
		pacer_buf_add(b, ptr, len < room ? len : room);
	return len;
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct notify_sender *s = ctx;

	(void)dt, (void)dn, (void)ut, (void)un;
	return __atomic_load_n(&s->abort, __ATOMIC_RELAXED);
}

static struct curl_slist *request_headers(const struct message *m)
{
	struct curl_slist *h = NULL, *t;

	if (!(h = curl_slist_append(NULL, "Content-Type: application/json")))
		return NULL;
	for (size_t i = 0; i < MAX_HEADERS && m->headers[i]; i++) {
		if (!(t = curl_slist_append(h, m->headers[i]))) {
			curl_slist_free_all(h);
			return NULL;
		}
		h = t;
	}
	return h;
}

/*
 * POST m once. Returns 0 when the sink took it (2xx), 1 when worth trying
 * again (no connection, timeout, 5xx, 429), -1 otherwise; *why says it.
 */
static int post_once(struct notify_sender *s, const struct message *m, char *why, size_t len)
{
	struct pacer_buf answer = PACER_BUF_INIT;
	struct curl_slist *h = request_headers(m);
	CURL *c = curl_easy_init();
	long status = 0;
	CURLcode cc;
	int rc = -1;

	if (!c || !h) {
		snprintf(why, len, "out of memory");
		goto done;
	}
	curl_easy_setopt(c, CURLOPT_URL, m->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, m->body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(m->body));
	curl_easy_setopt(c, CURLOPT_USERAGENT, s->user_agent);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, s->o.timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, s->o.connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, s);
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		/* curl's words name the host at most, never the path or a header. */
		snprintf(why, len, "%s", curl_easy_strerror(cc));
		rc = cc == CURLE_ABORTED_BY_CALLBACK ? -1 : 1;
		goto done;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300) {
		rc = 0;
		goto done;
	}
	rc = status >= 500 || status == 429 ? 1 : -1;
	snprintf(why, len, "HTTP %ld%s%.200s", status, answer.len ? ": " : "",
	         answer.len ? pacer_buf_cstr(&answer) : "");
	for (char *p = why; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
done:
	curl_slist_free_all(h);
	if (c)
		curl_easy_cleanup(c);
	pacer_buf_release(&answer);
	return rc;
}

/* ---- the queue and its worker ------------------------------------------ */

/* The wait before attempt n+1 (n >= 1 attempts made). */
static long backoff_ms(const struct notify_sender *s, int n)
{
	long ms = s->o.retry_min_ms;

	while (--n > 0 && ms < s->o.retry_max_ms)
		ms *= 2;
	return ms < s->o.retry_max_ms ? ms : s->o.retry_max_ms;
}

/* After one attempt at the head message (outside the lock): keep it for a retry, or end it. */
static void settle(struct notify_sender *s, struct message *m, int rc, const char *why)
{
	if (rc == 1 && m->attempt < s->o.attempts && !__atomic_load_n(&s->abort, __ATOMIC_RELAXED)) {
		long wait = backoff_ms(s, m->attempt);

		PLOG_INFO("notify: %s: %s not delivered (%s); attempt %d of %d in %.1fs", s->sink,
		          m->what, why, m->attempt + 1, s->o.attempts, wait / 1000.0);
		pthread_mutex_lock(&s->w.mu);
		m->due_ms = pacer_now_ms() + wait;
		s->busy = 0;
		pthread_mutex_unlock(&s->w.mu);
		return;
	}
	if (rc != 0 && __atomic_load_n(&s->abort, __ATOMIC_RELAXED)) {
		/* Stopping: left queued, notify_sender_free() drops and counts it. */
		pthread_mutex_lock(&s->w.mu);
		s->busy = 0;
		pthread_mutex_unlock(&s->w.mu);
		return;
	}
	if (rc == 0) {
		PLOG_DEBUG("notify: %s: %s delivered", s->sink, m->what);
		count(s, "sent", 1);
	} else {
		PLOG_WARN("notify: %s: %s could not be delivered after %d attempt%s: %s", s->sink,
		          m->what, m->attempt, m->attempt == 1 ? "" : "s", why);
		count(s, "failed", 1);
	}
	pthread_mutex_lock(&s->w.mu);
	s->head = m->next;
	if (!s->head)
		s->tail = NULL;
	s->queued--;
	s->busy = 0;
	if (!s->queued)
		pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->w.mu);
	message_free(m);
}

static void *worker_main(void *arg)
{
	struct notify_sender *s = arg;

	pthread_mutex_lock(&s->w.mu);
	while (!s->w.quit) {
		struct message *m = s->head;
		char why[320] = "";
		int rc;

		if (!m) {
			pthread_cond_wait(&s->w.cv, &s->w.mu);
			continue;
		}
		if (m->due_ms > pacer_now_ms()) {
			struct timespec until = pacer_deadline_ms(m->due_ms - pacer_now_ms());

			pthread_cond_timedwait(&s->w.cv, &s->w.mu, &until);
			continue;
		}
		/* The head stays queued while it is sent: drain() sees it. */
		s->busy = 1;
		m->attempt++;
		pthread_mutex_unlock(&s->w.mu);
		rc = post_once(s, m, why, sizeof(why));
		settle(s, m, rc, why);
		pthread_mutex_lock(&s->w.mu);
	}
	pthread_mutex_unlock(&s->w.mu);
	return NULL;
}

int notify_sender_new(struct notify_sender **out, const struct notify_sender_options *o,
                      struct pacer_error **err)
{
	struct notify_sender *s;

	*out = NULL;
	if (!o || o->version != NOTIFY_SENDER_OPTIONS_VERSION || !o->sink)
		return pacer_error_set(err, PACER_EINVALID, "notify sender: bad options");
	pthread_once(&curl_once, curl_init);
	if (!(s = calloc(1, sizeof(*s))))
		return pacer_error_set(err, -1, "out of memory");
	s->o = *o;
	s->o.queue_max = o->queue_max ? o->queue_max : 64;
	s->o.attempts = o->attempts > 0 ? o->attempts : 4;
	s->o.retry_min_ms = o->retry_min_ms > 0 ? o->retry_min_ms : 500;
	s->o.retry_max_ms = o->retry_max_ms > 0 ? o->retry_max_ms : 8000;
	s->o.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	s->o.connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 5000;
	s->sink = strdup(o->sink);
	s->user_agent = strdup(o->user_agent ? o->user_agent : "pacer");
	if (!s->sink || !s->user_agent || pacer_cond_init(&s->idle)) {
		free(s->sink);
		free(s->user_agent);
		free(s);
		return pacer_error_set(err, -1, "out of memory");
	}
	if (pacer_worker_start(&s->w, worker_main, s)) {
		pthread_cond_destroy(&s->idle);
		free(s->sink);
		free(s->user_agent);
		free(s);
		return pacer_error_set(err, -1, "cannot start the %s notification thread", o->sink);
	}
	*out = s;
	return 0;
}

static struct message *message_new(const char *url, const char *const *headers, const char *body,
                                   const char *what)
{
	struct message *m = calloc(1, sizeof(*m));
	size_t i;

	if (!m)
		return NULL;
	m->url = strdup(url);
	m->body = strdup(body);
	m->what = strdup(what ? what : "a message");
	for (i = 0; headers && headers[i] && i < MAX_HEADERS; i++)
		if (!(m->headers[i] = strdup(headers[i])))
			break;
	if (!m->url || !m->body || !m->what || (headers && headers[i] && i < MAX_HEADERS)) {
		message_free(m);
		return NULL;
	}
	return m;
}

int notify_sender_post(struct notify_sender *s, const char *url, const char *const *headers,
                       const char *body, const char *what)
{
	struct message *m = message_new(url, headers, body, what);

	if (!m)
		return -1;
	pthread_mutex_lock(&s->w.mu);
	if (s->queued >= s->o.queue_max) {
		pthread_mutex_unlock(&s->w.mu);
		PLOG_WARN("notify: %s: %s dropped: %zu messages are already waiting", s->sink,
		          m->what, s->o.queue_max);
		count(s, "dropped", 1);
		message_free(m);
		return PACER_EBUSY;
	}
	if (s->tail)
		s->tail->next = m;
	else
		s->head = m;
	s->tail = m;
	s->queued++;
	pthread_cond_broadcast(&s->w.cv);
	pthread_mutex_unlock(&s->w.mu);
	return 0;
}

size_t notify_sender_drain(struct notify_sender *s, long long deadline_ms)
{
	size_t left;

	pthread_mutex_lock(&s->w.mu);
	while (s->queued && pacer_now_ms() < deadline_ms) {
		struct timespec until = pacer_deadline_ms(deadline_ms - pacer_now_ms());

		pthread_cond_timedwait(&s->idle, &s->w.mu, &until);
	}
	left = s->queued;
	pthread_mutex_unlock(&s->w.mu);
	return left;
}

void notify_sender_free(struct notify_sender *s)
{
	size_t dropped = 0;

	if (!s)
		return;
	__atomic_store_n(&s->abort, 1, __ATOMIC_RELAXED);
	pacer_worker_stop(&s->w);
	while (s->head) {
		struct message *m = s->head;

		s->head = m->next;
		message_free(m);
		dropped++;
	}
	if (dropped) {
		PLOG_WARN("notify: %s: %zu message%s not delivered: pacer stopped first", s->sink,
		          dropped, dropped == 1 ? "" : "s");
		count(s, "dropped", dropped);
	}
	pthread_cond_destroy(&s->idle);
	free(s->sink);
	free(s->user_agent);
	free(s);
}
