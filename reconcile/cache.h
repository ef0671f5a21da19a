/*
 * cache.h: what earlier runs already worked out, so that a sync where
 * little changed costs little more than reading the files and the one
 * GET /v2/apps.
 *
 * The cache is a set of text entries, each a key and a value (the value
 * may be empty), kept in the state directory between runs (the state
 * store's load_cache/save_cache). Every entry states a fact that is a pure
 * function of its key, so an entry can only ever be missing, never wrong:
 *
 *   F <file key> <flags>            a file with this content loads with no
 *                                   error and no warning under these
 *                                   validation flags; value: its apps
 *                                   ("id line col" for each, space separated,
 *                                   each followed by a " >dep" token per
 *                                   dependency, for the cycle check)
 *   L <live digest>                 a live app element of GET /v2/apps with
 *                                   this digest of its bytes; value: its id
 *   P <file key> <id> <live digest> <opts>
 *                                   the desired app `id` of that file equals
 *                                   that live app (nothing to apply)
 *
 * A file key is the source's name for the file's content (a git blob id,
 * or a SHA-256 of the bytes); a live digest is a 128-bit digest of the
 * app's bytes as Marathon sent them, so any change Marathon reports
 * (definition, version, even a task count) is a different key.
 *
 * The whole cache is also tied to the program that wrote it (the tag given
 * to cache_load(), e.g. the executable's identity): another build of pacer
 * may normalise differently, so its entries are dropped.
 *
 * Entries not looked up or added during a run are dropped when it is
 * written back (cache_dump()), so the cache holds one run's worth of facts
 * and never grows without bound.
 *
 * Ownership: cache_new() returns a cache the caller frees with
 * cache_free(). Strings passed in are copied; strings handed out are
 * borrowed until the cache is freed. Not thread-safe: one run uses it from
 * one thread at a time.
 */
#ifndef PACER_CACHE_H
#define PACER_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct pacer_cache;

/* A new, empty cache, or NULL when out of memory; free with cache_free(). */
struct pacer_cache *cache_new(void);

/*
 * Fill the cache from a file's bytes written by cache_dump() with the same
 * `tag`. A different tag, a missing header or a torn line drops what cannot
 * be trusted (all of it, or that line); the cache is never an error.
 * Returns 0, or -1 when out of memory.
 */
int cache_load(struct pacer_cache *c, const char *tag, const char *data, size_t len);

/*
 * The value of `key` (borrowed; "" for an entry without value), or NULL
 * when absent. A hit keeps the entry for the next run.
 */
const char *cache_get(struct pacer_cache *c, const char *key);

/*
 * Add or replace an entry. Keys and values may not hold tabs or newlines
 * (such an entry is not stored: returns 1). Returns 0, or -1 when out of
 * memory.
 */
int cache_put(struct pacer_cache *c, const char *key, const char *value);

/*
 * The entries looked up or added since the cache was made, as file bytes
 * headed by `tag`. *out is NUL-terminated and owned by the caller (free()).
 * Returns 0, or -1 when out of memory.
 */
int cache_dump(struct pacer_cache *c, const char *tag, char **out, size_t *len);

/* Entries held, and how many lookups hit and missed (for tests and logs). */
size_t cache_count(const struct pacer_cache *c);
void cache_stats(const struct pacer_cache *c, size_t *hits, size_t *misses);

void cache_free(struct pacer_cache *c);

/*
 * A 128-bit digest of bytes as 32 hex digits plus NUL into out[33]
 * (two independently seeded 64-bit FNV-1a lanes with a final mix). Not
 * cryptographic: it tells one version of an app from another, it does not
 * resist someone who crafts collisions (who could as well edit the file).
 */
void cache_digest(const void *data, size_t len, char out[33]);

#endif
