"""Unit tests of the menu parsers and the server's pages (stdlib unittest):
python3 -m unittest discover -s app -v"""

import json
import os
import sys
import threading
import unittest
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import menus  # noqa: E402
import server  # noqa: E402

MENU_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "menus")


class Parsers(unittest.TestCase):
    def test_json(self):
        got = menus.parse_json('{"restaurant": "R", "days": {"Monday": '
                               '[{"name": " Soup ", "price": "4.5", "tags": ["Vegan"]}]}}')
        self.assertEqual(got, [{"restaurant": "R", "day": "monday", "dish": "Soup",
                                "price_cents": 450, "tags": ["vegan"]}])

    def test_csv_with_comma_prices_and_tag_lists(self):
        got = menus.parse_csv('restaurant,day,dish,price,tags\nK,tuesday,Curry,"8,50",vegan;spicy\n')
        self.assertEqual(got, [{"restaurant": "K", "day": "tuesday", "dish": "Curry",
                                "price_cents": 850, "tags": ["spicy", "vegan"]}])

    def test_html(self):
        page = ('<h1> Green\n Bowl </h1><section data-day="friday"><ul>'
                '<li data-price="10" data-tags="a,b">Bowl &amp; bread</li></ul></section>')
        self.assertEqual(menus.parse_html(page), [
            {"restaurant": "Green Bowl", "day": "friday", "dish": "Bowl & bread",
             "price_cents": 1000, "tags": ["a", "b"]}])

    def test_bad_input_names_the_file(self):
        with self.assertRaisesRegex(menus.MenuError, r"^x\.json:1:2: "):
            menus.parse_json("{,", "x.json")
        with self.assertRaisesRegex(menus.MenuError, r"^m\.csv:2: price 'lots'"):
            menus.parse_csv("restaurant,day,dish,price\nK,monday,Soup,lots\n", "m.csv")
        with self.assertRaisesRegex(menus.MenuError, "day 'sunday'"):
            menus.parse_csv("restaurant,day,dish,price\nK,sunday,Soup,1\n", "m.csv")
        with self.assertRaisesRegex(menus.MenuError, "no <h1>"):
            menus.parse_html("<p>nothing</p>")

    def test_shipped_menus_merge_by_day(self):
        dishes = menus.load_dir(MENU_DIR)
        self.assertEqual({d["restaurant"] for d in dishes},
                         {"Trattoria Roma", "Kantine Nord", "Green Bowl"})
        days = [menus.DAYS.index(d["day"]) for d in dishes]
        self.assertEqual(days, sorted(days))
        self.assertEqual(len(dishes), 11)


class Server(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        server.MENU_DIR = MENU_DIR
        cls.httpd = server.http.server.ThreadingHTTPServer(("127.0.0.1", 0), server.Handler)
        cls.base = "http://127.0.0.1:%d" % cls.httpd.server_address[1]
        threading.Thread(target=cls.httpd.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.httpd.shutdown()
        cls.httpd.server_close()

    def get(self, path):
        with urllib.request.urlopen(self.base + path, timeout=10) as r:
            return r.status, r.headers["Content-Type"], r.read().decode("utf-8")

    def test_healthz(self):
        self.assertEqual(self.get("/healthz")[::2], (200, "ok\n"))

    def test_api_one_day(self):
        status, ctype, body = self.get("/api/menus?day=thursday")
        self.assertEqual((status, ctype), (200, "application/json"))
        dishes = json.loads(body)["dishes"]
        self.assertEqual(sorted(d["dish"] for d in dishes),
                         ["Fischfilet mit Reis", "Halloumi & harissa bowl", "Miso soup with udon"])

    def test_page_escapes_html(self):
        status, _, body = self.get("/")
        self.assertEqual(status, 200)
        self.assertIn("Halloumi &amp; harissa bowl", body)
        self.assertIn("<h2>Monday</h2>", body)


if __name__ == "__main__":
    unittest.main()
