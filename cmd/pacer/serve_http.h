/*
 * serve_http.h: the `pacer serve` HTTP service (libmicrohttpd): the front
 * end that turns webhooks, API calls, the interval and changes of the
 * suspensions file into triggers of a runner (runner.h), and reports its
 * status. (serve_http.c is the service, serve_api.c the /api/v1/ routes,
 * serve_tokens.c the API's bearer tokens; the webhooks' signatures are
 * backends/webhook/.) It syncs when a merge lands (webhooks), once at
 * start, and every `interval_s` seconds, or, with serve_options.poll, when
 * that tick's poll finds a change; and it reports what it did.
 *
 * Endpoints:
 *   POST /hooks/github|gitlab|gitea|generic
 *        verify the signature (webhook.h) -> 401 {"status":"unauthorized"}
 *        and nothing triggered when it is missing or wrong (the body
 *        says so without naming any setting of the server); body larger
 *        than max_body -> 413 (Content-Length checked up front, the
 *        streamed size too); malformed -> 400; an event that does not
 *        concern the tracked branch -> 202 {"status":"ignored","reason"};
 *        GitHub ping -> 200 {"status":"pong"}; a triggering event ->
 *        202 {"status":"queued","sync_id":N} at once. A signed delivery
 *        whose delivery id (webhook_delivery_id()) was seen before, for
 *        the same provider and event -> 202 {"status":"duplicate",
 *        "delivery":ID} and nothing triggered (serve_options.replay_memory).
 *   GET  /healthz  -> 200 "ok"
 *   Webhooks and /api/v1/ calls beyond serve_options.limits' rate of their
 *   source address -> 429 {"status":"error"} with Retry-After, the body
 *   unread. A connection that has not sent its whole request within the
 *   request deadline is closed without an answer (serve_guard.h).
 *   GET  /status   -> 200 JSON:
 *        {"running": bool, "running_sync_id": N|null,
 *         "queued": bool, "queued_sync_id": N|null,
 *         "interval_seconds": n, "next_run": "RFC 3339"|null,
 *         "syncs": total syncs run,
 *         "last_success": "RFC 3339"|null,
 *         "last_sync": null | {"id", "reason", "result" (converged|failed|
 *            invalid|unreachable), "converged", "commit"|null,
 *            "started", "finished" (RFC 3339 UTC), "duration_seconds",
 *            "apps": [...] (the "apps" array of the sync's status JSON,
 *            per-app outcomes), "diagnostics": [...] (likewise, when
 *            present)}}
 *   GET  /metrics  -> Prometheus text format 0.0.4 (metrics.h families)
 *   /, /login, /app/..., /history, /events, /assets/..., /action/...
 *                  -> the web console (console.h), with the API's tokens;
 *        without them 404 saying how to turn it on.
 *   /api/v1/...    -> the authenticated API (api.h), only with
 *        serve_options.tokens; without it every /api/v1/ request gets 404
 *        "not enabled" (how to enable it is in the log, not told to callers).
 *
 * Syncs: the server's runner (runner.h) runs them on its worker thread,
 * one at a time. A trigger that arrives while a sync runs marks one
 * follow-up sync as pending; every further trigger joins that pending sync
 * (and gets its sync id), so a burst of hooks yields at most two syncs and
 * no trigger is ever lost: the follow-up starts after the last trigger
 * arrived, so it sees every commit they announced. With
 * serve_options.supersede a webhook also cuts the running sync's wait
 * short (newest commit wins). Every sync logs "serve: sync=N started" and
 * "serve: sync=N finished result=... commit=..." and is recorded in
 * /metrics.
 *
 * The secret and the signatures are never logged; webhook bodies are not
 * logged either.
 *
 * Threads: serve_run() runs the HTTP event loop in the calling thread and
 * the syncs in the runner's worker thread, which it starts and joins. sync_fn is called from
 * that worker thread only, never twice at once.
 */
#ifndef PACER_CMD_SERVE_HTTP_H
#define PACER_CMD_SERVE_HTTP_H

#include <signal.h>
#include <stddef.h>

#include "cmd/pacer/serve_guard.h"
#include "reconcile/base/error.h"

struct json_object;
struct metrics;
struct runner;
struct serve;
struct tokens;

/* What an API call asks for (api.h routes a request to one of these). */
enum serve_api_op {
	SERVE_API_APPS = 0, /* GET apps */
	SERVE_API_APP,      /* GET apps/{id} */
	SERVE_API_HISTORY,  /* GET history[?app=ID&limit=N] */
	SERVE_API_SYNC,     /* POST sync (handled by the server: a trigger) */
	SERVE_API_RESTART,  /* POST apps/{id}/restart */
	SERVE_API_CANCEL,   /* POST apps/{id}/cancel   {"force": bool} */
	SERVE_API_SUSPEND,  /* POST apps/{id}/suspend  {"reason": "..."} */
	SERVE_API_RESUME,   /* POST apps/{id}/resume */
	SERVE_API_ROLLBACK, /* POST apps/{id}/rollback {"backup": "<name>"} */
	SERVE_API_SCALE,    /* POST apps/{id}/scale    {"instances": N} */
	SERVE_API_DELETE,   /* DELETE apps/{id} */
};

/* One authenticated API call, handed to serve_api_fn. Everything is borrowed. */
struct serve_api_call {
	enum serve_api_op op;
	const char *app_id; /* absolute ("/shop/api"), checked by appid_check(); or NULL */
	struct json_object
	    *body;       /* the request's JSON object (query arguments for GETs); or NULL */
	const char *who; /* the token's name */
	const char *via; /* what the call came through: "api" (NULL) or "console" */
};

/*
 * Carry out an API call (everything but SERVE_API_SYNC). Runs on an API
 * thread of the server, never on the event loop, at most
 * SERVE_API_THREADS at once; it may block (take the state lock, wait for
 * a deployment) but should honour the service's stop flag. Returns the
 * HTTP status and sets *reply to a new JSON object (the server takes the
 * reference; NULL answers {"status":"error"}).
 */
typedef unsigned (*serve_api_fn)(void *ctx, const struct serve_api_call *call,
                                 struct json_object **reply);
#define SERVE_API_THREADS 4

/*
 * Like serve_sync_fn, of some apps only: only is a NULL-terminated list of
 * absolute app ids (borrowed), or NULL for every app.
 */
typedef int (*serve_sync_only_fn)(void *ctx, const char *reason, const char *const *only,
                                  struct json_object **status_out);

/*
 * What an interval tick does instead of a whole sync (serve_options.poll):
 * look for a change cheaply and trigger the syncs it calls for on r
 * (runner_trigger()). Runs on the runner's worker between syncs, so it may
 * read what the syncs read (the git cache).
 */
typedef void (*serve_poll_fn)(void *ctx, struct runner *r);

/*
 * GET routes of the caller's own (serve --ha: /readyz, a follower's
 * /status), asked before the built-in ones: return 1 with *status and
 * *body (a new JSON object; the server takes the reference) to answer, 0
 * to leave the request to the server. Runs on the event loop: must not
 * block.
 */
typedef int (*serve_get_fn)(void *ctx, const char *url, unsigned *status,
                            struct json_object **body);

struct serve_options {
	unsigned version;
	/* "IP:PORT", "[IPv6]:PORT" or "host:PORT"; default "127.0.0.1:8090"; port 0 = any */
	const char *listen;
	/* shared webhook secret (copied); NULL refuses to start unless insecure_no_secret */
	const char *secret;
	/* accept unsigned webhooks (--insecure-no-webhook-secret); only when secret is NULL */
	int insecure_no_secret;
	size_t max_body; /* largest webhook body accepted; default 1 MiB */
	int interval_s;  /* also sync every interval_s seconds; 0 = off */
	/* the tracked branch (copied); NULL = the repository's default branch (webhook.h) */
	const char *branch;
	/*
	 * Newest commit wins: when not NULL, a webhook that triggers a sync
	 * while one is running sets *supersede to 1, so the running sync (given
	 * the same flag as sync_options.abandon) stops waiting for its
	 * deployments, without rolling them back, and the follow-up sync applies
	 * the newer commit with force at once. Cleared before each sync starts.
	 * Timer syncs never supersede.
	 */
	volatile sig_atomic_t *supersede;
	/*
	 * The API (api.h): tokens (borrowed, must outlive the server; NULL =
	 * the API is off), the function that carries out calls and its ctx,
	 * and the sync of some apps for POST sync {"apps": [...]} (NULL: such
	 * a sync syncs every app; called with serve_new()'s ctx, from the sync
	 * worker like sync_fn).
	 */
	const struct tokens *tokens;
	serve_api_fn api_fn;
	void *api_ctx;
	serve_sync_only_fn sync_only;
	/*
	 * A file whose change (mtime, size or inode) triggers a sync at once
	 * (reason "suspensions changed"),
	 * e.g. <state-dir>/suspended.json: `pacer suspend`/`resume` take effect
	 * without waiting for the next interval. Looked at every loop tick
	 * (100 ms, one stat()); NULL = none. Copied.
	 */
	const char *poke_file;
	/*
	 * NULL: every interval tick is a whole sync (reason "interval"). Else
	 * a tick runs poll(poll_ctx, runner) on the sync worker, which decides
	 * what to sync (serve_poll_fn).
	 */
	serve_poll_fn poll;
	void *poll_ctx;
	/*
	 * How many webhook deliveries are remembered (by their delivery ids,
	 * webhook_delivery_id()) so that a replay is answered 202 "duplicate"
	 * and triggers nothing; default 4096 (0 = default). In memory only.
	 */
	unsigned replay_memory;
	/*
	 * What keeps the service answering under abusive clients: the request
	 * deadline, the connection caps and the rate limit (serve_guard.h).
	 */
	struct serve_limits limits;
	/* GET routes asked first (serve_get_fn); NULL = none. */
	serve_get_fn get_fn;
	void *get_ctx;
};
#define SERVE_OPTIONS_VERSION 1
#define SERVE_OPTIONS_INIT                                                                         \
	{                                                                                          \
		SERVE_OPTIONS_VERSION, "127.0.0.1:8090", NULL, 0, 1u << 20, 0, NULL, NULL, NULL,   \
		    NULL, NULL, NULL, NULL, NULL, NULL, 4096, SERVE_LIMITS_INIT, NULL, NULL        \
	}

/*
 * Run one whole sync. reason says what triggered it ("startup", "interval",
 * "github push to main at 1a2b3c4d5e6f"). Return 0 when it converged, else
 * the sync's code (PACER_EINVALID: desired state did not load,
 * PACER_EUNREACHABLE: Marathon or the remote could not be reached, other:
 * failed). Set *status_out to a new JSON object describing the run (the
 * sync_result_to_json() shape: "revision" or "commit", "converged",
 * "apps":[{"id","outcome",...}]) or leave it NULL; the server takes that
 * reference. The function should honour the same stop flag as serve_run()
 * so that a stop does not wait for a whole deployment.
 */
typedef int (*serve_sync_fn)(void *ctx, const char *reason, struct json_object **status_out);

/*
 * Bind the listening socket and prepare the service; nothing is synced
 * until serve_run(). opts may be NULL (defaults: then no secret, so it
 * refuses). Returns 0 and *out (free with serve_free()), or
 * PACER_EINVALID when there is no secret and insecure_no_secret is not set
 * (the message names PACER_WEBHOOK_SECRET and PACER_WEBHOOK_SECRET_FILE)
 * or the listen address is malformed, PACER_EIO when the address cannot be
 * bound (in use, permission), -1 when out of memory.
 */
int serve_new(struct serve **out, const struct serve_options *opts, serve_sync_fn sync_fn,
              void *ctx, struct pacer_error **err);

/* The sync queue (borrowed, valid until serve_free()): for triggers of the caller's own. */
struct runner *serve_runner(struct serve *s);

/* The /status document (described above), a new object the caller releases. Thread-safe. */
struct json_object *serve_status_json(struct serve *s);

/* The bound TCP port (useful with port 0). */
int serve_port(const struct serve *s);

/*
 * Serve until *stop becomes non-zero (a signal handler sets it; it is
 * checked at least every 100 ms). Starts the sync worker and queues the
 * startup sync. On stop: stops taking requests, waits for a running sync
 * to return (pending ones are dropped) and returns 0. Returns PACER_EIO when
 * the event loop fails. Call at most once per server.
 */
int serve_run(struct serve *s, volatile sig_atomic_t *stop);

/*
 * The server's metrics registry (borrowed, valid until serve_free()); for
 * cmd/ to add its own series. Thread-safe.
 */
struct metrics *serve_metrics(struct serve *s);

/* Close the socket and free. NULL is a no-op. Must not run concurrently with serve_run(). */
void serve_free(struct serve *s);

/*
 * The webhook secret from the environment: pacer_secret_lookup() of
 * PACER_WEBHOOK_SECRET (the value, the file PACER_WEBHOOK_SECRET_FILE
 * names, or the systemd credential webhook-secret). Returns 0 and *out
 * (caller frees, with pacer_secret_free() to wipe it; NULL when none is
 * set), PACER_EINVALID when both variables are set or the file is empty or
 * not one line, PACER_EIO when the file cannot be read. The secret is
 * registered with the log redaction before this returns.
 */
int serve_secret_from_env(char **out, struct pacer_error **err);

#endif
