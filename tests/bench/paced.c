/* SPDX-License-Identifier: Apache-2.0 */
/*
 * paced.c - the delivery benchmarks' producer: POSTs messages to hookd at
 * a fixed rate, or as fast as it can, and stamps each with its send time.
 *
 *   paced --url http://127.0.0.1:PORT --token TOKEN --app APP
 *         [--rate R] [--seconds S | --count N] [--size BYTES]
 *         [--connections C] [--event-type NAME] [--no-stamp]
 *         [--deadline SECS]
 *
 * Message i is sent at t0 + i/R (open loop: a slow answer does not delay
 * the next message, as with wrk2), on at most C connections; --rate 0
 * sends as fast as C transfers in flight allow. The payload is
 *
 *   {"sent_ms":<unix ms, 3 decimals>,"seq":i,"blob":"..."}
 *
 * padded to BYTES (default 1024), so the test receiver, which logs arrival
 * minus the body's top-level "sent_ms", measures producer-to-receiver
 * latency: ingest, fsync, dispatch and delivery. --no-stamp leaves sent_ms
 * out (the receiver then skips parsing the body).
 *
 * The run is bounded: --count messages (default rate x seconds) and a hard
 * deadline (default seconds + 30 s, or 120 s) after which it stops waiting.
 * It prints one line and exits 0 when every message was acknowledged with
 * a 2xx, 1 otherwise:
 *
 *   PACED requests=N ok=N non2xx=N errors=N seconds=S rate=R
 *         behind_ms=L ack_p50_ms=L ack_p99_ms=L ack_max_ms=L
 *
 * behind_ms is the worst lag of a send behind its schedule (how far the
 * producer itself fell short of the rate); ack_* are hookd's answer times.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "clock.h"
#include "mem.h"

struct opts {
    const char *url, *token, *app, *event_type;
    double rate;
    double seconds;
    long count;
    size_t size;
    int connections;
    int stamp;
    double deadline_s;
};

struct xfer {
    CURL *easy;
    char *body;
    long seq;
    int64_t start_us;
    struct xfer *next_free;
    char err[CURL_ERROR_SIZE];
};

struct run {
    const struct opts *o;
    CURLM *multi;
    struct curl_slist *hdrs;
    char *endpoint;
    struct xfer *slots, *free_list;
    int running;
    long sent, done, ok, non2xx, errors;
    int64_t behind_us;
    double *ack_ms;            /* per finished request */
};

static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The message: eventType plus a payload of exactly size bytes (when size allows). */
static char *make_body(const struct opts *o, long seq)
{
    struct buf p = BUF_INIT, b = BUF_INIT;
    buf_adds(&p, "{");
    if (o->stamp)
        buf_addf(&p, "\"sent_ms\":%.3f,", wall_ms());
    buf_addf(&p, "\"seq\":%ld,\"blob\":\"", seq);
    while (p.len + 2 < o->size)
        buf_addc(&p, (char)('a' + p.len % 26));
    buf_adds(&p, "\"}");
    buf_addf(&b, "{\"eventType\":\"%s\",\"payload\":%s}", o->event_type, p.data);
    buf_release(&p);
    return buf_detach(&b, NULL);
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    return size * n;
}

static void start_one(struct run *r, int64_t now_us, int64_t sched_us)
{
    struct xfer *x = r->free_list;
    r->free_list = x->next_free;
    if (!x->easy) {
        x->easy = curl_easy_init();
        curl_easy_setopt(x->easy, CURLOPT_URL, r->endpoint);
        curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
        curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, 30000L);
        curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, r->hdrs);
        curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
        curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->err);
    }
    x->err[0] = '\0';
    if (sched_us && now_us - sched_us > r->behind_us)
        r->behind_us = now_us - sched_us;
    free(x->body);
    x->seq = r->sent++;
    x->body = make_body(r->o, x->seq);
    x->start_us = clock_mono_us();
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(x->body));
    curl_multi_add_handle(r->multi, x->easy);
    r->running++;
}

static void read_done(struct run *r)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(r->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct xfer *x;
        long code = 0;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
        if (m->data.result != CURLE_OK) {
            if (r->errors++ < 3)   /* say what the first few were */
                fprintf(stderr, "paced: request %ld failed after %.0f ms: %s\n", x->seq,
                        (double)(clock_mono_us() - x->start_us) / 1e3,
                        x->err[0] ? x->err : curl_easy_strerror(m->data.result));
        } else if (code >= 200 && code < 300)
            r->ok++;
        else
            r->non2xx++;
        r->ack_ms[r->done++] = (double)(clock_mono_us() - x->start_us) / 1e3;
        curl_multi_remove_handle(r->multi, m->easy_handle);
        x->next_free = r->free_list;
        r->free_list = x;
        r->running--;
    }
}

/* Send what is due now; how long (ms) poll may sleep before the next is. */
static int send_due(struct run *r, int64_t t0)
{
    const struct opts *o = r->o;
    for (;;) {
        int64_t now = clock_mono_us();
        if (r->sent >= o->count || r->running >= o->connections)
            return 100;
        if (o->rate <= 0) {
            start_one(r, now, 0);
            continue;
        }
        int64_t sched = t0 + (int64_t)((double)r->sent * 1e6 / o->rate);
        if (sched > now)
            return (int)((sched - now + 999) / 1000);
        start_one(r, now, sched);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, long n, double p)
{
    if (n == 0)
        return 0;
    long i = (long)(p / 100.0 * (double)n);
    return v[i >= n ? n - 1 : i];
}

static void usage(void)
{
    fprintf(stderr, "usage: paced --url URL --token TOKEN --app APP [--rate R] "
                    "[--seconds S | --count N] [--size BYTES] [--connections C] "
                    "[--event-type NAME] [--no-stamp] [--deadline SECS]\n");
    exit(2);
}

static double fnum(const char *s, double lo, double hi)
{
    char *end;
    double v = strtod(s, &end);
    if (*s == '\0' || *end || v < lo || v > hi)
        usage();
    return v;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        { "url", required_argument, NULL, 'u' },
        { "token", required_argument, NULL, 'k' },
        { "app", required_argument, NULL, 'a' },
        { "rate", required_argument, NULL, 'r' },
        { "seconds", required_argument, NULL, 's' },
        { "count", required_argument, NULL, 'n' },
        { "size", required_argument, NULL, 'z' },
        { "connections", required_argument, NULL, 'c' },
        { "event-type", required_argument, NULL, 'e' },
        { "no-stamp", no_argument, NULL, 'S' },
        { "deadline", required_argument, NULL, 'd' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    *o = (struct opts){ .token = "", .event_type = "bench.paced", .rate = 1000, .seconds = 0,
                        .count = -1, .size = 1024, .connections = 256, .stamp = 1 };
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'u': o->url = optarg; break;
        case 'k': o->token = optarg; break;
        case 'a': o->app = optarg; break;
        case 'r': o->rate = fnum(optarg, 0, 1e7); break;
        case 's': o->seconds = fnum(optarg, 0, 86400); break;
        case 'n': o->count = (long)fnum(optarg, 1, 1e8); break;
        case 'z': o->size = (size_t)fnum(optarg, 64, 1 << 24); break;
        case 'c': o->connections = (int)fnum(optarg, 1, 100000); break;
        case 'e': o->event_type = optarg; break;
        case 'S': o->stamp = 0; break;
        case 'd': o->deadline_s = fnum(optarg, 1, 86400); break;
        default: usage();
        }
    }
    if (!o->url || !o->app || optind != argc)
        usage();
    if (o->count < 0)
        o->count = (long)(o->rate * o->seconds);
    if (o->count < 1)
        usage();   /* needs --count, or --rate with --seconds */
    if (o->deadline_s <= 0)
        o->deadline_s = o->seconds > 0 ? o->seconds + 30 : 120;
}

static void run_init(struct run *r, const struct opts *o)
{
    struct buf b = BUF_INIT;
    memset(r, 0, sizeof(*r));
    r->o = o;
    r->multi = curl_multi_init();
    curl_multi_setopt(r->multi, CURLMOPT_MAXCONNECTS, (long)o->connections);
    buf_addf(&b, "Authorization: Bearer %s", o->token);
    r->hdrs = curl_slist_append(NULL, b.data);
    r->hdrs = curl_slist_append(r->hdrs, "Content-Type: application/json");
    r->hdrs = curl_slist_append(r->hdrs, "Expect:");
    buf_reset(&b);
    buf_addf(&b, "%s/api/v1/app/%s/msg", o->url, o->app);
    r->endpoint = buf_detach(&b, NULL);
    r->slots = xcalloc((size_t)o->connections, sizeof(*r->slots));
    for (int i = o->connections - 1; i >= 0; i--) {
        r->slots[i].next_free = r->free_list;
        r->free_list = &r->slots[i];
    }
    r->ack_ms = xcalloc((size_t)o->count, sizeof(double));
}

static void run_release(struct run *r)
{
    for (int i = 0; i < r->o->connections; i++) {
        if (r->slots[i].easy) {
            curl_multi_remove_handle(r->multi, r->slots[i].easy);
            curl_easy_cleanup(r->slots[i].easy);
        }
        free(r->slots[i].body);
    }
    curl_multi_cleanup(r->multi);
    curl_slist_free_all(r->hdrs);
    free(r->slots);
    free(r->endpoint);
    free(r->ack_ms);
}

int main(int argc, char **argv)
{
    struct opts o;
    struct run r;
    parse_args(argc, argv, &o);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    run_init(&r, &o);
    int64_t t0 = clock_mono_us(), stop = t0 + (int64_t)(o.deadline_s * 1e6);
    while (r.done < o.count && clock_mono_us() < stop) {
        int wait = send_due(&r, t0), still;
        curl_multi_perform(r.multi, &still);
        read_done(&r);
        if (r.done < o.count)
            curl_multi_poll(r.multi, NULL, 0, wait, NULL);
        curl_multi_perform(r.multi, &still);
        read_done(&r);
    }
    double secs = (double)(clock_mono_us() - t0) / 1e6;
    long unanswered = o.count - r.done;
    qsort(r.ack_ms, (size_t)r.done, sizeof(double), cmp_double);
    printf("PACED requests=%ld ok=%ld non2xx=%ld errors=%ld seconds=%.3f rate=%.0f "
           "behind_ms=%.1f ack_p50_ms=%.2f ack_p99_ms=%.2f ack_max_ms=%.2f\n",
           o.count, r.ok, r.non2xx, r.errors + unanswered, secs,
           secs > 0 ? (double)r.sent / secs : 0, (double)r.behind_us / 1e3,
           pct(r.ack_ms, r.done, 50), pct(r.ack_ms, r.done, 99),
           r.done ? r.ack_ms[r.done - 1] : 0);
    int rc = r.ok == o.count ? 0 : 1;
    run_release(&r);
    curl_global_cleanup();
    return rc;
}
