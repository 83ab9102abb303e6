"""test_auth_passdb.py: where the auth service finds passwords (passdb),
over its real socket: a hash: table built by postmap with Dovecot-style
extra fields, virtual users whose mailbox identity comes from the
virtual maps exactly as virtual delivery finds it, a passwd-file changed
on disk (re-read without a reload), and `postern reload` picking up a
new passdb list."""
import os
import subprocess
import time
import unittest

from auth_util import AuthClient, start_auth_instance

USERS = ("alice:{PLAIN}secret:1001:1001::/home/alice\n"
         "v@ex.org:{PLAIN}vpass\n"
         "m@ex.org:{PLAIN}mpass\n"
         "nomap@ex.org:{PLAIN}npass\n")

VIRTUAL = {
    "virtual_mailbox_base": "/var/vmail",
    "virtual_mailbox_maps": "inline:{ v@ex.org=ex.org/v/, m@ex.org=ex.org/m.mbox }",
    "virtual_uid_maps": "static:5000",
    "virtual_gid_maps": "static:5001",
    "virtual_minimum_uid": "100",
}


class PassdbTest(unittest.TestCase):
    def setUp(self):
        self.inst, self.path, self.users_path = start_auth_instance(
            self, USERS, VIRTUAL)

    def client(self):
        c = AuthClient(self.path).start()
        self.addCleanup(c.close)
        return c

    def test_virtual_user_identity_for_imap(self):
        c = self.client()
        cmd, _, params, _ = c.login(1, "v@ex.org", "vpass", service="imap")
        self.assertEqual(cmd, "OK")
        self.assertEqual(params, {"user": "v@ex.org", "uid": "5000",
                                  "gid": "5001", "home": "/var/vmail/ex.org/v",
                                  "mail": "maildir:/var/vmail/ex.org/v"})
        cmd, _, params, _ = c.login(2, "m@ex.org", "mpass", service="pop3")
        self.assertEqual((cmd, params["mail"]),
                         ("OK", "mbox:/var/vmail/ex.org/m.mbox"))
        # SMTP gets the user name only.
        (cmd, _, params, _), _ = c.plain(3, "v@ex.org", "vpass")
        self.assertEqual((cmd, params), ("OK", {"user": "v@ex.org"}))
        # Not in virtual_mailbox_maps: a temporary failure, with the reason
        # logged, for imap; smtp does not need the maps.
        mark = self.inst.log_mark()
        cmd, _, _, raw = c.login(4, "nomap@ex.org", "npass", service="imap")
        self.assertEqual(cmd, "FAIL")
        self.assertIn("temp", raw)
        self.inst.wait_for_log(r"no mailbox identity for service imap: "
                               r"not found in virtual_mailbox_maps",
                               since=mark)
        (cmd, _, _, _), _ = c.plain(5, "nomap@ex.org", "npass")
        self.assertEqual(cmd, "OK")

    def test_hash_table_with_extra_fields(self):
        table = os.path.join(self.inst.etc, "passwords")
        with open(table, "w") as f:
            f.write("carol {PLAIN}tablepw uid=6000 gid=6001 home=/srv/carol "
                    "mail=maildir:~/Maildir quota_storage=2G\n")
        subprocess.run([os.path.join(self.inst.build, "tools", "postmap"),
                        "-c", self.inst.etc, f"hash:{table}"], check=True)
        self.inst.write_main_cf({"passdb": f"hash:{table}, "
                                           f"passwd-file:{self.users_path}"})
        self.inst.reload()
        self.inst.wait_until(lambda: self._login("carol", "tablepw"),
                             what="the new passdb after reload")
        c = self.client()
        cmd, _, params, _ = c.login(1, "carol", "tablepw", service="imap")
        self.assertEqual(params, {"user": "carol", "uid": "6000",
                                  "gid": "6001", "home": "/srv/carol",
                                  "mail": "maildir:~/Maildir",
                                  "quota_storage": "2G"})
        # The passwd-file after it still answers for its users.
        (cmd, _, _, _), _ = c.plain(2, "alice", "secret")
        self.assertEqual(cmd, "OK")

    def _login(self, user, password):
        try:
            c = AuthClient(self.path).start()
        except OSError:
            return False
        try:
            (cmd, _, _, _), _ = c.plain(1, user, password)
            return cmd == "OK"
        finally:
            c.close()

    def test_passwd_file_change_is_read_without_reload(self):
        self.assertTrue(self._login("alice", "secret"))
        time.sleep(1.1)  # mtime granularity and the once-a-second check
        tmp = self.users_path + ".new"
        with open(tmp, "w") as f:
            f.write(USERS.replace("{PLAIN}secret", "{PLAIN}changed"))
        os.chmod(tmp, 0o644)
        os.rename(tmp, self.users_path)
        self.inst.wait_until(lambda: self._login("alice", "changed"),
                             timeout=5, what="the changed password")
        self.assertFalse(self._login("alice", "secret"))
        self.inst.wait_for_log(r"passwd-file .*users: re-read, 4 users")


if __name__ == "__main__":
    unittest.main()
