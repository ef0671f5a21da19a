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
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

/*
 * The '\n' in data[0, len): their count; with starts, the offset after
 * each is stored there. Messages about a group file of hundreds of apps
 * index all its lines: 16 bytes at a time.
 */
static size_t newlines(const char *data, size_t len, size_t *starts)
{
	size_t n = 0, i = 0;

#if defined(__SSE2__)
	const __m128i nl = _mm_set1_epi8('\n');

	for (; i + 16 <= len; i += 16) {
		unsigned m = (unsigned)_mm_movemask_epi8(
		    _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(data + i)), nl));

		for (; m; m &= m - 1, n++)
			if (starts)
				starts[n] = i + (unsigned)__builtin_ctz(m) + 1;
	}
#endif
	for (; i < len; i++) {
		if (data[i] == '\n') {
			if (starts)
				starts[n] = i + 1;
			n++;
		}
	}
	return n;
}

void json_pos_linecol(const char *data, size_t len, size_t offset, int *line, int *col)
{
	size_t start = offset > len ? len : offset, c = 1;

	offset = start;
	while (start > 0 && data[start - 1] != '\n')
		start--;
	for (size_t i = start; i < offset; i++)
		c += !is_cont((unsigned char)data[i]);
	*line = (int)(newlines(data, start, NULL) + 1);
	*col = (int)c;
}

int json_pos_lines_init(struct json_pos_lines *l, const char *data, size_t len)
{
	size_t n = newlines(data, len, NULL) + 1;

	memset(l, 0, sizeof(*l));
	l->starts = malloc(n * sizeof(*l->starts));
	if (!l->starts)
		return -1;
	l->starts[0] = 0;
	newlines(data, len, l->starts + 1);
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

/* ---- scanning 64 bytes at a time --------------------------------------------------- */

/*
 * Splitting GET /v2/apps (25 MB at 10,000 apps) and reading each app's
 * health skip every byte of the reply twice, and every desired file is
 * scanned once for what json-c lets through: a byte at a time, that was
 * ~9 instructions per byte. Instead each block of 64 bytes is turned into
 * bit masks (bit k = byte k): its quotes and two classes chosen by the
 * caller. Which bytes are inside strings then follows from the quotes
 * with a few shifts (a prefix XOR), and only the set bits of the masks
 * that matter are visited one by one. Backslashes are rare: a block only
 * says whether it holds one, and only then are they followed.
 *
 * The meaning is that of a byte-at-a-time reader, kept exactly: outside a
 * string every '"' opens one and a backslash means nothing; inside one, a
 * backslash escapes the byte after it, whatever it is, and the first
 * unescaped '"' closes it. Text that ends inside a string stays inside.
 */
enum block_kind {
	BLOCK_BRACKETS, /* a: '{', '[', '}' or ']'; b: nothing */
	BLOCK_TEXT,     /* a: ':'; b: a control character (below 0x20) */
};

struct block {
	const unsigned char *s; /* the 64 bytes */
	uint64_t quote, a, b;
	int bslash; /* whether a backslash is among them */
};

#if defined(__SSE2__)
static inline uint64_t movemask(__m128i v)
{
	return (unsigned)_mm_movemask_epi8(v); /* 16 bits, zero-extended */
}

/* Bytes equal to c among the 16 at p. */
static inline uint64_t eq16(const unsigned char *p, char c)
{
	return movemask(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)p),
				       _mm_set1_epi8(c)));
}

/* The masks of the 16 bytes at p, into *b at bit `at`; *bs collects backslashes. */
static inline void classify16(const unsigned char *p, enum block_kind kind, struct block *b,
			      unsigned at, __m128i *bs)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);

	*bs = _mm_or_si128(*bs, _mm_cmpeq_epi8(x, _mm_set1_epi8('\\')));
	b->quote |= movemask(_mm_cmpeq_epi8(x, _mm_set1_epi8('"'))) << at;
	if (kind == BLOCK_BRACKETS) {
		/* '[' and ']' are '{' and '}' without bit 0x20. */
		__m128i y = _mm_or_si128(x, _mm_set1_epi8(0x20));

		b->a |= movemask(_mm_or_si128(_mm_cmpeq_epi8(y, _mm_set1_epi8('{')),
					      _mm_cmpeq_epi8(y, _mm_set1_epi8('}'))))
			<< at;
	} else {
		b->a |= movemask(_mm_cmpeq_epi8(x, _mm_set1_epi8(':'))) << at;
		/* Unsigned x <= 0x1F: the smaller of the two is x itself. */
		b->b |= movemask(_mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1F)), x)) << at;
	}
}

static inline void classify(const unsigned char *s, enum block_kind kind, struct block *b)
{
	__m128i bs = _mm_setzero_si128();

	/* Written out four times: a loop here is not always unrolled. */
	classify16(s, kind, b, 0, &bs);
	classify16(s + 16, kind, b, 16, &bs);
	classify16(s + 32, kind, b, 32, &bs);
	classify16(s + 48, kind, b, 48, &bs);
	b->bslash = _mm_movemask_epi8(bs) != 0;
}

static uint64_t backslashes(const unsigned char *s)
{
	return eq16(s, '\\') | eq16(s + 16, '\\') << 16 | eq16(s + 32, '\\') << 32 |
	       eq16(s + 48, '\\') << 48;
}
#else
/* Without SSE2, the same masks a byte at a time. */
static inline void classify(const unsigned char *s, enum block_kind kind, struct block *b)
{
	for (unsigned j = 0; j < 64; j++) {
		unsigned char c = s[j];
		int a = kind == BLOCK_BRACKETS ? (c | 0x20) == '{' || (c | 0x20) == '}' : c == ':';

		b->quote |= (uint64_t)(c == '"') << j;
		b->a |= (uint64_t)a << j;
		b->b |= (uint64_t)(kind == BLOCK_TEXT && c < 0x20) << j;
		b->bslash |= c == '\\';
	}
}

static uint64_t backslashes(const unsigned char *s)
{
	uint64_t m = 0;

	for (unsigned j = 0; j < 64; j++)
		m |= (uint64_t)(s[j] == '\\') << j;
	return m;
}
#endif

/*
 * The masks of the 64 bytes at p, of which n are there. When n < 64 they
 * are copied to pad (the caller's 64 bytes, never a read past the buffer),
 * the rest zeros, and no bit past n is set.
 */
static inline void block_load(const char *p, size_t n, enum block_kind kind,
			      unsigned char pad[64], struct block *b)
{
	const unsigned char *s = (const unsigned char *)p;

	if (n < 64) {
		memset(pad, 0, 64);
		memcpy(pad, p, n);
		s = pad;
	}
	b->s = s;
	b->quote = b->a = b->b = 0;
	b->bslash = 0;
	classify(s, kind, b);
	if (n < 64) {
		uint64_t valid = ((uint64_t)1 << n) - 1;

		b->quote &= valid;
		b->a &= valid;
		b->b &= valid;
	}
}

/* Where a block starts: inside a string or not, its first byte escaped or not. */
struct str_state {
	int in;
	int esc;
};

/*
 * The quotes of a block that holds backslashes (or starts escaped) which
 * open or close a string, following quotes and backslashes one by one;
 * *escaped gets the bytes a backslash escapes. (Padding is zeros, so a
 * backslash found here is a real one.)
 */
static uint64_t real_quotes_slow(const unsigned char *bytes, uint64_t quote, int bslash,
			       struct str_state *st, uint64_t *escaped)
{
	uint64_t real = 0, esc = st->esc ? 1 : 0, s = quote | (bslash ? backslashes(bytes) : 0);
	int in = st->in;

	st->esc = 0;
	while (s) {
		uint64_t bit = s & -s;

		s ^= bit;
		if (esc & bit)
			continue;
		if (quote & bit) {
			real |= bit;
			in = !in;
		} else if (in) {
			if (bit >> 63)
				st->esc = 1; /* the next block's first byte */
			else
				esc |= bit << 1;
		}
	}
	*escaped = esc;
	return real;
}

/*
 * Bit k set when byte k of the block is inside a string (an opening quote
 * is, a closing one is not); st moves to the next block.
 */
static inline uint64_t string_mask(const struct block *b, struct str_state *st, uint64_t *escaped)
{
	uint64_t m = b->quote;

	*escaped = 0;
	if (b->bslash || st->esc)
		m = real_quotes_slow(b->s, b->quote, b->bslash, st, escaped);
	/* Bit k becomes the parity of the real quotes at or before k. */
	m ^= m << 1;
	m ^= m << 2;
	m ^= m << 4;
	m ^= m << 8;
	m ^= m << 16;
	m ^= m << 32;
	if (st->in)
		m = ~m;
	st->in = (int)(m >> 63);
	return m;
}

static inline unsigned lowest_bit(uint64_t m)
{
	return (unsigned)__builtin_ctzll(m);
}

/* Offset of the first '"' or '\\' at or after i, or len. */
static inline size_t next_quote_or_bslash(const char *data, size_t len, size_t i)
{
#if defined(__SSE2__)
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');

	for (; i + 16 <= len; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(data + i));
		unsigned m = (unsigned)_mm_movemask_epi8(
		    _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)));

		if (m)
			return i + (unsigned)__builtin_ctz(m);
	}
#endif
	for (; i < len; i++)
		if (data[i] == '"' || data[i] == '\\')
			return i;
	return len;
}

/*
 * i is at the opening quote; returns the offset after the closing quote, or
 * len. Most strings here are short keys and values: a 16-byte search for
 * the next quote or backslash, then a backslash skips the byte it escapes.
 */
static size_t skip_string(const char *data, size_t len, size_t i)
{
	for (i = next_quote_or_bslash(data, len, i + 1); i < len;
	     i = next_quote_or_bslash(data, len, i + 2))
		if (data[i] == '"')
			return i + 1;
	return len;
}

/* i is at '{' or '['; the offset after the bracket that closes it, or len. */
static size_t skip_container(const char *data, size_t len, size_t i)
{
	struct str_state st = {0, 0};
	unsigned char pad[64];
	size_t depth = 0;

	/* "[]" and "{}" are common and need no block. */
	if (i + 1 < len && (data[i + 1] == '}' || data[i + 1] == ']'))
		return i + 2;
	for (size_t pos = i; pos < len; pos += 64) {
		struct block b;
		uint64_t escaped, br;

		block_load(data + pos, len - pos, BLOCK_BRACKETS, pad, &b);
		br = b.a & ~string_mask(&b, &st, &escaped);
		/* Brackets count alike ('{' closed by ']' too: the text is trusted);
		 * bit 0x02 is set in '{' and '[', clear in '}' and ']'. */
		for (; br; br &= br - 1) {
			unsigned k = lowest_bit(br);

			if (b.s[k] & 0x02)
				depth++;
			else if (--depth == 0)
				return pos + k + 1;
		}
	}
	return len;
}

size_t json_pos_skip_value(const char *data, size_t len, size_t i)
{
	i = json_pos_skip_ws(data, len, i);
	if (i >= len)
		return len;
	if (data[i] == '"')
		return skip_string(data, len, i);
	if (data[i] == '{' || data[i] == '[')
		return skip_container(data, len, i);
	while (i < len && !is_ws(data[i]) && data[i] != ',' && data[i] != '}' && data[i] != ']')
		i++;
	return i;
}

size_t json_pos_scan_strings(const char *data, size_t len, size_t *colons)
{
	struct str_state st = {0, 0};
	unsigned char pad[64];
	size_t n = 0;

	for (size_t pos = 0; pos < len; pos += 64) {
		struct block b;
		uint64_t escaped, in, ctrl, outside;

		block_load(data + pos, len - pos, BLOCK_TEXT, pad, &b);
		in = string_mask(&b, &st, &escaped);
		ctrl = b.b & in & ~escaped;
		outside = b.a & ~in;
		if (ctrl)
			outside &= (ctrl & -ctrl) - 1; /* only the colons before it */
		for (; outside; outside &= outside - 1)
			n++;
		if (ctrl) {
			*colons = n;
			return pos + lowest_bit(ctrl);
		}
	}
	*colons = n;
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
