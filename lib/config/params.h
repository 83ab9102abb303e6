/* params.h: the one table of main.cf parameters.
 *
 * Every parameter the suite reads is declared once in lib/config/params.c with
 * its Postfix name, type, default (in main.cf syntax, so `$name` works
 * there too), bounds and a one-line description. cfg_* (lib/config/config.h),
 * `postconf -d` and docs/parameters.md all come from this table.
 *
 * Adding a parameter: append one row to your section of param_table in
 * lib/config/params.c, e.g.
 *   {"smtpd_timeout", PARAM_TIME, "300s", 1, 0, 0, "SMTP server I/O timeout"},
 * and regenerate docs/parameters.md (`tools/postconf --doc-markdown`);
 * `make check` fails while the committed page and the table disagree. */
#ifndef POSTERN_PARAMS_H
#define POSTERN_PARAMS_H

#include <stddef.h>

enum param_type {
    PARAM_STR,  /* free text */
    PARAM_INT,  /* decimal integer, bounded by min/max */
    PARAM_TIME, /* number with unit s m h d w; a bare number takes the unit
                   of the default (Postfix: "5d" makes "7" mean 7 days) */
    PARAM_SIZE, /* bytes, decimal, bounded by min/max */
    PARAM_BOOL, /* yes/no/true/false */
    PARAM_LIST  /* Postfix list: comma and/or whitespace separated */
};

/* Flags. */
#define PARAM_F_READONLY 0x1 /* set by the software (mail_version) */
#define PARAM_F_BUILD 0x2    /* default comes from configure (paths) */
#define PARAM_F_COMPUTED 0x4 /* default computed at run time (myhostname) */

struct param_def {
    const char *name;
    enum param_type type;
    const char *def; /* default value text; for PARAM_F_COMPUTED a fallback */
    long long min;   /* int/size: value bounds; time: seconds; */
    long long max;   /*   max 0 = no upper bound */
    unsigned flags;
    const char *doc; /* one line for docs/parameters.md */
};

extern const struct param_def param_table[];
extern const size_t param_table_count;

/* The row for name, or NULL when the table does not know it. */
const struct param_def *param_find(const char *name);

/* The default value text of def: the table's text, or for
 * PARAM_F_COMPUTED rows the value computed now (host name, interface
 * networks, ...). The string lives until the process exits. */
const char *param_default(const struct param_def *def);

/* "string", "integer", "time", "size", "boolean", "list". */
const char *param_type_name(enum param_type type);

/* True for names that Postfix derives from a transport or service name
 * (`smtp_destination_concurrency_limit`, `lmtp_xforward...`): a main.cf
 * line setting one is not an unknown parameter. */
int param_is_per_transport(const char *name);

#endif
