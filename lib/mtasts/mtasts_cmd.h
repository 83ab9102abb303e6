/* mtasts_cmd.h: `postern mta-sts DOMAIN [MX-HOST...]`, which shows an
 * administrator the MTA-STS decision the smtp client would apply to a
 * destination (the same lookup, cache and settings from main.cf), and
 * the one-shot lookup it runs on a private event loop (also used by the
 * tests' helper mtastsq). docs/postern.md describes the command. */
#ifndef POSTERN_MTASTS_CMD_H
#define POSTERN_MTASTS_CMD_H

#include "base/buf.h"
#include "mtasts/mtasts.h"

/* Looks up the decision for domain with main.cf's settings (loaded by
 * the caller): a DNS client and an MTA-STS client on a loop of their
 * own, bounded by the lookup's own timeouts. fn gets the decision once.
 * 0, or -1 with err set when the clients cannot be made or no decision
 * came in time. */
int mtasts_cmd_lookup(const char *domain,
                      void (*fn)(const struct mtasts_decision *decision,
                                 void *ctx),
                      void *ctx, struct buf *err);

/* Runs the command; argv[0] is "mta-sts", argv[1] the domain, then MX
 * host names whose verdict is shown. main.cf is loaded. Prints on
 * stdout; errors go to the log. Returns the exit status: 0 (a decision,
 * whatever it is), 1 when the lookup could not run, 2 on a bad command
 * line. */
int mtasts_cmd_run(int argc, char **argv);

#endif
