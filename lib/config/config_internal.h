/* config_internal.h: state shared by config.c (reading main.cf) and
 * config_expand.c (expansion, defaults, typed values). Not for use
 * outside the config module. */
#ifndef POSTERN_CONFIG_INTERNAL_H
#define POSTERN_CONFIG_INTERNAL_H

#include <stddef.h>

#include "config/config.h"
#include "base/str.h"

struct cfg_var {
    char *name;
    char *file_value; /* as written in main.cf, NULL when not there */
    int file_line;
    char *override; /* config_override(), NULL when none */
    char *expanded; /* cached cfg_str() result, NULL when not computed */
    int warned;     /* an expansion problem was reported */
    int failed;     /* the cached expansion is incomplete */
};

struct config_state {
    struct cfg_var *vars; /* sorted by name */
    size_t count, cap;
    char *dir;                /* last loaded configuration directory */
    char *path;               /* DIR/main.cf, for messages */
    struct strlist graveyard; /* strings handed out, freed at next load */
    char *computed_mydomain, *computed_mynetworks;
    void (*warn)(const char *message);
    int unused_warnings; /* config_set_unused_warnings() */
};

extern struct config_state cfg_state;

/* The variable for name, or NULL (then *insert_at is where it goes). */
struct cfg_var *config_find_var(const char *name, size_t *insert_at);
/* The variable for name, created (without values) when missing. */
struct cfg_var *config_get_var(const char *name);
/* Keeps a string handed out to callers alive until the next load. */
void config_retire(char **str);
/* Where name's value comes from, without computing anything (safe to
 * call while an expansion is in progress). */
enum config_source config_source_of(const char *name);
/* Reports a warning through the handler. */
void config_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The mynetworks value for a mynetworks_style (host, subnet, class),
 * from the host's interfaces; a fresh heap string. */
char *config_networks_for_style(const char *style);

#endif
