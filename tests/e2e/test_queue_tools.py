"""test_queue_tools.py: drives postqueue, mailq, postsuper and postcat on a
temporary queue directory filled with queue files written by the real
writer (tests/helpers/qfile_make).

Covers the listing format (markers, deferral reasons, done recipients,
totals), the JSON fields, flush triggers against a fake qmgr socket and
without one, hold/release/delete/requeue moves with their logs, ALL with
queue names, ids from stdin, invalid ids, corrupt files (postsuper -s and
postcat), stale temporary files, inode-mismatched names, and a file
locked by another process being skipped."""
import fcntl
import json
import os
import pwd
import socket
import subprocess
import tempfile
import threading
import time
import unittest

BUILDDIR = os.environ.get("POSTERN_BUILDDIR",
                          os.path.join(os.path.dirname(__file__), "..", ".."))
TOOLS = os.path.join(BUILDDIR, "tools")
QFILE_MAKE = os.path.join(BUILDDIR, "tests", "helpers", "qfile_make")
QUEUES = ["incoming", "active", "deferred", "hold", "corrupt", "defer",
          "bounce", "public"]
ENV = dict(os.environ, TZ="UTC")
ENV.pop("MAIL_CONFIG", None)

HEADING = ("----Queue ID-----  --Size-- ---Arrival Time---- "
           "--Sender/Recipient------\n")
# Id (17) and its status mark (* active, ! held) in columns of their
# own, as Postfix lists them, so every line lines up.
RCPT_INDENT = " " * 48


def reason_line(reason):
    return " " * max(0, 76 - len(reason)) + "(" + reason + ")\n"


class QueueToolsTest(unittest.TestCase):
    def setUp(self):
        for tool in ("postqueue", "postsuper", "postcat", "mailq"):
            if not os.access(os.path.join(TOOLS, tool), os.X_OK):
                self.skipTest(f"tools/{tool} not built")
        if not os.access(QFILE_MAKE, os.X_OK):
            self.skipTest("tests/helpers/qfile_make not built")
        self.tmp = tempfile.TemporaryDirectory()
        self.conf = self.tmp.name
        self.queue = os.path.join(self.conf, "queue")
        for name in QUEUES:
            os.makedirs(os.path.join(self.queue, name))
        self.maillog = os.path.join(self.conf, "maillog")
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(f"queue_directory = {self.queue}\n"
                    f"maillog_file = {self.maillog}\n")
            # No showq runs here: postqueue -p reads the queue itself, as
            # only root and mail_owner may (the owner of this queue).
            if os.geteuid() != 0:
                f.write(f"mail_owner = {pwd.getpwuid(os.getuid()).pw_name}\n")

    def tearDown(self):
        self.tmp.cleanup()

    # ---- helpers ----

    def make(self, queue, *args, arrival=1732320000):
        out = subprocess.run([QFILE_MAKE, os.path.join(self.queue, queue),
                              "-t", str(arrival), *args],
                             capture_output=True, text=True, check=True)
        return out.stdout.strip()

    def run_tool(self, tool, *args, stdin=None):
        return subprocess.run([os.path.join(TOOLS, tool), "-c", self.conf,
                               *args], input=stdin, capture_output=True,
                              text=True, env=ENV, timeout=30)

    def path(self, queue, qid):
        return os.path.join(self.queue, queue, qid)

    def exists(self, queue, qid):
        return os.path.exists(self.path(queue, qid))

    def files(self, queue):
        return sorted(os.listdir(os.path.join(self.queue, queue)))

    def rcpt_offset(self, queue, qid, address):
        out = self.run_tool("postcat", "-o", "-e", self.path(queue, qid))
        for line in out.stdout.splitlines():
            fields = line.split()
            if len(fields) == 3 and fields[1] == "recipient:" and fields[2] == address:
                return int(fields[0])
        self.fail(f"no recipient {address} in {qid}:\n{out.stdout}")

    def write_defer_log(self, qid, entries, log="defer"):
        with open(os.path.join(self.queue, log, qid), "w") as f:
            for offset, address, reason in entries:
                f.write(f"recipient={address}\noffset={offset}\nstatus=4.4.1\n"
                        f"action=delayed\nreason={reason}\nlog_time=1\n\n")

    def log_text(self):
        if not os.path.exists(self.maillog):
            return ""
        with open(self.maillog) as f:
            return f.read()

    # ---- postqueue -p / mailq / -j ----

    def test_empty_queue(self):
        out = self.run_tool("postqueue", "-p")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, "Mail queue is empty\n")
        self.assertEqual(self.run_tool("postqueue", "-j").stdout, "")

    def test_listing_format(self):
        active = self.make("active", "-r", "x@example.net")
        deferred = self.make("deferred", "-s", "", "-r", "one@example.org",
                             "-r", "two@example.org", "-D",
                             "-r", "three@example.org", arrival=1732320060)
        held = self.make("hold", "-s", "held@example.com", "-m",
                         "Subject: big\n\n" + "x" * 3000 + "\n")
        reason = "connect to example.org[192.0.2.1]:25: Connection refused"
        self.write_defer_log(deferred, [
            (self.rcpt_offset("deferred", deferred, "one@example.org"),
             "one@example.org", reason)])
        out = self.run_tool("postqueue", "-p")
        self.assertEqual(out.returncode, 0, out.stderr)
        small = 71  # the helper's default message
        expected = (
            HEADING
            + f"{active:<17}* {small:>8} Sat Nov 23 00:00:00 sender@example.com\n"
            + RCPT_INDENT + "x@example.net\n"
            + "\n"
            + f"{deferred:<17}  {small:>8} Sat Nov 23 00:01:00 MAILER-DAEMON\n"
            + reason_line(reason)
            + RCPT_INDENT + "one@example.org\n"
            + reason_line("reason unavailable")
            + RCPT_INDENT + "three@example.org\n"
            + "\n"
            + f"{held:<17}! {3015:>8} Sat Nov 23 00:00:00 held@example.com\n"
            + RCPT_INDENT + "rcpt@example.org\n"
            + "\n"
            + f"-- {(small * 2 + 3015) // 1024} Kbytes in 3 Requests.\n")
        self.assertEqual(out.stdout, expected)
        # Active (*), deferred and held (!) lines keep their columns.
        lines = [line for line in out.stdout.splitlines()
                 if line.startswith((active, deferred, held))]
        self.assertEqual(len(lines), 3)
        self.assertEqual(len({line.index(" Sat Nov") for line in lines}), 1,
                         lines)
        # mailq prints the same; one message says "Request".
        self.assertEqual(self.run_tool("mailq").stdout, expected)
        self.run_tool("postsuper", "-d", active)
        self.run_tool("postsuper", "-d", held)
        self.assertTrue(self.run_tool("postqueue", "-p").stdout.endswith(
            "\n-- 0 Kbytes in 1 Request.\n"))

    def test_json_fields(self):
        deferred = self.make("deferred", "-r", "a@example.org",
                             "-r", "b@example.org", "-D", "-r", 'c"q@example.org')
        self.write_defer_log(deferred, [
            (self.rcpt_offset("deferred", deferred, "a@example.org"),
             "a@example.org", "mailbox full")])
        held = self.make("hold", "-s", "")
        out = self.run_tool("postqueue", "-j")
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.splitlines()
        self.assertEqual(len(lines), 2)
        first, second = (json.loads(line) for line in lines)
        self.assertEqual(list(first), ["queue_name", "queue_id", "arrival_time",
                                       "message_size", "forced_expire",
                                       "sender", "recipients"])
        self.assertEqual(first["queue_name"], "deferred")
        self.assertEqual(first["queue_id"], deferred)
        self.assertEqual(first["arrival_time"], 1732320000)
        self.assertEqual(first["message_size"], 71)
        self.assertIs(first["forced_expire"], False)
        self.assertEqual(first["sender"], "sender@example.com")
        self.assertEqual(first["recipients"], [
            {"address": "a@example.org", "delay_reason": "mailbox full"},
            {"address": 'c"q@example.org'}])
        self.assertEqual(second["queue_name"], "hold")
        self.assertEqual(second["queue_id"], held)
        self.assertEqual(second["sender"], "MAILER-DAEMON")

    def test_corrupt_file_is_left_out_of_the_listing(self):
        good = self.make("deferred")
        bad = self.make("deferred")
        with open(self.path("deferred", bad), "r+b") as f:
            f.truncate(60)
        out = self.run_tool("postqueue", "-p")
        self.assertEqual(out.returncode, 0)
        self.assertIn(good, out.stdout)
        self.assertNotIn(bad, out.stdout)
        self.assertIn(f"deferred/{bad}: corrupt queue file", out.stderr)

    # ---- postqueue -f / -s / -i ----

    def fake_qmgr(self):
        """A unix socket at public/qmgr that records what clients send."""
        received = []
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(os.path.join(self.queue, "public", "qmgr"))
        server.listen(5)
        server.settimeout(10)

        def serve():
            try:
                while True:
                    conn, _ = server.accept()
                    with conn:
                        data = b""
                        while True:
                            chunk = conn.recv(1024)
                            if not chunk:
                                break
                            data += chunk
                        received.append(data)
            except OSError:
                pass

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        return server, received

    def wait_for(self, received, count):
        deadline = time.monotonic() + 10
        while len(received) < count and time.monotonic() < deadline:
            time.sleep(0.01)

    def test_flush_without_qmgr(self):
        for args in (["-f"], ["-s", "example.com"]):
            out = self.run_tool("postqueue", *args)
            self.assertEqual(out.returncode, 69)
            self.assertEqual(out.stderr, "postqueue: fatal: Cannot flush mail "
                                         "queue - mail system is down\n")
        qid = self.make("deferred")
        out = self.run_tool("postqueue", "-i", qid)
        self.assertEqual(out.returncode, 69)
        self.assertIn("mail system is down", out.stderr)

    def test_flush_triggers(self):
        deferred = self.make("deferred")
        held = self.make("hold")
        server, received = self.fake_qmgr()
        try:
            self.assertEqual(self.run_tool("postqueue", "-f").returncode, 0)
            self.assertEqual(self.run_tool("postqueue", "-s",
                                           "example.com").returncode, 0)
            self.assertEqual(self.run_tool("postqueue", "-i",
                                           deferred).returncode, 0)
            self.wait_for(received, 3)
            self.assertEqual(received, [b"FA", b"Sexample.com\n",
                                        b"Q" + deferred.encode() + b"\n"])
            # Refused before anything is sent.
            for args in (["-s", "bad site"], ["-s", ""], ["-i", "../etc"],
                         ["-i", "NOSUCHID1"], ["-i", held]):
                out = self.run_tool("postqueue", *args)
                self.assertEqual(out.returncode, 64, (args, out.stderr))
            time.sleep(0.1)
            self.assertEqual(len(received), 3)
        finally:
            server.close()

    # ---- postsuper moves ----

    def test_hold_release_delete_requeue(self):
        qid = self.make("deferred")
        other = self.make("incoming")
        self.write_defer_log(qid, [(100, "rcpt@example.org", "later")])
        self.write_defer_log(qid, [(100, "rcpt@example.org", "bad")], "bounce")

        out = self.run_tool("postsuper", "-h", qid)
        self.assertEqual((out.returncode, out.stderr),
                         (0, "postsuper: Placed on hold: 1 message\n"))
        self.assertTrue(self.exists("hold", qid))
        self.assertFalse(self.exists("deferred", qid))
        # Holding again finds nothing to do and says nothing.
        out = self.run_tool("postsuper", "-h", qid)
        self.assertEqual((out.returncode, out.stderr), (0, ""))

        os.utime(self.path("hold", qid), (1, 1))
        out = self.run_tool("postsuper", "-H", qid)
        self.assertEqual(out.stderr, "postsuper: Released from hold: 1 message\n")
        self.assertTrue(self.exists("deferred", qid))
        # Released mail is due now: its retry time (mtime) is reset.
        self.assertGreater(os.stat(self.path("deferred", qid)).st_mtime,
                           time.time() - 60)

        # Requeued to maildrop/ (made here, as this queue lacks it), where
        # qmgr rewrites it into a new queue file (test_requeue.py).
        server, received = self.fake_qmgr()
        try:
            out = self.run_tool("postsuper", "-r", qid)
            self.wait_for(received, 1)
        finally:
            server.close()
        self.assertEqual(out.stderr, "postsuper: Requeued: 1 message\n")
        self.assertEqual(received, [b"R"])
        self.assertTrue(self.exists("maildrop", qid))
        self.assertEqual(os.stat(os.path.join(self.queue, "maildrop")).st_mode
                         & 0o777, 0o700)
        self.assertFalse(self.exists("defer", qid))   # stale reasons dropped
        self.assertTrue(self.exists("bounce", qid))   # a notice is still owed
        # Mail in maildrop/ is not put on hold (Postfix's rule); it can
        # be deleted when named.
        out = self.run_tool("postsuper", "-h", qid, "maildrop")
        self.assertEqual((out.returncode, out.stderr), (0, ""))
        self.assertTrue(self.exists("maildrop", qid))
        out = self.run_tool("postcat", "-q", qid)
        self.assertEqual(out.returncode, 0, out.stderr)
        # Listed as Postfix lists maildrop mail.
        out = self.run_tool("postqueue", "-j")
        listed = {m["queue_id"]: m["queue_name"]
                  for m in map(json.loads, out.stdout.splitlines())}
        self.assertEqual(listed.get(qid), "maildrop", out.stdout)

        out = self.run_tool("postsuper", "-d", qid, "-d", other, "maildrop",
                            "incoming")
        self.assertEqual(out.stderr, "postsuper: Deleted: 2 messages\n")
        self.assertEqual(self.files("incoming"), [])
        self.assertFalse(self.exists("bounce", qid))
        log = self.log_text()
        for event in (f"{qid}: placed on hold", f"{qid}: released from hold",
                      f"{qid}: requeued", f"{qid}: removed", f"{other}: removed",
                      "postern/postsuper["):
            self.assertIn(event, log)

    def test_all_with_queue_names(self):
        deferred = [self.make("deferred") for _ in range(3)]
        incoming = self.make("incoming")
        held = self.make("hold")
        out = self.run_tool("postsuper", "-h", "ALL", "deferred")
        self.assertEqual(out.stderr, "postsuper: Placed on hold: 3 messages\n")
        self.assertEqual(self.files("hold"), sorted(deferred + [held]))
        self.assertEqual(self.files("incoming"), [incoming])
        out = self.run_tool("postsuper", "-H", "ALL")
        self.assertEqual(out.stderr, "postsuper: Released from hold: 4 messages\n")
        self.assertEqual(self.files("deferred"), sorted(deferred + [held]))
        out = self.run_tool("postsuper", "-d", "ALL", "deferred")
        self.assertEqual(out.stderr, "postsuper: Deleted: 4 messages\n")
        self.assertEqual(self.files("incoming"), [incoming])
        # "all" in lower case is not ALL: it is an id that does not exist.
        out = self.run_tool("postsuper", "-d", "all")
        self.assertEqual((out.returncode, out.stderr), (0, ""))
        self.assertEqual(self.files("incoming"), [incoming])
        out = self.run_tool("postsuper", "-d", "ALL", "nosuchqueue")
        self.assertEqual(out.returncode, 64)
        self.assertIn("invalid directory name: nosuchqueue", out.stderr)
        self.assertEqual(self.files("incoming"), [incoming])

    def test_ids_from_stdin(self):
        ids = [self.make("deferred") for _ in range(3)]
        stdin = f"{ids[0]}\n  {ids[1]}  \n\n../../etc/passwd\n{'A' * 5000}\n{ids[2]}"
        out = self.run_tool("postsuper", "-d", "-", stdin=stdin)
        self.assertEqual(out.returncode, 1)
        self.assertIn("stdin, line 4: invalid queue id: \"../../etc/passwd\"",
                      out.stderr)
        self.assertIn("stdin, line 5: invalid queue id (line too long)",
                      out.stderr)
        self.assertTrue(out.stderr.endswith("postsuper: Deleted: 3 messages\n"))
        self.assertEqual(self.files("deferred"), [])

    def test_invalid_ids_are_refused_before_any_change(self):
        qid = self.make("deferred")
        outside = os.path.join(self.conf, "victim")
        with open(outside, "w") as f:
            f.write("keep me")
        for bad in ("../victim", "../../victim", "a/b", "", "x" * 40, "id.1"):
            out = self.run_tool("postsuper", "-d", qid, "-d", bad)
            self.assertEqual(out.returncode, 64, bad)
            self.assertIn("invalid queue id", out.stderr)
            self.assertTrue(self.exists("deferred", qid), bad)
        self.assertTrue(os.path.exists(outside))
        out = self.run_tool("postcat", "-q", "../victim")
        self.assertEqual(out.returncode, 1)
        self.assertIn('invalid queue id: "../victim"', out.stderr)
        self.assertEqual(out.stdout, "")

    def test_locked_file_is_skipped(self):
        qid = self.make("active")
        with open(self.path("active", qid), "r+b") as held:
            fcntl.lockf(held, fcntl.LOCK_EX)  # as qmgr, from another process
            for op in ("-d", "-h", "-r"):
                out = self.run_tool("postsuper", op, qid)
                self.assertEqual(out.returncode, 1, op)
                self.assertIn(f"{qid}: queue file is locked by another process",
                              out.stderr)
                self.assertTrue(self.exists("active", qid), op)
            out = self.run_tool("postsuper", "-h", "ALL")
            self.assertEqual(out.returncode, 1)
            self.assertTrue(self.exists("active", qid))
            # Listing and postcat take no lock.
            self.assertIn(qid + "*", self.run_tool("postqueue", "-p").stdout)
            self.assertEqual(self.run_tool("postcat", "-q", qid).returncode, 0)
        out = self.run_tool("postsuper", "-h", qid)
        self.assertEqual((out.returncode, out.stderr),
                         (0, "postsuper: Placed on hold: 1 message\n"))

    # ---- postsuper -s / -p ----

    def test_structure_check_and_repair(self):
        good = self.make("deferred")
        truncated = self.make("deferred")
        with open(self.path("deferred", truncated), "r+b") as f:
            f.truncate(100)
        badname = self.path("incoming", "not-a-queue-id")
        with open(badname, "w") as f:
            f.write("junk")
        stale = self.path("incoming", ".t123stale")
        young = self.path("incoming", ".t456young")
        for name in (stale, young):
            with open(name, "w") as f:
                f.write("partial")
        old = time.time() - 2 * 86400
        os.utime(stale, (old, old))
        orphan = self.path("defer", "0ABCDEFGHIJKz1")
        with open(orphan, "w") as f:
            f.write("")
        os.utime(orphan, (old, old))
        fresh_orphan = self.path("bounce", "0ABCDEFGHIJKz2")
        with open(fresh_orphan, "w") as f:
            f.write("")

        out = self.run_tool("postsuper", "-s")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("2 queue files moved to corrupt/", out.stderr)
        self.assertEqual(self.files("deferred"), [good])
        self.assertTrue(self.exists("corrupt", truncated))
        corrupt = self.files("corrupt")
        self.assertEqual(len(corrupt), 2)
        self.assertFalse(os.path.exists(badname))
        self.assertFalse(os.path.exists(stale))
        self.assertTrue(os.path.exists(young))
        self.assertFalse(os.path.exists(orphan))
        self.assertTrue(os.path.exists(fresh_orphan))
        log = self.log_text()
        self.assertIn(f"deferred/{truncated}: corrupt queue file: ", log)
        self.assertIn(f"moved to corrupt/{truncated}", log)
        self.assertIn("incoming/not-a-queue-id: file name is not a valid queue "
                      "id; moved to corrupt/", log)
        self.assertIn("incoming/.t123stale: removed stale temporary file", log)

        # postcat names the reader's reason and exits non-zero.
        out = self.run_tool("postcat", "-q", truncated)
        self.assertEqual(out.returncode, 1)
        self.assertEqual(out.stdout, "")
        self.assertRegex(out.stderr, rf"^postcat: error: corrupt/{truncated}: "
                                     r"corrupt queue file: .*truncated")
        # A second run finds nothing more to do.
        out = self.run_tool("postsuper", "-s")
        self.assertEqual((out.returncode, out.stderr), (0, ""))

    def test_purge_only_removes_temporary_files(self):
        stale = self.path("deferred", ".tstale")
        with open(stale, "w") as f:
            f.write("x")
        os.utime(stale, (1, 1))
        badname = self.path("deferred", "bad.name")
        with open(badname, "w") as f:
            f.write("x")
        out = self.run_tool("postsuper", "-p")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertFalse(os.path.exists(stale))
        self.assertTrue(os.path.exists(badname))

    def test_id_renamed_to_match_inode(self):
        qid = self.make("deferred")
        # A restored file keeps its name but gets a new inode: the copy is
        # made while the original exists, so the inodes differ.
        path = self.path("deferred", qid)
        copy = self.path("deferred", ".restored")
        with open(path, "rb") as src, open(copy, "wb") as dst:
            dst.write(src.read())
        os.rename(copy, path)
        with open(self.path("defer", qid), "w") as f:
            f.write("")
        out = self.run_tool("postsuper", "-s")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("postsuper: Renamed to match inode number: 1 message",
                      out.stderr)
        (renamed,) = self.files("deferred")
        self.assertNotEqual(renamed, qid)
        self.assertEqual(renamed[:12], qid[:12])  # same time, new inode part
        self.assertEqual(self.files("defer"), [renamed])

    # ---- postcat ----

    def test_postcat_sections(self):
        qid = self.make("hold", "-r", "a@example.org", "-O", "A@Example.org",
                        "-r", "b@example.org", "-D", "-a", "client_name=host",
                        "-m", "Subject: hi\nFrom: x@y\n\nline 1\nline 2\n")
        out = self.run_tool("postcat", "-q", qid)
        self.assertEqual(out.returncode, 0, out.stderr)
        name = f"hold/{qid}"
        self.assertEqual(out.stdout, (
            f"*** ENVELOPE RECORDS {name} ***\n"
            "message_size: 37\n"
            "message_arrival_time: Sat Nov 23 00:00:00 2024\n"
            "named_attribute: client_name=host\n"
            "sender: sender@example.com\n"
            "original_recipient: A@Example.org\n"
            "recipient: a@example.org\n"
            "done_recipient: b@example.org\n"
            f"*** MESSAGE CONTENTS {name} ***\n"
            "Subject: hi\nFrom: x@y\n\nline 1\nline 2\n"
            f"*** HEADER EXTRACTED {name} ***\n"
            f"*** MESSAGE FILE END {name} ***\n"))
        out = self.run_tool("postcat", "-h", "-q", qid)
        self.assertEqual(out.stdout, f"*** MESSAGE CONTENTS {name} ***\n"
                                     "Subject: hi\nFrom: x@y\n"
                                     f"*** MESSAGE FILE END {name} ***\n")
        out = self.run_tool("postcat", "-b", "-q", qid)
        self.assertEqual(out.stdout, f"*** MESSAGE CONTENTS {name} ***\n"
                                     "line 1\nline 2\n"
                                     f"*** MESSAGE FILE END {name} ***\n")
        out = self.run_tool("postcat", "-e", self.path("hold", qid))
        self.assertTrue(out.stdout.startswith(
            f"*** ENVELOPE RECORDS {self.path('hold', qid)} ***\n"))
        self.assertNotIn("line 1", out.stdout)
        out = self.run_tool("postcat", "-q", "0NOSUCHID00z1")
        self.assertEqual(out.returncode, 1)
        self.assertIn("no such message", out.stderr)


if __name__ == "__main__":
    unittest.main()
