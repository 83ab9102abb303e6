/* fuzz_spf_record.c: fuzz target for lib/spf: the SPF record parser, the
 * macro strings and check_host() over them (records come from any
 * domain's DNS).
 *
 * Input: byte 0 picks the mode, the rest is the text.
 *   even: the text is the TXT record of fuzz.example (and of
 *         inc.fuzz.example, which it may include or redirect to); it is
 *         parsed, then evaluated for an IPv4 and an IPv6 client against a
 *         small zone, once with answers at hand and once replayed.
 *   odd:  the text is a macro string, checked and expanded as a
 *         domain-spec and as an explanation.
 * Checks: a refusal says why; the two evaluations agree; an evaluation
 * ends (never pending) within the lookup limits; expansions stay within
 * SPF_MACRO_OUT_MAX. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spf/spf.h"
#include "spf/spf_header.h"
#include "spf/spf_macro.h"
#include "spf/spf_record.h"
#include "spf/spf_zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const zone_lines[] = {
    "fuzz.example\tA\t192.0.2.1",
    "fuzz.example\tAAAA\t2001:db8::1",
    "fuzz.example\tMX\t10 mx.fuzz.example",
    "mx.fuzz.example\tA\t192.0.2.2",
    "1.2.0.192.in-addr.arpa\tPTR\tfuzz.example",
    "exp.fuzz.example\tTXT\t%{s} %{l} %{o} %{d} %{i} %{p} %{v} %{h} %{c} %{r} %{t}",
    "slow.fuzz.example\tTIMEOUT",
};

static void evaluate(const char *text, size_t len, const char *ip, int delay,
                     struct spf_outcome *out)
{
    struct spf_zone *zone = spf_zone_new();
    struct buf err = BUF_INIT, line = BUF_INIT, hex = BUF_INIT;
    for (size_t i = 0; i < sizeof(zone_lines) / sizeof(zone_lines[0]); i++)
        if (spf_zone_add(zone, zone_lines[i], &err) < 0)
            abort();
    for (size_t i = 0; i < len; i++)
        buf_appendf(&hex, "%02x", (unsigned char)text[i]);
    const char *names[] = {"fuzz.example", "inc.fuzz.example"};
    for (int i = 0; i < 2; i++) {
        buf_reset(&line);
        buf_appendf(&line, "%s\tTXTHEX\t%s", names[i], buf_cstr(&hex));
        if (spf_zone_add(zone, buf_cstr(&line), &err) < 0)
            abort();
    }
    spf_zone_set_delay(zone, delay);
    struct spf_request req;
    memset(&req, 0, sizeof(req));
    req.identity = SPF_IDENTITY_MAILFROM;
    if (spf_ip_parse(ip, &req.ip) < 0)
        abort();
    req.sender = "user@fuzz.example";
    req.helo = "helo.fuzz.example";
    req.receiver = "receiver.example";
    struct spf_dns dns;
    spf_zone_dns(zone, &dns);
    int runs = 0;
    while (spf_check(&req, &dns, out))
        if (++runs > 400)
            abort(); /* the replay must end */
    if (out->dns_mechanisms > SPF_DNS_MECHANISMS_MAX + 1 ||
        out->void_lookups > SPF_VOID_LOOKUPS_MAX + 1)
        abort();
    struct buf header = BUF_INIT;
    spf_received_spf(&req, out, &header);
    spf_auth_results(&req, out, &header);
    buf_free(&header);
    buf_free(&err);
    buf_free(&line);
    buf_free(&hex);
    spf_zone_free(zone);
}

static void record_mode(const char *text, size_t len)
{
    struct spf_record rec;
    struct buf err = BUF_INIT;
    if (spf_record_parse(text, len, &rec, &err) < 0 && err.len == 0)
        abort();
    spf_record_free(&rec);
    buf_free(&err);
    const char *ips[] = {"192.0.2.1", "2001:db8::1"};
    for (int i = 0; i < 2; i++) {
        struct spf_outcome now, replayed;
        spf_outcome_init(&now);
        spf_outcome_init(&replayed);
        evaluate(text, len, ips[i], 0, &now);
        evaluate(text, len, ips[i], 1, &replayed);
        if (now.result != replayed.result ||
            strcmp(buf_cstr(&now.mechanism), buf_cstr(&replayed.mechanism)) ||
            strcmp(buf_cstr(&now.explanation), buf_cstr(&replayed.explanation)))
            abort();
        spf_outcome_free(&now);
        spf_outcome_free(&replayed);
    }
}

static void macro_mode(const char *text, size_t len)
{
    struct spf_ip ip;
    spf_ip_parse("2001:db8::1", &ip);
    struct spf_macro_vars vars = {
        .sender = "user@fuzz.example", .local_part = "user",
        .sender_domain = "fuzz.example", .domain = "fuzz.example",
        .ip = &ip, .helo = "helo.fuzz.example", .now = 1,
    };
    for (int where = SPF_MACRO_DOMAIN; where <= SPF_MACRO_EXPLANATION; where++) {
        struct buf err = BUF_INIT, out = BUF_INIT;
        if (spf_macro_check(text, len, where, &err) < 0) {
            if (err.len == 0)
                abort();
        } else if (spf_macro_expand(text, len, where, &vars, &out, &err) < 0 ||
                   out.len > SPF_MACRO_OUT_MAX) {
            abort(); /* what passed the check expands */
        }
        buf_free(&err);
        buf_free(&out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 2048)
        return 0;
    const char *text = (const char *)data + 1;
    if (data[0] & 1)
        macro_mode(text, size - 1);
    else
        record_mode(text, size - 1);
    return 0;
}
