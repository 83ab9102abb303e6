"""test_new_user.py: what a new user meets first: scripts/demo (its
port, its banner, the services the tools need) and `postern --help`.

The demo is started with --no-build on the programs of this build tree
(copied into DIR/install as make install would put them), so the test
neither rebuilds the tree nor needs the network.
"""
import os
import pwd
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from instance import builddir, free_port, is_root

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DAEMONS = ("master", "smtpd", "qmgr", "local", "virtual", "showq", "pickup")
# Copied when built: the demo enables the auth service once it exists.
OPTIONAL_DAEMONS = ("auth",)
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"
TOOLS = ("postern", "postconf", "postmap", "postqueue", "postsuper",
         "postcat", "sendmail", "mailq", "postdrop", "newaliases", "postalias")


class PosternHelpTest(unittest.TestCase):
    def test_help_and_h_print_usage_and_exit_0(self):
        postern = os.path.join(builddir(), "tools", "postern")
        for flag in ("--help", "-h"):
            proc = subprocess.run([postern, flag], capture_output=True,
                                  text=True, timeout=10)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertTrue(proc.stdout.startswith("usage: postern"), proc.stdout)
            self.assertIn("check", proc.stdout)
            self.assertEqual(proc.stderr, "")
        # A wrong command line is still an error, on stderr.
        proc = subprocess.run([postern, "-x"], capture_output=True, text=True,
                              timeout=10)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("usage: postern", proc.stderr)


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


@unittest.skipUnless(all(os.access(os.path.join(builddir(), d, d), os.X_OK)
                         for d in DAEMONS), "daemons not built")
class DemoTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pt-demo-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.addCleanup(shutil.rmtree, self.dir, True)
        sbin = os.path.join(self.dir, "install", "sbin")
        libexec = os.path.join(self.dir, "install", "libexec", "postern")
        os.makedirs(sbin)
        os.makedirs(libexec)
        for d in DAEMONS + OPTIONAL_DAEMONS:
            if os.access(os.path.join(builddir(), d, d), os.X_OK):
                shutil.copy(os.path.join(builddir(), d, d), libexec)
        for t in TOOLS:
            shutil.copy(os.path.join(builddir(), "tools", t), sbin)
        for path in (os.path.join(self.dir, "install"), sbin, libexec,
                     os.path.dirname(libexec)):
            os.chmod(path, 0o755)
        self.env = dict(os.environ, MAIL_CONFIG=os.path.join(self.dir, "etc"))
        self.addCleanup(self.stop)

    def demo(self, *args):
        return subprocess.run([os.path.join(TOP, "scripts", "demo"),
                               "--no-build", *args, self.dir],
                              capture_output=True, text=True, timeout=120,
                              env=self.env)

    def stop(self):
        subprocess.run([os.path.join(TOP, "scripts", "demo"), "stop",
                        self.dir], capture_output=True, timeout=120)

    def banner_port(self, output):
        match = re.search(r"SMTP:\s+127\.0\.0\.1 port (\d+)", output)
        self.assertIsNotNone(match, output)
        return int(match.group(1))

    def test_port_option_banner_and_tools(self):
        port = free_port()
        proc = self.demo("--port", str(port))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(self.banner_port(proc.stdout), port)
        self.assertIn(f"swaks --server 127.0.0.1:{port}", proc.stdout)
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
            s.sendmail("someone@example.org", ["demo@demo.test"],
                       "Subject: demo\r\n\r\nhello\r\n")
        # mailq works for an ordinary user: the demo runs showq.
        mailq = os.path.join(self.dir, "install", "sbin", "mailq")
        preexec = None
        if is_root():
            nobody = pwd.getpwnam("nobody")

            def preexec():
                os.setgroups([])
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)
        proc = subprocess.run([mailq], capture_output=True, text=True,
                              timeout=30, env=self.env, preexec_fn=preexec)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn("warning", proc.stderr)
        # The demo's master.cf has every service the tools need.
        with open(os.path.join(self.dir, "etc", "master.cf")) as f:
            services = {line.split()[0] for line in f
                        if line.strip() and not line[0].isspace()
                        and not line.startswith("#")}
        self.assertLessEqual({"submit", "qmgr", "showq", "pickup", "local",
                              "virtual"}, services)

    def test_postmaster_alias_reaches_the_demo_user(self):
        # The demo's aliases file is read as texthash (postmap format,
        # "key value"): postmaster@localhost must reach the demo user, not
        # bounce as an unknown user.
        port = free_port()
        proc = self.demo("--port", str(port))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
            s.sendmail("someone@example.org", ["postmaster@localhost"],
                       "Subject: to-postmaster\r\n\r\nhello\r\n")
        new = os.path.join(self.dir, "mail", "demo.test", "demo", "new")
        deadline = time.time() + 20
        found = False
        while time.time() < deadline and not found:
            for name in os.listdir(new) if os.path.isdir(new) else ():
                with open(os.path.join(new, name), errors="replace") as f:
                    if "Subject: to-postmaster" in f.read():
                        found = True
            time.sleep(0.2)
        with open(os.path.join(self.dir, "log", "maillog")) as f:
            log = f.read()
        self.assertTrue(found, log[-2000:])

    def test_first_free_port_from_2525(self):
        # Hold the first free port from 2525 up: the demo must go past it.
        held = socket.socket()
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        port = 2525
        while True:
            try:
                held.bind(("127.0.0.1", port))
                break
            except OSError:
                port += 1
        held.listen(1)
        self.addCleanup(held.close)
        proc = self.demo()
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        chosen = self.banner_port(proc.stdout)
        self.assertGreater(chosen, port)
        self.assertTrue(listening(chosen))
        with smtplib.SMTP("127.0.0.1", chosen, timeout=10) as s:
            self.assertEqual(s.ehlo()[0], 250)

    def test_busy_port_is_refused(self):
        held = socket.socket()
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        self.addCleanup(held.close)
        proc = self.demo("--port", str(held.getsockname()[1]))
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("in use", proc.stderr)

    def test_busy_port_leaves_a_running_demo_up(self):
        port = free_port()
        proc = self.demo("--port", str(port))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        held = socket.socket()
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        self.addCleanup(held.close)
        proc = self.demo("--port", str(held.getsockname()[1]))
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("in use", proc.stderr)
        # The demo that ran before is still running on its port.
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
            self.assertEqual(s.ehlo()[0], 250)
        # And restarting it on its own port works.
        proc = self.demo("--port", str(port))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(self.banner_port(proc.stdout), port)

    def test_submission_ports_speak_tls_with_the_demo_certificate(self):
        port = free_port()
        proc = self.demo("--port", str(port))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        out = proc.stdout
        submission = int(re.search(r"Port:\s+(\d+), Connection security: "
                                   r"STARTTLS", out).group(1))
        submissions = int(re.search(r"or:\s+(\d+), Connection security: "
                                    r"SSL/TLS", out).group(1))
        self.assertEqual(len({port, submission, submissions}), 3)
        self.assertIn("Authentication method:   Normal password", out)
        self.assertIn("User Name:               demo@demo.test", out)
        password = re.search(r"Password:\s+(\S+)", out).group(1)
        self.assertIn("security exception", out)
        etc = os.path.join(self.dir, "etc")
        cert = os.path.join(etc, "tls", "cert.pem")
        key = os.path.join(etc, "tls", "key.pem")
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)
        # A client that trusts the demo certificate verifies it for the
        # address it connects to, and for the demo's host name.
        ctx = ssl.create_default_context(cafile=cert)
        with smtplib.SMTP("127.0.0.1", submission, timeout=20) as c:
            c.ehlo("client.example")
            self.assertTrue(c.has_extn("starttls"))
            self.assertFalse(c.has_extn("auth"))  # not before TLS
            c.starttls(context=ctx)
            c.ehlo("client.example")
            self.assertIn(c.sock.version(), ("TLSv1.2", "TLSv1.3"))
            if os.path.exists(os.path.join(self.dir, "install", "libexec",
                                           "postern", "auth")):
                # With the auth service built, the demo user logs in.
                self.assertEqual(c.login("demo@demo.test", password)[0], 235)
        with smtplib.SMTP_SSL("127.0.0.1", submissions, timeout=20,
                              context=ctx) as c:
            self.assertEqual(c.ehlo("client.example")[0], 250)
        ctx_name = ssl.create_default_context(cafile=cert)
        with socket.create_connection(("127.0.0.1", submissions), 20) as raw:
            with ctx_name.wrap_socket(raw, server_hostname="mail.demo.test"):
                pass
        # The demo user is in the passwd-file with a hash Dovecot accepts.
        with open(os.path.join(etc, "users")) as f:
            line = next(l for l in f if l.startswith("demo@demo.test:"))
        stored = line.rstrip("\n").split(":")[1]
        self.assertTrue(stored.startswith("{ARGON2ID}"), stored)
        if os.access(DOVEADM, os.X_OK):
            check = subprocess.run([DOVEADM, "-c", "/dev/null", "pw", "-t",
                                    stored, "-p", password],
                                   capture_output=True, text=True, timeout=60)
            self.assertIn("(verified)", check.stdout + check.stderr)
        with open(os.path.join(etc, "main.cf")) as f:
            main_cf = f.read()
        self.assertIn(f"passdb = passwd-file:{etc}/users", main_cf)
        # A second run keeps the certificate, the user and the password.
        with open(cert) as f:
            first_cert = f.read()
        proc = self.demo("--port", str(port))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn(f"Password:                {password}", proc.stdout)
        with open(cert) as f:
            self.assertEqual(f.read(), first_cert)


if __name__ == "__main__":
    unittest.main()
