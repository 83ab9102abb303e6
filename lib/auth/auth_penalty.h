/* auth_penalty.h: failed-login counters for the auth service's lock-out,
 * kept per client address and per user name.
 *
 * A key's first failure opens a window of `window_ms`; each failure in
 * the window counts, and once the count reaches `threshold` the key is
 * locked until the window ends: every attempt then fails, even with the
 * right password. A success clears the user's counter (not the
 * address's, so one good account does not reset guessing at others).
 * The table holds at most AUTH_PENALTY_MAX_KEYS keys; when full, expired
 * windows are dropped, and if that frees nothing the oldest window goes.
 * Memory only: a restart forgets every count. */
#ifndef POSTERN_AUTH_PENALTY_H
#define POSTERN_AUTH_PENALTY_H

#include <stddef.h>
#include <stdint.h>

#define AUTH_PENALTY_MAX_KEYS 65536

struct auth_penalty;

/* threshold 0 disables the lock-out (nothing is ever locked). */
struct auth_penalty *auth_penalty_new(unsigned threshold, uint64_t window_ms);
void auth_penalty_free(struct auth_penalty *p);

/* 1 when key is locked out at now_ms. */
int auth_penalty_locked(struct auth_penalty *p, const char *key,
                        uint64_t now_ms);
/* Counts one failure for key; returns the count in the current window. */
unsigned auth_penalty_fail(struct auth_penalty *p, const char *key,
                           uint64_t now_ms);
/* Forgets key (after a success). */
void auth_penalty_clear(struct auth_penalty *p, const char *key);
/* Keys held (for tests). */
size_t auth_penalty_count(const struct auth_penalty *p);

#endif
