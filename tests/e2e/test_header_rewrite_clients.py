"""test_header_rewrite_clients.py: who counts as a local client for
header address rewriting (local_header_rewrite_clients), read from the
queue files smtpd writes.

A local client's bare local parts get @$myorigin ("From: joe" becomes
"From: joe@example.test"); a remote client's headers are left alone
(remote_header_rewrite_domain is empty). The entries beyond the default
permit_inet_interfaces: check_address_map type:table (the client
address looked up as is, no subnets; a bare type:table means the same;
a table error is 451 4.3.0 at MAIL), permit_sasl_authenticated (never
true until smtpd has AUTH), permit_mynetworks; an unknown entry is one
warning per smtpd process, not one per session."""
import re
import smtplib
import unittest

from smtpd_util import SmtpdInstance

MESSAGE = b"From: joe\r\nTo: Old <bob>\r\nSubject: who\r\n\r\nx\r\n"


class RewriteClientsBase(unittest.TestCase):
    MAIN_CF = {}
    FILES = {}

    @classmethod
    def setUpClass(cls):
        cls.inst = SmtpdInstance(main_cf=cls.MAIN_CF, files=cls.FILES)

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def setUp(self):
        self.mark = self.inst.log_mark()

    def content(self, source):
        """The queued content of MESSAGE sent from `source`."""
        before = set(self.inst.incoming())
        with smtplib.SMTP("127.0.0.1", self.inst.port, timeout=20,
                          source_address=(source, 0)) as c:
            c.sendmail("x@example.test", ["alice@virt.test"], MESSAGE)
        new = sorted(set(self.inst.incoming()) - before)
        self.assertEqual(len(new), 1)
        return self.inst.qfile(new[0])["content"]

    def assert_local(self, source):
        content = self.content(source)
        self.assertIn("\nFrom: joe@example.test\n", content)
        self.assertIn("\nTo: Old <bob@example.test>\n", content)

    def assert_remote(self, source):
        content = self.content(source)
        self.assertIn("\nFrom: joe\n", content)
        self.assertIn("\nTo: Old <bob>\n", content)

    def warnings(self):
        return re.findall(r"smtpd\[(\d+)\]: warning: "
                          r"local_header_rewrite_clients: (.*)",
                          self.inst.log_text())


class CheckAddressMapTest(RewriteClientsBase):
    MAIN_CF = {"local_header_rewrite_clients":
               "check_address_map texthash:${config_directory}/pop"}
    # 127.0.0 would match 127.0.0.4 in an access map; here it must not:
    # Postfix looks the client address up as it is, without subnets.
    FILES = {"pop": "127.0.0.2 2026-11-23\n127.0.0 subnet\n"}

    def test_listed_address_is_local_and_only_it(self):
        self.assert_local("127.0.0.2")
        # 127.0.0.1 is our interface, but permit_inet_interfaces is not
        # in the list; 127.0.0.4 is only in a "subnet" entry.
        self.assert_remote("127.0.0.1")
        self.assert_remote("127.0.0.4")

    def test_no_configuration_warning(self):
        self.assert_local("127.0.0.2")
        self.assertEqual(self.warnings(), [])


class BareTableTest(RewriteClientsBase):
    """A bare type:table entry is check_address_map (Postfix's
    static:all idiom, and pop-before-smtp tables written that way)."""
    MAIN_CF = {"local_header_rewrite_clients":
               "permit_inet_interfaces, texthash:${config_directory}/pop"}
    FILES = {"pop": "127.0.0.5 ok\n"}

    def test_bare_table_and_inet_interfaces(self):
        self.assert_local("127.0.0.5")
        self.assert_local("127.0.0.1")  # our interface
        self.assert_remote("127.0.0.6")
        self.assertEqual(self.warnings(), [])


class AddressMapErrorTest(RewriteClientsBase):
    """A table that fails is a temporary error at MAIL, as in Postfix
    (never "not local", which would queue unrewritten headers)."""
    MAIN_CF = {"local_header_rewrite_clients": "check_address_map fail:pop"}

    def test_lookup_error_defers_mail(self):
        with self.inst.raw() as c:
            c.cmd("EHLO client.example")
            self.assertEqual(c.cmd("MAIL FROM:<x@example.test>"),
                             (451, ["4.3.0 Temporary lookup error"]))
            # The session goes on; nothing was started.
            self.assertEqual(c.cmd("RCPT TO:<alice@virt.test>")[0], 503)
        self.inst.wait_for_log(
            r"NOQUEUE: reject: MAIL from unknown\[127\.0\.0\.1\]: 451 4\.3\.0 "
            r"Temporary lookup error; from=<x@example\.test> proto=ESMTP "
            r"helo=<client\.example>", since=self.mark)


class SaslAuthenticatedTest(RewriteClientsBase):
    """permit_sasl_authenticated is understood (no warning) and follows
    the session's authenticated flag, which stays off without SASL: the
    client is not local."""
    MAIN_CF = {"local_header_rewrite_clients": "permit_sasl_authenticated"}

    def test_understood_and_false_without_auth(self):
        self.assert_remote("127.0.0.1")
        self.assertEqual(self.warnings(), [])


class UnknownEntryTest(RewriteClientsBase):
    MAIN_CF = {"local_header_rewrite_clients":
               "permit_mynetworks, bogus_entry, check_address_map"}

    def test_warned_once_per_process_and_rest_still_works(self):
        # 127.0.0.3 is mynetworks in the test main.cf: still local.
        for _ in range(3):
            self.assert_local("127.0.0.3")
        self.assert_remote("127.0.0.1")
        found = self.warnings()
        self.assertTrue(found, self.inst.log_tail())
        for pid, text in found:
            self.assertIn('unknown entry "bogus_entry" ignored', text)
            self.assertIn("check_address_map needs a type:table argument",
                          text)
        # One line per smtpd process (each warns once, at start), not
        # one per session.
        pids = [pid for pid, _ in found]
        self.assertEqual(len(pids), len(set(pids)), found)
        sessions = len(re.findall(r"smtpd\[\d+\]: connect from",
                                  self.inst.log_text()))
        self.assertGreaterEqual(sessions, 4)
        self.assertLess(len(pids), sessions)


if __name__ == "__main__":
    unittest.main()
