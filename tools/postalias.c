/* postalias.c: build and query alias tables, as Postfix's postalias(1):
 *
 *   postalias [-c DIR] [-v] [-s] [-q key] [type:]file...
 *
 * Without -q/-s, builds type:file (hash, btree, lmdb; the type defaults
 * to default_database_type) from the aliases(5) text file `file`
 * (lib/tables/alias_file.h): the new table is written beside the old one and
 * renamed over it. A malformed entry stops the build with
 * "file, line N: why" and the old table stays.
 * -q key prints the value of key from the first table that has it;
 * -s lists every entry as "name: value".
 * Exit status: 0 success (for -q: found); 1 for -q when not found; 2 on
 * any error. newaliases (tools/newaliases.c) builds the alias_database
 * tables with the same library code. */
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

static char *table_spec(const char *arg)
{
    const char *colon = strchr(arg, ':');
    if (colon) {
        char *type = xstrndup(arg, (size_t)(colon - arg));
        int known = dict_type_known(type);
        free(type);
        if (known)
            return xstrdup(arg);
    }
    return xasprintf("%s:%s", cfg_str("default_database_type"), arg);
}

static int list_entry(void *ctx, const char *key, const char *value)
{
    (void)ctx;
    printf("%s: %s\n", key, value);
    return 0;
}

int main(int argc, char **argv)
{
    const char *config_dir = NULL, *query = NULL;
    int list = 0, opt;
    tool_set_name("postalias");
    while ((opt = getopt(argc, argv, "c:vsq:")) != -1) {
        switch (opt) {
        case 'c':
            config_dir = optarg;
            break;
        case 'v':
            log_set_verbose(1);
            break;
        case 's':
            list = 1;
            break;
        case 'q':
            query = optarg;
            break;
        default:
            tool_usage(2, "postalias [-c config_dir] [-v] [-s] "
                            "[-q key] [type:]file...");
        }
    }
    struct buf err = BUF_INIT;
    if (config_load(config_resolve_dir(config_dir), &err) < 0)
        tool_fatal(2, "%s", buf_cstr(&err));
    if (optind >= argc)
        tool_fatal(2, "no alias table given");
    int status = query ? 1 : 0;
    for (int i = optind; i < argc; i++) {
        char *spec = table_spec(argv[i]);
        buf_reset(&err);
        if (query || list) {
            struct dict *d = dict_open(spec, DICT_FLAG_STRICT, &err);
            if (d == NULL) {
                log_error("%s", buf_cstr(&err));
                free(spec);
                status = 2;
                break;
            }
            if (query) {
                char *key = str_lower(xstrdup(query));
                struct buf value = BUF_INIT;
                enum dict_result r = dict_lookup(d, key, &value);
                free(key);
                if (r == DICT_ERROR) {
                    log_error("%s: %s", spec, dict_last_error(d));
                    dict_close(d);
                    free(spec);
                    buf_free(&value);
                    status = 2;
                    break;
                }
                if (r == DICT_FOUND) {
                    printf("%s\n", buf_cstr(&value));
                    dict_close(d);
                    free(spec);
                    buf_free(&value);
                    status = 0;
                    break;
                }
                buf_free(&value);
            } else if (dict_iterate(d, list_entry, NULL, &err) < 0) {
                log_error("%s", buf_cstr(&err));
                status = 2;
            }
            dict_close(d);
        } else if (alias_file_build(spec, &err) < 0) {
            log_error("%s", buf_cstr(&err));
            status = 2;
        }
        free(spec);
    }
    buf_free(&err);
    return status;
}
