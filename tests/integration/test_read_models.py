"""The query side against the real stack: event search (full text with a
title-before-description rank, filters, soonest first), cursor pagination
and its edge cases, event details and venues as holds change them, the seat
map with ?min_seq, and read-your-writes on every query endpoint."""

import base64
import threading
import time
import unittest

from harness import Stack, StackTestCase, expect
from helpers import get_projected, rfc3339, seat_statuses, seatmap, wait_checkpoint

DAY = 86400


def problem(test, response, status, code, field=None):
    """Asserts an RFC 7807 answer with this status and code (and field)."""
    got, headers, body = response
    test.assertEqual(got, status, body)
    test.assertIn("application/problem+json", headers["Content-Type"])
    test.assertEqual(body["code"], code, body)
    if field is not None:
        test.assertEqual([e["field"] for e in body["errors"]], [field], body)
    return body


class TestEventSearch(unittest.TestCase):
    """One stack for the whole class: the events are made once, and every
    test only reads."""

    @classmethod
    def setUpClass(cls):
        cls.stack = s = Stack()
        s.start()
        try:
            cls.load(s)
        except BaseException:
            s.close(failed=True)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack.close(check=True)

    @classmethod
    def load(cls, s):
        tok = cls.tok = s.admin_token()
        zagreb = s.create_venue(tok, city="Zagreb")["venue_id"]
        split = s.create_venue(tok, city="Split", name="Riva Stage")["venue_id"]
        base = int(time.time()) // DAY * DAY + 40 * DAY  # a midnight 40 days ahead
        cls.base = base
        now = time.time()

        def tiers(starts):
            return [{"key": "std", "name": "Standard", "price": {"amount": 2500, "currency": "EUR"},
                     "sections": ["A", "B"], "sale_starts_at": rfc3339(now - 3600),
                     "sale_ends_at": rfc3339(starts)},
                    {"key": "floor", "name": "Floor", "price": {"amount": 1500, "currency": "EUR"},
                     "sections": ["GA"], "sale_starts_at": rfc3339(now - 3600),
                     "sale_ends_at": rfc3339(starts)}]

        def event(name, venue, day, title, genre, description="", hour=20, publish=True):
            starts = base + day * DAY + hour * 3600
            e = s.create_event(tok, venue, title=title, genre=genre, description=description,
                               starts_at=rfc3339(starts), ends_at=rfc3339(starts + 7200),
                               tiers=tiers(starts))
            seq = e["commit_seq"]
            if publish:
                seq = s.publish(tok, e["event_id"])["commit_seq"]
            cls.ids[name] = e["event_id"]
            cls.last_seq = max(cls.last_seq, seq)
            return e["event_id"]

        cls.ids, cls.last_seq = {}, 0
        # Text search: "jazz" is in the title of one event and only in the
        # description of another, which starts sooner.
        event("jazz_title", zagreb, 9, "Jazz Night at the Arena", "music",
              "an evening of standards")
        event("jazz_desc", zagreb, 2, "Rock Gala", "Music",
              "with a jazz quartet as the opening act")
        event("derby", split, 5, "Derby Day", "football", "the local derby")
        event("opera", split, 12, "Tosca", "opera", "Puccini in three acts")
        event("draft_jazz", zagreb, 1, "Jazz Draft Rehearsal", "music", "never published",
              publish=False)
        # Five published events at the same instant: ties on starts_at.
        for i in range(5):
            event(f"tie{i}", zagreb, 20, f"Tied Concert {i}", "tie", "same start", hour=18)
        # Wait until the list shows everything.
        expect(get_projected(s, "/events?limit=1", cls.last_seq), 200)

    def get(self, path):
        return self.stack.request("GET", path)

    def listing(self, query=""):
        """Every page of GET /events?<query>&limit=200 (one page here)."""
        page = expect(self.get(f"/events?limit=200{query}"), 200)
        self.assertIsNone(page["next_cursor"])
        return [item["event_id"] for item in page["items"]]

    def pages(self, query, limit):
        """All items of a listing walked with ?limit=limit and next_cursor."""
        ids, cursor, n = [], None, 0
        while True:
            path = f"/events?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
            page = expect(self.get(path), 200)
            self.assertLessEqual(len(page["items"]), limit)
            ids += [item["event_id"] for item in page["items"]]
            cursor = page["next_cursor"]
            n += 1
            self.assertLess(n, 50, "pagination does not end")
            if cursor is None:
                return ids
            self.assertEqual(len(page["items"]), limit, "a page before the last is full")

    def test_soonest_first_and_drafts_never_listed(self):
        ids = self.listing()
        ties = sorted(self.ids[f"tie{i}"] for i in range(5))
        self.assertEqual(ids, [self.ids[n] for n in ("jazz_desc", "derby", "jazz_title", "opera")]
                         + ties)
        self.assertNotIn(self.ids["draft_jazz"], ids)
        page = expect(self.get("/events?limit=200"), 200)
        starts = [item["starts_at"] for item in page["items"]]
        self.assertEqual(starts, sorted(starts))
        for item in page["items"]:
            self.assertEqual(item["status"], "published")
            self.assertEqual(item["price_from"], {"amount": 1500, "currency": "EUR"})
        # The draft is found by no search either.
        self.assertNotIn(self.ids["draft_jazz"], self.listing("&q=rehearsal"))
        self.assertEqual(self.listing("&q=rehearsal"), [])

    def test_a_title_match_ranks_above_a_description_only_match(self):
        # "jazz" is in jazz_title's title and only in jazz_desc's
        # description; jazz_desc starts a week sooner, yet comes second.
        self.assertEqual(self.listing("&q=jazz"), [self.ids["jazz_title"], self.ids["jazz_desc"]])
        self.assertEqual(self.listing("&q=JAZZ"), [self.ids["jazz_title"], self.ids["jazz_desc"]])
        # Description words are searched too.
        self.assertEqual(self.listing("&q=quartet"), [self.ids["jazz_desc"]])
        self.assertEqual(self.listing("&q=puccini"), [self.ids["opera"]])
        # Every word must match somewhere (title + description).
        self.assertEqual(self.listing("&q=rock%20quartet"), [self.ids["jazz_desc"]])
        self.assertEqual(self.listing("&q=rock%20tosca"), [])
        # Within one rank, soonest first.
        self.assertEqual(self.listing("&q=concert"), sorted(self.ids[f"tie{i}"] for i in range(5)))
        # A title substring the parser would not find as a word.
        self.assertEqual(self.listing("&q=Aren"), [self.ids["jazz_title"]])
        # LIKE wildcards in the text are literal.
        self.assertEqual(self.listing("&q=%25"), [])
        self.assertEqual(self.listing("&q=_"), [])
        self.assertEqual(self.listing("&q=nothing-like-this"), [])

    def test_a_search_paginates_across_the_rank_boundary(self):
        # limit 1: the title match, then the description match, then null.
        first = expect(self.get("/events?q=jazz&limit=1"), 200)
        self.assertEqual([i["event_id"] for i in first["items"]], [self.ids["jazz_title"]])
        self.assertIsNotNone(first["next_cursor"])
        second = expect(self.get(f"/events?q=jazz&limit=1&cursor={first['next_cursor']}"), 200)
        self.assertEqual([i["event_id"] for i in second["items"]], [self.ids["jazz_desc"]])
        self.assertIsNone(second["next_cursor"])
        # A search's cursor means nothing to a plain list, and the reverse.
        problem(self, self.get(f"/events?cursor={first['next_cursor']}"), 400,
                "validation_failed", "cursor")
        plain = expect(self.get("/events?limit=1"), 200)
        problem(self, self.get(f"/events?q=jazz&cursor={plain['next_cursor']}"), 400,
                "validation_failed", "cursor")

    def test_genre_city_and_date_filters(self):
        # Genre and city: exact, case-insensitive.
        self.assertEqual(set(self.listing("&genre=MUSIC")),
                         {self.ids["jazz_title"], self.ids["jazz_desc"]})
        self.assertEqual(self.listing("&genre=football"), [self.ids["derby"]])
        self.assertEqual(self.listing("&genre=foot"), [])
        self.assertEqual(self.listing("&city=split"), [self.ids["derby"], self.ids["opera"]])
        self.assertEqual(self.listing("&city=SPLIT&genre=opera"), [self.ids["opera"]])
        self.assertEqual(self.listing("&city=Zagreb&q=derby"), [])
        # from is inclusive, to exclusive (on starts_at).
        derby = self.base + 5 * DAY + 20 * 3600
        self.assertEqual(self.listing(f"&from={rfc3339(derby)}&to={rfc3339(derby + 1)}"),
                         [self.ids["derby"]])
        self.assertEqual(self.listing(f"&from={rfc3339(derby + 1)}&to={rfc3339(derby + 8 * DAY)}"),
                         [self.ids["jazz_title"], self.ids["opera"]])
        self.assertEqual(self.listing(f"&to={rfc3339(derby)}"), [self.ids["jazz_desc"]])
        self.assertEqual(self.listing(f"&from={rfc3339(derby)}&to={rfc3339(derby)}"), [])
        problem(self, self.get("/events?from=yesterday"), 400, "validation_failed", "from")
        problem(self, self.get("/events?to=2026-13-01T00:00:00Z"), 400, "validation_failed", "to")

    def test_pages_end_exactly_and_ties_are_neither_skipped_nor_repeated(self):
        everything = self.listing()
        n = len(everything)
        # The last page is exactly full: no cursor after it.
        page = expect(self.get(f"/events?limit={n}"), 200)
        self.assertEqual([i["event_id"] for i in page["items"]], everything)
        self.assertIsNone(page["next_cursor"])
        # One short of everything: a cursor, then a last page of one.
        page = expect(self.get(f"/events?limit={n - 1}"), 200)
        self.assertIsNotNone(page["next_cursor"])
        last = expect(self.get(f"/events?limit={n - 1}&cursor={page['next_cursor']}"), 200)
        self.assertEqual([i["event_id"] for i in last["items"]], everything[-1:])
        self.assertIsNone(last["next_cursor"])
        # Walked in pages of every size, the list is the same list: the five
        # events sharing one starts_at fall on page boundaries for sizes 1, 2,
        # 3 and 4, and none is skipped or seen twice.
        for limit in (1, 2, 3, 4, 5, 7):
            self.assertEqual(self.pages("", limit), everything, f"limit={limit}")
        ties = self.pages("&genre=tie", 2)
        self.assertEqual(len(ties), 5)
        self.assertEqual(ties, sorted(ties), "ties go by event_id")
        self.assertEqual(self.pages("&q=jazz", 1), self.listing("&q=jazz"))

    def test_limit_and_cursor_are_validated(self):
        self.assertEqual(len(expect(self.get("/events?limit=1"), 200)["items"]), 1)
        self.assertEqual(len(expect(self.get("/events?limit=200"), 200)["items"]), 9)
        self.assertEqual(len(expect(self.get("/events"), 200)["items"]), 9)  # default 50
        for bad in ("0", "201", "abc", "-1", "1.5", ""):
            problem(self, self.get(f"/events?limit={bad}"), 400, "validation_failed", "limit")
        good = expect(self.get("/events?limit=2"), 200)["next_cursor"]
        raw = base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)).decode()
        tampered = [
            "garbage!", "A", "x" * 200,
            good[:5] + "!" + good[6:],                        # not base64url
            good[:-2],                                        # cut short
            good + "AAAA",                                    # more bytes
            base64.urlsafe_b64encode(("0" + raw).encode()).decode().rstrip("="),  # leading zero
            base64.urlsafe_b64encode(raw.replace(".", ";").encode()).decode().rstrip("="),
            base64.urlsafe_b64encode(b"1.e1' OR '1'='1").decode().rstrip("="),  # not an id
            base64.urlsafe_b64encode(b"r7.1.e1").decode().rstrip("="),  # a rank that never is
        ]
        for bad in tampered:
            body = problem(self, self.get(f"/events?cursor={bad}"), 400, "validation_failed",
                           "cursor")
            self.assertEqual(body["status"], 400)
        # A well-formed cursor for an event that does not exist is a
        # position like any other: the events after it (the epoch too).
        for raw, n in ((b"0.no_such_event", 9), (b"-5.x", 9), (b"99999999999999.x", 0)):
            after = base64.urlsafe_b64encode(raw).decode().rstrip("=")
            page = expect(self.get(f"/events?limit=200&cursor={after}"), 200)
            self.assertEqual(len(page["items"]), n, raw)


class TestReadYourWrites(StackTestCase):
    """Every query of a read model takes ?min_seq and waits for it."""

    def test_every_query_endpoint_waits_for_min_seq(self):
        s = self.stack
        tok = s.admin_token()
        venue = s.create_venue(tok)
        event = s.create_event(tok, venue["venue_id"])
        eid = event["event_id"]
        pub = s.publish(tok, eid)
        hold = expect(s.request("POST", f"/events/{eid}/holds", {"seats": ["A-1-1"]}, token=tok),
                      201)
        seq = hold["commit_seq"]
        paths = [f"/venues/{venue['venue_id']}", "/events", f"/events/{eid}",
                 f"/events/{eid}/seats", f"/bookings/{hold['booking_id']}"]
        # Reached: 200 at once, and what the commit wrote is there.
        for path in paths:
            sep = "&" if "?" in path else "?"
            got = expect(s.request("GET", f"{path}{sep}min_seq={seq}", token=tok), 200)
            self.assertIsNotNone(got)
        self.assertEqual(seat_statuses(seatmap(s, eid, seq))["A-1-1"], "held")
        # Malformed: 400 validation_failed on every one, without waiting.
        for path in paths:
            for bad in ("abc", "-1", "%2B5", "%205", "5x", "", "1e3", "99999999999999999999999"):
                t0 = time.monotonic()
                problem(self, s.request("GET", f"{path}?min_seq={bad}", token=tok), 400,
                        "validation_failed", "min_seq")
                self.assertLess(time.monotonic() - t0, 1.5, (path, bad))
        # Not reached within 2 s: 503 projection_lagging with Retry-After.
        for path in paths:
            t0 = time.monotonic()
            got, headers, body = s.request("GET", f"{path}?min_seq={seq + 1000}", token=tok)
            waited = time.monotonic() - t0
            self.assertEqual(got, 503, (path, body))
            self.assertEqual(body["code"], "projection_lagging")
            self.assertTrue(headers["Retry-After"])
            self.assertGreaterEqual(waited, 1.9, path)
        self.assertGreater(pub["commit_seq"], 0)

    def test_a_stopped_projector_makes_queries_wait_then_answer(self):
        s = self.stack
        tok = s.admin_token()
        venue = s.create_venue(tok)
        eid = s.create_event(tok, venue["venue_id"])["event_id"]
        s.publish(tok, eid)
        first = expect(s.request("POST", f"/events/{eid}/holds", {"seats": ["B-2-3"]}, token=tok),
                       201)
        seatmap(s, eid, first["commit_seq"])
        self.assertEqual(s.stop_project(), 0)
        hold = expect(s.request("POST", f"/events/{eid}/holds", {"tier": "floor", "quantity": 3},
                                token=tok), 201)
        got, headers, body = s.request("GET", f"/events/{eid}?min_seq={hold['commit_seq']}")
        self.assertEqual((got, body["code"]), (503, "projection_lagging"), body)
        self.assertEqual(headers["Retry-After"], "1")
        # Without min_seq the model answers as it is, saying how old it is.
        stale = expect(s.request("GET", f"/events/{eid}/seats"), 200)
        self.assertLess(stale["as_of_seq"], hold["commit_seq"])
        s.start_project()
        detail = expect(get_projected(s, f"/events/{eid}", hold["commit_seq"]), 200)
        floor = [t for t in detail["tiers"] if t["key"] == "floor"][0]
        self.assertEqual(floor["available"], 97)
        fresh = seatmap(s, eid, hold["commit_seq"])
        ga = [x for x in fresh["sections"] if x["key"] == "GA"][0]
        self.assertEqual(ga["available"], 97)


class TestDetailsVenuesAndSeatMap(StackTestCase):

    def test_event_details_availability_follows_holds(self):
        s = self.stack
        tok = s.admin_token()
        venue = s.create_venue(tok)
        created = s.create_event(tok, venue["venue_id"], description="details")
        eid = created["event_id"]
        # A draft: no availability yet, and hidden from anyone but its owner.
        draft = expect(get_projected(s, f"/events/{eid}", created["commit_seq"], token=tok), 200)
        self.assertEqual(draft["status"], "draft")
        self.assertEqual([t["available"] for t in draft["tiers"]], [None, None])
        self.assertEqual(s.request("GET", f"/events/{eid}")[0], 404)
        pub = s.publish(tok, eid)

        def tiers(seq):
            d = expect(get_projected(s, f"/events/{eid}", seq), 200)
            self.assertGreaterEqual(d["commit_seq"], pub["commit_seq"])
            return {t["key"]: t["available"] for t in d["tiers"]}

        # std sells A (30 seats) and B (20), floor sells GA (100).
        self.assertEqual(tiers(pub["commit_seq"]), {"std": 50, "floor": 100})
        # A hold takes seats of one section (RULE-HOLD-2).
        h1 = expect(s.request("POST", f"/events/{eid}/holds",
                              {"seats": ["A-1-1", "A-1-2", "A-2-1"]}, token=tok), 201)
        self.assertEqual(tiers(h1["commit_seq"]), {"std": 47, "floor": 100})
        h2 = expect(s.request("POST", f"/events/{eid}/holds", {"tier": "floor", "quantity": 4},
                              token=tok), 201)
        self.assertEqual(tiers(h2["commit_seq"]), {"std": 47, "floor": 96})
        r1 = expect(s.request("DELETE", f"/bookings/{h1['booking_id']}", token=tok), 200)
        self.assertEqual(tiers(r1["commit_seq"]), {"std": 50, "floor": 96})
        r2 = expect(s.request("DELETE", f"/bookings/{h2['booking_id']}", token=tok), 200)
        self.assertEqual(tiers(r2["commit_seq"]), {"std": 50, "floor": 100})
        problem(self, s.request("GET", "/events/ev_nosuchevent"), 404, "not_found")

    def test_venue_is_served_with_sections_rows_and_counts(self):
        s = self.stack
        tok = s.admin_token()
        v = s.create_venue(tok, name="Dom Sportova", city="Zagreb", country="HR")
        got = expect(get_projected(s, f"/venues/{v['venue_id']}", v["commit_seq"]), 200)
        self.assertEqual((got["venue_id"], got["name"], got["city"], got["country"]),
                         (v["venue_id"], "Dom Sportova", "Zagreb", "HR"))
        self.assertEqual(got["capacity"], 150)
        self.assertEqual(v["capacity"], 150)
        keys = [x["key"] for x in got["sections"]]
        self.assertEqual(keys, ["A", "B", "GA"])
        a = got["sections"][0]
        self.assertEqual((a["kind"], a["capacity"]), ("seated", 30))
        self.assertEqual([(r["label"], r["seats"]) for r in a["rows"]],
                         [("1", 10), ("2", 10), ("3", 10)])
        ga = got["sections"][2]
        self.assertEqual((ga["kind"], ga["capacity"]), ("standing", 100))
        problem(self, s.request("GET", "/venues/vn_nosuchvenue"), 404, "not_found")

    def test_the_seat_map_follows_every_commit_it_is_asked_for(self):
        s = self.stack
        tok = s.admin_token()
        venue = s.create_venue(tok)
        eid = s.create_event(tok, venue["venue_id"])["event_id"]
        pub = s.publish(tok, eid)
        m0 = seatmap(s, eid, pub["commit_seq"])
        self.assertEqual(len(seat_statuses(m0)), 50)
        self.assertEqual(set(seat_statuses(m0).values()), {"free"})
        # Repeated reads of an unchanged map are the same document.
        again = seatmap(s, eid, pub["commit_seq"])
        self.assertEqual(again["sections"], m0["sections"])
        self.assertGreaterEqual(again["as_of_seq"], m0["as_of_seq"])
        # Every hold and release is in the map read at its commit_seq, and
        # sections it did not touch are unchanged.
        expected = dict(seat_statuses(m0))
        bookings = []
        for seats in (["A-1-1"], ["A-1-2", "A-1-3"], ["B-2-10"], ["A-3-1", "A-3-2", "A-3-3"]):
            h = expect(s.request("POST", f"/events/{eid}/holds", {"seats": seats}, token=tok), 201)
            bookings.append((h["booking_id"], seats))
            for seat in seats:
                expected[seat] = "held"
            m = seatmap(s, eid, h["commit_seq"])
            self.assertEqual(seat_statuses(m), expected)
        for booking, seats in bookings[::2]:
            r = expect(s.request("DELETE", f"/bookings/{booking}", token=tok), 200)
            for seat in seats:
                expected[seat] = "free"
            self.assertEqual(seat_statuses(seatmap(s, eid, r["commit_seq"])), expected)
        # The read model agrees with the map.
        rows = s.psql(f"select seat_id, status from catalog.seats where event_id = '{eid}'")
        self.assertEqual(dict(rows), expected)
        # Standing sections report their counts.
        h = expect(s.request("POST", f"/events/{eid}/holds", {"tier": "floor", "quantity": 2},
                             token=tok), 201)
        ga = [x for x in seatmap(s, eid, h["commit_seq"])["sections"] if x["key"] == "GA"][0]
        self.assertEqual((ga["capacity"], ga["available"]), (100, 98))
        self.assertNotIn("seats", ga)
        # A map of a draft has no sections; an unknown event is 404.
        draft = s.create_event(tok, venue["venue_id"])
        dm = seatmap(s, draft["event_id"], draft["commit_seq"])
        self.assertEqual(dm["sections"], [])
        problem(self, s.request("GET", "/events/ev_nosuchevent/seats"), 404, "not_found")
        wait_checkpoint(s, h["commit_seq"])

    def test_concurrent_readers_never_see_a_map_older_than_their_min_seq(self):
        s = self.stack
        tok = s.admin_token()
        venue = s.create_venue(tok)
        # One user holds all 50 seats (RULE-HOLD-4: max_per_user raised).
        eid = s.create_event(tok, venue["venue_id"], policy={"max_per_user": 1000})["event_id"]
        pub = s.publish(tok, eid)
        seatmap(s, eid, pub["commit_seq"])
        seats = [f"{k}-{r}-{n}" for k, rows in (("A", 3), ("B", 2))
                 for r in range(1, rows + 1) for n in range(1, 11)]
        errors, stop = [], threading.Event()

        def holder(mine):
            # Each hold, then the map asked for at its commit: the seat is
            # held in it, and the map is at least that new.
            try:
                for seat in mine:
                    h = expect(s.request("POST", f"/events/{eid}/holds", {"seats": [seat]},
                                         token=tok), 201)
                    m = seatmap(s, eid, h["commit_seq"])
                    if seat_statuses(m)[seat] != "held":
                        errors.append(f"{seat} not held at as_of_seq {m['as_of_seq']} "
                                      f">= {h['commit_seq']}")
            except BaseException as e:  # reported below
                errors.append(repr(e))

        def reader():
            # Plain reads meanwhile: as_of_seq never goes back, and a seat
            # once seen held stays held (nothing is released here).
            last, held = 0, set()
            try:
                while not stop.is_set():
                    m = expect(s.request("GET", f"/events/{eid}/seats"), 200)
                    now = {k for k, v in seat_statuses(m).items() if v == "held"}
                    if m["as_of_seq"] < last or not held <= now:
                        errors.append(f"went back: {last} -> {m['as_of_seq']}")
                    last, held = m["as_of_seq"], now
            except BaseException as e:
                errors.append(repr(e))

        readers = [threading.Thread(target=reader) for _ in range(3)]
        holders = [threading.Thread(target=holder, args=(seats[i::4],)) for i in range(4)]
        for t in readers + holders:
            t.start()
        for t in holders:
            t.join(120)
        stop.set()
        for t in readers:
            t.join(30)
        self.assertEqual(errors, [])
        final = seatmap(s, eid, 0)
        self.assertEqual({k for k, v in seat_statuses(final).items() if v == "held"}, set(seats))


if __name__ == "__main__":
    unittest.main()
