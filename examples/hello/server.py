#!/usr/bin/env python3
"""hello: the smallest web app huddle can deploy (python3 standard library only).

GET /        one line of text: the version (from VERSION next to this file)
             and the deployed commit (HUDDLE_COMMIT, set by huddle)
GET /health  200 "ok"

Environment: PORT (default 8080; 0 picks a free port), BIND (default 127.0.0.1).
Logs one line on start, and exits cleanly (status 0) on SIGTERM or SIGINT.
"""
import os
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))


def read_version():
    try:
        with open(os.path.join(HERE, "VERSION"), encoding="utf-8") as f:
            return f.read().strip() or "unknown"
    except OSError:
        return "unknown"


VERSION = read_version()
COMMIT = os.environ.get("HUDDLE_COMMIT", "")


class Handler(BaseHTTPRequestHandler):
    server_version = "hello/" + VERSION

    def reply(self, status, text):
        body = (text + "\n").encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/":
            line = "hello from huddle, version " + VERSION
            if COMMIT:
                line += ", commit " + COMMIT[:12]
            self.reply(200, line)
        elif path == "/health":
            self.reply(200, "ok")
        else:
            self.reply(404, "not found")

    do_HEAD = do_GET

    def log_message(self, format, *args):
        # Health checks would flood the journal; log the rest to stdout.
        if not self.path.startswith("/health"):
            print("%s %s" % (self.address_string(), format % args), flush=True)


class Server(ThreadingHTTPServer):
    daemon_threads = True


def main():
    bind = os.environ.get("BIND", "127.0.0.1")
    try:
        port = int(os.environ.get("PORT", "8080"))
    except ValueError:
        print("hello: PORT must be a number, got %r" % os.environ["PORT"], file=sys.stderr, flush=True)
        return 2
    if ":" in bind:
        Server.address_family = socket.AF_INET6
    httpd = Server((bind, port), Handler)

    def stop(signum, frame):
        # shutdown() waits for serve_forever() to return, so not from this thread.
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, port = httpd.server_address[:2]
    if ":" in host:
        host = "[" + host + "]"
    print("hello %s%s listening on http://%s:%d/" % (VERSION, " (commit " + COMMIT[:12] + ")" if COMMIT else "", host, port), flush=True)
    try:
        httpd.serve_forever()
    finally:
        httpd.server_close()
    print("hello: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
