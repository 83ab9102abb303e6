/* spf.c: check_host() of RFC 7208; see spf.h.
 *
 * The evaluation walks the record's directives in order; each DNS
 * mechanism first counts against SPF_DNS_MECHANISMS_MAX, each lookup that
 * finds nothing against SPF_VOID_LOOKUPS_MAX. A missing answer (the
 * resolver says SPF_DNS_PENDING) unwinds the whole evaluation with
 * MATCH_PENDING; "mx" and "ptr" first ask for every name's addresses, so
 * one run starts all the lookups it can. */
#include "spf/spf.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "spf/spf_macro.h"
#include "spf/spf_record.h"

/* Deeper than the lookup limit allows; a guard only. */
#define SPF_DEPTH_MAX 16

enum match {
    MATCH_NO,
    MATCH_YES,
    MATCH_ERROR,   /* ev->error holds temperror or permerror */
    MATCH_PENDING, /* an answer is missing */
};

struct eval {
    const struct spf_request *req;
    const struct spf_dns *dns;
    struct spf_outcome *out;
    const char *sender, *local_part, *sender_domain;
    enum spf_result error;
    int ptr_done;      /* %{p} resolved (ptr_name, NULL: unknown) */
    char *ptr_name;
};

static const struct dns_result no_such_name = {.status = DNS_NOTFOUND};

static const char *const result_names[] = {
    [SPF_NONE] = "none",         [SPF_NEUTRAL] = "neutral",
    [SPF_PASS] = "pass",         [SPF_FAIL] = "fail",
    [SPF_SOFTFAIL] = "softfail", [SPF_TEMPERROR] = "temperror",
    [SPF_PERMERROR] = "permerror",
};

const char *spf_result_name(enum spf_result result)
{
    return result_names[result];
}

int spf_result_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof(result_names) / sizeof(result_names[0]); i++)
        if (strcasecmp(result_names[i], name) == 0)
            return (int)i;
    return -1;
}

void spf_outcome_init(struct spf_outcome *out)
{
    memset(out, 0, sizeof(*out));
    buf_init(&out->domain);
    buf_init(&out->sender);
    buf_init(&out->mechanism);
    buf_init(&out->explanation);
    buf_init(&out->problem);
}

void spf_outcome_free(struct spf_outcome *out)
{
    buf_free(&out->domain);
    buf_free(&out->sender);
    buf_free(&out->mechanism);
    buf_free(&out->explanation);
    buf_free(&out->problem);
}

/* Ends the evaluation with temperror or permerror; the first problem
 * met is the one reported. */
static enum match fail_with(struct eval *ev, enum spf_result result,
                            const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum match fail_with(struct eval *ev, enum spf_result result,
                            const char *fmt, ...)
{
    ev->error = result;
    if (ev->out->problem.len == 0) {
        va_list ap;
        va_start(ap, fmt);
        buf_vappendf(&ev->out->problem, fmt, ap);
        va_end(ap);
    }
    return MATCH_ERROR;
}

/* RFC 7208 section 4.3: labels of 1 to 63 bytes, at least two of them,
 * at most 253 bytes. */
static int domain_valid(const char *name)
{
    size_t len = strlen(name), label = 0, labels = 0;
    if (len == 0 || len > 253)
        return 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || name[i] == '.') {
            if (label == 0 || label > 63)
                return i == len && label == 0 && labels >= 2 ? 1 : 0;
            labels++;
            label = 0;
        } else {
            label++;
        }
    }
    return labels >= 2;
}

/* Asks the resolver; NULL when the answer is pending. A name that cannot
 * exist is "not found" without a query. */
static const struct dns_result *ask(struct eval *ev, const char *name, int type)
{
    if (!domain_valid(name))
        return &no_such_name;
    char clean[256];
    size_t len = strlen(name);
    if (name[len - 1] == '.')
        len--;
    memcpy(clean, name, len);
    clean[len] = '\0';
    const struct dns_result *answer = NULL;
    if (ev->dns->lookup(ev->dns->ctx, clean, type, &answer) == SPF_DNS_PENDING)
        return NULL;
    return answer ? answer : &no_such_name;
}

static int addr_type(const struct eval *ev)
{
    return ev->req->ip.family == 4 ? DNS_TYPE_A : DNS_TYPE_AAAA;
}

static int record_matches_ip(const struct dns_record *rec,
                             const struct spf_ip *ip, int cidr4, int cidr6)
{
    struct spf_ip addr;
    memset(&addr, 0, sizeof(addr));
    if (rec->type == DNS_TYPE_A) {
        addr.family = 4;
        memcpy(addr.bytes, rec->u.a, 4);
        return spf_ip_match(&addr, ip, cidr4);
    }
    if (rec->type == DNS_TYPE_AAAA) {
        addr.family = 6;
        memcpy(addr.bytes, rec->u.aaaa, 16);
        return spf_ip_match(&addr, ip, cidr6);
    }
    return 0;
}

static int answer_matches_ip(const struct dns_result *answer,
                             const struct spf_ip *ip, int cidr4, int cidr6)
{
    for (size_t i = 0; i < answer->count; i++)
        if (record_matches_ip(&answer->records[i], ip, cidr4, cidr6))
            return 1;
    return 0;
}

static enum match count_void(struct eval *ev, const struct dns_result *answer)
{
    if (answer->status == DNS_NOTFOUND &&
        ++ev->out->void_lookups > SPF_VOID_LOOKUPS_MAX)
        return fail_with(ev, SPF_PERMERROR, "%s",
                         "more than 2 void DNS lookups");
    return MATCH_NO;
}

static enum match count_mechanism(struct eval *ev)
{
    if (++ev->out->dns_mechanisms > SPF_DNS_MECHANISMS_MAX)
        return fail_with(ev, SPF_PERMERROR, "%s",
                         "more than 10 DNS-querying mechanisms");
    return MATCH_NO;
}

/* Whether name is target or below it. */
static int name_within(const char *name, const char *target)
{
    size_t n = strlen(name), t = strlen(target);
    if (t > 0 && target[t - 1] == '.')
        t--;
    if (n > 0 && name[n - 1] == '.')
        n--;
    if (n == t)
        return strncasecmp(name, target, n) == 0;
    return n > t && name[n - t - 1] == '.' &&
           strncasecmp(name + n - t, target, t) == 0;
}

/* The names of the client's PTR records whose addresses include the
 * client (at most SPF_PTR_NAMES_MAX names looked at), handed to visit
 * until it returns non-zero. Returns MATCH_PENDING, or MATCH_NO when all
 * answers were in (a failed PTR lookup validates nothing). */
static enum match validated_names(struct eval *ev, const struct dns_result **ptr,
                                  int (*visit)(const char *name, void *ctx),
                                  void *ctx, int *visited)
{
    struct buf rname = BUF_INIT;
    spf_ip_reverse_name(&ev->req->ip, &rname);
    *ptr = ask(ev, buf_cstr(&rname), DNS_TYPE_PTR);
    buf_free(&rname);
    *visited = 0;
    if (*ptr == NULL)
        return MATCH_PENDING;
    if ((*ptr)->status != DNS_FOUND)
        return MATCH_NO;
    int pending = 0;
    size_t names = (*ptr)->count < SPF_PTR_NAMES_MAX ? (*ptr)->count
                                                      : SPF_PTR_NAMES_MAX;
    for (size_t i = 0; i < names && !*visited; i++) {
        const char *name = (*ptr)->records[i].u.ptr;
        const struct dns_result *addrs = ask(ev, name, addr_type(ev));
        if (addrs == NULL) {
            pending = 1;
            continue;
        }
        if (!pending && addrs->status == DNS_FOUND &&
            answer_matches_ip(addrs, &ev->req->ip, 32, 128))
            *visited = visit(name, ctx);
    }
    return pending ? MATCH_PENDING : MATCH_NO;
}

static int take_first(const char *name, void *ctx)
{
    *(char **)ctx = xstrdup(name);
    return 1;
}

/* %{p}: the first validated name of the client, or "unknown". */
static enum match resolve_ptr_macro(struct eval *ev)
{
    if (ev->ptr_done)
        return MATCH_NO;
    const struct dns_result *ptr;
    int visited;
    if (validated_names(ev, &ptr, take_first, &ev->ptr_name, &visited) ==
        MATCH_PENDING)
        return MATCH_PENDING;
    ev->ptr_done = 1;
    return MATCH_NO;
}

static void macro_vars(const struct eval *ev, const char *domain,
                       struct spf_macro_vars *vars)
{
    memset(vars, 0, sizeof(*vars));
    vars->sender = ev->sender;
    vars->local_part = ev->local_part;
    vars->sender_domain = ev->sender_domain;
    vars->domain = domain;
    vars->ip = &ev->req->ip;
    vars->helo = ev->req->helo ? ev->req->helo : "";
    vars->ptr_name = ev->ptr_name;
    vars->receiver = ev->req->receiver;
    vars->now = ev->req->now;
}

/* Expands a domain-spec (NULL: the current domain) into out, cut to 253
 * bytes from the left (section 4.8). */
static enum match target_name(struct eval *ev, const char *spec,
                              const char *domain, struct buf *out)
{
    buf_reset(out);
    if (spec == NULL) {
        buf_append_str(out, domain);
        return MATCH_NO;
    }
    size_t len = strlen(spec);
    if (spf_macro_uses(spec, len, 'p') && resolve_ptr_macro(ev) == MATCH_PENDING)
        return MATCH_PENDING;
    struct spf_macro_vars vars;
    macro_vars(ev, domain, &vars);
    struct buf err = BUF_INIT;
    int rc = spf_macro_expand(spec, len, SPF_MACRO_DOMAIN, &vars, out, &err);
    if (rc < 0) {
        fail_with(ev, SPF_PERMERROR, "%s", buf_cstr(&err));
        buf_free(&err);
        return MATCH_ERROR;
    }
    buf_free(&err);
    if (out->len > 0 && out->data[out->len - 1] == '.')
        buf_truncate(out, out->len - 1);
    size_t cut = 0;
    while (out->len - cut > 253) {
        const char *dot = memchr(out->data + cut, '.', out->len - cut);
        if (dot == NULL)
            break;
        cut = (size_t)(dot - out->data) + 1;
    }
    buf_consume(out, cut);
    return MATCH_NO;
}

static enum spf_result check_host(struct eval *ev, const char *domain,
                                  int depth, int in_include, int *pending);

static enum match mech_include(struct eval *ev, const char *target, int depth)
{
    int pending = 0;
    enum spf_result inner = check_host(ev, target, depth + 1, 1, &pending);
    if (pending)
        return MATCH_PENDING;
    switch (inner) {
    case SPF_PASS:
        return MATCH_YES;
    case SPF_FAIL:
    case SPF_SOFTFAIL:
    case SPF_NEUTRAL:
        return MATCH_NO;
    case SPF_TEMPERROR:
        ev->error = SPF_TEMPERROR;
        return MATCH_ERROR;
    case SPF_NONE:
        return fail_with(ev, SPF_PERMERROR, "include:%s has no SPF record",
                         target);
    case SPF_PERMERROR:
        break;
    }
    ev->error = SPF_PERMERROR;
    return MATCH_ERROR;
}

static enum match mech_a(struct eval *ev, const char *target,
                         const struct spf_term *t)
{
    const struct dns_result *answer = ask(ev, target, addr_type(ev));
    if (answer == NULL)
        return MATCH_PENDING;
    if (answer->status == DNS_TEMPFAIL)
        return fail_with(ev, SPF_TEMPERROR, "DNS lookup of %s failed", target);
    if (count_void(ev, answer) == MATCH_ERROR)
        return MATCH_ERROR;
    return answer_matches_ip(answer, &ev->req->ip, t->cidr4, t->cidr6)
               ? MATCH_YES
               : MATCH_NO;
}

static enum match mech_mx(struct eval *ev, const char *target,
                          const struct spf_term *t)
{
    const struct dns_result *mx = ask(ev, target, DNS_TYPE_MX);
    if (mx == NULL)
        return MATCH_PENDING;
    if (mx->status == DNS_TEMPFAIL)
        return fail_with(ev, SPF_TEMPERROR, "DNS lookup of %s failed", target);
    if (count_void(ev, mx) == MATCH_ERROR)
        return MATCH_ERROR;
    if (mx->count > SPF_MX_NAMES_MAX)
        return fail_with(ev, SPF_PERMERROR, "more than 10 MX names for %s",
                         target);
    int pending = 0, matched = 0;
    for (size_t i = 0; i < mx->count && !matched; i++) {
        const char *host = mx->records[i].u.mx.host;
        if (host[0] == '\0')
            continue;
        const struct dns_result *addrs = ask(ev, host, addr_type(ev));
        if (addrs == NULL) {
            pending = 1;
            continue;
        }
        if (pending)
            continue;
        if (addrs->status == DNS_TEMPFAIL)
            return fail_with(ev, SPF_TEMPERROR, "DNS lookup of %s failed", host);
        matched = answer_matches_ip(addrs, &ev->req->ip, t->cidr4, t->cidr6);
    }
    return pending ? MATCH_PENDING : matched ? MATCH_YES : MATCH_NO;
}

static int within_target(const char *name, void *ctx)
{
    return name_within(name, ctx);
}

static enum match mech_ptr(struct eval *ev, const char *target)
{
    const struct dns_result *ptr;
    int found;
    if (validated_names(ev, &ptr, within_target, (void *)target, &found) ==
        MATCH_PENDING)
        return MATCH_PENDING;
    if (found)
        return MATCH_YES;
    return count_void(ev, ptr);
}

static enum match mech_exists(struct eval *ev, const char *target)
{
    const struct dns_result *answer = ask(ev, target, DNS_TYPE_A);
    if (answer == NULL)
        return MATCH_PENDING;
    if (answer->status == DNS_TEMPFAIL)
        return fail_with(ev, SPF_TEMPERROR, "DNS lookup of %s failed", target);
    if (answer->status == DNS_FOUND)
        return MATCH_YES;
    return count_void(ev, answer);
}

static enum match evaluate_term(struct eval *ev, const struct spf_term *t,
                                const char *domain, int depth)
{
    switch (t->mechanism) {
    case SPF_MECH_ALL:
        return MATCH_YES;
    case SPF_MECH_IP4:
    case SPF_MECH_IP6:
        return spf_ip_match(&t->ip, &ev->req->ip,
                            t->mechanism == SPF_MECH_IP4 ? t->cidr4 : t->cidr6)
                   ? MATCH_YES
                   : MATCH_NO;
    default:
        break;
    }
    if (count_mechanism(ev) == MATCH_ERROR)
        return MATCH_ERROR;
    struct buf target = BUF_INIT;
    enum match m = target_name(ev, t->domain_spec, domain, &target);
    if (m == MATCH_NO) {
        const char *name = buf_cstr(&target);
        switch (t->mechanism) {
        case SPF_MECH_INCLUDE: m = mech_include(ev, name, depth); break;
        case SPF_MECH_A: m = mech_a(ev, name, t); break;
        case SPF_MECH_MX: m = mech_mx(ev, name, t); break;
        case SPF_MECH_PTR: m = mech_ptr(ev, name); break;
        case SPF_MECH_EXISTS: m = mech_exists(ev, name); break;
        default: break;
        }
    }
    buf_free(&target);
    return m;
}

/* Section 6.2: the explanation of a fail, "" when it cannot be had. */
static enum match explain(struct eval *ev, const struct spf_record *rec,
                          const char *domain)
{
    struct buf target = BUF_INIT;
    enum match m = target_name(ev, rec->exp, domain, &target);
    if (m != MATCH_NO) {
        buf_free(&target);
        /* a bad explanation is no explanation */
        return m == MATCH_PENDING ? m : MATCH_NO;
    }
    const struct dns_result *txt = ask(ev, buf_cstr(&target), DNS_TYPE_TXT);
    buf_free(&target);
    if (txt == NULL)
        return MATCH_PENDING;
    if (txt->status != DNS_FOUND || txt->count != 1)
        return MATCH_NO;
    const char *text = txt->records[0].u.txt.data;
    size_t len = txt->records[0].u.txt.len;
    if (spf_macro_uses(text, len, 'p') && resolve_ptr_macro(ev) == MATCH_PENDING)
        return MATCH_PENDING;
    struct spf_macro_vars vars;
    macro_vars(ev, domain, &vars);
    struct buf expanded = BUF_INIT, err = BUF_INIT;
    if (spf_macro_check(text, len, SPF_MACRO_EXPLANATION, &err) == 0 &&
        spf_macro_expand(text, len, SPF_MACRO_EXPLANATION, &vars, &expanded,
                         &err) == 0)
        buf_set(&ev->out->explanation, expanded.data, expanded.len);
    buf_free(&expanded);
    buf_free(&err);
    return MATCH_NO;
}

/* Fetches and parses the domain's SPF record. Returns MATCH_YES with rec
 * filled, MATCH_NO when there is none, MATCH_ERROR or MATCH_PENDING. */
static enum match fetch_record(struct eval *ev, const char *domain,
                               struct spf_record *rec)
{
    const struct dns_result *txt = ask(ev, domain, DNS_TYPE_TXT);
    if (txt == NULL)
        return MATCH_PENDING;
    if (txt->status == DNS_TEMPFAIL)
        return fail_with(ev, SPF_TEMPERROR, "DNS lookup of %s TXT failed",
                         domain);
    const struct dns_record *found = NULL;
    for (size_t i = 0; i < txt->count; i++) {
        const struct dns_record *r = &txt->records[i];
        if (!spf_record_is_spf(r->u.txt.data, r->u.txt.len))
            continue;
        if (found)
            return fail_with(ev, SPF_PERMERROR,
                             "more than one SPF record for %s", domain);
        found = r;
    }
    if (found == NULL)
        return MATCH_NO;
    struct buf err = BUF_INIT;
    if (spf_record_parse(found->u.txt.data, found->u.txt.len, rec, &err) < 0) {
        struct buf why = BUF_INIT;
        buf_appendf(&why, "SPF record of %s: %s", domain, buf_cstr(&err));
        fail_with(ev, SPF_PERMERROR, "%s", buf_cstr(&why));
        buf_free(&why);
        buf_free(&err);
        return MATCH_ERROR;
    }
    buf_free(&err);
    return MATCH_YES;
}

static enum spf_result qualifier_result(char qualifier)
{
    switch (qualifier) {
    case '-': return SPF_FAIL;
    case '~': return SPF_SOFTFAIL;
    case '?': return SPF_NEUTRAL;
    default: return SPF_PASS;
    }
}

/* check_host() proper. Decisions of levels outside an include set the
 * outcome's mechanism and explanation. */
static enum spf_result check_host(struct eval *ev, const char *domain,
                                  int depth, int in_include, int *pending)
{
    if (!domain_valid(domain) || domain[0] == '[')
        return SPF_NONE;
    if (depth > SPF_DEPTH_MAX) {
        fail_with(ev, SPF_PERMERROR, "%s", "include/redirect nested too deep");
        return SPF_PERMERROR;
    }
    struct spf_record rec;
    memset(&rec, 0, sizeof(rec));
    enum match m = fetch_record(ev, domain, &rec);
    if (m != MATCH_YES) {
        spf_record_free(&rec);
        *pending = m == MATCH_PENDING;
        return m == MATCH_NO ? SPF_NONE : m == MATCH_ERROR ? ev->error
                                                           : SPF_TEMPERROR;
    }
    enum spf_result result = SPF_NEUTRAL;
    const struct spf_term *decided = NULL;
    for (size_t i = 0; i < rec.term_count; i++) {
        m = evaluate_term(ev, &rec.terms[i], domain, depth);
        if (m == MATCH_NO)
            continue;
        if (m == MATCH_YES) {
            decided = &rec.terms[i];
            result = qualifier_result(decided->qualifier);
        }
        break;
    }
    if (m == MATCH_PENDING || m == MATCH_ERROR) {
        spf_record_free(&rec);
        *pending = m == MATCH_PENDING;
        return m == MATCH_PENDING ? SPF_TEMPERROR : ev->error;
    }
    if (decided == NULL && rec.redirect && !rec.has_all) {
        struct buf target = BUF_INIT;
        m = count_mechanism(ev);
        if (m == MATCH_NO)
            m = target_name(ev, rec.redirect, domain, &target);
        if (m == MATCH_NO) {
            result = check_host(ev, buf_cstr(&target), depth + 1, in_include,
                                pending);
            if (result == SPF_NONE && !*pending) {
                fail_with(ev, SPF_PERMERROR, "redirect=%s has no SPF record",
                          buf_cstr(&target));
                result = SPF_PERMERROR;
            }
        } else {
            *pending = m == MATCH_PENDING;
            result = m == MATCH_PENDING ? SPF_TEMPERROR : ev->error;
        }
        buf_free(&target);
        spf_record_free(&rec);
        return result;
    }
    if (!in_include) {
        buf_set_str(&ev->out->mechanism, decided ? decided->text : "default");
        buf_reset(&ev->out->explanation);
        if (result == SPF_FAIL && rec.exp &&
            explain(ev, &rec, domain) == MATCH_PENDING)
            *pending = 1;
    }
    spf_record_free(&rec);
    return result;
}

/* Cuts text to at most max bytes, not inside a UTF-8 character. */
static void cut_text(struct buf *text, size_t max)
{
    if (text->len <= max)
        return;
    size_t len = max;
    while (len > 0 && ((unsigned char)text->data[len] & 0xc0) == 0x80)
        len--;
    buf_truncate(text, len);
}

int spf_check_host(const struct spf_request *req, const char *domain,
                   const char *sender, const struct spf_dns *dns,
                   struct spf_outcome *out)
{
    buf_reset(&out->domain);
    buf_reset(&out->sender);
    buf_reset(&out->mechanism);
    buf_reset(&out->explanation);
    buf_reset(&out->problem);
    out->dns_mechanisms = out->void_lookups = 0;
    buf_set_str(&out->domain, domain);
    const char *at = strrchr(sender, '@');
    if (at == NULL || at == sender)
        buf_appendf(&out->sender, "postmaster%s%s", at ? "" : "@",
                    at ? at : sender);
    else
        buf_set_str(&out->sender, sender);
    char *local = xstrdup(buf_cstr(&out->sender));
    char *local_at = strrchr(local, '@');
    *local_at = '\0';
    struct eval ev = {
        .req = req,
        .dns = dns,
        .out = out,
        .sender = buf_cstr(&out->sender),
        .local_part = local,
        .sender_domain = local_at + 1,
    };
    int pending = 0;
    out->result = check_host(&ev, domain, 0, 0, &pending);
    out->pending = pending;
    if (out->result != SPF_FAIL)
        buf_reset(&out->explanation);
    if (out->result == SPF_NONE || out->result == SPF_TEMPERROR ||
        out->result == SPF_PERMERROR)
        buf_reset(&out->mechanism);
    else
        buf_reset(&out->problem); /* from an explanation that failed */
    cut_text(&out->mechanism, SPF_MECHANISM_TEXT_MAX);
    cut_text(&out->problem, SPF_PROBLEM_TEXT_MAX);
    cut_text(&out->explanation, SPF_EXPLANATION_TEXT_MAX);
    free(ev.ptr_name);
    free(local);
    return pending;
}

int spf_check(const struct spf_request *req, const struct spf_dns *dns,
              struct spf_outcome *out)
{
    const char *helo = req->helo ? req->helo : "";
    struct buf sender = BUF_INIT;
    if (req->identity == SPF_IDENTITY_HELO || req->sender[0] == '\0')
        buf_appendf(&sender, "postmaster@%s", helo);
    else
        buf_set_str(&sender, req->sender);
    const char *at = strrchr(buf_cstr(&sender), '@');
    const char *domain = req->identity == SPF_IDENTITY_HELO ? helo
                         : at                               ? at + 1
                                                            : buf_cstr(&sender);
    char *domain_copy = xstrdup(domain);
    int rc = spf_check_host(req, domain_copy, buf_cstr(&sender), dns, out);
    free(domain_copy);
    buf_free(&sender);
    return rc;
}
