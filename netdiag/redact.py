"""Masking secrets: values whose names or shapes say password, token or key never leave the host.

Applied while collecting, to labels and command lines (netdiag never reads environment values).
What is masked is the value, never its neighbour: `--password x` keeps `--password`, `--env=DB_PASSWORD=x`
keeps `--env=DB_PASSWORD=`. Every pattern is linear in its input (no nested or overlapping
repetition), so a 40 kB argument costs what its length costs. The cases it must mask and the
ones it must keep (ports, image tags, ids) are a table in tests/test_redact.py.
"""

from __future__ import annotations

import re

MASK = "***"

# names (of a label, an option, a variable) that say the value is a secret
SECRET_NAME = re.compile(
    r"pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|private[_-]?key|access[_-]?key|(?:^|[^a-z])key(?:$|[^a-z])|"
    r"credential|auth|session|cookie|signature|dsn|bearer", re.I)

# values that are secrets by their shape, wherever they stand
SECRET_VALUE = re.compile(
    r"AKIA[0-9A-Z]{16}"  # AWS access key id
    r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"  # GitHub tokens
    r"|glpat-[A-Za-z0-9_-]{16,}"  # GitLab
    r"|xox[abprs]-[A-Za-z0-9-]{10,}|hooks\.slack\.com/services/[A-Za-z0-9/]{10,}"  # Slack
    r"|[sr]k_(?:live|test)_[A-Za-z0-9]{10,}"  # Stripe
    r"|sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"  # OpenAI, Anthropic
    r"|AIza[0-9A-Za-z_-]{30,}"  # Google API key
    r"|npm_[A-Za-z0-9]{30,}"  # npm
    r"|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"  # JSON web token
    r"|-----BEGIN [A-Z ]{0,40}PRIVATE KEY|MII[A-Za-z0-9+/]{60,}"  # a private key, with or without PEM armour
    r"|(?:Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}"  # an Authorization header's credentials
    r"|\"[a-z_]{0,20}(?:password|passwd|secret|token)\"\s{0,5}:\s{0,5}\"[^\"]{1,200}\"",  # in a JSON blob
    re.I)

# user:password@ in a URL (also with an empty user, redis://:pw@host) or bare (user:pw@host)
CREDENTIALS = re.compile(r"(?:^|[/\s=])([^\s/:@]{0,128}):([^\s/@]{1,256})@(?!sha256:)[\w.-]")
# a 40-character AWS secret access key: mixed case and digits, so not a lowercase hex hash
AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])")
# options whose next argument (or =value) is a credential whatever its name
CREDENTIAL_OPTIONS = {"-u", "--user", "-U", "--password", "--pass", "--pwd", "--key", "--token", "-H", "--header"}
# client programs whose -pVALUE / -p VALUE is a password, not a port
PASSWORD_P = {"mysql", "mysqldump", "mysqladmin", "mariadb", "mariadb-dump", "mysqlimport", "mysqlsh"}


def _aws_secret(value: str) -> bool:
    for m in AWS_SECRET.finditer(value):
        word = m.group()
        if any(c.isupper() for c in word) and any(c.islower() for c in word) and any(c.isdigit() for c in word):
            return True
    return False


def secret_value(value: str) -> bool:
    """Whether a value is shaped like a secret, whatever its name."""
    return bool(SECRET_VALUE.search(value) or CREDENTIALS.search(value) or _aws_secret(value))


def looks_secret(name: str, value: str = "") -> bool:
    return bool(SECRET_NAME.search(name) or (value and secret_value(value)))


def mask_value(name: str, value: str) -> str:
    return MASK if looks_secret(name, value) else value


def _mask_assignment(word: str) -> str | None:
    """`NAME=value`, `--opt=NAME=value`, `--password=x`: the value after the last secret name masked."""
    head, eq, value = word.rpartition("=")
    if not eq:
        return None
    if SECRET_NAME.search(head.rsplit("=", 1)[-1]) or secret_value(value):
        return f"{head}={MASK}"
    return None


def _mask_header(header: str) -> str:
    """`Authorization: Bearer x` keeps its name; a header that is no secret is kept whole."""
    name, colon, value = header.partition(":")
    if colon and (SECRET_NAME.search(name) or secret_value(value)):
        return f"{name}: {MASK}"
    return MASK if secret_value(header) else header


def mask_argv(argv: list[str]) -> list[str]:
    """A command line with secrets masked: `--password x`, `--token=x`, `PASS=x`, `-u user:pw`,
    `-H 'Authorization: ...'`, mysql's `-pSECRET`, and words shaped like keys and tokens."""
    out: list[str] = []
    program = argv[0].rsplit("/", 1)[-1] if argv else ""
    pending = ""  # the option whose value the next word is
    for word in argv:
        if pending:
            if pending in ("-H", "--header"):
                out.append(_mask_header(word))
            elif pending in ("-u", "--user", "-U"):  # user:password is a credential, a bare user name is not
                out.append(MASK if ":" in word else word)
            else:
                out.append(MASK)
            pending = ""
        elif program in PASSWORD_P and word.startswith("-p") and not word.startswith("--"):
            out.append(word if word == "-p" else f"-p{MASK}")
            pending = "-p" if word == "-p" else ""
        elif "=" in word and (assigned := _mask_assignment(word)) is not None:
            out.append(assigned)
        elif word.startswith("-") and "=" not in word and (word in CREDENTIAL_OPTIONS or SECRET_NAME.search(word)):
            out.append(word)
            pending = word
        elif secret_value(word):
            out.append(MASK)
        else:
            out.append(word)
    return out
