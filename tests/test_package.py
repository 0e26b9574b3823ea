"""The package as a user installs it: the wheel and sdist build with `python -m build`, carry the
LICENSE and the contract, and a wheel installed into a fresh virtualenv without the test extra
runs the smoke set: --version, rules, explain on the recorded bundles, one live diagnosis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from examples import lab

ROOT = Path(lab.ROOT)


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    p = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    return out


@pytest.fixture(scope="module")
def installed(dist, tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel and its declared dependencies only."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    wheel = next(dist.glob("container_netdiag-*.whl"))
    p = subprocess.run([str(venv / "bin/pip"), "install", "-q", "--disable-pip-version-check", str(wheel)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    return venv / "bin/netdiag"


def run(exe: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120, cwd="/", env=env)


def test_the_wheel_and_sdist_carry_license_contract_and_metadata(dist):
    wheel = zipfile.ZipFile(next(dist.glob("*.whl")))
    names = wheel.namelist()
    assert "netdiag/contract.md" in names and any(n.endswith("licenses/LICENSE") for n in names)
    meta = wheel.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "Name: container-netdiag" in meta and "License-Expression: MIT" in meta
    assert "Requires-Dist: requests>=2.32" in meta and "Requires-Dist: docker>=7.1" in meta
    assert 'Provides-Extra: ssh' in meta and "Classifier: Topic :: System :: Networking" in meta
    assert "# netdiag" in meta  # the README is the long description
    sdist = tarfile.open(next(dist.glob("*.tar.gz")))
    members = {m.name.split("/", 1)[1]: m for m in sdist.getmembers() if "/" in m.name}
    assert members["netdiag/contract.md"].isfile() and "LICENSE" in members


def test_the_installed_command_runs_offline(installed):
    assert run(installed, "--version").stdout.startswith("netdiag, version ")
    rules = run(installed, "rules", "--json")
    assert rules.returncode == 0 and "ND302" in rules.stdout
    summary = run(installed, "explain", str(ROOT / "examples/bundles"), "--json")
    assert summary.returncode == 1, summary.stderr  # the recorded seed bundles are unreachable
    rows = json.loads(summary.stdout)["bundles"]
    assert {r["bundle"]: r["verdict"] for r in rows} == {
        "healthy-published-port.json": "reachable", "seed-ping-container-ip.json": "unreachable",
        "seed-telnet-0000-5000.json": "unreachable"}


@pytest.mark.engine
def test_the_installed_command_diagnoses_a_live_container(installed, clean):
    lab.run("ndt-pkg", "-p", "80", cmd=("httpd", "-f", "-p", "80", "-h", "/www"))
    lab.wait_listening("ndt-pkg", 80)
    p = run(installed, "why-unreachable", "ndt-pkg", "--json")
    assert p.returncode == 0, p.stdout + p.stderr
    d = json.loads(p.stdout)
    assert d["verdict"] == "reachable" and d["works"][0].startswith("127.0.0.1:")
