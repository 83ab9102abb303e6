"""test_postconf.py: drives tools/postconf on a temporary -c directory.

Covers showing parameters (-n, -d, -h, -H, -x, -o, -C, names, unknown
names), relational expansion, editing main.cf (-e, -#, -X) with comments
and modes preserved, master.cf entries (-M, -Me, -M#, -MX), fields (-F,
-Fe) and service parameters (-P, -Pe, -PX), bounce templates (-b, -t),
-a/-A/-l/-m/-T, errors naming file and line, and that the committed
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

    def test_value_implies_edit(self):
        # Postfix 2.8 and later: name=value needs no -e, for -P too.
        self.run_postconf("relayhost=[implied.example]", "mynetworks =")
        self.assertEqual(self.run_postconf("-h", "relayhost", "mynetworks").stdout,
                         "[implied.example]\n\n")
        self.run_postconf("-P", "smtp/inet/syslog_name=postern/in")
        self.assertEqual(self.run_postconf("-P", "smtp").stdout,
                         "smtp/inet/syslog_name = postern/in\n")

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

    # ---- master.cf fields and service parameters (-F, -P) ----

    def test_fields_show(self):
        out = self.run_postconf("-F", "submission").stdout
        self.assertEqual(out,
            "submission/inet/service = submission\n"
            "submission/inet/type = inet\n"
            "submission/inet/private = n\n"
            "submission/inet/unprivileged = -\n"
            "submission/inet/chroot = y\n"
            "submission/inet/wakeup = -\n"
            "submission/inet/process_limit = -\n"
            "submission/inet/command = smtpd -o syslog_name=postfix/submission "
            "-o { smtpd_client_restrictions = permit_sasl_authenticated, reject }\n")
        self.assertEqual(self.run_postconf("-F", "*/unix/wakeup").stdout,
                         "pickup/unix/wakeup = 60\nqmgr/unix/wakeup = 300\n")
        self.assertEqual(self.run_postconf("-Fh", "qmgr/*/process_limit").stdout, "1\n")
        self.assertEqual(self.run_postconf("-FH", "smtp/inet/chroot").stdout,
                         "smtp/inet/chroot\n")
        self.assertEqual(len(self.run_postconf("-F").stdout.splitlines()), 4 * 8)
        proc = self.run_postconf("-F", "smtp/inet/maxproc", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("unknown field \"maxproc\"", proc.stderr)

    def test_params_show(self):
        out = self.run_postconf("-P").stdout
        self.assertEqual(out,
            "submission/inet/syslog_name = postfix/submission\n"
            "submission/inet/smtpd_client_restrictions = permit_sasl_authenticated, reject\n")
        self.assertEqual(self.run_postconf("-Ph", "*/*/syslog_name").stdout,
                         "postfix/submission\n")
        self.assertEqual(self.run_postconf("-P", "smtp").stdout, "")
        self.write("master.cf", MASTER_CF + "relay unix - - n - - smtp -o x=$myhostname\n")
        self.assertEqual(self.run_postconf("-Px", "relay").stdout,
                         "relay/unix/x = mail.example.com\n")
        self.assertEqual(self.run_postconf("-P", "relay").stdout,
                         "relay/unix/x = $myhostname\n")

    def test_params_edit(self):
        self.run_postconf("-Pe", "submission/inet/smtpd_tls_security_level=encrypt",
                          "submission/inet/syslog_name = postern/submission",
                          "smtp/inet/smtpd_client_restrictions=permit_mynetworks, reject")
        text = self.read("master.cf")
        self.assertEqual(text,
            "# service type  private unpriv  chroot  wakeup  maxproc command + args\n"
            "smtp       inet  n       -       y       -       -       smtpd\n"
            "  -o { smtpd_client_restrictions = permit_mynetworks, reject }\n"
            "submission inet  n       -       y       -       -       smtpd\n"
            "  -o syslog_name=postern/submission\n"
            "  -o { smtpd_client_restrictions = permit_sasl_authenticated, reject }\n"
            "  -o smtpd_tls_security_level=encrypt\n"
            "pickup    unix  n       -       y       60      1       pickup\n"
            "qmgr      unix  n       -       n       300     1       qmgr\n")
        self.assertEqual(self.run_postconf("-Ph", "smtp/inet/smtpd_client_restrictions").stdout,
                         "permit_mynetworks, reject\n")
        # -PX removes; an edit that changes nothing leaves the file alone.
        self.run_postconf("-PX", "submission/inet/smtpd_client_restrictions",
                          "*/*/smtpd_tls_security_level", "qmgr/unix/not_there")
        text = self.read("master.cf")
        self.assertNotIn("smtpd_tls_security_level", text)
        self.assertNotIn("permit_sasl_authenticated", text)
        self.assertIn("qmgr      unix  n       -       n       300     1       qmgr\n", text)
        self.run_postconf("-Pe", "submission/inet/syslog_name=postern/submission")
        self.assertEqual(self.read("master.cf"), text)
        self.assertEqual(sorted(os.listdir(self.dir)), ["main.cf", "master.cf"])
        # What postconf writes, postconf (and master) read back.
        self.assertEqual(self.run_postconf("-M", "submission").stdout,
                         "submission inet  n       -       y       -       -       smtpd "
                         "-o syslog_name=postern/submission\n")

    def test_fields_edit(self):
        self.run_postconf("-Fe", "*/*/chroot=n", "pickup/unix/process_limit=2",
                          "qmgr/unix/command=qmgr -v")
        out = self.run_postconf("-M").stdout
        self.assertEqual(out,
            "smtp       inet  n       -       n       -       -       smtpd\n"
            "submission inet  n       -       n       -       -       smtpd -o syslog_name=postfix/submission "
            "-o { smtpd_client_restrictions = permit_sasl_authenticated, reject }\n"
            "pickup     unix  n       -       n       60      2       pickup\n"
            "qmgr       unix  n       -       n       300     1       qmgr -v\n")
        # The comment line stays; entries were rewritten in place.
        self.assertTrue(self.read("master.cf").startswith("# service type"))

    def test_field_and_param_errors_change_nothing(self):
        before = self.read("master.cf")
        for args, message in (
                (["-Fe", "smtp/inet/chroot=maybe"], 'field "chroot": bad value "maybe"'),
                (["-Fe", "smtp/inet/wakeup=1 2"], "one word expected"),
                (["-Fe", "smtp/inet/private"], "-e requires service/type/field=value"),
                (["-Fe", "smtp/inet=n"], "expected service/type/field"),
                (["-Fe", "pickup/unix/type=tcp"], 'field "type": bad value "tcp"'),
                (["-Fe", "pickup/unix/service=qmgr"], "duplicate service qmgr/unix"),
                (["-Pe", "nosuch/unix/a=1"], "no master.cf entry matches"),
                (["-Pe", "smtp/inet/bad name=1"], "bad parameter name"),
                (["-PX", "smtp/inet/a=1"], "no value expected"),
                (["-FX", "smtp/inet/chroot"], "-X cannot be used with -F"),
                (["-P#", "smtp/inet/a"], "-# cannot be used with -P")):
            proc = self.run_postconf(*args, check=False)
            self.assertEqual(proc.returncode, 1, args)
            self.assertIn(message, proc.stderr, args)
            self.assertEqual(self.read("master.cf"), before, args)

    # ---- main.cf: -o, -C, -H ----

    def test_override_classes_names(self):
        self.write("main.cf", MAIN_CF + "smtp_destination_concurrency_limit = 5\n")
        self.assertEqual(self.run_postconf("-o", "myhostname=other.example", "-xh",
                                           "mydestination").stdout,
                         "other.example, localhost.example\n")
        self.assertEqual(self.run_postconf("-h", "myhostname").stdout,
                         "mail.example.com\n")
        proc = self.run_postconf("-o", "novalue", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(self.run_postconf("-C", "user").stdout,
                         "helper = permit_mynetworks\n")
        self.assertEqual(self.run_postconf("-C", "service").stdout,
                         "smtp_destination_concurrency_limit = 5\n")
        self.assertEqual(self.run_postconf("-nC", "builtin,service").stdout,
                         "message_size_limit = 52428800\n"
                         "mydestination = $myhostname, localhost.$mydomain\n"
                         "myhostname = mail.example.com\n"
                         "relayhost = [second.example]\n"
                         "smtp_destination_concurrency_limit = 5\n"
                         "smtpd_client_restrictions = $helper, reject\n")
        self.assertEqual(self.run_postconf("-C", "all").stdout, self.run_postconf().stdout)
        proc = self.run_postconf("-C", "builtin", "helper", "myhostname")
        self.assertEqual(proc.stdout, "myhostname = mail.example.com\n")
        self.assertIn("helper: unknown parameter", proc.stderr)
        proc = self.run_postconf("-C", "bogus", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("invalid parameter class: bogus", proc.stderr)
        self.assertEqual(self.run_postconf("-nH").stdout,
                         "helper\nmessage_size_limit\nmydestination\nmyhostname\n"
                         "relayhost\nsmtp_destination_concurrency_limit\n"
                         "smtpd_client_restrictions\n")
        self.assertEqual(self.run_postconf("-p", "-h", "relayhost").stdout,
                         "[second.example]\n")

    def test_relational_expansion(self):
        self.write("main.cf", "cpus = 8\n"
                              "default_process_limit = ${{$cpus} > {4}?{200}:{100}}\n"
                              "smtpd_banner = ${{$myhostname} == {mx}?{primary}:{other}} ESMTP\n"
                              "myhostname = mx\n")
        self.assertEqual(self.run_postconf("-xh", "default_process_limit", "smtpd_banner").stdout,
                         "200\nprimary ESMTP\n")
        self.assertEqual(self.run_postconf("-o", "cpus=2", "-xh", "default_process_limit").stdout,
                         "100\n")

    # ---- other information (-a, -A, -l, -m, -T) ----

    def test_supported_features(self):
        self.assertEqual(self.run_postconf("-l").stdout, "flock\nfcntl\ndotlock\n")
        types = self.run_postconf("-m").stdout.splitlines()
        self.assertEqual(types, sorted(types))
        for t in ("hash", "btree", "lmdb", "regexp", "pcre", "cidr", "static",
                  "inline", "texthash", "fail", "unix"):
            self.assertIn(t, types)
        # No SASL yet: no plug-in types to offer (see docs/postconf.md).
        self.assertEqual(self.run_postconf("-a").stdout, "")
        self.assertEqual(self.run_postconf("-A").stdout, "")
        self.assertRegex(self.run_postconf("-T", "compile-version").stdout,
                         r"^OpenSSL \d+\.\d+\.\d+")
        self.assertRegex(self.run_postconf("-T", "run-version").stdout,
                         r"^OpenSSL \d+\.\d+\.\d+")
        algs = self.run_postconf("-T", "public-key-algorithms").stdout.split()
        self.assertEqual(algs[:2], ["rsa", "ecdsa"])
        proc = self.run_postconf("-T", "nonsense", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("invalid -T mode", proc.stderr)
        proc = self.run_postconf("-l", "-m", check=False)
        self.assertEqual(proc.returncode, 1)

    # ---- bounce templates (-b, -t) ----

    def test_builtin_templates(self):
        t = self.run_postconf("-t").stdout
        self.assertTrue(t.startswith(
            "failure_template = <<EOF\n"
            "Charset: us-ascii\n"
            "From: MAILER-DAEMON (Mail Delivery System)\n"
            "Subject: Undelivered Mail Returned to Sender\n"
            "Postmaster-Subject: Postmaster Copy: Undelivered Mail Returned to Sender\n"
            "\n"
            "This is the mail delivery system at host $myhostname.\n"), t)
        self.assertEqual([l for l in t.splitlines() if l.endswith("<<EOF")],
                         ["failure_template = <<EOF", "delay_template = <<EOF",
                          "success_template = <<EOF"])
        self.assertEqual(t.count("\nEOF\n"), 3)
        self.assertEqual(self.run_postconf("-t", "").stdout, t)
        b = self.run_postconf("-b").stdout
        self.assertTrue(b.startswith("expanded_failure_text = <<EOF\n"
                                     "This is the mail delivery system at host "
                                     "mail.example.com.\n"), b)
        self.assertIn("The Postern program\nEOF\n\nexpanded_delay_text = <<EOF\n", b)
        self.assertNotIn("$", b)
        # What -t prints is a template file -b can read.
        self.write("mine.cf", t)
        self.assertEqual(self.run_postconf("-b", os.path.join(self.dir, "mine.cf")).stderr, "")

    def test_template_file(self):
        self.write("main.cf", MAIN_CF + "delay_warning_time = 4h\n")
        self.write("bounce.cf",
                   "# our texts\n"
                   "delay_template = <<EOF\n"
                   "Subject: Still trying\n"
                   "\n"
                   "Mail at $myhostname waited $delay_warning_time_hours hours;\n"
                   "it is kept for $maximal_queue_lifetime_days days.\n"
                   "EOF\n"
                   "\n"
                   "verify_template = <<EOF\n"
                   "Report from $mail_name.\n"
                   "EOF\n"
                   "nonsense_template = <<EOF\nx\nEOF\n")
        path = os.path.join(self.dir, "bounce.cf")
        proc = self.run_postconf("-t", path)
        self.assertIn("delay_template = <<EOF\n"
                      "Charset: us-ascii\n"
                      "From: MAILER-DAEMON (Mail Delivery System)\n"
                      "Subject: Still trying\n"
                      "Postmaster-Subject: Postmaster Copy: Delayed Mail (still being retried)\n"
                      "\n"
                      "Mail at $myhostname waited $delay_warning_time_hours hours;\n"
                      "it is kept for $maximal_queue_lifetime_days days.\n"
                      "EOF\n", proc.stdout)
        self.assertIn("failure_template = <<EOF\n", proc.stdout)  # built-in
        self.assertTrue(proc.stdout.endswith("verify_template = <<EOF\n"
                                             "Charset: us-ascii\n"
                                             "From: MAILER-DAEMON (Mail Delivery System)\n"
                                             "Subject: Undelivered Mail Returned to Sender\n"
                                             "\n"
                                             "Report from $mail_name.\nEOF\n"), proc.stdout)
        self.assertIn(f"postconf: warning: {path}, line 12: unknown template name: "
                      "nonsense_template -- ignoring this template", proc.stderr)
        b = self.run_postconf("-b", path).stdout
        self.assertIn("expanded_delay_text = <<EOF\n"
                      "Mail at mail.example.com waited 4 hours;\n"
                      "it is kept for 5 days.\nEOF\n", b)
        self.assertTrue(b.endswith("expanded_verify_text = <<EOF\nReport from Postern.\nEOF\n"), b)
        self.write("bad.cf", "failure_template = <<EOF\n$mispeled\nEOF\n")
        proc = self.run_postconf("-b", os.path.join(self.dir, "bad.cf"), check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("undefined $mispeled in failure template", proc.stderr)
        proc = self.run_postconf("-t", os.path.join(self.dir, "missing.cf"), check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("missing.cf: cannot open: No such file", proc.stderr)

    # ---- documentation ----

    def test_parameters_md_matches_the_table(self):
        generated = self.run_postconf("--doc-markdown", use_c=False).stdout
        with open(os.path.join(TOP, "docs", "parameters.md")) as f:
            committed = f.read()
        self.assertEqual(committed, generated,
                         "docs/parameters.md is stale: run tools/postconf --doc-markdown > docs/parameters.md")


if __name__ == "__main__":
    unittest.main()
