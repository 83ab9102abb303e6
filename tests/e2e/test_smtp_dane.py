"""test_smtp_dane.py: DANE (RFC 7672) in the smtp client: the levels dane
and dane-only with TLSA records from a DNSSEC-signed zone (nsd serving a
zone signed by ldns-signzone, validated with its key as trust anchor:
dns_util.SignedZone), against fake_mx.py with a certificate made by the
test. Covered: a matching DANE-EE record verifies the server; a record
that does not match defers; no TLSA records make dane opportunistic
(may) and dane-only defer; records of which none is usable (PKIX-EE)
make dane encrypt; without DNSSEC validation (smtp_dns_support_level
not dnssec) the records are not used at all."""
import hashlib
import os
import shutil
import subprocess
import tempfile
import unittest

from agentlib import AgentEnv, prog
from dns_util import SignedZone, signed_zone_tools
from fake_mx import OPENSSL, Behaviour, FakeMX, make_certs

CONTENT = (b"From: Sender <s@x.org>\r\nTo: a@sec.example\r\nSubject: dane\r\n"
           b"\r\nHello over DANE\r\n")


def have_programs():
    return OPENSSL and signed_zone_tools() and all(
        os.access(prog(*p), os.X_OK)
        for p in (("smtp", "smtp"), ("tests", "helpers", "deliver_call"),
                  ("tests", "helpers", "agent_qfile")))


def spki_sha256(certfile):
    """The SHA2-256 digest of the certificate's SubjectPublicKeyInfo: the
    data of a "3 1 1" TLSA record."""
    pem = subprocess.run([OPENSSL, "x509", "-in", certfile, "-noout",
                          "-pubkey"], capture_output=True, check=True,
                         timeout=30).stdout
    der = subprocess.run([OPENSSL, "pkey", "-pubin", "-outform", "DER"],
                         input=pem, capture_output=True, check=True,
                         timeout=30).stdout
    return hashlib.sha256(der).hexdigest()


def zone_text(port, digest):
    return f"""$ORIGIN sec.example.
$TTL 300
@ IN SOA ns.sec.example. hostmaster.sec.example. 1 3600 600 86400 300
@ IN NS ns.sec.example.
ns IN A 127.0.0.1
@ IN MX 10 mx.sec.example.
mx IN A 127.0.0.1
_{port}._tcp.mx IN TLSA 3 1 1 {digest}
bad IN MX 10 mxbad.sec.example.
mxbad IN A 127.0.0.1
_{port}._tcp.mxbad IN TLSA 3 1 1 {"ab" * 32}
plain IN MX 10 mxplain.sec.example.
mxplain IN A 127.0.0.1
pkix IN MX 10 mxpkix.sec.example.
mxpkix IN A 127.0.0.1
_{port}._tcp.mxpkix IN TLSA 1 1 1 {digest}
"""


@unittest.skipUnless(have_programs(), "smtp, helpers, openssl, nsd or "
                                      "ldnsutils missing")
class SmtpDaneTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="pt-smtpdane.", dir="/tmp")
        try:
            cls.certs = make_certs(cls.dir, name="mx.sec.example")
            cls.mx = FakeMX(Behaviour(tls=cls.certs["good"])).start()
            cls.zone = SignedZone(zone_text(
                cls.mx.port, spki_sha256(cls.certs["good"][0])))
        except BaseException:
            if getattr(cls, "mx", None):
                cls.mx.stop()
            shutil.rmtree(cls.dir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.mx.stop()
        cls.zone.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def deliver(self, domain, level, dnssec=True):
        params = {
            "myhostname": "client.test",
            "smtp_connect_timeout": "5s",
            "postern_dns_servers": self.zone.server,
            "postern_dns_timeout": "3s",
            "postern_dns_trust_anchor_file": self.zone.anchor,
            "smtp_tls_security_level": level,
            "smtp_tls_loglevel": "1",
        }
        if dnssec:
            params["smtp_dns_support_level"] = "dnssec"
        env = AgentEnv(self, "smtp", main_cf=params)
        before = len(self.mx.transactions)
        q = env.queue_file("s@x.org", [f"a@{domain}"], CONTENT)
        reply = env.deliver(q, transport="smtp",
                            nexthop=f"{domain}:{self.mx.port}")
        new = self.mx.transactions[before:]
        return env, q, reply, new

    def established(self, env, host):
        text = env.log_text()
        for trust in ("Verified", "Trusted", "Untrusted"):
            if (f"{trust} TLS connection established to "
                    f"{host}[127.0.0.1]:{self.mx.port}: TLSv1.3") in text:
                return trust
        return None

    def test_matching_tlsa_record_verifies(self):
        env, q, reply, new = self.deliver("sec.example", "dane")
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertTrue(new[0].tls)
        self.assertEqual(self.established(env, "mx.sec.example"), "Verified",
                         env.log_text())

    def test_dane_only_with_matching_record(self):
        env, q, reply, new = self.deliver("sec.example", "dane-only")
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertEqual(self.established(env, "mx.sec.example"), "Verified")

    def test_record_that_does_not_match_defers(self):
        env, q, reply, new = self.deliver("bad.sec.example", "dane")
        self.assertEqual(reply[0][:2], ("deferred", "4.7.5"), reply)
        self.assertEqual(new, [])
        self.assertIn("status=deferred (Server certificate not verified)",
                      env.log_line(q, "a@bad.sec.example"))

    def test_no_tlsa_records_is_may(self):
        env, q, reply, new = self.deliver("plain.sec.example", "dane")
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertTrue(new[0].tls)
        self.assertEqual(self.established(env, "mxplain.sec.example"),
                         "Untrusted")

    def test_dane_only_without_records_defers(self):
        env, q, reply, new = self.deliver("plain.sec.example", "dane-only")
        self.assertEqual(reply[0][:2], ("deferred", "4.7.5"), reply)
        self.assertEqual(new, [])
        self.assertIn("status=deferred (TLS is required, but host "
                      "mxplain.sec.example[127.0.0.1] has no usable "
                      "DNSSEC-validated TLSA records)",
                      env.log_line(q, "a@plain.sec.example"))

    def test_only_unusable_records_is_encrypt(self):
        env, q, reply, new = self.deliver("pkix.sec.example", "dane")
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertTrue(new[0].tls)
        self.assertEqual(self.established(env, "mxpkix.sec.example"),
                         "Untrusted")

    def test_records_not_validated_are_not_used(self):
        # Without smtp_dns_support_level = dnssec nothing is validated:
        # dane is may, and the record that does not match is ignored.
        env, q, reply, new = self.deliver("bad.sec.example", "dane",
                                          dnssec=False)
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertEqual(self.established(env, "mxbad.sec.example"),
                         "Untrusted")


if __name__ == "__main__":
    unittest.main()
