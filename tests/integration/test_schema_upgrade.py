"""A read model made before models had a schema of their own (its tables in
schema public, a checkpoint without a version) is moved into schema
"catalog" when serve or the projector starts (projections/schema.c): the
rows and the checkpoint stay, the seat map answers from them at once, and
the projector goes on from that checkpoint without folding anything twice.
A model made before issue 3 (no tickets table, bookings without payment
and refund columns) gets them on the way, and the sales tables of issue 4. A bookings table whose
items are jsonb (before they were json) is rewritten with json items, and the
fold still finds a migrated booking's seats when it ends."""

import unittest

from harness import StackTestCase
from helpers import log_head, published_event, seat_statuses, seatmap, wait_checkpoint
from replay_util import schemas

TABLES = ("checkpoints", "venues", "events", "sections", "seats", "bookings")
# The columns bookings had before issue 3.
OLD_BOOKING_COLUMNS = ("booking_id, event_id, section, user_id, status, tier, quantity, "
                       "expires_at, items, subtotal, discount, service_fee, total, vat_included, "
                       "currency, created_seq, updated_seq")


class SchemaUpgrade(StackTestCase):
    def test_a_model_in_public_moves_into_catalog(self):
        s = self.stack
        tok = s.admin_token()
        _, e, _ = published_event(s, tok)
        ev = e["event_id"]
        st, _, first = s.request("POST", f"/events/{ev}/holds", {"seats": ["A-1-1"]}, token=tok)
        self.assertEqual(st, 201, first)
        wait_checkpoint(s, log_head(s))

        # Put the model back where it used to live.
        s.stop_project()
        s.stop_serve()
        moves = "; ".join(f"alter table catalog.{t} set schema public" for t in TABLES)
        s.psql("drop table catalog.tickets, catalog.waitlist, catalog.sales_tiers, "
               "catalog.sales_minutes; "
               "alter table catalog.bookings drop column payment_id, "
               "drop column payment_status, drop column refund, drop column confirmed_at; "
               "alter table catalog.bookings alter column items type jsonb using items::jsonb")
        s.psql(f"{moves}; drop schema catalog; alter table public.checkpoints drop column version")
        self.assertEqual(schemas(s), ["information_schema", "public"])
        bookings_before = s.psql("select * from public.bookings order by booking_id")
        checkpoint_before = s.psql("select last_seq from public.checkpoints")

        s.start_serve()
        s.start_project()
        self.assertEqual(schemas(s), ["catalog", "information_schema", "public"])
        self.assertEqual(s.psql("select count(*) from pg_tables where schemaname = 'public'"),
                         [("0",)])
        self.assertEqual(s.psql(f"select {OLD_BOOKING_COLUMNS} from catalog.bookings "
                                "order by booking_id"), bookings_before)
        # Issue 3's columns and table are there, empty.
        self.assertEqual(s.psql("select refund, payment_id from catalog.bookings"), [("0", None)])
        self.assertEqual(s.psql("select count(*) from catalog.tickets"), [("0",)])
        # So are issue 4's sales tables (nothing was ever confirmed here).
        self.assertEqual(s.psql("select count(*) from catalog.sales_tiers"), [("0",)])
        self.assertEqual(s.psql("select count(*) from catalog.sales_minutes"), [("0",)])
        self.assertEqual(s.psql("select last_seq from catalog.checkpoints"), checkpoint_before)
        self.assertEqual(len(s.psql("select version from catalog.checkpoints")), 1)
        self.assertEqual(s.psql("select atttypid::regtype from pg_attribute where "
                                "attrelid = 'catalog.bookings'::regclass and attname = 'items'"),
                         [("json",)])
        self.assertEqual(seat_statuses(seatmap(s, ev, first["commit_seq"]))["A-1-1"], "held")

        # The projector goes on from the moved checkpoint.
        st, _, second = s.request("POST", f"/events/{ev}/holds", {"seats": ["A-1-2"]}, token=tok)
        self.assertEqual(st, 201, second)
        m = seatmap(s, ev, second["commit_seq"])
        self.assertEqual([seat_statuses(m)[x] for x in ("A-1-1", "A-1-2")], ["held", "held"])
        self.assertEqual(s.psql(f"select available from catalog.sections "
                                f"where event_id = '{ev}' and key = 'A'"), [("28",)])

        # The booking made before the upgrade ends: its seat, found through
        # its migrated items, is free again.
        st, _, released = s.request("DELETE", f"/bookings/{first['booking_id']}", token=tok)
        self.assertEqual(st, 200, released)
        m = seatmap(s, ev, released["commit_seq"])
        self.assertEqual([seat_statuses(m)[x] for x in ("A-1-1", "A-1-2")], ["free", "held"])


if __name__ == "__main__":
    unittest.main()
