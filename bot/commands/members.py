"""``lvzhi members …``: the roster (import, list). Filled in by the roster work."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("members", help="the member roster")
