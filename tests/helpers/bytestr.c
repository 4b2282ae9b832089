/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bytestr.c - byte strings for the response-body property test (t0156),
 * each with what hookd's API must give back for it.
 *
 *   bytestr single               the 256 one-byte strings, 0x00 to 0xff
 *   bytestr random SEED N MAX    N strings of 0 to MAX bytes, drawn from
 *                                every byte value, valid UTF-8 sequences of
 *                                2 to 4 bytes, broken ones, NUL, '"', '\'
 *
 * One line per string: "IN OUT", IN in lowercase hex and OUT in base64
 * (as jq's @base64 writes it), each "." when empty. OUT is the string as
 * a JSON reader decodes hookd's "response" field:
 * every well-formed UTF-8 sequence (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF) as it is, every other byte as U+FFFD
 * (ef bf bd). Written from the RFC on purpose, sharing no code with
 * src/mem.c: it is the independent witness.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEN 4096

/* Length of the well-formed sequence at p (RFC 3629 table 3-7), 0 if none. */
static size_t wellformed(const unsigned char *p, size_t n)
{
    static const struct { unsigned char lo, hi, lo2, hi2; size_t len; } rows[] = {
        { 0x00, 0x7f, 0, 0, 1 },       { 0xc2, 0xdf, 0x80, 0xbf, 2 },
        { 0xe0, 0xe0, 0xa0, 0xbf, 3 }, { 0xe1, 0xec, 0x80, 0xbf, 3 },
        { 0xed, 0xed, 0x80, 0x9f, 3 }, { 0xee, 0xef, 0x80, 0xbf, 3 },
        { 0xf0, 0xf0, 0x90, 0xbf, 4 }, { 0xf1, 0xf3, 0x80, 0xbf, 4 },
        { 0xf4, 0xf4, 0x80, 0x8f, 4 },
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        if (p[0] < rows[r].lo || p[0] > rows[r].hi)
            continue;
        size_t len = rows[r].len;
        if (len > n)
            return 0;
        if (len > 1 && (p[1] < rows[r].lo2 || p[1] > rows[r].hi2))
            return 0;
        for (size_t i = 2; i < len; i++)
            if (p[i] < 0x80 || p[i] > 0xbf)
                return 0;
        return len;
    }
    return 0;
}

static void put_hex(const unsigned char *p, size_t n)
{
    if (!n)
        fputc('.', stdout);
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
}

static void put_base64(const unsigned char *p, size_t n)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (!n)
        fputc('.', stdout);
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0)
                     | (i + 2 < n ? p[i + 2] : 0);
        fputc(abc[v >> 18 & 63], stdout);
        fputc(abc[v >> 12 & 63], stdout);
        fputc(i + 1 < n ? abc[v >> 6 & 63] : '=', stdout);
        fputc(i + 2 < n ? abc[v & 63] : '=', stdout);
    }
}

static void emit(const unsigned char *p, size_t n)
{
    unsigned char out[3 * MAX_LEN];
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t len = wellformed(p + i, n - i);
        if (len) {
            memcpy(out + o, p + i, len);
            o += len;
            i += len;
        } else {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    put_hex(p, n);
    fputc(' ', stdout);
    put_base64(out, o);
    fputc('\n', stdout);
}

/* One piece of a random string: n bytes at p, n returned. */
static size_t piece(unsigned char *p, size_t room)
{
    static const unsigned char valid[][4] = { { 0xc3, 0xa9 }, { 0xe2, 0x82, 0xac },
                                              { 0xf0, 0x9f, 0x98, 0x80 }, { 0xed, 0x9f, 0xbf },
                                              { 0xf4, 0x8f, 0xbf, 0xbf } };
    static const size_t vlen[] = { 2, 3, 4, 3, 4 };
    static const unsigned char broken[][4] = { { 0xc0, 0xaf }, { 0xed, 0xa0, 0x80 },
                                               { 0xf4, 0x90, 0x80, 0x80 }, { 0xe2, 0x82 },
                                               { 0xf0, 0x9f, 0x98 } };
    static const size_t blen[] = { 2, 3, 4, 2, 3 };
    int kind = rand() % 6;
    size_t k = (size_t)rand() % 5, n = 1;
    if (kind == 0 && vlen[k] <= room) {
        n = vlen[k];
        memcpy(p, valid[k], n);
    } else if (kind == 1 && blen[k] <= room) {
        n = blen[k];
        memcpy(p, broken[k], n);
    } else if (kind == 2) {
        static const unsigned char special[] = { 0x00, '"', '\\', '\n', 0x7f, 0x1f };
        p[0] = special[(size_t)rand() % sizeof(special)];
    } else {
        p[0] = (unsigned char)(rand() % 256);
    }
    return n;
}

int main(int argc, char **argv)
{
    unsigned char s[MAX_LEN];
    if (argc == 2 && strcmp(argv[1], "single") == 0) {
        for (int b = 0; b < 256; b++) {
            s[0] = (unsigned char)b;
            emit(s, 1);
        }
        return 0;
    }
    if (argc != 5 || strcmp(argv[1], "random") != 0) {
        fprintf(stderr, "usage: bytestr single | bytestr random SEED N MAX\n");
        return 2;
    }
    long n = atol(argv[3]), max = atol(argv[4]);
    if (max < 0 || max > MAX_LEN)
        max = MAX_LEN;
    srand((unsigned)atol(argv[2]));
    for (long i = 0; i < n; i++) {
        size_t len = (size_t)(rand() % (max + 1)), got = 0;
        while (got < len)
            got += piece(s + got, len - got);
        emit(s, got);
    }
    return 0;
}
