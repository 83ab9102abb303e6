/* fuzz_tlsrpt_record.c: fuzz target for lib/tlsrpt/tlsrpt_record's line
 * parser (the per-day TLS outcome files hold text that came from peers
 * and DNS: reasons, host names). Checks its promises: a line that
 * parses formats back to a line below PIPE_BUF that parses again, with
 * the same numbers and fields that are the same or (a field cut to keep
 * the line short: mx patterns, the reason) a prefix of the original. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "tlsrpt/tlsrpt_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int prefix(const char *cut, const char *whole)
{
    return strncmp(cut, whole, strlen(cut)) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tlsrpt_record r, again;
    if (tlsrpt_record_parse((const char *)data, size, &r) != 0)
        return 0;
    struct buf line = BUF_INIT;
    tlsrpt_record_format(&r, &line);
    if (line.len >= PIPE_BUF || line.data[line.len - 1] != '\n')
        abort();
    if (tlsrpt_record_parse(line.data, line.len, &again) != 0)
        abort();
    if (again.when != r.when || again.policy != r.policy ||
        again.max_age != r.max_age || strcmp(again.domain, r.domain) != 0 ||
        strcmp(again.policy_id, r.policy_id) != 0 ||
        strcmp(again.mode, r.mode) != 0 || !prefix(again.mx, r.mx) ||
        strcmp(again.result, r.result) != 0 ||
        strcmp(again.host, r.host) != 0 || strcmp(again.addr, r.addr) != 0 ||
        strcmp(again.sender, r.sender) != 0 || !prefix(again.reason, r.reason))
        abort();
    buf_free(&line);
    return 0;
}
