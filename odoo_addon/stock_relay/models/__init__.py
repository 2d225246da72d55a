from . import schema
from . import stock_relay_channel
from . import stock_relay_channel_location
from . import stock_relay_outbox
from . import stock_quant
from . import stock_relay_unmatched
from . import res_config_settings
