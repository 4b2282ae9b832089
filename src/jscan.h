/*
 * jscan.h - a fast path past jansson for JSON that needs no rewriting.
 *
 * Ingest must keep a message's payload as jansson prints it (the stored
 * record and the 202 answer carry json_dumps(payload, JSON_COMPACT)), but
 * building and dumping a jansson tree costs more than everything else a
 * message needs. Most payloads are plain ASCII JSON whose compact form is
 * simply the text without its insignificant whitespace; jscan_object()
 * recognises those and copies them out in one pass.
 *
 * It says yes only when jansson (json_loadb with JSON_REJECT_DUPLICATES)
 * would accept the text and print it back byte for byte the same: strings
 * of printable ASCII with no escapes but \" \\ \b \f \n \r \t, keys with
 * no escapes at all, integers of at most 18 digits other than -0, no
 * reals, at most JSCAN_MAX_KEYS keys per object, nesting up to max_depth.
 * Anything else is "slow": the caller takes jansson's path, which also
 * words every error, so this module never has to.
 *
 * Pure functions; any thread.
 */
#ifndef HOOKD_JSCAN_H
#define HOOKD_JSCAN_H

#include <stddef.h>

#define JSCAN_MAX_KEYS 32
#define JSCAN_MAX_DEPTH 64

/* One member of the top-level object, as offsets into the output text. */
struct jscan_member {
    size_t key, klen;     /* the key without its quotes */
    size_t val, vlen;     /* the value's compact text */
};

/*
 * Check that s[0..n) is one JSON object on the fast path (see above) and
 * write its compact text to out, which must have room for n + 1 bytes
 * (the compact text is never longer; it is NUL-terminated). Its members
 * are reported in m (room for JSCAN_MAX_KEYS). Returns the number of
 * members, or -1 when the text is not on the fast path; out and m are then
 * unspecified.
 */
int jscan_object(const char *s, size_t n, int max_depth, char *out, struct jscan_member *m);

#endif
