"""test_smtp_8bitmime.py: the 8BITMIME down-conversion of the smtp client,
end to end. A Postern instance (smtpd, qmgr, smtp) takes mail over SMTP
from Python's smtplib and relays it to fake_mx.py, configured without
8BITMIME. Covered: a message sent with BODY=8BITMIME arrives in
quoted-printable with correct MIME headers (and decodes to the original
text), without BODY= or SIZE=; a 7-bit message arrives untouched (SIZE=
kept); 8-bit content sent without BODY=8BITMIME is converted too; a
message only declared 8-bit (Content-Transfer-Encoding: 8bit, ASCII
text) is relabelled the way Postfix does; with
disable_mime_output_conversion = yes the 8-bit message goes as it is;
a server that offers 8BITMIME gets the message as it is with
BODY=8BITMIME."""
import email
import email.policy
import os
import re
import smtplib
import unittest

from agentlib import prog
from fake_mx import Behaviour, FakeMX
from instance import Instance, port_refuses

EIGHT_BIT = ("From: alice@a.test\r\nTo: bob@b.test\r\nSubject: 8-bit test\r\n"
             "Message-ID: <8bit1@a.test>\r\nDate: Mon, 07 Dec 2026 12:00:00 +0000\r\n"
             "MIME-Version: 1.0\r\n"
             "Content-Type: text/plain; charset=utf-8\r\n"
             "Content-Transfer-Encoding: 8bit\r\n\r\n"
             "Caf\u00e9 cr\u00e8me, na\u00efve r\u00e9sum\u00e9.\r\n"
             "A line with = sign and trailing space \r\n"
             ".a leading dot\r\n").encode()

SEVEN_BIT = (b"From: alice@a.test\r\nTo: bob@b.test\r\nSubject: 7-bit test\r\n"
             b"Message-ID: <7bit1@a.test>\r\nDate: Mon, 07 Dec 2026 12:00:00 +0000\r\n"
             b"\r\nPlain ASCII = text, left alone.\r\n"
             b".a leading dot\r\n")

# No MIME headers at all: an undeclared 8-bit body.
UNDECLARED = ("From: alice@a.test\r\nTo: bob@b.test\r\nSubject: undeclared\r\n"
              "Message-ID: <undecl1@a.test>\r\nDate: Mon, 07 Dec 2026 12:00:00 +0000\r\n"
              "\r\nStra\u00dfe\r\n").encode()

# Declared 8-bit, but the text is ASCII.
DECLARED_ONLY = (b"From: alice@a.test\r\nTo: bob@b.test\r\nSubject: declared\r\n"
                 b"Message-ID: <decl1@a.test>\r\nDate: Mon, 07 Dec 2026 12:00:00 +0000\r\n"
                 b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
                 b"Content-Transfer-Encoding: 8bit\r\n\r\n"
                 b"Only ASCII here.\r\n")


def have_programs():
    return all(os.access(prog(p), os.X_OK)
               for p in ("master/master", "smtpd/smtpd", "qmgr/qmgr",
                         "smtp/smtp"))


def body_of(data):
    return data.split(b"\r\n\r\n", 1)[1]


def header_of(data):
    return data.split(b"\r\n\r\n", 1)[0]


@unittest.skipUnless(have_programs(), "master, smtpd, qmgr or smtp not built")
class Smtp8bitmimeTest(unittest.TestCase):
    def start(self, eightbitmime=False, **params):
        self.mx = FakeMX(Behaviour(eightbitmime=eightbitmime,
                                   size_limit=10 * 1024 * 1024)).start()
        self.addCleanup(self.mx.stop)
        self.inst = Instance(self)
        self.port = self.inst.free_port()
        main = {
            "myhostname": "mx.a.test",
            "mydestination": "$myhostname, localhost",
            "mynetworks": "127.0.0.0/8",
            "smtpd_peername_lookup": "no",
            "relayhost": f"[127.0.0.1]:{self.mx.port}",
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
        }
        main.update(params)
        self.inst.write_main_cf(main)
        self.inst.write_master_cf(
            self.inst.service(f"127.0.0.1:{self.port}", "inet", "smtpd")
            + self.inst.service("qmgr", "unix", "qmgr", private="n", wakeup=1,
                                maxproc=1)
            + self.inst.service("smtp", "unix", "smtp"))
        self.inst.start()
        self.inst.wait_until(lambda: not port_refuses(self.port), timeout=10,
                             what="smtpd")

    def relay(self, message, mail_options=()):
        """Sends message into the instance; returns the transaction the
        fake MX saw."""
        with smtplib.SMTP("127.0.0.1", self.port, timeout=20) as client:
            client.ehlo("client.test")
            client.sendmail("alice@a.test", ["bob@b.test"], message,
                            mail_options=list(mail_options))
        try:
            (txn,) = self.mx.wait_transactions(1, timeout=30)
        except Exception:
            self.fail("nothing relayed; log:\n" + self.inst.log_tail(30))
        self.inst.wait_for_log(r"postern/smtp\[\d+\]: \w+: to=<bob@b\.test>, "
                               r".*status=sent \(250 ", timeout=20)
        return txn

    def assert_7bit(self, data):
        self.assertTrue(all(b < 0x80 for b in data), data)
        for line in data.split(b"\r\n"):
            self.assertLessEqual(len(line), 998)

    def test_8bit_message_arrives_quoted_printable(self):
        self.start()
        txn = self.relay(EIGHT_BIT, ["BODY=8BITMIME"])
        self.assertNotIn("BODY", txn.mail_params)
        self.assertNotIn("SIZE", txn.mail_params)  # as Postfix when converting
        self.assert_7bit(txn.data)
        head = header_of(txn.data)
        self.assertIn(b"\r\nContent-Transfer-Encoding: quoted-printable\r\n",
                      head + b"\r\n")
        self.assertNotIn(b"Encoding: 8bit", head)
        self.assertEqual(head.count(b"MIME-Version:"), 1)
        self.assertEqual(body_of(txn.data),
                         b"Caf=C3=A9 cr=C3=A8me, na=C3=AFve r=C3=A9sum=C3=A9.\r\n"
                         b"A line with =3D sign and trailing space=20\r\n"
                         b".a leading dot\r\n")
        msg = email.message_from_bytes(txn.data, policy=email.policy.default)
        self.assertEqual(msg.get_content_type(), "text/plain")
        self.assertEqual(msg.get_content().replace("\r\n", "\n"),
                         "Caf\u00e9 cr\u00e8me, na\u00efve r\u00e9sum\u00e9.\n"
                         "A line with = sign and trailing space \n"
                         ".a leading dot\n")
        # Nothing special in the log when the conversion works.
        smtp_lines = [line for line in self.inst.log_text().splitlines()
                      if "postern/smtp[" in line]
        self.assertEqual(len(smtp_lines), 1, smtp_lines)

    def test_7bit_message_untouched(self):
        self.start()
        txn = self.relay(SEVEN_BIT)
        self.assertIn("SIZE", txn.mail_params)
        self.assertNotIn("BODY", txn.mail_params)
        # Only the instance's own Received: field comes before it.
        self.assertTrue(txn.data.endswith(SEVEN_BIT), txn.data)
        self.assertTrue(txn.data.startswith(b"Received: "), txn.data)

    def test_undeclared_8bit_converted(self):
        self.start()
        txn = self.relay(UNDECLARED)
        self.assert_7bit(txn.data)
        head = header_of(txn.data)
        self.assertIn(b"\r\nContent-Transfer-Encoding: quoted-printable", head)
        self.assertIn(b"\r\nMIME-Version: 1.0", head)
        self.assertEqual(body_of(txn.data), b"Stra=C3=9Fe\r\n")

    def test_declared_only_8bit_relabelled(self):
        # Postfix converts by the declaration: a part labelled 8bit gets
        # the quoted-printable label, its ASCII text stays as it is.
        self.start()
        txn = self.relay(DECLARED_ONLY, ["BODY=8BITMIME"])
        self.assertNotIn("SIZE", txn.mail_params)
        head = header_of(txn.data)
        self.assertIn(b"\r\nContent-Transfer-Encoding: quoted-printable", head)
        self.assertNotIn(b"Encoding: 8bit", head)
        self.assertEqual(body_of(txn.data), b"Only ASCII here.\r\n")

    def test_conversion_disabled_sends_raw(self):
        self.start(disable_mime_output_conversion="yes")
        txn = self.relay(EIGHT_BIT, ["BODY=8BITMIME"])
        self.assertNotIn("BODY", txn.mail_params)  # the server lacks 8BITMIME
        self.assertIn("SIZE", txn.mail_params)
        self.assertTrue(txn.data.endswith(EIGHT_BIT), txn.data)

    def test_server_with_8bitmime_gets_it_as_is(self):
        self.start(eightbitmime=True)
        txn = self.relay(EIGHT_BIT, ["BODY=8BITMIME"])
        self.assertEqual(txn.mail_params.get("BODY"), "8BITMIME")
        self.assertTrue(txn.data.endswith(EIGHT_BIT), txn.data)


if __name__ == "__main__":
    unittest.main()
