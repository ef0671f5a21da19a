/*
 * zkserver.c: ZooKeeper processes for the tests (zkserver.h).
 */
#include "tests/lib/zkserver.h"
#include "tests/lib/testlib.h"
#include "tests/lib/testsim.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ZK_JAR "/usr/share/java/zookeeper.jar"

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* "srvr" on the client port: 1 when the answer names a Mode (the node serves). */
static int serving(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {1, 0};
	char buf[2048];
	size_t used = 0;
	ssize_t r;
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	if (fd < 0)
		return 0;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) || write(fd, "srvr", 4) != 4) {
		close(fd);
		return 0;
	}
	while (used < sizeof(buf) - 1 && (r = read(fd, buf + used, sizeof(buf) - 1 - used)) > 0)
		used += (size_t)r;
	buf[used] = '\0';
	close(fd);
	ok = strstr(buf, "Mode: ") != NULL;
	return ok;
}

static int write_config(struct zkserver *z, int i)
{
	char path[600], dd[512], id[16], *cfg = NULL, servers[1024] = "";
	size_t used = 0;
	int rc;

	snprintf(dd, sizeof(dd), "%s/n%d", z->dir, i);
	mkdir(dd, 0700);
	for (int k = 0; z->n > 1 && k < z->n; k++)
		used += (size_t)snprintf(servers + used, sizeof(servers) - used,
					 "server.%d=127.0.0.1:%d:%d\n", k + 1, z->peer_port[k],
					 z->elect_port[k]);
	if (asprintf(&cfg,
		     "tickTime=100\ninitLimit=50\nsyncLimit=20\ndataDir=%s\nclientPort=%d\n"
		     "clientPortAddress=127.0.0.1\nadmin.enableServer=false\n"
		     "4lw.commands.whitelist=srvr\nminSessionTimeout=200\n"
		     "maxSessionTimeout=30000\nstandaloneEnabled=true\n%s",
		     dd, z->client_port[i], servers) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/zoo%d.cfg", z->dir, i);
	rc = test_write_file(path, cfg);
	free(cfg);
	snprintf(path, sizeof(path), "%s/myid", dd);
	snprintf(id, sizeof(id), "%d\n", i + 1);
	return rc ? rc : test_write_file(path, id);
}

static int spawn(struct zkserver *z, int i)
{
	char cfg[512], log[512];

	snprintf(cfg, sizeof(cfg), "%s/zoo%d.cfg", z->dir, i);
	snprintf(log, sizeof(log), "%s/n%d.log", z->dir, i);
	z->pid[i] = fork();
	if (z->pid[i] < 0)
		return -1;
	if (z->pid[i] == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		setpgid(0, 0);
		/* A test that crashes takes its servers with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execlp("java", "java", "-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		       "-Dzookeeper.jmx.log4j.disable=true", "-cp", ZK_JAR,
		       "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg, (char *)NULL);
		_exit(127);
	}
	return 0;
}

static int wait_serving(struct zkserver *z, int i, int ms)
{
	for (int waited = 0; waited < ms; waited += 100) {
		int st;

		if (serving(z->client_port[i]))
			return 0;
		if (waitpid(z->pid[i], &st, WNOHANG) == z->pid[i]) {
			fprintf(stderr, "zkserver: node %d exited (see %s/n%d.log)\n", i, z->dir, i);
			z->pid[i] = 0;
			return -1;
		}
		sleep_ms(100);
	}
	fprintf(stderr, "zkserver: node %d not serving after %d ms (see %s/n%d.log)\n", i, ms,
		z->dir, i);
	return -1;
}

int zks_start(struct zkserver *z, int n)
{
	memset(z, 0, sizeof(*z));
	if (n < 1 || n > ZKS_MAX || access(ZK_JAR, R_OK)) {
		fprintf(stderr, "zkserver: %s missing: apt-get install zookeeper\n", ZK_JAR);
		return -1;
	}
	z->n = n;
	if (!(z->dir = test_tmpdir("zk")))
		return -1;
	for (int i = 0; i < n; i++) {
		z->client_port[i] = test_closed_port();
		z->peer_port[i] = test_closed_port();
		z->elect_port[i] = test_closed_port();
	}
	for (int i = 0; i < n; i++)
		if (write_config(z, i) || spawn(z, i))
			goto fail;
	for (int i = 0; i < n; i++)
		if (wait_serving(z, i, 30000))
			goto fail;
	return 0;
fail:
	zks_stop(z);
	return -1;
}

void zks_kill(struct zkserver *z, int i)
{
	if (z->pid[i] > 0) {
		kill(z->pid[i], SIGKILL);
		waitpid(z->pid[i], NULL, 0);
		z->pid[i] = 0;
	}
}

int zks_restart(struct zkserver *z, int i)
{
	zks_kill(z, i);
	if (spawn(z, i))
		return -1;
	return wait_serving(z, i, 30000);
}

void zks_stop(struct zkserver *z)
{
	for (int i = 0; i < z->n; i++)
		zks_kill(z, i);
	if (z->dir) {
		test_rmrf(z->dir);
		free(z->dir);
	}
	z->dir = NULL;
}

char *zks_url(const struct zkserver *z, unsigned mask, const char *root)
{
	char buf[1024] = "zk://";
	size_t used = 5;

	for (int i = 0; i < z->n; i++)
		if (!mask || (mask & (1u << i)))
			used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s127.0.0.1:%d",
						 used > 5 ? "," : "", z->client_port[i]);
	snprintf(buf + used, sizeof(buf) - used, "%s", root);
	return strdup(buf);
}
