/* mtasts_policy.h: the MTA-STS texts (RFC 8461) as plain data: the
 * policy file served at https://mta-sts.DOMAIN/.well-known/mta-sts.txt
 * (section 3.2), the `_mta-sts.DOMAIN` TXT record (section 3.1), and the
 * match of an MX host name against the policy's `mx:` patterns (section
 * 4.1). Pure functions on untrusted bytes, no I/O; fuzzed by
 * fuzz/fuzz_mtasts_policy.c. See docs/mta-sts.md. */
#ifndef POSTERN_MTASTS_POLICY_H
#define POSTERN_MTASTS_POLICY_H

#include <stddef.h>

#include "base/buf.h"

/* Largest policy file accepted (RFC 8461 section 3.3 suggests 64 KiB). */
#define MTASTS_POLICY_MAX (64 * 1024)
/* Largest max_age (RFC 8461 section 3.2: 31557600 seconds, a year). */
#define MTASTS_MAX_AGE_MAX 31557600L
/* Most mx: patterns kept; a policy with more is refused. */
#define MTASTS_MX_MAX 64
/* Longest pattern: "*." and a 253-character name. */
#define MTASTS_NAME_MAX 255
/* Longest policy id of the TXT record (1*32 letters and digits). */
#define MTASTS_ID_MAX 32

enum mtasts_mode {
    MTASTS_MODE_NONE,    /* the domain withdrew its policy */
    MTASTS_MODE_TESTING, /* report failures, deliver anyway */
    MTASTS_MODE_ENFORCE, /* only matching MX hosts, verified TLS */
};

struct mtasts_policy {
    enum mtasts_mode mode;
    long max_age; /* seconds, 0..MTASTS_MAX_AGE_MAX */
    size_t mx_count;
    /* Lower case, no trailing dot; "*.example.com" for a wildcard. */
    char mx[MTASTS_MX_MAX][MTASTS_NAME_MAX + 1];
};

/* Parses a policy file (CRLF or LF lines). Unknown keys are ignored;
 * version (STSv1), mode and max_age are required exactly once, and at
 * least one mx for testing and enforce. Returns 0, or -1 with a short
 * reason in err ("line 3: bad max_age"). */
int mtasts_policy_parse(const char *text, size_t len,
                        struct mtasts_policy *out, struct buf *err);

/* Checks one TXT record's text. Returns 1 for a valid STSv1 record (id
 * copied to id, which holds MTASTS_ID_MAX + 1), 0 for a record that does
 * not begin with "v=STSv1;" (not ours: skipped), -1 for an STSv1 record
 * that does not parse. */
int mtasts_txt_parse(const char *text, size_t len, char *id);

/* RFC 8461 section 3.1 over every TXT record of _mta-sts.DOMAIN:
 * records not beginning with "v=STSv1;" are dropped; exactly one must
 * remain and parse. Returns 1 with its id, else 0 (no policy). */
int mtasts_txt_select(const char *const *texts, const size_t *lens,
                      size_t count, char *id);

/* 1 when host (an MX name, any case, one trailing dot allowed) matches
 * pattern: equal, or "*.rest" with host one label followed by ".rest". */
int mtasts_mx_match(const char *pattern, const char *host);
/* 1 when host matches one of the policy's mx patterns. */
int mtasts_policy_mx_allowed(const struct mtasts_policy *policy,
                             const char *host);

const char *mtasts_mode_name(enum mtasts_mode mode);

#endif
