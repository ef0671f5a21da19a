#include "reconcile/log.h"
#include "reconcile/buf.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int pacer_log_level = PACER_LOG_INFO;

static int log_json;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
/* A handful of secrets at most: a flat array is enough. */
#define MAX_SECRETS 16
static char *secrets[MAX_SECRETS];
static int nsecrets;

static const char *level_names[] = {"error", "warn", "info", "debug"};

void pacer_log_set_level(int level)
{
	pacer_log_level = level;
}

int pacer_log_parse_level(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (!strcmp(s, level_names[i]))
			return i;
	return -1;
}

void pacer_log_set_json(int on)
{
	log_json = on;
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

static void json_escape(struct pacer_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			pacer_buf_printf(b, "\\%c", c);
		else if (c < 0x20)
			pacer_buf_printf(b, "\\u%04x", c);
		else
			pacer_buf_putc(b, (char)c);
	}
}

void pacer_log_write(int level, const char *fmt, ...)
{
	struct pacer_buf msg = PACER_BUF_INIT, line = PACER_BUF_INIT;
	char stamp[32];
	struct timespec ts;
	struct tm tm;
	char *clean;
	va_list ap;

	va_start(ap, fmt);
	pacer_buf_vprintf(&msg, fmt, ap);
	va_end(ap);

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (level < 0 || level > 3)
		level = PACER_LOG_INFO;

	pthread_mutex_lock(&log_lock);
	clean = redact_locked(pacer_buf_cstr(&msg));
	if (log_json) {
		pacer_buf_printf(&line, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"", stamp,
				 level_names[level]);
		json_escape(&line, clean ? clean : "");
		pacer_buf_puts(&line, "\"}\n");
	} else {
		pacer_buf_printf(&line, "%s %-5s %s\n", stamp, level_names[level], clean ? clean : "");
	}
	fputs(pacer_buf_cstr(&line), stderr);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);

	free(clean);
	pacer_buf_release(&msg);
	pacer_buf_release(&line);
}
