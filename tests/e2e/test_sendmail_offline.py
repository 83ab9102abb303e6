"""test_sendmail_offline.py: sendmail while the mail system is not
running, as Postfix's works: the message goes into maildrop/ through
postdrop (set-gid setgid_group when installed by root), and pickup
submits it when the system starts, as the user who sent it.

Each test stops a started instance (so its queue tree exists), runs
sendmail, checks what it left in maildrop/, starts the instance again,
and waits for the message in a virtual Maildir.
"""
import grp
import os
import shutil
import stat
import subprocess
import unittest

from agentlib import prog
from instance import Instance, is_root
from test_sendmail_flow import full_master_cf, maildir_messages, virtual_main_cf

NOBODY = 65534


def have_programs():
    return all(os.access(prog(p), os.X_OK)
               for p in ("master/master", "smtpd/smtpd", "qmgr/qmgr",
                         "virtual/virtual", "pickup/pickup", "tools/sendmail",
                         "tools/postdrop"))


def ensure_group(name):
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        pass
    groupadd = shutil.which("groupadd") or "/usr/sbin/groupadd"
    subprocess.run([groupadd, "--system", name], capture_output=True)
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        raise unittest.SkipTest(f"cannot create group {name}") from None


@unittest.skipUnless(have_programs(), "daemons, sendmail or postdrop not built")
class SendmailOfflineTest(unittest.TestCase):
    def setUp(self):
        if is_root():
            self.postdrop_gid = ensure_group("postdrop")
        self.inst = inst = Instance(self)
        self.base = os.path.join(inst.root, "vmail")
        os.makedirs(self.base)
        settings = virtual_main_cf(inst, self.base)
        # postdrop and sendmail as installed: copies in a directory every
        # user can reach, postdrop set-gid postdrop when we are root.
        self.bin = os.path.join(inst.root, "bin")
        os.makedirs(self.bin)
        os.chmod(self.bin, 0o755)
        for tool in ("sendmail", "postdrop"):
            shutil.copy(prog("tools", tool), self.bin)
        if is_root():
            postdrop = os.path.join(self.bin, "postdrop")
            os.chown(postdrop, 0, self.postdrop_gid)
            os.chmod(postdrop, 0o2755)
        settings["command_directory"] = self.bin
        inst.write_main_cf(settings)
        inst.write_master_cf(
            full_master_cf(inst)
            + inst.service("pickup", "unix", "pickup", private="n",
                           unpriv="n", wakeup=60, maxproc=1))
        inst.start()
        inst.stop()
        self.maildrop = os.path.join(inst.queue, "maildrop")

    def sendmail(self, *args, preexec=None):
        return subprocess.run([os.path.join(self.bin, "sendmail"), "-C",
                               self.inst.etc, *args],
                              input=b"Subject: offline\n\nwritten while down\n",
                              capture_output=True, timeout=30,
                              preexec_fn=preexec)

    def dropped(self):
        return sorted(n for n in os.listdir(self.maildrop)
                      if n.startswith("pd-"))

    def start_and_wait_for_delivery(self, count=1):
        mark = self.inst.log_mark()
        self.inst.start()
        self.inst.wait_until(
            lambda: len(maildir_messages(self.base, "alice")) >= count,
            timeout=20, what="the message in alice's Maildir")
        self.inst.wait_until(lambda: self.dropped() == [], timeout=10,
                             what="maildrop/ emptied")
        return mark

    def test_mail_sent_while_down_is_delivered_at_start(self):
        proc = self.sendmail("-f", "alice@virt.test", "alice@virt.test")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(len(self.dropped()), 1)
        mark = self.start_and_wait_for_delivery()
        [msg] = maildir_messages(self.base, "alice")
        self.assertEqual(msg["Subject"], "offline")
        self.assertIn("written while down", msg.get_content())
        uid = os.getuid()
        # Submitted through smtpd as the sender: Received: names the uid,
        # and the pickup line (pflogsumm's "received") is logged.
        self.assertRegex(msg["Received"], rf"from userid {uid}\b")
        self.inst.wait_for_log(
            rf"postern/pickup\[\d+\]: \w+: uid={uid} from=<alice@virt\.test>",
            since=mark)

    def test_unknown_recipient_while_down_is_bounced(self):
        proc = self.sendmail("-f", "alice@virt.test", "ghost@virt.test")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.start_and_wait_for_delivery()
        [bounce] = maildir_messages(self.base, "alice")
        self.assertIn("Final-Recipient: rfc822; ghost@virt.test",
                      bounce.as_string())

    def test_other_user_through_setgid_postdrop(self):
        if not is_root():
            self.skipTest("needs root to run sendmail as another user")
        st = os.stat(self.maildrop)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o1730)
        self.assertEqual(st.st_gid, self.postdrop_gid)
        self.assertEqual(st.st_uid, self.inst.owner_uid)

        def become_nobody():
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
        # Without postdrop's group, nobody cannot write into maildrop/.
        probe = subprocess.run(
            ["sh", "-c", f"echo x > {self.maildrop}/pd-forged"],
            preexec_fn=become_nobody, capture_output=True)
        self.assertNotEqual(probe.returncode, 0)
        self.assertEqual(self.dropped(), [])

        proc = self.sendmail("-f", "nobody@virt.test", "alice@virt.test",
                             preexec=become_nobody)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        [name] = self.dropped()
        st = os.stat(os.path.join(self.maildrop, name))
        self.assertEqual(st.st_uid, NOBODY)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        mark = self.start_and_wait_for_delivery()
        [msg] = maildir_messages(self.base, "alice")
        self.assertRegex(msg["Received"], rf"from userid {NOBODY}\b")
        self.inst.wait_for_log(
            rf"postern/pickup\[\d+\]: \w+: uid={NOBODY} "
            rf"from=<nobody@virt\.test>", since=mark)

    def test_malformed_file_is_set_aside(self):
        bad = os.path.join(self.maildrop, "pd-bad")
        with open(bad, "wb") as f:
            f.write(b"POSTDROP 1\nRnobody@virt.test\nM\nno sender\n")
        proc = self.sendmail("-f", "alice@virt.test", "alice@virt.test")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.start_and_wait_for_delivery()
        self.assertTrue(os.path.exists(
            os.path.join(self.inst.queue, "corrupt", "pd-bad")))
        self.inst.wait_for_log(r"pd-bad: uid=\d+: malformed maildrop file: "
                               r"recipient before sender")


if __name__ == "__main__":
    unittest.main()
