"""Masking secrets: values whose names (or shapes) say password, token or key never leave the host."""

from __future__ import annotations

import re

MASK = "***"

SECRET_NAME = re.compile(r"pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|"
                         r"credential|auth|session|cookie|signature|dsn", re.I)
SECRET_VALUE = re.compile(r"AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{20,}|xox[abpr]-[A-Za-z0-9-]{10,}|"
                          r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}|-----BEGIN [A-Z ]*PRIVATE KEY|"
                          r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@", re.I)


def looks_secret(name: str, value: str = "") -> bool:
    return bool(SECRET_NAME.search(name) or (value and SECRET_VALUE.search(value)))


def mask_value(name: str, value: str) -> str:
    return MASK if looks_secret(name, value) else value


def mask_argv(argv: list[str]) -> list[str]:
    """A command line with secrets masked: `--password x`, `--token=x`, `PASS=x`, and key-shaped words."""
    out: list[str] = []
    hide_next = False
    for word in argv:
        if hide_next:
            out.append(MASK)
            hide_next = False
            continue
        name, eq, value = word.partition("=")
        if eq and looks_secret(name, value):
            out.append(f"{name}={MASK}")
        elif word.startswith("-") and SECRET_NAME.search(word):
            out.append(word)
            hide_next = True
        elif SECRET_VALUE.search(word):
            out.append(MASK)
        else:
            out.append(word)
    return out
