/*
 * queue.c: requests to the leader and its answers (queue.h). Requests and
 * answers are small (an API call's body is bounded by the HTTP service),
 * so each is one znode.
 */
#include "backends/zk/layout.h"
#include "backends/zk/queue.h"
#include "backends/zk/zk_int.h"
#include "reconcile/base/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One znode's worth, with room to spare. */
#define QUEUE_MAX ((size_t)512 << 10)

int zk_queue_put(struct zkconn *c, const char *json, char **id, struct pacer_error **err)
{
	char *prefix = zk__path(c, "queue/q-"), made[512];
	int zrc;

	if (id)
		*id = NULL;
	if (!prefix)
		return pacer_error_set(err, -1, "out of memory");
	if (strlen(json) > QUEUE_MAX) {
		free(prefix);
		return pacer_error_set(err, PACER_EINVALID, "request too large for the queue");
	}
	zrc = zoo_create(zkconn__zh(c), prefix, json, (int)strlen(json), zkconn__acl(c),
			 ZOO_PERSISTENT_SEQUENTIAL, made, sizeof(made));
	if (zrc != ZOK) {
		zk__fail(err, zrc, "cannot hand the request to the leader in", prefix);
		free(prefix);
		return zrc == ZCONNECTIONLOSS ? PACER_EUNREACHABLE : -1;
	}
	free(prefix);
	if (id && !(*id = strdup(strrchr(made, '/') + 1)))
		return pacer_error_set(err, -1, "out of memory");
	return 0;
}

/* An answer its follower never collected (it died waiting) goes after a while. */
static void sweep_answer(struct zkconn *c, const char *dir, const char *name)
{
	char *p = NULL;
	struct Stat st;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return;
	if (zoo_exists(zkconn__zh(c), p, 0, &st) == ZOK &&
	    (long long)time(NULL) * 1000 - st.ctime > ZK_QUEUE_ANSWER_TTL_MS)
		zoo_delete(zkconn__zh(c), p, -1);
	free(p);
}

int zk_queue_next(struct zkconn *c, char **id, char **json, struct pacer_error **err)
{
	struct String_vector v = {0, NULL};
	char *dir = zk__path(c, "queue"), *best = NULL, *path = NULL;
	long long bs = -1;
	size_t len = 0;
	int zrc, rc = PACER_ENOTFOUND;

	*id = *json = NULL;
	if (!dir)
		return pacer_error_set(err, -1, "out of memory");
	zrc = zoo_wget_children(zkconn__zh(c), dir, zk__watcher, c, &v);
	if (zrc != ZOK) {
		rc = zk__fail(err, zrc, "cannot list", dir);
		goto done;
	}
	for (int i = 0; i < v.count; i++) {
		long long s = zk_seq_of(v.data[i], "q-");

		if (zk_seq_of(v.data[i], "r-") >= 0)
			sweep_answer(c, dir, v.data[i]);

		if (s >= 0 && (bs < 0 || s < bs)) {
			bs = s;
			best = v.data[i];
		}
	}
	if (!best)
		goto done;
	if (asprintf(&path, "%s/%s", dir, best) < 0) {
		rc = pacer_error_set(err, -1, "out of memory");
		goto done;
	}
	if ((rc = zk__get(c, path, json, &len, NULL, err)) == 0 && !(*id = strdup(best)))
		rc = pacer_error_set(err, -1, "out of memory");
done:
	deallocate_String_vector(&v);
	free(path);
	free(dir);
	return rc;
}

void zk_queue_wait(struct zkconn *c, int ms, const volatile sig_atomic_t *stop)
{
	zk__wait_event(c, zk__events(c), ms, stop);
}

void zk_queue_wake(struct zkconn *c)
{
	zk__wake(c);
}

int zk_queue_answer(struct zkconn *c, const char *id, const char *json,
		    struct pacer_error **err)
{
	char *q = NULL, *r = NULL;
	zoo_op_t ops[2];
	int rc;

	if (strncmp(id, "q-", 2) || asprintf(&q, "%s/queue/%s", zkconn_root(c), id) < 0 ||
	    asprintf(&r, "%s/queue/r-%s", zkconn_root(c), id + 2) < 0) {
		free(q);
		return pacer_error_set(err, PACER_EINVALID, "'%s' is not a queued request", id);
	}
	zoo_create_op_init(&ops[0], r, json, (int)strlen(json), zkconn__acl(c), ZOO_PERSISTENT,
			   NULL, 0);
	zoo_delete_op_init(&ops[1], q, -1);
	rc = zk__commit(c, ops, 2, NULL, err);
	free(q);
	free(r);
	return rc;
}

int zk_queue_await(struct zkconn *c, const char *id, int ms, char **json,
		   struct pacer_error **err)
{
	long long until = pacer_now_ms() + ms;
	char *r = NULL;
	size_t len = 0;
	int rc = PACER_ENOTFOUND;

	*json = NULL;
	if (strncmp(id, "q-", 2) || asprintf(&r, "%s/queue/r-%s", zkconn_root(c), id + 2) < 0)
		return pacer_error_set(err, PACER_EINVALID, "'%s' is not a queued request", id);
	while (rc == PACER_ENOTFOUND && pacer_now_ms() < until && !zkconn_dead(c)) {
		struct Stat st;
		unsigned long seen = zk__events(c);
		int zrc = zoo_wexists(zkconn__zh(c), r, zk__watcher, c, &st);

		if (zrc == ZOK)
			rc = zk__get(c, r, json, &len, NULL, err);
		else if (zrc == ZNONODE)
			zk__wait_event(c, seen, 200, NULL);
		else
			rc = zk__fail(err, zrc, "cannot read", r);
	}
	if (rc == 0)
		zoo_delete(zkconn__zh(c), r, -1);
	else if (rc == PACER_ENOTFOUND)
		rc = pacer_error_set(err, PACER_ETIMEOUT,
				     "no leader answered within %d s (is one elected? see /readyz)",
				     ms / 1000);
	free(r);
	return rc;
}
