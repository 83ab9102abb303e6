/* special_use.c: the RFC 6154 special-use folders: names from main.cf,
 * attributes, creation at login. See special_use.h. */
#include "storage/special_use.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "config/config.h"
#include "storage/subscriptions.h"

static const struct {
    const char *attribute;
    const char *parameter;
} special_uses[SPECIAL_USE_COUNT] = {
    [SPECIAL_USE_SENT] = {"\\Sent", "imapd_sent_folder"},
    [SPECIAL_USE_DRAFTS] = {"\\Drafts", "imapd_drafts_folder"},
    [SPECIAL_USE_TRASH] = {"\\Trash", "imapd_trash_folder"},
    [SPECIAL_USE_JUNK] = {"\\Junk", "imapd_junk_folder"},
    [SPECIAL_USE_ARCHIVE] = {"\\Archive", "imapd_archive_folder"},
};

const char *special_use_attribute(enum special_use use)
{
    return special_uses[use].attribute;
}

const char *special_use_parameter(enum special_use use)
{
    return special_uses[use].parameter;
}

void special_use_set(struct special_use_folders *folders, enum special_use use,
                     const char *name)
{
    free(folders->names[use]);
    folders->names[use] = name && *name ? xstrdup(name) : NULL;
}

void special_use_free(struct special_use_folders *folders)
{
    for (int use = 0; use < SPECIAL_USE_COUNT; use++) {
        free(folders->names[use]);
        folders->names[use] = NULL;
    }
}

int special_use_config_read(struct special_use_folders *folders,
                            char *separator, struct buf *error)
{
    const char *sep = cfg_str("imapd_hierarchy_separator");
    if (strcmp(sep, "/") != 0 && strcmp(sep, ".") != 0) {
        buf_reset(error);
        buf_appendf(error,
                    "imapd_hierarchy_separator = %s: must be \"/\" or \".\"",
                    sep);
        return -1;
    }
    *separator = sep[0];
    for (int use = 0; use < SPECIAL_USE_COUNT; use++)
        special_use_set(folders, (enum special_use)use,
                        cfg_str(special_uses[use].parameter));
    return 0;
}

unsigned special_use_of(const struct special_use_folders *folders,
                        const char *name)
{
    unsigned uses = 0;
    for (int use = 0; use < SPECIAL_USE_COUNT; use++)
        if (folders->names[use] && strcmp(folders->names[use], name) == 0)
            uses |= 1u << use;
    return uses;
}

int special_use_ensure(const struct mailbox_list *list,
                       const struct special_use_folders *folders,
                       struct buf *error)
{
    struct buf why = BUF_INIT;
    int created = 0, failed = 0;

    for (int use = 0; use < SPECIAL_USE_COUNT; use++) {
        const char *name = folders->names[use];
        if (!name || mailbox_list_exists(list, name))
            continue;
        enum mailbox_list_result result = mailbox_list_create(list, name, &why);
        if (result == MAILBOX_LIST_EXISTS)
            continue; /* another session was first, or a repeated name */
        if (result == MAILBOX_LIST_OK) {
            created++;
            if (subscriptions_set(list, name, 1, &why) >= 0)
                continue;
        }
        if (!failed) {
            buf_reset(error);
            buf_appendf(error, "%s = %s: %s", special_uses[use].parameter,
                        name, why.data);
        }
        failed = 1;
    }
    buf_free(&why);
    return failed ? -1 : created;
}
