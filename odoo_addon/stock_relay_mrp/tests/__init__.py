from . import test_kit_bom_lines
