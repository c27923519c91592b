"""``lvzhi groups …``: groups and their channels. Filled in by the roster work."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("groups", help="groups and their WeCom channels")
