from . import test_order_import
from . import test_order_updates
from . import test_order_failures
from . import test_order_settings
from . import test_order_concurrency
from . import test_order_batch
