/* user_acl.c: authorized_*_users checks for local clients (user_acl.h). */
#include "routing/user_acl.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "tables/domain_list.h"
#include "base/mem.h"
#include "base/privs.h"
#include "base/str.h"

struct user_acl {
    const char *title;
    unsigned flags;
    int everyone;              /* the value starts with "static:" */
    struct domain_list *names; /* NULL when everyone */
    long owner_uid;            /* -1: none */
};

int user_acl_name(long uid, struct buf *name)
{
    buf_reset(name);
    if (uid >= 0) {
        long size = sysconf(_SC_GETPW_R_SIZE_MAX);
        size_t len = size > 0 ? (size_t)size : 16384;
        char *scratch = xmalloc(len);
        struct passwd pw, *found = NULL;
        int rc;
        /* ERANGE: the entry is larger than the suggested size. */
        while ((rc = getpwuid_r((uid_t)uid, &pw, scratch, len, &found)) ==
                   ERANGE &&
               len < (1u << 20)) {
            len *= 2;
            scratch = xrealloc(scratch, len);
        }
        if (rc == 0 && found != NULL && found->pw_name[0]) {
            buf_append_str(name, found->pw_name);
            free(scratch);
            return 0;
        }
        free(scratch);
    }
    buf_append_str(name, "unknown");
    return -1;
}

struct user_acl *user_acl_new(const char *title, const char *value,
                              unsigned flags, long owner_uid, struct buf *err)
{
    struct user_acl *acl = xcalloc(1, sizeof(*acl));
    acl->title = title;
    acl->flags = flags;
    acl->owner_uid = owner_uid;
    while (*value == ' ' || *value == '\t' || *value == ',')
        value++;
    /* As Postfix: a list that starts with a static: table matches every
     * name, so it is not worth a password lookup. */
    if (str_has_prefix(value, "static:")) {
        acl->everyone = 1;
        return acl;
    }
    acl->names = domain_list_open(title, value, DOMAIN_LIST_STRING, err);
    if (acl->names == NULL) {
        free(acl);
        return NULL;
    }
    return acl;
}

struct user_acl *user_acl_open(const char *param, unsigned flags,
                               struct buf *err)
{
    long owner_uid = -1;
    if (flags & USER_ACL_OWNER_EXEMPT) {
        uid_t uid;
        gid_t gid;
        const char *owner = cfg_str("mail_owner");
        switch (privs_lookup_user(owner, &uid, &gid, err)) {
        case PRIVS_FOUND:
            owner_uid = (long)uid;
            break;
        case PRIVS_NOTFOUND:
            buf_appendf(err, "mail_owner %s: no such user", owner);
            return NULL;
        case PRIVS_ERROR:
            return NULL;
        }
    }
    return user_acl_new(param, cfg_str(param), flags, owner_uid, err);
}

enum user_acl_result user_acl_check(struct user_acl *acl, long uid,
                                    struct buf *name)
{
    user_acl_name(uid, name);
    if ((acl->flags & USER_ACL_OWNER_EXEMPT) && uid >= 0 &&
        (uid == 0 || uid == acl->owner_uid))
        return USER_ACL_ALLOWED;
    if (acl->everyone)
        return USER_ACL_ALLOWED;
    switch (domain_list_match(acl->names, buf_cstr(name))) {
    case 1:
        return USER_ACL_ALLOWED;
    case 0:
        return USER_ACL_DENIED;
    default:
        return USER_ACL_ERROR;
    }
}

const char *user_acl_title(const struct user_acl *acl)
{
    return acl->title;
}

void user_acl_free(struct user_acl *acl)
{
    if (acl == NULL)
        return;
    if (acl->names)
        domain_list_free(acl->names);
    free(acl);
}
