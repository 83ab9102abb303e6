/* restriction.c: restriction lists and access results (restriction.h). */
#include "routing/restriction.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "message/address.h"
#include "message/header.h"
#include "base/mem.h"

static const struct {
    const char *name;
    enum restriction_kind kind;
} restriction_names[] = {
    {"permit", RESTR_PERMIT},
    {"reject", RESTR_REJECT},
    {"defer", RESTR_DEFER},
    {"permit_mynetworks", RESTR_PERMIT_MYNETWORKS},
    {"permit_sasl_authenticated", RESTR_PERMIT_SASL_AUTHENTICATED},
    {"reject_unauth_destination", RESTR_REJECT_UNAUTH_DESTINATION},
    {"defer_unauth_destination", RESTR_DEFER_UNAUTH_DESTINATION},
    {"permit_auth_destination", RESTR_PERMIT_AUTH_DESTINATION},
    {"reject_unlisted_recipient", RESTR_REJECT_UNLISTED_RECIPIENT},
    {"check_recipient_maps", RESTR_REJECT_UNLISTED_RECIPIENT},
    {"reject_unlisted_sender", RESTR_REJECT_UNLISTED_SENDER},
    {"reject_unknown_recipient_domain", RESTR_REJECT_UNKNOWN_RECIPIENT_DOMAIN},
    {"reject_unknown_sender_domain", RESTR_REJECT_UNKNOWN_SENDER_DOMAIN},
    {"reject_non_fqdn_sender", RESTR_REJECT_NON_FQDN_SENDER},
    {"reject_non_fqdn_recipient", RESTR_REJECT_NON_FQDN_RECIPIENT},
    {"reject_non_fqdn_helo_hostname", RESTR_REJECT_NON_FQDN_HELO_HOSTNAME},
    {"reject_non_fqdn_hostname", RESTR_REJECT_NON_FQDN_HELO_HOSTNAME},
    {"reject_invalid_helo_hostname", RESTR_REJECT_INVALID_HELO_HOSTNAME},
    {"reject_invalid_hostname", RESTR_REJECT_INVALID_HELO_HOSTNAME},
    {"reject_unknown_helo_hostname", RESTR_REJECT_UNKNOWN_HELO_HOSTNAME},
    {"reject_unknown_hostname", RESTR_REJECT_UNKNOWN_HELO_HOSTNAME},
    {"check_client_access", RESTR_CHECK_CLIENT_ACCESS},
    {"check_helo_access", RESTR_CHECK_HELO_ACCESS},
    {"check_sender_access", RESTR_CHECK_SENDER_ACCESS},
    {"check_recipient_access", RESTR_CHECK_RECIPIENT_ACCESS},
    {"reject_sender_login_mismatch", RESTR_REJECT_SENDER_LOGIN_MISMATCH},
    {"reject_known_sender_login_mismatch",
     RESTR_REJECT_KNOWN_SENDER_LOGIN_MISMATCH},
    {"reject_authenticated_sender_login_mismatch",
     RESTR_REJECT_AUTHENTICATED_SENDER_LOGIN_MISMATCH},
    {"reject_unauthenticated_sender_login_mismatch",
     RESTR_REJECT_UNAUTHENTICATED_SENDER_LOGIN_MISMATCH},
    {"reject_spf_fail", RESTR_REJECT_SPF_FAIL},
    {"reject_spf_softfail", RESTR_REJECT_SPF_SOFTFAIL},
    {"reject_spf_permerror", RESTR_REJECT_SPF_PERMERROR},
    {"defer_spf_temperror", RESTR_DEFER_SPF_TEMPERROR},
    {"reject_spf_helo_fail", RESTR_REJECT_SPF_HELO_FAIL},
};
#define RESTRICTION_NAME_COUNT                                                 \
    (sizeof(restriction_names) / sizeof(restriction_names[0]))

const char *restriction_name(enum restriction_kind kind)
{
    for (size_t i = 0; i < RESTRICTION_NAME_COUNT; i++)
        if (restriction_names[i].kind == kind)
            return restriction_names[i].name;
    return "unknown";
}

static int takes_table(enum restriction_kind kind)
{
    return kind == RESTR_CHECK_CLIENT_ACCESS ||
           kind == RESTR_CHECK_HELO_ACCESS ||
           kind == RESTR_CHECK_SENDER_ACCESS ||
           kind == RESTR_CHECK_RECIPIENT_ACCESS;
}

void restriction_list_free(struct restriction_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i].table);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

int restriction_list_parse(const struct strlist *words,
                           struct restriction_list *out, struct buf *err)
{
    out->items = xcalloc(words->count ? words->count : 1, sizeof(*out->items));
    out->count = 0;
    for (size_t i = 0; i < words->count; i++) {
        const char *word = words->items[i];
        size_t k;
        for (k = 0; k < RESTRICTION_NAME_COUNT; k++)
            if (str_equal_nocase(word, restriction_names[k].name))
                break;
        if (k == RESTRICTION_NAME_COUNT) {
            buf_appendf(err, "unknown restriction \"%.100s\"", word);
            restriction_list_free(out);
            return -1;
        }
        struct restriction *r = &out->items[out->count++];
        r->kind = restriction_names[k].kind;
        r->table = NULL;
        if (takes_table(r->kind)) {
            const char *table =
                i + 1 < words->count ? words->items[i + 1] : NULL;
            const char *colon = table ? strchr(table, ':') : NULL;
            if (!colon || colon == table) {
                buf_appendf(err,
                            "restriction \"%s\" needs a type:table "
                            "argument",
                            restriction_names[k].name);
                restriction_list_free(out);
                return -1;
            }
            r->table = xstrdup(table);
            i++;
        }
    }
    return 0;
}

/* Length of a word at text: letters, digits, '_' (upper-cased compare). */
static int word_is(const char *text, const char *word, const char **rest)
{
    size_t len = strlen(word);
    if (strncasecmp(text, word, len) != 0)
        return 0;
    if (text[len] != '\0' && !isspace((unsigned char)text[len]))
        return 0;
    const char *p = text + len;
    while (isspace((unsigned char)*p))
        p++;
    *rest = p;
    return 1;
}

int access_dsn_prefix(const char *text, const char *classes, size_t *len)
{
    if (!text[0] || !strchr(classes, text[0]) || text[1] != '.')
        return 0;
    const char *p = text + 2;
    for (int part = 0; part < 2; part++) {
        int digits = 0;
        while (isdigit((unsigned char)*p) && digits < 4) {
            p++;
            digits++;
        }
        if (digits < 1 || digits > 3)
            return 0;
        if (part == 0) {
            if (*p != '.')
                return 0;
            p++;
        }
    }
    if (*p != '\0' && *p != ' ' && *p != '\t')
        return 0;
    *len = (size_t)(p - text);
    return 1;
}

static void take_dsn(struct access_result *out, const char *text,
                     const char *classes)
{
    size_t len;
    if (access_dsn_prefix(text, classes, &len) && len < sizeof(out->dsn)) {
        memcpy(out->dsn, text, len);
        out->dsn[len] = '\0';
        text += len;
        while (*text == ' ' || *text == '\t')
            text++;
    }
    out->text = text;
}

void access_parse(const char *value, struct access_result *out)
{
    memset(out, 0, sizeof(*out));
    out->text = value + strlen(value); /* "" inside the value */
    const char *p = value;
    while (isspace((unsigned char)*p))
        p++;
    const char *rest;
    if (*p == '\0') {
        out->action = ACCESS_BAD;
        return;
    }
    /* All digits: OK, as Postfix reads numeric results. */
    size_t digits = strspn(p, "0123456789");
    if (digits > 0 &&
        (p[digits] == '\0' || isspace((unsigned char)p[digits]))) {
        const char *after = p + digits;
        while (isspace((unsigned char)*after))
            after++;
        if (digits == 3 && *after != '\0') {
            if (p[0] != '4' && p[0] != '5') {
                out->action = ACCESS_BAD;
                return;
            }
            out->action = ACCESS_CODE;
            out->code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
            char cls[2] = {p[0], '\0'};
            take_dsn(out, after, cls);
            return;
        }
        if (digits == 3 && (p[0] == '4' || p[0] == '5')) {
            out->action = ACCESS_CODE;
            out->code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
            return;
        }
        out->action = ACCESS_OK;
        return;
    }
    if (word_is(p, "OK", &rest)) {
        out->action = ACCESS_OK;
    } else if (word_is(p, "DUNNO", &rest)) {
        out->action = ACCESS_DUNNO;
    } else if (word_is(p, "REJECT", &rest)) {
        out->action = ACCESS_REJECT;
        take_dsn(out, rest, "5");
    } else if (word_is(p, "DEFER", &rest)) {
        out->action = ACCESS_DEFER;
        take_dsn(out, rest, "4");
    } else if (word_is(p, "HOLD", &rest)) {
        out->action = ACCESS_HOLD;
        out->text = rest;
    } else if (word_is(p, "DISCARD", &rest)) {
        out->action = ACCESS_DISCARD;
        out->text = rest;
    } else if (word_is(p, "WARN", &rest)) {
        out->action = ACCESS_WARN;
        out->text = rest;
    } else if (word_is(p, "INFO", &rest)) {
        out->action = ACCESS_INFO;
        out->text = rest;
    } else if (word_is(p, "PREPEND", &rest)) {
        out->action = ACCESS_PREPEND;
        out->text = rest;
    } else if (word_is(p, "REDIRECT", &rest)) {
        out->action = ACCESS_REDIRECT;
        out->text = rest;
    } else if (word_is(p, "BCC", &rest)) {
        out->action = ACCESS_BCC;
        out->text = rest;
    } else if (word_is(p, "FILTER", &rest)) {
        out->action = ACCESS_FILTER;
        out->text = rest;
    } else if (word_is(p, "DEFER_IF_REJECT", &rest)) {
        /* access(5): defer actions take an enhanced status code too. */
        out->action = ACCESS_DEFER_IF_REJECT;
        take_dsn(out, rest, "4");
    } else if (word_is(p, "DEFER_IF_PERMIT", &rest)) {
        out->action = ACCESS_DEFER_IF_PERMIT;
        take_dsn(out, rest, "4");
    } else if (isalpha((unsigned char)*p)) {
        out->action = ACCESS_RESTRICTIONS;
        out->text = p;
    } else {
        out->action = ACCESS_BAD;
    }
}

int access_prepend_valid(const char *text, struct buf *why)
{
    size_t len = strlen(text);
    const char *reason = NULL;
    if (len == 0 || header_name_length(text, len) == 0)
        reason = "requires header: text";
    else if (len > ACCESS_PREPEND_MAX)
        reason = "header text too long";
    for (size_t i = 0; i < len && !reason; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            reason = "control character in header text";
    }
    if (reason && why)
        buf_set_str(why, reason);
    return reason == NULL;
}

int access_target_parse(const char *text, struct buf *address, struct buf *why)
{
    size_t len = strlen(text);
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    if (len >= 2 && text[0] == '<' && text[len - 1] == '>') {
        text++;
        len -= 2;
    }
    if (memchr(text, '@', len) == NULL) {
        if (why)
            buf_set_str(why, "requires user@domain target");
        return 0;
    }
    struct buf reason = BUF_INIT;
    int ok = address_parse_mailbox(text, len, ADDRESS_FLAG_UTF8, address, NULL,
                                   &reason) == 0;
    if (!ok && why) {
        buf_set_str(why, "invalid user@domain target: ");
        buf_append_str(why, buf_cstr(&reason));
    }
    buf_free(&reason);
    return ok;
}

int access_filter_valid(const char *text, struct buf *why)
{
    const char *colon = strchr(text, ':');
    size_t transport_len = colon ? (size_t)(colon - text) : 0;
    int ok = colon != NULL && transport_len > 0 && transport_len <= 64;
    for (size_t i = 0; ok && i < transport_len; i++)
        ok = isalnum((unsigned char)text[i]) || strchr("._-", text[i]);
    for (const char *p = colon ? colon + 1 : ""; ok && *p; p++)
        ok = (unsigned char)*p > ' ' && *p != 0x7f;
    if (ok && strlen(text) > 255)
        ok = 0;
    if (!ok && why)
        buf_set_str(why, "requires transport:destination");
    return ok;
}

static const struct {
    const char *name;
    enum restriction_client_kind kind;
} client_names[] = {
    {"permit_inet_interfaces", RESTR_CLIENT_INET_INTERFACES},
    {"permit_mynetworks", RESTR_CLIENT_MYNETWORKS},
    {"permit_sasl_authenticated", RESTR_CLIENT_SASL_AUTHENTICATED},
    {"permit_tls_clientcerts", RESTR_CLIENT_TLS_CLIENTCERTS},
    {"permit_tls_all_clientcerts", RESTR_CLIENT_TLS_ALL_CLIENTCERTS},
    {"check_address_map", RESTR_CLIENT_ADDRESS_MAP},
};

static int is_table(const char *word)
{
    const char *colon = strchr(word, ':');
    return colon && colon != word;
}

static void client_add(struct restriction_client_list *out,
                       enum restriction_client_kind kind, const char *table)
{
    out->items = xreallocarray(out->items, out->count + 1, sizeof(*out->items));
    out->items[out->count].kind = kind;
    out->items[out->count].table = table ? xstrdup(table) : NULL;
    out->count++;
}

size_t restriction_client_list_parse(const struct strlist *words,
                                     struct restriction_client_list *out,
                                     struct buf *err)
{
    size_t skipped = 0;
    out->items = NULL;
    out->count = 0;
    for (size_t i = 0; i < words->count; i++) {
        const char *word = words->items[i];
        if (is_table(word)) {
            client_add(out, RESTR_CLIENT_ADDRESS_MAP, word);
            continue;
        }
        size_t k;
        for (k = 0; k < sizeof(client_names) / sizeof(client_names[0]); k++)
            if (str_equal_nocase(word, client_names[k].name))
                break;
        if (k == sizeof(client_names) / sizeof(client_names[0])) {
            buf_appendf(err, "%sunknown entry \"%.100s\" ignored",
                        err->len ? "; " : "", word);
            skipped++;
            continue;
        }
        if (client_names[k].kind == RESTR_CLIENT_ADDRESS_MAP) {
            const char *table = i + 1 < words->count ? words->items[i + 1] : "";
            if (!is_table(table)) {
                buf_appendf(err,
                            "%scheck_address_map needs a type:table argument;"
                            " ignored",
                            err->len ? "; " : "");
                skipped++;
                continue;
            }
            client_add(out, RESTR_CLIENT_ADDRESS_MAP, table);
            i++;
            continue;
        }
        client_add(out, client_names[k].kind, NULL);
    }
    return skipped;
}

void restriction_client_list_free(struct restriction_client_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i].table);
    free(list->items);
    list->items = NULL;
    list->count = 0;
}
