/* SPDX-License-Identifier: Apache-2.0 */
/*
 * t0600-ui-model: the console's model and formatting without a terminal:
 * numbers, durations, sizes and ages; fitting and escaping text; rates
 * and sparklines; parsing the operations API's snapshots; the failed
 * list keeping marks and replay states across refreshes; filters.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "tap/tap.h"
#include "ui_app.h"
#include "ui_fmt.h"
#include "ui_model.h"

static char out[256];

static const char *esc(const char *s, size_t len, int utf8)
{
    struct buf b = BUF_INIT;
    ui_escape(&b, s, len, utf8, 0);
    snprintf(out, sizeof(out), "%s", b.data);
    buf_release(&b);
    return out;
}

static const char *fit(const char *s, int w, int right)
{
    struct buf b = BUF_INIT;
    ui_fit(&b, s, w, right);
    snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
    buf_release(&b);
    return out;
}

static void test_numbers(void)
{
    char s[64];
    ui_fmt_count(s, sizeof(s), 0);
    is_str(s, "0", "count 0");
    ui_fmt_count(s, sizeof(s), 1204);
    is_str(s, "1,204", "count with a separator");
    ui_fmt_count(s, sizeof(s), 9999999);
    is_str(s, "9,999,999", "count just below 10 M");
    ui_fmt_count(s, sizeof(s), 12400000);
    is_str(s, "12.4 M", "count in millions");
    ui_fmt_count(s, sizeof(s), -1);
    is_str(s, "-", "absent count");
    ui_fmt_rate(s, sizeof(s), 1204.4);
    is_str(s, "1,204/s", "rate");
    ui_fmt_rate(s, sizeof(s), 0.44);
    is_str(s, "0.4/s", "slow rate keeps a decimal");
    ui_fmt_rate(s, sizeof(s), 0);
    is_str(s, "0/s", "zero rate");
    ui_fmt_bytes(s, sizeof(s), 512);
    is_str(s, "512 B", "bytes");
    ui_fmt_bytes(s, sizeof(s), 1.8 * 1024 * 1024 * 1024);
    is_str(s, "1.8 GiB", "GiB");
    ui_fmt_bytes(s, sizeof(s), 64.0 * 1024 * 1024 * 1024);
    is_str(s, "64 GiB", "whole GiB");
}

static void test_durations(void)
{
    char s[64];
    ui_fmt_ms(s, sizeof(s), 3.14);
    is_str(s, "3.1 ms", "ms with a decimal");
    ui_fmt_ms(s, sizeof(s), 31);
    is_str(s, "31 ms", "ms");
    ui_fmt_ms(s, sizeof(s), 15000);
    is_str(s, "15.0 s", "seconds");
    ui_fmt_ms(s, sizeof(s), 125000);
    is_str(s, "2 m 05 s", "minutes");
    ui_fmt_ms(s, sizeof(s), -1);
    is_str(s, "-", "absent duration");
    ui_fmt_uptime(s, sizeof(s), 42);
    is_str(s, "42 s", "uptime seconds");
    ui_fmt_uptime(s, sizeof(s), 3 * 86400 + 4 * 3600 + 12 * 60 + 5);
    is_str(s, "3d 04:12", "uptime days");
    ui_fmt_uptime(s, sizeof(s), 4 * 3600 + 12 * 60 + 9);
    is_str(s, "04:12:09", "uptime hours");
    ui_fmt_age(s, sizeof(s), 400);
    is_str(s, "0.4 s", "age under 10 s");
    ui_fmt_age(s, sizeof(s), 12000);
    is_str(s, "12 s", "age in seconds");
    ui_fmt_age(s, sizeof(s), 5 * 60000);
    is_str(s, "5 min", "age in minutes");
    ui_fmt_age(s, sizeof(s), 3 * 86400000LL);
    is_str(s, "3 d", "age in days");
    ui_fmt_age(s, sizeof(s), -5);
    is_str(s, "0.0 s", "a clock step back reads as now");
}

static void test_fit(void)
{
    is_str(fit("abc", 5, 0), "abc  ", "pad left-aligned");
    is_str(fit("abc", 5, 1), "  abc", "pad right-aligned");
    is_str(fit("abcdefgh", 6, 0), "abcd..", "cut with ..");
    is_str(fit("abcdef", 6, 0), "abcdef", "exact fit is not cut");
    is_str(fit("abc", 0, 0), "", "zero width");
    is_str(fit("abcdef", 3, 0), "abc", "tiny widths cut without dots");
    is_int(ui_width("h\xc3\xa9llo"), 5, "é is one column");
    is_int(ui_width("\xe6\x97\xa5\xe6\x9c\xac"), 4, "CJK is two columns each");
    is_str(fit("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 5, 0), "\xe6\x97\xa5.. ",
           "a wide character is never split");
    is_int(ui_width(fit("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 5, 0)), 5, "and the width holds");
}

static void test_escape(void)
{
    is_str(esc("plain", 5, 1), "plain", "plain text passes");
    is_str(esc("\x1b[31mred", 8, 1), "\\x1B[31mred", "ESC is escaped");
    is_str(esc("a\nb\rc\x07", 6, 1), "a\\x0Ab\\x0Dc\\x07", "C0 controls are escaped");
    is_str(esc("del\x7f", 4, 1), "del\\x7F", "DEL is escaped");
    is_str(esc("\xc2\x9b" "2J", 4, 1), "\\xC2\\x9B2J", "C1 CSI (as UTF-8) is escaped");
    is_str(esc("bad\xff\xfe", 5, 1), "bad\\xFF\\xFE", "invalid bytes are escaped");
    is_str(esc("\xc0\xaf", 2, 1), "\\xC0\\xAF", "overlong UTF-8 is escaped");
    is_str(esc("\xed\xa0\x80", 3, 1), "\\xED\\xA0\\x80", "UTF-16 surrogates are escaped");
    is_str(esc("\xe2\x80\xae" "abc", 6, 1), "\\xE2\\x80\\xAEabc", "bidi override is escaped");
    is_str(esc("caf\xc3\xa9", 5, 1), "caf\xc3\xa9", "valid UTF-8 passes");
    is_str(esc("caf\xc3\xa9", 5, 0), "caf\\xC3\\xA9", "non-ASCII escaped without UTF-8");
    is_str(esc("a\0b", 3, 1), "a\\x00b", "NUL is escaped");
    is_str(esc("\xe4\xb8", 2, 1), "\\xE4\\xB8", "a truncated sequence is escaped");
    struct buf b = BUF_INIT;
    ui_escape(&b, "", 0, 1, 0);
    ok(b.data && b.data[0] == '\0', "empty input gives an empty string");
    buf_release(&b);
}

static void test_lines(void)
{
    size_t n;
    char **v = ui_lines("one\r\ntwo\n\tx\x1b", 12, 1, &n);
    is_int((long long)n, 3, "three lines");
    is_str(v[0], "one", "CRLF stripped");
    is_str(v[1], "two", "second line");
    is_str(v[2], "    x\\x1B", "tab expanded, control escaped");
    ok(v[3] == NULL, "NULL-terminated");
    ui_lines_free(v);
}

static void test_sparkline(void)
{
    int lv[8];
    double v[] = { 0, 1, 2, 4 };
    is_int(ui_sparkline(v, 4, 6, lv), 4, "four columns of data");
    ok(lv[0] == -1 && lv[1] == -1, "columns without data are empty");
    ok(lv[2] == 0 && lv[5] == 7, "zero is the floor, the maximum the top");
    ok(lv[3] > 0 && lv[3] < lv[4], "levels grow with the rate");
    double w[12] = { 1, 1, 1, 1, 1, 1, 5, 5, 5, 5, 5, 5 };
    is_int(ui_sparkline(w, 12, 4, lv), 4, "twelve samples in four columns");
    ok(lv[0] == lv[1] && lv[2] == 7 && lv[3] == 7 && lv[0] < lv[2], "three samples per column");
    double z[3] = { 0, 0, 0 };
    ui_sparkline(z, 3, 3, lv);
    ok(lv[0] == 0 && lv[1] == 0 && lv[2] == 0, "all zero stays on the floor");
    is_int(ui_sparkline(z, 0, 3, lv), 0, "no samples, no columns");
}

static void test_rates(void)
{
    struct ui_rates r;
    memset(&r, 0, sizeof(r));
    ui_rates_sample(&r, 1000, 100, 50, 5);
    is_int(r.ingest.n, 0, "the first snapshot has nothing to compare");
    ui_rates_sample(&r, 2000, 200, 150, 5);
    is_int(r.ingest.n, 1, "one sample after a second");
    ok(r.ingest.v[0] == 100 && r.ok.v[0] == 100 && r.fail.v[0] == 0, "per-second rates");
    ui_rates_sample(&r, 2200, 300, 150, 5);
    is_int(r.ingest.n, 1, "too soon: ignored");
    ui_rates_sample(&r, 5000, 500, 150, 5);
    is_int(r.ingest.n, 4, "a three-second gap fills three seconds");
    ok(r.ingest.v[3] == 100, "with the average rate");
    ui_rates_sample(&r, 6000, 10, 0, 0);
    ok(r.ingest.v[4] == 0, "a counter that went back (restart) reads as zero");
    for (int i = 0; i < UI_HIST + 10; i++)
        ui_series_push(&r.ok, i);
    ok(r.ok.n == UI_HIST && r.ok.v[UI_HIST - 1] == UI_HIST + 9, "history is bounded, newest last");
}

static void test_history(void)
{
    struct ui_model m;
    ui_model_init(&m, 1);
    is_int(ui_model_history(&m, "{\"ingest\":[1,2],\"success\":[1]}"), -1,
           "a history without every series is refused");
    is_int(m.rates.ingest.n, 0, "... and changes nothing");
    is_int(ui_model_history(&m, "{\"ingest\":[1,\"x\"],\"success\":[],\"failure\":[]}"), -1,
           "a count that is not a number is refused");
    /* two seconds sampled by the console itself, then the server's last five */
    ui_rates_sample(&m.rates, 1000, 0, 0, 0);
    ui_rates_sample(&m.rates, 3000, 20, 10, 0);
    is_int(m.rates.ingest.n, 2, "the console sampled two seconds");
    is_int(ui_model_history(&m, "{\"seconds\":5,\"ingest\":[5,6,7,8,9],"
                                "\"success\":[1,2,3,4,5],\"failure\":[0,0,1,0,0]}"), 0,
           "a history parses");
    is_int(m.rates.ingest.n, 5, "the three older seconds go in front of the two sampled");
    ok(m.rates.ingest.v[0] == 5 && m.rates.ingest.v[2] == 7 && m.rates.ingest.v[3] == 10
       && m.rates.ingest.v[4] == 10, "oldest first, the console's own samples kept newest");
    ok(m.rates.ok.v[1] == 2 && m.rates.fail.v[2] == 1 && m.rates.ok.n == 5 && m.rates.fail.n == 5,
       "every series seeded alike");
    struct ui_series full;
    memset(&full, 0, sizeof(full));
    for (int i = 0; i < UI_HIST - 1; i++)
        ui_series_push(&full, 1);
    double v[UI_HIST];
    for (int i = 0; i < UI_HIST; i++)
        v[i] = 100 + i;
    ui_series_seed(&full, v, UI_HIST);
    is_int(full.n, UI_HIST, "seeding never goes past the history's length");
    ok(full.v[0] == 100 && full.v[1] == 1, "only the one older second fits in front");
    ui_model_release(&m);
}

static const char *stats_json =
    "{\"version\":\"0.3.0\",\"uptimeS\":273120,\"messagesIngested\":1000,"
    "\"attemptsSucceeded\":990,\"attemptsFailed\":12,\"deliveriesFailedFinal\":3,"
    "\"rates\":{\"ingest\":{\"1s\":1,\"10s\":1204.5,\"60s\":3},\"success\":{\"1s\":1,\"10s\":1198,"
    "\"60s\":1},\"failure\":{\"1s\":0,\"10s\":6,\"60s\":0}},\"latencyMs\":{\"p50\":3.1,"
    "\"p90\":5.8,\"p99\":12.4,\"max\":98,\"count\":10},\"inflight\":212,\"deliveriesPending\":1033,"
    "\"deliveriesScheduled\":87,\"deliveriesHeld\":4512,\"deliveriesFailed\":23,"
    "\"dbBytes\":1932735283,\"mapBytes\":68719476736,\"readers\":2,"
    "\"messagesStored\":12400000,\"payloadRetentionS\":2592000,"
    "\"oldestPayloadAt\":\"2026-10-30T00:00:00.000Z\"}";

static void test_stats(void)
{
    struct ui_model m;
    ui_model_init(&m, 1);
    is_int(ui_model_stats(&m, stats_json, 1000), 0, "stats parse");
    is_str(m.stats.version, "0.3.0", "version");
    ok(m.stats.rate_ingest == 1204.5 && m.stats.rate_fail == 6, "10 s rates");
    ok(m.stats.p50 == 3.1 && m.stats.p99 == 12.4 && m.stats.max == 98, "latency");
    ok(m.stats.inflight == 212 && m.stats.held == 4512 && m.stats.failed_now == 23, "gauges");
    ok(m.stats.map_bytes == 68719476736.0, "store size");
    ok(m.stats.stored == 12400000 && m.stats.payload_ret_s == 2592000,
       "messages in the log and payload retention");
    is_int(m.stats.oldest_payload_ms, 1793318400000LL, "the oldest payload's time");
    is_int(ui_model_stats(&m, "{\"oldestPayloadAt\":null}", 2000), 0, "stats without figures");
    ok(m.stats.oldest_payload_ms == 0 && m.stats.stored == -1,
       "null or absent figures read as not said");
    is_int(ui_model_stats(&m, "[1]", 2000), -1, "an array is no stats");
    is_int(ui_model_stats(&m, "{\"latencyMs\":{\"p50\":null}}", 3000), 0, "nulls parse");
    ok(m.stats.p50 == -1, "a null percentile is absent");
    ui_model_release(&m);
}

static const char *cluster_json =
    "{\"version\":\"0.3.0\",\"cluster\":{\"role\":\"standby\",\"nodeId\":\"b\",\"seq\":40,"
    "\"owner\":\"a\",\"logSeq\":42,\"nodes\":["
    "{\"nodeId\":\"b\",\"self\":true,\"reachable\":true,\"role\":\"standby\",\"owns\":[],"
    "\"follows\":[\"group.0\"],\"seq\":40,\"lag\":{\"entries\":2,\"seconds\":1.5},"
    "\"listen\":\"127.0.0.1:8080\",\"silentMs\":0},"
    "{\"nodeId\":\"a\",\"self\":false,\"reachable\":true,\"role\":\"owner\","
    "\"owns\":[\"group.0\",\"group.1\"],\"follows\":[],\"seq\":42,"
    "\"lag\":{\"entries\":0,\"seconds\":0}},"
    "{\"nodeId\":\"c\\u001b[2J\",\"reachable\":false,\"role\":\"boss\",\"silentMs\":12000},"
    "7]}}";

static void test_cluster(void)
{
    struct ui_model m;
    ui_model_init(&m, 1);
    is_int(ui_model_stats(&m, stats_json, 1000), 0, "stats without a cluster parse");
    ok(!m.stats.cluster.on && m.stats.cluster.n == 0, "a single node has no cluster");
    is_int(ui_model_stats(&m, cluster_json, 2000), 0, "stats of a cluster's node parse");
    const struct ui_cluster *c = &m.stats.cluster;
    ok(c->on && strcmp(c->node_id, "b") == 0 && strcmp(c->role, "standby") == 0
       && strcmp(c->owner, "a") == 0 && c->log_seq == 42, "the node asked, its role and the owner");
    is_int((long long)c->n, 3, "three nodes; a node that is not an object is left out");
    ok(c->nodes[0].self && c->nodes[0].reachable && c->nodes[0].seq == 40 && c->nodes[0].lag == 2
       && c->nodes[0].lag_s == 1.5, "the node itself: applied sequence and lag");
    is_str(c->nodes[0].groups, "0", "a standby's groups are those it follows");
    is_str(c->nodes[0].listen, "127.0.0.1:8080", "its HTTP address");
    is_str(c->nodes[1].groups, "0,1", "an owner's groups are those it owns");
    is_str(c->nodes[1].role, "owner", "the owner's role");
    ok(!c->nodes[2].reachable && c->nodes[2].silent_ms == 12000 && c->nodes[2].seq == -1
       && c->nodes[2].lag == -1, "an unreachable node, its figures not said");
    is_str(c->nodes[2].id, "c\\x1B[2J", "a node id is escaped for the terminal");
    is_str(c->nodes[2].role, "?", "an unknown role is shown as ?");
    is_int(ui_model_stats(&m, "{\"cluster\":{\"role\":\"owner\",\"nodeId\":\"a\"}}", 3000),
           0, "a cluster without nodes parses");
    ok(m.stats.cluster.on && m.stats.cluster.n == 0 && m.stats.cluster.log_seq == -1,
       "and lists none");
    ui_model_release(&m);
}

static const char *eps_json =
    "{\"data\":[{\"appId\":\"app_1\",\"appUid\":\"acme\",\"endpointId\":\"ep_1\","
    "\"url\":\"https://hooks.acme.io/billing\",\"disabled\":false,\"paused\":false,"
    "\"inflight\":4,\"successes5m\":12,\"failures5m\":88,\"backlog\":311,"
    "\"consecutiveFailures\":7,\"lastStatusCode\":503,\"lastError\":\"server \\u001b error\","
    "\"lastAttemptAt\":\"2024-05-01T12:00:00Z\"},"
    "{\"appId\":\"app_2\",\"appUid\":null,\"endpointId\":\"ep_2\",\"url\":\"https://x\","
    "\"disabled\":true,\"paused\":false,\"successes5m\":0,\"failures5m\":0,"
    "\"consecutiveFailures\":0,\"lastStatusCode\":null,\"lastError\":null,"
    "\"lastAttemptAt\":null},"
    "{\"appId\":\"app_1\",\"appUid\":\"acme\",\"endpointId\":\"ep_3\",\"url\":\"https://y\","
    "\"successes5m\":93,\"failures5m\":7,\"consecutiveFailures\":0},"
    "{\"appId\":\"app_1\",\"appUid\":\"acme\",\"endpointId\":\"ep_4\",\"url\":\"https://z\","
    "\"paused\":true},"
    "{\"appId\":\"app_1\",\"appUid\":\"acme\",\"endpointId\":\"ep_5\",\"url\":\"https://w\","
    "\"successes5m\":9,\"failures5m\":1,\"consecutiveFailures\":1,\"retrying\":1},"
    "{\"appId\":\"app_1\",\"appUid\":\"acme\",\"endpointId\":\"ep_6\",\"url\":\"https://v\","
    "\"successes5m\":9,\"failures5m\":1,\"consecutiveFailures\":1,\"retrying\":0}],"
    "\"done\":true}";

static void test_endpoints(void)
{
    struct ui_model m;
    ui_model_init(&m, 1);
    is_int(ui_model_endpoints(&m, eps_json), 0, "endpoints parse");
    is_int((long long)m.neps, 6, "six rows");
    const struct ui_endpoint *e = ui_model_endpoint(&m, "ep_1");
    ok(e && e->backlog == 311 && e->last_status == 503 && e->last_at > 0, "fields");
    is_str(e ? e->last_error : "", "server \\x1B error", "the error is escaped");
    ok(ui_endpoint_ok_pct(e) == 12.0, "success rate over 5 min");
    is_int(ui_endpoint_health(e), UI_H_FAIL, "failing");
    is_int(ui_endpoint_health(ui_model_endpoint(&m, "ep_2")), UI_H_OFF, "disabled");
    is_int(ui_endpoint_health(ui_model_endpoint(&m, "ep_3")), UI_H_ERRORS,
           "failures in the last 5 min, none in a row: errors, not retry");
    is_int(ui_endpoint_health(ui_model_endpoint(&m, "ep_5")), UI_H_RETRY,
           "a retry scheduled: retry");
    is_int(ui_endpoint_health(ui_model_endpoint(&m, "ep_6")), UI_H_ERRORS,
           "the last attempt failed but no retry is scheduled: errors");
    is_int(ui_endpoint_health(ui_model_endpoint(&m, "ep_4")), UI_H_PAUSED, "paused");
    ok(ui_endpoint_ok_pct(ui_model_endpoint(&m, "ep_2")) < 0, "no attempts, no rate");
    is_str(ui_model_app_label(&m, "app_1"), "acme", "apps are named by uid");
    is_str(ui_model_app_label(&m, "app_2"), "app_2", "or by id without one");
    ok(ui_model_endpoint(&m, "ep_9") == NULL, "unknown endpoint");
    ui_model_release(&m);
}

#define ROW(msg, ep) "{\"msgId\":\"" msg "\",\"appId\":\"app_1\",\"endpointId\":\"" ep "\"," \
    "\"eventType\":\"invoice.paid\",\"status\":\"fail\",\"attempts\":4,\"lastStatusCode\":503," \
    "\"lastError\":\"HTTP 503\",\"nextAttemptAt\":null,\"updatedAt\":\"2024-05-01T12:00:00Z\"}"

static void test_failed(void)
{
    struct ui_model m;
    ui_model_init(&m, 1);
    is_int(ui_model_failed(&m, "{\"data\":[" ROW("msg_a", "ep_1") "," ROW("msg_b", "ep_1") ","
                                ROW("msg_c", "ep_1") "],\"done\":true}"), 0, "list parses");
    ok(m.nfailed == 3 && m.failed_done, "three rows, all of them");
    m.failed[0].marked = 1;
    m.failed[1].track = UI_T_QUEUED;
    ui_model_failed(&m, "{\"data\":[" ROW("msg_a", "ep_1") "," ROW("msg_c", "ep_1")
                        "],\"done\":false}");
    is_int((long long)m.nfailed, 3, "a replayed row the server dropped stays");
    is_str(m.failed[0].msg_id, "msg_b", "on top");
    is_int(m.failed[0].track, UI_T_QUEUED, "with its state");
    ok(m.failed[1].marked && !strcmp(m.failed[1].msg_id, "msg_a"), "marks survive a refresh");
    ok(!m.failed_done, "more rows on the server");
    int n = ui_model_feed(&m, "{\"seq\":7,\"items\":[{\"seq\":6,\"timestamp\":"
                              "\"2024-05-01T12:00:01Z\",\"msgId\":\"msg_b\",\"appId\":\"app_1\","
                              "\"endpointId\":\"ep_1\",\"eventType\":\"invoice.paid\","
                              "\"statusCode\":200,\"ok\":true,\"durationMs\":4,\"triggerType\":1,"
                              "\"error\":null},{\"seq\":7,\"msgId\":\"msg_c\",\"endpointId\":"
                              "\"ep_1\",\"statusCode\":500,\"ok\":false,\"error\":\"\\u0007\"}]}");
    is_int(n, 2, "two feed items");
    ok(m.failed[0].track == UI_T_OK && m.failed[0].track_status == 200, "the replay landed");
    is_int(m.failed[0].attempts, 5, "and its tries count the manual attempt");
    is_int(m.failed[2].track, UI_T_NONE, "an unreplayed failure stays as it was");
    is_int((long long)m.feed_seq, 7, "feed cursor");
    const struct ui_feed_item *it = ui_model_feed_at(&m, 1);
    is_str(it->error, "\\x07", "feed errors are escaped");
    ok(ui_model_feed_at(&m, 0)->manual, "manual trigger");
    m.failed[1].track = UI_T_QUEUED;
    m.failed[2].track = UI_T_QUEUED;
    is_int((long long)ui_model_replay_answer(&m, "{\"queued\":1,\"skippedDeliveries\":[{"
                                             "\"msgId\":\"msg_c\",\"endpointId\":\"ep_1\","
                                             "\"reason\":\"endpoint_disabled\"}]}"), 1,
           "a replay's answer names the row it skipped");
    ok(m.failed[2].track == UI_T_SKIPPED && !strcmp(m.failed[2].track_why, "endpoint_disabled"),
       "which is not sent, with the reason");
    is_int(m.failed[1].track, UI_T_QUEUED, "the queued one waits for its outcome");
    is_int((long long)ui_model_replay_answer(&m, "{\"queued\":0}"), 1,
           "an answer that queued nothing ...");
    is_int(m.failed[1].track, UI_T_SKIPPED, "... leaves no row replaying");
    ui_model_failed_clear(&m);
    is_int((long long)m.nfailed, 0, "cleared");
    is_int(ui_model_failed(&m, "not json"), -1, "garbage is refused");
    ui_model_release(&m);
}

/* A scheduled message's delivery (pending, never tried, due later) reads "scheduled". */
static void test_scheduled(void)
{
    struct ui_model m;
    ui_model_init(&m, 1);
    is_int(ui_model_failed(&m, "{\"data\":[{\"msgId\":\"msg_s\",\"appId\":\"app_1\","
                                "\"endpointId\":\"ep_1\",\"status\":\"pending\",\"attempts\":0,"
                                "\"nextAttemptAt\":\"2999-01-01T00:00:00Z\"},{\"msgId\":\"msg_p\","
                                "\"appId\":\"app_1\",\"endpointId\":\"ep_1\",\"status\":\"pending\","
                                "\"attempts\":0,\"nextAttemptAt\":\"2001-01-01T00:00:00Z\"}],"
                                "\"done\":true}"), 0, "a list with a scheduled delivery parses");
    const char *s0 = m.failed[0].status, *s1 = m.failed[1].status;
    ok((!strcmp(s0, "scheduled") && !strcmp(s1, "pending"))
       || (!strcmp(s1, "scheduled") && !strcmp(s0, "pending")),
       "due later and never tried: scheduled; due already: pending");
    ui_model_release(&m);
}

static void test_feed_ring(void)
{
    struct ui_model m;
    ui_model_init(&m, 1);
    char body[200];
    for (int i = 1; i <= UI_FEED_MAX + 5; i++) {
        snprintf(body, sizeof(body), "{\"seq\":%d,\"items\":[{\"seq\":%d,\"msgId\":\"m\","
                                     "\"endpointId\":\"e\",\"ok\":true}]}", i, i);
        ui_model_feed(&m, body);
    }
    is_int((long long)m.nfeed, UI_FEED_MAX, "the feed ring is bounded");
    is_int((long long)ui_model_feed_at(&m, 0)->seq, 6, "the oldest fell out");
    is_int((long long)ui_model_feed_at(&m, UI_FEED_MAX - 1)->seq, UI_FEED_MAX + 5, "newest last");
    ui_model_release(&m);
}

static void test_detail(void)
{
    struct ui_model m;
    ui_model_init(&m, 1);
    ui_detail_open(&m.detail, "app_1", "msg_a", "ep_1");
    is_int(ui_model_detail_msg(&m, "{\"id\":\"msg_a\",\"eventType\":\"invoice.paid\","
                                   "\"payload\":{\"a\":1,\"b\":\"\\u001b]0;x\"}}"), 0, "message");
    is_int((long long)m.detail.npayload, 4, "payload pretty-printed on four lines");
    is_str(m.detail.payload[1], "  \"a\": 1,", "indented");
    ok(strcasestr(m.detail.payload[2], "\\u001b") != NULL, "control characters stay JSON-escaped");
    is_int(ui_model_detail_msg(&m, "{\"id\":\"msg_a\",\"eventType\":\"big\","
                                   "\"payload\":{\"x\":1e400,\"n\":19.99},\"timestamp\":"
                                   "\"2026-01-01T00:00:00.000Z\"}"), 0,
           "a payload number jansson cannot hold still opens");
    is_str(m.detail.payload[0], "{\"x\":1e400,\"n\":19.99}", "shown as sent");
    is_str(m.detail.event_type, "big", "with its event type");
    is_int(ui_model_detail_attempts(&m, "{\"data\":[{\"id\":\"atmpt_2\",\"url\":\"http://x\","
                                        "\"response\":\"\\u001b[2J\",\"responseStatusCode\":0,"
                                        "\"responseDurationMs\":15000,\"status\":2,"
                                        "\"triggerType\":0,\"timestamp\":"
                                        "\"2024-05-01T12:00:00Z\"}],\"done\":true}"), 0,
           "attempts");
    ok(m.detail.natt == 1 && m.detail.att[0].duration_ms == 15000, "attempt fields");
    is_str(m.detail.att[0].response, "\\x1B[2J", "the response is escaped");
    is_int(ui_model_detail_headers(&m, "{\"headers\":{\"x-a\":\"1\"},\"sensitive\":"
                                       "[\"authorization\"]}"), 0, "headers");
    ok(m.detail.nheaders == 2 && !strcmp(m.detail.headers[0], "x-a: 1"), "custom header");
    ok(strstr(m.detail.headers[1], "not shown") != NULL, "sensitive ones hidden");
    ui_model_release(&m);
}

static void test_res(void)
{
    struct ui_res r = { 0 };
    ui_res_fail(&r, 404, "no route for '/hookd/v1/stats'");
    is_int(r.state, UI_RES_UNAVAILABLE, "a missing route: not available on this server");
    ui_res_fail(&r, 404, "application not found");
    is_int(r.state, UI_RES_ERROR, "a missing thing is an error to show");
    ui_res_fail(&r, 0, "Couldn't connect to server");
    ok(r.state == UI_RES_ERROR && strstr(r.error, "connect"), "no answer keeps its reason");
    ui_res_ok(&r, 1234);
    ok(r.state == UI_RES_OK && r.fetched_ms == 1234 && !r.error[0], "a good answer clears it");
}

static void test_filters(void)
{
    struct ui_filter f;
    char err[200];
    is_int(ui_filter_parse(&f, "app=acme type=invoice.* since=1h", 0, err, sizeof(err)), 0,
           "filter parses");
    ok(!strcmp(f.app, "acme") && !strcmp(f.type, "invoice.*") && f.since_ms == 3600000,
       "filter fields");
    is_int(ui_filter_parse(&f, "status>=500 fail oops", 0, err, sizeof(err)), 0, "feed filter");
    ok(f.code_min == 500 && f.want_ok == -1 && !strcmp(f.text, "oops"), "feed filter fields");
    is_int(ui_filter_parse(&f, "color=red", 0, err, sizeof(err)), -1, "unknown key refused");
    ok(strstr(err, "color") != NULL, "and named");
    is_int(ui_filter_parse(&f, "since=soon", 0, err, sizeof(err)), -1, "bad duration refused");
    is_int(ui_filter_parse(&f, "", 0, err, sizeof(err)), 0, "empty filter");
    struct ui_model m;
    ui_model_init(&m, 1);
    ui_model_endpoints(&m, eps_json);
    ui_model_failed(&m, "{\"data\":[" ROW("msg_a", "ep_1") "],\"done\":true}");
    ui_filter_parse(&f, "app=acme ep=hooks.acme type=invoice.*", 0, err, sizeof(err));
    ok(ui_filter_delivery(&f, &m, &m.failed[0]), "uid, URL part and glob match");
    ui_filter_parse(&f, "type=user.*", 0, err, sizeof(err));
    ok(!ui_filter_delivery(&f, &m, &m.failed[0]), "another type does not");
    ui_filter_parse(&f, "app=globex", 0, err, sizeof(err));
    ok(!ui_filter_delivery(&f, &m, &m.failed[0]), "another app does not");
    ui_filter_parse(&f, "acme", 0, err, sizeof(err));
    ok(ui_filter_delivery(&f, &m, &m.failed[0]), "free text matches the app shown");
    ui_filter_parse(&f, "billing", 0, err, sizeof(err));
    ok(ui_filter_delivery(&f, &m, &m.failed[0]), "and the endpoint's URL");
    ui_filter_parse(&f, "umbrella", 0, err, sizeof(err));
    ok(!ui_filter_delivery(&f, &m, &m.failed[0]), "but not what the row does not show");
    ui_model_release(&m);
    ok(ui_glob("invoice.*", "invoice.paid") && !ui_glob("invoice", "invoice.paid"),
       "glob and exact");
}

static void test_fit_mid(void)
{
    struct buf b = BUF_INIT;
    ui_fit_mid(&b, "127.0.0.1:41234/x/status/500", 14);
    is_str(b.data, "127...atus/500", "a long URL is cut in the middle, its end kept");
    buf_reset(&b);
    ui_fit_mid(&b, "127.0.0.1:41234/y/status/503", 14);
    is_str(b.data, "127...atus/503", "so two URLs on one host stay apart");
    buf_reset(&b);
    ui_fit_mid(&b, "short", 8);
    is_str(b.data, "short   ", "a short one is padded");
    buf_release(&b);
}

int main(void)
{
    if (!setlocale(LC_ALL, "C.UTF-8"))
        setlocale(LC_ALL, "C.utf8");
    test_numbers();
    test_durations();
    test_fit();
    test_escape();
    test_lines();
    test_sparkline();
    test_rates();
    test_history();
    test_stats();
    test_cluster();
    test_endpoints();
    test_failed();
    test_scheduled();
    test_feed_ring();
    test_detail();
    test_res();
    test_filters();
    test_fit_mid();
    return done_testing();
}
