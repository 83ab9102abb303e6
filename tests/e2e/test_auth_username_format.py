"""test_auth_username_format.py: auth_username_format through the real
service. With Dovecot's default %Lu, a login as Alice@Example.Test finds
the passwd-file entry alice@example.test and the OK names the folded
user; %Ln@example.test maps every domain's spelling onto one; an unknown
variable stops the service at start with a fatal line naming it."""
import os
import unittest

from auth_util import AuthClient, start_auth_instance
from instance import Instance

USERS = "alice@example.test:{PLAIN}secret\n"


class UsernameFormatTest(unittest.TestCase):
    def login(self, main_cf, user, password):
        inst, path, _ = start_auth_instance(self, USERS, main_cf)
        c = AuthClient(path).start()
        self.addCleanup(c.close)
        (cmd, _, params, _), _ = c.plain(1, user, password, rip="192.0.2.60")
        return inst, cmd, params

    def test_default_folds_case(self):
        inst, cmd, params = self.login(None, "Alice@Example.Test", "secret")
        self.assertEqual((cmd, params), ("OK", {"user": "alice@example.test"}))
        inst.wait_for_log(r"passwd-file\(alice@example\.test,192\.0\.2\.60\): "
                          r"authenticated")

    def test_exact_names_with_plain_u(self):
        _, cmd, params = self.login({"auth_username_format": "%u"},
                                    "Alice@Example.Test", "secret")
        self.assertEqual((cmd, params["user"]), ("FAIL", "Alice@Example.Test"))

    def test_long_names_and_literal_domain(self):
        _, cmd, params = self.login(
            {"auth_username_format": "%L{username}@example.test"},
            "ALICE@elsewhere.example", "secret")
        self.assertEqual((cmd, params), ("OK", {"user": "alice@example.test"}))

    def test_unknown_variable_is_fatal_at_start(self):
        inst = Instance(self)
        users = os.path.join(inst.etc, "users")
        with open(users, "w") as f:
            f.write(USERS)
        inst.write_main_cf({"passdb": f"passwd-file:{users}",
                            "auth_username_format": "%Lu%{service}"})
        inst.write_master_cf(inst.service("auth", "unix", "auth", maxproc=1))
        inst.start()
        path = os.path.join(inst.queue, "private", "auth")
        inst.wait_until(lambda: os.path.exists(path), what="private/auth")
        try:  # master starts the service on the first connection
            AuthClient(path, timeout=2).start()
        except (OSError, EOFError):
            pass
        inst.wait_for_log(r"postern/auth\[\d+\]: fatal: auth_username_format: "
                          r"unknown variable \"%\{service\}\"")


if __name__ == "__main__":
    unittest.main()
