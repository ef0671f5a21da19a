/*
 * ha.h: `pacer serve --ha zk://h1:2181,h2:2181,h3:2181/pacer`: several
 * replicas of serve, one leader, state in ZooKeeper.
 *
 * ha_open() swaps the opened environment's stores for ZooKeeper's
 * (backends/zk: owned set, journal, held, suspended, history, cluster,
 * backups; the local state directory keeps only the cache, the git cache
 * and the per-run lock) and wraps its Marathon client in a fence
 * (ha_fence_wrap()): a changing request is sent only while this replica
 * leads. ha_start() joins the election and runs the replica's thread:
 *   - leader: the runner (runner.h) runs syncs; a sync is triggered at
 *     once on election ("leader elected"), which resumes the journal the
 *     previous leader left; requests queued by followers are carried out;
 *     the /status document is published to ZooKeeper after each sync.
 *   - follower: the runner is held (nothing syncs); a webhook's or the
 *     API's sync is handed to the leader through the queue (once per
 *     pending sync; what started it is kept in the reason); API actions
 *     are handed over and their answer awaited (ha_api()); /status shows
 *     the leader's last one and /readyz names the leader (ha_get()).
 *     Every replica's /status has "ha": {"ready", "role", "name", "leader"}.
 *   - a replica whose ZooKeeper session expires sets the stop flag: serve
 *     ends (exit code 4) and its supervisor starts it again as a follower.
 *
 * Credentials: PACER_HA_AUTH ("user:password", or PACER_HA_AUTH_FILE, or
 * the systemd credential ha-auth): ZooKeeper digest auth, and then every
 * node pacer creates is closed to other identities.
 */
#ifndef PACER_CMD_HA_H
#define PACER_CMD_HA_H

#include <signal.h>

#include "cmd/pacer/cli.h"
#include "cmd/pacer/serve_http.h"
#include "reconcile/marathon.h"

struct ha;

struct ha_options {
	const char *url;       /* --ha */
	int session_s;         /* --ha-session-timeout; 0 = 10 */
	int backups_keep;      /* --ha-backups; 0 = 10 */
	/* The serve's stop flag: set when the ZooKeeper session is lost. */
	volatile sig_atomic_t *stop;
};

/*
 * Connect and swap env's stores and Marathon client (see above). env is
 * borrowed until ha_free(). Returns 0, or the error's code (PACER_EINVALID:
 * a bad URL or credential file; PACER_EUNREACHABLE: no ZooKeeper answered;
 * PACER_EAUTH: credentials refused).
 */
int ha_open(struct ha **out, const struct ha_options *o, struct cli_env *env,
	    struct pacer_error **err);

/*
 * Join the election as "<hostname>:<port>" (the port srv listens on) and
 * start the replica's thread. api_fn/api_ctx: what carries out an API call
 * here (api_handle()), for requests handed over by followers (NULL: no
 * API). Call before serve_run().
 */
int ha_start(struct ha *h, struct serve *srv, serve_api_fn api_fn, void *api_ctx,
	     struct pacer_error **err);

/* The Marathon client behind the fence (borrowed), for reading only; NULL when h is NULL. */
struct pacer_marathon *ha_marathon(struct ha *h);

/* serve_options.api_fn with ctx h: reads here, actions on the leader. */
unsigned ha_api(void *h, const struct serve_api_call *call, struct json_object **reply);

/* serve_options.get_fn with ctx h: /readyz, and a follower's /status. */
int ha_get(void *h, const char *url, unsigned *status, struct json_object **body);

/* 1 when serve stopped because the ZooKeeper session was lost. */
int ha_lost(struct ha *h);

/* Stop the thread, leave the election, give env its own pointers back (the
 * ZooKeeper stores freed), close the session. NULL is a no-op. */
void ha_free(struct ha *h);

/*
 * The fence (ha_fence.c): a client over in (owned from now on) whose
 * changing calls fail with PACER_ECANCELLED, unsent, unless
 * leading(ctx). NULL when out of memory (in untouched). unwrap frees the
 * wrapper and hands in back.
 */
struct pacer_marathon *ha_fence_wrap(struct pacer_marathon *in, int (*leading)(void *ctx),
				     void *ctx);
struct pacer_marathon *ha_fence_unwrap(struct pacer_marathon *m);
/* The client behind the fence m (borrowed). */
struct pacer_marathon *ha_fence_inner(struct pacer_marathon *m);

#endif
