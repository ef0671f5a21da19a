/*
 * watchtest.h: `pacer watch` as the tests of tests/watch/ drive it: one
 * clitest fixture (a marathon-sim, src/, state/, backups/: clitest.h) and
 * one background pacer process whose log is read (longrun.h).
 *
 * The helpers fail the running Criterion test (cr_assert) with the watch
 * log dumped when what they wait for does not come. A test file keeps its
 * struct wt static (the .fini may run after the test's frame is gone) and
 * names wt_fini() in its .fini.
 *
 * The tests of tests/serve_cli/ keep their background pacer (serve, watch or
 * sync) in a struct wt too, started with wt_start_cmd().
 *
 * Ownership: every char * returned is the caller's (free()).
 */
#ifndef PACER_WATCHTEST_H
#define PACER_WATCHTEST_H

#include "tests/lib/clitest.h"
#include "tests/lib/longrun.h"

struct wt {
	struct ct t;
	struct lr_proc p;
};

/*
 * Start `pacer CMD --source SOURCE --marathon SIM --state-dir STATE
 * --backup-dir BACKUPS` followed by extra (NULL-terminated, may be NULL; up
 * to 40), with env_extra ("NAME=value", NULL-terminated, may be NULL) added
 * to its environment and its output in DIR/CMD.log.
 */
void wt_start_cmd(struct wt *w, const char *cmd, const char *source, const char *const *env_extra,
                  const char *const *extra);
/*
 * Start `pacer watch --source SOURCE --marathon SIM --state-dir STATE
 * --backup-dir BACKUPS --debounce 200 --interval 1 --log-level info`
 * followed by extra (NULL-terminated, may be NULL; a later flag wins), its
 * output in DIR/watch.log.
 */
void wt_start(struct wt *w, const char *source, const char *const *extra);
/* wt_start(), then wait (15 s at most) until its startup sync converged. */
void wt_start_synced(struct wt *w, const char *source, const char *const *extra);
/*
 * The scene most watch tests start from: ct_setup(&w->t, NULL), src/web.json
 * holding /web with mem 32, then wt_start_synced() on src/ with extra.
 */
void wt_setup_web(struct wt *w, const char *const *extra);
/* SIGTERM: it must exit 0 within 10 s. */
void wt_stop(struct wt *w);
/* For the .fini: kill a watch still running and tear the fixture down. */
void wt_fini(struct wt *w);

/* Wait until the log holds needle n times. */
void wt_expect_log(struct wt *w, const char *needle, int n, int timeout_ms);
/* Fail unless the log holds needle exactly n times now; why says what it means. */
void wt_expect_count(struct wt *w, const char *needle, int n, const char *why);

/* Wait until pacer has asked for Marathon's event stream n times (the sim's request log). */
void wt_expect_stream(struct wt *w, int n, int timeout_ms);

/*
 * A small app definition whose "mem" tells versions apart; extra (may be
 * NULL) is JSON text added after the last member (",\n  \"env\": {...}").
 */
char *wt_app_json(const char *id, int mem, const char *extra);
/* Write it to dir/rel (parents created). */
void wt_write_app(const char *dir, const char *rel, const char *id, int mem);
/*
 * wt_write_app() of an app with a command health check. When stuck, its
 * tasks never pass it (SIM_BEHAVIOR unhealthy): a deployment of it never
 * ends.
 */
void wt_write_checked_app(const char *dir, const char *rel, const char *id, int mem, int stuck);
/* The app's mem in the simulator, -1 when it is absent. */
int wt_sim_mem(struct wt *w, const char *id);
/* Wait until the app's mem is mem (-1: until it is absent). */
void wt_expect_mem(struct wt *w, const char *id, int mem, int timeout_ms);
/* PUT the app with this mem behind pacer's back. */
void wt_put_mem(struct wt *w, const char *id, int mem);

#endif
