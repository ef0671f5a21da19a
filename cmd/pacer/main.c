/*
 * pacer: GitOps for Marathon. The command table (after git's git.c):
 * one row per subcommand, each implemented in cmd_<name>.c; the exit codes
 * and the environment variables read outside the option tables. Everything
 * that lists commands, options or variables is generated from these rows
 * (commands.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile/base/crash.h"

#include "cmd/pacer/cli.h"
#include "cmd/pacer/commands.h"
#include "generated/pacer_commit.h"

/* What every command that works on a run's state needs: Marathon and the locked state. */
#define NEEDS_ACTION (CLI_NEED_MARATHON | CLI_NEED_STATE | CMD_REMOTE)

const struct pacer_command pacer_commands[] = {
	{"sync", &cmd_sync_spec,
	 CLI_NEED_SOURCE | CLI_NEED_MARATHON | CLI_NEED_STATE | CMD_APP_IDS | CMD_REMOTE,
	 "make Marathon equal to the desired state (back up, apply, wait, roll back)"},
	{"diff", &cmd_diff_spec,
	 CLI_NEED_SOURCE | CLI_NEED_MARATHON | CLI_READ_STATE | CMD_APP_IDS,
	 "show what sync would change (exit 0 none, 2 changes, 1 error)"},
	{"status", &cmd_status_spec,
	 CLI_NEED_SOURCE | CLI_NEED_MARATHON | CLI_READ_STATE | CMD_APP_IDS | CMD_REMOTE,
	 "every app's state: synced, out of sync, degraded, held, suspended..."},
	{"history", &cmd_history_spec, CLI_READ_STATE | CMD_APP_IDS,
	 "what earlier runs did, for every app or one"},
	/* Suspensions need no lock: suspended.json is replaced atomically. */
	{"suspend", &cmd_suspend_spec,
	 CLI_NEED_BACKUPS | CLI_READ_STATE | CMD_APP_IDS | CMD_REMOTE,
	 "stop pacer from changing an app (or the whole source)"},
	{"resume", &cmd_resume_spec,
	 CLI_NEED_BACKUPS | CLI_READ_STATE | CMD_APP_IDS | CMD_REMOTE,
	 "hand a suspended app (or the whole source) back to git"},
	{"restart", &cmd_restart_spec, NEEDS_ACTION,
	 "restart an app's tasks (same definition) and wait"},
	{"cancel", &cmd_cancel_spec, NEEDS_ACTION,
	 "cancel an app's deployment (Marathon rolls back; --force: just stop)"},
	{"scale", &cmd_scale_spec, NEEDS_ACTION,
	 "run N instances of an app and suspend it from git"},
	{"stop", &cmd_stop_spec, NEEDS_ACTION, "scale an app to 0 and suspend it from git"},
	{"delete", &cmd_delete_spec, NEEDS_ACTION,
	 "back up, suspend and delete an app (--yes)"},
	/* Offline: only the log and the validation flags are set up. */
	{"validate", &cmd_validate_spec, 0, "check definition files offline, as Marathon would"},
	{"backups", &cmd_backups_spec, CLI_NEED_BACKUPS, "list backups of live definitions"},
	{"rollback", &cmd_rollback_spec, NEEDS_ACTION,
	 "re-apply an app's latest (or a named) backup and wait"},
	/* The lock is taken around each sync, not for the whole run. */
	{"watch", &cmd_watch_spec, CLI_NEED_SOURCE | CLI_NEED_MARATHON | CLI_LOCK_PER_RUN,
	 "keep Marathon in sync: sync on file changes or new commits, warn on drift"},
	{"serve", &cmd_serve_spec, CLI_NEED_SOURCE | CLI_NEED_MARATHON | CLI_LOCK_PER_RUN,
	 "HTTP service: sync on signed webhooks and on a timer; /status, /metrics"},
	{"completion", &cmd_completion_spec, CMD_NO_COMMON,
	 "print a bash or zsh completion script"},
	{NULL, NULL, 0, NULL},
};

/*
 * The exit codes: `pacer --help`, pacer(1)'s EXIT STATUS and README.md's
 * table (`pacer completion readme`) are all printed from these rows.
 * `code` marks what is typed (bold in the man page, plain in --help).
 */
const struct pacer_exit_code pacer_exit_codes[] = {
	{PACER_EXIT_OK, "in sync / success"},
	{PACER_EXIT_FAILED, "some app is not in sync: failed, rolled back, restarted, held, degraded, "
			    "progressing, skipped, interrupted or of unknown outcome; or another "
			    "error"},
	{PACER_EXIT_CHANGES, "changes pending (`diff`, `sync -n`)"},
	{PACER_EXIT_INVALID, "invalid desired state: nothing was applied"},
	{PACER_EXIT_UNREACHABLE, "Marathon unreachable or unavailable: no connection to any URL, or "
				 "502/503/504 after retries; `serve --ha`: no ZooKeeper server "
				 "answered, or the replica's session expired"},
	{PACER_EXIT_SOURCE, "git source unavailable: remote, authentication, ref or path"},
	{PACER_EXIT_LOCKED, "another pacer run holds the lock (`--wait-lock` waits instead)"},
	{PACER_EXIT_CLUSTER, "the state directory belongs to another Marathon cluster: nothing was "
			     "changed"},
	{PACER_EXIT_AUTH, "Marathon refused pacer's credentials (401/403): check "
			  "`PACER_MARATHON_USER`/`PASSWORD` or `PACER_MARATHON_TOKEN`; `serve "
			  "--ha`: ZooKeeper refused `PACER_HA_AUTH`"},
	{PACER_EXIT_DENIED, "`--server`: the API refused the token (401) or its role is too low "
			    "(403)"},
	{PACER_EXIT_USAGE, "usage error: a bad option, no `--source`, or a source directory that "
			   "does not exist; nothing is created (no `./.pacer`)"},
	{0, NULL},
};

/*
 * Secrets are read by cmd/pacer/env.c (and, for the webhook secret, by the
 * serve backend): VAR, else the file named by VAR_FILE, else the systemd
 * credential of that name (reconcile/base/secret.h).
 */
const struct pacer_env_var pacer_env_vars[] = {
	{"PACER_MARATHON_USER", PACER_ENV_SETTING, NULL, "user for Marathon's HTTP basic auth"},
	{"PACER_MARATHON_PASSWORD", PACER_ENV_SECRET, "marathon-password",
	 "password for Marathon's HTTP basic auth"},
	{"PACER_MARATHON_TOKEN", PACER_ENV_SECRET, "marathon-token",
	 "DC/OS authentication token for Marathon"},
	{"PACER_GIT_USER", PACER_ENV_SETTING, NULL, "user for a git https remote"},
	{"PACER_GIT_PASSWORD", PACER_ENV_SECRET, "git-password", "password for a git https remote"},
	{"PACER_GIT_TOKEN", PACER_ENV_SECRET, "git-token", "token for a git https remote"},
	{"PACER_GIT_SSH_KEY", PACER_ENV_SETTING, NULL,
	 "private key file for a git ssh remote (with LoadCredential=: the credential git-ssh-key)"},
	{"PACER_GIT_SSH_PASSPHRASE", PACER_ENV_SECRET, "git-ssh-passphrase",
	 "passphrase of that key"},
	{"PACER_GIT_SSH_AGENT", PACER_ENV_SETTING, NULL,
	 "use the ssh-agent of SSH_AUTH_SOCK (default: when SSH_AUTH_SOCK is set)"},
	{"PACER_GIT_KNOWN_HOSTS", PACER_ENV_SETTING, NULL,
	 "ssh known_hosts file (default ~/.ssh/known_hosts; with LoadCredential=: the credential "
	 "git-known-hosts); an unknown host is an error"},
	{"PACER_WEBHOOK_SECRET", PACER_ENV_SECRET, "webhook-secret",
	 "shared secret of the webhooks (pacer serve)"},
	{"PACER_HA_AUTH", PACER_ENV_SECRET, "ha-auth",
	 "ZooKeeper digest credentials user:password of pacer serve --ha"},
	{"PACER_SERVER_TOKEN", PACER_ENV_SECRET, "server-token",
	 "bearer token for --server (the API of a running pacer serve)"},
	{"PACER_COMMIT_STATUS_TOKEN", PACER_ENV_SECRET, "commit-status-token",
	 "token of --commit-status: GitHub (repo:status), GitLab (api), Gitea (write:repository)"},
	{"PACER_NOTIFY_WEBHOOK_SECRET", PACER_ENV_SECRET, "notify-webhook-secret",
	 "key of --notify-webhook's X-Pacer-Signature: sha256=HMAC-SHA256(key, body)"},
	{"PACER_NOTIFY_SLACK_FILE", PACER_ENV_SETTING, NULL,
	 "a file holding --notify-slack's URL, which is a credential (with LoadCredential=: the "
	 "credential notify-slack)"},
	{"PACER_NO_CACHE", PACER_ENV_SETTING, NULL,
	 "1: ignore what earlier runs worked out (the state directory's cache)"},
	/* pacer's own tests set these for the programs they run. */
	{"PACER_BIN", PACER_ENV_INTERNAL, NULL, NULL},
	{"PACER_SIM_BIN", PACER_ENV_INTERNAL, NULL, NULL},
	{"PACER_SOURCE_DIR", PACER_ENV_INTERNAL, NULL, NULL},
	{"PACER_SHARED_DIR", PACER_ENV_INTERNAL, NULL, NULL},
	{"PACER_TEST_KEEP", PACER_ENV_INTERNAL, NULL, NULL},
	{"PACER_CRASH_AT", PACER_ENV_INTERNAL, NULL, NULL},
	{NULL, 0, NULL, NULL},
};

void commands_describe(opt_describe_fn fn, void *ctx)
{
	opt_set_describer(fn, ctx);
	for (const struct pacer_command *c = pacer_commands; c->name; c++) {
		char *argv[] = {(char *)c->name, NULL};
		int n;

		/* In describe mode opt_parse() hands the table over and returns. */
		opt_parse(c->name, c->spec->usage, c->spec->options, NULL, 1, argv, NULL, 0, &n);
	}
	opt_set_describer(NULL, NULL);
}

static void usage(FILE *to)
{
	fprintf(to, "usage: pacer <command> [options]   (pacer <command> --help for its options)\n"
		    "       pacer --version\n\n"
		    "commands:\n");
	for (const struct pacer_command *c = pacer_commands; c->name; c++)
		fprintf(to, "  %-10s %s\n", c->name, c->help);
	fprintf(to, "\nexit codes:\n");
	for (const struct pacer_exit_code *e = pacer_exit_codes; e->meaning; e++) {
		fprintf(to, "  %-3d ", e->code);
		/* The table's `code` marks are for the man page and README. */
		for (const char *p = e->meaning; *p; p++)
			if (*p != '`')
				fputc(*p, to);
		fputc('\n', to);
	}
	fprintf(to, "\nenvironment: PACER_MARATHON_URL, PACER_MARATHON_USER, PACER_MARATHON_PASSWORD[_FILE],\n"
		    "  PACER_MARATHON_TOKEN[_FILE], PACER_SOURCE, PACER_STATE_DIR, PACER_BACKUP_DIR\n"
		    "  (secrets are read only from the environment, files or systemd credentials,\n"
		    "  never from arguments; see pacer(1))\n");
}

/* Collect the variables of every option table (commands_describe()). */
struct known_env {
	const char *names[256];
	size_t n;
	char files[32][64]; /* VAR_FILE of each secret */
	size_t nfiles;
};

static void add_table_env(void *ctx, const char *cmd, const char *usage_line,
			  const struct opt_spec *specs)
{
	struct known_env *k = ctx;

	for (const struct opt_spec *o = specs; o->type != OPT_END; o++) {
		size_t i = 0;

		while (o->env && i < k->n && strcmp(k->names[i], o->env))
			i++;
		if (o->env && i == k->n && k->n < sizeof(k->names) / sizeof(k->names[0]))
			k->names[k->n++] = o->env;
	}
}

/* Warn about PACER_* variables no table names: a typo would be ignored silently. */
static void warn_unknown_env(void)
{
	static struct known_env k;
	const size_t max = sizeof(k.names) / sizeof(k.names[0]);

	commands_describe(add_table_env, &k);
	for (const struct pacer_env_var *v = pacer_env_vars; v->name && k.n + 2 <= max; v++) {
		k.names[k.n++] = v->name;
		if (v->kind == PACER_ENV_SECRET && k.nfiles < sizeof(k.files) / sizeof(k.files[0])) {
			snprintf(k.files[k.nfiles], sizeof(k.files[0]), "%s_FILE", v->name);
			k.names[k.n++] = k.files[k.nfiles++];
		}
	}
	cli_warn_unknown_env(k.names, k.n);
}

/*
 * Parse argv into ctx as the row says: options, arguments, app ids. Returns
 * 1 when the command must not run (*code is then its exit code: 0 after
 * --help, PACER_EXIT_USAGE after a message), else 0.
 */
static int parse_command(const struct pacer_command *row, struct cmd_ctx *ctx, int argc,
			 char **argv, int *code)
{
	const struct cmd_spec *spec = row->spec;
	int max = spec->max_args == CMD_ANY_ARGS ? argc : spec->max_args;
	int rc;

	rc = opt_parse(row->name, spec->usage, spec->options, ctx->opts, argc, argv, ctx->args,
		       max, &ctx->nargs);
	*code = rc > 0 ? PACER_EXIT_OK : PACER_EXIT_USAGE;
	if (rc)
		return 1;
	if ((row->flags & CMD_APP_IDS) &&
	    !(ctx->ids = cli_app_ids(row->name, ctx->args, ctx->nargs)))
		return 1;
	ctx->remote = (row->flags & CMD_REMOTE) && ctx->c->server;
	return 0;
}

/* A row's flags hold both kinds: cli_env_open() must never see a CMD_* bit. */
_Static_assert((CLI_LOCK_PER_RUN | CMD_OPEN_MASK) == CMD_OPEN_MASK && CMD_OPEN_MASK < CMD_APP_IDS,
	       "the CLI_* open flags fit below the CMD_* flags");

/*
 * Run a command the way its row says: parse, prepare, open what it needs,
 * run, release. Every early return is an exit code already explained on
 * stderr (opt_parse(), cli_app_ids(), prepare and cli_env_open() print).
 */
static int run_command(const struct pacer_command *row, int argc, char **argv)
{
	const struct cmd_spec *spec = row->spec;
	struct cmd_ctx ctx = {.name = row->name, .needs = row->flags};
	int code = PACER_EXIT_FAILED, opened = 0, prepared = 0;

	/* One byte more: a command without options has size 0, and calloc(0)
	 * may give NULL. argc bounds the arguments. */
	ctx.opts = calloc(1, spec->size + 1);
	ctx.args = calloc((size_t)argc + 1, sizeof(*ctx.args));
	if (!ctx.opts || !ctx.args)
		goto done;
	if (spec->defaults)
		memcpy(ctx.opts, spec->defaults, spec->size);
	ctx.c = ctx.opts;
	if (parse_command(row, &ctx, argc, argv, &code))
		goto done;
	prepared = 1;
	if (spec->prepare && (code = spec->prepare(&ctx)))
		goto done;
	if (!ctx.remote && !(ctx.needs & CMD_NO_COMMON)) {
		if ((code = cli_env_open(&ctx.env, ctx.c, ctx.needs & CMD_OPEN_MASK)))
			goto done;
		opened = 1;
	}
	code = spec->run(&ctx);
done:
	if (prepared && spec->release)
		spec->release(&ctx);
	if (opened)
		cli_env_release(&ctx.env);
	pacer_strv_free(ctx.ids);
	free(ctx.args);
	free(ctx.opts);
	return code;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return PACER_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return PACER_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("pacer %s (commit %s)\n", PACER_VERSION, PACER_COMMIT);
		return PACER_EXIT_OK;
	}
	/* Test builds only (reconcile/crash.h): die at a named point. */
	if (crash_init(getenv("PACER_CRASH_AT"))) {
		fprintf(stderr, "pacer: PACER_CRASH_AT=%s: no such crash point in this build\n",
			getenv("PACER_CRASH_AT"));
		return PACER_EXIT_USAGE;
	}
	for (const struct pacer_command *c = pacer_commands; c->name; c++) {
		if (strcmp(argv[1], c->name))
			continue;
		cli_set_command(c->name);
		cli_log_early(argc, argv);
		if (!(c->flags & CMD_NO_COMMON))
			warn_unknown_env();
		return run_command(c, argc - 1, argv + 1);
	}
	fprintf(stderr, "pacer: '%s' is not a pacer command\n\n", argv[1]);
	usage(stderr);
	return PACER_EXIT_USAGE;
}
