/* spf_header.h: SPF results as header text: the Received-SPF field of
 * RFC 7208 section 9.1 and the "spf=" method of an Authentication-Results
 * field (RFC 8601 section 2.7.2), which DMARC, ARC and the
 * Authentication-Results writer consume later. */
#ifndef POSTERN_SPF_HEADER_H
#define POSTERN_SPF_HEADER_H

#include "base/buf.h"
#include "spf/spf.h"

/* Appends the Received-SPF field body (without "Received-SPF: "):
 *   pass (host: domain of a@b designates 192.0.2.1 as permitted sender)
 *   client-ip=192.0.2.1; envelope-from="a@b"; helo=h; receiver=host;
 *   identity=mailfrom; mechanism="ip4:192.0.2.0/24"
 * (problem= for permerror and temperror). One line; the caller folds. */
void spf_received_spf(const struct spf_request *req,
                      const struct spf_outcome *out, struct buf *field);
/* Appends the Authentication-Results method and properties:
 *   spf=pass smtp.mailfrom=a@b     (smtp.helo=h for the HELO identity) */
void spf_auth_results(const struct spf_request *req,
                      const struct spf_outcome *out, struct buf *field);
/* Appends the comment text for the result ("domain of a@b designates
 * 192.0.2.1 as permitted sender"), also used in log lines. */
void spf_result_comment(const struct spf_request *req,
                        const struct spf_outcome *out, struct buf *text);

#endif
