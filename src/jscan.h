/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jscan.h - ingest's JSON scanners: a fast path past jansson, and the
 * mask that lets jansson check a body whose numbers it cannot hold.
 *
 * Ingest keeps a message's payload as the bytes the producer sent (the
 * raw text of the "payload" value, whitespace and number spellings
 * included), so nothing here rewrites JSON: both scanners report where
 * things are in the caller's text.
 *
 * jscan_object() recognises most bodies in one pass without building a
 * tree. It says yes only to text that is one RFC 8259 JSON object with
 * no duplicate keys in any object, in a subset: strings of printable
 * ASCII with no escapes but \" \\ \/ \b \f \n \r \t, keys with no
 * escapes at all, at most JSCAN_MAX_KEYS keys per object, nesting up to
 * max_depth. Numbers of any size and spelling the grammar allows are in
 * the subset. Anything else is "slow": the caller takes jansson's path,
 * which also words every error, so this module never has to.
 *
 * jansson cannot hold every number JSON allows (1e400, integers beyond
 * 64 bits); jscan_mask() copies a text with the numbers of its
 * top-level "payload" value (or every number) blanked to 0 and spaces,
 * same length, so jansson can check everything else (structure,
 * strings, UTF-8, duplicate keys) while the number grammar is checked
 * here. A number that breaks the grammar is copied as it is, for
 * jansson to refuse.
 *
 * Pure functions; any thread.
 */
#ifndef HOOKD_JSCAN_H
#define HOOKD_JSCAN_H

#include <stddef.h>

#define JSCAN_MAX_KEYS 32
#define JSCAN_MAX_DEPTH 64

/* One member of the top-level object, as offsets into the scanned text. */
struct jscan_member {
    size_t key, klen;     /* the key without its quotes */
    size_t val, vlen;     /* the value's text as written, without surrounding whitespace */
};

/*
 * Check that s[0..n) is one JSON object on the fast path (see above).
 * Its members are reported in m (room for JSCAN_MAX_KEYS). Returns the
 * number of members, or -1 when the text is not on the fast path (m is
 * then unspecified).
 */
int jscan_object(const char *s, size_t n, int max_depth, struct jscan_member *m);

/* Where the top-level "payload" value is in the text (found 0: no such key). */
struct jscan_span {
    size_t at, len;
    int found;
};

/*
 * Copy s[0..n) to out (room for n + 1 bytes; NUL-terminated) with every
 * number that keeps to the grammar replaced by "0" and spaces: all of
 * them when all, else only those inside the top-level "payload" value.
 * payload gets that value's place in s (its key written without
 * escapes); meaningful only when the text is valid JSON.
 */
void jscan_mask(const char *s, size_t n, int all, char *out, struct jscan_span *payload);

/* Length of the JSON number at p (RFC 8259 grammar), 0 when none starts there. */
size_t jscan_number_len(const char *p, const char *end);

#endif
