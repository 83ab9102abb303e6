"""test_auth_userdb.py: the auth service's userdb socket,
private/auth-userdb (master.cf: `auth-userdb unix - - n - 1 auth`),
asked by Dovecot's own client, `doveadm user -a SOCKET NAME`: a user
with uid, gid, home and mail in the passwd-file, a virtual user whose
identity comes from the virtual maps, a name folded by
auth_username_format, and an unknown user (NOTFOUND: doveadm exits 67, EX_NOUSER). Also the
raw protocol with a client written here."""
import os
import shutil
import subprocess
import unittest

from auth_util import AuthClient
from instance import Instance

USERS = ("alice@example.test:{PLAIN}secret:1001:1001::/home/alice::"
         "mail=maildir:~/Maildir\n"
         "vuser@example.test:{PLAIN}pw\n")


class AuthUserdbTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        inst = cls.inst = Instance()
        try:
            users = os.path.join(inst.etc, "users")
            with open(users, "w") as f:
                f.write(USERS)
            vmailbox = os.path.join(inst.etc, "vmailbox")
            with open(vmailbox, "w") as f:
                f.write("vuser@example.test example.test/vuser/\n")
            inst.write_main_cf({
                "passdb": f"passwd-file:{users}",
                "virtual_mailbox_base": "/var/vmail",
                "virtual_mailbox_maps": f"texthash:{vmailbox}",
                "virtual_uid_maps": "static:5000",
                "virtual_gid_maps": "static:5000"})
            inst.write_master_cf(
                inst.service("auth", "unix", "auth", maxproc=1) +
                inst.service("auth-userdb", "unix", "auth", maxproc=1))
            inst.start()
            cls.path = os.path.join(inst.queue, "private", "auth-userdb")
            inst.wait_until(lambda: os.path.exists(cls.path),
                            what="private/auth-userdb")
        except Exception:
            inst.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def raw(self, *lines):
        c = AuthClient(self.path)
        self.addCleanup(c.close)
        hello = [c.line(), c.line()]
        for line in lines:
            c.send(line)
        return hello, c

    def test_raw_protocol(self):
        hello, c = self.raw("VERSION\t1\t1",
                            "USER\t1\tAlice@Example.Test\tservice=imap",
                            "USER\t2\tnobody@example.test\tservice=imap",
                            "USER\t3\tvuser@example.test")
        self.assertEqual(hello[0], "VERSION\t1\t1")
        self.assertRegex(hello[1], r"^SPID\t\d+$")
        self.assertEqual(c.line(), "USER\t1\talice@example.test\tuid=1001\t"
                                   "gid=1001\thome=/home/alice\t"
                                   "mail=maildir:~/Maildir")
        self.assertEqual(c.line(), "NOTFOUND\t2")
        self.assertEqual(c.line(), "USER\t3\tvuser@example.test\tuid=5000\t"
                                   "gid=5000\t"
                                   "home=/var/vmail/example.test/vuser\t"
                                   "mail=maildir:/var/vmail/example.test/"
                                   "vuser")
        # Another command closes the connection.
        c.send("LIST\t4")
        with self.assertRaises((EOFError, ConnectionResetError)):
            c.line()

    @unittest.skipUnless(shutil.which("doveadm"), "doveadm (dovecot-core) is "
                         "not installed (scripts/install-deps --test)")
    def test_doveadm_user(self):
        def doveadm(name):
            return subprocess.run(["doveadm", "user", "-u", "-a", self.path,
                                   name], capture_output=True, text=True,
                                  timeout=60)
        found = doveadm("Alice@Example.Test")
        self.assertEqual(found.returncode, 0, found.stdout + found.stderr)
        for field in ("alice@example.test", "uid", "1001", "gid",
                      "/home/alice", "maildir:~/Maildir"):
            self.assertIn(field, found.stdout)
        virtual = doveadm("vuser@example.test")
        self.assertEqual(virtual.returncode, 0, virtual.stdout + virtual.stderr)
        self.assertIn("/var/vmail/example.test/vuser", virtual.stdout)
        self.assertIn("5000", virtual.stdout)
        missing = doveadm("nobody@example.test")
        # EX_NOUSER: doveadm read our NOTFOUND.
        self.assertEqual(missing.returncode, 67,
                         missing.stdout + missing.stderr)
        self.assertIn("doesn't exist", missing.stdout + missing.stderr)


if __name__ == "__main__":
    unittest.main()
