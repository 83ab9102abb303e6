/* newaliases.c: rebuilds every table in alias_database from its
 * aliases(5) text source, as Postfix's newaliases (sendmail -bi):
 *
 *   newaliases [-c DIR] [-v]
 *
 * alias_database defaults to $default_database_type:/etc/aliases, so
 * the usual run reads /etc/aliases and writes /etc/aliases.db. Each
 * table is built beside the old one and renamed over it
 * (lib/tables/alias_file.h); a malformed entry stops that table's build with
 * "file, line N: why" and leaves the old table in place. Tables of a
 * type that needs no building (texthash:, regexp:, ...) are skipped.
 * Exit status 0 when every table was built, 2 otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/tool.h"
#include "tables/alias_file.h"
#include "base/buf.h"
#include "config/config.h"
#include "tables/dict.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"

int main(int argc, char **argv)
{
    const char *config_dir = NULL;
    int opt;
    tool_set_name("newaliases");
    while ((opt = getopt(argc, argv, "c:vI")) != -1) {
        switch (opt) {
        case 'c':
            config_dir = optarg;
            break;
        case 'v':
            log_set_verbose(1);
            break;
        case 'I': /* sendmail -bi compatibility: what newaliases does */
            break;
        default:
            tool_usage(2, "newaliases [-c config_dir] [-v]");
        }
    }
    struct buf err = BUF_INIT;
    if (config_load(config_resolve_dir(config_dir), &err) < 0)
        tool_fatal(2, "%s", buf_cstr(&err));
    struct strlist specs;
    strlist_init(&specs);
    cfg_list("alias_database", &specs);
    int status = 0;
    for (size_t i = 0; i < specs.count; i++) {
        const char *spec = specs.items[i];
        if (str_has_prefix(spec, "proxy:"))
            spec += 6;
        const char *colon = strchr(spec, ':');
        char *type = colon ? xstrndup(spec, (size_t)(colon - spec)) : NULL;
        int writable = type && dict_type_writable(type);
        free(type);
        if (!writable) {
            log_info("%s: not a table type that is built; skipped", spec);
            continue;
        }
        buf_reset(&err);
        long count = alias_file_build(spec, &err);
        if (count < 0) {
            log_error("%s", buf_cstr(&err));
            status = 2;
        } else {
            log_info("%s: %ld aliases", spec, count);
        }
    }
    strlist_free(&specs);
    buf_free(&err);
    return status;
}
