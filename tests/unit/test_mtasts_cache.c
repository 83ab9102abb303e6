/* test_mtasts_cache.c: unit tests for lib/mtasts/mtasts_cache: an entry
 * written and read back, replaced by a newer one, freshness by max_age,
 * a missing or damaged entry as no entry, and domain names that would
 * not be safe file names refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mtasts/mtasts_cache.h"
#include "unit.h"

static const char policy[] =
    "version: STSv1\r\nmode: enforce\r\nmx: *.mx.example\r\nmax_age: 100\r\n";

static void test_roundtrip(void)
{
    char dir[] = "/tmp/pt-mtasts-cache-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct buf err = BUF_INIT;
    struct mtasts_cache_entry e;
    CHECK_INT(mtasts_cache_read(dir, "a.example", &e, &err), 0); /* missing */
    CHECK_INT(mtasts_cache_write(dir, "a.example", "id1", 1000, policy,
                                 strlen(policy), &err),
              0);
    CHECK_INT(mtasts_cache_read(dir, "a.example", &e, &err), 1);
    CHECK_STR(e.id, "id1");
    CHECK_INT((long)e.fetched, 1000);
    CHECK_INT(e.policy.mode, MTASTS_MODE_ENFORCE);
    CHECK_STR(e.policy.mx[0], "*.mx.example");
    CHECK_INT(mtasts_cache_fresh(&e, 1099), 1);
    CHECK_INT(mtasts_cache_fresh(&e, 1100), 0);
    /* Replaced in place. */
    CHECK_INT(mtasts_cache_write(dir, "a.example", "id2", 2000, policy,
                                 strlen(policy), &err),
              0);
    CHECK_INT(mtasts_cache_read(dir, "a.example", &e, &err), 1);
    CHECK_STR(e.id, "id2");
    /* Damaged: no entry. */
    char path[256];
    snprintf(path, sizeof(path), "%s/mta-sts/a.example", dir);
    FILE *f = fopen(path, "w");
    fputs("postern-mta-sts 1\nid: x\nfetched: 5\n\nversion: STSv2\n", f);
    fclose(f);
    CHECK_INT(mtasts_cache_read(dir, "a.example", &e, &err), 0);
    /* Unsafe names. */
    CHECK_INT(mtasts_cache_write(dir, "../evil", "id", 1, policy,
                                 strlen(policy), &err),
              -1);
    CHECK_INT(mtasts_cache_write(dir, "A/b", "id", 1, policy, strlen(policy),
                                 &err),
              -1);
    CHECK_INT(mtasts_cache_read(dir, "..", &e, &err), 0);
    unlink(path);
    snprintf(path, sizeof(path), "%s/mta-sts", dir);
    rmdir(path);
    rmdir(dir);
    buf_free(&err);
}

int main(void)
{
    UNIT_RUN(test_roundtrip);
    return unit_summary();
}
