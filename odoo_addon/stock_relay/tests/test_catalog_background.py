import odoo
from odoo import api
from odoo.tests import tagged
from odoo.tools import mute_logger

from .catalog_common import CatalogCase
from .common import RealCommitCase

LIMIT = "stock_relay.catalog_inline_limit"


@tagged("post_install", "-at_install", "stock_relay")
class TestCatalogBackground(CatalogCase):
    """Above the inline limit a change's documents are built after the save, in chunks, with progress shown."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mugs = cls.env["product.category"].create({"name": "Mugs"})
        cls.shirts = cls.env["product.template"].create([
            {"name": f"Plain shirt {i}", "default_code": f"SR-BG-{i}", "is_storable": True, "type": "consu",
             "list_price": 10.0, "categ_id": cls.category.id} for i in range(4)])
        cls.mug = cls.env["product.template"].create({
            "name": "Relay mug", "default_code": "SR-BG-MUG", "is_storable": True, "type": "consu",
            "list_price": 7.0, "categ_id": cls.mugs.id})
        cls.pricelist = cls.env["product.pricelist"].create({"name": "Shop prices"})
        cls.channel.write({"publish_scope": "category", "publish_category_id": cls.category.id,
                           "pricelist_id": cls.pricelist.id})
        cls.publish_rows()  # the scope change above, inside its save (the default limit)
        cls.env["ir.config_parameter"].sudo().set_param(LIMIT, 3)

    def setUp(self):
        super().setUp()
        self.Job = self.env["stock.relay.catalog.job"]
        self.cron = self.env.ref("stock_relay.ir_cron_catalog_background")
        self.triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)])

    def run_chunks(self):
        """Run the background jobs chunk by chunk as the cron does; the rows written and the chunk sizes."""
        sizes = []
        while self.Job.search_count([]) and len(sizes) < 10:
            sizes.append(self.Job._run_chunk())
        return self.publish_catalog(), sizes

    def selection(self):
        return sorted((self.tshirt | self.shirts).ids)

    def test_a_global_pricelist_rule_returns_at_once_and_prices_in_chunks(self):
        self.env["product.pricelist.item"].create({
            "pricelist_id": self.pricelist.id, "applied_on": "3_global", "compute_price": "fixed",
            "fixed_price": 5.0})
        self.assertEqual(self.publish_catalog(), [], "the save does not build the 5 documents")
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)]),
                         self.triggers + 1, "the background cron is triggered at once")
        self.assertEqual(self.channel.catalog_background_status, "Publishing 5 products in the background")
        rows, sizes = self.run_chunks()
        self.assertEqual(sizes, [3, 2])
        self.assertEqual(sorted(r["template_id"] for r in rows), self.selection())
        self.assertEqual({r["kind"] for r in rows}, {"price"})
        self.assertEqual({v["price"] for r in rows for v in r["payload"]["variants"]}, {"5.00"})
        self.assertFalse(self.channel.catalog_background_status, "the banner goes when all is published")

    def test_a_small_edit_stays_in_the_save(self):
        self.shirts[:2].write({"list_price": 12.0})
        rows = self.publish_catalog()
        self.assertEqual(sorted(r["template_id"] for r in rows), sorted(self.shirts[:2].ids))
        self.assertFalse(self.Job.search_count([]))
        self.assertFalse(self.channel.catalog_background_status)

    def test_a_scope_change_publishes_new_and_unpublishes_leaving_products_in_the_background(self):
        self.channel.publish_category_id = self.mugs
        self.assertEqual([r for r in self.publish_catalog()], [])
        rows, _sizes = self.run_chunks()
        active = {r["template_id"]: r["payload"]["active"] for r in rows if r["kind"] == "product"}
        self.assertEqual(active, {self.mug.id: True, **{tid: False for tid in self.selection()}},
                         "the mug is published, the shirts that left the selection are archived in the shop")

    def test_a_later_edit_while_chunks_are_pending_is_not_undone(self):
        self.env["product.pricelist.item"].create({
            "pricelist_id": self.pricelist.id, "applied_on": "3_global", "compute_price": "fixed",
            "fixed_price": 5.0})
        self.publish_catalog()
        self.Job._run_chunk()  # the first 3 templates
        last = self.shirts[-1]
        last.name = "Renamed while pending"
        self.publish_catalog()
        rows, _sizes = self.run_chunks()
        names = [r["payload"]["name"] for r in rows if r["template_id"] == last.id and r["kind"] == "product"]
        self.assertTrue(names and set(names) == {"Renamed while pending"}, names)

    def test_publish_catalogue_on_a_large_selection_runs_in_the_background(self):
        action = self.channel.action_publish_catalog()
        self.assertIn("Publishing 5 products in the background", action["params"]["message"])
        self.assertEqual(self.publish_catalog(), [])
        rows, _sizes = self.run_chunks()
        self.assertEqual(sorted(r["template_id"] for r in rows), self.selection())
        self.assertEqual({r["trigger"] for r in rows}, {"catalog_sync"})

    def test_a_disabled_catalogue_drops_its_pending_chunks(self):
        self.channel.action_publish_catalog()
        self.channel.catalog_enabled = False
        rows, _sizes = self.run_chunks()
        self.assertEqual(rows, [])
        self.assertFalse(self.Job.search_count([]))


@tagged("post_install", "-at_install", "stock_relay")
class TestCatalogBackgroundRace(RealCommitCase):
    """A chunk whose snapshot predates a committed edit of one of its templates is built again, newer wins."""

    SKU_PREFIX = "SR-CATBG"

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            channel = env["stock.relay.channel"].browse(self.channel_id)
            channel.catalog_enabled = True
            self.template_id = env["product.product"].browse(self.product_id).product_tmpl_id.id
            env["stock.relay.catalog.job"]._start(channel, "product", [self.template_id])
        self.addCleanup(self._drop_jobs)
        self.watch.execute("DELETE FROM stock_relay_outbox WHERE channel_id = %s", [self.channel_id])

    def _drop_jobs(self):
        self.watch.execute("DELETE FROM stock_relay_catalog_job WHERE channel_id = %s", [self.channel_id])

    def test_an_older_chunk_never_overwrites_a_newer_document(self):
        cr_c = self.registry.cursor()
        try:
            env_c = api.Environment(cr_c, odoo.SUPERUSER_ID, {})
            env_c["product.template"].browse(self.template_id).name  # the chunk's snapshot: before the rename
            with self.registry.cursor() as cr_a:
                api.Environment(cr_a, odoo.SUPERUSER_ID, {})["product.template"].browse(
                    self.template_id).write({"name": "Renamed by the user"})
            with mute_logger("odoo.sql_db"):  # the expected serialization failure logs as a "bad query"
                env_c["stock.relay.catalog.job"]._cron_run()
            cr_c.commit()
        finally:
            cr_c.close()
        self.watch.execute("SELECT payload->>'name', state FROM stock_relay_outbox WHERE channel_id = %s "
                           "AND kind = 'product' ORDER BY id", [self.channel_id])
        self.assertEqual(self.watch.fetchall(), [("Renamed by the user", "pending")])
        self.watch.execute("SELECT count(*) FROM stock_relay_catalog_job WHERE channel_id = %s", [self.channel_id])
        self.assertEqual(self.watch.fetchone()[0], 0)
