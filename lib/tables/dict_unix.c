/* dict_unix.c: unix:passwd.byname, the system's user database as a
 * table (Postfix's dict_unix), for local_recipient_maps. The key is a
 * login name; the value is the account in /etc/passwd form
 * (name:x:uid:gid:gecos:home:shell). Goes through getpwnam_r, so NSS
 * sources (LDAP, sssd) count too. A failure of the name service other
 * than "no such user" is a temporary error, never "not found". */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "tables/dict_impl.h"
#include "base/mem.h"

static int dict_unix_load(struct dict *d, struct buf *err)
{
    if (strcmp(d->name, "passwd.byname") != 0) {
        buf_appendf(err, "unix:%s: unsupported map (only passwd.byname)",
                    d->name);
        return -1;
    }
    d->impl = xstrdup("passwd.byname"); /* non-NULL marks "loaded" */
    return 0;
}

static void dict_unix_release(struct dict *d)
{
    free(d->impl);
    d->impl = NULL;
}

static enum dict_result dict_unix_lookup(struct dict *d, const char *key,
                                         size_t key_len, struct buf *value)
{
    if (key_len == 0 || memchr(key, 0, key_len) != NULL)
        return DICT_NOTFOUND;
    struct passwd pw, *found = NULL;
    size_t size = 1024;
    char *space = NULL;
    int rc;
    for (;;) {
        space = xrealloc(space, size);
        rc = getpwnam_r(key, &pw, space, size, &found);
        if (rc != ERANGE || size >= 1024 * 1024)
            break;
        size *= 4;
    }
    enum dict_result result;
    if (found != NULL) {
        buf_reset(value);
        buf_appendf(value, "%s:%s:%ld:%ld:%s:%s:%s", pw.pw_name,
                    pw.pw_passwd ? pw.pw_passwd : "", (long)pw.pw_uid,
                    (long)pw.pw_gid, pw.pw_gecos ? pw.pw_gecos : "",
                    pw.pw_dir ? pw.pw_dir : "", pw.pw_shell ? pw.pw_shell : "");
        result = DICT_FOUND;
    } else if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF ||
               rc == EPERM) {
        /* The ways glibc and NSS modules say "no such user". */
        result = DICT_NOTFOUND;
    } else {
        buf_reset(&d->error);
        buf_appendf(&d->error, "getpwnam_r: %s", strerror(rc));
        result = DICT_ERROR;
    }
    free(space);
    return result;
}

const struct dict_type dict_type_unix = {
    .name = "unix",
    .suffix = NULL,
    .fold = 1,
    .load = dict_unix_load,
    .release = dict_unix_release,
    .lookup = dict_unix_lookup,
};
