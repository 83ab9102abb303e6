/* mtasts_cmd.c: `postern mta-sts` and its one-shot lookup
 * (mtasts_cmd.h). The output is one "key: value" line per fact, for
 * people and for grep:
 *
 *   domain: example.com
 *   result: enforce
 *   source: fetched
 *   id: 20240101T000000
 *   mode: enforce
 *   max_age: 604800
 *   mx: mx1.example.com
 *   mx: *.example.net
 *   why: fetched policy id 20240101T000000
 *   mx-host: mx1.example.com verify
 */
#include "mtasts/mtasts_cmd.h"

#include <stdio.h>
#include <string.h>

#include "base/event.h"
#include "base/log.h"
#include "config/config.h"
#include "dns/dns.h"
#include "mtasts/mtasts_policy.h"

struct lookup_wait {
    int finished;
    void (*fn)(const struct mtasts_decision *decision, void *ctx);
    void *ctx;
};

static void on_decision(const struct mtasts_decision *decision, void *ctx)
{
    struct lookup_wait *w = ctx;
    w->fn(decision, w->ctx);
    w->finished = 1;
}

int mtasts_cmd_lookup(const char *domain,
                      void (*fn)(const struct mtasts_decision *decision,
                                 void *ctx),
                      void *ctx, struct buf *err)
{
    struct event_loop *loop = event_loop_new();
    struct dns_settings dns_settings;
    dns_settings_init(&dns_settings);
    dns_settings_from_config(&dns_settings);
    struct dns_client *dns = dns_client_new(loop, &dns_settings, err);
    dns_settings_free(&dns_settings);
    if (dns == NULL) {
        event_loop_free(loop);
        return -1;
    }
    struct mtasts_settings settings;
    mtasts_settings_init(&settings);
    mtasts_settings_from_config(&settings);
    /* The lookup bounds itself (its DNS queries, then the fetch); the
     * rounds only guard against one that never reports. */
    long rounds = (2 * cfg_time("postern_dns_timeout") +
                   settings.fetch_timeout_s + 5) * 10;
    struct mtasts_client *sts = mtasts_client_new(loop, dns, &settings);
    mtasts_settings_free(&settings);
    struct lookup_wait w = {0, fn, ctx};
    mtasts_lookup_start(sts, domain, on_decision, &w);
    for (long round = 0; round < rounds && !w.finished; round++)
        event_loop_once(loop, 100);
    int rc = 0;
    if (!w.finished) {
        buf_appendf(err, "MTA-STS policy lookup for %s did not finish in time",
                    domain);
        rc = -1;
    }
    mtasts_client_free(sts);
    dns_client_free(dns);
    event_loop_free(loop);
    return rc;
}

struct show {
    char **mx_hosts;
    int mx_count;
};

static void show_decision(const struct mtasts_decision *d, void *ctx)
{
    const struct show *s = ctx;
    printf("domain: %s\n", d->domain);
    printf("result: %s\n", mtasts_result_name(d->result));
    printf("source: %s\n", d->source);
    if (d->id[0])
        printf("id: %s\n", d->id);
    if (d->result != MTASTS_NO_POLICY) {
        printf("mode: %s\n", mtasts_mode_name(d->policy.mode));
        printf("max_age: %ld\n", d->policy.max_age);
        for (size_t i = 0; i < d->policy.mx_count; i++)
            printf("mx: %s\n", d->policy.mx[i]);
    }
    if (d->why[0])
        printf("why: %s\n", d->why);
    for (int i = 0; i < s->mx_count; i++)
        printf("mx-host: %s %s\n", s->mx_hosts[i],
               mtasts_mx_verdict_name(mtasts_check_mx(d, s->mx_hosts[i])));
}

int mtasts_cmd_run(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-' || argv[1][0] == '\0') {
        fprintf(stderr, "usage: postern [-c config_dir] mta-sts DOMAIN "
                        "[MX-HOST...]\n");
        return 2;
    }
    if (!cfg_bool("postern_mta_sts_enable"))
        log_warn("postern_mta_sts_enable = no: the smtp client applies no "
                 "MTA-STS policy; showing what it would find");
    struct show s = {argv + 2, argc - 2};
    struct buf err = BUF_INIT;
    int rc = mtasts_cmd_lookup(argv[1], show_decision, &s, &err);
    if (rc < 0)
        log_error("%s", buf_cstr(&err));
    buf_free(&err);
    fflush(stdout);
    return rc < 0 ? 1 : 0;
}
