/*
 * serve_api.h: the authenticated JSON API of `pacer serve`, under /api/v1/:
 * its routes, roles and HTTP side (serve_api.c). What each call does is
 * api.h's.
 *
 *   GET    /api/v1/apps                    viewer    every app's state (pacer status rows)
 *   GET    /api/v1/apps/{id}               viewer    one app: state, diff, history, backups
 *   GET    /api/v1/history[?app=ID&limit=N] viewer   the runs (pacer history)
 *   POST   /api/v1/sync  [{"apps": [...]}]  operator  202 {"status":"queued","sync_id":N}
 *   POST   /api/v1/apps/{id}/restart        operator
 *   POST   /api/v1/apps/{id}/cancel         operator  {"force": true}
 *   POST   /api/v1/apps/{id}/suspend        operator  {"reason": "..."}
 *   POST   /api/v1/apps/{id}/resume         operator
 *   POST   /api/v1/apps/{id}/rollback       operator  {"backup": "<name>"}
 *   POST   /api/v1/apps/{id}/scale          operator  {"instances": N}
 *   DELETE /api/v1/apps/{id}                admin
 *
 * {id} is the Marathon id without its leading slash, slashes kept
 * ("/api/v1/apps/shop/api/restart" restarts /shop/api). For POST the last
 * segment is always the verb and the rest is the id; for GET and DELETE
 * the whole rest is the id. Marathon forbids ids ending in "restart",
 * and no id ever has to be guessed apart from a verb.
 *
 * Order of checks, so that nothing is learnt or parsed without a valid
 * token: no tokens configured -> 404 (how to enable it); token missing or
 * wrong -> 401 (WWW-Authenticate: Bearer); unknown path or method -> 404 /
 * 405; role too low -> 403; body announced larger than SERVE_API_MAX_BODY
 * -> 413 before it is read; then the body (a JSON object, or empty) is
 * read, bounded, and parsed -> 400 when malformed.
 *
 * Every call is logged with the token's name and role, the operation, the
 * app and the answer's status; never the token.
 *
 * The calls themselves (all but POST sync, which is a trigger of the
 * server's sync worker) are carried out by serve_options.api_fn on an API
 * thread (at most SERVE_API_THREADS at once, else 503) while the
 * connection is suspended, so /healthz, /metrics and webhooks keep being
 * answered during a long restart.
 */
#ifndef PACER_CMD_SERVE_API_H
#define PACER_CMD_SERVE_API_H

#include "cmd/pacer/serve_http.h"
#include "cmd/pacer/serve_tokens.h"

#define SERVE_API_MAX_BODY (64u * 1024u)
#define SERVE_API_MAX_APPS 256 /* apps in one POST sync */

/*
 * Route a request: path is the part after "/api/v1/". Returns 0 with *op
 * and *app_id (absolute, checked; caller frees; NULL for calls without an
 * app), PACER_ENOTFOUND for an unknown path, PACER_EINVALID for a method
 * the path does not take, or for a malformed app id (with *err).
 */
int serve_api_route(const char *method, const char *path, enum serve_api_op *op, char **app_id,
                    struct pacer_error **err);

/* The least role that may make the call. */
enum token_role serve_api_role(enum serve_api_op op);

/* "apps", "app", "history", "sync", "restart", ... "delete". */
const char *serve_api_op_name(enum serve_api_op op);

#endif
