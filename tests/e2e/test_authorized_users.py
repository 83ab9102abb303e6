"""test_authorized_users.py: authorized_flush_users, enforced by qmgr on
its public socket (postqueue -f / -s / -i, sendmail -q), and
authorized_submit_users, enforced by smtpd on public/submit (sendmail).
The clients print Postfix's messages and exit with Postfix's statuses.

The uid checked is the kernel's (SO_PEERCRED). Running as root, the
refused user is `nobody`, run through a preexec setuid with the
instance's own copies of the programs; the flush cases need that and
skip otherwise (the user running the suite is the instance's mail_owner,
who may always flush). The submit cases run as the current user too:
authorized_submit_users has no exemption for root or mail_owner, as in
Postfix."""
import os
import pwd
import subprocess
import time
import unittest

from instance import Instance, builddir, is_root
from smtpd_util import SmtpdInstance

QFILE_MAKE = os.path.join(builddir(), "tests", "helpers", "qfile_make")
EX_UNAVAILABLE = 69
EX_TEMPFAIL = 75


def become(entry):
    def preexec():
        os.setgroups([])
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)
    return preexec


def nobody():
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        raise unittest.SkipTest("no user nobody") from None


def tool_path(name):
    path = os.path.join(builddir(), "tools", name)
    if not os.access(path, os.X_OK):
        raise unittest.SkipTest(f"tools/{name} not built")
    return path


class FlushUsersTest(unittest.TestCase):
    """A deferred message whose retry time is an hour away, for a domain
    that transport_maps discards: it leaves deferred/ only when a flush
    is honoured."""

    def setUp(self):
        if not os.access(QFILE_MAKE, os.X_OK):
            self.skipTest("tests/helpers/qfile_make not built")
        self.inst = Instance(self, main_cf={
            "authorized_flush_users": "root",
            "transport_maps": "inline:{ example.org=discard: }",
            "queue_run_delay": "1s",
        })
        for name in ("postqueue", "sendmail"):
            self.inst.add_program(name, tool_path(name))
        self.inst.write_master_cf(self.inst.service(
            "qmgr", "unix", "qmgr", private="n", wakeup=1, maxproc=1))
        self.inst.start()
        self.inst.wait_until(lambda: os.path.exists(
            os.path.join(self.inst.queue, "public", "qmgr")), what="public/qmgr")
        self.env = dict(os.environ)
        self.env.pop("MAIL_CONFIG", None)

    def deferred_message(self):
        out = subprocess.run([QFILE_MAKE, os.path.join(self.inst.queue, "deferred"),
                              "-r", "rcpt@example.org"],
                             capture_output=True, text=True, check=True)
        qid = out.stdout.strip()
        path = os.path.join(self.inst.queue, "deferred", qid)
        if is_root():
            os.chown(path, self.inst.owner_uid, self.inst.owner_gid)
        later = time.time() + 3600  # the retry time is the mtime
        os.utime(path, (later, later))
        return qid

    def in_deferred(self, qid):
        return os.path.exists(os.path.join(self.inst.queue, "deferred", qid))

    def run_tool(self, tool, *args, user=None):
        argv = [self.inst.program(tool),
                "-C" if tool == "sendmail" else "-c", self.inst.etc, *args]
        return subprocess.run(argv, capture_output=True, text=True,
                              env=self.env, timeout=60,
                              preexec_fn=become(user) if user else None)

    def test_refused_user_cannot_flush(self):
        if not is_root():
            self.skipTest("needs root to run postqueue as another user")
        user = nobody()
        qid = self.deferred_message()
        mark = self.inst.log_mark()
        refusal = ("User nobody(65534) is not allowed to flush the mail "
                   "queue\n")
        for args in (["-f"], ["-s", "example.org"], ["-i", qid]):
            out = self.run_tool("postqueue", *args, user=user)
            self.assertEqual(out.returncode, EX_UNAVAILABLE, (args, out.stderr))
            self.assertEqual(out.stderr, "postqueue: fatal: " + refusal, args)
        out = self.run_tool("sendmail", "-q", user=user)
        self.assertEqual(out.returncode, EX_UNAVAILABLE, out.stderr)
        self.assertEqual(out.stderr, "sendmail: fatal: " + refusal)
        # qmgr refused them (the client never reads the setting) ...
        self.inst.wait_for_log(r"postern/qmgr\[\d+\]: refused flush request "
                               r"from nobody\(65534\): not in "
                               r"authorized_flush_users", since=mark, count=4)
        # ... and did not act on them.
        time.sleep(1.5)
        self.assertTrue(self.in_deferred(qid))
        # root may.
        out = self.run_tool("postqueue", "-i", qid)
        self.assertEqual((out.returncode, out.stderr), (0, ""))
        self.inst.wait_until(lambda: not self.in_deferred(qid),
                             what="the flushed message to leave deferred/")
        self.assertRegex(self.inst.log_since(mark),
                         rf"{qid}: to=<rcpt@example.org>, .*status=sent \(discarded\)")

    def test_listed_user_may_flush(self):
        if is_root():
            user = nobody()
            self.inst.write_main_cf({"authorized_flush_users": "nobody"})
            self.inst.reload()
        else:
            # The current user is mail_owner: always allowed.
            user = None
        qid = self.deferred_message()
        out = self.run_tool("postqueue", "-f", user=user)
        self.assertEqual((out.returncode, out.stderr), (0, ""))
        self.inst.wait_until(lambda: not self.in_deferred(qid),
                             what="the flushed message to leave deferred/")


class SubmitUsersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = SmtpdInstance()
        cls.inst.add_program("sendmail", tool_path("sendmail"))

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def setUp(self):
        self.mark = self.inst.log_mark()

    def set_users(self, value):
        self.inst.write_main_cf({"authorized_submit_users": value})
        self.inst.reload()

    def tearDown(self):
        self.set_users("static:anyone")

    def sendmail(self, user=None, args=("bob@example.test",),
                 message=b"Subject: acl\n\nx\n"):
        return subprocess.run([self.inst.program("sendmail"), "-C", self.inst.etc,
                               *args], input=message, capture_output=True,
                              timeout=30,
                              preexec_fn=become(user) if user else None)

    def me(self):
        return pwd.getpwuid(os.getuid())

    def assert_refused(self, entry, user=None):
        before = set(self.inst.incoming())
        proc = self.sendmail(user=user)
        self.assertEqual(proc.returncode, EX_TEMPFAIL, proc.stderr)
        self.assertEqual(proc.stderr.decode(),
                         f"sendmail: fatal: User {entry.pw_name}({entry.pw_uid}) "
                         f"is not allowed to submit mail\n")
        self.assertEqual(set(self.inst.incoming()), before)
        self.inst.wait_for_log(
            rf"postern/smtpd\[\d+\]: reject: connect from localhost\[127\.0\.0\.1\] "
            rf"uid={entry.pw_uid}: User {entry.pw_name}\({entry.pw_uid}\) is not "
            rf"allowed to submit mail", since=self.mark)

    def test_user_not_listed_is_refused(self):
        me = self.me()
        self.set_users(f"!{me.pw_name}, static:anyone")
        self.assert_refused(me)
        # -bs shows the refusal as the SMTP greeting.
        proc = self.sendmail(args=("-bs",), message=b"QUIT\r\n")
        self.assertIn(f"554 5.7.1 User {me.pw_name}({me.pw_uid}) is not allowed "
                      f"to submit mail".encode(), proc.stdout)

    def test_default_lets_everyone_submit(self):
        before = set(self.inst.incoming())
        proc = self.sendmail()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(len(set(self.inst.incoming()) - before), 1)

    def test_root_is_not_exempt_and_lists_work(self):
        if not is_root():
            self.skipTest("needs root to submit as another user")
        self.set_users("nobody")
        self.assert_refused(pwd.getpwuid(0))
        before = set(self.inst.incoming())
        proc = self.sendmail(user=nobody(), args=("-f", "nobody@example.test",
                                                  "bob@example.test"))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(len(set(self.inst.incoming()) - before), 1)
        self.mark = self.inst.log_mark()
        self.set_users("root")
        self.assert_refused(nobody(), user=nobody())


if __name__ == "__main__":
    unittest.main()
