#include "reconcile/base/buf.h"
#include "reconcile/base/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pacer_error *pacer_error_newv(int code, const char *fmt, va_list ap)
{
	struct pacer_error *e = calloc(1, sizeof(*e));
	char *msg = NULL;

	if (!e)
		return NULL;
	if (vasprintf(&msg, fmt, ap) < 0) {
		free(e);
		return NULL;
	}
	e->code = code ? code : PACER_EGENERIC;
	e->message = msg;
	return e;
}

struct pacer_error *pacer_error_new(int code, const char *fmt, ...)
{
	struct pacer_error *e;
	va_list ap;

	va_start(ap, fmt);
	e = pacer_error_newv(code, fmt, ap);
	va_end(ap);
	return e;
}

int pacer_error_set(struct pacer_error **err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err || *err)
		return code;
	va_start(ap, fmt);
	*err = pacer_error_newv(code, fmt, ap);
	va_end(ap);
	return code;
}

int pacer_error_wrap(struct pacer_error **err, int code, const char *fmt, ...)
{
	struct pacer_error *e;
	va_list ap;

	if (!err)
		return code;
	va_start(ap, fmt);
	e = pacer_error_newv(code, fmt, ap);
	va_end(ap);
	if (!e)
		return code; /* keep the old error rather than lose it */
	e->cause = *err;
	if (e->cause) {
		/* Context travels up so the outer line still names file/app/url. */
		if (e->cause->file)
			pacer_error_set_file(e, e->cause->file, e->cause->line, e->cause->col);
		if (e->cause->app_id)
			pacer_error_set_app(e, e->cause->app_id);
		if (e->cause->url)
			pacer_error_set_url(e, e->cause->url);
		e->http_status = e->cause->http_status;
	}
	*err = e;
	return code;
}

static void replace(char **slot, const char *value)
{
	char *copy = value ? strdup(value) : NULL;

	if (value && !copy)
		return;
	free(*slot);
	*slot = copy;
}

void pacer_error_set_file(struct pacer_error *e, const char *file, int line, int col)
{
	if (!e)
		return;
	replace(&e->file, file);
	e->line = line;
	e->col = col;
}

void pacer_error_set_app(struct pacer_error *e, const char *app_id)
{
	if (e)
		replace(&e->app_id, app_id);
}

void pacer_error_set_url(struct pacer_error *e, const char *url)
{
	if (e)
		replace(&e->url, url);
}

static void format_one(struct pacer_buf *b, const struct pacer_error *e, int with_context)
{
	if (with_context && e->file) {
		pacer_buf_puts(b, e->file);
		if (e->line > 0)
			pacer_buf_printf(b, ":%d:%d", e->line, e->col);
		pacer_buf_puts(b, ": ");
	}
	if (with_context && e->app_id)
		pacer_buf_printf(b, "app %s: ", e->app_id);
	pacer_buf_puts(b, e->message);
}

char *pacer_error_format(const struct pacer_error *e)
{
	struct pacer_buf b = PACER_BUF_INIT;
	const struct pacer_error *c;

	if (!e)
		return strdup("unknown error");
	format_one(&b, e, 1);
	for (c = e->cause; c; c = c->cause) {
		/* Context already printed on the outer line is not repeated. */
		pacer_buf_puts(&b, "\n  caused by: ");
		format_one(&b, c, 0);
	}
	return pacer_buf_detach(&b);
}

int pacer_error_root_code(const struct pacer_error *e)
{
	int code = PACER_EGENERIC;

	for (; e; e = e->cause)
		if (e->code != PACER_EGENERIC)
			code = e->code;
	return code;
}

void pacer_error_free(struct pacer_error *e)
{
	while (e) {
		struct pacer_error *cause = e->cause;

		free(e->message);
		free(e->file);
		free(e->app_id);
		free(e->url);
		free(e);
		e = cause;
	}
}

void pacer_error_clear(struct pacer_error **err)
{
	if (!err)
		return;
	pacer_error_free(*err);
	*err = NULL;
}

const char *pacer_code_name(int code)
{
	switch (code) {
	case PACER_OK: return "ok";
	case PACER_ENOTFOUND: return "not found";
	case PACER_ELOCKED: return "locked by a deployment";
	case PACER_ETIMEOUT: return "timed out";
	case PACER_EINVALID: return "invalid";
	case PACER_EUNREACHABLE: return "unreachable";
	case PACER_ECONFLICT: return "already exists";
	case PACER_EAUTH: return "not authorized";
	case PACER_EIO: return "I/O error";
	case PACER_EHTTP: return "unexpected HTTP status";
	case PACER_ECANCELLED: return "cancelled";
	case PACER_EFAILED: return "failed";
	case PACER_EBUSY: return "busy";
	case PACER_EUNKNOWN: return "outcome unknown";
	case PACER_ECLUSTER: return "another cluster";
	default: return "error";
	}
}
