#include "backends/git/knownhosts.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/buf.h"

/*
 * A small SHA-1 (FIPS 180-1). pacer_git links libgit2 only, and the one
 * thing we need a hash for is OpenSSH's hashed host names (HMAC-SHA1), so a
 * hundred lines here beat pulling libcrypto into the backend.
 */
#define SHA1_BLOCK 64       /* bytes per SHA-1 block, also HMAC's key block */

struct sha1_ctx {
	uint32_t h[5];
	uint64_t len;
	unsigned char block[SHA1_BLOCK];
	size_t used;
};

static uint32_t rol32(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static void sha1_block(struct sha1_ctx *c, const unsigned char *p)
{
	uint32_t w[80], a, b, d, e, f, k, t, cc;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = c->h[0];
	b = c->h[1];
	cc = c->h[2];
	d = c->h[3];
	e = c->h[4];
	for (int i = 0; i < 80; i++) {
		if (i < 20) {
			f = (b & cc) | (~b & d);
			k = 0x5A827999;
		} else if (i < 40) {
			f = b ^ cc ^ d;
			k = 0x6ED9EBA1;
		} else if (i < 60) {
			f = (b & cc) | (b & d) | (cc & d);
			k = 0x8F1BBCDC;
		} else {
			f = b ^ cc ^ d;
			k = 0xCA62C1D6;
		}
		t = rol32(a, 5) + f + e + k + w[i];
		e = d;
		d = cc;
		cc = rol32(b, 30);
		b = a;
		a = t;
	}
	c->h[0] += a;
	c->h[1] += b;
	c->h[2] += cc;
	c->h[3] += d;
	c->h[4] += e;
}

static void sha1_init(struct sha1_ctx *c)
{
	static const uint32_t iv[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};

	memcpy(c->h, iv, sizeof(iv));
	c->len = 0;
	c->used = 0;
}

static void sha1_update(struct sha1_ctx *c, const void *data, size_t len)
{
	const unsigned char *p = data;

	c->len += len;
	while (len) {
		size_t n = SHA1_BLOCK - c->used;

		if (n > len)
			n = len;
		memcpy(c->block + c->used, p, n);
		c->used += n;
		p += n;
		len -= n;
		if (c->used == SHA1_BLOCK) {
			sha1_block(c, c->block);
			c->used = 0;
		}
	}
}

static void sha1_final(struct sha1_ctx *c, unsigned char out[GITSRC_SHA1_LEN])
{
	uint64_t bits = c->len * 8;
	unsigned char pad = 0x80, zero = 0, lenbuf[8];

	sha1_update(c, &pad, 1);
	while (c->used != 56)
		sha1_update(c, &zero, 1);
	for (int i = 0; i < 8; i++)
		lenbuf[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_update(c, lenbuf, 8);
	for (int i = 0; i < 5; i++) {
		out[4 * i] = (unsigned char)(c->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)c->h[i];
	}
}

void gitsrc__sha1(const void *data, size_t len, unsigned char out[GITSRC_SHA1_LEN])
{
	struct sha1_ctx c;

	sha1_init(&c);
	sha1_update(&c, data, len);
	sha1_final(&c, out);
}

static void hmac_sha1(const unsigned char *key, size_t key_len, const void *msg, size_t msg_len,
                      unsigned char out[GITSRC_SHA1_LEN])
{
	unsigned char k[SHA1_BLOCK] = {0}, ipad[SHA1_BLOCK], opad[SHA1_BLOCK],
	              inner[GITSRC_SHA1_LEN];
	struct sha1_ctx c;

	if (key_len > SHA1_BLOCK)
		gitsrc__sha1(key, key_len, k);
	else
		memcpy(k, key, key_len);
	for (int i = 0; i < SHA1_BLOCK; i++) {
		ipad[i] = k[i] ^ 0x36;
		opad[i] = k[i] ^ 0x5c;
	}
	sha1_init(&c);
	sha1_update(&c, ipad, SHA1_BLOCK);
	sha1_update(&c, msg, msg_len);
	sha1_final(&c, inner);
	sha1_init(&c);
	sha1_update(&c, opad, SHA1_BLOCK);
	sha1_update(&c, inner, GITSRC_SHA1_LEN);
	sha1_final(&c, out);
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t gitsrc__base64_encode(const unsigned char *data, size_t len, enum gitsrc__b64_pad pad,
                             char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16;
		size_t n = len - i;

		if (n > 1)
			v |= (uint32_t)data[i + 1] << 8;
		if (n > 2)
			v |= data[i + 2];
		out[o++] = b64chars[(v >> 18) & 63];
		out[o++] = b64chars[(v >> 12) & 63];
		if (n > 1)
			out[o++] = b64chars[(v >> 6) & 63];
		else if (pad == GITSRC_B64_PAD)
			out[o++] = '=';
		if (n > 2)
			out[o++] = b64chars[v & 63];
		else if (pad == GITSRC_B64_PAD)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

int gitsrc__base64_decode(const char *text, size_t text_len, unsigned char **out, size_t *out_len)
{
	unsigned char *buf = malloc(text_len / 4 * 3 + 3);
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0, i;

	if (!buf)
		return -1;
	for (i = 0; i < text_len && text[i] != '=' && !isspace((unsigned char)text[i]); i++) {
		const char *pos = strchr(b64chars, text[i]);

		if (!pos || !text[i]) {
			free(buf);
			return -1;
		}
		acc = acc << 6 | (uint32_t)(pos - b64chars);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (unsigned char)(acc >> bits);
		}
	}
	*out = buf;
	*out_len = n;
	return 0;
}

/* OpenSSH's match_pattern(): '*' and '?' only, case-insensitive. */
static int wildmatch(const char *pat, const char *s)
{
	for (;;) {
		if (!*pat)
			return !*s;
		if (*pat == '*') {
			while (*pat == '*')
				pat++;
			if (!*pat)
				return 1;
			for (; *s; s++)
				if (wildmatch(pat, s))
					return 1;
			return 0;
		}
		if (!*s)
			return 0;
		if (*pat != '?' && tolower((unsigned char)*pat) != tolower((unsigned char)*s))
			return 0;
		pat++;
		s++;
	}
}

/* Does the host field of a known_hosts line name `name` (already lower-case)? */
static int hosts_match(char *field, const char *name)
{
	int positive = 0;

	/* "|1|salt|hash": HMAC-SHA1 keyed with the salt, over the name (see the header). */
	if (!strncmp(field, "|1|", 3)) {
		char *salt64 = field + 3, *hash64 = strchr(salt64, '|');
		unsigned char *salt = NULL, *hash = NULL, mac[GITSRC_SHA1_LEN];
		size_t salt_len, hash_len;
		int ok = 0;

		if (!hash64)
			return 0;
		if (!gitsrc__base64_decode(salt64, (size_t)(hash64 - salt64), &salt, &salt_len) &&
		    !gitsrc__base64_decode(hash64 + 1, strlen(hash64 + 1), &hash, &hash_len) &&
		    hash_len == GITSRC_SHA1_LEN) {
			hmac_sha1(salt, salt_len, name, strlen(name), mac);
			ok = !memcmp(mac, hash, GITSRC_SHA1_LEN);
		}
		free(salt);
		free(hash);
		return ok;
	}
	for (char *pat = field, *next; pat; pat = next) {
		int negate = 0;

		next = strchr(pat, ',');
		if (next)
			*next++ = '\0';
		if (*pat == '!') {
			negate = 1;
			pat++;
		}
		if (wildmatch(pat, name)) {
			if (negate)
				return 0; /* a negated match rules the whole line out */
			positive = 1;
		}
	}
	return positive;
}

/*
 * The key type named inside an ssh key blob ("ssh-ed25519"), or "unknown".
 * The blob starts with the type as an ssh string (a 32-bit big-endian
 * length, then the bytes), so no key parsing is needed to word a message.
 */
static void blob_type(const unsigned char *blob, size_t len, char *out, size_t out_size)
{
	uint32_t n;

	snprintf(out, out_size, "unknown");
	if (len < 4)
		return;
	n = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3];
	if (n == 0 || n > len - 4 || n >= out_size)
		return;
	memcpy(out, blob + 4, n);
	out[n] = '\0';
}

static char *next_token(char **cursor)
{
	char *p = *cursor, *start;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return NULL;
	start = p;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	if (*p)
		*p++ = '\0';
	*cursor = p;
	return start;
}

/*
 * What the server presented. libssh2 gives either the key blob itself or
 * only its SHA-1; the two public entry points differ in nothing else, so
 * they describe the key here and share one scan of the file.
 */
enum key_form {
	KEY_BLOB, /* data is the ssh wire-format key */
	KEY_SHA1, /* data is the SHA-1 of that blob (GITSRC_SHA1_LEN bytes) */
};

struct presented_key {
	enum key_form form;
	const unsigned char *data;
	size_t len;
	char type[64]; /* "ssh-ed25519"; "unknown" when only the hash is known */
};

/* The host as known_hosts names it, and what ssh-keyscan needs to reach it. */
struct target {
	const char *path, *host;
	char name[600];          /* "host" or "[host]:port", lower-case */
	char port_opt[32];       /* "-p 2222 " or "" */
	const char *fp, *fp_pre; /* " SHA256:..." for messages, or two empty strings */
};

/* What the lines naming the host said, over the whole file. */
struct tally {
	int found;                    /* a non-revoked line lists exactly this key */
	int revoked;                  /* a @revoked line lists this key */
	int listed;                   /* some non-revoked line names the host */
	int same_type_listed;         /* ... with a key of the presented type */
	struct pacer_buf other_types; /* the other key types listed, "a, b" */
};

static void target_init(struct target *t, const char *path, const char *host, int port,
                        const char *fingerprint)
{
	t->path = path;
	t->host = host;
	t->port_opt[0] = '\0';
	/* OpenSSH writes a non-default port as "[host]:port" and matches the whole string. */
	if (port > 0 && port != GITSRC_SSH_DEFAULT_PORT) {
		snprintf(t->name, sizeof(t->name), "[%s]:%d", host, port);
		snprintf(t->port_opt, sizeof(t->port_opt), "-p %d ", port);
	} else {
		snprintf(t->name, sizeof(t->name), "%s", host);
	}
	for (char *p = t->name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	t->fp = fingerprint ? fingerprint : "";
	t->fp_pre = fingerprint ? " " : "";
}

static int key_equals(const struct presented_key *k, const unsigned char *blob, size_t len)
{
	unsigned char h[GITSRC_SHA1_LEN];

	if (k->form == KEY_BLOB)
		return len == k->len && !memcmp(blob, k->data, len);
	gitsrc__sha1(blob, len, h);
	return !memcmp(h, k->data, GITSRC_SHA1_LEN);
}

/*
 * Fold one known_hosts line into the tally. Lines that are comments, carry
 * a marker other than @revoked, do not parse or do not name the host are
 * left out: OpenSSH skips what it cannot read rather than failing.
 */
static void tally_line(struct tally *t, char *line, const char *name, const struct presented_key *k)
{
	char *cur = line, *tok, *type, *b64;
	unsigned char *blob = NULL;
	size_t blob_len = 0;
	int is_revoked = 0, same;

	line[strcspn(line, "\r\n")] = '\0';
	tok = next_token(&cur);
	if (!tok || *tok == '#')
		return;
	if (*tok == '@') {
		if (strcmp(tok, "@revoked"))
			return; /* @cert-authority: host certificates, not supported */
		is_revoked = 1;
		tok = next_token(&cur);
	}
	type = next_token(&cur);
	b64 = next_token(&cur);
	if (!tok || !type || !b64 || gitsrc__base64_decode(b64, strlen(b64), &blob, &blob_len))
		return;
	if (!hosts_match(tok, name)) {
		free(blob);
		return;
	}
	same = key_equals(k, blob, blob_len);
	free(blob);
	if (is_revoked) {
		t->revoked |= same;
		return;
	}
	t->listed = 1;
	t->found |= same;
	if (!strcmp(type, k->type))
		t->same_type_listed = 1;
	else if (!strstr(pacer_buf_cstr(&t->other_types), type))
		pacer_buf_printf(&t->other_types, "%s%s", t->other_types.len ? ", " : "", type);
}

/* The refusal for a tally without an accepted key: what is wrong and what to run. */
static int refusal(const struct target *t, const struct presented_key *k, const struct tally *ty,
                   struct pacer_error **err)
{
	if (ty->revoked)
		return pacer_error_set(
		    err, PACER_EAUTH,
		    "the ssh host key%s%s of %s is marked @revoked in %s: refusing "
		    "to connect; ask the server's administrator for its current key",
		    t->fp_pre, t->fp, t->name, t->path);
	if (!ty->listed)
		return pacer_error_set(
		    err, PACER_EAUTH,
		    "unknown ssh host %s: %s has no key for it (the server presented "
		    "a %s key%s%s); verify the key with the server's administrator, "
		    "then add it with 'ssh-keyscan -t %s %s%s >> %s'",
		    t->name, t->path, k->type, t->fp_pre, t->fp, k->type, t->port_opt, t->host,
		    t->path);
	/* With only a hash the type is unknown: any listed key is a mismatch. */
	if (k->form == KEY_BLOB && !ty->same_type_listed)
		return pacer_error_set(
		    err, PACER_EAUTH,
		    "%s lists %s only with key type(s) %s, but the server presented "
		    "a %s key%s%s; verify it with the server's administrator, then add "
		    "it with 'ssh-keyscan -t %s %s%s >> %s'",
		    t->path, t->name, pacer_buf_cstr(&ty->other_types), k->type, t->fp_pre, t->fp,
		    k->type, t->port_opt, t->host, t->path);
	return pacer_error_set(err, PACER_EAUTH,
	                       "ssh host key mismatch for %s: the server presented a %s key%s%s "
	                       "that is not the one in %s. Someone may be intercepting the "
	                       "connection, or the server's key was changed. Refusing to connect; "
	                       "if the change is expected, run 'ssh-keygen -R \"%s\" -f %s' and "
	                       "add the new key",
	                       t->name, k->type, t->fp_pre, t->fp, t->path, t->name, t->path);
}

/*
 * The one scan behind both public checks. Every line is read (no early
 * return on a match) because a @revoked line anywhere in the file must win.
 */
static int check(const struct target *t, const struct presented_key *k, struct pacer_error **err)
{
	struct tally ty = {.other_types = PACER_BUF_INIT};
	FILE *f = fopen(t->path, "r");
	char *line = NULL;
	size_t cap = 0;
	int ret;

	if (!f)
		return pacer_error_set(
		    err, PACER_EAUTH,
		    "cannot check the ssh host key of %s: known_hosts file %s cannot "
		    "be read (%s); create it with 'ssh-keyscan %s%s >> %s' after "
		    "verifying the key, or point PACER_GIT_KNOWN_HOSTS at one",
		    t->name, t->path, strerror(errno), t->port_opt, t->host, t->path);
	while (getline(&line, &cap, f) >= 0)
		tally_line(&ty, line, t->name, k);
	if (ferror(f))
		ret = pacer_error_set(err, PACER_EAUTH, "cannot read known_hosts file %s: %s",
		                      t->path, strerror(errno));
	else if (ty.found && !ty.revoked)
		ret = 0;
	else
		ret = refusal(t, k, &ty, err);
	free(line);
	fclose(f);
	pacer_buf_release(&ty.other_types);
	return ret;
}

int gitsrc_knownhosts_check(const char *path, const char *host, int port, const unsigned char *key,
                            size_t key_len, const char *fingerprint, struct pacer_error **err)
{
	struct presented_key k = {.form = KEY_BLOB, .data = key, .len = key_len};
	struct target t;

	target_init(&t, path, host, port, fingerprint);
	blob_type(key, key_len, k.type, sizeof(k.type));
	return check(&t, &k, err);
}

int gitsrc_knownhosts_check_sha1(const char *path, const char *host, int port,
                                 const unsigned char sha1[GITSRC_SHA1_LEN], const char *fingerprint,
                                 struct pacer_error **err)
{
	struct presented_key k = {
	    .form = KEY_SHA1, .data = sha1, .len = GITSRC_SHA1_LEN, .type = "unknown"};
	struct target t;

	target_init(&t, path, host, port, fingerprint);
	return check(&t, &k, err);
}
