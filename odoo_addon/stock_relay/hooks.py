from .models.schema import apply_contract


def pre_init_hook(env):
    # The contract tables must exist before any model (the location lines'
    # foreign key, the unmatched report's view) refers to them.
    apply_contract(env.cr)
