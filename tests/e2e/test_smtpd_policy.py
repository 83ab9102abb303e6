"""smtpd policy settings that differ from the main test instance:
reject_unauth_destination (554), reject_unknown_recipient_domain,
smtpd_data_restrictions, HELO name checks, table errors (451 4.3.0),
and the trigger written to qmgr after each accepted message."""
import os
import socket
import subprocess
import unittest

from instance import builddir
from smtpd_util import SmtpdInstance


class PolicyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = SmtpdInstance(
            files={"data_access": "nodata@ok.example REJECT no data for you\n",
                   "eod_access": "eod@ok.example REJECT too late\n"},
            main_cf={
                "smtpd_relay_restrictions":
                    "permit_mynetworks, reject_unauth_destination",
                "smtpd_helo_restrictions": "reject_non_fqdn_helo_hostname",
                "smtpd_recipient_restrictions":
                    "reject_unknown_recipient_domain",
                "smtpd_data_restrictions": "check_sender_access "
                    "texthash:${config_directory}/data_access",
                "smtpd_end_of_data_restrictions": "check_sender_access "
                    "texthash:${config_directory}/eod_access",
            })

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def rcpt(self, rcpt, source="127.0.0.1", helo="client.example",
             sender="a@b.example"):
        with self.inst.raw(source) as c:
            c.cmd(f"HELO {helo}")
            self.assertEqual(c.cmd(f"MAIL FROM:<{sender}>")[0], 250)
            return c.cmd(f"RCPT TO:<{rcpt}>")

    def test_reject_unauth_destination_554(self):
        self.assertEqual(self.rcpt("x@far.example"),
                         (554, ["5.7.1 <x@far.example>: Relay access denied"]))

    def test_unknown_recipient_domain(self):
        code, lines = self.rcpt("x@nowhere.invalid", source="127.0.0.3")
        self.assertEqual((code, lines[0]),
                         (450, "4.1.2 <x@nowhere.invalid>: Recipient address "
                               "rejected: Domain not found"))


    def test_non_fqdn_helo(self):
        code, lines = self.rcpt("bob@example.test", helo="shortname")
        self.assertEqual((code, lines[0]),
                         (504, "5.5.2 <shortname>: Helo command rejected: "
                               "need fully-qualified hostname"))

    def test_data_restrictions(self):
        with self.inst.raw("127.0.0.3") as c:
            c.cmd("EHLO client.example")
            c.cmd("MAIL FROM:<nodata@ok.example>")
            self.assertEqual(c.cmd("RCPT TO:<bob@example.test>")[0], 250)
            self.assertEqual(c.cmd("DATA"),
                             (554, ["5.7.1 <nodata@ok.example>: Sender address "
                                    "rejected: no data for you"]))
            self.assertEqual(c.cmd("RSET")[0], 250)
            c.cmd("MAIL FROM:<fine@ok.example>")
            c.cmd("RCPT TO:<bob@example.test>")
            self.assertEqual(c.cmd("DATA")[0], 354)


    def test_end_of_data_restrictions(self):
        before = set(self.inst.incoming())
        mark = self.inst.log_mark()
        with self.inst.raw("127.0.0.3") as c:
            c.cmd("EHLO client.example")
            c.cmd("MAIL FROM:<eod@ok.example>")
            self.assertEqual(c.cmd("RCPT TO:<bob@example.test>")[0], 250)
            self.assertEqual(c.cmd("DATA")[0], 354)
            c.send(b"Subject: x\r\n\r\nbody\r\n.\r\n")
            self.assertEqual(c.reply(),
                             (554, ["5.7.1 <eod@ok.example>: Sender address "
                                    "rejected: too late"]))
            self.assertEqual(c.cmd("NOOP")[0], 250)
        self.assertEqual(set(self.inst.incoming()), before)
        self.inst.wait_for_log(
            r"[0-9A-Za-z]+: reject: END-OF-MESSAGE from unknown\[127\.0\.0\.3\]: "
            r"554 5\.7\.1 <eod@ok\.example>: Sender address rejected: too late; "
            r"from=<eod@ok\.example> proto=ESMTP helo=<client\.example>",
            since=mark)


class TableErrorTest(unittest.TestCase):
    def test_table_errors_are_temporary(self):
        inst = SmtpdInstance(self, main_cf={
            "smtpd_recipient_restrictions":
                "check_recipient_access fail:broken"})
        with inst.raw("127.0.0.3") as c:
            c.cmd("EHLO client.example")
            c.cmd("MAIL FROM:<a@b.example>")
            code, lines = c.cmd("RCPT TO:<bob@example.test>")
            self.assertEqual((code, lines[0]),
                             (451, "4.3.0 <bob@example.test>: Temporary "
                                   "lookup failure"))
        inst = SmtpdInstance(self, main_cf={
            "virtual_mailbox_maps": "fail:broken"})
        with inst.raw() as c:
            c.cmd("EHLO client.example")
            c.cmd("MAIL FROM:<a@b.example>")
            code, lines = c.cmd("RCPT TO:<alice@virt.test>")
            self.assertEqual(code, 451, lines)
            self.assertTrue(lines[0].startswith("4.3.0 <alice@virt.test>:"))


class UnlistedSenderTest(unittest.TestCase):
    def test_reject_unlisted_sender(self):
        inst = SmtpdInstance(self, main_cf={
            "smtpd_reject_unlisted_sender": "yes"})
        for sender, expected in (
                ("nobody@example.test",
                 (550, "5.1.0 <nobody@example.test>: Sender address rejected: "
                       "User unknown in local recipient table")),
                ("ghost@virt.test",
                 (550, "5.1.0 <ghost@virt.test>: Sender address rejected: "
                       "User unknown in virtual mailbox table")),
                ("bob@example.test", (250, "2.1.5 Ok")),
                ("someone@far.example", (250, "2.1.5 Ok"))):
            with inst.raw() as c:
                c.cmd("EHLO client.example")
                c.cmd(f"MAIL FROM:<{sender}>")
                code, lines = c.cmd("RCPT TO:<bob@example.test>")
                self.assertEqual((code, lines[0]), expected, sender)


class LocalUsersTest(unittest.TestCase):
    def test_default_local_recipient_maps(self):
        # local_recipient_maps = unix:passwd.byname $alias_maps: UNIX
        # accounts are known, anything else is not.
        inst = SmtpdInstance(self, main_cf={"local_recipient_maps":
                                            "unix:passwd.byname $alias_maps"})
        for rcpt, code in (("root@example.test", 250),
                           ("no-such-user-xyz@example.test", 550)):
            with inst.raw() as c:
                c.cmd("EHLO client.example")
                c.cmd("MAIL FROM:<a@b.example>")
                self.assertEqual(c.cmd(f"RCPT TO:<{rcpt}>")[0], code, rcpt)


class PeernameTest(unittest.TestCase):
    def test_verified_client_name(self):
        # 127.0.0.1 is localhost in /etc/hosts both ways; the lookup runs
        # in a worker thread before the greeting.
        inst = SmtpdInstance(self, main_cf={"smtpd_peername_lookup": "yes"})
        mark = inst.log_mark()
        with inst.raw() as c:
            self.assertEqual(c.greeting[0], 220)
            self.assertEqual(c.cmd("QUIT")[0], 221)
        name = socket.getnameinfo(("127.0.0.1", 0), socket.NI_NAMEREQD)[0]
        inst.wait_for_log(rf"connect from {name}\[127\.0\.0\.1\]",
                          since=mark)


class TriggerTest(unittest.TestCase):
    def fake_qmgr(self, inst):
        path = os.path.join(inst.queue, "public", "qmgr")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(listener.close)
        listener.bind(path)
        os.chmod(path, 0o666)
        listener.listen(16)
        listener.settimeout(10)
        return listener

    def test_sendmail_q_flushes(self):
        inst = SmtpdInstance(self)
        listener = self.fake_qmgr(inst)
        # sendmail waits for qmgr's answer (none: the request was taken)
        # before it exits, so the fake qmgr answers while it runs.
        proc = subprocess.Popen([os.path.join(builddir(), "tools", "sendmail"),
                                 "-C", inst.etc, "-q"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(10)
            self.assertEqual(conn.recv(16), b"FA")
        _, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, err)

    def test_qmgr_trigger_after_commit(self):
        inst = SmtpdInstance(self)
        listener = self.fake_qmgr(inst)
        with inst.raw() as c:
            c.cmd("EHLO client.example")
            c.cmd("MAIL FROM:<a@b.example>")
            c.cmd("RCPT TO:<bob@example.test>")
            self.assertEqual(c.cmd("DATA")[0], 354)
            c.send(b"Subject: t\r\n\r\nx\r\n.\r\n")
            self.assertEqual(c.reply()[0], 250)
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(10)
                self.assertEqual(conn.recv(16), b"A")


if __name__ == "__main__":
    unittest.main()


class GenericActionsTest(unittest.TestCase):
    """The generic restrictions permit, reject and defer, the explicit
    reject_unlisted_recipient, and access(5) OK and DUNNO, with the
    implicit unlisted-recipient check (smtpd_reject_unlisted_recipient)
    off so that only the lists decide."""

    @classmethod
    def setUpClass(cls):
        cls.inst = SmtpdInstance(
            files={"rcpt_access": "ok@example.test OK\n"
                                  "dunno@example.test DUNNO\n"},
            main_cf={
                "smtpd_reject_unlisted_recipient": "no",
                "smtpd_relay_restrictions": "",
                "smtpd_recipient_restrictions":
                    "check_recipient_access "
                    "texthash:${config_directory}/rcpt_access, "
                    "reject_unlisted_recipient, permit_mynetworks, "
                    "reject_unauth_destination",
            })

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def replies(self, *rcpts):
        with self.inst.raw() as c:
            c.cmd("EHLO client.example")
            self.assertEqual(c.cmd("MAIL FROM:<a@b.example>")[0], 250)
            return [c.cmd(f"RCPT TO:<{r}>") for r in rcpts]

    def test_explicit_reject_unlisted_recipient_and_access_actions(self):
        ok, dunno, bob, far = self.replies("ok@example.test",
                                           "dunno@example.test",
                                           "bob@example.test", "x@far.example")
        self.assertEqual(ok[0], 250)  # OK ends the list before the check
        self.assertEqual(dunno, (550, ["5.1.1 <dunno@example.test>: Recipient "
                                       "address rejected: User unknown in "
                                       "local recipient table"]))
        self.assertEqual(bob[0], 250)
        self.assertEqual(far, (554, ["5.7.1 <x@far.example>: Relay access "
                                     "denied"]))

    def test_permit_reject_defer(self):
        for word, expected in (
                ("permit", (250, ["2.1.5 Ok"])),
                ("reject", (554, ["5.7.1 <bob@example.test>: Recipient "
                                  "address rejected: Access denied"])),
                ("defer", (450, ["4.7.1 <bob@example.test>: Recipient "
                                 "address rejected: Access denied"]))):
            self.inst.write_main_cf({"smtpd_recipient_restrictions": word})
            self.inst.reload()
            self.assertEqual(self.replies("bob@example.test")[0], expected,
                             word)
