/* dict_pcre.c: pcre: tables, PCRE2 (8-bit) patterns in Postfix's
 * pcre_table(5) syntax (parsed by dict_pattern.c). Flags toggle: i
 * case sensitivity (case-insensitive by default), m multi-line, s dot
 * matches newline, x extended, A anchored, E dollar matches only at the
 * very end, U ungreedy; X (PCRE1's "extra") is accepted and ignored, as
 * Postfix does with PCRE2.
 *
 * Matching is bounded (match and depth limits): a pattern that would
 * backtrack without end on some input is a lookup error (defer), never
 * a silent "no match" that could skip a rule. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "tables/dict_pattern.h"
#include "base/mem.h"

#define DICT_PCRE_MATCH_LIMIT 1000000
#define DICT_PCRE_DEPTH_LIMIT 10000

struct dict_pcre {
    pcre2_code *code;
    pcre2_match_data *match_data;
    pcre2_match_context *context;
};

static void dict_pcre_free(void *compiled)
{
    struct dict_pcre *p = compiled;
    pcre2_match_context_free(p->context);
    pcre2_match_data_free(p->match_data);
    pcre2_code_free(p->code);
    free(p);
}

static void *dict_pcre_compile(const char *pattern, const char *flags,
                               int *groups, struct buf *err)
{
    uint32_t options = PCRE2_CASELESS;
    for (const char *f = flags; *f; f++) {
        switch (*f) {
        case 'i': options ^= PCRE2_CASELESS; break;
        case 'm': options ^= PCRE2_MULTILINE; break;
        case 's': options ^= PCRE2_DOTALL; break;
        case 'x': options ^= PCRE2_EXTENDED; break;
        case 'A': options ^= PCRE2_ANCHORED; break;
        case 'E': options ^= PCRE2_DOLLAR_ENDONLY; break;
        case 'U': options ^= PCRE2_UNGREEDY; break;
        default: break; /* 'X': no PCRE2 equivalent */
        }
    }
    int code_error;
    PCRE2_SIZE offset;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                     options, &code_error, &offset, NULL);
    if (code == NULL) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(code_error, message, sizeof(message));
        buf_appendf(err, "%s at offset %zu", (const char *)message,
                    (size_t)offset);
        return NULL;
    }
    uint32_t captures = 0;
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &captures);
    struct dict_pcre *p = xcalloc(1, sizeof(*p));
    p->code = code;
    p->match_data = pcre2_match_data_create_from_pattern(code, NULL);
    p->context = pcre2_match_context_create(NULL);
    if (p->match_data == NULL || p->context == NULL) {
        buf_append_str(err, "out of memory");
        dict_pcre_free(p);
        return NULL;
    }
    pcre2_set_match_limit(p->context, DICT_PCRE_MATCH_LIMIT);
    pcre2_set_depth_limit(p->context, DICT_PCRE_DEPTH_LIMIT);
    *groups = captures > 99 ? 99 : (int)captures;
    return p;
}

static int dict_pcre_match(void *compiled, const char *subject,
                           size_t subject_len, size_t *ovector, int pairs,
                           struct buf *err)
{
    struct dict_pcre *p = compiled;
    int status = pcre2_match(p->code, (PCRE2_SPTR)subject, subject_len, 0, 0,
                             p->match_data, p->context);
    if (status == PCRE2_ERROR_NOMATCH)
        return 0;
    if (status < 0) {
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(status, message, sizeof(message));
        buf_appendf(err, "pcre2_match: %s", (const char *)message);
        return -1;
    }
    PCRE2_SIZE *found = pcre2_get_ovector_pointer(p->match_data);
    uint32_t available = pcre2_get_ovector_count(p->match_data);
    for (int i = 0; i < pairs; i++) {
        if ((uint32_t)i >= available || (int)i >= status ||
            found[2 * i] == PCRE2_UNSET) {
            ovector[2 * i] = ovector[2 * i + 1] = DICT_PATTERN_UNSET;
        } else {
            ovector[2 * i] = found[2 * i];
            ovector[2 * i + 1] = found[2 * i + 1];
        }
    }
    return 1;
}

static const struct dict_pattern_engine dict_pcre_engine = {
    .type = "pcre", .flags = "imsxAEUX",
    .compile = dict_pcre_compile, .match = dict_pcre_match,
    .free = dict_pcre_free,
};

static int dict_pcre_load(struct dict *d, struct buf *err)
{
    return dict_pattern_load(d, &dict_pcre_engine, err);
}

static int dict_pcre_load_text(struct dict *d, const char *text, size_t len,
                               struct buf *err)
{
    return dict_pattern_load_text(d, &dict_pcre_engine, text, len, err);
}

const struct dict_type dict_type_pcre = {
    .name = "pcre", .suffix = "",
    .load = dict_pcre_load, .load_text = dict_pcre_load_text,
    .release = dict_pattern_release, .lookup = dict_pattern_lookup,
};
