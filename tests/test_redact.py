"""Secrets are masked where netdiag keeps command lines and labels."""

from __future__ import annotations

from netdiag.redact import MASK, mask_argv, mask_value


def test_secret_arguments_are_masked():
    argv = ["app", "--password", "hunter2", "--token=abc123", "DB_PASS=s3cret", "--port", "80",
            "AKIAIOSFODNN7EXAMPLE", "postgres://user:pw@db/x"]
    assert mask_argv(argv) == ["app", "--password", MASK, f"--token={MASK}", f"DB_PASS={MASK}", "--port", "80",
                               MASK, MASK]


def test_ordinary_arguments_are_kept():
    argv = ["python", "-m", "SimpleHTTPServer", "80", "-p", "5000"]
    assert mask_argv(argv) == argv
    assert mask_value("com.example.team", "web") == "web"
    assert mask_value("api_key", "x") == MASK
