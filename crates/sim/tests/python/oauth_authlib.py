#!/usr/bin/env python3
"""Drives the simulator's OAuth 2.0 (3LO) server with an independent client: Authlib's
OAuth2Session (client_secret_post, form-encoded token requests, as generic OAuth clients talk to
auth.atlassian.com).

Starts its own simulator (`$JIRAFLOW_BIN sim --listen 127.0.0.1:0 --auto-consent ...`, default
binary target/debug/jiraflow), reads the ready JSON line, then:

1. builds the authorization URL with Authlib and reads the callback from the Location header
   (the callback itself is never contacted);
2. exchanges the code with Authlib, refreshes twice and checks that refresh tokens rotate;
3. checks accessible-resources and /myself with the newest access token;
4. shortens the refresh-token reuse interval to 1 s through the admin API, waits it out, and shows
   that the rotated-out refresh token is now refused with invalid_grant, which revokes the whole
   family: the newest refresh token and access token stop working too.

Exits non-zero with a message on the first failure.
"""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session

REDIRECT_URI = "http://127.0.0.1:9/callback"
SCOPES = "read:jira-user read:jira-work write:jira-work offline_access"
READY_TIMEOUT_SECS = 30


class CheckFailed(Exception):
    """A check did not hold."""


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def start_sim():
    binary = os.environ.get("JIRAFLOW_BIN", "target/debug/jiraflow")
    if not os.path.exists(binary):
        raise CheckFailed(f"simulator binary {binary} not found (build it: cargo build -p jiraflow)")
    proc = subprocess.Popen(
        [
            binary,
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--auto-consent",
            "--redirect-uri",
            REDIRECT_URI,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = {}

    def read_ready():
        line["text"] = proc.stdout.readline()

    reader = threading.Thread(target=read_ready, daemon=True)
    reader.start()
    reader.join(READY_TIMEOUT_SECS)
    if not line.get("text"):
        proc.kill()
        raise CheckFailed(f"no ready line from the simulator within {READY_TIMEOUT_SECS} s")
    return proc, json.loads(line["text"])


def expect_invalid_grant(session, token_url, refresh_token, what):
    try:
        session.refresh_token(token_url, refresh_token=refresh_token)
    except OAuthError as err:
        check(err.error == "invalid_grant", f"{what}: expected invalid_grant, got {err.error}")
        return
    raise CheckFailed(f"{what}: the refresh was accepted")


def run(info):
    auth_url = info["auth_url"]
    api_url = info["api_url"]
    token_url = f"{auth_url}/oauth/token"
    session = OAuth2Session(
        info["client_id"],
        info["client_secret"],
        scope=SCOPES,
        redirect_uri=REDIRECT_URI,
        token_endpoint_auth_method="client_secret_post",
    )

    # 1. Authorization request; auto-consent answers with the callback redirect.
    url, state = session.create_authorization_url(
        f"{auth_url}/authorize", audience="api.atlassian.com", prompt="consent"
    )
    answer = requests.get(url, allow_redirects=False, timeout=10)
    check(answer.status_code == 302, f"/authorize answered {answer.status_code}, expected 302")
    callback = answer.headers.get("Location", "")
    check(callback.startswith(REDIRECT_URI + "?"), f"unexpected redirect {callback!r}")
    query = urllib.parse.parse_qs(urllib.parse.urlparse(callback).query)
    check(query.get("state") == [state], "the state was not echoed")
    check("code" in query, "no code in the callback")

    # 2. Code exchange and two rotations.
    first = session.fetch_token(token_url, authorization_response=callback, state=state)
    check(first.get("token_type") == "Bearer", f"token_type {first.get('token_type')!r}")
    check(int(first.get("expires_in", 0)) > 0, "no expires_in")
    check(first.get("refresh_token"), "no refresh_token although offline_access was granted")
    check(set(first.get("scope", "").split()) == set(SCOPES.split()), f"scope {first.get('scope')!r}")
    second = session.refresh_token(token_url, refresh_token=first["refresh_token"])
    third = session.refresh_token(token_url, refresh_token=second["refresh_token"])
    rotated = {first["refresh_token"], second["refresh_token"], third["refresh_token"]}
    check(len(rotated) == 3, "refresh tokens did not rotate")

    # 3. The newest access token works at the gateway.
    bearer = {"Authorization": f"Bearer {third['access_token']}", "Accept": "application/json"}
    resources = requests.get(f"{api_url}/oauth/token/accessible-resources", headers=bearer, timeout=10)
    check(resources.status_code == 200, f"accessible-resources answered {resources.status_code}")
    sites = resources.json()
    check(any(s.get("id") == info["cloud_id"] for s in sites), f"site missing from {sites}")
    for site in sites:
        for field in ("id", "name", "url", "scopes", "avatarUrl"):
            check(field in site, f"accessible-resources entry lacks {field}: {site}")
    me = requests.get(f"{info['jira_base_url']}/rest/api/3/myself", headers=bearer, timeout=10)
    check(me.status_code == 200, f"/myself answered {me.status_code}: {me.text}")
    check(me.json().get("accountId") == info["admin_account_id"], "/myself is not the consenting user")

    # 4. After the reuse interval, the rotated-out token revokes the family.
    changed = requests.put(
        f"{info['sim_admin_url']}/settings", json={"refresh_reuse_interval_secs": 1}, timeout=10
    )
    check(changed.status_code == 200, f"PUT /_sim/settings answered {changed.status_code}: {changed.text}")
    time.sleep(1.5)
    expect_invalid_grant(session, token_url, second["refresh_token"], "the previous refresh token")
    expect_invalid_grant(session, token_url, third["refresh_token"], "the newest refresh token")
    expect_invalid_grant(session, token_url, first["refresh_token"], "the first refresh token")
    me = requests.get(f"{info['jira_base_url']}/rest/api/3/myself", headers=bearer, timeout=10)
    check(me.status_code == 401, f"/myself with a revoked family's token answered {me.status_code}")
    stats = requests.get(f"{info['sim_admin_url']}/stats", timeout=10).json()
    counters = stats.get("counters", stats)
    check(counters.get("familyRevocations") == 1, f"familyRevocations is {counters.get('familyRevocations')}")


def main():
    # The simulator speaks plain HTTP on loopback.
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    proc = None
    try:
        proc, info = start_sim()
        run(info)
    except CheckFailed as err:
        print(f"oauth_authlib: FAILED: {err}", file=sys.stderr)
        return 1
    except (OAuthError, requests.RequestException, ValueError, KeyError) as err:
        print(f"oauth_authlib: FAILED: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    print("oauth_authlib: ok (code flow, two rotations, accessible-resources, /myself, reuse revocation)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
