"""Bundles offline: the recorded lab bundles explain as the live engine did; scrubbing keeps the
diagnosis; a bad bundle is one line and exit 2, whatever is wrong with it."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from netdiag import bundle as bundles
from netdiag.cli import cli
from netdiag.offline import explain_one
from netdiag.scrub import Scrubber, scrub_document

BUNDLES = Path(__file__).resolve().parent.parent / "examples" / "bundles"
SEED_IP = BUNDLES / "seed-ping-container-ip.json"
SEED_5000 = BUNDLES / "seed-telnet-0000-5000.json"
HEALTHY = BUNDLES / "healthy-published-port.json"


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_recorded_seed_bundles_explain_offline():
    d = explain_one(bundles.load(str(SEED_IP)), None)
    assert [c.code for c in d.causes] == ["ip-not-routable"]
    assert d.causes[0].fix[0].startswith("use 192.168.59.103:")
    d = explain_one(bundles.load(str(SEED_5000)), None)
    assert [c.code for c in d.causes] == ["wrong-address", "nothing-listening"]
    assert explain_one(bundles.load(str(HEALTHY)), None).verdict == "reachable"


def test_explain_cli_exit_codes_and_json():
    r = invoke("explain", str(SEED_IP), "--json")
    assert r.exit_code == 1
    assert json.loads(r.output)["causes"][0]["code"] == "ip-not-routable"
    assert invoke("explain", str(HEALTHY)).exit_code == 0
    # another attempt over the same facts: the flags replace the recorded one
    r = invoke("explain", str(SEED_5000), "ndt-seed-5000", "--port", "80", "--json")
    assert json.loads(r.output)["target"]["port"] == 80


def test_explain_a_folder_summarises_each_bundle(tmp_path):
    for f in (SEED_IP, SEED_5000, HEALTHY):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    (tmp_path / "broken.json").write_text('{"netdiag_bundle": 1')
    r = invoke("explain", str(tmp_path), "--json")
    rows = {row["bundle"]: row for row in json.loads(r.stdout)["bundles"]}
    assert rows["seed-telnet-0000-5000.json"]["causes"] == ["wrong-address", "nothing-listening"]
    assert rows["healthy-published-port.json"]["verdict"] == "reachable"
    assert rows["broken.json"]["verdict"] is None and "truncated" in rows["broken.json"]["error"]
    assert r.exit_code == 2


def test_gzip_round_trip(tmp_path):
    b = bundles.load(str(SEED_IP))
    out = tmp_path / "b.json.gz"
    bundles.write(b, str(out))
    assert out.read_bytes()[:2] == b"\x1f\x8b"
    assert bundles.load(str(out)) == b


def test_scrubbed_bundle_diagnoses_the_same(tmp_path):
    for path in (SEED_IP, SEED_5000, HEALTHY):
        original = bundles.load(str(path))
        scrubber = Scrubber(key=b"k" * 32)
        doc, mapping = scrub_document(bundles.to_document(original), scrubber)
        text = json.dumps(doc)
        for secret in ("192.168.59.103", "172.17.0.2", "10.0.1.1", "ndt-seed", '"vm"', "02:42:ac"):
            assert secret not in text, secret
        scrubbed = bundles.parse(text.encode())
        before, after = explain_one(original, None), explain_one(scrubbed, None)
        assert after.verdict == before.verdict
        assert [(c.code, c.rule, c.port) for c in after.causes] == [(c.code, c.rule, c.port) for c in before.causes]
        assert [h.status for h in after.path] == [h.status for h in before.path]
        vm = mapping["addresses"]["192.168.59.103"]
        assert ipaddress_is_private(vm)
        for b, a in zip(before.causes, after.causes):  # the same facts and fixes, in scrubbed values
            assert [scrubber.text(x) for x in b.evidence + b.fix] == list(a.evidence + a.fix)
        assert [scrubber.text(w) for w in before.works] == list(after.works)


def ipaddress_is_private(text: str) -> bool:
    import ipaddress

    return ipaddress.ip_address(text).is_private


def test_scrub_keeps_subnets_and_classes():
    import ipaddress

    s = Scrubber(key=b"x" * 32)
    net = ipaddress.ip_network(s.text("172.17.0.0/16"))
    for host in ("172.17.0.1", "172.17.0.29", "172.17.255.3"):
        assert ipaddress.ip_address(s.text(host)) in net
    assert s.text("127.0.0.1") == "127.0.0.1" and s.text("0.0.0.0/0") == "0.0.0.0/0"
    assert ipaddress.ip_address(s.text("8.8.8.8")).is_global
    assert ipaddress.ip_address(s.text("169.254.1.1")).is_link_local
    assert s.text("10.0.1.7") != "10.0.1.7" and s.text("10.0.1.7").startswith("10.")
    assert s.text("tcp://192.168.59.103:2375").startswith("tcp://192.168.")


def test_scrub_cli_writes_the_mapping_apart(tmp_path):
    out = tmp_path / "s.json.gz"
    r = invoke("scrub", str(SEED_IP), "-o", str(out))
    assert r.exit_code == 0, r.output
    mapping = json.loads((tmp_path / "s.map.json").read_text())
    assert "192.168.59.103" in mapping["addresses"]
    assert "192.168.59.103" not in gzip.decompress(out.read_bytes()).decode()
    assert invoke("scrub", str(SEED_IP), "-o", str(SEED_IP)).exit_code == 2


# --- bad bundles -------------------------------------------------------------------------------

def bad(tmp_path, data: bytes, name: str = "b.json"):
    p = tmp_path / name
    p.write_bytes(data)
    r = invoke("explain", str(p))
    return r


@pytest.mark.parametrize("data, why", [
    (SEED_IP.read_bytes()[:500], "truncated"),
    (b"hello", "not JSON"),
    (b'{"some": "json"}', "no netdiag_bundle header"),
    (json.dumps({"netdiag_bundle": 1, "schema": 99, "snapshot": {}, "attempts": []}).encode(), "upgrade netdiag"),
    (json.dumps({"netdiag_bundle": 1, "schema": 1, "attempts": []}).encode(), "'snapshot' section is missing"),
    (json.dumps({"netdiag_bundle": 1, "schema": 1, "snapshot": {}, "attempts": []}).encode(),
     "missing field 'engine'"),
    (b"\x1f\x8b\x08\x00broken", "gzip"),
    (gzip.compress(SEED_IP.read_bytes())[:300], "truncated"),
    (b"[" * 100000, "nested too deeply"),
    (b"\xff\xfe\x00", "not text"),
])
def test_bad_bundle_is_one_line_exit_2(tmp_path, data, why):
    r = bad(tmp_path, data)
    assert r.exit_code == 2, r.output
    line = r.output.strip()
    assert "\n" not in line and why in line and "Traceback" not in line


def _edited(change) -> bytes:
    doc = json.loads(SEED_IP.read_bytes())
    change(doc)
    return json.dumps(doc).encode()


@pytest.mark.parametrize("change, why", [
    (lambda d: d["snapshot"]["engine"].update(location="LOCAL"),
     "snapshot.engine.location: 'LOCAL' is not one of '', 'local', 'vm', 'remote'"),
    (lambda d: d["snapshot"]["containers"][0]["state"].update(status="up"), "containers[0].state.status: 'up'"),
    (lambda d: d["attempts"][0].update(origin="container:"), "attempts[0].origin: 'container:'"),
    (lambda d: d["snapshot"]["reach"][0].update(kind="sctp"),
     "reach[0].kind: 'sctp' is not one of 'icmp', 'tcp', 'udp'"),
])
def test_a_value_outside_its_vocabulary_is_bad_input_naming_the_field(tmp_path, change, why):
    r = bad(tmp_path, _edited(change))
    assert r.exit_code == 2, r.output
    assert why in r.output and r.output.count("\n") == 1


def test_a_schema_1_bundle_is_upgraded_when_read():
    """The recorded bundles are schema 1: origin was `source`, firewall rules were text."""
    doc = json.loads(SEED_5000.read_bytes())
    assert doc["schema"] == 1 and "source" in doc["snapshot"]["reach"][0]
    b = bundles.load(str(SEED_5000))
    assert b.snapshot.schema == 2 and b.snapshot.reach[0].origin.is_host
    assert b.snapshot.engine.chosen_by == "DOCKER_HOST"


def test_huge_bundle_is_refused_without_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(bundles, "MAX_BYTES", 1000)
    r = bad(tmp_path, SEED_IP.read_bytes())
    assert r.exit_code == 2 and "more than the 1000" in r.output


def _mutations(doc, rng):
    """Ways a bundle goes wrong in the field: keys dropped, types changed, values emptied."""
    paths = []

    def walk(v, path):
        paths.append(path)
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, path + [k])
        elif isinstance(v, list):
            for i, x in enumerate(v):
                walk(x, path + [i])

    walk(doc, [])
    for _ in range(300):
        d = json.loads(json.dumps(doc))
        path = rng.choice(paths[1:])
        parent = d
        for k in path[:-1]:
            parent = parent[k]
        action = rng.choice(["drop", "null", "str", "int", "list", "dict", "neg"])
        key = path[-1]
        if action == "drop":
            if isinstance(parent, dict):
                del parent[key]
            else:
                parent.pop(key)
        else:
            parent[key] = {"null": None, "str": "x", "int": 7, "list": [1, "a"], "dict": {"a": 1},
                           "neg": -1}[action]
        yield json.dumps(d).encode()


def test_fuzzed_bundles_never_crash(tmp_path):
    rng = random.Random(20261128)
    doc = json.loads(SEED_5000.read_text())
    raw = SEED_5000.read_bytes()
    samples = list(_mutations(doc, rng))
    samples += [raw[: rng.randrange(len(raw))] for _ in range(50)]
    samples += [bytes(b ^ 0xFF if rng.random() < 0.001 else b for b in raw) for _ in range(30)]
    p = tmp_path / "fuzz.json"
    for data in samples:
        p.write_bytes(data)
        r = CliRunner().invoke(cli, ["explain", str(p), "--json"])
        assert r.exit_code in (0, 1, 2, 3), r.output
        assert r.exception is None or isinstance(r.exception, SystemExit), (r.exception, data[:200])
        err = json.loads(r.stdout).get("error") if r.stdout.startswith("{") else None
        assert err is None or err["code"] in ("bad-bundle", "bad-argument", "container-not-found"), err


def test_colour_on_a_terminal_none_when_piped_or_no_color():
    import os
    import pty
    import subprocess
    import sys

    def run_in_pty(env):
        leader, follower = pty.openpty()
        p = subprocess.Popen([sys.executable, "-m", "netdiag", "explain", str(SEED_IP)], stdout=follower,
                             stderr=follower, env=env)
        os.close(follower)
        out = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        p.wait()
        os.close(leader)
        return out.decode()

    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    assert "\x1b[31m" in run_in_pty(env)  # the red verdict and causes
    assert "\x1b[" not in run_in_pty(dict(env, NO_COLOR="1"))


def _scrubbed_pair(change):
    """(diagnosis before, diagnosis after scrubbing, scrubbed text, scrubber) of the seed bundle changed."""
    doc = json.loads(SEED_5000.read_text())
    change(doc)
    original = bundles.parse(json.dumps(doc).encode())
    scrubber = Scrubber(key=b"k" * 32)
    scrubbed_doc, _ = scrub_document(bundles.to_document(original), scrubber)
    text = json.dumps(scrubbed_doc)
    return explain_one(original, None), explain_one(bundles.parse(text.encode()), None), text, scrubber


def _rename_container(doc, name):
    doc["snapshot"]["containers"][0]["name"] = name
    for r in doc["snapshot"]["reach"]:
        r["source"] = r["source"].replace("ndt-seed-5000", name)


@pytest.mark.parametrize("change", [
    lambda d: d["snapshot"]["engine"].update(daemon_name="docker-desktop"),
    lambda d: d["snapshot"]["engine"].update(daemon_name="colima"),
    lambda d: d["snapshot"]["client"].update(hostname="localhost"),
    lambda d: _rename_container(d, "tcp"),
    lambda d: _rename_container(d, "remote"),
    lambda d: d["snapshot"]["engine"].update(context="prod", endpoint="ssh://deploy@build-07:22"),
], ids=["daemon-docker-desktop", "daemon-colima", "client-localhost", "container-tcp", "container-remote",
        "ssh-endpoint"])
def test_scrub_replaces_by_field_meaning_and_keeps_the_diagnosis(change):
    before, after, text, _ = _scrubbed_pair(change)
    assert after.verdict == before.verdict
    assert [(c.code, c.rule) for c in after.causes] == [(c.code, c.rule) for c in before.causes]
    assert [h.status for h in after.path] == [h.status for h in before.path]
    doc = json.loads(text)
    assert doc["snapshot"]["engine"]["location"] == "remote" and doc["snapshot"]["engine"]["vm_kind"] == ""
    assert all(b["protocol"] == "tcp" for c in doc["snapshot"]["containers"] for b in c["published"])
    for name in ("docker-desktop", "colima", "build-07", "deploy", "prod"):
        assert f'"{name}"' not in text and f"{name}@" not in text and f"//{name}" not in text


def test_scrub_reaches_addresses_at_sentence_ends_mapped_v6_and_label_keys():
    s = Scrubber(key=b"k" * 32)
    s.add_name("shop-web-1", "container")
    said = s.text("the daemon at 192.168.59.103. Then ::ffff:10.0.1.7 answered")
    assert "192.168.59.103" not in said and "10.0.1.7" not in said
    mapped = said.split("Then ")[1].split(" ")[0]
    import ipaddress
    assert ipaddress.ip_address(mapped).ipv4_mapped is not None
    assert s.label_key("traefik.http.routers.shop-web-1.rule") == "traefik.http.routers.container-1.rule"


@pytest.mark.parametrize("how", ["same", "symlink", "map-is-input", "map-is-output"])
def test_scrub_never_writes_over_the_original_or_the_mapping(tmp_path, how):
    original = tmp_path / "b.json"
    original.write_bytes(SEED_IP.read_bytes())
    link = tmp_path / "link.json"
    link.symlink_to(original)
    args = {"same": ["-o", str(original)], "symlink": ["-o", str(link)],
            "map-is-input": ["-o", str(tmp_path / "s.json"), "--map", str(original)],
            "map-is-output": ["-o", str(tmp_path / "s.json"), "--map", str(tmp_path / "s.json")]}[how]
    r = invoke("scrub", str(original), *args)
    assert r.exit_code == 2, r.output
    assert original.read_bytes() == SEED_IP.read_bytes()


def _firing_examples():
    from tests.rules.examples import load

    return [c for c in load() if c.kind == "fires"]


@pytest.mark.parametrize("case", _firing_examples(), ids=lambda c: c.id)
def test_every_firing_rule_example_diagnoses_the_same_from_its_scrubbed_bundle(case):
    """Scrubbing replaces names and addresses consistently wherever the rules match them against
    each other (labels naming Swarm and Compose services, task names, a firewall rule's
    interfaces): each cause survives it."""
    from netdiag.bundle import Bundle
    from netdiag.diagnosis import AttemptSpec
    from netdiag.vocab import Origin
    from netdiag.why import explain

    snap, kw, *_ = case.build()
    target = kw.get("target") or snap.containers[0]
    spec = AttemptSpec("" if kw.get("outbound") else target.id, kw.get("port"), kw.get("to", ""),
                       Origin.parse(kw.get("origin", "host")))
    original = Bundle(snap, (spec,), "0", "")
    doc, _ = scrub_document(bundles.to_document(original), Scrubber(key=b"k" * 32))
    scrubbed = bundles.parse(json.dumps(doc).encode())
    before, after = explain(original.snapshot, spec), explain(scrubbed.snapshot, scrubbed.attempts[0])
    assert [(c.code, c.rule) for c in after.causes] == [(c.code, c.rule) for c in before.causes]
    assert after.verdict == before.verdict


def test_scrub_replaces_swarm_service_node_and_task_names():
    from tests.rules.examples import load

    case = next(c for c in load() if c.id.startswith("ND804-fires-this-nodes-input"))
    snap, kw, *_ = case.build()
    from netdiag.bundle import Bundle
    from netdiag.diagnosis import AttemptSpec
    from netdiag.vocab import Origin

    b = Bundle(snap, (AttemptSpec("", None, kw["to"], Origin.parse(kw["origin"])),), "0", "")
    doc, mapping = scrub_document(bundles.to_document(b), Scrubber(key=b"k" * 32))
    text = json.dumps(doc)
    for secret in ('"cart"', '"node1"', '"node2"', "198.18.9.2", "10.77.0.10"):  # IDs are kept
        assert secret not in text, secret
    assert mapping["names"]["cart.1.q2w3"] == mapping["names"]["cart"] + ".1.q2w3"
