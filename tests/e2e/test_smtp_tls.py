"""test_smtp_tls.py: STARTTLS in the smtp and lmtp client (smtp/smtp_tls.c
on lib/tls's client), driven over the agent's socket with deliver/1
requests (agentlib.py) against the misbehaving receiver (fake_mx.py:
certificates made by the tests, no STARTTLS, a refused STARTTLS, a
broken handshake), and between two whole Postern instances.

Covered: every smtp_tls_security_level outcome Postfix has (none, may,
encrypt, verify, secure, fingerprint) from main.cf and from
smtp_tls_policy_maps, Postfix's log lines ("Untrusted/Verified TLS
connection established to host[addr]:port: TLSv1.3 with cipher ...")
and failure reasons ("TLS is required, but was not offered by host
...", "Server certificate not trusted", "Server certificate not
verified"), the next server after a failed one, may's plain-text retry
after a failed handshake, a kept connection reused with its TLS, lmtp_*
in LMTP mode, and an MX host name verified through DNS (dnsmasq)."""
import hashlib
import os
import re
import smtplib
import ssl
import subprocess
import tempfile
import shutil
import unittest

from agentlib import AgentEnv, prog
from dns_util import TEST_ZONE, Dnsmasq, dnsmasq_path
from fake_mx import OPENSSL, Behaviour, FakeMX, make_certs
from instance import Instance, free_port, port_refuses
from test_smtp_relay import mailbox_setup

CONTENT = (b"From: Sender <s@x.org>\r\nTo: a@ex.org\r\nSubject: tls\r\n\r\n"
           b"Hello over TLS\r\n")

_CERTS = {}


def certs():
    """One set of certificates for the whole module (made once: the
    openssl command is slow), readable by the unprivileged daemons of an
    instance (test keys, nothing secret)."""
    if not _CERTS:
        directory = tempfile.mkdtemp(prefix="pt-smtptls-certs.", dir="/tmp")
        _CERTS.update(make_certs(directory, name="mx.tls.example"))
        _CERTS["dir"] = directory
        os.chmod(directory, 0o755)
        for name in os.listdir(directory):
            os.chmod(os.path.join(directory, name), 0o644)
    return _CERTS


def tearDownModule():
    if _CERTS.get("dir"):
        shutil.rmtree(_CERTS["dir"], ignore_errors=True)


def have_programs():
    return OPENSSL and all(
        os.access(prog(*p), os.X_OK)
        for p in (("smtp", "smtp"), ("tests", "helpers", "deliver_call"),
                  ("tests", "helpers", "agent_qfile")))


ESTABLISHED = (r"postern/smtp\[\d+\]: (Untrusted|Trusted|Verified) TLS "
               r"connection established to {relay}: TLSv1\.[23] with cipher "
               r"\S+ \(\d+/\d+ bits\)")


@unittest.skipUnless(have_programs(), "smtp, the agent helpers or openssl "
                                      "missing")
class SmtpTlsTest(unittest.TestCase):
    def setUp(self):
        self.c = certs()

    def agent(self, **params):
        main_cf = {
            "myhostname": "client.test",
            "smtp_connect_timeout": "5s",
            "smtp_starttls_timeout": "5s",
            "smtp_tls_loglevel": "1",
        }
        main_cf.update(params)
        return AgentEnv(self, "smtp", main_cf=main_cf)

    def mx(self, tls="good", **behaviour):
        b = Behaviour(tls=self.c[tls] if tls else None, **behaviour)
        mx = FakeMX(b).start()
        self.addCleanup(mx.stop)
        return mx

    def send(self, env, mx, rcpts=("a@ex.org",), nexthop=None):
        q = env.queue_file("s@x.org", list(rcpts), CONTENT)
        reply = env.deliver(q, transport="smtp",
                            nexthop=nexthop or f"[127.0.0.1]:{mx.port}")
        return q, reply

    def relay(self, mx):
        return re.escape(f"127.0.0.1[127.0.0.1]:{mx.port}")

    def established(self, env, mx):
        m = re.search(ESTABLISHED.format(relay=self.relay(mx)), env.log_text())
        return m.group(1) if m else None

    # ---- none and may ----

    def test_none_sends_in_plain_text_although_offered(self):
        mx = self.mx()
        env = self.agent(smtp_tls_security_level="none")
        _, reply = self.send(env, mx)
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertFalse(mx.transactions[0].tls)
        self.assertNotIn("STARTTLS", mx.sessions[0].commands)

    def test_may_uses_starttls_and_logs_untrusted(self):
        mx = self.mx(tls="self_signed")
        env = self.agent(smtp_tls_security_level="may")
        q, reply = self.send(env, mx)
        self.assertEqual(reply[0][:2], ("sent", "2.0.0"), reply)
        self.assertTrue(mx.transactions[0].tls)
        self.assertEqual(mx.transactions[0].helo, "client.test")
        self.assertEqual(self.established(env, mx), "Untrusted",
                         env.log_text())
        # EHLO again after the handshake, as RFC 3207 says
        cmds = [c.split()[0].upper() for c in mx.sessions[0].commands]
        self.assertEqual(cmds[:3], ["EHLO", "STARTTLS", "EHLO"])

    def test_may_without_starttls_is_plain(self):
        mx = self.mx(tls=None)
        env = self.agent(smtp_tls_security_level="may")
        _, reply = self.send(env, mx)
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertFalse(mx.transactions[0].tls)
        self.assertIsNone(self.established(env, mx))

    def test_may_refused_starttls_goes_on_in_plain_text(self):
        mx = self.mx(replies={"starttls": (454, "4.7.0 TLS not available")})
        env = self.agent(smtp_tls_security_level="may")
        _, reply = self.send(env, mx)
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertEqual(mx.connections, 1)
        self.assertFalse(mx.transactions[0].tls)

    def test_may_retries_in_plain_text_after_a_failed_handshake(self):
        # The first connection answers 220 to STARTTLS but never starts
        # TLS: the handshake fails, and Postfix tries the same server
        # again without TLS.
        mx = self.mx(replies={"starttls": (220, "2.0.0 go ahead")},
                     fail_connections=1)
        env = self.agent(smtp_tls_security_level="may")
        q, reply = self.send(env, mx)
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertEqual(mx.connections, 2)
        self.assertNotIn("STARTTLS", mx.sessions[1].commands)
        self.assertFalse(mx.transactions[0].tls)
        log = env.log_text()
        self.assertRegex(log, rf"SSL_connect error to {self.relay(mx)}: ")
        self.assertRegex(log, rf"{self.relay(mx)}: TLS handshake failed; "
                              r"trying again without TLS")

    # ---- encrypt ----

    def test_encrypt_without_starttls_defers(self):
        mx = self.mx(tls=None)
        env = self.agent(smtp_tls_security_level="encrypt")
        q, reply = self.send(env, mx)
        self.assertEqual(reply[0][:2], ("deferred", "4.7.4"), reply)
        self.assertEqual(mx.transactions, [])
        line = env.log_line(q, "a@ex.org")
        self.assertIn("status=deferred (TLS is required, but was not offered "
                      "by host 127.0.0.1[127.0.0.1])", line)
        # the server that failed is named, as Postfix does
        self.assertIn(f"relay=127.0.0.1[127.0.0.1]:{mx.port}, ", line)
        self.assertNotIn("MAIL", " ".join(mx.sessions[0].commands).upper())

    def test_encrypt_refused_starttls_defers(self):
        mx = self.mx(replies={"starttls": (454, "4.7.0 TLS not available")})
        env = self.agent(smtp_tls_security_level="encrypt")
        q, reply = self.send(env, mx)
        self.assertEqual(reply[0][:2], ("deferred", "4.7.0"), reply)
        self.assertIn("(TLS is required, but host 127.0.0.1[127.0.0.1] "
                      "refused to start TLS: 454 4.7.0 TLS not available)",
                      env.log_line(q, "a@ex.org"))
        self.assertEqual(mx.transactions, [])

    def test_encrypt_failed_handshake_defers_without_plain_retry(self):
        mx = self.mx(replies={"starttls": (220, "2.0.0 go ahead")})
        env = self.agent(smtp_tls_security_level="encrypt")
        q, reply = self.send(env, mx)
        self.assertEqual(reply[0][:2], ("deferred", "4.7.5"), reply)
        self.assertEqual(mx.connections, 1)
        self.assertIn("status=deferred (Cannot start TLS: handshake failure)",
                      env.log_line(q, "a@ex.org"))

    def test_encrypt_takes_any_certificate(self):
        mx = self.mx(tls="self_signed")
        env = self.agent(smtp_tls_security_level="encrypt")
        _, reply = self.send(env, mx)
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertTrue(mx.transactions[0].tls)
        self.assertEqual(self.established(env, mx), "Untrusted")

    # ---- verify, secure, fingerprint ----

    def verify_agent(self, level="verify", **params):
        settings = {"smtp_tls_security_level": level,
                    "smtp_tls_CAfile": self.c["ca"],
                    "smtp_tls_verify_cert_match": "mx.tls.example",
                    "smtp_tls_secure_cert_match": "mx.tls.example"}
        settings.update(params)
        return self.agent(**settings)

    def test_verify_good_certificate(self):
        mx = self.mx(tls="good")
        env = self.verify_agent()
        _, reply = self.send(env, mx)
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertTrue(mx.transactions[0].tls)
        self.assertEqual(self.established(env, mx), "Verified")

    def test_verify_untrusted_certificate_defers(self):
        mx = self.mx(tls="self_signed")
        env = self.verify_agent()
        q, reply = self.send(env, mx)
        self.assertEqual(reply[0][:2], ("deferred", "4.7.5"), reply)
        self.assertIn("status=deferred (Server certificate not trusted)",
                      env.log_line(q, "a@ex.org"))
        self.assertEqual(mx.transactions, [])
        self.assertIn("certificate verification failed for "
                      f"127.0.0.1[127.0.0.1]:{mx.port}: untrusted issuer",
                      env.log_text())

    def test_secure_wrong_name_defers(self):
        mx = self.mx(tls="wrong_name")
        env = self.verify_agent("secure")
        q, reply = self.send(env, mx)
        self.assertEqual(reply[0][:2], ("deferred", "4.7.5"), reply)
        self.assertIn("status=deferred (Server certificate not verified)",
                      env.log_line(q, "a@ex.org"))
        self.assertIn("server certificate verification failed for "
                      f"127.0.0.1[127.0.0.1]:{mx.port}: num=62:hostname "
                      "mismatch", env.log_text())

    def test_expired_certificate_is_reported_as_expired(self):
        # fake_mx's "expired": made by openssl ca, signed by the trusted
        # test CA, valid only in January 2020. Postfix 3.7 logs the
        # verify error as below; the reason keeps Postfix's "not
        # trusted" and says why.
        mx = self.mx(tls="expired")
        env = self.verify_agent("secure")
        q, reply = self.send(env, mx)
        self.assertEqual(reply[0][:2], ("deferred", "4.7.5"), reply)
        self.assertIn("Server certificate not trusted (certificate has "
                      "expired)", reply[0][3])
        self.assertIn("status=deferred (Server certificate not trusted "
                      "(certificate has expired))",
                      env.log_line(q, "a@ex.org"))
        self.assertIn("server certificate verification failed for "
                      f"127.0.0.1[127.0.0.1]:{mx.port}: certificate has "
                      "expired", env.log_text())
        self.assertEqual(mx.transactions, [])

    def test_next_server_after_a_failed_verification(self):
        bad = self.mx(tls="self_signed")
        good = self.mx(tls="good")
        env = self.verify_agent()
        q, reply = self.send(
            env, good,
            nexthop=f"[127.0.0.1]:{bad.port}, [127.0.0.1]:{good.port}")
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertEqual(bad.transactions, [])
        self.assertTrue(good.transactions[0].tls)

    def test_fingerprint(self):
        with open(self.c["good"][0]) as f:
            der = ssl.PEM_cert_to_DER_cert(f.read())
        digest = hashlib.sha256(der).hexdigest()
        fpt = ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))
        mx = self.mx(tls="good")
        env = self.agent(smtp_tls_security_level="fingerprint",
                         smtp_tls_fingerprint_cert_match=fpt.upper())
        _, reply = self.send(env, mx)
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertEqual(self.established(env, mx), "Verified")
        mx2 = self.mx(tls="self_signed")
        q, reply = self.send(env, mx2)
        self.assertEqual(reply[0][:2], ("deferred", "4.7.5"), reply)
        self.assertIn("(Server certificate not verified)",
                      env.log_line(q, "a@ex.org"))

    # ---- smtp_tls_policy_maps ----

    def test_policy_maps_entry_overrides_main_cf(self):
        plain = self.mx(tls=None)
        strict = self.mx(tls="self_signed")
        maps = (f"inline:{{ [127.0.0.1]:{plain.port}=encrypt, "
                f"{{ [127.0.0.1]:{strict.port} = verify match=mx.tls.example }} }}")
        env = self.agent(smtp_tls_security_level="may",
                         smtp_tls_CAfile=self.c["ca"],
                         smtp_tls_policy_maps=maps)
        q, reply = self.send(env, plain)
        self.assertEqual(reply[0][:2], ("deferred", "4.7.4"), reply)
        q, reply = self.send(env, strict)
        self.assertIn("(Server certificate not trusted)",
                      env.log_line(q, "a@ex.org"))
        other = self.mx(tls=None)  # no entry: main.cf's may
        _, reply = self.send(env, other)
        self.assertEqual(reply[0][0], "sent", reply)

    def test_broken_policy_entry_defers(self):
        mx = self.mx()
        maps = f"inline:{{ {{ [127.0.0.1]:{mx.port} = verify bogus=1 }} }}"
        env = self.agent(smtp_tls_security_level="may",
                         smtp_tls_policy_maps=maps)
        q, reply = self.send(env, mx)
        self.assertEqual(reply[0][0], "deferred", reply)
        self.assertEqual(mx.connections, 0)
        self.assertIn("TLS policy lookup for [127.0.0.1]:", env.log_line(
            q, "a@ex.org"))

    # ---- TLS-Required: No (RFC 8689 section 5) ----

    def test_tls_required_no_sends_despite_a_failed_verification(self):
        mx = self.mx(tls="self_signed")
        env = self.verify_agent()
        q = env.queue_file("s@x.org", ["a@ex.org"],
                           b"TLS-Required: No\r\n" + CONTENT)
        reply = env.deliver(q, transport="smtp",
                            nexthop=f"[127.0.0.1]:{mx.port}")
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertTrue(mx.transactions[0].tls)  # still TLS when offered
        self.assertIn(f"{q['qid']}: TLS-Required: No: the TLS policy of "
                      f"[127.0.0.1]:{mx.port} is not enforced for this "
                      "message", env.log_text())
        # the same message without the header defers
        q, reply = self.send(env, mx)
        self.assertEqual(reply[0][:2], ("deferred", "4.7.5"), reply)

    def test_tls_required_no_sends_in_plain_text(self):
        mx = self.mx(tls=None)
        env = self.agent(smtp_tls_security_level="encrypt")
        q = env.queue_file("s@x.org", ["a@ex.org"],
                           b"Subject: x\r\ntls-required:   no \r\n\r\nbody\r\n")
        reply = env.deliver(q, transport="smtp",
                            nexthop=f"[127.0.0.1]:{mx.port}")
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertFalse(mx.transactions[0].tls)

    # ---- connection reuse ----

    def test_kept_connection_keeps_its_tls(self):
        mx = self.mx(tls="good")
        env = self.verify_agent(smtp_connection_cache_on_demand="yes",
                                smtp_connection_cache_time_limit="10s")
        for _ in range(2):
            _, reply = self.send(env, mx)
            self.assertEqual(reply[0][0], "sent", reply)
        self.assertEqual(mx.connections, 1)
        self.assertEqual([t.tls for t in mx.transactions], [True, True])

    # ---- LMTP ----

    def test_lmtp_uses_lmtp_parameters(self):
        mx = self.mx(tls="good", lmtp=True)
        env = AgentEnv(self, "lmtp", start=False, main_cf={
            "myhostname": "client.test",
            "lmtp_tls_security_level": "verify",
            "lmtp_tls_CAfile": self.c["ca"],
            "lmtp_tls_verify_cert_match": "mx.tls.example",
            "lmtp_tls_loglevel": "1",
            "smtp_tls_security_level": "none",
        })
        link = env.path("lmtp")
        os.symlink(prog("smtp", "smtp"), link)
        env.program = link
        env.start()
        q = env.queue_file("s@x.org", ["a@ex.org"], CONTENT)
        reply = env.deliver(q, transport="lmtp",
                            nexthop=f"inet:[127.0.0.1]:{mx.port}")
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertTrue(mx.transactions[0].tls)
        self.assertRegex(env.log_text(), r"postern/lmtp\[\d+\]: Verified TLS "
                                         r"connection established to ")


    def test_requiretls_does_not_apply_to_lmtp_over_a_unix_socket(self):
        # final delivery to a mail store on this host (Dovecot's LMTP
        # has no TLS and no REQUIRETLS); over TCP the rule holds
        sock_dir = tempfile.mkdtemp(prefix="pt-lmtpsock.", dir="/tmp")
        self.addCleanup(shutil.rmtree, sock_dir, True)
        mx = FakeMX(Behaviour(lmtp=True),
                    unix_path=os.path.join(sock_dir, "lmtp")).start()
        self.addCleanup(mx.stop)
        env = AgentEnv(self, "lmtp", start=False,
                       main_cf={"myhostname": "client.test"})
        link = env.path("lmtp")
        os.symlink(prog("smtp", "smtp"), link)
        env.program = link
        env.start()
        q = env.queue_file("s@x.org", ["a@ex.org"], CONTENT)
        reply = env.deliver(q, transport="lmtp", requiretls=True,
                            nexthop=f"unix:{mx.unix_path}")
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertNotIn("REQUIRETLS", mx.transactions[0].mail_params)
        tcp = self.mx(tls=None, lmtp=True)
        q = env.queue_file("s@x.org", ["a@ex.org"], CONTENT)
        reply = env.deliver(q, transport="lmtp", requiretls=True,
                            nexthop=f"inet:[127.0.0.1]:{tcp.port}")
        self.assertEqual(reply[0][:2], ("bounced", "5.7.30"), reply)
        self.assertEqual(tcp.transactions, [])


# An MX domain whose exchange is named in the certificate: verify checks
# the MX host name, secure the next-hop domain's names.
TLS_ZONE = TEST_ZONE + [
    ("--mx-host", "tls.example,mx.tls.example,10"),
    ("--host-record", "mx.tls.example,127.0.0.1"),
]


@unittest.skipUnless(have_programs() and dnsmasq_path(),
                     "smtp, helpers, openssl or dnsmasq missing")
class SmtpTlsDnsTest(unittest.TestCase):
    def setUp(self):
        self.c = certs()
        self.dns = Dnsmasq(TLS_ZONE)
        self.addCleanup(self.dns.cleanup)

    def run_level(self, level, cert, requiretls=False, content=CONTENT,
                  env=None, mx=None, offer_requiretls=False):
        if mx is None:
            mx = FakeMX(Behaviour(tls=self.c[cert] if cert else None,
                                  requiretls=offer_requiretls)).start()
            self.addCleanup(mx.stop)
        if env is None:
            env = AgentEnv(self, "smtp", main_cf={
                "myhostname": "client.test",
                "smtp_connect_timeout": "5s",
                "postern_dns_servers": self.dns.server,
                "postern_dns_timeout": "2s",
                "smtp_tls_security_level": level,
                "smtp_tls_CAfile": self.c["ca"],
                "smtp_tls_loglevel": "1",
                "smtp_connection_cache_time_limit": "10s",
            })
        q = env.queue_file("s@x.org", ["a@tls.example"], content)
        reply = env.deliver(q, transport="smtp",
                            nexthop=f"tls.example:{mx.port}",
                            requiretls=requiretls)
        return env, mx, q, reply

    def test_verify_matches_the_mx_host_name(self):
        env, mx, q, reply = self.run_level("verify", "good")
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertIn("Verified TLS connection established to "
                      f"mx.tls.example[127.0.0.1]:{mx.port}: TLSv1.3 with "
                      "cipher ", env.log_text())

    def test_secure_matches_below_the_next_hop(self):
        env, mx, q, reply = self.run_level("secure", "good")
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertTrue(mx.transactions[0].tls)

    def test_verify_other_name_defers(self):
        env, mx, q, reply = self.run_level("verify", "wrong_name")
        self.assertEqual(reply[0][:2], ("deferred", "4.7.5"), reply)
        self.assertIn("(Server certificate not verified)",
                      env.log_line(q, "a@tls.example"))

    # ---- REQUIRETLS (RFC 8689) on the sending side ----

    def test_requiretls_leaves_over_verified_tls_only(self):
        # main.cf says may; the message demands a verified connection
        env, mx, q, reply = self.run_level("may", "good", requiretls=True,
                                           offer_requiretls=True)
        self.assertEqual(reply[0][0], "sent", reply)
        (txn,) = mx.transactions
        self.assertTrue(txn.tls)
        self.assertIn("REQUIRETLS", txn.mail_params)
        self.assertIn("Verified TLS connection established to "
                      f"mx.tls.example[127.0.0.1]:{mx.port}", env.log_text())

    def test_requiretls_at_level_none_still_uses_verified_tls(self):
        # main.cf's level none (the default) is the site's choice for
        # ordinary mail; the REQUIRETLS message still gets verified TLS
        env, mx, q, reply = self.run_level("none", "good", requiretls=True,
                                           offer_requiretls=True)
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertTrue(mx.transactions[0].tls)

    def test_requiretls_untrusted_certificate_bounces(self):
        env, mx, q, reply = self.run_level("may", "self_signed",
                                           requiretls=True)
        self.assertEqual(reply[0][:2], ("bounced", "5.7.30"), reply)
        self.assertEqual(mx.transactions, [])
        self.assertRegex(
            env.log_line(q, "a@tls.example"),
            rf"relay=mx\.tls\.example\[127\.0\.0\.1\]:{mx.port}, .*"
            r"dsn=5\.7\.30, status=bounced \(Server certificate not "
            r"trusted\)$")

    def test_requiretls_server_without_requiretls_bounces(self):
        env, mx, q, reply = self.run_level("verify", "good", requiretls=True)
        self.assertEqual(reply[0][:2], ("bounced", "5.7.30"), reply)
        self.assertEqual(mx.transactions, [])
        self.assertIn("(REQUIRETLS is required, but was not offered by host "
                      "mx.tls.example[127.0.0.1])",
                      env.log_line(q, "a@tls.example"))

    def test_requiretls_never_in_plain_text(self):
        env, mx, q, reply = self.run_level("may", None, requiretls=True)
        self.assertEqual(reply[0][:2], ("bounced", "5.7.30"), reply)
        self.assertEqual(mx.transactions, [])
        self.assertIn("(TLS is required, but was not offered by host "
                      "mx.tls.example[127.0.0.1])",
                      env.log_line(q, "a@tls.example"))

    def test_requiretls_does_not_reuse_a_weaker_connection(self):
        env, mx, q, reply = self.run_level("may", "good", requiretls=True,
                                           offer_requiretls=True)
        self.assertEqual(reply[0][0], "sent", reply)
        # a plain may message next: not over the REQUIRETLS connection
        env, mx, q, reply = self.run_level("may", "good", env=env, mx=mx)
        self.assertEqual(reply[0][0], "sent", reply)
        # and a REQUIRETLS one again: the kept verified connection
        env, mx, q, reply = self.run_level("may", "good", requiretls=True,
                                           env=env, mx=mx)
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertEqual(mx.connections, 2)
        self.assertEqual([t.connection for t in mx.transactions], [1, 2, 1])

    def test_tls_required_no_is_ignored_with_requiretls(self):
        content = b"TLS-Required: No\r\n" + CONTENT
        env, mx, q, reply = self.run_level("may", "self_signed",
                                           requiretls=True, content=content,
                                           offer_requiretls=True)
        self.assertEqual(reply[0][:2], ("bounced", "5.7.30"), reply)


def have_instance_programs():
    return have_programs() and all(
        os.access(prog(p), os.X_OK)
        for p in ("master/master", "smtpd/smtpd", "qmgr/qmgr",
                  "virtual/virtual", "tests/helpers/qinject"))


MESSAGE = (b"From: alice@a.virt\nTo: bob@b.virt\nSubject: tls relay\n"
           b"Message-ID: <tls1@a.virt>\n\nHello over TLS.\n")


class _RelayPair:
    """Two whole instances: the receiver's smtpd offers STARTTLS with a
    certificate for mx.tls.example signed by the test CA (or offers no
    STARTTLS); the sender relays to it by relayhost at a given level."""

    def setUp(self):
        self.c = certs()
        self.tx_smtpd_port = None

    def start_rx(self, tls=True):
        self.rx = Instance(self)
        self.rx_base, vparams = mailbox_setup(self.rx, "b.virt", ("bob",))
        self.rx_port = self.rx.free_port()
        params = dict(vparams, **{
            "myhostname": "mx.tls.example",
            "mydestination": "$myhostname, localhost",
            "smtpd_peername_lookup": "no",
        })
        if tls:
            params.update({
                "smtpd_tls_security_level": "may",
                "smtpd_tls_cert_file": self.c["good"][0],
                "smtpd_tls_key_file": self.c["good"][1],
                "smtpd_tls_received_header": "yes",
            })
        self.rx.write_main_cf(params)
        self.rx.write_master_cf(
            self.rx.service(f"127.0.0.1:{self.rx_port}", "inet", "smtpd")
            + self.rx.service("qmgr", "unix", "qmgr", private="n", wakeup=1,
                              maxproc=1)
            + self.rx.service("virtual", "unix", "virtual", unpriv="n"))
        self.rx.start()
        self.rx.wait_until(lambda: not port_refuses(self.rx_port), timeout=10,
                           what="the receiver's smtpd")

    def start_tx(self, **params):
        self.tx = Instance(self)
        _, vparams = mailbox_setup(self.tx, "a.virt", ("alice",))
        base = dict(vparams, **{
            "myhostname": "mx.a.test",
            "mydestination": "$myhostname, localhost",
            "relayhost": f"[127.0.0.1]:{self.rx_port}",
            "smtp_tls_loglevel": "1",
            "smtp_tls_CAfile": self.c["ca"],
        })
        base.update(params)
        self.tx.write_main_cf(base)
        smtpd = ""
        if self.tx_smtpd_port:
            smtpd = self.tx.service(f"127.0.0.1:{self.tx_smtpd_port}",
                                    "inet", "smtpd")
        self.tx.write_master_cf(
            self.tx.service("qmgr", "unix", "qmgr", private="n", wakeup=1,
                            maxproc=1)
            + self.tx.service("smtp", "unix", "smtp")
            + self.tx.service("virtual", "unix", "virtual", unpriv="n")
            + smtpd)
        self.tx.start()
        if self.tx_smtpd_port:
            self.tx.wait_until(lambda: not port_refuses(self.tx_smtpd_port),
                               timeout=10, what="the sender's smtpd")

    def inject(self):
        kw = {}
        if os.geteuid() == 0:
            kw = {"user": self.tx.owner_uid, "group": self.tx.owner_gid,
                  "extra_groups": []}
        proc = subprocess.run([self.tx.program("qinject"), self.tx.queue,
                               "alice@a.virt", "bob@b.virt"], input=MESSAGE,
                              capture_output=True, timeout=30, **kw)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout.decode().strip()

    def wait_tx_log(self, pattern, timeout=30):
        found = []

        def seen():
            m = re.search(pattern, self.tx.log_text(), re.M)
            if m:
                found.append(m)
            return m is not None
        try:
            self.tx.wait_until(seen, timeout=timeout,
                               what=f"{pattern!r} in the sender's log")
        except Exception:
            print(self.tx.log_tail(40))
            raise
        return found[0]

    def relay(self):
        return re.escape(f"127.0.0.1[127.0.0.1]:{self.rx_port}")


@unittest.skipUnless(have_instance_programs(), "master, smtpd, qmgr, virtual, "
                                               "smtp, helpers or openssl "
                                               "missing")
class SmtpTlsRelayTest(_RelayPair, unittest.TestCase):
    def test_secure_delivery_is_verified_and_encrypted(self):
        self.start_rx()
        self.start_tx(smtp_tls_security_level="secure",
                      smtp_tls_secure_cert_match="mx.tls.example")
        qid = self.inject()
        self.wait_tx_log(
            rf"postern/smtp\[\d+\]: {qid}: to=<bob@b\.virt>, "
            rf"relay={self.relay()}, .*status=sent \(250 ")
        self.assertRegex(
            self.tx.log_text(),
            rf"postern/smtp\[\d+\]: Verified TLS connection established to "
            rf"{self.relay()}: TLSv1\.3 with cipher \S+ \(\d+/\d+ bits\)")
        box = os.path.join(self.rx_base, "b.virt", "bob", "new")
        self.rx.wait_until(lambda: os.listdir(box) if os.path.isdir(box)
                           else None, timeout=20, what="bob's copy")
        with open(os.path.join(box, os.listdir(box)[0]), "rb") as f:
            copy = f.read()
        self.assertIn(b"with ESMTPS", copy)
        self.assertIn(b"Hello over TLS.", copy)

    def test_may_with_an_unknown_ca_is_untrusted_but_sent(self):
        self.start_rx()
        self.start_tx(smtp_tls_security_level="may", smtp_tls_CAfile="")
        qid = self.inject()
        self.wait_tx_log(rf"{qid}: to=<bob@b\.virt>, .*status=sent")
        self.assertIn(f"Untrusted TLS connection established to "
                      f"127.0.0.1[127.0.0.1]:{self.rx_port}: TLSv1.3",
                      self.tx.log_text())

    def test_verify_with_an_unknown_ca_defers(self):
        self.start_rx()
        self.start_tx(smtp_tls_security_level="verify", smtp_tls_CAfile="",
                      smtp_tls_verify_cert_match="mx.tls.example")
        qid = self.inject()
        self.wait_tx_log(rf"{qid}: to=<bob@b\.virt>, relay={self.relay()}, "
                         r".*dsn=4\.7\.5, status=deferred \(Server "
                         r"certificate not trusted\)$")
        self.assertNotIn(f"{qid}: from=", self.rx.log_text())

    def test_encrypt_to_a_server_without_starttls_defers(self):
        self.start_rx(tls=False)
        self.start_tx(smtp_tls_security_level="encrypt")
        qid = self.inject()
        self.wait_tx_log(rf"{qid}: to=<bob@b\.virt>, relay={self.relay()}, "
                         r".*dsn=4\.7\.4, status=deferred \(TLS is required, "
                         r"but was not offered by host "
                         r"127\.0\.0\.1\[127\.0\.0\.1\]\)$")


@unittest.skipUnless(have_instance_programs() and dnsmasq_path(),
                     "master, smtpd, qmgr, virtual, smtp, helpers, openssl "
                     "or dnsmasq missing")
class RequireTlsRelayTest(_RelayPair, unittest.TestCase):
    """REQUIRETLS from end to end: a client submits with STARTTLS and
    MAIL FROM ... REQUIRETLS to the sender's smtpd; the sender relays to
    [mx.tls.example]:PORT (named through dnsmasq, so the certificate's
    name can match) with main.cf's level may."""

    def setUp(self):
        super().setUp()
        self.dns = Dnsmasq(TLS_ZONE)
        self.addCleanup(self.dns.cleanup)

    def start_pair(self, ca=True):
        self.start_rx()
        self.tx_smtpd_port = free_port()
        self.start_tx(**{
            "relayhost": f"[mx.tls.example]:{self.rx_port}",
            "postern_dns_servers": self.dns.server,
            "postern_dns_timeout": "2s",
            "smtp_tls_security_level": "may",
            "smtp_tls_CAfile": self.c["ca"] if ca else "",
            "mynetworks": "127.0.0.0/8",
            "smtpd_tls_security_level": "may",
            "smtpd_tls_cert_file": self.c["good"][0],
            "smtpd_tls_key_file": self.c["good"][1],
        })

    def submit(self):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with smtplib.SMTP("127.0.0.1", self.tx_smtpd_port, timeout=20) as c:
            c.starttls(context=ctx)
            c.ehlo("client.test")
            self.assertTrue(c.has_extn("requiretls"))
            c.sendmail("alice@a.virt", ["bob@b.virt"], MESSAGE,
                       mail_options=["REQUIRETLS"])

    def test_requiretls_message_is_relayed_over_verified_tls(self):
        self.start_pair()
        self.submit()
        self.wait_tx_log(
            r"postern/smtp\[\d+\]: \w+: to=<bob@b\.virt>, "
            rf"relay=mx\.tls\.example\[127\.0\.0\.1\]:{self.rx_port}, "
            r".*status=sent \(250 ")
        self.assertIn("Verified TLS connection established to "
                      f"mx.tls.example[127.0.0.1]:{self.rx_port}",
                      self.tx.log_text())
        # the receiver took REQUIRETLS on MAIL FROM: only over TLS
        box = os.path.join(self.rx_base, "b.virt", "bob", "new")
        self.rx.wait_until(lambda: os.listdir(box) if os.path.isdir(box)
                           else None, timeout=20, what="bob's copy")

    def test_requiretls_message_bounces_when_not_verified(self):
        self.start_pair(ca=False)
        self.submit()
        self.wait_tx_log(
            r"postern/smtp\[\d+\]: \w+: to=<bob@b\.virt>, "
            rf"relay=mx\.tls\.example\[127\.0\.0\.1\]:{self.rx_port}, "
            r".*dsn=5\.7\.30, status=bounced \(Server certificate not "
            r"trusted\)$")
        box = os.path.join(self.rx_base, "b.virt", "bob", "new")
        self.assertFalse(os.path.isdir(box) and os.listdir(box))


if __name__ == "__main__":
    unittest.main()
