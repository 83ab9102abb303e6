"""test_tool_errors.py: every command-line tool ends a fatal error the
same way, through one function (lib/base/tool.h): "NAME: fatal: text" on
stderr and the exit status the tool documents; and a bad command line
prints "usage: NAME ..." on stderr."""
import os
import re
import subprocess
import tempfile
import unittest

from instance import builddir

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# tool, arguments after -c DIR, expected status on a broken main.cf
BROKEN_CONFIG = [
    ("postmap", ["-q", "key", "texthash:/dev/null"], 2),
    ("postalias", ["/dev/null"], 2),
    ("newaliases", [], 2),
    ("postconf", [], 1),
    ("postqueue", ["-p"], 78),
    ("postsuper", [], 78),
    ("postcat", ["-q", "x"], 78),
]


class ToolErrorsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pt-tools-", dir="/tmp")
        with open(os.path.join(self.dir, "main.cf"), "w") as f:
            f.write("message_size_limit = lots\nthis line is not a parameter\n")

    def tearDown(self):
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)

    def run_tool(self, tool, *args):
        return subprocess.run([os.path.join(builddir(), "tools", tool), *args],
                              capture_output=True, text=True, timeout=30)

    def test_broken_main_cf_is_one_fatal_line(self):
        for tool, args, status in BROKEN_CONFIG:
            with self.subTest(tool=tool):
                proc = self.run_tool(tool, "-c", self.dir, *args)
                self.assertEqual(proc.returncode, status, proc.stderr)
                self.assertRegex(proc.stderr,
                                 rf"^{tool}: fatal: {re.escape(self.dir)}/main\.cf")

    def test_bad_option_prints_usage(self):
        for tool in ("postmap", "postalias", "newaliases", "postconf",
                     "postqueue", "postsuper", "postcat", "sendmail",
                     "postdrop"):
            with self.subTest(tool=tool):
                proc = self.run_tool(tool, "-Z")
                self.assertNotEqual(proc.returncode, 0)
                self.assertRegex(proc.stderr, rf"(^|\n)usage: {tool} ")

    def test_no_tool_has_its_own_fatal_function(self):
        own = re.compile(r"^static void (die|fatal|usage_exit)\s*\(|"
                         r'"[a-z]+: fatal: ', re.M)
        for name in sorted(os.listdir(os.path.join(TOP, "tools"))):
            if name.endswith(".c"):
                with open(os.path.join(TOP, "tools", name)) as f:
                    self.assertIsNone(own.search(f.read()), name)


if __name__ == "__main__":
    unittest.main()
