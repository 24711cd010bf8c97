#!/usr/bin/env python3
"""Drives `sluice serve` with the official MCP Python SDK (mcp==2.3.0), an independent client:
pinned to 2026-07-28 and in legacy (initialize) mode, over streamable HTTP and over stdio.

Usage: mcp_interop.py --url http://127.0.0.1:PORT/mcp --sluice PATH --plans DIR --corpus DIR

Exits 0 when every check passes; prints each failure and exits 1 otherwise. Run by
Tests/SluiceServerTests/InteropTests.swift (CI installs the SDK in .ci/run).
"""

import argparse
import asyncio
import sys

from mcp import types
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

MODERN = "2026-07-28"
failures: list[str] = []


def check(condition: bool, what: str) -> None:
    if not condition:
        failures.append(what)
        print(f"FAIL {what}", file=sys.stderr)


class Recorder:
    """Collects what the server sent during one client's calls."""

    def __init__(self) -> None:
        self.logs: list[types.LoggingMessageNotificationParams] = []
        self.progress: list[float] = []
        self.elicitations: list[str] = []

    async def on_log(self, params: types.LoggingMessageNotificationParams) -> None:
        self.logs.append(params)

    async def on_progress(self, progress: float, total: float | None, message: str | None) -> None:
        self.progress.append(progress)

    async def on_elicit(self, context, params: types.ElicitRequestParams) -> types.ElicitResult:
        self.elicitations.append(params.message)
        return types.ElicitResult(action="accept", content={"approve": True})


async def exercise(label: str, server, mode: str) -> None:
    recorder = Recorder()
    kwargs = dict(mode=mode, elicitation_callback=recorder.on_elicit, logging_callback=recorder.on_log)
    if mode != "legacy":
        kwargs["log_level"] = "info"
    async with Client(server, **kwargs) as client:
        expected = MODERN if mode != "legacy" else "2025-11-25"
        check(client.session.protocol_version == expected, f"{label}: negotiated {client.session.protocol_version}, expected {expected}")
        if mode != "legacy":
            discovered = await client.session.discover()
            check(MODERN in discovered.supported_versions, f"{label}: discover lists {discovered.supported_versions}")
            # subscriptions/listen: acknowledged with the subset honoured (none: Sluice's tools
            # never change while it runs); leaving the block cancels it, and the client goes on.
            async with client.listen(tools_list_changed=True) as subscription:
                honored = subscription.honored
                check(honored is not None and not honored.tools_list_changed,
                      f"{label}: listen acknowledged {honored}, expected nothing honoured")

        tools = (await client.list_tools()).tools
        names = [tool.name for tool in tools]
        check("news_report" in names, f"{label}: tools/list gave {names}")
        if mode != "legacy":
            check(names == sorted(names), f"{label}: tools are not in a deterministic (sorted) order: {names}")

        # The shipped news report (its confirm step approved up front), with progress and
        # opted-in status messages in seed 001's shapes.
        task = "Major events in the AI agent industry this week"
        report = await client.call_tool("news_report", {"task": task, "auto_confirm": True}, progress_callback=recorder.on_progress)
        check(not report.is_error, f"{label}: news_report failed: {report}")
        check(isinstance(report.structured_content, dict), f"{label}: no structured content in {report.structured_content}")
        check(len(recorder.progress) > 0, f"{label}: no progress notifications")
        check(all(a < b for a, b in zip(recorder.progress, recorder.progress[1:])), f"{label}: progress not increasing: {recorder.progress}")
        messages = [log.data.get("msg", {}) for log in recorder.logs if isinstance(log.data, dict)]
        check(any(isinstance(m.get("details"), dict) and str(m["details"].get("session_id", "")).startswith("run_") for m in messages),
              f"{label}: no seed-shaped first status message (data.msg.details.session_id) in {messages[:3]}")
        check(all(log.level != "debug" for log in recorder.logs), f"{label}: debug messages below the requested level")

        # Its confirm step asked: an input request (2026-07-28) or an elicitation request
        # (legacy), answered by the SDK's elicitation callback; then the run completes.
        confirmed = await client.call_tool("news_report", {"task": task, "auto_confirm": False})
        check(not confirmed.is_error, f"{label}: confirmed news_report failed: {confirmed}")
        check(len(recorder.elicitations) == 1, f"{label}: the confirm question reached the client {len(recorder.elicitations)} times")
    print(f"ok   {label}", file=sys.stderr)


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--sluice", required=True)
    parser.add_argument("--plans", required=True)
    parser.add_argument("--corpus", required=True)
    args = parser.parse_args()

    stdio_args = ["serve", "--stdio", "--offline", "--plans", args.plans, "--corpus", args.corpus, "--simulated-delay-ms", "0"]
    stdio = StdioServerParameters(command=args.sluice, args=stdio_args)

    for label, server, mode in [
        ("http 2026-07-28", args.url, MODERN),
        ("http legacy", args.url, "legacy"),
        ("stdio 2026-07-28", stdio, MODERN),
        ("stdio legacy", stdio, "legacy"),
    ]:
        try:
            await exercise(label, server, mode)
        except Exception as error:  # every mismatch is reported, then the next client runs
            check(False, f"{label}: {type(error).__name__}: {error}")
    # A client in its default "auto" mode probes and stays on 2026-07-28.
    try:
        async with Client(args.url) as client:
            check(client.session.protocol_version == MODERN, f"http auto: negotiated {client.session.protocol_version}")
    except Exception as error:
        check(False, f"http auto: {type(error).__name__}: {error}")
    if failures:
        print(f"{len(failures)} interop check(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
