/* servport.c: service names to TCP ports, the system's database first,
 * then a built-in table of the mail ports (servport.h). */
#include "base/servport.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stddef.h>
#include <string.h>

/* IANA's numbers; the aliases are the names Debian's /etc/services and
 * Postfix's documentation use for the same ports. */
static const struct {
    const char *name;
    int port;
} builtin_ports[] = {
    {"smtp", 25},         {"submission", 587}, {"submissions", 465},
    {"smtps", 465},       {"ssmtp", 465},      {"lmtp", 24},
    {"imap", 143},        {"imap2", 143},      {"imaps", 993},
    {"pop3", 110},        {"pop3s", 995},      {"sieve", 4190},
};

int servport_builtin(const char *name)
{
    for (size_t i = 0; i < sizeof(builtin_ports) / sizeof(builtin_ports[0]);
         i++)
        if (strcmp(builtin_ports[i].name, name) == 0)
            return builtin_ports[i].port;
    return -1;
}

int servport_lookup(const char *name)
{
    struct servent *entry = getservbyname(name, "tcp");
    if (entry) {
        int port = ntohs((unsigned short)entry->s_port);
        if (port >= 1)
            return port;
    }
    return servport_builtin(name);
}
