"""auth_util.py: a client of the auth service's socket (Dovecot's
authentication protocol, client side) written from the protocol document
with the standard library only, and a helper that starts an instance
running the auth service. Used by test_auth.py and test_auth_postfix.py.

The SCRAM-SHA-256 client side (RFC 5802/7677) is computed here with
hashlib and hmac, independently of lib/auth/scram.c."""
import base64
import hashlib
import hmac
import os
import socket
import time

from instance import Instance


def start_auth_instance(testcase, users, main_cf=None):
    """An instance whose master.cf runs only the auth service (the default
    master.cf's line), with passdb = passwd-file:ROOT/etc/users holding
    `users`. Returns (instance, socket path)."""
    inst = Instance(testcase)
    users_path = os.path.join(inst.etc, "users")
    with open(users_path, "w") as f:
        f.write(users)
    params = {"passdb": f"passwd-file:{users_path}",
              "auth_failure_delay": "1s"}
    params.update(main_cf or {})
    inst.write_main_cf(params)
    inst.write_master_cf(inst.service("auth", "unix", "auth", maxproc=1))
    inst.start()
    path = os.path.join(inst.queue, "private", "auth")
    inst.wait_until(lambda: os.path.exists(path), what="private/auth")
    return inst, path, users_path


def b64(data):
    return base64.b64encode(data).decode()


class AuthClient:
    """One connection to the auth socket."""

    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buffer = b""
        self.handshake = []
        self.mechs = {}

    def close(self):
        self.sock.close()

    def send(self, line):
        self.sock.sendall(line.encode() + b"\n")

    def line(self):
        while b"\n" not in self.buffer:
            data = self.sock.recv(4096)
            if not data:
                raise EOFError(f"EOF after {self.buffer!r}")
            self.buffer += data
        text, self.buffer = self.buffer.split(b"\n", 1)
        return text.decode()

    def start(self):
        """Reads the server handshake up to DONE; sends VERSION and CPID."""
        self.send("VERSION\t1\t2")
        self.send(f"CPID\t{os.getpid()}")
        while True:
            line = self.line()
            self.handshake.append(line)
            fields = line.split("\t")
            if fields[0] == "MECH":
                self.mechs[fields[1]] = fields[2:]
            if line == "DONE":
                return self

    def reply(self):
        """The next reply as (command, id, {params}, [raw fields after
        the id]): a CONT's data is raw[0]."""
        fields = self.line().split("\t")
        params = {}
        for f in fields[2:]:
            k, _, v = f.partition("=")
            params[k] = v
        return fields[0], fields[1], params, fields[2:]

    def auth(self, req_id, mech, service="smtp", rip="127.0.0.1", resp=None):
        line = (f"AUTH\t{req_id}\t{mech}\tservice={service}\tlip=127.0.0.1\t"
                f"rip={rip}\tlport=25\trport=40000\tsecured\tnologin")
        if resp is not None:
            line += f"\tresp={b64(resp)}"
        self.send(line)

    def cont(self, req_id, data):
        self.send(f"CONT\t{req_id}\t{b64(data)}")

    def plain(self, req_id, user, password, **kw):
        """AUTH PLAIN; returns (reply, seconds it took)."""
        started = time.monotonic()
        self.auth(req_id, "PLAIN",
                  resp=b"\0" + user.encode() + b"\0" + password.encode(), **kw)
        return self.reply(), time.monotonic() - started

    def login(self, req_id, user, password, **kw):
        self.auth(req_id, "LOGIN", **kw)
        cmd, _, _, _ = r = self.reply()
        if cmd != "CONT":
            return r
        self.cont(req_id, user.encode())
        r = self.reply()
        if r[0] != "CONT":
            return r
        self.cont(req_id, password.encode())
        return self.reply()

    def scram(self, req_id, user, password, **kw):
        """A whole SCRAM-SHA-256 exchange. Returns (final reply, whether
        the server's signature was right, or None when not reached)."""
        cnonce = b64(os.urandom(18))
        first_bare = f"n={user},r={cnonce}"
        self.auth(req_id, "SCRAM-SHA-256", resp=("n,," + first_bare).encode(),
                  **kw)
        r = self.reply()
        if r[0] != "CONT":
            return r, None
        server_first = base64.b64decode(r[3][0]).decode()
        attrs = dict(item.split("=", 1) for item in server_first.split(","))
        assert attrs["r"].startswith(cnonce)
        salted = hashlib.pbkdf2_hmac("sha256", password.encode(),
                                     base64.b64decode(attrs["s"]),
                                     int(attrs["i"]))
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        stored_key = hashlib.sha256(client_key).digest()
        without_proof = f"c={b64(b'n,,')},r={attrs['r']}"
        auth_message = f"{first_bare},{server_first},{without_proof}".encode()
        signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        self.cont(req_id, f"{without_proof},p={b64(proof)}".encode())
        r = self.reply()
        if r[0] != "CONT":
            return r, None
        server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
        expected = "v=" + b64(hmac.new(server_key, auth_message,
                                       hashlib.sha256).digest())
        verified = base64.b64decode(r[3][0]).decode() == expected
        self.cont(req_id, b"")
        return self.reply(), verified
