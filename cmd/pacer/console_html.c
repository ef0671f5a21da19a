/*
 * console_html.c: escaping and decoding for the web console
 * (console_html.h).
 *
 * Escaping is by allow-list of what passes unchanged: everything else of
 * the five characters that matter in HTML is an entity, so text from
 * Marathon or git (an app id, a label, a commit message) can never open a
 * tag or leave an attribute, whatever it holds.
 */
#include "cmd/pacer/console_html.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/jsonutil.h"

int html_escape(struct pacer_buf *b, const char *s)
{
	size_t start = 0, i;
	int rc = 0;

	if (!s)
		return 0;
	for (i = 0; s[i] && !rc; i++) {
		unsigned char ch = (unsigned char)s[i];
		const char *ent = NULL;

		switch (ch) {
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\'': ent = "&#39;"; break;
		default:
			if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r')
				ent = "";
			break;
		}
		if (!ent)
			continue;
		rc = pacer_buf_add(b, s + start, i - start);
		if (!rc)
			rc = pacer_buf_puts(b, ent);
		start = i + 1;
	}
	if (!rc)
		rc = pacer_buf_add(b, s + start, i - start);
	return rc;
}

int html_url_path(struct pacer_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;

	for (; s && *s && !rc; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~/", ch))
			rc = pacer_buf_putc(b, (char)ch);
		else
			rc = pacer_buf_printf(b, "%%%c%c", hex[ch >> 4], hex[ch & 15]);
	}
	return rc;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode len bytes of a form value; NULL when malformed or holding a NUL. */
static char *form_decode(const char *v, size_t len)
{
	char *out = malloc(len + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (v[i] == '+') {
			out[o++] = ' ';
		} else if (v[i] == '%') {
			int hi, lo;

			if (i + 2 >= len) {
				free(out);
				return NULL;
			}
			hi = hexval(v[i + 1]);
			lo = hexval(v[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
				free(out);
				return NULL;
			}
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else if (v[i] == '\0') {
			free(out);
			return NULL;
		} else {
			out[o++] = v[i];
		}
	}
	out[o] = '\0';
	return out;
}

char *form_get(const char *body, size_t len, const char *name)
{
	size_t nlen = strlen(name), i = 0;

	while (body && i < len) {
		size_t end = i, eq;

		while (end < len && body[end] != '&')
			end++;
		for (eq = i; eq < end && body[eq] != '='; eq++)
			;
		if (eq - i == nlen && !memcmp(body + i, name, nlen))
			return form_decode(body + (eq < end ? eq + 1 : end),
			                   eq < end ? end - eq - 1 : 0);
		i = end + 1;
	}
	return NULL;
}

char *cookie_get(const char *header, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = header;

	while (p && *p) {
		const char *end = strchr(p, ';'), *eq;
		size_t seg;

		while (*p == ' ' || *p == '\t')
			p++;
		seg = end ? (size_t)(end - p) : strlen(p);
		eq = memchr(p, '=', seg);
		if (eq && (size_t)(eq - p) == nlen && !memcmp(p, name, nlen)) {
			size_t vlen = seg - nlen - 1;

			while (vlen && (eq[vlen] == ' ' || eq[vlen] == '\t'))
				vlen--;
			return strndup(eq + 1, vlen);
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

int html_template(struct pacer_buf *b, const char *tpl, const char *const *vars)
{
	const char *p = tpl;
	int rc = 0;

	while (!rc && *p) {
		const char *open = strstr(p, "{{"), *close = open ? strstr(open + 2, "}}") : NULL;

		if (!close) {
			rc = pacer_buf_puts(b, p);
			break;
		}
		rc = pacer_buf_add(b, p, (size_t)(open - p));
		for (size_t i = 0; !rc && vars && vars[i] && vars[i + 1]; i += 2)
			if (strlen(vars[i]) == (size_t)(close - open - 2) &&
			    !memcmp(vars[i], open + 2, (size_t)(close - open - 2))) {
				rc = pacer_buf_puts(b, vars[i + 1]);
				break;
			}
		p = close + 2;
	}
	return rc;
}

/* ---- JSON as HTML -------------------------------------------------------- */

struct jctx {
	struct pacer_buf *b;
	const char *const *marked;
	size_t n;
	char path[1024];
};

static int is_marked(const struct jctx *j)
{
	for (size_t i = 0; i < j->n; i++)
		if (!strcmp(j->marked[i], j->path))
			return 1;
	return 0;
}

static int indent(struct pacer_buf *b, int depth)
{
	return pacer_buf_printf(b, "%*s", depth * 2, "");
}

static int render(struct jctx *j, struct json_object *v, int depth);

/* Append key ("~" -> "~0", "/" -> "~1") to the path; the old length is returned. */
static size_t path_push(struct jctx *j, const char *key)
{
	size_t old = strlen(j->path), o = old;

	if (o + 1 < sizeof(j->path))
		j->path[o++] = '/';
	for (; *key && o + 2 < sizeof(j->path); key++) {
		if (*key == '~' || *key == '/') {
			j->path[o++] = '~';
			j->path[o++] = *key == '~' ? '0' : '1';
		} else {
			j->path[o++] = *key;
		}
	}
	j->path[o] = '\0';
	return old;
}

/* One member (key NULL: an array element) at depth: mark it when its path is marked. */
static int member(struct jctx *j, const char *key, struct json_object *v, int depth, int last)
{
	int mark = is_marked(j), rc;

	rc = indent(j->b, depth);
	if (!rc && mark) {
		rc = pacer_buf_puts(j->b, "<mark class=\"chg\" data-path=\"");
		if (!rc)
			rc = html_escape(j->b, j->path);
		if (!rc)
			rc = pacer_buf_puts(j->b, "\">");
	}
	if (!rc && key) {
		/* The key as JSON text (quoted, escaped), then as HTML text. */
		struct json_object *k = json_object_new_string(key);

		rc = k ? html_escape(j->b, json_object_to_json_string_ext(
		                               k, JSON_C_TO_STRING_NOSLASHESCAPE))
		       : -1;
		json_object_put(k);
		if (!rc)
			rc = pacer_buf_puts(j->b, ": ");
	}
	if (!rc)
		rc = render(j, v, depth);
	if (!rc && mark)
		rc = pacer_buf_puts(j->b, "</mark>");
	if (!rc)
		rc = pacer_buf_puts(j->b, last ? "\n" : ",\n");
	return rc;
}

static int render_object(struct jctx *j, struct json_object *v, int depth)
{
	const char **keys = NULL;
	size_t n = 0;
	int rc;

	if (jsonutil_sorted_keys(v, &keys, &n))
		return -1;
	rc = pacer_buf_puts(j->b, n ? "{\n" : "{");
	for (size_t i = 0; i < n && !rc; i++) {
		size_t old = path_push(j, keys[i]);

		rc = member(j, keys[i], json_object_object_get(v, keys[i]), depth + 1, i + 1 == n);
		j->path[old] = '\0';
	}
	free(keys);
	if (!rc && n)
		rc = indent(j->b, depth);
	return rc ? rc : pacer_buf_putc(j->b, '}');
}

static int render_array(struct jctx *j, struct json_object *v, int depth)
{
	size_t n = json_object_array_length(v);
	int rc = pacer_buf_puts(j->b, n ? "[\n" : "[");

	for (size_t i = 0; i < n && !rc; i++) {
		char idx[24];
		size_t old;

		snprintf(idx, sizeof(idx), "%zu", i);
		old = path_push(j, idx);
		rc = member(j, NULL, json_object_array_get_idx(v, i), depth + 1, i + 1 == n);
		j->path[old] = '\0';
	}
	if (!rc && n)
		rc = indent(j->b, depth);
	return rc ? rc : pacer_buf_putc(j->b, ']');
}

static int render(struct jctx *j, struct json_object *v, int depth)
{
	if (json_object_is_type(v, json_type_object))
		return render_object(j, v, depth);
	if (json_object_is_type(v, json_type_array))
		return render_array(j, v, depth);
	/* A scalar: its JSON text (strings quoted and JSON-escaped), then HTML-escaped. */
	return html_escape(j->b, v ? json_object_to_json_string_ext(
	                                 v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
	                           : "null");
}

int html_json(struct pacer_buf *b, struct json_object *v, const char *const *marked, size_t n)
{
	struct jctx j = {.b = b, .marked = marked, .n = n, .path = ""};

	return render(&j, v, 0);
}
