"""SPF in smtpd (docs/spf.md) against a real DNS server: dnsmasq on
loopback serving SPF TXT records. Mail from senders whose SPF passes
(directly, through include and mx), fails, softfails and has a broken
record: the Received-SPF: header above our Received:, the results on
the message's "client=" line, and the reject_spf_* restrictions with
their replies and NOQUEUE lines; a trusted client (mynetworks) is not
checked at all."""
import re
import unittest

import time

from dns_util import Blackhole, Dnsmasq, dnsmasq_path
from smtpd_util import SmtpdInstance

TRUSTED = "127.0.0.3"  # in the test instance's mynetworks

SPF_ZONE = [
    ("--local", "/example/"),  # no upstream: unknown names are NXDOMAIN
    ("--txt-record", "pass.example,v=spf1 ip4:127.0.0.1 -all"),
    ("--txt-record", "fail.example,v=spf1 ip4:192.0.2.1 -all exp=why.fail.example"),
    ("--txt-record", "why.fail.example,%{i} may not send mail for %{d}"),
    ("--txt-record", "soft.example,v=spf1 ip4:192.0.2.1 ~all"),
    ("--txt-record", "perm.example,v=spf1 ip4:127.0.0.1 bogus -all"),
    ("--txt-record", "inc.example,v=spf1 include:pass.example -all"),
    ("--txt-record", "mxspf.example,v=spf1 mx/24 -all"),
    ("--mx-host", "mxspf.example,mail1.mxspf.example,10"),
    ("--mx-host", "mxspf.example,mail2.mxspf.example,20"),
    ("--host-record", "mail1.mxspf.example,192.0.2.10"),
    ("--host-record", "mail2.mxspf.example,127.0.0.200"),
    ("--txt-record", "helo.example,v=spf1 a -all"),
    ("--host-record", "helo.example,127.0.0.1"),
    ("--txt-record", "badhelo.example,v=spf1 -all"),
    ("--host-record", "mx.example,127.0.0.53"),  # dns_util's start probe
    ("--mx-host", "mx.example,mx.example,10"),
    ("--txt-record", "slowinc.example,v=spf1 include:slow.example -all"),
    ("--txt-record", "xn--bcher-kva.example,v=spf1 ip4:127.0.0.1 -all"),
]


def start_dns(cls):
    """dnsmasq with SPF_ZONE; names under slow.example go to a server
    that never answers (a timeout: temperror)."""
    cls.blackhole = Blackhole()
    cls.dns = Dnsmasq(SPF_ZONE + [
        ("--server", f"/slow.example/127.0.0.1#{cls.blackhole.port}")])


def stop_dns(cls):
    cls.dns.cleanup()
    cls.blackhole.cleanup()


@unittest.skipUnless(dnsmasq_path(), "dnsmasq not installed "
                     "(scripts/install-deps --test: dnsmasq-base)")
class SmtpdSpfTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        start_dns(cls)
        try:
            cls.inst = SmtpdInstance(main_cf={
                "postern_dns_servers": cls.dns.server,
                "postern_dns_timeout": "2s",
                "smtpd_spf_enable": "yes",
                "smtpd_recipient_restrictions":
                    "permit_mynetworks, reject_spf_helo_fail, reject_spf_fail, "
                    "reject_spf_softfail, reject_spf_permerror, "
                    "defer_spf_temperror, reject_unauth_destination",
            })
        except Exception:
            stop_dns(cls)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        stop_dns(cls)

    def send(self, sender, helo="helo.example", source="127.0.0.1"):
        """Sends one message; (queue id or None, RCPT reply)."""
        with self.inst.raw(source) as c:
            self.assertEqual(c.cmd(f"EHLO {helo}")[0], 250)
            self.assertEqual(c.cmd(f"MAIL FROM:<{sender}>")[0], 250)
            rcpt = c.cmd("RCPT TO:<bob@example.test>")
            if rcpt[0] != 250:
                return None, rcpt
            self.assertEqual(c.cmd("DATA")[0], 354)
            code, lines = c.cmd("Subject: spf\r\n\r\nbody\r\n.")
            self.assertEqual(code, 250, lines)
            qid = re.search(r"queued as (\w+)", lines[0]).group(1)
            self.assertEqual(c.cmd("QUIT")[0], 221)
            return qid, rcpt

    def content(self, qid):
        return self.inst.qfile(qid)["content"]

    def test_pass_header_and_log(self):
        mark = self.inst.log_mark()
        qid, _ = self.send("alice@pass.example")
        content = self.content(qid)
        self.assertTrue(content.startswith(
            "Received-SPF: pass (mx.example.test: domain of alice@pass.example "
            "designates 127.0.0.1 as permitted sender)\n"
            "\tclient-ip=127.0.0.1;\n"
            "\tenvelope-from=\"alice@pass.example\";\n"
            "\thelo=helo.example;\n"
            "\treceiver=mx.example.test;\n"
            "\tidentity=mailfrom;\n"
            "\tmechanism=\"ip4:127.0.0.1\"\n"
            "Received: from helo.example "), content[:600])
        self.inst.wait_for_log(rf"{qid}: client=unknown\[127\.0\.0\.1\], "
                               r"spf=pass, spf_helo=pass", since=mark)

    def test_pass_through_include_and_mx(self):
        qid, _ = self.send("a@inc.example")
        self.assertIn("mechanism=\"include:pass.example\"", self.content(qid))
        # mx/24: the second exchange's address is in 127.0.0.0/24
        qid, _ = self.send("a@mxspf.example")
        self.assertIn("Received-SPF: pass ", self.content(qid))
        self.assertIn("mechanism=mx/24", self.content(qid))

    def test_fail_rejected_with_explanation(self):
        mark = self.inst.log_mark()
        qid, reply = self.send("eve@fail.example")
        self.assertIsNone(qid)
        self.assertEqual(reply, (550, [
            "5.7.23 <eve@fail.example>: Sender address rejected: SPF fail: "
            "127.0.0.1 may not send mail for fail.example"]))
        self.inst.wait_for_log(
            r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: 550 5\.7\.23 "
            r"<eve@fail\.example>: Sender address rejected: SPF fail: ", since=mark)

    def test_softfail_and_permerror_rejected(self):
        qid, reply = self.send("eve@soft.example")
        self.assertIsNone(qid)
        self.assertEqual(reply[0], 550)
        self.assertEqual(reply[1][0],
                         "5.7.23 <eve@soft.example>: Sender address rejected: "
                         "SPF softfail: transitioning domain of eve@soft.example "
                         "does not designate 127.0.0.1 as permitted sender")
        qid, reply = self.send("eve@perm.example")
        self.assertIsNone(qid)
        self.assertEqual(reply[0], 550)
        self.assertTrue(reply[1][0].startswith(
            "5.7.24 <eve@perm.example>: Sender address rejected: SPF "
            "permerror: "), reply)

    def test_helo_fail_rejected(self):
        qid, reply = self.send("alice@pass.example", helo="badhelo.example")
        self.assertIsNone(qid)
        self.assertEqual(reply[0], 550)
        self.assertTrue(reply[1][0].startswith(
            "5.7.23 <badhelo.example>: Helo command rejected: SPF fail: "), reply)

    def test_none_and_null_sender(self):
        # No SPF record: none, accepted, header says so.
        qid, _ = self.send("x@nospf.example")
        self.assertIn("Received-SPF: none (mx.example.test: domain of "
                      "x@nospf.example does not designate permitted sender "
                      "hosts)", self.content(qid))
        # The null sender is checked as postmaster@HELO.
        qid, _ = self.send("")
        self.assertIn("Received-SPF: pass (mx.example.test: domain of "
                      "postmaster@helo.example designates 127.0.0.1",
                      self.content(qid))

    def test_trusted_client_not_checked(self):
        mark = self.inst.log_mark()
        qid, reply = self.send("eve@fail.example", source=TRUSTED)
        self.assertIsNotNone(qid, reply)
        self.assertNotIn("Received-SPF", self.content(qid))
        self.inst.wait_for_log(rf"{qid}: client=", since=mark)
        self.assertNotIn("spf=", self.inst.log_since(mark))


    def test_temperror_deferred(self):
        mark = self.inst.log_mark()
        qid, reply = self.send("x@slowinc.example")
        self.assertIsNone(qid)
        self.assertEqual(reply[0], 451)
        self.assertTrue(reply[1][0].startswith(
            "4.7.24 <x@slowinc.example>: Sender address rejected: SPF "
            "temporary error: "), reply)
        self.inst.wait_for_log(r"SPF: DNS lookup of slow\.example/TXT failed",
                               since=mark)


@unittest.skipUnless(dnsmasq_path(), "dnsmasq not installed "
                     "(scripts/install-deps --test: dnsmasq-base)")
class SmtpdSpfHeaderOnlyTest(unittest.TestCase):
    """smtpd_spf_enable without restrictions: DATA waits for a check that
    is still running, so the header is never missing."""

    @classmethod
    def setUpClass(cls):
        start_dns(cls)
        try:
            cls.inst = SmtpdInstance(main_cf={
                "postern_dns_servers": cls.dns.server,
                "postern_dns_timeout": "2s",
                "smtpd_spf_enable": "yes",
            })
        except Exception:
            stop_dns(cls)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        stop_dns(cls)

    def pipelined(self, sender):
        with self.inst.raw() as c:
            self.assertEqual(c.cmd("EHLO helo.example")[0], 250)
            started = time.monotonic()
            c.send(f"MAIL FROM:<{sender}>\r\nRCPT TO:<bob@example.test>\r\n"
                   "DATA\r\n".encode())
            self.assertEqual([c.reply()[0] for _ in range(3)], [250, 250, 354])
            waited = time.monotonic() - started
            code, lines = c.cmd("Subject: spf\r\n\r\nbody\r\n.")
            self.assertEqual(code, 250, lines)
            qid = re.search(r"queued as (\w+)", lines[0]).group(1)
            return self.inst.qfile(qid)["content"], waited

    def test_data_waits_for_the_check(self):
        content, _ = self.pipelined("a@mxspf.example")
        self.assertTrue(content.startswith("Received-SPF: pass "), content[:300])
        # A lookup that times out: DATA answers after postern_dns_timeout,
        # with the temperror in the header.
        content, waited = self.pipelined("a@slowinc.example")
        self.assertGreaterEqual(waited, 1.5)
        self.assertTrue(content.startswith(
            "Received-SPF: temperror (mx.example.test: error in processing "
            "during lookup of a@slowinc.example: "), content[:300])
        self.assertIn("\tproblem=", content)

    def test_utf8_domain_checked_as_a_labels(self):
        with self.inst.raw() as c:
            self.assertEqual(c.cmd("EHLO helo.example")[0], 250)
            self.assertEqual(c.cmd("MAIL FROM:<j\u00f6rg@b\u00fccher.example> SMTPUTF8")[0], 250)
            self.assertEqual(c.cmd("RCPT TO:<bob@example.test>")[0], 250)
            self.assertEqual(c.cmd("DATA")[0], 354)
            code, lines = c.cmd("Subject: spf\r\n\r\nbody\r\n.")
            self.assertEqual(code, 250, lines)
            qid = re.search(r"queued as (\w+)", lines[0]).group(1)
        # (qfile_json shows the UTF-8 local part byte by byte)
        self.assertRegex(self.inst.qfile(qid)["content"],
                         r"^Received-SPF: pass \(mx\.example\.test: domain of "
                         r"j\S+rg@xn--bcher-kva\.example designates 127\.0\.0\.1")

    def test_fail_accepted_without_restrictions(self):
        content, _ = self.pipelined("eve@fail.example")
        self.assertTrue(content.startswith("Received-SPF: fail "), content[:300])


if __name__ == "__main__":
    unittest.main()
