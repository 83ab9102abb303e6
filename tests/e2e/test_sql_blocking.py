"""test_sql_blocking.py: what a hung database (a real PostgreSQL and a
real MariaDB, frozen with SIGSTOP) costs the processes that look up SQL
tables, measured against docs/tables.md ("Blocking") and docs/auth.md
("SQL tables in passdb"):
  * smtpd is event-mode: while one session's RCPT waits on the database,
    every other session of that smtpd process waits too, and all are
    answered within connect_timeout + query_timeout (+ one reconnect);
    the waiting RCPT gets 451 4.3.0;
  * the auth service looks passdb tables up in its main thread: while one
    login waits on the database, the service's other clients wait too,
    within the same bound, and the login is a temporary failure;
  * once the server runs again, both answer normally, with no restart.
Each query file here says connect_timeout = 2, query_timeout = 2."""
import os
import smtplib
import threading
import time
import unittest

from auth_util import AuthClient
from instance import Instance
from sqlservers import SEEDS_SCHEMA, MariaDBServer, PostgresServer

DATA = """
INSERT INTO virtual_domains VALUES (1, 'example.com');
INSERT INTO virtual_users VALUES
  (1, 1, 'alice@example.com', '{PLAIN}alice-pw', 'example.com/alice/');
"""

# One hung lookup: query_timeout on the kept connection, then one
# reconnect that waits connect_timeout (2 + 2 s), plus slack for a busy
# 2-core machine.
BOUND = 8.0


class SqlBlockingCases:
    server_class = None
    type = None

    def setUp(self):
        self.server = self.server_class.start_for(self)
        self.server.sql(SEEDS_SCHEMA + DATA)
        self.inst = inst = Instance(self)
        self.smtp_port = inst.free_port()
        inst.main_params.update({
            "myhostname": "mx.test", "mydestination": "localhost",
            "passdb": self.cf("passdb.cf", "SELECT password FROM "
                              "virtual_users WHERE email='%s'"),
            "auth_failure_delay": "0s",
            "virtual_mailbox_domains": self.cf(
                "domains.cf", "SELECT name FROM virtual_domains "
                "WHERE name='%s'"),
            "virtual_mailbox_maps": self.cf(
                "mailboxes.cf", "SELECT maildir FROM virtual_users "
                "WHERE email='%s'"),
            "virtual_mailbox_base": os.path.join(inst.root, "vmail"),
            "virtual_uid_maps": "static:5000",
            "virtual_gid_maps": "static:5000",
            "smtpd_peername_lookup": "no",
        })
        inst.write_main_cf()
        # maxproc 1: every SMTP session is served by the same process.
        inst.write_master_cf(
            inst.service("auth", "unix", "auth", maxproc=1)
            + inst.service(f"127.0.0.1:{self.smtp_port}", "inet", "smtpd",
                           maxproc=1))
        inst.start()
        self.auth_path = os.path.join(inst.queue, "private", "auth")
        inst.wait_until(lambda: os.path.exists(self.auth_path),
                        what="private/auth")

    def cf(self, name, query):
        s = self.server
        path = os.path.join(self.inst.etc, name)
        with open(path, "w") as f:
            f.write(f"hosts = 127.0.0.1:{s.port}\nuser = {s.user}\n"
                    f"password = {s.password}\ndbname = {s.dbname}\n"
                    f"query = {query}\nconnect_timeout = 2\n"
                    "query_timeout = 2\nretry_interval = 1\n")
        os.chmod(path, 0o644)
        return f"{self.type}:{path}"

    def smtp(self):
        c = smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=60)
        self.addCleanup(c.close)
        c.ehlo("client.test")
        return c

    def test_smtpd_sessions_wait_with_a_hung_lookup(self):
        a, b = self.smtp(), self.smtp()
        a.mail("x@remote.test")
        self.assertEqual(a.rcpt("alice@example.com")[0], 250)  # connected
        self.server.pause()
        result = {}

        def rcpt():
            start = time.monotonic()
            result["reply"] = a.rcpt("alice@example.com")
            result["elapsed"] = time.monotonic() - start
        t = threading.Thread(target=rcpt)
        t.start()
        time.sleep(0.5)  # a's lookup is waiting on the database now
        start = time.monotonic()
        code, _ = b.noop()
        held = time.monotonic() - start
        t.join(timeout=60)
        self.assertEqual(code, 250)
        code, text = result["reply"]
        self.assertEqual(code, 451, text)
        self.assertIn(b"4.3.0", text)
        self.assertLess(result["elapsed"], BOUND)
        # b's NOOP waited for a's lookup (the same process), and no longer.
        self.assertGreater(held, 1.0)
        self.assertLess(held, BOUND)

        self.server.resume()
        time.sleep(1.2)  # retry_interval

        def accepted():
            a.rset()
            a.mail("x@remote.test")
            return a.rcpt("alice@example.com")[0] == 250
        self.inst.wait_until(accepted, timeout=10, interval=0.5,
                             what="RCPT once the database runs again")

    def test_auth_clients_wait_with_a_hung_lookup(self):
        a = AuthClient(self.auth_path, timeout=60).start()
        b = AuthClient(self.auth_path, timeout=60).start()
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        (cmd, _, _, _), _ = a.plain(1, "alice@example.com", "alice-pw")
        self.assertEqual(cmd, "OK")  # connected
        self.server.pause()
        result = {}

        def login():
            result["reply"], result["elapsed"] = a.plain(
                2, "alice@example.com", "alice-pw")
        t = threading.Thread(target=login)
        t.start()
        time.sleep(0.5)
        (cmd, _, _, raw), held = b.plain(1, "alice@example.com", "alice-pw")
        t.join(timeout=60)
        self.assertEqual(cmd, "FAIL")
        self.assertIn("temp", raw)
        cmd, _, _, raw = result["reply"]
        self.assertEqual(cmd, "FAIL")
        self.assertIn("temp", raw)
        self.assertLess(result["elapsed"], BOUND)
        # b's login waited for a's lookup (one thread does lookups), and
        # then failed at once: the host is skipped for retry_interval.
        self.assertGreater(held, 1.0)
        self.assertLess(held, BOUND)

        self.server.resume()

        def works():
            (cmd, _, _, _), _ = b.plain(9, "alice@example.com", "alice-pw")
            return cmd == "OK"
        self.inst.wait_until(works, timeout=10, interval=0.5,
                             what="a login once the database runs again")


class PgsqlBlockingTest(SqlBlockingCases, unittest.TestCase):
    server_class = PostgresServer
    type = "pgsql"


class MysqlBlockingTest(SqlBlockingCases, unittest.TestCase):
    server_class = MariaDBServer
    type = "mysql"


if __name__ == "__main__":
    unittest.main()
