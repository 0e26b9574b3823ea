"""netdiag's benchmarks, side by side with their baselines, in one run on the real engine.

    sudo ./scripts/bench [--runs 7] [--sizes 50,100,200,500]

Each figure is the median of several runs, and a ratio to its baseline measured in the same run.
Peak memory is the child's maximum RSS (wait4). Everything it makes carries the lab's label and
is removed at the end. Results go to stdout and bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from examples import lab

ROOT = lab.ROOT
PY = sys.executable


def timed(argv: list[str], env=None, ns: str | None = None) -> tuple[float, int, int]:
    """(seconds, peak RSS in MiB, exit code) of one run."""
    if ns:
        argv = ["ip", "netns", "exec", ns, *argv]
    start = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    _, status, usage = os.wait4(p.pid, 0)
    elapsed = time.perf_counter() - start
    p.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss // 1024, p.returncode


def median(argv, runs, env=None, ns=None, expect=None) -> dict:
    samples = [timed(argv, env, ns) for _ in range(runs)]
    codes = {c for _, _, c in samples}
    if expect is not None and codes != {expect}:
        raise SystemExit(f"{' '.join(argv)} exited {codes}, expected {expect}")
    return {"median_s": round(statistics.median(s for s, _, _ in samples), 4),
            "peak_rss_mib": max(r for _, r, _ in samples), "runs": runs}


def netdiag_argv(*args: str) -> list[str]:
    return [PY, "-m", "netdiag", *args]


def env_for(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update(extra)
    return env


def start_many(n: int, prefix: str) -> None:
    """n containers, most healthy, every tenth with nothing listening on its published port."""
    names = [f"{prefix}{i}" for i in range(n)]
    procs = []
    for i, name in enumerate(names):
        port = "5000" if i % 10 == 9 else "80"
        procs.append(subprocess.Popen(["docker", "run", "-d", "--name", name, "--label", lab.LABEL, "--dns",
                                       "127.0.0.1", "-p", port, lab.IMAGE, "httpd", "-f", "-p", "80", "-h", "/www"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        if len(procs) >= 8:
            procs.pop(0).wait()
    for p in procs:
        p.wait()


def outbound(runs: int) -> dict:
    """8. Out of a container, in the lab's internet: healthy by name, a loopback resolver, a network
    without masquerade (the attempt times out), and the MTU black hole (its proof takes longest),
    beside the manual sequence (resolv.conf, nslookup, ping, nc through docker exec)."""
    out: dict = {}
    lab.make_internet()
    lab.run("ndt-bench-out", "--dns", lab.FAR_DNS, cmd=("sleep", "3600"))
    lab.run("ndt-bench-lo", "--dns", "127.0.0.53", cmd=("sleep", "3600"))
    lab.network("ndt-bench-nomasq", "--subnet", "10.85.0.0/24", "-o",
                "com.docker.network.bridge.enable_ip_masquerade=false")
    lab.run("ndt-bench-nm", "--network", "ndt-bench-nomasq", cmd=("sleep", "3600"))
    base = median(["bash", "bench/manual-outbound.sh", "ndt-bench-out", lab.LAB_NAME, "80"], runs)
    cases = {"8a_healthy_by_name": (f"{lab.LAB_NAME}:80", "ndt-bench-out", 0),
             "8b_loopback_resolver": (f"{lab.LAB_NAME}:80", "ndt-bench-lo", 1),
             "8c_no_masquerade": (f"{lab.FAR_WEB}:80", "ndt-bench-nm", 1),
             "8d_mtu_blackhole": (f"{lab.OFFICE_WEB}:80", "ndt-bench-out", 1)}
    for case, (dest, source, code) in cases.items():
        ours = median(netdiag_argv("why-unreachable", dest, "--from", f"container:{source}"), runs, env_for(),
                      expect=code)
        out[case] = {"netdiag": ours, "manual": base, "ratio": round(ours["median_s"] / base["median_s"], 2)}
    return out


def fleet(runs: int) -> dict:
    """9. doctor over the lab's two daemons at once (the second over TLS), against each alone: the
    fleet should take about as long as the slower one, not the sum."""
    lab.make_second_host()
    try:
        for i in range(5):
            lab.run(f"ndt-bench-f{i}", "-p", "80", cmd=("httpd", "-f", "-p", "80", "-h", "/www"))
            lab.host2("run", "-d", "--name", f"ndt-bench-g{i}", "--label", lab.LABEL, "--dns", "127.0.0.1", "-p", "80",
                      lab.IMAGE, "httpd", "-f", "-p", "80", "-h", "/www")
        tls = env_for(**{k: v for k, v in lab.host2_env().items() if k != "DOCKER_HOST"})
        local = median(netdiag_argv("doctor", "-H", "unix:///var/run/docker.sock", "--json"), runs, tls)
        second = median(netdiag_argv("doctor", "-H", lab.HOST2_TCP, "--json"), runs, tls)
        both = median(netdiag_argv("doctor", "-H", "unix:///var/run/docker.sock", "-H", lab.HOST2_TCP, "--json"), runs,
                      tls)
        slower = max(local["median_s"], second["median_s"])
        return {"9_fleet": {"local alone": local, "second host alone": second, "both at once": both,
                            "ratio_to_the_slower": round(both["median_s"] / slower, 2)}}
    finally:
        lab.remove_second_host()


UPSTREAM = "198.18.79.1"  # the swarm case's resolver behind Docker's embedded DNS


def swarm(runs: int) -> dict:
    """10. a container on the manager to a service on the worker of the lab's two-node swarm, by
    name over an overlay: 10a healthy (dnsrr), 10b a virtual IP without IPVS, 10c gossip and VXLAN
    filtered on the worker (the name gone, the worker's gossip port tried). Target: under 2 s."""
    httpd = ("httpd", "-f", "-p", "80", "-h", "/www")
    on_worker = ("--constraint", "node.labels.netdiag-lab==host2")
    filters = [f"-s {lab.HOST2_LINK_IP} -p {p} --dport {port} -j DROP"
               for p, port in (("tcp", 7946), ("udp", 7946), ("udp", 4789))]
    lab.make_second_host()
    lab.guard_overlay()
    # the client's upstream resolver, as a real one answers a name it does not know at once (REFUSED):
    # dnsmasq on a lab address of this namespace
    lab.sh("ip", "link", "add", "ndt-dns0", "type", "veth", "peer", "name", "ndt-dns1")
    lab.sh("ip", "addr", "add", f"{UPSTREAM}/32", "dev", "ndt-dns0")
    lab.sh("ip", "link", "set", "ndt-dns0", "up")
    dnsmasq = subprocess.Popen(["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                                "--no-poll", f"--listen-address={UPSTREAM}", "--bind-interfaces", "--port=53",
                                "--user=root", "--pid-file="], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        lab.make_swarm(lab.HOST2_LINK_IP)
        lab.join_swarm()
        lab.docker("network", "create", "-d", "overlay", "--attachable", "--subnet", lab.OVERLAY_SUBNET, "--label",
                   lab.LABEL, "ndt-bench-ov")
        lab.service("ndt-bench-rr", "--endpoint-mode", "dnsrr", "--network", "ndt-bench-ov", *on_worker, cmd=httpd)
        lab.service("ndt-bench-vip", "--network", "ndt-bench-ov", *on_worker, cmd=httpd)
        lab.run("ndt-bench-ovcli", "--network", "ndt-bench-ov", "--dns", UPSTREAM, cmd=("sleep", "3600"))
        time.sleep(3)
        out = {"10a_healthy_by_name": median(netdiag_argv("why-unreachable", "ndt-bench-rr:80", "--from",
                                                          "container:ndt-bench-ovcli"), runs, env_for(), expect=0),
               "10b_vip_without_ipvs": median(netdiag_argv("why-unreachable", "ndt-bench-vip:80", "--from",
                                                           "container:ndt-bench-ovcli"), runs, env_for(), expect=1)}
        for f in filters:
            lab.sh("ip", "netns", "exec", lab.HOST2, "iptables", "-A", "INPUT", *f.split())
        time.sleep(15)  # until the manager's gossip has lost the worker
        out["10c_gossip_filtered_on_the_worker"] = median(netdiag_argv(
            "why-unreachable", "ndt-bench-rr:80", "--from", "container:ndt-bench-ovcli"), runs, env_for(), expect=1)
        return {"10_swarm_two_nodes": out}
    finally:
        lab.sh("docker", "rm", "-f", "ndt-bench-ovcli", check=False)
        lab.sh("docker", "service", "rm", "ndt-bench-rr", "ndt-bench-vip", check=False)
        lab.leave_swarm()
        lab.remove_swarm()
        lab.remove_second_host()
        dnsmasq.terminate()
        dnsmasq.wait()
        lab.sh("ip", "link", "del", "ndt-dns0", check=False)


def doctor_case(runs: int, sizes_text: str) -> dict:
    """3. doctor over growing numbers of containers, against a shell loop of inspect + port."""
    doctor: dict = {}
    started = 0
    for size in (int(s) for s in sizes_text.split(",")):
        start_many(size - started, f"ndt-bench-{started}-")
        started = size
        time.sleep(2)
        ours = median(netdiag_argv("doctor", "--json"), max(3, runs // 2), env_for())
        base = median(["bash", "bench/shell-loop.sh"], max(3, runs // 2))
        doctor[size] = {"netdiag": ours, "shell_loop": base, "ratio": round(ours["median_s"] / base["median_s"], 2)}
    sizes = sorted(k for k in doctor if isinstance(k, int))
    if len(sizes) > 1:
        growth = (doctor[sizes[-1]]["netdiag"]["median_s"] - doctor[sizes[0]]["netdiag"]["median_s"]) / (
            sizes[-1] - sizes[0])
        doctor["ms_per_container"] = round(growth * 1000, 2)
    return {"3_doctor": doctor}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--sizes", default="50,100,200,500")
    ap.add_argument("--only", choices=("outbound", "fleet", "doctor", "swarm"), help="run one group of cases only")
    args = ap.parse_args()
    runs = args.runs
    results: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "kernel": platform.release(),
                                 "engine": lab.docker("version", "--format", "{{.Server.Version}}")}}
    lab.cleanup()
    if args.only:
        try:
            case = {"outbound": lambda: outbound(runs), "fleet": lambda: fleet(runs),
                    "doctor": lambda: doctor_case(runs, args.sizes), "swarm": lambda: swarm(runs)}[args.only]
            results.update(case())
        finally:
            lab.cleanup()
        print(json.dumps(results, indent=2))
        return 0
    try:
        results.update(outbound(runs))
        results.update(fleet(runs))
        results.update(swarm(runs))
        lab.make_laptop()
        lab.run("ndt-bench-web", "-p", "80", image=lab.WEBAPP, cmd=("httpd", "-f", "-p", "80", "-h", "/www"))
        lab.wait_listening("ndt-bench-web", 80)
        ip = lab.docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "ndt-bench-web")
        manual = ["bash", "bench/manual-sequence.sh", "ndt-bench-web"]

        # 1. a healthy published container, on the Docker host
        base = median(manual, runs)
        ours = median(netdiag_argv("why-unreachable", "ndt-bench-web"), runs, env_for(), expect=0)
        results["1_healthy"] = {"netdiag": ours, "manual": base, "ratio": round(ours["median_s"] / base["median_s"], 2)}

        # 2. the seed's unreachable case, from the laptop (daemon "remote" at 192.168.59.103): the
        # ISP's router answering (Linux rate-limits its errors: most runs after the first meet
        # silence), rate-limited to one error a minute, and dropping its errors altogether
        laptop = env_for(DOCKER_HOST=lab.DOCKER_TCP)
        base = median(manual, runs, laptop, lab.LAPTOP)
        seed_ip = netdiag_argv("why-unreachable", "ndt-bench-web", "--to", ip)
        results["2_laptop_unreachable"] = {"netdiag": median(seed_ip, runs, laptop, lab.LAPTOP, expect=1),
                                           "manual": base}
        isp = ["ip", "netns", "exec", lab.ISP]
        saved = lab.sh(*isp, "sysctl", "-n", "net.ipv4.icmp_ratelimit").stdout.strip()
        lab.sh(*isp, "sysctl", "-qw", "net.ipv4.icmp_ratelimit=60000")
        results["2b_router_rate_limited"] = {"netdiag": median(seed_ip, runs, laptop, lab.LAPTOP, expect=1)}
        lab.sh(*isp, "sysctl", "-qw", f"net.ipv4.icmp_ratelimit={saved}")
        lab.sh(*isp, "iptables", "-A", "OUTPUT", "-p", "icmp", "-j", "DROP")
        results["2c_router_drops"] = {"netdiag": median(seed_ip, runs, laptop, lab.LAPTOP, expect=1)}
        lab.sh(*isp, "iptables", "-D", "OUTPUT", "-p", "icmp", "-j", "DROP")
        for case in ("2_laptop_unreachable", "2b_router_rate_limited", "2c_router_drops"):
            results[case]["ratio"] = round(results[case]["netdiag"]["median_s"] / base["median_s"], 2)

        # 2d. healthy from the laptop, the container's address routed via the Docker host
        lab.laptop("ip", "route", "add", "172.17.0.0/16", "via", lab.VM_IP)
        try:
            results["2d_laptop_healthy_routed"] = {"netdiag": median(
                netdiag_argv("why-unreachable", "ndt-bench-web", "--to", f"{ip}:80"), runs, laptop, lab.LAPTOP,
                expect=0)}
        finally:
            lab.laptop("ip", "route", "del", "172.17.0.0/16", check=False)

        # 7. --helper: a container without cat, read from the laptop through a helper container
        lab.run("ndt-bench-bare", image=lab.BARE, cmd=("httpd", "-f", "-p", "8080", "-h", "/www"))
        without = median(netdiag_argv("listeners", "ndt-bench-bare"), runs, laptop, lab.LAPTOP)
        helper = median(netdiag_argv("listeners", "ndt-bench-bare", "--helper", lab.IMAGE), runs, laptop,
                        lab.LAPTOP, expect=0)
        results["7_helper"] = {"without (sockets unknown)": without, "with --helper": helper,
                               "overhead_s": round(helper["median_s"] - without["median_s"], 3)}

        # 5. start-up
        results["5_startup"] = {"netdiag --version": median(netdiag_argv("--version"), runs),
                                "python -c pass": median([PY, "-c", "pass"], runs)}

        # 4. explain over a folder of bundles
        with tempfile.TemporaryDirectory() as folder:
            sources = sorted(os.listdir(os.path.join(ROOT, "examples", "bundles")))
            count = 600
            for i in range(count):
                name = sources[i % len(sources)]
                shutil.copy(os.path.join(ROOT, "examples", "bundles", name), os.path.join(folder, f"{i:04d}-{name}"))
            m = median(netdiag_argv("explain", folder, "--json"), max(3, runs // 2))
            results["4_explain"] = {"bundles": count, **m, "bundles_per_s": round(count / m["median_s"])}

        lab.sh("docker", "rm", "-f", "ndt-bench-web")
        results.update(doctor_case(runs, args.sizes))
    finally:
        lab.cleanup()
    text = json.dumps(results, indent=2)
    print(text)
    with open(os.path.join(ROOT, "bench", "results.json"), "w") as f:
        f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
