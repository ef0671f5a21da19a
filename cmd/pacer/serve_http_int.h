/*
 * serve_http_int.h: what serve_http.c and serve_api.c, the two files of
 * pacer serve's HTTP service, share: the server's state, the per-request
 * state and the response helpers. Not for other files.
 */
#ifndef PACER_CMD_SERVE_HTTP_INT_H
#define PACER_CMD_SERVE_HTTP_INT_H

#include <microhttpd.h>
#include <pthread.h>

#include "backends/webhook/webhook.h"
#include "cmd/pacer/filestamp.h"
#include "cmd/pacer/runner.h"
#include "cmd/pacer/serve_http.h"
#include "reconcile/base/buf.h"

struct console;
struct console_req;

struct serve {
	char *listen, *secret, *branch;
	int insecure;
	size_t max_body;
	int interval_s;
	volatile sig_atomic_t *supersede;
	serve_sync_fn sync_fn;
	void *ctx;
	struct runner *runner; /* the sync queue; owned */

	struct MHD_Daemon *daemon;
	int port;
	int epoll_fd;
	struct metrics *metrics;
	struct webhook_replay *replay; /* recent deliveries (the loop thread's); owned */
	struct serve_guard *guard;     /* deadlines, caps, rates (the loop thread's); owned */
	struct serve_limits limits;    /* serve_options.limits */
	int ran;                       /* serve_run() was called */

	/* Everything below is guarded by mu; cv is broadcast when api_jobs drops. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stopping;          /* SIGTERM seen: /healthz says so until the syncs are done */
	char *poke_file;       /* serve_options.poke_file, or NULL */
	struct filestamp poke; /* its last look (the loop thread's) */
	double next_run;       /* wall clock of the next interval sync, 0 = none */
	int poll_due;          /* an interval tick waits for serve_options.poll */
	serve_poll_fn poll;
	void *poll_ctx;
	serve_get_fn get_fn; /* serve_options.get_fn */
	void *get_ctx;

	/* The API (serve_api.c). api_jobs (under mu): API threads running. */
	const struct tokens *tokens;
	serve_api_fn api_fn;
	void *api_ctx;
	serve_sync_only_fn sync_only;
	int api_jobs;

	struct console *console; /* the web console (console.h), or NULL: off */
};

/*
 * Where an API request is (serve_req.phase): its body being read (the
 * event loop's), its call running on an API thread (the connection
 * suspended), or the answer stored for the loop to send. Read and written
 * under the server's mutex.
 */
enum { API_READING = 0, API_RUNNING, API_DONE };

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
	const char *via; /* serve_api_call.via */
	/* A request of the web console (console.h): its state, or NULL. */
	struct console_req *console;
};

/* Answer with body (copied) as type. */
enum MHD_Result serve__respond(struct MHD_Connection *c, unsigned status, const char *type,
                               const char *body);
/* Answer with o (the reference is taken; NULL answers nothing: MHD_NO). */
enum MHD_Result serve__respond_json(struct MHD_Connection *c, unsigned status,
                                    struct json_object *o);
/* {"status": status, key: text} (key NULL: only the status). */
enum MHD_Result serve__respond_status_reason(struct MHD_Connection *c, unsigned code,
                                             const char *status, const char *key, const char *text);

/*
 * The API (serve_api.c). begin: first call of a /api/v1/ request (headers only):
 * route, authenticate, authorise; sets *r (a new serve_req, the caller's
 * con_cls) when the body is to be read, else answers. finish: the body is
 * read; parse it and run the call (on an API thread, the connection
 * suspended meanwhile) or answer the result of a finished one.
 */
enum MHD_Result serve__api_begin(struct serve *s, struct MHD_Connection *c, const char *url,
                                 const char *method, struct serve_req **r);
enum MHD_Result serve__api_finish(struct serve *s, struct MHD_Connection *c, struct serve_req *r);
/*
 * Run r's call (op, app_id, body_json, who, via) on an API thread, the
 * connection suspended meanwhile; MHD calls the handler again when the
 * answer is stored (phase API_DONE, status, reply). Answers 503 itself
 * when SERVE_API_THREADS calls run already or the service stops.
 */
enum MHD_Result serve__api_start(struct serve *s, struct serve_req *r);
/* Free what an API request holds (not r). */
void serve__api_release(struct serve_req *r);

#endif
