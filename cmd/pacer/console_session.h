/*
 * console_session.h: the login sessions of the web console (console.h).
 *
 * A login with a token of the API's tokens file (serve_tokens.h) opens a
 * session: a random 256-bit id (the cookie's value) and a random 256-bit
 * CSRF token (a hidden field of every form of the session's pages), both
 * from OpenSSL's RAND_bytes, hex. The store keeps, per session, the
 * SHA-256 of the id (never the id: a memory dump holds no usable cookie),
 * the CSRF token, the token's name and role, and two deadlines: idle
 * (CONSOLE_SESSION_IDLE_S after the last request) and absolute
 * (CONSOLE_SESSION_MAX_S after the login). Lookups compare every digest in
 * constant time. At most CONSOLE_SESSIONS_MAX sessions: a login beyond
 * that ends the oldest one.
 *
 * Thread-safe (one mutex): the event loop and the console's threads use it.
 */
#ifndef PACER_CMD_CONSOLE_SESSION_H
#define PACER_CMD_CONSOLE_SESSION_H

#include <stddef.h>

#include "cmd/pacer/serve_tokens.h"

#define CONSOLE_SESSION_IDLE_S (60 * 60)     /* an hour without a request */
#define CONSOLE_SESSION_MAX_S (12 * 60 * 60) /* a working day at most */
#define CONSOLE_SESSIONS_MAX 256
#define CONSOLE_SESSION_ID_LEN 64 /* hex characters of an id or a CSRF token */
#define CONSOLE_NAME_MAX 64

struct console_sessions;

/* What a session is (a copy: valid after the session ends). */
struct console_who {
	enum token_role role;
	char name[CONSOLE_NAME_MAX + 1];
	char csrf[CONSOLE_SESSION_ID_LEN + 1];
	double expires; /* the session's deadline (clock of the calls), for the cookie */
};

/* Returns 0 and *out (console_sessions_free()), or -1 when out of memory. */
int console_sessions_new(struct console_sessions **out);
void console_sessions_free(struct console_sessions *s);

/*
 * Open a session for name (copied; truncated to CONSOLE_NAME_MAX) and role
 * at time now (seconds, any clock, the same for every call). Writes the
 * new id to id_out (CONSOLE_SESSION_ID_LEN + 1 bytes) and what the session
 * is to *who. Returns 0, or -1 when no randomness is available.
 */
int console_session_open(struct console_sessions *s, const char *name, enum token_role role,
                         double now, char *id_out, struct console_who *who);

/*
 * The session of cookie value id (NULL: none) at time now: 1 and *who when
 * it is open (its idle deadline moves on), 0 when it is unknown or
 * expired (an expired one is forgotten).
 */
int console_session_find(struct console_sessions *s, const char *id, double now,
                         struct console_who *who);

/* End the session of id (unknown: nothing). */
void console_session_close(struct console_sessions *s, const char *id);

/* Sessions open (expired ones not yet forgotten included). */
size_t console_sessions_count(struct console_sessions *s);

/*
 * 1 when sent (NULL: no) is the session's CSRF token expected, compared in
 * constant time; 0 otherwise.
 */
int console_csrf_ok(const char *expected, const char *sent);

#endif
