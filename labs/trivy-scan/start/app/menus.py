"""Reads the restaurants' lunch menus, each in the format its restaurant
sends, into one list of dishes.

Only the Python standard library is used: the image needs nothing but a
Python 3 interpreter (see README.md).
"""

import csv
import html.parser
import io
import json
import os

# One dish: restaurant, day (monday..friday), name, price in cents, tags.
FIELDS = ("restaurant", "day", "dish", "price_cents", "tags")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")


class MenuError(ValueError):
    """A menu file that cannot be read, with the file and the reason."""


def _price(text, where):
    """'12.50' or '12,50' or '12' (euros) -> 1250 (cents)."""
    cleaned = text.strip().replace("EUR", "").replace("\u20ac", "").strip()
    cleaned = cleaned.replace(",", ".")
    try:
        euros, _, cents = cleaned.partition(".")
        value = int(euros) * 100 + (int(cents.ljust(2, "0")[:2]) if cents else 0)
    except ValueError:
        raise MenuError("%s: price %r is not a number" % (where, text)) from None
    if value < 0:
        raise MenuError("%s: price %r is negative" % (where, text))
    return value


def _day(text, where):
    day = text.strip().lower()
    if day not in DAYS:
        raise MenuError("%s: day %r is not one of %s" % (where, text, ", ".join(DAYS)))
    return day


def _dish(restaurant, day, name, price, tags, where):
    name = name.strip()
    if not name:
        raise MenuError("%s: a dish has no name" % where)
    return {
        "restaurant": restaurant,
        "day": _day(day, where),
        "dish": name,
        "price_cents": _price(price, where),
        "tags": sorted({t.strip().lower() for t in tags if t.strip()}),
    }


def parse_json(text, where="menu.json"):
    """{"restaurant": "...", "days": {"monday": [{"name", "price", "tags"}]}}"""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise MenuError("%s:%d:%d: %s" % (where, e.lineno, e.colno, e.msg)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("restaurant"), str):
        raise MenuError("%s: needs a \"restaurant\" name" % where)
    days = doc.get("days")
    if not isinstance(days, dict):
        raise MenuError("%s: needs \"days\", an object of day -> dishes" % where)
    out = []
    for day, dishes in days.items():
        if not isinstance(dishes, list):
            raise MenuError("%s: %s is not a list of dishes" % (where, day))
        for d in dishes:
            if not isinstance(d, dict):
                raise MenuError("%s: a dish of %s is not an object" % (where, day))
            out.append(_dish(doc["restaurant"], day, str(d.get("name", "")),
                             str(d.get("price", "")), d.get("tags") or [], where))
    return out


def parse_csv(text, where="menu.csv"):
    """restaurant,day,dish,price,tags (tags separated by ';'), a header line."""
    reader = csv.DictReader(io.StringIO(text))
    want = {"restaurant", "day", "dish", "price"}
    if not reader.fieldnames or not want <= set(reader.fieldnames):
        raise MenuError("%s:1: the header needs %s" % (where, ", ".join(sorted(want))))
    out = []
    for n, row in enumerate(reader, start=2):
        at = "%s:%d" % (where, n)
        out.append(_dish((row["restaurant"] or "").strip(), row["day"] or "", row["dish"] or "",
                         row["price"] or "", (row.get("tags") or "").split(";"), at))
    return out


class _MenuPage(html.parser.HTMLParser):
    """<h1>restaurant</h1>, <section data-day="monday"> with
    <li data-price="9.50" data-tags="vegan">dish</li>."""

    def __init__(self):
        super().__init__()
        self.restaurant = ""
        self.day = None
        self.items = []
        self._in_h1 = False
        self._item = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "h1":
            self._in_h1 = True
        elif tag == "section" and "data-day" in attrs:
            self.day = attrs["data-day"] or ""
        elif tag == "li" and self.day is not None:
            self._item = [self.day, "", attrs.get("data-price") or "", attrs.get("data-tags") or ""]

    def handle_endtag(self, tag):
        if tag == "h1":
            self._in_h1 = False
        elif tag == "section":
            self.day = None
        elif tag == "li" and self._item is not None:
            self.items.append(tuple(self._item))
            self._item = None

    def handle_data(self, data):
        if self._in_h1:
            self.restaurant += data
        elif self._item is not None:
            self._item[1] += data


def parse_html(text, where="menu.html"):
    """A restaurant's simple menu page (see _MenuPage)."""
    page = _MenuPage()
    page.feed(text)
    page.close()
    restaurant = " ".join(page.restaurant.split())
    if not restaurant:
        raise MenuError("%s: no <h1> with the restaurant's name" % where)
    return [_dish(restaurant, day, " ".join(name.split()), price, tags.split(","), where)
            for day, name, price, tags in page.items]


PARSERS = {".json": parse_json, ".csv": parse_csv, ".html": parse_html}


def load_dir(path):
    """Every menu file of a folder, by extension; other files are ignored."""
    dishes = []
    for name in sorted(os.listdir(path)):
        parse = PARSERS.get(os.path.splitext(name)[1].lower())
        if parse is None:
            continue
        with open(os.path.join(path, name), encoding="utf-8") as f:
            dishes.extend(parse(f.read(), name))
    return merge(dishes)


def merge(dishes):
    """Sorted by day of the week, then restaurant, then dish."""
    return sorted(dishes, key=lambda d: (DAYS.index(d["day"]), d["restaurant"], d["dish"]))
