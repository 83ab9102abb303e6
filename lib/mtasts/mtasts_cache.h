/* mtasts_cache.h: the MTA-STS policy cache, one small file per domain
 * in DIR/mta-sts/ (DIR is data_directory), written to a temporary file,
 * fsynced and renamed into place so a crash leaves the old entry or the
 * new one, never half of one.
 *
 * The file holds the TXT record's id, the fetch time and the policy
 * text exactly as fetched; reading it parses the policy again with the
 * same strict parser, so a damaged file is simply no entry. */
#ifndef POSTERN_MTASTS_CACHE_H
#define POSTERN_MTASTS_CACHE_H

#include <time.h>

#include "base/buf.h"
#include "mtasts/mtasts_policy.h"

struct mtasts_cache_entry {
    char id[MTASTS_ID_MAX + 1];
    time_t fetched;
    struct mtasts_policy policy;
};

/* Reads the entry of domain (lower case host name). Returns 1 with the
 * entry, 0 when there is none (or it does not parse: logged), -1 on an
 * I/O error other than "missing" (err set). Expiry is the caller's. */
int mtasts_cache_read(const char *dir, const char *domain,
                      struct mtasts_cache_entry *out, struct buf *err);

/* Stores policy_text (which must parse) for domain with id and fetched.
 * Creates DIR/mta-sts (mode 0700) when missing. Returns 0 or -1 (err). */
int mtasts_cache_write(const char *dir, const char *domain, const char *id,
                       time_t fetched, const char *policy_text, size_t len,
                       struct buf *err);

/* 1 when the entry is still valid at now (fetched + max_age > now). */
int mtasts_cache_fresh(const struct mtasts_cache_entry *entry, time_t now);

#endif
