/*
 * pacer serve: the HTTP service (serve_http.h) wired to the sync
 * engine through runner.h. Webhooks (signed with PACER_WEBHOOK_SECRET or
 * PACER_WEBHOOK_SECRET_FILE), a timer and startup trigger syncs; /status
 * and /metrics report them; with --tokens-file the authenticated API
 * (serve_api.h, api.h) reads and steers apps. An idle cluster costs
 * nothing (idlesync.h): Marathon's event stream brings the apps changed
 * outside pacer, and an --interval tick polls the source instead of
 * syncing every app. Exits 0
 * on SIGTERM/SIGINT once the sync in flight has returned.
 */

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/pacer/api.h"
#include "cmd/pacer/cli.h"
#include "cmd/pacer/commands.h"
#include "cmd/pacer/envsync.h"
#include "cmd/pacer/ha.h"
#include "cmd/pacer/idlesync.h"
#include "cmd/pacer/notifier.h"
#include "cmd/pacer/sdnotify.h"
#include "cmd/pacer/serve_http.h"
#include "cmd/pacer/serve_tokens.h"
#include "generated/pacer_commit.h"
#include "reconcile/base/log.h"
#include "reconcile/base/secret.h"
#include "reconcile/metrics.h"

struct serve_run;

struct serve_cli {
	struct cli_common c;
	struct cli_notify n;
	const char *listen, *branch, *tokens_file;
	int interval, resync_interval, insecure_no_secret;
	int request_timeout, max_connections, max_client_connections, rate_limit;
	const char *ha; /* --ha: replicas with state in ZooKeeper (ha.h) */
	int ha_session_s, ha_backups;
	struct cli_apply a;
	struct serve_run *sr; /* from serve_prepare() to serve_release() */
};

static const struct opt_spec serve_options[] = {
    CLI_SOURCE_ROWS(struct serve_cli),
    CLI_MARATHON_ROWS(struct serve_cli),
    CLI_STATE_ROWS(struct serve_cli),
    CLI_OUTPUT_ROWS(struct serve_cli),
    {"listen", 'l', OPT_STRING, offsetof(struct serve_cli, listen), "ADDR:PORT",
     "where to listen for webhooks, /status, /metrics (default 127.0.0.1:8090)", "PACER_LISTEN"},
    {"interval", 0, OPT_INT, offsetof(struct serve_cli, interval), "SECONDS",
     "also poll the source this often and sync when it changed (every app while Marathon's "
     "event stream is down), 0 = only on webhooks and events (default 60)",
     "PACER_INTERVAL"},
    {"resync-interval", 0, OPT_INT, offsetof(struct serve_cli, resync_interval), "SECONDS",
     "sync every app at the first --interval tick after this long, catching what the event "
     "stream missed; 0 = off (default 300)",
     "PACER_RESYNC_INTERVAL"},
    {"branch", 0, OPT_STRING, offsetof(struct serve_cli, branch), "BRANCH",
     "the branch whose pushes trigger a sync (default --ref, else the remote's default)",
     "PACER_BRANCH"},
    {"tokens-file", 0, OPT_STRING, offsetof(struct serve_cli, tokens_file), "FILE",
     "turn the API (/api/v1/) and the web console (/) on: bearer tokens, lines 'ROLE NAME "
     "TOKEN' (viewer, operator, admin); not readable by others (default: the systemd "
     "credential api-tokens)",
     "PACER_TOKENS_FILE"},
    {"insecure-no-webhook-secret", 0, OPT_BOOL, offsetof(struct serve_cli, insecure_no_secret),
     NULL, "accept unsigned webhooks (dangerous: anyone who reaches the port can trigger syncs)",
     NULL},
    {"request-timeout", 0, OPT_INT, offsetof(struct serve_cli, request_timeout), "SECONDS",
     "a client must send its whole request (head and body) within this long of connecting, "
     "or of its previous answer, or it is disconnected; not reset by trickled bytes "
     "(default 10)",
     "PACER_REQUEST_TIMEOUT"},
    {"max-connections", 0, OPT_INT, offsetof(struct serve_cli, max_connections), "N",
     "connections at once; beyond, the oldest one still sending its request is closed "
     "(default 1024)",
     "PACER_MAX_CONNECTIONS"},
    {"max-client-connections", 0, OPT_INT, offsetof(struct serve_cli, max_client_connections), "N",
     "connections one address (IPv6: one /64) may have still sending their request; beyond, "
     "its oldest is closed, so a new request from it is still answered (default 64)",
     "PACER_MAX_CLIENT_CONNECTIONS"},
    {"rate-limit", 0, OPT_INT, offsetof(struct serve_cli, rate_limit), "N",
     "webhook, API and console POST requests a second per address (bursts of 2N); beyond, "
     "429 with Retry-After; webhooks with a valid signature do not count; 0 = no limit "
     "(default 10)",
     "PACER_RATE_LIMIT"},
    {"ha", 0, OPT_STRING, offsetof(struct serve_cli, ha), "zk://HOST:PORT[,...]/PATH",
     "run as one of several replicas: one leader (elected in ZooKeeper) syncs and acts, the "
     "others serve and hand webhooks and actions to it; state and backups live in ZooKeeper "
     "under PATH (credentials: PACER_HA_AUTH or PACER_HA_AUTH_FILE)",
     "PACER_HA"},
    {"ha-session-timeout", 0, OPT_INT, offsetof(struct serve_cli, ha_session_s), "SECONDS",
     "with --ha: ZooKeeper session timeout; a leader cut off stops acting within half of it, "
     "another replica leads after it (default 10)",
     "PACER_HA_SESSION_TIMEOUT"},
    {"ha-backups", 0, OPT_INT, offsetof(struct serve_cli, ha_backups), "N",
     "with --ha: backups kept per app in ZooKeeper, oldest dropped first (default 10)",
     "PACER_HA_BACKUPS"},
    CLI_APPLY_ROWS(struct serve_cli),
    CLI_NOTIFY_ROWS(struct serve_cli),
    OPT_ROW_END,
};

/*
 * getenv(3) limited to $CREDENTIALS_DIRECTORY, as a pacer_getenv_fn: the
 * tokens file's variable (PACER_TOKENS_FILE) is read by the option table,
 * so only the systemd credential is looked up here.
 */
static char *credentials_env(const char *name)
{
	return strcmp(name, "CREDENTIALS_DIRECTORY") ? NULL : getenv(name);
}

/*
 * The API's tokens: --tokens-file (PACER_TOKENS_FILE), else the systemd
 * credential api-tokens (LoadCredential=api-tokens:/etc/pacer/tokens);
 * none: the API stays off. A file that exists but is unsafe or malformed
 * stops the start: a typo must not leave the API open or silently closed.
 */
static int load_tokens(const char *path, struct tokens **out, struct pacer_error **err)
{
	char *cred = NULL;
	int rc = 0;

	*out = NULL;
	if (!path && (rc = pacer_secret_lookup(credentials_env, "PACER_API_TOKENS",
	                                       PACER_SECRET_PATH, &cred, err)))
		return rc;
	if (path || cred)
		rc = tokens_load(out, path ? path : cred, err);
	free(cred);
	return rc;
}

/* What serve holds while it runs; released by serve_release(). */
struct serve_run {
	struct envsync *es;
	struct idlesync *idle;
	struct tokens *tokens;
	struct api *api;
	struct serve *srv;
	struct notifier *nt;
	struct ha *ha; /* --ha, or NULL */
	char *secret, *poke;
	const char *listen; /* where it listens (the option or the default) */
};

/*
 * What needs only the command line and the environment, before anything
 * is opened: the webhook secret (refuse at once without one) and the
 * tokens. Returns 0 or the exit code.
 */
static int serve_check(const struct serve_cli *o, struct serve_run *sr, struct pacer_error **err)
{
	if (serve_secret_from_env(&sr->secret, err))
		return PACER_EXIT_FAILED;
	if (!sr->secret && !o->insecure_no_secret) {
		pacer_error_set(err, PACER_EINVALID,
		                "no webhook secret: set PACER_WEBHOOK_SECRET or "
		                "PACER_WEBHOOK_SECRET_FILE (the secret configured on the git "
		                "host's webhook), or pass --insecure-no-webhook-secret");
		return PACER_EXIT_USAGE;
	}
	if (load_tokens(o->tokens_file, &sr->tokens, err))
		return PACER_EXIT_USAGE;
	return 0;
}

/* The HTTP service over envsync's syncs, with the API when there are tokens. */
static int serve_open(const struct serve_cli *o, struct cli_env *env, struct sync_options *so,
                      volatile sig_atomic_t *supersede, struct serve_run *sr,
                      struct pacer_error **err)
{
	struct serve_options svo = SERVE_OPTIONS_INIT;
	struct idlesync_options io = {0};
	int rc;

	if (envsync_new(&sr->es, env, so, err))
		return PACER_EXIT_FAILED;
	io.sync = sr->es;
	io.env = env;
	io.source = o->c.source;
	io.resync_interval_s = o->resync_interval;
	io.stop = so->stop;
	io.events = ha_marathon(sr->ha); /* the stream reads: past the fence */
	if (idlesync_new(&sr->idle, &io, err))
		return PACER_EXIT_FAILED;
	if (sr->tokens && api_new(&sr->api, env, so->stop, so->ignore_instances)) {
		pacer_error_set(err, -1, "out of memory");
		return PACER_EXIT_FAILED;
	}
	if (o->listen)
		svo.listen = o->listen;
	sr->listen = svo.listen;
	svo.secret = sr->secret;
	svo.insecure_no_secret = o->insecure_no_secret && !sr->secret;
	svo.interval_s = o->interval;
	svo.branch = o->branch ? o->branch : o->c.ref;
	svo.supersede = supersede;
	svo.tokens = sr->tokens;
	svo.api_fn = sr->api ? api_handle : NULL;
	svo.api_ctx = sr->api;
	if (sr->ha) {
		svo.api_fn = sr->api ? ha_api : NULL;
		svo.api_ctx = sr->ha;
		svo.get_fn = ha_get;
		svo.get_ctx = sr->ha;
	}
	svo.sync_only = envsync_run;
	svo.poll = idlesync_poll;
	svo.poll_ctx = sr->idle;
	svo.limits.request_timeout_ms = (unsigned)o->request_timeout * 1000u;
	svo.limits.max_connections = (unsigned)o->max_connections;
	svo.limits.max_client_pending = (unsigned)o->max_client_connections;
	svo.limits.rate_off = o->rate_limit == 0;
	svo.limits.rate_per_s = (unsigned)o->rate_limit;
	svo.limits.rate_burst = 2u * (unsigned)o->rate_limit;
	/* pacer suspend/resume take effect at once, not at the next interval. */
	if (!sr->ha && asprintf(&sr->poke, "%s/suspended.json", env->state_dir) >= 0)
		svo.poke_file = sr->poke;
	rc = serve_new(&sr->srv, &svo, envsync_run_all, sr->es, err);
	if (rc)
		return rc == PACER_EINVALID ? PACER_EXIT_USAGE : PACER_EXIT_FAILED;
	if (metrics_set_build_info(serve_metrics(sr->srv), PACER_VERSION, PACER_COMMIT, err))
		return PACER_EXIT_FAILED;
	/* Deliveries are counted in /metrics. */
	if ((rc = notifier_open(&sr->nt, &o->n, &o->c, env->state, serve_metrics(sr->srv), err)))
		return rc == PACER_EINVALID ? PACER_EXIT_USAGE : PACER_EXIT_FAILED;
	envsync_set_notifier(sr->es, sr->nt, NULL);
	if (sr->ha && ha_start(sr->ha, sr->srv, sr->api ? api_handle : NULL, sr->api, err))
		return PACER_EXIT_FAILED;
	return 0;
}

/* Serve until SIGTERM/SIGINT, telling systemd. Returns the exit code. */
static int serve_until_stopped(struct serve_run *sr, volatile sig_atomic_t *stop)
{
	struct sdnotify_probe *probe = NULL;
	struct pacer_error *err = NULL;
	int rc;

	/* Not fatal: every --interval tick is then a whole sync, as while the stream is down. */
	if (idlesync_follow(sr->idle, serve_runner(sr->srv), &err))
		PLOG_ERROR("events: %s; every --interval tick syncs every app", err->message);
	pacer_error_free(err);
	/* Type=notify: ready once it listens; the watchdog pings while /healthz answers. */
	if (sdnotify_probe_start(&probe, sr->listen, serve_port(sr->srv)))
		PLOG_WARN("watchdog: cannot start the probe thread; systemd will restart pacer "
		          "after WatchdogSec=");
	sdnotify_ready();
	rc = serve_run(sr->srv, stop);
	sdnotify_stopping();
	notifier_drain(sr->nt); /* --notify-timeout at most */
	sdnotify_probe_stop(probe);
	if (rc)
		return PACER_EXIT_FAILED;
	PLOG_INFO("serve: stopped");
	return PACER_EXIT_OK;
}

/* Frees what serve_prepare() and serve_cmd() made; main() calls it after both. */
static void serve_release(struct cmd_ctx *ctx)
{
	struct serve_cli *o = ctx->opts;
	struct serve_run *sr = o->sr;

	if (!sr)
		return;
	idlesync_free(sr->idle); /* sets *stop: serve has returned */
	notifier_stop(sr->nt);   /* its senders count in serve's metrics */
	ha_free(sr->ha);         /* before the runner goes: its thread triggers it */
	serve_free(sr->srv);
	notifier_free(sr->nt);
	free(sr->poke);
	api_free(sr->api);
	tokens_free(sr->tokens);
	envsync_free(sr->es);
	pacer_secret_free(sr->secret);
	free(sr);
}

/* The options, then the secret: refuse before touching anything without one. */
static int serve_prepare(struct cmd_ctx *ctx)
{
	struct serve_cli *o = ctx->opts;
	struct sync_options so = SYNC_OPTIONS_INIT;
	struct pacer_error *err = NULL;
	int code;

	if (cli_apply_options(&o->a, &so) || o->interval < 0 || o->resync_interval < 0) {
		fprintf(stderr, "pacer serve: --on-failure must be rollback, restart or none; "
		                "--interval, --resync-interval >= 0\n");
		return PACER_EXIT_USAGE;
	}
	if (o->request_timeout < 1 || o->request_timeout > 3600 || o->max_connections < 1 ||
	    o->max_connections > 65536 || o->max_client_connections < 1 || o->rate_limit < 0 ||
	    o->rate_limit > 100000) {
		fprintf(stderr, "pacer serve: --request-timeout must be 1..3600 seconds, "
		                "--max-connections 1..65536, --max-client-connections >= 1, "
		                "--rate-limit 0..100000\n");
		return PACER_EXIT_USAGE;
	}
	if (!(o->sr = calloc(1, sizeof(*o->sr))))
		return PACER_EXIT_FAILED;
	if ((code = serve_check(o, o->sr, &err)))
		cli_print_error("serve", err);
	pacer_error_free(err);
	return code;
}

/* --ha: the environment's stores and Marathon client become a replica's (ha.h). */
static int serve_ha(const struct serve_cli *o, struct cli_env *env, volatile sig_atomic_t *stop,
                    struct serve_run *sr, struct pacer_error **err)
{
	struct ha_options ho = {0};
	int rc;

	if (!o->ha)
		return 0;
	ho.url = o->ha;
	ho.session_s = o->ha_session_s;
	ho.backups_keep = o->ha_backups;
	ho.stop = stop;
	if (!(rc = ha_open(&sr->ha, &ho, env, err)))
		return 0;
	return rc == PACER_EINVALID ? PACER_EXIT_USAGE
	       : rc == PACER_EAUTH  ? PACER_EXIT_AUTH
	                            : PACER_EXIT_UNREACHABLE;
}

static int serve_cmd(struct cmd_ctx *ctx)
{
	/* Newest commit wins: a push during a sync ends its wait (no rollback). */
	static volatile sig_atomic_t supersede;
	const struct serve_cli *o = ctx->opts;
	struct sync_options so = SYNC_OPTIONS_INIT;
	struct pacer_error *err = NULL;
	int code;

	cli_apply_options(&o->a, &so); /* checked by serve_prepare() */
	so.flags = &ctx->env.flags;
	so.cache_tag = cli_cache_tag();
	so.stop = cli_install_signals();
	so.abandon = &supersede;
	if ((code = serve_ha(o, &ctx->env, so.stop, o->sr, &err)) ||
	    (code = serve_open(o, &ctx->env, &so, &supersede, o->sr, &err)))
		cli_print_error("serve", err);
	else
		code = serve_until_stopped(o->sr, so.stop);
	/* A replica that lost its ZooKeeper session stops: its supervisor starts it again. */
	if (ha_lost(o->sr->ha))
		code = PACER_EXIT_UNREACHABLE;
	pacer_error_free(err);
	return code;
}

static const struct serve_cli serve_defaults = {.n = CLI_NOTIFY_INIT,
                                                .a = CLI_APPLY_INIT,
                                                .interval = 60,
                                                .resync_interval = 300,
                                                .request_timeout = 10,
                                                .max_connections = 1024,
                                                .max_client_connections = 64,
                                                .rate_limit = 10};

const struct cmd_spec cmd_serve_spec =
    CMD_SPEC(struct serve_cli, serve_options, "--source URL [--listen ADDR:PORT] [options]",
             .defaults = &serve_defaults, .prepare = serve_prepare, .run = serve_cmd,
             .release = serve_release);
