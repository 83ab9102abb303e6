"""dovecot_imap.py: a private Debian Dovecot serving one Maildir over IMAP
on a loopback port, for the storage interop tests
(test_storage_dovecot.py) and the script that made the Dovecot fixture
(tests/data/dovecot-maildir/make-fixture).

    dc = PrivateDovecot("/tmp/x/Maildir")      # user "anna", password "secret"
    dc.start()                                  # DovecotUnavailable: skip
    imap = dc.login()                           # imaplib.IMAP4, logged in
    ...
    dc.stop()

It runs from a fresh directory with its own base_dir, state_dir and log,
never the system service. Mail is accessed as the invoking user, or, when
that is root (Dovecot refuses mail access as uid 0), as nobody (65534):
the Maildir is then handed to nobody for the run and back afterwards.
index=memory (the default here) keeps Dovecot's own index out of the
Maildir, so it works from dovecot-uidlist and dovecot-keywords alone."""
import imaplib
import os
import pwd
import grp
import shutil
import signal
import socket
import subprocess
import tempfile
import time

DOVECOT = shutil.which("dovecot") or (
    "/usr/sbin/dovecot" if os.access("/usr/sbin/dovecot", os.X_OK) else None)
NOBODY = 65534


class DovecotUnavailable(Exception):
    """Dovecot cannot run here (the reason is the skip reason)."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chown_tree(path, uid, gid):
    os.chown(path, uid, gid)
    for top, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(top, name), uid, gid)


class PrivateDovecot:
    user = "anna"
    password = "secret"

    def __init__(self, maildir, index_memory=True):
        self.maildir = os.path.abspath(maildir)
        self.index_memory = index_memory
        self.dir = None
        self.port = None
        self.pid = None
        self.mail_uid = NOBODY if os.getuid() == 0 else os.getuid()
        self.mail_gid = NOBODY if os.getuid() == 0 else os.getgid()

    def _write_config(self):
        # imap-login refuses to run as root
        me = pwd.getpwuid(self.mail_uid).pw_name
        group = grp.getgrgid(self.mail_gid).gr_name
        location = f"maildir:{self.maildir}"
        if self.index_memory:
            location += ":INDEX=MEMORY"
        with open(os.path.join(self.dir, "users"), "w") as f:
            f.write(f"{self.user}:{{PLAIN}}{self.password}::::::\n")
        with open(os.path.join(self.dir, "dovecot.conf"), "w") as f:
            f.write(f"""protocols = imap
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
instance_name = pt-imap-{os.path.basename(self.dir)}
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_login_user = {me}
default_internal_user = {me}
default_internal_group = {group}
first_valid_uid = 1
mail_location = {location}
passdb {{
  driver = passwd-file
  args = {self.dir}/users
}}
userdb {{
  driver = static
  args = uid={self.mail_uid} gid={self.mail_gid} home={self.dir}/home
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
""")

    def start(self, timeout=15.0):
        if not DOVECOT:
            raise DovecotUnavailable("dovecot not installed (dovecot-core, dovecot-imapd)")
        if not os.path.exists("/usr/lib/dovecot/imap"):
            raise DovecotUnavailable("dovecot-imapd is not installed")
        self.dir = tempfile.mkdtemp(prefix="pt-dovecot-imap-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        for sub in ("run", "state", "home"):
            os.makedirs(os.path.join(self.dir, sub))
        os.chown(os.path.join(self.dir, "home"), self.mail_uid, self.mail_gid)
        self.port = free_port()
        self._write_config()
        os.makedirs(self.maildir, exist_ok=True)
        if os.getuid() == 0:
            # nobody must reach the Maildir through its (temporary) parents
            parent = os.path.dirname(self.maildir)
            tmp = tempfile.gettempdir()
            while parent.startswith(tmp + "/"):
                st = os.stat(parent)
                if not st.st_mode & 0o001:
                    os.chmod(parent, st.st_mode | 0o011)
                parent = os.path.dirname(parent)
            chown_tree(self.maildir, self.mail_uid, self.mail_gid)
        out_path = os.path.join(self.dir, "start.out")
        with open(out_path, "w") as out:
            proc = subprocess.run([DOVECOT, "-c", os.path.join(self.dir, "dovecot.conf")],
                                  stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=30)
        if proc.returncode != 0:
            with open(out_path) as f:
                reason = f.read().strip()
            self.stop()
            raise DovecotUnavailable(f"dovecot does not start here: {reason}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    if s.recv(100).startswith(b"* OK"):
                        with open(os.path.join(self.dir, "run", "master.pid")) as f:
                            self.pid = int(f.read().strip())
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise DovecotUnavailable("dovecot's IMAP port never answered")

    def login(self):
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=20)
        imap.login(self.user, self.password)
        return imap

    def log_text(self):
        try:
            with open(os.path.join(self.dir, "dovecot.log"), errors="replace") as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    def stop(self):
        if self.pid is None and self.dir:
            # a start that failed half way may still have a master running
            try:
                with open(os.path.join(self.dir, "run", "master.pid")) as f:
                    self.pid = int(f.read().strip())
            except (OSError, ValueError):
                pass
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.kill(self.pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
            self.pid = None
        if os.getuid() == 0 and os.path.isdir(self.maildir):
            chown_tree(self.maildir, 0, 0)
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
