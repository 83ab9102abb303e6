"""sasl_server.py: an authentication server for smtpd's SASL tests, one
that speaks Dovecot's auth protocol on a unix socket.

DovecotAuth runs Debian's dovecot (dovecot-core) in a temporary
directory: no protocols, only its auth service, with a passwd-file
passdb and the auth-client listener smtpd connects to. It runs as the
invoking user (root or not: Dovecot accepts an unprivileged start when
its internal and login users are that user).

PosternAuth runs Postern's own auth service (auth/, docs/auth.md) in an
instance of its own whose master.cf holds only the auth line, serving
public/auth, with passdb = a Dovecot-format passwd-file.

Every server class has the same shape: construct it with
{user: password}, call start(), read socket_path (what
smtpd_sasl_path gets), and stop(). Each says what smtpd will offer
(ehlo_mechanisms) and how long a failed login is held back at least
(failure_delay). test_smtpd_sasl.py runs its cases against each class;
auth_server_class() picks one by name for other tests."""
import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

DOVECOT = shutil.which("dovecot") or (
    "/usr/sbin/dovecot" if os.access("/usr/sbin/dovecot", os.X_OK) else None)


class AuthServerUnavailable(Exception):
    """The server cannot run here (the reason is the skip reason)."""


class DovecotAuth:
    name = "dovecot"
    # What smtpd's EHLO offers (less ANONYMOUS, which noanonymous hides).
    ehlo_mechanisms = "PLAIN LOGIN"
    # What it offers under smtpd_sasl_security_options = noplaintext.
    ehlo_secure_mechanisms = ""
    # At least this (auth_failure_delay is 2 s, but Dovecot answers the
    # failures it holds back in batches, some sooner).
    failure_delay = 1.0

    def __init__(self, users, mechanisms="plain login anonymous"):
        self.users = users
        self.mechanisms = mechanisms
        self.dir = None
        self.proc_pid = None

    @property
    def socket_path(self):
        return os.path.join(self.dir, "run", "auth-client")

    @property
    def log_path(self):
        return os.path.join(self.dir, "dovecot.log")

    def _write_config(self):
        me = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        with open(os.path.join(self.dir, "users"), "w") as f:
            for user, password in self.users.items():
                f.write(f"{user}:{{PLAIN}}{password}::::::\n")
        with open(os.path.join(self.dir, "dovecot.conf"), "w") as f:
            f.write(f"""protocols =
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.log_path}
instance_name = pt-sasl-{os.path.basename(self.dir)}
ssl = no
auth_mechanisms = {self.mechanisms}
default_login_user = {me}
default_internal_user = {me}
default_internal_group = {group}
passdb {{
  driver = passwd-file
  args = {self.dir}/users
}}
userdb {{
  driver = static
  args = uid={me} gid={group} home={self.dir}
}}
service auth {{
  unix_listener auth-client {{
    mode = 0666
  }}
}}
service anvil {{
  chroot =
}}
""")

    def start(self, timeout=15.0):
        if not DOVECOT:
            raise AuthServerUnavailable("dovecot not installed (dovecot-core)")
        if self.dir is None:
            self.dir = tempfile.mkdtemp(prefix="pt-dovecot-", dir="/tmp")
            # smtpd runs as mail_owner and must reach the socket.
            os.chmod(self.dir, 0o755)
            for d in ("run", "state"):
                os.makedirs(os.path.join(self.dir, d))
            self._write_config()
        # Dovecot's master forks into the background and keeps its
        # output open: send it to a file, not to a pipe we would wait on.
        out_path = os.path.join(self.dir, "start.out")
        with open(out_path, "w") as out:
            proc = subprocess.run([DOVECOT, "-c",
                                   os.path.join(self.dir, "dovecot.conf")],
                                  stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=30)
        if proc.returncode != 0:
            with open(out_path) as f:
                reason = f.read().strip()
            self.stop()
            raise AuthServerUnavailable(f"dovecot does not start here: {reason}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._answers():
                pid_file = os.path.join(self.dir, "run", "master.pid")
                with open(pid_file) as f:
                    self.proc_pid = int(f.read().strip())
                return self
            time.sleep(0.05)
        self.stop()
        raise AuthServerUnavailable("dovecot's auth-client socket never answered")

    def _answers(self):
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(2)
                s.connect(self.socket_path)
                s.sendall(b"VERSION\t1\t2\nCPID\t1\n")
                data = b""
                while b"DONE\n" not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        return False
                    data += chunk
                return True
        except OSError:
            return False

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def _own_pids(self):
        """Dovecot's processes for this directory: the master and its
        children, which name themselves after instance_name."""
        tag = f"pt-sasl-{os.path.basename(self.dir)}"
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if tag in cmd or (self.dir in cmd and "dovecot" in cmd):
                pids.append(int(entry))
        return pids

    def kill_auth_process(self):
        """The auth process dies (as in a crash): its clients see the
        connection close; Dovecot's master starts a new one on demand."""
        tag = f"pt-sasl-{os.path.basename(self.dir)}/auth"
        for pid in self._own_pids():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().split(b"\0")[0].decode(errors="replace")
            except OSError:
                continue
            if cmd.endswith(tag):
                os.kill(pid, signal.SIGKILL)
                return pid
        raise AssertionError("no dovecot auth process found")

    def stop(self):
        if self.proc_pid:
            try:
                os.kill(self.proc_pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.kill(self.proc_pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
            self.proc_pid = None
        if self.dir:
            # Children outlive a master stopped with SIGTERM while they
            # still have clients: end each of ours by its pid.
            for pid in self._own_pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


class PosternAuth:
    """Postern's auth service in an instance of its own. main_cf adds
    parameters (auth_failure_delay, auth_lockout_*, ...)."""
    name = "postern"
    ehlo_mechanisms = "PLAIN LOGIN SCRAM-SHA-256"
    ehlo_secure_mechanisms = "SCRAM-SHA-256"

    def __init__(self, users, main_cf=None, passwd_lines=None):
        self.users = users
        self.main_cf = {"auth_failure_delay": "1s"}
        self.main_cf.update(main_cf or {})
        self.passwd_lines = passwd_lines
        self.inst = None

    @property
    def failure_delay(self):
        return float(self.main_cf["auth_failure_delay"].rstrip("s"))

    @property
    def socket_path(self):
        return os.path.join(self.inst.queue, "public", "auth")

    def start(self, timeout=15.0):
        # Imported here: instance.py finds the build tree.
        from instance import Instance, builddir
        if not os.access(os.path.join(builddir(), "auth", "auth"), os.X_OK):
            raise AuthServerUnavailable("auth not built")
        self.inst = inst = Instance()
        try:
            users = os.path.join(inst.etc, "users")
            with open(users, "w") as f:
                for user, password in self.users.items():
                    f.write(f"{user}:{{PLAIN}}{password}::::::\n")
                for line in self.passwd_lines or ():
                    f.write(line + "\n")
            params = {"passdb": f"passwd-file:{users}"}
            params.update(self.main_cf)
            inst.write_main_cf(params)
            # public/: smtpd of another instance (another mail_owner's
            # private/ is closed to it) reaches the socket.
            inst.write_master_cf(inst.service("auth", "unix", "auth",
                                              private="n", maxproc=1))
            inst.start()
            inst.wait_until(lambda: os.path.exists(self.socket_path),
                            timeout=timeout, what="public/auth")
        except BaseException:
            self.stop()
            raise
        return self

    def log_text(self):
        return self.inst.log_text() if self.inst else ""

    def kill_auth_process(self):
        """The auth process dies: master starts a new one at the next
        connection."""
        for pid in self.inst.master_children():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().split(b"\0")[0].decode(errors="replace")
            except OSError:
                continue
            if os.path.basename(cmd.split()[0]) == "auth":
                os.kill(pid, signal.SIGKILL)
                return pid
        raise AssertionError("no auth process found")

    def stop(self):
        if self.inst:
            self.inst.cleanup()
            self.inst = None


def auth_server_class():
    """The server a test runs against by default (POSTERN_TEST_AUTH_SERVER
    names another)."""
    servers = {DovecotAuth.name: DovecotAuth, PosternAuth.name: PosternAuth}
    return servers[os.environ.get("POSTERN_TEST_AUTH_SERVER", "dovecot")]
