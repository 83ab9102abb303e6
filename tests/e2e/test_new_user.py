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
import subprocess
import tempfile
import time
import unittest

from instance import builddir, free_port, is_root

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DAEMONS = ("master", "smtpd", "qmgr", "local", "virtual", "showq", "pickup")
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
        for d in DAEMONS:
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


if __name__ == "__main__":
    unittest.main()
