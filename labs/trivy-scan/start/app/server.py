"""menu-aggregator: one lunch page for the office, from every restaurant's
menu. Serves on port 8080:

  /            the merged menus as one HTML page
  /api/menus   the same as JSON (?day=monday for one day)
  /healthz     "ok" when the menus load

Runs as any user with a read-only root filesystem: it writes nothing.
"""

import html
import http.server
import json
import os
import sys
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import menus  # noqa: E402

MENU_DIR = os.environ.get("MENU_DIR", os.path.join(os.path.dirname(__file__), "..", "menus"))
PORT = int(os.environ.get("PORT", "8080"))


def render_page(dishes):
    rows = []
    for day in menus.DAYS:
        todays = [d for d in dishes if d["day"] == day]
        if not todays:
            continue
        rows.append("<h2>%s</h2>\n<table>" % day.capitalize())
        for d in todays:
            rows.append("<tr><td>%s</td><td>%s</td><td>%d.%02d EUR</td><td>%s</td></tr>" % (
                html.escape(d["restaurant"]), html.escape(d["dish"]),
                d["price_cents"] // 100, d["price_cents"] % 100,
                html.escape(", ".join(d["tags"]))))
        rows.append("</table>")
    return ("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Lunch menus</title>"
            "</head><body><h1>Lunch this week</h1>\n%s\n</body></html>\n" % "\n".join(rows))


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "menu-aggregator"

    def _send(self, status, body, content_type):
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 (the stdlib's name)
        url = urllib.parse.urlsplit(self.path)
        try:
            dishes = menus.load_dir(MENU_DIR)
        except (OSError, menus.MenuError) as e:
            self._send(500, "menus cannot be read: %s\n" % e, "text/plain; charset=utf-8")
            return
        if url.path == "/healthz":
            self._send(200, "ok\n", "text/plain; charset=utf-8")
        elif url.path == "/api/menus":
            day = urllib.parse.parse_qs(url.query).get("day", [None])[0]
            if day is not None:
                dishes = [d for d in dishes if d["day"] == day.lower()]
            self._send(200, json.dumps({"dishes": dishes}, indent=2) + "\n", "application/json")
        elif url.path == "/":
            self._send(200, render_page(dishes), "text/html; charset=utf-8")
        else:
            self._send(404, "not found\n", "text/plain; charset=utf-8")

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


def main():
    server = http.server.ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    print("menu-aggregator on :%d, menus from %s" % (PORT, os.path.abspath(MENU_DIR)), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
