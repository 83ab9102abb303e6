/* dnstargets.c: resolves next hops to delivery targets with lib/dns/targets
 * and prints them, for tests/e2e/test_targets.py and for operators who
 * want to see where the SMTP client would connect.
 *
 *   dnstargets [-s IP[@PORT]]... [-t MS] [-i INET_INTERFACES] [-4|-6]
 *              [-P any|ipv4|ipv6] [-l LIMIT] [-n] [-L] [-D ANCHOR_FILE]
 *              QUERY...
 * QUERY is a next hop (smtp syntax, or lmtp syntax with -L), or
 * tlsa:HOST:PORT for the TLSA records of _PORT._tcp.HOST. -i names our
 * own addresses as inet_interfaces does (loop detection; default none),
 * -4/-6 restrict inet_protocols, -P sets smtp_address_preference, -l
 * smtp_mx_address_limit (default 5), -n turns smtp_randomize_addresses
 * off, -D validates DNSSEC with that trust anchor file (as
 * smtp_dns_support_level = dnssec), -C MS cancels the lookups still
 * running MS milliseconds after the start (0: at once, before the loop
 * runs) and prints "cancelled=N"; a cancelled lookup prints
 * "QUERY cancelled". All queries run at once on one event loop. Output,
 * in the order given:
 *   QUERY status=ok|defer|bounce dsn=D from_mx=N mx_secure=N
 *         found_myself=N mx_canonical=NAME reason=TEXT...
 *     PREF HOST ADDR PORT secure=N canonical=NAME  (one line a target)
 * and for tlsa: the dnsq form:
 *   tlsa:HOST:PORT status=found|notfound|tempfail secure=N why=WHY
 *     USAGE SELECTOR MTYPE HEX
 * The last lines are "elapsed_ms=N" and "pending=N". Exit status 0, 1
 * when the client cannot be made, 2 on bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/mem.h"
#include "dns/targets.h"
#include "routing/local_domain.h"

struct job {
    const char *arg;
    int tlsa;
    int done, cancelled;
    struct targets_lookup *lookup;
    struct dns_query *query;
    struct nexthop hop;
    char tlsa_host[DNS_NAME_MAX + 1];
    unsigned tlsa_port;
    struct targets result;
    struct dns_result tlsa_result;
};

static size_t finished;

static void on_targets(struct targets *result, void *ctx)
{
    struct job *job = ctx;
    if (job->cancelled)
        abort(); /* no callback after targets_cancel() */
    targets_move(&job->result, result);
    job->done = 1;
    finished++;
}

static void on_tlsa(struct dns_result *result, void *ctx)
{
    struct job *job = ctx;
    if (job->cancelled)
        abort();
    dns_result_move(&job->tlsa_result, result);
    job->done = 1;
    finished++;
}

static const char *status_name(enum targets_status status)
{
    return status == TARGETS_OK      ? "ok"
           : status == TARGETS_DEFER ? "defer"
                                     : "bounce";
}

static void print_job(const struct job *job)
{
    if (job->cancelled) {
        printf("%s cancelled\n", job->arg);
        return;
    }
    if (job->tlsa) {
        const struct dns_result *r = &job->tlsa_result;
        printf("%s status=%s secure=%d why=%s\n", job->arg,
               dns_status_name(r->status), r->secure, r->why);
        struct buf line = BUF_INIT;
        for (size_t i = 0; i < r->count; i++) {
            dns_record_format(&r->records[i], &line);
            printf("  %s\n", buf_cstr(&line));
        }
        buf_free(&line);
        return;
    }
    const struct targets *t = &job->result;
    printf("%s status=%s dsn=%s from_mx=%d mx_secure=%d found_myself=%d "
           "mx_canonical=%s reason=%s\n",
           job->arg, status_name(t->status), t->dsn, t->from_mx, t->mx_secure,
           t->found_myself, t->mx_canonical, t->reason);
    for (size_t i = 0; i < t->count; i++)
        printf("  %u %s %s %u secure=%d canonical=%s\n", t->list[i].preference,
               t->list[i].host, t->list[i].addr_text, t->list[i].port,
               t->list[i].secure, t->list[i].canonical);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int usage(void)
{
    fprintf(stderr, "usage: dnstargets [-s server] [-t ms] [-i interfaces] "
                    "[-4|-6] [-P pref] [-l limit] [-n] [-L] [-D anchor] "
                    "NEXTHOP|tlsa:HOST:PORT...\n");
    return 2;
}

int main(int argc, char **argv)
{
    struct dns_settings dns;
    dns_settings_init(&dns);
    struct targets_settings settings;
    targets_settings_init(&settings);
    const char *interfaces = "";
    int lmtp = 0, opt;
    long cancel_ms = -1;
    while ((opt = getopt(argc, argv, "s:t:i:46P:l:nLD:C:")) != -1) {
        switch (opt) {
        case 's':
            strlist_add(&dns.servers, optarg);
            break;
        case 't':
            dns.timeout_ms = atol(optarg);
            break;
        case 'i':
            interfaces = optarg;
            break;
        case '4':
            settings.ipv6 = 0;
            break;
        case '6':
            settings.ipv4 = 0;
            break;
        case 'P':
            settings.prefer = strcmp(optarg, "ipv4") == 0 ? TARGETS_PREFER_IPV4
                              : strcmp(optarg, "ipv6") == 0
                                  ? TARGETS_PREFER_IPV6
                                  : TARGETS_PREFER_ANY;
            break;
        case 'l':
            settings.address_limit = (unsigned)atoi(optarg);
            break;
        case 'n':
            settings.randomize = 0;
            break;
        case 'L':
            lmtp = 1;
            settings.lmtp = 1;
            break;
        case 'D':
            settings.dnssec = 1;
            dns.trust_anchor_file = optarg;
            break;
        case 'C':
            cancel_ms = atol(optarg);
            break;
        default:
            return usage();
        }
    }
    size_t count = (size_t)(argc - optind);
    if (count == 0)
        return usage();
    struct buf err = BUF_INIT;
    struct local_domain *own = local_domain_open("", interfaces, "", &err);
    if (own == NULL) {
        fprintf(stderr, "dnstargets: %s\n", buf_cstr(&err));
        return 1;
    }
    settings.is_own_address = local_domain_is_own_address;
    settings.own_ctx = own;
    struct job *jobs = xcalloc(count, sizeof(*jobs));
    for (size_t i = 0; i < count; i++) {
        struct job *job = &jobs[i];
        job->arg = argv[optind + (int)i];
        dns_result_init(&job->tlsa_result, DNS_TYPE_TLSA);
        targets_init(&job->result);
        if (strncmp(job->arg, "tlsa:", 5) == 0) {
            const char *colon = strrchr(job->arg + 5, ':');
            if (colon == NULL || (size_t)(colon - job->arg - 5) > DNS_NAME_MAX)
                return usage();
            job->tlsa = 1;
            snprintf(job->tlsa_host, sizeof(job->tlsa_host), "%.*s",
                     (int)(colon - job->arg - 5), job->arg + 5);
            job->tlsa_port = (unsigned)atoi(colon + 1);
            continue;
        }
        buf_reset(&err);
        int rc = lmtp ? nexthop_parse_lmtp(job->arg, 24, &job->hop, &err)
                      : nexthop_parse_smtp(job->arg, 25, &job->hop, &err);
        if (rc < 0 || job->hop.kind == NEXTHOP_UNIX) {
            fprintf(stderr, "dnstargets: %s: %s\n", job->arg,
                    rc < 0 ? buf_cstr(&err) : "a unix socket has no targets");
            return 2;
        }
    }
    struct event_loop *loop = event_loop_new();
    buf_reset(&err);
    struct dns_client *client = dns_client_new(loop, &dns, &err);
    if (client == NULL) {
        fprintf(stderr, "dnstargets: %s\n", buf_cstr(&err));
        return 1;
    }
    event_loop_once(loop, 0); /* timeouts count from the loop's clock */
    long long start = now_ms();
    for (size_t i = 0; i < count; i++) {
        if (jobs[i].tlsa)
            jobs[i].query =
                targets_tlsa_start(client, jobs[i].tlsa_host, jobs[i].tlsa_port,
                                   on_tlsa, &jobs[i]);
        else
            jobs[i].lookup = targets_start(client, &settings, &jobs[i].hop,
                                           on_targets, &jobs[i]);
    }
    /* Every query ends by its own timeout at the latest. */
    size_t cancelled = 0;
    while (finished + cancelled < count) {
        if (cancel_ms >= 0 && now_ms() - start >= cancel_ms) {
            for (size_t i = 0; i < count; i++) {
                if (jobs[i].done || jobs[i].cancelled)
                    continue;
                if (jobs[i].tlsa)
                    dns_query_cancel(jobs[i].query);
                else
                    targets_cancel(jobs[i].lookup);
                jobs[i].cancelled = 1;
                cancelled++;
            }
            /* A cancelled lookup's timers and answers must stay silent. */
            event_loop_once(loop, 50);
            break;
        }
        long wait = cancel_ms >= 0 ? 20 : 1000;
        if (event_loop_once(loop, (int)wait) < 0)
            break;
    }
    long long elapsed = now_ms() - start;
    for (size_t i = 0; i < count; i++)
        print_job(&jobs[i]);
    printf("elapsed_ms=%lld\n", elapsed);
    if (cancel_ms >= 0)
        printf("cancelled=%zu\n", cancelled);
    printf("pending=%zu\n", dns_client_pending(client));
    dns_client_free(client);
    event_loop_free(loop);
    for (size_t i = 0; i < count; i++) {
        targets_free(&jobs[i].result);
        dns_result_free(&jobs[i].tlsa_result);
    }
    free(jobs);
    local_domain_free(own);
    dns_settings_free(&dns);
    buf_free(&err);
    return 0;
}
