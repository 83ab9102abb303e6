/* auth_userdb.c: the mailbox identity of a virtual user (a passdb entry
 * without uid, gid or home), looked up exactly as the virtual delivery
 * agent does: virtual_uid_maps and virtual_gid_maps give the owner
 * (checked against virtual_minimum_uid, and gid >= 1),
 * virtual_mailbox_maps the mailbox below virtual_mailbox_base (a result
 * ending in '/' is a Maildir). Fields the entry has are kept. */
#include "auth.h"

#include <stdlib.h>
#include <string.h>

#include "base/idnum.h"
#include "base/mem.h"
#include "base/str.h"
#include "config/config.h"
#include "delivery/agent.h"
#include "tables/maps.h"

static struct maps *mailbox_maps, *uid_maps, *gid_maps;

void auth_userdb_init(void)
{
    mailbox_maps =
        maps_open("virtual_mailbox_maps", cfg_str("virtual_mailbox_maps"),
                  DICT_FLAG_NO_REGSUB);
    uid_maps = maps_open("virtual_uid_maps", cfg_str("virtual_uid_maps"),
                         DICT_FLAG_NO_REGSUB);
    gid_maps = maps_open("virtual_gid_maps", cfg_str("virtual_gid_maps"),
                         DICT_FLAG_NO_REGSUB);
}

static int lookup_id(struct maps *m, const char *user, const char *what,
                     unsigned long minimum, unsigned long *id,
                     struct buf *err)
{
    struct buf value = BUF_INIT;
    enum dict_result r = agent_maps_find_address(m, user, &value);
    int rc = -1;
    if (r == DICT_ERROR) {
        buf_appendf(err, "virtual_%s_maps lookup failure", what);
    } else if (r == DICT_NOTFOUND) {
        buf_appendf(err, "no %s in virtual_%s_maps", what, what);
    } else {
        enum idnum_result parsed = idnum_parse(buf_cstr(&value), minimum, id);
        if (parsed != IDNUM_OK)
            buf_appendf(err, "bad %s \"%s\" in virtual_%s_maps: %s", what,
                        buf_cstr(&value), what, idnum_result_text(parsed));
        else
            rc = 0;
    }
    buf_free(&value);
    return rc;
}

int auth_userdb_complete(const char *user, struct passdb_user *u,
                         struct buf *err)
{
    if (!u->has_uid) {
        long minimum_uid = cfg_int("virtual_minimum_uid");
        unsigned long uid;
        if (lookup_id(uid_maps, user, "uid",
                      minimum_uid > 0 ? (unsigned long)minimum_uid : 1, &uid,
                      err) < 0)
            return -1;
        u->uid = (uid_t)uid;
        u->has_uid = 1;
    }
    if (!u->has_gid) {
        unsigned long gid;
        if (lookup_id(gid_maps, user, "gid", 1, &gid, err) < 0)
            return -1;
        u->gid = (gid_t)gid;
        u->has_gid = 1;
    }
    if (u->home && u->mail)
        return 0;
    struct buf mailbox = BUF_INIT;
    enum dict_result r = agent_maps_find_address(mailbox_maps, user, &mailbox);
    if (r != DICT_FOUND) {
        buf_appendf(err, r == DICT_ERROR
                             ? "virtual_mailbox_maps lookup failure"
                             : "not found in virtual_mailbox_maps");
        buf_free(&mailbox);
        return -1;
    }
    str_trim(mailbox.data);
    mailbox.len = strlen(mailbox.data);
    if (!agent_mailbox_name_ok(buf_cstr(&mailbox))) {
        buf_appendf(err, "bad mailbox name \"%s\" in virtual_mailbox_maps",
                    buf_cstr(&mailbox));
        buf_free(&mailbox);
        return -1;
    }
    int maildir = str_has_suffix(buf_cstr(&mailbox), "/");
    char *path = xasprintf("%s/%s", cfg_str("virtual_mailbox_base"),
                           buf_cstr(&mailbox));
    if (maildir)
        path[strlen(path) - 1] = 0; /* no trailing slash in home */
    if (u->home == NULL)
        u->home = xstrdup(path);
    if (u->mail == NULL)
        u->mail = xasprintf("%s:%s", maildir ? "maildir" : "mbox", path);
    free(path);
    buf_free(&mailbox);
    return 0;
}
