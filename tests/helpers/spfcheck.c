/* spfcheck.c: runs SPF checks (lib/spf) against zone data read from
 * standard input, for tests/e2e/test_spf_conformance.py, which feeds it
 * the RFC 7208 and RFC 4408 test suites.
 *
 *   spfcheck [-d]
 * Input lines (fields separated by tabs):
 *   zone<TAB>NAME<TAB>TYPE<TAB>VALUE   a record (lib/spf/spf_zone.h)
 *   clear                              forget the zone
 *   check<TAB>ID<TAB>IP<TAB>SENDER<TAB>HELO   spf_check() for MAIL FROM
 *   helo<TAB>ID<TAB>IP<TAB>SENDER<TAB>HELO    spf_check() for HELO
 * For each check one line: ID<TAB>RESULT<TAB>MECHANISM<TAB>EXPLANATION
 * <TAB>PROBLEM<TAB>RECEIVED-SPF<TAB>AUTH-RESULTS. With -d the zone answers
 * every query first with "pending", as a real resolver does, and the
 * check is run again until it is done (the replay smtpd relies on); the
 * results must not change. Exit status 0, 1 on bad input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"
#include "spf/spf.h"
#include "spf/spf_header.h"
#include "spf/spf_zone.h"

/* More runs than the lookups one check can make. */
#define REPLAY_MAX 500

static void run_check(struct spf_zone *zone, char **fields, int helo)
{
    struct spf_request req;
    memset(&req, 0, sizeof(req));
    req.identity = helo ? SPF_IDENTITY_HELO : SPF_IDENTITY_MAILFROM;
    req.sender = fields[2];
    req.helo = fields[3];
    req.receiver = "receiver.example";
    req.now = 1700000000;
    if (spf_ip_parse(fields[1], &req.ip) < 0) {
        printf("%s\tbad-ip\n", fields[0]);
        return;
    }
    struct spf_dns dns;
    spf_zone_dns(zone, &dns);
    struct spf_outcome out;
    spf_outcome_init(&out);
    int runs = 0;
    while (spf_check(&req, &dns, &out) && ++runs < REPLAY_MAX)
        ;
    struct buf received = BUF_INIT, ar = BUF_INIT;
    spf_received_spf(&req, &out, &received);
    spf_auth_results(&req, &out, &ar);
    printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", fields[0],
           out.pending ? "pending" : spf_result_name(out.result),
           buf_cstr(&out.mechanism), buf_cstr(&out.explanation),
           buf_cstr(&out.problem), buf_cstr(&received), buf_cstr(&ar));
    buf_free(&received);
    buf_free(&ar);
    spf_outcome_free(&out);
}

int main(int argc, char **argv)
{
    int delay = argc > 1 && strcmp(argv[1], "-d") == 0;
    struct spf_zone *zone = spf_zone_new();
    spf_zone_set_delay(zone, delay);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int status = 0;
    struct buf err = BUF_INIT;
    while ((len = getline(&line, &cap, stdin)) > 0) {
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        if (strncmp(line, "zone\t", 5) == 0) {
            if (spf_zone_add(zone, line + 5, &err) < 0) {
                fprintf(stderr, "spfcheck: %s\n", buf_cstr(&err));
                buf_reset(&err);
                status = 1;
            }
        } else if (strcmp(line, "clear") == 0) {
            spf_zone_clear(zone);
        } else if (strncmp(line, "check\t", 6) == 0 ||
                   strncmp(line, "helo\t", 5) == 0) {
            char *fields[5], *rest = strchr(line, '\t') + 1;
            int n = 0;
            for (; n < 5 && rest; n++) {
                fields[n] = rest;
                rest = strchr(rest, '\t');
                if (rest)
                    *rest++ = '\0';
            }
            if (n < 4) {
                fprintf(stderr, "spfcheck: short check line\n");
                status = 1;
                continue;
            }
            run_check(zone, fields, line[0] == 'h');
        } else if (len > 0) {
            fprintf(stderr, "spfcheck: unknown line: %s\n", line);
            status = 1;
        }
        fflush(stdout);
    }
    free(line);
    buf_free(&err);
    spf_zone_free(zone);
    return status;
}
