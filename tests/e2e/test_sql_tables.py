"""test_sql_tables.py: pgsql: and mysql: tables against a real PostgreSQL
and a real MariaDB, each in a temporary directory on loopback
(sqlservers.py), loaded with the seeds' virtual-mail schema.

postmap -q answers from both, with Postfix's query-file syntax (%s %u %d
%1, result_format, domain, expansion_limit, multi-row joins, unix: and
TCP hosts, failover past a dead host, escaping of hostile keys); a whole
Postern instance takes virtual_mailbox_domains, virtual_mailbox_maps and
virtual_alias_maps from SQL, delivers into the right Maildir, rejects an
unknown user at RCPT, and answers 451 4.3.0 (never "unknown user") once
the server is gone."""
import os
import smtplib
import subprocess
import time
import unittest

from instance import Instance, builddir, free_port, is_root
from agentlib import ensure_user, maildir_files
from sqlservers import SEEDS_SCHEMA, MariaDBServer, PostgresServer

POSTMAP = os.path.join(builddir(), "tools", "postmap")

SEEDS_DATA = """
INSERT INTO virtual_domains VALUES (1, 'example.com'), (2, 'example.net');
INSERT INTO virtual_users VALUES
  (1, 1, 'alice@example.com', '{PLAIN}alice-pw', 'example.com/alice/'),
  (2, 1, 'bob@example.com', '{PLAIN}bob-pw', 'example.com/bob/'),
  (3, 2, 'carol@example.net', '{PLAIN}carol-pw', NULL);
INSERT INTO virtual_aliases VALUES
  (1, 1, 'info@example.com', 'alice@example.com'),
  (2, 1, 'team@example.com', 'alice@example.com'),
  (3, 1, 'team@example.com', 'bob@example.com'),
  (4, 1, 'empty@example.com', '');
"""

MESSAGE = (b"From: sender@remote.test\r\nTo: alice@example.com\r\n"
           b"Subject: sql\r\n\r\nhello from sql\r\n")


class SqlTableCases:
    """The cases, run once per server kind (the subclasses below)."""
    server_class = None
    type = None

    @classmethod
    def setUpClass(cls):
        cls.server = cls.server_class.start_for(cls)
        cls.server.sql(SEEDS_SCHEMA + SEEDS_DATA)

    def setUp(self):
        self.dir = self.make_dir()

    def make_dir(self):
        import tempfile
        import shutil
        path = tempfile.mkdtemp(prefix="pt-sqlcf-")
        os.chmod(path, 0o755)
        self.addCleanup(shutil.rmtree, path, True)
        return path

    # -- helpers --

    def hosts_tcp(self, server=None):
        return f"127.0.0.1:{(server or self.server).port}"

    def hosts_unix(self, server=None):
        server = server or self.server
        return f"unix:{server.socket_path}"

    def cf(self, name, query, hosts=None, server=None, **extra):
        server = server or self.server
        lines = [f"hosts = {hosts or self.hosts_tcp(server)}",
                 f"user = {server.user}", f"password = {server.password}",
                 f"dbname = {server.dbname}", f"query = {query}"]
        lines += [f"{k} = {v}" for k, v in extra.items()]
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write("# written by test_sql_tables\n" + "\n".join(lines) + "\n")
        os.chmod(path, 0o644)
        return f"{self.type}:{path}"

    def postmap(self, spec, key, stdin=None):
        conf = os.path.join(self.dir, "conf")
        os.makedirs(conf, exist_ok=True)
        open(os.path.join(conf, "main.cf"), "a").close()
        return subprocess.run([POSTMAP, "-c", conf, "-q", key, spec],
                              input=stdin, capture_output=True, text=True,
                              timeout=60)

    def found(self, spec, key):
        r = self.postmap(spec, key)
        self.assertEqual(r.returncode, 0, f"{key}: {r.stderr}")
        return r.stdout.strip()

    def not_found(self, spec, key):
        r = self.postmap(spec, key)
        self.assertEqual((r.returncode, r.stdout), (1, ""), f"{key}: {r.stderr}")

    # -- postmap -q --

    def test_type_is_listed(self):
        conf = os.path.join(self.dir, "conf")
        os.makedirs(conf)
        open(os.path.join(conf, "main.cf"), "w").close()
        r = subprocess.run([os.path.join(builddir(), "tools", "postconf"),
                            "-c", conf, "-m"], capture_output=True, text=True)
        self.assertIn(self.type, r.stdout.split())

    def test_postmap_seeds_queries(self):
        domains = self.cf("domains.cf",
                          "SELECT 1 FROM virtual_domains WHERE name='%s'")
        users = self.cf("users.cf",
                        "SELECT 1 FROM virtual_users WHERE email='%s'")
        aliases = self.cf("aliases.cf",
                          "SELECT destination FROM virtual_aliases "
                          "WHERE source='%s' ORDER BY id")
        self.assertEqual(self.found(domains, "example.com"), "1")
        self.not_found(domains, "example.org")
        self.assertEqual(self.found(users, "alice@example.com"), "1")
        # Keys are folded to lower case, as Postfix's tables do.
        self.assertEqual(self.found(users, "Alice@Example.COM"), "1")
        self.not_found(users, "nobody@example.com")
        self.assertEqual(self.found(aliases, "info@example.com"),
                         "alice@example.com")
        # Several rows are joined with commas; an empty value adds nothing.
        self.assertEqual(self.found(aliases, "team@example.com"),
                         "alice@example.com,bob@example.com")
        self.not_found(aliases, "empty@example.com")

    def test_postmap_templates_and_result_format(self):
        maildir = self.cf("maildir.cf",
                          "SELECT email FROM virtual_users "
                          "WHERE email='%u@%d' AND '%1'='com'",
                          result_format="%d/%u/")
        self.assertEqual(self.found(maildir, "bob@example.com"),
                         "example.com/bob/")
        self.not_found(maildir, "carol@example.net")   # %1 is net
        self.not_found(maildir, "bob")                 # no %d: no query
        # A NULL field is skipped, as Postfix does.
        mdir = self.cf("mdir.cf", "SELECT maildir FROM virtual_users "
                                  "WHERE email='%s'")
        self.not_found(mdir, "carol@example.net")
        # The password column is what passdb reads: a plain lookup returns
        # the row value unchanged.
        pw = self.cf("pw.cf", "SELECT password FROM virtual_users "
                              "WHERE email='%s'")
        self.assertEqual(self.found(pw, "alice@example.com"), "{PLAIN}alice-pw")
        # %S in result_format is the key.
        both = self.cf("both.cf", "SELECT destination FROM virtual_aliases "
                                  "WHERE source='%s'", result_format="%S=%s")
        self.assertEqual(self.found(both, "info@example.com"),
                         "info@example.com=alice@example.com")

    def test_postmap_domain_filter_and_limit(self):
        users = self.cf("users.cf",
                        "SELECT email FROM virtual_users WHERE email='%s' "
                        "OR '%s'='example.com' OR '%s'='alice'",
                        domain="example.com")
        self.assertEqual(self.found(users, "alice@example.com"),
                         "alice@example.com")
        # Outside the domain list, bare domains and bare users: no query.
        self.not_found(users, "carol@example.net")
        self.not_found(users, "example.com")
        self.not_found(users, "alice")
        self.not_found(users, "@example.com")
        limited = self.cf("limited.cf", "SELECT destination FROM "
                          "virtual_aliases WHERE source='%s'",
                          expansion_limit="1")
        self.assertEqual(self.found(limited, "info@example.com"),
                         "alice@example.com")
        r = self.postmap(limited, "team@example.com")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("expansion_limit", r.stderr)

    def test_postmap_hostile_keys_are_escaped(self):
        users = self.cf("users.cf",
                        "SELECT email FROM virtual_users WHERE email='%s'")
        for key in ("x' OR '1'='1", "x\\' OR 1=1 -- ", "alice@example.com'--"):
            self.not_found(users, key)
        self.assertEqual(self.found(users, "alice@example.com"),
                         "alice@example.com")
        # Not valid UTF-8: not looked up (Postfix's rule).
        r = subprocess.run([POSTMAP, "-c", self.dir, "-q", "-", users],
                           input=b"al\xffce@example.com\n",
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 1, r.stderr)

    def test_postmap_unix_socket_and_failover(self):
        users = self.cf("unix.cf", "SELECT email FROM virtual_users WHERE "
                        "email='%s'", hosts=self.hosts_unix())
        self.assertEqual(self.found(users, "bob@example.com"), "bob@example.com")
        # unix: hosts are tried first: the dead one is, then the live TCP
        # host answers.
        dead_port = free_port()
        failover = self.cf("failover.cf", "SELECT email FROM virtual_users "
                           "WHERE email='%s'",
                           hosts=f"unix:{self.dir}/no-such-socket "
                                 f"127.0.0.1:{dead_port} {self.hosts_tcp()}")
        keys = "alice@example.com\nbob@example.com\nnobody@example.com\n"
        for _ in range(3):  # the order among TCP hosts is random
            r = subprocess.run([POSTMAP, "-c", self.dir, "-q", "-", failover],
                               input=keys, capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, "alice@example.com\talice@example.com\n"
                                       "bob@example.com\tbob@example.com\n")
            self.assertIn("no-such-socket is skipped for 60s", r.stderr)

    def test_postmap_dead_server_is_an_error_not_not_found(self):
        dead = self.cf("dead.cf", "SELECT 1 FROM virtual_users WHERE "
                       "email='%s'", hosts=f"127.0.0.1:{free_port()}",
                       connect_timeout="2")
        start = time.monotonic()
        r = self.postmap(dead, "alice@example.com")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("no database host answered", r.stderr)
        self.assertLess(time.monotonic() - start, 10)
        # A broken statement is an error too, with the server's reason.
        bad = self.cf("bad.cf", "SELECT nosuchcolumn FROM virtual_users "
                      "WHERE email='%s'")
        r = self.postmap(bad, "alice@example.com")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("nosuchcolumn", r.stderr)
        # The password is never in a message.
        self.assertNotIn(self.server.password, r.stderr)

    def test_postmap_silent_server_is_bounded(self):
        # A listener that never answers (the kernel completes the TCP
        # handshake, the server says nothing): connect_timeout ends it.
        import socket
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(8)
            spec = self.cf("silent.cf", "SELECT 1 FROM virtual_users WHERE "
                           "email='%s'", hosts=f"127.0.0.1:{silent.getsockname()[1]}",
                           connect_timeout="1")
            start = time.monotonic()
            r = self.postmap(spec, "alice@example.com")
            elapsed = time.monotonic() - start
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("no database host answered", r.stderr)
        self.assertLess(elapsed, 4)

    # -- a whole instance --

    def test_instance_virtual_delivery_from_sql(self):
        server = self.server_class.start_for(self)  # stopped below
        server.sql(SEEDS_SCHEMA + SEEDS_DATA)
        inst = Instance(self)
        base = os.path.join(inst.root, "vmail")
        os.makedirs(base)
        if is_root():
            vuser = ensure_user("pt-vmail", os.path.join(inst.root, "vhome"))
            os.chown(base, vuser.pw_uid, vuser.pw_gid)
            uid, gid = vuser.pw_uid, vuser.pw_gid
        else:
            uid, gid = os.getuid(), os.getgid()
        self.dir = inst.etc
        bounds = {"connect_timeout": "2", "query_timeout": "2",
                  "retry_interval": "0"}
        domains = self.cf("domains.cf", "SELECT name FROM virtual_domains "
                          "WHERE name='%s'", server=server, **bounds)
        mailboxes = self.cf("mailboxes.cf", "SELECT maildir FROM "
                            "virtual_users WHERE email='%s'", server=server,
                            **bounds)
        aliases = self.cf("aliases.cf", "SELECT destination FROM "
                          "virtual_aliases WHERE source='%s'", server=server,
                          **bounds)
        smtp_port = inst.free_port()
        inst.main_params.update({
            "myhostname": "mx.test", "mydestination": "localhost",
            # Seeds often write proxy:mysql:...; proxy: is dropped.
            "virtual_mailbox_domains": "proxy:" + domains,
            "virtual_mailbox_maps": mailboxes,
            "virtual_alias_maps": aliases,
            "virtual_mailbox_base": base,
            "virtual_uid_maps": f"static:{uid}",
            "virtual_gid_maps": f"static:{gid}",
            "virtual_minimum_uid": "1",
            "smtpd_peername_lookup": "no",
            "queue_run_delay": "1s",
        })
        inst.write_main_cf()
        inst.write_master_cf(
            inst.service(f"127.0.0.1:{smtp_port}", "inet", "smtpd")
            + inst.service("qmgr", "unix", "qmgr", private="n", wakeup=1,
                           maxproc=1)
            + inst.service("virtual", "unix", "virtual", unpriv="n"))
        inst.start()
        alice = os.path.join(base, "example.com", "alice")
        bob = os.path.join(base, "example.com", "bob")
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as client:
            client.ehlo("client.test")
            client.mail("sender@remote.test")
            self.assertEqual(client.rcpt("alice@example.com")[0], 250)
            self.assertEqual(client.rcpt("info@example.com")[0], 250)
            self.assertEqual(client.rcpt("bob@example.com")[0], 250)
            code, text = client.rcpt("nobody@example.com")
            self.assertEqual(code, 550, text)
            self.assertIn(b"5.1.1", text)
            self.assertEqual(client.data(MESSAGE)[0], 250)
        inst.wait_until(lambda: len(maildir_files(alice)) == 2
                        and len(maildir_files(bob)) == 1, timeout=20,
                        what="delivery into alice's and bob's Maildirs")
        with open(maildir_files(bob)[0], "rb") as f:
            self.assertIn(b"hello from sql", f.read())

        # A server restart breaks smtpd's kept connections: the next
        # lookup connects again at once, without a temporary error.
        server.restart()
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=60) as client:
            client.ehlo("client.test")
            client.mail("sender@remote.test")
            code, text = client.rcpt("bob@example.com")
            self.assertEqual(code, 250, text)
        self.assertRegex(inst.log_text(), r"connecting again")

        # The server hangs (SIGSTOP), then dies: lookups on smtpd's kept
        # connections are temporary errors, never "unknown user", and a
        # hung server holds a lookup for about query_timeout (+ one
        # reconnect's connect_timeout), not forever.
        for how in ("hung", "dead"):
            if how == "hung":
                server.pause()
            else:
                server.stop()
            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=60) as client:
                client.ehlo("client.test")
                start = time.monotonic()
                client.mail("sender@remote.test")
                code, text = client.rcpt("alice@example.com")
                elapsed = time.monotonic() - start
                self.assertEqual(code, 451, f"{how}: {text}")
                self.assertIn(b"4.3.0", text)
                # domains, then mailboxes: each at most about 2 + 2 s.
                self.assertLess(elapsed, 12, how)
        self.assertRegex(inst.log_text(), r"lookup error")


class PgsqlTableTest(SqlTableCases, unittest.TestCase):
    server_class = PostgresServer
    type = "pgsql"


    def test_postmap_uri_host(self):
        s = self.server
        uri = self.cf("uri.cf", "SELECT email FROM virtual_users WHERE "
                      "email='%s'", hosts=f"postgresql://{s.user}:{s.password}"
                                          f"@127.0.0.1:{s.port}/{s.dbname}")
        self.assertEqual(self.found(uri, "bob@example.com"), "bob@example.com")


class MysqlTableTest(SqlTableCases, unittest.TestCase):
    server_class = MariaDBServer
    type = "mysql"


if __name__ == "__main__":
    unittest.main()
