/* mtasts_policy.c: parsing the MTA-STS policy file and TXT record, and
 * matching MX names against the policy (see mtasts_policy.h).
 *
 * Strict where the RFC's grammar is (version, mode, max_age, mx values,
 * the TXT record's id) and lenient where a sender gains nothing by
 * refusing: unknown keys, blank lines, trailing blanks, CRLF or LF. A
 * policy that does not parse is no policy: the caller falls back to a
 * cached one or to none, never to something half-read. */
#include "mtasts/mtasts_policy.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static int is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* A host name in DNS syntax: labels of letters, digits and hyphens,
 * 1..63 each, not starting or ending with a hyphen; total <= 253. The
 * name is copied in lower case (without one trailing dot) into out. */
static int domain_copy(const char *text, size_t len, char *out, size_t outsize)
{
    if (len > 0 && text[len - 1] == '.')
        len--;
    if (len == 0 || len > 253 || len + 1 > outsize)
        return -1;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '.') {
            if (label == 0 || text[i - 1] == '-')
                return -1;
            label = 0;
        } else if (isalnum((unsigned char)c) || c == '-') {
            if (c == '-' && label == 0)
                return -1;
            if (++label > 63)
                return -1;
        } else {
            return -1;
        }
        out[i] = (char)tolower((unsigned char)c);
    }
    if (label == 0 || text[len - 1] == '-')
        return -1;
    out[len] = '\0';
    return 0;
}

static int parse_max_age(const char *value, size_t len, long *out)
{
    if (len == 0 || len > 10)
        return -1;
    long long seconds = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)value[i]))
            return -1;
        seconds = seconds * 10 + (value[i] - '0');
    }
    if (seconds > MTASTS_MAX_AGE_MAX)
        return -1;
    *out = (long)seconds;
    return 0;
}

static int key_is(const char *key, size_t len, const char *name)
{
    return len == strlen(name) && memcmp(key, name, len) == 0;
}

/* One "key: value" line (no line ending). Returns 0 or -1 with err. */
static int parse_line(const char *line, size_t len, size_t lineno,
                      struct mtasts_policy *out, int *seen_version,
                      int *seen_mode, int *seen_max_age, struct buf *err)
{
    while (len > 0 && is_wsp(line[len - 1]))
        len--;
    if (len == 0)
        return 0;
    const char *colon = memchr(line, ':', len);
    if (colon == NULL || colon == line) {
        buf_appendf(err, "line %zu: not a key: value pair", lineno);
        return -1;
    }
    size_t key_len = (size_t)(colon - line);
    const char *value = colon + 1;
    size_t value_len = len - key_len - 1;
    while (value_len > 0 && is_wsp(*value)) {
        value++;
        value_len--;
    }
    /* Keys are case-sensitive (%s"..." in the RFC's grammar). */
    if (key_is(line, key_len, "version")) {
        if ((*seen_version)++ ||
            !(value_len == 5 && memcmp(value, "STSv1", 5) == 0)) {
            buf_appendf(err, "line %zu: bad or repeated version", lineno);
            return -1;
        }
    } else if (key_is(line, key_len, "mode")) {
        if ((*seen_mode)++) {
            buf_appendf(err, "line %zu: repeated mode", lineno);
            return -1;
        }
        if (key_is(value, value_len, "enforce"))
            out->mode = MTASTS_MODE_ENFORCE;
        else if (key_is(value, value_len, "testing"))
            out->mode = MTASTS_MODE_TESTING;
        else if (key_is(value, value_len, "none"))
            out->mode = MTASTS_MODE_NONE;
        else {
            buf_appendf(err, "line %zu: bad mode", lineno);
            return -1;
        }
    } else if (key_is(line, key_len, "max_age")) {
        if ((*seen_max_age)++ ||
            parse_max_age(value, value_len, &out->max_age) != 0) {
            buf_appendf(err, "line %zu: bad or repeated max_age", lineno);
            return -1;
        }
    } else if (key_is(line, key_len, "mx")) {
        if (out->mx_count == MTASTS_MX_MAX) {
            buf_appendf(err, "line %zu: more than %d mx patterns", lineno,
                        MTASTS_MX_MAX);
            return -1;
        }
        char *slot = out->mx[out->mx_count];
        size_t prefix = 0;
        if (value_len >= 2 && value[0] == '*' && value[1] == '.') {
            memcpy(slot, "*.", 2);
            prefix = 2;
        }
        if (domain_copy(value + prefix, value_len - prefix, slot + prefix,
                        MTASTS_NAME_MAX + 1 - prefix) != 0) {
            buf_appendf(err, "line %zu: bad mx pattern", lineno);
            return -1;
        }
        out->mx_count++;
    }
    /* Any other key: an extension, ignored (RFC 8461 section 3.2). */
    return 0;
}

int mtasts_policy_parse(const char *text, size_t len,
                        struct mtasts_policy *out, struct buf *err)
{
    memset(out, 0, sizeof(*out));
    buf_reset(err);
    if (len > MTASTS_POLICY_MAX) {
        buf_appendf(err, "policy larger than %d bytes", MTASTS_POLICY_MAX);
        return -1;
    }
    if (memchr(text, '\0', len) != NULL) {
        buf_append_str(err, "policy holds a NUL byte");
        return -1;
    }
    int seen_version = 0, seen_mode = 0, seen_max_age = 0;
    size_t pos = 0, lineno = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t line_len = end - pos;
        if (line_len > 0 && text[pos + line_len - 1] == '\r')
            line_len--;
        lineno++;
        if (memchr(text + pos, '\r', line_len) != NULL) {
            buf_appendf(err, "line %zu: stray carriage return", lineno);
            return -1;
        }
        if (parse_line(text + pos, line_len, lineno, out, &seen_version,
                       &seen_mode, &seen_max_age, err) != 0)
            return -1;
        pos = end + 1;
    }
    if (!seen_version || !seen_mode || !seen_max_age) {
        buf_appendf(err, "missing %s",
                    !seen_version ? "version"
                    : !seen_mode  ? "mode"
                                  : "max_age");
        return -1;
    }
    if (out->mode != MTASTS_MODE_NONE && out->mx_count == 0) {
        buf_append_str(err, "no mx pattern");
        return -1;
    }
    return 0;
}

static int is_id_char(char c)
{
    return isalnum((unsigned char)c);
}

static int is_ext_name_char(char c, size_t at)
{
    if (at == 0)
        return isalnum((unsigned char)c);
    return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

static int is_ext_value_char(char c)
{
    unsigned char u = (unsigned char)c;
    return (u >= 0x21 && u <= 0x3a) || u == 0x3c || (u >= 0x3e && u <= 0x7e);
}

int mtasts_txt_parse(const char *text, size_t len, char *id)
{
    static const char version[] = "v=STSv1";
    size_t vlen = sizeof(version) - 1;
    /* "begin with v=STSv1;": the separator may carry blanks before ';'. */
    if (len < vlen || memcmp(text, version, vlen) != 0)
        return 0;
    size_t pos = vlen;
    size_t probe = pos;
    while (probe < len && is_wsp(text[probe]))
        probe++;
    if (probe >= len || text[probe] != ';')
        return 0;
    int have_id = 0;
    /* 1*(sts-sep sts-field) [sts-sep] */
    while (pos < len) {
        while (pos < len && is_wsp(text[pos]))
            pos++;
        if (pos >= len || text[pos] != ';')
            return -1;
        pos++;
        while (pos < len && is_wsp(text[pos]))
            pos++;
        if (pos == len)
            break; /* the optional trailing separator */
        size_t name_start = pos;
        while (pos < len && is_ext_name_char(text[pos], pos - name_start))
            pos++;
        size_t name_len = pos - name_start;
        if (name_len == 0 || name_len > 32 || pos >= len || text[pos] != '=')
            return -1;
        pos++;
        size_t value_start = pos;
        if (name_len == 2 && memcmp(text + name_start, "id", 2) == 0) {
            while (pos < len && is_id_char(text[pos]))
                pos++;
            size_t id_len = pos - value_start;
            if (id_len == 0 || id_len > MTASTS_ID_MAX || have_id)
                return -1;
            memcpy(id, text + value_start, id_len);
            id[id_len] = '\0';
            have_id = 1;
        } else {
            while (pos < len && is_ext_value_char(text[pos]))
                pos++;
            if (pos == value_start)
                return -1;
        }
    }
    return have_id ? 1 : -1;
}

int mtasts_txt_select(const char *const *texts, const size_t *lens,
                      size_t count, char *id)
{
    size_t sts_records = 0;
    int valid = 0;
    char found[MTASTS_ID_MAX + 1];
    for (size_t i = 0; i < count; i++) {
        int r = mtasts_txt_parse(texts[i], lens[i], found);
        if (r == 0)
            continue;
        sts_records++;
        valid = r == 1;
        if (valid)
            memcpy(id, found, sizeof(found));
    }
    return sts_records == 1 && valid;
}

int mtasts_mx_match(const char *pattern, const char *host)
{
    size_t host_len = strlen(host);
    if (host_len > 0 && host[host_len - 1] == '.')
        host_len--;
    if (host_len == 0)
        return 0;
    if (pattern[0] == '*' && pattern[1] == '.') {
        const char *rest = pattern + 1; /* ".example.com" */
        size_t rest_len = strlen(rest);
        if (host_len <= rest_len)
            return 0;
        size_t label_len = host_len - rest_len;
        /* Exactly one leftmost label: no dot in it. */
        if (memchr(host, '.', label_len) != NULL)
            return 0;
        return strncasecmp(host + label_len, rest, rest_len) == 0;
    }
    return strlen(pattern) == host_len &&
           strncasecmp(host, pattern, host_len) == 0;
}

int mtasts_policy_mx_allowed(const struct mtasts_policy *policy,
                             const char *host)
{
    for (size_t i = 0; i < policy->mx_count; i++)
        if (mtasts_mx_match(policy->mx[i], host))
            return 1;
    return 0;
}

const char *mtasts_mode_name(enum mtasts_mode mode)
{
    switch (mode) {
    case MTASTS_MODE_ENFORCE:
        return "enforce";
    case MTASTS_MODE_TESTING:
        return "testing";
    case MTASTS_MODE_NONE:
        break;
    }
    return "none";
}
