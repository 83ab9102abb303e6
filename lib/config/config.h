/* config.h: main.cf, read the way Postfix reads it.
 *
 * Syntax: `name = value` lines; `#` comment lines; a line that starts
 * with whitespace continues the previous one; the last definition of a
 * name wins. Values are stored as written and expanded lazily when they
 * are looked up: `$name`, `${name}` and `$(name)` insert a parameter,
 * `${name?text}` inserts text when $name is not empty, `${name:text}`
 * when it is empty (text may itself be `{text}`, and `${name?{a}:{b}}`
 * picks one of two; the braces are optional for the second), and `$$`
 * is a literal `$`. Postfix 3's relational form `${{a} == {b}?x:y}`
 * compares two expanded values with == != < <= > or >= (as numbers when
 * both are all digits, else as text) and picks like `${name?...}` with
 * "true" for a non-empty name. A name that is neither
 * set nor in the table expands to nothing. Expansion that loops or nests
 * too deep is an error, logged once, never a crash.
 *
 * Precedence of a value: config_override() (`-o name=value` from
 * master.cf or the command line), then main.cf, then the parameter
 * table's default (lib/config/params.c).
 *
 * Typed getters parse the expanded value. A value that does not parse or
 * is out of the table's bounds is fatal in them, as it is in Postfix:
 * `postern check` calls config_check() first, so a bad main.cf stops the
 * suite before any daemon starts.
 *
 * Strings returned by cfg_str() stay valid until the next config_load().
 * The module is not thread-safe (one daemon = one thread). */
#ifndef POSTERN_CONFIG_H
#define POSTERN_CONFIG_H

#include "base/buf.h"
#include "config/params.h"
#include "base/str.h"

/* -c DIR when given, else $MAIL_CONFIG when set and not empty, else the
 * compile-time POSTERN_CONFIG_DIR. */
const char *config_resolve_dir(const char *cli_dir);

/* Reads DIR/main.cf, replacing what an earlier load read (overrides are
 * kept). Returns 0, or -1 with err set to "DIR/main.cf, line N: why"
 * (or "DIR/main.cf: why" when the file cannot be read); on error the
 * previous settings are left in place. With config_set_unused_warnings(1),
 * names set in main.cf that the table does not know, and that no other
 * value (nor a master.cf -o) refers to, get one warning each:
 * "DIR/main.cf: unused parameter: name=value". */
int config_load(const char *config_dir, struct buf *err);

/* The same, parsing text already in memory; `filename` is used in
 * messages only. For tests and fuzzing. */
int config_load_string(const char *text, size_t len, const char *config_dir,
                       const char *filename, struct buf *err);

/* Sets name to value above main.cf (`-o name=value`). */
void config_override(const char *name, const char *value);

/* Parses "name=value" (spaces around '=' allowed) and overrides; returns
 * 0, or -1 when there is no '=' or the name is not a parameter name. */
int config_override_arg(const char *name_equals_value);

/* The configuration directory of the last config_load (or of
 * config_resolve_dir(NULL) before any load). */
const char *config_directory(void);

/* Expanded value; "" for unknown names; never NULL. */
const char *cfg_str(const char *name);
/* Typed values of the expanded text; bad text or out of bounds: fatal.
 * A name the table does not know (a per-transport name such as
 * smtp_destination_concurrency_limit) reads as 0 when it is not set:
 * check config_is_set() first and fall back to the general parameter. */
long cfg_int(const char *name);
long cfg_time(const char *name); /* seconds; units s m h d w */
long long cfg_size(const char *name);
int cfg_bool(const char *name);
/* Appends the items of the expanded Postfix list to out. */
void cfg_list(const char *name, struct strlist *out);

/* ---- for postconf, postern check and tests ---- */

/* Where a value comes from. */
enum config_source { CONFIG_DEFAULT, CONFIG_MAIN_CF, CONFIG_OVERRIDE };

/* The value as written (not expanded) and where it comes from; for a name
 * neither set nor in the table: NULL. For computed defaults (myhostname,
 * mydomain, mynetworks) the value in effect with the current settings. */
const char *config_raw(const char *name, enum config_source *source);
/* True when main.cf or an override sets name. */
int config_is_set(const char *name);
/* main.cf line of name's last definition, or 0. */
int config_line(const char *name);

/* Expands text with the current settings into out (appending). With
 * defaults_only, main.cf and overrides are ignored (`postconf -dx`).
 * Returns 0, or -1 with a reason in err (loop, nesting, syntax); out
 * then holds a best-effort expansion. */
int config_expand(const char *text, int defaults_only, struct buf *out,
                  struct buf *err);

/* The default of name, unexpanded (computed ones computed now: mydomain
 * from the default myhostname, mynetworks from the interfaces), or NULL
 * when the table does not know name. Valid until the next config_load. */
const char *config_default(const char *name);

/* Calls fn for every name set in main.cf or by override, in name order. */
void config_foreach_set(void (*fn)(const char *name, const char *raw,
                                   void *arg),
                        void *arg);

/* Checks the typed value of one parameter's text against its table
 * row: 0, or -1 with a reason in err. `value` is already expanded. */
int config_check_value(const struct param_def *def, const char *value,
                       struct buf *err);

/* Expands and checks every parameter that is set; returns the number of
 * problems, each appended to err as one line "FILE, line N: why". */
int config_check(struct buf *err);

/* True when compatibility_level is at least `level` ("3.6"). */
int config_compat_level_at_least(const char *level);

/* Where warnings go (unused parameters, expansion problems); the default
 * is log_warn(). postconf prints them as "postconf: warning: ...". */
void config_set_warning_handler(void (*handler)(const char *message));

/* Whether config_load() reports unused parameters (default: no; kept
 * across config_reset). Every process reads main.cf, so the warning is
 * left to those an administrator reads when changing it: master (once
 * per start or reload), `postern check` and postconf. Daemons and the
 * other tools stay quiet, so one misspelled name is one log line, not
 * one per process. Expansion problems are reported either way. */
void config_set_unused_warnings(int enabled);

/* Forgets everything (main.cf, overrides, directory). For tests. */
void config_reset(void);

/* Parsers for the typed values, shared with master.cf checking:
 * 0 on success, -1 on bad text (no bounds check). default_unit is the
 * unit of a bare number ('s', 'm', 'h', 'd' or 'w'). A time is at most
 * INT_MAX seconds (2147483647s; "9999999w" is bad text), as in Postfix. */
int config_parse_time(const char *text, char default_unit, long *seconds);
int config_parse_bool(const char *text, int *value);

#endif
