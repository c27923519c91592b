"""The subcommands of ``lvzhi``: each module has ``register(subparsers)``."""
