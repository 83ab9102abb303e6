"""test_auth_check.py: the auth service in the user-visible tools.
`postern check` reports a passdb the service cannot use, one clear line
each (a missing passwd-file, a line the service would skip, an unknown
table type, a table that fails to open, an item that is not TYPE:NAME,
an auth_username_format with an unknown variable) and exits 1; `postern
start` only warns (the service answers temporary failures). `postconf
-n` and `postconf auth_...` show the auth parameters."""
import os
import subprocess
import unittest

from agentlib import prog
from instance import Instance


@unittest.skipUnless(os.access(prog("master", "master"), os.X_OK),
                     "master not built")
class AuthCheckTest(unittest.TestCase):
    def setUp(self):
        self.inst = Instance(self)
        self.inst.write_master_cf(
            self.inst.service("auth", "unix", "auth", maxproc=1))
        self.users = os.path.join(self.inst.etc, "users")
        with open(self.users, "w") as f:
            f.write("alice:{PLAIN}secret\n")

    def check(self, main_cf):
        self.inst.write_main_cf(main_cf)
        return self.inst.postern("check")

    def assert_problem(self, main_cf, pattern):
        proc = self.check(main_cf)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertRegex(proc.stderr, r"error: \S+/main\.cf, line \d+: "
                         + pattern)

    def test_readable_passdb_passes(self):
        proc = self.check({"passdb": f"passwd-file:{self.users}",
                           "auth_username_format": "%Ln@%Ld"})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn("passdb", proc.stderr)

    def test_missing_passwd_file(self):
        missing = os.path.join(self.inst.etc, "nosuch")
        self.assert_problem({"passdb": f"passwd-file:{self.users}, "
                                       f"passwd-file:{missing}"},
                            rf"passdb: passwd-file {missing}: .*No such file.*"
                            r"every login will fail temporarily")

    def test_skipped_line(self):
        with open(self.users, "a") as f:
            f.write("root:{PLAIN}x:0:0::/root\n")
        self.assert_problem({"passdb": f"passwd-file:{self.users}"},
                            rf"passdb: passwd-file {self.users}:2: uid")

    def test_unknown_table_type(self):
        self.assert_problem({"passdb": "hsh:/etc/postern/passwords"},
                            r'passdb: hsh:/etc/postern/passwords: unknown '
                            r'table type "hsh"')

    def test_table_that_fails_to_open(self):
        missing = os.path.join(self.inst.etc, "passwords")
        self.assert_problem({"passdb": f"hash:{missing}"},
                            rf"passdb: hash:{missing}: open {missing}\.db: "
                            r"No such file")

    def test_not_type_name(self):
        self.assert_problem({"passdb": "users.txt"},
                            r"passdb: users\.txt: not TYPE:NAME")

    def test_unknown_username_variable(self):
        self.assert_problem({"passdb": f"passwd-file:{self.users}",
                             "auth_username_format": "%Lu@%{service}"},
                            r'auth_username_format: unknown variable '
                            r'"%\{service\}"')

    def test_start_warns_but_runs(self):
        self.inst.write_main_cf({"passdb": "hsh:/etc/x"})
        proc = self.inst.postern("start")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.addCleanup(self.inst.postern, "stop")
        self.assertIn('warning: ', proc.stderr)
        self.assertIn('unknown table type "hsh"', proc.stderr)

    def test_postconf_shows_the_auth_parameters(self):
        self.inst.write_main_cf({"passdb": f"passwd-file:{self.users}",
                                 "auth_username_format": "%Ln"})
        postconf = prog("tools", "postconf")

        def run(*args):
            return subprocess.run([postconf, "-c", self.inst.etc, *args],
                                  capture_output=True, text=True,
                                  timeout=30, check=True).stdout
        shown = run("-n")
        self.assertIn(f"passdb = passwd-file:{self.users}\n", shown)
        self.assertIn("auth_username_format = %Ln\n", shown)
        self.assertEqual(
            run("auth_username_format", "auth_request_timeout",
                "auth_client_idle_timeout", "auth_client_connection_limit",
                "auth_failure_delay"),
            "auth_username_format = %Ln\nauth_request_timeout = 120s\n"
            "auth_client_idle_timeout = 600s\n"
            "auth_client_connection_limit = 500\nauth_failure_delay = 2s\n")
        self.assertEqual(run("-d", "auth_username_format"),
                         "auth_username_format = %Lu\n")


if __name__ == "__main__":
    unittest.main()
