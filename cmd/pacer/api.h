/*
 * api.h (cmd): what the calls of `pacer serve`'s API do (the HTTP side,
 * routing and tokens are serve_api.h and serve_tokens.h). Every call reuses what the
 * commands use: status_collect() for GET apps, history_load(),
 * action_run() for restart/cancel/scale/delete, suspend.h, restore_app().
 *
 * The state directory: every call but GET history takes its lock, as the
 * CLI does, waiting (polling) for a running sync for at most
 * API_LOCK_WAIT_S seconds (then 409 "a sync is in progress"; a read may
 * ask to wait less with {"lock_wait": SECONDS} in its call's body, as the
 * web console does so as to say at once that a sync runs); so no call
 * runs beside a sync, and calls never run beside each other (one mutex),
 * which also keeps the shared source and Marathon client to one user at a
 * time.
 *
 * Long calls wait, bounded: restart, cancel, scale, rollback and delete
 * answer once the app runs healthy (or is gone), at most {"timeout": N}
 * seconds (default 300, at most 1800), like `pacer restart` does; 200 with
 * {"status":"done", "app", "action", "deployment", "backup", "suspended"}.
 * A stop of the service ends the wait (the journal hands the deployment
 * to the next run). Errors answer {"status":"error", "error", "code",
 * "pacer_code"} with 404 (no such app or backup), 400 (bad argument), 409
 * (lock), 502 (Marathon unreachable), 504 (timeout) or 500.
 */
#ifndef PACER_CMD_API_H
#define PACER_CMD_API_H

#include <signal.h>

#include "cmd/pacer/cli.h"
#include "cmd/pacer/serve_http.h"

#define API_LOCK_WAIT_S 120

struct api;

/*
 * env is borrowed (opened with source, Marathon, and state per run) and
 * must outlive the api; stop is the service's stop flag (borrowed).
 * Returns 0 and *out (api_free()), or -1 when out of memory.
 */
int api_new(struct api **out, struct cli_env *env, volatile sig_atomic_t *stop,
	    int ignore_instances);
void api_free(struct api *a);

/* The serve_api_fn: ctx is a struct api. */
unsigned api_handle(void *ctx, const struct serve_api_call *call, struct json_object **reply);

#endif
