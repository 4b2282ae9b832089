/* SPDX-License-Identifier: Apache-2.0 */
/*
 * producer.c - the crash and storage tests' load: POSTs distinct messages
 * to hookd on a few keep-alive connections and writes down, as each answer
 * arrives, what hookd acknowledged.
 *
 *   producer --url URL --token TOKEN --app APP --count N
 *            [--connections C] [--seconds S] [--prefix P]
 *            [--types a,b,c] [--size BYTES] [--max-errors E]
 *   producer --url URL --token TOKEN --app APP --get FILE [--connections C]
 *
 * Message i has eventType types[i % ntypes], eventId "P-i" and the payload
 * {"seq":i,"pad":"..."} padded to between 0 and BYTES bytes (varied with
 * i), and goes to /api/v1/app/APP/msg?with_content=false. One line per
 * answer, flushed at once so that a server killed mid-run leaves every
 * acknowledgement it sent on record:
 *
 *   CODE MSG_ID EVENT_ID TYPE      (MSG_ID "-" without a 2xx; CODE 000:
 *                                   no HTTP answer)
 *
 * Sending stops after N messages, after S seconds (default 60), or after
 * E answers in a row that are not HTTP (default 20: the server is gone).
 *
 * --get reads message ids (the first word of each line of FILE), GETs
 * each and prints "CODE MSG_ID" per id: the check that what was
 * acknowledged is still there.
 *
 * Exit status 0 unless the arguments are wrong.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "clock.h"
#include "mem.h"

#define TYPES_MAX 16

struct opts {
    const char *url, *token, *app, *prefix, *get;
    long count;
    int connections;
    long seconds;
    long size;
    int max_errors;
    char *types[TYPES_MAX];
    int ntypes;
};

struct xfer {
    CURL *easy;
    struct curl_slist *hdrs;
    struct buf body, resp;
    char id[128];              /* eventId or, with --get, the message id */
    const char *type;
};

struct run {
    const struct opts *o;
    CURLM *multi;
    long next;                 /* next message number / id index */
    char **ids;                /* --get */
    long nids;
    int errors_in_row;
    int64_t deadline_us;
};

static size_t on_data(char *p, size_t sz, size_t n, void *arg)
{
    struct xfer *x = arg;
    if (x->resp.len < 4096)
        buf_add(&x->resp, p, sz * n);
    return sz * n;
}

/* The "id" of a JSON answer, which hookd writes first: {"id":"msg_..." */
static void answer_id(const struct buf *r, char *out, size_t cap)
{
    static const char key[] = "\"id\":\"";
    const char *s = r->data ? strstr(r->data, key) : NULL;
    snprintf(out, cap, "-");
    if (!s)
        return;
    s += sizeof(key) - 1;
    const char *e = strchr(s, '"');
    if (e && (size_t)(e - s) < cap)
        snprintf(out, cap, "%.*s", (int)(e - s), s);
}

static void make_body(const struct opts *o, long i, struct xfer *x)
{
    long pad = o->size > 0 ? (i * 7919) % (o->size + 1) : 0;
    x->type = o->types[i % o->ntypes];
    snprintf(x->id, sizeof(x->id), "%s-%ld", o->prefix, i);
    buf_reset(&x->body);
    buf_addf(&x->body, "{\"eventType\":\"%s\",\"eventId\":\"%s\",\"payload\":{\"seq\":%ld,\"pad\":\"",
             x->type, x->id, i);
    buf_grow(&x->body, (size_t)pad + 8);
    memset(x->body.data + x->body.len, 'x', (size_t)pad);
    x->body.len += (size_t)pad;
    buf_adds(&x->body, "\"}}");
}

/* Start the next request on x; 0 when there is nothing left to send. */
static int start(struct run *r, struct xfer *x)
{
    const struct opts *o = r->o;
    char url[1024], auth[512];
    if (clock_mono_us() > r->deadline_us || r->errors_in_row >= o->max_errors)
        return 0;
    if (o->get ? r->next >= r->nids : r->next >= o->count)
        return 0;
    long i = r->next++;
    curl_easy_reset(x->easy);
    curl_slist_free_all(x->hdrs);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", o->token);
    x->hdrs = curl_slist_append(NULL, auth);
    buf_reset(&x->resp);
    if (o->get) {
        snprintf(x->id, sizeof(x->id), "%s", r->ids[i]);
        snprintf(url, sizeof(url), "%s/api/v1/app/%s/msg/%s?with_content=false", o->url, o->app,
                 x->id);
    } else {
        make_body(o, i, x);
        x->hdrs = curl_slist_append(x->hdrs, "Content-Type: application/json");
        snprintf(url, sizeof(url), "%s/api/v1/app/%s/msg?with_content=false", o->url, o->app);
        curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body.data);
        curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long)x->body.len);
    }
    curl_easy_setopt(x->easy, CURLOPT_URL, url);
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
    curl_multi_add_handle(r->multi, x->easy);
    return 1;
}

static void finish(struct run *r, struct xfer *x, CURLcode res)
{
    long code = 0;
    char id[128];
    if (res == CURLE_OK)
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    r->errors_in_row = res == CURLE_OK ? 0 : r->errors_in_row + 1;
    buf_addc(&x->resp, '\0');
    if (r->o->get) {
        printf("%03ld %s\n", code, x->id);
    } else {
        if (code >= 200 && code < 300)
            answer_id(&x->resp, id, sizeof(id));
        else
            snprintf(id, sizeof(id), "-");
        printf("%03ld %s %s %s\n", code, id, x->id, x->type);
    }
    fflush(stdout);
}

static void drive(struct run *r, struct xfer *xs, int n)
{
    int active = 0;
    for (int i = 0; i < n; i++)
        active += start(r, &xs[i]);
    while (active > 0) {
        int running, left;
        curl_multi_perform(r->multi, &running);
        CURLMsg *m;
        while ((m = curl_multi_info_read(r->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            char *priv = NULL;
            CURLcode res = m->data.result;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
            struct xfer *x = (struct xfer *)priv;
            curl_multi_remove_handle(r->multi, m->easy_handle);
            finish(r, x, res);
            active--;
            active += start(r, x);
        }
        if (active > 0)
            curl_multi_poll(r->multi, NULL, 0, 100, NULL);
    }
}

static void read_ids(struct run *r, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512], word[256];
    long cap = 0;
    if (!f) {
        perror(path);
        exit(2);
    }
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "%255s", word) != 1)
            continue;
        if (r->nids == cap) {
            cap = cap ? 2 * cap : 1024;
            r->ids = xrealloc(r->ids, (size_t)cap * sizeof(char *));
        }
        r->ids[r->nids++] = xstrdup(word);
    }
    fclose(f);
}

static void usage(void)
{
    fprintf(stderr, "usage: producer --url URL --token TOKEN --app APP (--count N | --get FILE)\n"
                    "       [--connections C] [--seconds S] [--prefix P] [--types a,b]\n"
                    "       [--size BYTES] [--max-errors E]\n");
    exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        { "url", required_argument, NULL, 'u' }, { "token", required_argument, NULL, 't' },
        { "app", required_argument, NULL, 'a' }, { "count", required_argument, NULL, 'n' },
        { "connections", required_argument, NULL, 'c' },
        { "seconds", required_argument, NULL, 's' }, { "prefix", required_argument, NULL, 'p' },
        { "types", required_argument, NULL, 'y' }, { "size", required_argument, NULL, 'z' },
        { "max-errors", required_argument, NULL, 'e' }, { "get", required_argument, NULL, 'g' },
        { NULL, 0, NULL, 0 }
    };
    char *types = NULL;
    int c;
    *o = (struct opts){ .prefix = "ev", .connections = 4, .seconds = 60, .size = 256,
                        .max_errors = 20 };
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'u': o->url = optarg; break;
        case 't': o->token = optarg; break;
        case 'a': o->app = optarg; break;
        case 'n': o->count = atol(optarg); break;
        case 'c': o->connections = atoi(optarg); break;
        case 's': o->seconds = atol(optarg); break;
        case 'p': o->prefix = optarg; break;
        case 'y': types = optarg; break;
        case 'z': o->size = atol(optarg); break;
        case 'e': o->max_errors = atoi(optarg); break;
        case 'g': o->get = optarg; break;
        default: usage();
        }
    }
    if (!o->url || !o->token || !o->app || (!o->get && o->count <= 0) || o->connections < 1
        || o->connections > 256)
        usage();
    for (char *s = types ? types : "e", *t; s && o->ntypes < TYPES_MAX; s = t) {
        t = strchr(s, ',');
        o->types[o->ntypes++] = t ? xstrndup(s, (size_t)(t - s)) : xstrdup(s);
        if (t)
            t++;
    }
}

int main(int argc, char **argv)
{
    struct opts o;
    struct run r = { .o = &o };
    parse(argc, argv, &o);
    if (o.get)
        read_ids(&r, o.get);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    r.multi = curl_multi_init();
    curl_multi_setopt(r.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)o.connections);
    r.deadline_us = clock_mono_us() + o.seconds * 1000000;
    struct xfer *xs = xcalloc((size_t)o.connections, sizeof(*xs));
    for (int i = 0; i < o.connections; i++)
        xs[i].easy = curl_easy_init();
    drive(&r, xs, o.connections);
    for (int i = 0; i < o.connections; i++) {
        curl_easy_cleanup(xs[i].easy);
        curl_slist_free_all(xs[i].hdrs);
        buf_release(&xs[i].body);
        buf_release(&xs[i].resp);
    }
    free(xs);
    curl_multi_cleanup(r.multi);
    curl_global_cleanup();
    for (long i = 0; i < r.nids; i++)
        free(r.ids[i]);
    free(r.ids);
    for (int i = 0; i < o.ntypes; i++)
        free(o.types[i]);
    return 0;
}
