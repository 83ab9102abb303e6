/* mime_tree.c: the MIME structure of a message in memory (see
 * mime_tree.h). One pass over the lines; a stack of the boundaries in
 * force; sizes and line counts from running counters of LFs and bare
 * LFs, so no byte is read twice. */
#include "message/mime_tree.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/mem.h"
#include "message/mime_params.h"
#include "message/rfc822_lex.h"

struct boundary {
    uint32_t part; /* the multipart it belongs to */
    size_t len;
    char text[MIME_TREE_BOUNDARY_MAX];
};

/* Where the running counters stood at a position. */
struct mark {
    size_t lines, bare;
};

struct parse {
    struct mime_tree *tree;
    const char *data;
    size_t len;
    struct boundary *bounds;
    size_t nbounds, capbounds;
    uint32_t cur;    /* innermost open part */
    int in_header;   /* cur is reading its header */
    int field;       /* field being read (enum mime_field), -1 none */
    size_t field_start, field_end; /* the value read so far */
    struct mark *marks;    /* per part: counters where its body began */
    uint32_t *last_child;  /* per part: its newest child */
    size_t boundary_end;   /* just after the last boundary line read */
};

void mime_tree_init(struct mime_tree *tree)
{
    memset(tree, 0, sizeof(*tree));
}

void mime_tree_free(struct mime_tree *tree)
{
    free(tree->parts);
    mime_tree_init(tree);
}

const char *mime_part_field(const struct mime_tree *tree,
                            const struct mime_part *part,
                            enum mime_field field, size_t *len)
{
    if (!(part->fields & (1u << field)))
        return NULL;
    *len = part->field[field].length;
    return tree->data + part->offset + part->field[field].offset;
}

static uint32_t new_part(struct parse *ps, uint32_t parent, size_t offset)
{
    struct mime_tree *t = ps->tree;
    struct mime_part *part;
    uint32_t idx = t->count;
    if (t->count == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 8;
        t->parts = xreallocarray(t->parts, t->cap, sizeof(*t->parts));
        ps->marks = xreallocarray(ps->marks, t->cap, sizeof(*ps->marks));
        ps->last_child = xreallocarray(ps->last_child, t->cap,
                                       sizeof(*ps->last_child));
    }
    part = &t->parts[t->count++];
    memset(part, 0, sizeof(*part));
    part->parent = parent;
    part->first_child = part->next_sibling = MIME_NONE;
    part->offset = offset;
    if (parent != MIME_NONE) {
        struct mime_part *p = &t->parts[parent];
        part->depth = (uint16_t)(p->depth + 1);
        if (p->flags & MIME_PART_DIGEST)
            part->flags |= MIME_PART_IN_DIGEST;
        if (p->first_child == MIME_NONE)
            p->first_child = idx;
        else
            t->parts[ps->last_child[parent]].next_sibling = idx;
        ps->last_child[parent] = idx;
    }
    return idx;
}

/* Ends the field being read (its value ends at field_end). */
static void end_field(struct parse *ps)
{
    struct mime_part *part = &ps->tree->parts[ps->cur];
    if (ps->field >= 0 && !(part->fields & (1u << ps->field))) {
        size_t off = ps->field_start - part->offset;
        size_t len = ps->field_end > ps->field_start
                         ? ps->field_end - ps->field_start
                         : 0;
        if (off <= UINT32_MAX && len <= UINT32_MAX) {
            part->field[ps->field].offset = (uint32_t)off;
            part->field[ps->field].length = (uint32_t)len;
            part->fields |= (uint8_t)(1u << ps->field);
        }
    }
    ps->field = -1;
}

static int field_index(const char *name, size_t len)
{
    static const char *const names[MIME_FIELD_COUNT] = {
        "type", "transfer-encoding", "id", "description",
        "disposition", "language", "location", "md5"};
    if (len < 9 || strncasecmp(name, "content-", 8) != 0)
        return -1;
    name += 8;
    len -= 8;
    for (int i = 0; i < MIME_FIELD_COUNT; i++)
        if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
            return i;
    return -1;
}

/* A header line [p, e) (not empty, no line end): a continuation of
 * the field being read, or a new field. */
static void header_line(struct parse *ps, const char *p, const char *e)
{
    const char *colon, *name_end;
    if (*p == ' ' || *p == '\t') {
        ps->field_end = (size_t)(e - ps->data);
        return;
    }
    end_field(ps);
    colon = memchr(p, ':', (size_t)(e - p));
    if (colon == NULL)
        return;
    name_end = colon;
    while (name_end > p && (name_end[-1] == ' ' || name_end[-1] == '\t'))
        name_end--;
    ps->field = field_index(p, (size_t)(name_end - p));
    colon++;
    while (colon < e && (*colon == ' ' || *colon == '\t'))
        colon++;
    ps->field_start = (size_t)(colon - ps->data);
    ps->field_end = (size_t)(e - ps->data);
}

/* Reads the Content-Type of the part whose header just ended and sets
 * its flags; pushes its boundary when it is a multipart with a body to
 * come (`opens`). */
static void classify(struct parse *ps, uint32_t idx, int opens)
{
    struct mime_tree *t = ps->tree;
    struct mime_part *part = &t->parts[idx];
    struct buf type = BUF_INIT, subtype = BUF_INIT;
    struct rfc822_lex lx;
    size_t len;
    const char *text = mime_part_field(t, part, MIME_FIELD_TYPE, &len);
    int valid = 0;

    if (text != NULL) {
        rfc822_lex_init(&lx, text, len);
        valid = rfc822_lex_content_type(&lx, &type, &subtype) >= 0;
    }
    /* a broken Content-Type still counts as one (Dovecot shows "" ""),
     * except that a digest's part then stays message/rfc822 */
    if (!valid) {
        if (part->flags & MIME_PART_IN_DIGEST)
            part->flags |= MIME_PART_MESSAGE;
        else if (text == NULL)
            part->flags |= MIME_PART_TEXT;
    } else if (strcasecmp(type.data, "text") == 0) {
        part->flags |= MIME_PART_TEXT;
    } else if (strcasecmp(type.data, "message") == 0 &&
               (strcasecmp(subtype.data, "rfc822") == 0 ||
                strcasecmp(subtype.data, "global") == 0)) {
        part->flags |= MIME_PART_MESSAGE;
    } else if (strcasecmp(type.data, "multipart") == 0) {
        struct mime_params params;
        const char *b;
        mime_params_init(&params);
        mime_params_parse(&lx, &params);
        b = mime_params_get(&params, "boundary");
        /* without a boundary it is still a multipart, with no parts */
        part->flags |= MIME_PART_MULTIPART;
        if (strcasecmp(subtype.data, "digest") == 0)
            part->flags |= MIME_PART_DIGEST;
        if (b != NULL && *b != '\0' && opens) {
            struct boundary *bd;
            if (ps->nbounds == ps->capbounds) {
                ps->capbounds = ps->capbounds ? ps->capbounds * 2 : 4;
                ps->bounds = xreallocarray(ps->bounds, ps->capbounds,
                                           sizeof(*ps->bounds));
            }
            bd = &ps->bounds[ps->nbounds++];
            bd->part = idx;
            bd->len = strlen(b);
            if (bd->len > MIME_TREE_BOUNDARY_MAX)
                bd->len = MIME_TREE_BOUNDARY_MAX;
            memcpy(bd->text, b, bd->len);
        }
        mime_params_free(&params);
    }
    if (part->depth + 1 >= MIME_TREE_DEPTH_MAX &&
        (part->flags & (MIME_PART_MULTIPART | MIME_PART_MESSAGE))) {
        if (ps->nbounds > 0 && ps->bounds[ps->nbounds - 1].part == idx)
            ps->nbounds--;
        part->flags &= (uint8_t)~(MIME_PART_MULTIPART | MIME_PART_MESSAGE |
                                  MIME_PART_DIGEST);
        t->limited = 1;
    }
    buf_free(&type);
    buf_free(&subtype);
}

/* The header of cur ends at `pos` (after its empty line, or where its
 * part ends). */
static void end_header(struct parse *ps, size_t pos, struct mark at)
{
    struct mime_part *part = &ps->tree->parts[ps->cur];
    end_field(ps);
    part->header_size = pos - part->offset;
    /* header_lines and header_vsize hold the counters at its start */
    part->header_lines = at.lines - part->header_lines;
    part->header_vsize = part->header_size + (at.bare - part->header_vsize);
    ps->marks[ps->cur] = at;
    ps->in_header = 0;
}

/* Closes part idx at `pos` with the counters `at`. */
static void close_part(struct parse *ps, uint32_t idx, size_t pos,
                       struct mark at)
{
    struct mime_part *part = &ps->tree->parts[idx];
    size_t body = mime_part_body_offset(part);
    part->body_size = pos - body;
    part->body_lines = at.lines - ps->marks[idx].lines;
    part->body_vsize = part->body_size + (at.bare - ps->marks[idx].bare);
}

static void start_part(struct parse *ps, uint32_t idx, struct mark at)
{
    struct mime_part *part = &ps->tree->parts[idx];
    part->header_lines = at.lines; /* start counters, see end_header */
    part->header_vsize = at.bare;
    ps->cur = idx;
    ps->in_header = 1;
    ps->field = -1;
    ps->last_child[idx] = MIME_NONE;
}

/* After a header ended at `pos`: opens what the part contains. */
static void after_header(struct parse *ps, size_t pos, struct mark at)
{
    uint32_t idx = ps->cur;
    classify(ps, idx, 1);
    if ((ps->tree->parts[idx].flags & MIME_PART_MESSAGE) &&
        ps->tree->count < MIME_TREE_PARTS_MAX) {
        uint32_t child = new_part(ps, idx, pos);
        start_part(ps, child, at);
    } else if (ps->tree->parts[idx].flags & MIME_PART_MESSAGE) {
        ps->tree->parts[idx].flags &= (uint8_t)~MIME_PART_MESSAGE;
        ps->tree->limited = 1;
    }
}

/* Is [p, e) a boundary line of a multipart in force? Returns its index
 * in ps->bounds, or -1; *closing when it ends with "--". */
static long find_boundary(struct parse *ps, const char *p, const char *e,
                          int *closing)
{
    long best = -1;
    size_t len;
    if (e - p < 2 || p[0] != '-' || p[1] != '-')
        return -1;
    p += 2;
    if (e > p && e[-1] == '\r')
        e--;
    len = (size_t)(e - p);
    for (size_t i = ps->nbounds; i-- > 0;) {
        struct boundary *b = &ps->bounds[i];
        if (b->len <= len && memcmp(b->text, p, b->len) == 0 &&
            (best < 0 || ps->bounds[best].len < b->len)) {
            best = (long)i;
            if (b->len == len)
                break;
        }
    }
    if (best >= 0) {
        size_t bl = ps->bounds[best].len;
        *closing = len >= bl + 2 && p[bl] == '-' && p[bl + 1] == '-';
    }
    return best;
}

void mime_tree_parse(struct mime_tree *tree, const char *data, size_t len)
{
    struct parse ps;
    struct mark at = {0, 0};
    size_t pos = 0;

    tree->count = 0;
    tree->limited = 0;
    tree->data = data;
    tree->len = len;
    memset(&ps, 0, sizeof(ps));
    ps.tree = tree;
    ps.data = data;
    ps.len = len;
    ps.field = -1;
    if (tree->cap > 0) {
        /* a tree parsed before: its storage is reused */
        ps.marks = xreallocarray(NULL, tree->cap, sizeof(*ps.marks));
        ps.last_child = xreallocarray(NULL, tree->cap, sizeof(*ps.last_child));
    }
    start_part(&ps, new_part(&ps, MIME_NONE, 0), at);

    while (pos < len) {
        const char *p = data + pos;
        const char *lf = memchr(p, '\n', len - pos);
        const char *e = lf ? lf : data + len;
        size_t next = lf ? (size_t)(lf - data) + 1 : len;
        struct mark after = at;
        long bi = -1;
        int closing = 0;

        if (lf) {
            after.lines++;
            if (lf == data || lf[-1] != '\r')
                after.bare++;
        }
        if (ps.nbounds > 0)
            bi = find_boundary(&ps, p, e, &closing);
        if (bi >= 0) {
            uint32_t owner = ps.bounds[bi].part;
            /* the line end before the boundary belongs to it, when it
             * lies inside the part being closed */
            struct mime_part *cur = &tree->parts[ps.cur];
            size_t start = ps.in_header ? cur->offset
                                        : mime_part_body_offset(cur);
            size_t end = pos;
            /* the line end of a closing boundary line is that line's
             * (Dovecot's rule): an outer boundary right after it takes
             * none, and the epilogue starts after it */
            if (start < ps.boundary_end)
                start = ps.boundary_end;
            struct mark end_at = at;
            if (end > start && data[end - 1] == '\n') {
                end--;
                end_at.lines--;
                if (end > start && data[end - 1] == '\r')
                    end--;
                else
                    end_at.bare--;
            }
            if (ps.in_header) {
                /* a header cut short by a boundary: the part is empty */
                end_header(&ps, end, end_at);
                classify(&ps, ps.cur, 0);
                tree->parts[ps.cur].flags &= (uint8_t)~MIME_PART_MESSAGE;
            }
            /* a boundary in the owner's own body (preamble, epilogue)
             * closes nothing */
            while (ps.cur != owner) {
                close_part(&ps, ps.cur, end, end_at);
                ps.cur = tree->parts[ps.cur].parent;
            }
            ps.boundary_end = next;
            if (closing) {
                ps.nbounds = (size_t)bi;
            } else {
                ps.nbounds = (size_t)bi + 1;
                if (tree->count < MIME_TREE_PARTS_MAX)
                    start_part(&ps, new_part(&ps, owner, next), after);
                else
                    tree->limited = 1;
            }
        } else if (ps.in_header) {
            const char *le = e;
            if (le > p && le[-1] == '\r')
                le--;
            if (le == p) {
                end_header(&ps, next, after);
                after_header(&ps, next, after);
            } else if (ps.field >= 0 || (*p != ' ' && *p != '\t')) {
                header_line(&ps, p, le);
            }
        }
        at = after;
        pos = next;
    }
    if (ps.in_header) {
        end_header(&ps, len, at);
        after_header(&ps, len, at);
        if (ps.in_header)
            end_header(&ps, len, at);
    }
    for (uint32_t c = ps.cur; c != MIME_NONE; c = tree->parts[c].parent)
        close_part(&ps, c, len, at);
    free(ps.bounds);
    free(ps.marks);
    free(ps.last_child);
}

const struct mime_part *mime_tree_section(const struct mime_tree *tree,
                                          const unsigned *nums,
                                          size_t count)
{
    const struct mime_part *part;
    if (tree->count == 0)
        return NULL;
    part = &tree->parts[0];
    for (size_t i = 0; i < count; i++) {
        unsigned n = nums[i];
        if (i > 0 && (part->flags & MIME_PART_MESSAGE)) {
            /* numbers after a message/rfc822 part name parts of the
             * message inside it */
            if (part->first_child == MIME_NONE)
                return NULL;
            part = &tree->parts[part->first_child];
        }
        if (part->flags & MIME_PART_MULTIPART) {
            uint32_t c = part->first_child;
            while (c != MIME_NONE && n > 1) {
                c = tree->parts[c].next_sibling;
                n--;
            }
            if (c == MIME_NONE || n != 1)
                return NULL;
            part = &tree->parts[c];
        } else if (n != 1) {
            return NULL;
        }
    }
    return part;
}
