/* trigger_parse.h: the reader of qmgr's trigger bytes (the requests of
 * lib/queue/qmgr_trigger.h, as they arrive on public/qmgr, which any local
 * user may write to: untrusted input).
 *
 * A trigger is a run of requests: single letters (A F W D R, and unknown
 * bytes, which are ignored), and S or Q followed by an argument ended by
 * LF. An argument is accepted only when it is 1 to QMGR_TRIGGER_MAX_ARG
 * bytes of printable ASCII without spaces; a request whose argument is
 * empty, too long or holds anything else is dropped whole, and a request
 * with no LF before the end of the data is dropped. Fuzzed in
 * fuzz/fuzz_trigger_parse.c, unit-tested in tests/unit/test_trigger_parse.c. */
#ifndef POSTERN_TRIGGER_PARSE_H
#define POSTERN_TRIGGER_PARSE_H

#include <stddef.h>

/* Called for each request in order: request is the letter; arg is the
 * NUL-terminated argument for S and Q, NULL for the others. */
typedef void (*trigger_request_fn)(void *ctx, char request, const char *arg);

/* Calls fn for every valid request in data[0..len); returns how many. */
size_t trigger_parse(const char *data, size_t len, trigger_request_fn fn,
                     void *ctx);

#endif
