/*
 * log.h: one event per line on stderr, cheap when a level is off.
 *
 *   PLOG_INFO("app=%s deployment=%s deployed", id, dep);
 *
 * The macros test the level before any formatting happens. Lines look like
 *   2026-11-27T18:30:57Z info  app=/prod/web deployment=... deployed
 * (or one JSON object per line with pacer_log_set_json(1)). Writes are
 * serialised, so lines from parallel applies never interleave.
 *
 * Secrets: every string registered with pacer_log_add_secret() is replaced by
 * "***" in every line before it is written. Register tokens, passwords and
 * webhook secrets as soon as they are read.
 *
 * The log is for operators. What the user must read (errors, the plan) is
 * printed by cmd/, not logged.
 */
#ifndef PACER_LOG_H
#define PACER_LOG_H

enum pacer_log_level {
	PACER_LOG_ERROR = 0,
	PACER_LOG_WARN = 1,
	PACER_LOG_INFO = 2,
	PACER_LOG_DEBUG = 3,
};

extern int pacer_log_level;

void pacer_log_set_level(int level);
/* Parse "error|warn|info|debug"; returns -1 for anything else. */
int pacer_log_parse_level(const char *s);
void pacer_log_set_json(int on);
/* Remember a secret to redact (copied). Strings shorter than 4 bytes are ignored. */
void pacer_log_add_secret(const char *secret);
/* Forget all registered secrets (tests). */
void pacer_log_clear_secrets(void);
/*
 * Redact every registered secret in s. Returns a new string the caller
 * frees, or NULL when out of memory.
 */
char *pacer_log_redact(const char *s);

void pacer_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define PLOG(level, ...)                                                                           \
	do {                                                                                       \
		if ((level) <= pacer_log_level)                                                    \
			pacer_log_write((level), __VA_ARGS__);                                     \
	} while (0)
#define PLOG_ERROR(...) PLOG(PACER_LOG_ERROR, __VA_ARGS__)
#define PLOG_WARN(...) PLOG(PACER_LOG_WARN, __VA_ARGS__)
#define PLOG_INFO(...) PLOG(PACER_LOG_INFO, __VA_ARGS__)
#define PLOG_DEBUG(...) PLOG(PACER_LOG_DEBUG, __VA_ARGS__)

#endif
