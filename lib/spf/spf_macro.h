/* spf_macro.h: SPF macro strings (RFC 7208 section 7): their syntax and
 * their expansion with every letter (s l o d i p h v, and c r t in
 * explanations) and transformer (a right-hand part count, reversal,
 * delimiters; an upper-case letter URL-escapes the value).
 *
 * Pure functions over the values the evaluator gives (lib/spf/spf.c);
 * the one value that needs DNS, %{p}, is passed in already resolved.
 * Fuzzed by fuzz/fuzz_spf_record.c. */
#ifndef POSTERN_SPF_MACRO_H
#define POSTERN_SPF_MACRO_H

#include <stddef.h>

#include "base/buf.h"
#include "spf/spf_ip.h"

/* What the letters expand to. Strings are NUL-terminated; NULL ptr_name
 * and receiver expand to "unknown". */
struct spf_macro_vars {
    const char *sender;        /* s: local-part@domain */
    const char *local_part;    /* l */
    const char *sender_domain; /* o */
    const char *domain;        /* d: the domain being checked */
    const struct spf_ip *ip;   /* i, c, v */
    const char *helo;          /* h */
    const char *ptr_name;      /* p: the validated name of ip */
    const char *receiver;      /* r (explanations only) */
    long long now;             /* t (explanations only), seconds */
};

/* Where a macro string appears: a domain-spec or modifier value (no
 * spaces, letters c r t refused) or an explanation (spaces allowed, c r t
 * too). */
enum spf_macro_context { SPF_MACRO_DOMAIN, SPF_MACRO_EXPLANATION };

/* Checks the syntax of text[0..len). Returns 0, or -1 with the reason
 * appended to err. */
int spf_macro_check(const char *text, size_t len, enum spf_macro_context where,
                    struct buf *err);
/* Whether a well-formed macro string uses the letter (lower case), such
 * as 'p', whose value the caller must look up first. */
int spf_macro_uses(const char *text, size_t len, char letter);
/* Expands a macro string that passed spf_macro_check, appending to out
 * (at most SPF_MACRO_OUT_MAX bytes; the rest is dropped). Returns 0, or
 * -1 (with the reason in err) when it is malformed after all. */
int spf_macro_expand(const char *text, size_t len, enum spf_macro_context where,
                     const struct spf_macro_vars *vars, struct buf *out,
                     struct buf *err);

#define SPF_MACRO_OUT_MAX 4096
/* Part counts above this mean "all parts". */
#define SPF_MACRO_PARTS_MAX 128

#endif
