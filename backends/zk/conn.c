/*
 * conn.c: the ZooKeeper session, its lease and the basic operations the
 * stores build on (conn.h, zk_int.h).
 */
#include "backends/zk/conn.h"
#include "backends/zk/layout.h"
#include "backends/zk/zk_int.h"
#include "reconcile/base/clock.h"
#include "reconcile/base/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_SESSION_MS 10000
#define DEFAULT_CONNECT_MS 15000

struct zkconn {
	zhandle_t *zh;
	struct zk_url url;
	int authed;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* Under mu. */
	int connected, dead, stop;
	long long last_ack_ms; /* send time of the last answered ping */
	unsigned long events;  /* watches fired so far (zk__watcher) */
	char *fence;
	pthread_t pinger;
	int pinger_started;
};

/* The session's watcher: runs on the client's event thread, only records. */
static void session_watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	struct zkconn *c = ctx;

	(void)zh;
	(void)path;
	if (type != ZOO_SESSION_EVENT)
		return;
	pthread_mutex_lock(&c->mu);
	c->connected = state == ZOO_CONNECTED_STATE;
	if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE)
		c->dead = 1;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

void zk__watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
	struct zkconn *c = ctx;

	(void)zh;
	(void)type;
	(void)state;
	(void)path;
	pthread_mutex_lock(&c->mu);
	c->events++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

unsigned long zk__events(struct zkconn *c)
{
	unsigned long n;

	pthread_mutex_lock(&c->mu);
	n = c->events;
	pthread_mutex_unlock(&c->mu);
	return n;
}

void zk__wait_event(struct zkconn *c, unsigned long seen, int ms,
		    const volatile sig_atomic_t *stop)
{
	struct timespec until = pacer_deadline_ms(ms);

	pthread_mutex_lock(&c->mu);
	while (c->events == seen && !c->dead && !c->stop && !(stop && *stop) &&
	       pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&c->mu);
}

void zk__wake(struct zkconn *c)
{
	pthread_mutex_lock(&c->mu);
	c->events++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

int zk__fail(struct pacer_error **err, int zrc, const char *what, const char *path)
{
	int code = -1;

	switch (zrc) {
	case ZNONODE:
		code = PACER_ENOTFOUND;
		break;
	case ZNODEEXISTS:
	case ZBADVERSION:
	case ZNOTEMPTY:
		code = PACER_ECONFLICT;
		break;
	case ZNOAUTH:
	case ZAUTHFAILED:
		code = PACER_EAUTH;
		break;
	case ZCONNECTIONLOSS:
	case ZOPERATIONTIMEOUT:
		/* A change may or may not have happened: read it back. */
		code = PACER_EUNKNOWN;
		break;
	case ZSESSIONEXPIRED:
	case ZINVALIDSTATE:
	case ZCLOSING:
		code = PACER_EUNREACHABLE;
		break;
	}
	pacer_error_set(err, code, "ZooKeeper: %s '%s': %s", what, path, zerror(zrc));
	return code;
}

/* Every sixth of the session timeout, a ping whose answer renews the lease. */
static void *pinger_main(void *arg)
{
	struct zkconn *c = arg;
	struct Stat st;

	pthread_mutex_lock(&c->mu);
	while (!c->stop && !c->dead) {
		long long sent = pacer_now_ms();
		int rc, period = zoo_recv_timeout(c->zh) / 6;
		struct timespec until;

		pthread_mutex_unlock(&c->mu);
		rc = zoo_exists(c->zh, c->url.root, 0, &st);
		pthread_mutex_lock(&c->mu);
		if (rc == ZOK || rc == ZNONODE)
			c->last_ack_ms = sent;
		until = pacer_deadline_ms(period > 50 ? period : 50);
		if (!c->stop)
			pthread_cond_timedwait(&c->cv, &c->mu, &until);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int zkconn_lease_ok(struct zkconn *c)
{
	int ok, half = zoo_recv_timeout(c->zh) / 2;

	pthread_mutex_lock(&c->mu);
	ok = !c->dead && c->connected && pacer_now_ms() - c->last_ack_ms < half;
	pthread_mutex_unlock(&c->mu);
	return ok;
}

int zkconn_dead(struct zkconn *c)
{
	int d;

	pthread_mutex_lock(&c->mu);
	d = c->dead;
	pthread_mutex_unlock(&c->mu);
	return d;
}

int zkconn_session_ms(struct zkconn *c)
{
	return zoo_recv_timeout(c->zh);
}

const char *zkconn_root(const struct zkconn *c)
{
	return c->url.root;
}

zhandle_t *zkconn__zh(struct zkconn *c)
{
	return c->zh;
}

const struct ACL_vector *zkconn__acl(struct zkconn *c)
{
	return c->authed ? &ZOO_CREATOR_ALL_ACL : &ZOO_OPEN_ACL_UNSAFE;
}

int zkconn_set_fence(struct zkconn *c, const char *path)
{
	char *copy = path ? strdup(path) : NULL;

	if (path && !copy)
		return -1;
	pthread_mutex_lock(&c->mu);
	free(c->fence);
	c->fence = copy;
	pthread_mutex_unlock(&c->mu);
	return 0;
}

/* Wait until connected (or dead, or deadline). 1 when connected. */
static int wait_connected(struct zkconn *c, int ms)
{
	struct timespec until = pacer_deadline_ms(ms);
	int ok;

	pthread_mutex_lock(&c->mu);
	while (!c->connected && !c->dead &&
	       pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
		;
	ok = c->connected && !c->dead;
	pthread_mutex_unlock(&c->mu);
	return ok;
}

struct auth_wait {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done, rc;
};

static void auth_done(int rc, const void *data)
{
	struct auth_wait *w = (struct auth_wait *)data;

	pthread_mutex_lock(&w->mu);
	w->done = 1;
	w->rc = rc;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Digest auth; the server answers before any later request is handled. */
static int add_auth(struct zkconn *c, const char *auth, int ms, struct pacer_error **err)
{
	struct auth_wait w = {.rc = ZOPERATIONTIMEOUT};
	struct timespec until = pacer_deadline_ms(ms);
	int rc;

	pthread_mutex_init(&w.mu, NULL);
	pacer_cond_init(&w.cv);
	rc = zoo_add_auth(c->zh, "digest", auth, (int)strlen(auth), auth_done, &w);
	pthread_mutex_lock(&w.mu);
	while (rc == ZOK && !w.done && pthread_cond_timedwait(&w.cv, &w.mu, &until) != ETIMEDOUT)
		;
	if (rc == ZOK)
		rc = w.done ? w.rc : ZOPERATIONTIMEOUT;
	pthread_mutex_unlock(&w.mu);
	/* Still pending after a timeout: auth_done may yet run; leak w's sync objects' use. */
	if (!w.done)
		return pacer_error_set(err, PACER_EAUTH, "ZooKeeper %s: no answer to the "
				       "authentication", c->url.hosts);
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
	if (rc != ZOK)
		return pacer_error_set(err, PACER_EAUTH,
				       "ZooKeeper %s refused the credentials of PACER_HA_AUTH: %s",
				       c->url.hosts, zerror(rc));
	c->authed = 1;
	return 0;
}

/* The folders every replica expects; an existing root owned by others fails here. */
static int make_tree(struct zkconn *c, struct pacer_error **err)
{
	static const char *const dirs[] = {"leader", "state/docs/journal", "backups", "queue"};
	int rc = 0;

	for (size_t i = 0; !rc && i < sizeof(dirs) / sizeof(*dirs); i++) {
		char *p = zk__path(c, dirs[i]);

		rc = p ? zk__mkdirs(c, p, err) : pacer_error_set(err, -1, "out of memory");
		free(p);
	}
	return rc;
}

/*
 * The client's own lines (every refused connection, every reconnect) go
 * to pacer's log at debug: what an operator must act on, pacer says itself
 * (no session, the lease lapsed, the session expired).
 */
static void client_log(const char *message)
{
	PLOG_DEBUG("zookeeper: %s", message);
}

static int open_session(struct zkconn *c, const struct zkconn_options *o,
			struct pacer_error **err)
{
	int connect_ms = o->connect_ms > 0 ? o->connect_ms : DEFAULT_CONNECT_MS;
	int rc;

	c->zh = zookeeper_init2(c->url.hosts, session_watcher,
				o->session_ms > 0 ? o->session_ms : DEFAULT_SESSION_MS, NULL, c, 0,
				client_log);
	if (!c->zh)
		return pacer_error_set(err, PACER_EINVALID, "ZooKeeper '%s': %s", c->url.hosts,
				       strerror(errno));
	if (!wait_connected(c, connect_ms))
		return pacer_error_set(err, PACER_EUNREACHABLE,
				       "ZooKeeper '%s': no session within %d ms: are the "
				       "servers up and reachable?",
				       c->url.hosts, connect_ms);
	if (o->auth && (rc = add_auth(c, o->auth, connect_ms, err)))
		return rc;
	if (!o->auth)
		PLOG_WARN("ha: no PACER_HA_AUTH: pacer's nodes in ZooKeeper are open to anyone "
			  "who reaches it");
	c->last_ack_ms = pacer_now_ms();
	return make_tree(c, err);
}

int zkconn_new(struct zkconn **out, const struct zkconn_options *o, struct pacer_error **err)
{
	struct zkconn *c;
	int rc;

	*out = NULL;
	if (!(c = calloc(1, sizeof(*c))))
		return pacer_error_set(err, -1, "out of memory");
	pthread_mutex_init(&c->mu, NULL);
	pacer_cond_init(&c->cv);
	zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
	if ((rc = zk_url_parse(o->url, &c->url, err)) || (rc = open_session(c, o, err)))
		goto fail;
	if (pthread_create(&c->pinger, NULL, pinger_main, c)) {
		rc = pacer_error_set(err, -1, "cannot start the ZooKeeper lease thread");
		goto fail;
	}
	c->pinger_started = 1;
	*out = c;
	return 0;
fail:
	zkconn_free(c);
	return rc;
}

void zkconn_free(struct zkconn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (c->pinger_started)
		pthread_join(c->pinger, NULL);
	if (c->zh)
		zookeeper_close(c->zh);
	zk_url_release(&c->url);
	free(c->fence);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

char *zk__path(struct zkconn *c, const char *rel)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s", c->url.root, rel) < 0)
		return NULL;
	return p;
}

int zk__mkdirs(struct zkconn *c, const char *path, struct pacer_error **err)
{
	char *p = strdup(path);
	int rc = 0;

	if (!p)
		return pacer_error_set(err, -1, "out of memory");
	for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
		int zrc;

		if (s)
			*s = '\0';
		zrc = zoo_create(c->zh, p, NULL, -1, zkconn__acl(c), ZOO_PERSISTENT, NULL, 0);
		if (zrc != ZOK && zrc != ZNODEEXISTS) {
			rc = zk__fail(err, zrc, "cannot create", p);
			break;
		}
		if (!s)
			break;
		*s = '/';
	}
	free(p);
	return rc;
}

int zk__get(struct zkconn *c, const char *path, char **data, size_t *len, struct Stat *st,
	    struct pacer_error **err)
{
	/* The size can change between the stat and the read: try again then. */
	for (int tries = 0; tries < 5; tries++) {
		struct Stat s;
		int zrc = zoo_exists(c->zh, path, 0, &s), n;
		char *buf;

		if (zrc != ZOK)
			return zk__fail(err, zrc, "cannot read", path);
		n = s.dataLength + 1;
		if (!(buf = malloc((size_t)n)))
			return pacer_error_set(err, -1, "out of memory");
		zrc = zoo_get(c->zh, path, 0, buf, &n, &s);
		if (zrc != ZOK) {
			free(buf);
			return zk__fail(err, zrc, "cannot read", path);
		}
		if (n < 0)
			n = 0;
		if (n == s.dataLength) {
			buf[n] = '\0';
			*data = buf;
			*len = (size_t)n;
			if (st)
				*st = s;
			return 0;
		}
		free(buf);
	}
	return pacer_error_set(err, PACER_EIO, "ZooKeeper: '%s' keeps changing size while read",
			       path);
}

int zk__children(struct zkconn *c, const char *path, struct pacer_strvec *out,
		 struct pacer_error **err)
{
	struct String_vector v = {0, NULL};
	int zrc = zoo_get_children(c->zh, path, 0, &v), rc = 0;

	memset(out, 0, sizeof(*out));
	if (zrc == ZNONODE)
		return 0;
	if (zrc != ZOK)
		return zk__fail(err, zrc, "cannot list", path);
	for (int i = 0; !rc && i < v.count; i++)
		if (pacer_strvec_add(out, v.data[i]) < 0)
			rc = pacer_error_set(err, -1, "out of memory");
	deallocate_String_vector(&v);
	if (rc)
		pacer_strvec_release(out);
	else
		pacer_strvec_normalize(out);
	return rc;
}

static const char *op_path(const zoo_op_t *op)
{
	switch (op->type) {
	case ZOO_CREATE_OP:
		return op->create_op.path;
	case ZOO_DELETE_OP:
		return op->delete_op.path;
	case ZOO_SETDATA_OP:
		return op->set_op.path;
	case ZOO_CHECK_OP:
		return op->check_op.path;
	}
	return "(transaction)";
}

int zk__commit(struct zkconn *c, zoo_op_t *ops, int n, zoo_op_result_t *results,
	       struct pacer_error **err)
{
	zoo_op_t *all = calloc((size_t)n + 1, sizeof(*all));
	zoo_op_result_t *res = calloc((size_t)n + 1, sizeof(*res));
	char *fence = NULL;
	int zrc, k = 0, rc = 0;

	if (!all || !res) {
		rc = pacer_error_set(err, -1, "out of memory");
		goto done;
	}
	pthread_mutex_lock(&c->mu);
	fence = c->fence ? strdup(c->fence) : NULL;
	pthread_mutex_unlock(&c->mu);
	if (fence)
		zoo_check_op_init(&all[k++], fence, -1);
	memcpy(all + k, ops, (size_t)n * sizeof(*ops));
	zrc = zoo_multi(c->zh, n + k, all, res);
	if (fence && res[0].err == ZNONODE) {
		rc = pacer_error_set(err, PACER_ECANCELLED,
				     "ZooKeeper: this replica is not the leader any more (its "
				     "election node '%s' is gone): nothing written",
				     fence);
		goto done;
	}
	if (zrc != ZOK) {
		int i = k;

		/* The op that failed says why; the others only say "rolled back". */
		while (i < n + k - 1 && (res[i].err == ZOK || res[i].err == ZRUNTIMEINCONSISTENCY))
			i++;
		rc = zk__fail(err, res[i].err != ZOK ? res[i].err : zrc, "cannot change",
			      op_path(&all[i]));
		goto done;
	}
	if (results)
		memcpy(results, res + k, (size_t)n * sizeof(*res));
done:
	free(fence);
	free(all);
	free(res);
	return rc;
}

int zk__delete_tree(struct zkconn *c, const char *path, struct pacer_error **err)
{
	struct pacer_strvec kids;
	zoo_op_t op;
	int rc;

	if ((rc = zk__children(c, path, &kids, err)))
		return rc;
	for (size_t i = 0; !rc && i < kids.n; i++) {
		char *k = NULL;

		if (asprintf(&k, "%s/%s", path, kids.v[i]) < 0)
			rc = pacer_error_set(err, -1, "out of memory");
		else
			rc = zk__delete_tree(c, k, err);
		free(k);
	}
	pacer_strvec_release(&kids);
	if (rc)
		return rc;
	zoo_delete_op_init(&op, path, -1);
	rc = zk__commit(c, &op, 1, NULL, err);
	if (rc == PACER_ENOTFOUND) {
		pacer_error_clear(err);
		rc = 0;
	}
	return rc;
}

struct tree_size {
	size_t bytes, nodes, max;
};

static int tree_walk(struct zkconn *c, const char *path, struct tree_size *t,
		     struct pacer_error **err)
{
	struct pacer_strvec kids;
	struct Stat st;
	int zrc = zoo_exists(c->zh, path, 0, &st), rc;

	if (zrc == ZNONODE)
		return 0;
	if (zrc != ZOK)
		return zk__fail(err, zrc, "cannot read", path);
	t->nodes++;
	t->bytes += (size_t)st.dataLength;
	if ((size_t)st.dataLength > t->max)
		t->max = (size_t)st.dataLength;
	if ((rc = zk__children(c, path, &kids, err)))
		return rc;
	for (size_t i = 0; !rc && i < kids.n; i++) {
		char *k = NULL;

		if (asprintf(&k, "%s/%s", path, kids.v[i]) < 0)
			rc = pacer_error_set(err, -1, "out of memory");
		else
			rc = tree_walk(c, k, t, err);
		free(k);
	}
	pacer_strvec_release(&kids);
	return rc;
}

int zkconn_tree_size(struct zkconn *c, const char *rel, size_t *bytes, size_t *nodes,
		     size_t *max_node, struct pacer_error **err)
{
	struct tree_size t = {0, 0, 0};
	char *p = *rel ? zk__path(c, rel) : strdup(c->url.root);
	int rc = p ? tree_walk(c, p, &t, err) : pacer_error_set(err, -1, "out of memory");

	free(p);
	if (bytes)
		*bytes = t.bytes;
	if (nodes)
		*nodes = t.nodes;
	if (max_node)
		*max_node = t.max;
	return rc;
}
