from . import test_contract
from . import test_capture
from . import test_channel
from . import test_security
from . import test_commit
from . import test_concurrency
from . import test_republish
from . import test_republish_scope
