/*
 * pacer diff: what sync would change. Exit 0 when in sync, 2 when changes
 * are pending.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "backends/fs/state.h"
#include "cmd/pacer/cli.h"
#include "cmd/pacer/report.h"

struct diff_cli {
	struct cli_common c;
	int prune, ignore_instances, show_unchanged;
};

static const struct opt_spec diff_options[] = {
	CLI_SOURCE_ROWS(struct diff_cli),
	CLI_MARATHON_ROWS(struct diff_cli),
	CLI_STATE_ROWS(struct diff_cli),
	CLI_OUTPUT_ROWS(struct diff_cli),
	{"prune", 0, OPT_BOOL, offsetof(struct diff_cli, prune), NULL,
	 "also show the apps sync --prune would delete", "PACER_PRUNE"},
	{"ignore-instances", 0, OPT_BOOL, offsetof(struct diff_cli, ignore_instances), NULL,
	 "never report instances changes", "PACER_IGNORE_INSTANCES"},
	{"all", 'a', OPT_BOOL, offsetof(struct diff_cli, show_unchanged), NULL,
	 "list unchanged apps too", NULL},
	OPT_ROW_END,
};

int cmd_diff(int argc, char **argv)
{
	struct diff_cli o = {0};
	struct sync_options so = SYNC_OPTIONS_INIT;
	struct sync_result *res = NULL;
	struct pacer_error *err = NULL;
	struct cli_env env;
	struct report_opts ro = {0, 0, 0};
	char *pos[256], **ids = NULL;
	int npos, rc, code;

	rc = opt_parse("diff", "[APP_ID...] --source DIR|URL [--marathon URL[,URL...]] [options]",
		       diff_options, &o, argc, argv, pos, 256, &npos);
	if (rc)
		return rc > 0 ? PACER_EXIT_OK : PACER_EXIT_USAGE;
	/* Only these apps, and what they depend on (the plan keeps the order). */
	if (!(ids = cli_app_ids("diff", pos, npos)))
		return PACER_EXIT_USAGE;
	/* Reading only: an existing state directory is read without its lock. */
	code = cli_env_open(&env, &o.c, CLI_NEED_SOURCE | CLI_NEED_MARATHON | CLI_READ_STATE);
	if (code) {
		pacer_strv_free(ids);
		return code;
	}

	so.dry_run = 1;
	so.prune = o.prune;
	so.force_prune = 1; /* a diff shows what would go; sync applies the guard */
	so.ignore_instances = o.ignore_instances;
	so.flags = &env.flags;
	so.only = npos ? (const char *const *)ids : NULL;
	so.nonly = (size_t)npos;
	so.cache_tag = cli_cache_tag();

	/*
	 * The state is read without the lock: a dry run changes nothing of it
	 * but the cache, which is replaced by rename, never edited in place,
	 * so a sync writing it at the same time is harmless (its entries are
	 * facts: any version of the file is right).
	 */
	rc = sync_run(env.source, env.marathon, NULL, env.state, &so, &res, &err);
	ro.show_unchanged = o.show_unchanged;
	ro.dry_run = 1;
	code = report_sync_opts("diff", &o.c, res, rc, err, &ro);

	sync_result_free(res);
	pacer_error_free(err);
	cli_env_release(&env);
	pacer_strv_free(ids);
	return code;
}
