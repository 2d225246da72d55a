"""The randomized sales-aware test, shared by every shop (issue 13).

Odoo stock changes (outbox enqueues, as the addon writes them) and shop sales
(real orders in the shop, which decrement its level) interleave at random with
a fixed, printed seed. Each sale is imported later at random (an inbox row,
written as the daemon's order poller writes it) and absorbed later still (Odoo
confirms it: in one transaction its reduced number is enqueued and the inbox
row turns 'done'). At sampled moments, once the pushes in the pipeline have
landed, every SKU must hold

    shop level <= max(0, Odoo's sellable - the shop's sales Odoo has not absorbed)

(the overshoot, the units offered again after being sold, must be 0). At the
end every sale is one absorbed order and every shop equals Odoo.

A shop is an adapter with ``level(sku)``, ``sell(sku, qty) -> order id`` (a
real order that reduces the shop's stock) and ``concurrent_sales`` (True when
the shop's writes are compare-and-set, so sales may land while a push runs;
read-then-write shops get their sales between pushes: the window between the
read and the write is not atomic there)."""
from __future__ import annotations

import json
import random
import time

import psycopg2
import psycopg2.errors

from harness import outbox


class SalesSim:
    def __init__(self, db, channel_id, shop, skus, *, seed, location_key="", start=20):
        self.db = db
        self.conn = psycopg2.connect(db.dsn)
        self.conn.autocommit = True
        self.cid = channel_id
        self.shop = shop
        self.skus = list(skus)
        self.loc = location_key
        self.rng = random.Random(seed)
        self.seed = seed
        self.odoo = {s: start for s in self.skus}          # Odoo's sellable (sales absorbed so far included)
        self.product = {s: 100 + k for k, s in enumerate(self.skus)}
        self.sold = []         # [order id, sku, qty, inbox id or None, absorbed]
        self.max_overshoot = 0
        self.samples = 0
        self.events = []       # what happened, for the message of a failed check

    # ---------------------------------------------------------------- actions
    def push(self, sku):
        self.events.append(("odoo", sku, self.odoo[sku]))
        outbox.enqueue(self.db.dsn, [(self.cid, self.product[sku], sku, self.loc, self.odoo[sku])])

    def stock_change(self):
        sku = self.rng.choice(self.skus)
        self.odoo[sku] = max(0, self.odoo[sku] + self.rng.randint(-3, 5))
        self.push(sku)

    def sale(self):
        sku = self.rng.choice(self.skus)
        level = self.shop.level(sku)
        if level <= 0:
            return
        qty = self.rng.randint(1, min(2, level))
        self.sold.append([self.shop.sell(sku, qty), sku, qty, None, False])
        self.events.append(("sale", sku, qty, self.sold[-1][0]))

    def import_one(self):
        waiting = [s for s in self.sold if s[3] is None]
        if waiting:
            self.import_sale(self.rng.choice(waiting))

    def import_sale(self, s):
        order_id, sku, qty = s[0], s[1], s[2]
        payload = {"order": {"id": str(order_id), "name": f"#{order_id}", "status": "open",
                             "lines": [{"id": "1", "sku": sku, "name": sku, "quantity": qty}]},
                   "raw": {}}
        with self.conn.cursor() as cur:
            cur.execute(
                "INSERT INTO stock_relay_inbox (channel_id, shop_order_id, topic, event_key, payload, received_via) "
                "VALUES (%s, %s, 'order_created', %s, %s, 'poll') RETURNING id",
                (self.cid, str(order_id), f"{order_id}@sim", json.dumps(payload)))
            s[3] = cur.fetchone()[0]
        self.events.append(("import", sku, qty, order_id, s[3]))

    def absorb_one(self):
        waiting = [s for s in self.sold if s[3] is not None and not s[4]]
        if waiting:
            self.absorb(self.rng.choice(waiting))

    def absorb(self, s):
        """Odoo confirms the sale order: its reduced number and the inbox row's 'done', one transaction."""
        sku, qty = s[1], s[2]
        new = max(0, self.odoo[sku] - qty)
        conn = psycopg2.connect(self.db.dsn)
        try:
            conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ)
            for attempt in range(1, 6):  # as Odoo does: a serialization failure is retried (up to 5 times)
                try:
                    with conn.cursor() as cur:
                        outbox.enqueue_in(cur, [(self.cid, self.product[sku], sku, self.loc, new)], "picking")
                        cur.execute("UPDATE stock_relay_inbox SET state = 'done', processed_at = now() WHERE id = %s",
                                    (s[3],))
                    conn.commit()
                    break
                except psycopg2.errors.SerializationFailure:
                    conn.rollback()  # the daemon claimed or acked this key's row meanwhile
                    if attempt == 5:
                        raise
                    time.sleep(0.05 * attempt)
        finally:
            conn.close()
        self.odoo[sku] = new
        s[4] = True
        self.events.append(("absorb", sku, qty, s[0], new))

    # ---------------------------------------------------------------- checks
    def settle(self, timeout=30):
        outbox.wait_until(lambda: outbox.settled(self.conn, self.cid), timeout=timeout, message="the outbox to drain")

    def sample(self):
        self.settle()
        self.samples += 1
        for sku in self.skus:
            unabsorbed = sum(s[2] for s in self.sold if s[1] == sku and not s[4])
            bound = max(0, self.odoo[sku] - unabsorbed)  # Odoo can drop below what the shop sold
            level = self.shop.level(sku)
            over = level - bound
            self.max_overshoot = max(self.max_overshoot, over)
            assert over <= 0, (f"seed {self.seed}: {sku} offers {level} but Odoo's {self.odoo[sku]} minus "
                               f"{unabsorbed} unabsorbed sold unit(s) is {bound}; what happened to it:\n"
                               + self.story(sku))

    def story(self, sku):
        with self.conn.cursor() as cur:
            cur.execute("SELECT id, quantity, state, left(response_excerpt, 160) FROM stock_relay_outbox "
                        "WHERE channel_id = %s AND sku = %s ORDER BY id", (self.cid, sku))
            rows = cur.fetchall()
            cur.execute("SELECT i.id, i.shop_order_id, i.state, a.absorbed_at FROM stock_relay_inbox i "
                        "LEFT JOIN stock_relay_inbox_absorbed a ON a.inbox_id = i.id WHERE i.channel_id = %s "
                        "AND i.payload->'order'->'lines'->0->>'sku' = %s ORDER BY i.id", (self.cid, sku))
            rows += cur.fetchall()
            rows += [("sold", s) for s in self.sold if s[1] == sku]
        shop = [repr(h) for h in self.shop.history(sku)] if hasattr(self.shop, "history") else []
        return "\n".join([repr(e) for e in self.events if e[1] == sku] + [repr(r) for r in rows] + shop)

    # ---------------------------------------------------------------- the run
    def run(self, steps):
        for sku in self.skus:
            self.push(sku)
        self.settle()
        actions = [(self.stock_change, 3), (self.sale, 4), (self.import_one, 3), (self.absorb_one, 2),
                   (self.sample, 2)]
        for _ in range(steps):
            act = self.rng.choices([a for a, _ in actions], [w for _, w in actions])[0]
            if act == self.sale and not self.shop.concurrent_sales:
                self.settle()
            act()
            time.sleep(self.rng.choice((0, 0, 0.01, 0.05)))
        for s in self.sold:
            if s[3] is None:
                self.import_sale(s)
            if not s[4]:
                self.absorb(s)
        self.settle()
        self.sample()
        return self.finish()

    def finish(self):
        with self.conn.cursor() as cur:
            cur.execute("SELECT shop_order_id, state FROM stock_relay_inbox WHERE channel_id = %s", (self.cid,))
            inbox = cur.fetchall()
            cur.execute("SELECT count(*) FROM stock_relay_outbox WHERE channel_id = %s AND state = 'done'", (self.cid,))
            pushes = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM stock_relay_outbox WHERE channel_id = %s AND response_excerpt LIKE "
                        "'stockrelay: drift%%'", (self.cid,))
            drift = cur.fetchone()[0]
        assert sorted(o for o, _ in inbox) == sorted(str(s[0]) for s in self.sold), "every sale is one order"
        assert all(state == "done" for _, state in inbox)
        levels = {sku: self.shop.level(sku) for sku in self.skus}
        assert levels == self.odoo, f"seed {self.seed}: the shop ends at {levels}, Odoo at {self.odoo}"
        assert drift == 0, "no drift was made up"
        self.conn.close()
        return {"seed": self.seed, "sales": len(self.sold), "units_sold": sum(s[2] for s in self.sold),
                "pushes": pushes, "samples": self.samples, "max_overshoot": self.max_overshoot}
