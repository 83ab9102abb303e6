/* imap_message.c: the message view's on-demand loading (see
 * imap_message.h). */
#include "imap/imap_message.h"

#include <string.h>
#include <strings.h>

#include "message/imap_envelope.h"
#include "message/mime_tree_blob.h"

void imap_message_init(struct imap_message *msg)
{
    memset(msg, 0, sizeof(*msg));
    msg->rfc822_size = IMAP_MESSAGE_SIZE_UNKNOWN;
    mime_tree_init(&msg->tree);
}

int imap_message_data(struct imap_message *msg, const char **data,
                      size_t *len)
{
    if (msg->load_state == 0) {
        msg->load_state = -1;
        if (msg->read != NULL &&
            msg->read(msg->context, msg, &msg->loaded_data,
                      &msg->loaded_len) == 0)
            msg->load_state = 1;
    }
    if (msg->load_state < 0)
        return -1;
    *data = msg->loaded_data;
    *len = msg->loaded_len;
    return 0;
}

int imap_message_header(struct imap_message *msg, const char **header,
                        size_t *len)
{
    size_t data_len;
    if (imap_message_data(msg, header, &data_len) < 0)
        return -1;
    *len = imap_header_length(*header, data_len);
    return 0;
}

const struct mime_tree *imap_message_tree(struct imap_message *msg)
{
    const char *data;
    size_t len;
    if (msg->tree_ready)
        return &msg->tree;
    if (imap_message_data(msg, &data, &len) < 0)
        return NULL;
    if (msg->mime_blob == NULL ||
        mime_tree_blob_read(&msg->tree, msg->mime_blob, msg->mime_blob_len,
                            data, len) < 0)
        mime_tree_parse(&msg->tree, data, len);
    msg->tree_ready = 1;
    return &msg->tree;
}

int imap_message_size(struct imap_message *msg, uint64_t *size)
{
    const struct mime_tree *tree;
    if (msg->rfc822_size != IMAP_MESSAGE_SIZE_UNKNOWN) {
        *size = msg->rfc822_size;
        return 0;
    }
    if ((tree = imap_message_tree(msg)) == NULL)
        return -1;
    *size = tree->parts[0].header_vsize + tree->parts[0].body_vsize;
    return 0;
}

void imap_message_done(struct imap_message *msg)
{
    if (msg->load_state == 1 && msg->release != NULL)
        msg->release(msg->context, msg, msg->loaded_data, msg->loaded_len);
    msg->loaded_data = NULL;
    msg->loaded_len = 0;
    msg->load_state = 0;
    mime_tree_free(&msg->tree);
    mime_tree_init(&msg->tree);
    msg->tree_ready = 0;
}

int imap_message_has_keyword(const struct imap_message *msg,
                             const char *name, size_t len)
{
    for (size_t i = 0; i < msg->keyword_count; i++)
        if (strlen(msg->keywords[i]) == len &&
            strncasecmp(msg->keywords[i], name, len) == 0)
            return 1;
    return 0;
}
