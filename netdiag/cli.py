"""netdiag's command line: parse, call, render, exit code. Heavy modules load inside commands."""

from __future__ import annotations

import functools
import json
import sys

import click

from netdiag import __version__
from netdiag.errors import EXIT_CANNOT_DIAGNOSE, BadInput, NetdiagError

MAX_ERROR = 500  # characters of an error line on the terminal; values inside it are quoted shorter still


def _emit_error(err: NetdiagError, as_json: bool) -> None:
    from netdiag.untrusted import one_line

    if as_json:
        from netdiag.render.jsondoc import error_document

        click.echo(json.dumps(error_document(err.code, err.message)))
    line = one_line(err.message)
    click.echo(f"netdiag: {line if len(line) <= MAX_ERROR else line[:MAX_ERROR - 3] + '...'}", err=True)


def command(fn):
    """Turn every error into one line and its documented exit code; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        as_json = bool(kwargs.get("as_json"))
        try:
            return fn(*args, **kwargs)
        except NetdiagError as e:
            _emit_error(e, as_json)
            sys.exit(e.exit_code)
        except KeyboardInterrupt:
            _interrupted()
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as e:  # the last line of defence: one line, exit 3
            from netdiag.facts import SchemaError

            if isinstance(e, SchemaError):  # the daemon answered with a value outside netdiag's vocabulary
                err = BadInput("bad-api-answer", f"the Docker daemon's answer does not fit netdiag's model: {e}")
                _emit_error(err, as_json)
                sys.exit(err.exit_code)
            if type(e).__module__.split(".")[0] in ("requests", "urllib3", "docker"):  # it went away mid-run
                from netdiag.engine_api import resolve_endpoint

                err = NetdiagError("daemon-unreachable", f"the Docker daemon at {resolve_endpoint().url} stopped "
                                                         f"answering: {type(e).__name__}: {str(e)[:200]}")
                _emit_error(err, as_json)
                sys.exit(err.exit_code)
            _emit_error(NetdiagError("internal-error", f"internal error: {type(e).__name__}: {e}"), as_json)
            sys.exit(EXIT_CANNOT_DIAGNOSE)

    return wrapper


def _text(render, record, *args) -> str:
    """Text for the terminal, rendered from the record with every string's control characters made
    visible: names and values from a stranger's bundle cannot drive the engineer's terminal."""
    from netdiag.untrusted import visible_record

    return render(visible_record(record), *args)


def _print(kind: str, view, as_json: bool, text_fn) -> None:
    """An inspection command's view: as text, or as its documented JSON document (docs/schemas/)."""
    if as_json:
        from netdiag.render.jsondoc import dumps, view_document

        click.echo(dumps(view_document(kind, view)))
    else:
        click.echo(_text(text_fn, view))


json_option = click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")


def _complete_containers(ctx, param, incomplete):
    from netdiag.completion import container_names

    return container_names(incomplete)


def _complete_origin(ctx, param, incomplete):
    from netdiag.completion import container_names

    if not incomplete.startswith("container:"):
        return [w for w in ("host", "container:") if w.startswith(incomplete)]
    return [f"container:{n}" for n in container_names(incomplete[len("container:"):])]


def _complete_rules(ctx, param, incomplete):
    from netdiag.completion import rule_names

    return rule_names(incomplete)
helper_option = click.option(
    "--helper", "helper", default="", metavar="IMAGE",
    help="When the daemon is elsewhere: allow short-lived containers from IMAGE (already on the daemon) "
         "to read what the client cannot: a tool-less container's sockets, from its namespace, and the "
         "Docker host's firewall, routes and port holders, from the host's network namespace with its files "
         "read-only, CAP_NET_ADMIN and CAP_SYS_PTRACE (not privileged).")


class AliasedGroup(click.Group):
    ALIASES = {"netstat": "listeners"}

    def get_command(self, ctx, cmd_name):
        return super().get_command(ctx, self.ALIASES.get(cmd_name, cmd_name))

    def resolve_command(self, ctx, args):
        name, cmd, rest = super().resolve_command(ctx, args)
        return cmd.name if cmd else name, cmd, rest


@click.group(cls=AliasedGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="netdiag")
@click.option("-H", "--host", "host", metavar="URL", help="The daemon to ask (unix://, tcp://, ssh://), as docker -H.")
@click.option("--context", "context_name", metavar="NAME", help="The docker context whose daemon to ask.")
@click.option("--project", "project", metavar="NAME",
              help="The Compose project a service name is looked up in (default: this directory's).")
def cli(host, context_name, project):
    """netdiag: why a container does not answer, with the evidence and the fix.

    Containers are named as docker accepts them: a name, a full id or a unique id prefix. The
    daemon is the one docker would use: -H, --context, DOCKER_HOST, DOCKER_CONTEXT, the current
    docker context, the local socket, in that order.
    Exit codes: 0 ok, 1 unreachable, 2 bad input, 3 could not diagnose.
    """
    from netdiag import engine_api, refs

    if project:
        refs.project_on_command_line = project
    if host and context_name:
        raise click.UsageError("give -H or --context, not both")
    if host:
        engine_api.choose("-H", host)
    elif context_name:
        engine_api.choose("--context", context_name)


@cli.command("engine", short_help="Where the Docker daemon runs and how it is reached.")
@json_option
@command
def engine_cmd(as_json):
    """Where the Docker daemon runs (this machine, a VM, another host) and how it is reached."""
    from netdiag.live import Live
    from netdiag.render.text import engine_text

    _print("engine", Live().engine, as_json, engine_text)


@cli.command("port", short_help="Published ports and who holds each host port.")
@click.argument("container", shell_complete=_complete_containers)
@click.argument("port", required=False)
@json_option
@command
def port_cmd(container, port, as_json):
    """Published ports of CONTAINER, and who holds each host port (like docker port, and more)."""
    from netdiag.live import Live
    from netdiag.render.text import port_text
    from netdiag.views import port_view

    number = _port_number(port) if port is not None else None
    live = Live()
    c = live.on_its_network(container)
    _print("port", port_view(c, live.port_holders(), number), as_json, port_text)


@cli.command("ip", short_help="A container's addresses on each network.")
@click.argument("container", shell_complete=_complete_containers)
@json_option
@command
def ip_cmd(container, as_json):
    """CONTAINER's addresses on each network: IPv4, IPv6, gateway, MAC, subnet, aliases."""
    from netdiag.live import Live
    from netdiag.render.text import address_text
    from netdiag.views import AddressView, ContainerRef

    live = Live()
    c = live.on_its_network(container)
    nets = tuple(n for n in live.networks() if n.name in {ep.network for ep in c.endpoints})
    _print("ip", AddressView(ContainerRef.of(c), c.endpoints, nets), as_json, address_text)


@cli.command("ping", short_help="ICMP and TCP to a container or address: who answered.")
@click.argument("target", shell_complete=_complete_containers)
@click.option("--port", "port", help="Also try a TCP connection to this port.")
@json_option
@command
def ping_cmd(target, port, as_json):
    """ICMP and TCP from this machine to TARGET (a container or an address), and who answered.

    For a container: its address on each network, and each published port on the daemon host's
    address. An ICMP error names the router that sent it.
    """
    from netdiag.ping import ping
    from netdiag.render.text import ping_text

    number = _port_number(port) if port is not None else None
    _print("ping", ping(target, number, _is_address(target)), as_json, ping_text)


@cli.command("listeners", short_help="Sockets listening inside a container (alias: netstat).")
@click.argument("container", shell_complete=_complete_containers)
@helper_option
@json_option
@command
def listeners_cmd(container, helper, as_json):
    """Sockets listening inside CONTAINER's namespace, without netstat in the container (alias: netstat)."""
    from netdiag.live import Live
    from netdiag.render.text import listeners_text
    from netdiag.views import ListenerReport

    live = Live(helper=helper)
    c = live.container(container)
    _print("listeners", ListenerReport(c.name, live.listeners(c)), as_json, listeners_text)


@cli.command("subnets", short_help="Docker networks against host routes: overlaps.")
@json_option
@command
def subnets_cmd(as_json):
    """Docker networks against this machine's interfaces and routes: overlaps (VPN, LAN)."""
    from netdiag.live import Live
    from netdiag.render.text import subnets_text
    from netdiag.subnets import overlaps, routes_to_containers
    from netdiag.views import SubnetReport
    from netdiag.vocab import Location

    live = Live()
    nets = live.networks()
    containers = live.containers()
    kernel: tuple = ()
    if sys.platform.startswith("linux"):  # the kernel's own route choice, policy rules and all
        from netdiag.probes.outward import probe_kernel_route

        kernel = tuple(probe_kernel_route(ep.ipv4) for c in containers for ep in c.endpoints if ep.ipv4)
    report = SubnetReport(
        networks=nets,
        client=live.client,
        docker_host=live.docker_host(),
        overlaps=tuple(overlaps(nets, live.client, live.engine.host_address,
                                live.engine.location == Location.CONTAINER)),
        routes=tuple(routes_to_containers(containers, live.client, kernel)),
    )
    _print("subnets", report, as_json, subnets_text)


@cli.command("firewall", short_help="Forwarding and iptables state of the Docker host.")
@helper_option
@json_option
@command
def firewall_cmd(helper, as_json):
    """Forwarding, iptables and nftables state of the Docker host: this machine's, or, with the
    daemon elsewhere and --helper IMAGE, read there by a helper container."""
    from netdiag.live import Live
    from netdiag.render.text import firewall_text

    _print("firewall", Live(helper=helper).firewall(), as_json, firewall_text)


@cli.command("why-unreachable", short_help="Why a container does not answer, or cannot get out: causes, evidence, fix.")
@click.argument("container", metavar="CONTAINER|DESTINATION", shell_complete=_complete_containers)
@click.option("--port", "port", help="The container's TCP port in question (default: every exposed or published "
                                     "one); out of a container, the destination's port (UDP there: ADDR:PORT/udp).")
@click.option("--to", "to", default="", help="What was tried: ADDR[:PORT] (172.17.0.29, 0.0.0.0:5000, web:80).")
@click.option("--from", "origin", default="host", show_default=True, help="host, or container:NAME.",
              shell_complete=_complete_origin)
@click.option("--timeout", "timeout", type=float, default=None, metavar="SECONDS",
              callback=lambda ctx, param, v: _seconds(v),
              help="How long one attempt may wait for an answer (default 1.5).")
@helper_option
@json_option
@command
def why_cmd(container, port, to, origin, helper, timeout, as_json):
    """Why CONTAINER does not answer: the hop where the path breaks, the cause, the evidence and
    the fix with real values; what works instead.

    CONTAINER is a name, an id or an id prefix; or a Compose service (web), or a Swarm service
    (shop, shop.2 for its task in slot 2), whose container on this node is taken.

    With --from container:NAME, a DESTINATION that is not a container on this node is an attempt
    out of that container: ADDR, ADDR:PORT, NAME[:PORT] (resolved as the container resolves it),
    to the Docker host, the LAN, the internet, or a Swarm service whose tasks run on other nodes
    (followed over the overlay).

    Exit 0 reachable, 1 unreachable (the causes say why), 2 bad input, 3 could not diagnose.
    """
    from netdiag.why import why_unreachable

    number = _port_number(port) if port is not None else None
    _check_attempt(to, origin)
    if origin != "host" and not to and any(c in container for c in ":/["):  # no container name has these
        from netdiag.reasoner.outward import destination

        destination(container, number)  # a malformed DESTINATION is bad input before the daemon is asked
    _print_diagnosis(why_unreachable(container, number, to, origin, helper, timeout), as_json)


def _print_diagnosis(diagnosis, as_json: bool) -> None:
    import os

    from netdiag.errors import EXIT_REACHABLE, EXIT_UNREACHABLE
    from netdiag.vocab import Verdict

    if as_json:
        from netdiag.render.jsondoc import diagnosis_document, dumps

        click.echo(dumps(diagnosis_document(diagnosis)))
    else:
        from netdiag.render.diagnosis import render

        colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        click.echo(_text(render, diagnosis, colour))
    sys.exit({Verdict.REACHABLE: EXIT_REACHABLE, Verdict.UNREACHABLE: EXIT_UNREACHABLE}.get(diagnosis.verdict,
                                                                                          EXIT_CANNOT_DIAGNOSE))


@cli.command("collect", short_help="Save every fact to a bundle, to explain offline.")
@click.argument("containers", nargs=-1, shell_complete=_complete_containers)
@click.option("-o", "--output", "output", required=True, help="The bundle file (.json, or .json.gz to compress).")
@click.option("--port", "port", help="The container port in question, as for why-unreachable.")
@click.option("--to", "to", default="", help="The attempt to record, as for why-unreachable.")
@click.option("--from", "origin", default="host", show_default=True, help="host, or container:NAME.",
              shell_complete=_complete_origin)
@helper_option
@command
def collect_cmd(containers, output, port, to, origin, helper):
    """Collect a support bundle: the engine, networks, containers, sockets, routes, firewall, and
    the reach observations of each container's attempt (all containers when none is named).

    Secrets stay on this machine: environment values are never read; passwords, tokens and keys
    in labels and command lines are masked. The raw text each parser read is kept beside the facts.
    """
    from netdiag import bundle as bundles
    from netdiag.why import collect

    number = _port_number(port) if port is not None else None
    _check_attempt(to, origin)
    tty = sys.stderr.isatty()
    if tty:
        click.echo("netdiag: collecting facts and probing...", err=True, nl=False)
    b = collect(list(containers), number, to, origin, helper)
    try:
        bundles.write(b, output)
    except OSError as e:
        raise BadInput("bad-argument", f"cannot write {output}: {e.strerror or e}")
    if tty:
        click.echo("\r" + " " * 40 + "\r", err=True, nl=False)
    click.echo(f"{output}: {len(b.snapshot.containers)} containers, {len(b.snapshot.networks)} networks, "
               f"{len(b.snapshot.reach)} reach observations; explain it with: netdiag explain {output}")


@cli.command("explain", short_help="why-unreachable offline, from bundles.")
@click.argument("path")
@click.argument("container", required=False, shell_complete=_complete_containers)
@click.option("--port", "port", help="The container port in question.")
@click.option("--to", "to", default="", help="The attempt to explain: ADDR[:PORT].")
@click.option("--from", "origin", default=None, help="host, or container:NAME.", shell_complete=_complete_origin)
@json_option
@command
def explain_cmd(path, container, port, to, origin, as_json):
    """The same engine and output as why-unreachable, over a bundle's recorded facts. Without
    CONTAINER, the bundle's one recorded attempt; given a folder, a summary table per bundle."""
    import os

    from netdiag import offline
    from netdiag.bundle import load

    number = _port_number(port) if port is not None else None
    if os.path.isdir(path):
        given = [f for f, v in (("CONTAINER", container), ("--port", port), ("--to", to), ("--from", origin)) if v]
        if given:
            raise BadInput("bad-argument", f"{', '.join(given)} cannot apply to a folder of bundles: "
                                           "name one bundle to explain another attempt")
        rows = offline.summary(offline.bundle_files(path))
        _print_summary(rows, as_json)
        return
    b = load(path)
    if container is None and len(b.attempts) > 1 and number is None and not to and origin is None:
        _print_summary(offline.summary([path]), as_json)
        return
    _print_diagnosis(offline.explain_one(b, container, number, to, origin), as_json)


def _print_summary(rows, as_json: bool) -> None:
    from netdiag.render.jsondoc import dumps, summary_document
    from netdiag.render.text import summary_text
    from netdiag.results import exit_code

    click.echo(dumps(summary_document(rows)) if as_json else _text(summary_text, rows))
    if any(r.error for r in rows):
        sys.exit(BadInput.exit_code)
    sys.exit(exit_code(r.verdict for r in rows) if rows else EXIT_CANNOT_DIAGNOSE)


@cli.command("scrub", short_help="Obfuscate a bundle's addresses and names, consistently.")
@click.argument("path")
@click.option("-o", "--output", "output", required=True, help="The scrubbed bundle.")
@click.option("--map", "map_path", help="Where the mapping goes (default: OUTPUT with .map.json).")
@command
def scrub_cmd(path, output, map_path):
    """Replace IPs, MACs, host names and container/network names in bundle PATH, keeping subnet
    membership and address class, so the scrubbed bundle diagnoses the same. The mapping is
    written to a separate file: keep it, do not send it."""
    import os

    from netdiag import bundle as bundles
    from netdiag.scrub import scrub_document

    map_path = map_path or (output[:-3] if output.endswith(".gz") else output).removesuffix(".json") + ".map.json"
    where = {"the original": os.path.realpath(path), "the scrubbed bundle": os.path.realpath(output),
             "the mapping": os.path.realpath(map_path)}  # links resolved: a symlink to the original is the original
    if len(set(where.values())) < 3:
        same = [k for k, v in where.items() if list(where.values()).count(v) > 1]
        raise BadInput("bad-argument", f"{' and '.join(same)} would be one file: give each its own path")
    original = bundles.load(path)
    doc, mapping = scrub_document(bundles.to_document(original))
    scrubbed = bundles.parse(json.dumps(doc).encode(), output)
    try:
        bundles.write(scrubbed, output)
        with open(map_path, "w", encoding="utf-8") as f:
            json.dump(mapping, f, indent=1)
    except OSError as e:
        raise BadInput("bad-argument", f"cannot write: {e.strerror or e}")
    click.echo(f"{output}: scrubbed ({len(mapping['addresses'])} addresses, {len(mapping['names'])} names); "
               f"the mapping is in {map_path}: keep it on this machine")


@cli.command("report", short_help="A ticket-ready Markdown or HTML report of a bundle.")
@click.argument("path")
@click.option("-o", "--output", "output", required=True, help="report.md, or report.html (one self-contained file).")
@command
def report_cmd(path, output):
    """Each recorded container of bundle PATH: verdict, causes, evidence, fixes and the path; the
    HTML also draws the topology (client, VM or host, networks, containers, published ports)
    with the failing hop marked."""
    import os

    from netdiag.bundle import load
    from netdiag.render.report import html_report, markdown
    from netdiag.why import explain

    if not output.endswith((".md", ".html", ".htm")):
        raise BadInput("bad-argument", f"{output}: the report's name must end in .md or .html")
    b = load(path)
    diagnoses = [explain(b.snapshot, spec) for spec in b.attempts]
    render = html_report if output.endswith((".html", ".htm")) else markdown
    try:
        with open(output, "w", encoding="utf-8") as f:
            f.write(render(b.snapshot, diagnoses, os.path.basename(path)))
    except OSError as e:
        raise BadInput("bad-argument", f"cannot write {output}: {e.strerror or e}")
    click.echo(f"{output}: {len(diagnoses)} containers reported")


@cli.command("check", short_help="CI preflight: check netdiag.yml's expectations.")
@click.option("-f", "--file", "path", default="netdiag.yml", show_default=True, help="The expectations file.")
@click.option("--wait", "wait", type=float, default=0, help="Retry with backoff for up to SECONDS until all hold.")
@click.option("--junit", "junit_path", help="Also write JUnit XML here (one test case per expectation).")
@json_option
@command
def check_cmd(path, wait, junit_path, as_json):
    """Check the expectations of a netdiag.yml (schema: docs/netdiag.schema.json) against the
    engine. A failing expectation carries the full why-unreachable diagnosis. On GitHub Actions,
    annotations are printed (GITHUB_ACTIONS) and a summary table is added to the job's page
    (GITHUB_STEP_SUMMARY). --junit is written whatever happens: on a bad file or an unreachable
    daemon it holds one failed test case naming the error.

    Exit 0 all hold, 1 some fail, 2 bad file or arguments, 3 could not check.
    """
    import os

    from netdiag import check
    from netdiag.checkfile import parse
    from netdiag.render import ci
    from netdiag.results import exit_code

    def report(results=None, error=None) -> None:
        """The files CI reads, written even when the check could not run."""
        if junit_path:
            try:
                with open(junit_path, "w", encoding="utf-8") as f:
                    f.write(ci.junit(results, path) if error is None else ci.junit_error(error, path))
            except OSError as e:
                raise BadInput("bad-argument", f"cannot write {junit_path}: {e.strerror or e}")
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            try:
                with open(summary, "a", encoding="utf-8") as f:
                    f.write(ci.step_summary(results, path) if error is None else ci.step_summary_error(error, path))
            except OSError as e:
                click.echo(f"netdiag: cannot write the step summary {summary}: {e.strerror or e}", err=True)

    try:
        if wait < 0 or wait != wait or wait == float("inf"):
            raise BadInput("bad-argument", "--wait takes a finite number of seconds, 0 or more")
        from netdiag.checkfile import MAX_BYTES
        from netdiag.untrusted import Unusable, read_regular

        try:
            text = read_regular(path, MAX_BYTES).decode("utf-8")
        except Unusable as e:
            raise BadInput("bad-check-file", f"{path}: {e}")
        except UnicodeDecodeError:
            raise BadInput("bad-check-file", f"{path}:1: not UTF-8 text")
        expectations = parse(text, path)
        if wait:
            results = check.wait_for(expectations, wait, say=lambda line: click.echo(line, err=True))
        else:
            results = check.evaluate(expectations)
    except NetdiagError as e:
        report(error=e)
        raise
    except Exception as e:  # a bug: CI still gets its report, and the error line follows
        report(error=NetdiagError("internal-error", f"internal error: {type(e).__name__}: {e}"))
        raise
    report(results)
    if as_json:
        from netdiag.render.jsondoc import check_document, dumps

        click.echo(dumps(check_document(results, path)))
    else:
        click.echo(_text(ci.check_text, results))
    if os.environ.get("GITHUB_ACTIONS"):
        for line in ci.github_annotations(results, path):
            click.echo(line)
    sys.exit(exit_code(r.status for r in results))


@cli.command("doctor", short_help="Every container and network through every rule.")
@click.option("--outbound", "outbound", default="", metavar="DEST",
              help="Also try DEST (ADDR[:PORT], NAME[:PORT]) from inside every running container.")
@click.option("-H", "--host", "hosts", multiple=True, metavar="URL",
              help="A daemon to check (repeat it for several, checked at once).")
@click.option("--context", "contexts", multiple=True, metavar="NAME", help="A docker context to check (repeatable).")
@click.option("--all-contexts", "all_contexts", is_flag=True, help="Every docker context (docker context ls).")
@json_option
@command
def doctor_cmd(outbound, hosts, contexts, all_contexts, as_json):
    """Check every container on the engine against every rule, concurrently, and every network
    against the host's routes: a summary table (container, ports, verdict, causes). With
    --outbound DEST, every running container's attempt out to DEST too. With -H or --context
    repeated, or --all-contexts, several daemons at once, a row naming its daemon; a daemon that
    does not answer is a row of its own.

    Exit 0 nothing broken, 1 some container unreachable, 3 some could not be checked.
    """
    from netdiag.check import doctor, fleet_doctor
    from netdiag.results import exit_code

    tty = sys.stderr.isatty() and not as_json

    def progress(done, total):
        click.echo(f"\rnetdiag: checked {done}/{total} containers", err=True, nl=done == total)

    if outbound:
        from netdiag.reasoner.outward import destination

        destination(outbound, None, "--outbound")  # bad input before the daemon is asked
    daemons = [("-H", h) for h in hosts] + [("--context", c) for c in contexts]
    if all_contexts:
        from netdiag.engine_api import context_names

        daemons += [("--context", c) for c in context_names() if ("--context", c) not in daemons]
    if daemons:
        report = fleet_doctor(list(dict.fromkeys(daemons)), outbound)
    else:
        report = doctor(progress if tty else None, outbound)
    if as_json:
        from netdiag.render.jsondoc import doctor_document, dumps

        click.echo(dumps(doctor_document(report)))
    else:
        from netdiag.render.text import doctor_text

        click.echo(_text(doctor_text, report))
    sys.exit(exit_code(r.verdict for r in report.rows + report.outbound))


@cli.command("rules", short_help="The rule catalog, or one rule explained.")
@click.argument("rule_id", required=False, shell_complete=_complete_rules)
@json_option
@command
def rules_cmd(rule_id, as_json):
    """Every rule with its ID and cause code; `netdiag rules ND302` explains one, `netdiag rules
    wrong-address` every rule of a cause code."""
    from netdiag.render.diagnosis import rule_text
    from netdiag.rules import load_rules

    catalog = load_rules()
    if rule_id:
        chosen = [catalog[rule_id.upper()]] if rule_id.upper() in catalog else [
            r for r in catalog.values() if r.code == rule_id]
        if not chosen:
            raise BadInput("bad-argument", f"no rule or cause code {rule_id!r}: `netdiag rules` lists them")
    else:
        chosen = list(catalog.values())
    if as_json:
        from netdiag.render.jsondoc import dumps, rules_document

        click.echo(dumps(rules_document(chosen)))
    elif rule_id:
        click.echo("\n\n".join(rule_text(r) for r in chosen))
    else:
        from tabulate import tabulate

        click.echo(tabulate([(r.id, r.code, r.title) for r in chosen], headers=["rule", "code", "detects"],
                            tablefmt="plain"))


def _port_number(text: str) -> int:
    """--port N (or N/tcp), ASCII digits only. A UDP port (N/udp) is refused with the way that
    does diagnose UDP, never taken for the TCP port of the same number."""
    from netdiag.untrusted import Unusable, port, quote

    number, slash, protocol = str(text).partition("/")
    if slash and protocol.lower() != "tcp":
        raise BadInput("bad-argument", f"--port {quote(text)}: netdiag diagnoses TCP ports into a container; UDP "
                                       "only out of one, written on the destination (--from container:NAME "
                                       "ADDR:PORT/udp)")
    try:
        return port(number)
    except Unusable as e:
        raise BadInput("bad-argument", str(e))


def _seconds(value: float | None) -> float | None:
    if value is not None and not (0 < value <= 60):  # nan and inf fail this too
        raise click.BadParameter(f"{value}: give a number of seconds above 0, at most 60")
    return value


def _check_attempt(to: str, origin: str) -> None:
    """--to and --from are checked before any daemon is contacted."""
    from netdiag.reasoner import parse_origin, parse_to

    if to:
        parse_to(to)
    parse_origin(origin)


def _is_address(text: str) -> bool:
    from netdiag.addr import is_ip

    return is_ip(text)


def _interrupted() -> None:
    """Ctrl-C or SIGTERM: remove what this run started (a helper container), then leave at once,
    without waiting for probes still in flight."""
    import os

    click.echo("netdiag: interrupted", err=True)
    helper = sys.modules.get("netdiag.probes.helper")
    if helper is not None:
        helper.remove_helpers()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(130)


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None):
    """The console script: click's own usage errors become one line (and JSON with --json), exit 2."""
    import signal

    signal.signal(signal.SIGTERM, _terminate)  # SIGTERM cleans up as Ctrl-C does
    argv = sys.argv[1:] if argv is None else argv
    try:
        code = cli.main(args=argv, prog_name="netdiag", standalone_mode=False)
    except click.exceptions.UsageError as e:
        where = e.ctx.command_path if e.ctx is not None else "netdiag"
        _emit_error(BadInput("bad-argument", f"{e.format_message()} (see: {where} --help)"), "--json" in argv)
        sys.exit(2)
    except (click.exceptions.Abort, KeyboardInterrupt):
        _interrupted()
    except NetdiagError as e:  # raised while click parsed the arguments, before a command's own guard
        _emit_error(e, "--json" in argv)
        sys.exit(e.exit_code)
    except click.ClickException as e:
        _emit_error(BadInput("bad-argument", e.format_message()), "--json" in argv)
        sys.exit(e.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
