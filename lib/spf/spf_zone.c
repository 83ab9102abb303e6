/* spf_zone.c: an SPF resolver answered from zone data; see spf_zone.h. */
#include "spf/spf_zone.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/str.h"

#define ZONE_TYPE_CNAME 5
#define ZONE_TYPE_TIMEOUT (-1)
#define ZONE_CNAME_LINKS_MAX 8

struct zone_entry {
    char *name; /* lower case, no trailing dot */
    int type;
    struct dns_record rec; /* TXT data on the heap; CNAME in u.ptr */
};

struct zone_asked {
    char *name;
    int type;
};

struct spf_zone {
    struct zone_entry *entries;
    size_t entry_count;
    struct dns_result **answers; /* handed out, freed with the zone */
    size_t answer_count;
    struct zone_asked *asked;   /* delay: the queries already started */
    size_t asked_count;
    int delay;
    unsigned queries;
};

struct spf_zone *spf_zone_new(void)
{
    return xcalloc(1, sizeof(struct spf_zone));
}

void spf_zone_clear(struct spf_zone *zone)
{
    for (size_t i = 0; i < zone->entry_count; i++) {
        if (zone->entries[i].type == DNS_TYPE_TXT)
            free(zone->entries[i].rec.u.txt.data);
        free(zone->entries[i].name);
    }
    free(zone->entries);
    for (size_t i = 0; i < zone->answer_count; i++) {
        dns_result_free(zone->answers[i]);
        free(zone->answers[i]);
    }
    free(zone->answers);
    for (size_t i = 0; i < zone->asked_count; i++)
        free(zone->asked[i].name);
    free(zone->asked);
    int delay = zone->delay;
    memset(zone, 0, sizeof(*zone));
    zone->delay = delay;
}

void spf_zone_free(struct spf_zone *zone)
{
    if (zone == NULL)
        return;
    spf_zone_clear(zone);
    free(zone);
}

void spf_zone_set_delay(struct spf_zone *zone, int delay)
{
    zone->delay = delay;
}

unsigned spf_zone_queries(const struct spf_zone *zone)
{
    return zone->queries;
}

static char *normal_name(const char *name, size_t len)
{
    if (len > 0 && name[len - 1] == '.')
        len--;
    return str_lower(xstrndup(name, len));
}

static int hex_value(char c)
{
    return isdigit((unsigned char)c) ? c - '0'
           : isxdigit((unsigned char)c) ? tolower((unsigned char)c) - 'a' + 10
                                        : -1;
}

static int parse_value(int type, const char *value, struct dns_record *rec)
{
    memset(rec, 0, sizeof(*rec));
    rec->type = type;
    switch (type) {
    case DNS_TYPE_A:
        return inet_pton(AF_INET, value, rec->u.a) == 1 ? 0 : -1;
    case DNS_TYPE_AAAA:
        return inet_pton(AF_INET6, value, rec->u.aaaa) == 1 ? 0 : -1;
    case DNS_TYPE_PTR:
    case ZONE_TYPE_CNAME: {
        char *name = normal_name(value, strlen(value));
        size_t n = str_copy(rec->u.ptr, name, sizeof(rec->u.ptr));
        free(name);
        return n < sizeof(rec->u.ptr) ? 0 : -1;
    }
    case DNS_TYPE_MX: {
        char *end;
        unsigned long pref = strtoul(value, &end, 10);
        if (end == value || *end != ' ' || pref > 65535)
            return -1;
        rec->u.mx.preference = (unsigned)pref;
        char *name = normal_name(end + 1, strlen(end + 1));
        size_t n = str_copy(rec->u.mx.host, name, sizeof(rec->u.mx.host));
        free(name);
        return n < sizeof(rec->u.mx.host) ? 0 : -1;
    }
    }
    return -1;
}

int spf_zone_add(struct spf_zone *zone, const char *line, struct buf *err)
{
    const char *sp = strchr(line, '\t');
    if (sp == NULL || sp == line) {
        buf_appendf(err, "zone line without a type: %s", line);
        return -1;
    }
    const char *type_start = sp + 1;
    const char *value = strchr(type_start, '\t');
    size_t type_len = value ? (size_t)(value - type_start) : strlen(type_start);
    value = value ? value + 1 : "";
    struct zone_entry entry;
    memset(&entry, 0, sizeof(entry));
#define IS(word) (type_len == strlen(word) && strncmp(type_start, word, type_len) == 0)
    if (IS("TIMEOUT")) {
        entry.type = ZONE_TYPE_TIMEOUT;
    } else if (IS("TXT") || IS("TXTHEX")) {
        entry.type = DNS_TYPE_TXT;
        struct buf data = BUF_INIT;
        if (IS("TXT")) {
            buf_append_str(&data, value);
        } else {
            for (size_t i = 0; value[i] && value[i + 1]; i += 2) {
                int hi = hex_value(value[i]), lo = hex_value(value[i + 1]);
                if (hi < 0 || lo < 0) {
                    buf_free(&data);
                    buf_appendf(err, "bad hex in: %s", line);
                    return -1;
                }
                buf_append_char(&data, (char)(hi * 16 + lo));
            }
        }
        entry.rec.type = DNS_TYPE_TXT;
        entry.rec.u.txt.len = data.len;
        entry.rec.u.txt.data = xmemdup(buf_cstr(&data), data.len + 1);
        buf_free(&data);
    } else {
        entry.type = IS("A")       ? DNS_TYPE_A
                     : IS("AAAA")  ? DNS_TYPE_AAAA
                     : IS("PTR")   ? DNS_TYPE_PTR
                     : IS("MX")    ? DNS_TYPE_MX
                     : IS("CNAME") ? ZONE_TYPE_CNAME
                                   : 0;
        if (entry.type == 0 || parse_value(entry.type, value, &entry.rec) < 0) {
            buf_appendf(err, "bad zone line: %s", line);
            return -1;
        }
    }
#undef IS
    entry.name = normal_name(line, (size_t)(sp - line));
    zone->entries = xreallocarray(zone->entries, zone->entry_count + 1,
                                  sizeof(*zone->entries));
    zone->entries[zone->entry_count++] = entry;
    return 0;
}

/* Whether this query was started before; records it if not. */
static int asked_before(struct spf_zone *zone, const char *name, int type)
{
    for (size_t i = 0; i < zone->asked_count; i++)
        if (zone->asked[i].type == type && strcmp(zone->asked[i].name, name) == 0)
            return 1;
    zone->asked = xreallocarray(zone->asked, zone->asked_count + 1,
                                sizeof(*zone->asked));
    zone->asked[zone->asked_count].name = xstrdup(name);
    zone->asked[zone->asked_count++].type = type;
    return 0;
}

static void answer_for(const struct spf_zone *zone, const char *asked, int type,
                       struct dns_result *res)
{
    char name[DNS_NAME_MAX + 2];
    str_copy(name, asked, sizeof(name));
    for (int links = 0;; links++) {
        int known = 0, timeout = 0, has_type = 0;
        const char *cname = NULL;
        for (size_t i = 0; i < zone->entry_count; i++) {
            const struct zone_entry *e = &zone->entries[i];
            if (strcmp(e->name, name) != 0)
                continue;
            known = 1;
            if (e->type == ZONE_TYPE_TIMEOUT)
                timeout = 1;
            if (e->type == type)
                has_type = 1;
            if (e->type == ZONE_TYPE_CNAME)
                cname = e->rec.u.ptr;
        }
        /* as the suite's own driver: records of the asked type answer */
        if (timeout && !has_type) {
            res->status = DNS_TEMPFAIL;
            str_copy(res->why, "timeout", sizeof(res->why));
            return;
        }
        if (cname && type != ZONE_TYPE_CNAME) {
            if (links == ZONE_CNAME_LINKS_MAX) {
                res->status = DNS_TEMPFAIL;
                str_copy(res->why, "CNAME loop", sizeof(res->why));
                return;
            }
            str_copy(name, cname, sizeof(name));
            continue;
        }
        for (size_t i = 0; i < zone->entry_count; i++) {
            const struct zone_entry *e = &zone->entries[i];
            if (strcmp(e->name, name) != 0 || e->type != type)
                continue;
            if (res->count == DNS_RECORDS_MAX) {
                res->dropped++;
                continue;
            }
            res->records = xreallocarray(res->records, res->count + 1,
                                         sizeof(*res->records));
            struct dns_record *rec = &res->records[res->count++];
            *rec = e->rec;
            if (type == DNS_TYPE_TXT)
                rec->u.txt.data = xmemdup(e->rec.u.txt.data, e->rec.u.txt.len + 1);
        }
        res->status = res->count ? DNS_FOUND : DNS_NOTFOUND;
        res->nxdomain = !known;
        return;
    }
}

static int zone_lookup(void *ctx, const char *asked, int type,
                       const struct dns_result **answer)
{
    struct spf_zone *zone = ctx;
    char *name = normal_name(asked, strlen(asked));
    zone->queries++;
    if (zone->delay && !asked_before(zone, name, type)) {
        free(name);
        return SPF_DNS_PENDING;
    }
    zone->answers = xreallocarray(zone->answers, zone->answer_count + 1,
                                  sizeof(*zone->answers));
    struct dns_result *res = xmalloc(sizeof(*res));
    zone->answers[zone->answer_count++] = res;
    dns_result_init(res, type);
    answer_for(zone, name, type, res);
    free(name);
    *answer = res;
    return SPF_DNS_READY;
}

void spf_zone_dns(struct spf_zone *zone, struct spf_dns *dns)
{
    dns->lookup = zone_lookup;
    dns->ctx = zone;
}
