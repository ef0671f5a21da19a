/*
 * serve_tokens.h: the bearer tokens of the `pacer serve` API (/api/v1/).
 *
 * A tokens file holds one token a line, `#` starts a comment:
 *
 *   # role     name    token
 *   viewer     grafana 3b1f...
 *   operator   alice   9c2e...
 *   admin      ops-bot 77d0...
 *
 * Roles are ordered: viewer (reads) < operator (sync, restart, cancel,
 * suspend, resume, rollback, scale) < admin (delete, and everything). A
 * name says who acted, in the log and in suspension records; the token
 * itself is never logged or kept: only its SHA-256 digest is held, and a
 * presented token is hashed and compared with every digest in constant time
 * (CRYPTO_memcmp over fixed-length digests, no early exit), so the answer
 * time says nothing about how much of a token matched.
 *
 * The file must not be readable or writable by others (mode & 007 == 0):
 * tokens_load() refuses it otherwise, so that a token file left with mode
 * 0644 never goes unnoticed.
 */
#ifndef PACER_CMD_SERVE_TOKENS_H
#define PACER_CMD_SERVE_TOKENS_H

#include <stddef.h>

#include "reconcile/base/error.h"

struct tokens;

enum token_role {
	TOKEN_NONE = 0, /* not authenticated */
	TOKEN_VIEWER = 1,
	TOKEN_OPERATOR = 2,
	TOKEN_ADMIN = 3,
};

/* "viewer", "operator", "admin" ("none" for TOKEN_NONE). Static string. */
const char *token_role_name(enum token_role r);

/*
 * Read the tokens file at path. Returns 0 and *out (free with
 * tokens_free()); PACER_EINVALID when the file is readable or writable by
 * others, a line is malformed (the message has path:line), a role is
 * unknown, a name is repeated or the file holds no token; PACER_EIO when it
 * cannot be read.
 */
int tokens_load(struct tokens **out, const char *path, struct pacer_error **err);

/* Number of tokens. */
size_t tokens_count(const struct tokens *t);

/*
 * Authenticate an HTTP Authorization header value ("Bearer <token>"; NULL
 * when absent). Returns the token's role and sets *name (borrowed, valid
 * until tokens_free()) when it matches one; TOKEN_NONE and *name NULL when
 * it is absent, malformed or matches none.
 */
enum token_role tokens_check(const struct tokens *t, const char *authorization, const char **name);

/* NULL is a no-op. */
void tokens_free(struct tokens *t);

#endif
