"""test_postern_user.py: `postern user add|passwd|del|list` on a Dovecot
passwd-file, driven as an administrator would: the password on standard
input or typed at a terminal (a pty), never on the command line. The
hashes it writes are checked with Dovecot's own `doveadm pw -t`
(dovecot-core, installed by scripts/install-deps --test), and the file
is read back line by line: other users, comments and extra fields stay
byte for byte, the mode and owner are kept, concurrent runs lose no
user."""
import os
import pty
import re
import select
import shutil
import subprocess
import unittest

from instance import Instance, is_root

DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"
PASSWORD = "Zw\u00f6lf Boxk\u00e4mpfer jagen Viktor"

ORIGINAL = (
    "# site users: Dovecot passwd-file\n"
    "bob:{PLAIN}old:1000:1000::/home/bob::userdb_mail=maildir:~/Maildir "
    "quota_storage=1G\n"
    "\n"
    "carol@example.org:{SHA512-CRYPT}$6$abc$def::::::nopassword\n"
)


def doveadm_verifies(stored, password):
    proc = subprocess.run([DOVEADM, "-c", "/dev/null", "pw", "-t", stored,
                           "-p", password],
                          capture_output=True, text=True, timeout=60)
    return proc.returncode == 0 and "(verified)" in proc.stdout + proc.stderr


class PosternUserTest(unittest.TestCase):
    def setUp(self):
        self.inst = Instance(self)
        self.users = os.path.join(self.inst.etc, "users")
        self.inst.write_main_cf({"passdb": f"passwd-file:{self.users}"})

    def user(self, *args, password=None, file=None):
        argv = ["user", *args]
        if file:
            argv += ["--file", file]
        return subprocess.run([self.inst.postern_bin, "-c", self.inst.etc,
                               *argv],
                              input=(password + "\n") if password is not None
                              else "", capture_output=True, text=True,
                              timeout=60)

    def write(self, text, mode=0o640):
        with open(self.users, "w") as f:
            f.write(text)
        os.chmod(self.users, mode)

    def read(self):
        with open(self.users) as f:
            return f.read()

    def stored(self, name):
        for line in self.read().splitlines():
            if line.split(":", 1)[0] == name:
                return line.split(":")[1]
        return None

    @unittest.skipUnless(os.access(DOVEADM, os.X_OK),
                         "doveadm missing: scripts/install-deps --test "
                         "installs dovecot-core")
    def test_add_and_passwd_write_hashes_doveadm_verifies(self):
        self.write(ORIGINAL)
        proc = self.user("add", "alice", password=PASSWORD)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(f"added user alice to {self.users}", proc.stderr)
        stored = self.stored("alice")
        self.assertTrue(stored.startswith("{ARGON2ID}$argon2id$"), stored)
        self.assertTrue(doveadm_verifies(stored, PASSWORD))
        self.assertFalse(doveadm_verifies(stored, PASSWORD + "x"))
        self.assertEqual(self.read(), ORIGINAL + f"alice:{stored}\n")

        proc = self.user("passwd", "bob", "--scheme", "SHA512-CRYPT",
                         password="new one")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        stored = self.stored("bob")
        self.assertTrue(stored.startswith("{SHA512-CRYPT}$6$"), stored)
        self.assertTrue(doveadm_verifies(stored, "new one"))
        # Only bob's password column changed.
        expected = ORIGINAL.replace("bob:{PLAIN}old:", f"bob:{stored}:")
        self.assertEqual(self.read(), expected + f"alice:{self.stored('alice')}\n")

    def test_list_and_del(self):
        self.write(ORIGINAL)
        proc = self.user("list")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.splitlines(), ["bob", "carol@example.org"])
        proc = self.user("del", "bob")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(self.read(), ORIGINAL.replace(
            "bob:{PLAIN}old:1000:1000::/home/bob::userdb_mail=maildir:~/Maildir "
            "quota_storage=1G\n", ""))
        self.assertEqual(self.user("list").stdout.splitlines(),
                         ["carol@example.org"])

    def test_refusals_leave_the_file_alone(self):
        self.write(ORIGINAL)
        proc = self.user("add", "bob", password="x")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("user bob already exists", proc.stderr)
        proc = self.user("del", "nobody")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("no user nobody", proc.stderr)
        proc = self.user("passwd", "nobody", password="x")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("no user nobody", proc.stderr)
        proc = self.user("add", "eve", password="")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("empty password", proc.stderr)
        # Never a password on the command line: an extra word is a usage
        # error, not a password.
        proc = self.user("add", "eve", "secret", password="x")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("usage:", proc.stderr)
        proc = self.user("add", "eve", "--scheme", "PLAIN", password="x")
        self.assertEqual(proc.returncode, 2)
        proc = self.user("--help")
        self.assertEqual(proc.returncode, 0)
        self.assertTrue(proc.stdout.startswith("usage: postern"), proc.stdout)
        self.assertEqual(self.read(), ORIGINAL)

    def test_file_option_and_missing_passdb(self):
        other = os.path.join(self.inst.etc, "other-users")
        proc = self.user("add", "dave", password="pw", file=other)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(os.stat(other).st_mode & 0o777, 0o640)
        self.assertFalse(os.path.exists(self.users))
        self.inst.write_main_cf({"passdb": ""})
        proc = self.user("list")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("no passwd-file: give --file PATH", proc.stderr)

    @unittest.skipUnless(is_root(), "needs root: files owned by other users")
    def test_mode_and_owner_are_kept_and_new_files_get_mail_owner_group(self):
        self.write(ORIGINAL, mode=0o600)
        os.chown(self.users, 4321, 4322)
        proc = self.user("add", "alice", password="pw")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        st = os.stat(self.users)
        self.assertEqual((st.st_mode & 0o7777, st.st_uid, st.st_gid),
                         (0o600, 4321, 4322))
        os.unlink(self.users)
        proc = self.user("add", "alice", password="pw")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        st = os.stat(self.users)
        self.assertEqual((st.st_mode & 0o7777, st.st_uid, st.st_gid),
                         (0o640, 0, self.inst.owner_gid))

    def test_concurrent_runs_lose_no_user(self):
        self.write(ORIGINAL)
        procs = [subprocess.Popen([self.inst.postern_bin, "-c", self.inst.etc,
                                   "user", "add", f"user{i}"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
                 for i in range(8)]
        for p in procs:
            p.stdin.write("pw\n")
            p.stdin.close()
        for p in procs:
            self.assertEqual(p.wait(60), 0, p.stderr.read())
            p.stdout.close()
            p.stderr.close()
        names = self.user("list").stdout.splitlines()
        self.assertEqual(sorted(names),
                         sorted(["bob", "carol@example.org"]
                                + [f"user{i}" for i in range(8)]))
        self.assertTrue(self.read().startswith(ORIGINAL))
        leftovers = [n for n in os.listdir(self.inst.etc) if ".tmp" in n]
        self.assertEqual(leftovers, [])

    # ---- at a terminal ----

    def run_at_terminal(self, typed):
        """Runs `postern user add alice` on a pty, typing each of `typed`
        after each prompt; returns (exit status, everything shown)."""
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(self.inst.postern_bin, [self.inst.postern_bin, "-c",
                                             self.inst.etc, "user", "add",
                                             "alice"])
        shown = b""
        answers = list(typed)
        prompts = 0
        try:
            while True:
                ready, _, _ = select.select([fd], [], [], 30)
                if not ready:
                    os.kill(pid, 9)  # stuck at a prompt: fail, do not hang
                    break
                try:
                    chunk = os.read(fd, 1024)
                except OSError:
                    break
                if not chunk:
                    break
                shown += chunk
                while answers and len(re.findall(rb"password.*: ", shown)) > prompts:
                    prompts += 1
                    os.write(fd, answers.pop(0).encode() + b"\n")
        finally:
            _, status = os.waitpid(pid, 0)
            os.close(fd)
        return os.waitstatus_to_exitcode(status), shown.decode("utf-8", "replace")

    @unittest.skipUnless(os.access(DOVEADM, os.X_OK), "doveadm missing")
    def test_terminal_asks_twice_without_echo(self):
        code, shown = self.run_at_terminal(["typed secret", "typed secret"])
        self.assertEqual(code, 0, shown)
        self.assertIn("New password for alice: ", shown)
        self.assertIn("Retype new password: ", shown)
        self.assertNotIn("typed secret", shown)
        self.assertTrue(doveadm_verifies(self.stored("alice"), "typed secret"))

    def test_terminal_mismatch_is_refused(self):
        code, shown = self.run_at_terminal(["one", "two"])
        self.assertEqual(code, 1, shown)
        self.assertIn("the passwords do not match", shown)
        self.assertNotIn("one", shown.replace("done", ""))
        self.assertFalse(os.path.exists(self.users))


if __name__ == "__main__":
    unittest.main()
