{
    "name": "Stock Relay: Shop Orders",
    "summary": "Turn Shopify, WooCommerce and Medusa orders received by stockrelayd into confirmed sale orders",
    "version": "1.0.0",
    "category": "Sales/Sales",
    "license": "LGPL-3",
    "author": "stockrelay",
    "website": "https://github.com/stockrelay/stockrelay",
    # The bridge keeps stock_relay free of a dependency on sale; it installs itself
    # as soon as both are installed.
    "depends": ["stock_relay", "sale_stock"],
    "external_dependencies": {"python": ["stockrelay_native"]},
    "data": [
        "security/stock_relay_sale_security.xml",
        "security/ir.model.access.csv",
        "data/stock_relay_sale_data.xml",
        "views/stock_relay_inbox_views.xml",
        "views/stock_relay_channel_views.xml",
        "views/stock_relay_sale_menus.xml",
    ],
    "installable": True,
    "auto_install": True,
    "application": False,
}
