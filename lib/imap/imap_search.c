/* imap_search.c: SEARCH criteria (see imap_search.h): a recursive
 * descent over the token tree, bounded in depth and key count. */
#include "imap/imap_search.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "base/utf8.h"
#include "imap/imap_flags.h"

struct search_parse {
    struct imap_search *search;
    const char *error;
};

enum arg_kind { ARG_NONE, ARG_STRING, ARG_KEYWORD, ARG_HEADER, ARG_DATE,
                ARG_NUMBER, ARG_NZ_NUMBER, ARG_SET, ARG_NOT, ARG_OR,
                ARG_MODSEQ };

static const struct {
    const char *name;
    enum imap_search_op op;
    enum arg_kind kind;
} search_keys[] = {
    {"ALL", IMAP_SEARCH_ALL, ARG_NONE},
    {"ANSWERED", IMAP_SEARCH_ANSWERED, ARG_NONE},
    {"DELETED", IMAP_SEARCH_DELETED, ARG_NONE},
    {"DRAFT", IMAP_SEARCH_DRAFT, ARG_NONE},
    {"FLAGGED", IMAP_SEARCH_FLAGGED, ARG_NONE},
    {"NEW", IMAP_SEARCH_NEW, ARG_NONE},
    {"OLD", IMAP_SEARCH_OLD, ARG_NONE},
    {"RECENT", IMAP_SEARCH_RECENT, ARG_NONE},
    {"SEEN", IMAP_SEARCH_SEEN, ARG_NONE},
    {"UNANSWERED", IMAP_SEARCH_UNANSWERED, ARG_NONE},
    {"UNDELETED", IMAP_SEARCH_UNDELETED, ARG_NONE},
    {"UNDRAFT", IMAP_SEARCH_UNDRAFT, ARG_NONE},
    {"UNFLAGGED", IMAP_SEARCH_UNFLAGGED, ARG_NONE},
    {"UNSEEN", IMAP_SEARCH_UNSEEN, ARG_NONE},
    {"KEYWORD", IMAP_SEARCH_KEYWORD, ARG_KEYWORD},
    {"UNKEYWORD", IMAP_SEARCH_UNKEYWORD, ARG_KEYWORD},
    {"BCC", IMAP_SEARCH_BCC, ARG_STRING},
    {"BODY", IMAP_SEARCH_BODY, ARG_STRING},
    {"CC", IMAP_SEARCH_CC, ARG_STRING},
    {"FROM", IMAP_SEARCH_FROM, ARG_STRING},
    {"SUBJECT", IMAP_SEARCH_SUBJECT, ARG_STRING},
    {"TEXT", IMAP_SEARCH_TEXT, ARG_STRING},
    {"TO", IMAP_SEARCH_TO, ARG_STRING},
    {"HEADER", IMAP_SEARCH_HEADER, ARG_HEADER},
    {"BEFORE", IMAP_SEARCH_BEFORE, ARG_DATE},
    {"ON", IMAP_SEARCH_ON, ARG_DATE},
    {"SINCE", IMAP_SEARCH_SINCE, ARG_DATE},
    {"SENTBEFORE", IMAP_SEARCH_SENTBEFORE, ARG_DATE},
    {"SENTON", IMAP_SEARCH_SENTON, ARG_DATE},
    {"SENTSINCE", IMAP_SEARCH_SENTSINCE, ARG_DATE},
    {"LARGER", IMAP_SEARCH_LARGER, ARG_NUMBER},
    {"SMALLER", IMAP_SEARCH_SMALLER, ARG_NUMBER},
    {"OLDER", IMAP_SEARCH_OLDER, ARG_NZ_NUMBER},
    {"YOUNGER", IMAP_SEARCH_YOUNGER, ARG_NZ_NUMBER},
    {"MODSEQ", IMAP_SEARCH_MODSEQ, ARG_MODSEQ},
    {"UID", IMAP_SEARCH_UID, ARG_SET},
    {"NOT", IMAP_SEARCH_NOT, ARG_NOT},
    {"OR", IMAP_SEARCH_OR, ARG_OR},
};

static void key_free(struct imap_search_key *key)
{
    for (size_t i = 0; i < key->child_count; i++)
        key_free(&key->children[i]);
    free(key->children);
    imap_seqset_free(&key->set);
    memset(key, 0, sizeof(*key));
}

void imap_search_init(struct imap_search *search)
{
    memset(search, 0, sizeof(*search));
    search->root.op = IMAP_SEARCH_AND;
}

void imap_search_free(struct imap_search *search)
{
    key_free(&search->root);
    imap_search_init(search);
}

static int fail(struct search_parse *p, const char *error)
{
    if (p->error == NULL)
        p->error = error;
    return -1;
}

/* Adds an empty child to parent and returns it. */
static struct imap_search_key *add_child(struct imap_search_key *parent)
{
    parent->children = xreallocarray(parent->children, parent->child_count + 1,
                                     sizeof(*parent->children));
    struct imap_search_key *child = &parent->children[parent->child_count++];
    memset(child, 0, sizeof(*child));
    return child;
}

static int get_string(struct search_parse *p, const struct imap_arg *arg,
                      const char **str, size_t *len)
{
    if (imap_arg_astring(arg, str, len) != 0)
        return fail(p, "Invalid search string");
    if (!utf8_valid(*str, *len) || memchr(*str, '\0', *len))
        return fail(p, "Invalid UTF-8 in search string");
    return 0;
}

static int parse_key(struct search_parse *p, const struct imap_arg *args,
                     size_t count, size_t *index, unsigned depth,
                     struct imap_search_key *key);

static int need_arg(struct search_parse *p, size_t count, size_t index)
{
    if (index >= count)
        return fail(p, "Missing search key argument");
    return 0;
}

static int parse_modseq(struct search_parse *p, const struct imap_arg *args,
                        size_t count, size_t *index,
                        struct imap_search_key *key)
{
    const struct imap_arg *arg;
    unsigned long long value;
    if (need_arg(p, count, *index) != 0)
        return -1;
    arg = &args[*index];
    if (arg->type == IMAP_ARG_QUOTED || arg->type == IMAP_ARG_LITERAL) {
        unsigned bit;
        if (arg->len <= 7 || strncmp(arg->str, "/flags/", 7) != 0 ||
            imap_flag_classify(arg->str + 7, arg->len - 7, 1, &bit) < 0)
            return fail(p, "Invalid MODSEQ entry name");
        key->entry_flag = arg->str + 7;
        key->entry_flag_len = arg->len - 7;
        (*index)++;
        if (need_arg(p, count, *index) != 0)
            return -1;
        arg = &args[*index];
        if (imap_arg_atom_is(arg, "priv"))
            key->entry_type = IMAP_SEARCH_ENTRY_PRIV;
        else if (imap_arg_atom_is(arg, "shared"))
            key->entry_type = IMAP_SEARCH_ENTRY_SHARED;
        else if (imap_arg_atom_is(arg, "all"))
            key->entry_type = IMAP_SEARCH_ENTRY_ALL;
        else
            return fail(p, "Invalid MODSEQ entry type");
        (*index)++;
        if (need_arg(p, count, *index) != 0)
            return -1;
        arg = &args[*index];
    }
    if (imap_arg_number64(arg, &value) != 0)
        return fail(p, "Invalid MODSEQ value");
    key->number = value;
    (*index)++;
    p->search->uses_modseq = 1;
    return 0;
}

static int parse_set(struct search_parse *p, const struct imap_arg *arg,
                     struct imap_search_key *key)
{
    const char *error;
    if (arg->type != IMAP_ARG_ATOM ||
        imap_seqset_parse(arg->str, arg->len, IMAP_SEQSET_MAX_RANGES,
                          &key->set, &error) != 0)
        return fail(p, arg->type == IMAP_ARG_ATOM ? error
                                                  : "Invalid sequence set");
    if (key->set.searchres)
        p->search->uses_searchres = 1;
    return 0;
}

static int parse_key_args(struct search_parse *p, enum arg_kind kind,
                          const struct imap_arg *args, size_t count,
                          size_t *index, unsigned depth,
                          struct imap_search_key *key)
{
    const struct imap_arg *arg = *index < count ? &args[*index] : NULL;
    unsigned long long value;
    unsigned bit;
    switch (kind) {
    case ARG_NONE:
        return 0;
    case ARG_STRING:
        if (need_arg(p, count, *index) != 0 ||
            get_string(p, arg, &key->str, &key->len) != 0)
            return -1;
        (*index)++;
        return 0;
    case ARG_KEYWORD:
        if (need_arg(p, count, *index) != 0)
            return -1;
        if (arg->type != IMAP_ARG_ATOM ||
            imap_flag_classify(arg->str, arg->len, 1, &bit) != 0)
            return fail(p, "Invalid keyword");
        key->str = arg->str;
        key->len = arg->len;
        (*index)++;
        return 0;
    case ARG_HEADER:
        if (need_arg(p, count, *index + 1) != 0 ||
            get_string(p, arg, &key->field, &key->field_len) != 0 ||
            get_string(p, &args[*index + 1], &key->str, &key->len) != 0)
            return -1;
        if (key->field_len == 0)
            return fail(p, "Invalid header field name");
        for (size_t i = 0; i < key->field_len; i++)
            if ((unsigned char)key->field[i] <= 0x20 ||
                (unsigned char)key->field[i] >= 0x7f || key->field[i] == ':')
                return fail(p, "Invalid header field name");
        *index += 2;
        return 0;
    case ARG_DATE:
        if (need_arg(p, count, *index) != 0)
            return -1;
        if ((arg->type != IMAP_ARG_ATOM && arg->type != IMAP_ARG_QUOTED) ||
            imap_date_parse(arg->str, arg->len, &key->date) != 0)
            return fail(p, "Invalid search date");
        (*index)++;
        return 0;
    case ARG_NUMBER:
    case ARG_NZ_NUMBER:
        if (need_arg(p, count, *index) != 0)
            return -1;
        if (imap_arg_number64(arg, &value) != 0 ||
            (kind == ARG_NZ_NUMBER && value == 0))
            return fail(p, "Invalid search number");
        key->number = value;
        (*index)++;
        return 0;
    case ARG_MODSEQ:
        return parse_modseq(p, args, count, index, key);
    case ARG_SET:
        if (need_arg(p, count, *index) != 0 || parse_set(p, arg, key) != 0)
            return -1;
        (*index)++;
        return 0;
    case ARG_NOT:
        return parse_key(p, args, count, index, depth + 1, add_child(key));
    case ARG_OR:
        if (parse_key(p, args, count, index, depth + 1, add_child(key)) != 0)
            return -1;
        return parse_key(p, args, count, index, depth + 1, add_child(key));
    }
    return fail(p, "Invalid search key");
}

static int parse_key(struct search_parse *p, const struct imap_arg *args,
                     size_t count, size_t *index, unsigned depth,
                     struct imap_search_key *key)
{
    if (*index >= count)
        return fail(p, "Missing search key");
    if (depth > IMAP_SEARCH_DEPTH_MAX)
        return fail(p, "Search criteria nested too deeply");
    if (++p->search->key_count > IMAP_SEARCH_KEYS_MAX)
        return fail(p, "Too many search keys");
    const struct imap_arg *arg = &args[*index];
    if (arg->type == IMAP_ARG_LIST) {
        key->op = IMAP_SEARCH_AND;
        if (arg->count == 0)
            return fail(p, "Empty parenthesized search key");
        for (size_t inner = 0; inner < arg->count;)
            if (parse_key(p, arg->list, arg->count, &inner, depth + 1,
                          add_child(key)) != 0)
                return -1;
        (*index)++;
        return 0;
    }
    if (arg->type != IMAP_ARG_ATOM)
        return fail(p, "Invalid search key");
    if (imap_seqset_looks_like(arg->str, arg->len)) {
        key->op = IMAP_SEARCH_SEQSET;
        if (parse_set(p, arg, key) != 0)
            return -1;
        (*index)++;
        return 0;
    }
    for (size_t i = 0; i < sizeof(search_keys) / sizeof(search_keys[0]); i++)
        if (imap_arg_atom_is(arg, search_keys[i].name)) {
            key->op = search_keys[i].op;
            (*index)++;
            return parse_key_args(p, search_keys[i].kind, args, count, index,
                                  depth, key);
        }
    return fail(p, "Unknown search key");
}

static int parse_return(struct search_parse *p, const struct imap_arg *list)
{
    struct imap_search *search = p->search;
    static const struct {
        const char *name;
        unsigned bit;
    } options[] = {{"MIN", IMAP_SEARCH_RETURN_MIN},
                   {"MAX", IMAP_SEARCH_RETURN_MAX},
                   {"ALL", IMAP_SEARCH_RETURN_ALL},
                   {"COUNT", IMAP_SEARCH_RETURN_COUNT},
                   {"SAVE", IMAP_SEARCH_RETURN_SAVE}};
    if (list->type != IMAP_ARG_LIST)
        return fail(p, "Invalid RETURN options");
    search->has_return = 1;
    for (size_t i = 0; i < list->count; i++) {
        size_t o = 0;
        while (o < sizeof(options) / sizeof(options[0]) &&
               !imap_arg_atom_is(&list->list[i], options[o].name))
            o++;
        if (o == sizeof(options) / sizeof(options[0]))
            return fail(p, "Unknown RETURN option");
        search->return_opts |= options[o].bit;
    }
    if (list->count == 0)
        search->return_opts = IMAP_SEARCH_RETURN_ALL;
    return 0;
}

int imap_search_parse(const struct imap_arg *args, size_t count,
                      unsigned flags, struct imap_search *search,
                      const char **error)
{
    struct search_parse p = {search, NULL};
    size_t index = 0;
    imap_search_free(search);

    if (index < count && imap_arg_atom_is(&args[index], "RETURN")) {
        if (!(flags & IMAP_SEARCH_PARSE_RETURN) || index + 1 >= count) {
            fail(&p, "Invalid RETURN options");
            goto failed;
        }
        if (parse_return(&p, &args[index + 1]) != 0)
            goto failed;
        index += 2;
    }
    if (index < count && imap_arg_atom_is(&args[index], "CHARSET")) {
        const char *charset;
        size_t len;
        if (index + 1 >= count ||
            imap_arg_astring(&args[index + 1], &charset, &len) != 0) {
            fail(&p, "Missing charset");
            goto failed;
        }
        if (!(len == 5 && strncasecmp(charset, "UTF-8", 5) == 0) &&
            !(len == 8 && strncasecmp(charset, "US-ASCII", 8) == 0)) {
            fail(&p, "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
            search->error_no = 1;
            goto failed;
        }
        index += 2;
    }
    if (index >= count) {
        fail(&p, "Missing search criteria");
        goto failed;
    }
    while (index < count)
        if (parse_key(&p, args, count, &index, 1, add_child(&search->root)) != 0)
            goto failed;
    return 0;
failed:
    {
        int error_no = search->error_no;
        imap_search_free(search);
        search->error_no = error_no;
    }
    *error = p.error;
    return -1;
}
