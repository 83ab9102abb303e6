/* mtastsq.c: asks lib/mtasts for the MTA-STS decision of domains and
 * prints it, for tests/e2e/test_mtasts.py (DNS from dnsmasq and an
 * HTTPS policy server, both on loopback).
 *
 *   mtastsq -c CONFIG_DIR DOMAIN [MX-HOST...]
 * main.cf in CONFIG_DIR gives data_directory, postern_dns_servers and
 * the postern_mta_sts_* parameters. Output:
 *   result=none|testing|enforce source=fetched|cache|none id=ID
 *     mode=MODE max_age=N mx=PATTERN,... why=TEXT
 *   mx HOST verdict=any|verify|skip|testing-ok|testing-mismatch
 * Exit status 0, 1 when the set-up fails, 2 on bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "config/config.h"
#include "mtasts/mtasts.h"
#include "mtasts/mtasts_cmd.h"

static char **mx_hosts;
static int mx_count;

static void on_decision(const struct mtasts_decision *d, void *ctx)
{
    printf("result=%s source=%s id=%s mode=%s max_age=%ld mx=", 
           mtasts_result_name(d->result), d->source, d->id,
           d->result == MTASTS_NO_POLICY && d->id[0] == '\0'
               ? "-"
               : mtasts_mode_name(d->policy.mode),
           d->policy.max_age);
    for (size_t i = 0; i < d->policy.mx_count; i++)
        printf("%s%s", i ? "," : "", d->policy.mx[i]);
    printf(" why=%s\n", d->why);
    for (int i = 0; i < mx_count; i++)
        printf("mx %s verdict=%s\n", mx_hosts[i],
               mtasts_mx_verdict_name(mtasts_check_mx(d, mx_hosts[i])));
}

int main(int argc, char **argv)
{
    const char *config_dir = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "c:")) != -1) {
        if (opt != 'c')
            return 2;
        config_dir = optarg;
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: mtastsq -c DIR DOMAIN [MX...]\n");
        return 2;
    }
    log_set_program("mtastsq");
    log_also_stderr(1);
    struct buf err = BUF_INIT;
    if (config_load(config_resolve_dir(config_dir), &err) != 0) {
        fprintf(stderr, "mtastsq: %s\n", buf_cstr(&err));
        return 1;
    }
    mx_hosts = argv + optind + 1;
    mx_count = argc - optind - 1;
    if (mtasts_cmd_lookup(argv[optind], on_decision, NULL, &err) < 0) {
        fprintf(stderr, "mtastsq: %s\n", buf_cstr(&err));
        return 1;
    }
    buf_free(&err);
    return 0;
}
