/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api.h - the HTTP API: routing, authentication, idempotency and the
 * helpers the resource handlers share (body decoding, field validation,
 * id/uid lookup, pagination). The handlers live in api_app.c,
 * api_endpoint.c, api_evtype.c, api_msg.c, api_attempt.c, api_health.c
 * api_task.c (background tasks and endpoint replay-missing, API.md
 * 4.7), api_msgdest.c (stats, attempted messages and destinations,
 * expunge, API.md 4.8; send-example is ingest's, in api_ingest.c),
 * api_opwh.c (operational webhooks' endpoints, API.md 4.10) and
 * api_token.c (application tokens, API.md 4.11); hookd's operations API
 * (/hookd/v1, API.md 9) in api_ops.c and
 * api_deliveries.c; GET /metrics in api_metrics.c.
 *
 * Threads: api_dispatch() and every handler run on libmicrohttpd's threads
 * and only read the store (short read transactions). Writes are apply
 * functions handed to api_submit(); they run on the writer thread inside
 * the batch transaction, so a uniqueness check made there cannot race.
 */
#ifndef HOOKD_API_H
#define HOOKD_API_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <jansson.h>

#include "http.h"
#include "id.h"
#include "store.h"
#include "swap.h"

struct config;
struct dispatch;
struct feed;
struct stats;

/*
 * What a token may do: admin everything; ingest only create messages (in
 * applications that exist); metrics only read GET /metrics; app (an
 * application token, apptoken.h) the routes of its application that a
 * table of its own in api.c grants. A route names the one non-admin
 * scope it also admits (SCOPE_NONE: no token); SCOPE_APP on a route
 * (logout) admits application tokens only, not even the admin token.
 */
enum api_scope { SCOPE_NONE = 0, SCOPE_INGEST = 1, SCOPE_ADMIN = 2, SCOPE_METRICS = 3,
                 SCOPE_APP = 4 /* an application token (apptoken.h), admitted by api.c */ };

struct api {
    const struct config *cfg;
    struct store *store;
    struct writer *writer;
    const char *admin_token;
    struct swap ingest_tokens;/* char **, NULL-terminated; SIGHUP may replace it */
    struct swap metrics_tokens;/* the same, for GET /metrics only */
    atomic_int stopping;      /* api_stop_writes: writes and health answer 503 */
    int64_t started_ms;
    /*
     * Writer thread only: endpoint filters (epcache.h), a pure cache of
     * the store's endpoints, so fan-out computed in apply from it is the
     * same on a re-apply (hookd reapply keeps one of its own).
     */
    struct epcache *fanout;
    /*
     * HTTP threads: message ids are decided at submission (api_ingest.c),
     * under msg_lock held until the intent is queued, so they grow in the
     * writer's apply order; last_msg_id is the last handed out. Zeroed
     * memory is an unlocked mutex on glibc; main initialises it anyway.
     */
    pthread_mutex_t msg_lock;
    char last_msg_id[ID_MAX]; /* guarded by msg_lock */
    struct stats *stats;      /* counters (stats.h); ingest is counted here */
    struct feed *feed;        /* live feed of outcomes (feed.h) */
    struct dispatch *dispatch;/* for in-flight figures; may be NULL */
    struct retention *retention; /* for the oldest payload; may be NULL */
    struct tasks *tasks;      /* background tasks (task.h); may be NULL */
    int replaying;            /* hookd reapply: entries, not requests (api_reapply) */
    /* cluster mode (cnode.h); cluster_role NULL on a single node */
    /* "owner" or "standby"; both change when a lease moves (--cluster-role auto) */
    _Atomic(const char *) cluster_role;
    atomic_int cluster_standby; /* writes answer 503 not_owner */
    void (*cluster_owner)(void *ctx, char *out, size_t cap);  /* the owner's node id, or "" */
    void (*cluster_stats)(void *ctx, json_t *out);            /* adds to stats' cluster */
    /*
     * Hand r, complete and admitted, to the owner (cfwd.h), from
     * dispatch; NULL: a standby answers writes 503 not_owner and reads
     * from its store (a single node, --cluster-role standby).
     */
    void (*cluster_forward)(void *ctx, struct http_req *r);
    void *cluster_ctx;
    /*
     * Partition groups (group.h): every group's api (groups[0] is the
     * front, the HTTP server's ctx, where requests are admitted), and
     * which one this is. ngroups 0 (hookd reapply, tests) counts as one.
     */
    struct api *const *groups;
    int ngroups;
    int group;
    int partitions;           /* P of part.h */
};

#define API_MAX_PARAMS HTTP_MAX_PARAMS
typedef void (*api_handler)(struct api *a, struct http_req *r, char **params);

/*
 * The http_admit_fn for http_start(), run before the body is read: the
 * route (404, 405), the stop (503) and the token (401, 403). On success
 * it sets r->route, r->params and r->scope; otherwise it answers.
 */
void api_admit(void *ctx, struct http_req *r);
/*
 * The http_dispatch_fn for http_start(); ctx is a struct api. Runs
 * api_admit() first when the request has not been admitted (requests
 * without a connection, http_detached_new).
 */
void api_dispatch(void *ctx, struct http_req *r);
/*
 * The http_dispatch_fn of the metrics-listen listener: GET (and HEAD)
 * /metrics without a token, 404 for every other path, 405 for other
 * methods. It never writes, so the listener can face a scraper's network.
 */
void api_dispatch_metrics(void *ctx, struct http_req *r);

/*
 * The first step of a stop (any thread): from now on every route that
 * writes, and the health check (so load balancers drain), answers 503
 * shutting_down with Retry-After; reads go on being served.
 */
void api_stop_writes(struct api *a);

/*
 * The routing step of api_dispatch() on its own (pure; tests and the
 * fuzzers use it): the index of the route for method and a normalised
 * path, with params[0..API_MAX_PARAMS) set to heap copies of the "*"
 * segments (NULL past the last; caller frees), or API_NO_ROUTE (404) or
 * API_BAD_METHOD (the path exists for other methods: 405), params untouched.
 */
enum { API_NO_ROUTE = -1, API_BAD_METHOD = -2 };
int api_route_match(const char *method, const char *path, char **params);

/*
 * 1 when the presented token a equals the configured token b (b not
 * empty), in time that does not depend on where they differ, so answers'
 * timing says nothing about a token (also cbootnet.c's bootstrap). Pure.
 */
int api_token_eq(const char *a, const char *b);

/*
 * A kind of API write (entry_kinds.h): its apply, and how its job (the
 * handler's data) becomes the fields of a log entry and back. encode
 * writes the fields after what api_submit writes; decode reads them into
 * a job like the one the handler built (NULL, or the reader left bad,
 * when the entry is damaged). apply reads only the store, the job and
 * r->intent.entry.head (the write's time and seed): never the clock, the
 * configuration or memory kept between writes, so that re-applying the
 * entry (api_reapply) writes the same records.
 */
struct api_kind {
    uint16_t kind;
    http_apply_fn apply;
    void (*encode)(struct entry_w *w, const void *data);
    void *(*decode)(struct entry_r *r);
    void (*data_free)(void *data);
};

/*
 * Hand a write to the writer (see http_submit) as an entry of kind k,
 * with idempotency: a POST carrying an idempotency-key whose 2xx answer
 * was saved gets that answer again, byte for byte; a new 2xx answer is
 * saved in the same transaction as the write it acknowledges. The entry
 * carries the idempotency key's hashes and expiry, so a re-apply saves
 * the same answer.
 */
void api_submit(struct http_req *r, const struct api_kind *k, void *data);
/*
 * api_submit for an apply that may run without a nested transaction
 * (writer.h, intent.flat): running it again after a rollback must give
 * the same result. The hot paths only.
 */
void api_submit_flat(struct http_req *r, const struct api_kind *k, void *data);
/*
 * Apply an entry of kind k that api_submit wrote, er positioned after its
 * header (hookd reapply; in cluster mode, a standby). The answer is
 * computed (the idempotency record holds it) and dropped. The store's
 * reserve for management writes (store_room) is not checked: the entry
 * was admitted where it was written. HOOKD_EINVAL when the entry is
 * damaged or of a kind that has no decode.
 */
int api_reapply(struct api *a, const struct api_kind *k, struct entry_r *er,
                struct store_txn *t);

/* Begin a read transaction or answer 500 and return NULL. */
struct store_txn *api_read(struct api *a, struct http_req *r);
/*
 * The node's partition groups (group.h) as seen from a: how many (1
 * without groups), group g's api (a itself without groups), and a read
 * transaction on every group's store into ts[0 .. n) (PART_GROUPS_MAX
 * room): n, or -1 after answering 500 with none left open. The node-wide
 * views use them.
 */
int api_groups(const struct api *a);
struct api *api_group(struct api *a, int g);
int api_read_groups(struct api *a, struct http_req *r, struct store_txn **ts);
void api_abort_groups(struct store_txn **ts, int n);
/* Every group's dispatcher figures summed into ds; 1 when any holds its deliveries. */
struct dispatch_stats;
int api_dispatch_stats(struct api *a, struct dispatch_stats *ds);
/* Every group's store figures summed (store_info); 0 or the first store's error. */
int api_store_info(struct api *a, struct store_info *si);

/*
 * The request body as a JSON object; on failure answers 422
 * (value_error.jsondecode, or too deep) and returns NULL. Caller decrefs.
 * An empty body gives an empty object when empty_ok.
 */
json_t *api_body(struct api *a, struct http_req *r, int empty_ok);
/* api_body of the text s[0..n) in place of the request body. */
json_t *api_body_text(struct api *a, struct http_req *r, const char *s, size_t n, int empty_ok);

/*
 * Field validators. Each returns 0 when the field is valid (absent counts
 * as valid unless required) and otherwise answers 422 with loc
 * ["body", name] and returns -1. "present" outputs say whether the key was
 * in the object at all (PATCH: absent keeps, null clears).
 */
int api_str(struct http_req *r, json_t *o, const char *name, int required, size_t minlen,
            size_t maxlen, const char **out);
/* uid pattern ^[a-zA-Z0-9\-_.]+$, 1..256, not starting with prefix. NULL out for null/absent. */
int api_uid(struct http_req *r, json_t *o, const char *name, const char *prefix,
            const char **out);
/* Name pattern (event types, channels) with a max length. */
int api_is_name(const char *s, size_t maxlen);
int api_int(struct http_req *r, json_t *o, const char *name, int64_t min, int64_t max,
            int64_t *out, int *present);
int api_bool(struct http_req *r, json_t *o, const char *name, int *out, int *present);
/* metadata: object of string values, serialised size <= 4096. */
int api_metadata(struct http_req *r, json_t *o, const char *name, json_t **out);
/* Array of names (api_is_name, maxlen), count in [min, max]; null gives NULL. */
int api_names(struct http_req *r, json_t *o, const char *name, size_t min, size_t max,
              size_t maxlen, json_t **out);

/* Boolean query parameter: "true"/"false"; dflt when absent. -1 (and 422) when bad. */
int api_qbool(struct http_req *r, const char *name, int dflt);
/* Time query parameter (RFC 3339). 0 absent, 1 set, -1 (and 422) when bad. */
int api_qtime(struct http_req *r, const char *name, int64_t *ms);

/* Resolve an id or uid in its parent scope; 0 or HOOKD_ENOTFOUND. */
int api_find_app(struct store_txn *t, const char *id_or_uid, char out[ID_MAX]);
int api_find_endpoint(struct store_txn *t, const char *app_id, const char *id_or_uid,
                      char out[ID_MAX]);
int api_find_msg(struct store_txn *t, const char *app_id, const char *id_or_uid,
                 char out[ID_MAX]);
/*
 * The path's p[0] (an application) and p[1] (one of its endpoints, or
 * with by_msg one of its messages) as ids into app and id. 0, or the
 * store's code after answering 404 (naming which was missing) or 500.
 */
int api_find_pair(struct http_req *r, struct store_txn *t, char **p, int by_msg,
                  char app[ID_MAX], char id[ID_MAX]);
/*
 * A body's since (required) and until (until_dflt when absent), RFC 3339
 * both. 0, or -1 after a 422 naming the field.
 */
int api_since_until(struct http_req *r, json_t *in, int64_t until_dflt, int64_t *since,
                    int64_t *until);
/*
 * A message record, read the one way every reader must (msgrec_parse:
 * the payload as sent stays out of jansson). v gets where the payload's
 * text is, valid while t is; may be NULL. 0, HOOKD_ENOTFOUND, or
 * HOOKD_ECORRUPT.
 */
struct msgrec_view;
int api_msg_rec(struct store_txn *t, const char *app_id, const char *msg_id, json_t **rec,
                struct msgrec_view *v);
/* Reply 404 with a detail naming the entity. */
void api_not_found(struct http_req *r, const char *what);
/* Reply 500 for an unexpected store error (logged). */
void api_store_error(struct http_req *r, int err);

/*
 * Writer thread: tell the dispatcher, once committed, to look at this
 * endpoint again: its due entries changed (api_touch), or its record
 * did (api_touch_settings: the dispatcher reloads url, keys, headers).
 */
void api_touch(struct http_req *r, const char *app_id, const char *ep_id);
void api_touch_settings(struct http_req *r, const char *app_id, const char *ep_id);

/* Bind / free a uid in the uids database (writer thread). */
int api_uid_put(struct store_txn *t, char kind, const char *parent, const char *uid,
                const char *id);
int api_uid_del(struct store_txn *t, char kind, const char *parent, const char *uid);

/*
 * The before/after window of a time-ordered list (API.md 3.7) as id
 * bounds for ids of prefix: [lo, hi), hi only when *has_hi; with neither
 * parameter, the last 90 days. -1 after answering 422.
 */
int api_window(struct http_req *r, const char *prefix, char lo[ID_MAX], char hi[ID_MAX],
               int *has_hi);

/* Record times: ms integer fields copied to out as RFC 3339 strings. */
void api_set_time(json_t *out, const char *name, json_t *rec, const char *field);

/*
 * Pagination (API.md 3.7) over keys prefix|id of db, windowed to
 * [lo_id, hi_id) when those are non-NULL. row() turns a record into its
 * output object, or NULL to skip it (filters). Answers the ListResponse
 * envelope, or 422 for a bad limit/order.
 */
typedef json_t *(*api_row_fn)(const struct store_kv *kv, void *arg);
struct api_page {
    enum store_db db;
    const char *prefix;       /* "" for top-level collections */
    int descending;           /* default order */
    int fixed_order;          /* ignore ?order= (event types) */
    const char *lo_id, *hi_id;
    api_row_fn row;
    void *arg;
    /*
     * 0, or stop after examining this many keys (a filter that matches
     * little must not walk a whole database on an HTTP thread): the page
     * is then not done and continues after the last key examined.
     */
    size_t max_scan;
    struct api_splice *splice;   /* rows hold payload placeholders (api_msg_out), or NULL */
};
void api_list(struct http_req *r, struct store_txn *t, const struct api_page *p);
/*
 * api_list over n stores at once (the partition groups, group.h): page
 * ps[i] of store ts[i], the rows merged by id in the list's order, so the
 * page, its iterators and done are exactly those of one store holding
 * every row (ids are unique across stores). Limit, order and splice are
 * ps[0]'s.
 */
void api_list_groups(struct http_req *r, struct store_txn *const *ts,
                     const struct api_page *const *ps, int n);

/*
 * A write's state between the HTTP thread and the writer: copies of the
 * path parameters, the decoded body (reference taken), a record under
 * construction, the arrival time, and one option flag. Freed with the
 * request (api_job_free is the data_free of api_submit).
 */
struct api_job {
    char *p[API_MAX_PARAMS];
    json_t *in;
    json_t *rec;
    int64_t now;
    int opt;
};
struct api_job *api_job_new(char **params, json_t *in);
void api_job_free(void *job);
/* The entry fields of an api_job, for api_kinds whose data is one. */
void api_job_encode(struct entry_w *w, const void *job);
void *api_job_decode(struct entry_r *r);
/*
 * api_job_decode that also checks the job has what its apply reads, so a
 * damaged entry is refused (NULL, r left bad) and never dereferenced:
 * the path's first nparams parameters, in when need_in, and rec as an
 * object with the string field rec_key when rec_key is not NULL.
 * API_JOB_DECODER defines one kind's decode with it.
 */
void *api_job_decode_as(struct entry_r *r, int nparams, int need_in, const char *rec_key);
#define API_JOB_DECODER(fn, nparams, need_in, rec_key) \
    static void *fn(struct entry_r *r) { return api_job_decode_as(r, nparams, need_in, rec_key); }

/* Applications, shared with message create's embedded application. */
json_t *api_app_new_rec(struct http_req *r, json_t *in, int64_t now);  /* NULL after 422 */
json_t *api_app_out(json_t *rec);
/* Write an app record and its uid (writer); 409 answered on a uid clash. */
int api_app_store(struct http_req *r, struct store_txn *t, json_t *rec, const char *old_uid);

/*
 * Queue one manual attempt of msg to ep (writer thread): a due entry at
 * now with trigger 1, counted in the endpoint's backlog, and a pending
 * deliveries row unless the pair has one. Shared by resend, recover and
 * replay.
 */
int api_queue_manual(struct store_txn *t, const char *app, const char *ep, const char *msg,
                     int64_t now);
/*
 * Can msg be sent to ep again? 0; HOOKD_ENOTFOUND (*why: "endpoint" or
 * "message" names what is missing); HOOKD_EINVAL (*why:
 * "endpoint_disabled", "missing_payload" or "payload_expunged"); or a
 * store error.
 */
int api_resendable(struct store_txn *t, const char *app, const char *msg, const char *ep,
                   const char **why);

/*
 * disabledAt (RFC 3339) and disabledReason ("operator", "http_410" or
 * "failures") of an endpoint record into out; both null when it is
 * enabled (or was disabled by a build that did not record them).
 */
void api_disabled_out(json_t *out, json_t *rec);

/* lastError of attempt att_id (len bytes): a string when it failed, else JSON null. */
json_t *api_attempt_error(struct store_txn *t, const char *att_id, size_t len);

/* Drop an endpoint's health row and stats counters with the endpoint (writer); absent is fine. */
int api_health_del(struct store_txn *t, const char *ep_id);

/*
 * The durable delivery gauges (API.md 9), from one health row per
 * endpoint and the meta "failed" counter, never a scan of the due index:
 * pending (first attempts waiting), scheduled (retries waiting), held (the
 * backlog of paused or disabled endpoints), failed (state fail). each,
 * when set, also sees every endpoint's id and health row. Any HTTP thread;
 * 0 or a store error.
 */
struct api_gauges {
    int64_t pending, scheduled, held, failed;
    int64_t messages;         /* message records in the log, payload or not */
    int64_t endpoints;
    void (*each)(void *arg, const char *ep_id, const struct store_health *h);
    void *arg;
};
int api_gauges(struct api *a, struct api_gauges *g);

/* http_req.on_commit of message create: count the ingested message. */
void api_count_ingest(struct http_req *r);

/*
 * Payloads kept as text (msgrec_parse) go out as they were sent, which a
 * jansson tree cannot hold: MessageOut carries a placeholder string for
 * each, and api_splice_reply() prints the answer with every placeholder
 * replaced by its text. Placeholders start with a control byte that no
 * other field of a MessageOut or a list envelope can hold (ids, names,
 * times). One per request; HTTP thread.
 */
struct api_splice {
    json_t *texts;            /* array of the payload texts, placeholder n -> texts[n] */
};
#define API_SPLICE_INIT { NULL }
/* Answer status with j (reference stolen) spliced; releases s. */
void api_splice_reply(struct http_req *r, int status, json_t *j, struct api_splice *s);

/*
 * MessageOut of a stored message record (payload {} unless with_content),
 * its payload text, when it has one, as a placeholder of sp.
 */
json_t *api_msg_out(json_t *rec, int with_content, struct api_splice *sp);

/*
 * PUT and PATCH of a record: decode the body, run check() against an
 * empty record so a bad body is answered 422 here and never reaches the
 * writer, then hand an api_job (opt = patch) to apply.
 */
typedef int (*api_fields_fn)(struct http_req *r, json_t *in, json_t *rec, int patch);
void api_submit_update(struct api *a, struct http_req *r, char **p, int patch,
                       api_fields_fn check, const struct api_kind *k);

/*
 * The message filters shared by the message and attempt lists: the
 * event_types query (comma lists, repeated keys, event_types[] and
 * event_types[0]) as a new array the
 * caller decrefs, and whether a message record passes it and channel.
 */
json_t *api_query_types(struct http_req *r);
int api_msg_matches(json_t *types, const char *channel, json_t *msg_rec);
/* EndpointOut of an endpoint record (a new object). */
json_t *api_ep_out(json_t *rec);
/* Does the message record carry this tag (MessageIn.tags)? */
int api_msg_tagged(json_t *msg_rec, const char *tag);

/* Handlers, one per route (see the table in api.c). */
#define H(name) void name(struct api *a, struct http_req *r, char **p)
H(api_health);
H(api_app_create); H(api_app_list); H(api_app_get); H(api_app_put); H(api_app_patch);
H(api_app_delete);
H(api_ep_create); H(api_ep_list); H(api_ep_get); H(api_ep_put); H(api_ep_patch);
H(api_ep_delete); H(api_ep_secret_get); H(api_ep_secret_rotate); H(api_ep_headers_get);
H(api_ep_headers_put); H(api_ep_headers_patch); H(api_ep_timeouts_get); H(api_ep_timeouts_put);
H(api_et_create); H(api_et_list); H(api_et_get); H(api_et_put); H(api_et_patch);
H(api_et_delete);
H(api_msg_create); H(api_msg_list); H(api_msg_get);
H(api_att_list_by_ep); H(api_att_list_by_msg); H(api_att_get); H(api_att_resend);
H(api_ep_recover); H(api_ep_replay_missing); H(api_task_get); H(api_task_list);
H(api_ops_stats); H(api_ops_history); H(api_ops_endpoints); H(api_ops_deliveries); H(api_ops_replay);
H(api_ops_feed); H(api_ops_pause); H(api_ops_resume); H(api_ops_release);
H(api_metrics);
/* operational webhooks (api_opwh.c, API.md 4.10) */
H(api_opwh_list); H(api_opwh_create); H(api_opwh_get); H(api_opwh_put); H(api_opwh_delete);
H(api_opwh_secret_get); H(api_opwh_secret_rotate); H(api_opwh_headers_get);
H(api_opwh_headers_put);
H(api_auth_portal_access); H(api_auth_logout); H(api_auth_expire_all); H(api_ops_tokens); H(api_ops_token_revoke);
/* Svix parity (issue 7): api_attempt.c, api_msgdest.c, api_ingest.c */
H(api_att_list_msg_old); H(api_att_list_msg_ep_old);
H(api_msg_expunge); H(api_att_expunge); H(api_ep_msg_list); H(api_msg_ep_list);
H(api_ep_stats); H(api_ep_send_example);
#undef H

#endif
