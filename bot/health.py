"""``GET /healthz``: is the database reachable, and is delivery keeping up?

It is unauthenticated (load balancers and monitors call it), so it says only ``ok`` or
``degraded`` and stable reason codes, never a message: an alert's text can name members
(userids) and WeCom's error details. The details are on the console's overview (signed in).

It also names the program's version and the database's schema revision (alembic), so that an
upgrade can be checked from outside: neither says anything about the office or its members.

Reason codes: ``database_unreachable``, ``deliveries_overdue`` (due for more than 5 minutes),
``wecom_config_error`` (WeCom refused our configuration within the last hour: IP not trusted,
wrong secret …).
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from bot import __version__
from bot.appkeys import RUNTIME
from storage.migrate import current_revision

# An alert of these kinds in the last hour means WeCom refuses us until someone fixes config.
CONFIG_ALERT_WINDOW = timedelta(hours=1)
OVERDUE_AFTER = timedelta(minutes=5)


async def healthz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    now = runtime.clock.now()
    reasons: list[str] = []
    schema: str | None = None
    try:
        schema = await current_revision(runtime.db)
        async with runtime.db.read() as tx:
            stats = await tx.deliveries.stats(now, OVERDUE_AFTER)
            config_alerts = await tx.alerts.since(now - CONFIG_ALERT_WINDOW, ("config",))
    except Exception:
        reasons.append("database_unreachable")
    else:
        if stats.overdue:
            reasons.append("deliveries_overdue")
        if config_alerts:
            reasons.append("wecom_config_error")
    body = {
        "status": "degraded" if reasons else "ok",
        "reasons": reasons,
        "version": __version__,
        "schema": schema,
    }
    return web.json_response(body, status=503 if reasons else 200)
