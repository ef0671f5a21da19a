/*
 * pacer: GitOps for Marathon. The command table (after git's git.c):
 * one row per subcommand, each implemented in cmd_<name>.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/pacer/cli.h"
#include "reconcile/crash.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{"sync", cmd_sync, "make Marathon equal to the desired state (back up, apply, wait, roll back)"},
	{"diff", cmd_diff, "show what sync would change (exit 0 none, 2 changes, 1 error)"},
	{"validate", cmd_validate, "check definition files offline, as Marathon would"},
	{"backups", cmd_backups, "list backups of live definitions"},
	{"rollback", cmd_rollback, "re-apply an app's latest (or a named) backup and wait"},
	{"watch", cmd_watch, "keep Marathon in sync: sync on file changes or new commits, warn on drift"},
	{"serve", cmd_serve, "HTTP service: sync on signed webhooks and on a timer; /status, /metrics"},
	{NULL, NULL, NULL},
};

static void usage(FILE *to)
{
	fprintf(to, "usage: pacer <command> [options]   (pacer <command> --help for its options)\n\n"
		    "commands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(to, "  %-10s %s\n", c->name, c->help);
	fprintf(to,
		"\nexit codes:\n"
		"  0   in sync / success\n"
		"  1   some app is not in sync: failed, rolled back, restarted, held, degraded,\n"
		"      progressing, skipped or of unknown outcome; or another error\n"
		"  2   changes pending (diff only)\n"
		"  3   invalid desired state: nothing was applied\n"
		"  4   Marathon unreachable\n"
		"  5   git source unavailable (remote, authentication, ref or path)\n"
		"  6   another pacer run holds the lock (use --wait-lock)\n"
		"  7   the state directory belongs to another Marathon cluster: nothing was changed\n"
		"  64  usage error\n"
		"\nenvironment: PACER_MARATHON_URL, PACER_MARATHON_USER, PACER_MARATHON_PASSWORD[_FILE],\n"
		"  PACER_MARATHON_TOKEN[_FILE], PACER_SOURCE, PACER_STATE_DIR, PACER_BACKUP_DIR\n"
		"  (secrets are read only from the environment or files, never from arguments)\n");
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
		printf("pacer %s\n", PACER_VERSION);
		return PACER_EXIT_OK;
	}
	/* Test builds only (reconcile/crash.h): die at a named point. */
	if (crash_init(getenv("PACER_CRASH_AT"))) {
		fprintf(stderr, "pacer: PACER_CRASH_AT=%s: no such crash point in this build\n",
			getenv("PACER_CRASH_AT"));
		return PACER_EXIT_USAGE;
	}
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(argv[1], c->name))
			return c->fn(argc - 1, argv + 1);
	fprintf(stderr, "pacer: '%s' is not a pacer command\n\n", argv[1]);
	usage(stderr);
	return PACER_EXIT_USAGE;
}
