/*
 * zkserver.h: a real ZooKeeper (Debian's zookeeper package, run with java
 * from /usr/share/java) for the tests: one server or an ensemble on
 * loopback ports, a temp data dir, a tickTime of 100 ms (sessions of a few
 * seconds expire in a few seconds). Nodes can be killed and started again
 * to cut a client off.
 */
#ifndef PACER_ZKSERVER_H
#define PACER_ZKSERVER_H

#include <sys/types.h>

#define ZKS_MAX 5

struct zkserver {
	int n;
	char *dir;
	pid_t pid[ZKS_MAX];
	int client_port[ZKS_MAX], peer_port[ZKS_MAX], elect_port[ZKS_MAX];
};

/*
 * Start n servers (1: standalone) and wait until every one serves (its
 * "srvr" answer has a Mode). Returns 0, or -1 after printing why (java or
 * the jar missing, a server that never came up within 30 s).
 */
int zks_start(struct zkserver *z, int n);

/* SIGKILL every node and remove the data dir. */
void zks_stop(struct zkserver *z);

/* SIGKILL node i (0-based); it stops answering at once. */
void zks_kill(struct zkserver *z, int i);

/* Start node i again (same data); 0 once it serves, else -1. */
int zks_restart(struct zkserver *z, int i);

/*
 * "zk://127.0.0.1:P1,127.0.0.1:P2/<root>" of the nodes in mask (bit i:
 * node i; 0: all). Caller frees.
 */
char *zks_url(const struct zkserver *z, unsigned mask, const char *root);

#endif
