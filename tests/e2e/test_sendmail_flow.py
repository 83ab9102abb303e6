"""test_sendmail_flow.py: local submission through a whole instance
(master, smtpd's submit service, qmgr, local, virtual), as a new user
meets it.

- An unknown local or virtual recipient given to sendmail is queued
  (exit 0) and the sender gets a bounce DSN, as with Postfix, instead of
  an exit status a cron job's owner never reads.
- A submission is logged as Postfix's pickup logs it
  (`postern/pickup[PID]: QUEUEID: uid=UID from=<sender>`), so pflogsumm
  counts it as received.
"""
import email
import email.policy
import os
import shutil
import subprocess
import unittest

from agentlib import prog
from instance import Instance


def have_programs():
    return all(os.access(prog(p), os.X_OK)
               for p in ("master/master", "smtpd/smtpd", "qmgr/qmgr",
                         "local/local", "virtual/virtual", "tools/sendmail"))


def full_master_cf(inst):
    return (inst.service("submit", "unix", "smtpd", private="n")
            + "  -o smtpd_local_submission=yes\n"
            + inst.service("qmgr", "unix", "qmgr", private="n", wakeup=1,
                           maxproc=1)
            + inst.service("local", "unix", "local", unpriv="n")
            + inst.service("virtual", "unix", "virtual", unpriv="n"))


def virtual_main_cf(inst, base):
    if os.geteuid() == 0:
        uid, gid = inst.owner_uid, inst.owner_gid
        os.chown(base, uid, gid)
    else:
        uid, gid = os.getuid(), os.getgid()
    return {
        "myhostname": "mx.example.test",
        "mydestination": "$myhostname, localhost",
        "alias_maps": "",
        "alias_database": "",
        "virtual_mailbox_domains": "virt.test",
        "virtual_mailbox_base": base,
        "virtual_mailbox_maps": "inline:{ alice@virt.test=virt.test/alice/ }",
        "virtual_uid_maps": f"static:{uid}",
        "virtual_gid_maps": f"static:{gid}",
        "virtual_minimum_uid": "1",
    }


def maildir_messages(base, user):
    new = os.path.join(base, "virt.test", user, "new")
    if not os.path.isdir(new):
        return []
    out = []
    for name in sorted(os.listdir(new)):
        with open(os.path.join(new, name), "rb") as f:
            out.append(email.message_from_bytes(f.read(),
                                                policy=email.policy.default))
    return out


@unittest.skipUnless(have_programs(), "the daemons or sendmail are not built")
class SendmailFlowTest(unittest.TestCase):
    def setUp(self):
        self.inst = inst = Instance(self)
        self.base = os.path.join(inst.root, "vmail")
        os.makedirs(self.base)
        inst.write_main_cf(virtual_main_cf(inst, self.base))
        inst.write_master_cf(full_master_cf(inst))
        inst.start()
        inst.wait_until(
            lambda: os.path.exists(os.path.join(inst.queue, "public", "submit")),
            what="the submit socket")

    def sendmail(self, *args, message=b"Subject: t\n\nhello\n"):
        return subprocess.run([prog("tools", "sendmail"), "-C", self.inst.etc,
                               *args], input=message, capture_output=True,
                              timeout=30)

    def wait_for_bounce(self, count):
        self.inst.wait_until(
            lambda: len(maildir_messages(self.base, "alice")) >= count,
            timeout=20, what=f"{count} bounce(s) in alice's Maildir")
        return maildir_messages(self.base, "alice")

    def assert_bounce_for(self, msg, recipient):
        self.assertEqual(msg.get_content_type(), "multipart/report", msg)
        self.assertEqual(msg["Return-Path"], "<>")
        report = msg.as_string()
        self.assertIn(f"Final-Recipient: rfc822; {recipient}", report)
        self.assertIn("Action: failed", report)

    def test_unknown_local_recipient_is_bounced_not_refused(self):
        proc = self.sendmail("-f", "alice@virt.test",
                             "nosuchuser-pt@mx.example.test")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        [bounce] = self.wait_for_bounce(1)
        self.assert_bounce_for(bounce, "nosuchuser-pt@mx.example.test")

    def test_unknown_virtual_recipient_is_bounced_not_refused(self):
        proc = self.sendmail("-f", "alice@virt.test", "nobody@virt.test")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        [bounce] = self.wait_for_bounce(1)
        self.assert_bounce_for(bounce, "nobody@virt.test")

    def test_submission_logged_as_pickup_and_counted_by_pflogsumm(self):
        mark = self.inst.log_mark()
        for _ in range(2):
            proc = self.sendmail("-f", "alice@virt.test", "alice@virt.test")
            self.assertEqual(proc.returncode, 0, proc.stderr)
        uid = os.getuid()
        self.inst.wait_for_log(
            rf"postern/pickup\[\d+\]: \w+: uid={uid} from=<alice@virt\.test>",
            since=mark, count=2)
        self.wait_for_bounce(2)  # two deliveries, not bounces: just wait
        pflogsumm = shutil.which("pflogsumm")
        if pflogsumm is None:
            self.skipTest("pflogsumm is not installed (scripts/install-deps "
                          "--test)")
        out = subprocess.run([pflogsumm, "--syslog-name=postern",
                              self.inst.maillog], capture_output=True,
                             text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"\n\s*2\s+received\n", out.stdout)
        self.assertRegex(out.stdout, r"\n\s*2\s+delivered\n", out.stdout)


if __name__ == "__main__":
    unittest.main()
