#!/usr/bin/python3
"""git's smart HTTP for the tests: git http-backend behind a small HTTP(S)
server, as a forge runs it. Python's CGIHTTPRequestHandler, which did this
before, is deprecated in Python 3.13 and removed in 3.15; this runs the CGI
itself, per RFC 3875, with nothing but the standard library.

Usage: git-http.py --port PORT [--bind ADDR] [--root DIR] [--tls CERT KEY] [--auth-file FILE]
                   [--record FILE] [--redirect BASE] [--advertise FILE] [--peer-uids FILE]

Repositories under --root (default /srv/git) are served at
http(s)://127.0.0.1:PORT/cgi-bin/git/NAME.git (the path the tests have always
used). With --auth-file (holding USER:PASSWORD; a file, so that the secret is
in no command line or log), every request without those Basic credentials
gets 401. With --record, the Authorization header of every request (or
"-" when there is none) is appended to FILE, for tests of where a token
goes. With --redirect, every request is answered 302 to BASE followed by
the request's path and query, as an open redirect on a forge would. With
--advertise, the ref advertisement also lists the refs in FILE (read at each
request; lines "OID NAME", NAME any bytes but a line break, "\\n" standing
for one), as a hostile server could: git itself never sends such names.
With --peer-uids, the uid owning the client's end of each connection (from
/proc/net/tcp, the client being on this machine) is appended to FILE, for
tests of who talks to the remote.
"""
import argparse
import base64
import http.server
import os
import ssl
import subprocess
import urllib.parse

BACKEND = "/usr/lib/git-core/git-http-backend"
PREFIX = "/cgi-bin/git"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.serve()

    def do_POST(self):
        self.serve()

    def log_message(self, fmt, *args):  # to the unit's journal, one line each
        print(f"{self.address_string()} {fmt % args}", flush=True)

    def reply(self, code, headers=(), body=b""):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    @staticmethod
    def advertise(out, extra_file):
        """Insert the refs of EXTRA_FILE after the first ref of a v0 advertisement."""
        pos = out.find(b"\r\n\r\n")
        pos = pos + 4 if pos >= 0 else out.find(b"\n\n") + 2
        pkt = lambda data: b"%04x" % (len(data) + 4) + data
        i = pos + int(out[pos:pos + 4], 16)  # "# service=..." pkt
        i += 4  # its flush
        i += int(out[i:i + 4], 16)  # the first ref, with the capabilities
        extra = b"".join(pkt(line.replace(b"\\n", b"\n") + b"\n") for line in open(extra_file, "rb").read().splitlines() if line)
        return out[:i] + extra + out[i:]

    def peer_uid(self):
        """The uid of the local socket whose address is the client's, or "?"."""
        host, port = self.client_address[:2]
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = open(table).read().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                f = line.split()
                if int(f[1].rsplit(":", 1)[1], 16) == port and int(f[2].rsplit(":", 1)[1], 16) == self.server.server_address[1]:
                    return f[7]
        return "?"

    def serve(self):
        opts = self.server.opts
        if opts.peer_uids:
            with open(opts.peer_uids, "a") as f:
                f.write(self.peer_uid() + "\n")
        if opts.record:
            with open(opts.record, "a") as f:
                f.write(self.headers.get("Authorization", "-") + "\n")
        if opts.redirect:
            return self.reply(302, [("Location", opts.redirect + self.path)])
        if opts.auth and self.headers.get("Authorization") != "Basic " + base64.b64encode(opts.auth.encode()).decode():
            return self.reply(401, [("WWW-Authenticate", "Basic realm=git")])
        path, _, query = self.path.partition("?")
        if not path.startswith(PREFIX + "/"):
            return self.reply(404)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            # The server runs as root, the repositories belong to whoever made them.
            "GIT_PROJECT_ROOT": opts.root, "GIT_HTTP_EXPORT_ALL": "1",
            "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "safe.directory", "GIT_CONFIG_VALUE_0": "*",
            "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_PROTOCOL": self.request_version,
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": str(opts.port),
            "REQUEST_METHOD": self.command, "SCRIPT_NAME": PREFIX,
            "PATH_INFO": urllib.parse.unquote(path[len(PREFIX):]), "QUERY_STRING": query,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(length),
        }
        if opts.auth:
            env["REMOTE_USER"] = opts.auth.split(":", 1)[0]
        for k, v in self.headers.items():  # HTTP_GIT_PROTOCOL, HTTP_CONTENT_ENCODING, ...
            env["HTTP_" + k.upper().replace("-", "_")] = v
        if "Git-Protocol" in self.headers:
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        out = subprocess.run([BACKEND], input=body, env=env, capture_output=True).stdout
        # Protocol v0 only (libgit2's): a v2 client asks for refs later, with ls-refs.
        if opts.advertise and path.endswith("/info/refs") and "version=2" not in self.headers.get("Git-Protocol", ""):
            out = self.advertise(out, opts.advertise)
        sep = b"\r\n\r\n" if b"\r\n\r\n" in out else b"\n\n"
        head, _, content = out.partition(sep)
        code, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            k, _, v = line.partition(":")
            if k.lower() == "status":
                code = int(v.split()[0])
            elif k and k.lower() != "content-length":
                headers.append((k, v.strip()))
        self.reply(code, headers, content)


def main():
    ap = argparse.ArgumentParser(description="git http-backend over HTTP(S), for tests")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--root", default="/srv/git")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--auth-file", metavar="FILE")
    ap.add_argument("--record", metavar="FILE")
    ap.add_argument("--redirect", metavar="BASE")
    ap.add_argument("--advertise", metavar="FILE")
    ap.add_argument("--peer-uids", metavar="FILE")
    opts = ap.parse_args()
    opts.auth = open(opts.auth_file).read().strip() if opts.auth_file else None
    server = http.server.ThreadingHTTPServer((opts.bind, opts.port), Handler)
    server.opts = opts
    if opts.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*opts.tls)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
