/*
 * client.h: the Marathon REST client (libcurl + json-c).
 *
 * marathon_new() builds the `struct pacer_marathon` the reconcile core uses
 * (reconcile/marathon.h: return codes, ownership and thread safety are as
 * documented there), and the extra calls below that only cmd/ uses take the
 * same handle. Every call may be made from several threads at once.
 *
 * Behaviour of every request:
 * - Several base URLs ("http://a:8080,http://b:8080"): on a connection error
 *   the next URL is tried; the URL that answered last is tried first next
 *   time. When none answers, the error is PACER_EUNREACHABLE and its message
 *   names every URL tried. A base URL ending in "/v2" (Marathon's API root,
 *   as its docs write it) is used without it, with a warning: pacer adds
 *   "/v2/..." itself.
 * - Redirects (301/302/303/307/308, e.g. a standby pointing at the leader)
 *   are followed, at most 5, keeping the method, the body and the
 *   credentials; an https -> http redirect is refused.
 * - Reads (GET) are retried `retries` times on connection errors and
 *   502/503/504, with exponential backoff (backoff_ms, doubling, capped at
 *   10 s) and jitter. A request that changes Marathon (PUT, POST, DELETE)
 *   is retried only when it never left (the connection could not be made):
 *   once it may have reached Marathon — the connection broke after sending,
 *   the reply timed out, or Marathon answered 5xx — it fails with
 *   PACER_EUNKNOWN, and the caller reads the truth back before anything
 *   else (reconcile/apply.c). Nothing else is retried.
 * - Connections are kept alive and reused (a small pool of curl handles).
 * - Bodies sent carry `Content-Type: application/json`; replies are capped
 *   at max_body bytes (bigger is an error, never an unbounded allocation).
 * - Errors carry the HTTP status, the URL (never credentials) and a message
 *   with Marathon's "message" and rendered "details", e.g.
 *   "PUT http://h:8080/v2/apps/x?...: 422 Object is not valid: /cpus: error.min".
 *   App calls also set the error's app id.
 * - Each request is logged at debug level: method, URL, status, time. Never
 *   credentials.
 */
#ifndef PACER_MARATHON_CLIENT_H
#define PACER_MARATHON_CLIENT_H

#include <signal.h>
#include <stddef.h>

#include "reconcile/base/error.h"
#include "reconcile/marathon.h"

struct json_object;

/* Replies bigger than this are refused (PACER_EHTTP), unless max_body says otherwise. */
#define MARATHON_BODY_CAP ((size_t)256 << 20)

#define MARATHON_OPTIONS_VERSION 1

/* The defaults, in one place (MARATHON_OPTIONS_INIT and marathon_new()). */
#define MARATHON_DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define MARATHON_DEFAULT_TIMEOUT_MS 30000L
#define MARATHON_DEFAULT_RETRIES 4
#define MARATHON_DEFAULT_BACKOFF_MS 200L

/*
 * Every string is borrowed: the caller keeps it alive until marathon_new()
 * returns (which copies what it keeps) and frees it afterwards. Credentials
 * come from the caller (cmd/pacer/env.h reads the environment and the
 * secret files), never from this backend.
 */
struct marathon_options {
	unsigned version; /* MARATHON_OPTIONS_VERSION */
	const char *urls; /* "http://a:8080,http://b:8080"; user:pass@ in a URL is taken
	                     as basic auth and removed from the URL */
	const char *user; /* basic auth, with password */
	const char *password;
	const char *token;       /* DC/OS: "Authorization: token=<token>"; not with user */
	const char *ca_file;     /* CA bundle for https, NULL for the system one */
	int insecure;            /* 1: do not verify TLS certificates (explicit opt-in) */
	long connect_timeout_ms; /* <= 0: the default, 5000 */
	long timeout_ms;         /* whole request; <= 0: the default, 30000 */
	int retries;             /* 0 = no retry; < 0: the default, 4 */
	long backoff_ms;         /* first retry delay; <= 0: the default, 200 */
	size_t max_body;         /* biggest reply accepted; 0: MARATHON_BODY_CAP */
};

#define MARATHON_OPTIONS_INIT                                                                      \
	{                                                                                          \
		.version = MARATHON_OPTIONS_VERSION,                                               \
		.connect_timeout_ms = MARATHON_DEFAULT_CONNECT_TIMEOUT_MS,                         \
		.timeout_ms = MARATHON_DEFAULT_TIMEOUT_MS, .retries = MARATHON_DEFAULT_RETRIES,    \
		.backoff_ms = MARATHON_DEFAULT_BACKOFF_MS,                                         \
	}

/*
 * Make a client. *out is the vtable; free it with pacer_marathon_free().
 * Nothing is sent to Marathon here (use marathon_ping() to check). The
 * options are copied. Fails with PACER_EINVALID for no URL, a URL that is
 * not http(s), user without password or both basic auth and a token.
 */
int marathon_new(struct pacer_marathon **out, const struct marathon_options *o,
                 struct pacer_error **err);

/*
 * Extra calls used by cmd/ only. `m` must come from marathon_new(); anything
 * else gives PACER_EINVALID. Conventions as in reconcile/marathon.h.
 */

/* GET /ping: 0 when Marathon answered 2xx. */
int marathon_ping(struct pacer_marathon *m, struct pacer_error **err);

/* GET /v2/leader: *out is "host:port" (caller frees with free()).
 * PACER_ENOTFOUND when Marathon has no leader. */
int marathon_leader(struct pacer_marathon *m, char **out, struct pacer_error **err);

/* PUT /v2/apps/{id}?partialUpdate=true[&force=true] with {"instances":n}
 * (flags: PACER_MF_FORCE). */
int marathon_scale_app(struct pacer_marathon *m, const char *id, int instances, unsigned flags,
                       struct pacer_deploy_ref *out, struct pacer_error **err);

/* GET /v2/apps/{id}/versions: *out is the array of version strings (caller
 * owns, json_object_put()). */
int marathon_app_versions(struct pacer_marathon *m, const char *id, struct json_object **out,
                          struct pacer_error **err);

/* GET /v2/apps/{id}/versions/{version}: *out is the app as it was (caller owns,
 * json_object_put()). */
int marathon_app_version(struct pacer_marathon *m, const char *id, const char *version,
                         struct json_object **out, struct pacer_error **err);

/* GET /v2/apps/{id}/tasks: *out is the "tasks" array (caller owns, json_object_put()). */
int marathon_list_tasks(struct pacer_marathon *m, const char *id, struct json_object **out,
                        struct pacer_error **err);

/* Flag for marathon_kill_task(): scale=true (instances decreases; a deployment). */
#define MARATHON_KILL_SCALE (1u << 8)

/*
 * DELETE /v2/apps/{app_id}/tasks/{task_id}?scale=..&force=.. (flags:
 * MARATHON_KILL_SCALE, PACER_MF_FORCE). With scale, out (may be NULL) names
 * the deployment; without, out is zeroed.
 */
int marathon_kill_task(struct pacer_marathon *m, const char *app_id, const char *task_id,
                       unsigned flags, struct pacer_deploy_ref *out, struct pacer_error **err);

/*
 * One Server-Sent Event. event_type is the "event:" field ("message" when
 * absent); data is the parsed "data:" JSON, borrowed for the call (take a
 * reference with json_object_get() to keep it). Return 0 to go on reading,
 * anything else to stop: marathon_events_open() then returns 0.
 */
typedef int (*marathon_event_cb)(void *ctx, const char *event_type, struct json_object *data);

/*
 * Stream GET /v2/events (Accept: text/event-stream), optionally filtered by
 * the NULL-terminated event_types (may be NULL: all events), calling cb per
 * event. Redirects (a standby's 302 to the leader) are followed and the URLs
 * are failed over as for any request, but nothing is retried: the caller
 * reconnects, with backoff.
 *
 * Returns 0 when the stream ended, *stop became non-zero (checked at least
 * once a second; stop may be NULL) or cb asked to stop; a negative code
 * otherwise (PACER_ETIMEOUT when not even a heartbeat came for 30 s). Data
 * lines that are not JSON are logged and skipped.
 */
int marathon_events_open(struct pacer_marathon *m, const char *const *event_types,
                         marathon_event_cb cb, void *ctx, volatile sig_atomic_t *stop,
                         struct pacer_error **err);

#endif
