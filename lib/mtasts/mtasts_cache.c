/* mtasts_cache.c: the per-domain MTA-STS policy files (see
 * mtasts_cache.h). Format, text:
 *   postern-mta-sts 1
 *   id: ID
 *   fetched: UNIX-TIME
 *   (empty line)
 *   the policy as served */
#include "mtasts/mtasts_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file_read.h"
#include "base/fsync_dir.h"
#include "base/log.h"

#define CACHE_MAGIC "postern-mta-sts 1\n"
#define CACHE_HEADER_MAX 256

/* The domain is used as a file name: only a lower-case host name. */
static int safe_domain(const char *domain)
{
    if (*domain == '\0' || *domain == '.' || strlen(domain) > 253)
        return 0;
    for (const char *c = domain; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '.'))
            return 0;
    return strstr(domain, "..") == NULL;
}

static void entry_path(const char *dir, const char *domain, struct buf *path)
{
    buf_reset(path);
    buf_appendf(path, "%s/mta-sts/%s", dir, domain);
}

int mtasts_cache_read(const char *dir, const char *domain,
                      struct mtasts_cache_entry *out, struct buf *err)
{
    buf_reset(err);
    if (!safe_domain(domain))
        return 0;
    struct buf path = BUF_INIT, text = BUF_INIT, why = BUF_INIT;
    entry_path(dir, domain, &path);
    int result = 0;
    if (file_read(buf_cstr(&path), MTASTS_POLICY_MAX + CACHE_HEADER_MAX, &text,
                  err) != 0) {
        result = errno == ENOENT ? 0 : -1;
        if (result == 0)
            buf_reset(err);
        goto done;
    }
    const char *t = buf_cstr(&text);
    long long fetched = 0;
    int consumed = 0;
    memset(out, 0, sizeof(*out));
    if (strncmp(t, CACHE_MAGIC, strlen(CACHE_MAGIC)) != 0 ||
        sscanf(t + strlen(CACHE_MAGIC), "id: %32[A-Za-z0-9]\nfetched: %lld\n\n%n",
               out->id, &fetched, &consumed) != 2 ||
        consumed == 0) {
        log_warn("%s: malformed MTA-STS cache entry, ignored", buf_cstr(&path));
        goto done;
    }
    size_t off = strlen(CACHE_MAGIC) + (size_t)consumed;
    if (mtasts_policy_parse(t + off, text.len - off, &out->policy, &why) != 0) {
        log_warn("%s: cached MTA-STS policy does not parse (%s), ignored",
                 buf_cstr(&path), buf_cstr(&why));
        goto done;
    }
    out->fetched = (time_t)fetched;
    result = 1;
done:
    buf_free(&path);
    buf_free(&text);
    buf_free(&why);
    return result;
}

int mtasts_cache_write(const char *dir, const char *domain, const char *id,
                       time_t fetched, const char *policy_text, size_t len,
                       struct buf *err)
{
    buf_reset(err);
    if (!safe_domain(domain)) {
        buf_appendf(err, "%s: not a domain name", domain);
        return -1;
    }
    struct buf path = BUF_INIT, tmp = BUF_INIT, data = BUF_INIT;
    int result = -1, fd = -1;
    buf_appendf(&tmp, "%s/mta-sts", dir);
    if (mkdir(buf_cstr(&tmp), 0700) != 0 && errno != EEXIST) {
        buf_appendf(err, "%s: cannot create: %s", buf_cstr(&tmp), strerror(errno));
        goto done;
    }
    entry_path(dir, domain, &path);
    buf_reset(&tmp);
    buf_appendf(&tmp, "%s.%ld.tmp", buf_cstr(&path), (long)getpid());
    buf_appendf(&data, "%sid: %s\nfetched: %lld\n\n", CACHE_MAGIC, id,
                (long long)fetched);
    buf_append(&data, policy_text, len);
    fd = open(buf_cstr(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
              0600);
    if (fd < 0) {
        buf_appendf(err, "%s: cannot create: %s", buf_cstr(&tmp), strerror(errno));
        goto done;
    }
    size_t written = 0;
    while (written < data.len) {
        ssize_t n = write(fd, data.data + written, data.len - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            buf_appendf(err, "%s: cannot write: %s", buf_cstr(&tmp), strerror(errno));
            goto done;
        }
        written += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        buf_appendf(err, "%s: cannot sync: %s", buf_cstr(&tmp), strerror(errno));
        goto done;
    }
    fd = -1;
    if (rename(buf_cstr(&tmp), buf_cstr(&path)) != 0) {
        buf_appendf(err, "%s: cannot rename: %s", buf_cstr(&path), strerror(errno));
        goto done;
    }
    if (fsync_parent_dir(buf_cstr(&path), err) != 0)
        goto done;
    result = 0;
done:
    if (fd >= 0)
        close(fd);
    if (result != 0 && tmp.len > 0)
        unlink(buf_cstr(&tmp));
    buf_free(&path);
    buf_free(&tmp);
    buf_free(&data);
    return result;
}

int mtasts_cache_fresh(const struct mtasts_cache_entry *entry, time_t now)
{
    return (long long)entry->fetched + entry->policy.max_age > (long long)now;
}
