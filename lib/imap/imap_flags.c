/* imap_flags.c: flags, keywords and STORE's arguments (see
 * imap_flags.h). */
#include "imap/imap_flags.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"

static const struct {
    const char *name;
    unsigned bit;
} system_flags[] = {
    {"\\Answered", IMAP_FLAG_ANSWERED}, {"\\Flagged", IMAP_FLAG_FLAGGED},
    {"\\Deleted", IMAP_FLAG_DELETED},   {"\\Seen", IMAP_FLAG_SEEN},
    {"\\Draft", IMAP_FLAG_DRAFT},       {"\\Recent", IMAP_FLAG_RECENT},
};

/* ATOM-CHAR: no atom-specials ( ) { SP CTL % * " \ ] and ASCII only. */
static int is_atom_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !strchr("(){%*\"\\]", c);
}

int imap_flag_classify(const char *text, size_t len, int allow_recent,
                       unsigned *system_flag)
{
    *system_flag = 0;
    if (len == 0)
        return -1;
    if (text[0] == '\\') {
        for (size_t i = 0; i < sizeof(system_flags) / sizeof(system_flags[0]);
             i++)
            if (strlen(system_flags[i].name) == len &&
                strncasecmp(system_flags[i].name, text, len) == 0) {
                if (system_flags[i].bit == IMAP_FLAG_RECENT && !allow_recent)
                    return -1;
                *system_flag = system_flags[i].bit;
                return 1;
            }
        return -1;
    }
    if (len > IMAP_KEYWORD_MAX)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (!is_atom_char((unsigned char)text[i]))
            return -1;
    return 0;
}

const char *imap_flag_name(unsigned system_flag)
{
    for (size_t i = 0; i < sizeof(system_flags) / sizeof(system_flags[0]); i++)
        if (system_flags[i].bit == system_flag)
            return system_flags[i].name;
    return NULL;
}

void imap_flag_list_init(struct imap_flag_list *flags)
{
    memset(flags, 0, sizeof(*flags));
}

void imap_flag_list_free(struct imap_flag_list *flags)
{
    free(flags->keywords);
    memset(flags, 0, sizeof(*flags));
}

int imap_flag_list_add(struct imap_flag_list *flags,
                       const struct imap_arg *args, size_t count,
                       int allow_recent, const char **error)
{
    for (size_t i = 0; i < count; i++) {
        unsigned bit;
        if (args[i].type != IMAP_ARG_ATOM) {
            *error = "Invalid flag";
            return -1;
        }
        int kind = imap_flag_classify(args[i].str, args[i].len, allow_recent,
                                      &bit);
        if (kind < 0) {
            *error = args[i].str[0] == '\\' ? "Invalid system flag"
                                            : "Invalid keyword";
            return -1;
        }
        if (kind == 1) {
            flags->system |= bit;
            continue;
        }
        int duplicate = 0;
        for (size_t k = 0; k < flags->keyword_count && !duplicate; k++)
            duplicate = flags->keywords[k].len == args[i].len &&
                        strncasecmp(flags->keywords[k].name, args[i].str,
                                    args[i].len) == 0;
        if (duplicate)
            continue;
        if (flags->keyword_count == IMAP_KEYWORDS_PER_COMMAND_MAX) {
            *error = "Too many keywords";
            return -1;
        }
        flags->keywords = xreallocarray(flags->keywords,
                                        flags->keyword_count + 1,
                                        sizeof(*flags->keywords));
        flags->keywords[flags->keyword_count].name = args[i].str;
        flags->keywords[flags->keyword_count].len = args[i].len;
        flags->keyword_count++;
    }
    return 0;
}

int imap_flag_list_parse(const struct imap_arg *list, int allow_recent,
                         struct imap_flag_list *flags, const char **error)
{
    if (list->type != IMAP_ARG_LIST) {
        *error = "Flags must be in parentheses";
        return -1;
    }
    return imap_flag_list_add(flags, list->list, list->count, allow_recent,
                              error);
}

void imap_store_init(struct imap_store *store)
{
    memset(store, 0, sizeof(*store));
}

void imap_store_free(struct imap_store *store)
{
    imap_flag_list_free(&store->flags);
    memset(store, 0, sizeof(*store));
}

static int parse_store_modifiers(const struct imap_arg *list,
                                 struct imap_store *store, const char **error)
{
    for (size_t i = 0; i < list->count; i += 2) {
        unsigned long long value;
        if (!imap_arg_atom_is(&list->list[i], "UNCHANGEDSINCE") ||
            i + 1 >= list->count || store->has_unchangedsince) {
            *error = "Invalid STORE modifier";
            return -1;
        }
        /* mod-sequence-valzer: 0 is allowed (RFC 7162 3.1.3). */
        if (imap_arg_number64(&list->list[i + 1], &value) != 0) {
            *error = "Invalid UNCHANGEDSINCE value";
            return -1;
        }
        store->has_unchangedsince = 1;
        store->unchangedsince = value;
    }
    return 0;
}

int imap_store_parse(const struct imap_arg *args, size_t count,
                     struct imap_store *store, const char **error)
{
    size_t i = 0;
    imap_store_free(store);
    if (count > 0 && args[0].type == IMAP_ARG_LIST) {
        if (parse_store_modifiers(&args[0], store, error) != 0)
            goto fail;
        i++;
    }
    if (i >= count || args[i].type != IMAP_ARG_ATOM) {
        *error = "Missing STORE data item";
        goto fail;
    }
    const char *item = args[i].str;
    size_t item_len = args[i].len;
    store->op = IMAP_STORE_REPLACE;
    if (item_len > 0 && (item[0] == '+' || item[0] == '-')) {
        store->op = item[0] == '+' ? IMAP_STORE_ADD : IMAP_STORE_REMOVE;
        item++;
        item_len--;
    }
    if (item_len == 12 && strncasecmp(item, "FLAGS.SILENT", 12) == 0)
        store->silent = 1;
    else if (item_len != 5 || strncasecmp(item, "FLAGS", 5) != 0) {
        *error = "Invalid STORE data item";
        goto fail;
    }
    i++;
    if (i >= count) {
        *error = "Missing flags";
        goto fail;
    }
    if (args[i].type == IMAP_ARG_LIST) {
        if (i + 1 != count) {
            *error = "Unexpected arguments after the flag list";
            goto fail;
        }
        if (imap_flag_list_add(&store->flags, args[i].list, args[i].count, 0,
                               error) != 0)
            goto fail;
    } else if (imap_flag_list_add(&store->flags, args + i, count - i, 0,
                                  error) != 0) {
        goto fail;
    }
    return 0;
fail:
    imap_store_free(store);
    return -1;
}
