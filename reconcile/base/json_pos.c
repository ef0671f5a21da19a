/*
 * json_pos.c: find positions in JSON text that json-c already accepted.
 *
 * The scanner trusts the text to be well-formed (json-c parsed it in strict
 * mode first), so it only needs to know where strings, containers and
 * scalars end. Every loop is bounded by len, so even malformed text cannot
 * make it read out of bounds; it just gives meaningless offsets.
 */
#include "reconcile/base/json_pos.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/buf.h"

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* UTF-8 continuation bytes do not start a character, so they add no column. */
static int is_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

void json_pos_linecol(const char *data, size_t len, size_t offset, int *line, int *col)
{
	int l = 1, c = 1;

	if (offset > len)
		offset = len;
	for (size_t i = 0; i < offset; i++) {
		if (data[i] == '\n') {
			l++;
			c = 1;
		} else if (!is_cont((unsigned char)data[i])) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

int json_pos_lines_init(struct json_pos_lines *l, const char *data, size_t len)
{
	size_t n = 1, k = 1;

	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < len; i++)
		n += data[i] == '\n';
	l->starts = malloc(n * sizeof(*l->starts));
	if (!l->starts)
		return -1;
	l->starts[0] = 0;
	for (size_t i = 0; i < len; i++)
		if (data[i] == '\n')
			l->starts[k++] = i + 1;
	l->data = data;
	l->len = len;
	l->nlines = n;
	return 0;
}

void json_pos_lines_release(struct json_pos_lines *l)
{
	free(l->starts);
	memset(l, 0, sizeof(*l));
}

void json_pos_lines_get(const struct json_pos_lines *l, size_t offset, int *line, int *col)
{
	size_t lo = 0, hi = l->nlines, c = 1;

	if (offset > l->len)
		offset = l->len;
	/* Last line whose start is <= offset. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->starts[mid] <= offset)
			lo = mid;
		else
			hi = mid;
	}
	for (size_t i = l->starts[lo]; i < offset; i++)
		c += !is_cont((unsigned char)l->data[i]);
	*line = (int)(lo + 1);
	*col = (int)c;
}

size_t json_pos_skip_ws(const char *data, size_t len, size_t i)
{
	while (i < len && is_ws(data[i]))
		i++;
	return i;
}

/*
 * i is at the opening quote; returns the offset after the closing quote:
 * the first quote after an even run of backslashes (memchr finds the
 * candidates: most strings hold no escape at all).
 */
static size_t skip_string(const char *data, size_t len, size_t i)
{
	size_t start = ++i;

	while (i < len) {
		const char *q = memchr(data + i, '"', len - i);
		size_t k;

		if (!q)
			return len;
		i = (size_t)(q - data);
		for (k = i; k > start && data[k - 1] == '\\'; k--)
			;
		if ((i - k) % 2 == 0)
			return i + 1;
		i++;
	}
	return len;
}

size_t json_pos_skip_value(const char *data, size_t len, size_t i)
{
	size_t depth = 0;

	i = json_pos_skip_ws(data, len, i);
	if (i >= len)
		return len;
	if (data[i] == '"')
		return skip_string(data, len, i);
	if (data[i] != '{' && data[i] != '[') {
		while (i < len && !is_ws(data[i]) && data[i] != ',' && data[i] != '}' &&
		       data[i] != ']')
			i++;
		return i;
	}
	/* A container: count brackets, skipping strings (which may hold brackets). */
	while (i < len) {
		char c = data[i];

		if (c == '"') {
			i = skip_string(data, len, i);
			continue;
		}
		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (--depth == 0)
				return i + 1;
		}
		i++;
	}
	return len;
}

int json_pos_member(const char *data, size_t len, size_t obj_off, const char *key, size_t *out)
{
	size_t klen = strlen(key), i = json_pos_skip_ws(data, len, obj_off);
	int found = -1;

	if (i >= len || data[i] != '{')
		return -1;
	i++;
	for (;;) {
		size_t kstart, kend, vstart;

		i = json_pos_skip_ws(data, len, i);
		if (i >= len || data[i] != '"')
			break;
		kstart = i + 1;
		i = skip_string(data, len, i);
		kend = i - 1;
		i = json_pos_skip_ws(data, len, i);
		if (i >= len || data[i] != ':')
			break;
		vstart = json_pos_skip_ws(data, len, i + 1);
		/* Keep scanning after a match: json-c keeps the last duplicate. */
		if (kend >= kstart && kend - kstart == klen && !memcmp(data + kstart, key, klen)) {
			*out = vstart;
			found = 0;
		}
		i = json_pos_skip_ws(data, len, json_pos_skip_value(data, len, vstart));
		if (i >= len || data[i] != ',')
			break;
		i++;
	}
	return found;
}

int json_pos_elements(const char *data, size_t len, size_t arr_off, size_t **out, size_t *n)
{
	size_t i = json_pos_skip_ws(data, len, arr_off), cap = 0, count = 0;
	size_t *v = NULL;

	*out = NULL;
	*n = 0;
	if (i >= len || data[i] != '[')
		return -1;
	i = json_pos_skip_ws(data, len, i + 1);
	if (i < len && data[i] == ']')
		return 0;
	while (i < len) {
		size_t *nv = pacer_array_grow(v, &cap, count + 1, sizeof(*v), 16);

		if (!nv) {
			free(v);
			return -1;
		}
		v = nv;
		v[count++] = i;
		i = json_pos_skip_ws(data, len, json_pos_skip_value(data, len, i));
		if (i >= len || data[i] != ',')
			break;
		i = json_pos_skip_ws(data, len, i + 1);
	}
	*out = v;
	*n = count;
	return 0;
}

/* ---- repeated keys ------------------------------------------------------------------ */

/*
 * json_pos_duplicates() keeps the keys of every object still open in one
 * stack (`keys`): a nested object's keys are pushed above its parent's and
 * popped when it closes, so memory is bounded by the keys along one path,
 * not by the file. Keys are compared where they stand in the text; only a
 * key written with escapes is decoded (rare), so the common case allocates
 * nothing per key.
 */
struct key_rec {
	const char *k; /* the key's bytes: in the text, or `decoded` */
	size_t klen;
	size_t quote;  /* offset of its opening quote */
	size_t after;  /* offset just after its closing quote */
	char *decoded; /* owned, when the key holds escapes */
};

struct dup_scan {
	const char *data;
	size_t len;
	struct key_rec *keys;
	size_t nkeys, capkeys;
	size_t *frames; /* per open container: index of its first key, or SIZE_MAX for an array */
	size_t nframes, capframes;
	struct json_pos_dup *dups;
	size_t ndups, capdups;
};

/* Grow *v (elements of `elem` bytes) so that it holds at least need. */
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

/* Four hex digits at s (n bytes available), or -1. */
static long hex4(const char *s, size_t n)
{
	long v = 0;

	if (n < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = hexval(s[i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static size_t put_utf8(char *o, unsigned long cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * The n bytes of a string's content with escapes decoded, as json-c decodes
 * them (a surrogate pair is one code point; a lone surrogate becomes
 * U+FFFD). Every escape is at least as long as what it stands for, so n + 1
 * bytes always suffice. Caller frees; NULL when out of memory.
 */
static char *decode_string(const char *s, size_t n, size_t *outlen)
{
	/* The one-letter escapes and what they stand for. */
	static const char letters[] = "bfnrt", bytes[] = "\b\f\n\r\t";
	char *o = malloc(n + 1);
	size_t w = 0;

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *letter;
		long cp, lo;

		if (s[i] != '\\' || i + 1 >= n) {
			o[w++] = s[i];
			continue;
		}
		i++;
		if (s[i] && (letter = strchr(letters, s[i]))) {
			o[w++] = bytes[letter - letters];
			continue;
		}
		if (s[i] != 'u') {
			o[w++] = s[i];
			continue; /* \" \\ \/ */
		}
		cp = hex4(s + i + 1, n - i - 1);
		if (cp < 0) {
			o[w++] = 'u';
			continue;
		}
		i += 4;
		if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < n && s[i + 1] == '\\' &&
		    s[i + 2] == 'u' && (lo = hex4(s + i + 3, n - i - 3)) >= 0xDC00 && lo < 0xE000) {
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			i += 6;
		} else if (cp >= 0xD800 && cp < 0xE000) {
			cp = 0xFFFD;
		}
		w += put_utf8(o + w, (unsigned long)cp);
	}
	o[w] = '\0';
	*outlen = w;
	return o;
}

/* Push the key whose opening quote is at q and closing quote at end - 1. */
static int push_key(struct dup_scan *s, size_t q, size_t end)
{
	struct key_rec *r;
	const char *k = s->data + q + 1;
	size_t klen;

	if (end < q + 2)
		return 0; /* an unterminated string at the end of malformed text */
	klen = end - q - 2;
	if (!(r = pacer_array_grow(s->keys, &s->capkeys, s->nkeys + 1, sizeof(*r), 16)))
		return -1;
	s->keys = r;
	r = &s->keys[s->nkeys];
	memset(r, 0, sizeof(*r));
	r->quote = q;
	r->after = end;
	if (memchr(k, '\\', klen)) {
		if (!(r->decoded = decode_string(k, klen, &klen)))
			return -1;
		k = r->decoded;
	}
	r->k = k;
	r->klen = klen;
	s->nkeys++;
	return 0;
}

static int same_key(const struct key_rec *a, const struct key_rec *b)
{
	return a->klen == b->klen && !memcmp(a->k, b->k, a->klen);
}

/* Offset of the value of the member whose key ends at `after`. */
static size_t value_start(const struct dup_scan *s, size_t after)
{
	size_t i = json_pos_skip_ws(s->data, s->len, after);

	return json_pos_skip_ws(s->data, s->len, i < s->len && s->data[i] == ':' ? i + 1 : i);
}

static int add_dup(struct dup_scan *s, const struct key_rec *first, const struct key_rec *again)
{
	struct json_pos_dup *d;
	size_t v1 = value_start(s, first->after), v2 = value_start(s, again->after);
	size_t e1 = json_pos_skip_value(s->data, s->len, v1);
	size_t e2 = json_pos_skip_value(s->data, s->len, v2);

	if (!(d = pacer_array_grow(s->dups, &s->capdups, s->ndups + 1, sizeof(*d), 16)))
		return -1;
	s->dups = d;
	d = &s->dups[s->ndups];
	d->key = malloc(again->klen + 1);
	if (!d->key)
		return -1;
	memcpy(d->key, again->k, again->klen);
	d->key[again->klen] = '\0';
	d->keylen = again->klen;
	d->first = first->quote;
	d->again = again->quote;
	d->same_value = e1 - v1 == e2 - v2 && !memcmp(s->data + v1, s->data + v2, e1 - v1);
	s->ndups++;
	return 0;
}

static int rec_cmp(const void *pa, const void *pb)
{
	const struct key_rec *a = *(const struct key_rec *const *)pa;
	const struct key_rec *b = *(const struct key_rec *const *)pb;
	size_t n = a->klen < b->klen ? a->klen : b->klen;
	int r = memcmp(a->k, b->k, n);

	if (r)
		return r;
	if (a->klen != b->klen)
		return a->klen < b->klen ? -1 : 1;
	return a->quote < b->quote ? -1 : a->quote > b->quote;
}

/*
 * The keys from `base` up belong to an object that just closed. Most
 * objects have a handful of keys: comparing every pair beats sorting.
 */
static int check_object(struct dup_scan *s, size_t base)
{
	struct key_rec *k, **v = NULL;
	size_t n = s->nkeys - base;
	int rc = 0;

	if (n < 2)
		return 0; /* no key, or one: nothing repeats (and s->keys may still be NULL) */
	k = s->keys + base;
	if (n <= 16) {
		for (size_t j = 1; j < n && !rc; j++)
			for (size_t i = 0; i < j; i++)
				if (same_key(&k[i], &k[j])) {
					rc = add_dup(s, &k[i], &k[j]);
					break;
				}
		return rc;
	}
	/* Sorted by key then position, each run of equal keys starts with the first. */
	if (!(v = malloc(n * sizeof(*v))))
		return -1;
	for (size_t i = 0; i < n; i++)
		v[i] = &k[i];
	qsort(v, n, sizeof(*v), rec_cmp);
	for (size_t i = 1, first = 0; i < n && !rc; i++) {
		if (!same_key(v[first], v[i]))
			first = i;
		else
			rc = add_dup(s, v[first], v[i]);
	}
	free(v);
	return rc;
}

static void pop_keys(struct dup_scan *s, size_t base)
{
	while (s->nkeys > base)
		free(s->keys[--s->nkeys].decoded);
}

static int dup_cmp(const void *pa, const void *pb)
{
	const struct json_pos_dup *a = pa, *b = pb;

	return a->again < b->again ? -1 : a->again > b->again;
}

/* One container opens: its first key will be at index nkeys (objects). */
static int open_frame(struct dup_scan *s, int object)
{
	size_t *frames = pacer_array_grow(s->frames, &s->capframes, s->nframes + 1,
					  sizeof(*frames), 16);

	if (!frames)
		return -1;
	s->frames = frames;
	s->frames[s->nframes++] = object ? s->nkeys : SIZE_MAX;
	return 0;
}

/* One container closes; an object's keys are compared, then dropped. */
static int close_frame(struct dup_scan *s)
{
	size_t base;
	int rc = 0;

	if (!s->nframes)
		return 0; /* malformed text: nothing open */
	base = s->frames[--s->nframes];
	if (base != SIZE_MAX) {
		rc = check_object(s, base);
		pop_keys(s, base);
	}
	return rc;
}

int json_pos_duplicates(const char *data, size_t len, struct json_pos_dup **out, size_t *n)
{
	struct dup_scan s = {.data = data, .len = len};
	int expect_key = 0, rc = 0;

	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < len && !rc; i++) {
		size_t end;

		switch (data[i]) {
		case '"':
			end = skip_string(data, len, i);
			if (expect_key)
				rc = push_key(&s, i, end);
			expect_key = 0;
			i = end - 1;
			break;
		case '{':
		case '[':
			rc = open_frame(&s, data[i] == '{');
			expect_key = data[i] == '{';
			break;
		case '}':
		case ']':
			rc = close_frame(&s);
			expect_key = 0;
			break;
		case ',':
			expect_key = s.nframes && s.frames[s.nframes - 1] != SIZE_MAX;
			break;
		default:
			break;
		}
	}
	pop_keys(&s, 0);
	free(s.keys);
	free(s.frames);
	if (rc) {
		json_pos_dups_free(s.dups, s.ndups);
		return -1;
	}
	if (s.ndups > 1)
		qsort(s.dups, s.ndups, sizeof(*s.dups), dup_cmp);
	*out = s.dups;
	*n = s.ndups;
	return 0;
}

void json_pos_dups_free(struct json_pos_dup *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].key);
	free(v);
}
