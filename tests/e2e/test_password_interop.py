"""test_password_interop.py: our password schemes against Dovecot's own.

Both ways, with Debian's doveadm (dovecot-core, installed by
scripts/install-deps --test): `doveadm pw -t` accepts every hash
lib/auth/password makes (ARGON2ID, SHA512-CRYPT) and refuses it for a
wrong password, and hashes doveadm makes now, with fresh salts, verify
through tests/helpers/password_tool. The fixed vectors in
tests/unit/test_password.c cover the same ground without doveadm.
"""
import os
import shutil
import subprocess
import unittest

BUILDDIR = os.environ.get("POSTERN_BUILDDIR",
                          os.path.join(os.path.dirname(__file__), "..", ".."))
TOOL = os.path.join(BUILDDIR, "tests", "helpers", "password_tool")
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"

PASSWORD = "Zw\u00f6lf Boxk\u00e4mpfer: jagen Viktor!"


def doveadm_pw(*args):
    # doveadm pw reads no configuration it needs; an empty one keeps it
    # from tripping over a site's dovecot.conf.
    return subprocess.run([DOVEADM, "-c", "/dev/null", "pw", *args],
                          capture_output=True, text=True, timeout=60)


def tool(*args, password=PASSWORD):
    return subprocess.run([TOOL, *args], input=password + "\n",
                          capture_output=True, text=True, timeout=60)


@unittest.skipUnless(os.access(DOVEADM, os.X_OK),
                     "doveadm missing: scripts/install-deps --test installs dovecot-core")
class PasswordInteropTest(unittest.TestCase):
    def test_doveadm_verifies_our_hashes(self):
        for scheme in ("ARGON2ID", "SHA512-CRYPT"):
            made = tool("hash", scheme)
            self.assertEqual(made.returncode, 0, made.stderr)
            stored = made.stdout.strip()
            self.assertTrue(stored.startswith("{%s}" % scheme), stored)
            right = doveadm_pw("-t", stored, "-p", PASSWORD)
            self.assertEqual(right.returncode, 0, right.stdout + right.stderr)
            self.assertIn("(verified)", right.stdout + right.stderr)
            wrong = doveadm_pw("-t", stored, "-p", PASSWORD + "x")
            self.assertNotEqual(wrong.returncode, 0, wrong.stdout + wrong.stderr)

    def test_we_verify_fresh_doveadm_hashes(self):
        for scheme in ("SHA512-CRYPT", "SHA256-CRYPT", "BLF-CRYPT", "CRYPT",
                       "MD5-CRYPT", "DES-CRYPT", "ARGON2ID", "ARGON2I",
                       "SSHA512", "SSHA256", "SSHA256.HEX", "PLAIN"):
            made = doveadm_pw("-s", scheme, "-p", PASSWORD)
            self.assertEqual(made.returncode, 0, made.stderr)
            stored = made.stdout.strip()
            right = tool("verify", stored)
            self.assertEqual(right.returncode, 0, "%s: %s" % (stored, right.stderr))
            # Changed in the first byte: DES-CRYPT reads only eight.
            wrong = tool("verify", stored, password="x" + PASSWORD)
            self.assertEqual(wrong.returncode, 1, "%s: %s" % (stored, wrong.stderr))

    def test_unknown_scheme_is_an_error(self):
        made = doveadm_pw("-s", "SHA1", "-p", PASSWORD)
        self.assertEqual(made.returncode, 0, made.stderr)
        result = tool("verify", made.stdout.strip())
        self.assertEqual(result.returncode, 2)
        self.assertIn("unknown password scheme {SHA1}", result.stderr)


if __name__ == "__main__":
    unittest.main()
