"""test_showq.py: the queue listing service. An ordinary user runs
mailq / postqueue -p / -j / sendmail -bp against a running instance and
gets the listing from showq (public/showq), formatted exactly as root's
direct reading of the queue formats it; authorized_mailq_users refuses
users with Postfix's message and status; when the mail system is down,
root and mail_owner read the queue directly and others are told it is
down.

Running as root, the ordinary user is `nobody`, run through a preexec
setuid, with the instance's own copies of the programs (nobody may not
reach the build tree). As an ordinary user the listing cases run as
that user (who is then mail_owner) and the cases that need a second
user skip."""
import json
import os
import pwd
import re
import subprocess
import unittest

from instance import Instance, builddir, is_root

QFILE_MAKE = os.path.join(builddir(), "tests", "helpers", "qfile_make")
TOOLS = ("postqueue", "mailq", "sendmail")
EX_UNAVAILABLE = 69
REASON = "connect to example.org[192.0.2.1]:25: Connection refused"


def nobody():
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        raise unittest.SkipTest("no user nobody") from None


def become(entry):
    def preexec():
        os.setgroups([])
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)
    return preexec


class ShowqTestBase(unittest.TestCase):
    main_cf = {}

    def setUp(self):
        for tool in TOOLS:
            if not os.access(os.path.join(builddir(), "tools", tool), os.X_OK):
                self.skipTest(f"tools/{tool} not built")
        if not os.access(os.path.join(builddir(), "showq", "showq"), os.X_OK):
            self.skipTest("showq not built")
        if not os.access(QFILE_MAKE, os.X_OK):
            self.skipTest("tests/helpers/qfile_make not built")
        self.inst = Instance(self, main_cf=dict(self.main_cf))
        for tool in TOOLS:
            self.inst.add_program(tool, os.path.join(builddir(), "tools", tool))
        # sendmail -bp runs postqueue from command_directory.
        self.inst.write_main_cf({"command_directory": self.inst.daemon_dir})
        self.inst.write_master_cf(self.master_cf())
        self.inst.start()
        self.showq_socket = os.path.join(self.inst.queue, "public", "showq")
        self.inst.wait_until(lambda: os.path.exists(self.showq_socket),
                             what="public/showq")
        self.env = dict(os.environ, TZ="UTC")
        self.env.pop("MAIL_CONFIG", None)

    def master_cf(self):
        return self.inst.service("showq", "unix", "showq", private="n")

    def other_user(self):
        """The ordinary user the client runs as (root only)."""
        if not is_root():
            self.skipTest("needs root to run the client as another user")
        return nobody()

    def run_tool(self, tool, *args, user=None):
        """Runs the instance's copy of tool (as user, a pwd entry)."""
        argv = [self.inst.program(tool)]
        argv += ["-C" if tool == "sendmail" else "-c", self.inst.etc, *args]
        return subprocess.run(argv, capture_output=True, text=True,
                              env=self.env, timeout=30,
                              preexec_fn=become(user) if user else None)

    def make(self, queue, *args, arrival=1732320000):
        out = subprocess.run([QFILE_MAKE, os.path.join(self.inst.queue, queue),
                              "-t", str(arrival), *args],
                             capture_output=True, text=True, check=True)
        qid = out.stdout.strip()
        self.own(os.path.join(self.inst.queue, queue, qid))
        return qid

    def own(self, path):
        """Queue files belong to mail_owner, as the real writers make them."""
        if is_root():
            os.chown(path, self.inst.owner_uid, self.inst.owner_gid)

    def rcpt_offset(self, queue, qid, address):
        out = subprocess.run([os.path.join(builddir(), "tools", "postcat"),
                              "-c", self.inst.etc, "-o", "-e",
                              os.path.join(self.inst.queue, queue, qid)],
                             capture_output=True, text=True, env=self.env)
        for line in out.stdout.splitlines():
            fields = line.split()
            if len(fields) == 3 and fields[1] == "recipient:" and fields[2] == address:
                return int(fields[0])
        self.fail(f"no recipient {address} in {qid}:\n{out.stdout}")

    def fill_queue(self):
        """A held, an active and a deferred message (with a reason)."""
        self.active = self.make("active", "-r", "x@example.net")
        self.deferred = self.make("deferred", "-s", "", "-r", "one@example.org",
                                  "-r", "two@example.org", "-D",
                                  "-r", "three@example.org", arrival=1732320060)
        self.held = self.make("hold", "-s", "held@example.com", "-m",
                              "Subject: big\n\n" + "x" * 3000 + "\n")
        offset = self.rcpt_offset("deferred", self.deferred, "one@example.org")
        path = os.path.join(self.inst.queue, "defer", self.deferred)
        with open(path, "w") as f:
            f.write(f"recipient=one@example.org\noffset={offset}\nstatus=4.4.1\n"
                    f"action=delayed\nreason={REASON}\nlog_time=1\n\n")
        self.own(path)


class ShowqListingTest(ShowqTestBase):
    def client(self):
        """Root runs the client as nobody; an ordinary user as itself."""
        return nobody() if is_root() else None

    def test_listing_through_showq_matches_direct_reading(self):
        self.fill_queue()
        user = self.client()
        mark = self.inst.log_mark()
        listing = self.run_tool("postqueue", "-p", user=user)
        self.assertEqual(listing.returncode, 0, listing.stderr)
        # Through showq: no fallback warning.
        self.assertEqual(listing.stderr, "")
        as_json = self.run_tool("postqueue", "-j", user=user)
        self.assertEqual(as_json.returncode, 0, as_json.stderr)
        mailq = self.run_tool("mailq", user=user)
        self.assertEqual(mailq.returncode, 0, mailq.stderr)
        bp = self.run_tool("sendmail", "-bp", user=user)
        self.assertEqual(bp.returncode, 0, bp.stderr)

        heading = ("----Queue ID-----  --Size-- ---Arrival Time---- "
                   "--Sender/Recipient------\n")
        indent = " " * 48
        expected = (
            heading
            + f"{self.active:<17}* {71:>8} Sat Nov 23 00:00:00 sender@example.com\n"
            + indent + "x@example.net\n\n"
            + f"{self.deferred:<17}  {71:>8} Sat Nov 23 00:01:00 MAILER-DAEMON\n"
            + " " * (76 - len(REASON)) + f"({REASON})\n"
            + indent + "one@example.org\n"
            + " " * (76 - 18) + "(reason unavailable)\n"
            + indent + "three@example.org\n\n"
            + f"{self.held:<17}! {3015:>8} Sat Nov 23 00:00:00 held@example.com\n"
            + indent + "rcpt@example.org\n\n"
            + f"-- {(71 * 2 + 3015) // 1024} Kbytes in 3 Requests.\n")
        self.assertEqual(listing.stdout, expected)
        self.assertEqual(mailq.stdout, expected)
        self.assertEqual(bp.stdout, expected)
        objects = [json.loads(line) for line in as_json.stdout.splitlines()]
        self.assertEqual([(o["queue_name"], o["queue_id"]) for o in objects],
                         [("active", self.active), ("deferred", self.deferred),
                          ("hold", self.held)])
        self.assertEqual(objects[1]["recipients"], [
            {"address": "one@example.org", "delay_reason": REASON},
            {"address": "three@example.org"}])
        self.assertEqual(objects[1]["sender"], "MAILER-DAEMON")

        # The same bytes as the direct reading root gets with the mail
        # system down (the other half of the shared code).
        self.inst.stop()
        direct = self.run_tool("postqueue", "-p")
        self.assertEqual(direct.returncode, 0, direct.stderr)
        self.assertIn("warning: Mail system is down -- accessing queue "
                      "directly", direct.stderr)
        self.assertEqual(direct.stdout, expected)
        direct_json = self.run_tool("postqueue", "-j")
        self.assertEqual(direct_json.stdout, as_json.stdout)

    def test_empty_queue(self):
        out = self.run_tool("postqueue", "-p", user=self.client())
        self.assertEqual((out.returncode, out.stdout, out.stderr),
                         (0, "Mail queue is empty\n", ""))
        out = self.run_tool("postqueue", "-j", user=self.client())
        self.assertEqual((out.returncode, out.stdout, out.stderr), (0, "", ""))

    def test_ordinary_user_cannot_read_the_queue_itself(self):
        """What makes showq necessary: the queue is closed to nobody."""
        user = self.other_user()
        self.fill_queue()
        proc = subprocess.run(["ls", os.path.join(self.inst.queue, "deferred")],
                              capture_output=True, preexec_fn=become(user))
        self.assertNotEqual(proc.returncode, 0)


class MailqUsersTest(ShowqTestBase):
    main_cf = {"authorized_mailq_users": "root"}

    def refused(self, proc, program="postqueue", why=""):
        self.assertEqual(proc.returncode, EX_UNAVAILABLE, f"{why} {proc.stderr}")
        self.assertEqual(proc.stdout, "", why)
        self.assertEqual(proc.stderr, f"{program}: fatal: User nobody(65534) "
                                      f"is not allowed to view the mail queue\n",
                         why)

    def test_user_not_in_list_is_refused(self):
        user = self.other_user()
        self.fill_queue()
        mark = self.inst.log_mark()
        self.refused(self.run_tool("postqueue", "-p", user=user))
        self.refused(self.run_tool("postqueue", "-j", user=user))
        self.refused(self.run_tool("mailq", user=user), "mailq")
        # showq says so in the log, with the kernel's uid.
        self.inst.wait_for_log(r"postern/showq\[\d+\]: refused queue listing "
                               r"for nobody\(65534\): not in "
                               r"authorized_mailq_users", since=mark)
        # root (and mail_owner) always pass.
        out = self.run_tool("postqueue", "-p")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(self.deferred, out.stdout)

    def test_tables_and_negation(self):
        user = self.other_user()
        cases = [
            ("inline:{ someone=yes }", False),
            ("inline:{ nobody=yes }", True),
            ("!nobody, static:anyone", False),
            ("root, nobody", True),
            ("", False),
            ("static:root", True),  # static: matches everyone, as in Postfix
        ]
        # (No subTest: tests/run does not count subtest failures.)
        for value, allowed in cases:
            self.inst.write_main_cf({"authorized_mailq_users": value})
            self.inst.reload()
            out = self.run_tool("postqueue", "-p", user=user)
            why = f"authorized_mailq_users = {value}:"
            if allowed:
                self.assertEqual(out.returncode, 0, f"{why} {out.stderr}")
                self.assertEqual(out.stdout, "Mail queue is empty\n", why)
            else:
                self.refused(out, why=why)


class MailSystemDownTest(ShowqTestBase):
    def test_down(self):
        self.fill_queue()
        self.inst.stop()
        if is_root():
            out = self.run_tool("postqueue", "-p", user=nobody())
            self.assertEqual(out.returncode, EX_UNAVAILABLE, out.stderr)
            self.assertEqual(out.stdout, "")
            self.assertRegex(
                out.stderr,
                r"^postqueue: fatal: Queue report unavailable - mail system "
                r"is down \(Connect to the Postern showq service: "
                r"(No such file or directory|Connection refused)\)\n$")
            out = self.run_tool("mailq", user=nobody())
            self.assertEqual(out.returncode, EX_UNAVAILABLE, out.stderr)
            self.assertIn("mail system is down", out.stderr)
        # root or mail_owner (the ordinary user running the suite is the
        # instance's mail_owner) read the queue themselves, with a warning.
        out = self.run_tool("postqueue", "-p")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stderr, r"^postqueue: warning: Mail system is "
                                     r"down -- accessing queue directly")
        for qid in (self.active, self.deferred, self.held):
            self.assertIn(qid, out.stdout)
        if is_root():
            # mail_owner too, not only root.
            owner = pwd.getpwnam(self.inst.mail_owner)
            out = self.run_tool("postqueue", "-p", user=owner)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn(self.deferred, out.stdout)


if __name__ == "__main__":
    unittest.main()
