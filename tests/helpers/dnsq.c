/* dnsq.c: asks lib/dns/dns questions and prints the answers, for
 * tests/e2e/test_dns.py (which runs a DNS server on loopback).
 *
 *   dnsq [-s IP[@PORT]]... [-t MS] [-S] QUERY...
 * QUERY is TYPE:NAME with TYPE one of A AAAA MX PTR TXT (one query) or
 * mail / host (a domain lookup: MX, A and AAAA in DNS_DOMAIN_MAIL or
 * DNS_DOMAIN_HOST mode). All queries run at once on one event loop; -S
 * runs the single-type ones one after another with dns_lookup_sync
 * instead. -t sets postern_dns_timeout in milliseconds. Output, in the
 * order given, after every answer is in:
 *   TYPE:NAME status=STATUS nxdomain=N nullmx=N malformed=N why=WHY
 *     RECORD            (one line per record, dns_record_format)
 * and for a domain lookup:
 *   mail:NAME status=found|notfound|nullmx|malformed|tempfail why=WHY
 * The last line is "elapsed_ms=N". Exit status 0, or 2 on bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dns/dns.h"
#include "base/mem.h"

struct job {
    const char *arg;
    const char *name;
    int type; /* DNS_TYPE_*, or 0 for a domain lookup */
    int mode; /* domain lookups: DNS_DOMAIN_* */
    int done;
    struct dns_result result;
    enum dns_domain_status domain_status;
    char why[128];
};

static size_t finished;

static void on_answer(struct dns_result *result, void *ctx)
{
    struct job *job = ctx;
    dns_result_move(&job->result, result);
    job->done = 1;
    finished++;
}

static void on_domain(enum dns_domain_status status, const char *why, void *ctx)
{
    struct job *job = ctx;
    job->domain_status = status;
    snprintf(job->why, sizeof(job->why), "%s", why);
    job->done = 1;
    finished++;
}

static void print_job(const struct job *job)
{
    if (job->type == 0) {
        printf("%s status=%s why=%s\n", job->arg,
               dns_domain_status_name(job->domain_status), job->why);
        return;
    }
    const struct dns_result *r = &job->result;
    printf("%s status=%s nxdomain=%d nullmx=%d malformed=%zu why=%s\n",
           job->arg, dns_status_name(r->status), r->nxdomain, r->null_mx,
           r->malformed, r->why);
    struct buf line = BUF_INIT;
    for (size_t i = 0; i < r->count; i++) {
        dns_record_format(&r->records[i], &line);
        printf("  %s\n", buf_cstr(&line));
    }
    buf_free(&line);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    struct dns_settings settings;
    dns_settings_init(&settings);
    int sync = 0, opt;
    while ((opt = getopt(argc, argv, "s:t:S")) != -1) {
        switch (opt) {
        case 's':
            strlist_add(&settings.servers, optarg);
            break;
        case 't':
            settings.timeout_ms = atol(optarg);
            break;
        case 'S':
            sync = 1;
            break;
        default:
            return 2;
        }
    }
    size_t count = (size_t)(argc - optind);
    if (count == 0) {
        fprintf(stderr, "usage: dnsq [-s server] [-t ms] [-S] TYPE:NAME...\n");
        return 2;
    }
    struct job *jobs = xcalloc(count, sizeof(*jobs));
    for (size_t i = 0; i < count; i++) {
        struct job *job = &jobs[i];
        job->arg = argv[optind + (int)i];
        const char *colon = strchr(job->arg, ':');
        if (!colon) {
            fprintf(stderr, "dnsq: want TYPE:NAME, not %s\n", job->arg);
            return 2;
        }
        char type[16];
        snprintf(type, sizeof(type), "%.*s", (int)(colon - job->arg), job->arg);
        job->name = colon + 1;
        if (strcmp(type, "mail") == 0) {
            job->mode = DNS_DOMAIN_MAIL;
        } else if (strcmp(type, "host") == 0) {
            job->mode = DNS_DOMAIN_HOST;
        } else if ((job->type = dns_type_from_name(type)) == 0) {
            fprintf(stderr, "dnsq: unknown type %s\n", type);
            return 2;
        }
        dns_result_init(&job->result, job->type);
    }
    struct event_loop *loop = event_loop_new();
    struct buf err = BUF_INIT;
    struct dns_client *client =
        dns_client_new(sync ? NULL : loop, &settings, &err);
    if (client == NULL) {
        fprintf(stderr, "dnsq: %s\n", buf_cstr(&err));
        return 1;
    }
    /* Refresh the loop's cached clock: timeouts count from it. */
    event_loop_once(loop, 0);
    long long start = now_ms();
    if (sync) {
        for (size_t i = 0; i < count; i++)
            if (jobs[i].type)
                dns_lookup_sync(client, jobs[i].name, jobs[i].type,
                                &jobs[i].result);
    } else {
        for (size_t i = 0; i < count; i++) {
            if (jobs[i].type)
                dns_query_start(client, jobs[i].name, jobs[i].type, on_answer,
                                &jobs[i]);
            else
                dns_domain_start(client, jobs[i].name, jobs[i].mode, on_domain,
                                 &jobs[i]);
        }
        /* Every lookup ends by its own timeout at the latest. */
        while (finished < count)
            if (event_loop_once(loop, 1000) < 0)
                break;
    }
    long long elapsed = now_ms() - start;
    for (size_t i = 0; i < count; i++)
        if (jobs[i].type || !sync)
            print_job(&jobs[i]);
    printf("elapsed_ms=%lld\n", elapsed);
    printf("pending=%zu\n", dns_client_pending(client));
    dns_client_free(client);
    event_loop_free(loop);
    for (size_t i = 0; i < count; i++)
        dns_result_free(&jobs[i].result);
    free(jobs);
    dns_settings_free(&settings);
    buf_free(&err);
    return 0;
}
