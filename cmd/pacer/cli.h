/*
 * cli.h: what the pacer subcommands share: exit codes, the common options
 * (source, Marathon, state) and the setup that turns them into backends.
 *
 * Each subcommand is cmd_<name>.c: main() parses its option table and opens
 * what its row asks for (commands.h); the command calls one function of
 * reconcile/, maps the result to an exit code and frees.
 */
#ifndef PACER_CMD_CLI_H
#define PACER_CMD_CLI_H

#include <signal.h>
#include <stddef.h>

#include "cmd/pacer/options.h"
#include "reconcile/backup.h"
#include "reconcile/base/error.h"
#include "reconcile/marathon.h"
#include "reconcile/model/appdef.h"
#include "reconcile/source.h"
#include "reconcile/sync.h"

/*
 * Exit codes. What each means is said once, in main.c's pacer_exit_codes[]
 * (commands.h), from which --help, pacer(1) and README.md's table come.
 */
enum {
	PACER_EXIT_OK = 0,
	PACER_EXIT_FAILED = 1,
	PACER_EXIT_CHANGES = 2,
	PACER_EXIT_INVALID = 3,
	PACER_EXIT_UNREACHABLE = 4,
	PACER_EXIT_SOURCE = 5,
	PACER_EXIT_LOCKED = 6,
	PACER_EXIT_CLUSTER = 7,
	PACER_EXIT_AUTH = 8,
	PACER_EXIT_DENIED = 9,
	PACER_EXIT_USAGE = 64,
};

/* Options shared by sync, diff, watch and serve. */
struct cli_common {
	const char *source;     /* directory or git URL */
	const char *ref;        /* git ref */
	const char *path;       /* subdirectory in the git tree */
	int git_timeout;        /* seconds a git fetch may see no progress; 0: default */
	const char *marathon;   /* comma-separated URLs */
	const char *ca_file;
	int insecure;
	int request_timeout;    /* seconds for one request to Marathon; 0: the client's default */
	const char *state_dir;
	const char *backup_dir;
	int wait_lock;
	const char *mesos_role; /* server flags used for validation */
	const char *features;
	const char *output;     /* text | json */
	const char *log_level;
	int quiet;
	const char *log_format; /* text | logfmt | json */
	const char *server;     /* --server URL: act through a running pacer serve's API */
};

/* Rows for struct cli_common embedded as field `c` of the command's struct. */
#define CLI_SOURCE_ROWS(type)                                                                      \
	{"source", 's', OPT_STRING, offsetof(type, c.source), "DIR|URL",                         \
	 "desired state: a directory, or a git URL (https://, ssh://, git@host:repo, file://)",  \
	 "PACER_SOURCE"},                                                                          \
	{"ref", 0, OPT_STRING, offsetof(type, c.ref), "REF",                                      \
	 "git branch, tag or commit (default: the remote's default branch)", "PACER_GIT_REF"},    \
	{"path", 0, OPT_STRING, offsetof(type, c.path), "DIR",                                    \
	 "subdirectory of the git tree holding the definitions", "PACER_GIT_PATH"},                \
	{"git-timeout", 0, OPT_INT, offsetof(type, c.git_timeout), "SECONDS",                     \
	 "a git fetch that sees no progress this long fails (default 60); signals stop it at once", \
	 "PACER_GIT_TIMEOUT"}

#define CLI_MARATHON_ROWS(type)                                                                    \
	{"marathon", 'm', OPT_STRING, offsetof(type, c.marathon), "URL[,URL...]",                \
	 "Marathon URLs, tried in order on connection errors (default http://127.0.0.1:8080)",    \
	 "PACER_MARATHON_URL"},                                                                    \
	{"marathon-ca-file", 0, OPT_STRING, offsetof(type, c.ca_file), "FILE",                             \
	 "CA bundle for Marathon's TLS certificate", "PACER_MARATHON_CA_FILE"},                             \
	{"marathon-insecure", 0, OPT_BOOL, offsetof(type, c.insecure), NULL,                               \
	 "do not verify Marathon's TLS certificate (dangerous)", "PACER_MARATHON_INSECURE"},                \
	{"marathon-timeout", 0, OPT_INT, offsetof(type, c.request_timeout), "SECONDS",            \
	 "time one request to Marathon may take (default 30); a change whose reply does not "      \
	 "come in time is read back, never sent again blindly",                                    \
	 "PACER_MARATHON_TIMEOUT"},                                                                \
	{"mesos-role", 0, OPT_STRING, offsetof(type, c.mesos_role), "ROLE",                       \
	 "Marathon's --mesos_role, for validation (default *)", "PACER_MESOS_ROLE"},               \
	{"enable-features", 0, OPT_STRING, offsetof(type, c.features), "LIST",                    \
	 "Marathon's --enable_features, for validation (e.g. secrets,external_volumes)",           \
	 "PACER_ENABLE_FEATURES"}

#define CLI_STATE_ROWS(type)                                                                       \
	{"state-dir", 0, OPT_STRING, offsetof(type, c.state_dir), "DIR",                          \
	 "lock, owned apps, git cache, what earlier runs worked out (PACER_NO_CACHE=1: "       \
	 "ignore it); default $STATE_DIRECTORY or ./.pacer",                                     \
	 "PACER_STATE_DIR"},                                                                      \
	{"backup-dir", 0, OPT_STRING, offsetof(type, c.backup_dir), "DIR",                        \
	 "where live definitions are backed up (default STATE_DIR/backups)", "PACER_BACKUP_DIR"},  \
	{"wait-lock", 0, OPT_BOOL, offsetof(type, c.wait_lock), NULL,                             \
	 "wait for another pacer run to finish instead of exiting", NULL}

#define CLI_OUTPUT_ROWS(type)                                                                      \
	{"output", 'o', OPT_STRING, offsetof(type, c.output), "text|json", "output format",       \
	 "PACER_OUTPUT"},                                                                          \
	{"log-level", 0, OPT_STRING, offsetof(type, c.log_level), "LEVEL",                        \
	 "error, warn, info or debug (default info)", "PACER_LOG_LEVEL"},                          \
	{"quiet", 'q', OPT_BOOL, offsetof(type, c.quiet), NULL, "only errors on stderr", NULL},    \
	CLI_LOG_FORMAT_ROW(type)

/* The log's format: every command that logs has this row (in CLI_OUTPUT_ROWS or alone). */
#define CLI_LOG_FORMAT_ROW(type)                                                                   \
	{"log-format", 0, OPT_STRING, offsetof(type, c.log_format), "text|logfmt|json",           \
	 "log lines as text (default), logfmt (ts= level= msg= app= ...) or JSON, one object "     \
	 "per line; under systemd with a priority prefix for journalctl -p",                       \
	 "PACER_LOG_FORMAT"}

/* --server: the command goes to a running `pacer serve` (cmd/pacer/remote.h). */
#define CLI_SERVER_ROWS(type)                                                                      \
	{"server", 0, OPT_STRING, offsetof(type, c.server), "URL",                                \
	 "send the command to a running pacer serve's API (token: PACER_SERVER_TOKEN or "         \
	 "PACER_SERVER_TOKEN_FILE)",                                                               \
	 "PACER_SERVER"}

/* How a run applies changes: shared by sync, watch and serve. */
struct cli_apply {
	int prune, force_prune, atomic, ignore_instances, retry_failed;
	int parallel;           /* -1: the engine's default (SYNC_OPTIONS_INIT) */
	int timeout;            /* -1: the engine's default */
	const char *on_failure; /* rollback | restart | none */
};
#define CLI_APPLY_INIT {.parallel = -1, .timeout = -1}

/* Rows for struct cli_apply embedded as field `a` of the command's struct. */
#define CLI_APPLY_ROWS(type)                                                                       \
	{"prune", 0, OPT_BOOL, offsetof(type, a.prune), NULL,                                     \
	 "delete apps pacer owns that are gone from the source (backed up first)", "PACER_PRUNE"}, \
	{"force-prune", 0, OPT_BOOL, offsetof(type, a.force_prune), NULL,                         \
	 "allow a prune of more than half of the owned apps", NULL},                               \
	{"parallel", 'j', OPT_INT, offsetof(type, a.parallel), "N",                               \
	 "deployments in flight at once, 0 = unbounded (default 8)", "PACER_PARALLEL"},            \
	{"timeout", 't', OPT_INT, offsetof(type, a.timeout), "SECONDS",                           \
	 "per-app deployment timeout (default 600; label pacer.timeout overrides)",               \
	 "PACER_TIMEOUT"},                                                                         \
	{"on-failure", 0, OPT_STRING, offsetof(type, a.on_failure), "rollback|restart|none",      \
	 "what to do with an app that fails (default rollback)", "PACER_ON_FAILURE"},              \
	{"atomic", 0, OPT_BOOL, offsetof(type, a.atomic), NULL,                                   \
	 "if any app fails, roll back every app the run changed", "PACER_ATOMIC"},                 \
	{"ignore-instances", 0, OPT_BOOL, offsetof(type, a.ignore_instances), NULL,               \
	 "never change instances (an autoscaler owns them)", "PACER_IGNORE_INSTANCES"},            \
	{"retry-failed", 0, OPT_BOOL, offsetof(type, a.retry_failed), NULL,                       \
	 "deploy held changes again (a definition that failed is otherwise not retried until "     \
	 "its file changes)",                                                                      \
	 "PACER_RETRY_FAILED"}

/*
 * The tag of this program for the run-to-run cache in the state directory
 * (sync_options.cache_tag): pacer's version and the executable's identity,
 * so that another build never trusts this one's entries. NULL (no cache)
 * when PACER_NO_CACHE is set to anything but "0". Static storage.
 */
const char *cli_cache_tag(void);

/*
 * Whether source (--source) is a git URL, as opposed to a local directory.
 * An existing path wins over the scp-like form, so a directory named
 * "host:apps" is still a directory.
 */
int cli_source_is_git(const char *source);

/*
 * Copy the apply options into so (unset ones keep so's defaults). Returns
 * 0, or -1 when --on-failure is not rollback, restart or none.
 */
int cli_apply_options(const struct cli_apply *a, struct sync_options *so);

/* Everything a run holds open; release with cli_env_release(). */
struct cli_env {
	struct pacer_source *source;
	struct pacer_marathon *marathon;
	struct pacer_backup_store *backups;
	struct pacer_state_store *state;
	struct fslock *lock;
	struct appdef_flags flags;
	char *state_dir;  /* resolved, owned */
	char *backup_dir; /* resolved, owned */
};

/*
 * What cli_env_open() opens. A command's row in main.c carries these (with
 * the CMD_* flags of commands.h, which must stay above these bits: see
 * CMD_OPEN_MASK) and main() opens them before the command runs.
 */
enum {
	CLI_NEED_SOURCE = 1 << 0,
	CLI_NEED_MARATHON = 1 << 1,
	CLI_NEED_STATE = 1 << 2, /* state dir, lock, state store and backups */
	CLI_NEED_BACKUPS = 1 << 3, /* backups without the lock (listing) */
	/* Dry runs: an existing state directory read without the lock (its
	 * files are replaced by rename, never edited in place); none: NULL. */
	CLI_READ_STATE = 1 << 4,
	/* watch and serve: state and backups like CLI_NEED_STATE, but the lock
	 * is taken around each sync (runner.c), not for the command's life. */
	CLI_LOCK_PER_RUN = 1 << 5,
};

/*
 * Check common options (output format, log level) and open what `needs`
 * asks for. On failure prints the error and returns the exit code to use;
 * 0 on success.
 */
int cli_env_open(struct cli_env *env, const struct cli_common *c, unsigned needs);
void cli_env_release(struct cli_env *env);

/* Map an error code to an exit code. */
int cli_exit_for(int code);

/*
 * The exit code for a failed run's error: cli_exit_for() of its root code,
 * except that Marathon answering 502, 503 or 504 (unavailable) is
 * PACER_EXIT_UNREACHABLE and Marathon's 401/403 is PACER_EXIT_AUTH.
 */
int cli_exit_for_error(const struct pacer_error *err);

/*
 * The command being run ("sync"), for messages of shared code
 * ("pacer sync: ..."). main() sets it before it runs the command; "pacer"
 * until then. Static storage.
 */
void cli_set_command(const char *name);
const char *cli_command(void);

/*
 * Set up the log from the environment and the command line before a
 * command parses its options (so that the first warnings, e.g. about
 * unknown PACER_* variables, already have the chosen format):
 * PACER_LOG_FORMAT, a --log-format in argv (up to "--"), and the priority
 * prefix when stderr is the journal ($JOURNAL_STREAM). Values that do not
 * parse are left for the command's own option check to refuse.
 */
void cli_log_early(int argc, char **argv);

/*
 * Apply the log options of c: level (--log-level, --quiet; on a terminal
 * warn unless asked) and format. Returns 0, or PACER_EXIT_USAGE after
 * printing what is wrong. cli_env_open() calls it; commands that do not
 * open an environment (validate) call it themselves.
 */
int cli_log_open(const struct cli_common *c);

/* Print an error for a human: "pacer <cmd>: <message>" with causes. */
void cli_print_error(const char *cmd, const struct pacer_error *err);

/* Print every diagnostic of a desired-state load to stderr. */
void cli_print_diags(const struct pacer_desired *d);

/*
 * Log a warning for every PACER_* environment variable that is not one of
 * the n names in known[]: a misspelt variable would otherwise be ignored
 * silently. Names the nearest known name when one is close (a few typos
 * away, or the same words with more: PACER_CA_FILE, PACER_MARATHON_CA_FILE).
 */
void cli_warn_unknown_env(const char *const *known, size_t n);

/* 1 when stdout is a terminal and NO_COLOR is not set. */
int cli_color(void);

/*
 * Install the SIGINT/SIGTERM/SIGHUP handlers setting *cli_stop; returns the
 * flag. SIGPIPE is ignored.
 */
volatile sig_atomic_t *cli_install_signals(void);

/*
 * The handlers of cli_install_signals() also write a byte to fd, the
 * non-blocking write end of an event loop's self-pipe (watcher.h); -1: no
 * more. The fd stays the caller's to close, after this is set to -1.
 */
void cli_signals_wake(int fd);

/*
 * App ids from the command line made absolute ("shop/api" -> "/shop/api"),
 * NULL-terminated (free with pacer_strv_free()). On a bad id prints
 * "pacer <cmd>: '<id>' is not an app id" and returns NULL.
 */
char **cli_app_ids(const char *cmd, char **pos, int npos);

/* Who runs this command, for records of who did what: $SUDO_USER, $USER, or the uid. */
const char *cli_user(void);

#endif
