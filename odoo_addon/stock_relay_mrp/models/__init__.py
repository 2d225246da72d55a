from . import stock_relay_kits
from . import mrp_bom
