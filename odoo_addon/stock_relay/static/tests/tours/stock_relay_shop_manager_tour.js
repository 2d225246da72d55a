/** @odoo-module **/
// A shop manager's path through the Shop Sync screens (tests/test_tour.py runs it in headless
// Chromium against the Shopify emulator). `shot(name)` asks the test for a screenshot of the screen.
import { registry } from "@web/core/registry";

function shot(name, trigger) {
    return [
        { content: `screen ${name} ready`, trigger },
        {
            content: `screenshot ${name}`,
            trigger: "body",
            run: async () => {
                console.log(`stock_relay_screenshot:${name}`);
                await new Promise((resolve) => setTimeout(resolve, 800));
            },
        },
    ];
}

registry.category("web_tour.tours").add("stock_relay_shop_manager", {
    steps: () => [
        // 1. The dashboard is the first screen of Inventory > Shop Sync.
        { trigger: ".o_stock_relay_dashboard .o_kanban_record:contains('Main Shopify') .o_stock_relay_failed:contains('1')" },
        { trigger: ".o_kanban_record:contains('Outlet WooCommerce') .o_stock_relay_state:contains('Credentials refused since')" },
        ...shot("dashboard", ".o_stock_relay_dashboard .o_stock_relay_sparkline"),
        // 2. Create a channel.
        { trigger: ".o_main_navbar .dropdown-toggle:contains('Shop Sync')", run: "click" },
        { trigger: ".dropdown-item:contains('Shop Channels')", run: "click" },
        { trigger: ".o_list_button_add", run: "click" },
        { trigger: ".o_field_widget[name=name] input", run: "edit Tour shop" },
        { trigger: ".o_field_widget[name=base_url] input", run: `edit ${odoo.__stock_relay_shop_url__ || "http://127.0.0.1:1"}` },
        { trigger: ".o_field_widget[name=api_version] input", run: "edit 2025-10" },
        { trigger: ".o_notebook a:contains('Policy')", run: "click" },
        { trigger: ".o_field_widget[name=allow_insecure_http] input", run: "check" },
        { trigger: ".o_notebook a:contains('Credentials')", run: "click" },
        { trigger: ".o_field_widget[name=shopify_access_token] input", run: "edit shpat_emulator_token" },
        { trigger: ".o_form_button_save", run: "click" },
        { trigger: ".o_form_saved" },
        // 3. Test connection.
        { trigger: "button[name=action_test_connection]", run: "click" },
        { trigger: ".o_notification:contains('Connection OK')" },
        ...shot("channel_form", ".o_notification:contains('Connection OK')"),
        // 4. Load the shop's locations and map one to WH/Stock.
        { trigger: "button[name=action_load_locations]", run: "click" },
        { trigger: ".o_notification:contains('location(s) found')" },
        { trigger: ".o_notebook a:contains('Locations')", run: "click" },
        // One shop location and one warehouse: WH/Stock is proposed; the manager maps it again by hand.
        { trigger: ".o_field_widget[name=location_line_ids] .o_data_row:contains('Tour Warehouse') .o_data_cell[name=location_ids]", run: "click" },
        { trigger: ".o_field_widget[name=location_line_ids] .o_field_widget[name=location_ids] .o_tag:contains('WH/Stock') .o_delete", run: "click" },
        { trigger: ".o_field_widget[name=location_line_ids] .o_field_widget[name=location_ids]:not(:has(.o_tag)) input", run: "edit WH/Stock" },
        { trigger: ".o-autocomplete--dropdown-item a:contains('WH/Stock')", run: "click" },
        { trigger: ".o_form_button_save", run: "click" },
        { trigger: ".o_form_saved" },
        ...shot("locations", ".o_field_widget[name=location_line_ids] .o_tag:contains('WH/Stock')"),
        // 5. Resync: every relayed product is queued for the new channel.
        { trigger: "button[name=action_resync_all]", run: "click" },
        { trigger: ".modal-footer .btn-primary", run: "click" },
        { trigger: ".o_notification:contains('Full sync queued')" },
        // 6. Back on the dashboard, open the log from a number: the failed rows of Main Shopify.
        { trigger: ".o_main_navbar .dropdown-toggle:contains('Shop Sync')", run: "click" },
        { trigger: ".dropdown-item:contains('Dashboard')", run: "click" },
        { trigger: ".o_kanban_record:contains('Tour shop') .o_stock_relay_state:contains('Flowing')" },
        { trigger: ".o_kanban_record:contains('Main Shopify') .o_stock_relay_failed", run: "click" },
        { trigger: ".o_list_view .o_data_row:contains('TOUR-FAIL-1')" },
        { trigger: ".o_searchview_facet:contains('Failed')" },
        ...shot("log_failed", ".o_list_view .o_data_row .o_data_cell[name=location_name]:contains('Main')"),
        // 7. Filter by a part of a SKU.
        { trigger: ".o_searchview_input", run: "edit FAIL" },
        { trigger: ".o_searchview_autocomplete .dropdown-item:contains('SKU')", run: "click" },  // li on 18, div on 19
        { trigger: ".o_searchview_facet:contains('FAIL')" },
        // 8. Retry the failed row.
        { trigger: ".o_list_view .o_data_row:contains('TOUR-FAIL-1') .o_list_record_selector input", run: "check" },
        { trigger: "button[name=action_retry]:visible", run: "click" },
        { trigger: ".o_notification:contains('queued again')" },
        ...shot("retried", ".o_notification:contains('queued again')"),
    ],
});
