/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_endpoint.c - endpoints, their signing secrets and custom headers
 * (API.md 4.2).
 *
 * Record (endpoints database, key app_id|ep_id, JSON):
 *   id, appId, url, description, uid (string or null),
 *   throttleRate (int or null), version (int), disabled (bool),
 *   eventTypes (array of names or null), channels (array or null),
 *   metadata (object), headers (object name -> value),
 *   secret (the current key, "whsec_<base64>"),
 *   oldSecrets (array of {"key": "whsec_...", "expiresAt": ms}),
 *   createdAt, updatedAt (ms).
 * The delivery code reads these fields: a request is signed with secret
 * and with every oldSecrets key whose expiresAt is still in the future,
 * and carries the headers after its own.
 *
 * The API speaks two names for the type filter (eventTypes in 2.x,
 * filterTypes in 1.x); both are read, the record keeps eventTypes, and both
 * are written out. Whether the named event types exist is checked in the
 * writer's transaction, like uid uniqueness, so the answer cannot be stale.
 *
 * Every create, update, delete, disable, enable and secret rotation also
 * writes the operator's event in the same transaction (opwh.h, API.md
 * 4.10). The operator's own endpoints are endpoints of the reserved
 * application: its filters name operational events, not event types.
 *
 * Applies decide nothing (entry.h): ids and secrets are made by the
 * handlers before the writer and carried in the entry (a PUT that
 * creates draws its id from the entry, and takes the secret its handler
 * made), and every time written is the job's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <mbedtls/base64.h>

#include "api.h"
#include "api_kinds.h"
#include "entry.h"
#include "entry_kinds.h"
#include "clock.h"
#include "epconf.h"
#include "err.h"
#include "mem.h"
#include "netpolicy.h"
#include "opwh.h"

enum ep_mode { EP_CREATE, EP_PUT, EP_PATCH };

#define SECRET_RAW 24
#define OLD_SECRETS_MAX 10
#define GRACE_DEFAULT_S 86400
#define HEADER_VALUE_MAX 4096

static const char *const forbidden_headers[] = {
    "user-agent", "content-type", "content-length", "transfer-encoding", "keep-alive", "te",
    "trailers", "upgrade", "age", "cache-control", "clear-site-data", "expires", "pragma",
    "warning", "content-encoding", "content-language", "content-location",
    "proxy-authenticate", "proxy-authorization", NULL
};
static const char *const forbidden_prefixes[] = {
    "x-amz-", "x-amzn-", "x-google", "x-goog-", "x-gfe", "x-azure-", "x-fd-", "x-svix-",
    "svix-", NULL
};
static const char *const sensitive_headers[] = {
    "authorization", "x-auth-token", "x-api-key", "www-authenticate", "proxy-authenticate",
    "proxy-authorization", NULL
};

static const char *str_of(json_t *rec, const char *k)
{
    return json_string_value(json_object_get(rec, k));
}

static json_t *or_null(json_t *v)
{
    return v ? json_incref(v) : json_null();
}

static json_t *ep_out(json_t *rec)
{
    json_t *o = json_object();
    json_object_set(o, "id", json_object_get(rec, "id"));
    json_object_set(o, "url", json_object_get(rec, "url"));
    json_object_set(o, "description", json_object_get(rec, "description"));
    json_object_set_new(o, "uid", or_null(json_object_get(rec, "uid")));
    json_t *tr = json_object_get(rec, "throttleRate");
    json_object_set_new(o, "throttleRate", or_null(tr));
    json_object_set_new(o, "rateLimit", or_null(tr));
    json_object_set(o, "version", json_object_get(rec, "version"));
    json_object_set(o, "disabled", json_object_get(rec, "disabled"));
    json_t *types = json_object_get(rec, "eventTypes");
    json_object_set_new(o, "eventTypes", or_null(types));
    json_object_set_new(o, "filterTypes", or_null(types));
    json_object_set_new(o, "channels", or_null(json_object_get(rec, "channels")));
    json_t *md = json_object_get(rec, "metadata");
    json_object_set_new(o, "metadata", md ? json_incref(md) : json_object());
    api_set_time(o, "createdAt", rec, "createdAt");
    api_set_time(o, "updatedAt", rec, "updatedAt");
    api_disabled_out(o, rec);
    return o;
}

/*
 * What the operator's endpoints answer (API.md 4.10): Svix's
 * OperationalWebhookEndpointOut, EndpointOut without what it lacks. The
 * filter stays under both names: the 1.x client reads filterTypes, 2.x
 * eventTypes.
 */
static json_t *op_out(json_t *rec)
{
    json_t *o = ep_out(rec);
    json_object_del(o, "version");
    json_object_del(o, "channels");
    return o;
}

/* ep_out, or op_out when the path names the operator's application. */
static json_t *out_for(const char *app, json_t *rec)
{
    return app && strcmp(app, OPWH_APP_UID) == 0 ? op_out(rec) : ep_out(rec);
}

json_t *api_ep_out(json_t *rec)
{
    return ep_out(rec);
}

/* 422 with loc ["body", name]. */
static void field_error(struct http_req *r, const char *name, const char *msg)
{
    char loc[64];
    snprintf(loc, sizeof(loc), "body.%s", name);
    http_verror(r, loc, "value_error", msg);
}

/*
 * Parse url as delivery will (worker.c's easy_set_url: curl's URL API
 * with the same flags), so a URL curl cannot use is refused here rather
 * than failing every attempt later.
 */
static int url_parses(struct http_req *r, const char *url)
{
    CURLU *u = curl_url();
    CURLUcode rc = u ? curl_url_set(u, CURLUPART_URL, url,
                                    CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME)
                     : CURLUE_OUT_OF_MEMORY;
    curl_url_cleanup(u);
    if (rc == CURLUE_OK)
        return 0;
    char msg[160];
    snprintf(msg, sizeof(msg), "url cannot be used for delivery: %s", curl_url_strerror(rc));
    field_error(r, "url", msg);
    return -1;
}

/* http or https, an authority with a host, no spaces or control bytes, a
 * URL curl's parser takes, and no non-canonical spelling of an IPv4
 * address as the host. */
static int url_check(struct http_req *r, const char *url)
{
    if (!url)
        return 0;
    size_t skip = strncasecmp(url, "https://", 8) == 0 ? 8
                  : strncasecmp(url, "http://", 7) == 0 ? 7 : 0;
    if (!skip) {
        field_error(r, "url", "url must start with http:// or https://");
        return -1;
    }
    for (const char *s = url; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f) {
            field_error(r, "url", "url must not contain spaces or control characters");
            return -1;
        }
    const char *h = url + skip;
    size_t n = strcspn(h, "/?#");
    const char *at = memrchr(h, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - h);
        h = at + 1;
    }
    size_t hl = h[0] == '[' ? n : strcspn(h, ":");
    if ((hl < n ? hl : n) == 0 || (h[0] == '[' && !memchr(h, ']', n))) {
        field_error(r, "url", "url must name a host");
        return -1;
    }
    if (url_parses(r, url))
        return -1;
    /* "http://2130706433/" is 127.0.0.1 to curl: refuse such spellings
     * here, so the operator hears why at once (the worker refuses them too) */
    char why[256];
    if (netpolicy_check_url(url, why, sizeof(why))) {
        field_error(r, "url", why);
        return -1;
    }
    return 0;
}

/* The type filter key the body used (eventTypes wins), or NULL. */
static const char *types_key(json_t *in)
{
    json_t *et = json_object_get(in, "eventTypes"), *ft = json_object_get(in, "filterTypes");
    if (et && !json_is_null(et))
        return "eventTypes";
    if (ft && !json_is_null(ft))
        return "filterTypes";
    return et ? "eventTypes" : ft ? "filterTypes" : NULL;
}

/* A set of names: the array without repeats (new reference), or null. */
static json_t *name_set(json_t *arr)
{
    if (!arr)
        return json_null();
    json_t *out = json_array(), *seen = json_object(), *x;
    size_t i;
    json_array_foreach(arr, i, x) {
        const char *name = json_string_value(x);
        if (!json_object_get(seen, name)) {
            json_object_set_new(seen, name, json_true());
            json_array_append(out, x);
        }
    }
    json_decref(seen);
    return out;
}

/* url, description, uid, throttleRate/rateLimit, version, disabled, metadata. */
static int scalar_fields(struct http_req *r, json_t *in, json_t *rec, int patch)
{
    const char *url, *desc, *uid;
    int64_t rate, version;
    int has_rate, has_rate2, has_version, disabled = 0, has_disabled;
    json_t *md;
    if (api_str(r, in, "url", !patch, 1, 65536, &url) || url_check(r, url)
        || api_str(r, in, "description", 0, 0, SIZE_MAX, &desc)
        || api_uid(r, in, "uid", "ep_", &uid)
        || api_int(r, in, "throttleRate", 1, 65535, &rate, &has_rate)
        || (!has_rate && api_int(r, in, "rateLimit", 1, 65535, &rate, &has_rate2))
        || api_int(r, in, "version", 1, INT32_MAX, &version, &has_version)
        || api_bool(r, in, "disabled", &disabled, &has_disabled)
        || api_metadata(r, in, "metadata", &md))
        return -1;
    if (url)
        json_object_set_new(rec, "url", json_string(url));
    if (!patch || json_object_get(in, "description"))
        json_object_set_new(rec, "description", json_string(desc ? desc : ""));
    if (!patch || json_object_get(in, "uid"))
        json_object_set_new(rec, "uid", uid ? json_string(uid) : json_null());
    if (!patch || has_rate || json_object_get(in, "rateLimit"))
        json_object_set_new(rec, "throttleRate", rate >= 0 ? json_integer(rate) : json_null());
    if (!patch || has_version)
        json_object_set_new(rec, "version", json_integer(version >= 1 ? version : 1));
    if (!patch || has_disabled)
        json_object_set_new(rec, "disabled", json_boolean(disabled));
    if (!patch || json_object_get(in, "metadata"))
        json_object_set_new(rec, "metadata", md ? json_incref(md) : json_object());
    return 0;
}

/* eventTypes/filterTypes and channels. */
static int filter_fields(struct http_req *r, json_t *in, json_t *rec, int patch)
{
    const char *tkey = types_key(in);
    json_t *types = NULL, *channels;
    if ((tkey && api_names(r, in, tkey, 1, SIZE_MAX, 256, &types))
        || api_names(r, in, "channels", 1, 10, 128, &channels))
        return -1;
    if (!patch || tkey)
        json_object_set_new(rec, "eventTypes", name_set(types));
    if (!patch || json_object_get(in, "channels"))
        json_object_set_new(rec, "channels", name_set(channels));
    return 0;
}

/*
 * A signing secret: "whsec_" + base64, or the base64 alone, of 24..75
 * bytes. *out gets a heap "whsec_..." string, or NULL when absent.
 */
static int secret_check(struct http_req *r, json_t *in, const char *name, char **out)
{
    const char *s;
    *out = NULL;
    if (api_str(r, in, name, 0, 1, 200, &s))
        return -1;
    if (!s)
        return 0;
    if (strncmp(s, "whsec_", 6) == 0)
        s += 6;
    size_t n = strlen(s), raw_len = 0;
    unsigned char raw[128];
    if (n < 32 || n > 100 || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                       "0123456789+/=") != n
        || mbedtls_base64_decode(raw, sizeof(raw), &raw_len, (const unsigned char *)s, n)
        || raw_len < 24 || raw_len > 75) {
        field_error(r, name, "secret must be 'whsec_' followed by the base64 of 24 to 75 bytes");
        return -1;
    }
    *out = xmalloc(n + 7);
    memcpy(*out, "whsec_", 6);
    memcpy(*out + 6, s, n + 1);
    return 0;
}

/* A fresh secret of 24 random bytes (heap string). */
static char *secret_new(void)
{
    unsigned char raw[SECRET_RAW], b64[64];
    size_t n = 0;
    id_random(raw, sizeof(raw));
    mbedtls_base64_encode(b64, sizeof(b64), &n, raw, sizeof(raw));
    char *s = xmalloc(n + 7);
    memcpy(s, "whsec_", 6);
    memcpy(s + 6, b64, n);
    s[n + 6] = '\0';
    return s;
}

static int in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcasecmp(*list, s) == 0)
            return 1;
    return 0;
}

/* Why a custom header cannot be used, or NULL when it can. */
static const char *header_problem(const char *name, json_t *v, int allow_null)
{
    if (!*name || strspn(name, "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "abcdefghijklmnopqrstuvwxyz") != strlen(name))
        return "is not a valid header name";
    if (epconf_header_reserved(name))
        return "is set by hookd on every delivery and cannot be set on an endpoint";
    if (in_list(forbidden_headers, name))
        return "cannot be set on an endpoint";
    for (const char *const *p = forbidden_prefixes; *p; p++)
        if (strncasecmp(name, *p, strlen(*p)) == 0)
            return "uses a reserved prefix";
    if (json_is_null(v) && allow_null)
        return NULL;
    if (!json_is_string(v))
        return "must have a string value";
    if (json_string_length(v) > HEADER_VALUE_MAX)
        return "has a value longer than 4096 bytes";
    if (strcspn(json_string_value(v), "\r\n") != json_string_length(v))
        return "has a value with CR, LF or NUL";
    return NULL;
}

/* headers: an object of valid custom headers (values may be null when allow_null). */
static int headers_check(struct http_req *r, json_t *h, int allow_null)
{
    if (!json_is_object(h)) {
        field_error(r, "headers", "headers must be an object of strings");
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach(h, k, v) {
        const char *why = header_problem(k, v, allow_null);
        if (why) {
            char msg[200];
            snprintf(msg, sizeof(msg), "header '%.64s' %s", k, why);
            field_error(r, "headers", msg);
            return -1;
        }
    }
    return 0;
}

/* Validate EndpointIn/EndpointPatch and copy the fields the mode takes into rec. */
static int ep_fields(struct http_req *r, json_t *in, json_t *rec, enum ep_mode mode)
{
    char *secret;
    if (scalar_fields(r, in, rec, mode == EP_PATCH) || filter_fields(r, in, rec, mode == EP_PATCH))
        return -1;
    if (mode == EP_PUT)
        return 0;
    if (secret_check(r, in, "secret", &secret))
        return -1;
    if (secret)
        json_object_set_new(rec, "secret", json_string(secret));
    free(secret);
    if (mode == EP_CREATE) {
        json_t *h = json_object_get(in, "headers");
        if (h && !json_is_null(h) && headers_check(r, h, 0))
            return -1;
        json_object_set_new(rec, "headers", h && !json_is_null(h) ? json_deep_copy(h)
                                                                    : json_object());
    }
    return 0;
}

/*
 * A record with this id, times now, fields from in, and secret unless
 * the body gave one. NULL after a 422.
 */
static json_t *ep_rec_of(struct http_req *r, json_t *in, int64_t now, enum ep_mode mode,
                         const char *id, const char *secret)
{
    json_t *rec = json_pack("{s:s, s:I, s:I, s:{}, s:[]}", "id", id, "createdAt",
                            (json_int_t)now, "updatedAt", (json_int_t)now, "headers",
                            "oldSecrets");
    if (ep_fields(r, in, rec, mode)) {
        json_decref(rec);
        return NULL;
    }
    if (!json_object_get(rec, "secret"))
        json_object_set_new(rec, "secret", json_string(secret));
    return rec;
}

/* A fresh record with a new id and secret (a handler's, before the writer). */
static json_t *ep_new_rec(struct http_req *r, json_t *in, int64_t now, enum ep_mode mode)
{
    char id[ID_MAX], *secret = secret_new();
    id_new_at("ep_", now, id);
    json_t *rec = ep_rec_of(r, in, now, mode, id, secret);
    free(secret);
    return rec;
}

/* The store key app_id|ep_id of a record into key; its length. */
static size_t ep_key(json_t *rec, char key[2 * ID_MAX])
{
    int n = snprintf(key, 2 * ID_MAX, "%s%s", str_of(rec, "appId"), str_of(rec, "id"));
    return n > 0 && n < 2 * ID_MAX ? (size_t)n : 0;
}

/*
 * When and why the endpoint was disabled (API.md 9): a record that turns
 * disabled here, through the API, was disabled by an operator, at its
 * updatedAt (the request's time, decided before the writer); one disabled
 * already keeps what it says (outcome.c writes http_410 and failures).
 */
static void disabled_note(json_t *rec)
{
    if (!json_is_true(json_object_get(rec, "disabled"))) {
        json_object_del(rec, "disabledAt");
        json_object_del(rec, "disabledReason");
        return;
    }
    if (json_object_get(rec, "disabledAt"))
        return;
    json_object_set(rec, "disabledAt", json_object_get(rec, "updatedAt"));
    json_object_set_new(rec, "disabledReason", json_string("operator"));
}

/* Write rec (and its uid binding, replacing old_uid's) in the writer. */
static int ep_store(struct http_req *r, struct store_txn *t, json_t *rec, const char *old_uid)
{
    const char *app = str_of(rec, "appId"), *id = str_of(rec, "id"), *uid = str_of(rec, "uid");
    char key[2 * ID_MAX];
    size_t klen = ep_key(rec, key);
    int rc = klen ? 0 : HOOKD_EINVAL;
    if (!rc && old_uid && (!uid || strcmp(old_uid, uid) != 0))
        rc = api_uid_del(t, 'e', app, old_uid);
    if (!rc && uid && (!old_uid || strcmp(old_uid, uid) != 0)) {
        rc = api_uid_put(t, 'e', app, uid, id);
        if (rc == HOOKD_EEXIST) {
            http_error(r, 409, "conflict", "An endpoint with that id or uid already exists");
            return rc;
        }
    }
    disabled_note(rec);
    if (!rc)
        rc = store_put_json(t, DB_ENDPOINTS, key, klen, rec);
    if (!rc)
        api_touch_settings(r, app, id);
    return rc;
}

/* Is rec an endpoint of the operator's reserved application (opwh.h)? */
static int is_opwh(struct store_txn *t, json_t *rec)
{
    char op[ID_MAX];
    const char *app = str_of(rec, "appId");
    return app && opwh_app_id(t, op) == 0 && strcmp(op, app) == 0;
}

/* An operational endpoint filters on the operational events only. */
static int opwh_types(struct http_req *r, const char *tkey, json_t *types)
{
    json_t *x;
    size_t i;
    json_array_foreach(types, i, x) {
        if (!opwh_is_event(json_string_value(x))) {
            char msg[320];
            snprintf(msg, sizeof(msg), "'%s' is not an operational event type (API.md 4.10)",
                     json_string_value(x));
            field_error(r, tkey, msg);
            return HOOKD_EINVAL;
        }
    }
    return 0;
}

/*
 * The operator's event about endpoint rec (opwh.h), in the transaction
 * of the change it reports, so one is sent exactly when the other holds.
 */
static int ep_event(struct http_req *r, struct store_txn *t, const char *type, json_t *rec,
                    int64_t now)
{
    struct api *a = http_ctx(r);
    json_t *extra = strcmp(type, "endpoint.disabled") == 0
                    ? json_pack("{s:n, s:s}", "failSince", "trigger", "manual") : NULL;
    int rc = opwh_endpoint_event(t, a->writer, type, str_of(rec, "appId"), str_of(rec, "id"),
                                 extra, &r->intent.entry.head);
    json_decref(extra);
    return rc;
}

/* Every name of types is an event type of t that is not archived: 0, or an error after a 422. */
static int types_in(struct http_req *r, struct store_txn *t, const char *tkey, json_t *types)
{
    json_t *x;
    size_t i;
    json_array_foreach(types, i, x) {
        const char *name = json_string_value(x);
        json_t *et;
        if (!name)
            continue;   /* the body's checks refuse it */
        int rc = store_get_json(t, DB_EVENT_TYPES, name, strlen(name), &et);
        if (rc && rc != HOOKD_ENOTFOUND)
            return rc;
        int archived = !rc && json_is_true(json_object_get(et, "archived"));
        if (!rc)
            json_decref(et);
        if (rc || archived) {
            char msg[320];
            snprintf(msg, sizeof(msg), "event type '%s' %s", name,
                     archived ? "is archived" : "does not exist");
            field_error(r, tkey, msg);
            return HOOKD_EINVAL;
        }
    }
    return 0;
}

/* The API of a group other than 0, whose event types are group 0's (group.h). */
static int types_elsewhere(const struct api *a)
{
    return a && a->ngroups > 1 && a->group != 0;
}

/*
 * In the writer: every name of the type filter the body set must be an
 * event type that exists and is not archived. 0, or an error after a 422.
 * In a group other than 0 the event types are in another store, which
 * apply may not read (a follower of this group's log would read its own
 * copy of group 0 at another moment, and decide otherwise): the handler
 * checked them there before the write (types_before).
 */
static int types_exist(struct http_req *r, struct store_txn *t, json_t *in, json_t *rec)
{
    const char *tkey = types_key(in);
    json_t *types = json_object_get(rec, "eventTypes");
    if (!tkey || !json_is_array(types))
        return 0;
    if (is_opwh(t, rec))
        return opwh_types(r, tkey, types);
    if (types_elsewhere(http_ctx(r)))
        return 0;
    return types_in(r, t, tkey, types);
}

/*
 * Before the write, in a group other than 0: the body's type filter
 * against group 0's event types (the operator's app checks its own in
 * apply). 0, or an error after answering.
 */
static int types_before(struct api *a, struct http_req *r, char **p, json_t *in)
{
    const char *tkey = types_key(in);
    json_t *types = tkey ? json_object_get(in, tkey) : NULL;
    struct store_txn *t0;
    if (!types_elsewhere(a) || !json_is_array(types) || strcmp(p[0], OPWH_APP_UID) == 0)
        return 0;
    int rc = store_read(a->groups[0]->store, &t0);
    if (rc) {
        api_store_error(r, rc);
        return rc;
    }
    rc = types_in(r, t0, tkey, types);
    store_abort(t0);
    if (rc && rc != HOOKD_EINVAL)
        api_store_error(r, rc);
    return rc;
}

/* Resolve the app named by id or uid; 0, or an error code after answering. */
static int find_app(struct http_req *r, struct store_txn *t, const char *x, char app[ID_MAX])
{
    int rc = api_find_app(t, x, app);
    if (rc == HOOKD_ENOTFOUND)   /* the operator's app is made with its first endpoint */
        api_not_found(r, strcmp(x, OPWH_APP_UID) == 0 ? "endpoint" : "application");
    else if (rc)
        api_store_error(r, rc);
    return rc;
}

/* The record of endpoint id under app; HOOKD_ENOTFOUND when missing. */
static int get_ep(struct store_txn *t, const char *app, const char *id, json_t **rec)
{
    char key[2 * ID_MAX];
    int n = snprintf(key, sizeof(key), "%s%s", app, id);
    return store_get_json(t, DB_ENDPOINTS, key, (size_t)n, rec);
}

/* Load the endpoint p[1] of app p[0]; 0, or an error code after answering. */
static int load_ep(struct http_req *r, struct store_txn *t, char **p, json_t **rec)
{
    char app[ID_MAX], id[ID_MAX];
    int rc = find_app(r, t, p[0], app);
    if (rc)
        return rc;
    rc = api_find_endpoint(t, app, p[1], id);
    if (!rc)
        rc = get_ep(t, app, id, rec);
    if (rc == HOOKD_ENOTFOUND)
        api_not_found(r, "endpoint");
    else if (rc)
        api_store_error(r, rc);
    return rc;
}

static int create_apply(struct http_req *r, struct store_txn *t)
{
    struct api_job *j = r->data;
    char app[ID_MAX];
    int rc = strcmp(j->p[0], OPWH_APP_UID) == 0 ? opwh_app_ensure(t, &r->intent.entry.head, app)
             : find_app(r, t, j->p[0], app);
    if (rc)
        return rc;
    json_object_set_new(j->rec, "appId", json_string(app));
    rc = types_exist(r, t, j->in, j->rec);
    if (!rc)
        rc = ep_store(r, t, j->rec, NULL);
    if (!rc)
        rc = ep_event(r, t, "endpoint.created", j->rec, j->now);
    if (!rc)
        http_reply_json(r, 201, out_for(j->p[0], j->rec));
    return rc;
}

void api_ep_create(struct api *a, struct http_req *r, char **p)
{
    json_t *in = api_body(a, r, 0);
    if (!in)
        return;
    struct api_job *j = api_job_new(p, in);
    if (!(j->rec = ep_new_rec(r, in, j->now, EP_CREATE)) || types_before(a, r, p, in)) {
        api_job_free(j);
        return;
    }
    api_submit(r, &api_kind_ep_create, j);
}

/* arg: the path's application, for out_for. */
static json_t *list_row(const struct store_kv *kv, void *arg)
{
    json_t *rec = json_loadb(kv->val, kv->vlen, 0, NULL);
    if (!rec)
        return NULL;
    json_t *o = out_for(arg, rec);
    json_decref(rec);
    return o;
}

void api_ep_list(struct api *a, struct http_req *r, char **p)
{
    struct store_txn *t = api_read(a, r);
    char app[ID_MAX];
    if (!t)
        return;
    if (find_app(r, t, p[0], app) == 0) {
        struct api_page pg = { .db = DB_ENDPOINTS, .prefix = app, .descending = 1,
                               .row = list_row, .arg = p[0] };
        api_list(r, t, &pg);
    }
    store_abort(t);
}

/* GET of one endpoint, answered with view(record) (a new reference). */
static void ep_read(struct api *a, struct http_req *r, char **p, json_t *(*view)(json_t *))
{
    struct store_txn *t = api_read(a, r);
    json_t *rec;
    if (!t)
        return;
    if (load_ep(r, t, p, &rec) == 0) {
        http_reply_json(r, 200, view(rec));
        json_decref(rec);
    }
    store_abort(t);
}

void api_ep_get(struct api *a, struct http_req *r, char **p)
{
    ep_read(a, r, p, strcmp(p[0], OPWH_APP_UID) == 0 ? op_out : ep_out);
}

/*
 * PUT on a missing endpoint: create it, the path naming its uid. Its id
 * is drawn from the entry; its secret is the one the handler made
 * (j->rec's "secret", carried in the entry): a secret must not be drawn,
 * since the draws of an entry also make ids, which are public.
 */
static int put_create(struct http_req *r, struct store_txn *t, struct api_job *j,
                      const char *app)
{
    char id[ID_MAX];
    const char *secret = json_string_value(json_object_get(j->rec, "secret"));
    if (!secret)   /* an entry without it was not written by this build */
        return HOOKD_EINVAL;
    entry_draw_id(&r->intent.entry.head, "ep_", j->now, id);
    json_t *rec = ep_rec_of(r, j->in, j->now, EP_PUT, id, secret);
    if (!rec)
        return HOOKD_EINVAL;
    json_decref(j->rec);
    j->rec = rec;
    json_object_set_new(j->rec, "appId", json_string(app));
    int rc = types_exist(r, t, j->in, j->rec);
    if (!rc)
        rc = ep_store(r, t, j->rec, NULL);
    if (!rc)
        rc = ep_event(r, t, "endpoint.created", j->rec, j->now);
    if (!rc)
        http_reply_json(r, 201, out_for(j->p[0], j->rec));
    return rc;
}

/*
 * endpoint.updated, and endpoint.disabled (Svix's trigger "manual") or
 * endpoint.enabled when the update turned the endpoint off or on.
 */
static int update_events(struct http_req *r, struct store_txn *t, json_t *rec, int was_off,
                         int64_t now)
{
    int off = json_is_true(json_object_get(rec, "disabled"));
    int rc = ep_event(r, t, "endpoint.updated", rec, now);
    if (!rc && off != was_off)
        rc = ep_event(r, t, off ? "endpoint.disabled" : "endpoint.enabled", rec, now);
    return rc;
}

/* PUT and PATCH: update in the writer (PUT creates when missing). */
static int update_apply(struct http_req *r, struct store_txn *t)
{
    struct api_job *j = r->data;
    enum ep_mode mode = j->opt ? EP_PATCH : EP_PUT;
    char app[ID_MAX], id[ID_MAX];
    json_t *rec;
    int rc = find_app(r, t, j->p[0], app);
    if (rc)
        return rc;
    /* a PUT names its endpoint by uid unless the path is an id: a body
     * without uid (absent or null) keeps that uid, or the next PUT would
     * create a twin */
    if (mode == EP_PUT && !json_is_string(json_object_get(j->in, "uid"))
        && !id_is("ep_", j->p[1]))
        json_object_set_new(j->in, "uid", json_string(j->p[1]));
    rc = api_find_endpoint(t, app, j->p[1], id);
    if (rc == HOOKD_ENOTFOUND && mode == EP_PUT)
        return put_create(r, t, j, app);
    if (!rc)
        rc = get_ep(t, app, id, &rec);
    if (rc) {
        if (rc == HOOKD_ENOTFOUND)
            api_not_found(r, "endpoint");
        return rc;
    }
    char *old_uid = str_of(rec, "uid") ? xstrdup(str_of(rec, "uid")) : NULL;
    int was_off = json_is_true(json_object_get(rec, "disabled"));
    rc = ep_fields(r, j->in, rec, mode) ? HOOKD_EINVAL : 0;
    json_object_set_new(rec, "updatedAt", json_integer(j->now));
    if (!rc)
        rc = types_exist(r, t, j->in, rec);
    if (!rc)
        rc = ep_store(r, t, rec, old_uid);
    if (!rc)
        rc = update_events(r, t, rec, was_off, j->now);
    if (!rc)
        http_reply_json(r, 200, out_for(j->p[0], rec));
    free(old_uid);
    json_decref(rec);
    return rc;
}

static void submit_update(struct api *a, struct http_req *r, char **p, enum ep_mode mode)
{
    json_t *in = api_body(a, r, 0);
    if (!in)
        return;
    struct api_job *j = api_job_new(p, in);
    j->opt = mode == EP_PATCH;
    /* validate now so a bad body never reaches the writer */
    json_t *scratch = json_object();
    int bad = ep_fields(r, in, scratch, mode);
    json_decref(scratch);
    if (bad || types_before(a, r, p, in)) {
        api_job_free(j);
        return;
    }
    if (mode == EP_PUT) {   /* the secret of a PUT that creates (put_create) */
        char *secret = secret_new();
        j->rec = json_pack("{s:s}", "secret", secret);
        free(secret);
    }
    api_submit(r, &api_kind_ep_update, j);
}

void api_ep_put(struct api *a, struct http_req *r, char **p)
{
    submit_update(a, r, p, EP_PUT);
}

void api_ep_patch(struct api *a, struct http_req *r, char **p)
{
    submit_update(a, r, p, EP_PATCH);
}

/* endpoint.deleted, with the uid the record had (opwh reads it from the store). */
static int deleted_event(struct http_req *r, struct store_txn *t, json_t *rec, int64_t now)
{
    struct api *a = http_ctx(r);
    json_t *uid = json_object_get(rec, "uid");
    json_t *extra = json_pack("{s:O}", "endpointUid", uid ? uid : json_null());
    int rc = opwh_endpoint_event(t, a->writer, "endpoint.deleted", str_of(rec, "appId"),
                                 str_of(rec, "id"), extra, &r->intent.entry.head);
    json_decref(extra);
    return rc;
}

static int delete_apply(struct http_req *r, struct store_txn *t)
{
    struct api_job *j = r->data;
    json_t *rec;
    char key[2 * ID_MAX];
    int rc = load_ep(r, t, j->p, &rec);
    if (rc)
        return rc;
    const char *uid = str_of(rec, "uid");
    if (uid)
        rc = api_uid_del(t, 'e', str_of(rec, "appId"), uid);
    size_t klen = ep_key(rec, key);
    if (!rc)
        rc = klen ? store_del(t, DB_ENDPOINTS, key, klen) : HOOKD_ECORRUPT;
    if (!rc)
        rc = api_health_del(t, str_of(rec, "id"));
    if (!rc)   /* the uid was read before the delete: the event still names it */
        rc = deleted_event(r, t, rec, j->now);
    if (!rc)
        api_touch_settings(r, str_of(rec, "appId"), str_of(rec, "id"));
    json_decref(rec);
    if (!rc)
        http_reply(r, 204, xstrdup(""), 0);
    return rc;
}

void api_ep_delete(struct api *a, struct http_req *r, char **p)
{
    api_submit(r, &api_kind_ep_delete, api_job_new(p, NULL));
}

static json_t *secret_view(json_t *rec)
{
    return json_pack("{s:O}", "key", json_object_get(rec, "secret"));
}

void api_ep_secret_get(struct api *a, struct http_req *r, char **p)
{
    ep_read(a, r, p, secret_view);
}

static json_t *headers_view(json_t *rec)
{
    json_t *h = json_object(), *sensitive = json_array(), *v;
    const char *k;
    json_object_foreach(json_object_get(rec, "headers"), k, v) {
        if (in_list(sensitive_headers, k))
            json_array_append_new(sensitive, json_string(k));
        else
            json_object_set(h, k, v);
    }
    return json_pack("{s:o, s:o}", "headers", h, "sensitive", sensitive);
}

void api_ep_headers_get(struct api *a, struct http_req *r, char **p)
{
    ep_read(a, r, p, headers_view);
}

/*
 * hookd's per-endpoint delivery deadlines (API.md 9), kept in the record
 * beside the Svix fields and never shown in EndpointOut. null: the
 * server's --connect-timeout or --request-timeout.
 */
#define TIMEOUT_MIN_MS 100
#define TIMEOUT_MAX_MS 600000

static const char *const timeout_names[] = { "connectTimeoutMs", "timeoutMs" };

static json_t *timeouts_view(json_t *rec)
{
    return json_pack("{s:o, s:o}", timeout_names[0],
                     or_null(json_object_get(rec, timeout_names[0])), timeout_names[1],
                     or_null(json_object_get(rec, timeout_names[1])));
}

void api_ep_timeouts_get(struct api *a, struct http_req *r, char **p)
{
    ep_read(a, r, p, timeouts_view);
}

/*
 * Secret rotation, header and timeout edits: load, change, store, and 204
 * (timeouts: 200 with the new values). The job's opt picks the edit; its
 * in holds the validated body.
 */
enum ep_edit { EDIT_ROTATE, EDIT_HEADERS_PUT, EDIT_HEADERS_PATCH, EDIT_TIMEOUTS };

/* in: both deadlines, an integer or absent (the server's default). */
static void timeouts_edit(struct api_job *j, json_t *rec)
{
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(j->in, timeout_names[i]);
        if (json_is_integer(v))
            json_object_set(rec, timeout_names[i], v);
        else
            json_object_del(rec, timeout_names[i]);
    }
}

/* in: key (the new "whsec_..." key), gracePeriodSeconds. */
static int rotate_edit(struct http_req *r, struct api_job *j, json_t *rec)
{
    json_int_t grace = json_integer_value(json_object_get(j->in, "gracePeriodSeconds"));
    json_t *old = json_array(), *x;
    size_t i;
    json_array_foreach(json_object_get(rec, "oldSecrets"), i, x)
        if (json_integer_value(json_object_get(x, "expiresAt")) > j->now)
            json_array_append(old, x);
    if (grace > 0)
        json_array_append_new(old, json_pack("{s:O, s:I}", "key", json_object_get(rec, "secret"),
                                             "expiresAt", (json_int_t)(j->now + grace * 1000)));
    if (json_array_size(old) > OLD_SECRETS_MAX) {
        json_decref(old);
        http_errorf(r, 400, "limit_reached",
                    "endpoint has more than %d unexpired old secrets; wait for some to expire "
                    "or rotate with a shorter gracePeriodSeconds", OLD_SECRETS_MAX);
        return HOOKD_ELIMIT;
    }
    json_object_set_new(rec, "oldSecrets", old);
    json_object_set(rec, "secret", json_object_get(j->in, "key"));
    return 0;
}

/* Remove every header named name, ignoring case. */
static void header_del(json_t *h, const char *name)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(h, tmp, k, v) {
        if (strcasecmp(k, name) == 0)
            json_object_del(h, k);
    }
}

static int headers_edit(struct http_req *r, struct api_job *j, json_t *rec, int patch)
{
    json_t *h = patch ? json_deep_copy(json_object_get(rec, "headers")) : json_object();
    json_t *v;
    const char *k;
    size_t i;
    if (!h)
        h = json_object();
    json_array_foreach(json_object_get(j->in, "deleteHeaders"), i, v)
        header_del(h, json_string_value(v));
    json_object_foreach(json_object_get(j->in, "headers"), k, v) {
        header_del(h, k);
        if (!json_is_null(v))
            json_object_set(h, k, v);
    }
    json_object_set_new(rec, "headers", h);
    return 0;
}

static int edit_apply(struct http_req *r, struct store_txn *t)
{
    struct api_job *j = r->data;
    json_t *rec;
    char key[2 * ID_MAX];
    int rc = load_ep(r, t, j->p, &rec);
    if (rc)
        return rc;
    if (j->opt == EDIT_ROTATE)
        rc = rotate_edit(r, j, rec);
    else if (j->opt == EDIT_TIMEOUTS)
        timeouts_edit(j, rec);
    else
        rc = headers_edit(r, j, rec, j->opt == EDIT_HEADERS_PATCH);
    json_object_set_new(rec, "updatedAt", json_integer(j->now));
    size_t klen = ep_key(rec, key);
    if (!rc)
        rc = klen ? store_put_json(t, DB_ENDPOINTS, key, klen, rec) : HOOKD_ECORRUPT;
    if (!rc)
        api_touch_settings(r, str_of(rec, "appId"), str_of(rec, "id"));
    if (!rc && j->opt == EDIT_ROTATE)   /* as Svix: a new secret is an update */
        rc = ep_event(r, t, "endpoint.updated", rec, j->now);
    if (!rc && j->opt == EDIT_TIMEOUTS)
        http_reply_json(r, 200, timeouts_view(rec));
    else if (!rc)
        http_reply(r, 204, xstrdup(""), 0);
    json_decref(rec);
    return rc;
}

static void submit_edit(struct http_req *r, char **p, json_t *in, enum ep_edit edit)
{
    struct api_job *j = api_job_new(p, in);
    j->opt = edit;
    api_submit(r, &api_kind_ep_edit, j);
}

void api_ep_secret_rotate(struct api *a, struct http_req *r, char **p)
{
    json_t *in = api_body(a, r, 1);
    char *key;
    int64_t grace;
    if (!in)
        return;
    if (secret_check(r, in, "key", &key)
        || api_int(r, in, "gracePeriodSeconds", 0, 604800, &grace, NULL)) {
        json_decref(in);
        return;
    }
    if (!key)
        key = secret_new();
    json_object_set_new(in, "key", json_string(key));
    json_object_set_new(in, "gracePeriodSeconds",
                        json_integer(grace < 0 ? GRACE_DEFAULT_S : grace));
    free(key);
    submit_edit(r, p, in, EDIT_ROTATE);
}

void api_ep_headers_put(struct api *a, struct http_req *r, char **p)
{
    json_t *in = api_body(a, r, 0);
    if (!in)
        return;
    json_t *h = json_object_get(in, "headers");
    if (!h) {
        http_verror(r, "body.headers", "value_error.missing", "field required");
        json_decref(in);
        return;
    }
    if (headers_check(r, h, 0)) {
        json_decref(in);
        return;
    }
    json_object_del(in, "deleteHeaders");
    submit_edit(r, p, in, EDIT_HEADERS_PUT);
}

void api_ep_headers_patch(struct api *a, struct http_req *r, char **p)
{
    json_t *in = api_body(a, r, 0);
    if (!in)
        return;
    json_t *h = json_object_get(in, "headers"), *del = json_object_get(in, "deleteHeaders"), *x;
    size_t i;
    int bad = h && !json_is_null(h) && headers_check(r, h, 1);
    if (!bad && del && !json_is_null(del)) {
        bad = !json_is_array(del);
        json_array_foreach(del, i, x)
            bad |= !json_is_string(x);
        if (bad)
            field_error(r, "deleteHeaders", "deleteHeaders must be an array of header names");
    }
    if (bad) {
        json_decref(in);
        return;
    }
    submit_edit(r, p, in, EDIT_HEADERS_PATCH);
}

void api_ep_timeouts_put(struct api *a, struct http_req *r, char **p)
{
    json_t *in = api_body(a, r, 0);
    int64_t connect, total;
    if (!in)
        return;
    if (api_int(r, in, timeout_names[0], TIMEOUT_MIN_MS, TIMEOUT_MAX_MS, &connect, NULL)
        || api_int(r, in, timeout_names[1], TIMEOUT_MIN_MS, TIMEOUT_MAX_MS, &total, NULL)) {
        json_decref(in);
        return;
    }
    if (connect > 0 && total > 0 && connect > total) {
        field_error(r, timeout_names[0], "connectTimeoutMs must not exceed timeoutMs");
        json_decref(in);
        return;
    }
    submit_edit(r, p, in, EDIT_TIMEOUTS);
}

/* --- log entry kinds (api_kinds.h) --- */

/* Each decode checks what its apply reads (api_job_decode_as). */
API_JOB_DECODER(decode_create, 1, 1, "id")
API_JOB_DECODER(decode_update, 2, 1, NULL)
API_JOB_DECODER(decode_delete, 2, 0, NULL)
API_JOB_DECODER(decode_edit, 2, 1, NULL)

const struct api_kind api_kind_ep_create = { ENTRY_EP_CREATE, create_apply, api_job_encode, decode_create,
    api_job_free };

const struct api_kind api_kind_ep_update = { ENTRY_EP_UPDATE, update_apply, api_job_encode, decode_update,
    api_job_free };

const struct api_kind api_kind_ep_delete = { ENTRY_EP_DELETE, delete_apply, api_job_encode, decode_delete,
    api_job_free };

const struct api_kind api_kind_ep_edit = { ENTRY_EP_EDIT, edit_apply, api_job_encode, decode_edit,
    api_job_free };
