"""Odoo never breaks and capture never stops when stockrelay_native is unusable (issue 15).

The native module is made unusable the way a real install breaks it: absent
from the path (a Python upgrade, an uninstalled build) or built for another
contract version. Stock moves are still valued by the contract's SQL policy
and captured; the shop actions, the channel form and the dashboard name the
failed import, its reason and the fix. tests/odoo/test_e2e_native_missing.py
does the same with a whole Odoo server started without the module.
"""
import sys
import types
from unittest import mock

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .. import native
from ..models.schema import apply_contract
from .common import StockRelayCase


def unusable(stand_in):
    """Reload the addon's view of stockrelay_native with ``stand_in`` in sys.modules
    (None: `import stockrelay_native` raises ImportError, as when it is not installed)."""
    return mock.patch.dict(sys.modules, {native.MODULE: stand_in})


@tagged("post_install", "-at_install", "stock_relay")
class TestNativeMissing(StockRelayCase):

    def setUp(self):
        super().setUp()
        self.addCleanup(setattr, native, "_loaded", native._loaded)
        native._loaded = None
        muted = mute_logger(native.__name__)  # the problem is logged as an ERROR, once per process
        muted.__enter__()
        self.addCleanup(muted.__exit__, None, None, None)

    def test_a_validated_receipt_is_captured_with_its_sellable(self):
        self.channel.write({"safety_buffer": 2, "quantity_cap": 20})
        self.set_stock(self.product, 3)
        self.publish()
        self.clear_outbox()
        with unusable(None):
            self.assertIn("ModuleNotFoundError", native.problem())  # an ImportError
            receipt = self.make_picking(self.product, 10, kind="in")
            self.validate(receipt)
            rows = self.publish_own()
        self.assertEqual([(r["sku"], r["quantity"], r["trigger"]) for r in rows], [("SR-001", 11, "picking")],
                         "13 on hand - buffer 2")

    def test_full_sync_and_kits_need_no_native_module(self):
        products = [self.make_product(f"SR-N{i}") for i in range(30)]
        for i, product in enumerate(products):
            self.set_stock(product, i)
        self.publish()
        self.clear_outbox()
        statements = []
        execute = type(self.env.cr).execute

        def counting(cr, query, params=None, log_exceptions=True):
            if "stock_relay_sellable" in str(query):
                statements.append(query)
            return execute(cr, query, params, log_exceptions)

        with unusable(None), mock.patch.object(type(self.env.cr), "execute", counting):
            self.channel.action_resync_all()
        rows = {r["sku"]: r["quantity"] for r in self.outbox_rows(trigger="full_sync")}
        self.assertEqual({sku: rows[sku] for sku in (f"SR-N{i}" for i in range(30))},
                         {f"SR-N{i}": i for i in range(30)})
        self.assertEqual(len(statements), 1, "one statement values every row of a full sync")

    def test_the_channel_form_and_dashboard_say_what_is_wrong_and_how_to_fix_it(self):
        with unusable(None):
            self.channel.invalidate_recordset(["native_problem"])
            problem = self.channel.native_problem
        self.assertIn("`import stockrelay_native` failed", problem)
        self.assertIn("ModuleNotFoundError: import of stockrelay_native halted", problem)
        self.assertIn("cmake --install", problem)
        self.assertIn(sys.executable, problem)
        native._loaded = None
        self.channel.invalidate_recordset(["native_problem"])
        self.assertFalse(self.channel.native_problem, "the real module works in this Odoo")
        for view in ("stock_relay.stock_relay_channel_view_form", "stock_relay.stock_relay_channel_view_dashboard"):
            arch = self.env["stock.relay.channel"].get_view(self.env.ref(view).id)["arch"]
            self.assertIn("o_stock_relay_native_problem", arch, view)

    def test_shop_actions_and_upgrades_refuse_with_the_reason(self):
        with unusable(None):
            with self.assertRaisesRegex(UserError, "import stockrelay_native.* failed.*ModuleNotFoundError"):
                self.channel.action_test_connection()
            with self.assertRaisesRegex(UserError, "ModuleNotFoundError"):
                apply_contract(self.env.cr)

    def test_a_module_built_for_another_contract_is_refused(self):
        old = types.ModuleType(native.MODULE)
        old.SCHEMA_VERSION = native.CONTRACT_VERSION - 1
        old.schema_sql = lambda: "DROP TABLE stock_relay_outbox"  # must never run
        with unusable(old):
            self.channel.invalidate_recordset(["native_problem"])
            self.assertIn(f"speaks contract version {native.CONTRACT_VERSION - 1}", self.channel.native_problem)
            with self.assertRaisesRegex(UserError, "another stockrelay release"):
                apply_contract(self.env.cr)
            self.set_stock(self.product, 4)
            rows = [r for r in self.publish_own() if r["product_id"] == self.product.id]
            self.assertEqual([r["quantity"] for r in rows], [4])
