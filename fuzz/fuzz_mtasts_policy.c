/* fuzz_mtasts_policy.c: fuzz target for lib/mtasts/mtasts_policy: the
 * MTA-STS policy file, and (when the input starts with "TXT\n") the
 * _mta-sts TXT records, one per remaining line. Checks the parser's
 * promises: a parsed policy has a mode, max_age within bounds, stored
 * mx patterns that are lower case host names (optionally "*."), each
 * matching a host built from it; an accepted TXT record has an id of
 * 1..32 letters and digits. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "mtasts/mtasts_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_id(const char *id)
{
    size_t len = strlen(id);
    if (len == 0 || len > MTASTS_ID_MAX)
        abort();
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)id[i]))
            abort();
}

static void fuzz_txt(const char *text, size_t size)
{
    const char *texts[16];
    size_t lens[16], count = 0, pos = 0;
    char id[MTASTS_ID_MAX + 1];
    while (pos <= size && count < 16) {
        const char *nl = memchr(text + pos, '\n', size - pos);
        size_t end = nl ? (size_t)(nl - text) : size;
        texts[count] = text + pos;
        lens[count] = end - pos;
        if (mtasts_txt_parse(texts[count], lens[count], id) == 1)
            check_id(id);
        count++;
        pos = end + 1;
    }
    if (mtasts_txt_select(texts, lens, count, id) == 1)
        check_id(id);
}

static void fuzz_policy(const char *text, size_t size)
{
    struct mtasts_policy *policy = xmalloc(sizeof(*policy));
    struct buf err = BUF_INIT;
    if (mtasts_policy_parse(text, size, policy, &err) == 0) {
        if (policy->max_age < 0 || policy->max_age > MTASTS_MAX_AGE_MAX)
            abort();
        if (policy->mode != MTASTS_MODE_NONE && policy->mx_count == 0)
            abort();
        for (size_t i = 0; i < policy->mx_count; i++) {
            const char *mx = policy->mx[i];
            const char *name = strncmp(mx, "*.", 2) == 0 ? mx + 2 : mx;
            if (*name == '\0' || strlen(name) > 253)
                abort();
            for (const char *c = name; *c; c++)
                if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) ||
                      *c == '-' || *c == '.'))
                    abort();
            char host[MTASTS_NAME_MAX + 8];
            if (name != mx)
                snprintf(host, sizeof(host), "mx.%s", name);
            else
                snprintf(host, sizeof(host), "%s", name);
            if (!mtasts_policy_mx_allowed(policy, host))
                abort();
        }
    } else if (err.len == 0) {
        abort();
    }
    buf_free(&err);
    free(policy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    if (size >= 4 && memcmp(text, "TXT\n", 4) == 0)
        fuzz_txt(text + 4, size - 4);
    else
        fuzz_policy(text, size);
    return 0;
}
