"""test_smtp_mtasts.py: MTA-STS enforced by the smtp daemon
(smtp/smtp_mtasts.c on lib/mtasts), driven over the agent's socket with
deliver/1 requests (agentlib.py).

Everything stays on loopback: dnsmasq serves the MX records, the
_mta-sts TXT records and the policy hosts' A records (127.0.0.20, where
alone the HTTPS policy server of test_mtasts.py listens: the daemon's
own DNS client finds it, the port comes from postern_mta_sts_connect_to);
fake_mx.py plays the MX hosts at 127.0.0.21-24, all on one port, with
certificates from its test CA (smtp_tls_CAfile).

Covered: enforce skips an MX host its policy does not list and delivers
to the listed one over TLS verified against the MX name; enforce with no
listed MX host defers (4.7.5); enforce with a certificate for another
name defers, and with an expired one (certificate-expired in the
records); testing mode delivers to an unlisted host without TLS and
logs it; an smtp_tls_policy_maps entry wins over the policy;
postern_mta_sts_enable = no turns it off. The TLS report records
(smtp/smtp_tlsrpt.c, docs/tls-rpt.md) each case leaves in
$data_directory/tls-rpt are read back, and old day files are removed
(postern_tls_report_retention)."""
import glob
import os
import pwd
import shutil
import tempfile
import time
import unittest
import urllib.parse

from agentlib import AgentEnv, is_root, prog
from dns_util import TEST_ZONE, Dnsmasq, dnsmasq_path
from fake_mx import OPENSSL, Behaviour, FakeMX, make_certs
from test_mtasts import PolicyServer, openssl

CONTENT = (b"From: Sender <s@x.org>\r\nTo: a@ex.org\r\nSubject: sts\r\n\r\n"
           b"Hello under MTA-STS\r\n")

DOMAINS = ["enf", "none", "badcert", "tst", "exp"]
POLICY_HOST = "127.0.0.20"

POLICIES = {
    # mx.enf.example is listed; bad.enf.example (the better MX) is not.
    "enf": "version: STSv1\nmode: enforce\nmx: mx.enf.example\nmax_age: 86400\n",
    "none": "version: STSv1\nmode: enforce\nmx: *.elsewhere.example\n"
            "max_age: 86400\n",
    "badcert": "version: STSv1\nmode: enforce\nmx: mx.badcert.example\n"
               "max_age: 86400\n",
    "tst": "version: STSv1\nmode: testing\nmx: other.tst.example\n"
           "max_age: 86400\n",
    "exp": "version: STSv1\nmode: enforce\nmx: mx.exp.example\n"
           "max_age: 86400\n",
}

ZONE = TEST_ZONE + [
    ("--mx-host", "enf.example,bad.enf.example,10"),
    ("--mx-host", "enf.example,mx.enf.example,20"),
    ("--host-record", "bad.enf.example,127.0.0.21"),
    ("--host-record", "mx.enf.example,127.0.0.22"),
    ("--mx-host", "none.example,bad.enf.example,10"),
    ("--mx-host", "badcert.example,mx.badcert.example,10"),
    ("--host-record", "mx.badcert.example,127.0.0.23"),
    ("--mx-host", "tst.example,mx.tst.example,10"),
    ("--host-record", "mx.tst.example,127.0.0.24"),
    ("--mx-host", "exp.example,mx.exp.example,10"),
    ("--host-record", "mx.exp.example,127.0.0.25"),
] + [("--txt-record", f"_mta-sts.{d}.example,v=STSv1; id={d}1")
     for d in DOMAINS] + [
    ("--host-record", f"mta-sts.{d}.example,{POLICY_HOST}") for d in DOMAINS]


def have_programs():
    return OPENSSL and shutil.which("openssl") and all(
        os.access(prog(*p), os.X_OK)
        for p in (("smtp", "smtp"), ("tests", "helpers", "deliver_call"),
                  ("tests", "helpers", "agent_qfile")))


def policy_certs(d):
    """ca.pem, and server.pem/key for every mta-sts.DOMAIN.example."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", "ca.key", "-out", "ca.pem", "-subj",
            "/CN=Postern policy test CA", cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=" + ",".join(
            f"DNS:mta-sts.{x}.example" for x in DOMAINS) + "\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
            "-out", "server.csr", "-subj", "/CN=mta-sts.enf.example", cwd=d)
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey",
            "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf",
            "-out", "server.pem", cwd=d)


@unittest.skipUnless(have_programs(), "smtp, the agent helpers or openssl "
                                      "missing")
@unittest.skipUnless(dnsmasq_path(), "no dnsmasq (Debian package dnsmasq-base)")
class SmtpMtaStsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="pt-smtp-sts.", dir="/tmp")
        os.chmod(cls.dir, 0o755)
        policy_certs(cls.dir)
        cls.certs = make_certs(os.path.join(cls.dir, "mx"),
                               name="mx.enf.example")
        cls.server = PolicyServer(os.path.join(cls.dir, "server.pem"),
                                  os.path.join(cls.dir, "server.key"),
                                  dict(POLICIES), host=POLICY_HOST)
        cls.dns = Dnsmasq(ZONE)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.dns.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        # The MX hosts: one port, four addresses. bad.enf.example and
        # mx.tst.example offer no STARTTLS; mx.enf.example has a
        # certificate for its name, mx.badcert.example one for another.
        self.mx = {}
        good = FakeMX(Behaviour(tls=self.certs["good"]), host="127.0.0.22")
        self.mx["enf"] = good.start()
        self.addCleanup(good.stop)
        port = good.port
        for name, host, tls in (("bad", "127.0.0.21", None),
                                ("badcert", "127.0.0.23",
                                 self.certs["wrong_name"]),
                                ("tst", "127.0.0.24", None),
                                ("exp", "127.0.0.25",
                                 self.certs["expired"])):
            mx = FakeMX(Behaviour(tls=tls), host=host, port=port).start()
            self.addCleanup(mx.stop)
            self.mx[name] = mx
        self.port = port

    def agent(self, **params):
        data = tempfile.mkdtemp(prefix="pt-smtp-sts-data.", dir="/tmp")
        self.addCleanup(shutil.rmtree, data, True)
        if is_root():  # the agent runs as mail_owner (nobody)
            nobody = pwd.getpwnam("nobody")
            os.chown(data, nobody.pw_uid, nobody.pw_gid)
        main_cf = {
            "myhostname": "client.test",
            "smtp_connect_timeout": "5s",
            "smtp_starttls_timeout": "5s",
            "smtp_tls_security_level": "may",
            "smtp_tls_CAfile": self.certs["ca"],
            "smtp_tls_loglevel": "1",
            "postern_dns_servers": self.dns.server,
            "postern_dns_timeout": "3s",
            "data_directory": data,
            "postern_mta_sts_ca_file": os.path.join(self.dir, "ca.pem"),
            # the port only: the address is dnsmasq's answer
            "postern_mta_sts_connect_to": f":::{self.server.port}",
            "postern_mta_sts_connect_timeout": "3s",
            "postern_mta_sts_fetch_timeout": "10s",
        }
        main_cf.update(params)
        self.data = data
        return AgentEnv(self, "smtp", main_cf=main_cf)

    RECORD_FIELDS = ("when", "domain", "policy", "id", "mode", "max_age",
                     "mx", "result", "host", "addr", "sender", "reason")

    def records(self):
        """The records of data_directory/tls-rpt/*, as dicts."""
        found = []
        for path in sorted(glob.glob(os.path.join(self.data, "tls-rpt", "*"))):
            with open(path) as f:
                for line in f:
                    fields = line.rstrip("\n").split(" ")
                    self.assertEqual(fields[0], "v1", line)
                    values = ["" if v == "-" else urllib.parse.unquote(v)
                              for v in fields[1:]]
                    found.append(dict(zip(self.RECORD_FIELDS, values)))
        return found

    def send(self, env, domain):
        q = env.queue_file("s@x.org", [f"a@{domain}"], CONTENT)
        reply = env.deliver(q, transport="smtp",
                            nexthop=f"{domain}:{self.port}")
        return q, reply

    def test_enforce_skips_an_unlisted_mx_and_verifies_the_listed_one(self):
        env = self.agent()
        q, reply = self.send(env, "enf.example")
        self.assertEqual(reply[0][0], "sent", (reply, env.log_text()))
        self.assertEqual(self.mx["bad"].connections, 0)
        self.assertTrue(self.mx["enf"].transactions[0].tls)
        log = env.log_text()
        self.assertIn("MX host bad.enf.example of enf.example is not allowed "
                      "by its MTA-STS policy (id enf1, mode enforce): "
                      "skipped", log)
        self.assertIn("Verified TLS connection established to "
                      f"mx.enf.example[127.0.0.22]:{self.port}", log)
        self.assertIn("MTA-STS policy of enf.example: enforce, id enf1 "
                      "(fetched policy id enf1)", log)
        self.assertIn(f"relay=mx.enf.example[127.0.0.22]:{self.port}",
                      env.log_line(q, "a@enf.example"))
        # The policy is cached in data_directory.
        self.assertTrue(os.path.exists(
            os.path.join(self.data, "mta-sts", "enf.example")))
        # TLS report records: the refused MX, then the verified session.
        recs = [(r["domain"], r["policy"], r["id"], r["mode"], r["mx"],
                 r["result"], r["host"], r["addr"]) for r in self.records()]
        self.assertEqual(recs, [
            ("enf.example", "sts", "enf1", "enforce", "mx.enf.example",
             "validation-failure", "bad.enf.example", "127.0.0.21"),
            ("enf.example", "sts", "enf1", "enforce", "mx.enf.example",
             "success", "mx.enf.example", "127.0.0.22")])
        self.assertEqual(self.records()[1]["sender"], "127.0.0.1")

    def test_enforce_without_a_listed_mx_defers(self):
        env = self.agent()
        q, reply = self.send(env, "none.example")
        self.assertEqual(reply[0][:2], ("deferred", "4.7.5"), reply)
        self.assertIn("MTA-STS policy of none.example (id none1, mode "
                      "enforce) allows none of its MX hosts: bad.enf.example",
                      reply[0][3])
        self.assertEqual(self.mx["bad"].connections, 0)

    def test_tls_required_no_waives_the_policy(self):
        # RFC 8689 section 5: the sender asked that the recipient's TLS
        # policies be ignored: the unlisted MX takes the message.
        env = self.agent()
        content = CONTENT.replace(b"Subject: sts\r\n",
                                  b"Subject: sts\r\nTLS-Required: No\r\n")
        q = env.queue_file("s@x.org", ["a@none.example"], content)
        reply = env.deliver(q, transport="smtp",
                            nexthop=f"none.example:{self.port}")
        self.assertEqual(reply[0][0], "sent", (reply, env.log_text()))
        self.assertEqual(self.mx["bad"].connections, 1)
        self.assertIn("TLS-Required: No: the MTA-STS policy of "
                      f"none.example:{self.port} is not enforced for this "
                      "message", env.log_text())

    def test_enforce_refuses_a_certificate_for_another_name(self):
        env = self.agent()
        q, reply = self.send(env, "badcert.example")
        self.assertEqual(reply[0][:2], ("deferred", "4.7.5"), reply)
        self.assertIn("Server certificate not verified", reply[0][3])
        self.assertEqual(self.mx["badcert"].transactions, [])
        [rec] = self.records()
        self.assertEqual((rec["policy"], rec["result"], rec["host"]),
                         ("sts", "certificate-host-mismatch",
                          "mx.badcert.example"))
        self.assertIn("Server certificate not verified", rec["reason"])

    def test_expired_certificate_is_recorded_as_expired(self):
        env = self.agent()
        q, reply = self.send(env, "exp.example")
        self.assertEqual(reply[0][:2], ("deferred", "4.7.5"), reply)
        self.assertIn("Server certificate not trusted (certificate has "
                      "expired)", reply[0][3])
        [rec] = self.records()
        self.assertEqual((rec["policy"], rec["result"], rec["host"]),
                         ("sts", "certificate-expired", "mx.exp.example"))

    def test_testing_mode_delivers_anyway_and_logs(self):
        env = self.agent()
        q, reply = self.send(env, "tst.example")
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertFalse(self.mx["tst"].transactions[0].tls)
        self.assertIn("MX host mx.tst.example of tst.example is not allowed "
                      "by its MTA-STS policy (id tst1, mode testing): "
                      "delivering anyway", env.log_text())
        [rec] = self.records()
        self.assertEqual((rec["policy"], rec["mode"], rec["result"]),
                         ("sts", "testing", "starttls-not-supported"))

    def test_failed_policy_fetch_is_recorded(self):
        self.server.policies.pop("none")
        self.addCleanup(self.server.policies.update, {"none": POLICIES["none"]})
        env = self.agent()
        q, reply = self.send(env, "none.example")
        self.assertEqual(reply[0][0], "sent", reply)  # no policy: plain
        recs = [(r["policy"], r["result"]) for r in self.records()]
        self.assertEqual(recs, [("sts", "sts-policy-fetch-error"),
                                ("no-policy-found", "starttls-not-supported")])
        self.assertIn("HTTP status 404", self.records()[0]["reason"])

    def test_old_record_files_are_removed(self):
        # postern_tls_report_retention: the writer removes the days past
        # it (once a day, stamped), and keeps the recent ones.
        env = self.agent(postern_tls_report_retention="10d")
        rpt = os.path.join(self.data, "tls-rpt")
        os.mkdir(rpt, 0o700)
        recent = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
        for name in ("2020-01-01", recent, "notes"):
            open(os.path.join(rpt, name), "w").close()
        if is_root():
            nobody = pwd.getpwnam("nobody")
            for name in ("", "2020-01-01", recent, "notes"):
                os.chown(os.path.join(rpt, name), nobody.pw_uid,
                         nobody.pw_gid)
        q, reply = self.send(env, "enf.example")
        self.assertEqual(reply[0][0], "sent", reply)
        names = sorted(os.listdir(rpt))
        self.assertNotIn("2020-01-01", names)
        self.assertIn(recent, names)
        self.assertIn("notes", names)
        self.assertIn(".expired", names)
        self.assertIn("removed 1 TLS report record file older than "
                      "postern_tls_report_retention", env.log_text())

    def test_records_switched_off(self):
        env = self.agent(postern_tls_report_records="no")
        q, reply = self.send(env, "enf.example")
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertEqual(self.records(), [])

    def test_policy_maps_entry_wins(self):
        maps = os.path.join(self.dir, "tls_policy")
        with open(maps, "w") as f:
            f.write(f"badcert.example:{self.port} encrypt\n")
        env = self.agent(smtp_tls_policy_maps=f"texthash:{maps}")
        q, reply = self.send(env, "badcert.example")
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertTrue(self.mx["badcert"].transactions[0].tls)
        self.assertIn("smtp_tls_policy_maps has an entry for badcert.example:"
                      f"{self.port}: it applies instead of the MTA-STS "
                      "policy", env.log_text())

    def test_switched_off(self):
        env = self.agent(postern_mta_sts_enable="no")
        q, reply = self.send(env, "none.example")
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertEqual(self.mx["bad"].connections, 1)


if __name__ == "__main__":
    unittest.main()
