"""test_smtp_dane.py: DANE (RFC 7672) in the smtp client: the levels dane
and dane-only with TLSA records from a DNSSEC-signed zone (nsd serving a
zone signed by ldns-signzone, validated with its key as trust anchor:
dns_util.SignedZone), against fake_mx.py with a certificate made by the
test. Covered: a matching DANE-EE record verifies the server; a record
that does not match defers; no TLSA records make dane opportunistic
(may) and dane-only defer; records of which none is usable (PKIX-EE)
make dane encrypt; an MX host that is a CNAME has its TLSA records
looked up at the expanded name first, then at its own name (RFC 7672
section 2.2.2); without DNSSEC validation (smtp_dns_support_level
not dnssec) the records are not used at all.

DANE before MTA-STS (RFC 8461 section 2; a policy server of
test_mtasts.py serves the policies of sts.sec.example and
stsplain.sec.example, whose _mta-sts TXT records are in the signed
zone): at level dane an MX host with usable validated TLSA records is
DANE's to decide, even when its domain's enforce policy does not list
it; without TLSA records, or at level may, the policy applies."""
import glob
import hashlib
import os
import pwd
import shutil
import subprocess
import tempfile
import unittest

from agentlib import AgentEnv, is_root, prog
from dns_util import SignedZone, signed_zone_tools
from fake_mx import OPENSSL, Behaviour, FakeMX, make_certs
from test_mtasts import PolicyServer, openssl

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
sts IN MX 10 mxsts.sec.example.
mxsts IN A 127.0.0.1
_{port}._tcp.mxsts IN TLSA 3 1 1 {digest}
_mta-sts.sts IN TXT "v=STSv1; id=sts1"
mta-sts.sts IN A 127.0.0.1
stsplain IN MX 10 mxplain.sec.example.
_mta-sts.stsplain IN TXT "v=STSv1; id=plain1"
mta-sts.stsplain IN A 127.0.0.1
cn IN MX 10 alias.sec.example.
alias IN CNAME target.sec.example.
target IN A 127.0.0.1
_{port}._tcp.target IN TLSA 3 1 1 {digest}
_{port}._tcp.alias IN TLSA 3 1 1 {"ab" * 32}
cnorig IN MX 10 alias2.sec.example.
alias2 IN CNAME target2.sec.example.
target2 IN A 127.0.0.1
_{port}._tcp.alias2 IN TLSA 3 1 1 {digest}
"""

# An unsigned domain whose MX hosts live in the signed zone (RFC 7672
# section 2.2.1: smtp_tls_dane_insecure_mx_policy).
INSECURE_ZONE = """$ORIGIN unsigned.example.
$TTL 300
@ IN SOA ns.unsigned.example. hostmaster.unsigned.example. 1 3600 600 86400 300
@ IN NS ns.unsigned.example.
ns IN A 127.0.0.1
@ IN MX 10 mx.sec.example.
bad IN MX 10 mxbad.sec.example.
"""

# Neither policy lists the domain's MX host: enforce skips it unless
# DANE decides for it.
STS_POLICIES = {
    "sts": "version: STSv1\nmode: enforce\nmx: listed.sec.example\n"
           "max_age: 86400\n",
    "stsplain": "version: STSv1\nmode: enforce\nmx: listed.sec.example\n"
                "max_age: 86400\n",
}


def policy_certs(d):
    """ca.pem, and server.pem/key for the mta-sts hosts of STS_POLICIES."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", "ca.key", "-out", "ca.pem", "-subj",
            "/CN=Postern DANE policy test CA", cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=" + ",".join(
            f"DNS:mta-sts.{x}.sec.example" for x in STS_POLICIES) + "\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
            "-out", "server.csr", "-subj", "/CN=mta-sts.sts.sec.example",
            cwd=d)
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey",
            "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf",
            "-out", "server.pem", cwd=d)


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
                cls.mx.port, spki_sha256(cls.certs["good"][0])),
                unsigned={"unsigned.example": INSECURE_ZONE})
            policy_certs(cls.dir)
            cls.policies = PolicyServer(os.path.join(cls.dir, "server.pem"),
                                        os.path.join(cls.dir, "server.key"),
                                        dict(STS_POLICIES))
        except BaseException:
            if getattr(cls, "mx", None):
                cls.mx.stop()
            if getattr(cls, "zone", None):
                cls.zone.cleanup()
            shutil.rmtree(cls.dir, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.policies.stop()
        cls.mx.stop()
        cls.zone.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def deliver(self, domain, level, dnssec=True, sts=False, **more):
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
        if sts:
            self.data = tempfile.mkdtemp(prefix="pt-smtpdane-data.",
                                         dir="/tmp")
            self.addCleanup(shutil.rmtree, self.data, True)
            if is_root():  # the agent runs as mail_owner (nobody)
                nobody = pwd.getpwnam("nobody")
                os.chown(self.data, nobody.pw_uid, nobody.pw_gid)
            params.update({
                "data_directory": self.data,
                "postern_mta_sts_ca_file": os.path.join(self.dir, "ca.pem"),
                # the port only: the address is the zone's answer
                "postern_mta_sts_connect_to": f":::{self.policies.port}",
                "postern_mta_sts_connect_timeout": "3s",
                "postern_mta_sts_fetch_timeout": "10s",
            })
        else:
            params["postern_mta_sts_enable"] = "no"
        params.update(more)
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

    def test_tlsa_at_the_cname_expanded_name_first(self):
        # RFC 7672 section 2.2.2: the MX host alias.sec.example is a
        # validated CNAME for target.sec.example; the TLSA records of the
        # expanded name are used (those of the alias do not match).
        env, q, reply, new = self.deliver("cn.sec.example", "dane")
        self.assertEqual(reply[0][0], "sent", (reply, env.log_text()))
        self.assertEqual(self.established(env, "alias.sec.example"),
                         "Verified", env.log_text())

    def test_tlsa_at_the_original_name_when_the_target_has_none(self):
        env, q, reply, new = self.deliver("cnorig.sec.example", "dane-only")
        self.assertEqual(reply[0][0], "sent", (reply, env.log_text()))
        self.assertEqual(self.established(env, "alias2.sec.example"),
                         "Verified", env.log_text())

    def test_insecure_mx_with_tlsa_records_is_trusted(self):
        # Postfix's default at level dane: the validated TLSA records of
        # an MX host from an unsigned domain are used; a match is only
        # "Trusted" (the MX name could be forged), and it delivers.
        env, q, reply, new = self.deliver("unsigned.example", "dane")
        self.assertEqual(reply[0][0], "sent", (reply, env.log_text()))
        self.assertEqual(self.established(env, "mx.sec.example"), "Trusted",
                         env.log_text())

    def test_insecure_mx_with_a_wrong_record_defers(self):
        env, q, reply, new = self.deliver("bad.unsigned.example", "dane")
        self.assertEqual(reply[0][:2], ("deferred", "4.7.5"), reply)
        self.assertEqual(new, [])
        self.assertIn("Server certificate not verified", reply[0][3])

    def test_insecure_mx_policy_may_ignores_the_records(self):
        env, q, reply, new = self.deliver(
            "bad.unsigned.example", "dane",
            smtp_tls_dane_insecure_mx_policy="may")
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertEqual(self.established(env, "mxbad.sec.example"),
                         "Untrusted")

    def test_insecure_mx_policy_encrypt_requires_tls_only(self):
        env, q, reply, new = self.deliver(
            "bad.unsigned.example", "dane",
            smtp_tls_dane_insecure_mx_policy="encrypt")
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertTrue(new[0].tls)
        self.assertEqual(self.established(env, "mxbad.sec.example"),
                         "Untrusted")

    def tls_report_policies(self):
        """(policy, result, host) of each TLS report record written."""
        found = []
        for path in sorted(glob.glob(os.path.join(self.data, "tls-rpt",
                                                  "*"))):
            with open(path) as f:
                for line in f:
                    fields = line.split(" ")
                    found.append((fields[3], fields[8], fields[9]))
        return found

    def test_dane_decides_before_an_mta_sts_policy(self):
        # The enforce policy of sts.sec.example does not list its MX host;
        # the host's validated TLSA record makes it DANE's (RFC 8461
        # section 2): delivered, verified by DANE.
        env, q, reply, new = self.deliver("sts.sec.example", "dane",
                                          sts=True)
        self.assertEqual(reply[0][0], "sent", (reply, env.log_text()))
        self.assertEqual(self.established(env, "mxsts.sec.example"),
                         "Verified", env.log_text())
        log = env.log_text()
        self.assertIn("MX host mxsts.sec.example of sts.sec.example: "
                      "DNSSEC-validated TLSA records: DANE applies instead "
                      "of its MTA-STS policy (id sts1, mode enforce)", log)
        self.assertNotIn("not allowed by its MTA-STS policy", log)
        self.assertIn(("tlsa", "success", "mxsts.sec.example"),
                      self.tls_report_policies())

    def test_dane_session_is_recorded_as_tlsa(self):
        # No MTA-STS policy: a session DANE authenticated is reported
        # under the domain's TLSA policy.
        env, q, reply, new = self.deliver("sec.example", "dane", sts=True)
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertEqual(self.tls_report_policies(),
                         [("tlsa", "success", "mx.sec.example")])

    def test_mta_sts_applies_without_tlsa_records(self):
        env, q, reply, new = self.deliver("stsplain.sec.example", "dane",
                                          sts=True)
        self.assertEqual(reply[0][:2], ("deferred", "4.7.5"), reply)
        self.assertEqual(new, [])
        self.assertIn("MTA-STS policy of stsplain.sec.example (id plain1, "
                      "mode enforce) allows none of its MX hosts: "
                      "mxplain.sec.example", reply[0][3])

    def test_mta_sts_applies_below_level_dane(self):
        # At level may the TLSA records are not DANE's to use: the
        # policy skips the unlisted host.
        env, q, reply, new = self.deliver("sts.sec.example", "may", sts=True)
        self.assertEqual(reply[0][:2], ("deferred", "4.7.5"), reply)
        self.assertEqual(new, [])
        self.assertNotIn("DANE applies", env.log_text())


if __name__ == "__main__":
    unittest.main()
