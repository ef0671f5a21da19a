/*
 * cache.c: the run-to-run cache (contract in cache.h).
 *
 * An open-addressing hash table of entries, each one allocation holding
 * "key\0value\0". The file format is text, one entry a line:
 *
 *   pacer-cache 1 <tag>
 *   <key>\t<value>\n
 *   ...
 *
 * (keys themselves use spaces between their parts).
 */
#include "reconcile/cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_MAGIC "pacer-cache 1 "

struct entry {
	char *kv;       /* "key\0value\0", owned; NULL = empty slot */
	uint64_t hash;
	int used;       /* looked up or added during this run */
};

struct pacer_cache {
	struct entry *slots;
	size_t nslots; /* a power of two */
	size_t n;
	size_t hits, misses;
};

static uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static uint64_t fmix(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

static void digest2(const void *data, size_t len, uint64_t *o1, uint64_t *o2)
{
	const unsigned char *p = data;
	uint64_t h1 = 0xcbf29ce484222325ULL ^ len, h2 = 0x84222325cbf29ce4ULL + len;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		h1 = rotl((h1 ^ w) * 0x100000001b3ULL, 29);
		h2 = rotl((h2 ^ w) * 0x9e3779b97f4a7c15ULL, 31) + h1;
	}
	for (; i < len; i++) {
		h1 = (h1 ^ p[i]) * 0x100000001b3ULL;
		h2 = (h2 ^ p[i]) * 0x9e3779b97f4a7c15ULL;
	}
	h1 = fmix(h1 ^ rotl(h2, 17));
	h2 = fmix(h2 ^ h1);
	*o1 = h1;
	*o2 = h2;
}

void cache_digest(const void *data, size_t len, char out[33])
{
	uint64_t a, b;

	digest2(data, len, &a, &b);
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
}

static uint64_t hash_key(const char *key)
{
	uint64_t a, b;

	digest2(key, strlen(key), &a, &b);
	return a;
}

struct pacer_cache *cache_new(void)
{
	struct pacer_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->nslots = 1024;
	c->slots = calloc(c->nslots, sizeof(*c->slots));
	if (!c->slots) {
		free(c);
		return NULL;
	}
	return c;
}

void cache_free(struct pacer_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nslots; i++)
		free(c->slots[i].kv);
	free(c->slots);
	free(c);
}

static struct entry *find(struct pacer_cache *c, const char *key, uint64_t h)
{
	size_t mask = c->nslots - 1, i = (size_t)h & mask;

	for (;;) {
		struct entry *e = &c->slots[i];

		if (!e->kv || (e->hash == h && !strcmp(e->kv, key)))
			return e;
		i = (i + 1) & mask;
	}
}

static int grow(struct pacer_cache *c)
{
	struct entry *old = c->slots;
	size_t nold = c->nslots;

	c->slots = calloc(nold * 2, sizeof(*c->slots));
	if (!c->slots) {
		c->slots = old;
		return -1;
	}
	c->nslots = nold * 2;
	for (size_t i = 0; i < nold; i++) {
		if (old[i].kv)
			*find(c, old[i].kv, old[i].hash) = old[i];
	}
	free(old);
	return 0;
}

static int has_separator(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\t' || s[i] == '\n' || s[i] == '\0')
			return 1;
	return 0;
}

/* Whether put() stores an entry read from the saved cache or one this run used. */
enum entry_state {
	ENTRY_LOADED,
	ENTRY_USED,
};

/* Store key (klen bytes) and value (vlen bytes); used marks a new entry. */
static int put(struct pacer_cache *c, const char *key, size_t klen, const char *value,
	       size_t vlen, enum entry_state state)
{
	struct entry *e;
	char *kv;
	uint64_t h;

	if ((c->n + 1) * 4 > c->nslots * 3 && grow(c))
		return -1;
	kv = malloc(klen + vlen + 2);
	if (!kv)
		return -1;
	memcpy(kv, key, klen);
	kv[klen] = '\0';
	memcpy(kv + klen + 1, value, vlen);
	kv[klen + 1 + vlen] = '\0';
	h = hash_key(kv);
	e = find(c, kv, h);
	if (e->kv) {
		free(e->kv);
	} else {
		c->n++;
	}
	e->kv = kv;
	e->hash = h;
	e->used = state == ENTRY_USED;
	return 0;
}

int cache_put(struct pacer_cache *c, const char *key, const char *value)
{
	size_t klen = strlen(key), vlen = value ? strlen(value) : 0;

	if (!klen || has_separator(key, klen) || (value && has_separator(value, vlen)))
		return 1;
	return put(c, key, klen, value ? value : "", vlen, ENTRY_USED);
}

const char *cache_get(struct pacer_cache *c, const char *key)
{
	struct entry *e;

	if (!c || !key)
		return NULL;
	e = find(c, key, hash_key(key));
	if (!e->kv) {
		c->misses++;
		return NULL;
	}
	c->hits++;
	e->used = 1;
	return e->kv + strlen(e->kv) + 1;
}

int cache_load(struct pacer_cache *c, const char *tag, const char *data, size_t len)
{
	const char *p = data, *end = data + len, *nl;
	size_t mlen = strlen(CACHE_MAGIC), tlen = strlen(tag);

	/* The header names the program that wrote the entries. */
	nl = data ? memchr(data, '\n', len) : NULL;
	if (!nl || (size_t)(nl - p) != mlen + tlen || memcmp(p, CACHE_MAGIC, mlen) ||
	    memcmp(p + mlen, tag, tlen))
		return 0;
	for (p = nl + 1; p < end; p = nl + 1) {
		const char *tab;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break; /* a torn last line */
		tab = memchr(p, '\t', (size_t)(nl - p));
		if (!tab || tab == p || memchr(p, '\0', (size_t)(nl - p)) ||
		    memchr(tab + 1, '\t', (size_t)(nl - tab - 1)))
			continue;
		if (put(c, p, (size_t)(tab - p), tab + 1, (size_t)(nl - tab - 1), ENTRY_LOADED))
			return -1;
	}
	return 0;
}

int cache_dump(struct pacer_cache *c, const char *tag, char **out, size_t *len)
{
	size_t total = strlen(CACHE_MAGIC) + strlen(tag) + 2, off;
	char *buf;

	*out = NULL;
	*len = 0;
	for (size_t i = 0; i < c->nslots; i++) {
		const char *kv = c->slots[i].kv;

		if (kv && c->slots[i].used) {
			size_t k = strlen(kv);

			total += k + strlen(kv + k + 1) + 2;
		}
	}
	buf = malloc(total);
	if (!buf)
		return -1;
	off = (size_t)sprintf(buf, "%s%s\n", CACHE_MAGIC, tag);
	for (size_t i = 0; i < c->nslots; i++) {
		const char *kv = c->slots[i].kv;
		size_t k, v;

		if (!kv || !c->slots[i].used)
			continue;
		k = strlen(kv);
		v = strlen(kv + k + 1);
		memcpy(buf + off, kv, k);
		buf[off + k] = '\t';
		memcpy(buf + off + k + 1, kv + k + 1, v);
		buf[off + k + 1 + v] = '\n';
		off += k + v + 2;
	}
	buf[off] = '\0';
	*out = buf;
	*len = off;
	return 0;
}

size_t cache_count(const struct pacer_cache *c)
{
	return c ? c->n : 0;
}

void cache_stats(const struct pacer_cache *c, size_t *hits, size_t *misses)
{
	*hits = c ? c->hits : 0;
	*misses = c ? c->misses : 0;
}
