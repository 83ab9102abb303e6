/* nexthop.c: parsing the next hops of the SMTP and LMTP clients
 * (nexthop.h). */
#include "dns/nexthop.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "base/servport.h"
#include "base/str.h"
#include "message/address.h"

/* Longest next hop we look at: a bracketed IPv6 literal with "ipv6:" and
 * a service name, or a 253-byte name and a port. */
#define NEXTHOP_TEXT_MAX 512

static int parse_port(const char *text, unsigned *port, struct buf *err)
{
    long number;
    if (*text == '\0') {
        buf_append_str(err, "empty port");
        return -1;
    }
    if (text[0] >= '0' && text[0] <= '9') {
        if (str_to_long(text, &number) < 0 || number < 1 || number > 65535) {
            buf_appendf(err, "bad port \"%.40s\"", text);
            return -1;
        }
        *port = (unsigned)number;
        return 0;
    }
    int found = servport_lookup(text);
    if (found < 1) {
        buf_appendf(err, "unknown service \"%.40s\"", text);
        return -1;
    }
    *port = (unsigned)found;
    return 0;
}

/* An address literal's inside: "192.0.2.1", "ipv6:2001:db8::1" or
 * "2001:db8::1". Returns 1 and fills the address when it is one. */
static int parse_address(const char *text, struct nexthop *out)
{
    const char *v6 = text;
    if (strncasecmp(text, "ipv6:", 5) == 0)
        v6 = text + 5;
    else if (inet_pton(AF_INET, text, out->addr) == 1) {
        out->family = AF_INET;
        str_copy(out->host, text, sizeof(out->host));
        return 1;
    }
    if (inet_pton(AF_INET6, v6, out->addr) == 1) {
        out->family = AF_INET6;
        str_copy(out->host, v6, sizeof(out->host));
        return 1;
    }
    return 0;
}

/* A host or domain name: drops one trailing dot, checks the syntax. */
static int set_name(const char *text, size_t len, struct nexthop *out,
                    struct buf *err)
{
    if (len > 0 && text[len - 1] == '.')
        len--;
    if (len == 0 || len > DNS_NAME_MAX) {
        buf_appendf(err, "bad host name \"%.*s\"", (int)(len > 80 ? 80 : len),
                    text);
        return -1;
    }
    memcpy(out->host, text, len);
    out->host[len] = '\0';
    if (!address_valid_hostname(out->host, ADDRESS_FLAG_UTF8)) {
        buf_appendf(err, "bad host name \"%.80s\"", out->host);
        return -1;
    }
    return 0;
}

/* host, host:port, [host], [host]:port. mx: whether a bare name is a
 * domain (smtp) or a host (lmtp). */
static int parse_host_port(const char *text, unsigned default_port, int mx,
                           struct nexthop *out, struct buf *err)
{
    const char *port_text = NULL;
    const char *name;
    size_t name_len;
    int bracketed = text[0] == '[';
    if (bracketed) {
        const char *close = strchr(text, ']');
        if (close == NULL) {
            buf_appendf(err, "missing ']' in \"%.80s\"", text);
            return -1;
        }
        name = text + 1;
        name_len = (size_t)(close - name);
        if (close[1] == ':')
            port_text = close + 2;
        else if (close[1] != '\0') {
            buf_appendf(err, "junk after ']' in \"%.80s\"", text);
            return -1;
        }
    } else {
        const char *colon = strrchr(text, ':');
        name = text;
        name_len = colon ? (size_t)(colon - text) : strlen(text);
        if (colon)
            port_text = colon + 1;
    }
    out->port = default_port;
    if (port_text && parse_port(port_text, &out->port, err) < 0)
        return -1;
    char inner[NEXTHOP_TEXT_MAX];
    if (name_len == 0 || name_len >= sizeof(inner)) {
        buf_appendf(err, "empty or overlong host in \"%.80s\"", text);
        return -1;
    }
    memcpy(inner, name, name_len);
    inner[name_len] = '\0';
    if (parse_address(inner, out)) {
        /* Postfix takes a bare address as a host too, never as a domain. */
        out->kind = NEXTHOP_ADDRESS;
        return 0;
    }
    if (bracketed && strchr(inner, ':')) {
        buf_appendf(err, "bad address literal \"%.80s\"", text);
        return -1;
    }
    if (set_name(inner, name_len, out, err) < 0)
        return -1;
    out->kind = (bracketed || !mx) ? NEXTHOP_HOST : NEXTHOP_DOMAIN;
    return 0;
}

static int prepare(const char *text, struct nexthop *out, struct buf *err)
{
    memset(out, 0, sizeof(*out));
    if (text == NULL || *text == '\0') {
        buf_append_str(err, "empty next hop");
        return -1;
    }
    if (strlen(text) >= NEXTHOP_TEXT_MAX) {
        buf_append_str(err, "next hop too long");
        return -1;
    }
    for (const char *p = text; *p; p++)
        if ((unsigned char)*p <= ' ') {
            buf_appendf(err, "white space or control character in \"%.80s\"",
                        text);
            return -1;
        }
    return 0;
}

int nexthop_parse_smtp(const char *text, unsigned default_port,
                       struct nexthop *out, struct buf *err)
{
    if (prepare(text, out, err) < 0)
        return -1;
    /* Postfix's smtp takes "inet:" as lmtp does; it means nothing more. */
    if (strncasecmp(text, "inet:", 5) == 0)
        text += 5;
    return parse_host_port(text, default_port, 1, out, err);
}

int nexthop_parse_lmtp(const char *text, unsigned default_port,
                       struct nexthop *out, struct buf *err)
{
    if (prepare(text, out, err) < 0)
        return -1;
    if (strncasecmp(text, "unix:", 5) == 0) {
        const char *path = text + 5;
        if (*path == '\0' || strlen(path) >= sizeof(out->path)) {
            buf_appendf(err, "bad unix socket path in \"%.80s\"", text);
            return -1;
        }
        out->kind = NEXTHOP_UNIX;
        str_copy(out->path, path, sizeof(out->path));
        return 0;
    }
    if (strncasecmp(text, "inet:", 5) == 0)
        text += 5;
    return parse_host_port(text, default_port, 0, out, err);
}

void nexthop_format(const struct nexthop *hop, unsigned default_port,
                    struct buf *out)
{
    buf_reset(out);
    switch (hop->kind) {
    case NEXTHOP_UNIX:
        buf_appendf(out, "unix:%s", hop->path);
        return;
    case NEXTHOP_DOMAIN:
        buf_append_str(out, hop->host);
        /* "inet:5" would read back as the "inet:" prefix and host "5";
         * the trailing dot keeps it the domain "inet" (fuzz finding,
         * corpus/nexthop/inet-domain-with-port). */
        if (strcasecmp(hop->host, "inet") == 0)
            buf_append_str(out, ".");
        break;
    case NEXTHOP_HOST:
        buf_appendf(out, "[%s]", hop->host);
        break;
    case NEXTHOP_ADDRESS:
        buf_appendf(out, hop->family == AF_INET6 ? "[ipv6:%s]" : "[%s]",
                    hop->host);
        break;
    }
    if (hop->port != default_port)
        buf_appendf(out, ":%u", hop->port);
}
