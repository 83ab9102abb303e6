/* imap_reader.h: the incremental IMAP command reader.
 *
 * imapd feeds it whatever bytes arrived (a partial line, several
 * pipelined commands, the middle of a literal) and gets events back:
 * a complete command as a tag, a name and a token tree (imap_arg.h), a
 * request to send a continuation ("+ ...") for a synchronizing literal,
 * or an error with the complete response line to send. The reader never
 * blocks and never needs the whole command at once, and the events do
 * not depend on how the input was split into reads.
 *
 * Literals: {n} (synchronizing: the CONTINUE event comes before the
 * client may send the bytes, and a literal over the limits is refused
 * with a tagged response *instead*, so the client never sends it),
 * {n+} (RFC 7888: allowed up to limits.nonsync_max; 4096 for LITERAL-)
 * and ~{n} / ~{n+} (literal8, RFC 3516, the only form that may hold NUL
 * bytes). A literal must end its line, as the grammar says.
 *
 * Errors: a malformed command yields one ERROR event whose response is
 * "TAG BAD ..." ("*" when no tag was read yet; "TAG NO [TOOBIG] ..." for
 * an APPEND message over the limit) and the reader then discards input
 * up to the end of that command's line. The discarded part is still
 * watched for a non-synchronizing literal at the end of a line, whose
 * bytes are skipped too, so literal data never reads as a command. When
 * the reader cannot find the next command boundary (a non-synchronizing
 * literal too big to discard, or with a length that does not fit) the
 * error is marked `close`: imapd answers and disconnects, and any later
 * feed returns the same error.
 *
 * Memory: an idle reader owns no buffers beyond what the last command
 * left, and imap_reader_trim() frees those; see docs/imap-protocol.md. */
#ifndef POSTERN_IMAP_READER_H
#define POSTERN_IMAP_READER_H

#include <stddef.h>

#include "base/buf.h"
#include "imap/imap_arg.h"

/* Defaults (docs/imap-protocol.md names the imapd parameters). */
#define IMAP_LINE_MAX_DEFAULT 65536
#define IMAP_LITERAL_MAX_DEFAULT 65536
#define IMAP_COMMAND_MAX_DEFAULT 262144
#define IMAP_APPEND_MAX_DEFAULT 10240000
#define IMAP_DEPTH_MAX_DEFAULT 32
#define IMAP_NONSYNC_LITERAL_MINUS 4096 /* RFC 7888 LITERAL- */
#define IMAP_NONSYNC_LITERAL_PLUS ((size_t)-1)

struct imap_reader_limits {
    /* Bytes of one line of a command: the text before the first literal,
     * between two literals, or after the last one (CRLF not counted). */
    size_t line_max;
    /* One literal in any command but APPEND. */
    size_t literal_max;
    /* Text and literals of one command, APPEND's literals excepted. */
    size_t command_max;
    /* All literals of one APPEND command together (MULTIAPPEND too),
     * so also the largest message; imapd sets it from
     * message_size_limit and advertises it as APPENDLIMIT. */
    size_t append_max;
    /* Nesting of parenthesized lists. */
    unsigned depth_max;
    /* Largest non-synchronizing literal: 0 when neither LITERAL+ nor
     * LITERAL- is advertised, IMAP_NONSYNC_LITERAL_MINUS for LITERAL-,
     * IMAP_NONSYNC_LITERAL_PLUS for LITERAL+ (the other limits still
     * apply). */
    size_t nonsync_max;
    /* A rejected non-synchronizing literal up to this size is read and
     * discarded; a bigger one makes the error `close`. */
    size_t discard_max;
};

enum imap_reader_event {
    IMAP_READER_MORE,     /* all input used; feed more when it arrives */
    IMAP_READER_CONTINUE, /* send a continuation ("+ OK"), then feed on */
    IMAP_READER_COMMAND,  /* reader->command holds a complete command */
    IMAP_READER_ERROR,    /* send reader->error.response, then feed on */
    IMAP_READER_LINE,     /* line mode: reader->line holds the line */
};

struct imap_command {
    const char *tag;  /* NUL-terminated, as sent */
    size_t tag_len;
    const char *name; /* upper-cased: "FETCH", "UID", "APPEND", ... */
    const struct imap_arg *args;
    size_t arg_count;
};

struct imap_reader_error {
    /* The response line without CRLF, e.g. "a1 BAD Command line too
     * long" or "a2 NO [TOOBIG] Message too large". */
    struct buf response;
    int close; /* the reader cannot resynchronize: disconnect */
};

struct imap_reader {
    struct imap_reader_limits limits;
    struct imap_command command; /* valid after COMMAND, until next feed */
    struct imap_reader_error error; /* valid after ERROR */
    struct buf line;                /* valid after LINE, until next feed */

    /* Private state. */
    int state;
    int after_cr;       /* the state to resume when a CR was seen */
    int line_mode;      /* the next line is a raw line */
    int failed;         /* a `close` error happened */
    int reset_pending;  /* an event was returned: start afresh */
    int list_closed;    /* the last token closed a list */
    int is_append;
    int literal8;
    int literal_nonsync;
    unsigned depth;
    unsigned long long literal_len;  /* the literal being read/skipped */
    size_t line_bytes;               /* in the current line segment */
    size_t command_bytes;            /* for command_max */
    size_t append_bytes;             /* for append_max */
    int token_open;                  /* a token is being built */
    int token_eight_bit;
    /* The watch for "{digits[+]}" at the end of a line. */
    int tail_state;
    int tail_plus;
    unsigned long long tail_len;
    int tail_overflow;

    struct buf arena;   /* bytes of tag, name and tokens */
    void *pending;      /* build nodes not yet placed (a stack) */
    size_t pending_len, pending_cap;
    void *placed;       /* build nodes in their final order */
    size_t placed_len, placed_cap;
    size_t *opens;      /* pending index of each open list */
    size_t opens_cap;
    struct imap_arg *tree;
    size_t tree_cap;
    size_t tag_off, name_off;
};

/* Sets the defaults above (no LITERAL+/-) and zeroes everything. */
void imap_reader_limits_default(struct imap_reader_limits *limits);

void imap_reader_init(struct imap_reader *r,
                      const struct imap_reader_limits *limits);
void imap_reader_free(struct imap_reader *r);

/* Looks at input[0..avail) and uses a prefix of it (*consumed bytes),
 * stopping at the first event. Call again with the rest (and then with
 * new input) until it returns MORE, which it does only when all of the
 * input has been used. */
enum imap_reader_event imap_reader_feed(struct imap_reader *r,
                                        const char *input, size_t avail,
                                        size_t *consumed);

/* The next line is read as a raw line (AUTHENTICATE responses, IDLE's
 * DONE): the event is LINE with reader->line, CRLF removed, or ERROR
 * when it is longer than line_max. Call between commands. */
void imap_reader_expect_line(struct imap_reader *r);

/* Whether the reader is between commands (nothing of the next one read
 * yet), e.g. to decide that a session is idle. */
int imap_reader_idle(const struct imap_reader *r);

/* Frees the buffers an idle reader kept from its last command (call
 * when a session goes idle, after it is done with reader->command). */
void imap_reader_trim(struct imap_reader *r);

#endif
