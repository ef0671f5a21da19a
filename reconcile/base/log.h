/*
 * log.h: one event per line on stderr, cheap when a level is off.
 *
 *   PLOG_INFO("app=%s deployment=%s deployed", id, dep);
 *
 *   struct pacer_log_kv kv[] = {{"app", id}, {"deployment", dep}};
 *   PLOG_KV(PACER_LOG_WARN, kv, 2, "rolled back: %s", why);
 *
 * The macros test the level before any formatting happens, so a line below
 * the level costs one comparison. Writes are serialised, so lines from
 * parallel applies never interleave.
 *
 * Three formats (pacer_log_set_format()), the same event in each:
 *   text    2026-11-27T18:30:57Z warn  app=/prod/web deployment=d1 rolled back: ...
 *   logfmt  ts=2026-11-27T18:30:57.123Z level=warn msg="rolled back: ..." app=/prod/web deployment=d1
 *   json    {"ts":"2026-11-27T18:30:57.123Z","level":"warn","msg":"rolled back: ...","app":"/prod/web","deployment":"d1"}
 * Text is what pacer always printed: the keys lead the message as key=value.
 * In logfmt and JSON, keys are keys: those given as pacer_log_kv, and the
 * words of a PLOG message that have the form key=value (key in lower case,
 * [a-z][a-z0-9_]*; a value in double quotes may hold spaces), which are
 * taken out of the message. A key with a NULL value, or the value "-", is
 * left out. logfmt quotes a value that is empty or holds a space, '=', '"'
 * or a control character.
 *
 * With pacer_log_set_priority_prefix(1) every line starts with its syslog
 * priority, "<3>" error, "<4>" warn, "<6>" info, "<7>" debug, which
 * systemd-journald reads from a service's stderr (sd-daemon(3)), so
 * `journalctl -p warning` works. pacer_log_stderr_is_journal() says when to.
 *
 * Secrets: every string registered with pacer_log_add_secret() is replaced by
 * "***" in the message and in every value before the line is written.
 * Register tokens, passwords and webhook secrets as soon as they are read.
 *
 * The log is for operators. What the user must read (errors, the plan) is
 * printed by cmd/, not logged.
 */
#ifndef PACER_LOG_H
#define PACER_LOG_H

#include <stddef.h>

enum pacer_log_level {
	PACER_LOG_ERROR = 0,
	PACER_LOG_WARN = 1,
	PACER_LOG_INFO = 2,
	PACER_LOG_DEBUG = 3,
};

enum pacer_log_format {
	PACER_LOG_TEXT = 0,
	PACER_LOG_LOGFMT = 1,
	PACER_LOG_JSON = 2,
};

/* One key of a structured line; both strings borrowed for the call. */
struct pacer_log_kv {
	const char *key;
	const char *value; /* NULL: the key is left out */
};

extern int pacer_log_level;

void pacer_log_set_level(int level);
/* Parse "error|warn|info|debug"; returns -1 for anything else. */
int pacer_log_parse_level(const char *s);

/* PACER_LOG_TEXT (the default), PACER_LOG_LOGFMT or PACER_LOG_JSON. */
void pacer_log_set_format(int format);
/* Parse "text|logfmt|json"; returns -1 for anything else. */
int pacer_log_parse_format(const char *s);

/* 1: start every line with its syslog priority ("<4>"); 0: do not (the default). */
void pacer_log_set_priority_prefix(int on);
/*
 * 1 when journal_stream (the value of $JOURNAL_STREAM, "<device>:<inode>",
 * may be NULL) names the file open as fd: systemd connected that fd to the
 * journal. A stderr redirected elsewhere by the service keeps the variable
 * but not the device and inode, so both are compared.
 */
int pacer_log_stderr_is_journal(const char *journal_stream, int fd);

/* Remember a secret to redact (copied). Strings shorter than 4 bytes are ignored. */
void pacer_log_add_secret(const char *secret);
/* Forget all registered secrets (tests). */
void pacer_log_clear_secrets(void);
/*
 * Redact every registered secret in s. Returns a new string the caller
 * frees, or NULL when out of memory.
 */
char *pacer_log_redact(const char *s);

/*
 * Render one line as pacer_log_write_kv() would write it, without the
 * priority prefix or the newline, with the time `stamp` (seconds and
 * milliseconds since the epoch, UTC). For tests and for callers that hand
 * lines elsewhere. Returns a string the caller frees, or NULL when out of
 * memory.
 */
char *pacer_log_render(int format, int level, long long sec, int msec,
		       const struct pacer_log_kv *kv, size_t nkv, const char *msg);

void pacer_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line with structured keys kv[0..nkv) (borrowed) and a printf message. */
void pacer_log_write_kv(int level, const struct pacer_log_kv *kv, size_t nkv, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define PLOG(level, ...)                                                                           \
	do {                                                                                       \
		if ((level) <= pacer_log_level)                                                    \
			pacer_log_write((level), __VA_ARGS__);                                     \
	} while (0)
#define PLOG_KV(level, kv, nkv, ...)                                                               \
	do {                                                                                       \
		if ((level) <= pacer_log_level)                                                    \
			pacer_log_write_kv((level), (kv), (nkv), __VA_ARGS__);                      \
	} while (0)
#define PLOG_ERROR(...) PLOG(PACER_LOG_ERROR, __VA_ARGS__)
#define PLOG_WARN(...) PLOG(PACER_LOG_WARN, __VA_ARGS__)
#define PLOG_INFO(...) PLOG(PACER_LOG_INFO, __VA_ARGS__)
#define PLOG_DEBUG(...) PLOG(PACER_LOG_DEBUG, __VA_ARGS__)

#endif
