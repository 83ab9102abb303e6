/* imap_thread.c: THREAD=ORDEREDSUBJECT and THREAD=REFERENCES (see
 * imap_thread.h). */
#include "imap/imap_thread.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/mem.h"
#include "imap/imap_sort.h"
#include "imap/imap_subject.h"
#include "message/imap_envelope.h"
#include "message/imap_header_iter.h"

#define NONE UINT32_MAX

void imap_thread_args_init(struct imap_thread_args *thread)
{
    memset(thread, 0, sizeof(*thread));
    imap_search_init(&thread->search);
}

void imap_thread_args_free(struct imap_thread_args *thread)
{
    imap_search_free(&thread->search);
}

int imap_thread_parse(const struct imap_arg *args, size_t count,
                      unsigned search_flags, struct imap_thread_args *thread,
                      const char **error)
{
    imap_search_free(&thread->search);
    if (count < 1 || (!imap_arg_atom_is(&args[0], "ORDEREDSUBJECT") &&
                      !imap_arg_atom_is(&args[0], "REFERENCES"))) {
        *error = "Unknown thread algorithm";
        return -1;
    }
    thread->algorithm = imap_arg_atom_is(&args[0], "REFERENCES")
                            ? IMAP_THREAD_REFERENCES
                            : IMAP_THREAD_ORDEREDSUBJECT;
    if (count < 2) {
        *error = "Missing charset";
        return -1;
    }
    if (imap_sort_charset_ok(&args[1]) != 0) {
        *error = "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset";
        thread->search.error_no = 1;
        return -1;
    }
    return imap_search_parse(args + 2, count - 2, search_flags,
                             &thread->search, error);
}

/* ---- the tree of containers ---- */

struct node {
    struct imap_message *msg; /* NULL for a dummy */
    uint32_t parent, first_child, next_sibling;
    time_t sent;              /* of the message, or of a dummy's first child */
    uint32_t seq;             /* ties */
    char *subject;            /* folded base subject (messages only) */
    int reply;                /* the subject marked a reply or forward */
};

struct forest {
    struct node *nodes;
    size_t count, cap;
};

static uint32_t new_node(struct forest *f)
{
    if (f->count == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 64;
        f->nodes = xreallocarray(f->nodes, f->cap, sizeof(*f->nodes));
    }
    memset(&f->nodes[f->count], 0, sizeof(f->nodes[0]));
    f->nodes[f->count].parent = NONE;
    f->nodes[f->count].first_child = NONE;
    f->nodes[f->count].next_sibling = NONE;
    return (uint32_t)f->count++;
}

static void unlink_node(struct forest *f, uint32_t n)
{
    uint32_t p = f->nodes[n].parent, *link;
    if (p == NONE)
        return;
    for (link = &f->nodes[p].first_child; *link != NONE;
         link = &f->nodes[*link].next_sibling)
        if (*link == n) {
            *link = f->nodes[n].next_sibling;
            break;
        }
    f->nodes[n].parent = NONE;
    f->nodes[n].next_sibling = NONE;
}

static void append_child(struct forest *f, uint32_t parent, uint32_t child)
{
    uint32_t *link = &f->nodes[parent].first_child;
    while (*link != NONE)
        link = &f->nodes[*link].next_sibling;
    *link = child;
    f->nodes[child].parent = parent;
    f->nodes[child].next_sibling = NONE;
}

/* Whether a is b or one of b's ancestors. */
static int is_ancestor(const struct forest *f, uint32_t a, uint32_t b)
{
    for (uint32_t n = b; n != NONE; n = f->nodes[n].parent)
        if (n == a)
            return 1;
    return 0;
}

/* ---- message headers ---- */

struct message_info {
    const char *header;
    size_t header_len;
};

static void read_header(struct imap_message *msg, struct message_info *info)
{
    if (imap_message_header(msg, &info->header, &info->header_len) < 0) {
        info->header = "";
        info->header_len = 0;
    }
}

static void fill_message_node(struct forest *f, uint32_t n,
                              struct imap_message *msg,
                              const struct message_info *info)
{
    struct buf subject = BUF_INIT;
    size_t vlen = 0;
    const char *value =
        imap_header_find(info->header, info->header_len, "subject", &vlen);
    struct node *node = &f->nodes[n];
    node->msg = msg;
    node->seq = msg->seq;
    node->sent = imap_sort_sent_date(msg);
    node->reply = imap_base_subject(value, vlen, &subject);
    buf_append(&subject, "", 0);
    node->subject = buf_detach(&subject);
}

/* The next "<id>" in text[*pos..len): its content, or NULL. */
static const char *next_msgid(const char *text, size_t len, size_t *pos,
                              size_t *id_len)
{
    while (*pos < len) {
        const char *lt = memchr(text + *pos, '<', len - *pos);
        const char *gt;
        if (lt == NULL)
            break;
        gt = memchr(lt, '>', (size_t)(text + len - lt));
        if (gt == NULL)
            break;
        *pos = (size_t)(gt - text) + 1;
        if (gt > lt + 1 && memchr(lt + 1, '<', (size_t)(gt - lt - 1)) == NULL) {
            *id_len = (size_t)(gt - lt - 1);
            return lt + 1;
        }
    }
    *pos = len;
    return NULL;
}

/* ---- message-id table: open addressing over node numbers ---- */

struct id_entry {
    char *id; /* a copy: the message's bytes are given back early */
    size_t len;
    uint32_t node;
};

struct id_table {
    struct id_entry *slots;
    size_t cap;
};

static size_t id_hash(const char *id, size_t len)
{
    size_t h = 5381;
    for (size_t i = 0; i < len; i++)
        h = h * 33 + (unsigned char)id[i];
    return h;
}

/* The slot for id: found (node set) or empty (node NONE). */
static struct id_entry *id_slot(struct id_table *t, const char *id, size_t len)
{
    size_t i = id_hash(id, len) & (t->cap - 1);
    while (t->slots[i].node != NONE &&
           !(t->slots[i].len == len && memcmp(t->slots[i].id, id, len) == 0))
        i = (i + 1) & (t->cap - 1);
    return &t->slots[i];
}

/* The container of id, created as a dummy when new. */
static uint32_t id_container(struct forest *f, struct id_table *t,
                             const char *id, size_t len)
{
    struct id_entry *e = id_slot(t, id, len);
    if (e->node == NONE) {
        e->id = xmemdup(id, len);
        e->len = len;
        e->node = new_node(f);
    }
    return e->node;
}

/* ---- output ---- */

static void write_members(struct buf *out, const struct forest *f, uint32_t n,
                          int uid)
{
    const struct node *node = &f->nodes[n];
    uint32_t c = node->first_child;
    int wrote = 0;
    if (node->msg != NULL) {
        buf_appendf(out, "%u", uid ? node->msg->uid : node->msg->seq);
        wrote = 1;
    }
    if (c == NONE)
        return;
    if (f->nodes[c].next_sibling == NONE) {
        if (wrote)
            buf_append_char(out, ' ');
        write_members(out, f, c, uid);
        return;
    }
    if (wrote)
        buf_append_char(out, ' ');
    for (; c != NONE; c = f->nodes[c].next_sibling) {
        buf_append_char(out, '(');
        write_members(out, f, c, uid);
        buf_append_char(out, ')');
    }
}

/* ---- sorting siblings by sent date ---- */

static int compare_nodes_date(const struct forest *f, uint32_t a, uint32_t b)
{
    const struct node *x = &f->nodes[a], *y = &f->nodes[b];
    if (x->sent != y->sent)
        return x->sent < y->sent ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static int compare_node_ids(const void *pa, const void *pb, void *forest)
{
    return compare_nodes_date(forest, *(const uint32_t *)pa,
                              *(const uint32_t *)pb);
}

/* Sorts the children of n (or the list starting at *head) by date;
 * a dummy takes the date of its first child, sorted first. */
static void sort_list(struct forest *f, uint32_t *head, int deep)
{
    uint32_t count = 0, *ids, c;
    for (c = *head; c != NONE; c = f->nodes[c].next_sibling) {
        if (deep)
            sort_list(f, &f->nodes[c].first_child, 1);
        if (f->nodes[c].msg == NULL && f->nodes[c].first_child != NONE) {
            f->nodes[c].sent = f->nodes[f->nodes[c].first_child].sent;
            f->nodes[c].seq = f->nodes[f->nodes[c].first_child].seq;
        }
        count++;
    }
    if (count < 2)
        return;
    ids = xcalloc(count, sizeof(*ids));
    count = 0;
    for (c = *head; c != NONE; c = f->nodes[c].next_sibling)
        ids[count++] = c;
    qsort_r(ids, count, sizeof(*ids), compare_node_ids, f);
    *head = ids[0];
    for (uint32_t i = 0; i + 1 < count; i++)
        f->nodes[ids[i]].next_sibling = ids[i + 1];
    f->nodes[ids[count - 1]].next_sibling = NONE;
    free(ids);
}

/* ---- ORDEREDSUBJECT ---- */

static int compare_subject_date(const void *pa, const void *pb, void *forest)
{
    const struct forest *f = forest;
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    int r = strcmp(f->nodes[a].subject, f->nodes[b].subject);
    return r != 0 ? r : compare_nodes_date(f, a, b);
}

/* Fills roots (a list through next_sibling, from a virtual root). */
static uint32_t ordered_subject(struct forest *f, struct imap_message **msgs,
                                size_t count)
{
    uint32_t *ids = xcalloc(count ? count : 1, sizeof(*ids)), head = NONE,
             *tail = &head, root = NONE;
    for (size_t i = 0; i < count; i++) {
        struct message_info info;
        read_header(msgs[i], &info);
        ids[i] = new_node(f);
        fill_message_node(f, ids[i], msgs[i], &info);
        imap_message_done(msgs[i]);
    }
    qsort_r(ids, count, sizeof(*ids), compare_subject_date, f);
    for (size_t i = 0; i < count; i++) {
        if (root != NONE &&
            strcmp(f->nodes[root].subject, f->nodes[ids[i]].subject) == 0) {
            append_child(f, root, ids[i]);
            continue;
        }
        root = ids[i];
        *tail = root;
        tail = &f->nodes[root].next_sibling;
    }
    free(ids);
    sort_list(f, &head, 0);
    return head;
}

/* ---- REFERENCES ---- */

/* Step 4: prunes the list at *head (children of `parent`, NONE for the
 * root set). */
static void prune(struct forest *f, uint32_t *head, uint32_t parent)
{
    uint32_t *link = head;
    while (*link != NONE) {
        uint32_t n = *link;
        struct node *node = &f->nodes[n];
        prune(f, &node->first_child, n);
        if (node->msg == NULL && node->first_child == NONE) {
            *link = node->next_sibling; /* A: an empty dummy goes */
            continue;
        }
        if (node->msg == NULL &&
            (parent != NONE || f->nodes[node->first_child].next_sibling == NONE)) {
            /* B: its children take its place */
            uint32_t first = node->first_child, last = first;
            for (uint32_t c = first; c != NONE; c = f->nodes[c].next_sibling) {
                f->nodes[c].parent = parent;
                last = c;
            }
            f->nodes[last].next_sibling = node->next_sibling;
            *link = first;
            node->first_child = NONE;
            continue; /* the promoted children are already pruned */
        }
        link = &node->next_sibling;
    }
}

static const struct node *subject_node(const struct forest *f, uint32_t n)
{
    const struct node *node = &f->nodes[n];
    if (node->msg == NULL && node->first_child != NONE)
        return &f->nodes[node->first_child];
    return node;
}

/* The slot of subject in the subject table (open addressing, cap a
 * power of two, never full): found, or empty (node NONE). */
static size_t subject_slot(const uint32_t *table_node,
                           const char *const *table_subject, size_t cap,
                           const char *subject)
{
    size_t slot = id_hash(subject, strlen(subject)) & (cap - 1);
    while (table_node[slot] != NONE && strcmp(table_subject[slot], subject))
        slot = (slot + 1) & (cap - 1);
    return slot;
}

/* Step 5 B and C: roots with one base subject merged. */
static void merge_subjects(struct forest *f, uint32_t *head)
{
    size_t roots = 0, cap = 16;
    uint32_t *table_node, n, *link;
    const char **table_subject;

    for (n = *head; n != NONE; n = f->nodes[n].next_sibling)
        roots++;
    while (cap < roots * 2)
        cap *= 2;
    table_node = xcalloc(cap, sizeof(*table_node));
    table_subject = xcalloc(cap, sizeof(*table_subject));
    for (size_t i = 0; i < cap; i++)
        table_node[i] = NONE;
    for (n = *head; n != NONE; n = f->nodes[n].next_sibling) {
        const struct node *sn = subject_node(f, n);
        size_t slot;
        uint32_t old;
        if (sn->subject == NULL || sn->subject[0] == '\0')
            continue;
        slot = subject_slot(table_node, table_subject, cap, sn->subject);
        old = table_node[slot];
        if (old == NONE ||
            (f->nodes[old].msg != NULL &&
             (f->nodes[n].msg == NULL ||
              (subject_node(f, old)->reply && !sn->reply)))) {
            table_node[slot] = n;
            table_subject[slot] = sn->subject;
        }
    }
    link = head;
    while (*link != NONE) {
        uint32_t cur = *link, other = cur;
        const struct node *sn = subject_node(f, cur);
        size_t slot = 0;
        if (sn->subject != NULL && sn->subject[0] != '\0') {
            slot = subject_slot(table_node, table_subject, cap, sn->subject);
            other = table_node[slot];
        }
        if (other == cur) {
            link = &f->nodes[cur].next_sibling;
            continue;
        }
        *link = f->nodes[cur].next_sibling; /* cur leaves the root set */
        f->nodes[cur].next_sibling = NONE;
        if (f->nodes[cur].msg == NULL && f->nodes[other].msg == NULL) {
            uint32_t c = f->nodes[cur].first_child;
            while (c != NONE) {
                uint32_t next = f->nodes[c].next_sibling;
                append_child(f, other, c);
                c = next;
            }
            f->nodes[cur].first_child = NONE;
        } else if (f->nodes[other].msg == NULL ||
                   (sn->reply && !subject_node(f, other)->reply)) {
            append_child(f, other, cur);
        } else {
            /* a new dummy holds both, in other's place */
            uint32_t dummy = new_node(f), *l;
            for (l = head; *l != other; l = &f->nodes[*l].next_sibling)
                ;
            f->nodes[dummy].next_sibling = f->nodes[other].next_sibling;
            *l = dummy;
            if (link == &f->nodes[other].next_sibling)
                link = &f->nodes[dummy].next_sibling;
            f->nodes[other].next_sibling = NONE;
            append_child(f, dummy, other);
            append_child(f, dummy, cur);
            table_node[slot] = dummy;
        }
    }
    free(table_node);
    free(table_subject);
}

static uint32_t references(struct forest *f, struct imap_message **msgs,
                           size_t count)
{
    struct id_table ids;
    uint32_t head = NONE, *tail = &head;
    size_t cap = 64;

    while (cap < count * 8)
        cap *= 2;
    ids.cap = cap;
    ids.slots = xcalloc(cap, sizeof(*ids.slots));
    for (size_t i = 0; i < cap; i++)
        ids.slots[i].node = NONE;
    for (size_t i = 0; i < count; i++) {
        struct message_info info;
        const char *refs, *id = NULL;
        size_t refs_len = 0, id_len = 0, pos = 0, rlen;
        uint32_t me = NONE, prev = NONE;
        const char *r;

        read_header(msgs[i], &info);
        /* step 1 B: the message's own container */
        refs = imap_header_find(info.header, info.header_len, "message-id",
                                &refs_len);
        if (refs != NULL)
            id = next_msgid(refs, refs_len, &pos, &id_len);
        if (id != NULL) {
            struct id_entry *e;
            if (ids.cap <= f->count * 2)
                id = NULL; /* table full: treat as without one */
            else if ((e = id_slot(&ids, id, id_len))->node != NONE &&
                     f->nodes[e->node].msg != NULL)
                id = NULL; /* a duplicate: it gets a unique id */
        }
        me = id ? id_container(f, &ids, id, id_len) : new_node(f);
        fill_message_node(f, me, msgs[i], &info);
        /* step 1 A: link the references in order */
        refs = imap_header_find(info.header, info.header_len, "references",
                                &refs_len);
        pos = 0;
        if (refs == NULL || next_msgid(refs, refs_len, &pos, &rlen) == NULL) {
            refs = imap_header_find(info.header, info.header_len,
                                    "in-reply-to", &refs_len);
            if (refs != NULL) {
                pos = 0;
                if ((r = next_msgid(refs, refs_len, &pos, &rlen)) != NULL)
                    refs_len = pos; /* only the first */
            }
        }
        pos = 0;
        while (refs != NULL && ids.cap > f->count * 2 &&
               (r = next_msgid(refs, refs_len, &pos, &rlen)) != NULL) {
            uint32_t c = id_container(f, &ids, r, rlen);
            if (c == me)
                continue; /* a reference to itself */
            if (prev != NONE && f->nodes[c].parent == NONE &&
                !is_ancestor(f, c, prev))
                append_child(f, prev, c);
            prev = c;
        }
        /* the message's parent is the last reference */
        if (prev != NONE && is_ancestor(f, me, prev))
            prev = f->nodes[me].parent; /* would loop: keep what it has */
        if (f->nodes[me].parent != prev) {
            unlink_node(f, me);
            if (prev != NONE)
                append_child(f, prev, me);
        }
        imap_message_done(msgs[i]);
    }
    /* step 2: the root set */
    for (uint32_t n = 0; n < f->count; n++)
        if (f->nodes[n].parent == NONE) {
            *tail = n;
            tail = &f->nodes[n].next_sibling;
        }
    *tail = NONE;
    for (size_t i = 0; i < ids.cap; i++)
        free(ids.slots[i].id);
    free(ids.slots); /* step 3 */
    prune(f, &head, NONE);               /* step 4 */
    sort_list(f, &head, 1);              /* step 5 A (children first) */
    merge_subjects(f, &head);            /* step 5 B, C */
    sort_list(f, &head, 1);              /* step 6 */
    return head;
}

void imap_thread_write(struct buf *out, enum imap_thread_algorithm algorithm,
                       struct imap_message **msgs, size_t count, int uid)
{
    struct forest f = {NULL, 0, 0};
    uint32_t head;

    if (algorithm == IMAP_THREAD_REFERENCES) {
        head = references(&f, msgs, count);
    } else {
        head = ordered_subject(&f, msgs, count);
    }
    buf_append_str(out, "* THREAD ");
    for (uint32_t n = head; n != NONE; n = f.nodes[n].next_sibling) {
        buf_append_char(out, '(');
        write_members(out, &f, n, uid);
        buf_append_char(out, ')');
    }
    /* "* THREAD" alone when nothing matched */
    if (head == NONE)
        buf_truncate(out, out->len - 1);
    buf_append_str(out, "\r\n");
    for (size_t n = 0; n < f.count; n++)
        free(f.nodes[n].subject);
    free(f.nodes);
}
