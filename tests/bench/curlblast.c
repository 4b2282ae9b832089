/* SPDX-License-Identifier: Apache-2.0 */
/*
 * curlblast.c - the delivery benchmark's yardstick: libcurl multi with
 * nothing behind it.
 *
 * It posts the same kind of 1 KiB JSON body hookd delivers to a URL, N
 * times, from T threads with one CURLM each, keeping C transfers in flight
 * in total (C/T per thread), exactly as hookd's delivery workers drive
 * libcurl but without the log, the dispatcher, signing or attempt records.
 * The ratio of hookd's deliveries/s to this client's requests/s against the
 * same receiver says how much of libcurl's ceiling hookd's delivery path
 * leaves.
 *
 *   curlblast --url URL [--requests N] [--threads T] [--concurrency C]
 *             [--size BYTES] [--timeout-ms MS]
 *
 * Each request carries a distinct webhook-id (blast_<n>) so the receiver
 * logs it like a delivery. It prints one line and exits 0 when every
 * request got an answer (1 otherwise):
 *
 *   BLAST requests=N ok=N non2xx=N errors=N seconds=S rps=R cpu_us_per_req=U
 *
 * cpu_us_per_req is this process's user + system CPU time per request: what
 * a request costs libcurl itself on this machine.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <curl/curl.h>

#include "clock.h"
#include "mem.h"

struct opts {
    const char *url;
    long requests;
    int threads;
    int concurrency;
    size_t size;
    long timeout_ms;
};

struct shared {
    const struct opts *o;
    atomic_long next;          /* next request number to claim */
    atomic_long ok, non2xx, errors;
};

struct xfer {
    CURL *easy;
    struct curl_slist *hdrs;
    char *body;
};

/* {"seq":N,"blob":"..."} padded to exactly size bytes (when size allows). */
static char *make_body(long seq, size_t size)
{
    struct buf b = BUF_INIT;
    buf_addf(&b, "{\"seq\":%ld,\"blob\":\"", seq);
    while (b.len + 2 < size)
        buf_addc(&b, (char)('a' + b.len % 26));
    buf_adds(&b, "\"}");
    return buf_detach(&b, NULL);
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    return size * n;
}

/* Claim the next request number; false when all are claimed. */
static int claim(struct shared *s, long *seq)
{
    long n = atomic_fetch_add(&s->next, 1);
    if (n >= s->o->requests)
        return 0;
    *seq = n;
    return 1;
}

static void xfer_start(CURLM *m, struct xfer *x, const struct opts *o, long seq)
{
    char id[64];
    free(x->body);
    x->body = make_body(seq, o->size);
    curl_slist_free_all(x->hdrs);
    snprintf(id, sizeof(id), "webhook-id: blast_%ld", seq);
    x->hdrs = curl_slist_append(NULL, "content-type: application/json");
    x->hdrs = curl_slist_append(x->hdrs, id);
    x->hdrs = curl_slist_append(x->hdrs, "Expect:");
    if (!x->easy) {
        x->easy = curl_easy_init();
        curl_easy_setopt(x->easy, CURLOPT_URL, o->url);
        curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
        curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, o->timeout_ms);
        curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    }
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(x->body));
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
    curl_multi_add_handle(m, x->easy);
}

static void tally(struct shared *s, CURL *e, CURLcode res)
{
    long code = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    if (res != CURLE_OK)
        atomic_fetch_add(&s->errors, 1);
    else if (code >= 200 && code < 300)
        atomic_fetch_add(&s->ok, 1);
    else
        atomic_fetch_add(&s->non2xx, 1);
}

/* One thread: keep its share of transfers in flight until all are claimed. */
static void *blast_main(void *arg)
{
    struct shared *s = arg;
    const struct opts *o = s->o;
    int slots = o->concurrency / o->threads, running = 0;
    if (slots < 1)
        slots = 1;
    struct xfer *x = xcalloc((size_t)slots, sizeof(*x));
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)slots);
    long seq;
    for (int i = 0; i < slots && claim(s, &seq); i++, running++)
        xfer_start(m, &x[i], o, seq);
    while (running > 0) {
        int still, left;
        CURLMsg *msg;
        curl_multi_perform(m, &still);
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct xfer *done;
            CURL *e = msg->easy_handle;
            CURLcode res = msg->data.result;
            curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&done);
            tally(s, e, res);
            curl_multi_remove_handle(m, e);
            if (claim(s, &seq))
                xfer_start(m, done, o, seq);
            else
                running--;
        }
        if (running > 0)
            curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    for (int i = 0; i < slots; i++) {
        if (x[i].easy)
            curl_easy_cleanup(x[i].easy);
        curl_slist_free_all(x[i].hdrs);
        free(x[i].body);
    }
    curl_multi_cleanup(m);
    free(x);
    return NULL;
}

static void usage(void)
{
    fprintf(stderr, "usage: curlblast --url URL [--requests N] [--threads T] "
                    "[--concurrency C] [--size BYTES] [--timeout-ms MS]\n");
    exit(2);
}

static long num(const char *s, long lo, long hi)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end || v < lo || v > hi)
        usage();
    return v;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {
        { "url", required_argument, NULL, 'u' },
        { "requests", required_argument, NULL, 'n' },
        { "threads", required_argument, NULL, 't' },
        { "concurrency", required_argument, NULL, 'c' },
        { "size", required_argument, NULL, 's' },
        { "timeout-ms", required_argument, NULL, 'T' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    *o = (struct opts){ .requests = 100000, .threads = 2, .concurrency = 64, .size = 1024,
                        .timeout_ms = 30000 };
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'u': o->url = optarg; break;
        case 'n': o->requests = num(optarg, 1, 100000000); break;
        case 't': o->threads = (int)num(optarg, 1, 256); break;
        case 'c': o->concurrency = (int)num(optarg, 1, 100000); break;
        case 's': o->size = (size_t)num(optarg, 16, 1 << 24); break;
        case 'T': o->timeout_ms = num(optarg, 1, 3600000); break;
        default: usage();
        }
    }
    if (!o->url || optind != argc)
        usage();
}

int main(int argc, char **argv)
{
    struct opts o;
    parse_args(argc, argv, &o);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct shared s = { .o = &o };
    atomic_init(&s.next, 0);
    atomic_init(&s.ok, 0);
    atomic_init(&s.non2xx, 0);
    atomic_init(&s.errors, 0);
    pthread_t *th = xcalloc((size_t)o.threads, sizeof(*th));
    int64_t t0 = clock_mono_us();
    for (int i = 0; i < o.threads; i++)
        if (pthread_create(&th[i], NULL, blast_main, &s)) {
            fprintf(stderr, "curlblast: cannot start thread %d\n", i);
            return 1;
        }
    for (int i = 0; i < o.threads; i++)
        pthread_join(th[i], NULL);
    double secs = (double)(clock_mono_us() - t0) / 1e6;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu_us = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6
                    + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    long ok = atomic_load(&s.ok), non2xx = atomic_load(&s.non2xx), err = atomic_load(&s.errors);
    printf("BLAST requests=%ld ok=%ld non2xx=%ld errors=%ld seconds=%.3f rps=%.0f "
           "cpu_us_per_req=%.0f\n",
           o.requests, ok, non2xx, err, secs, secs > 0 ? (double)(ok + non2xx) / secs : 0,
           cpu_us / (double)o.requests);
    free(th);
    curl_global_cleanup();
    return ok + non2xx == o.requests ? 0 : 1;
}
