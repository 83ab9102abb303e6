/* config_values.c: typed main.cf values (integer, time, size, boolean,
 * list), their bounds, and the whole-file check used by `postern check`
 * and postconf (see config.h). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "config/config_internal.h"
#include "base/log.h"
#include "base/mem.h"

int config_parse_time(const char *text, char default_unit, long *seconds)
{
    const char *p = text;
    if (!isdigit((unsigned char)*p))
        return -1;
    errno = 0;
    char *end;
    long long number = strtoll(p, &end, 10);
    if (errno != 0)
        return -1;
    char unit = *end ? *end : default_unit;
    if (*end && end[1] != 0)
        return -1;
    long long multiplier;
    switch (unit) {
    case 's':
        multiplier = 1;
        break;
    case 'm':
        multiplier = 60;
        break;
    case 'h':
        multiplier = 3600;
        break;
    case 'd':
        multiplier = 86400;
        break;
    case 'w':
        multiplier = 7 * 86400;
        break;
    default:
        return -1;
    }
    /* At most INT_MAX seconds, as Postfix (which refuses the value as a
     * "bad time value"): every daemon may then turn a limit into
     * milliseconds or add it to the clock in 64 bits without overflow
     * (base/timeconv.h). 2147483647s is accepted, 9999999w is not. */
    if (number > INT_MAX / multiplier)
        return -1;
    *seconds = (long)(number * multiplier);
    return 0;
}

int config_parse_bool(const char *text, int *value)
{
    if (strcasecmp(text, "yes") == 0 || strcasecmp(text, "true") == 0) {
        *value = 1;
        return 0;
    }
    if (strcasecmp(text, "no") == 0 || strcasecmp(text, "false") == 0) {
        *value = 0;
        return 0;
    }
    return -1;
}

static int parse_long_long(const char *text, long long *out)
{
    if (*text == 0 || isspace((unsigned char)*text))
        return -1;
    errno = 0;
    char *end;
    long long value = strtoll(text, &end, 10);
    if (errno != 0 || *end != 0)
        return -1;
    *out = value;
    return 0;
}

/* The unit of a bare number: the unit the default is written in. */
static char default_unit(const struct param_def *def)
{
    if (def && def->def && *def->def) {
        char last = def->def[strlen(def->def) - 1];
        if (strchr("smhdw", last) && isdigit((unsigned char)def->def[0]))
            return last;
    }
    return 's';
}

static int check_bounds(const struct param_def *def, long long value,
                        struct buf *err)
{
    if (value < def->min) {
        buf_appendf(err, "parameter %s: value %lld is smaller than %lld",
                    def->name, value, def->min);
        return -1;
    }
    if (def->max != 0 && value > def->max) {
        buf_appendf(err, "parameter %s: value %lld is larger than %lld",
                    def->name, value, def->max);
        return -1;
    }
    return 0;
}

int config_check_value(const struct param_def *def, const char *value,
                       struct buf *err)
{
    long long number;
    long seconds;
    int flag;
    switch (def->type) {
    case PARAM_STR:
    case PARAM_LIST:
        return 0;
    case PARAM_BOOL:
        if (config_parse_bool(value, &flag) != 0) {
            buf_appendf(err, "parameter %s: bad boolean value \"%s\" (use "
                             "yes or no)", def->name, value);
            return -1;
        }
        return 0;
    case PARAM_INT:
    case PARAM_SIZE:
        if (parse_long_long(value, &number) != 0 ||
            (def->type == PARAM_INT && (number > LONG_MAX || number < LONG_MIN))) {
            buf_appendf(err, "parameter %s: bad numerical value \"%s\"",
                        def->name, value);
            return -1;
        }
        return check_bounds(def, number, err);
    case PARAM_TIME:
        if (config_parse_time(value, default_unit(def), &seconds) != 0) {
            buf_appendf(err, "parameter %s: bad time value \"%s\" (a "
                             "number with unit s, m, h, d or w)",
                        def->name, value);
            return -1;
        }
        return check_bounds(def, seconds, err);
    }
    return 0;
}

/* Where a value was set, for error messages. */
static void describe_source(const char *name, struct buf *out)
{
    enum config_source source = config_source_of(name);
    if (source == CONFIG_MAIN_CF)
        buf_appendf(out, "%s, line %d: ",
                    cfg_state.path ? cfg_state.path : "main.cf",
                    config_line(name));
    else if (source == CONFIG_OVERRIDE)
        buf_appendf(out, "-o %s: ", name);
    else
        buf_appendf(out, "default: ");
}

/* The typed getters share this: a value that does not check is fatal,
 * as in Postfix (a daemon must not run with half its configuration). */
static const struct param_def *checked_value(const char *name,
                                             enum param_type type,
                                             const char **value)
{
    const struct param_def *found = param_find(name), *def = found;
    *value = cfg_str(name);
    struct param_def adhoc = {name, type, "", LLONG_MIN, 0, 0, ""};
    if (def == NULL)
        def = &adhoc; /* a per-transport name the table does not list */
    struct buf err = BUF_INIT;
    if (def->type != type)
        log_panic("parameter %s is a %s, read as a %s", name,
                  param_type_name(def->type), param_type_name(type));
    if (config_check_value(def, *value, &err) != 0) {
        struct buf where = BUF_INIT;
        describe_source(name, &where);
        log_fatal("%s%s", buf_cstr(&where), buf_cstr(&err));
    }
    buf_free(&err);
    return found;
}

long cfg_int(const char *name)
{
    const char *value;
    if (param_find(name) == NULL && *cfg_str(name) == 0)
        return 0;
    checked_value(name, PARAM_INT, &value);
    return strtol(value, NULL, 10);
}

long cfg_time(const char *name)
{
    const char *value;
    if (param_find(name) == NULL && *cfg_str(name) == 0)
        return 0;
    const struct param_def *def = checked_value(name, PARAM_TIME, &value);
    long seconds = 0;
    config_parse_time(value, default_unit(def), &seconds);
    return seconds;
}

long long cfg_size(const char *name)
{
    const char *value;
    if (param_find(name) == NULL && *cfg_str(name) == 0)
        return 0;
    checked_value(name, PARAM_SIZE, &value);
    return strtoll(value, NULL, 10);
}

int cfg_bool(const char *name)
{
    const char *value;
    if (param_find(name) == NULL && *cfg_str(name) == 0)
        return 0;
    checked_value(name, PARAM_BOOL, &value);
    int flag = 0;
    config_parse_bool(value, &flag);
    return flag;
}

void cfg_list(const char *name, struct strlist *out)
{
    str_split_list(cfg_str(name), out);
}

const char *config_default(const char *name)
{
    const struct param_def *def = param_find(name);
    if (def == NULL)
        return NULL;
    char **slot = NULL;
    const char *style = "host";
    if (strcmp(name, "mydomain") == 0)
        slot = &cfg_state.computed_mydomain;
    else if (strcmp(name, "mynetworks") == 0)
        slot = &cfg_state.computed_mynetworks;
    if (slot == NULL)
        return param_default(def);
    if (*slot == NULL) {
        struct buf out = BUF_INIT;
        if (slot == &cfg_state.computed_mydomain) {
            config_expand("$myhostname", 1, &out, NULL);
            const char *dot = strchr(buf_cstr(&out), '.');
            *slot = xstrdup(dot && dot[1] ? dot + 1 : "localdomain");
        } else {
            const struct param_def *style_def = param_find("mynetworks_style");
            if (style_def)
                style = style_def->def;
            *slot = config_networks_for_style(style);
        }
        buf_free(&out);
    }
    return *slot;
}

int config_check(struct buf *err)
{
    int problems = 0;
    /* Copy the names first: expanding may add cache slots. */
    struct strlist names;
    strlist_init(&names);
    for (size_t i = 0; i < cfg_state.count; i++)
        if (cfg_state.vars[i].file_value || cfg_state.vars[i].override)
            strlist_add(&names, cfg_state.vars[i].name);
    for (size_t i = 0; i < names.count; i++) {
        const char *name = names.items[i];
        const struct param_def *def = param_find(name);
        struct buf value = BUF_INIT, why = BUF_INIT;
        enum config_source source;
        const char *raw = config_raw(name, &source);
        int failed = config_expand(raw ? raw : "", 0, &value, &why) != 0;
        if (!failed && def && (def->flags & PARAM_F_READONLY)) {
            buf_appendf(&why, "parameter %s is read-only", name);
            failed = 1;
        }
        if (!failed && def)
            failed = config_check_value(def, buf_cstr(&value), &why) != 0;
        if (failed) {
            if (err->len)
                buf_append_char(err, '\n');
            describe_source(name, err);
            if (!str_has_prefix(buf_cstr(&why), "parameter "))
                buf_appendf(err, "parameter %s: ", name);
            buf_append_str(err, buf_cstr(&why));
            problems++;
        }
        buf_free(&value);
        buf_free(&why);
    }
    strlist_free(&names);
    return problems;
}

/* Compares dotted levels numerically ("3.10" > "3.6"). */
int config_compat_level_at_least(const char *level)
{
    const char *have = cfg_str("compatibility_level");
    while (*have || *level) {
        long a = strtol(have, (char **)&have, 10);
        long b = strtol(level, (char **)&level, 10);
        if (a != b)
            return a > b;
        if (*have == '.')
            have++;
        if (*level == '.')
            level++;
        if (!isdigit((unsigned char)*have) && !isdigit((unsigned char)*level))
            break;
    }
    return 1;
}
