"""smtpd's DNS restrictions against DNS servers on loopback:
reject_unknown_recipient_domain, reject_unknown_sender_domain and
reject_unknown_helo_hostname with Postfix's replies (Domain not found,
null MX, malformed MX, Host not found), our own domains never looked up,
the lookup at DATA, BDAT and end of data, pipelined commands answered in
order around a lookup, and a server that never answers: the session
waiting for it gets a 4xx (defer_if_permit, or defer), never a 5xx,
while another session of the same smtpd process is served at once.
DNS servers: dnsmasq with a test zone, and a silent UDP socket
(dns_util.py)."""
import os
import re
import threading
import time
import unittest

from dns_util import Blackhole, Dnsmasq, dnsmasq_path
from smtpd_util import Raw, SmtpdInstance

TRUSTED = "127.0.0.3"  # in the test instance's mynetworks: relaying allowed
NEED_DNSMASQ = unittest.skipUnless(
    dnsmasq_path(), "dnsmasq not installed "
    "(scripts/install-deps --test: dnsmasq-base)")


@NEED_DNSMASQ
class UnknownDomainTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dns = Dnsmasq()
        try:
            cls.inst = SmtpdInstance(main_cf={
                "postern_dns_servers": cls.dns.server,
                "postern_dns_timeout": "5s",
                "smtpd_helo_restrictions": "reject_unknown_helo_hostname",
                "smtpd_sender_restrictions": "reject_unknown_sender_domain",
                "smtpd_recipient_restrictions":
                    "check_sender_access inline:{ {warn@aonly.example = "
                    "WARN sender watched} }, reject_unknown_recipient_domain",
            })
        except Exception:
            cls.dns.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.dns.cleanup()

    def rcpt(self, rcpt, sender="s@mx.example", helo="aonly.example"):
        with self.inst.raw(TRUSTED) as c:
            self.assertEqual(c.cmd(f"EHLO {helo}")[0], 250)
            self.assertEqual(c.cmd(f"MAIL FROM:<{sender}>")[0], 250)
            code, lines = c.cmd(f"RCPT TO:<{rcpt}>")
            return code, lines[0]

    def test_known_recipient_domains(self):
        for domain in ("mx.example", "aonly.example", "v6only.example",
                       "both.example", "MX.EXAMPLE"):
            self.assertEqual(self.rcpt(f"x@{domain}"), (250, "2.1.5 Ok"),
                             domain)

    def test_unknown_recipient_domains(self):
        self.assertEqual(self.rcpt("x@nxd.example"),
                         (450, "4.1.2 <x@nxd.example>: Recipient address "
                               "rejected: Domain not found"))
        self.assertEqual(self.rcpt("x@nullmx.example"),
                         (556, "5.1.10 <x@nullmx.example>: Recipient address "
                               "rejected: Domain nullmx.example does not "
                               "accept mail (nullMX)"))
        # A null MX wins over an address record.
        self.assertEqual(self.rcpt("x@nullmxa.example")[0], 556)
        self.assertEqual(self.rcpt("x@badmx.example"),
                         (450, "4.1.2 <x@badmx.example>: Recipient address "
                               "rejected: Malformed DNS server reply"))
        mark = self.inst.log_mark()
        self.rcpt("y@nxd.example")
        self.inst.wait_for_log(
            r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.3\]: 450 4\.1\.2 "
            r"<y@nxd\.example>: Recipient address rejected: Domain not found; "
            r"from=<s@mx\.example> to=<y@nxd\.example> proto=ESMTP "
            r"helo=<aonly\.example>", since=mark)

    def test_sender_domains(self):
        self.assertEqual(self.rcpt("bob@example.test", sender="s@nxd.example"),
                         (450, "4.1.8 <s@nxd.example>: Sender address "
                               "rejected: Domain not found"))
        self.assertEqual(self.rcpt("bob@example.test",
                                   sender="s@nullmx.example"),
                         (550, "5.7.27 <s@nullmx.example>: Sender address "
                               "rejected: Domain nullmx.example does not "
                               "accept mail (nullMX)"))
        self.assertEqual(self.rcpt("bob@example.test", sender=""),
                         (250, "2.1.5 Ok"))
        self.assertEqual(self.rcpt("bob@example.test",
                                   sender="s@aonly.example"),
                         (250, "2.1.5 Ok"))

    def test_helo_hostname(self):
        self.assertEqual(self.rcpt("bob@example.test", helo="nxd.example"),
                         (450, "4.7.1 <nxd.example>: Helo command rejected: "
                               "Host not found"))
        # A null MX is no address.
        self.assertEqual(self.rcpt("bob@example.test", helo="nullmx.example"),
                         (450, "4.7.1 <nullmx.example>: Helo command "
                               "rejected: Host not found"))
        for helo in ("mx.example", "v6only.example", "[127.0.0.1]"):
            self.assertEqual(self.rcpt("bob@example.test", helo=helo),
                             (250, "2.1.5 Ok"), helo)

    def utf8_rcpt(self, rcpt, sender="s@mx.example"):
        with self.inst.raw(TRUSTED) as c:
            self.assertEqual(c.cmd("EHLO aonly.example")[0], 250)
            self.assertEqual(c.cmd(f"MAIL FROM:<{sender}> SMTPUTF8")[0], 250)
            code, lines = c.cmd(f"RCPT TO:<{rcpt}>")
            return code, lines[0]

    def test_utf8_domains_are_asked_for_as_a_labels(self):
        """An SMTPUTF8 domain is looked up in its ASCII form (bücher ->
        xn--bcher-kva), as Postfix does; one IDNA refuses cannot exist."""
        self.assertEqual(self.utf8_rcpt("x@b\u00fccher.example"),
                         (250, "2.1.5 Ok"))
        self.assertEqual(self.utf8_rcpt("x@B\u00dcCHER.example"),
                         (250, "2.1.5 Ok"))
        self.assertEqual(
            self.utf8_rcpt("x@n\u00fcll.example"),
            (450, "4.1.2 <x@n\u00fcll.example>: Recipient address rejected: "
                  "Domain not found"))
        # a label that starts with a combining mark is no domain name
        self.assertEqual(self.utf8_rcpt("x@\u0308a.example")[0], 450)
        self.assertEqual(
            self.utf8_rcpt("bob@example.test", sender="s@b\u00fccher.example"),
            (250, "2.1.5 Ok"))
        self.assertEqual(
            self.utf8_rcpt("bob@example.test", sender="s@n\u00fcll.example"),
            (450, "4.1.8 <s@n\u00fcll.example>: Sender address rejected: "
                  "Domain not found"))

    def test_our_domains_need_no_dns(self):
        # The query log works: a foreign domain is asked about.
        self.assertEqual(self.rcpt("x@mail2.mx.example", helo="[127.0.0.1]"),
                         (250, "2.1.5 Ok"))
        self.assertIn(("MX", "mail2.mx.example"), self.dns.queries())
        before = len(self.dns.queries())
        ours = ("example.test", "virt.test", "alias.test", "relay.test")
        for rcpt, sender in (("bob@example.test", "a@example.test"),
                             ("alice@virt.test", "a@virt.test"),
                             ("info@alias.test", "a@alias.test"),
                             ("x@relay.test", "a@relay.test")):
            self.assertEqual(self.rcpt(rcpt, sender=sender, helo="[127.0.0.1]"),
                             (250, "2.1.5 Ok"), rcpt)
        # Only questions about our own domains count: the foreign
        # domain's address lookups may still be logged late (its RCPT is
        # answered once one address record is in).
        asked = [q for q in self.dns.queries()[before:]
                 if q[1].rstrip(".").endswith(ours)]
        self.assertEqual(asked, [])

    def test_actions_before_a_wait_happen_once(self):
        # HELO, sender and recipient each wait for DNS; the WARN comes
        # before the last wait, and the evaluation runs three times.
        mark = self.inst.log_mark()
        self.assertEqual(self.rcpt("x@v6only.example",
                                   sender="warn@aonly.example"),
                         (250, "2.1.5 Ok"))
        self.inst.wait_for_log(r"warn: RCPT from unknown\[127\.0\.0\.3\]: "
                               r"sender watched; from=<warn@aonly\.example> "
                               r"to=<x@v6only\.example>", since=mark)
        self.assertEqual(self.inst.log_since(mark).count("sender watched"), 1)

    def test_pipelined_commands_keep_their_order(self):
        with self.inst.raw(TRUSTED) as c:
            self.assertEqual(c.cmd("EHLO aonly.example")[0], 250)
            c.send(b"MAIL FROM:<s@mx.example>\r\n"
                   b"RCPT TO:<a@nxd.example>\r\n"
                   b"RCPT TO:<b@aonly.example>\r\n"
                   b"RCPT TO:<c@nullmx.example>\r\n"
                   b"RCPT TO:<bob@example.test>\r\n"
                   b"NOOP\r\n")
            codes = [c.reply()[0] for _ in range(6)]
            self.assertEqual(codes, [250, 450, 250, 556, 250, 250])


@NEED_DNSMASQ
class StagesTest(unittest.TestCase):
    """The lookup also suspends DATA, the first BDAT and the end of data."""

    @classmethod
    def setUpClass(cls):
        cls.dns = Dnsmasq()
        try:
            cls.inst = SmtpdInstance(main_cf={
                "postern_dns_servers": cls.dns.server,
                "smtpd_data_restrictions": "reject_unknown_helo_hostname",
                "smtpd_end_of_data_restrictions":
                    "reject_unknown_sender_domain",
            })
        except Exception:
            cls.dns.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.dns.cleanup()

    def test_data(self):
        with self.inst.raw(TRUSTED) as c:
            c.cmd("EHLO nxd.example")
            c.cmd("MAIL FROM:<s@mx.example>")
            self.assertEqual(c.cmd("RCPT TO:<bob@example.test>")[0], 250)
            self.assertEqual(c.cmd("DATA"),
                             (450, ["4.7.1 <nxd.example>: Helo command "
                                    "rejected: Host not found"]))
            self.assertEqual(c.cmd("NOOP")[0], 250)

    def test_bdat_chunk_waits_for_the_answer(self):
        with self.inst.raw(TRUSTED) as c:
            c.cmd("EHLO nxd.example")
            c.cmd("MAIL FROM:<s@mx.example>")
            c.cmd("RCPT TO:<bob@example.test>")
            # The chunk follows at once; it must not be read as commands.
            c.send(b"BDAT 12 LAST\r\nNOOP\r\nNOOP\r\nNOOP\r\n")
            self.assertEqual(c.reply()[0], 450)
            self.assertEqual(c.reply()[0], 250)  # the real NOOP
            self.assertEqual(c.cmd("RSET")[0], 250)

    def test_command_behind_a_chunk(self):
        # No DNS here: a command in the same packet as the end of a BDAT
        # chunk was left in the buffer until more input came (fixed with
        # the DNS wait, which ends BDAT the same way).
        with self.inst.raw(TRUSTED) as c:
            c.cmd("EHLO aonly.example")
            c.cmd("MAIL FROM:<s@mx.example>")
            c.cmd("RCPT TO:<bob@example.test>")
            c.send(b"BDAT 4\r\nabcdNOOP\r\n")
            self.assertEqual(c.reply(), (250, ["2.0.0 Ok: 4 bytes"]))
            self.assertEqual(c.reply(), (250, ["2.0.0 Ok"]))

    def test_end_of_data(self):
        before = set(self.inst.incoming())
        with self.inst.raw(TRUSTED) as c:
            c.cmd("EHLO aonly.example")
            c.cmd("MAIL FROM:<s@nxd.example>")
            c.cmd("RCPT TO:<bob@example.test>")
            self.assertEqual(c.cmd("DATA")[0], 354)
            c.send(b"Subject: x\r\n\r\nbody\r\n.\r\nNOOP\r\n")
            self.assertEqual(c.reply(),
                             (450, ["4.1.8 <s@nxd.example>: Sender address "
                                    "rejected: Domain not found"]))
            self.assertEqual(c.reply()[0], 250)
            self.assertEqual(set(self.inst.incoming()), before)
            c.cmd("MAIL FROM:<s@mx.example>")
            c.cmd("RCPT TO:<bob@example.test>")
            self.assertEqual(c.cmd("DATA")[0], 354)
            c.send(b"Subject: y\r\n\r\nbody\r\n.\r\n")
            code, lines = c.reply()
            self.assertEqual(code, 250, lines)
            self.assertIn(lines[0].rsplit(" ", 1)[1], self.inst.incoming())


@NEED_DNSMASQ
class ResumeTest(unittest.TestCase):
    """A command suspended for DNS carries on where it stopped (smtpd
    command phases, docs/smtpd.md): inside a restriction class named by
    an access result, with waits before and after, every action fires
    once, in order, and a defer_if_permit met before a wait still
    decides after it."""

    FILES = {
        # An access result is not main.cf: no $name in it (the table
        # paths are filled in once the directory is known).
        "sender_access":
            "s@aonly.example check_helo_access texthash:ETC/helo_access, "
            "reject_unknown_helo_hostname, check_recipient_access "
            "texthash:ETC/rcpt_access, reject_unknown_recipient_domain, "
            "check_client_access texthash:ETC/client_access\n",
        "helo_access": "aonly.example PREPEND X-Before-Waits: 1\n",
        "rcpt_access":
            "x@v6only.example WARN between the waits\n"
            "y@both.example DEFER_IF_PERMIT come back later\n",
        "client_access": "127.0.0.3 PREPEND X-After-Waits: 1\n",
    }

    @classmethod
    def setUpClass(cls):
        cls.dns = Dnsmasq()
        try:
            cls.inst = SmtpdInstance(files=cls.FILES, main_cf={
                "postern_dns_servers": cls.dns.server,
                "smtpd_recipient_restrictions":
                    "check_sender_access "
                    "texthash:${config_directory}/sender_access, permit",
            })
        except Exception:
            cls.dns.cleanup()
            raise
        # Tables are opened at their first use, after this.
        with open(os.path.join(cls.inst.etc, "sender_access"), "w") as f:
            f.write(cls.FILES["sender_access"].replace("ETC", cls.inst.etc))

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.dns.cleanup()

    def test_nested_class_resumes_without_repeating(self):
        mark = self.inst.log_mark()
        before = set(self.inst.incoming())
        with self.inst.raw(TRUSTED) as c:
            self.assertEqual(c.cmd("EHLO aonly.example")[0], 250)
            self.assertEqual(c.cmd("MAIL FROM:<s@aonly.example>")[0], 250)
            # Waits for the HELO name, then the recipient domain.
            self.assertEqual(c.cmd("RCPT TO:<x@v6only.example>"),
                             (250, ["2.1.5 Ok"]))
            # The deferral is remembered across the recipient's wait.
            self.assertEqual(c.cmd("RCPT TO:<y@both.example>"),
                             (450, ["4.7.1 <y@both.example>: Recipient "
                                    "address rejected: come back later"]))
            self.assertEqual(c.cmd("DATA")[0], 354)
            c.send(b"Subject: resumed\r\n\r\nbody\r\n.\r\n")
            code, lines = c.reply()
            self.assertEqual(code, 250, lines)
        qid = lines[0].rsplit(" ", 1)[1]
        self.assertNotIn(qid, before)
        content = self.inst.qfile(qid)["content"]
        self.assertEqual(content.count("X-Before-Waits: 1"), 1, content)
        self.assertEqual(content.count("X-After-Waits: 1"), 1, content)
        self.assertLess(content.index("X-Before-Waits"),
                        content.index("X-After-Waits"))
        log = self.inst.log_since(mark)
        self.assertEqual(log.count("between the waits"), 1, log)
        self.assertIn(("MX", "v6only.example"), self.dns.queries())


class SilentServerTest(unittest.TestCase):
    """A name server that never answers delays only the session that
    waits for it; the wait ends in a 4xx after postern_dns_timeout."""

    TIMEOUT = 2

    def instance(self, hole, **main_cf):
        params = {
            "postern_dns_servers": hole.server,
            "postern_dns_timeout": f"{self.TIMEOUT}s",
            # One smtpd process: both sessions share its event loop.
            "default_process_limit": "1",
            "smtpd_recipient_restrictions": "reject_unknown_recipient_domain",
        }
        params.update(main_cf)
        return SmtpdInstance(self, main_cf=params)

    def test_other_session_served_while_one_waits(self):
        with Blackhole() as hole:
            inst = self.instance(hole)
            mark = inst.log_mark()
            a = inst.raw(TRUSTED)
            self.addCleanup(a.close)
            a.cmd("EHLO client.example")
            a.cmd("MAIL FROM:<s@example.test>")
            result = {}

            def wait_a():
                start = time.monotonic()
                result["reply"] = a.cmd("RCPT TO:<x@slow.example>")
                result["seconds"] = time.monotonic() - start

            thread = threading.Thread(target=wait_a)
            thread.start()
            # Session A's lookup is in flight once the query arrives.
            deadline = time.monotonic() + 1
            while hole.received() == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
            self.assertTrue(thread.is_alive(), "A did not wait")
            start = time.monotonic()
            with inst.raw(TRUSTED) as b:
                self.assertEqual(b.greeting[0], 220)
                self.assertLess(time.monotonic() - start, 0.5, "greeting")
                for line, code in (("EHLO other.example", 250),
                                   ("MAIL FROM:<t@example.test>", 250),
                                   ("RCPT TO:<bob@example.test>", 250),
                                   ("NOOP", 250), ("RSET", 250)):
                    start = time.monotonic()
                    self.assertEqual(b.cmd(line)[0], code, line)
                    self.assertLess(time.monotonic() - start, 0.5, line)
            self.assertTrue(thread.is_alive(), "A answered too early")
            thread.join(self.TIMEOUT + 10)
            self.assertFalse(thread.is_alive())
            self.assertEqual(result["reply"],
                             (450, ["4.1.2 <x@slow.example>: Recipient "
                                    "address rejected: Domain not found"]))
            self.assertGreater(result["seconds"], self.TIMEOUT - 0.5)
            # A still works after the wait.
            self.assertEqual(a.cmd("NOOP")[0], 250)
            # Both sessions were served by the same process.
            pids = set(re.findall(r"postern/smtpd\[(\d+)\]: connect from",
                                  inst.log_since(mark)))
            self.assertEqual(len(pids), 1, inst.log_since(mark))
            inst.wait_for_log(r"warning: unknown\[127\.0\.0\.3\]: DNS lookup "
                              r"of slow\.example failed: timeout", since=mark)

    def test_client_gone_while_suspended(self):
        """The client disconnects while its RCPT waits: the session ends
        when the wait does, and the process serves others meanwhile and
        after (nothing touches the freed session)."""
        with Blackhole() as hole:
            inst = self.instance(hole)
            mark = inst.log_mark()
            a = inst.raw(TRUSTED)
            a.cmd("EHLO client.example")
            a.cmd("MAIL FROM:<s@example.test>")
            a.send(b"RCPT TO:<x@slow.example>\r\nNOOP\r\n")
            deadline = time.monotonic() + 2
            while hole.received() == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
            a.close()
            with inst.raw(TRUSTED) as b:
                self.assertEqual(b.cmd("EHLO other.example")[0], 250)
            inst.wait_for_log(r"disconnect from unknown\[127\.0\.0\.3\] "
                              r"ehlo=1 mail=1 rcpt=0/1", since=mark,
                              timeout=self.TIMEOUT + 10)
            with inst.raw(TRUSTED) as b:
                self.assertEqual(b.cmd("NOOP")[0], 250)
            self.assertEqual(inst.sanitizer_findings(), [])

    def test_tempfail_actions(self):
        with Blackhole() as hole:
            # defer_if_permit (default): a later reject still rejects, and
            # without one the deferral is the answer.
            inst = self.instance(hole, smtpd_recipient_restrictions=(
                "reject_unknown_recipient_domain, check_recipient_access "
                "inline:{x@slow.example=REJECT}"))
            with inst.raw(TRUSTED) as c:
                c.cmd("EHLO client.example")
                c.cmd("MAIL FROM:<s@example.test>")
                self.assertEqual(c.cmd("RCPT TO:<x@slow.example>")[0], 554)
                self.assertEqual(c.cmd("RCPT TO:<y@slow.example>")[0], 450)
            inst.cleanup()
            # defer: 450 at once, whatever follows.
            inst = self.instance(hole, **{
                "unknown_address_tempfail_action": "defer",
                "smtpd_recipient_restrictions":
                    "reject_unknown_recipient_domain, check_recipient_access "
                    "inline:{x@slow.example=REJECT}"})
            with inst.raw(TRUSTED) as c:
                c.cmd("EHLO client.example")
                c.cmd("MAIL FROM:<s@example.test>")
                self.assertEqual(
                    c.cmd("RCPT TO:<x@slow.example>"),
                    (450, ["4.1.2 <x@slow.example>: Recipient address "
                           "rejected: Domain not found"]))


if __name__ == "__main__":
    unittest.main()
