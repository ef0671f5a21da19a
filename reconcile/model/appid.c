/*
 * appid.c: Marathon app ids (SPEC.md §2) and their file-name form.
 *
 * Ids are short, so everything here works on plain heap strings. The only
 * subtle part is appid_mangle(): its output is used as a file name in the
 * backup directory, so it must never be able to name a different directory
 * ("..", "/"), a hidden file, or collide with the name of another id. Every
 * byte outside [a-z0-9.-] is escaped, and so is a '.' that starts a segment
 * (valid segments never start with '.', so only "." and ".." segments and
 * invalid ids pay for it). Decoding accepts only the canonical encoding, so
 * unmangle(name) succeeding implies mangle(unmangle(name)) == name and two
 * different names can never decode to the same id.
 */
#include "reconcile/model/appid.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/buf.h"

/* Append `len` bytes of segment `seg` to the resolved path in *b. */
static int push_segment(struct pacer_buf *b, const char *seg, size_t len)
{
	if (pacer_buf_putc(b, '/') < 0)
		return -1;
	return pacer_buf_add(b, seg, len);
}

/* Drop the last segment of the resolved path; -1 when there is none. */
static int pop_segment(struct pacer_buf *b)
{
	char *slash;

	if (b->len == 0)
		return -1;
	slash = strrchr(b->ptr, '/');
	b->len = (size_t)(slash - b->ptr);
	b->ptr[b->len] = '\0';
	return 0;
}

/* Resolve the segments of `path` onto *b. */
static int walk(struct pacer_buf *b, const char *path)
{
	const char *p = path;

	while (*p) {
		const char *end;
		size_t len;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		end = strchr(p, '/');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len == 1 && p[0] == '.') {
			/* "." is the current group */
		} else if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (pop_segment(b) < 0)
				return -1;
		} else if (push_segment(b, p, len) < 0) {
			return -1;
		}
		p += len;
	}
	return 0;
}

char *appid_resolve(const char *base, const char *id)
{
	struct pacer_buf b = PACER_BUF_INIT;

	if (!id)
		return NULL;
	/* An absolute id ignores the base; a relative one is read below it. */
	if (id[0] != '/' && base && walk(&b, base) < 0)
		goto fail;
	if (walk(&b, id) < 0)
		goto fail;
	if (b.len == 0 && pacer_buf_putc(&b, '/') < 0)
		goto fail;
	return pacer_buf_detach(&b);
fail:
	pacer_buf_release(&b);
	return NULL;
}

static bool is_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/*
 * One segment against Marathon's ID_PATH_SEGMENT_PATTERN. On failure
 * *why names the first problem in words.
 */
static bool segment_ok(const char *seg, size_t len, const char **why)
{
	size_t i, start = 0;

	for (i = 0; i < len; i++) {
		char c = seg[i];

		if (c >= 'A' && c <= 'Z') {
			*why = "contains an uppercase letter";
			return false;
		}
		if (c == '_') {
			*why = "contains '_'";
			return false;
		}
		if (!is_label_char(c) && c != '.') {
			*why = "contains a character other than a-z 0-9 - .";
			return false;
		}
	}
	/* Labels between dots: non-empty, no '-' at either end. */
	for (i = 0; i <= len; i++) {
		if (i == len || seg[i] == '.') {
			if (i == start) {
				*why = "has an empty label (a '.' at the start or end, or two in a row)";
				return false;
			}
			if (seg[start] == '-' || seg[i - 1] == '-') {
				*why = "has a label that starts or ends with '-'";
				return false;
			}
			start = i + 1;
		}
	}
	return true;
}

int appid_check(const char *id, struct pacer_error **err)
{
	const char *p, *last = NULL;
	size_t last_len = 0;
	static const char *const reserved[] = {"restart", "tasks", "versions", ".", ".."};
	size_t i;

	if (!id || !*id || strcmp(id, "/") == 0)
		return pacer_error_set(err, PACER_EINVALID,
				       "app id '%s' is empty: Marathon needs at least one path element, e.g. \"/web\"",
				       id ? id : "");
	if (id[0] != '/')
		return pacer_error_set(err, PACER_EINVALID,
				       "app id '%s' is not absolute: resolve it against its group first", id);
	p = id + 1;
	for (;;) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		const char *why = NULL;

		if (len == 0)
			return pacer_error_set(err, PACER_EINVALID,
					       "app id '%s' has an empty path element ('//' or a trailing '/'): remove it", id);
		if (!(len == 1 && p[0] == '.') && !(len == 2 && p[0] == '.' && p[1] == '.') &&
		    !segment_ok(p, len, &why))
			return pacer_error_set(err, PACER_EINVALID,
					       "app id '%s': path element '%.*s' %s; Marathon ids allow a-z 0-9 - . "
					       "(lowercase labels separated by '.', '-' only inside a label)",
					       id, (int)len, p, why);
		last = p;
		last_len = len;
		if (!end)
			break;
		p = end + 1;
	}
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strlen(reserved[i]) == last_len && memcmp(reserved[i], last, last_len) == 0)
			return pacer_error_set(err, PACER_EINVALID,
					       "app id '%s' ends with the reserved word '%s': Marathon 1.8+ refuses ids "
					       "ending in restart, tasks, versions, . or ..; rename the app",
					       id, reserved[i]);
	return 0;
}

static bool plain_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static const char hexdigits[] = "0123456789ABCDEF";

char *appid_mangle(const char *id)
{
	struct pacer_buf b = PACER_BUF_INIT;
	const unsigned char *p;
	bool seg_start = true;

	if (!id)
		return NULL;
	if (id[0] == '/')
		id++;
	/* "/" (or "") has no path element and so no file name. */
	if (!*id)
		return NULL;
	for (p = (const unsigned char *)id; *p; p++) {
		int rc;

		if (*p == '/') {
			rc = pacer_buf_putc(&b, '~');
			seg_start = true;
			if (rc < 0)
				goto fail;
			continue;
		}
		if (plain_byte(*p) && !(seg_start && *p == '.')) {
			rc = pacer_buf_putc(&b, (char)*p);
		} else {
			char esc[3] = {'%', hexdigits[*p >> 4], hexdigits[*p & 15]};

			rc = pacer_buf_add(&b, esc, sizeof(esc));
		}
		if (rc < 0)
			goto fail;
		seg_start = false;
	}
	return pacer_buf_detach(&b);
fail:
	pacer_buf_release(&b);
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *appid_unmangle(const char *name)
{
	struct pacer_buf b = PACER_BUF_INIT;
	const char *p;
	bool seg_start = true;

	if (!name || !*name)
		return NULL;
	if (pacer_buf_putc(&b, '/') < 0)
		goto fail;
	for (p = name; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '~') {
			c = '/';
			seg_start = true;
			if (pacer_buf_putc(&b, '/') < 0)
				goto fail;
			continue;
		}
		if (c == '%') {
			int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);

			if (hi < 0 || lo < 0)
				goto fail;
			c = (unsigned char)(hi << 4 | lo);
			/* Only the canonical form: a byte mangle writes plainly must not be escaped. */
			if (c == 0 || c == '/' || (plain_byte(c) && !(seg_start && c == '.')))
				goto fail;
			p += 2;
		} else if (!plain_byte(c) || (seg_start && c == '.')) {
			goto fail;
		}
		if (pacer_buf_putc(&b, (char)c) < 0)
			goto fail;
		seg_start = false;
	}
	return pacer_buf_detach(&b);
fail:
	pacer_buf_release(&b);
	return NULL;
}
