/*
 * test_git_auth.c: the libgit2 callbacks of backends/git/auth.c, called as
 * libgit2 calls them, on a struct gitsrc__auth filled by hand (no
 * environment, no network): which credential is offered in which order,
 * each only once, the refusal that names what to fix, the loop guard,
 * cancellation, and the ssh host key check with its fingerprint.
 */
#include <criterion/criterion.h>
#include <git2.h>
#include <git2/sys/credential.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/git/auth.h"
#include "backends/git/knownhosts.h"
#include "tests/lib/testlib.h"

/* Two ed25519 keys (ssh-keygen), as fixed vectors: "type base64" of a .pub file. */
#define KEY_A "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKcVp9v7M55EdJUaD/OYOMi4DFb+sym3p4HWbgvmN1lT"
#define KEY_B "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL5kW/mwbncwmKuGldqsukxq8+wKJTKvuMGBS3pwLi/8"

static void setup(void)
{
	cr_assert_geq(git_libgit2_init(), 1);
}

static void teardown(void)
{
	git_libgit2_shutdown();
}

TestSuite(git_auth, .init = setup, .fini = teardown);

/* An auth with a key file, the agent and a token configured, as gitsrc_new() fills it. */
static struct gitsrc__auth auth_all(void)
{
	struct gitsrc__auth a = {
	    .url_safe = "ssh://git@example.com/repo.git",
	    .ssh_key_file = "/keys/id_ed25519",
	    .ssh_pubkey_file = "/keys/id_ed25519.pub",
	    .use_ssh_agent = 1,
	    .known_hosts_file = "/nonexistent/known_hosts",
	    .https_token = "tok",
	    .port = GITSRC_SSH_DEFAULT_PORT,
	};

	return a;
}

/* Call the credentials callback; the credential (if any) is freed, its type returned. */
static int ask(struct gitsrc__auth *a, const char *user_from_url, unsigned int allowed,
               git_credential_t *type)
{
	git_credential *cred = NULL;
	int rc = gitsrc__credentials(&cred, "https://user:secret@example.com/x", user_from_url,
	                             allowed, a);

	*type = cred ? cred->credtype : 0;
	if (cred && cred->credtype == GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
		git_credential_userpass_plaintext *up = (git_credential_userpass_plaintext *)cred;

		cr_assert_str_eq(up->username, user_from_url ? user_from_url : "x-access-token");
		cr_assert_str_eq(up->password, "tok");
	}
	if (cred && cred->credtype == GIT_CREDENTIAL_USERNAME)
		cr_assert_str_eq(((git_credential_username *)cred)->username,
		                 user_from_url ? user_from_url : "git");
	if (cred)
		git_credential_free(cred);
	return rc;
}

static void expect_refusal(struct gitsrc__auth *a, const char *needle)
{
	cr_assert_not_null(a->err, "no error recorded");
	cr_assert_eq(a->err->code, PACER_EAUTH);
	cr_assert(strstr(a->err->message, needle), "message lacks '%s': %s", needle,
	          a->err->message);
	cr_assert(!strstr(a->err->message, "secret"), "%s", a->err->message);
	gitsrc__auth_reset(a);
}

/* The next ask for `allowed` is refused, with a message that says needle. */
static void expect_refused(struct gitsrc__auth *a, unsigned int allowed, const char *needle)
{
	git_credential_t t;

	cr_assert_eq(ask(a, NULL, allowed, &t), GIT_EAUTH, "%s", needle);
	expect_refusal(a, needle);
}

Test(git_auth, ssh_offers_user_then_key_then_agent_then_refuses)
{
	struct gitsrc__auth a = auth_all();
	git_credential_t t;

	cr_assert_eq(ask(&a, NULL, GIT_CREDENTIAL_USERNAME, &t), 0);
	cr_assert_eq(t, GIT_CREDENTIAL_USERNAME);
	cr_assert_eq(ask(&a, "deploy", GIT_CREDENTIAL_USERNAME, &t), 0);
	cr_assert_eq(ask(&a, NULL, GIT_CREDENTIAL_SSH_KEY, &t), 0);
	cr_assert_eq(t, GIT_CREDENTIAL_SSH_KEY);
	cr_assert(a.tried_key && !a.tried_agent);
	cr_assert_eq(ask(&a, NULL, GIT_CREDENTIAL_SSH_KEY, &t), 0);
	cr_assert(a.tried_agent, "the agent comes after the key file");
	expect_refused(&a, GIT_CREDENTIAL_SSH_KEY, "was refused");
}

Test(git_auth, ssh_without_key_or_agent_says_what_to_set)
{
	struct gitsrc__auth a = auth_all();

	a.ssh_key_file = NULL;
	a.use_ssh_agent = 0;
	expect_refused(&a, GIT_CREDENTIAL_SSH_KEY, "set PACER_GIT_SSH_KEY");
}

Test(git_auth, https_token_is_offered_once)
{
	struct gitsrc__auth a = auth_all();
	git_credential_t t;

	cr_assert_eq(ask(&a, NULL, GIT_CREDENTIAL_USERPASS_PLAINTEXT, &t), 0);
	cr_assert_eq(t, GIT_CREDENTIAL_USERPASS_PLAINTEXT);
	expect_refused(&a, GIT_CREDENTIAL_USERPASS_PLAINTEXT,
	               "refused the credentials (user 'x-access-token')");

	/* The URL's user name is used when no user is configured. */
	cr_assert_eq(ask(&a, "me", GIT_CREDENTIAL_USERPASS_PLAINTEXT, &t), 0);
	a.https_token = NULL;
	a.tried_userpass = 0;
	expect_refused(&a, GIT_CREDENTIAL_USERPASS_PLAINTEXT, "set PACER_GIT_TOKEN");
}

Test(git_auth, loops_and_unknown_methods_end_with_a_message)
{
	struct gitsrc__auth a = auth_all();
	git_credential_t t;
	int rc = 0, calls = 0;

	expect_refused(&a, GIT_CREDENTIAL_DEFAULT, "does not support");
	/* A server asking for the user name for ever: stopped after a few rounds. */
	while (rc == 0 && calls < 100) {
		rc = ask(&a, NULL, GIT_CREDENTIAL_USERNAME, &t);
		calls++;
	}
	cr_assert_eq(rc, GIT_EAUTH);
	cr_assert_lt(calls, 10);
	expect_refusal(&a, "after several attempts");
}

Test(git_auth, cancel_stops_every_callback)
{
	volatile int cancel = 0;
	struct gitsrc__auth a = auth_all();
	git_indexer_progress stats = {0};
	git_credential_t t;

	a.cancel = &cancel;
	cr_assert_eq(gitsrc__transfer_progress(&stats, &a), 0);
	cr_assert_eq(gitsrc__sideband_progress("x", 1, &a), 0);
	cancel = 1;
	cr_assert(gitsrc__cancelled(&a));
	cr_assert_eq(gitsrc__transfer_progress(&stats, &a), GIT_EUSER);
	cr_assert_eq(gitsrc__sideband_progress("x", 1, &a), GIT_EUSER);
	cr_assert_eq(ask(&a, NULL, GIT_CREDENTIAL_SSH_KEY, &t), GIT_EUSER);
	cr_assert(!a.tried_key, "no credential offered once cancelled");
}

/* A host key as libssh2 reports it: the raw key of a .pub line and a SHA-256 of zeros. */
static git_cert_hostkey hostkey(const char *pub_line, unsigned char **blob)
{
	git_cert_hostkey hk;
	size_t len;
	const char *b64 = strchr(pub_line, ' ') + 1;

	memset(&hk, 0, sizeof(hk));
	cr_assert_eq(gitsrc__base64_decode(b64, strlen(b64), blob, &len), 0);
	hk.parent.cert_type = GIT_CERT_HOSTKEY_LIBSSH2;
	hk.type = GIT_CERT_SSH_RAW | GIT_CERT_SSH_SHA256;
	hk.hostkey = (const char *)*blob;
	hk.hostkey_len = len;
	return hk;
}

Test(git_auth, host_key_is_checked_against_the_configured_file)
{
	struct gitsrc__auth a = auth_all();
	char *dir = test_tmpdir("pacer-auth"), *kh = NULL;
	unsigned char *blob_a = NULL, *blob_b = NULL;
	git_cert_hostkey hk_a = hostkey(KEY_A, &blob_a), hk_b = hostkey(KEY_B, &blob_b);
	git_cert tls = {.cert_type = GIT_CERT_X509};

	cr_assert(asprintf(&kh, "%s/known_hosts", dir) > 0);
	cr_assert_eq(test_write_file(kh, "example.com " KEY_A "\n"), 0);
	a.known_hosts_file = kh;
	/* libgit2's own `valid` is ignored both ways: only the file decides. */
	cr_assert_eq(gitsrc__certificate_check(&hk_a.parent, 0, "example.com", &a), 0);
	cr_assert_null(a.err);
	cr_assert_eq(gitsrc__certificate_check(&hk_b.parent, 1, "example.com", &a),
	             GIT_ECERTIFICATE);
	expect_refusal(&a, "mismatch");
	cr_assert_eq(gitsrc__certificate_check(&hk_a.parent, 1, "other.example.com", &a),
	             GIT_ECERTIFICATE);
	/* The fingerprint as ssh-keygen -l prints it: unpadded base64 of 32 bytes. */
	expect_refusal(&a, "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA)");
	/* TLS certificates are libgit2's to verify. */
	cr_assert_eq(gitsrc__certificate_check(&tls, 1, "example.com", &a), GIT_PASSTHROUGH);
	hk_a.type = GIT_CERT_SSH_MD5;
	cr_assert_eq(gitsrc__certificate_check(&hk_a.parent, 1, "example.com", &a),
	             GIT_ECERTIFICATE);
	expect_refusal(&a, "neither the key nor its SHA-1");
	test_rmrf(dir);
	free(blob_a);
	free(blob_b);
	free(kh);
	free(dir);
}
