#!/usr/bin/env python3
"""An HTTP sink for the notification tests: records every request.

Listens on 127.0.0.1 (an ephemeral port, printed as "recorder listening
(port N)"), appends one JSON object per request to --log (method, path,
headers with lower-case names, body), and answers 500 to the first --fail
requests, then --status (default 201) with "{}".
"""
import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--fail", type=int, default=0)
    ap.add_argument("--status", type=int, default=201)
    args = ap.parse_args()
    lock = threading.Lock()
    seen = [0]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode("utf-8", "replace")
            with lock:
                seen[0] += 1
                status = 500 if seen[0] <= args.fail else args.status
                rec = {"method": "POST", "path": self.path, "body": body, "status": status,
                       "headers": {k.lower(): v for k, v in self.headers.items()}}
                with open(args.log, "a") as f:
                    f.write(json.dumps(rec) + "\n")
            reply = b"{}" if status < 400 else b'{"message":"recorder says no"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, fmt, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("recorder listening (port %d)" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
