"""test_postconf.py: drives tools/postconf on a temporary -c directory.

Covers showing parameters (-n, -d, -h, -x, names, unknown names),
editing main.cf (-e, -#, -X) with comments and modes preserved, master.cf
(-M, -Me, -M#, -MX), errors naming file and line, and that the committed
docs/parameters.md matches the parameter table."""
import os
import stat
import subprocess
import tempfile
import unittest

BUILDDIR = os.environ.get("POSTERN_BUILDDIR", os.path.join(os.path.dirname(__file__), "..", ".."))
POSTCONF = os.path.join(BUILDDIR, "tools", "postconf")
TOP = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

MAIN_CF = """\
# Site configuration
myhostname = mail.example.com
mydestination = $myhostname,
    localhost.$mydomain
# keep this comment
relayhost = [first.example]
message_size_limit = 52428800
relayhost = [second.example]
helper = permit_mynetworks
smtpd_client_restrictions = $helper, reject
"""

MASTER_CF = """\
# service type  private unpriv  chroot  wakeup  maxproc command + args
smtp      inet  n       -       y       -       -       smtpd
submission inet n       -       y       -       -       smtpd
  -o syslog_name=postfix/submission
  -o { smtpd_client_restrictions = permit_sasl_authenticated, reject }
pickup    unix  n       -       y       60      1       pickup
qmgr      unix  n       -       n       300     1       qmgr
"""


class PostconfTest(unittest.TestCase):
    def setUp(self):
        if not os.access(POSTCONF, os.X_OK):
            self.skipTest(f"{POSTCONF} not built")
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.write("main.cf", MAIN_CF)
        self.write("master.cf", MASTER_CF)

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, text):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(text)

    def read(self, name):
        with open(os.path.join(self.dir, name)) as f:
            return f.read()

    def run_postconf(self, *args, env=None, use_c=True, check=True):
        cmd = [POSTCONF] + (["-c", self.dir] if use_c else []) + list(args)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30,
                              env=env)
        if check and proc.returncode != 0:
            self.fail(f"{cmd} exited {proc.returncode}: {proc.stderr}")
        return proc

    # ---- showing ----

    def test_named_parameters_raw_and_expanded(self):
        out = self.run_postconf("myhostname", "mydestination", "relay_domains").stdout
        self.assertEqual(out, "myhostname = mail.example.com\n"
                              "mydestination = $myhostname, localhost.$mydomain\n"
                              "relay_domains =\n")
        out = self.run_postconf("-x", "mydestination", "mydomain", "smtpd_banner").stdout
        self.assertEqual(out, "mydestination = mail.example.com, localhost.example.com\n"
                              "mydomain = example.com\n"
                              "smtpd_banner = mail.example.com ESMTP Postern\n")
        # The last definition wins.
        self.assertEqual(self.run_postconf("-h", "relayhost").stdout, "[second.example]\n")
        self.assertEqual(self.run_postconf("-h", "relay_domains").stdout, "\n")
        self.assertEqual(self.run_postconf("-hx", "smtpd_client_restrictions").stdout,
                         "permit_mynetworks, reject\n")

    def test_non_default_is_sorted_main_cf_content(self):
        out = self.run_postconf("-n").stdout
        self.assertEqual(out, "helper = permit_mynetworks\n"
                              "message_size_limit = 52428800\n"
                              "mydestination = $myhostname, localhost.$mydomain\n"
                              "myhostname = mail.example.com\n"
                              "relayhost = [second.example]\n"
                              "smtpd_client_restrictions = $helper, reject\n")

    def test_defaults_ignore_main_cf(self):
        out = self.run_postconf("-d", "message_size_limit", "myorigin", "relayhost",
                                "default_process_limit", "max_idle", "append_dot_mydomain",
                                "queue_directory", "mail_owner").stdout
        self.assertEqual(out, "message_size_limit = 10240000\n"
                              "myorigin = $myhostname\n"
                              "relayhost =\n"
                              "default_process_limit = 100\n"
                              "max_idle = 100s\n"
                              "append_dot_mydomain = no\n"
                              "queue_directory = /var/spool/postern\n"
                              "mail_owner = postern\n")
        expanded = self.run_postconf("-dxh", "myorigin").stdout.strip()
        self.assertNotEqual(expanded, "mail.example.com")
        self.assertIn(".", expanded)

    def test_all_parameters_listed_once(self):
        table_rows = [line for line in self.run_postconf("--doc-markdown", use_c=False).stdout.splitlines()
                      if line.startswith("| `")]
        defaults = self.run_postconf("-d").stdout.splitlines()
        self.assertEqual(len(defaults), len(table_rows))
        names = [line.split(" = ")[0].rstrip(" =") for line in defaults]
        self.assertEqual(names, sorted(names))
        # Without -d: the table plus what main.cf defines ("helper").
        actual = self.run_postconf().stdout.splitlines()
        self.assertEqual(len(actual), len(table_rows) + 1)
        self.assertIn("relayhost = [second.example]", actual)

    def test_unknown_and_unused_parameters_warn(self):
        self.write("main.cf", MAIN_CF + "misspeled_parameter = 7\n")
        proc = self.run_postconf("no_such_parameter", "myhostname")
        self.assertEqual(proc.stdout, "myhostname = mail.example.com\n")
        self.assertIn("postconf: warning: no_such_parameter: unknown parameter\n", proc.stderr)
        self.assertIn(f"postconf: warning: {self.dir}/main.cf: unused parameter: "
                      "misspeled_parameter=7\n", proc.stderr)
        # "helper" is referenced, so it is not reported.
        self.assertNotIn("helper", proc.stderr)
        self.assertEqual(proc.stderr.count("unused parameter"), 1)

    def test_mail_config_environment(self):
        env = dict(os.environ, MAIL_CONFIG=self.dir)
        out = self.run_postconf("-h", "myhostname", env=env, use_c=False).stdout
        self.assertEqual(out, "mail.example.com\n")

    def test_syntax_error_names_file_and_line(self):
        self.write("main.cf", "a = 1\n\nthis is wrong\n")
        proc = self.run_postconf("-n", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stdout, "")
        self.assertEqual(proc.stderr, f"postconf: fatal: {self.dir}/main.cf, line 3: "
                                      "missing '=' after parameter name: \"this\"\n")
        os.unlink(os.path.join(self.dir, "main.cf"))
        proc = self.run_postconf("-n", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(f"{self.dir}/main.cf: cannot open", proc.stderr)
        # Defaults need no main.cf.
        self.assertEqual(self.run_postconf("-dh", "max_use").stdout, "100\n")

    def test_expansion_loop_is_a_warning_not_a_crash(self):
        self.write("main.cf", "myhostname = $mydomain\nmydomain = $myhostname\n")
        proc = self.run_postconf("-x", "myhostname", check=False)
        self.assertEqual(proc.returncode, 0)
        self.assertIn("refers to itself", proc.stderr)

    # ---- editing main.cf ----

    def test_edit_round_trip_preserves_the_rest(self):
        os.chmod(os.path.join(self.dir, "main.cf"), 0o640)
        self.run_postconf("-e", "relayhost = [third.example]:587",
                          "mydestination=localhost", "inet_interfaces=127.0.0.1",
                          "message_size_limit=0", "inet_interfaces=loopback-only")
        text = self.read("main.cf")
        self.assertEqual(text, "# Site configuration\n"
                               "myhostname = mail.example.com\n"
                               "mydestination = localhost\n"
                               "# keep this comment\n"
                               "relayhost = [third.example]:587\n"
                               "message_size_limit = 0\n"
                               "helper = permit_mynetworks\n"
                               "smtpd_client_restrictions = $helper, reject\n"
                               "inet_interfaces = loopback-only\n")
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(self.dir, "main.cf")).st_mode), 0o640)
        self.assertEqual(sorted(os.listdir(self.dir)), ["main.cf", "master.cf"])
        out = self.run_postconf("-h", "relayhost", "mydestination", "inet_interfaces").stdout
        self.assertEqual(out, "[third.example]:587\nlocalhost\nloopback-only\n")
        # An edit that changes nothing leaves the same text.
        self.run_postconf("-e", "relayhost=[third.example]:587")
        self.assertEqual(self.read("main.cf"), text)

    def test_edit_creates_missing_main_cf(self):
        os.unlink(os.path.join(self.dir, "main.cf"))
        self.run_postconf("-e", "queue_directory=/tmp/q", "maillog_file=/tmp/log")
        self.assertEqual(self.read("main.cf"), "queue_directory = /tmp/q\nmaillog_file = /tmp/log\n")

    def test_comment_out_and_remove(self):
        self.run_postconf("-#", "mydestination")
        text = self.read("main.cf")
        self.assertIn("#mydestination = $myhostname,\n#    localhost.$mydomain\n", text)
        # Commented out, the default applies again.
        self.assertNotIn("mydestination", self.run_postconf("-n").stdout)
        self.assertEqual(self.run_postconf("mydestination").stdout,
                         "mydestination = $myhostname, localhost.$mydomain, localhost\n")
        self.run_postconf("-X", "relayhost", "helper")
        text = self.read("main.cf")
        self.assertNotIn("relayhost", text)
        self.assertNotIn("helper =", text)
        self.assertIn("# keep this comment\n", text)

    def test_bad_edits_are_refused(self):
        before = self.read("main.cf")
        for args in (["-e", "novalue"], ["-e", "bad name=1"], ["-#", "x=1"]):
            proc = self.run_postconf(*args, check=False)
            self.assertEqual(proc.returncode, 1, args)
            self.assertIn("postconf: fatal:", proc.stderr)
        # A broken main.cf is not made worse.
        self.write("main.cf", before + "broken line\n")
        proc = self.run_postconf("-e", "relayhost=x", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("line 11", proc.stderr)
        self.assertEqual(self.read("main.cf"), before + "broken line\n")

    # ---- master.cf ----

    def test_master_show_normalised(self):
        out = self.run_postconf("-M").stdout
        self.assertEqual(out,
            "smtp       inet  n       -       y       -       -       smtpd\n"
            "submission inet  n       -       y       -       -       smtpd -o syslog_name=postfix/submission "
            "-o { smtpd_client_restrictions = permit_sasl_authenticated, reject }\n"
            "pickup     unix  n       -       y       60      1       pickup\n"
            "qmgr       unix  n       -       n       300     1       qmgr\n")
        self.assertEqual(self.run_postconf("-M", "pickup/unix").stdout,
                         "pickup     unix  n       -       y       60      1       pickup\n")
        self.assertEqual(self.run_postconf("-M", "qmgr").stdout,
                         "qmgr       unix  n       -       n       300     1       qmgr\n")
        self.assertEqual(self.run_postconf("-M", "qmgr/inet").stdout, "")

    def test_master_edit_add_replace_remove(self):
        self.run_postconf("-Me", "submission/inet=submission inet n - n - 10 smtpd "
                          "-o { smtpd_tls_security_level = encrypt }",
                          "127.0.0.1:2525/inet=127.0.0.1:2525 inet n - n - - smtpd")
        text = self.read("master.cf")
        self.assertTrue(text.startswith("# service type"))
        self.assertNotIn("postfix/submission", text)  # continuation lines went with it
        out = self.run_postconf("-M", "submission", "127.0.0.1:2525").stdout
        self.assertEqual(out,
            "submission inet  n       -       n       -       10      smtpd -o smtpd_tls_security_level=encrypt\n"
            "127.0.0.1:2525 inet  n       -       n       -       -       smtpd\n")
        self.run_postconf("-M#", "pickup/unix")
        self.assertIn("#pickup    unix", self.read("master.cf"))
        self.run_postconf("-MX", "127.0.0.1:2525/inet")
        out = self.run_postconf("-M").stdout
        self.assertNotIn("pickup", out)
        self.assertNotIn("2525", out)
        self.assertIn("qmgr", out)

    def test_master_errors(self):
        before = self.read("master.cf")
        proc = self.run_postconf("-Me", "smtp/inet=smtp tcp n - n - - smtpd", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("bad value \"tcp\"", proc.stderr)
        proc = self.run_postconf("-Me", "smtp/inet=other inet n - n - - smtpd", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(self.read("master.cf"), before)
        self.write("master.cf", before + "broken 3 fields\n")
        proc = self.run_postconf("-M", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn(f"{self.dir}/master.cf, line 8: expected at least 8 fields", proc.stderr)

    # ---- documentation ----

    def test_parameters_md_matches_the_table(self):
        generated = self.run_postconf("--doc-markdown", use_c=False).stdout
        with open(os.path.join(TOP, "docs", "parameters.md")) as f:
            committed = f.read()
        self.assertEqual(committed, generated,
                         "docs/parameters.md is stale: run tools/postconf --doc-markdown > docs/parameters.md")


if __name__ == "__main__":
    unittest.main()
