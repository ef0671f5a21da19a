/*
 * console_session.c: the console's sessions (console_session.h).
 *
 * A fixed table, no allocation per login: a flood of logins can only end
 * older sessions, never exhaust memory. The ids are kept as digests, as
 * the API's tokens are (serve_tokens.c), for the same reasons.
 */
#include "cmd/pacer/console_session.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct session {
	int used;
	unsigned char digest[SHA256_DIGEST_LENGTH];
	struct console_who who;
	double opened, last;
};

struct console_sessions {
	pthread_mutex_t mu;
	struct session v[CONSOLE_SESSIONS_MAX];
};

int console_sessions_new(struct console_sessions **out)
{
	struct console_sessions *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -1;
	pthread_mutex_init(&s->mu, NULL);
	*out = s;
	return 0;
}

void console_sessions_free(struct console_sessions *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s->v, sizeof(s->v));
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* 32 random bytes as 64 hex characters and a NUL. */
static int random_hex(char *out)
{
	unsigned char r[CONSOLE_SESSION_ID_LEN / 2];

	if (RAND_bytes(r, (int)sizeof(r)) != 1)
		return -1;
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	OPENSSL_cleanse(r, sizeof(r));
	return 0;
}

static double deadline(const struct session *x)
{
	double idle = x->last + CONSOLE_SESSION_IDLE_S, max = x->opened + CONSOLE_SESSION_MAX_S;

	return idle < max ? idle : max;
}

/* A free slot, or the oldest session's (which ends). Under mu. */
static struct session *slot(struct console_sessions *s, double now)
{
	struct session *oldest = &s->v[0];

	for (size_t i = 0; i < CONSOLE_SESSIONS_MAX; i++) {
		struct session *x = &s->v[i];

		if (!x->used || deadline(x) <= now)
			return x;
		if (x->opened < oldest->opened)
			oldest = x;
	}
	return oldest;
}

int console_session_open(struct console_sessions *s, const char *name, enum token_role role,
                         double now, char *id_out, struct console_who *who)
{
	struct session *x;
	char csrf[CONSOLE_SESSION_ID_LEN + 1];

	if (random_hex(id_out) || random_hex(csrf))
		return -1;
	pthread_mutex_lock(&s->mu);
	x = slot(s, now);
	memset(x, 0, sizeof(*x));
	x->used = 1;
	SHA256((const unsigned char *)id_out, strlen(id_out), x->digest);
	x->who.role = role;
	snprintf(x->who.name, sizeof(x->who.name), "%s", name);
	memcpy(x->who.csrf, csrf, sizeof(csrf));
	x->opened = x->last = now;
	x->who.expires = deadline(x);
	*who = x->who;
	pthread_mutex_unlock(&s->mu);
	OPENSSL_cleanse(csrf, sizeof(csrf));
	return 0;
}

/* The session of id (every digest compared: no early exit), or NULL. Under mu. */
static struct session *lookup(struct console_sessions *s, const char *id)
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	struct session *found = NULL;

	if (!id || strlen(id) != CONSOLE_SESSION_ID_LEN)
		return NULL;
	SHA256((const unsigned char *)id, CONSOLE_SESSION_ID_LEN, d);
	for (size_t i = 0; i < CONSOLE_SESSIONS_MAX; i++) {
		int eq = CRYPTO_memcmp(d, s->v[i].digest, sizeof(d)) == 0;

		if (eq && s->v[i].used && !found)
			found = &s->v[i];
	}
	return found;
}

int console_session_find(struct console_sessions *s, const char *id, double now,
                         struct console_who *who)
{
	struct session *x;
	int ok = 0;

	pthread_mutex_lock(&s->mu);
	x = lookup(s, id);
	if (x && deadline(x) <= now) {
		OPENSSL_cleanse(x, sizeof(*x));
	} else if (x) {
		x->last = now;
		x->who.expires = deadline(x);
		*who = x->who;
		ok = 1;
	}
	pthread_mutex_unlock(&s->mu);
	return ok;
}

void console_session_close(struct console_sessions *s, const char *id)
{
	struct session *x;

	pthread_mutex_lock(&s->mu);
	x = lookup(s, id);
	if (x)
		OPENSSL_cleanse(x, sizeof(*x));
	pthread_mutex_unlock(&s->mu);
}

size_t console_sessions_count(struct console_sessions *s)
{
	size_t n = 0;

	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < CONSOLE_SESSIONS_MAX; i++)
		n += s->v[i].used != 0;
	pthread_mutex_unlock(&s->mu);
	return n;
}

int console_csrf_ok(const char *expected, const char *sent)
{
	if (!expected || !sent || strlen(expected) != CONSOLE_SESSION_ID_LEN ||
	    strlen(sent) != CONSOLE_SESSION_ID_LEN)
		return 0;
	return CRYPTO_memcmp(expected, sent, CONSOLE_SESSION_ID_LEN) == 0;
}
