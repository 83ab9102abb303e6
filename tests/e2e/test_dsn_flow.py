"""test_dsn_flow.py: DSN parameters from the front door to the bounce.

A whole instance (master, smtpd, qmgr, virtual). A client sends with
ENVID, RET=HDRS, and per recipient NOTIFY and ORCPT; two recipients fail
at delivery time (the message already carries their Delivered-To:, a
mail loop that virtual bounces), one is delivered. The
bounce reaches the sender's Maildir through virtual, with the null
sender, as an RFC 3464 report carrying Original-Envelope-Id and the
failed recipient's Original-Recipient, and only the original's header
(RET=HDRS). NOTIFY=NEVER on a failing recipient sends nothing.
"""
import email
import email.policy
import os
import smtplib
import time
import unittest

from agentlib import prog
from instance import Instance, port_refuses


def have_programs():
    return all(os.access(prog(p), os.X_OK)
               for p in ("master/master", "smtpd/smtpd", "qmgr/qmgr",
                         "virtual/virtual"))


@unittest.skipUnless(have_programs(), "master, smtpd, qmgr or virtual not built")
class DsnFlowTest(unittest.TestCase):
    def setUp(self):
        self.inst = inst = Instance(self)
        self.base = os.path.join(inst.root, "vmail")
        os.makedirs(self.base)
        if os.geteuid() == 0:
            uid, gid = inst.owner_uid, inst.owner_gid
            os.chown(self.base, uid, gid)
        else:
            uid, gid = os.getuid(), os.getgid()
        users = ", ".join(f"{u}@virt.test=virt.test/{u}/"
                          for u in ("alice", "bob", "gone", "silent"))
        inst.write_main_cf({
            "myhostname": "mx.example.test",
            "mydestination": "$myhostname, localhost",
            "smtpd_peername_lookup": "no",
            "virtual_mailbox_domains": "virt.test",
            "virtual_mailbox_base": self.base,
            "virtual_mailbox_maps": f"inline:{{ {users} }}",
            "virtual_uid_maps": f"static:{uid}",
            "virtual_gid_maps": f"static:{gid}",
            "virtual_minimum_uid": "1",
        })
        self.port = inst.free_port()
        inst.write_master_cf(
            inst.service(f"127.0.0.1:{self.port}", "inet", "smtpd")
            + inst.service("qmgr", "unix", "qmgr", private="n", wakeup=1,
                           maxproc=1)
            + inst.service("virtual", "unix", "virtual", unpriv="n"))
        inst.start()
        inst.wait_until(lambda: not port_refuses(self.port), timeout=10,
                        what="smtpd's port")

    def maildir(self, user):
        new = os.path.join(self.base, "virt.test", user, "new")
        return sorted(os.path.join(new, n) for n in os.listdir(new)) \
            if os.path.isdir(new) else []

    def test_dsn_parameters_reach_the_bounce(self):
        body = ("Delivered-To: gone@virt.test\r\n"
                "Delivered-To: silent@virt.test\r\n"
                "From: alice@virt.test\r\nTo: gone@virt.test\r\n"
                "Subject: dsn flow\r\nMessage-ID: <dsn1@virt.test>\r\n\r\n"
                "SECRET-BODY-LINE\r\n")
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10,
                          local_hostname="client.example") as s:
            s.ehlo()
            self.assertTrue(s.has_extn("dsn"))
            self.assertEqual(s.mail("alice@virt.test",
                                    ["RET=HDRS", "ENVID=env+2Dflow.1"])[0], 250)
            self.assertEqual(s.rcpt("gone@virt.test",
                                    ["NOTIFY=FAILURE,DELAY",
                                     "ORCPT=rfc822;Gone+2BOld@old.example"])[0],
                             250)
            self.assertEqual(s.rcpt("silent@virt.test", ["NOTIFY=NEVER"])[0], 250)
            self.assertEqual(s.rcpt("bob@virt.test")[0], 250)
            self.assertEqual(s.data(body)[0], 250)
        self.inst.wait_until(lambda: self.maildir("alice"), timeout=20,
                             what="the bounce in alice's Maildir\n"
                                  + self.inst.log_tail(20))
        self.inst.wait_until(lambda: self.maildir("bob"), timeout=10,
                             what="bob's copy")
        # Give a wrong second notice (for silent@) time to show up.
        time.sleep(1.0)
        files = self.maildir("alice")
        self.assertEqual(len(files), 1, self.inst.log_tail(20))
        with open(files[0], "rb") as f:
            raw = f.read()
        self.assertIn(b"Return-Path: <>\n", raw)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        self.assertEqual(msg.get_content_type(), "multipart/report")
        self.assertEqual(msg.get_param("report-type"), "delivery-status")
        parts = list(msg.iter_parts())
        self.assertEqual(parts[1].get_content_type(), "message/delivery-status")
        blocks = parts[1].get_payload()
        fields = {}
        for block in blocks:
            for k, v in block.items():
                fields.setdefault(k.lower(), []).append(str(v))
        # xtext as sent or decoded: both are seen in the wild
        self.assertIn(fields["original-envelope-id"],
                      (["env-flow.1"], ["env+2Dflow.1"]))
        self.assertEqual(fields["final-recipient"], ["rfc822; gone@virt.test"])
        self.assertEqual(len(fields["original-recipient"]), 1)
        self.assertRegex(fields["original-recipient"][0],
                         r"^rfc822; ?Gone(\+2B|\+)Old@old\.example$")
        self.assertEqual(fields["action"], ["failed"])
        self.assertEqual(fields["status"], ["5.4.6"])
        # RET=HDRS: the header of the original, not its body.
        self.assertEqual(parts[2].get_content_type(), "text/rfc822-headers")
        self.assertIn(b"Message-ID: <dsn1@virt.test>", raw)
        self.assertNotIn(b"SECRET-BODY-LINE", raw)
