"""sqlservers.py: throw-away PostgreSQL and MariaDB servers for end-to-end
tests of pgsql: and mysql: tables (and of the auth service's passdb).

Standard library only. Each server lives in a fresh temporary directory,
listens on a free loopback port and on a unix socket in that directory,
and is stopped and removed by cleanup (registered with the test case):

    pg = PostgresServer.start_for(self)        # skips when not installed
    pg.sql("CREATE TABLE t (k text); INSERT INTO t VALUES ('x')")
    pg.port, pg.socket_dir, pg.socket_path, pg.user, pg.password, pg.dbname
    pg.restart()                               # clean stop, start again
    pg.pause(); pg.resume()                    # a hung server (SIGSTOP)
    pg.stop()                                  # a dead one (SIGKILL)

    my = MariaDBServer.start_for(self)
    my.sql("..."); my.port, my.socket_path, my.user, my.password, my.dbname

Both create a database `mail` and a user `mail` with password
`mail-secret` that may read and write it. Start-up takes one to three
seconds (no fsync, no test database). As root, PostgreSQL (which refuses
to run as root) runs as the `postgres` account, or `nobody`; MariaDB runs
as root with --user=root. SEEDS_SCHEMA is the seeds' virtual-mail schema
(virtual_domains, virtual_users, virtual_aliases) in SQL both accept.
"""
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from instance import children_of, free_port, is_root

USER, PASSWORD, DBNAME = "mail", "mail-secret", "mail"

SEEDS_SCHEMA = """
CREATE TABLE virtual_domains (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL);
CREATE TABLE virtual_users (id INT PRIMARY KEY, domain_id INT NOT NULL,
    email VARCHAR(120) NOT NULL UNIQUE, password VARCHAR(200) NOT NULL,
    maildir VARCHAR(200));
CREATE TABLE virtual_aliases (id INT PRIMARY KEY, domain_id INT NOT NULL,
    source VARCHAR(120) NOT NULL, destination VARCHAR(120) NOT NULL);
"""


def _pg_bindir():
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                  key=lambda d: int(d.split("/")[-2]) if d.split("/")[-2].isdigit() else 0)
    for d in reversed(dirs):
        if os.path.exists(os.path.join(d, "initdb")) and \
           os.path.exists(os.path.join(d, "postgres")):
            return d
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def _wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _threads_stopped(pid):
    """True when every thread of pid is stopped (state T) or gone."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return True
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, IndexError):
            continue
        if state not in ("T", "t", "Z", "X"):
            return False
    return True


class _Server:
    def _make_dir(self, prefix, owner=None):
        self.dir = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.dir, 0o755)
        if owner is not None:
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
        self.user, self.password, self.dbname = USER, PASSWORD, DBNAME
        self.proc = None

    def _run(self, argv, input_text=None, timeout=60):
        proc = subprocess.run(self._as_owner(argv), input=input_text,
                              capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} failed ({proc.returncode}):\n"
                                 f"{proc.stdout}{proc.stderr}")
        return proc.stdout

    def _as_owner(self, argv):
        return argv

    def _log_file(self):
        """The server's log (stderr), appended to over restarts."""
        with open(os.path.join(self.dir, "server.log"), "ab") as log:
            return os.dup(log.fileno())

    def _log_text(self):
        path = os.path.join(self.dir, "server.log")
        return open(path, errors="replace").read()[-3000:] if os.path.exists(path) else ""

    def stop(self):
        """Stops the server at once (SIGKILL: a dead server, as a crash
        leaves it) and waits for it."""
        self.resume()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None

    def pause(self):
        """Freezes the server and its children (SIGSTOP): a hung server
        that accepts nothing and answers nothing."""
        self._paused = [self.proc.pid] + list(children_of(self.proc.pid))
        for pid in self._paused:
            os.kill(pid, signal.SIGSTOP)
        # kill() returns before the stop has reached every thread: the
        # kernel wakes one thread to stop the others, and on a busy
        # machine another thread may still answer a query meanwhile
        # (MariaDB serves each connection in its own thread). Wait until
        # every thread is stopped.
        _wait(lambda: all(_threads_stopped(p) for p in self._paused), 10,
              "the server's threads to stop")

    def resume(self):
        for pid in getattr(self, "_paused", []):
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self._paused = []

    def restart(self):
        """Shuts the server down cleanly (closing every connection) and
        starts it again on the same port, socket and data."""
        self.resume()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(self.clean_stop_signal)
            self.proc.wait(timeout=60)
        self.proc = None
        self.start()

    def cleanup(self):
        self.resume()
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    @classmethod
    def start_for(cls, testcase_or_class):
        """Starts a server; skips the test when the binaries are missing.
        The server is stopped and removed at the test's (or, for a
        class, the class's) cleanup."""
        why = cls.missing()
        if why:
            raise unittest.SkipTest(why)
        server = cls()
        try:
            server.start()
        except Exception:
            server.cleanup()
            raise
        if isinstance(testcase_or_class, type):
            testcase_or_class.addClassCleanup(server.cleanup)
        else:
            testcase_or_class.addCleanup(server.cleanup)
        return server


class PostgresServer(_Server):
    clean_stop_signal = signal.SIGINT  # "fast" shutdown
    @staticmethod
    def missing():
        if _pg_bindir() is None:
            return ("PostgreSQL server binaries (initdb, postgres) not found: "
                    "install postgresql (scripts/install-deps --test)")
        if not shutil.which("psql"):
            return "psql not found: install postgresql-client"
        return None

    def __init__(self):
        self.bindir = _pg_bindir()
        self.owner = None
        if is_root():
            for name in ("postgres", "nobody"):
                try:
                    self.owner = pwd.getpwnam(name)
                    break
                except KeyError:
                    pass
            if self.owner is None:
                raise unittest.SkipTest("PostgreSQL refuses root and there is "
                                        "no postgres or nobody account")
        self._make_dir("pt-pg-", self.owner)
        self.data = os.path.join(self.dir, "data")
        self.socket_dir = self.dir
        self.port = free_port()
        self.socket_path = os.path.join(self.dir, f".s.PGSQL.{self.port}")

    def _as_owner(self, argv):
        if self.owner is None:
            return argv
        return ["setpriv", f"--reuid={self.owner.pw_uid}",
                f"--regid={self.owner.pw_gid}", "--clear-groups", "--"] + argv

    def start(self):
        if not os.path.exists(self.data):
            self._run([os.path.join(self.bindir, "initdb"), "-D", self.data,
                       "-U", "postgres", "--auth=trust", "-E", "UTF8",
                       "--locale=C", "--no-sync", "--no-instructions"])
            with open(os.path.join(self.data, "pg_hba.conf"), "w") as hba:
                hba.write("local all postgres trust\n"
                          "local all all scram-sha-256\n"
                          "host all postgres 127.0.0.1/32 trust\n"
                          "host all all 127.0.0.1/32 scram-sha-256\n")
            first = True
        else:
            first = False
        log = self._log_file()
        self.proc = subprocess.Popen(
            self._as_owner([os.path.join(self.bindir, "postgres"), "-D", self.data,
                            "-p", str(self.port), "-k", self.socket_dir,
                            "-c", "listen_addresses=127.0.0.1",
                            "-c", "fsync=off", "-c", "synchronous_commit=off",
                            "-c", "full_page_writes=off"]),
            stdout=subprocess.DEVNULL, stderr=log, cwd=self.dir)
        os.close(log)
        _wait(lambda: self._ready(), 30, "postgres to accept connections")
        if first:
            self.sql(f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'", db="postgres")
            self.sql(f"CREATE DATABASE {DBNAME} OWNER {USER}", db="postgres")

    def _ready(self):
        if self.proc.poll() is not None:
            raise AssertionError("postgres exited:\n" + self._log_text())
        proc = subprocess.run(["psql", "-h", self.socket_dir, "-p", str(self.port),
                               "-U", "postgres", "-d", "postgres", "-Atc", "SELECT 1"],
                              capture_output=True, text=True)
        return proc.returncode == 0

    def sql(self, text, db=DBNAME):
        """Runs SQL as the superuser; returns psql's unaligned output."""
        return self._run(["psql", "-h", self.socket_dir, "-p", str(self.port),
                          "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1",
                          "-Aqt", "-c", f"SET ROLE {USER}" if db == DBNAME else "SELECT 1",
                          "-f", "-"], input_text=text)

    def stop(self):
        """Stops the server at once (SIGKILL of the postmaster); its
        children see it go and exit."""
        super().stop()


class MariaDBServer(_Server):
    clean_stop_signal = signal.SIGTERM
    @staticmethod
    def _binaries():
        server = shutil.which("mariadbd") or shutil.which("mysqld") or \
            next((p for p in ("/usr/sbin/mariadbd", "/usr/sbin/mysqld")
                  if os.path.exists(p)), None)
        install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
        client = shutil.which("mariadb") or shutil.which("mysql")
        return server, install, client

    @classmethod
    def missing(cls):
        server, install, client = cls._binaries()
        if not (server and install and client):
            return ("MariaDB server binaries (mariadbd, mariadb-install-db, "
                    "mariadb) not found: install mariadb-server "
                    "(scripts/install-deps --test)")
        return None

    def __init__(self):
        self.server, self.install, self.client = self._binaries()
        self._make_dir("pt-my-")
        self.data = os.path.join(self.dir, "data")
        self.socket_path = os.path.join(self.dir, "mysqld.sock")
        self.port = free_port()
        self.run_user = "root" if is_root() else pwd.getpwuid(os.getuid()).pw_name

    def start(self):
        first = not os.path.exists(self.data)
        if first:
            self._run([self.install, "--no-defaults", f"--datadir={self.data}",
                       f"--user={self.run_user}", "--auth-root-authentication-method=normal",
                       "--skip-test-db", "--skip-name-resolve"], timeout=120)
        self.proc = subprocess.Popen(
            [self.server, "--no-defaults", f"--datadir={self.data}",
             f"--socket={self.socket_path}", f"--port={self.port}",
             "--bind-address=127.0.0.1", f"--user={self.run_user}",
             f"--pid-file={os.path.join(self.dir, 'mysqld.pid')}",
             "--skip-name-resolve", "--innodb-flush-log-at-trx-commit=0",
             "--innodb-buffer-pool-size=16M", "--skip-log-bin",
             f"--log-error={os.path.join(self.dir, 'error.log')}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.dir)
        _wait(self._ready, 60, "mariadbd to accept connections")
        if first:
            self.sql(f"CREATE DATABASE {DBNAME};"
                     f"CREATE USER '{USER}'@'localhost' IDENTIFIED BY '{PASSWORD}';"
                     f"CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}';"
                     f"GRANT ALL ON {DBNAME}.* TO '{USER}'@'localhost';"
                     f"GRANT ALL ON {DBNAME}.* TO '{USER}'@'127.0.0.1';", db=None)

    def _ready(self):
        if self.proc.poll() is not None:
            log = os.path.join(self.dir, "error.log")
            text = open(log).read() if os.path.exists(log) else ""
            raise AssertionError("mariadbd exited:\n" + text[-3000:])
        proc = subprocess.run([self.client, "--no-defaults", "-S", self.socket_path,
                               "-u", "root", "-e", "SELECT 1"],
                              capture_output=True, text=True)
        return proc.returncode == 0

    def sql(self, text, db=DBNAME):
        """Runs SQL as root; returns the client's batch output."""
        argv = [self.client, "--no-defaults", "-S", self.socket_path, "-u", "root",
                "--batch", "--skip-column-names"]
        if db:
            argv.append(db)
        return self._run(argv, input_text=text)
