"""Secrets are masked where netdiag keeps command lines and labels: a table of what must be masked
(the value, never its neighbour) and what must stay visible (ports, image tags, ids), and the
maskers' time stays linear in their input."""

from __future__ import annotations

import time

import pytest

from netdiag.redact import MASK, mask_argv, mask_value

M = MASK

# (command line, as it must be kept)
MASKED_ARGV = [
    (["app", "--password", "hunter2"], ["app", "--password", M]),
    (["app", "--token=abc123"], ["app", f"--token={M}"]),
    (["env", "DB_PASS=s3cret"], ["env", f"DB_PASS={M}"]),
    (["app", "--pwd", "x1"], ["app", "--pwd", M]),
    (["app", "--key", "k-123"], ["app", "--key", M]),
    (["app", "--env=DB_PASSWORD=x"], ["app", f"--env=DB_PASSWORD={M}"]),
    (["mysql", "-pSECRET", "-h", "db"], ["mysql", f"-p{M}", "-h", "db"]),
    (["mysql", "-p", "SECRET", "-h", "db"], ["mysql", "-p", M, "-h", "db"]),
    (["curl", "-u", "admin:pass", "http://x"], ["curl", "-u", M, "http://x"]),
    (["curl", "-H", "Authorization: Bearer abc.def.ghi", "http://x"], ["curl", "-H", f"Authorization: {M}", "http://x"]),
    (["curl", "-H", "Authorization: Basic YWRtaW46cGFzcw==", "x"], ["curl", "-H", f"Authorization: {M}", "x"]),
    (["app", "redis://:pass@cache:6379"], ["app", M]),
    (["app", "postgres://user:pw@db/x"], ["app", M]),
    (["app", "--url=user:pw@db:5432"], ["app", f"--url={M}"]),
    (["app", "AKIAIOSFODNN7EXAMPLE"], ["app", M]),
    (["app", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"], ["app", M]),
    (["app", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"], ["app", M]),
    (["app", "ghp_abcdefghijklmnopqrstuvwxyz0123"], ["app", M]),
    (["app", "glpat-abcdefghijklmnopqrst"], ["app", M]),
    (["app", "sk_live_abcdefghijklmnop"], ["app", M]),
    (["app", "AIzaSyA1234567890abcdefghijklmnopqrstu"], ["app", M]),
    (["app", "sk-proj-abcdefghijklmnopqrstuvwxyz0123"], ["app", M]),
    (["app", "npm_abcdefghijklmnopqrstuvwxyz0123456789"], ["app", M]),
    (["app", "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXX"], ["app", M]),
    (["app", '{"db_password": "x1y2"}'], ["app", M]),
    (["app", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKjMzEfYyjiWA4R4"],
     ["app", M]),
    (["app", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc"], ["app", M]),
]

KEPT_ARGV = [
    ["python", "-m", "SimpleHTTPServer", "80", "-p", "5000"],
    ["httpd", "-f", "-p", "127.0.0.1:80", "-h", "/www"],
    ["docker-proxy", "-proto", "tcp", "-host-ip", "0.0.0.0", "-host-port", "32768"],
    ["app", "--image", "nginx:1.25@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"],
    ["app", "9d1e6da2594ac99a758e56782bdbeedb34e14cc6934cbc6335867f57352f8530"],  # a container id
    ["git", "checkout", "0123456789abcdef0123456789abcdef01234567"],  # a commit, lowercase hex
    ["app", "--user", "nobody", "--port=8080", "--monkey", "1"],
    ["curl", "-H", "Content-Type: application/json", "http://web:80/"],
    ["app", "registry.local:5000/team/web:2.1"],
]

LABELS = [
    ("db.pwd", "x", M), ("api_key", "x", M), ("com.example.team", "web", "web"),
    ("traefik.http.routers.web.rule", "Host(`web.local`)", "Host(`web.local`)"),
    ("config", '{"password": "p4ss"}', M), ("com.docker.compose.version", "2.29.1", "2.29.1"),
]


@pytest.mark.parametrize("argv, kept", MASKED_ARGV, ids=lambda v: " ".join(v)[:40] if isinstance(v, list) else "")
def test_secrets_are_masked_value_only(argv, kept):
    assert mask_argv(argv) == kept


@pytest.mark.parametrize("argv", KEPT_ARGV, ids=lambda v: " ".join(v)[:40])
def test_ordinary_arguments_are_kept(argv):
    assert mask_argv(argv) == argv


@pytest.mark.parametrize("name, value, kept", LABELS)
def test_labels(name, value, kept):
    assert mask_value(name, value) == kept


@pytest.mark.parametrize("value", [
    "a" * 40000, "ab1" * 13000 + "!", "-" + "1" * 40000, "x:" * 20000, "redis://" + "a" * 40000,
    "Bearer" + " " * 40000, ("ghp_" + "a" * 5) * 4000, "MII" + "A" * 50 + "!" * 40000,
])
def test_masking_stays_linear(value):
    """40 kB values cost milliseconds, not seconds (a quadratic pattern took 7 s here)."""
    start = time.perf_counter()
    mask_argv(["app", value, f"--opt={value}"])
    mask_value("label", value)
    assert time.perf_counter() - start < 0.5
