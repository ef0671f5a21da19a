/*
 * console.h: the web console of `pacer serve`, on the server's listener
 * under / (on when the API is: serve_options.tokens).
 *
 *   GET  /login, POST /login (token=...)  sign in with a token of the API's
 *                                         tokens file: a session cookie
 *   POST /logout                          end the session
 *   GET  /[?q=TEXT&state=WORD]            the overview: counts by state, the
 *                                         syncs, every app (filtered)
 *   GET  /app/<id>                        one app: state, tasks, deployment,
 *                                         desired vs live, history, backups
 *   GET  /history                         every run
 *   GET  /events                          Server-Sent Events: the overview's
 *                                         live part, re-rendered ("overview")
 *   GET  /assets/<file>                   the embedded CSS and script
 *   POST /action/<verb>                   sync, restart, cancel, scale, stop,
 *                                         suspend, resume, rollback, delete:
 *                                         a confirmation page first, then
 *                                         (confirmed=1) the API call and
 *                                         its result
 *
 * Security: sessions as console_session.h says (cookie pacer_session:
 * HttpOnly, SameSite=Strict, Path=/, Max-Age, Secure when the request came
 * over TLS, i.e. X-Forwarded-Proto: https from a TLS proxy); every page
 * but /login and the assets needs a session (else 303 to /login). Every
 * POST must come from the console's own origin (Origin, or else Referer,
 * equal to the Host it was sent to: 403 otherwise) and, but /login, carry
 * the session's CSRF token (403). The role of the session's token decides
 * the buttons shown and what the server accepts (403), as in the API
 * (serve_api_role()). Every answer carries a Content-Security-Policy that
 * allows only this origin's script and style (no inline script),
 * X-Frame-Options: DENY, nosniff, Cache-Control: no-store. Tokens never
 * reach a page, a URL or the log.
 *
 * Reads and actions go through the API's handler (serve_options.api_fn)
 * on an API thread, as "<name> (console)": an action is logged, and
 * recorded in the history with trigger "console by <name>".
 */
#ifndef PACER_CMD_CONSOLE_H
#define PACER_CMD_CONSOLE_H

#include <microhttpd.h>

#include "cmd/pacer/serve_http_int.h"

struct console;

/* s borrowed (the console lives inside it). 0 and *out, or -1 with *err. */
int console_new(struct console **out, struct serve *s, struct pacer_error **err);
/* End the live streams and stop the console's thread; before MHD stops. NULL: no-op. */
void console_stop(struct console *c);
void console_free(struct console *c);

/* 1 when url is the console's (the server hands it to console_begin()). */
int console_route(const char *url);

/*
 * The first call of a console request (headers only): answer it, or set
 * *r (a new serve_req with r->console set, the caller's con_cls) when the
 * body is to be read or an API call is to run; then MHD calls
 * console_finish() once the body is read (and again once the call is done).
 */
enum MHD_Result console_begin(struct serve *s, struct MHD_Connection *c, const char *url,
                              const char *method, struct serve_req **r);
enum MHD_Result console_finish(struct serve *s, struct MHD_Connection *c, struct serve_req *r);
/* Free what a console request holds (not r). Any r: a no-op when not the console's. */
void console_release(struct serve_req *r);

#endif
