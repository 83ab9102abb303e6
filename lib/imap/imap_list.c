/* imap_list.c: LIST/LSUB arguments, the `*`/`%` matcher and the
 * response lines. See imap_list.h. */
#include "imap/imap_list.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "base/utf8.h"
#include "imap/imap_quote.h"
#include "imap/imap_utf7.h"

static const struct {
    const char *name;
    unsigned bit;
} status_items[] = {
    {"MESSAGES", IMAP_STATUS_MESSAGES},
    {"RECENT", IMAP_STATUS_RECENT},
    {"UIDNEXT", IMAP_STATUS_UIDNEXT},
    {"UIDVALIDITY", IMAP_STATUS_UIDVALIDITY},
    {"UNSEEN", IMAP_STATUS_UNSEEN},
    {"DELETED", IMAP_STATUS_DELETED},
    {"SIZE", IMAP_STATUS_SIZE},
    {"HIGHESTMODSEQ", IMAP_STATUS_HIGHESTMODSEQ},
    {"APPENDLIMIT", IMAP_STATUS_APPENDLIMIT},
};

int imap_status_items_parse(const struct imap_arg *list, unsigned *items,
                            const char **error)
{
    *items = 0;
    if (list->type != IMAP_ARG_LIST) {
        *error = "Status items must be a list";
        return -1;
    }
    if (list->count == 0) {
        *error = "Empty status list";
        return -1;
    }
    for (size_t i = 0; i < list->count; i++) {
        unsigned bit = 0;
        for (size_t k = 0; k < sizeof(status_items) / sizeof(status_items[0]);
             k++)
            if (imap_arg_atom_is(&list->list[i], status_items[k].name))
                bit = status_items[k].bit;
        if (bit == 0) {
            *error = "Invalid status item";
            return -1;
        }
        *items |= bit;
    }
    return 0;
}

const char *imap_status_item_name(unsigned item)
{
    for (size_t k = 0; k < sizeof(status_items) / sizeof(status_items[0]); k++)
        if (status_items[k].bit == item)
            return status_items[k].name;
    return NULL;
}

/* ---- arguments ---- */

/* An astring (or list-mailbox atom) to UTF-8 in out; 0 or -1. */
static int decode_name(const struct imap_arg *arg, int utf8_mode,
                       struct buf *out)
{
    const char *text;
    size_t len;
    buf_reset(out);
    if (imap_arg_astring(arg, &text, &len) != 0)
        return -1;
    if (utf8_mode) {
        if (!utf8_valid(text, len))
            return -1;
        buf_append(out, text, len);
        return 0;
    }
    if (imap_utf7_decode(text, len, out) != 0) {
        /* Not modified UTF-7: kept as sent (it then matches only a name
         * spelled the same). */
        buf_set(out, text, len);
    }
    return 0;
}

/* Upper-cases a leading "inbox" level of a pattern. */
static void pattern_inbox_upper(char *pattern, char sep)
{
    if (strncasecmp(pattern, "INBOX", 5) == 0 &&
        (pattern[5] == '\0' || pattern[5] == sep))
        memcpy(pattern, "INBOX", 5);
}

static int add_pattern(struct imap_list_args *out, const struct imap_arg *arg,
                       char sep, int utf8_mode, const char **error)
{
    struct buf text = BUF_INIT;
    if (decode_name(arg, utf8_mode, &text) < 0) {
        buf_free(&text);
        *error = "Invalid pattern";
        return -1;
    }
    if (out->pattern_count >= IMAP_LIST_PATTERNS_MAX ||
        strlen(out->reference) + text.len > IMAP_LIST_PATTERN_MAX) {
        buf_free(&text);
        *error = "Too many or too long patterns";
        return -1;
    }
    char *full = xasprintf("%s%s", out->reference, text.data);
    buf_free(&text);
    pattern_inbox_upper(full, sep);
    out->patterns = xreallocarray(out->patterns, out->pattern_count + 1,
                                  sizeof(*out->patterns));
    out->patterns[out->pattern_count++] = full;
    return 0;
}

static int parse_select(const struct imap_arg *list, unsigned *select,
                        const char **error)
{
    static const struct {
        const char *name;
        unsigned bit;
    } options[] = {
        {"SUBSCRIBED", IMAP_LIST_SELECT_SUBSCRIBED},
        {"REMOTE", IMAP_LIST_SELECT_REMOTE},
        {"RECURSIVEMATCH", IMAP_LIST_SELECT_RECURSIVEMATCH},
        {"SPECIAL-USE", IMAP_LIST_SELECT_SPECIAL_USE},
    };
    for (size_t i = 0; i < list->count; i++) {
        unsigned bit = 0;
        for (size_t k = 0; k < sizeof(options) / sizeof(options[0]); k++)
            if (imap_arg_atom_is(&list->list[i], options[k].name))
                bit = options[k].bit;
        if (bit == 0) {
            *error = "Unknown select options";
            return -1;
        }
        *select |= bit;
    }
    if ((*select & IMAP_LIST_SELECT_RECURSIVEMATCH) &&
        !(*select & ~(IMAP_LIST_SELECT_RECURSIVEMATCH |
                      IMAP_LIST_SELECT_REMOTE))) {
        *error = "RECURSIVEMATCH must not be the only selection";
        return -1;
    }
    return 0;
}

static int parse_return(const struct imap_arg *list, struct imap_list_args *out,
                        const char **error)
{
    for (size_t i = 0; i < list->count; i++) {
        const struct imap_arg *opt = &list->list[i];
        if (imap_arg_atom_is(opt, "SUBSCRIBED")) {
            out->ret |= IMAP_LIST_RETURN_SUBSCRIBED;
        } else if (imap_arg_atom_is(opt, "CHILDREN")) {
            out->ret |= IMAP_LIST_RETURN_CHILDREN;
        } else if (imap_arg_atom_is(opt, "SPECIAL-USE")) {
            out->ret |= IMAP_LIST_RETURN_SPECIAL_USE;
        } else if (imap_arg_atom_is(opt, "STATUS")) {
            if (i + 1 >= list->count) {
                *error = "STATUS needs its status items";
                return -1;
            }
            /* A later STATUS replaces an earlier one, as in Dovecot. */
            if (imap_status_items_parse(&list->list[++i], &out->status_items,
                                        error) < 0)
                return -1;
            out->ret |= IMAP_LIST_RETURN_STATUS;
        } else {
            *error = "Unknown return options";
            return -1;
        }
    }
    return 0;
}

int imap_list_args_parse(const struct imap_arg *args, size_t count, int lsub,
                         char sep, int utf8_mode, struct imap_list_args *out,
                         const char **error)
{
    size_t i = 0;
    struct buf text = BUF_INIT;

    memset(out, 0, sizeof(*out));
    out->lsub = lsub;
    if (!lsub && i < count && args[i].type == IMAP_ARG_LIST) {
        out->extended = 1;
        if (parse_select(&args[i], &out->select, error) < 0)
            goto fail;
        i++;
    }
    if (count - i < 2) {
        *error = "Missing arguments";
        goto fail;
    }
    if (decode_name(&args[i], utf8_mode, &text) < 0) {
        *error = "Invalid reference";
        goto fail;
    }
    if (text.len > IMAP_LIST_PATTERN_MAX) {
        *error = "Too many or too long patterns";
        goto fail;
    }
    out->reference = buf_detach(&text);
    i++;

    const struct imap_arg *pattern = &args[i++];
    if (pattern->type == IMAP_ARG_LIST) {
        if (lsub) {
            *error = "Invalid pattern";
            goto fail;
        }
        out->extended = 1;
        for (size_t k = 0; k < pattern->count; k++)
            if (add_pattern(out, &pattern->list[k], sep, utf8_mode, error) < 0)
                goto fail;
    } else if (add_pattern(out, pattern, sep, utf8_mode, error) < 0) {
        goto fail;
    }

    if (!lsub && i < count && imap_arg_atom_is(&args[i], "RETURN")) {
        if (i + 1 >= count || args[i + 1].type != IMAP_ARG_LIST) {
            *error = "RETURN needs a list of options";
            goto fail;
        }
        out->extended = 1;
        if (parse_return(&args[i + 1], out, error) < 0)
            goto fail;
        i += 2;
    }
    if (i != count) {
        *error = "Unexpected arguments";
        goto fail;
    }
    /* Implied by the selection (RFC 5258 3.1, RFC 6154 3). */
    if (out->select & IMAP_LIST_SELECT_SUBSCRIBED)
        out->ret |= IMAP_LIST_RETURN_SUBSCRIBED;
    if (out->select & IMAP_LIST_SELECT_SPECIAL_USE)
        out->ret |= IMAP_LIST_RETURN_SPECIAL_USE;
    if (!lsub && !out->extended && pattern->type != IMAP_ARG_LIST) {
        const char *p;
        size_t len;
        if (imap_arg_astring(pattern, &p, &len) == 0 && len == 0)
            out->separator_request = 1;
    }
    return 0;
fail:
    buf_free(&text);
    imap_list_args_free(out);
    return -1;
}

void imap_list_args_free(struct imap_list_args *args)
{
    for (size_t i = 0; i < args->pattern_count; i++)
        free(args->patterns[i]);
    free(args->patterns);
    free(args->reference);
    memset(args, 0, sizeof(*args));
}

/* ---- matching ---- */

/* Adds the positions an empty match of wildcards reaches from each
 * state: `*` and `%` may match nothing. */
static void close_states(const char *pattern, size_t plen, unsigned char *set)
{
    for (size_t i = 0; i < plen; i++)
        if (set[i] && (pattern[i] == '*' || pattern[i] == '%'))
            set[i + 1] = 1;
}

int imap_list_match(const char *pattern, const char *name, char sep)
{
    size_t plen = strlen(pattern);
    size_t nlen = strlen(name);
    /* The leading "INBOX" level of a name compares in any case. */
    size_t fold = strncmp(name, "INBOX", 5) == 0 &&
                          (name[5] == '\0' || name[5] == sep)
                      ? 5
                      : 0;
    unsigned char *cur = xcalloc(plen + 1, 1);
    unsigned char *next = xcalloc(plen + 1, 1);
    int alive = 1;

    cur[0] = 1;
    close_states(pattern, plen, cur);
    for (size_t n = 0; n < nlen && alive; n++) {
        char c = name[n];
        memset(next, 0, plen + 1);
        alive = 0;
        for (size_t i = 0; i < plen; i++) {
            if (!cur[i])
                continue;
            char p = pattern[i];
            if (p == '*' || (p == '%' && c != sep)) {
                next[i] = 1;
                alive = 1;
            } else if (p == c || (n < fold && p != '%' &&
                                  (p | 0x20) == (c | 0x20))) {
                next[i + 1] = 1;
                alive = 1;
            }
        }
        close_states(pattern, plen, next);
        unsigned char *swap = cur;
        cur = next;
        next = swap;
    }
    int matched = alive && cur[plen];
    free(cur);
    free(next);
    return matched;
}

/* ---- responses ---- */

void imap_list_write_mailbox(struct buf *out, const char *name, int utf8_mode)
{
    if (utf8_mode) {
        imap_write_astring(out, name, strlen(name), IMAP_QUOTE_UTF8);
        return;
    }
    struct buf encoded = BUF_INIT;
    if (imap_utf7_encode(name, strlen(name), &encoded) < 0)
        buf_set_str(&encoded, name); /* not UTF-8: sent as it is */
    imap_write_astring(out, encoded.data, encoded.len, 0);
    buf_free(&encoded);
}

void imap_list_write(struct buf *out, int lsub, unsigned attrs, char sep,
                     const char *name, int utf8_mode,
                     int childinfo_subscribed)
{
    static const struct {
        unsigned bit;
        const char *text;
    } names[] = {
        {IMAP_LIST_ATTR_SUBSCRIBED, "\\Subscribed"},
        {IMAP_LIST_ATTR_NOSELECT, "\\Noselect"},
        {IMAP_LIST_ATTR_NONEXISTENT, "\\NonExistent"},
        {IMAP_LIST_ATTR_HASCHILDREN, "\\HasChildren"},
        {IMAP_LIST_ATTR_NOINFERIORS, "\\NoInferiors"},
        {IMAP_LIST_ATTR_HASNOCHILDREN, "\\HasNoChildren"},
        {IMAP_LIST_ATTR_MARKED, "\\Marked"},
        {IMAP_LIST_ATTR_UNMARKED, "\\UnMarked"},
        {IMAP_LIST_ATTR_ALL, "\\All"},
        {IMAP_LIST_ATTR_ARCHIVE, "\\Archive"},
        {IMAP_LIST_ATTR_DRAFTS, "\\Drafts"},
        {IMAP_LIST_ATTR_FLAGGED, "\\Flagged"},
        {IMAP_LIST_ATTR_JUNK, "\\Junk"},
        {IMAP_LIST_ATTR_SENT, "\\Sent"},
        {IMAP_LIST_ATTR_TRASH, "\\Trash"},
    };
    /* One children attribute at most: \HasChildren wins. */
    if (attrs & IMAP_LIST_ATTR_HASCHILDREN)
        attrs &= ~(unsigned)(IMAP_LIST_ATTR_NOINFERIORS |
                             IMAP_LIST_ATTR_HASNOCHILDREN);
    else if (attrs & IMAP_LIST_ATTR_NOINFERIORS)
        attrs &= ~(unsigned)IMAP_LIST_ATTR_HASNOCHILDREN;

    buf_append_str(out, lsub ? "* LSUB (" : "* LIST (");
    int first = 1;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!(attrs & names[i].bit))
            continue;
        if (!first)
            buf_append_char(out, ' ');
        buf_append_str(out, names[i].text);
        first = 0;
    }
    buf_append_str(out, ") \"");
    if (sep == '"' || sep == '\\')
        buf_append_char(out, '\\');
    buf_append_char(out, sep);
    buf_append_str(out, "\" ");
    imap_list_write_mailbox(out, name, utf8_mode);
    if (childinfo_subscribed)
        buf_append_str(out, " (CHILDINFO (\"SUBSCRIBED\"))");
    buf_append_str(out, "\r\n");
}
