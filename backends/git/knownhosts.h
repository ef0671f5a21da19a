/*
 * knownhosts.h: check an ssh server's host key against an OpenSSH
 * known_hosts file.
 *
 * libgit2 1.5 hands the server's raw key to the certificate_check callback
 * and connects to anything the callback accepts (1.5.0 checked nothing;
 * 1.5.1 only consults ~/.ssh/known_hosts, not the file pacer is told to use). The git source
 * therefore calls gitsrc_knownhosts_check() from that callback and refuses every key that is not
 * listed. There is no "accept new keys" mode: an unknown host is an error that tells the user which
 * ssh-keyscan line to run.
 *
 * Supported known_hosts syntax (as OpenSSH writes and reads it):
 *   - plain host patterns, comma-separated, with '*' and '?' wildcards and
 *     '!' negation; "[host]:port" for ports other than 22;
 *   - hashed hosts "|1|base64(salt)|base64(HMAC-SHA1(salt, host))"
 *     (Debian's default HashKnownHosts=yes writes these);
 *   - the "@revoked" marker (a matching key is refused even if listed
 *     elsewhere); "@cert-authority" lines are ignored (libgit2 cannot
 *     verify host certificates);
 *   - comments (#) and blank lines.
 */
#ifndef PACER_GITSRC_KNOWNHOSTS_H
#define PACER_GITSRC_KNOWNHOSTS_H

#include <stddef.h>

#include "reconcile/base/error.h"

/* The port known_hosts names a host on without "[host]:port". */
#define GITSRC_SSH_DEFAULT_PORT 22

/* Bytes of a SHA-1 digest. */
#define GITSRC_SHA1_LEN 20

/*
 * Check that `key` (the ssh wire-format public key blob, as base64-encoded
 * in known_hosts and as libgit2's git_cert_hostkey.hostkey) is a known key
 * of host:port in the file at `path`. port 22 (or <= 0) looks up `host`,
 * any other port "[host]:port", as OpenSSH does.
 *
 * Returns 0 when a listed, non-revoked key equals `key`. Otherwise returns
 * PACER_EAUTH and sets *err, saying whether the host is unknown, listed with
 * a different key (possible man-in-the-middle, or the server's key changed),
 * listed only with keys of other types, or revoked; the message names the
 * file and the ssh-keyscan command to run after verifying the key.
 * `fingerprint` ("SHA256:..." as ssh-keygen -l prints it, may be NULL) is
 * only quoted in messages so the user can compare it with the server's.
 * A known_hosts file that cannot be read is PACER_EAUTH as well (every key
 * is then unknown), with the reason in the message.
 */
int gitsrc_knownhosts_check(const char *path, const char *host, int port, const unsigned char *key,
                            size_t key_len, const char *fingerprint, struct pacer_error **err);

/*
 * Same check, for when only the SHA-1 of the key is known (libssh2 builds
 * that do not expose the raw key): `sha1` is the 20-byte hash of the blob.
 */
int gitsrc_knownhosts_check_sha1(const char *path, const char *host, int port,
                                 const unsigned char sha1[GITSRC_SHA1_LEN], const char *fingerprint,
                                 struct pacer_error **err);

/* SHA-1 of data into the caller's out (also used for hashed host names). Exposed for tests. */
void gitsrc__sha1(const void *data, size_t len, unsigned char out[GITSRC_SHA1_LEN]);

/* Whether base64 output ends with '=' padding (ssh-keygen's SHA256: fingerprints have none). */
enum gitsrc__b64_pad {
	GITSRC_B64_NOPAD,
	GITSRC_B64_PAD,
};

/*
 * Base64 (RFC 4648) of data into the caller's out, which must hold
 * 4 * ((len + 2) / 3) + 1 bytes. Returns the string length.
 */
size_t gitsrc__base64_encode(const unsigned char *data, size_t len, enum gitsrc__b64_pad pad,
                             char *out);

/*
 * Decode base64 text (padding optional, stops at the first space) into a new
 * buffer *out that the caller frees with free(). Returns 0, or -1 on bad
 * input or out of memory (then *out is untouched).
 */
int gitsrc__base64_decode(const char *text, size_t text_len, unsigned char **out, size_t *out_len);

#endif
