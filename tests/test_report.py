"""Reports for the ticket: Markdown, and HTML checked as a person sees it, in headless Chromium."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from netdiag.cli import cli

BUNDLES = Path(__file__).resolve().parent.parent / "examples" / "bundles"
RED = (0xD3, 0x2F, 0x2F)


def report(tmp_path, bundle: str, name: str) -> Path:
    out = tmp_path / name
    r = CliRunner().invoke(cli, ["report", str(BUNDLES / bundle), "-o", str(out)])
    assert r.exit_code == 0, r.output
    return out


def test_markdown_report_has_causes_evidence_fixes_and_path(tmp_path):
    md = report(tmp_path, "seed-telnet-0000-5000.json", "r.md").read_text()
    assert "## ndt-seed-5000: unreachable" in md
    assert "### 1. `wrong-address` (ND301)" in md and "### 2. `nothing-listening` (ND401)" in md
    assert "- use 192.168.59.103:5000" in md
    assert "| listener | fail |" in md


def test_html_report_is_one_self_contained_file(tmp_path):
    page = report(tmp_path, "seed-ping-container-ip.json", "r.html").read_text()
    assert "<svg" in page and "ip-not-routable" in page and "192.168.59.103" in page
    for external in ("<script src", "<link", "src=\"http", "url(http"):
        assert external not in page


def test_report_name_must_say_its_format(tmp_path):
    r = CliRunner().invoke(cli, ["report", str(BUNDLES / "healthy-published-port.json"), "-o", str(tmp_path / "r.pdf")])
    assert r.exit_code == 2 and "must end in .md or .html" in r.output


def png_pixels(path: Path):
    """(width, height, rows of RGB tuples) of an 8-bit RGB or RGBA, non-interlaced PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and colour in (2, 6) and interlace == 0
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(width)])
        prev = line
    return width, height, rows


def screenshot(html: Path, out: Path) -> Path:
    chromium = shutil.which("chromium")
    if chromium is None:
        if os.environ.get("NETDIAG_REQUIRE_ENGINE"):
            pytest.fail("chromium is missing: scripts/test installs it")
        pytest.skip("no chromium here")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={profile}", "--window-size=1000,450", f"--screenshot={out}",
                        html.as_uri()], capture_output=True, timeout=60, check=True)
    return out


def red_pixels_in_picture(png: Path) -> int:
    """Pixels of the failure colour in the topology picture (below the headings, above the causes)."""
    _, height, rows = png_pixels(png)
    return sum(1 for row in rows[180:height] for px in row if all(abs(p - r) < 30 for p, r in zip(px, RED)))


def test_screenshot_marks_the_failing_hop_and_nothing_on_a_healthy_one(tmp_path):
    broken = red_pixels_in_picture(screenshot(report(tmp_path, "seed-ping-container-ip.json", "b.html"),
                                              tmp_path / "b.png"))
    healthy = red_pixels_in_picture(screenshot(report(tmp_path, "healthy-published-port.json", "h.html"),
                                               tmp_path / "h.png"))
    assert broken > 2000, broken  # the red client box, the red line and the X mark
    assert healthy == 0, healthy
