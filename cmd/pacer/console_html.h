/*
 * console_html.h: the text handling of the web console (console.h): HTML
 * escaping of everything that came from outside (Marathon, git, the
 * request), the decoding of form bodies and cookies, and the rendering of
 * a JSON value as escaped HTML. Pure functions over a pacer_buf; no I/O.
 */
#ifndef PACER_CMD_CONSOLE_HTML_H
#define PACER_CMD_CONSOLE_HTML_H

#include <stddef.h>

#include "reconcile/base/buf.h"

struct json_object;

/*
 * Append s (NULL: nothing) to b with & < > " ' escaped, so that it is
 * text both between tags and inside a quoted attribute value. Bytes below
 * 0x20 other than tab, newline and carriage return are dropped (they have
 * no place in HTML text). Returns pacer_buf_add()'s code.
 */
int html_escape(struct pacer_buf *b, const char *s);

/* Like pacer_buf_printf(), then each "%s" argument is NOT escaped: use for markup only. */
#define html_raw pacer_buf_printf

/*
 * Append s percent-encoded for a URL path (unreserved characters and '/'
 * kept): a Marathon id in /app/<id>. Returns pacer_buf_add()'s code.
 */
int html_url_path(struct pacer_buf *b, const char *s);

/*
 * The value of field name in an application/x-www-form-urlencoded body
 * (body: len bytes, not necessarily NUL-terminated): decoded ('+' is a
 * space, %XX a byte), new string (caller frees); NULL when absent, when
 * malformed (a bad %XX) or when it decodes to a NUL byte. The first
 * occurrence wins.
 */
char *form_get(const char *body, size_t len, const char *name);

/*
 * The value of cookie name in a Cookie header value (NULL: none): new
 * string (caller frees) or NULL.
 */
char *cookie_get(const char *header, const char *name);

/*
 * Append tpl to b with each "{{name}}" replaced by the value of name in
 * vars (name, value, ..., NULL; values are markup, inserted as they are:
 * escape what they hold first). A name not in vars is replaced by nothing.
 * Returns 0 or the buffer's code.
 */
int html_template(struct pacer_buf *b, const char *tpl, const char *const *vars);

/*
 * Render v as indented JSON text, escaped, into b. A member whose path
 * (diff.h's JSON-pointer notation: "/container/docker/image",
 * "/env/LOG_LEVEL", "/healthChecks"; keys escaped "~0" "~1") is one of
 * marked (n of them) is wrapped whole in <mark class="chg"
 * data-path="...">...</mark>. Returns 0 or the buffer's code.
 */
int html_json(struct pacer_buf *b, struct json_object *v, const char *const *marked, size_t n);

#endif
