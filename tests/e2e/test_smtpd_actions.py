"""test_smtpd_actions.py: access(5) actions beyond permit/reject, through
a whole instance (master + smtpd + qmgr + virtual), read back from the
delivered Maildir files and the log.

PREPEND adds its header above our Received: header (several accumulate,
in the order they fired; a bad one is logged and ignored; not in
smtpd_end_of_data_restrictions, where REDIRECT and BCC still work on
the recipients in the queue file); WARN and INFO log Postfix's
"NOQUEUE: warn: RCPT from ...; from=<..> to=<..> proto=.. helo=<..>"
line and decide nothing; REDIRECT sends the message to its address
instead of the recipients; BCC sends a copy as well; FILTER sends every
recipient to its transport and next hop;
DEFER_IF_PERMIT defers what would be accepted, DEFER_IF_REJECT defers
what would be rejected."""
import os
import pwd
import re
import smtplib
import time
import unittest

from agentlib import ensure_user, is_root, maildir_files, prog, read
from instance import Instance
from smtpd_util import BASE_MAIN_CF

SENDER_ACCESS = """\
prepend@ok.example      PREPEND X-First: one
multi@ok.example        PREPEND X-First: one
warn@ok.example         WARN looks odd
info@ok.example         INFO just noting
badprepend@ok.example   PREPEND no colon here
redirect@ok.example     REDIRECT carol@virt.test
bcc@ok.example          BCC carol@virt.test
badbcc@ok.example       BCC postmaster
filter@ok.example       FILTER filt:[127.0.0.1]:10025
filterdrop@ok.example   FILTER discard:filtered
badfilter@ok.example    FILTER no-colon-here
dip@ok.example          DEFER_IF_PERMIT try later
dir@ok.example          DEFER_IF_REJECT
"""
RCPT_ACCESS = """\
info@alias.test         PREPEND X-Second: two
rejectme@virt.test      REJECT
"""
EOD_ACCESS = """\
late@ok.example         PREPEND X-Late: too late
lateredirect@ok.example REDIRECT carol@virt.test
latebcc@ok.example      BCC carol@virt.test
latealias@ok.example    BCC info@alias.test
"""


def have_programs():
    return all(os.access(prog(p), os.X_OK)
               for p in ("smtpd/smtpd", "qmgr/qmgr", "virtual/virtual",
                         "master/master"))


@unittest.skipUnless(have_programs(), "smtpd, qmgr or virtual not built")
class AccessActionsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = inst = Instance()
        cls.base = os.path.join(inst.root, "vmail")
        os.makedirs(cls.base)
        if is_root():
            user = ensure_user("pt-vmail", os.path.join(inst.root, "vhome"))
            os.chown(cls.base, user.pw_uid, user.pw_gid)
        else:
            user = pwd.getpwuid(os.getuid())
        for name, text in (("sender_access", SENDER_ACCESS),
                           ("rcpt_access", RCPT_ACCESS),
                           ("eod_access", EOD_ACCESS)):
            with open(os.path.join(inst.etc, name), "w") as f:
                f.write(text)
        params = dict(BASE_MAIN_CF)
        params.update({
            "virtual_mailbox_base": cls.base,
            "virtual_uid_maps": f"static:{user.pw_uid}",
            "virtual_gid_maps": f"static:{user.pw_gid}",
            "virtual_minimum_uid": "1",
            "queue_run_delay": "1s",
            "smtpd_sender_restrictions":
                "check_sender_access texthash:${config_directory}/sender_access",
            "smtpd_recipient_restrictions":
                "check_recipient_access "
                "texthash:${config_directory}/rcpt_access",
            "smtpd_end_of_data_restrictions":
                "check_sender_access texthash:${config_directory}/eod_access",
        })
        inst.main_params.update(params)
        inst.write_main_cf()
        cls.port = inst.free_port()
        cls.filter_port = inst.free_port()
        inst.write_master_cf(
            inst.service(f"127.0.0.1:{cls.port}", "inet", "smtpd")
            # every message it takes goes through the "filter"
            + inst.service(f"127.0.0.1:{cls.filter_port}", "inet", "smtpd",
                           args=("-o", "content_filter=filt:"))
            + inst.service("qmgr", "unix", "qmgr", private="n", wakeup=1,
                           maxproc=1)
            + inst.service("virtual", "unix", "virtual", unpriv="n")
            # a "content filter" that is another virtual: its log name
            # shows which way the message went
            + inst.service("filt", "unix", "virtual", unpriv="n",
                           args=("-o", "syslog_name=postern/filt")))
        inst.start()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def setUp(self):
        self.mark = self.inst.log_mark()

    def files(self, user):
        box = os.path.join(self.base, user)
        return set(maildir_files(box)) if os.path.isdir(box) else set()

    def snapshot(self):
        return {u: self.files(u) for u in ("alice", "carol")}

    def new_files(self, before, user, count=1, timeout=20):
        """The contents of `count` new files in user's Maildir."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            new = sorted(self.files(user) - before[user])
            if len(new) >= count:
                self.assertEqual(len(new), count)
                return [read(n) for n in new]
            time.sleep(0.05)
        self.fail(f"nothing delivered to {user}; log:\n"
                  + self.inst.log_tail(30))

    def settle(self, seconds=1.0):
        """Gives stray deliveries time to appear."""
        time.sleep(seconds)

    def send(self, sender, rcpts, body=b"Subject: t\r\n\r\nhello\r\n"):
        with smtplib.SMTP("127.0.0.1", self.port, timeout=20) as c:
            c.ehlo("client.example")
            c.sendmail(sender, rcpts, body)

    @staticmethod
    def headers(data):
        return data.split(b"\n\n", 1)[0].split(b"\n")

    def rcpt_reply(self, sender, rcpt):
        with smtplib.SMTP("127.0.0.1", self.port, timeout=20) as c:
            c.ehlo("client.example")
            self.assertEqual(c.mail(sender)[0], 250)
            code, text = c.rcpt(rcpt)
            return code, text.decode()

    def test_defer_if_permit(self):
        """DEFER_IF_PERMIT defers what would be accepted; a later reject
        still rejects."""
        code, text = self.rcpt_reply("dip@ok.example", "alice@virt.test")
        self.assertEqual(code, 450, text)
        self.assertEqual(text, "4.7.1 <dip@ok.example>: Sender address "
                               "rejected: try later")
        code, text = self.rcpt_reply("dip@ok.example", "rejectme@virt.test")
        self.assertEqual(code, 554, text)

    def test_defer_if_reject(self):
        """DEFER_IF_REJECT turns a later reject, the unknown-user check
        included, into its deferral; an accept stays an accept."""
        self.assertEqual(self.rcpt_reply("dir@ok.example",
                                         "alice@virt.test")[0], 250)
        for rcpt in ("rejectme@virt.test", "nobody@virt.test"):
            code, text = self.rcpt_reply("dir@ok.example", rcpt)
            self.assertEqual(code, 450, f"{rcpt}: {text}")
            self.assertEqual(text, "4.7.1 <dir@ok.example>: Sender address "
                                   "rejected: Service unavailable")
        # Without it the same recipients are rejected.
        self.assertEqual(self.rcpt_reply("plain@ok.example",
                                         "nobody@virt.test")[0], 550)
        self.assertEqual(self.rcpt_reply("plain@ok.example",
                                         "rejectme@virt.test")[0], 554)

    def test_prepend_adds_headers_above_received(self):
        before = self.snapshot()
        self.send("multi@ok.example", ["info@alias.test", "carol@virt.test"],
                  b"Subject: prepended\r\nX-First: from the client\r\n\r\n"
                  b"body\r\n")
        [got] = self.new_files(before, "alice")
        lines = self.headers(got)
        # Delivered-To/Return-Path from virtual come first; then ours:
        # the PREPENDs in the order they fired (the sender list, then the
        # recipient list), once each although the sender list ran for
        # both RCPTs, then our Received:, then the client's headers.
        first = lines.index(b"X-First: one")
        self.assertEqual(lines[first + 1], b"X-Second: two")
        self.assertTrue(lines[first + 2].startswith(b"Received: from "),
                        lines)
        self.assertEqual(lines.count(b"X-First: one"), 1)
        self.assertIn(b"X-First: from the client", lines)
        self.assertTrue(got.endswith(b"\n\nbody\n"))
        # carol's copy has the same headers: PREPEND acts on the message.
        [copy] = self.new_files(before, "carol")
        self.assertIn(b"X-Second: two", self.headers(copy))

    def test_invalid_prepend_is_logged_and_ignored(self):
        before = self.snapshot()
        self.send("badprepend@ok.example", ["alice@virt.test"])
        [got] = self.new_files(before, "alice")
        self.assertNotIn(b"no colon here", got)
        self.inst.wait_for_log(
            r"warning: access table texthash:\S+/sender_access entry "
            r"\"PREPEND no colon here\" requires header: text",
            since=self.mark)

    def test_prepend_not_in_end_of_data_restrictions(self):
        before = self.snapshot()
        self.send("late@ok.example", ["alice@virt.test"])
        [got] = self.new_files(before, "alice")
        self.assertNotIn(b"X-Late", got)
        self.inst.wait_for_log(
            r"warning: access table texthash:\S+/eod_access: action PREPEND "
            r"must be used before smtpd_end_of_data_restrictions",
            since=self.mark)

    def test_warn_and_info_log_lines(self):
        before = self.snapshot()
        self.send("warn@ok.example", ["alice@virt.test"])
        self.send("info@ok.example", ["alice@virt.test"])
        self.new_files(before, "alice", count=2)
        # Postfix's log_whatsup shape, at info level (no "warning:").
        m = self.inst.wait_for_log(
            r"smtpd\[\d+\]: (.*warn: RCPT from unknown\[127\.0\.0\.1\]: .*)",
            since=self.mark)
        self.assertEqual(
            m.group(1),
            "NOQUEUE: warn: RCPT from unknown[127.0.0.1]: looks odd; "
            "from=<warn@ok.example> to=<alice@virt.test> proto=ESMTP "
            "helo=<client.example>")
        m = self.inst.wait_for_log(
            r"smtpd\[\d+\]: (.*info: RCPT from unknown\[127\.0\.0\.1\]: .*)",
            since=self.mark)
        self.assertEqual(
            m.group(1),
            "NOQUEUE: info: RCPT from unknown[127.0.0.1]: just noting; "
            "from=<info@ok.example> to=<alice@virt.test> proto=ESMTP "
            "helo=<client.example>")

    def test_redirect_replaces_recipients(self):
        before = self.snapshot()
        self.send("redirect@ok.example", ["alice@virt.test", "info@alias.test"],
                  b"Subject: redirected\r\n\r\nx\r\n")
        [got] = self.new_files(before, "carol")
        self.assertIn(b"Subject: redirected", got)
        self.settle()
        self.assertEqual(self.files("alice"), before["alice"])
        self.inst.wait_for_log(
            r"NOQUEUE: redirect: RCPT from unknown\[127\.0\.0\.1\]: "
            r"<redirect@ok\.example>: Sender address triggers REDIRECT "
            r"carol@virt\.test; from=<redirect@ok\.example> "
            r"to=<alice@virt\.test> proto=ESMTP helo=<client\.example>",
            since=self.mark)

    def test_bcc_adds_a_recipient(self):
        before = self.snapshot()
        self.send("bcc@ok.example", ["alice@virt.test"],
                  b"Subject: copied\r\n\r\nx\r\n")
        [to_alice] = self.new_files(before, "alice")
        [to_carol] = self.new_files(before, "carol")
        self.assertIn(b"Subject: copied", to_alice)
        self.assertIn(b"Subject: copied", to_carol)
        self.inst.wait_for_log(
            r"NOQUEUE: bcc: RCPT from unknown\[127\.0\.0\.1\]: "
            r"<bcc@ok\.example>: Sender address triggers BCC "
            r"carol@virt\.test; from=<bcc@ok\.example>", since=self.mark)

    def test_redirect_at_end_of_data(self):
        """From smtpd_end_of_data_restrictions the recipients are in the
        queue file already: they are marked done there and the target
        added, so only the target gets the message."""
        before = self.snapshot()
        self.send("lateredirect@ok.example",
                  ["alice@virt.test", "info@alias.test"],
                  b"Subject: late redirect\r\n\r\nx\r\n")
        [got] = self.new_files(before, "carol")
        self.assertIn(b"Subject: late redirect", got)
        self.settle()
        self.assertEqual(self.files("alice"), before["alice"])
        m = self.inst.wait_for_log(
            r"smtpd\[\d+\]: (\w+): redirect: END-OF-MESSAGE from "
            r"unknown\[127\.0\.0\.1\]: <lateredirect@ok\.example>: Sender "
            r"address triggers REDIRECT carol@virt\.test; "
            r"from=<lateredirect@ok\.example> proto=ESMTP", since=self.mark)
        qid = m.group(1)
        log = self.inst.log_text()
        self.assertRegex(log, rf"{qid}: to=<carol@virt\.test>, "
                              r"orig_to=<alice@virt\.test>, .*status=sent")
        self.assertNotRegex(log, rf"{qid}: to=<alice@virt\.test>")
        self.assertNotIn("is not supported in smtpd_end_of_data", log)

    def test_bcc_at_end_of_data(self):
        before = self.snapshot()
        self.send("latebcc@ok.example", ["alice@virt.test"],
                  b"Subject: late copy\r\n\r\nx\r\n")
        [to_alice] = self.new_files(before, "alice")
        [to_carol] = self.new_files(before, "carol")
        self.assertIn(b"Subject: late copy", to_alice)
        self.assertIn(b"Subject: late copy", to_carol)
        self.inst.wait_for_log(
            r"\w+: bcc: END-OF-MESSAGE from unknown\[127\.0\.0\.1\]: "
            r"<latebcc@ok\.example>: Sender address triggers BCC "
            r"carol@virt\.test; from=<latebcc@ok\.example>", since=self.mark)
        # a target that is a recipient already gets one copy
        before = self.snapshot()
        self.send("latebcc@ok.example", ["carol@virt.test"],
                  b"Subject: once\r\n\r\nx\r\n")
        self.new_files(before, "carol")
        self.settle()
        self.assertEqual(len(self.files("carol") - before["carol"]), 1)

    def test_end_of_data_target_rewritten_as_rcpt(self):
        """Recipients added at the end of data take the one path RCPT
        recipients take: a virtual alias target is expanded (info@alias.test
        is alice@virt.test), and a recipient already there gets one copy."""
        before = self.snapshot()
        self.send("latealias@ok.example", ["carol@virt.test"],
                  b"Subject: late alias\r\n\r\nx\r\n")
        [to_alice] = self.new_files(before, "alice")
        [to_carol] = self.new_files(before, "carol")
        self.assertIn(b"Subject: late alias", to_alice)
        before = self.snapshot()
        self.send("latealias@ok.example", ["info@alias.test"],
                  b"Subject: late alias once\r\n\r\nx\r\n")
        self.new_files(before, "alice")
        self.settle()
        self.assertEqual(len(self.files("alice") - before["alice"]), 1)

    def test_bad_bcc_target_is_logged_and_ignored(self):
        before = self.snapshot()
        self.send("badbcc@ok.example", ["alice@virt.test"])
        self.new_files(before, "alice")
        self.inst.wait_for_log(
            r"warning: access table \S+ entry \"BCC postmaster\" requires "
            r"user@domain target", since=self.mark)
        self.settle(0.5)
        self.assertEqual(self.files("carol"), before["carol"])

    def test_filter_sends_the_message_to_its_transport(self):
        """FILTER transport:destination: every recipient goes to that
        transport with that next hop, whatever its own route."""
        before = self.snapshot()
        self.send("filter@ok.example", ["alice@virt.test", "carol@virt.test"])
        self.new_files(before, "alice")
        self.new_files(before, "carol")
        m = self.inst.wait_for_log(
            r"NOQUEUE: filter: RCPT from unknown\[127\.0\.0\.1\]: "
            r"<filter@ok\.example>: Sender address triggers FILTER "
            r"filt:\[127\.0\.0\.1\]:10025; from=<filter@ok\.example> "
            r"to=<alice@virt\.test>", since=self.mark)
        qid = self.inst.wait_for_log(
            r"smtpd\[\d+\]: (\w+): client=unknown\[127\.0\.0\.1\]",
            since=self.mark).group(1)
        for rcpt in ("alice", "carol"):
            self.inst.wait_for_log(
                rf"postern/filt/virtual\[\d+\]: {qid}: to=<{rcpt}@virt\.test>, "
                r".*status=sent", since=self.mark)
        self.assertNotRegex(self.inst.log_text(),
                            rf"postern/virtual\[\d+\]: {qid}: to=")

    def test_content_filter_parameter(self):
        """content_filter (here -o in master.cf, as for Postfix's
        filter set-ups) routes every message that smtpd takes; an access
        FILTER would win over it."""
        before = self.snapshot()
        with smtplib.SMTP("127.0.0.1", self.filter_port, timeout=20) as c:
            c.ehlo("client.example")
            c.sendmail("plain@ok.example", ["alice@virt.test"],
                       b"Subject: via filter\r\n\r\nx\r\n")
        [got] = self.new_files(before, "alice")
        self.assertIn(b"Subject: via filter", got)
        qid = self.inst.wait_for_log(
            r"qmgr\[\d+\]: (\w+): from=<plain@ok\.example>",
            since=self.mark).group(1)
        self.inst.wait_for_log(
            rf"postern/filt/virtual\[\d+\]: {qid}: to=<alice@virt\.test>",
            since=self.mark)

    def test_filter_to_discard_and_bad_filter(self):
        before = self.snapshot()
        self.send("filterdrop@ok.example", ["alice@virt.test"])
        self.inst.wait_for_log(
            r"to=<alice@virt\.test>, relay=none, .*status=sent "
            r"\(filtered\)", since=self.mark)
        self.settle(0.5)
        self.assertEqual(self.files("alice"), before["alice"])
        # without a colon it is no filter: logged and ignored
        self.send("badfilter@ok.example", ["alice@virt.test"])
        self.new_files(before, "alice")
        self.inst.wait_for_log(
            r"warning: access table \S+ entry \"FILTER no-colon-here\" "
            r"requires transport:destination", since=self.mark)


if __name__ == "__main__":
    unittest.main()
