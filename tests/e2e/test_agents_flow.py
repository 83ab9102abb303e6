"""test_agents_flow.py: the real delivery agents behind qmgr, in a whole
instance (master + qmgr + virtual + local): mail put into incoming/ (as
smtpd does) ends in Maildirs and mboxes, recipients are marked done and
the queue file is removed, and an alias that forwards to another local
name goes round through a new queue file."""
import os
import re
import pwd
import subprocess
import time
import unittest

from agentlib import ensure_user, is_root, maildir_files, prog, read
from instance import Instance

MESSAGE = (b"From: alice@example.com\nTo: bob@virt.test\n"
           b"Subject: flow test\nMessage-ID: <f1@example.com>\n\nHello.\n")


def have_programs():
    return all(os.access(prog(p), os.X_OK)
               for p in ("qmgr/qmgr", "virtual/virtual", "local/local",
                         "tests/helpers/qinject", "master/master"))


@unittest.skipUnless(have_programs(), "qmgr, agents or helpers not built")
class AgentsFlowTest(unittest.TestCase):
    def setUp(self):
        self.inst = Instance(self)
        root = self.inst.root
        self.base = os.path.join(root, "vmail")
        self.spool = os.path.join(root, "spool")
        os.makedirs(self.base)
        os.makedirs(self.spool, mode=0o1777)
        os.chmod(self.spool, 0o1777)
        if is_root():
            self.vuser = ensure_user("pt-vmail", os.path.join(root, "vhome"))
            self.luser = ensure_user("pt-local1", os.path.join(root, "lhome"))
            os.chown(self.base, self.vuser.pw_uid, self.vuser.pw_gid)
        else:
            self.vuser = self.luser = pwd.getpwuid(os.getuid())
        aliases = os.path.join(self.inst.etc, "aliases")
        with open(aliases, "w") as f:
            f.write(f"team: {self.luser.pw_name}, other@localhost\n"
                    f"other: {self.luser.pw_name}\n")
        users = ", ".join(f"u{i}@virt.test=virt.test/u{i}/"
                          for i in range(40))
        self.inst.main_params.update({
            "myhostname": "mail.example.test",
            "mydestination": "$myhostname, localhost",
            "virtual_mailbox_domains": "virt.test",
            "virtual_mailbox_base": self.base,
            "virtual_mailbox_maps": f"inline:{{ {users} }}",
            "virtual_uid_maps": f"static:{self.vuser.pw_uid}",
            "virtual_gid_maps": f"static:{self.vuser.pw_gid}",
            "virtual_minimum_uid": "1",
            "mail_spool_directory": self.spool,
            "alias_maps": f"hash:{aliases}",
            "alias_database": f"hash:{aliases}",
            "local_recipient_maps": "",
            "queue_run_delay": "1s",
        })
        self.inst.write_main_cf()
        proc = subprocess.run([prog("tools", "newaliases"), "-c",
                               self.inst.etc], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        text = self.inst.service("qmgr", "unix", "qmgr", private="n",
                                 wakeup=1, maxproc=1)
        text += self.inst.service("virtual", "unix", "virtual", unpriv="n")
        text += self.inst.service("local", "unix", "local", unpriv="n")
        self.inst.write_master_cf(text)
        self.inst.start()

    def inject(self, sender, *rcpts):
        cmd = [self.inst.program("qinject"),  # run as mail_owner below
               self.inst.queue, sender, *rcpts]
        kw = {}
        if os.geteuid() == 0:
            kw = {"user": self.inst.owner_uid, "group": self.inst.owner_gid,
                  "extra_groups": []}
        proc = subprocess.run(cmd, input=MESSAGE, capture_output=True,
                              timeout=30, **kw)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout.decode().strip()

    def wait_gone(self, qid, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not any(os.path.exists(os.path.join(self.inst.queue, q, qid))
                       for q in ("incoming", "active", "deferred")):
                return
            time.sleep(0.1)
        self.fail(f"{qid} still queued; log:\n{self.inst.log_tail(40)}")

    def test_virtual_many_recipients(self):
        rcpts = [f"u{i}@virt.test" for i in range(40)]
        qid = self.inject("alice@example.com", *rcpts)
        self.wait_gone(qid)
        for i in range(40):
            files = maildir_files(os.path.join(self.base, f"virt.test/u{i}"))
            self.assertEqual(len(files), 1, f"u{i}: {self.inst.log_tail(20)}")
            self.assertIn(f"Delivered-To: u{i}@virt.test\n".encode(),
                          read(files[0]))
        log = self.inst.log_text()
        self.assertEqual(log.count(f"{qid}: to=<u"), 40)
        self.assertEqual(log.count("status=sent (delivered to maildir)"), 40)

    def test_one_failed_copy_does_not_hold_back_the_others(self):
        """virtual writes the copies of a multi-recipient request first
        and syncs them together (lib/delivery/agent_mailbox: batched copies). A copy
        that cannot be moved into new/ fails alone: it is deferred, the
        others are delivered and reported, and the retry delivers only
        the deferred one."""
        qid = self.inject("alice@example.com", "u0@virt.test")
        self.wait_gone(qid)  # u0's Maildir now exists
        new_dir = os.path.join(self.base, "virt.test/u0/new")
        os.chmod(new_dir, 0o500)  # the owner may not add names either
        try:
            qid = self.inject("alice@example.com", "u0@virt.test",
                              "u1@virt.test", "u2@virt.test")
            deadline = time.time() + 20
            while time.time() < deadline:
                log = self.inst.log_text()
                if all(f"{qid}: to=<u{i}@virt.test>" in log
                       for i in range(3)):
                    break
                time.sleep(0.1)
            self.assertRegex(log, rf"{qid}: to=<u0@virt.test>.*"
                                  r"status=deferred \(maildir delivery "
                                  r"failed: rename")
            for user in ("u1", "u2"):
                self.assertRegex(log, rf"{qid}: to=<{user}@virt.test>.*"
                                      r"status=sent \(delivered to maildir\)")
            self.assertTrue(os.path.exists(
                os.path.join(self.inst.queue, "deferred", qid)))
        finally:
            os.chmod(new_dir, 0o700)
        subprocess.run([prog("tools", "postqueue"), "-c", self.inst.etc,
                        "-f"], capture_output=True, timeout=30)
        self.wait_gone(qid, timeout=30)
        counts = [len(maildir_files(os.path.join(self.base, f"virt.test/u{i}")))
                  for i in range(3)]
        self.assertEqual(counts, [2, 1, 1], self.inst.log_tail(20))
        self.assertEqual(self.inst.log_text().count(
            f"{qid}: to=<u1@virt.test>"), 1)

    def test_qmgr_reads_whole_reply(self):
        """A reply for 40 recipients has 161 attributes: more than
        lib/ipc/attr's default limit (128), so qmgr reads replies with
        deliver_attr_limits (lib/delivery/deliver_req.h)."""
        qid = self.inject("alice@example.com",
                          *[f"u{i}@virt.test" for i in range(40)])
        self.wait_gone(qid)
        self.assertNotIn("lost connection with virtual service",
                         self.inst.log_text())

    def test_retiring_agents_lose_no_request(self):
        """Agents exit after 100 x max_use requests on qmgr's connection.
        Started together, they retire together; the last reply says so
        (deliver_reply_set_retiring), so qmgr never sends a request down a
        connection that is closing. Without that, requests met closing
        connections ("lost connection") and could be deferred for a whole
        backoff interval."""
        text = self.inst.service("qmgr", "unix", "qmgr", private="n",
                                 wakeup=1, maxproc=1)
        text += self.inst.service("virtual", "unix", "virtual", unpriv="n",
                                  maxproc=3, args=("-o", "max_use=1"))
        text += self.inst.service("local", "unix", "local", unpriv="n")
        self.inst.write_master_cf(text)
        self.inst.reload()
        qids = [self.inject("alice@example.com", f"u{i % 40}@virt.test")
                for i in range(360)]
        for qid in qids:
            self.wait_gone(qid, timeout=60)
        log = self.inst.log_text()
        self.assertNotIn("lost connection with virtual service", log)
        self.assertNotIn("status=deferred", log)
        self.assertEqual(log.count("status=sent (delivered to maildir)"), 360)
        # at most 3 processes at a time, 100 requests each: some retired
        pids = set(re.findall(r"postern/virtual\[(\d+)\]: \w+: to=", log))
        self.assertGreaterEqual(len(pids), 4)

    def test_local_alias_round_trip(self):
        qid = self.inject("alice@example.com", "team@mail.example.test")
        self.wait_gone(qid)
        mbox = os.path.join(self.spool, self.luser.pw_name)
        deadline = time.time() + 20
        while time.time() < deadline:
            if os.path.exists(mbox) and read(mbox).count(b"Subject:") == 2:
                break
            time.sleep(0.1)
        text = read(mbox)
        # Once directly, once through other@localhost's new queue file.
        self.assertEqual(text.count(b"Subject: flow test"), 2,
                         self.inst.log_tail(30))
        self.assertIn(b"Delivered-To: team@mail.example.test\n", text)
        self.assertIn(b"Delivered-To: other@localhost\n"
                      b"Delivered-To: team@mail.example.test\n", text)
        self.assertRegex(self.inst.log_text(),
                         r"to=<other@localhost>, orig_to=<team@mail\."
                         r"example\.test>, relay=local, .*forwarded as")


if __name__ == "__main__":
    unittest.main()
