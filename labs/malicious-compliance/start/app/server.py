"""menu-aggregator (the vendor's build): serves the merged lunch menus on
port 8080 and answers /healthz with "ok"."""

import http.server
import os

PORT = int(os.environ.get("PORT", "8080"))


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok\n" if self.path == "/healthz" else b"menus\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    http.server.HTTPServer(("", PORT), Handler).serve_forever()
