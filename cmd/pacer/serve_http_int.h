/*
 * serve_http_int.h: what serve_http.c and serve_api.c, the two files of
 * pacer serve's HTTP service, share: the server's state, the per-request
 * state and the response helpers. Not for other files.
 */
#ifndef PACER_CMD_SERVE_HTTP_INT_H
#define PACER_CMD_SERVE_HTTP_INT_H

#include <microhttpd.h>
#include <pthread.h>

#include "cmd/pacer/serve_http.h"
#include "backends/webhook/webhook.h"
#include "reconcile/base/buf.h"

#define REASON_MAX 256

struct serve {
	char *listen, *secret, *branch;
	int insecure;
	size_t max_body;
	int interval_s;
	volatile sig_atomic_t *supersede;
	serve_sync_fn sync_fn;
	void *ctx;

	struct MHD_Daemon *daemon;
	int port;
	int epoll_fd;
	struct metrics *metrics;
	int ran; /* serve_run() was called */

	/* Everything below is guarded by mu. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t worker;
	int worker_started;
	int quit;
	int stopping;    /* SIGTERM seen: /healthz says so until the worker is done */
	char *poke_file; /* serve_options.poke_file, or NULL */
	char poke_sig[96]; /* its last seen mtime:size:inode ("" = absent) */
	int worker_done; /* worker_main returned (under mu) */
	unsigned long last_id; /* the last sync id handed out */
	int running;
	unsigned long running_id;
	int pending;
	unsigned long pending_id;
	char pending_reason[REASON_MAX];
	unsigned long nsyncs;
	double next_run; /* wall clock of the next interval sync, 0 = none */

	int have_last;
	unsigned long done_id;
	char done_reason[REASON_MAX];
	int done_rc;
	int done_converged;
	double done_started, done_finished, done_seconds;
	struct json_object *done_status; /* owned, or NULL */
	double last_success;             /* 0 = never */
	char **pending_only; /* the pending sync's apps (NULL-terminated), NULL = every app */

	/* The API (api.c). api_jobs (under mu): API threads running. */
	const struct tokens *tokens;
	serve_api_fn api_fn;
	void *api_ctx;
	serve_sync_only_fn sync_only;
	int api_jobs;
};

/* Per-request state of a webhook POST or an API call (MHD's con_cls). */
struct serve_req {
	int is_api;
	enum webhook_provider provider;
	struct pacer_buf body;
	int too_large;
	/* API calls only (api.c). */
	struct serve *s;
	struct MHD_Connection *conn;
	enum serve_api_op op;
	char *app_id;
	const char *who; /* the token's name (borrowed from s->tokens) */
	int phase;       /* API_READING, API_RUNNING (suspended), API_DONE */
	unsigned status;
	struct json_object *reply;
	struct json_object *body_json;
};

/* Answer with body (copied) as type. */
enum MHD_Result serve__respond(struct MHD_Connection *c, unsigned status, const char *type,
			       const char *body);
/* Answer with o (the reference is taken; NULL answers nothing: MHD_NO). */
enum MHD_Result serve__respond_json(struct MHD_Connection *c, unsigned status,
				    struct json_object *o);
/* {"status": status, key: text} (key NULL: only the status). */
enum MHD_Result serve__respond_status_reason(struct MHD_Connection *c, unsigned code,
					     const char *status, const char *key,
					     const char *text);

/*
 * Ask for a sync of the apps in only (NULL-terminated, copied; NULL =
 * every app); returns the id of the sync that covers the request. A sync
 * already pending takes the union (every app when either asks for all).
 */
unsigned long serve__trigger(struct serve *s, const char *reason, int newer,
			     const char *const *only);

/*
 * The API (api.c). begin: first call of a /api/v1/ request (headers only):
 * route, authenticate, authorise; sets *r (a new serve_req, the caller's
 * con_cls) when the body is to be read, else answers. finish: the body is
 * read; parse it and run the call (on an API thread, the connection
 * suspended meanwhile) or answer the result of a finished one.
 */
enum MHD_Result serve__api_begin(struct serve *s, struct MHD_Connection *c, const char *url,
				 const char *method, struct serve_req **r);
enum MHD_Result serve__api_finish(struct serve *s, struct MHD_Connection *c,
				  struct serve_req *r);
/* Free what an API request holds (not r). */
void serve__api_release(struct serve_req *r);

#endif
