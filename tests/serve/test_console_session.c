/*
 * Unit tests for cmd/pacer/console_session.c: random ids, lookups,
 * expiry (idle and absolute), logout, the table's bound, and CSRF tokens.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "cmd/pacer/console_session.h"

static struct console_sessions *s;

static void setup(void)
{
	cr_assert_eq(console_sessions_new(&s), 0);
}

static void teardown(void)
{
	console_sessions_free(s);
}

TestSuite(console_session, .init = setup, .fini = teardown);

Test(console_session, open_find_close)
{
	char id[CONSOLE_SESSION_ID_LEN + 1], id2[CONSOLE_SESSION_ID_LEN + 1];
	struct console_who w, f;

	cr_assert_eq(console_session_open(s, "olga", TOKEN_OPERATOR, 1000, id, &w), 0);
	cr_assert_eq(strlen(id), CONSOLE_SESSION_ID_LEN);
	cr_assert_eq(strspn(id, "0123456789abcdef"), CONSOLE_SESSION_ID_LEN);
	cr_assert_eq(strlen(w.csrf), CONSOLE_SESSION_ID_LEN);
	cr_assert_str_neq(id, w.csrf);
	cr_assert_str_eq(w.name, "olga");
	cr_assert_eq(console_session_open(s, "vera", TOKEN_VIEWER, 1000, id2, &f), 0);
	cr_assert_str_neq(id, id2, "ids are random");
	cr_assert_str_neq(w.csrf, f.csrf, "CSRF tokens are per session");

	cr_assert_eq(console_session_find(s, id, 1001, &f), 1);
	cr_assert_str_eq(f.name, "olga");
	cr_assert_eq(f.role, TOKEN_OPERATOR);
	cr_assert_str_eq(f.csrf, w.csrf);

	console_session_close(s, id);
	cr_assert_eq(console_session_find(s, id, 1002, &f), 0, "logout ends it");
	cr_assert_eq(console_session_find(s, id2, 1002, &f), 1, "the other one stays");
}

Test(console_session, unknown_and_malformed)
{
	char id[CONSOLE_SESSION_ID_LEN + 1], other[CONSOLE_SESSION_ID_LEN + 1];
	struct console_who w;

	cr_assert_eq(console_session_open(s, "olga", TOKEN_OPERATOR, 0, id, &w), 0);
	memcpy(other, id, sizeof(other));
	other[0] = other[0] == 'a' ? 'b' : 'a';
	cr_assert_eq(console_session_find(s, other, 1, &w), 0);
	cr_assert_eq(console_session_find(s, NULL, 1, &w), 0);
	cr_assert_eq(console_session_find(s, "", 1, &w), 0);
	cr_assert_eq(console_session_find(s, "abc", 1, &w), 0);
	cr_assert_eq(console_session_find(s, w.csrf, 1, &w), 0, "the CSRF token is no session id");
}

Test(console_session, idle_and_absolute_expiry)
{
	char id[CONSOLE_SESSION_ID_LEN + 1];
	struct console_who w;
	double t = 100;

	cr_assert_eq(console_session_open(s, "olga", TOKEN_OPERATOR, t, id, &w), 0);
	cr_assert_float_eq(w.expires, t + CONSOLE_SESSION_IDLE_S, 1e-6);
	/* Used every half idle period: alive until the absolute limit. */
	while (t + CONSOLE_SESSION_IDLE_S / 2 < 100 + CONSOLE_SESSION_MAX_S) {
		t += CONSOLE_SESSION_IDLE_S / 2;
		cr_assert_eq(console_session_find(s, id, t, &w), 1, "at %.0f", t);
	}
	cr_assert_eq(console_session_find(s, id, 100 + CONSOLE_SESSION_MAX_S, &w), 0);
	cr_assert_eq(console_sessions_count(s), 0, "an expired session is forgotten");

	cr_assert_eq(console_session_open(s, "olga", TOKEN_OPERATOR, 0, id, &w), 0);
	cr_assert_eq(console_session_find(s, id, CONSOLE_SESSION_IDLE_S - 1, &w), 1);
	cr_assert_eq(console_session_find(s, id, 2 * CONSOLE_SESSION_IDLE_S, &w), 0, "idle");
}

Test(console_session, bounded_table_ends_the_oldest)
{
	char first[CONSOLE_SESSION_ID_LEN + 1], id[CONSOLE_SESSION_ID_LEN + 1];
	struct console_who w;

	cr_assert_eq(console_session_open(s, "first", TOKEN_VIEWER, 1, first, &w), 0);
	for (int i = 0; i < CONSOLE_SESSIONS_MAX; i++)
		cr_assert_eq(console_session_open(s, "n", TOKEN_VIEWER, 2 + i, id, &w), 0);
	cr_assert_eq(console_sessions_count(s), CONSOLE_SESSIONS_MAX);
	cr_assert_eq(console_session_find(s, first, 500, &w), 0, "the oldest made room");
	cr_assert_eq(console_session_find(s, id, 500, &w), 1);
}

Test(console_session, long_name_truncated)
{
	char id[CONSOLE_SESSION_ID_LEN + 1], name[200];
	struct console_who w;

	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	cr_assert_eq(console_session_open(s, name, TOKEN_ADMIN, 0, id, &w), 0);
	cr_assert_eq(strlen(w.name), CONSOLE_NAME_MAX);
}

Test(console_session, csrf)
{
	char id[CONSOLE_SESSION_ID_LEN + 1], bad[CONSOLE_SESSION_ID_LEN + 1];
	struct console_who w;

	cr_assert_eq(console_session_open(s, "olga", TOKEN_OPERATOR, 0, id, &w), 0);
	cr_assert_eq(console_csrf_ok(w.csrf, w.csrf), 1);
	memcpy(bad, w.csrf, sizeof(bad));
	bad[CONSOLE_SESSION_ID_LEN - 1] ^= 1;
	cr_assert_eq(console_csrf_ok(w.csrf, bad), 0);
	cr_assert_eq(console_csrf_ok(w.csrf, NULL), 0);
	cr_assert_eq(console_csrf_ok(w.csrf, ""), 0);
	cr_assert_eq(console_csrf_ok(w.csrf, id), 0, "the session id is no CSRF token");
	cr_assert_eq(console_csrf_ok("", ""), 0, "an empty expected token matches nothing");
	cr_assert_eq(console_csrf_ok(NULL, NULL), 0);
}
