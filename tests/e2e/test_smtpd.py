"""End-to-end tests of smtpd: the protocol, relay control, restrictions
and what lands in the queue. One instance serves the whole class (see
smtpd_util.py for its domains); each test uses its own addresses and
looks only at log lines after its own mark."""
import os
import smtplib
import unittest

from smtpd_util import SmtpdInstance, wait

ACCESS = {
    "sender_access": "blocked@bad.example REJECT go away\n"
                     "deferred@bad.example DEFER try later\n"
                     "coded@bad.example 550 5.7.9 custom text\n"
                     "hold@ok.example HOLD\n"
                     "discard@ok.example DISCARD\n"
                     "bogus@bad.example 299 not a reject code\n",
    "rcpt_access": "nope@example.test REJECT\n"
                   "full@example.test 452 4.2.2 mailbox full\n",
    "helo_access": "badhelo.example REJECT\n",
    "client_access": "127.0.0.2 REJECT\n",
}


class SmtpdTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = SmtpdInstance(files=ACCESS, main_cf={
            "smtpd_client_restrictions": "check_client_access texthash:${config_directory}/client_access",
            "smtpd_helo_restrictions": "reject_invalid_helo_hostname, check_helo_access texthash:${config_directory}/helo_access",
            "smtpd_sender_restrictions": "check_sender_access texthash:${config_directory}/sender_access, reject_non_fqdn_sender",
            "smtpd_recipient_restrictions": "check_recipient_access texthash:${config_directory}/rcpt_access, reject_non_fqdn_recipient",
            "message_size_limit": "200000",
        })

    @classmethod
    def tearDownClass(cls):
        if cls.inst:
            cls.inst.cleanup()

    def setUp(self):
        self.mark = self.inst.log_mark()

    def smtp(self, helo="client.example"):
        s = smtplib.SMTP("127.0.0.1", self.inst.port, timeout=10)
        self.addCleanup(s.close)
        s.ehlo(helo)
        return s

    def queued_id(self, reply):
        text = reply[1].decode()
        self.assertRegex(text, r"^2\.0\.0 Ok: queued as [0-9A-Za-z]+$")
        return text.rsplit(" ", 1)[1]

    def send(self, sender, rcpts, body=b"Subject: t\r\n\r\nhello\r\n",
             **kw):
        s = self.smtp()
        self.assertEqual(s.mail(sender, **kw)[0], 250)
        for r in rcpts:
            self.assertEqual(s.rcpt(r)[0], 250, r)
        reply = s.data(body)
        self.assertEqual(reply[0], 250, reply)
        s.quit()
        return self.queued_id(reply)

    # ---- protocol ----

    def test_greeting_ehlo_and_extensions(self):
        with self.inst.raw() as c:
            self.assertEqual(c.greeting[0], 220)
            self.assertEqual(c.greeting[1][0], "mx.example.test ESMTP Postern")
            code, lines = c.cmd("EHLO client.example")
            self.assertEqual(code, 250)
            self.assertEqual(lines[0], "mx.example.test")
            for ext in ("PIPELINING", "SIZE 200000", "8BITMIME", "SMTPUTF8",
                        "ENHANCEDSTATUSCODES", "DSN", "CHUNKING"):
                self.assertIn(ext, lines)
            self.assertEqual(c.cmd("HELO client.example"),
                             (250, ["mx.example.test"]))
            self.assertEqual(c.cmd("NOOP"), (250, ["2.0.0 Ok"]))
            self.assertEqual(c.cmd("RSET"), (250, ["2.0.0 Ok"]))
            code, lines = c.cmd("VRFY bob")
            self.assertEqual(code, 252)
            self.assertTrue(lines[0].startswith("2.0.0"))
            self.assertEqual(c.cmd("HELP")[0], 214)
            self.assertEqual(c.cmd("XYZZY"),
                             (502, ["5.5.2 Error: command not recognized"]))
            self.assertEqual(c.cmd("QUIT"), (221, ["2.0.0 Bye"]))
            self.assertTrue(c.closed())
        self.inst.wait_for_log(
            r"disconnect from unknown\[127\.0\.0\.1\] helo=1 ehlo=1 rset=1 "
            r"noop=1 vrfy=1 help=1 quit=1 unknown=0/1 commands=7/8",
            since=self.mark)

    def test_sequence_errors(self):
        with self.inst.raw() as c:
            c.cmd("EHLO client.example")
            self.assertEqual(c.cmd("RCPT TO:<bob@example.test>"),
                             (503, ["5.5.1 Error: need MAIL command"]))
            self.assertEqual(c.cmd("DATA"),
                             (503, ["5.5.1 Error: need MAIL command"]))
            self.assertEqual(c.cmd("MAIL FROM:<a@b.example>")[0], 250)
            self.assertEqual(c.cmd("MAIL FROM:<a@b.example>"),
                             (503, ["5.5.1 Error: nested MAIL command"]))
            self.assertEqual(c.cmd("DATA"),
                             (554, ["5.5.1 Error: no valid recipients"]))
            self.assertEqual(c.cmd("MAIL FROM:<a@b.example> SIZE=x")[0], 501)
            self.assertEqual(c.cmd("DATA extra"),
                             (501, ["5.5.4 Syntax: DATA"]))

    def test_message_queued_with_received_and_logs(self):
        qid = self.send("sender@b.example", ["bob@example.test"],
                        b"Message-ID: <m1@b.example>\r\nSubject: hi\r\n\r\n"
                        b"line one\r\n.dotted\r\n")
        self.assertIn(qid, self.inst.incoming())
        q = self.inst.qfile(qid)
        self.assertEqual(q["sender"], "sender@b.example")
        self.assertEqual([r["address"] for r in q["recipients"]],
                         ["bob@example.test"])
        content = q["content"]
        self.assertRegex(content.split("\n")[0],
                         r"^Received: from client\.example \(unknown "
                         r"\[127\.0\.0\.1\]\)$")
        self.assertIn(f"\tby mx.example.test (Postern) with ESMTP id {qid}\n"
                      "\tfor <bob@example.test>; ", content)
        self.assertTrue(content.endswith(
            "Subject: hi\n\nline one\n.dotted\n"), content)
        self.assertNotIn("\r", content)
        self.assertEqual(q["attrs"]["client_address"], "127.0.0.1")
        self.assertEqual(q["attrs"]["helo_name"], "client.example")
        self.inst.wait_for_log(rf"smtpd\[\d+\]: {qid}: client=unknown\[127\.0\.0\.1\]",
                               since=self.mark)
        self.inst.wait_for_log(rf"{qid}: message-id=<m1@b\.example>",
                               since=self.mark)

    def test_null_sender(self):
        qid = self.send("<>", ["postmaster@example.test"])
        self.assertEqual(self.inst.qfile(qid)["sender"], "")

    def test_non_fqdn_recipient(self):
        # reject_non_fqdn_recipient looks at the address as given.
        code, lines = self.rcpt_reply("postmaster")
        self.assertEqual((code, lines[0]),
                         (504, "5.5.2 <postmaster>: Recipient address "
                               "rejected: need fully-qualified address"))

    def test_virtual_alias_expanded_in_queue_file(self):
        qid = self.send("a@b.example", ["info@alias.test"])
        q = self.inst.qfile(qid)
        self.assertEqual(q["recipients"][0]["address"], "alice@virt.test")
        self.assertEqual(q["recipients"][0]["original"], "info@alias.test")

    def test_dsn_parameters_stored(self):
        with self.inst.raw() as c:
            c.cmd("EHLO client.example")
            self.assertEqual(
                c.cmd("MAIL FROM:<a@b.example> RET=HDRS ENVID=env+2B1 "
                      "BODY=8BITMIME SMTPUTF8")[0], 250)
            self.assertEqual(
                c.cmd("RCPT TO:<bob@example.test> NOTIFY=SUCCESS,DELAY "
                      "ORCPT=rfc822;bob+2Bx@example.test")[0], 250)
            self.assertEqual(c.cmd("RCPT TO:<carol@virt.test> NOTIFY=NEVER")[0],
                             250)
            self.assertEqual(c.cmd("DATA")[0], 354)
            c.send(b"Subject: dsn\r\n\r\n\xc3\xa9t\xc3\xa9\r\n.\r\n")
            code, lines = c.reply()
            self.assertEqual(code, 250)
            qid = lines[0].rsplit(" ", 1)[1]
        q = self.inst.qfile(qid)
        self.assertEqual(q["ret"], "H")
        self.assertEqual(q["envid"], "env+1")
        self.assertEqual(q["encoding"], 3)  # 8BITMIME | SMTPUTF8
        bob, carol = q["recipients"]
        self.assertEqual(bob["notify"], 2 | 8)
        self.assertEqual(bob["orcpt"], "rfc822;bob+x@example.test")
        self.assertEqual(carol["notify"], 1)
        self.assertEqual(carol["orcpt"], "")

    def test_pipelining(self):
        with self.inst.raw() as c:
            self.assertEqual(c.cmd("EHLO client.example")[0], 250)
            c.send(b"MAIL FROM:<a@b.example>\r\n"
                   b"RCPT TO:<bob@example.test>\r\nRCPT TO:<x@far.example>\r\n"
                   b"RCPT TO:<carol@virt.test>\r\nDATA\r\n")
            self.assertEqual(c.reply()[0], 250)
            self.assertEqual(c.reply()[0], 250)
            self.assertEqual(c.reply()[0], 454)
            self.assertEqual(c.reply()[0], 250)
            self.assertEqual(c.reply()[0], 354)
            # The end of data, a second transaction and QUIT in one write.
            c.send(b"Subject: p\r\n\r\nbody\r\n.\r\nMAIL FROM:<>\r\n"
                   b"RCPT TO:<bob@example.test>\r\nDATA\r\n")
            code, lines = c.reply()
            self.assertEqual(code, 250)
            first = lines[0].rsplit(" ", 1)[1]
            self.assertEqual(c.reply()[0], 250)
            self.assertEqual(c.reply()[0], 250)
            self.assertEqual(c.reply()[0], 354)
            c.send(b"Subject: q\r\n\r\nbody2\r\n.\r\nQUIT\r\n")
            code, lines = c.reply()
            self.assertEqual(code, 250)
            second = lines[0].rsplit(" ", 1)[1]
            self.assertEqual(c.reply()[0], 221)
        self.assertEqual(len(self.inst.qfile(first)["recipients"]), 2)
        self.assertIn("body2", self.inst.qfile(second)["content"])

    def test_unauthorised_pipelining_disconnects(self):
        # Commands after EHLO before its reply, after HELO, and message
        # content sent with DATA before the 354.
        for script in (b"EHLO client.example\r\nMAIL FROM:<a@b.example>\r\n",
                       b"HELO client.example\r\nNOOP\r\n",
                       b"NOOP\r\nNOOP\r\n"):
            with self.inst.raw() as c:
                c.send(script)
                self.assertEqual(
                    c.reply(),
                    (554, ["5.5.0 Error: SMTP protocol synchronization"]))
                self.assertTrue(c.closed())
        before = set(self.inst.incoming())
        with self.inst.raw() as c:
            c.cmd("EHLO client.example")
            c.cmd("MAIL FROM:<a@b.example>")
            c.cmd("RCPT TO:<bob@example.test>")
            c.send(b"DATA\r\nSubject: early\r\n\r\nx\r\n.\r\n")
            self.assertEqual(c.reply()[0], 554)
            self.assertTrue(c.closed())
        self.assertEqual(set(self.inst.incoming()), before)
        self.inst.wait_for_log(
            r"improper command pipelining after DATA from "
            r"unknown\[127\.0\.0\.1\]: Subject: early\\r\\n",
            since=self.mark)

    def test_bdat(self):
        with self.inst.raw() as c:
            c.cmd("EHLO client.example")
            c.cmd("MAIL FROM:<a@b.example>")
            c.cmd("RCPT TO:<bob@example.test>")
            part1 = b"Subject: chunks\r\n\r\nfirst line\r"
            part2 = b"\n.\r\nnot the end\r\n"
            c.send(b"BDAT %d\r\n" % len(part1) + part1)
            self.assertEqual(c.reply(), (250, [f"2.0.0 Ok: {len(part1)} bytes"]))
            self.assertEqual(c.cmd("DATA"),
                             (503, ["5.5.1 Error: DATA after BDAT"]))
            c.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
            code, lines = c.reply()
            self.assertEqual(code, 250)
            qid = lines[0].rsplit(" ", 1)[1]
            self.assertEqual(c.cmd("NOOP")[0], 250)
        content = self.inst.qfile(qid)["content"]
        self.assertTrue(content.endswith(
            "Subject: chunks\n\nfirst line\n.\nnot the end\n"), content)

    def test_bdat_without_transaction_skips_chunk(self):
        with self.inst.raw() as c:
            c.cmd("EHLO client.example")
            # The chunk's bytes must be read as data, never as commands.
            c.send(b"BDAT 12\r\nQUIT\r\nQUIT\r\n")
            self.assertEqual(c.reply()[0], 503)
            self.assertEqual(c.cmd("NOOP"), (250, ["2.0.0 Ok"]))

    def test_size_limit_declared_and_actual(self):
        s = self.smtp()
        code, text = s.docmd("MAIL FROM:<a@b.example> SIZE=300000")
        self.assertEqual((code, text),
                         (552, b"5.3.4 Message size exceeds fixed limit"))
        before = len(self.inst.incoming())
        s.rset()
        self.assertEqual(s.mail("a@b.example")[0], 250)
        self.assertEqual(s.rcpt("bob@example.test")[0], 250)
        big = b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 250
        self.assertEqual(s.data(big),
                         (552, b"5.3.4 Message size exceeds fixed limit"))
        self.assertEqual(len(self.inst.incoming()), before)
        self.assertEqual(s.noop()[0], 250)
        s.quit()
        self.inst.wait_for_log(
            r"disconnect from unknown\[127\.0\.0\.1\] ehlo=1 mail=1/2 rcpt=1 "
            r"data=0/1 rset=1 noop=1 quit=1 commands=6/8", since=self.mark)

    # ---- relay control ----

    def rcpt_reply(self, rcpt, source="127.0.0.1", sender="a@b.example"):
        with self.inst.raw(source) as c:
            c.cmd("EHLO client.example")
            self.assertEqual(c.cmd(f"MAIL FROM:<{sender}>")[0], 250)
            return c.cmd(f"RCPT TO:<{rcpt}>")

    def test_relay_denied_for_untrusted_client(self):
        code, lines = self.rcpt_reply("victim@far.example")
        self.assertEqual((code, lines),
                         (454, ["4.7.1 <victim@far.example>: Relay access denied"]))
        self.inst.wait_for_log(
            r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: 454 4\.7\.1 "
            r"<victim@far\.example>: Relay access denied; from=<a@b\.example> "
            r"to=<victim@far\.example> proto=ESMTP helo=<client\.example>",
            since=self.mark)

    def test_every_relay_trick_refused(self):
        # (as sent, as quoted in the reply: internal form, route dropped)
        for trick, shown in (
                ("user%far.example@example.test", None),
                ('"user@far.example"@example.test',
                 "user@far.example@example.test"),
                ("user@far.example@example.test", None),
                ("@example.test:user@far.example", "user@far.example"),
                ("@example.test,@relay.test:user@far.example",
                 "user@far.example"),
                ("far.example!user@example.test", None),
                ("user%far.example@virt.test", None),
                ("user%far.example@relay.test", None),
                ("user@far.example@relay.test", None)):
            code, lines = self.rcpt_reply(trick)
            self.assertEqual(
                (code, lines),
                (454, [f"4.7.1 <{shown or trick}>: Relay access denied"]),
                trick)
        # A trusted client may relay anywhere, tricks included (its mail
        # is the administrator's).
        self.assertEqual(self.rcpt_reply("user%far.example@example.test",
                                         source="127.0.0.3")[0], 250)

    def test_relay_domains_and_trusted_client(self):
        self.assertEqual(self.rcpt_reply("anyone@relay.test")[0], 250)
        self.assertEqual(self.rcpt_reply("victim@far.example",
                                         source="127.0.0.3")[0], 250)

    # ---- recipient validation ----

    def test_unknown_users_550(self):
        for rcpt, table in (("nobody@example.test", "local recipient table"),
                            ("nobody@virt.test", "virtual mailbox table"),
                            ("nobody@alias.test", "virtual alias table")):
            code, lines = self.rcpt_reply(rcpt)
            self.assertEqual(code, 550, rcpt)
            self.assertEqual(lines[0], f"5.1.1 <{rcpt}>: Recipient address "
                                       f"rejected: User unknown in {table}")
        for rcpt in ("bob@example.test", "alice@virt.test",
                     "info@alias.test", "team@example.test"):
            self.assertEqual(self.rcpt_reply(rcpt)[0], 250, rcpt)

    # ---- restrictions and access maps ----

    def test_sender_access_actions(self):
        cases = {
            "blocked@bad.example": (554, "5.7.1 <blocked@bad.example>: Sender "
                                         "address rejected: go away"),
            "deferred@bad.example": (450, "4.7.1 <deferred@bad.example>: "
                                          "Sender address rejected: try later"),
            "coded@bad.example": (550, "5.7.9 <coded@bad.example>: Sender "
                                       "address rejected: custom text"),
            "bogus@bad.example": (451, "4.3.5 Server configuration error"),
        }
        for sender, expected in cases.items():
            code, lines = self.rcpt_reply("bob@example.test", sender=sender)
            self.assertEqual((code, lines[0]), expected, sender)

    def test_recipient_access_and_non_fqdn(self):
        code, lines = self.rcpt_reply("nope@example.test")
        self.assertEqual((code, lines[0]),
                         (554, "5.7.1 <nope@example.test>: Recipient address "
                               "rejected: Access denied"))
        code, lines = self.rcpt_reply("full@example.test")
        self.assertEqual((code, lines[0]),
                         (452, "4.2.2 <full@example.test>: Recipient address "
                               "rejected: mailbox full"))
        code, lines = self.rcpt_reply("bob@example.test", sender="user@host")
        self.assertEqual((code, lines[0]),
                         (504, "5.5.2 <user@host>: Sender address rejected: "
                               "need fully-qualified address"))

    def test_helo_and_client_access(self):
        with self.inst.raw() as c:
            c.cmd("HELO badhelo.example")
            c.cmd("MAIL FROM:<a@b.example>")
            self.assertEqual(c.cmd("RCPT TO:<bob@example.test>"),
                             (554, ["5.7.1 <badhelo.example>: Helo command "
                                    "rejected: Access denied"]))
        with self.inst.raw() as c:
            c.cmd("HELO bad_name!")
            c.cmd("MAIL FROM:<a@b.example>")
            code, lines = c.cmd("RCPT TO:<bob@example.test>")
            self.assertEqual(code, 501)
            self.assertIn("Helo command rejected: Invalid name", lines[0])
        code, lines = self.rcpt_reply("bob@example.test", source="127.0.0.2")
        self.assertEqual((code, lines[0]),
                         (554, "5.7.1 <unknown[127.0.0.2]>: Client host "
                               "rejected: Access denied"))

    def test_hold_action_puts_message_in_hold(self):
        before = set(self.inst.incoming())
        s = self.smtp()
        s.mail("hold@ok.example")
        s.rcpt("bob@example.test")
        qid = self.queued_id(s.data(b"Subject: held\r\n\r\nx\r\n"))
        self.assertIn(qid, self.inst.incoming("hold"))
        self.assertEqual(set(self.inst.incoming()), before)
        self.assertEqual(self.inst.qfile(qid, "hold")["sender"],
                         "hold@ok.example")

    def test_discard_action_accepts_and_drops(self):
        before = (set(self.inst.incoming()), set(self.inst.incoming("hold")))
        s = self.smtp()
        s.mail("discard@ok.example")
        s.rcpt("bob@example.test")
        qid = self.queued_id(s.data(b"Subject: gone\r\n\r\nx\r\n"))
        self.assertEqual((set(self.inst.incoming()),
                          set(self.inst.incoming("hold"))), before)
        self.inst.wait_for_log(rf"{qid}: discard: ", since=self.mark)
        # No temporary file is left behind either.
        self.assertEqual([n for n in os.listdir(os.path.join(
            self.inst.queue, "incoming")) if n.startswith(".")], [])


if __name__ == "__main__":
    unittest.main()
