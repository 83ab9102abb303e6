"""test_mail_index_dovecot: Postern's mailbox index (postern.index*, see
docs/mail-index.md) and Debian's Dovecot in the same Maildir. Dovecot
must list no extra folder, serve the mail as before and leave our files
alone; our index must build and open beside Dovecot's dovecot.index*
files and leave those alone. Dovecot's imap binary runs pre-authenticated
on a pipe (no network), our side through tests/helpers/mail_index_tool.
"""

import hashlib
import os
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BUILDDIR = os.path.abspath(os.environ.get("POSTERN_BUILDDIR", TOP))
TOOL = os.path.join(BUILDDIR, "tests", "helpers", "mail_index_tool")
DOVECOT_IMAP = "/usr/lib/dovecot/imap"
NOBODY = 65534


def digests(maildir, prefix):
    out = {}
    for name in sorted(os.listdir(maildir)):
        if name.startswith(prefix) and name != prefix + ".lock":
            with open(os.path.join(maildir, name), "rb") as f:
                out[name] = hashlib.sha256(f.read()).hexdigest()
    return out


class MailIndexBesideDovecot(unittest.TestCase):
    def setUp(self):
        if not os.access(DOVECOT_IMAP, os.X_OK):
            self.skipTest("Debian's dovecot-imapd is not installed")
        if not os.access(TOOL, os.X_OK):
            self.skipTest("tests/helpers/mail_index_tool is not built")
        self.top = tempfile.mkdtemp(prefix="postern-dovecot-")
        os.chmod(self.top, 0o755)
        self.maildir = os.path.join(self.top, "Maildir")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(self.maildir, sub))
        messages = [
            ("cur", "1700000001.M1P1.host:2,S", "From: Anna <anna@example.com>\n"
             "Subject: first\n\nbody one\n"),
            ("cur", "1700000002.M2P1.host:2,", "From: bob@example.org\n"
             "Subject: second\n\nbody two\n"),
            ("new", "1700000003.M3P1.host", "Subject: third\n\nbody three\n"),
        ]
        for sub, name, text in messages:
            with open(os.path.join(self.maildir, sub, name), "w") as f:
                f.write(text)
        self.as_root = os.geteuid() == 0
        uid = NOBODY if self.as_root else os.getuid()
        gid = NOBODY if self.as_root else os.getgid()
        self.conf = os.path.join(self.top, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write("mail_location = maildir:%s\n" % self.maildir
                    + "mail_uid = %d\nmail_gid = %d\n" % (uid, gid)
                    + "first_valid_uid = 0\nfirst_valid_gid = 0\n"
                    + "base_dir = %s/run\n" % self.top
                    + "log_path = %s/dovecot.log\n" % self.top
                    + "userdb {\n  driver = static\n  args = uid=%d gid=%d home=%s\n}\n"
                    % (uid, gid, self.top))
        self.uid, self.gid = uid, gid

    def tearDown(self):
        shutil.rmtree(self.top, ignore_errors=True)

    def chown_all(self):
        if not self.as_root:
            return
        for root, dirs, files in os.walk(self.top):
            for name in dirs + files:
                os.chown(os.path.join(root, name), self.uid, self.gid)
        os.chown(self.top, self.uid, self.gid)

    def dovecot(self, commands):
        self.chown_all()
        argv = [DOVECOT_IMAP, "-c", self.conf]
        if self.as_root:
            argv = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                    "--clear-groups"] + argv
        script = "".join("t%d %s\r\n" % (i, c) for i, c in enumerate(commands))
        script += "z LOGOUT\r\n"
        env = {"USER": "test", "HOME": self.top, "PATH": os.environ["PATH"]}
        proc = subprocess.run(argv, input=script.encode(), capture_output=True,
                              env=env, timeout=60)
        text = proc.stdout.decode(errors="replace")
        self.assertIn("z OK", text, text + proc.stderr.decode(errors="replace"))
        return text

    def tool(self, *args):
        proc = subprocess.run([TOOL] + list(args), capture_output=True,
                              timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        return proc.stdout.decode()

    def test_dovecot_ignores_and_keeps_our_index(self):
        self.tool("build", self.maildir, "1234")
        ours = digests(self.maildir, "postern.index")
        self.assertEqual(sorted(ours), ["postern.index", "postern.index.cache",
                                        "postern.index.log"])
        before = self.tool("dump", self.maildir)
        text = self.dovecot(['LIST "" "*"', "SELECT INBOX",
                             "FETCH 1:* (UID FLAGS ENVELOPE)",
                             "STORE 2 +FLAGS (\\Flagged)"])
        lists = [l for l in text.splitlines() if l.startswith("* LIST")]
        self.assertEqual(len(lists), 1, text)
        self.assertIn("INBOX", lists[0])
        self.assertIn("* 3 EXISTS", text)
        self.assertIn('"first"', text)
        self.assertTrue(any(n.startswith("dovecot.index")
                            for n in os.listdir(self.maildir)))
        self.assertEqual(digests(self.maildir, "postern.index"), ours)
        self.assertEqual(self.tool("dump", self.maildir), before)
        self.assertIn('1 8 1700000001.M1P1.host (NIL "first" (("Anna" NIL '
                      '"anna" "example.com"))', before)

    def test_our_index_beside_dovecot_files(self):
        self.dovecot(["SELECT INBOX", "FETCH 1:* (UID FLAGS)"])
        theirs = digests(self.maildir, "dovecot")
        self.assertTrue(theirs)
        self.tool("build", self.maildir, "99")
        dump = self.tool("dump", self.maildir)
        self.assertTrue(dump.startswith("uidvalidity=99 next_uid=4 count=3 "),
                        dump)
        self.assertEqual(digests(self.maildir, "dovecot"), theirs)
        text = self.dovecot(["SELECT INBOX", "FETCH 1:* (UID)"])
        self.assertIn("* 3 EXISTS", text)


if __name__ == "__main__":
    unittest.main()
