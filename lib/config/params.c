/* params.c: the parameter table (see params.h).
 *
 * Names, defaults and bounds follow Postfix 3 with compatibility_level
 * 3.6 (so append_dot_mydomain = no, relay_domains empty, mynetworks_style
 * host), except where docs/configuration.md says why Postern differs.
 * Each owner appends rows to its own section below so that branches
 * merge without conflicts. Bounds: min/max apply to int and size values
 * and, in seconds, to time values; max 0 means no upper bound. */
#include "config/params.h"

#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/str.h"

#define NOLIMIT 0
#define RO PARAM_F_READONLY
#define BUILD PARAM_F_BUILD
#define COMPUTED PARAM_F_COMPUTED

const struct param_def param_table[] = {
    /* ---- identity and versions (config) ---- */
    {"mail_name", PARAM_STR, "Postern", 0, 0, RO,
     "the product name used in the SMTP greeting and in bounces"},
    {"mail_version", PARAM_STR, POSTERN_VERSION, 0, 0, RO | BUILD,
     "the Postern release (read-only)"},
    {"compatibility_level", PARAM_STR, "3.6", 0, 0, 0,
     "Postfix compatibility level whose defaults Postern follows"},
    {"myhostname", PARAM_STR, "localhost.localdomain", 0, 0, COMPUTED,
     "this host's fully-qualified name; default: from gethostname()"},
    {"mydomain", PARAM_STR, "localdomain", 0, 0, COMPUTED,
     "this host's domain; default: $myhostname minus its first label, or "
     "localdomain"},
    {"myorigin", PARAM_STR, "$myhostname", 0, 0, 0,
     "domain appended to locally-posted mail and bare local parts"},
    {"mydestination", PARAM_LIST, "$myhostname, localhost.$mydomain, localhost",
     0, 0, 0, "domains delivered by the local transport"},
    {"mynetworks_style", PARAM_STR, "host", 0, 0, 0,
     "how the mynetworks default is computed: host, subnet or class"},
    {"mynetworks", PARAM_LIST, "127.0.0.0/8 [::1]/128", 0, 0, COMPUTED,
     "trusted client networks; default: from mynetworks_style and the "
     "host's interfaces"},
    {"relay_domains", PARAM_LIST, "", 0, 0, 0,
     "domains this host relays mail to (empty: none, as Postfix 3)"},
    {"relayhost", PARAM_STR, "", 0, 0, 0,
     "next-hop for non-local mail; empty means direct delivery by MX"},
    {"relay_recipient_maps", PARAM_LIST, "", 0, 0, 0,
     "valid recipients in relay_domains"},
    {"inet_interfaces", PARAM_LIST, "all", 0, 0, 0,
     "addresses inet services listen on"},
    {"inet_protocols", PARAM_LIST, "all", 0, 0, 0,
     "IP versions used: ipv4, ipv6, all"},
    {"proxy_interfaces", PARAM_LIST, "", 0, 0, 0,
     "addresses reached through a proxy or NAT that are also ours"},

    /* ---- paths, ownership, logging (config) ---- */
    {"config_directory", PARAM_STR, POSTERN_CONFIG_DIR, 0, 0, BUILD,
     "directory with main.cf and master.cf (set by -c or MAIL_CONFIG)"},
    {"queue_directory", PARAM_STR, "/var/spool/postern", 0, 0, 0,
     "the mail queue"},
    {"data_directory", PARAM_STR, "/var/lib/postern", 0, 0, 0,
     "writable data files (caches, locks)"},
    {"daemon_directory", PARAM_STR, POSTERN_DAEMON_DIR, 0, 0, BUILD,
     "where the daemon programs are"},
    {"command_directory", PARAM_STR, POSTERN_SBIN_DIR, 0, 0, BUILD,
     "where the administrative commands are"},
    {"process_id_directory", PARAM_STR, "pid", 0, 0, 0,
     "lock and pid files, relative to queue_directory"},
    {"mail_owner", PARAM_STR, "postern", 0, 0, 0,
     "the unprivileged account daemons run as"},
    {"setgid_group", PARAM_STR, "postdrop", 0, 0, 0,
     "group of the set-gid postdrop, which may write into maildrop/"},
    {"alternate_config_directories", PARAM_LIST, "", 0, 0, 0,
     "configuration directories the set-gid postdrop accepts from users"},
    {"default_privs", PARAM_STR, "nobody", 0, 0, 0,
     "rights for delivery to external files and commands"},
    {"syslog_name", PARAM_STR, "postern", 0, 0, 0,
     "prefix of every log line (postfix keeps stock log tools working)"},
    {"syslog_facility", PARAM_STR, "mail", 0, 0, 0, "syslog facility"},
    {"maillog_file", PARAM_STR, "", 0, 0, 0,
     "log file; empty means syslog"},
    {"maillog_file_prefixes", PARAM_LIST, "/var, /dev/stdout", 0, 0, 0,
     "allowed prefixes of maillog_file"},
    {"default_database_type", PARAM_STR, "hash", 0, 0, 0,
     "table type used when none is given (hash, btree, lmdb)"},
    {"sendmail_path", PARAM_STR, POSTERN_SBIN_DIR "/sendmail", 0, 0, BUILD,
     "the sendmail command"},
    {"newaliases_path", PARAM_STR, POSTERN_SBIN_DIR "/newaliases", 0, 0, BUILD,
     "the newaliases command"},
    {"mailq_path", PARAM_STR, POSTERN_SBIN_DIR "/mailq", 0, 0, BUILD,
     "the mailq command"},
    {"import_environment", PARAM_LIST,
     "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C", 0, 0, 0,
     "environment variables passed to daemons"},

    /* ---- master and the server skeleton (master, server) ---- */
    {"default_process_limit", PARAM_INT, "100", 1, NOLIMIT, 0,
     "default maxproc of a master.cf service"},
    {"max_use", PARAM_INT, "100", 1, NOLIMIT, 0,
     "connections a daemon serves before it exits; a delivery agent "
     "also exits after 100 x max_use requests on qmgr's kept connection"},
    {"max_idle", PARAM_TIME, "100s", 1, NOLIMIT, 0,
     "seconds an idle daemon waits for work before it exits"},
    {"ipc_timeout", PARAM_TIME, "3600s", 1, NOLIMIT, 0,
     "time limit for one internal protocol exchange"},
    {"ipc_idle", PARAM_TIME, "5s", 1, NOLIMIT, 0,
     "idle time after which a client closes an internal connection"},
    {"ipc_ttl", PARAM_TIME, "1000s", 1, NOLIMIT, 0,
     "lifetime of an internal connection"},
    {"daemon_timeout", PARAM_TIME, "18000s", 1, NOLIMIT, 0,
     "time limit for a daemon to handle one request"},
    {"service_throttle_time", PARAM_TIME, "60s", 1, NOLIMIT, 0,
     "pause before a service whose children die at once is tried again"},
    {"in_flow_delay", PARAM_TIME, "1s", 0, 10, 0,
     "delay of message input when the queue is busy"},
    {"master_service_disable", PARAM_LIST, "", 0, 0, 0,
     "master.cf services (name/type) that master does not start"},
    {"fork_attempts", PARAM_INT, "5", 1, NOLIMIT, 0,
     "attempts to fork a process before giving up"},
    {"fork_delay", PARAM_TIME, "1s", 1, NOLIMIT, 0,
     "delay between fork attempts"},
    {"stress", PARAM_STR, "", 0, 0, RO,
     "set to yes by master under overload (read-only)"},

    /* ---- size and content limits (config) ---- */
    {"message_size_limit", PARAM_SIZE, "10240000", 0, NOLIMIT, 0,
     "largest message accepted, in bytes (0: no limit)"},
    {"line_length_limit", PARAM_INT, "2048", 1, NOLIMIT, 0,
     "longest line kept as one record; longer lines are split"},
    {"header_size_limit", PARAM_INT, "102400", 1, NOLIMIT, 0,
     "largest message header, in bytes"},
    {"header_address_token_limit", PARAM_INT, "10240", 1, NOLIMIT, 0,
     "most address tokens parsed in one header"},
    {"hopcount_limit", PARAM_INT, "50", 1, NOLIMIT, 0,
     "most Received: headers before a message is treated as a loop"},
    {"bounce_size_limit", PARAM_INT, "50000", 1, NOLIMIT, 0,
     "bytes of the original message returned in a bounce"},
    {"queue_minfree", PARAM_SIZE, "0", 0, NOLIMIT, 0,
     "free bytes the queue file system must keep"},
    {"duplicate_filter_limit", PARAM_INT, "1000", 0, NOLIMIT, 0,
     "remembered addresses when removing duplicate recipients"},

    /* ---- smtpd (smtpd) ---- */
    {"smtpd_banner", PARAM_STR, "$myhostname ESMTP $mail_name", 0, 0, 0,
     "text after 220 in the SMTP greeting"},
    {"smtpd_timeout", PARAM_TIME, "300s", 1, NOLIMIT, 0,
     "SMTP server time limit to read a command or send a reply"},
    {"smtpd_starttls_timeout", PARAM_TIME, "300s", 1, NOLIMIT, 0,
     "time limit for the TLS handshake"},
    {"smtpd_recipient_limit", PARAM_INT, "1000", 1, NOLIMIT, 0,
     "recipients accepted per message"},
    {"smtpd_recipient_overshoot_limit", PARAM_INT, "1000", 1, NOLIMIT, 0,
     "refused recipients over smtpd_recipient_limit that do not count "
     "as errors"},
    {"smtpd_soft_error_limit", PARAM_INT, "10", 1, NOLIMIT, 0,
     "errors after which each reply is delayed"},
    {"smtpd_hard_error_limit", PARAM_INT, "20", 1, NOLIMIT, 0,
     "errors after which the session is closed"},
    {"smtpd_error_sleep_time", PARAM_TIME, "1s", 0, NOLIMIT, 0,
     "delay of a reply after smtpd_soft_error_limit errors"},
    {"smtpd_junk_command_limit", PARAM_INT, "100", 1, NOLIMIT, 0,
     "NOOP, VRFY, ETRN and RSET commands allowed per session"},
    {"smtpd_history_flush_threshold", PARAM_INT, "100", 1, NOLIMIT, 0,
     "commands remembered for the postmaster notice"},
    {"smtpd_client_restrictions", PARAM_LIST, "", 0, 0, 0,
     "restrictions applied at connection time"},
    {"smtpd_helo_restrictions", PARAM_LIST, "", 0, 0, 0,
     "restrictions applied to HELO/EHLO"},
    {"smtpd_sender_restrictions", PARAM_LIST, "", 0, 0, 0,
     "restrictions applied to MAIL FROM"},
    {"smtpd_relay_restrictions", PARAM_LIST,
     "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination",
     0, 0, 0, "relay control applied to RCPT TO before recipient restrictions"},
    {"smtpd_recipient_restrictions", PARAM_LIST, "", 0, 0, 0,
     "restrictions applied to RCPT TO"},
    {"smtpd_data_restrictions", PARAM_LIST, "", 0, 0, 0,
     "restrictions applied to DATA"},
    {"smtpd_end_of_data_restrictions", PARAM_LIST, "", 0, 0, 0,
     "restrictions applied after the message content"},
    {"content_filter", PARAM_STR, "", 0, 0, 0,
     "transport:destination every message received is sent to instead of "
     "its recipients' own (an access FILTER action overrides it)"},
    {"smtpd_etrn_restrictions", PARAM_LIST, "", 0, 0, 0,
     "restrictions applied to ETRN"},
    {"smtpd_restriction_classes", PARAM_LIST, "", 0, 0, 0,
     "names of user-defined restriction lists"},
    {"smtpd_delay_reject", PARAM_BOOL, "yes", 0, 0, 0,
     "apply client, HELO and sender restrictions at RCPT TO"},
    {"smtpd_helo_required", PARAM_BOOL, "no", 0, 0, 0,
     "require HELO or EHLO before MAIL FROM"},
    {"strict_rfc821_envelopes", PARAM_BOOL, "no", 0, 0, 0,
     "require <> around MAIL FROM and RCPT TO addresses"},
    {"disable_vrfy_command", PARAM_BOOL, "no", 0, 0, 0,
     "turn off the VRFY command"},
    {"smtpd_reject_unlisted_recipient", PARAM_BOOL, "yes", 0, 0, 0,
     "reject recipients not listed in a recipient table"},
    {"smtpd_reject_unlisted_sender", PARAM_BOOL, "no", 0, 0, 0,
     "reject senders not listed in a recipient table"},
    {"smtpd_forbid_bare_newline", PARAM_STR, "reject", 0, 0, 0,
     "bare LF or CR in SMTP input: reject, normalize or no"},
    {"smtpd_forbid_bare_newline_exclusions", PARAM_LIST, "$mynetworks", 0, 0,
     0, "clients exempt from smtpd_forbid_bare_newline"},
    {"smtpd_forbid_bare_newline_reject_code", PARAM_INT, "550", 400, 599, 0,
     "reply code for a bare newline"},
    {"smtpd_forbid_unauth_pipelining", PARAM_BOOL, "yes", 0, 0, 0,
     "disconnect clients that pipeline before EHLO"},
    {"smtpd_discard_ehlo_keywords", PARAM_LIST, "", 0, 0, 0,
     "EHLO keywords not announced"},
    {"smtpd_peername_lookup", PARAM_BOOL, "yes", 0, 0, 0,
     "look up the client's host name"},
    {"smtpd_client_connection_count_limit", PARAM_INT, "50", 0, NOLIMIT, 0,
     "simultaneous connections per client (0: no limit)"},
    {"smtpd_client_connection_rate_limit", PARAM_INT, "0", 0, NOLIMIT, 0,
     "connections per client per anvil_rate_time_unit (0: no limit)"},
    {"smtpd_client_message_rate_limit", PARAM_INT, "0", 0, NOLIMIT, 0,
     "messages per client per anvil_rate_time_unit (0: no limit)"},
    {"smtpd_client_recipient_rate_limit", PARAM_INT, "0", 0, NOLIMIT, 0,
     "recipients per client per anvil_rate_time_unit (0: no limit)"},
    {"smtpd_client_event_limit_exceptions", PARAM_LIST,
     "${smtpd_client_connection_limit_exceptions:$mynetworks}", 0, 0, 0,
     "clients exempt from connection and rate limits"},
    {"anvil_rate_time_unit", PARAM_TIME, "60s", 1, NOLIMIT, 0,
     "time unit of the smtpd rate limits"},
    {"smtpd_sasl_auth_enable", PARAM_BOOL, "no", 0, 0, 0,
     "offer SMTP AUTH"},
    {"smtpd_sasl_path", PARAM_STR, "private/auth", 0, 0, 0,
     "the auth server's socket (Dovecot protocol), relative to "
     "queue_directory or absolute"},
    {"smtpd_sasl_type", PARAM_STR, "dovecot", 0, 0, 0,
     "SASL implementation: dovecot (the only one)"},
    {"smtpd_sasl_security_options", PARAM_LIST, "noanonymous", 0, 0, 0,
     "mechanisms not offered: noanonymous, noplaintext, nodictionary, "
     "noactive; or required: mutual_auth, forward_secrecy"},
    {"smtpd_sasl_tls_security_options", PARAM_LIST,
     "$smtpd_sasl_security_options", 0, 0, 0,
     "smtpd_sasl_security_options over TLS"},
    {"smtpd_sasl_authenticated_header", PARAM_BOOL, "no", 0, 0, 0,
     "name the SASL login in Received: (Authenticated sender)"},
    {"smtpd_sasl_response_limit", PARAM_INT, "12288", 1, NOLIMIT, 0,
     "longest AUTH response line from the client"},
    {"broken_sasl_auth_clients", PARAM_BOOL, "no", 0, 0, 0,
     "also announce AUTH=mechanisms (Outlook Express 4, Office 2003)"},
    {"smtpd_sender_login_maps", PARAM_LIST, "", 0, 0, 0,
     "which SASL login owns which sender address"},
    {"smtpd_tls_security_level", PARAM_STR, "", 0, 0, 0,
     "TLS in the SMTP server: empty or none, may (offer STARTTLS), encrypt "
     "(require it)"},
    {"smtpd_tls_cert_file", PARAM_STR, "", 0, 0, 0,
     "server certificate followed by its chain (PEM)"},
    {"smtpd_tls_key_file", PARAM_STR, "$smtpd_tls_cert_file", 0, 0, 0,
     "private key of smtpd_tls_cert_file (PEM)"},
    {"smtpd_tls_chain_files", PARAM_LIST, "", 0, 0, 0,
     "PEM files, each key followed by its certificate chain; takes "
     "precedence over smtpd_tls_cert_file"},
    {"smtpd_tls_auth_only", PARAM_BOOL, "no", 0, 0, 0,
     "offer AUTH only over TLS"},
    {"smtpd_tls_loglevel", PARAM_INT, "0", 0, 4, 0,
     "TLS logging: 0 failures, 1 a line per handshake, 2 its steps"},
    {"smtpd_tls_received_header", PARAM_BOOL, "no", 0, 0, 0,
     "record the TLS protocol and cipher in Received:"},
    {"smtpd_tls_protocols", PARAM_LIST, ">=TLSv1.2", 0, 0, 0,
     "TLS protocols accepted with opportunistic TLS (Postfix syntax)"},
    {"smtpd_tls_mandatory_protocols", PARAM_LIST, ">=TLSv1.2", 0, 0, 0,
     "TLS protocols accepted with smtpd_tls_security_level = encrypt"},
    {"smtpd_tls_ciphers", PARAM_STR, "medium", 0, 0, 0,
     "cipher grade (high, medium) with opportunistic TLS"},
    {"smtpd_tls_mandatory_ciphers", PARAM_STR, "medium", 0, 0, 0,
     "cipher grade with smtpd_tls_security_level = encrypt"},
    {"smtpd_tls_wrappermode", PARAM_BOOL, "no", 0, 0, 0,
     "TLS from the first byte (port 465, submissions) instead of STARTTLS"},
    {"smtpd_tls_session_cache_timeout", PARAM_TIME, "3600s", 0, 8640000, 0,
     "lifetime of TLS session tickets (0: no resumption)"},
    {"tls_high_cipherlist", PARAM_STR, "aNULL:-aNULL:HIGH:@STRENGTH", 0, 0,
     0, "OpenSSL cipher list of the \"high\" grade (TLSv1.2 and older)"},
    {"tls_medium_cipherlist", PARAM_STR,
     "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH", 0, 0, 0,
     "OpenSSL cipher list of the \"medium\" grade (TLSv1.2 and older)"},

    /* ---- TLS in the SMTP and LMTP clients (lib/tls/tls_client) ---- */
    {"smtp_tls_security_level", PARAM_STR, "", 0, 0, 0,
     "TLS in the SMTP client: none, may, encrypt, fingerprint, dane, "
     "dane-only, verify or secure"},
    {"smtp_tls_policy_maps", PARAM_LIST, "", 0, 0, 0,
     "TLS security level and attributes per next-hop destination"},
    {"smtp_tls_protocols", PARAM_LIST, ">=TLSv1.2", 0, 0, 0,
     "TLS protocols with opportunistic TLS (may, and dane without TLSA "
     "records)"},
    {"smtp_tls_mandatory_protocols", PARAM_LIST, ">=TLSv1.2", 0, 0, 0,
     "TLS protocols at the encrypt level and above"},
    {"smtp_tls_ciphers", PARAM_STR, "medium", 0, 0, 0,
     "cipher grade (high, medium) with opportunistic TLS"},
    {"smtp_tls_mandatory_ciphers", PARAM_STR, "medium", 0, 0, 0,
     "cipher grade at the encrypt level and above"},
    {"smtp_tls_exclude_ciphers", PARAM_LIST, "", 0, 0, 0,
     "OpenSSL cipher names left out with opportunistic TLS"},
    {"smtp_tls_mandatory_exclude_ciphers", PARAM_LIST, "", 0, 0, 0,
     "OpenSSL cipher names left out at the encrypt level and above"},
    {"smtp_tls_CAfile", PARAM_STR, "", 0, 0, 0,
     "trusted CA certificates (PEM) for verifying servers"},
    {"smtp_tls_CApath", PARAM_STR, "", 0, 0, 0,
     "directory of trusted CA certificates (hashed, as c_rehash makes)"},
    {"smtp_tls_cert_file", PARAM_STR, "", 0, 0, 0,
     "client certificate followed by its chain (PEM)"},
    {"smtp_tls_key_file", PARAM_STR, "$smtp_tls_cert_file", 0, 0, 0,
     "private key of smtp_tls_cert_file (PEM)"},
    {"smtp_tls_chain_files", PARAM_LIST, "", 0, 0, 0,
     "PEM files, each key followed by its certificate chain; takes "
     "precedence over smtp_tls_cert_file"},
    {"smtp_tls_verify_cert_match", PARAM_LIST, "hostname", 0, 0, 0,
     "names the server certificate must match at the verify level"},
    {"smtp_tls_secure_cert_match", PARAM_LIST, "nexthop, dot-nexthop", 0, 0, 0,
     "names the server certificate must match at the secure level"},
    {"smtp_tls_fingerprint_cert_match", PARAM_LIST, "", 0, 0, 0,
     "certificate or public key fingerprints accepted at the fingerprint "
     "level"},
    {"smtp_tls_fingerprint_digest", PARAM_STR, "sha256", 0, 0, 0,
     "digest of the fingerprint level's fingerprints"},
    {"smtp_tls_servername", PARAM_STR, "", 0, 0, 0,
     "SNI name without DANE: empty (none), hostname, nexthop or a DNS name"},
    {"smtp_tls_loglevel", PARAM_INT, "0", 0, 4, 0,
     "TLS logging: 0 failures, 1 a line per handshake, 2 its steps and the"
     " session cache"},
    {"smtp_tls_session_cache_timeout", PARAM_TIME, "3600s", 0, 8640000, 0,
     "how long a TLS session is kept for resumption (0: no cache)"},
    {"lmtp_tls_security_level", PARAM_STR, "", 0, 0, 0,
     "TLS in the LMTP client: none, may, encrypt, fingerprint, dane, "
     "dane-only, verify or secure"},
    {"lmtp_tls_policy_maps", PARAM_LIST, "", 0, 0, 0,
     "TLS security level and attributes per next-hop destination"},
    {"lmtp_tls_protocols", PARAM_LIST, ">=TLSv1.2", 0, 0, 0,
     "TLS protocols with opportunistic TLS (may, and dane without TLSA "
     "records)"},
    {"lmtp_tls_mandatory_protocols", PARAM_LIST, ">=TLSv1.2", 0, 0, 0,
     "TLS protocols at the encrypt level and above"},
    {"lmtp_tls_ciphers", PARAM_STR, "medium", 0, 0, 0,
     "cipher grade (high, medium) with opportunistic TLS"},
    {"lmtp_tls_mandatory_ciphers", PARAM_STR, "medium", 0, 0, 0,
     "cipher grade at the encrypt level and above"},
    {"lmtp_tls_exclude_ciphers", PARAM_LIST, "", 0, 0, 0,
     "OpenSSL cipher names left out with opportunistic TLS"},
    {"lmtp_tls_mandatory_exclude_ciphers", PARAM_LIST, "", 0, 0, 0,
     "OpenSSL cipher names left out at the encrypt level and above"},
    {"lmtp_tls_CAfile", PARAM_STR, "", 0, 0, 0,
     "trusted CA certificates (PEM) for verifying servers"},
    {"lmtp_tls_CApath", PARAM_STR, "", 0, 0, 0,
     "directory of trusted CA certificates (hashed, as c_rehash makes)"},
    {"lmtp_tls_cert_file", PARAM_STR, "", 0, 0, 0,
     "client certificate followed by its chain (PEM)"},
    {"lmtp_tls_key_file", PARAM_STR, "$lmtp_tls_cert_file", 0, 0, 0,
     "private key of lmtp_tls_cert_file (PEM)"},
    {"lmtp_tls_chain_files", PARAM_LIST, "", 0, 0, 0,
     "PEM files, each key followed by its certificate chain; takes "
     "precedence over lmtp_tls_cert_file"},
    {"lmtp_tls_verify_cert_match", PARAM_LIST, "hostname", 0, 0, 0,
     "names the server certificate must match at the verify level"},
    {"lmtp_tls_secure_cert_match", PARAM_LIST, "nexthop", 0, 0, 0,
     "names the server certificate must match at the secure level"},
    {"lmtp_tls_fingerprint_cert_match", PARAM_LIST, "", 0, 0, 0,
     "certificate or public key fingerprints accepted at the fingerprint "
     "level"},
    {"lmtp_tls_fingerprint_digest", PARAM_STR, "sha256", 0, 0, 0,
     "digest of the fingerprint level's fingerprints"},
    {"lmtp_tls_servername", PARAM_STR, "", 0, 0, 0,
     "SNI name without DANE: empty (none), hostname, nexthop or a DNS name"},
    {"lmtp_tls_loglevel", PARAM_INT, "0", 0, 4, 0,
     "TLS logging: 0 failures, 1 a line per handshake, 2 its steps and the"
     " session cache"},
    {"lmtp_tls_session_cache_timeout", PARAM_TIME, "3600s", 0, 8640000, 0,
     "how long a TLS session is kept for resumption (0: no cache)"},
    {"smtp_tls_dane_insecure_mx_policy", PARAM_STR,
     "${{$smtp_tls_security_level} == {dane} ? {dane} : {may}}", 0, 0, 0,
     "at level dane, what the TLSA records of an MX host found by an "
     "insecure MX lookup are worth: may (ignored), encrypt (TLS required) "
     "or dane (used; a match is logged Trusted)"},
    {"smtputf8_enable", PARAM_BOOL, "yes", 0, 0, 0,
     "announce and accept SMTPUTF8"},
    {"disable_mime_input_processing", PARAM_BOOL, "no", 0, 0, 0,
     "do not parse MIME structure on input"},
    {"disable_mime_output_conversion", PARAM_BOOL, "no", 0, 0, 0,
     "send 8-bit mail as it is to a server without 8BITMIME (no"
     " quoted-printable conversion)"},
    {"receive_override_options", PARAM_LIST, "", 0, 0, 0,
     "switch off input processing steps"},
    {"header_checks", PARAM_LIST, "", 0, 0, 0,
     "tables applied to each message header"},
    {"body_checks", PARAM_LIST, "", 0, 0, 0,
     "tables applied to each body line"},
    {"always_bcc", PARAM_STR, "", 0, 0, 0,
     "address that receives a copy of every message"},
    {"sender_bcc_maps", PARAM_LIST, "", 0, 0, 0,
     "copy recipients by sender"},
    {"recipient_bcc_maps", PARAM_LIST, "", 0, 0, 0,
     "copy recipients by recipient"},
    {"local_header_rewrite_clients", PARAM_LIST, "permit_inet_interfaces",
     0, 0, 0, "clients whose header addresses are completed"},
    {"access_map_reject_code", PARAM_INT, "554", 400, 599, 0,
     "reply code for REJECT from an access table"},
    {"access_map_defer_code", PARAM_INT, "450", 400, 599, 0,
     "reply code for DEFER from an access table"},
    {"defer_code", PARAM_INT, "450", 400, 499, 0,
     "reply code for the defer restriction"},
    {"reject_code", PARAM_INT, "554", 500, 599, 0,
     "reply code for the reject restriction"},
    {"relay_domains_reject_code", PARAM_INT, "554", 400, 599, 0,
     "reply code for reject_unauth_destination"},
    {"invalid_hostname_reject_code", PARAM_INT, "501", 400, 599, 0,
     "reply code for reject_invalid_helo_hostname"},
    {"non_fqdn_reject_code", PARAM_INT, "504", 400, 599, 0,
     "reply code for the reject_non_fqdn_* restrictions"},
    {"unknown_address_reject_code", PARAM_INT, "450", 400, 599, 0,
     "reply code for an address whose domain does not resolve"},
    {"unknown_local_recipient_reject_code", PARAM_INT, "550", 400, 599, 0,
     "reply code for an unknown local recipient"},
    {"unknown_virtual_mailbox_reject_code", PARAM_INT, "550", 400, 599, 0,
     "reply code for an unknown virtual mailbox"},
    {"unknown_virtual_alias_reject_code", PARAM_INT, "550", 400, 599, 0,
     "reply code for an unknown virtual alias"},
    {"unknown_relay_recipient_reject_code", PARAM_INT, "550", 400, 599, 0,
     "reply code for an unknown relay recipient"},
    {"reject_tempfail_action", PARAM_STR, "defer_if_permit", 0, 0, 0,
     "what a temporary lookup error in a restriction does"},

    /* ---- addresses and rewriting (trivial-rewrite, cleanup) ---- */
    {"append_dot_mydomain", PARAM_BOOL, "no", 0, 0, 0,
     "append .$mydomain to host names without a dot"},
    {"append_at_myorigin", PARAM_BOOL, "yes", 0, 0, 0,
     "append @$myorigin to bare local parts"},
    {"swap_bangpath", PARAM_BOOL, "yes", 0, 0, 0,
     "rewrite site!user to user@site"},
    {"allow_percent_hack", PARAM_BOOL, "yes", 0, 0, 0,
     "rewrite user%domain to user@domain"},
    {"recipient_delimiter", PARAM_STR, "", 0, 0, 0,
     "characters that separate a user name from an extension"},
    {"propagate_unmatched_extensions", PARAM_LIST, "canonical, virtual", 0, 0,
     0, "where an address extension is kept after rewriting"},
    {"canonical_maps", PARAM_LIST, "", 0, 0, 0,
     "canonical address tables for sender and recipient"},
    {"sender_canonical_maps", PARAM_LIST, "", 0, 0, 0,
     "canonical address tables for senders"},
    {"recipient_canonical_maps", PARAM_LIST, "", 0, 0, 0,
     "canonical address tables for recipients"},
    {"canonical_classes", PARAM_LIST,
     "envelope_sender, envelope_recipient, header_sender, header_recipient",
     0, 0, 0, "which addresses canonical_maps rewrites"},
    {"virtual_alias_maps", PARAM_LIST, "$virtual_maps", 0, 0, 0,
     "virtual alias tables: address to addresses"},
    {"virtual_maps", PARAM_LIST, "", 0, 0, 0,
     "old name of virtual_alias_maps"},
    {"virtual_alias_domains", PARAM_LIST, "$virtual_alias_maps", 0, 0, 0,
     "domains whose addresses are all aliases"},
    {"virtual_alias_expansion_limit", PARAM_INT, "1000", 1, NOLIMIT, 0,
     "most addresses one virtual alias expands to"},
    {"virtual_alias_recursion_limit", PARAM_INT, "1000", 1, NOLIMIT, 0,
     "deepest nesting of virtual aliases"},
    {"empty_address_recipient", PARAM_STR, "MAILER-DAEMON", 0, 0, 0,
     "recipient of mail addressed to <>"},
    {"double_bounce_sender", PARAM_STR, "double-bounce", 0, 0, 0,
     "sender of bounces about bounces"},
    {"owner_request_special", PARAM_BOOL, "yes", 0, 0, 0,
     "treat owner-list and list-request addresses specially"},
    {"sender_dependent_relayhost_maps", PARAM_LIST, "", 0, 0, 0,
     "tables mapping the envelope sender (address, then @domain) to a "
     "relayhost that overrides relayhost"},
    {"empty_address_relayhost_maps_lookup_key", PARAM_STR, "<>", 0, 0, 0,
     "the sender_dependent_relayhost_maps key for the null sender"},

    /* ---- queue manager (qmgr, bounce) ---- */
    {"default_transport", PARAM_STR, "smtp", 0, 0, 0,
     "transport for domains that are not local, virtual or relay"},
    {"local_transport", PARAM_STR, "local:$myhostname", 0, 0, 0,
     "transport for mydestination"},
    {"virtual_transport", PARAM_STR, "virtual", 0, 0, 0,
     "transport for virtual_mailbox_domains"},
    {"relay_transport", PARAM_STR, "relay", 0, 0, 0,
     "transport for relay_domains"},
    {"transport_maps", PARAM_LIST, "", 0, 0, 0,
     "tables mapping recipient or domain to transport:nexthop"},
    {"defer_transports", PARAM_LIST, "", 0, 0, 0,
     "transports whose mail waits until a flush"},
    {"minimal_backoff_time", PARAM_TIME, "300s", 1, NOLIMIT, 0,
     "shortest time between delivery attempts of a deferred message"},
    {"maximal_backoff_time", PARAM_TIME, "4000s", 1, NOLIMIT, 0,
     "longest time between delivery attempts of a deferred message"},
    {"maximal_queue_lifetime", PARAM_TIME, "5d", 0, 8640000, 0,
     "time after which a deferred message is returned (0: at once)"},
    {"bounce_queue_lifetime", PARAM_TIME, "5d", 0, 8640000, 0,
     "the same for bounce messages"},
    {"queue_run_delay", PARAM_TIME, "300s", 1, NOLIMIT, 0,
     "time between scans of the deferred queue"},
    {"delay_warning_time", PARAM_TIME, "0h", 0, NOLIMIT, 0,
     "send a delay warning after this time (0: never)"},
    {"transport_retry_time", PARAM_TIME, "60s", 1, NOLIMIT, 0,
     "time between attempts to contact a broken transport"},
    {"qmgr_message_active_limit", PARAM_INT, "20000", 1, NOLIMIT, 0,
     "messages in the active queue"},
    {"qmgr_message_recipient_limit", PARAM_INT, "20000", 1, NOLIMIT, 0,
     "recipients held in memory"},
    {"default_destination_concurrency_limit", PARAM_INT, "20", 1, NOLIMIT, 0,
     "parallel deliveries to one destination"},
    {"default_destination_recipient_limit", PARAM_INT, "50", 1, NOLIMIT, 0,
     "recipients per delivery"},
    {"initial_destination_concurrency", PARAM_INT, "5", 1, NOLIMIT, 0,
     "starting concurrency for a destination"},
    {"default_destination_concurrency_positive_feedback", PARAM_STR, "1",
     0, 0, 0,
     "window growth per delivery that reached its destination: N or "
     "N/concurrency"},
    {"default_destination_concurrency_negative_feedback", PARAM_STR, "1",
     0, 0, 0,
     "window shrink per delivery that could not reach its destination: N "
     "or N/concurrency"},
    {"default_destination_concurrency_failed_cohort_limit", PARAM_INT, "1", 0,
     NOLIMIT, 0,
     "failed pseudo-cohorts before a destination is suspended (0: never)"},
    {"default_destination_rate_delay", PARAM_TIME, "0s", 0, NOLIMIT, 0,
     "pause between deliveries to one destination (0: none; > 0 makes its "
     "concurrency 1)"},
    {"postern_rate_limit_backoff", PARAM_BOOL, "yes", 0, 0, 0,
     "slow down a destination that answers with a rate-limit reply"},
    {"postern_rate_limit_delay", PARAM_TIME, "10s", 1, NOLIMIT, 0,
     "first pause between deliveries after a rate-limit reply"},
    {"postern_rate_limit_maximal_delay", PARAM_TIME, "600s", 1, NOLIMIT, 0,
     "longest pause between deliveries under rate-limit back-off"},
    {"local_destination_concurrency_limit", PARAM_INT, "2", 1, NOLIMIT, 0,
     "parallel local deliveries to one recipient"},
    {"local_destination_recipient_limit", PARAM_INT, "1", 1, NOLIMIT, 0,
     "recipients per local delivery"},
    {"virtual_destination_concurrency_limit", PARAM_INT,
     "$default_destination_concurrency_limit", 1, NOLIMIT, 0,
     "parallel virtual deliveries to one domain"},
    {"virtual_destination_recipient_limit", PARAM_INT,
     "$default_destination_recipient_limit", 1, NOLIMIT, 0,
     "recipients per virtual delivery"},
    {"hash_queue_names", PARAM_LIST, "deferred, defer", 0, 0, 0,
     "queue directories split into subdirectories"},
    {"hash_queue_depth", PARAM_INT, "1", 1, 16, 0,
     "levels of subdirectories in hash_queue_names"},
    {"notify_classes", PARAM_LIST, "resource, software", 0, 0, 0,
     "problems reported to the postmaster"},
    {"2bounce_notice_recipient", PARAM_STR, "postmaster", 0, 0, 0,
     "recipient of bounces that cannot be returned"},
    {"bounce_notice_recipient", PARAM_STR, "postmaster", 0, 0, 0,
     "recipient of bounce notices (notify_classes bounce)"},
    {"delay_notice_recipient", PARAM_STR, "postmaster", 0, 0, 0,
     "recipient of delay notices (notify_classes delay)"},
    {"error_notice_recipient", PARAM_STR, "postmaster", 0, 0, 0,
     "recipient of software and resource error notices"},
    {"delay_logging_resolution_limit", PARAM_INT, "2", 0, 6, 0,
     "digits after the decimal point in delay= and delays="},

    /* ---- local delivery (local) ---- */
    {"alias_maps", PARAM_LIST, "$default_database_type:/etc/aliases", 0, 0,
     0, "alias tables used by local delivery"},
    {"alias_database", PARAM_LIST, "$default_database_type:/etc/aliases", 0,
     0, 0, "alias tables rebuilt by newaliases"},
    {"local_recipient_maps", PARAM_LIST, "unix:passwd.byname $alias_maps", 0,
     0, 0, "valid local recipients (empty: accept all)"},
    {"home_mailbox", PARAM_STR, "", 0, 0, 0,
     "mailbox relative to home; ending in / means Maildir"},
    {"mail_spool_directory", PARAM_STR, "/var/mail", 0, 0, 0,
     "mbox spool; ending in / means Maildir"},
    {"mailbox_command", PARAM_STR, "", 0, 0, 0,
     "command that delivers to the mailbox instead"},
    {"mailbox_transport", PARAM_STR, "", 0, 0, 0,
     "transport that delivers to the mailbox instead"},
    {"fallback_transport", PARAM_STR, "", 0, 0, 0,
     "transport for recipients without a UNIX account"},
    {"luser_relay", PARAM_STR, "", 0, 0, 0,
     "destination for unknown local recipients"},
    {"mailbox_size_limit", PARAM_SIZE, "51200000", 0, NOLIMIT, 0,
     "largest mbox or Maildir message, in bytes (0: no limit)"},
    {"mailbox_delivery_lock", PARAM_LIST, "fcntl, dotlock", 0, 0, 0,
     "how an mbox is locked"},
    {"forward_path", PARAM_LIST,
     "$home/.forward${recipient_delimiter}${extension}, $home/.forward", 0, 0,
     0, ".forward files searched"},
    {"allow_mail_to_commands", PARAM_LIST, "alias, forward", 0, 0, 0,
     "where |command deliveries are allowed"},
    {"allow_mail_to_files", PARAM_LIST, "alias, forward", 0, 0, 0,
     "where /file deliveries are allowed"},
    {"local_command_shell", PARAM_STR, "", 0, 0, 0,
     "shell for |command; empty runs simple commands without a shell"},
    {"command_time_limit", PARAM_TIME, "1000s", 1, NOLIMIT, 0,
     "time limit of a command delivery"},
    {"expand_owner_alias", PARAM_BOOL, "no", 0, 0, 0,
     "send bounces for a list to owner-list's expansion"},
    {"biff", PARAM_BOOL, "yes", 0, 0, 0, "notify the comsat service"},
    {"deliver_lock_attempts", PARAM_INT, "20", 1, NOLIMIT, 0,
     "attempts to lock a mailbox"},
    {"deliver_lock_delay", PARAM_TIME, "1s", 1, NOLIMIT, 0,
     "delay between mailbox lock attempts"},
    {"stale_lock_time", PARAM_TIME, "500s", 1, NOLIMIT, 0,
     "age after which a dotlock file is removed"},

    /* ---- virtual delivery (virtual) ---- */
    {"virtual_mailbox_domains", PARAM_LIST, "$virtual_mailbox_maps", 0, 0, 0,
     "domains delivered by virtual_transport"},
    {"virtual_mailbox_maps", PARAM_LIST, "", 0, 0, 0,
     "mailbox per virtual address (trailing / means Maildir)"},
    {"virtual_mailbox_base", PARAM_STR, "", 0, 0, 0,
     "directory prepended to virtual_mailbox_maps results"},
    {"virtual_uid_maps", PARAM_LIST, "", 0, 0, 0,
     "user id per virtual address"},
    {"virtual_gid_maps", PARAM_LIST, "", 0, 0, 0,
     "group id per virtual address"},
    {"virtual_minimum_uid", PARAM_INT, "100", 1, NOLIMIT, 0,
     "smallest user id virtual delivery accepts"},
    {"virtual_mailbox_limit", PARAM_SIZE, "51200000", 0, NOLIMIT, 0,
     "largest virtual mailbox message, in bytes (0: no limit)"},
    {"virtual_mailbox_lock", PARAM_LIST, "fcntl, dotlock", 0, 0, 0,
     "how a virtual mbox is locked"},

    /* ---- the auth service (auth; docs/auth.md) ---- */
    {"passdb", PARAM_LIST, "", 0, 0, 0,
     "password tables the auth service tries in order: passwd-file:PATH "
     "or any lookup table (hash:, lmdb:, ...)"},
    {"auth_failure_delay", PARAM_TIME, "2s", 0, 60, 0,
     "how long after the request arrived the auth service answers a "
     "failed login (unknown user, wrong password, locked out: all alike)"},
    {"auth_lockout_threshold", PARAM_INT, "10", 0, 1000000, 0,
     "failed logins from one client address, or for one user, within "
     "auth_lockout_window that lock it out until the window ends (0: no "
     "lock-out)"},
    {"auth_lockout_window", PARAM_TIME, "600s", 1, 86400, 0,
     "the window in which auth_lockout_threshold failures are counted"},
    {"auth_failure_log_ident", PARAM_STR, "auth", 0, 0, 0,
     "program name of the auth service's failed-login log lines, so "
     "fail2ban's stock dovecot filter matches them (empty: "
     "$syslog_name/auth)"},
    {"auth_request_timeout", PARAM_TIME, "120s", 1, 3600, 0,
     "how long an auth request may wait for the client's next SASL "
     "response before it fails (Dovecot's client limit)"},
    {"auth_client_idle_timeout", PARAM_TIME, "600s", 1, 86400, 0,
     "how long a connection to the auth service may stay silent, with "
     "no request in progress, before it is closed"},
    {"auth_client_connection_limit", PARAM_INT, "500", 1, 100000, 0,
     "client connections one auth process serves at once; more are "
     "closed at once, with a warning"},
    {"auth_username_format", PARAM_STR, "%Lu", 0, 0, 0,
     "Dovecot's template that normalizes a login name before the passdb "
     "lookup: %u %n %d, %{user} %{username} %{domain}, with L (lower) "
     "or U (upper) case modifiers"},

    /* ---- local submission and queue tools (tools) ---- */
    {"authorized_submit_users", PARAM_LIST, "static:anyone", 0, 0, 0,
     "users who may submit mail with sendmail"},
    {"authorized_mailq_users", PARAM_LIST, "static:anyone", 0, 0, 0,
     "users who may list the queue"},
    {"authorized_flush_users", PARAM_LIST, "static:anyone", 0, 0, 0,
     "users who may flush the queue"},

    /* ---- address rewriting and resolution (rewrite, resolve,
     * recipient_check) ---- */
    {"virtual_alias_address_length_limit", PARAM_INT, "1000", 1, NOLIMIT, 0,
     "longest address a virtual alias expansion may produce"},
    {"sender_canonical_classes", PARAM_LIST,
     "envelope_sender, header_sender", 0, 0, 0,
     "which addresses sender_canonical_maps rewrites"},
    {"recipient_canonical_classes", PARAM_LIST,
     "envelope_recipient, header_recipient", 0, 0, 0,
     "which addresses recipient_canonical_maps rewrites"},
    {"remote_header_rewrite_domain", PARAM_STR, "", 0, 0, 0,
     "domain appended to incomplete header addresses from remote clients "
     "(empty: leave their headers alone)"},
    {"parent_domain_matches_subdomains", PARAM_LIST,
     "debug_peer_list, fast_flush_domains, mynetworks, "
     "permit_mx_backup_networks, qmqpd_authorized_clients, relay_domains, "
     "smtpd_access_maps",
     0, 0, 0, "lists where example.com also matches its subdomains"},
    {"resolve_numeric_domain", PARAM_BOOL, "no", 0, 0, 0,
     "resolve user@192.0.2.1 as user@[192.0.2.1] instead of refusing it"},
    {"resolve_null_domain", PARAM_BOOL, "no", 0, 0, 0,
     "resolve user@ as user@$myhostname instead of refusing it"},
    {"allow_untrusted_routing", PARAM_BOOL, "no", 0, 0, 0,
     "treat user%other@ours and similar routed addresses as ours for "
     "untrusted clients (never do this)"},
    {"show_user_unknown_table_name", PARAM_BOOL, "yes", 0, 0, 0,
     "name the table in \"User unknown in ... table\" replies"},

    /* ---- smtpd intake (smtpd) ---- */
    {"smtpd_local_submission", PARAM_BOOL, "no", 0, 0, 0,
     "serve local submission (sendmail) on a unix socket: peer uid "
     "logged, trusted for relaying, Message-ID:/Date:/From: added"},
    {"smtpd_null_access_lookup_key", PARAM_STR, "<>", 0, 0, 0,
     "key looked up in access maps for the null sender"},
    {"smtpd_io_threads", PARAM_INT, "4", 1, 64, 0,
     "threads that fsync queue files for one smtpd process (group commit)"},

    /* ---- DNS client (lib/dns/dns) and the restrictions that use it ---- */
    {"postern_dns_servers", PARAM_LIST, "", 0, 0, 0,
     "DNS servers to ask, as ip or ip@port (empty: those of "
     "/etc/resolv.conf)"},
    {"postern_dns_timeout", PARAM_TIME, "10s", 1, 300, 0,
     "longest wait for one DNS lookup; then it counts as a temporary "
     "error"},
    {"unknown_address_tempfail_action", PARAM_STR, "$reject_tempfail_action", 0,
     0, 0,
     "reject_unknown_sender/recipient_domain on a temporary DNS error: "
     "defer_if_permit or defer"},
    {"unknown_hostname_reject_code", PARAM_INT, "450", 400, 599, 0,
     "reply code for reject_unknown_helo_hostname"},
    {"unknown_helo_hostname_tempfail_action", PARAM_STR,
     "$reject_tempfail_action", 0, 0, 0,
     "reject_unknown_helo_hostname on a temporary DNS error: "
     "defer_if_permit or defer"},

    /* ---- the smtp and lmtp delivery agent (smtp; docs/smtp.md) ---- */
    {"smtp_connect_timeout", PARAM_TIME, "30s", 0, NOLIMIT, 0,
     "smtp: longest wait for a TCP connection to complete (0: the "
     "kernel's limit)"},
    {"lmtp_connect_timeout", PARAM_TIME, "0s", 0, NOLIMIT, 0,
     "lmtp: longest wait for a connection to complete (0: the kernel's "
     "limit)"},
    {"smtp_mx_address_limit", PARAM_INT, "5", 0, NOLIMIT, 0,
     "smtp: most addresses of a next hop tried per delivery (0: all)"},
    {"lmtp_mx_address_limit", PARAM_INT, "5", 0, NOLIMIT, 0,
     "lmtp: most addresses of a next hop tried per delivery (0: all)"},
    {"smtp_mx_session_limit", PARAM_INT, "2", 0, NOLIMIT, 0,
     "smtp: most sessions past the greeting per delivery (0: no limit)"},
    {"lmtp_mx_session_limit", PARAM_INT, "2", 0, NOLIMIT, 0,
     "lmtp: most sessions past the greeting per delivery (0: no limit)"},
    {"smtp_connection_cache_on_demand", PARAM_BOOL, "yes", 0, 0, 0,
     "smtp: keep a connection after a delivery for the next one to the "
     "same next hop"},
    {"lmtp_connection_cache_on_demand", PARAM_BOOL, "yes", 0, 0, 0,
     "lmtp: keep a connection after a delivery for the next one to the "
     "same next hop"},
    {"smtp_connection_cache_time_limit", PARAM_TIME, "2s", 1, NOLIMIT, 0,
     "smtp: how long a kept connection waits idle for its next delivery"},
    {"lmtp_connection_cache_time_limit", PARAM_TIME, "2s", 1, NOLIMIT, 0,
     "lmtp: how long a kept connection waits idle for its next delivery"},
    {"smtp_connection_reuse_count_limit", PARAM_INT, "0", 0, NOLIMIT, 0,
     "smtp: most transactions on one connection (0: no limit)"},
    {"lmtp_connection_reuse_count_limit", PARAM_INT, "0", 0, NOLIMIT, 0,
     "lmtp: most transactions on one connection (0: no limit)"},
    {"smtp_connection_reuse_time_limit", PARAM_TIME, "300s", 1, NOLIMIT, 0,
     "smtp: age after which a connection is no longer reused"},
    {"lmtp_connection_reuse_time_limit", PARAM_TIME, "300s", 1, NOLIMIT, 0,
     "lmtp: age after which a connection is no longer reused"},
    {"smtp_sasl_auth_enable", PARAM_BOOL, "no", 0, 0, 0,
     "smtp: log in to servers with SASL when smtp_sasl_password_maps has "
     "credentials for them"},
    {"lmtp_sasl_auth_enable", PARAM_BOOL, "no", 0, 0, 0,
     "lmtp: log in to servers with SASL"},
    {"smtp_sasl_password_maps", PARAM_LIST, "", 0, 0, 0,
     "smtp: user:password per sender, remote host or next-hop destination"},
    {"lmtp_sasl_password_maps", PARAM_LIST, "", 0, 0, 0,
     "lmtp: user:password per remote host or next-hop destination"},
    {"smtp_sasl_security_options", PARAM_LIST, "noplaintext, noanonymous", 0,
     0, 0, "smtp: SASL mechanisms excluded on a connection without TLS"},
    {"lmtp_sasl_security_options", PARAM_LIST, "noplaintext, noanonymous", 0,
     0, 0, "lmtp: SASL mechanisms excluded on a connection without TLS"},
    {"smtp_sasl_tls_security_options", PARAM_LIST,
     "noanonymous", 0, 0, 0,
     "smtp: SASL mechanisms excluded under TLS"},
    {"lmtp_sasl_tls_security_options", PARAM_LIST,
     "noanonymous", 0, 0, 0,
     "lmtp: SASL mechanisms excluded under TLS"},
    {"smtp_sasl_tls_verified_security_options", PARAM_LIST,
     "$smtp_sasl_tls_security_options", 0, 0, 0,
     "smtp: SASL mechanisms excluded under TLS with a verified server "
     "certificate"},
    {"smtp_sasl_mechanism_filter", PARAM_LIST, "", 0, 0, 0,
     "smtp: which of the server's SASL mechanisms may be used (empty: all)"},
    {"lmtp_sasl_mechanism_filter", PARAM_LIST, "", 0, 0, 0,
     "lmtp: which of the server's SASL mechanisms may be used (empty: all)"},
    {"smtp_sasl_auth_soft_bounce", PARAM_BOOL, "yes", 0, 0, 0,
     "smtp: a 5xx reply to AUTH defers the mail instead of bouncing it"},
    {"lmtp_sasl_auth_soft_bounce", PARAM_BOOL, "yes", 0, 0, 0,
     "lmtp: a 5xx reply to AUTH defers the mail instead of bouncing it"},
    {"smtp_sender_dependent_authentication", PARAM_BOOL, "no", 0, 0, 0,
     "smtp: look up SASL credentials by the envelope sender first (turns "
     "connection caching off)"},
    {"lmtp_sender_dependent_authentication", PARAM_BOOL, "no", 0, 0, 0,
     "lmtp: accepted for Postfix compatibility; LMTP never looks up by "
     "sender"},
    {"smtp_fallback_relay", PARAM_LIST, "$fallback_relay", 0, 0, 0,
     "smtp: relay hosts tried after a next hop's own servers could not "
     "take the mail, or when its name is not found"},
    {"fallback_relay", PARAM_LIST, "", 0, 0, 0,
     "old name of smtp_fallback_relay"},

    /* ---- SMTP/LMTP client protocol engine (lib/smtpc; docs/smtp.md) ---- */
    {"smtp_helo_name", PARAM_STR, "$myhostname", 0, 0, 0,
     "host name the smtp client sends in EHLO/HELO"},
    {"smtp_helo_timeout", PARAM_TIME, "300s", 1, NOLIMIT, 0,
     "smtp client: longest wait for the greeting and the EHLO/HELO reply"},
    {"smtp_starttls_timeout", PARAM_TIME, "300s", 1, NOLIMIT, 0,
     "smtp client: longest wait for the STARTTLS reply and the handshake"},
    {"smtp_mail_timeout", PARAM_TIME, "300s", 1, NOLIMIT, 0,
     "smtp client: longest wait for the MAIL FROM reply"},
    {"smtp_rcpt_timeout", PARAM_TIME, "300s", 1, NOLIMIT, 0,
     "smtp client: longest wait for a RCPT TO reply"},
    {"smtp_data_init_timeout", PARAM_TIME, "120s", 1, NOLIMIT, 0,
     "smtp client: longest wait for the DATA reply"},
    {"smtp_data_xfer_timeout", PARAM_TIME, "180s", 1, NOLIMIT, 0,
     "smtp client: longest wait for the server to take more content"},
    {"smtp_data_done_timeout", PARAM_TIME, "600s", 1, NOLIMIT, 0,
     "smtp client: longest wait for the reply to the end of data"},
    {"smtp_rset_timeout", PARAM_TIME, "20s", 1, NOLIMIT, 0,
     "smtp client: longest wait for the RSET reply"},
    {"smtp_quit_timeout", PARAM_TIME, "300s", 1, NOLIMIT, 0,
     "smtp client: longest wait for QUIT to be written"},
    {"smtp_skip_5xx_greeting", PARAM_BOOL, "yes", 0, 0, 0,
     "smtp client: a 5xx greeting defers (try the next MX host) instead of "
     "bouncing"},
    {"smtp_line_length_limit", PARAM_INT, "998", 0, NOLIMIT, 0,
     "smtp client: longer content lines are broken with CRLF and a space "
     "(0: never)"},
    {"smtp_discard_ehlo_keywords", PARAM_LIST, "", 0, 0, 0,
     "smtp client: EHLO keywords to ignore in the server's reply "
     "(pipelining, size, 8bitmime, dsn, chunking, starttls, auth, ...)"},
    {"smtp_bdat_enable", PARAM_BOOL, "yes", 0, 0, 0,
     "smtp client: send with BDAT when the server offers CHUNKING (Postern; "
     "Postfix never does)"},
    {"lmtp_lhlo_name", PARAM_STR, "$myhostname", 0, 0, 0,
     "host name the lmtp client sends in LHLO"},
    {"lmtp_lhlo_timeout", PARAM_TIME, "300s", 1, NOLIMIT, 0,
     "lmtp client: longest wait for the greeting and the LHLO reply"},
    {"lmtp_starttls_timeout", PARAM_TIME, "300s", 1, NOLIMIT, 0,
     "lmtp client: longest wait for the STARTTLS reply and the handshake"},
    {"lmtp_mail_timeout", PARAM_TIME, "300s", 1, NOLIMIT, 0,
     "lmtp client: longest wait for the MAIL FROM reply"},
    {"lmtp_rcpt_timeout", PARAM_TIME, "300s", 1, NOLIMIT, 0,
     "lmtp client: longest wait for a RCPT TO reply"},
    {"lmtp_data_init_timeout", PARAM_TIME, "120s", 1, NOLIMIT, 0,
     "lmtp client: longest wait for the DATA reply"},
    {"lmtp_data_xfer_timeout", PARAM_TIME, "180s", 1, NOLIMIT, 0,
     "lmtp client: longest wait for the server to take more content"},
    {"lmtp_data_done_timeout", PARAM_TIME, "600s", 1, NOLIMIT, 0,
     "lmtp client: longest wait for each reply after the end of data"},
    {"lmtp_rset_timeout", PARAM_TIME, "20s", 1, NOLIMIT, 0,
     "lmtp client: longest wait for the RSET reply"},
    {"lmtp_quit_timeout", PARAM_TIME, "300s", 1, NOLIMIT, 0,
     "lmtp client: longest wait for QUIT to be written"},
    {"lmtp_skip_5xx_greeting", PARAM_BOOL, "yes", 0, 0, 0,
     "lmtp client: a 5xx greeting defers instead of bouncing"},
    {"lmtp_line_length_limit", PARAM_INT, "998", 0, NOLIMIT, 0,
     "lmtp client: longer content lines are broken with CRLF and a space "
     "(0: never)"},
    {"lmtp_discard_lhlo_keywords", PARAM_LIST, "", 0, 0, 0,
     "lmtp client: LHLO keywords to ignore in the server's reply"},
    {"lmtp_bdat_enable", PARAM_BOOL, "yes", 0, 0, 0,
     "lmtp client: send with BDAT when the server offers CHUNKING"},
    /* ---- the LMTP server (lmtpd; docs/lmtpd.md) ---- */
    {"lmtpd_timeout", PARAM_TIME, "300s", 1, 86400, 0,
     "how long the LMTP server waits for a command or for more of a "
     "message before it closes the connection"},
    {"lmtpd_temp_directory", PARAM_STR, "/tmp", 0, 0, 0,
     "where the LMTP server keeps a message larger than 128 kB while it "
     "delivers it, in a file without a name (Dovecot's mail_temp_dir)"},
    /* ---- delivery targets of smtp and lmtp (lib/dns/targets) ---- */
    {"postern_dns_trust_anchor_file", PARAM_STR, "/usr/share/dns/root.key", 0,
     0, 0,
     "DNSSEC trust anchors used with smtp_dns_support_level = dnssec "
     "(Debian package dns-root-data)"},
    {"smtp_address_preference", PARAM_STR, "any", 0, 0, 0,
     "address family tried first among equal preferences: any, ipv4 or "
     "ipv6"},
    {"smtp_randomize_addresses", PARAM_BOOL, "yes", 0, 0, 0,
     "shuffle the addresses of equal preference on each lookup"},
    {"smtp_balance_inet_protocols", PARAM_BOOL, "yes", 0, 0, 0,
     "keep IPv4 and IPv6 addresses both within the address limit"},
    {"smtp_defer_if_no_mx_address_found", PARAM_BOOL, "no", 0, 0, 0,
     "defer instead of bounce when no MX host has an address"},
    {"smtp_dns_support_level", PARAM_STR, "", 0, 0, 0,
     "empty or enabled: DNS lookups; dnssec: also validate (DANE)"},
    {"smtp_host_lookup", PARAM_LIST, "dns", 0, 0, 0,
     "how host addresses are found: dns (native alone is refused; beside "
     "dns it is ignored)"},
    {"lmtp_address_preference", PARAM_STR, "ipv6", 0, 0, 0,
     "address family tried first among equal preferences: any, ipv4 or "
     "ipv6"},
    {"lmtp_randomize_addresses", PARAM_BOOL, "yes", 0, 0, 0,
     "shuffle the addresses of equal preference on each lookup"},
    {"lmtp_balance_inet_protocols", PARAM_BOOL, "yes", 0, 0, 0,
     "keep IPv4 and IPv6 addresses both within the address limit"},
    {"lmtp_defer_if_no_mx_address_found", PARAM_BOOL, "no", 0, 0, 0,
     "defer instead of bounce when no MX host has an address"},
    {"lmtp_dns_support_level", PARAM_STR, "", 0, 0, 0,
     "empty or enabled: DNS lookups; dnssec: also validate (DANE)"},
    {"lmtp_host_lookup", PARAM_LIST, "dns", 0, 0, 0,
     "how host addresses are found: dns (native alone is refused; beside "
     "dns it is ignored)"},
    /* ---- MTA-STS for the SMTP client (lib/mtasts, docs/mta-sts.md) ---- */
    {"postern_mta_sts_enable", PARAM_BOOL, "yes", 0, 0, 0,
     "look up and apply the MTA-STS policy (RFC 8461) of a destination "
     "domain before delivering to its MX hosts"},
    {"postern_mta_sts_ca_file", PARAM_STR, "", 0, 0, 0,
     "CA certificates (PEM) that verify MTA-STS policy servers; empty: the "
     "system store"},
    {"postern_mta_sts_connect_timeout", PARAM_TIME, "10s", 1, 300, 0,
     "longest wait for the TCP and TLS connection to an MTA-STS policy "
     "server"},
    {"postern_mta_sts_fetch_timeout", PARAM_TIME, "30s", 1, 600, 0,
     "longest time for one MTA-STS policy fetch, connection included"},
    {"postern_mta_sts_connect_to", PARAM_LIST, "", 0, 0, 0,
     "testing only: libcurl CONNECT_TO entries (HOST:PORT:ADDR:PORT) that "
     "send policy fetches elsewhere"},
    {"postern_tls_report_records", PARAM_BOOL, "yes", 0, 0, 0,
     "record the SMTP client's TLS outcomes per destination and day in "
     "$data_directory/tls-rpt for TLS reports (RFC 8460)"},
    /* ---- IMAP: imap-login, the imapd dispatcher and workers (imapd;
     * docs/imapd.md) ---- */
    {"imapd_tls_cert_file", PARAM_STR, "$smtpd_tls_cert_file", 0, 0, 0,
     "imap-login's certificate and chain (PEM); empty: no TLS"},
    {"imapd_tls_key_file", PARAM_STR, "$smtpd_tls_key_file", 0, 0, 0,
     "private key of imapd_tls_cert_file (PEM)"},
    {"imapd_tls_chain_files", PARAM_LIST, "$smtpd_tls_chain_files", 0, 0, 0,
     "PEM files, each key followed by its certificate chain; takes "
     "precedence over imapd_tls_cert_file"},
    {"imapd_tls_protocols", PARAM_LIST, "$smtpd_tls_protocols", 0, 0, 0,
     "TLS protocols imap-login accepts with STARTTLS"},
    {"imapd_tls_mandatory_protocols", PARAM_LIST,
     "$smtpd_tls_mandatory_protocols", 0, 0, 0,
     "TLS protocols imap-login accepts in wrapper mode (port 993)"},
    {"imapd_tls_ciphers", PARAM_STR, "$smtpd_tls_ciphers", 0, 0, 0,
     "cipher grade with STARTTLS (TLSv1.2 and older)"},
    {"imapd_tls_mandatory_ciphers", PARAM_STR, "$smtpd_tls_mandatory_ciphers",
     0, 0, 0, "cipher grade in wrapper mode (TLSv1.2 and older)"},
    {"imapd_tls_loglevel", PARAM_INT, "$smtpd_tls_loglevel", 0, 4, 0,
     "imap-login's TLS logging: 0 failures, 1 a line per handshake"},
    {"imapd_tls_session_cache_timeout", PARAM_TIME,
     "$smtpd_tls_session_cache_timeout", 0, 8640000, 0,
     "lifetime of imap-login's TLS session tickets; 0: no resumption"},
    {"imapd_tls_wrappermode", PARAM_BOOL, "no", 0, 0, 0,
     "TLS from the first byte (imaps, port 993) instead of STARTTLS"},
    {"imapd_disable_plaintext_auth", PARAM_BOOL, "yes", 0, 0, 0,
     "refuse LOGIN and plaintext SASL before TLS, except from the server's "
     "own address (Dovecot's disable_plaintext_auth)"},
    {"imapd_sasl_path", PARAM_STR, "private/auth", 0, 0, 0,
     "the auth service's socket, relative to queue_directory"},
    {"imapd_login_timeout", PARAM_TIME, "180s", 1, 86400, 0,
     "how long imap-login waits for a client that has not logged in (and "
     "for a TLS handshake)"},
    {"imapd_idle_timeout", PARAM_TIME, "1800s", 1, 86400, 0,
     "logout after this long without a command; at least 30 minutes "
     "while in IDLE (RFC 9051)"},
    {"imapd_idle_notify_interval", PARAM_TIME, "120s", 1, 1800, 0,
     "how often an IDLE session gets \"* OK Still here\", so that NAT "
     "boxes keep the connection (Dovecot's imap_idle_notify_interval)"},
    {"imapd_max_line_length", PARAM_SIZE, "65536", 1024, 104857600, 0,
     "bytes of one IMAP command line (between literals)"},
    {"imapd_max_literal_size", PARAM_SIZE, "65536", 1024, 104857600, 0,
     "bytes of one literal in a command other than APPEND"},
    {"imapd_max_command_size", PARAM_SIZE, "262144", 1024, 1073741824, 0,
     "bytes of one command, APPEND's message excepted"},
    {"imapd_max_nesting_depth", PARAM_INT, "32", 1, 256, 0,
     "nesting of parenthesized lists in one command"},
    {"imapd_minimum_uid", PARAM_INT, "100", 1, NOLIMIT, 0,
     "the lowest uid a logged-in IMAP session may run as (uid 0 never)"},
    {"imapd_workers_per_uid", PARAM_INT, "4", 1, 1024, 0,
     "worker processes one uid's sessions are spread over (by user name)"},
    {"imapd_log_ident", PARAM_STR, "dovecot", 0, 0, 0,
     "the program name of imap-login's and imapd's Dovecot-shaped lines "
     "(fail2ban's dovecot filter wants dovecot); empty: the usual one"},
    /* ---- IMAP folders (lib/storage/mailbox_list, special_use;
     *      docs/imap-folders.md) ---- */
    {"imapd_hierarchy_separator", PARAM_STR, ".", 0, 0, 0,
     "the hierarchy separator IMAP clients see, '.' (Dovecot's default "
     "for Maildir++) or '/'; on disk it is always '.'"},
    {"imapd_sent_folder", PARAM_STR, "Sent", 0, 0, 0,
     "the \\Sent special-use folder (RFC 6154), created at login when "
     "missing; empty: none"},
    {"imapd_drafts_folder", PARAM_STR, "Drafts", 0, 0, 0,
     "the \\Drafts special-use folder, created at login when missing; "
     "empty: none"},
    {"imapd_trash_folder", PARAM_STR, "Trash", 0, 0, 0,
     "the \\Trash special-use folder, created at login when missing; "
     "empty: none"},
    {"imapd_junk_folder", PARAM_STR, "Junk", 0, 0, 0,
     "the \\Junk special-use folder, created at login when missing; "
     "empty: none"},
    {"imapd_archive_folder", PARAM_STR, "Archive", 0, 0, 0,
     "the \\Archive special-use folder, created at login when missing; "
     "empty: none"},
    {"postern_tls_report_retention", PARAM_TIME, "30d", 0, 0, 0,
     "how long the TLS report record files of $data_directory/tls-rpt are "
     "kept; the smtp client removes older days once a day (0: never)"},
    /* ---- SPF in smtpd (lib/spf, docs/spf.md) ---- */
    {"smtpd_spf_enable", PARAM_BOOL, "no", 0, 0, 0,
     "check SPF (MAIL FROM and HELO) for clients outside mynetworks and "
     "not authenticated: log the results and add Received-SPF:"},
};

const size_t param_table_count = sizeof(param_table) / sizeof(param_table[0]);

/* A sorted index of the table, built on first use: the table is in
 * sections by owner, lookups want a binary search. */
static const struct param_def **sorted_index;

static int compare_defs(const void *a, const void *b)
{
    const struct param_def *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

const struct param_def *param_find(const char *name)
{
    if (sorted_index == NULL) {
        sorted_index = xcalloc(param_table_count, sizeof(*sorted_index));
        for (size_t i = 0; i < param_table_count; i++)
            sorted_index[i] = &param_table[i];
        qsort(sorted_index, param_table_count, sizeof(*sorted_index),
              compare_defs);
    }
    size_t low = 0, high = param_table_count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        int cmp = strcmp(name, sorted_index[mid]->name);
        if (cmp == 0)
            return sorted_index[mid];
        if (cmp < 0)
            high = mid;
        else
            low = mid + 1;
    }
    return NULL;
}

/* This host's name: gethostname(), made fully-qualified through the
 * resolver when it has no dot (as Postfix does). Computed once. */
static const char *system_hostname(void)
{
    static char *hostname;
    if (hostname)
        return hostname;
    char name[256];
    if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == 0)
        str_copy(name, "localhost", sizeof(name));
    name[sizeof(name) - 1] = 0;
    if (strchr(name, '.') == NULL) {
        struct addrinfo hints, *result = NULL;
        memset(&hints, 0, sizeof(hints));
        hints.ai_flags = AI_CANONNAME;
        hints.ai_socktype = SOCK_STREAM;
        if (getaddrinfo(name, NULL, &hints, &result) == 0 && result &&
            result->ai_canonname && strchr(result->ai_canonname, '.'))
            str_copy(name, result->ai_canonname, sizeof(name));
        if (result)
            freeaddrinfo(result);
    }
    if (strchr(name, '.') == NULL) {
        /* Postfix appends $mydomain, whose default is then localdomain. */
        hostname = xasprintf("%s.localdomain", name);
    } else {
        hostname = xstrdup(name);
    }
    str_lower(hostname);
    return hostname;
}

const char *param_default(const struct param_def *def)
{
    if ((def->flags & PARAM_F_COMPUTED) && strcmp(def->name, "myhostname") == 0)
        return system_hostname();
    return def->def;
}

const char *param_type_name(enum param_type type)
{
    switch (type) {
    case PARAM_STR:
        return "string";
    case PARAM_INT:
        return "integer";
    case PARAM_TIME:
        return "time";
    case PARAM_SIZE:
        return "size";
    case PARAM_BOOL:
        return "boolean";
    case PARAM_LIST:
        return "list";
    }
    return "string";
}

int param_is_per_transport(const char *name)
{
    static const char *const suffixes[] = {
        "_destination_concurrency_limit",
        "_destination_recipient_limit",
        "_initial_destination_concurrency",
        "_destination_concurrency_failed_cohort_limit",
        "_destination_concurrency_positive_feedback",
        "_destination_concurrency_negative_feedback",
        "_destination_rate_delay",
        "_recipient_limit",
        "_time_limit",
        "_delivery_slot_cost",
        "_delivery_slot_discount",
        "_delivery_slot_loan",
        "_minimum_delivery_slots",
        "_extra_recipient_limit",
        "_recipient_refill_limit",
        "_recipient_refill_delay",
        "_transport_rate_delay",
    };
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(*suffixes); i++)
        if (str_has_suffix(name, suffixes[i]) &&
            strlen(name) > strlen(suffixes[i]))
            return 1;
    return 0;
}
