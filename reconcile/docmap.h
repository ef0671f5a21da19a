/*
 * docmap.h: a small durable map of app id -> JSON record, kept as one
 * document of the state store (struct pacer_state_store's doc_* methods)
 * and rewritten whole after each change. The home of held failures
 * (held.h: "held.json") and suspended apps (suspend.h: "suspended.json").
 *
 * Thread-safe: every function takes the map's lock. A store without
 * documents (or NULL) gives a map that lives in memory only.
 */
#ifndef PACER_DOCMAP_H
#define PACER_DOCMAP_H

#include "reconcile/base/error.h"
#include "reconcile/run.h"

struct docmap;
struct json_object;

/*
 * Read document `doc` of s (an empty map when it does not exist). A
 * document that is not a JSON object is an error naming it, with `what`
 * saying what it holds and how to recover ("delete it to ..."). *out is
 * freed with docmap_free().
 */
int docmap_open(struct pacer_state_store *s, const char *doc, const char *what,
		struct docmap **out, struct pacer_error **err);
void docmap_free(struct docmap *m);

/* The record of key, borrowed until the next change of that key; NULL when none. */
struct json_object *docmap_get(struct docmap *m, const char *key);

/* Set key's record (the reference to val is taken) and write durably. */
int docmap_put(struct docmap *m, const char *key, struct json_object *val,
	       struct pacer_error **err);

/* Remove key, writing durably when it was there. */
int docmap_drop(struct docmap *m, const char *key, struct pacer_error **err);

/* Remove every key for which keep(ctx, key) is 0, in one write. */
int docmap_prune(struct docmap *m, int (*keep)(void *ctx, const char *key), void *ctx,
		 struct pacer_error **err);

/* The keys, sorted (free with pacer_strv_free()); NULL when out of memory. */
char **docmap_keys(struct docmap *m);

#endif
