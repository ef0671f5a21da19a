#include "backends/git/source.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <git2.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/git/auth.h"
#include "backends/git/deadline.h"
#include "backends/git/knownhosts.h"
#include "reconcile/base/buf.h"
#include "reconcile/base/files.h"
#include "reconcile/base/log.h"

/*
 * Layout of the cache: one bare repository per URL. Branches of the remote
 * are kept as refs/remotes/origin/<name>, tags as refs/tags/<name>, and the
 * remote's default branch as the symbolic ref refs/remotes/origin/HEAD,
 * exactly as `git clone --bare --mirror` would not but `git fetch` would:
 * it keeps a cache that a human can inspect with plain git.
 */
#define TRACKING_PREFIX "refs/remotes/origin/"
#define TRACKING_HEAD TRACKING_PREFIX "HEAD"
#define BRANCH_PREFIX "refs/heads/"
#define BRANCH_PREFIX_LEN (sizeof(BRANCH_PREFIX) - 1)

/* Messages list at most this many branches of the remote. */
#define BRANCHES_SHOWN 10
/* Shortest commit id prefix accepted as --ref (git's own minimum). */
#define SHORT_OID_MIN 4

_Static_assert(GITSRC_OID_HEXSZ == GIT_OID_HEXSZ, "source.h's commit id size is libgit2's");

struct gitsrc {
	struct pacer_source base; /* first: a pacer_source * is a struct gitsrc * */
	char *url;                /* as given: may hold credentials, never printed */
	char *url_safe;           /* credentials removed */
	char *ref;                /* NULL = default branch */
	char *path;               /* normalised: no leading/trailing '/', NULL = root */
	char *cache_dir, *repo_dir;
	char *describe;
	char *ssh_key_file, *ssh_pubkey_file, *ssh_passphrase, *known_hosts_file;
	char *https_user, *https_token;
	int use_ssh_agent;
	int timeout_s;        /* idle deadline of a fetch */
	git_repository *repo; /* opened on first use */
	/* A second handle on the cache for load(), which may run on another
	 * thread while read() fetches: a git_repository is one thread's. */
	pthread_mutex_t load_mu;
	git_repository *load_repo;
	struct gitsrc__auth auth;
	char revision[GIT_OID_HEXSZ + 1];
};

/* ---- URLs ---- */

char *gitsrc_url_redact(const char *url)
{
	const char *scheme_end = strstr(url, "://"), *host, *at, *slash, *colon;
	struct pacer_buf b = PACER_BUF_INIT;

	if (!scheme_end)
		return strdup(url); /* scp-like user@host:path or a local path: no password slot */
	host = scheme_end + 3;
	slash = strchr(host, '/');
	at = memrchr(host, '@', slash ? (size_t)(slash - host) : strlen(host));
	if (!at)
		return strdup(url);
	pacer_buf_add(&b, url, (size_t)(host - url));
	if (strncasecmp(url, "http", 4)) {
		/* ssh://user:pw@host: the user name is no secret and ssh needs it. */
		colon = memchr(host, ':', (size_t)(at - host));
		pacer_buf_add(&b, host, (size_t)((colon ? colon : at) - host));
		pacer_buf_putc(&b, '@');
	}
	pacer_buf_puts(&b, at + 1);
	return pacer_buf_detach(&b);
}

/*
 * Is this an ssh remote, and if so which port (for known_hosts)?
 * ssh://[user@]host[:port]/path, ssh+git://, git+ssh://, or scp-like
 * [user@]host:path (a ':' before the first '/', no "://").
 */
static int url_is_ssh(const char *url, int *port)
{
	const char *p, *at, *slash, *end;

	*port = GITSRC_SSH_DEFAULT_PORT;
	p = strstr(url, "://");
	if (!p) {
		const char *colon = strchr(url, ':');

		slash = strchr(url, '/');
		return colon && colon != url && (!slash || colon < slash);
	}
	if (strncmp(url, "ssh://", 6) && strncmp(url, "ssh+git://", 10) &&
	    strncmp(url, "git+ssh://", 10))
		return 0;
	p += 3;
	slash = strchr(p, '/');
	end = slash ? slash : p + strlen(p);
	at = memrchr(p, '@', (size_t)(end - p));
	if (at)
		p = at + 1;
	if (*p == '[') { /* [::1]:2222 */
		p = memchr(p, ']', (size_t)(end - p));
		if (!p)
			return 1;
	}
	p = memchr(p, ':', (size_t)(end - p));
	if (p && p + 1 < end) {
		char *stop;
		long v = strtol(p + 1, &stop, 10);

		if (stop == end && v > 0 && v < 65536)
			*port = (int)v;
	}
	return 1;
}

/* How much of the URL's last path part a cache name keeps (the hash keeps it unique). */
#define CACHE_NAME_PART_MAX 32

/* A file-system friendly cache name: "<last path part>-<12 hex of SHA-1(url)>". */
static char *cache_name(const char *url_key)
{
	const char *end = url_key + strlen(url_key), *start;
	unsigned char h[GITSRC_SHA1_LEN];
	char name[CACHE_NAME_PART_MAX + sizeof("-0123456789ab")];
	size_t n = 0;

	while (end > url_key && end[-1] == '/')
		end--;
	if (end - url_key > 4 && !strncmp(end - 4, ".git", 4))
		end -= 4;
	start = end;
	while (start > url_key && start[-1] != '/' && start[-1] != ':')
		start--;
	for (const char *p = start; p < end && n < CACHE_NAME_PART_MAX; p++)
		name[n++] = (isalnum((unsigned char)*p) || *p == '-' || *p == '_') ? *p : '_';
	if (!n)
		name[n++] = 'r';
	gitsrc__sha1(url_key, strlen(url_key), h);
	snprintf(name + n, sizeof(name) - n, "-%02x%02x%02x%02x%02x%02x", h[0], h[1], h[2], h[3],
	         h[4], h[5]);
	return strdup(name);
}

/* ---- small helpers ---- */

static const char *lg2_message(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown libgit2 error";
}

/*
 * libgit2's message, with the raw URL replaced by the safe one and
 * registered secrets redacted: libgit2 sometimes quotes the URL it was
 * given, credentials included.
 */
static char *safe_lg2_message(const struct gitsrc *s)
{
	const char *msg = lg2_message(), *hit;
	struct pacer_buf b = PACER_BUF_INIT;
	char *out;

	while (strcmp(s->url, s->url_safe) && (hit = strstr(msg, s->url))) {
		pacer_buf_add(&b, msg, (size_t)(hit - msg));
		pacer_buf_puts(&b, s->url_safe);
		msg = hit + strlen(s->url);
	}
	pacer_buf_puts(&b, msg);
	out = pacer_log_redact(pacer_buf_cstr(&b));
	pacer_buf_release(&b);
	return out;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Directories nftw() may hold open at once; deeper trees are walked all the same. */
#define RM_RF_OPEN_DIRS 16

static int rm_rf(const char *path)
{
	if (access(path, F_OK))
		return 0;
	return nftw(path, rm_entry, RM_RF_OPEN_DIRS, FTW_DEPTH | FTW_PHYS);
}

static int is_hex(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);

	if (n < min || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

static const char *ref_label(const struct gitsrc *s)
{
	return s->ref ? s->ref : "HEAD (the remote's default branch)";
}

/* ---- fetching ---- */

/*
 * Whether a failed fetch that no callback explained was an authentication
 * failure. Credentials offered and the connection failing all the same
 * counts: libssh2 reports a bad key file or passphrase that way, before the
 * server ever answers. libgit2's message is the last resort (HTTP 401/403).
 */
static int is_auth_failure(const struct gitsrc *s, int lg2rc, const char *step, const char *msg)
{
	int offered = s->auth.tried_key || s->auth.tried_agent || s->auth.tried_userpass;

	return lg2rc == GIT_EAUTH || lg2rc == GIT_ECERTIFICATE ||
	       (!strcmp(step, "connecting") && offered) ||
	       (msg && (strstr(msg, "authenticat") || strstr(msg, "401") || strstr(msg, "403") ||
	                strstr(msg, "passphrase")));
}

/*
 * The error of a failed fetch, most specific cause first: the deadline,
 * a cancellation, a callback's refusal (it says what to do), credentials,
 * else an unreachable remote. Always names the URL without credentials.
 */
static int fetch_error(struct gitsrc *s, int lg2rc, const char *step, struct pacer_error **err)
{
	char *msg = safe_lg2_message(s);
	int code;

	if (gitsrc__deadline_state(s->auth.deadline) == GITSRC_DEADLINE_IDLE) {
		code =
		    pacer_error_set(err, PACER_EUNREACHABLE,
		                    "git remote %s sent nothing for %d s while %s (--git-timeout, "
		                    "PACER_GIT_TIMEOUT); the cache is unchanged: check the remote "
		                    "and the network",
		                    s->url_safe, s->timeout_s, step);
	} else if (gitsrc__cancelled(&s->auth)) {
		code = pacer_error_set(err, PACER_ECANCELLED,
		                       "fetch from %s cancelled while %s; the cache is unchanged",
		                       s->url_safe, step);
	} else if (s->auth.err) {
		/* A callback refused (auth or host key): its message says what to do. */
		code = s->auth.err->code;
		if (err && !*err) {
			*err = s->auth.err;
			s->auth.err = NULL;
		}
		pacer_error_wrap(err, code, "cannot fetch from %s", s->url_safe);
	} else if (is_auth_failure(s, lg2rc, step, msg)) {
		code = pacer_error_set(
		    err, PACER_EAUTH,
		    "authentication to %s failed while %s: %s; check the "
		    "credentials (PACER_GIT_TOKEN, PACER_GIT_USER, PACER_GIT_SSH_KEY, "
		    "PACER_GIT_SSH_PASSPHRASE) and that they may read the repository",
		    s->url_safe, step, msg ? msg : "");
	} else {
		code = pacer_error_set(err, PACER_EUNREACHABLE,
		                       "cannot fetch from %s while %s: %s; check the URL, that the "
		                       "host is reachable and that the repository exists",
		                       s->url_safe, step, msg ? msg : "");
	}
	if (err && *err)
		pacer_error_set_url(*err, s->url_safe);
	free(msg);
	return code;
}

/* Remember the remote's default branch as refs/remotes/origin/HEAD. */
static void record_default_branch(struct gitsrc *s, git_repository *repo, git_remote *remote)
{
	git_buf head = GIT_BUF_INIT;
	git_reference *ref = NULL;
	char *target = NULL;

	if (git_remote_default_branch(&head, remote) ||
	    strncmp(head.ptr, BRANCH_PREFIX, BRANCH_PREFIX_LEN)) {
		PLOG_DEBUG("git: %s advertises no default branch", s->url_safe);
		git_reference_remove(repo, TRACKING_HEAD);
		goto done;
	}
	if (asprintf(&target, TRACKING_PREFIX "%s", head.ptr + BRANCH_PREFIX_LEN) < 0) {
		target = NULL;
		goto done;
	}
	/*
	 * Never leave a dangling symbolic ref: libgit2's negotiation walks every
	 * local ref on the next fetch and fails on one that resolves nowhere.
	 */
	if (git_reference_lookup(&ref, repo, target)) {
		git_reference_remove(repo, TRACKING_HEAD);
		goto done;
	}
	git_reference_free(ref);
	ref = NULL;
	if (git_reference_symbolic_create(&ref, repo, TRACKING_HEAD, target, 1,
	                                  "pacer: remote HEAD"))
		PLOG_WARN("git: cannot record the default branch of %s: %s", s->url_safe,
		          lg2_message());
done:
	git_reference_free(ref);
	free(target);
	git_buf_dispose(&head);
}

/* The callbacks of every fetch: credentials, host keys, progress (auth.h). */
static void fetch_callbacks(struct gitsrc *s, git_remote_callbacks *cbs)
{
	/* The _INIT macros leave fields out, which -Wextra rejects. */
	git_remote_init_callbacks(cbs, GIT_REMOTE_CALLBACKS_VERSION);
	cbs->credentials = gitsrc__credentials;
	cbs->certificate_check = gitsrc__certificate_check;
	cbs->transfer_progress = gitsrc__transfer_progress;
	cbs->sideband_progress = gitsrc__sideband_progress;
	cbs->payload = &s->auth;
}

/*
 * An anonymous remote for s->url, without url.<base>.insteadOf rewriting:
 * the URL the user gave is the one fetched (and libgit2 1.5 leaks a PCRE2
 * match block on every insteadOf lookup).
 */
static int create_remote(struct gitsrc *s, git_repository *repo, git_remote **out,
                         struct pacer_error **err)
{
	git_remote_create_options co;
	char *msg;
	int ret;

	git_remote_create_options_init(&co, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	co.repository = repo;
	co.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (!git_remote_create_with_opts(out, s->url, &co))
		return 0;
	msg = safe_lg2_message(s);
	ret = pacer_error_set(err, PACER_EINVALID, "'%s' is not a git URL libgit2 can use: %s",
	                      s->url_safe, msg ? msg : "");
	free(msg);
	return ret;
}

/* ---- the ref check before a fetch (what `git ls-remote` shows) ---- */

/* The id the remote advertises for the ref `name`; 0, or 1 when it has none. */
static int advertised(git_remote *remote, const char *name, git_oid *out)
{
	const git_remote_head **heads;
	size_t n;

	if (git_remote_ls(&heads, &n, remote))
		return 1;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(heads[i]->name, name)) {
			git_oid_cpy(out, &heads[i]->oid);
			return 0;
		}
	return 1;
}

/*
 * Whether the remote ref `remote_name` (refs/heads/x, refs/tags/x) is
 * advertised at the id the cache's `local_name` (the tracking branch, the
 * tag) already holds, with that object in the cache.
 */
static int same_as_local(git_repository *repo, git_remote *remote, const char *remote_name,
                         const char *local_name)
{
	git_oid theirs, ours;
	git_odb *odb = NULL;
	int same;

	if (advertised(remote, remote_name, &theirs) ||
	    git_reference_name_to_id(&ours, repo, local_name) || !git_oid_equal(&theirs, &ours) ||
	    git_repository_odb(&odb, repo))
		return 0;
	same = git_odb_exists(odb, &ours);
	git_odb_free(odb);
	return same;
}

/* The remote's default branch is still the one the cache tracks, at the same commit. */
static int default_branch_unmoved(git_repository *repo, git_remote *remote)
{
	git_buf head = GIT_BUF_INIT;
	git_reference *ref = NULL;
	char local[512];
	int same = 0;

	if (git_remote_default_branch(&head, remote) ||
	    strncmp(head.ptr, BRANCH_PREFIX, BRANCH_PREFIX_LEN))
		goto done;
	snprintf(local, sizeof(local), TRACKING_PREFIX "%s", head.ptr + BRANCH_PREFIX_LEN);
	if (git_reference_lookup(&ref, repo, TRACKING_HEAD) ||
	    git_reference_type(ref) != GIT_REFERENCE_SYMBOLIC ||
	    strcmp(git_reference_symbolic_target(ref), local))
		goto done;
	same = same_as_local(repo, remote, head.ptr, local);
done:
	git_reference_free(ref);
	git_buf_dispose(&head);
	return same;
}

/*
 * Whether the ref this source follows is advertised exactly where the
 * cache has it, so that a fetch would change nothing the source reads.
 * Read as resolve_local() reads a name: a short name is a branch, else a
 * tag. Anything else (a commit id, another kind of ref, a ref the remote
 * or the cache lacks) answers 0: the fetch decides.
 */
static int ref_unmoved(const struct gitsrc *s, git_repository *repo, git_remote *remote)
{
	char remote_name[512], local[512];
	git_oid id;

	if (!s->ref)
		return default_branch_unmoved(repo, remote);
	if (!strncmp(s->ref, BRANCH_PREFIX, BRANCH_PREFIX_LEN)) {
		snprintf(local, sizeof(local), TRACKING_PREFIX "%s", s->ref + BRANCH_PREFIX_LEN);
		return same_as_local(repo, remote, s->ref, local);
	}
	if (!strncmp(s->ref, "refs/tags/", 10))
		return same_as_local(repo, remote, s->ref, s->ref);
	if (!strncmp(s->ref, "refs/", 5))
		return 0;
	snprintf(remote_name, sizeof(remote_name), BRANCH_PREFIX "%s", s->ref);
	snprintf(local, sizeof(local), TRACKING_PREFIX "%s", s->ref);
	if (!advertised(remote, remote_name, &id))
		return same_as_local(repo, remote, remote_name, local);
	/* A branch gone from the remote but still in the cache: the fetch prunes it. */
	if (!git_reference_name_to_id(&id, repo, local))
		return 0;
	snprintf(remote_name, sizeof(remote_name), "refs/tags/%s", s->ref);
	return same_as_local(repo, remote, remote_name, remote_name);
}

/*
 * Connect, download, update the tracking refs and prune, naming in *step
 * the one that is running (for the message of a failure). Returns
 * libgit2's code, or RUN_FETCH_UNMOVED when the remote's refs (read on
 * connecting, as `git ls-remote` does) show that the ref followed did not
 * move: then nothing is downloaded and the cache is left as it is.
 */
#define RUN_FETCH_UNMOVED 1

static int run_fetch(struct gitsrc *s, git_repository *repo, git_remote *remote,
                     const git_remote_callbacks *cbs, const char **step)
{
	static char *specs[] = {"+refs/heads/*:" TRACKING_PREFIX "*", "+refs/tags/*:refs/tags/*"};
	git_strarray refspecs = {specs, sizeof(specs) / sizeof(specs[0])};
	git_fetch_options fo;
	int rc;

	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	fo.callbacks = *cbs;
	fo.prune = GIT_FETCH_PRUNE;
	fo.update_fetchhead = 0;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	*step = "connecting";
	if ((rc = git_remote_connect(remote, GIT_DIRECTION_FETCH, cbs, NULL, NULL)))
		return rc;
	if (gitsrc__cancelled(&s->auth))
		return GIT_EUSER;
	if (ref_unmoved(s, repo, remote))
		return RUN_FETCH_UNMOVED;
	*step = "downloading";
	if ((rc = git_remote_download(remote, &refspecs, &fo)))
		return rc;
	*step = "updating refs";
	if ((rc = git_remote_update_tips(remote, cbs, 0, GIT_REMOTE_DOWNLOAD_TAGS_NONE,
	                                 "pacer: fetch")))
		return rc;
	*step = "pruning deleted branches";
	return git_remote_prune(remote, cbs);
}

static int fetch_into(struct gitsrc *s, git_repository *repo, struct pacer_error **err)
{
	git_remote_callbacks cbs;
	git_remote *remote = NULL;
	const char *step = "connecting";
	int rc, ret;

	gitsrc__auth_reset(&s->auth);
	fetch_callbacks(s, &cbs);
	if ((ret = create_remote(s, repo, &remote, err)))
		goto done;
	/* From here on the network is used: nothing may block for ever. */
	s->auth.deadline = gitsrc__deadline_start(s->timeout_s, s->auth.cancel);
	rc = run_fetch(s, repo, remote, &cbs, &step);
	if (rc == RUN_FETCH_UNMOVED) {
		PLOG_DEBUG("git: %s: %s did not move, nothing fetched", s->url_safe, ref_label(s));
		git_remote_disconnect(remote);
		goto done;
	}
	if (rc) {
		ret = fetch_error(s, rc, step, err);
		goto done;
	}
	record_default_branch(s, repo, remote);
	git_remote_disconnect(remote);
done:
	git_remote_free(remote);
	gitsrc__deadline_stop(s->auth.deadline);
	s->auth.deadline = NULL;
	gitsrc__auth_reset(&s->auth);
	return ret;
}

/* ---- temporary clones left by killed runs ---- */

/* When process pid started, in seconds since the epoch; -1 when unknown. */
static double process_start(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ticks = 0, btime = 0;
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f;
	int field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (!(f = fopen(path, "re")))
		return -1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	/* The name (field 2) may hold spaces: count fields after its ')'. */
	if (!p || !(p = strrchr(buf, ')')))
		return -1;
	for (field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (field != 22 || sscanf(p, "%llu", &ticks) != 1 || hz <= 0)
		return -1;
	if (!(f = fopen("/proc/stat", "re")))
		return -1;
	while (fgets(buf, sizeof(buf), f) && sscanf(buf, "btime %llu", &btime) != 1)
		;
	fclose(f);
	return btime ? (double)btime + (double)ticks / (double)hz : -1;
}

/*
 * Whether the clone directory `path` of process `pid` can still be in use.
 * Its owner is gone when no process has that pid, or when the process that
 * has it started after the directory last changed: the pid was reused (a
 * container's pacer often gets the same small pid run after run). Two
 * seconds of slack cover /proc's whole-second boot time.
 */
static int clone_owner_alive(const char *path, pid_t pid)
{
	struct stat st;
	double started;

	if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH))
		return 0;
	if (stat(path, &st) < 0)
		return 0;
	started = process_start(pid);
	return started < 0 || started <= (double)st.st_mtim.tv_sec + 2;
}

/*
 * Remove the temporary clones ("<name>.tmp-<pid>") that killed runs left in
 * the cache directory: nothing else ever would, and each can be as big as
 * the repository. A clone whose owner may still be running (another
 * process, or another source of this one) is left alone, so this needs no
 * lock. Failures only leave a directory for the next run to remove.
 */
static void sweep_stale_clones(const struct gitsrc *s)
{
	DIR *d = opendir(s->cache_dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		const char *tag = strstr(de->d_name, ".tmp-");
		char *end = NULL, *path = NULL;
		long pid;

		if (!tag || tag == de->d_name)
			continue;
		errno = 0;
		pid = strtol(tag + 5, &end, 10);
		if (errno || end == tag + 5 || *end || pid <= 0 || (pid_t)pid != pid)
			continue;
		if (asprintf(&path, "%s/%s", s->cache_dir, de->d_name) < 0)
			break;
		if (!clone_owner_alive(path, (pid_t)pid)) {
			PLOG_INFO("git: removing %s, a clone left by process %ld, which is gone",
			          path, pid);
			rm_rf(path);
		}
		free(path);
	}
	closedir(d);
}

/*
 * The first fetch goes into a temporary directory that is renamed into
 * place only when it succeeded, so a half-made clone is never mistaken for
 * the cache. On success s->repo is open.
 */
static int clone_fresh(struct gitsrc *s, struct pacer_error **err)
{
	git_repository *tmprepo = NULL;
	char *tmp = NULL;
	int ret = 0;

	if (asprintf(&tmp, "%s.tmp-%ld", s->repo_dir, (long)getpid()) < 0)
		return pacer_error_set(err, PACER_EGENERIC, "out of memory");
	rm_rf(tmp);
	PLOG_INFO("git: cloning %s into %s", s->url_safe, s->repo_dir);
	if (git_repository_init(&tmprepo, tmp, 1)) {
		ret = pacer_error_set(err, PACER_EIO, "cannot create the git cache %s: %s", tmp,
		                      lg2_message());
		goto done;
	}
	ret = fetch_into(s, tmprepo, err);
	git_repository_free(tmprepo);
	if (ret)
		goto done;
	if (rename(tmp, s->repo_dir) && errno != EEXIST && errno != ENOTEMPTY) {
		ret = pacer_error_set(err, PACER_EIO, "cannot move the new clone %s to %s: %s", tmp,
		                      s->repo_dir, strerror(errno));
		goto done;
	}
	/* On EEXIST someone else finished a clone first: theirs is as good. */
	if (git_repository_open_bare(&s->repo, s->repo_dir))
		ret = pacer_error_set(err, PACER_EIO, "cannot open the git cache %s: %s",
		                      s->repo_dir, lg2_message());
done:
	if (ret || access(tmp, F_OK) == 0)
		rm_rf(tmp);
	free(tmp);
	return ret;
}

/*
 * Open the cache, cloning it on first use (*fetched then says the clone
 * is as fresh as a fetch). Clones that killed runs left behind are
 * removed first.
 */
static int open_or_clone(struct gitsrc *s, int *fetched, struct pacer_error **err)
{
	int ret;

	*fetched = 0;
	if (s->repo)
		return 0;
	if ((ret = pacer_mkdir_p(s->cache_dir, 0700, err)))
		return pacer_error_wrap(err, ret,
		                        "cannot create the git cache directory %s; check "
		                        "--state-dir and its permissions",
		                        s->cache_dir);
	sweep_stale_clones(s);
	if (access(s->repo_dir, F_OK) == 0) {
		if (git_repository_open_bare(&s->repo, s->repo_dir))
			return pacer_error_set(
			    err, PACER_EIO,
			    "the git cache %s (for %s) is not a usable repository "
			    "(%s); remove that directory and pacer will clone again",
			    s->repo_dir, s->url_safe, lg2_message());
		return 0;
	}
	ret = clone_fresh(s, err);
	*fetched = ret == 0;
	return ret;
}

/* ---- resolving the ref ---- */

static int peel_ref(git_repository *repo, const char *name, git_oid *out)
{
	git_reference *ref = NULL;
	git_object *obj = NULL;
	int rc = git_reference_lookup(&ref, repo, name);

	if (!rc)
		rc = git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT);
	if (!rc)
		git_oid_cpy(out, git_object_id(obj));
	git_object_free(obj);
	git_reference_free(ref);
	return rc;
}

/* "main, dev, release-1" (at most BRANCHES_SHOWN) for messages. Caller frees. */
static char *branch_list(git_repository *repo)
{
	struct pacer_buf b = PACER_BUF_INIT;
	git_branch_iterator *it = NULL;
	git_reference *ref;
	git_branch_t type;
	int n = 0;

	if (!git_branch_iterator_new(&it, repo, GIT_BRANCH_REMOTE)) {
		while (!git_branch_next(&ref, &type, it)) {
			const char *name = git_reference_name(ref);

			if (!strncmp(name, TRACKING_PREFIX, strlen(TRACKING_PREFIX)) &&
			    strcmp(name, TRACKING_HEAD)) {
				if (n < BRANCHES_SHOWN)
					pacer_buf_printf(&b, "%s%s", n ? ", " : "",
					                 name + strlen(TRACKING_PREFIX));
				else if (n == BRANCHES_SHOWN)
					pacer_buf_puts(&b, ", ...");
				n++;
			}
			git_reference_free(ref);
		}
		git_branch_iterator_free(it);
	}
	if (!n)
		pacer_buf_puts(&b, "none");
	return pacer_buf_detach(&b);
}

/*
 * A ref by name, as git's rev-parse reads it: refs/heads/x is the
 * tracking branch, another full ref stands for itself, a short name is a
 * branch, else a tag. Returns 0 and *out, or non-zero when none exists.
 */
static int peel_named(git_repository *repo, const char *ref, git_oid *out)
{
	char name[512];

	if (!strncmp(ref, BRANCH_PREFIX, BRANCH_PREFIX_LEN)) {
		snprintf(name, sizeof(name), TRACKING_PREFIX "%s", ref + BRANCH_PREFIX_LEN);
		return peel_ref(repo, name, out);
	}
	if (!strncmp(ref, "refs/", 5))
		return peel_ref(repo, ref, out);
	snprintf(name, sizeof(name), TRACKING_PREFIX "%s", ref);
	if (!peel_ref(repo, name, out))
		return 0;
	snprintf(name, sizeof(name), "refs/tags/%s", ref);
	return peel_ref(repo, name, out);
}

/*
 * A ref that reads as a (short) commit id. Returns 0 and *out, 1 when no
 * commit has that id, PACER_EINVALID when the prefix names several.
 */
static int lookup_commit_prefix(struct gitsrc *s, const char *ref, git_oid *out,
                                struct pacer_error **err)
{
	git_oid prefix;
	git_object *obj = NULL;
	int rc;

	if (!is_hex(ref, SHORT_OID_MIN, GIT_OID_HEXSZ) ||
	    git_oid_fromstrn(&prefix, ref, strlen(ref)))
		return 1;
	rc = git_object_lookup_prefix(&obj, s->repo, &prefix, strlen(ref), GIT_OBJECT_COMMIT);
	if (!rc) {
		git_oid_cpy(out, git_object_id(obj));
		git_object_free(obj);
		return 0;
	}
	if (rc == GIT_EAMBIGUOUS)
		return pacer_error_set(err, PACER_EINVALID,
		                       "the short commit id '%s' is ambiguous in %s; "
		                       "give more hex digits (or the full 40)",
		                       ref, s->url_safe);
	return 1;
}

/* PACER_ENOTFOUND for a ref (NULL: the default branch), listing the branches there are. */
static int ref_not_found(struct gitsrc *s, const char *ref, struct pacer_error **err)
{
	char *branches = branch_list(s->repo);
	int ret;

	if (!ref)
		ret = pacer_error_set(err, PACER_ENOTFOUND,
		                      "%s has no default branch (an empty repository, or its HEAD "
		                      "points nowhere); pass --ref with a branch (branches: %s)",
		                      s->url_safe, branches ? branches : "?");
	else
		ret =
		    pacer_error_set(err, PACER_ENOTFOUND,
		                    "ref '%s' not found in %s: no branch, tag or commit of that "
		                    "name (commits must be reachable from a branch or tag); check "
		                    "--ref (branches: %s)",
		                    ref, s->url_safe, branches ? branches : "?");
	free(branches);
	if (err && *err)
		pacer_error_set_url(*err, s->url_safe);
	return ret;
}

/* s->ref in the cache, without fetching: names first, then a commit id. */
static int resolve_local(struct gitsrc *s, git_oid *out, struct pacer_error **err)
{
	int ret;

	if (!s->ref)
		ret = peel_ref(s->repo, TRACKING_HEAD, out) ? ref_not_found(s, NULL, err) : 0;
	else if (!peel_named(s->repo, s->ref, out))
		ret = 0;
	else if ((ret = lookup_commit_prefix(s, s->ref, out, err)) == 1)
		ret = ref_not_found(s, s->ref, err);
	return ret;
}

static int fetch_and_resolve(struct gitsrc *s, git_oid *out, struct pacer_error **err)
{
	int fetched = 0, ret;

	ret = open_or_clone(s, &fetched, err);
	if (ret)
		return ret;
	/* A commit id names fixed content: no need to ask the remote again. */
	if (!fetched && s->ref && is_hex(s->ref, GIT_OID_HEXSZ, GIT_OID_HEXSZ)) {
		git_oid id;
		git_commit *c = NULL;

		if (!git_oid_fromstr(&id, s->ref) && !git_commit_lookup(&c, s->repo, &id)) {
			git_commit_free(c);
			git_oid_cpy(out, &id);
			return 0;
		}
	}
	if (!fetched && (ret = fetch_into(s, s->repo, err)))
		return ret;
	return resolve_local(s, out, err);
}

/* ---- walking the tree ---- */

struct entry {
	char *path;
	git_oid id;
};

struct walk {
	struct entry *v;
	size_t n, cap;
	int oom;
};

static int has_json_suffix(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && !strcmp(name + n - 5, ".json");
}

static int walk_cb(const char *root, const git_tree_entry *e, void *payload)
{
	struct walk *w = payload;
	const char *name = git_tree_entry_name(e);
	git_filemode_t mode = git_tree_entry_filemode(e);

	if (name[0] == '.')
		return git_tree_entry_type(e) == GIT_OBJECT_TREE ? 1 : 0; /* 1 skips the subtree */
	/* Symlinks (their blob is the link target) and submodules are not definitions. */
	if ((mode != GIT_FILEMODE_BLOB && mode != GIT_FILEMODE_BLOB_EXECUTABLE) ||
	    !has_json_suffix(name))
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct entry *v = realloc(w->v, cap * sizeof(*v));

		if (!v) {
			w->oom = 1;
			return -1;
		}
		w->v = v;
		w->cap = cap;
	}
	if (asprintf(&w->v[w->n].path, "%s%s", root, name) < 0) {
		w->oom = 1;
		return -1;
	}
	git_oid_cpy(&w->v[w->n].id, git_tree_entry_id(e));
	w->n++;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->path, ((const struct entry *)b)->path);
}

/* read() and read_lazy(): want may be NULL (every file's bytes). */
static int read_tree(struct gitsrc *s, pacer_source_want_cb want, pacer_source_file_cb cb,
                     void *ctx, struct pacer_error **err);

static int src_read(struct pacer_source *base, pacer_source_file_cb cb, void *ctx,
                    struct pacer_error **err)
{
	return read_tree((struct gitsrc *)base, NULL, cb, ctx, err);
}

static int src_read_lazy(struct pacer_source *base, pacer_source_want_cb want,
                         pacer_source_file_cb cb, void *ctx, struct pacer_error **err)
{
	return read_tree((struct gitsrc *)base, want, cb, ctx, err);
}

/* The blob `key` from the cache, on a handle of its own (any thread). */
static int src_load(struct pacer_source *base, const char *path, const char *key, char **data,
                    size_t *len, struct pacer_error **err)
{
	struct gitsrc *s = (struct gitsrc *)base;
	git_blob *blob = NULL;
	git_oid id;
	int ret = 0;

	*data = NULL;
	*len = 0;
	if (!key || strlen(key) != GIT_OID_HEXSZ || git_oid_fromstr(&id, key))
		return pacer_error_set(err, PACER_EINVALID, "%s: '%s' is not a git blob id", path,
		                       key ? key : "(none)");
	pthread_mutex_lock(&s->load_mu);
	if (!s->load_repo && git_repository_open_bare(&s->load_repo, s->repo_dir)) {
		ret = pacer_error_set(err, PACER_EIO, "cannot open the git cache %s: %s",
		                      s->repo_dir, lg2_message());
		goto done;
	}
	if (git_blob_lookup(&blob, s->load_repo, &id)) {
		ret = pacer_error_set(err, PACER_ENOTFOUND,
		                      "%s (blob %.12s) is not in the git cache %s: %s", path, key,
		                      s->repo_dir, lg2_message());
		goto done;
	}
	*len = (size_t)git_blob_rawsize(blob);
	*data = malloc(*len + 1);
	if (!*data) {
		*len = 0;
		ret = pacer_error_set(err, PACER_EGENERIC, "out of memory reading %s", path);
		goto done;
	}
	memcpy(*data, git_blob_rawcontent(blob), *len);
	(*data)[*len] = '\0';
done:
	git_blob_free(blob);
	pthread_mutex_unlock(&s->load_mu);
	return ret;
}

/* s->path in tree, which must name a directory; *out is freed with git_tree_free(). */
static int path_subtree(struct gitsrc *s, git_tree *tree, const char *hex, git_tree **out,
                        struct pacer_error **err)
{
	git_tree_entry *te = NULL;
	int rc = git_tree_entry_bypath(&te, tree, s->path), ret = 0;

	if (rc == GIT_ENOTFOUND)
		ret = pacer_error_set(err, PACER_ENOTFOUND,
		                      "path '%s' does not exist in commit %.12s of %s (ref %s); "
		                      "check --path (relative to the repository root)",
		                      s->path, hex, s->url_safe, ref_label(s));
	else if (rc || git_tree_entry_type(te) != GIT_OBJECT_TREE)
		ret = pacer_error_set(err, rc ? PACER_ENOTFOUND : PACER_EINVALID,
		                      "path '%s' in commit %.12s of %s (ref %s) is not a "
		                      "directory; --path must name the folder holding the "
		                      "definitions",
		                      s->path, hex, s->url_safe, ref_label(s));
	else if (git_tree_lookup(out, s->repo, git_tree_entry_id(te)))
		ret = pacer_error_set(err, PACER_EIO, "cannot read '%s' of commit %.12s: %s",
		                      s->path, hex, lg2_message());
	git_tree_entry_free(te);
	return ret;
}

/*
 * The tree holding the definitions in commit `id` (hex for messages): the
 * commit's own, or s->path's in it. *out is freed with git_tree_free().
 */
static int definitions_tree(struct gitsrc *s, const git_oid *id, const char *hex, git_tree **out,
                            struct pacer_error **err)
{
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	int ret = 0;

	*out = NULL;
	if (git_commit_lookup(&commit, s->repo, id) || git_commit_tree(&tree, commit))
		ret = pacer_error_set(err, PACER_EIO,
		                      "cannot read commit %s of %s from the cache %s: "
		                      "%s; remove the cache directory to clone again",
		                      hex, s->url_safe, s->repo_dir, lg2_message());
	else if (s->path)
		ret = path_subtree(s, tree, hex, out, err);
	else
		*out = tree; /* the commit's own tree: the caller's to free from here */
	if (*out != tree)
		git_tree_free(tree);
	git_commit_free(commit);
	return ret;
}

static void walk_release(struct walk *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i].path);
	free(w->v);
}

/* Every definition file below tree into w, sorted by path (strcmp, as the fs source). */
static int list_definitions(struct gitsrc *s, git_tree *tree, const char *hex, struct walk *w,
                            struct pacer_error **err)
{
	if (git_tree_walk(tree, GIT_TREEWALK_PRE, walk_cb, w) || w->oom)
		return pacer_error_set(err, w->oom ? PACER_EGENERIC : PACER_EIO,
		                       "cannot list the tree of commit %.12s of %s: %s", hex,
		                       s->url_safe, w->oom ? "out of memory" : lg2_message());
	if (w->n > 1) /* qsort's pointer must not be NULL, even for 0 items */
		qsort(w->v, w->n, sizeof(*w->v), entry_cmp);
	return 0;
}

/*
 * Hand one file to the callback, keyed by its blob id. With `want`, a file
 * whose content the caller already knows is handed over without bytes: its
 * blob is not even inflated.
 */
static int hand_over(struct gitsrc *s, const struct entry *e, const char *hex,
                     pacer_source_want_cb want, pacer_source_file_cb cb, void *ctx,
                     struct pacer_error **err)
{
	git_blob *blob = NULL;
	char key[GIT_OID_HEXSZ + 1];
	int ret;

	git_oid_tostr(key, sizeof(key), &e->id);
	if (want) {
		ret = want(ctx, e->path, key);
		if (ret == 0)
			return cb(ctx, e->path, NULL, 0, key);
		if (ret != 1)
			return ret;
	}
	if (git_blob_lookup(&blob, s->repo, &e->id))
		return pacer_error_set(err, PACER_EIO, "cannot read %s in commit %.12s of %s: %s",
		                       e->path, hex, s->url_safe, lg2_message());
	ret = cb(ctx, e->path, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob), key);
	git_blob_free(blob);
	return ret;
}

static int read_tree(struct gitsrc *s, pacer_source_want_cb want, pacer_source_file_cb cb,
                     void *ctx, struct pacer_error **err)
{
	struct walk w = {0};
	git_tree *tree = NULL;
	git_oid id;
	char hex[GIT_OID_HEXSZ + 1];
	int ret;

	if ((ret = fetch_and_resolve(s, &id, err)))
		return ret;
	git_oid_tostr(hex, sizeof(hex), &id);
	memcpy(s->revision, hex, sizeof(hex));
	if ((ret = definitions_tree(s, &id, hex, &tree, err)) ||
	    (ret = list_definitions(s, tree, hex, &w, err)))
		goto done;
	PLOG_DEBUG("git: %s at %s: %zu definition files", s->describe, hex, w.n);
	for (size_t i = 0; i < w.n && !ret; i++)
		ret = hand_over(s, &w.v[i], hex, want, cb, ctx, err);
done:
	walk_release(&w);
	git_tree_free(tree);
	return ret;
}

static const char *src_describe(struct pacer_source *base)
{
	return ((struct gitsrc *)base)->describe;
}

static const char *src_revision(struct pacer_source *base)
{
	struct gitsrc *s = (struct gitsrc *)base;

	return s->revision[0] ? s->revision : NULL;
}

static void free_secret(char *p)
{
	if (p) {
		explicit_bzero(p, strlen(p));
		free(p);
	}
}

static void src_free(struct pacer_source *base)
{
	struct gitsrc *s = (struct gitsrc *)base;

	if (!s)
		return;
	git_repository_free(s->repo);
	git_repository_free(s->load_repo);
	pthread_mutex_destroy(&s->load_mu);
	pacer_error_free(s->auth.err);
	free_secret(s->url);
	free(s->url_safe);
	free(s->ref);
	free(s->path);
	free(s->cache_dir);
	free(s->repo_dir);
	free(s->describe);
	free(s->ssh_key_file);
	free(s->ssh_pubkey_file);
	free_secret(s->ssh_passphrase);
	free(s->known_hosts_file);
	free(s->https_user);
	free_secret(s->https_token);
	free(s);
	git_libgit2_shutdown();
}

int gitsrc_resolve(struct pacer_source *src, char out[GITSRC_OID_HEXSZ + 1],
                   struct pacer_error **err)
{
	git_oid id;
	int ret;

	if (!src || src->read != src_read)
		return pacer_error_set(err, PACER_EINVALID, "gitsrc_resolve: not a git source");
	ret = fetch_and_resolve((struct gitsrc *)src, &id, err);
	if (!ret)
		git_oid_tostr(out, GIT_OID_HEXSZ + 1, &id);
	return ret;
}

/* ---- construction ---- */

static int dup_opt(char **slot, const char *v)
{
	if (!v)
		return 0;
	*slot = strdup(v);
	return *slot ? 0 : -1;
}

/* "apps/", "./apps", "/apps" -> "apps"; "", "." and "/" -> NULL (the root). */
static char *normalise_path(const char *p)
{
	size_t n;

	if (!p)
		return NULL;
	while (*p == '/' || (p[0] == '.' && p[1] == '/'))
		p += *p == '/' ? 1 : 2;
	n = strlen(p);
	while (n && p[n - 1] == '/')
		n--;
	if (!n || (n == 1 && p[0] == '.'))
		return NULL;
	return strndup(p, n);
}

/* What gitsrc_new() cannot work without, with what to pass to get it. */
static int check_options(const struct gitsrc_options *o, struct pacer_error **err)
{
	if (!o || o->version != GITSRC_OPTIONS_VERSION)
		return pacer_error_set(err, PACER_EINVALID,
		                       "git source: options version %u not supported (want %d)",
		                       o ? o->version : 0, GITSRC_OPTIONS_VERSION);
	if (!o->url || !*o->url)
		return pacer_error_set(err, PACER_EINVALID,
		                       "git source: no repository URL given; "
		                       "pass --source with a git URL");
	if (!o->cache_dir || !*o->cache_dir)
		return pacer_error_set(err, PACER_EINVALID,
		                       "git source %s: no cache directory; "
		                       "pass --state-dir",
		                       o->url);
	return 0;
}

/* Copy the strings of *o that the source keeps (-1: out of memory). */
static int copy_options(struct gitsrc *s, const struct gitsrc_options *o)
{
	if (dup_opt(&s->url, o->url) || dup_opt(&s->ref, o->ref) ||
	    dup_opt(&s->cache_dir, o->cache_dir) || dup_opt(&s->ssh_key_file, o->ssh_key_file) ||
	    dup_opt(&s->ssh_pubkey_file, o->ssh_pubkey_file) ||
	    dup_opt(&s->ssh_passphrase, o->ssh_passphrase) ||
	    dup_opt(&s->https_user, o->https_user) || dup_opt(&s->https_token, o->https_token))
		return -1;
	/* An empty --ref is no ref: the remote's default branch. */
	if (o->ref && !*o->ref) {
		free(s->ref);
		s->ref = NULL;
	}
	s->path = normalise_path(o->path);
	s->url_safe = gitsrc_url_redact(o->url);
	return s->url_safe ? 0 : -1;
}

/* The password part of a URL is a secret like any other: the log redacts it. */
static void register_url_secret(const struct gitsrc *s)
{
	const char *host, *slash, *at;
	char *userinfo, *colon;

	if (!strcmp(s->url, s->url_safe))
		return;
	host = strstr(s->url, "://") + 3; /* only URLs with a scheme have credentials */
	slash = strchr(host, '/');
	at = memrchr(host, '@', slash ? (size_t)(slash - host) : strlen(host));
	userinfo = at ? strndup(host, (size_t)(at - host)) : NULL;
	colon = userinfo ? strchr(userinfo, ':') : NULL;
	if (userinfo)
		pacer_log_add_secret(colon ? colon + 1 : userinfo);
	free_secret(userinfo);
}

/*
 * Where the clone of this URL lives, and how the source describes itself.
 * *port is the ssh port of the URL. Returns -1 when out of memory.
 */
static int name_cache(struct gitsrc *s, int *port)
{
	char resolved[PATH_MAX], *name;
	const char *key = s->url_safe;
	int rc;

	/* Local paths are keyed by their real path so ./repo and /abs/repo share a cache. */
	if (!url_is_ssh(s->url, port) && !strstr(s->url, "://") && realpath(s->url, resolved))
		key = resolved;
	name = cache_name(key);
	rc = name ? asprintf(&s->repo_dir, "%s/%s", s->cache_dir, name) : -1;
	free(name);
	if (rc < 0) {
		s->repo_dir = NULL;
		return -1;
	}
	if (asprintf(&s->describe, "%s%s%s@%s", s->url_safe, s->path ? ":" : "",
	             s->path ? s->path : "", s->ref ? s->ref : "HEAD") < 0) {
		s->describe = NULL;
		return -1;
	}
	return 0;
}

/* The callbacks' view of the source (auth.h): borrowed strings, freed with it. */
static void wire_auth(struct gitsrc *s, int port, const volatile int *cancel)
{
	s->auth.url_safe = s->url_safe;
	s->auth.ssh_key_file = s->ssh_key_file;
	s->auth.ssh_pubkey_file = s->ssh_pubkey_file;
	s->auth.ssh_passphrase = s->ssh_passphrase;
	s->auth.use_ssh_agent = s->use_ssh_agent;
	s->auth.known_hosts_file = s->known_hosts_file;
	s->auth.https_user = s->https_user;
	s->auth.https_token = s->https_token;
	s->auth.port = port;
	s->auth.cancel = cancel;
}

int gitsrc_new(struct pacer_source **out, const struct gitsrc_options *o, struct pacer_error **err)
{
	struct gitsrc *s = NULL;
	int ret, port = GITSRC_SSH_DEFAULT_PORT, inited = 0;

	*out = NULL;
	if ((ret = check_options(o, err)))
		return ret;
	if (git_libgit2_init() < 0)
		return pacer_error_set(err, PACER_EGENERIC, "cannot initialise libgit2: %s",
		                       lg2_message());
	inited = 1;
	s = calloc(1, sizeof(*s));
	if (!s)
		goto oom;
	pthread_mutex_init(&s->load_mu, NULL);
	if (copy_options(s, o))
		goto oom;
	register_url_secret(s);
	/* No file named: one that cannot exist, so every ssh host is unknown
	 * and the error names the file to provide (source.h). */
	if (dup_opt(&s->known_hosts_file,
	            o->known_hosts_file ? o->known_hosts_file : GITSRC_NO_KNOWN_HOSTS))
		goto oom;
	s->use_ssh_agent = o->use_ssh_agent;
	if (name_cache(s, &port))
		goto oom;
	wire_auth(s, port, o->cancel);
	s->timeout_s = o->timeout_s > 0 ? o->timeout_s : GITSRC_DEFAULT_TIMEOUT_S;

	s->base.read = src_read;
	s->base.read_lazy = src_read_lazy;
	s->base.load = src_load;
	s->base.describe = src_describe;
	s->base.revision = src_revision;
	s->base.free = src_free;
	*out = &s->base;
	return 0;
oom:
	ret = pacer_error_set(err, PACER_EGENERIC, "out of memory");
	if (s) {
		src_free(&s->base); /* also drops the libgit2 reference */
		inited = 0;
	}
	if (inited)
		git_libgit2_shutdown();
	return ret;
}
