/*
 * test_git_knownhosts.c: the ssh host key check of backends/git/knownhosts.c
 * against real known_hosts lines (keys made with ssh-keygen): plain and
 * hashed host names, ports, wildcards and negation, the @revoked and
 * @cert-authority markers, a wrong key, an unknown host, a key given only
 * by its SHA-1, and the SHA-1 and base64 helpers on fixed vectors.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/git/knownhosts.h"
#include "tests/lib/longrun.h"
#include "tests/lib/testlib.h"

/* A key ssh-keygen made: its blob and its line in a .pub file. */
struct key {
	unsigned char *blob;
	size_t len;
	char *line; /* "type base64" */
};

struct keys {
	char *dir;
	struct key ed, ed2, ecdsa;
	char *file; /* <dir>/known_hosts */
};

/* Fresh keys for every test (ssh-keygen), removed after it. */
static struct keys k;

static void load_key(const char *dir, const char *name, const char *type, struct key *key)
{
	char *pubtext, *b64, *sp;

	free(lr_sh(dir, "ssh-keygen -q -t %s -N '' -f %s", type, name));
	pubtext = lr_sh(dir, "cat %s.pub", name);
	sp = strchr(pubtext, ' ');
	cr_assert(sp);
	b64 = sp + 1;
	sp = strchr(b64, ' ');
	if (sp)
		*sp = '\0';
	cr_assert_eq(gitsrc__base64_decode(b64, strlen(b64), &key->blob, &key->len), 0);
	key->line = pubtext; /* "type base64" after the cut */
}

static void keys_init(struct keys *ks)
{
	ks->file = NULL;
	ks->dir = test_tmpdir("pacer-kh");
	load_key(ks->dir, "ed", "ed25519", &ks->ed);
	load_key(ks->dir, "ed2", "ed25519", &ks->ed2);
	load_key(ks->dir, "ec", "ecdsa", &ks->ecdsa);
}

static void keys_release(struct keys *ks)
{
	struct key *all[] = {&ks->ed, &ks->ed2, &ks->ecdsa};

	test_rmrf(ks->dir);
	free(ks->file);
	free(ks->dir);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		free(all[i]->blob);
		free(all[i]->line);
	}
}

static void setup(void)
{
	keys_init(&k);
}

static void teardown(void)
{
	keys_release(&k);
}

TestSuite(knownhosts, .init = setup, .fini = teardown);

/* Write the known_hosts file from a format; returns its path (borrowed). */
__attribute__((format(printf, 1, 2))) static const char *kh_file(const char *fmt, ...)
{
	char *content = NULL;
	va_list ap;

	va_start(ap, fmt);
	cr_assert(vasprintf(&content, fmt, ap) >= 0);
	va_end(ap);
	if (!k.file)
		cr_assert(asprintf(&k.file, "%s/known_hosts", k.dir) >= 0);
	cr_assert_eq(test_write_file(k.file, content), 0);
	free(content);
	return k.file;
}

static void expect_kh(const char *file, const char *host, int port, const unsigned char *key,
                      size_t len, int want, const char *needle)
{
	struct pacer_error *err = NULL;
	int rc = gitsrc_knownhosts_check(file, host, port, key, len, "SHA256:abc", &err);

	cr_assert_eq(rc, want, "%s:%d: want %d got %d (%s)", host, port, want, rc,
	             err ? err->message : "");
	if (needle)
		cr_assert(err && strstr(err->message, needle), "message lacks '%s': %s", needle,
		          err ? err->message : "(none)");
	pacer_error_free(err);
}

Test(knownhosts, plain_port_wildcard_and_negation)
{
	const char *file;

	file = kh_file("# comment\n\n"
	               "git.example.com,10.0.0.5 %s\n"
	               "[git.example.com]:2222 %s\n"
	               "*.corp.example,!evil.corp.example %s\n"
	               "@cert-authority * %s\n",
	               k.ed.line, k.ed2.line, k.ed.line, k.ed2.line);

	expect_kh(file, "git.example.com", 22, k.ed.blob, k.ed.len, 0, NULL);
	expect_kh(file, "GIT.example.com", 0, k.ed.blob, k.ed.len, 0, NULL);
	expect_kh(file, "10.0.0.5", 22, k.ed.blob, k.ed.len, 0, NULL);
	/* Port 2222 has its own entry, with another key. */
	expect_kh(file, "git.example.com", 2222, k.ed2.blob, k.ed2.len, 0, NULL);
	expect_kh(file, "git.example.com", 2222, k.ed.blob, k.ed.len, PACER_EAUTH, "mismatch");
	/* Same key, wrong host: a mismatch for a known host, and an unknown host elsewhere. */
	expect_kh(file, "git.example.com", 22, k.ed2.blob, k.ed2.len, PACER_EAUTH, "mismatch");
	expect_kh(file, "other.example.com", 22, k.ed.blob, k.ed.len, PACER_EAUTH,
	          "unknown ssh host");
	expect_kh(file, "other.example.com", 22, k.ed.blob, k.ed.len, PACER_EAUTH, "ssh-keyscan");
	expect_kh(file, "git.example.com", 2200, k.ed2.blob, k.ed2.len, PACER_EAUTH, "-p 2200");
	expect_kh(file, "a.corp.example", 22, k.ed.blob, k.ed.len, 0, NULL);
	expect_kh(file, "evil.corp.example", 22, k.ed.blob, k.ed.len, PACER_EAUTH, "unknown");
	/* @cert-authority lines never vouch for a plain key. */
	expect_kh(file, "anything.example", 22, k.ed2.blob, k.ed2.len, PACER_EAUTH, "unknown");
	/* Host known only with another key type. */
	expect_kh(file, "git.example.com", 22, k.ecdsa.blob, k.ecdsa.len, PACER_EAUTH,
	          "only with key type(s) ssh-ed25519");
}

Test(knownhosts, hashed_entries_as_ssh_keygen_writes_them)
{
	const char *file;

	file = kh_file("git.example.com %s\n[git.example.com]:2222 %s\n", k.ed.line, k.ed2.line);
	free(lr_sh(k.dir, "ssh-keygen -q -H -f known_hosts 2>/dev/null && rm -f known_hosts.old && "
	                  "! grep -q example known_hosts"));
	expect_kh(file, "git.example.com", 22, k.ed.blob, k.ed.len, 0, NULL);
	expect_kh(file, "git.example.com", 2222, k.ed2.blob, k.ed2.len, 0, NULL);
	expect_kh(file, "git.example.com", 22, k.ed2.blob, k.ed2.len, PACER_EAUTH, "mismatch");
	expect_kh(file, "git.example.org", 22, k.ed.blob, k.ed.len, PACER_EAUTH, "unknown");
}

Test(knownhosts, revoked_missing_file_and_sha1)
{
	const char *file;
	unsigned char h[GITSRC_SHA1_LEN];
	struct pacer_error *err = NULL;

	file = kh_file("git.example.com %s\n@revoked * %s\n", k.ed.line, k.ed.line);
	expect_kh(file, "git.example.com", 22, k.ed.blob, k.ed.len, PACER_EAUTH, "@revoked");
	expect_kh("/nonexistent/known_hosts", "git.example.com", 22, k.ed.blob, k.ed.len,
	          PACER_EAUTH, "/nonexistent/known_hosts");

	file = kh_file("git.example.com %s\n", k.ed.line);
	gitsrc__sha1(k.ed.blob, k.ed.len, h);
	cr_assert_eq(gitsrc_knownhosts_check_sha1(file, "git.example.com", 22, h, NULL, &err), 0);
	gitsrc__sha1(k.ed2.blob, k.ed2.len, h);
	cr_assert_eq(gitsrc_knownhosts_check_sha1(file, "git.example.com", 22, h, NULL, &err),
	             PACER_EAUTH);
	pacer_error_free(err);
}

Test(knownhosts, sha1_matches_known_vectors)
{
	unsigned char h[GITSRC_SHA1_LEN];
	char hex[41];

	gitsrc__sha1("abc", 3, h);
	for (int i = 0; i < GITSRC_SHA1_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	cr_assert_str_eq(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
	{
		static char million[1000000];

		memset(million, 'a', sizeof(million));
		gitsrc__sha1(million, sizeof(million), h);
		for (int i = 0; i < GITSRC_SHA1_LEN; i++)
			snprintf(hex + 2 * i, 3, "%02x", h[i]);
		cr_assert_str_eq(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	}
}

Test(knownhosts, revoked_wins_wherever_it_is_and_only_for_its_key)
{
	const char *file;

	/* The @revoked line comes first: the scan must not stop at the later match. */
	file = kh_file("@revoked git.example.com %s\ngit.example.com %s\n", k.ed.line, k.ed.line);
	expect_kh(file, "git.example.com", 22, k.ed.blob, k.ed.len, PACER_EAUTH, "@revoked");
	expect_kh(file, "git.example.com", 22, k.ed.blob, k.ed.len, PACER_EAUTH, "SHA256:abc");
	/* A revoked key of its own does not make the host's listed key unusable. */
	file = kh_file("@revoked * %s\ngit.example.com %s\n", k.ed2.line, k.ed.line);
	expect_kh(file, "git.example.com", 22, k.ed.blob, k.ed.len, 0, NULL);
	expect_kh(file, "git.example.com", 22, k.ed2.blob, k.ed2.len, PACER_EAUTH, "@revoked");
}

Test(knownhosts, unknown_host_message_quotes_fingerprint_and_keyscan_line)
{
	const char *file;

	file = kh_file("git.example.com %s\n", k.ed.line);
	expect_kh(file, "new.example.com", 2222, k.ed.blob, k.ed.len, PACER_EAUTH,
	          "ssh-keyscan -t ssh-ed25519 -p 2222 new.example.com >>");
	expect_kh(file, "new.example.com", 22, k.ed.blob, k.ed.len, PACER_EAUTH,
	          "ssh-ed25519 key SHA256:abc");
	expect_kh(file, "git.example.com", 22, k.ed2.blob, k.ed2.len, PACER_EAUTH,
	          "ssh-keygen -R \"git.example.com\"");
}

Test(knownhosts, damaged_lines_are_skipped)
{
	const char *file;

	file = kh_file("git.example.com\n"                   /* no key */
	               "git.example.com ssh-ed25519\n"       /* no blob */
	               "git.example.com ssh-ed25519 !!!!\n"  /* not base64 */
	               "|1|bm90LWhhc2g= %s\n"                /* hashed, no hash part */
	               "|1|c2FsdA==|c2hvcnQ= %s\n"           /* hash of the wrong size */
	               "@future-marker git.example.com %s\n" /* unknown marker */
	               "\t git.example.com\t%s\r\n",         /* tabs and CRLF */
	               k.ed2.line, k.ed2.line, k.ed2.line, k.ed.line);
	expect_kh(file, "git.example.com", 22, k.ed.blob, k.ed.len, 0, NULL);
	/* The only readable line lists ed: ed2 is a mismatch, not an accepted key. */
	expect_kh(file, "git.example.com", 22, k.ed2.blob, k.ed2.len, PACER_EAUTH, "mismatch");
}

Test(knownhosts, sha1_only_unknown_host_and_mismatch)
{
	const char *file;
	unsigned char h[GITSRC_SHA1_LEN];
	struct pacer_error *err = NULL;

	file = kh_file("git.example.com %s\n", k.ed.line);
	gitsrc__sha1(k.ed.blob, k.ed.len, h);
	cr_assert_eq(gitsrc_knownhosts_check_sha1(file, "other.example.com", 22, h, NULL, &err),
	             PACER_EAUTH);
	cr_assert(err && strstr(err->message, "unknown ssh host"), "%s", err->message);
	pacer_error_clear(&err);
	/* Without the key its type is unknown: another key of the host is a mismatch. */
	gitsrc__sha1(k.ecdsa.blob, k.ecdsa.len, h);
	cr_assert_eq(gitsrc_knownhosts_check_sha1(file, "git.example.com", 22, h, "SHA256:x", &err),
	             PACER_EAUTH);
	cr_assert(err && strstr(err->message, "mismatch") && strstr(err->message, "SHA256:x"), "%s",
	          err->message);
	pacer_error_free(err);
}

Test(knownhosts, base64_vectors)
{
	static const struct {
		const char *in, *padded, *bare;
	} v[] = {{"", "", ""},
	         {"f", "Zg==", "Zg"},
	         {"fo", "Zm8=", "Zm8"},
	         {"foo", "Zm9v", "Zm9v"},
	         {"foob", "Zm9vYg==", "Zm9vYg"},
	         {"fooba", "Zm9vYmE=", "Zm9vYmE"}};
	char out[16];
	unsigned char *dec = NULL;
	size_t n;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t len = strlen(v[i].in);

		gitsrc__base64_encode((const unsigned char *)v[i].in, len, GITSRC_B64_PAD, out);
		cr_assert_str_eq(out, v[i].padded);
		gitsrc__base64_encode((const unsigned char *)v[i].in, len, GITSRC_B64_NOPAD, out);
		cr_assert_str_eq(out, v[i].bare);
		cr_assert_eq(gitsrc__base64_decode(v[i].padded, strlen(v[i].padded), &dec, &n), 0);
		cr_assert_eq(n, len);
		cr_assert(!memcmp(dec, v[i].in, len));
		free(dec);
	}
	cr_assert_eq(gitsrc__base64_decode("Zm9v*", 5, &dec, &n), -1);
}
