/*
 * error.h: the one error type of pacer.
 *
 * Functions that can fail return an int: 0 on success, a negative code on
 * failure. When they fail they may also hand back a `struct pacer_error`
 * through a `struct pacer_error **err` argument (which may be NULL when the
 * caller does not want details). The error carries a code, a human message
 * that names what failed and what to do, optional context (file:line:col,
 * app id, URL, HTTP status) and the lower-level error it wraps.
 *
 * There is no global "last error": applies run in parallel, each with its
 * own error. Never overwrite an error that is already set; wrap it.
 */
#ifndef PACER_ERROR_H
#define PACER_ERROR_H

#include <stdarg.h>

/*
 * Codes a caller acts on. Everything else is PACER_EGENERIC.
 */
enum pacer_code {
	PACER_OK = 0,
	PACER_EGENERIC = -1,
	PACER_ENOTFOUND = -2,    /* 404: no such app/deployment/backup/ref */
	PACER_ELOCKED = -3,      /* 409: locked by a running deployment */
	PACER_ETIMEOUT = -4,     /* a deadline passed */
	PACER_EINVALID = -5,     /* invalid input: desired state, 400/422 */
	PACER_EUNREACHABLE = -6, /* could not connect to any Marathon / remote */
	PACER_ECONFLICT = -7,    /* 409: already exists */
	PACER_EAUTH = -8,        /* 401/403, or git authentication failed */
	PACER_EIO = -9,          /* local I/O: disk full, permission, fsync */
	PACER_EHTTP = -10,       /* any other unexpected HTTP status */
	PACER_ECANCELLED = -11,  /* stopped by a signal or a newer run */
	PACER_EFAILED = -12,     /* a deployment failed or never converged */
	PACER_EBUSY = -13,       /* another run holds the lock */
	PACER_EUNKNOWN = -14,    /* a changing request may or may not have been
				    applied (timeout, lost reply, 5xx): read the
				    truth back before doing anything else */
	PACER_ECLUSTER = -15,    /* the state directory belongs to another cluster */
};

struct pacer_error {
	int code;       /* one of enum pacer_code */
	char *message;  /* what went wrong and what to do; never NULL */
	char *file;     /* desired-state file, or NULL */
	int line, col;  /* 1-based position in file, 0 when unknown */
	char *app_id;   /* Marathon app id, or NULL */
	char *url;      /* URL that failed (credentials never included), or NULL */
	int http_status;/* HTTP status, 0 when none */
	struct pacer_error *cause; /* wrapped lower-level error, owned, or NULL */
};

/*
 * Make a new error. The message is printf-formatted. Returns NULL only when
 * out of memory. The caller owns the result; free with pacer_error_free().
 */
struct pacer_error *pacer_error_new(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The same with a va_list; the caller frees with pacer_error_free(). */
struct pacer_error *pacer_error_newv(int code, const char *fmt, va_list ap);

/*
 * Set *err to a new error when err is not NULL and *err is still NULL (an
 * existing error is never overwritten). Returns `code`, so that failing paths
 * read `return pacer_error_set(err, PACER_EIO, "...")`.
 */
int pacer_error_set(struct pacer_error **err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Wrap *err (which may be NULL) in a new error with the given code and
 * message: the old error becomes the cause. Does nothing when err is NULL.
 * Returns `code`.
 */
int pacer_error_wrap(struct pacer_error **err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Setters for the context fields; each copies its argument. NULL-safe. */
void pacer_error_set_file(struct pacer_error *e, const char *file, int line, int col);
void pacer_error_set_app(struct pacer_error *e, const char *app_id);
void pacer_error_set_url(struct pacer_error *e, const char *url);

/*
 * Render the error and its causes as one or more human lines:
 *   "file.json:3:7: app /x: message\n  caused by: ...".
 * Returns a string the caller frees with free(), or NULL when out of memory.
 */
char *pacer_error_format(const struct pacer_error *e);

/* The innermost code that is not PACER_EGENERIC (for exit-code mapping). */
int pacer_error_root_code(const struct pacer_error *e);

/* Free an error and its causes. NULL is a no-op. */
void pacer_error_free(struct pacer_error *e);

/* Free *err and set it to NULL. */
void pacer_error_clear(struct pacer_error **err);

/* Human name of a code ("not found", "locked", ...). Static string. */
const char *pacer_code_name(int code);

#endif
