"""Lüzhi (履职): the edge and the runtime: config, app factory, WeCom, delivery, CLI."""

__version__ = "0.1.0"
