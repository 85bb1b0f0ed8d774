#!/usr/bin/python3
"""A minimal Kiln client: Hello with a client credential, one Query, print the answer.

    protoc --python_out=OUT -I schema schema/kiln.proto   # kiln_pb2.py (not committed)
    PYTHONPATH=OUT kiln_client.py --daemon 127.0.0.1:7450 --token-file ci.token runs
    PYTHONPATH=OUT kiln_client.py --daemon … --token-file … report 12
Framing (docs/protocol.md): each frame is a 4-byte big-endian length, then one Envelope.
"""
import argparse, socket, struct, sys
import kiln_pb2 as pb

VERSION = 3  # kProtocolVersion

def send(sock, envelope):
    envelope.version = VERSION
    data = envelope.SerializeToString()
    sock.sendall(struct.pack(">I", len(data)) + data)

def receive(sock):
    def exactly(n):
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                sys.exit("kiln_client: the daemon closed the connection")
            buf += chunk
        return buf
    (length,) = struct.unpack(">I", exactly(4))
    envelope = pb.Envelope()
    envelope.ParseFromString(exactly(length))
    return envelope

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--daemon", default="127.0.0.1:7450")
    ap.add_argument("--token-file", required=True)
    ap.add_argument("what", choices=["runs", "report"])
    ap.add_argument("run", nargs="?", type=int, default=0)
    args = ap.parse_args()
    host, port = args.daemon.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=30)
    hello = pb.Envelope()
    hello.hello.protocol_version, hello.hello.role = VERSION, pb.ROLE_CLIENT
    hello.hello.identity = "kiln_client.py"
    hello.hello.credential = open(args.token_file).read().strip()
    send(sock, hello)
    welcome = receive(sock)
    if not welcome.HasField("welcome"):
        sys.exit("kiln_client: refused: " + welcome.refused.reason)
    ask = pb.Envelope(request_id=1)
    ask.query.kind = pb.Query.RUNS if args.what == "runs" else pb.Query.REPORT
    ask.query.run_id = args.run
    send(sock, ask)
    body = ""
    while True:  # a large answer comes in parts (QueryReply.more); heartbeats may come between
        reply = receive(sock)
        if reply.HasField("error_reply"):
            sys.exit("kiln_client: %s: %s" % (reply.error_reply.code, reply.error_reply.message))
        if reply.request_id == 1 and reply.HasField("query_reply"):
            body += reply.query_reply.body
            if not reply.query_reply.more:
                break
    print(body)

if __name__ == "__main__":
    main()
