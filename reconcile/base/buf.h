/*
 * buf.h: one growable byte buffer with a hard cap (after curl's dynbuf).
 *
 * The buffer is always NUL-terminated once anything was added, so `b.ptr`
 * can be used as a C string. A buffer made with PACER_BUF_INIT has no cap
 * beyond PACER_BUF_DEFAULT_CAP; use pacer_buf_init() to set a smaller one for
 * untrusted input (HTTP bodies, webhook payloads): growing past the cap fails
 * with PACER_EINVALID and leaves the contents as they were.
 *
 * Ownership: the caller owns the struct; release the memory with
 * pacer_buf_release(), or take it with pacer_buf_detach() (then free()).
 */
#ifndef PACER_BUF_H
#define PACER_BUF_H

#include <stdarg.h>
#include <stddef.h>

#define PACER_BUF_DEFAULT_CAP ((size_t)1 << 30)

struct pacer_buf {
	char *ptr;   /* NULL until the first append */
	size_t len;  /* bytes used, not counting the NUL */
	size_t alloc;
	size_t cap;  /* maximum len; 0 means PACER_BUF_DEFAULT_CAP */
};

#define PACER_BUF_INIT {NULL, 0, 0, 0}

void pacer_buf_init(struct pacer_buf *b, size_t cap);
void pacer_buf_release(struct pacer_buf *b);
/* Forget the contents but keep the memory. */
void pacer_buf_reset(struct pacer_buf *b);

/* Each returns 0, or PACER_EINVALID when the cap would be exceeded, or -1 when out of memory. */
int pacer_buf_add(struct pacer_buf *b, const void *data, size_t len);
int pacer_buf_puts(struct pacer_buf *b, const char *s);
int pacer_buf_putc(struct pacer_buf *b, char c);
int pacer_buf_printf(struct pacer_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int pacer_buf_vprintf(struct pacer_buf *b, const char *fmt, va_list ap);

/*
 * Hand the contents to the caller (who frees with free()) and reset the
 * buffer. Returns an empty string, never NULL, unless out of memory.
 */
char *pacer_buf_detach(struct pacer_buf *b);

/* The contents as a C string ("" when empty); borrowed until the next change. */
const char *pacer_buf_cstr(const struct pacer_buf *b);

/*
 * Room for need elements of elem bytes in the array v (NULL or from malloc)
 * of *cap elements: v itself when it has it, else v reallocated to twice
 * its size, or to `first` elements when *cap is 0, as many times as need
 * takes, and *cap updated. NULL when out of memory: v is then untouched,
 * and still the caller's to free.
 */
void *pacer_array_grow(void *v, size_t *cap, size_t need, size_t elem, size_t first);

#endif
