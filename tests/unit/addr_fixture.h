/* addr_fixture.h: shared set-up for the rewrite, resolve and
 * recipient_check tests: a temporary directory for table files and the
 * settings of a small site (example.com is local, vmail.test virtual,
 * alias.test virtual alias, relay.test relayed). */
#ifndef POSTERN_ADDR_FIXTURE_H
#define POSTERN_ADDR_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "routing/recipient_check.h"
#include "routing/resolve.h"
#include "routing/rewrite.h"

static char fixture_dir[256];

static inline int fixture_init(const char *name)
{
    snprintf(fixture_dir, sizeof(fixture_dir), "/tmp/%s.XXXXXX", name);
    if (mkdtemp(fixture_dir) == NULL) {
        perror("mkdtemp");
        return -1;
    }
    return 0;
}

static inline void fixture_cleanup(void)
{
    char *cmd = xasprintf("rm -rf %s", fixture_dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", fixture_dir);
    free(cmd);
}

/* Writes a table file and returns "type:path" (static storage, one of
 * 16 slots so several specs can be alive at once). */
static inline const char *fixture_table(const char *type, const char *name,
                                        const char *text)
{
    static char specs[16][512];
    static int slot;
    char path[400];
    snprintf(path, sizeof(path), "%s/%s", fixture_dir, name);
    FILE *fp = fopen(path, "w");
    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
    char *spec = specs[slot++ % 16];
    snprintf(spec, 512, "%s:%s", type, path);
    return spec;
}

/* A path in the fixture directory that does not exist. */
static inline const char *fixture_missing(const char *type)
{
    static char spec[512];
    snprintf(spec, sizeof(spec), "%s:%s/no-such-table", type, fixture_dir);
    return spec;
}

static inline void fixture_rewrite_settings(struct rewrite_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->myhostname = "mail.example.com";
    s->myorigin = "example.com";
    s->mydomain = "example.com";
    s->mydestination = "mail.example.com, localhost.example.com, localhost, "
                       "example.com";
    s->inet_interfaces = "127.0.0.1";
    s->proxy_interfaces = "192.0.2.25";
    s->append_at_myorigin = 1;
    s->append_dot_mydomain = 0;
    s->swap_bangpath = 1;
    s->allow_percent_hack = 1;
    s->recipient_delimiter = "+";
    s->propagate_unmatched_extensions = "canonical, virtual";
    s->canonical_maps = "";
    s->sender_canonical_maps = "";
    s->recipient_canonical_maps = "";
    s->canonical_classes =
        "envelope_sender, envelope_recipient, header_sender, header_recipient";
    s->sender_canonical_classes = "envelope_sender, header_sender";
    s->recipient_canonical_classes = "envelope_recipient, header_recipient";
    s->virtual_alias_maps = "";
    s->virtual_alias_recursion_limit = 1000;
    s->virtual_alias_expansion_limit = 1000;
    s->virtual_alias_address_length_limit = 1000;
    s->remote_header_rewrite_domain = "";
}

static inline void fixture_resolve_settings(struct resolve_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->virtual_alias_domains = "alias.test";
    s->virtual_mailbox_domains = "vmail.test";
    s->relay_domains = "relay.test";
    s->parent_domain_matches_subdomains = "relay_domains";
    s->local_transport = "local:mail.example.com";
    s->virtual_transport = "virtual";
    s->relay_transport = "relay";
    s->default_transport = "smtp";
    s->relayhost = "";
    s->transport_maps = "";
    s->empty_address_recipient = "MAILER-DAEMON";
    s->show_user_unknown_table_name = 1;
}

static inline struct rewrite *fixture_rewrite(const struct rewrite_settings *s)
{
    struct buf err = BUF_INIT;
    struct rewrite *rw = rewrite_open(s, &err);
    if (rw == NULL)
        printf("#   rewrite_open: %s\n", buf_cstr(&err));
    buf_free(&err);
    return rw;
}

#endif
