"""test_virtual.py: the virtual delivery agent, driven directly over its
socket with deliver/1 requests built from real queue files (agentlib.py).
"""
import fcntl
import os
import re
import subprocess
import threading
import time
import unittest

from agentlib import (STATUS_LINE, AgentEnv, ensure_user, is_root,
                      maildir_files, prog, read)

CONTENT = (b"From: Sender <s@x.org>\r\nTo: a@ex.org\r\nSubject: test\r\n\r\n"
           b"From the start\r\nline two\r\n")
STORED = (b"From: Sender <s@x.org>\nTo: a@ex.org\nSubject: test\n\n"
          b"From the start\nline two\n")


class VirtualTest(unittest.TestCase):
    def setUp(self):
        self.uid = os.getuid() if not is_root() else 0
        self.env = AgentEnv(self, "virtual", start=False)
        self.base = self.env.path("vmail")
        os.makedirs(self.base)
        if is_root():
            self.user = ensure_user("pt-vmail", self.env.path("home-vmail"))
            os.chown(self.base, self.user.pw_uid, self.user.pw_gid)
            self.uid, self.gid = self.user.pw_uid, self.user.pw_gid
        else:
            self.uid, self.gid = os.getuid(), os.getgid()
        self.env.settings.update({
            "virtual_mailbox_base": self.base,
            "virtual_mailbox_maps":
                "inline:{ a@ex.org=ex.org/a/, b@ex.org=b.mbox, "
                "c@ex.org=ex.org/c/ }",
            "virtual_uid_maps": f"static:{self.uid}",
            "virtual_gid_maps": f"static:{self.gid}",
            "virtual_minimum_uid": "1",
            "recipient_delimiter": "+",
        })
        self.env.start()

    def test_maildir_content_exact_and_log_line(self):
        q = self.env.queue_file("s@x.org", ["a@ex.org"], CONTENT)
        reply = self.env.deliver(q)
        self.assertEqual(reply, [("sent", "2.0.0", "virtual",
                                  "delivered to maildir")])
        files = maildir_files(os.path.join(self.base, "ex.org/a"))
        self.assertEqual(len(files), 1)
        self.assertEqual(read(files[0]),
                         b"Return-Path: <s@x.org>\nDelivered-To: a@ex.org\n"
                         + STORED)
        self.assertRegex(os.path.basename(files[0]), r",S=\d+,W=\d+$")
        st = os.stat(files[0])
        self.assertEqual((st.st_uid, st.st_gid), (self.uid, self.gid))
        self.assertEqual(maildir_files(os.path.join(self.base, "ex.org/a"),
                                       "tmp"), [])
        self.assertTrue(self.env.is_done(q, "a@ex.org"))
        line = self.env.log_line(q, "a@ex.org")
        m = STATUS_LINE.search(line or "")
        self.assertIsNotNone(m, line)
        self.assertEqual(m.groups()[3:], ("virtual", "2.0.0", "sent",
                                          "delivered to maildir"))

    def test_extension_and_case(self):
        q = self.env.queue_file("s@x.org", ["A+Tag@Ex.Org"], CONTENT)
        self.assertEqual(self.env.deliver(q)[0][0], "sent")
        files = maildir_files(os.path.join(self.base, "ex.org/a"))
        self.assertEqual(len(files), 1)
        self.assertIn(b"Delivered-To: a+tag@ex.org\n", read(files[0]))

    def test_loop_bounces(self):
        q = self.env.queue_file(
            "s@x.org", ["a@ex.org", "c@ex.org"],
            b"Delivered-To: A@ex.org\r\nSubject: loop\r\n\r\nbody\r\n")
        reply = self.env.deliver(q)
        self.assertEqual(reply[0], ("bounced", "5.4.6", "virtual",
                                    "mail forwarding loop for a@ex.org"))
        self.assertEqual(reply[1][0], "sent")
        self.assertEqual(maildir_files(os.path.join(self.base, "ex.org/a")),
                         [])
        self.assertFalse(self.env.is_done(q, "a@ex.org"))
        self.assertTrue(self.env.is_done(q, "c@ex.org"))
        # A Delivered-To in the body is no loop.
        q = self.env.queue_file("s@x.org", ["a@ex.org"],
                                b"Subject: x\n\nDelivered-To: a@ex.org\n")
        self.assertEqual(self.env.deliver(q)[0][0], "sent")

    def test_unknown_user_bounces(self):
        q = self.env.queue_file("s@x.org", ["zz@ex.org"], CONTENT)
        self.assertEqual(self.env.deliver(q), [
            ("bounced", "5.1.1", "virtual", 'unknown user: "zz@ex.org"')])
        self.assertFalse(self.env.is_done(q, "zz@ex.org"))

    def test_table_error_defers(self):
        self.env.restart(virtual_mailbox_maps=
                         f"hash:{self.env.path('missing-table')}")
        q = self.env.queue_file("s@x.org", ["a@ex.org"], CONTENT)
        reply = self.env.deliver(q)
        self.assertEqual(reply[0][:2], ("deferred", "4.3.0"))
        self.assertIn("lookup failure", reply[0][3])

    def test_uid_maps_and_minimum_uid(self):
        self.env.restart(virtual_minimum_uid=str(self.uid + 1))
        q = self.env.queue_file("s@x.org", ["a@ex.org"], CONTENT)
        reply = self.env.deliver(q)
        self.assertEqual(reply[0][:2], ("deferred", "4.3.5"))
        self.assertIn("below virtual_minimum_uid", reply[0][3])
        self.assertEqual(maildir_files(os.path.join(self.base, "ex.org/a")),
                         [])
        # No uid for the recipient: a configuration error, deferred.
        self.env.restart(virtual_minimum_uid="1",
                         virtual_uid_maps="inline:{ other@ex.org=1234 }")
        reply = self.env.deliver(q)
        self.assertEqual(reply[0][:2], ("deferred", "4.3.5"))
        self.assertIn("no uid", reply[0][3])

    def test_bad_ids_defer_and_write_nothing(self):
        # Each value a uid or gid table might give that is not a plain
        # decimal number in [minimum, 2^32 - 2]. Postfix 3.7 takes
        # 4294967296 as uid 0 and writes as root; we defer, write nothing,
        # and log the value and the table.
        bad_uids = ["4294967296", "4294967295", "-1", "1e3", "", "5x",
                    "0x10", "0", "18446744073709551616"]
        bad_gids = ["0", "4294967296", "4294967295", "-1", ""]
        rcpts, boxes, uids, gids = [], [], [], []
        for n, value in enumerate(bad_uids):
            rcpt = f"u{n}@ex.org"
            rcpts.append((rcpt, "uid", "virtual_uid_maps", value))
            boxes.append(f"{rcpt}=u{n}/")
            uids.append(f"{rcpt}={value}")
            gids.append(f"{rcpt}={self.gid}")
        for n, value in enumerate(bad_gids):
            rcpt = f"g{n}@ex.org"
            rcpts.append((rcpt, "gid", "virtual_gid_maps", value))
            boxes.append(f"{rcpt}=g{n}.mbox")
            uids.append(f"{rcpt}={self.uid}")
            gids.append(f"{rcpt}={value}")
        self.env.restart(
            virtual_mailbox_maps="inline:{ " + ", ".join(boxes) + " }",
            virtual_uid_maps="inline:{ " + ", ".join(uids) + " }",
            virtual_gid_maps="inline:{ " + ", ".join(gids) + " }")
        q = self.env.queue_file("s@x.org", [r[0] for r in rcpts], CONTENT)
        reply = self.env.deliver(q)
        self.assertEqual(len(reply), len(rcpts))
        log = self.env.log_text()
        for (rcpt, what, table, value), answer in zip(rcpts, reply):
            self.assertEqual(answer[:2], ("deferred", "4.3.5"), (rcpt, value))
            self.assertIn("configuration error", answer[3])
            self.assertFalse(self.env.is_done(q, rcpt))
            self.assertRegex(
                log, rf"warning: recipient {rcpt}: (bad )?{what} "
                rf'"{re.escape(value)}" in {table}', (rcpt, value))
        # Nothing was created below the mailbox base: no directory, no file.
        self.assertEqual(os.listdir(self.base), [])

    def test_runs_as_mapped_uid(self):
        if not is_root():
            self.skipTest("needs root: delivery as another uid")
        other = ensure_user("pt-vmail2", self.env.path("home-vmail2"))
        os.makedirs(os.path.join(self.base, "o"))
        os.chown(os.path.join(self.base, "o"), other.pw_uid, other.pw_gid)
        self.env.restart(
            virtual_mailbox_maps="inline:{ o@ex.org=o/box/ }",
            virtual_uid_maps=f"inline:{{ o@ex.org={other.pw_uid} }}",
            virtual_gid_maps=f"inline:{{ o@ex.org={other.pw_gid} }}")
        q = self.env.queue_file("s@x.org", ["o@ex.org"], CONTENT)
        self.assertEqual(self.env.deliver(q)[0][0], "sent")
        files = maildir_files(os.path.join(self.base, "o/box"))
        self.assertEqual(len(files), 1)
        for path in files + [os.path.join(self.base, "o/box")]:
            st = os.stat(path)
            self.assertEqual((st.st_uid, st.st_gid),
                             (other.pw_uid, other.pw_gid), path)
        # The agent itself is still root: it marked the file done.
        self.assertTrue(self.env.is_done(q, "o@ex.org"))

    def test_size_limit(self):
        self.env.restart(virtual_mailbox_limit="200")
        q = self.env.queue_file("s@x.org", ["a@ex.org"],
                                b"Subject: big\n\n" + b"x" * 300 + b"\n")
        reply = self.env.deliver(q)
        self.assertEqual(reply[0][:2], ("bounced", "5.2.2"))
        self.assertEqual(maildir_files(os.path.join(self.base, "ex.org/a")),
                         [])
        self.assertEqual(maildir_files(os.path.join(self.base, "ex.org/a"),
                                       "tmp"), [])
        q = self.env.queue_file("s@x.org", ["a@ex.org"], b"Subject: s\n\nx\n")
        self.assertEqual(self.env.deliver(q)[0][0], "sent")

    def test_maildir_quota(self):
        root = os.path.join(self.base, "ex.org/a")
        q = self.env.queue_file("s@x.org", ["a@ex.org"], CONTENT)
        self.assertEqual(self.env.deliver(q)[0][0], "sent")
        # A quota as Dovecot or maildirmake -q sets it: 150 bytes.
        used = os.path.getsize(maildir_files(root)[0])
        with open(os.path.join(root, "maildirsize"), "w") as f:
            f.write(f"150S\n{used} 1\n")
        os.chown(os.path.join(root, "maildirsize"), self.uid, self.gid)
        q = self.env.queue_file("s@x.org", ["a@ex.org"], CONTENT)
        reply = self.env.deliver(q)
        self.assertEqual(reply[0][:2], ("bounced", "5.2.2"))
        self.assertEqual(len(maildir_files(root)), 1)
        with open(os.path.join(root, "maildirsize"), "w") as f:
            f.write(f"100000S\n{used} 1\n")
        reply = self.env.deliver(q)
        self.assertEqual(reply[0][0], "sent")
        self.assertEqual(len(maildir_files(root)), 2)

    def test_mbox_delivery_and_lock(self):
        mbox = os.path.join(self.base, "b.mbox")
        with open(mbox, "wb") as f:
            f.write(b"")
        os.chown(mbox, self.uid, self.gid)
        self.env.restart(deliver_lock_delay="1s", deliver_lock_attempts="10",
                         virtual_mailbox_lock="fcntl")
        q = self.env.queue_file("s@x.org", ["b@ex.org"], CONTENT)
        # A concurrent writer holds the kernel lock for a while and
        # appends its own message; the agent must wait, then append
        # after it, never in the middle.
        holder = open(mbox, "ab")
        fcntl.lockf(holder, fcntl.LOCK_EX)
        holder.write(b"From other  Mon Nov 23 00:00:00 2026\nSubject: o\n\n")
        holder.flush()
        released = []

        def release():
            time.sleep(1.5)
            holder.write(b"other body\n\n")
            holder.flush()
            released.append(time.time())
            fcntl.lockf(holder, fcntl.LOCK_UN)
            holder.close()

        t = threading.Thread(target=release)
        t.start()
        reply = self.env.deliver(q)
        done = time.time()
        t.join()
        self.assertEqual(reply, [("sent", "2.0.0", "virtual",
                                  "delivered to mailbox")])
        self.assertGreaterEqual(done, released[0])
        text = read(mbox)
        self.assertTrue(text.startswith(
            b"From other  Mon Nov 23 00:00:00 2026\nSubject: o\n\n"
            b"other body\n\nFrom s@x.org  "), text)
        self.assertIn(b"\nReturn-Path: <s@x.org>\nDelivered-To: b@ex.org\n"
                      b"From: Sender <s@x.org>\n", text)
        self.assertIn(b"\n\n>From the start\nline two\n\n", text)

    def test_dotlock_held_defers(self):
        mbox = os.path.join(self.base, "b.mbox")
        self.env.restart(deliver_lock_delay="1s", deliver_lock_attempts="2",
                         virtual_mailbox_lock="dotlock, fcntl")
        with open(mbox + ".lock", "w"):
            pass
        q = self.env.queue_file("s@x.org", ["b@ex.org"], CONTENT)
        reply = self.env.deliver(q)
        self.assertEqual(reply[0][0], "deferred")
        self.assertTrue(reply[0][1].startswith("4."))
        self.assertFalse(self.env.is_done(q, "b@ex.org"))
        os.unlink(mbox + ".lock")
        self.assertEqual(self.env.deliver(q)[0][0], "sent")

    def test_done_before_reply_and_repeat(self):
        """The reply comes after the done mark is on disk; a request that
        is repeated (qmgr crashed before it learned the outcome) is
        answered without a second delivery."""
        q = self.env.queue_file("s@x.org", ["a@ex.org", "zz@ex.org"],
                                CONTENT)
        reply = self.env.deliver(q)
        self.assertEqual([r[0] for r in reply], ["sent", "bounced"])
        self.assertTrue(self.env.is_done(q, "a@ex.org"))
        # Bounced recipients are qmgr's to mark.
        self.assertFalse(self.env.is_done(q, "zz@ex.org"))
        again = self.env.deliver(q, ["a@ex.org"], keep_done=True)
        self.assertEqual(again, [("sent", "2.0.0", "virtual",
                                  "already delivered")])
        self.assertEqual(len(maildir_files(os.path.join(self.base,
                                                        "ex.org/a"))), 1)

    def test_kill_during_delivery_loses_nothing(self):
        """SIGKILL while a delivery is in progress (blocked on a lock):
        nothing was marked done, so qmgr's retry delivers it once."""
        mbox = os.path.join(self.base, "b.mbox")
        self.env.restart(deliver_lock_delay="1s", deliver_lock_attempts="30",
                         virtual_mailbox_lock="fcntl")
        with open(mbox, "ab") as holder:
            os.chown(mbox, self.uid, self.gid)
            fcntl.lockf(holder, fcntl.LOCK_EX)
            q = self.env.queue_file("s@x.org", ["b@ex.org"], CONTENT)
            call = subprocess.Popen(
                [prog("tests", "helpers", "deliver_call"), self.env.socket, self.env.queue, "active", q["qid"]],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            time.sleep(0.5)
            # While it works, the agent holds a shared flock on the queue
            # file: a restarted qmgr sees that a delivery is running.
            with open(q["path"], "rb") as probe:
                with self.assertRaises(BlockingIOError):
                    fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.env.stop()  # SIGKILL
            out = call.communicate(timeout=10)[0].decode()
            self.assertIn("eof", out)
            self.assertFalse(self.env.is_done(q, "b@ex.org"))
        self.env.start()
        self.assertEqual(self.env.deliver(q)[0][0], "sent")
        self.assertEqual(read(mbox).count(b"\nDelivered-To: b@ex.org\n"), 1)

    def test_request_is_checked_against_the_queue_file(self):
        q = self.env.queue_file("s@x.org", ["a@ex.org"], CONTENT)
        # A recipient the file does not hold at that offset.
        reply = self.env.deliver(q, other_addr="c@ex.org")
        self.assertEqual(reply, [("deferred", "4.3.0", "virtual",
                                  "delivery request does not match the "
                                  "queue file")])
        self.assertEqual(maildir_files(os.path.join(self.base, "ex.org/c")),
                         [])
        # A queue file that is not there.
        reply = self.env.deliver(q, other_id="NOSUCHFILE1")
        self.assertEqual(reply[0][:2], ("deferred", "4.3.0"))
        self.assertIn("cannot read queue file", reply[0][3])
        # A queue id that is not a safe file name never becomes a path:
        # the request is refused and the connection closed.
        reply = self.env.deliver(q, other_id="../active", expect_ok=False)
        self.assertEqual(reply, ["eof"])

    def test_stays_alive_and_max_use(self):
        q = self.env.queue_file("s@x.org", ["zz@ex.org"], CONTENT)
        pid = self.env.proc.pid
        reply = self.env.deliver(q, count=3)
        self.assertEqual([r[0] for r in reply], ["bounced"] * 3)
        self.assertIsNone(self.env.proc.poll())
        self.assertEqual(self.env.proc.pid, pid)
        # max_use counts connections; on one connection a process serves
        # 100 requests per unit of max_use (lib/delivery/agent_serve.c), then
        # closes it after the reply and exits.
        self.env.restart(max_use="1")
        reply = self.env.deliver(q, count=101, expect_ok=False)
        self.assertEqual(len(reply), 101)
        self.assertEqual(reply[100], "eof")
        self.assertEqual([r[0] for r in reply[:100]], ["bounced"] * 100)
        self.env.proc.wait(timeout=10)
        self.assertEqual(self.env.proc.returncode, 0)


class VirtualUnderMasterTest(unittest.TestCase):
    """The agent as master runs it: master.cf `virtual unix - n n - - virtual`,
    socket in private/, status reports, requests from a client."""

    def test_delivery_through_master(self):
        from instance import Instance
        inst = Instance(self)
        base = os.path.join(inst.root, "vmail")
        os.makedirs(base)
        uid, gid = os.getuid(), os.getgid()
        if is_root():
            user = ensure_user("pt-vmail", os.path.join(inst.root, "home"))
            uid, gid = user.pw_uid, user.pw_gid
            os.chown(base, uid, gid)
        inst.main_params.update({
            "virtual_mailbox_base": base,
            "virtual_mailbox_maps": "inline:{ a@ex.org=a/ }",
            "virtual_uid_maps": f"static:{uid}",
            "virtual_gid_maps": f"static:{gid}",
            "virtual_minimum_uid": "1",
        })
        inst.write_main_cf()
        inst.write_master_cf(inst.service("virtual", "unix", "virtual",
                                          unpriv="n", chroot="n"))
        inst.start()
        sock = os.path.join(inst.queue, "private", "virtual")
        deadline = time.time() + 10
        while not os.path.exists(sock) and time.time() < deadline:
            time.sleep(0.05)
        active = os.path.join(inst.queue, "active")
        os.makedirs(active, exist_ok=True)
        out = subprocess.run([prog("tests", "helpers", "agent_qfile"), active,
                              "s@x.org", "a@ex.org"], input=CONTENT,
                             capture_output=True, check=True).stdout.decode()
        qid = out.split()[1]
        reply = subprocess.run([prog("tests", "helpers", "deliver_call"),
                                "-n", "2", sock, inst.queue, "active", qid,
                                "a@ex.org"], capture_output=True, timeout=60)
        self.assertEqual(reply.stdout.decode().splitlines(), [
            "sent 2.0.0 virtual delivered to maildir",
            "sent 2.0.0 virtual already delivered"], reply.stderr)
        files = maildir_files(os.path.join(base, "a"))
        self.assertEqual(len(files), 1)
        st = os.stat(files[0])
        self.assertEqual((st.st_uid, st.st_gid), (uid, gid))
        inst.wait_for_log(rf"postern/virtual\[\d+\]: {qid}: to=<a@ex.org>, "
                          r"relay=virtual, .*status=sent")
        inst.stop()


if __name__ == "__main__":
    unittest.main()
