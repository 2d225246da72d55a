from . import sale_order
from . import stock_relay_sale_settings
from . import stock_relay_channel
from . import stock_relay_inbox
