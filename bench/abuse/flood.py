#!/usr/bin/env python3
"""How kilnd holds up against hostile connections (issue 11, "bounded under abuse").

Starts kilnd on a scratch database and, in turn:
  1. opens N connections that each send a 4 MiB length prefix and the start
     of its body before any Hello, and holds them open;
  2. opens N connections that authenticate as clients and then never read
     while asking for the whole inventory over and over;
  3. restarts kilnd with a descriptor limit of 64 and opens N connections,
     so that accept fails at the limit;
and after each measures kilnd's resident memory, the lines it logged, and
whether a real client is still served. Prints one JSON object.

  bench/abuse/flood.py [--kilnd build/default/bin/kilnd] [--connections 200]
"""
import argparse, json, os, socket, struct, subprocess, sys, tempfile, time

def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return -1.0

def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out

def field(num, wire, payload):
    key = varint((num << 3) | wire)
    if wire == 0:
        return key + varint(payload)
    return key + varint(len(payload)) + payload

PROTOCOL_VERSION = 3  # schema/frame.hpp kProtocolVersion

def frame(payload):
    return struct.pack(">I", len(payload)) + payload

def hello(secret, identity):
    # Envelope{version (1), hello (10) = Hello{protocol_version, role=CLIENT(2), identity, credential}}
    body = (field(1, 0, PROTOCOL_VERSION) + field(2, 0, 2) + field(3, 2, identity.encode()) +
            field(4, 2, secret.encode()))
    return frame(field(1, 0, PROTOCOL_VERSION) + field(10, 2, body))

def query_chips(request_id):
    # Envelope{version, request_id (2), query (43) = Query{kind=CHIPS(4)}}
    return frame(field(1, 0, PROTOCOL_VERSION) + field(2, 0, request_id) + field(43, 2, field(1, 0, 4)))

class Kilnd:
    def __init__(self, binary, workdir, secret, nofile=None):
        # kilnd reads credentials (DESIGN §8): one admin client with `secret`.
        self.credentials = os.path.join(workdir, "credentials.yaml")
        fd = os.open(self.credentials, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"credentials:\n  - {{name: flood-admin, role: admin, secret: '{secret}'}}\n")
        self.port_file = os.path.join(workdir, "port")
        if os.path.exists(self.port_file):
            os.remove(self.port_file)
        self.log_path = os.path.join(workdir, "kilnd.log")
        cmd = [binary, "--db", os.path.join(workdir, "kiln.db"), "--listen", "127.0.0.1:0",
               "--credentials", self.credentials, "--port-file", self.port_file]
        if nofile:
            cmd = ["prlimit", f"--nofile={nofile}:{nofile}", "--"] + cmd
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(500):
            if os.path.exists(self.port_file) and open(self.port_file).read().strip():
                break
            time.sleep(0.01)
        self.port = int(open(self.port_file).read().strip())

    def log_lines(self):
        self.log.flush()
        with open(self.log_path) as f:
            return sum(1 for _ in f)

    def served(self, secret):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            s.sendall(hello(secret, "probe"))
            header = s.recv(4)
            s.close()
            return len(header) == 4
        except OSError:
            return False

    def stop(self):
        """SIGTERM; True when kilnd exited within 10 s (else it is killed)."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
            stopped = True
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            stopped = False
        self.log.close()
        return stopped

def open_many(port, n, first_bytes):
    socks = []
    for _ in range(n):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            if first_bytes:
                s.sendall(first_bytes)
            socks.append(s)
        except OSError:
            pass
    return socks

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kilnd", default="build/default/bin/kilnd")
    ap.add_argument("--connections", type=int, default=200)
    args = ap.parse_args()
    secret = "flood-" + os.urandom(16).hex()
    out = {"connections": args.connections}
    with tempfile.TemporaryDirectory() as work:
        d = Kilnd(args.kilnd, work, secret)
        out["idle_rss_mb"] = round(rss_mb(d.proc.pid), 1)

        # 1. Pre-authentication: a 4 MiB length prefix and 64 KiB of its body each.
        held = open_many(d.port, args.connections, struct.pack(">I", 4 << 20) + b"\0" * 65536)
        time.sleep(1.0)
        out["pre_auth"] = {"rss_mb": round(rss_mb(d.proc.pid), 1), "still_open": 0,
                           "client_served": d.served(secret)}
        for s in held:
            s.setblocking(False)
            try:
                if s.recv(1) != b"":
                    out["pre_auth"]["still_open"] += 1
            except BlockingIOError:
                out["pre_auth"]["still_open"] += 1
            except OSError:
                pass
            s.close()

        # 2. Authenticated clients that ask and never read.
        burst = hello(secret, "greedy") + b"".join(query_chips(i) for i in range(1, 2001))
        held = open_many(d.port, min(args.connections, 50), burst)
        time.sleep(3.0)
        out["never_reading"] = {"clients": len(held), "rss_mb": round(rss_mb(d.proc.pid), 1),
                                "client_served": d.served(secret)}
        out["never_reading"]["log_lines"] = d.log_lines()
        out["never_reading"]["stopped_on_sigterm_with_them_connected"] = d.stop()
        for s in held:
            s.close()

        # 3. Out of descriptors.
        d = Kilnd(args.kilnd, work, secret, nofile=64)
        before = d.log_lines()
        held = open_many(d.port, args.connections, b"")
        time.sleep(5.0)
        out["fd_limit"] = {"nofile": 64, "log_lines_in_5s": d.log_lines() - before,
                           "rss_mb": round(rss_mb(d.proc.pid), 1)}
        for s in held:
            s.close()
        time.sleep(1.0)
        out["fd_limit"]["client_served_after"] = d.served(secret)
        out["fd_limit"]["stopped_on_sigterm"] = d.stop()
    print(json.dumps(out, indent=2))

if __name__ == "__main__":
    sys.exit(main())
