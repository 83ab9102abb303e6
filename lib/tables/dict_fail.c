/* dict_fail.c: fail:name, a table whose every lookup is a temporary
 * error. Used to test that callers defer, and to switch a feature off
 * safely. */
#include "tables/dict_impl.h"

static int dict_fail_load(struct dict *d, struct buf *err)
{
    d->impl = d; /* anything non-NULL: "loaded" */
    return 0;
}

static void dict_fail_release(struct dict *d)
{
    d->impl = NULL;
}

static enum dict_result dict_fail_lookup(struct dict *d, const char *key,
                                         size_t key_len, struct buf *value)
{
    buf_reset(&d->error);
    buf_appendf(&d->error, "table %s is configured to fail", d->spec);
    return DICT_ERROR;
}

const struct dict_type dict_type_fail = {
    .name = "fail", .suffix = NULL,
    .load = dict_fail_load, .release = dict_fail_release,
    .lookup = dict_fail_lookup,
};
