{
    "name": "Stock Relay: Kits",
    "summary": "Publish a kit's sellable quantity from its components (mrp phantom bills of materials)",
    "version": "1.0.0",
    "category": "Inventory/Inventory",
    "license": "LGPL-3",
    "author": "stockrelay",
    "website": "https://github.com/stockrelay/stockrelay",
    # The bridge keeps stock_relay free of a dependency on mrp; it installs itself
    # as soon as both are installed.
    "depends": ["stock_relay", "mrp"],
    "data": [],
    "installable": True,
    "auto_install": True,
    "application": False,
}
