"""``GET /healthz``: is the database reachable, and is delivery keeping up?"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from bot.appkeys import RUNTIME

# An alert of these kinds in the last hour means WeCom refuses us until someone fixes config.
CONFIG_ALERT_WINDOW = timedelta(hours=1)
OVERDUE_AFTER = timedelta(minutes=5)


async def healthz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    now = runtime.clock.now()
    body: dict[str, object] = {"mode": "sandbox" if runtime.sandbox else "wecom"}
    try:
        async with runtime.db.read() as tx:
            stats = await tx.deliveries.stats(now, OVERDUE_AFTER)
            latest = await tx.alerts.latest()
            config_alerts = await tx.alerts.since(now - CONFIG_ALERT_WINDOW, ("config",))
    except Exception as exc:
        body |= {"status": "unhealthy", "database": f"unreachable: {type(exc).__name__}"}
        return web.json_response(body, status=503)
    problems = []
    if stats.overdue:
        problems.append(f"{stats.overdue} deliveries overdue by more than 5 minutes")
    if config_alerts:
        problems.append(f"WeCom configuration error: {config_alerts[-1].message}")
    body |= {
        "status": "unhealthy" if problems else "ok",
        "database": "ok",
        "backlog": stats.pending,
        "overdue": stats.overdue,
        "dead": stats.dead,
        "sent": stats.sent,
        "last_error": latest.message if latest else runtime.worker.last_error,
        "problems": problems,
    }
    return web.json_response(body, status=503 if problems else 200)
