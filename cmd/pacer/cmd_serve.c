/*
 * pacer serve: the HTTP service (serve_http.h) wired to the sync
 * engine through envsync.h. Webhooks (signed with PACER_WEBHOOK_SECRET or
 * PACER_WEBHOOK_SECRET_FILE), a timer and startup trigger syncs; /status
 * and /metrics report them; with --tokens-file the authenticated API
 * (serve_api.h, api.h) reads and steers apps. Exits 0
 * on SIGTERM/SIGINT once the sync in flight has returned.
 */

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/pacer/api.h"
#include "cmd/pacer/cli.h"
#include "cmd/pacer/envsync.h"
#include "cmd/pacer/report.h"
#include "cmd/pacer/sdnotify.h"
#include "cmd/pacer/serve_http.h"
#include "cmd/pacer/serve_tokens.h"
#include "generated/pacer_commit.h"
#include "reconcile/base/log.h"
#include "reconcile/metrics.h"

struct serve_cli {
	struct cli_common c;
	const char *listen, *branch, *tokens_file;
	int interval, insecure_no_secret;
	struct cli_apply a;
};

static const struct opt_spec serve_options[] = {
    CLI_SOURCE_ROWS(struct serve_cli),
    CLI_MARATHON_ROWS(struct serve_cli),
    CLI_STATE_ROWS(struct serve_cli),
    CLI_OUTPUT_ROWS(struct serve_cli),
    {"listen", 'l', OPT_STRING, offsetof(struct serve_cli, listen), "ADDR:PORT",
     "where to listen for webhooks, /status, /metrics (default 127.0.0.1:8090)", "PACER_LISTEN"},
    {"interval", 0, OPT_INT, offsetof(struct serve_cli, interval), "SECONDS",
     "also sync this often, 0 = only on webhooks (default 60)", "PACER_INTERVAL"},
    {"branch", 0, OPT_STRING, offsetof(struct serve_cli, branch), "BRANCH",
     "the branch whose pushes trigger a sync (default --ref, else the remote's default)",
     "PACER_BRANCH"},
    {"tokens-file", 0, OPT_STRING, offsetof(struct serve_cli, tokens_file), "FILE",
     "turn the API (/api/v1/) on: bearer tokens, lines 'ROLE NAME TOKEN' (viewer, operator, "
     "admin); not readable by others (default: the systemd credential api-tokens)",
     "PACER_TOKENS_FILE"},
    {"insecure-no-webhook-secret", 0, OPT_BOOL, offsetof(struct serve_cli, insecure_no_secret),
     NULL, "accept unsigned webhooks (dangerous: anyone who reaches the port can trigger syncs)",
     NULL},
    CLI_APPLY_ROWS(struct serve_cli),
    OPT_ROW_END,
};

/*
 * The API's tokens: --tokens-file (PACER_TOKENS_FILE), else the systemd
 * credential api-tokens; none: the API stays off. A file that exists but
 * is unsafe or malformed stops the start: a typo must not leave the API
 * open or silently closed.
 */
static int load_tokens(const char *path, struct tokens **out, struct pacer_error **err)
{
	char *cred = path ? NULL : tokens_credential_path();
	int rc = 0;

	*out = NULL;
	if (path || cred)
		rc = tokens_load(out, path ? path : cred, err);
	free(cred);
	return rc;
}

int cmd_serve(int argc, char **argv)
{
	static volatile sig_atomic_t supersede;
	struct serve_cli o = {.a = CLI_APPLY_INIT, .interval = 60};
	struct serve_options svo = SERVE_OPTIONS_INIT;
	struct sync_options so = SYNC_OPTIONS_INIT;
	struct pacer_error *err = NULL;
	struct envsync *es = NULL;
	struct serve *srv = NULL;
	struct sdnotify_probe *probe = NULL;
	struct tokens *tokens = NULL;
	struct api *api = NULL;
	char *poke = NULL;
	struct cli_env env = {0};
	char *secret = NULL;
	int npos, rc, code = PACER_EXIT_FAILED, opened = 0;

	rc = opt_parse("serve", "--source URL [--listen ADDR:PORT] [options]", serve_options, &o,
	               argc, argv, NULL, 0, &npos);
	if (rc)
		return rc > 0 ? PACER_EXIT_OK : PACER_EXIT_USAGE;
	if (cli_apply_options(&o.a, &so) || o.interval < 0) {
		fprintf(stderr, "pacer serve: --on-failure must be rollback, restart or none; "
		                "--interval >= 0\n");
		return PACER_EXIT_USAGE;
	}
	/* The secret first: refuse before touching anything without one. */
	if (serve_secret_from_env(&secret, &err))
		goto fail;
	if (!secret && !o.insecure_no_secret) {
		pacer_error_set(&err, PACER_EINVALID,
		                "no webhook secret: set PACER_WEBHOOK_SECRET or "
		                "PACER_WEBHOOK_SECRET_FILE (the secret configured on the git "
		                "host's webhook), or pass --insecure-no-webhook-secret");
		code = PACER_EXIT_USAGE;
		goto fail;
	}
	if (load_tokens(o.tokens_file, &tokens, &err)) {
		code = PACER_EXIT_USAGE;
		goto fail;
	}
	code = cli_env_open(&env, &o.c, CLI_NEED_SOURCE | CLI_NEED_MARATHON | CLI_LOCK_PER_RUN);
	if (code)
		goto done;
	opened = 1;
	code = PACER_EXIT_FAILED;

	so.flags = &env.flags;
	so.cache_tag = cli_cache_tag();
	so.stop = cli_install_signals();
	/* Newest commit wins: a push during a sync ends its wait (no rollback). */
	so.abandon = &supersede;
	if (envsync_new(&es, &env, &so, &err))
		goto fail;
	if (tokens && api_new(&api, &env, so.stop, so.ignore_instances)) {
		pacer_error_set(&err, -1, "out of memory");
		goto fail;
	}

	if (o.listen)
		svo.listen = o.listen;
	svo.secret = secret;
	svo.insecure_no_secret = o.insecure_no_secret && !secret;
	svo.interval_s = o.interval;
	svo.branch = o.branch ? o.branch : o.c.ref;
	svo.supersede = &supersede;
	svo.tokens = tokens;
	svo.api_fn = api ? api_handle : NULL;
	svo.api_ctx = api;
	svo.sync_only = envsync_run;
	/* pacer suspend/resume take effect at once, not at the next interval. */
	if (asprintf(&poke, "%s/suspended.json", env.state_dir) >= 0)
		svo.poke_file = poke;
	rc = serve_new(&srv, &svo, envsync_run_all, es, &err);
	if (rc) {
		code = rc == PACER_EINVALID ? PACER_EXIT_USAGE : PACER_EXIT_FAILED;
		goto fail;
	}
	if (metrics_set_build_info(serve_metrics(srv), PACER_VERSION, PACER_COMMIT, &err))
		goto fail;
	/* Type=notify: ready once it listens; the watchdog pings while /healthz answers. */
	if (sdnotify_probe_start(&probe, svo.listen, serve_port(srv)))
		PLOG_WARN("watchdog: cannot start the probe thread; systemd will restart pacer "
		          "after WatchdogSec=");
	sdnotify_ready();
	rc = serve_run(srv, so.stop);
	sdnotify_stopping();
	sdnotify_probe_stop(probe);
	code = rc ? PACER_EXIT_FAILED : PACER_EXIT_OK;
	if (!rc)
		PLOG_INFO("serve: stopped");
	goto done;
fail:
	cli_print_error("serve", err);
done:
	serve_free(srv);
	free(poke);
	api_free(api);
	tokens_free(tokens);
	envsync_free(es);
	if (secret) {
		memset(secret, 0, strlen(secret));
		free(secret);
	}
	pacer_error_free(err);
	if (opened)
		cli_env_release(&env);
	return code;
}
