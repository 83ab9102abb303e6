"""test_auth_sql.py: the auth service's passdb over SQL, end to end, against
a real PostgreSQL and a real MariaDB (sqlservers.py) loaded with the
seeds' schema: virtual_users holds the address, the `{SHA512-CRYPT}`
password and the Maildir, and the same table backs passdb,
virtual_mailbox_domains and virtual_mailbox_maps of one instance.

Logins go over the auth service's real socket (auth_util.py) and through
smtpd's AUTH (smtpd_sasl_path at that socket). What is proved, per server:
  * a user from the database logs in; a wrong password and an unknown
    user fail (not temporarily);
  * extra fields built in the query (uid=, gid=, home=, mail=) arrive in
    the OK reply for service=imap; a password-only row is a virtual user
    whose Maildir comes from virtual_mailbox_maps (the same table);
  * the connection is kept: the server sees one connection from the auth
    service, the same one, across many logins;
  * keys are folded to lower case, so a mixed-case login finds the row
    (docs/auth.md, "Case");
  * a database stopped mid-run is a temporary failure (FAIL temp; 454
    4.7.0 from smtpd), never a wrong password and never counted towards
    the lock-out; once the server is back, logins work again without a
    restart of the auth service.
"""
import os
import shutil
import smtplib
import subprocess
import unittest

from auth_util import AuthClient
from instance import Instance
from sqlservers import SEEDS_SCHEMA, MariaDBServer, PostgresServer

OPENSSL = shutil.which("openssl")


def sha512_crypt(password, salt):
    out = subprocess.run([OPENSSL, "passwd", "-6", "-salt", salt, password],
                         check=True, capture_output=True, text=True).stdout
    return "{SHA512-CRYPT}" + out.strip()


def seeds_data():
    return f"""
INSERT INTO virtual_domains VALUES (1, 'example.com'), (2, 'example.net');
INSERT INTO virtual_users VALUES
  (1, 1, 'alice@example.com', '{sha512_crypt("alice-pw", "alicesalt")}',
   'example.com/alice/'),
  (2, 1, 'bob@example.com', '{sha512_crypt("bob-pw", "bobsalt")}',
   'example.com/bob/'),
  (3, 2, 'carol@example.net', '{sha512_crypt("carol-pw", "carolsalt")}',
   'example.net/carol/');
"""


class SqlPassdbCases:
    """The cases, run once per server kind (the subclasses below)."""
    server_class = None
    type = None

    def setUp(self):
        if OPENSSL is None:
            self.skipTest("openssl not found (makes the SHA512-CRYPT hashes)")
        self.server = self.server_class.start_for(self)
        self.server.sql(SEEDS_SCHEMA + seeds_data())
        self.inst = Instance(self)

    # -- set-up helpers --

    def cf(self, name, query, **extra):
        s = self.server
        lines = [f"hosts = 127.0.0.1:{s.port}", f"user = {s.user}",
                 f"password = {s.password}", f"dbname = {s.dbname}",
                 f"query = {query}", "connect_timeout = 2",
                 "query_timeout = 2", "retry_interval = 1"]
        lines += [f"{k} = {v}" for k, v in extra.items()]
        path = os.path.join(self.inst.etc, name)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(path, 0o644)
        return f"{self.type}:{path}"

    def extra_fields_query(self):
        """carol's row (example.net) with the userdb fields built in the
        query, as a passwd-file line has them."""
        if self.type == "mysql":
            value = ("CONCAT(password, ' uid=', 6000 + id, ' gid=6000 "
                     "home=/srv/vmail/', email, ' mail=maildir:~/Maildir')")
        else:
            value = ("password || ' uid=' || (6000 + id) || ' gid=6000 "
                     "home=/srv/vmail/' || email || ' mail=maildir:~/Maildir'")
        return (f"SELECT {value} FROM virtual_users WHERE email='%s' "
                "AND domain_id = 2")

    def start(self, **main_cf):
        """Starts auth and one smtpd, all tables on the one database."""
        inst = self.inst
        self.vmail = os.path.join(inst.root, "vmail")
        passdb = ", ".join([
            self.cf("passdb-extra.cf", self.extra_fields_query()),
            self.cf("passdb.cf", "SELECT password FROM virtual_users "
                    "WHERE email='%s'")])
        self.smtp_port = inst.free_port()
        inst.main_params.update({
            "myhostname": "mx.test", "mydestination": "localhost",
            "passdb": passdb,
            "auth_failure_delay": "0s",
            "auth_lockout_threshold": "3",
            "virtual_mailbox_domains": self.cf(
                "domains.cf", "SELECT name FROM virtual_domains "
                "WHERE name='%s'"),
            "virtual_mailbox_maps": self.cf(
                "mailboxes.cf", "SELECT maildir FROM virtual_users "
                "WHERE email='%s'"),
            "virtual_mailbox_base": self.vmail,
            "virtual_uid_maps": "static:5000",
            "virtual_gid_maps": "static:5000",
            "smtpd_peername_lookup": "no",
            "smtpd_sasl_auth_enable": "yes",
            "smtpd_sasl_type": "dovecot",
            "smtpd_sasl_path": os.path.join(inst.queue, "private", "auth"),
            "smtpd_relay_restrictions": "permit_sasl_authenticated, "
                                        "reject_unauth_destination",
        })
        inst.main_params.update(main_cf)
        inst.write_main_cf()
        inst.write_master_cf(
            inst.service("auth", "unix", "auth", maxproc=1)
            + inst.service(f"127.0.0.1:{self.smtp_port}", "inet", "smtpd"))
        inst.start()
        self.path = os.path.join(inst.queue, "private", "auth")
        inst.wait_until(lambda: os.path.exists(self.path), what="private/auth")

    def client(self):
        c = AuthClient(self.path).start()
        self.addCleanup(c.close)
        return c

    def connections(self):
        """The server's connections of the database user `mail` (ours:
        the test's own statements run as the superuser), as a set of
        server-side ids: a new connection is a new id."""
        if self.type == "mysql":
            out = self.server.sql("SELECT id FROM information_schema.PROCESSLIST"
                                  " WHERE user = 'mail'", db=None)
        else:
            out = self.server.sql("SELECT pid FROM pg_stat_activity "
                                  "WHERE usename = 'mail'")
        return set(out.split())

    # -- the cases --

    def test_logins_from_the_database(self):
        self.start()
        self.assertEqual(self.connections(), set())
        c = self.client()
        (cmd, _, params, raw), _ = c.plain(1, "alice@example.com", "alice-pw")
        self.assertEqual((cmd, params), ("OK", {"user": "alice@example.com"}))
        (cmd, _, _, raw), _ = c.plain(2, "alice@example.com", "wrong")
        self.assertEqual(cmd, "FAIL")
        self.assertNotIn("temp", raw)
        (cmd, _, _, raw), _ = c.plain(3, "nobody@example.com", "alice-pw")
        self.assertEqual(cmd, "FAIL")
        self.assertNotIn("temp", raw)

        # Kept connections: the two passdb tables (carol's and everyone's)
        # have one connection each, the same ones after many logins.
        first = self.connections()
        self.assertEqual(len(first), 2, first)
        for i in range(40):
            (cmd, _, _, _), _ = c.plain(10 + i, "bob@example.com", "bob-pw")
            self.assertEqual(cmd, "OK")
        self.assertEqual(self.connections(), first)

        # Extra fields from the query, for imap.
        cmd, _, params, _ = c.login(100, "carol@example.net", "carol-pw",
                                    service="imap")
        self.assertEqual((cmd, params), ("OK", {
            "user": "carol@example.net", "uid": "6003", "gid": "6000",
            "home": "/srv/vmail/carol@example.net",
            "mail": "maildir:~/Maildir"}))
        # A password-only row is a virtual user: its Maildir comes from
        # virtual_mailbox_maps, the same table.
        cmd, _, params, _ = c.login(101, "alice@example.com", "alice-pw",
                                    service="imap")
        home = os.path.join(self.vmail, "example.com", "alice")
        self.assertEqual((cmd, params), ("OK", {
            "user": "alice@example.com", "uid": "5000", "gid": "5000",
            "home": home, "mail": "maildir:" + home}))

        # smtpd in the same instance: the domain and the mailbox from the
        # same database, AUTH through the auth service, relay after it.
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as smtp:
            smtp.ehlo("client.test")
            smtp.mail("someone@remote.test")
            self.assertEqual(smtp.rcpt("bob@example.com")[0], 250)
            self.assertEqual(smtp.rcpt("nobody@example.com")[0], 550)
            self.assertEqual(smtp.rcpt("x@elsewhere.test")[0], 554)
            smtp.rset()
            smtp.login("bob@example.com", "bob-pw")
            smtp.mail("bob@example.com")
            self.assertEqual(smtp.rcpt("x@elsewhere.test")[0], 250)

    def test_mixed_case_login_is_folded(self):
        # With Dovecot's default auth_username_format (%Lu) the name is
        # folded before the lookup and the reply names the folded user.
        self.start()
        c = self.client()
        (cmd, _, params, _), _ = c.plain(1, "Alice@Example.COM", "alice-pw")
        self.assertEqual((cmd, params), ("OK", {"user": "alice@example.com"}))

    def test_mixed_case_login_is_folded_by_the_table(self):
        # With auth_username_format = %u the name reaches the table as
        # sent: SQL keys are folded (Postfix's rule for every SQL table),
        # so any case finds the row; the reply names the user as the
        # client did.
        self.start(auth_username_format="%u")
        c = self.client()
        (cmd, _, params, _), _ = c.plain(1, "Alice@Example.COM", "alice-pw")
        self.assertEqual((cmd, params), ("OK", {"user": "Alice@Example.COM"}))
        # One account, one failure counter: case variants of the name
        # from several addresses add up to the lock-out (threshold 3).
        for i, name in enumerate(["ALICE@EXAMPLE.COM", "aLiCe@example.com",
                                  "alice@EXAMPLE.com"]):
            (cmd, _, _, raw), _ = c.plain(10 + i, name, "wrong",
                                          rip=f"127.0.0.{21 + i}")
            self.assertEqual(cmd, "FAIL")
            self.assertNotIn("temp", raw)
        (cmd, _, params, _), _ = c.plain(20, "alice@example.com", "alice-pw",
                                         rip="127.0.0.30")
        self.assertEqual((cmd, params.get("reason")),
                         ("FAIL", "Too many failed attempts try later"))

    def test_database_down_is_temporary_then_recovers(self):
        self.start()
        c = self.client()
        (cmd, _, _, _), _ = c.plain(1, "alice@example.com", "alice-pw")
        self.assertEqual(cmd, "OK")
        mark = self.inst.log_mark()
        self.stop_server()
        # More attempts than auth_lockout_threshold (3): none is counted.
        for i in range(5):
            (cmd, _, params, raw), _ = c.plain(10 + i, "alice@example.com",
                                               "alice-pw", rip="127.0.0.9")
            self.assertEqual((cmd, params.get("reason")),
                             ("FAIL", "Temporary authentication failure"))
            self.assertIn("temp", raw)
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as smtp:
            smtp.ehlo("client.test")
            with self.assertRaises(smtplib.SMTPAuthenticationError) as ctx:
                smtp.login("alice@example.com", "alice-pw")
            self.assertEqual(ctx.exception.smtp_code, 454)
            self.assertIn(b"4.7.0", ctx.exception.smtp_error)
        log = self.inst.log_since(mark)
        self.assertIn("passdb lookup failed", log)
        # Not the failure line fail2ban's dovecot filter counts.
        self.assertNotRegex(log, r"Invalid credentials|Password mismatch|"
                                 r"unknown user|_failures=")

        # Back again: the same auth process connects anew.
        auth_pids = self._auth_pids()
        self.server.start()

        def works():
            (cmd, _, _, _), _ = c.plain(100, "alice@example.com", "alice-pw",
                                        rip="127.0.0.9")
            return cmd == "OK"
        self.inst.wait_until(works, timeout=10, interval=0.5,
                             what="a login once the database is back")
        self.assertEqual(self._auth_pids(), auth_pids)
        # One connection per passdb table again (smtpd made none).
        self.assertEqual(len(self.connections()), 2)

    def stop_server(self):
        """A clean shutdown, as an administrator stops the database (a
        SIGKILL can lose the test server's unflushed rows: it runs
        without fsync)."""
        s = self.server
        s.proc.send_signal(s.clean_stop_signal)
        s.proc.wait(timeout=60)
        s.proc = None

    def _auth_pids(self):
        from instance import _process_cmdline
        return {p for p in self.inst.instance_pids()
                if os.path.basename((_process_cmdline(p) or [b""])[0])
                == b"auth"}


class PgsqlPassdbTest(SqlPassdbCases, unittest.TestCase):
    server_class = PostgresServer
    type = "pgsql"


class MysqlPassdbTest(SqlPassdbCases, unittest.TestCase):
    server_class = MariaDBServer
    type = "mysql"


if __name__ == "__main__":
    unittest.main()
