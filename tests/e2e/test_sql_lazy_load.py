"""SQL client libraries are loaded on first use (lib/tables/sql_lib.c):
a daemon without a pgsql: or mysql: table never maps libpq or
libmariadb, which linked in cost every daemon start about 13 ms of CPU
(smtpd and virtual start again every max_use sessions), and a table
that needs one still reaches it: the connect error comes from the
client library itself."""
import os
import subprocess
import tempfile
import unittest

from instance import builddir, free_port
from smtpd_util import SmtpdInstance

TOOLS = os.path.join(builddir(), "tools")
SQL_LIBRARIES = ("libpq.so", "libmariadb.so")


def compiled_in_types(conf):
    r = subprocess.run([os.path.join(TOOLS, "postconf"), "-c", conf, "-m"],
                       capture_output=True, text=True, timeout=30)
    return r.stdout.split()


def mapped_sql_libraries(pid):
    with open(f"/proc/{pid}/maps") as f:
        return sorted({line.split()[-1] for line in f
                       if any(lib in line for lib in SQL_LIBRARIES)})


class SqlLazyLoadTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sql-lazy-")
        self.conf = os.path.join(self.dir, "conf")
        os.makedirs(self.conf)
        open(os.path.join(self.conf, "main.cf"), "w").close()
        self.types = compiled_in_types(self.conf)
        if "pgsql" not in self.types and "mysql" not in self.types:
            self.skipTest("neither pgsql: nor mysql: is compiled in")

    def tearDown(self):
        subprocess.run(["rm", "-rf", self.dir])

    def test_daemons_without_sql_tables_do_not_map_the_libraries(self):
        inst = SmtpdInstance()
        try:
            with inst.raw() as c:
                c.cmd("EHLO client.example")
                pids = inst.master_children()
                self.assertTrue(pids, "no daemon runs")
                seen = {}
                for pid in [inst.master_pid()] + pids:
                    with open(f"/proc/{pid}/comm") as f:
                        name = f.read().strip()
                    seen[name] = mapped_sql_libraries(pid)
                self.assertIn("smtpd", seen)
                for name, libs in seen.items():
                    self.assertEqual(libs, [], f"{name} maps {libs}")
        finally:
            inst.cleanup()

    def test_a_table_loads_its_library_when_it_connects(self):
        cf = os.path.join(self.dir, "dead.cf")
        with open(cf, "w") as f:
            f.write(f"hosts = 127.0.0.1:{free_port()}\nuser = u\n"
                    "password = p\ndbname = d\nquery = SELECT 1\n"
                    "connect_timeout = 2\n")
        # Each library's own wording for a refused connection.
        wording = {"pgsql": "Connection refused",
                   "mysql": "Can't connect to server"}
        for type_ in ("pgsql", "mysql"):
            if type_ not in self.types:
                continue
            with self.subTest(type_):
                r = subprocess.run(
                    [os.path.join(TOOLS, "postmap"), "-c", self.conf, "-q",
                     "key", f"{type_}:{cf}"],
                    capture_output=True, text=True, timeout=60)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertNotIn("cannot load", r.stderr)
                self.assertIn(wording[type_], r.stderr)


if __name__ == "__main__":
    unittest.main()
