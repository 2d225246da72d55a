/** @odoo-module **/
// A shop manager's catalogue screens (tests/test_catalog_tour.py runs it in headless Chromium):
// the dashboard's catalogue figures, the channel's Catalogue tab while a large change is published
// in the background, and a product's Shops page with a dry run. `shot(name)` asks for a screenshot.
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

registry.category("web_tour.tours").add("stock_relay_catalog", {
    steps: () => [
        // 1. The dashboard: stock and catalogue apart, the catalogue failure in red.
        { trigger: ".o_kanban_record:contains('Medusa Shop') .o_stock_relay_flow_catalog .o_stock_relay_catalog_failed:contains('1')" },
        ...shot("catalog_dashboard", ".o_kanban_record:contains('Medusa Shop') .o_stock_relay_catalog_background"),
        // 2. The catalogue failures: the product, the shop's error, Retry.
        { trigger: ".o_kanban_record:contains('Medusa Shop') .o_stock_relay_catalog_failed", run: "click" },
        ...shot("catalog_failures", ".o_list_view .o_data_row:contains('duplicate_handle')"),
        // 3. The channel's Catalogue tab while 1,200 products are published in the background.
        { trigger: ".o_main_navbar .dropdown-toggle:contains('Shop Sync')", run: "click" },
        { trigger: ".dropdown-item:contains('Shop Channels')", run: "click" },
        { trigger: ".o_list_view .o_data_row:contains('Medusa Shop') .o_data_cell[name=name]", run: "click" },
        { trigger: ".o_notebook a:contains('Catalogue')", run: "click" },
        {
            trigger: ".o_form_view div[name=catalog_background]",
            run: () => document.querySelector(".o_notebook").scrollIntoView({ block: "start" }),
        },
        ...shot("catalog_channel", ".o_form_view div[name=catalog_background]:contains('in the background')"),
    ],
});

registry.category("web_tour.tours").add("stock_relay_catalog_product", {
    steps: () => [
        // 4. The product's Shops page, then a dry run answered by the daemon.
        { trigger: ".o_notebook a:contains('Shops')", run: "click" },
        { trigger: ".o_field_widget[name=stock_relay_map_ids] .o_data_row" },
        { trigger: "button[name=action_stock_relay_dry_run]", run: "click" },
        ...shot("catalog_dry_run", ".o_form_view .o_field_widget[name=report_html]:contains('Would be updated')"),
    ],
});
