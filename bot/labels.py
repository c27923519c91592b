"""What people see for the codes the roster stores — roles and group kinds — defined once for
the chat, the CLI and the console; and the one way a secret is shown (masked)."""

from __future__ import annotations

ROLE_LABELS = {"member": "委员", "secretary": "秘书", "admin": "管理员"}
OFFICE_ROLES = frozenset({"secretary", "admin"})  # the office (机关): may publish and review
GROUP_KIND_LABELS = {"study_group": "学习小组", "committee": "专委会", "custom": "自定义"}


def mask_secret(secret: str) -> str:
    """ "****abcd": enough to tell two keys apart, not enough to use one."""
    return "****" + (secret[-4:] if len(secret) >= 8 else "")
