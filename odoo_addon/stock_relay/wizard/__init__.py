from . import stock_relay_tools
