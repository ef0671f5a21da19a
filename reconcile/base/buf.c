#include "reconcile/base/buf.h"
#include "reconcile/base/error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pacer_buf_init(struct pacer_buf *b, size_t cap)
{
	b->ptr = NULL;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
}

void pacer_buf_release(struct pacer_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = 0;
	b->alloc = 0;
}

void pacer_buf_reset(struct pacer_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

static int grow(struct pacer_buf *b, size_t extra)
{
	size_t cap = b->cap ? b->cap : PACER_BUF_DEFAULT_CAP;
	size_t want, n;
	char *p;

	if (extra > cap || b->len > cap - extra)
		return PACER_EINVALID;
	want = b->len + extra + 1;
	if (want <= b->alloc)
		return 0;
	/* Double, so appends are amortised O(1). */
	n = b->alloc ? b->alloc : 64;
	while (n < want)
		n *= 2;
	p = realloc(b->ptr, n);
	if (!p)
		return -1;
	b->ptr = p;
	b->alloc = n;
	return 0;
}

int pacer_buf_add(struct pacer_buf *b, const void *data, size_t len)
{
	int rc = grow(b, len);

	if (rc)
		return rc;
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int pacer_buf_puts(struct pacer_buf *b, const char *s)
{
	return pacer_buf_add(b, s, strlen(s));
}

int pacer_buf_putc(struct pacer_buf *b, char c)
{
	return pacer_buf_add(b, &c, 1);
}

int pacer_buf_vprintf(struct pacer_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n, rc;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return -1;
	rc = grow(b, (size_t)n);
	if (rc)
		return rc;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int pacer_buf_printf(struct pacer_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = pacer_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

char *pacer_buf_detach(struct pacer_buf *b)
{
	char *p = b->ptr;

	if (!p)
		p = strdup("");
	b->ptr = NULL;
	b->len = 0;
	b->alloc = 0;
	return p;
}

const char *pacer_buf_cstr(const struct pacer_buf *b)
{
	return b->ptr ? b->ptr : "";
}

void *pacer_array_grow(void *v, size_t *cap, size_t need, size_t elem, size_t first)
{
	size_t ncap = *cap ? *cap : first;
	void *nv;

	if (need <= *cap)
		return v;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return NULL;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / elem || !(nv = realloc(v, ncap * elem)))
		return NULL;
	*cap = ncap;
	return nv;
}
