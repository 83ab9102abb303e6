/* servport.h: TCP port numbers for service names ("smtp", "submission",
 * "imaps"), as master.cf's inet column and host:port forms use them.
 *
 * The system's services database (/etc/services through getservbyname)
 * is asked first, so a site's own entry wins; a name it does not know,
 * or a system without /etc/services (minimal containers), falls back to
 * a small built-in table of the mail ports (servport_builtin). */
#ifndef POSTERN_SERVPORT_H
#define POSTERN_SERVPORT_H

/* The port (1..65535) of a TCP service name, or -1 when neither the
 * system nor the built-in table knows it. */
int servport_lookup(const char *name);

/* The built-in table alone: smtp 25, submission 587, submissions and
 * its aliases smtps/ssmtp 465, lmtp 24, imap/imap2 143, imaps 993,
 * pop3 110, pop3s 995, sieve 4190. -1 for any other name. */
int servport_builtin(const char *name);

#endif
