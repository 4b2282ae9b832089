/* SPDX-License-Identifier: Apache-2.0 */
/*
 * natspoke.c - the cluster tests' stranger on the NATS servers: publishes
 * what a node would never send to the subjects nodes listen on
 * (hookd.node.ID.http, hookd.stats, a node's reply inbox) and prints what
 * comes back, as one JSON line each.
 *
 *   natspoke URLS pub SUBJECT [-i | -r REPLY] [-l LISTEN] [-H NAME:VALUE]...
 *            [-d DATA | -n SIZE] [-w MS]
 *       One message. -i: the reply subject is a fresh inbox, listened on;
 *       -r: that reply subject; -l: listen on LISTEN (default: the reply
 *       subject). Prints the first message heard within MS (default 3000)
 *       as {"subject","headers":{NAME:[VALUE...]},"data"}, or
 *       {"timeout":true}; nothing without a subject to listen on.
 *       -H adds a header (repeated names make repeated headers); -n SIZE
 *       sends SIZE bytes of 'x'.
 *   natspoke URLS spy SUBJECT [-H NAME:VALUE]... [-d DATA] [-c COUNT] [-w MS]
 *       Listen on SUBJECT (a node's requests) for up to COUNT messages
 *       (default 1) within MS: print each, and answer it on its reply
 *       subject with -H/-d at once (no -H and no -d: no answer).
 *   natspoke URLS answer-stats [-g N] [-c COUNT] [-w MS] < LINES
 *       Answer every request on hookd.stats within MS (at most COUNT of
 *       them, default unlimited) with each line of stdin as a message,
 *       then N generated summaries of nodes "fake-0".."fake-N-1". Prints
 *       {"requests":R,"answers":A}.
 *
 * Exit status 0 unless the arguments are wrong or NATS cannot be reached.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <nats/nats.h>

#include "clock.h"
#include "mem.h"

#define MAX_HDRS 64

struct opts {
    const char *reply, *listen;
    int inbox;
    const char *hname[MAX_HDRS], *hval[MAX_HDRS];
    int nh;
    char *data;
    char *owned;           /* data made by -n, freed at the end */
    size_t len;
    int count, gen;
    int64_t wait_ms;
};

static void die(const char *what, natsStatus s)
{
    fprintf(stderr, "natspoke: %s: %s\n", what, natsStatus_GetText(s));
    exit(2);
}

static void print_msg(natsMsg *m)
{
    json_t *o = json_pack("{s:s}", "subject", natsMsg_GetSubject(m));
    json_t *h = json_object();
    const char **keys = NULL;
    int nk = 0;
    if (natsMsg_GetReply(m))
        json_object_set_new(o, "reply", json_string(natsMsg_GetReply(m)));
    if (natsMsgHeader_Keys(m, &keys, &nk) == NATS_OK) {
        for (int i = 0; i < nk; i++) {
            const char **vals = NULL;
            int nv = 0;
            json_t *a = json_array();
            if (natsMsgHeader_Values(m, keys[i], &vals, &nv) == NATS_OK) {
                for (int k = 0; k < nv; k++)
                    json_array_append_new(a, json_stringn_nocheck(vals[k], strlen(vals[k])));
                free((void *)vals);
            }
            json_object_set_new(h, keys[i], a);
        }
        free((void *)keys);
    }
    json_object_set_new(o, "headers", h);
    int n = natsMsg_GetDataLength(m);
    json_object_set_new(o, "data", json_stringn_nocheck(n > 0 ? natsMsg_GetData(m) : "",
                                                         (size_t)(n > 0 ? n : 0)));
    json_object_set_new(o, "noResponders", json_boolean(natsMsg_IsNoResponders(m)));
    char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    printf("%s\n", s);
    fflush(stdout);
    free(s);
    json_decref(o);
}

static natsMsg *make_msg(const struct opts *o, const char *subject, const char *reply)
{
    natsMsg *m = NULL;
    natsStatus s = natsMsg_Create(&m, subject, reply, o->data, (int)o->len);
    for (int i = 0; s == NATS_OK && i < o->nh; i++)
        s = natsMsgHeader_Add(m, o->hname[i], o->hval[i]);
    if (s != NATS_OK)
        die("cannot make the message", s);
    return m;
}

static int cmd_pub(natsConnection *nc, const char *subject, struct opts *o)
{
    char inbox[128] = "";
    natsSubscription *sub = NULL;
    if (o->inbox) {
        natsInbox *ib = NULL;
        natsInbox_Create(&ib);
        snprintf(inbox, sizeof(inbox), "%s", (const char *)ib);
        natsInbox_Destroy(ib);
        o->reply = inbox;
    }
    const char *listen = o->listen ? o->listen : o->reply;
    natsStatus s;
    if (listen && (s = natsConnection_SubscribeSync(&sub, nc, listen)) != NATS_OK)
        die("cannot subscribe", s);
    natsConnection_Flush(nc);
    natsMsg *m = make_msg(o, subject, o->reply);
    if ((s = natsConnection_PublishMsg(nc, m)) != NATS_OK)
        die("cannot publish", s);
    natsMsg_Destroy(m);
    natsConnection_Flush(nc);
    if (!sub)
        return 0;
    natsMsg *got = NULL;
    if (natsSubscription_NextMsg(&got, sub, o->wait_ms) == NATS_OK) {
        print_msg(got);
        natsMsg_Destroy(got);
    } else {
        printf("{\"timeout\":true}\n");
    }
    natsSubscription_Destroy(sub);
    return 0;
}

static int cmd_spy(natsConnection *nc, const char *subject, struct opts *o)
{
    natsSubscription *sub = NULL;
    natsStatus s = natsConnection_SubscribeSync(&sub, nc, subject);
    if (s != NATS_OK)
        die("cannot subscribe", s);
    natsConnection_Flush(nc);
    int64_t until = clock_mono_ms() + o->wait_ms;
    for (int seen = 0; seen < o->count;) {
        int64_t left = until - clock_mono_ms();
        natsMsg *m = NULL;
        if (left <= 0 || natsSubscription_NextMsg(&m, sub, left) != NATS_OK)
            break;
        seen++;
        if ((o->nh || o->data) && natsMsg_GetReply(m)) {
            natsMsg *a = make_msg(o, natsMsg_GetReply(m), NULL);
            natsConnection_PublishMsg(nc, a);
            natsConnection_Flush(nc);
            natsMsg_Destroy(a);
        }
        print_msg(m);
        natsMsg_Destroy(m);
    }
    natsSubscription_Destroy(sub);
    return 0;
}

static char *fake_summary(int i)
{
    char *s = NULL;
    if (asprintf(&s, "{\"nodeId\":\"fake-%d\",\"role\":\"owner\",\"owns\":[\"group.0\"],"
                     "\"follows\":[],\"seq\":1,\"logSeq\":1,\"listen\":\"127.0.0.1:1\","
                     "\"version\":\"0\",\"uptimeS\":1,\"messagesIngested\":1,"
                     "\"attemptsSucceeded\":1,\"attemptsFailed\":0,\"deliveriesFailedFinal\":0,"
                     "\"inflight\":0,\"deliveryHold\":false,\"deliveriesDue\":0,"
                     "\"rates\":{\"ingest\":0,\"success\":0,\"failure\":0}}", i) < 0)
        abort();
    return s;
}

static int cmd_answer_stats(natsConnection *nc, struct opts *o)
{
    char **lines = NULL;
    size_t n = 0, cap = 0;
    ssize_t got;
    char *line = NULL;
    while ((got = getline(&line, &cap, stdin)) >= 0) {
        if (got > 0 && line[got - 1] == '\n')
            line[--got] = '\0';
        lines = xrealloc(lines, (n + 1) * sizeof(*lines));
        lines[n++] = xstrdup(line);
    }
    free(line);
    natsSubscription *sub = NULL;
    natsStatus s = natsConnection_SubscribeSync(&sub, nc, "hookd.stats");
    if (s != NATS_OK)
        die("cannot subscribe", s);
    natsConnection_Flush(nc);
    int64_t until = clock_mono_ms() + o->wait_ms;
    long requests = 0, answers = 0;
    while (!o->count || requests < o->count) {
        int64_t left = until - clock_mono_ms();
        natsMsg *m = NULL;
        if (left <= 0 || natsSubscription_NextMsg(&m, sub, left) != NATS_OK)
            break;
        const char *reply = natsMsg_GetReply(m);
        requests++;
        for (size_t i = 0; reply && i < n; i++, answers++)
            natsConnection_Publish(nc, reply, lines[i], (int)strlen(lines[i]));
        for (int i = 0; reply && i < o->gen; i++, answers++) {
            char *f = fake_summary(i);
            natsConnection_PublishString(nc, reply, f);
            free(f);
        }
        natsConnection_Flush(nc);
        natsMsg_Destroy(m);
    }
    printf("{\"requests\":%ld,\"answers\":%ld}\n", requests, answers);
    natsSubscription_Destroy(sub);
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: natspoke URLS pub SUBJECT [-i|-r REPLY] [-l LISTEN] [-H N:V]... "
                    "[-d DATA|-n SIZE] [-w MS]\n"
                    "       natspoke URLS spy SUBJECT [-H N:V]... [-d DATA] [-c N] [-w MS]\n"
                    "       natspoke URLS answer-stats [-g N] [-c N] [-w MS] < LINES\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct opts o = { .count = 0, .wait_ms = 3000 };
    if (argc < 3)
        usage();
    const char *urls = argv[1], *cmd = argv[2], *subject = NULL;
    optind = 3;
    if (strcmp(cmd, "answer-stats") != 0) {
        if (argc < 4)
            usage();
        subject = argv[3];
        optind = 4;
    }
    int c;
    while ((c = getopt(argc, argv, "ir:l:H:d:n:c:g:w:")) != -1) {
        switch (c) {
        case 'i': o.inbox = 1; break;
        case 'r': o.reply = optarg; break;
        case 'l': o.listen = optarg; break;
        case 'H': {
            char *colon = strchr(optarg, ':');
            if (!colon || o.nh == MAX_HDRS)
                usage();
            *colon = '\0';
            o.hname[o.nh] = optarg;
            o.hval[o.nh++] = colon + 1;
            break;
        }
        case 'd': o.data = optarg; o.len = strlen(optarg); break;
        case 'n':
            o.len = (size_t)strtoull(optarg, NULL, 10);
            free(o.owned);
            o.data = o.owned = xmalloc(o.len + 1);
            memset(o.data, 'x', o.len);
            break;
        case 'c': o.count = atoi(optarg); break;
        case 'g': o.gen = atoi(optarg); break;
        case 'w': o.wait_ms = atoll(optarg); break;
        default: usage();
        }
    }
    if (strcmp(cmd, "spy") == 0 && !o.count)
        o.count = 1;
    natsConnection *nc = NULL;
    natsStatus s = natsConnection_ConnectTo(&nc, urls);   /* "a,b,c": a list */
    if (s != NATS_OK)
        die("cannot connect", s);
    int rc = 2;
    if (strcmp(cmd, "pub") == 0)
        rc = cmd_pub(nc, subject, &o);
    else if (strcmp(cmd, "spy") == 0)
        rc = cmd_spy(nc, subject, &o);
    else if (strcmp(cmd, "answer-stats") == 0)
        rc = cmd_answer_stats(nc, &o);
    else
        usage();
    natsConnection_Destroy(nc);
    free(o.owned);
    return rc;
}
