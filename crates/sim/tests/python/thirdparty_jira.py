#!/usr/bin/env python3
"""Drives the simulator with a third-party Jira client: the PyPI package `jira` (pycontribs),
unmodified apart from the base URL and the bearer token.

If a widely used client works against the simulator exactly as it is, the simulator speaks the
Jira Cloud REST v3 its users' tools expect (URLs, headers, multipart uploads, bare-string bodies,
link-type lookups, the enhanced JQL search), not just what jiraflow's own client happens to send.

Starts `$JIRAFLOW_BIN sim --listen 127.0.0.1:0` (default `target/debug/jiraflow`), reads its ready
line, runs the scenario and exits non-zero with the failing step on any failure.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator

from jira import JIRA, JIRAError

READY_TIMEOUT_SECS = 30
SEARCH_VISIBLE_TIMEOUT_SECS = 10


class ScenarioFailure(Exception):
    """A step of the scenario did not behave like Jira Cloud."""


def adf(text: str) -> dict[str, Any]:
    """A one-paragraph Atlassian Document Format document, as Jira Cloud's v3 API requires."""
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


def check(condition: bool, message: str) -> None:
    if not condition:
        raise ScenarioFailure(message)


@contextmanager
def step(name: str) -> Iterator[None]:
    try:
        yield
    except JIRAError as err:
        raise ScenarioFailure(
            f"{name}: HTTP {err.status_code} from {err.url}: {err.text}"
        ) from err
    except ScenarioFailure as err:
        raise ScenarioFailure(f"{name}: {err}") from err
    except Exception as err:  # noqa: BLE001 - report any library failure as the step's failure
        raise ScenarioFailure(f"{name}: {type(err).__name__}: {err}") from err
    print(f"ok - {name}", flush=True)


class Simulator:
    """A `jiraflow sim` child process on free loopback ports."""

    def __init__(self, binary: str) -> None:
        self.log = tempfile.TemporaryFile(mode="w+")
        try:
            self.proc = subprocess.Popen(
                [binary, "sim", "--listen", "127.0.0.1:0", "--seed", "demo"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=self.log,
                text=True,
            )
        except OSError as err:
            raise ScenarioFailure(
                f"cannot start the simulator {binary!r} ({err}); build it with "
                "`cargo build -p jiraflow` or set JIRAFLOW_BIN"
            ) from err
        self.info = self._read_ready_line()

    def _read_ready_line(self) -> dict[str, Any]:
        box: list[str] = []
        reader = threading.Thread(
            target=lambda: box.append(self.proc.stdout.readline() if self.proc.stdout else ""),
            daemon=True,
        )
        reader.start()
        reader.join(READY_TIMEOUT_SECS)
        if not box or not box[0].strip():
            self.stop()
            raise ScenarioFailure(
                f"the simulator printed no ready line within {READY_TIMEOUT_SECS}s; "
                f"its log:\n{self.logs()}"
            )
        try:
            return json.loads(box[0])
        except json.JSONDecodeError as err:
            self.stop()
            raise ScenarioFailure(f"the ready line is not JSON: {box[0]!r}") from err

    def logs(self) -> str:
        self.log.seek(0)
        return self.log.read()[-4000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def scenario(info: dict[str, Any]) -> None:
    jira: JIRA
    with step("connect (serverInfo) with a bearer token on the v3 API"):
        jira = JIRA(
            server=info["jira_base_url"],
            token_auth=info["admin_token"],
            options={"rest_api_version": "3"},
            max_retries=0,
            timeout=30,
        )
        check(jira.deploymentType == "Cloud", f"deploymentType is {jira.deploymentType!r}")

    with step("myself"):
        me = jira.myself()
        check(
            me.get("accountId") == info["admin_account_id"],
            f"myself is {me.get('accountId')!r}, expected {info['admin_account_id']!r}",
        )

    description = adf("Created by the pycontribs jira client.")
    with step("create an issue with an ADF description (project by key, issue type by name)"):
        issue = jira.create_issue(
            project="DEMO",
            summary="Third-party client issue",
            description=description,
            issuetype={"name": "Task"},
        )
        key = issue.key
        check(key.startswith("DEMO-"), f"created key {key!r}")
        check(
            issue.raw["fields"].get("description") == description,
            f"description read back as {issue.raw['fields'].get('description')!r}",
        )

    with step("search by JQL (enhanced search, /search/jql)"):
        deadline = time.monotonic() + SEARCH_VISIBLE_TIMEOUT_SECS
        keys: list[str] = []
        while time.monotonic() < deadline:
            found = jira.enhanced_search_issues(f"project = DEMO AND key = {key}", maxResults=10)
            keys = [i.key for i in found]
            if key in keys:
                break
            time.sleep(0.2)
        check(key in keys, f"{key} not found by search (got {keys})")
        recent = jira.enhanced_search_issues(
            "project = DEMO ORDER BY created DESC", maxResults=5, fields=["summary", "status"]
        )
        check(len(recent) > 0, "an ordered project search returned nothing")

    comment_body = adf("A comment from the pycontribs jira client.")
    with step("add a comment with an ADF body"):
        comment = jira.add_comment(key, comment_body)  # type: ignore[arg-type]
        check(comment.raw.get("body") == comment_body, f"comment body {comment.raw.get('body')!r}")
        comments = jira.comments(key)
        check(
            any(c.id == comment.id for c in comments),
            f"comment {comment.id} missing from {[c.id for c in comments]}",
        )

    with step("a plain-string comment body is rejected like Jira Cloud v3 (400)"):
        try:
            jira.add_comment(key, "plain text is not ADF")
        except JIRAError as err:
            check(err.status_code == 400, f"status {err.status_code}, expected 400")
        else:
            raise ScenarioFailure("a plain-string comment body was accepted")

    content = b"hello from pycontribs\n"
    with step("attach a file (multipart, X-Atlassian-Token: no-check)"):
        attachment = jira.add_attachment(key, io.BytesIO(content), filename="notes.txt")
        check(attachment.filename == "notes.txt", f"filename {attachment.filename!r}")
        check(attachment.size == len(content), f"size {attachment.size}, expected {len(content)}")
        names = [a["filename"] for a in jira.issue(key).raw["fields"].get("attachment", [])]
        check("notes.txt" in names, f"attachment not on the issue: {names}")

    with step("find a user and add them as a watcher (bare JSON string body)"):
        users = jira.search_users(query="bob")
        check(len(users) >= 1, "user search for 'bob' found nobody")
        bob = users[0].accountId
        # The library resolves its argument through user search (display name or e-mail), as
        # Jira Cloud's /user/search does not match account ids.
        jira.add_watcher(key, users[0].displayName)
        watchers = jira.watchers(key)
        ids = [w.accountId for w in watchers.watchers]
        check(bob in ids, f"{bob} not among watchers {ids}")

    with step("link issues (the client looks up link types first)"):
        jira.create_issue_link("Blocks", key, "DEMO-1")
        links = jira.issue(key).raw["fields"].get("issuelinks", [])
        check(
            any(
                link.get("type", {}).get("name") == "Blocks"
                and "DEMO-1"
                in (
                    link.get("outwardIssue", {}).get("key"),
                    link.get("inwardIssue", {}).get("key"),
                )
                for link in links
            ),
            f"no Blocks link to DEMO-1 on {key}: {links}",
        )

    with step("a missing issue is a 404 with Jira's message"):
        try:
            jira.issue("DEMO-99999")
        except JIRAError as err:
            check(err.status_code == 404, f"status {err.status_code}, expected 404")
            check(
                "does not exist" in (err.text or ""),
                f"message {err.text!r}",
            )
        else:
            raise ScenarioFailure("DEMO-99999 was found")


def main() -> int:
    binary = os.environ.get("JIRAFLOW_BIN", "target/debug/jiraflow")
    sim: Simulator | None = None
    try:
        sim = Simulator(binary)
        scenario(sim.info)
    except ScenarioFailure as failure:
        print(f"FAIL - {failure}", file=sys.stderr)
        if sim is not None:
            print(f"simulator log (tail):\n{sim.logs()}", file=sys.stderr)
        return 1
    finally:
        if sim is not None:
            sim.stop()
    print("thirdparty_jira: every step passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
