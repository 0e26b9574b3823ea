"""netdiag.yml: what parses, and a bad file's one error naming its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from netdiag.checkfile import parse
from netdiag.errors import BadInput

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "ci" / "netdiag.yml"


def test_the_example_parses():
    es = parse(EXAMPLE.read_text(), "netdiag.yml")
    assert [e.kind for e in es] == ["reachable", "reachable", "not-published", "on-network", "no-overlap"]
    assert es[0].params == {"container": "web", "port": 80} and es[0].line == 4
    assert es[1].params["from"] == "container:web" and es[3].title == "api is on network app"


@pytest.mark.parametrize("text, line, message", [
    ("version: 1\nexpect:\n  - reachable: {container: web, port: http}\n", 3, "'http' is not a port"),
    ("version: 1\nexpect:\n  - reachable: {port: 80}\n", 3, "missing container"),
    ("version: 1\nexpect:\n  - pingable: {container: web}\n", 3, "unknown expectation 'pingable'"),
    ("version: 1\nexpect:\n  - reachable: {container: web}\n  - on-network: {container: web, network: app, net: x}\n", 4,
     "unknown parameter 'net'"),
    ("version: 2\nexpect: []\n", 1, "`version: 1` (the number) is required"),
    ('version: "1"\nexpect: []\n', 1, "`version: 1` (the number) is required"),
    ("version: 1\nexpect:\n  - reachable: {container: web, from: 'container:'}\n", 3, "from must be host or container"),
    ("version: 1\nexpect:\n  - reachable: {container: web, to: 'web:http'}\n", 3, "'http' is not a port"),
    ("version: 1\nexpect:\n  - not-published: {container: db, address: everywhere}\n", 3,
     "address 'everywhere' is not an IP address"),
    ("version: 1\nexpect:\n  - name: [a, b]\n    reachable: {container: web}\n", 3, "name: a plain text is expected"),
    ("version: 1\nexpect:\n  - reachable: {container: web, port: ２}\n", 3, "'２' is not a port"),
    ("version: 1\n[a]: 1\nexpect: []\n", 2, "keys must be plain words"),
    ("version: 1\nexpect:\n" + "  - reachable: " + "[" * 1000 + "]" * 1000 + "\n", 1, "nested"),
    ("version: 1\nversion: 1\nexpect: []\n", 2, "'version' appears twice"),
    ("version: 1\nexpect:\n  - reachable: {container: web\n", 4, "not valid YAML"),
    ("version: 1\nexpects: []\n", 2, "unknown key 'expects'"),
    ("version: 1\nexpect:\n  - reachable-from: {from: host, to: '198.51.100.10:80'}\n", 3,
     "from must name the container the attempt starts in"),
    ("version: 1\nexpect:\n  - reachable-from: {from: 'container:web'}\n", 3, "reachable-from: missing to"),
    ("version: 1\nexpect:\n  - reachable-from: {from: 'container:web', to: 'db:pg'}\n", 3, "'pg' is not a port"),
    ("version: 1\nexpect:\n  - reachable: {container: web, from: laptop}\n", 3, "from must be host or container:NAME"),
    ("- just a list\n", 1, "expected a mapping"),
])
def test_bad_file_names_the_line(text, line, message):
    with pytest.raises(BadInput) as e:
        parse(text, "netdiag.yml")
    assert e.value.message.startswith(f"netdiag.yml:{line}: ") and message in e.value.message, e.value.message
    assert e.value.exit_code == 2


def test_schema_documents_every_kind_and_parameter():
    import json

    from netdiag.checkfile import KINDS

    schema = json.loads((EXAMPLE.parent.parent.parent / "docs" / "netdiag.schema.json").read_text())
    items = schema["properties"]["expect"]["items"]["properties"]
    assert set(items) - {"name"} == set(KINDS)
    for kind, (required, optional) in KINDS.items():
        props = set(items[kind].get("properties", {}))
        assert props == required | optional, kind
        assert set(items[kind].get("required", [])) == required, kind


def _check(tmp_path, monkeypatch, yml_text: str, *extra: str):
    from click.testing import CliRunner

    from netdiag.cli import cli

    yml = tmp_path / "netdiag.yml"
    yml.write_text(yml_text)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-daemon.sock")
    junit = tmp_path / "netdiag.xml"
    r = CliRunner().invoke(cli, ["check", "-f", str(yml), "--junit", str(junit), *extra])
    return r, junit, summary


@pytest.mark.parametrize("text, exit_code, code", [
    ("version: 2\nexpect: []\n", 2, "bad-check-file"),
    ("version: 1\nexpect:\n  - reachable: {container: web}\n", 3, "daemon-unreachable"),
])
def test_junit_and_step_summary_are_written_even_when_the_check_cannot_run(tmp_path, monkeypatch, text, exit_code,
                                                                          code):
    """CI needs its report exactly when netdiag could not check: a bad file (2), no daemon (3)."""
    import xml.etree.ElementTree as ET

    r, junit, summary = _check(tmp_path, monkeypatch, text)
    assert r.exit_code == exit_code, r.output
    case = ET.parse(junit).getroot().find("testsuite").find("testcase")
    error = case.find("error")
    assert error is not None and error.get("type") == code and error.text.startswith(f"exit {exit_code}: ")
    assert summary.read_text().startswith("### netdiag check (") and f"`{code}`" in summary.read_text()


def test_wait_must_be_a_finite_number(tmp_path, monkeypatch):
    for value in ("nan", "inf", "-1"):
        r, junit, _ = _check(tmp_path, monkeypatch, "version: 1\nexpect: []\n", "--wait", value)
        assert r.exit_code == 2 and "--wait takes a finite number of seconds" in r.output, (value, r.output)
        assert junit.exists()
