/*
 * log.c: the log line writer (contract in log.h).
 *
 * A line is built in three steps: the message is formatted and redacted,
 * then (logfmt and JSON only) split into keys and prose, then rendered in
 * the chosen format and written with one fputs under the lock. Everything
 * happens after the level test in the macros, so a disabled line costs
 * nothing.
 */
#include "reconcile/base/buf.h"
#include "reconcile/base/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int pacer_log_level = PACER_LOG_INFO;

static int log_format = PACER_LOG_TEXT;
static int log_prefix;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
/* A handful of secrets at most: a flat array is enough. */
#define MAX_SECRETS 16
static char *secrets[MAX_SECRETS];
static int nsecrets;
/* Keys taken out of one message: more is prose. */
#define MAX_KEYS 24

static const char *level_names[] = {"error", "warn", "info", "debug"};
static const char *format_names[] = {"text", "logfmt", "json"};
/* sd-daemon(3): LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG. */
static const char *level_prefix[] = {"<3>", "<4>", "<6>", "<7>"};

void pacer_log_set_level(int level)
{
	pacer_log_level = level;
}

/* The index of s in names[0..n), or -1. */
static int name_index(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

int pacer_log_parse_level(const char *s)
{
	return name_index(level_names, 4, s);
}

void pacer_log_set_format(int format)
{
	log_format = format >= PACER_LOG_TEXT && format <= PACER_LOG_JSON ? format : PACER_LOG_TEXT;
}

int pacer_log_parse_format(const char *s)
{
	return name_index(format_names, 3, s);
}

void pacer_log_set_priority_prefix(int on)
{
	log_prefix = on;
}

int pacer_log_stderr_is_journal(const char *journal_stream, int fd)
{
	unsigned long long dev, ino;
	struct stat st;
	int used = 0;

	if (!journal_stream || sscanf(journal_stream, "%llu:%llu%n", &dev, &ino, &used) != 2 ||
	    journal_stream[used] || fstat(fd, &st))
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void pacer_log_add_secret(const char *secret)
{
	if (!secret || strlen(secret) < 4)
		return;
	pthread_mutex_lock(&log_lock);
	if (nsecrets < MAX_SECRETS) {
		char *copy = strdup(secret);

		if (copy)
			secrets[nsecrets++] = copy;
	}
	pthread_mutex_unlock(&log_lock);
}

void pacer_log_clear_secrets(void)
{
	pthread_mutex_lock(&log_lock);
	for (int i = 0; i < nsecrets; i++)
		free(secrets[i]);
	nsecrets = 0;
	pthread_mutex_unlock(&log_lock);
}

/* Caller holds log_lock. */
static char *redact_locked(const char *s)
{
	struct pacer_buf out = PACER_BUF_INIT;
	const char *p = s;

	while (*p) {
		int hit = -1;

		for (int i = 0; i < nsecrets; i++)
			if (!strncmp(p, secrets[i], strlen(secrets[i]))) {
				hit = i;
				break;
			}
		if (hit >= 0) {
			pacer_buf_puts(&out, "***");
			p += strlen(secrets[hit]);
		} else {
			pacer_buf_putc(&out, *p++);
		}
	}
	return pacer_buf_detach(&out);
}

char *pacer_log_redact(const char *s)
{
	char *r;

	pthread_mutex_lock(&log_lock);
	r = redact_locked(s);
	pthread_mutex_unlock(&log_lock);
	return r;
}

/* ---- rendering ----------------------------------------------------------- */

static void json_escape(struct pacer_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			pacer_buf_printf(b, "\\%c", c);
		else if (c == '\n')
			pacer_buf_puts(b, "\\n");
		else if (c == '\t')
			pacer_buf_puts(b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			pacer_buf_printf(b, "\\u%04x", c);
		else
			pacer_buf_putc(b, (char)c);
	}
}

static int needs_quotes(const char *s)
{
	if (!*s)
		return 1;
	for (; *s; s++)
		if (*s == ' ' || *s == '=' || *s == '"' || (unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* A logfmt value: bare when it can be, else quoted with JSON's escapes. */
static void put_logfmt_value(struct pacer_buf *b, const char *s)
{
	if (!needs_quotes(s)) {
		pacer_buf_puts(b, s);
		return;
	}
	pacer_buf_putc(b, '"');
	json_escape(b, s);
	pacer_buf_putc(b, '"');
}

/* "-" is how the text lines always said "none": no key in structured formats. */
static int absent(const char *v)
{
	return !v || !strcmp(v, "-");
}

static void render_text(struct pacer_buf *b, int level, const char *stamp,
			const struct pacer_log_kv *kv, size_t nkv, const char *msg)
{
	pacer_buf_printf(b, "%s %-5s ", stamp, level_names[level]);
	for (size_t i = 0; i < nkv; i++) {
		pacer_buf_printf(b, "%s=", kv[i].key);
		put_logfmt_value(b, kv[i].value ? kv[i].value : "-");
		pacer_buf_putc(b, ' ');
	}
	pacer_buf_puts(b, msg);
	/* No trailing blank when the message is empty. */
	while (b->len && b->ptr[b->len - 1] == ' ')
		b->ptr[--b->len] = '\0';
}

static void render_logfmt(struct pacer_buf *b, int level, const char *stamp,
			  const struct pacer_log_kv *kv, size_t nkv, const char *msg)
{
	pacer_buf_printf(b, "ts=%s level=%s msg=", stamp, level_names[level]);
	put_logfmt_value(b, msg);
	for (size_t i = 0; i < nkv; i++) {
		if (absent(kv[i].value))
			continue;
		pacer_buf_printf(b, " %s=", kv[i].key);
		put_logfmt_value(b, kv[i].value);
	}
}

static void render_json(struct pacer_buf *b, int level, const char *stamp,
			const struct pacer_log_kv *kv, size_t nkv, const char *msg)
{
	pacer_buf_printf(b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", stamp, level_names[level]);
	json_escape(b, msg);
	pacer_buf_putc(b, '"');
	for (size_t i = 0; i < nkv; i++) {
		if (absent(kv[i].value))
			continue;
		pacer_buf_puts(b, ",\"");
		json_escape(b, kv[i].key);
		pacer_buf_puts(b, "\":\"");
		json_escape(b, kv[i].value);
		pacer_buf_putc(b, '"');
	}
	pacer_buf_putc(b, '}');
}

char *pacer_log_render(int format, int level, long long sec, int msec,
		       const struct pacer_log_kv *kv, size_t nkv, const char *msg)
{
	struct pacer_buf b = PACER_BUF_INIT;
	time_t t = (time_t)sec;
	char stamp[48], base[32];
	struct tm tm;

	if (level < 0 || level > 3)
		level = PACER_LOG_INFO;
	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	/* Text keeps the second-resolution stamp it always had; machines get ms. */
	if (format == PACER_LOG_TEXT)
		snprintf(stamp, sizeof(stamp), "%sZ", base);
	else
		snprintf(stamp, sizeof(stamp), "%s.%03dZ", base, msec);
	if (format == PACER_LOG_LOGFMT)
		render_logfmt(&b, level, stamp, kv, nkv, msg ? msg : "");
	else if (format == PACER_LOG_JSON)
		render_json(&b, level, stamp, kv, nkv, msg ? msg : "");
	else
		render_text(&b, level, stamp, kv, nkv, msg ? msg : "");
	return pacer_buf_detach(&b);
}

/* ---- keys inside a message ----------------------------------------------- */

struct lifted {
	struct pacer_log_kv kv[MAX_KEYS];
	size_t n;
	char *store; /* keys and values, NUL-separated; owned */
	struct pacer_buf prose;
};

static int is_key_start(const char *p)
{
	const char *k = p;

	if (*k < 'a' || *k > 'z')
		return 0;
	while ((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_')
		k++;
	return *k == '=' ? (int)(k - p) : 0;
}

/* A key already taken, or one of the line's own (ts, level, msg): prose. */
static int have_key(const struct lifted *l, const char *key, size_t len)
{
	static const char *const own[] = {"ts", "level", "msg"};

	for (size_t i = 0; i < 3; i++)
		if (strlen(own[i]) == len && !strncmp(own[i], key, len))
			return 1;
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->kv[i].key) == len && !strncmp(l->kv[i].key, key, len))
			return 1;
	return 0;
}

/*
 * One word "key=value" at p (p starts a word): copy key and value into
 * *dst, return the length of the word, or 0 when it is prose. A value in
 * quotes ends at the closing quote; a bare one at the next blank, without
 * the ':', ',' or ';' that ends a clause.
 */
static size_t lift_word(struct lifted *l, const char *p, char **dst)
{
	int klen = is_key_start(p);
	const char *v, *end;
	size_t vlen;

	if (!klen || l->n == MAX_KEYS || have_key(l, p, (size_t)klen))
		return 0;
	v = p + klen + 1;
	if (*v == '"') {
		for (end = v + 1; *end && *end != '"'; end++)
			if (*end == '\\' && end[1])
				end++;
		if (*end != '"')
			return 0;
		vlen = (size_t)(end - v - 1);
		v++;
		end++;
		if (*end && *end != ' ')
			return 0;
	} else {
		end = v + strcspn(v, " ");
		vlen = (size_t)(end - v);
		while (vlen && (v[vlen - 1] == ':' || v[vlen - 1] == ',' || v[vlen - 1] == ';'))
			vlen--;
	}
	l->kv[l->n].key = memcpy(*dst, p, (size_t)klen);
	(*dst)[klen] = '\0';
	*dst += klen + 1;
	l->kv[l->n].value = memcpy(*dst, v, vlen);
	(*dst)[vlen] = '\0';
	*dst += vlen + 1;
	l->n++;
	return (size_t)(end - p);
}

/* Split msg into its key=value words and the prose left between them. */
static int lift_keys(struct lifted *l, const char *msg)
{
	const char *p = msg;
	char *dst;

	memset(l, 0, sizeof(*l));
	/* Each key and value is a part of msg plus a NUL: twice msg's size bounds it. */
	if (!(l->store = malloc(2 * strlen(msg) + 2)))
		return -1;
	dst = l->store;
	while (*p) {
		size_t w = 0;

		if (*p == ' ') {
			p++;
			continue;
		}
		if (p == msg || p[-1] == ' ')
			w = lift_word(l, p, &dst);
		if (!w) {
			w = strcspn(p, " ");
			if (l->prose.len)
				pacer_buf_putc(&l->prose, ' ');
			pacer_buf_add(&l->prose, p, w);
		}
		p += w;
	}
	return 0;
}

/* ---- writing ------------------------------------------------------------- */

static void write_line(int level, const struct pacer_log_kv *kv, size_t nkv, const char *fmt,
		       va_list ap)
{
	struct pacer_buf msg = PACER_BUF_INIT, line = PACER_BUF_INIT;
	struct pacer_log_kv clean_kv[MAX_KEYS];
	struct lifted l = {0};
	struct timespec ts;
	char *clean = NULL, *clean_vals[MAX_KEYS] = {NULL}, *text = NULL;
	const char *prose;
	int format = log_format;

	pacer_buf_vprintf(&msg, fmt, ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	if (level < 0 || level > 3)
		level = PACER_LOG_INFO;
	if (nkv > MAX_KEYS)
		nkv = MAX_KEYS;

	pthread_mutex_lock(&log_lock);
	/* Redact before anything is escaped: an escaped secret would not match. */
	clean = redact_locked(pacer_buf_cstr(&msg));
	for (size_t i = 0; i < nkv; i++) {
		clean_kv[i].key = kv[i].key;
		clean_kv[i].value = kv[i].value ? (clean_vals[i] = redact_locked(kv[i].value)) : NULL;
	}
	prose = clean ? clean : "";
	if (format != PACER_LOG_TEXT && !nkv && clean && lift_keys(&l, clean) == 0) {
		prose = pacer_buf_cstr(&l.prose);
		text = pacer_log_render(format, level, ts.tv_sec, (int)(ts.tv_nsec / 1000000), l.kv,
					l.n, prose);
	} else {
		text = pacer_log_render(format, level, ts.tv_sec, (int)(ts.tv_nsec / 1000000),
					clean_kv, nkv, prose);
	}
	if (log_prefix)
		pacer_buf_puts(&line, level_prefix[level]);
	pacer_buf_puts(&line, text ? text : "");
	pacer_buf_putc(&line, '\n');
	fputs(pacer_buf_cstr(&line), stderr);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);

	for (size_t i = 0; i < nkv; i++)
		free(clean_vals[i]);
	free(l.store);
	pacer_buf_release(&l.prose);
	free(text);
	free(clean);
	pacer_buf_release(&msg);
	pacer_buf_release(&line);
}

void pacer_log_write(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	write_line(level, NULL, 0, fmt, ap);
	va_end(ap);
}

void pacer_log_write_kv(int level, const struct pacer_log_kv *kv, size_t nkv, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	write_line(level, kv, nkv, fmt, ap);
	va_end(ap);
}
