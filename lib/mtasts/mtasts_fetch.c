/* mtasts_fetch.c: the HTTPS GET of an MTA-STS policy with libcurl's
 * easy interface (see mtasts_fetch.h).
 *
 * Why a blocking easy handle in a worker thread rather than the multi
 * interface on the event loop: a fetch is rare (once per domain and
 * max_age, or when the TXT id changes), the result must go through the
 * cache file anyway, and the worker keeps libcurl's socket and timer
 * callbacks out of the daemons' loop. CURLOPT_NOSIGNAL makes libcurl
 * safe in threads. The name mta-sts.DOMAIN is looked up by the caller
 * on the process's DNS client (postern_dns_servers, libunbound) and
 * handed to libcurl with CURLOPT_RESOLVE, so that the policy host comes
 * from the same DNS as the MX hosts and the tests never reach the
 * system's resolver (Debian's libcurl is built without c-ares, so
 * CURLOPT_DNS_SERVERS is not available). */
#include "mtasts/mtasts_fetch.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mtasts/mtasts_policy.h"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void mtasts_fetch_global_init(void)
{
    pthread_once(&global_once, global_init);
}

struct sink {
    struct buf *body;
    int too_big;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    struct sink *sink = ctx;
    size_t len = size * nmemb;
    if (sink->body->len + len > MTASTS_POLICY_MAX) {
        sink->too_big = 1;
        return 0; /* aborts the transfer (CURLE_WRITE_ERROR) */
    }
    buf_append(sink->body, data, len);
    return len;
}

/* text/plain, any case, optionally followed by parameters. */
static int is_text_plain(const char *type)
{
    if (type == NULL || strncasecmp(type, "text/plain", 10) != 0)
        return 0;
    char next = type[10];
    return next == '\0' || next == ';' || next == ' ' || next == '\t';
}

/* CURLOPT_RESOLVE entries "mta-sts.DOMAIN:PORT:ADDR,ADDR" for port
 * 443 and for every port a CONNECT_TO entry sends the request to:
 * libcurl looks the name up under the port it connects to. */
static struct curl_slist *resolve_list(const char *domain,
                                       const struct mtasts_fetch_settings *s)
{
    struct buf addrs = BUF_INIT;
    for (size_t i = 0; i < s->resolve->count; i++) {
        const char *a = s->resolve->items[i];
        buf_appendf(&addrs, strchr(a, ':') ? "%s[%s]" : "%s%s", i ? "," : "",
                    a);
    }
    struct curl_slist *list = NULL;
    struct buf entry = BUF_INIT;
    buf_appendf(&entry, "mta-sts.%s:443:%s", domain, buf_cstr(&addrs));
    list = curl_slist_append(list, buf_cstr(&entry));
    for (size_t i = 0; s->connect_to && i < s->connect_to->count; i++) {
        const char *port = strrchr(s->connect_to->items[i], ':');
        if (port == NULL || port[1] == '\0' || strcmp(port + 1, "443") == 0 ||
            strspn(port + 1, "0123456789") != strlen(port + 1))
            continue;
        buf_reset(&entry);
        buf_appendf(&entry, "mta-sts.%s:%s:%s", domain, port + 1,
                    buf_cstr(&addrs));
        list = curl_slist_append(list, buf_cstr(&entry));
    }
    buf_free(&entry);
    buf_free(&addrs);
    return list;
}

int mtasts_fetch(const char *domain, const struct mtasts_fetch_settings *s,
                 struct buf *body, struct buf *err)
{
    mtasts_fetch_global_init();
    buf_reset(body);
    buf_reset(err);
    if (s->resolve && s->resolve->count == 0) {
        buf_appendf(err, "mta-sts.%s: %s", domain,
                    s->resolve_why && *s->resolve_why ? s->resolve_why
                                                       : "no address");
        return -1;
    }
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        buf_append_str(err, "cannot create a libcurl handle");
        return -1;
    }
    char *url = NULL;
    struct buf urlbuf = BUF_INIT;
    buf_appendf(&urlbuf, "https://mta-sts.%s/.well-known/mta-sts.txt", domain);
    url = buf_detach(&urlbuf);
    struct curl_slist *connect_to = NULL;
    if (s->connect_to)
        for (size_t i = 0; i < s->connect_to->count; i++)
            connect_to = curl_slist_append(connect_to, s->connect_to->items[i]);
    struct curl_slist *resolve = s->resolve ? resolve_list(domain, s) : NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    struct sink sink = {body, 0};

    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L); /* RFC 8461 3.3 */
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (s->ca_file && *s->ca_file)
        curl_easy_setopt(curl, CURLOPT_CAINFO, s->ca_file);
    curl_easy_setopt(curl, CURLOPT_PROXY, ""); /* never an environment proxy */
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, s->connect_timeout_s);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, s->total_timeout_s);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE, (long)MTASTS_POLICY_MAX);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "Postern MTA-STS");
    if (connect_to)
        curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connect_to);
    if (resolve)
        curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);

    int result = -1;
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    char *type = NULL;
    if (rc == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
    }
    if (sink.too_big || rc == CURLE_FILESIZE_EXCEEDED)
        buf_appendf(err, "policy larger than %d bytes", MTASTS_POLICY_MAX);
    else if (rc != CURLE_OK)
        buf_appendf(err, "%s", *errbuf ? errbuf : curl_easy_strerror(rc));
    else if (status != 200)
        buf_appendf(err, "HTTP status %ld", status);
    else if (!is_text_plain(type))
        buf_appendf(err, "Content-Type %s, not text/plain",
                    type ? type : "missing");
    else
        result = 0;
    if (result != 0)
        buf_reset(body);
    curl_slist_free_all(connect_to);
    curl_slist_free_all(resolve);
    curl_easy_cleanup(curl);
    free(url);
    return result;
}
