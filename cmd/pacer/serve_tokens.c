/*
 * serve_tokens.c: the API's bearer tokens (serve_tokens.h).
 *
 * Only digests are kept: a heap dump or a core file of the service does
 * not hold the tokens, and every comparison is between 32-byte values, so
 * it takes the same time whatever the presented token's length.
 */
#include "cmd/pacer/serve_tokens.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "reconcile/base/buf.h"

#define TOKENS_FILE_MAX (1u << 20)
#define TOKEN_MIN_LEN 16 /* shorter tokens are guessable: refused */
#define NAME_MAX_LEN 64

struct token {
	enum token_role role;
	char name[NAME_MAX_LEN + 1];
	unsigned char digest[SHA256_DIGEST_LENGTH];
};

struct tokens {
	struct token *v;
	size_t n;
};

/* The roles by enum token_role: the first word of a tokens file's line, and the log's. */
static const char *const role_names[] = {
	[TOKEN_NONE] = "none",
	[TOKEN_VIEWER] = "viewer",
	[TOKEN_OPERATOR] = "operator",
	[TOKEN_ADMIN] = "admin",
};
#define NROLES (sizeof(role_names) / sizeof(role_names[0]))

const char *token_role_name(enum token_role r)
{
	return (size_t)r < NROLES ? role_names[r] : "none";
}

/* "none" is no role a file may give: TOKEN_NONE, like an unknown word. */
static enum token_role role_parse(const char *s)
{
	for (size_t r = TOKEN_VIEWER; r < NROLES; r++)
		if (!strcmp(s, role_names[r]))
			return (enum token_role)r;
	return TOKEN_NONE;
}

/* Split line in place into at most 4 words (the 4th means "too many"). */
static int split_words(char *line, char **w)
{
	int n = 0;

	for (char *p = line; *p && n < 4;) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		w[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	return n;
}

/* One non-comment line into t->v[t->n]. */
static int parse_line(struct tokens *t, const char *path, int lineno, char *line,
                      struct pacer_error **err)
{
	char *w[4];
	int n = split_words(line, w);
	struct token *k = &t->v[t->n];

	if (n == 0)
		return 0;
	if (n != 3)
		return pacer_error_set(err, PACER_EINVALID,
		                       "%s:%d: expected 'ROLE NAME TOKEN' (three words)", path,
		                       lineno);
	k->role = role_parse(w[0]);
	if (k->role == TOKEN_NONE)
		return pacer_error_set(err, PACER_EINVALID,
		                       "%s:%d: unknown role '%.32s': use viewer, operator or admin",
		                       path, lineno, w[0]);
	if (strlen(w[1]) > NAME_MAX_LEN)
		return pacer_error_set(err, PACER_EINVALID, "%s:%d: name longer than %d bytes",
		                       path, lineno, NAME_MAX_LEN);
	if (strlen(w[2]) < TOKEN_MIN_LEN)
		return pacer_error_set(err, PACER_EINVALID,
		                       "%s:%d: token shorter than %d characters: generate one with "
		                       "'openssl rand -hex 32'",
		                       path, lineno, TOKEN_MIN_LEN);
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].name, w[1]))
			return pacer_error_set(
			    err, PACER_EINVALID,
			    "%s:%d: name '%s' is used twice: names say who acted", path, lineno,
			    w[1]);
	snprintf(k->name, sizeof(k->name), "%s", w[1]);
	SHA256((const unsigned char *)w[2], strlen(w[2]), k->digest);
	OPENSSL_cleanse(w[2], strlen(w[2]));
	t->n++;
	return 0;
}

/* Refuse a file others may read or change: the tokens are the API's keys. */
static int check_mode(FILE *f, const char *path, struct pacer_error **err)
{
	struct stat st;

	if (fstat(fileno(f), &st) != 0)
		return pacer_error_set(err, PACER_EIO, "cannot stat tokens file %s: %s", path,
		                       strerror(errno));
	if (st.st_mode & (S_IRWXO))
		return pacer_error_set(err, PACER_EINVALID,
		                       "tokens file %s is accessible to other users (mode %04o): "
		                       "run 'chmod 600 %s' (or 640 with a group for pacer)",
		                       path, (unsigned)(st.st_mode & 07777), path);
	return 0;
}

static int read_all(FILE *f, const char *path, struct pacer_buf *b, struct pacer_error **err)
{
	char chunk[4096];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (pacer_buf_add(b, chunk, n))
			return pacer_error_set(err, PACER_EINVALID,
			                       "tokens file %s is larger than %u bytes", path,
			                       TOKENS_FILE_MAX);
	if (ferror(f))
		return pacer_error_set(err, PACER_EIO, "cannot read tokens file %s: %s", path,
		                       strerror(errno));
	return 0;
}

int tokens_load(struct tokens **out, const char *path, struct pacer_error **err)
{
	struct pacer_buf b;
	struct tokens *t = NULL;
	FILE *f = NULL;
	size_t lines = 1;
	int rc, lineno = 0;
	char *p, *nl;

	*out = NULL;
	pacer_buf_init(&b, TOKENS_FILE_MAX);
	f = fopen(path, "re");
	if (!f) {
		rc = pacer_error_set(err, PACER_EIO,
		                     "cannot open tokens file %s: %s: check --tokens-file "
		                     "(PACER_TOKENS_FILE)",
		                     path, strerror(errno));
		goto done;
	}
	if ((rc = check_mode(f, path, err)) || (rc = read_all(f, path, &b, err)))
		goto done;
	for (size_t i = 0; i < b.len; i++)
		lines += b.ptr[i] == '\n';
	t = calloc(1, sizeof(*t));
	if (!t || !(t->v = calloc(lines, sizeof(*t->v)))) {
		rc = pacer_error_set(err, PACER_EGENERIC, "out of memory");
		goto done;
	}
	for (p = b.len ? b.ptr : NULL; p && !rc; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		lineno++;
		if (nl && nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		if (strchr(p, '#'))
			*strchr(p, '#') = '\0';
		rc = parse_line(t, path, lineno, p, err);
	}
	if (!rc && t->n == 0)
		rc = pacer_error_set(err, PACER_EINVALID,
		                     "tokens file %s holds no token: add lines 'ROLE NAME TOKEN'",
		                     path);
done:
	if (f)
		fclose(f);
	if (b.ptr)
		OPENSSL_cleanse(b.ptr, b.alloc);
	pacer_buf_release(&b);
	if (rc)
		tokens_free(t);
	else
		*out = t;
	return rc;
}

size_t tokens_count(const struct tokens *t)
{
	return t ? t->n : 0;
}

enum token_role tokens_check(const struct tokens *t, const char *authorization, const char **name)
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	enum token_role role = TOKEN_NONE;
	const char *tok;

	*name = NULL;
	if (!t || !authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return TOKEN_NONE;
	tok = authorization + 7;
	while (*tok == ' ')
		tok++;
	if (!*tok)
		return TOKEN_NONE;
	/* Hashed first: what is compared has the same length whatever was sent. */
	SHA256((const unsigned char *)tok, strlen(tok), d);
	/* Every digest is compared, matched or not: no early exit. */
	for (size_t i = 0; i < t->n; i++) {
		int eq = CRYPTO_memcmp(d, t->v[i].digest, sizeof(d)) == 0;

		if (eq && role == TOKEN_NONE) {
			role = t->v[i].role;
			*name = t->v[i].name;
		}
	}
	return role;
}

void tokens_free(struct tokens *t)
{
	if (!t)
		return;
	/* The digests stand for the tokens: wiped, like a secret. */
	if (t->v)
		OPENSSL_cleanse(t->v, t->n * sizeof(*t->v));
	free(t->v);
	free(t);
}
