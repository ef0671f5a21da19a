/*
 * replay.c: the bounded set of recent deliveries of replay.h.
 *
 * A ring of digests searched linearly: deliveries arrive a few per minute
 * and only signed ones are looked up, so a scan of a few thousand 16-byte
 * keys (tens of microseconds) costs less than keeping a hash index in step
 * with the ring's evictions.
 */
#include "backends/webhook/replay.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define KEY_LEN 16

struct webhook_replay {
	unsigned char (*keys)[KEY_LEN];
	size_t capacity, count, next; /* next: the slot the next delivery takes */
};

int webhook_replay_new(struct webhook_replay **out, size_t capacity)
{
	struct webhook_replay *r;

	*out = NULL;
	if (capacity == 0)
		capacity = 1;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -1;
	r->keys = calloc(capacity, KEY_LEN);
	if (!r->keys) {
		free(r);
		return -1;
	}
	r->capacity = capacity;
	*out = r;
	return 0;
}

void webhook_replay_free(struct webhook_replay *r)
{
	if (!r)
		return;
	free(r->keys);
	free(r);
}

/* SHA-256 of provider NUL event NUL id, truncated: the NULs keep the fields apart. */
static int delivery_key(enum webhook_provider provider, const char *event, const char *id,
                        unsigned char key[KEY_LEN])
{
	const char *name = webhook_provider_name(provider);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (!event)
		event = "";
	ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	     EVP_DigestUpdate(ctx, name, strlen(name) + 1) &&
	     EVP_DigestUpdate(ctx, event, strlen(event) + 1) &&
	     EVP_DigestUpdate(ctx, id, strlen(id)) && EVP_DigestFinal_ex(ctx, md, &n) &&
	     n >= KEY_LEN;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	memcpy(key, md, KEY_LEN);
	return 0;
}

int webhook_replay_check(struct webhook_replay *r, enum webhook_provider provider,
                         const char *event, const char *id)
{
	unsigned char key[KEY_LEN];

	if (delivery_key(provider, event, id, key))
		return -1;
	for (size_t i = 0; i < r->count; i++)
		if (memcmp(r->keys[i], key, KEY_LEN) == 0)
			return 1;
	memcpy(r->keys[r->next], key, KEY_LEN);
	r->next = (r->next + 1) % r->capacity;
	if (r->count < r->capacity)
		r->count++;
	return 0;
}

size_t webhook_replay_count(const struct webhook_replay *r)
{
	return r ? r->count : 0;
}
