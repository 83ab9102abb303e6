/* imap_reader.c: the incremental IMAP command reader (see imap_reader.h).
 *
 * A byte-driven state machine. Tokens are built as nodes on a stack
 * (`pending`) whose bytes go to one arena; when a list closes, its items
 * move as one block to `placed`, so every list's items end up
 * contiguous, and the finished command turns offsets into pointers in
 * one pass. Nothing points into the arena while it can still grow.
 *
 * Beside the parse, a small watch ("tail") follows every byte of text
 * for "{digits[+]}" just before a line end: after an error it is what
 * finds a non-synchronizing literal in the discarded rest of a line, so
 * that its bytes are skipped instead of read as commands. */
#include "imap/imap_reader.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/utf8.h"

enum reader_state {
    ST_TAG,       /* the start of a line: the tag */
    ST_NAME,      /* the command name */
    ST_ARG_START, /* a token may start */
    ST_ARG_SEP,   /* after a quoted string, a literal or a list */
    ST_ATOM,
    ST_TILDE,     /* after '~': literal8 or an atom */
    ST_QUOTED,
    ST_QUOTED_ESC,
    ST_LIT_LEN,   /* after '{' */
    ST_LIT_PLUS,  /* after "{n+" */
    ST_LIT_CLOSE, /* after '}' */
    ST_LIT_DATA,
    ST_CR,        /* a CR; LF must follow */
    ST_SKIP,      /* discarding up to the end of the line */
    ST_SKIP_LIT,  /* discarding a rejected literal */
    ST_RAW_LINE,  /* line mode */
};

struct node {
    enum imap_arg_type type;
    size_t off, len;     /* in the arena */
    size_t first, count; /* LIST: items in placed[] */
    int eight_bit;
};

#define ARENA_KEEP 16384 /* a bigger arena is freed between commands */

static void command_reset(struct imap_reader *r);

void imap_reader_limits_default(struct imap_reader_limits *limits)
{
    memset(limits, 0, sizeof(*limits));
    limits->line_max = IMAP_LINE_MAX_DEFAULT;
    limits->literal_max = IMAP_LITERAL_MAX_DEFAULT;
    limits->command_max = IMAP_COMMAND_MAX_DEFAULT;
    limits->append_max = IMAP_APPEND_MAX_DEFAULT;
    limits->depth_max = IMAP_DEPTH_MAX_DEFAULT;
    limits->nonsync_max = 0;
    limits->discard_max = IMAP_APPEND_MAX_DEFAULT;
}

void imap_reader_init(struct imap_reader *r,
                      const struct imap_reader_limits *limits)
{
    memset(r, 0, sizeof(*r));
    if (limits)
        r->limits = *limits;
    else
        imap_reader_limits_default(&r->limits);
    buf_init(&r->error.response);
    buf_init(&r->line);
    buf_init(&r->arena);
    r->state = ST_TAG;
}

void imap_reader_free(struct imap_reader *r)
{
    buf_free(&r->error.response);
    buf_free(&r->line);
    buf_free(&r->arena);
    free(r->pending);
    free(r->placed);
    free(r->opens);
    free(r->tree);
    memset(r, 0, sizeof(*r));
}

void imap_reader_trim(struct imap_reader *r)
{
    if (!imap_reader_idle(r))
        return;
    r->reset_pending = 0;
    command_reset(r);
    buf_free(&r->arena);
    buf_free(&r->line);
    buf_free(&r->error.response);
    free(r->pending);
    free(r->placed);
    free(r->opens);
    free(r->tree);
    r->pending = r->placed = NULL;
    r->opens = NULL;
    r->tree = NULL;
    r->pending_len = r->pending_cap = r->placed_len = r->placed_cap = 0;
    r->opens_cap = r->tree_cap = 0;
    memset(&r->command, 0, sizeof(r->command));
}

int imap_reader_idle(const struct imap_reader *r)
{
    return !r->failed && r->state == ST_TAG &&
           (r->reset_pending || r->arena.len == 0);
}

void imap_reader_expect_line(struct imap_reader *r)
{
    r->line_mode = 1;
}

/* ---- building the tree ---- */

static struct node *pending_push(struct imap_reader *r, enum imap_arg_type type)
{
    if (r->pending_len == r->pending_cap) {
        r->pending_cap = r->pending_cap ? r->pending_cap * 2 : 8;
        r->pending = xreallocarray(r->pending, r->pending_cap,
                                   sizeof(struct node));
    }
    struct node *n = (struct node *)r->pending + r->pending_len++;
    memset(n, 0, sizeof(*n));
    n->type = type;
    n->off = r->arena.len;
    return n;
}

static struct node *pending_top(struct imap_reader *r)
{
    return (struct node *)r->pending + r->pending_len - 1;
}

/* Moves pending[from..) to the end of placed; returns where they went. */
static size_t place_block(struct imap_reader *r, size_t from)
{
    size_t count = r->pending_len - from, first = r->placed_len;
    if (r->placed_len + count > r->placed_cap) {
        while (r->placed_len + count > r->placed_cap)
            r->placed_cap = r->placed_cap ? r->placed_cap * 2 : 8;
        r->placed = xreallocarray(r->placed, r->placed_cap,
                                  sizeof(struct node));
    }
    if (count > 0)
        memcpy((struct node *)r->placed + first,
               (struct node *)r->pending + from, count * sizeof(struct node));
    r->placed_len += count;
    r->pending_len = from;
    return first;
}

static void token_end(struct imap_reader *r)
{
    struct node *n = pending_top(r);
    n->len = r->arena.len - n->off;
    n->eight_bit = r->token_eight_bit;
    r->token_eight_bit = 0;
    buf_append_char(&r->arena, '\0');
    r->token_open = 0;
    if (n->type == IMAP_ARG_ATOM && n->len == 3 &&
        (r->arena.data[n->off] | 0x20) == 'n' &&
        (r->arena.data[n->off + 1] | 0x20) == 'i' &&
        (r->arena.data[n->off + 2] | 0x20) == 'l')
        n->type = IMAP_ARG_NIL;
}

static void list_open(struct imap_reader *r)
{
    if (r->depth == r->opens_cap) {
        r->opens_cap = r->opens_cap ? r->opens_cap * 2 : 4;
        r->opens = xreallocarray(r->opens, r->opens_cap, sizeof(size_t));
    }
    pending_push(r, IMAP_ARG_LIST);
    r->opens[r->depth++] = r->pending_len - 1;
}

static void list_close(struct imap_reader *r)
{
    size_t list_index = r->opens[--r->depth];
    size_t count = r->pending_len - list_index - 1;
    size_t first = place_block(r, list_index + 1);
    struct node *list = (struct node *)r->pending + list_index;
    list->first = first;
    list->count = count;
    r->list_closed = 1;
}

static void finish_command(struct imap_reader *r)
{
    size_t top_count = r->pending_len;
    size_t top_first = place_block(r, 0);
    if (r->placed_len > r->tree_cap) {
        r->tree_cap = r->placed_len;
        free(r->tree);
        r->tree = xcalloc(r->tree_cap, sizeof(struct imap_arg));
    }
    for (size_t i = 0; i < r->placed_len; i++) {
        const struct node *n = (const struct node *)r->placed + i;
        struct imap_arg *arg = &r->tree[i];
        memset(arg, 0, sizeof(*arg));
        arg->type = n->type;
        arg->eight_bit = n->eight_bit;
        if (n->type == IMAP_ARG_LIST) {
            arg->count = n->count;
            arg->list = n->count ? &r->tree[n->first] : NULL;
        } else {
            arg->str = r->arena.data + n->off;
            arg->len = n->len;
        }
    }
    r->command.tag = r->arena.data + r->tag_off;
    r->command.tag_len = strlen(r->command.tag);
    r->command.name = r->arena.data + r->name_off;
    r->command.args = top_count ? &r->tree[top_first] : NULL;
    r->command.arg_count = top_count;
}

static void command_reset(struct imap_reader *r)
{
    if (r->arena.cap > ARENA_KEEP)
        buf_free(&r->arena);
    buf_reset(&r->arena);
    r->pending_len = r->placed_len = 0;
    r->depth = 0;
    r->line_bytes = r->command_bytes = r->append_bytes = 0;
    r->is_append = 0;
    r->token_open = 0;
    r->token_eight_bit = 0;
    r->list_closed = 0;
    r->tag_off = r->name_off = 0;
    memset(&r->command, 0, sizeof(r->command));
}

/* ---- the tail watch ---- */

static void tail_reset(struct imap_reader *r)
{
    r->tail_state = 0;
    r->tail_plus = 0;
    r->tail_len = 0;
    r->tail_overflow = 0;
}

static void tail_step(struct imap_reader *r, unsigned char c)
{
    if (c == '{') {
        tail_reset(r);
        r->tail_state = 1;
    } else if (c >= '0' && c <= '9' && (r->tail_state == 1 || r->tail_state == 2)) {
        if (r->tail_len > (~0ULL - 9) / 10)
            r->tail_overflow = 1;
        else
            r->tail_len = r->tail_len * 10 + (c - '0');
        r->tail_state = 2;
    } else if (c == '+' && r->tail_state == 2) {
        r->tail_plus = 1;
        r->tail_state = 3;
    } else if (c == '}' && (r->tail_state == 2 || r->tail_state == 3)) {
        r->tail_state = 4;
    } else if (c == '\r' && r->tail_state == 4) {
        r->tail_state = 5;
    } else {
        tail_reset(r);
    }
}

static int tail_is_nonsync_literal(const struct imap_reader *r)
{
    return (r->tail_state == 4 || r->tail_state == 5) && r->tail_plus;
}

/* ---- errors ---- */

/* At a line end after an error (or a refused literal): skips a
 * non-synchronizing literal that ends the line, or marks the error
 * `close` when that cannot be done. Returns the next state. */
static int resync_at_eol(struct imap_reader *r)
{
    if (tail_is_nonsync_literal(r)) {
        if (r->tail_overflow || r->tail_len > r->limits.discard_max) {
            r->failed = 1;
            r->error.close = 1;
            tail_reset(r);
            return ST_TAG;
        }
        r->literal_len = r->tail_len;
        tail_reset(r);
        return ST_SKIP_LIT;
    }
    tail_reset(r);
    return ST_TAG;
}

/* Records an error; at_eol says the byte just read ended the line. The
 * tag is known from state: before ST_NAME there is none. */
static void fail(struct imap_reader *r, const char *kind, const char *text,
                 int at_eol)
{
    int tag_known = r->state != ST_TAG && r->state != ST_RAW_LINE;
    buf_reset(&r->error.response);
    r->error.close = 0;
    if (tag_known)
        buf_append_str(&r->error.response, r->arena.data + r->tag_off);
    else
        buf_append_char(&r->error.response, '*');
    buf_appendf(&r->error.response, " %s %s", kind, text);
    r->state = at_eol ? resync_at_eol(r) : ST_SKIP;
}

/* ---- character classes ---- */

/* Tag: ASTRING-CHAR except '+'. */
static int is_tag_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !strchr("(){%*\"\\+", c);
}

/* What the reader takes into an atom token: any visible ASCII but the
 * characters that start or end other tokens. The sub-parsers check the
 * grammar of the atom they expect ([ ] \ * % are legal in some). */
static int is_atom_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' &&
           c != '"';
}

/* ---- literals ---- */

static unsigned long long literal_room(const struct imap_reader *r)
{
    if (r->is_append)
        return r->limits.append_max - r->append_bytes;
    size_t room = r->limits.command_max > r->command_bytes
                      ? r->limits.command_max - r->command_bytes
                      : 0;
    return room < r->limits.literal_max ? room : r->limits.literal_max;
}

/* The header {n}/{n+} ended its line. Returns the event to report, or
 * -1 to go on reading (a non-synchronizing literal's data). */
static int literal_ready(struct imap_reader *r)
{
    unsigned long long n = r->literal_len;
    if (r->literal_nonsync) {
        if (r->limits.nonsync_max == 0) {
            fail(r, "BAD", "Non-synchronizing literals are not supported", 1);
            return IMAP_READER_ERROR;
        }
        if (n > r->limits.nonsync_max) {
            fail(r, "BAD", "[TOOBIG] Non-synchronizing literal too big", 1);
            return IMAP_READER_ERROR;
        }
    }
    if (n > literal_room(r)) {
        if (r->is_append && !r->literal_nonsync)
            fail(r, "NO", "[TOOBIG] Message too large", 1);
        else
            fail(r, "BAD", "[TOOBIG] Literal too big", 1);
        return IMAP_READER_ERROR;
    }
    tail_reset(r);
    if (r->is_append)
        r->append_bytes += n;
    else
        r->command_bytes += n;
    buf_reserve(&r->arena, n + 1);
    r->token_open = 1;
    r->token_eight_bit = 0;
    r->line_bytes = 0;
    r->state = ST_LIT_DATA;
    return r->literal_nonsync ? -1 : IMAP_READER_CONTINUE;
}

/* ---- the machine ---- */

/* A line end where the command may end (depth 0) or must not. */
static int end_of_line(struct imap_reader *r)
{
    if (r->depth > 0) {
        fail(r, "BAD", "Missing ')'", 1);
        return IMAP_READER_ERROR;
    }
    tail_reset(r);
    finish_command(r);
    r->state = ST_TAG;
    return IMAP_READER_COMMAND;
}

static int start_token(struct imap_reader *r, unsigned char c)
{
    struct node *n;
    r->list_closed = 0;
    switch (c) {
    case '(':
        if (r->depth >= r->limits.depth_max) {
            fail(r, "BAD", "Too deep nesting of parentheses", 0);
            return IMAP_READER_ERROR;
        }
        list_open(r);
        r->state = ST_ARG_START;
        return -1;
    case '"':
        pending_push(r, IMAP_ARG_QUOTED);
        r->token_open = 1;
        r->state = ST_QUOTED;
        return -1;
    case '{':
        pending_push(r, IMAP_ARG_LITERAL);
        r->literal_len = 0;
        r->literal_nonsync = 0;
        r->literal8 = 0;
        r->state = ST_LIT_LEN;
        return -1;
    case '~':
        r->state = ST_TILDE;
        return -1;
    default:
        if (!is_atom_char(c)) {
            fail(r, "BAD", "Invalid character in command", 0);
            return IMAP_READER_ERROR;
        }
        n = pending_push(r, IMAP_ARG_ATOM);
        (void)n;
        r->token_open = 1;
        buf_append_char(&r->arena, (char)c);
        r->state = ST_ATOM;
        return -1;
    }
}

/* One byte of text (anything but literal data). Returns an event or -1. */
static int step(struct imap_reader *r, unsigned char c)
{
    if (c != '\n' && c != '\r') {
        if (++r->line_bytes > r->limits.line_max) {
            fail(r, "BAD", "Command line too long", 0);
            return IMAP_READER_ERROR;
        }
        r->command_bytes++;
        if (r->command_bytes > r->limits.command_max) {
            fail(r, "BAD", "Command too long", 0);
            return IMAP_READER_ERROR;
        }
    }
    if (r->state == ST_CR) {
        r->state = r->after_cr;
        if (c == '\n')
            return step(r, c); /* once: the state is no longer ST_CR */
        fail(r, "BAD", "CR without LF", 0);
        return IMAP_READER_ERROR;
    }
    if (c == '\r' && r->state != ST_QUOTED && r->state != ST_QUOTED_ESC) {
        r->after_cr = r->state;
        r->state = ST_CR;
        return -1;
    }

    switch (r->state) {
    case ST_TAG:
        if (c == '\n') {
            if (r->arena.len == 0)
                return -1; /* a blank line */
            r->state = ST_NAME; /* the tag is known */
            buf_append_char(&r->arena, '\0');
            fail(r, "BAD", "Missing command name", 1);
            return IMAP_READER_ERROR;
        }
        if (c == ' ') {
            if (r->arena.len == 0) {
                fail(r, "BAD", "Missing tag", 0);
                return IMAP_READER_ERROR;
            }
            buf_append_char(&r->arena, '\0');
            r->tag_off = 0;
            r->name_off = r->arena.len;
            r->state = ST_NAME;
            return -1;
        }
        if (!is_tag_char(c)) {
            buf_reset(&r->arena);
            fail(r, "BAD", "Invalid tag", 0);
            return IMAP_READER_ERROR;
        }
        buf_append_char(&r->arena, (char)c);
        return -1;
    case ST_NAME:
        if (c == ' ' || c == '\n') {
            if (r->arena.len == r->name_off) {
                fail(r, "BAD", "Missing command name", c == '\n');
                return IMAP_READER_ERROR;
            }
            buf_append_char(&r->arena, '\0');
            r->is_append = strcmp(r->arena.data + r->name_off, "APPEND") == 0;
            if (c == '\n')
                return end_of_line(r);
            r->state = ST_ARG_START;
            return -1;
        }
        if (!is_tag_char(c)) {
            fail(r, "BAD", "Invalid command name", 0);
            return IMAP_READER_ERROR;
        }
        buf_append_char(&r->arena, (char)(c >= 'a' && c <= 'z' ? c - 32 : c));
        return -1;
    case ST_ARG_START:
        if (c == '\n') /* a trailing space is tolerated at depth 0 */
            return end_of_line(r);
        if (c == ')') {
            if (r->depth > 0 && r->opens[r->depth - 1] == r->pending_len - 1) {
                list_close(r); /* "()" */
                r->state = ST_ARG_SEP;
                return -1;
            }
            fail(r, "BAD", "Unexpected ')'", 0);
            return IMAP_READER_ERROR;
        }
        if (c == ' ') {
            fail(r, "BAD", "Double space in command", 0);
            return IMAP_READER_ERROR;
        }
        return start_token(r, c);
    case ST_ARG_SEP:
        if (c == ' ') {
            r->state = ST_ARG_START;
            return -1;
        }
        if (c == ')') {
            if (r->depth == 0) {
                fail(r, "BAD", "Unexpected ')'", 0);
                return IMAP_READER_ERROR;
            }
            list_close(r);
            return -1;
        }
        if (c == '\n')
            return end_of_line(r);
        if (c == ']' && r->list_closed) /* BODY[HEADER.FIELDS (A B)] */
            return start_token(r, c);
        fail(r, "BAD", "Missing space after argument", 0);
        return IMAP_READER_ERROR;
    case ST_TILDE:
        if (c == '{') {
            pending_push(r, IMAP_ARG_LITERAL8);
            r->literal_len = 0;
            r->literal_nonsync = 0;
            r->literal8 = 1;
            r->state = ST_LIT_LEN;
            return -1;
        }
        pending_push(r, IMAP_ARG_ATOM);
        r->token_open = 1;
        buf_append_char(&r->arena, '~');
        r->state = ST_ATOM;
        __attribute__((fallthrough)); /* c continues the atom */
    case ST_ATOM:
        if (is_atom_char(c)) {
            buf_append_char(&r->arena, (char)c);
            return -1;
        }
        if (c == ' ' || c == ')' || c == '\n') {
            token_end(r);
            if (c == ' ') {
                r->state = ST_ARG_START;
                return -1;
            }
            if (c == '\n')
                return end_of_line(r);
            if (r->depth == 0) {
                fail(r, "BAD", "Unexpected ')'", 0);
                return IMAP_READER_ERROR;
            }
            list_close(r);
            r->state = ST_ARG_SEP;
            return -1;
        }
        fail(r, "BAD", "Invalid character in atom", c == '\n');
        return IMAP_READER_ERROR;
    case ST_QUOTED:
        if (c == '"') {
            struct node *n = pending_top(r);
            if (r->token_eight_bit &&
                !utf8_valid(r->arena.data + n->off, r->arena.len - n->off)) {
                fail(r, "BAD", "Invalid UTF-8 in quoted string", 0);
                return IMAP_READER_ERROR;
            }
            token_end(r);
            r->state = ST_ARG_SEP;
            return -1;
        }
        if (c == '\\') {
            r->state = ST_QUOTED_ESC;
            return -1;
        }
        if (c == '\r' || c == '\n' || c == '\0') {
            fail(r, "BAD", "Invalid character in quoted string", c == '\n');
            return IMAP_READER_ERROR;
        }
        if (c >= 0x80)
            r->token_eight_bit = 1;
        buf_append_char(&r->arena, (char)c);
        return -1;
    case ST_QUOTED_ESC:
        if (c != '"' && c != '\\') {
            fail(r, "BAD", "Invalid escape in quoted string", c == '\n');
            return IMAP_READER_ERROR;
        }
        buf_append_char(&r->arena, (char)c);
        r->state = ST_QUOTED;
        return -1;
    case ST_LIT_LEN:
        if (c >= '0' && c <= '9') {
            /* Saturates: literal_ready() refuses it as too big. */
            if (r->literal_len > (~0ULL - 9) / 10)
                r->literal_len = ~0ULL;
            else
                r->literal_len = r->literal_len * 10 + (c - '0');
            r->literal_nonsync = -1; /* digits seen */
            return -1;
        }
        if (r->literal_nonsync == -1 && (c == '+' || c == '}')) {
            r->literal_nonsync = c == '+';
            r->state = c == '+' ? ST_LIT_PLUS : ST_LIT_CLOSE;
            return -1;
        }
        fail(r, "BAD", "Invalid literal size", c == '\n');
        return IMAP_READER_ERROR;
    case ST_LIT_PLUS:
        if (c == '}') {
            r->state = ST_LIT_CLOSE;
            return -1;
        }
        fail(r, "BAD", "Invalid literal size", c == '\n');
        return IMAP_READER_ERROR;
    case ST_LIT_CLOSE:
        if (c == '\n')
            return literal_ready(r);
        fail(r, "BAD", "A literal must end the line", 0);
        return IMAP_READER_ERROR;
    default:
        return -1;
    }
}

static int literal_data(struct imap_reader *r, const char *input,
                        size_t avail, size_t *used)
{
    size_t take = avail < r->literal_len ? avail : (size_t)r->literal_len;
    if (!r->literal8 && take > 0 && memchr(input, '\0', take))
        r->token_eight_bit |= 2; /* a NUL: reported at the end */
    for (size_t i = 0; i < take && !(r->token_eight_bit & 1); i++)
        if ((unsigned char)input[i] >= 0x80)
            r->token_eight_bit |= 1;
    buf_append(&r->arena, input, take);
    r->literal_len -= take;
    *used = take;
    if (r->literal_len > 0)
        return -1;
    int had_nul = r->token_eight_bit & 2;
    r->token_eight_bit &= 1;
    token_end(r);
    r->state = ST_ARG_SEP;
    if (had_nul) {
        fail(r, "BAD", "NUL in literal (use literal8)", 0);
        return IMAP_READER_ERROR;
    }
    return -1;
}

enum imap_reader_event imap_reader_feed(struct imap_reader *r,
                                        const char *input, size_t avail,
                                        size_t *consumed)
{
    size_t pos = 0;
    int event = -1;

    if (r->failed) {
        *consumed = avail;
        r->error.close = 1;
        if (r->error.response.len == 0)
            buf_set_str(&r->error.response, "* BAD Connection out of sync");
        return IMAP_READER_ERROR;
    }
    if (r->reset_pending) {
        r->reset_pending = 0;
        if (r->state == ST_TAG || r->state == ST_SKIP ||
            r->state == ST_SKIP_LIT)
            command_reset(r);
    }
    if (r->line_mode && r->state == ST_TAG) {
        r->line_mode = 0;
        buf_reset(&r->line);
        r->state = ST_RAW_LINE;
    }
    while (pos < avail && event < 0) {
        unsigned char c = (unsigned char)input[pos];
        size_t used;
        switch (r->state) {
        case ST_LIT_DATA:
            event = literal_data(r, input + pos, avail - pos, &used);
            pos += used;
            break;
        case ST_SKIP_LIT:
            used = avail - pos < r->literal_len ? avail - pos
                                                : (size_t)r->literal_len;
            r->literal_len -= used;
            pos += used;
            if (r->literal_len == 0)
                r->state = ST_SKIP;
            break;
        case ST_SKIP:
            pos++;
            if (c == '\n') {
                r->state = resync_at_eol(r);
                if (r->failed) {
                    buf_set_str(&r->error.response,
                                "* BAD Literal too big to skip");
                    r->error.close = 1;
                    event = IMAP_READER_ERROR;
                }
            } else {
                tail_step(r, c);
            }
            break;
        case ST_RAW_LINE:
            pos++;
            if (c == '\n') {
                if (r->line.len > 0 && r->line.data[r->line.len - 1] == '\r')
                    buf_truncate(&r->line, r->line.len - 1);
                r->state = ST_TAG;
                event = IMAP_READER_LINE;
            } else if (r->line.len >= r->limits.line_max) {
                buf_reset(&r->line);
                fail(r, "BAD", "Line too long", 0);
                event = IMAP_READER_ERROR;
            } else {
                buf_append_char(&r->line, (char)c);
            }
            break;
        default:
            pos++;
            if (c != '\n')
                tail_step(r, c);
            event = step(r, c);
            break;
        }
    }
    *consumed = pos;
    if (event == IMAP_READER_ERROR && r->error.close)
        r->failed = 1;
    if (event >= 0 && event != IMAP_READER_CONTINUE)
        r->reset_pending = 1;
    return event < 0 ? IMAP_READER_MORE : (enum imap_reader_event)event;
}
