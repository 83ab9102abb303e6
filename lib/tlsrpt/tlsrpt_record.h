/* tlsrpt_record.h: the SMTP client's record of TLS outcomes, kept per
 * destination and day for the TLS reports of RFC 8460 (TLS-RPT), which
 * a later reporter aggregates and sends.
 *
 * One line per outcome (a session's TLS result, or a policy that could
 * not be applied) appended to $data_directory/tls-rpt/YYYY-MM-DD (the
 * UTC day), written by the smtp processes with one write() on an
 * O_APPEND descriptor: every line is shorter than PIPE_BUF, so lines of
 * concurrent processes never interleave. The line (docs/tls-rpt.md):
 *
 *   v1 TIME DOMAIN POLICY ID MODE MAX_AGE MX RESULT HOST ADDR SENDER REASON
 *
 * fields separated by one space, each percent-encoded (bytes outside
 * 0x21..0x7e, and '%', as %XX), "-" for an empty one. The reader skips
 * lines that do not parse (a future version, a damaged file). */
#ifndef POSTERN_TLSRPT_RECORD_H
#define POSTERN_TLSRPT_RECORD_H

#include <stddef.h>
#include <time.h>

#include "base/buf.h"

/* Longest line written, newline included (below PIPE_BUF, 4096). */
#define TLSRPT_LINE_MAX 4000
/* Longest mx pattern list kept (comma-separated, before encoding); a
 * longer one is cut at a comma and ends with ",..." */
#define TLSRPT_MX_MAX 1024

/* RFC 8460 section 4.4's policy types. */
enum tlsrpt_policy {
    TLSRPT_POLICY_NONE, /* "no-policy-found" */
    TLSRPT_POLICY_STS,  /* "sts" */
    TLSRPT_POLICY_TLSA, /* "tlsa" */
};

struct tlsrpt_record {
    time_t when;
    char domain[256];      /* the policy domain (the next-hop domain) */
    enum tlsrpt_policy policy;
    char policy_id[40];    /* sts: the TXT record's id */
    char mode[16];         /* sts: "enforce", "testing" */
    long max_age;          /* sts */
    char mx[TLSRPT_MX_MAX + 8]; /* sts: the mx patterns, commas */
    /* "success", or an RFC 8460 section 4.3 result type:
     * starttls-not-supported, certificate-host-mismatch,
     * certificate-expired, certificate-not-trusted, validation-failure,
     * sts-policy-fetch-error, sts-policy-invalid, sts-webpki-invalid,
     * tlsa-invalid, dnssec-invalid, dane-required. */
    char result[40];
    char host[256];        /* the receiving MX host name */
    char addr[48];         /* its address */
    char sender[48];       /* our address on the connection */
    char reason[512];      /* free text: the deferral reason */
};

const char *tlsrpt_policy_name(enum tlsrpt_policy policy);
/* -1 for a name that is not one. */
int tlsrpt_policy_parse(const char *name, enum tlsrpt_policy *out);

/* The line for r, newline included, into out (replaced). Fields too
 * long for TLSRPT_LINE_MAX are cut (reason first). */
void tlsrpt_record_format(const struct tlsrpt_record *r, struct buf *out);
/* Parses one line (with or without its newline). 0, or -1 when it is
 * not a v1 record. */
int tlsrpt_record_parse(const char *line, size_t len, struct tlsrpt_record *out);

/* "DIR/tls-rpt/YYYY-MM-DD" for the UTC day of when. */
void tlsrpt_day_path(const char *data_dir, time_t when, struct buf *out);

/* Appends r to its day's file under data_dir (DIR/tls-rpt created,
 * mode 0700, when missing). The descriptor of the current day's file
 * is kept open between calls (one per process) and reopened when the
 * day changes. 0, or -1 with the reason in err. */
int tlsrpt_record_append(const char *data_dir, const struct tlsrpt_record *r,
                         struct buf *err);
/* Closes the kept descriptor (tests, process exit). */
void tlsrpt_record_close(void);

/* Reads every record of a day's file, calling fn for each (in file
 * order). Returns the number of records read, or -1 with err set when
 * the file cannot be read ("missing" is 0 records). */
long tlsrpt_read_day(const char *path,
                     void (*fn)(const struct tlsrpt_record *r, void *ctx),
                     void *ctx, struct buf *err);

#endif
