"""Check results for CI systems: JUnit XML (GitHub Actions, GitLab, Jenkins read it) and GitHub
Actions workflow annotations."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from netdiag.errors import NetdiagError
from netdiag.render.diagnosis import render
from netdiag.results import Result
from netdiag.vocab import CheckStatus

PASS, FAIL = CheckStatus.PASS, CheckStatus.FAIL


def check_text(results: list[Result]) -> str:
    """The table of expectations, then the full diagnosis of each that does not hold."""
    from tabulate import tabulate

    out = [tabulate([(r.expectation.line, r.expectation.title, r.status, r.detail) for r in results],
                    headers=["line", "expectation", "status", "detail"], tablefmt="plain")]
    out += [f"\n--- {r.expectation.title} (line {r.expectation.line})\n{failure_text(r)}"
            for r in results if r.status != PASS and r.diagnosis is not None]
    return "\n".join(out)


def failure_text(r: Result) -> str:
    return render(r.diagnosis) if r.diagnosis is not None else r.detail


def junit(results: list[Result], path: str) -> str:
    suite = ET.Element("testsuite", name="netdiag check", tests=str(len(results)),
                       failures=str(sum(r.status == FAIL for r in results)),
                       errors=str(sum(r.status not in (PASS, FAIL) for r in results)))
    for r in results:
        case = ET.SubElement(suite, "testcase", classname=f"netdiag.{r.expectation.kind}",
                             name=r.expectation.title, file=path, line=str(r.expectation.line))
        if r.status == FAIL:
            ET.SubElement(case, "failure", message=r.detail[:500]).text = failure_text(r)
        elif r.status != PASS:
            ET.SubElement(case, "error", message=f"could not check: {r.detail[:480]}").text = failure_text(r)
        else:
            ET.SubElement(case, "system-out").text = r.detail
    root = ET.Element("testsuites")
    root.append(suite)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def junit_error(error: NetdiagError, path: str) -> str:
    """JUnit XML when the check could not run at all: one test case, failed, naming the error."""
    suite = ET.Element("testsuite", name="netdiag check", tests="1", failures="0", errors="1")
    case = ET.SubElement(suite, "testcase", classname="netdiag.check", name=f"netdiag check -f {path}", file=path)
    ET.SubElement(case, "error", message=f"{error.code}: {error.message}"[:500],
                  type=error.code).text = f"exit {error.exit_code}: {error.message}"
    root = ET.Element("testsuites")
    root.append(suite)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def step_summary(results: list[Result], path: str) -> str:
    """Markdown for GitHub's job summary page: a table of the expectations."""
    held = sum(r.status == PASS for r in results)
    lines = [f"### netdiag check ({path}): {held} of {len(results)} hold", "",
             "| line | expectation | status | detail |", "|---|---|---|---|"]
    lines += [f"| {r.expectation.line} | {_cell(r.expectation.title)} | {r.status} | {_cell(r.detail)[:300]} |"
              for r in results]
    return "\n".join(lines) + "\n\n"


def step_summary_error(error: NetdiagError, path: str) -> str:
    return f"### netdiag check ({path}): could not check\n\n`{error.code}`: {_cell(error.message)}\n\n"


def _escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def github_annotations(results: list[Result], path: str) -> list[str]:
    """`::error file=...,line=...,title=...::message` for each expectation that does not hold."""
    out = []
    for r in results:
        if r.status == PASS:
            continue
        level = "error" if r.status == FAIL else "warning"
        out.append(f"::{level} file={_escape(path, True)},line={r.expectation.line},"
                   f"title={_escape(r.expectation.title, True)}::{_escape(failure_text(r))}")
    return out
