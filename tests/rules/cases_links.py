"""Examples of netdiag/rules/links.py: container to container."""

from __future__ import annotations

import dataclasses

from netdiag.facts import Chain, Endpoint, Outcome
from netdiag.vocab import ReachResult
from tests.builders import APP_NET, BRIDGE, ON_APP, OTHER_NET, chain, client, firewall, local, tcp, web
from tests.rules.examples import args, fires, quiet, unknown

FROM_CLIENT = dict(origin="container:client")


@fires("ND601", "disjoint-networks")
def _():
    return (local(web(**ON_APP), client("other", "172.19.0.2"), networks=(BRIDGE, APP_NET, OTHER_NET)),
            args(to="web:80", **FROM_CLIENT),
            lambda c: c.evidence == ("client is on: other", "web is on: app")
            and c.fix == ("docker network connect app client, then use web:80",))


@quiet("ND601", "shared-user-network")
def _():
    return local(web(**ON_APP), client("app", "172.18.0.9"), networks=(BRIDGE, APP_NET),
                 reach=(tcp("172.18.0.5", 80, ReachResult.ANSWERED, origin="container:client"),)), \
        args(to="web:80", **FROM_CLIENT), lambda d: d.works == ("172.18.0.5:80",)


@quiet("ND601", "source-in-host-mode")
def _():
    src = dataclasses.replace(client("other", "172.19.0.2"), network_mode="host", endpoints=())
    return local(web(**ON_APP), src, networks=(BRIDGE, APP_NET, OTHER_NET)), args(to="172.18.0.5:80", **FROM_CLIENT)


@unknown("ND601", "networks-not-read")
def _():
    snap = local(web(**ON_APP), client("other", "172.19.0.2"), networks=(BRIDGE, APP_NET, OTHER_NET))
    return dataclasses.replace(snap, networks=(), networks_outcome=Outcome.failed("API error 500")), \
        args(to="172.18.0.5:80", **FROM_CLIENT)


@fires("ND602", "name-on-default-bridge")
def _():
    return (local(web(), client("bridge", "172.17.0.3")), args(to="web:80", **FROM_CLIENT),
            lambda c: c.fix[-1] == "or use the address for now: 172.17.0.29:80")


@quiet("ND602", "address-on-default-bridge")
def _():
    return local(web(), client("bridge", "172.17.0.3"),
                 reach=(tcp("172.17.0.29", 80, ReachResult.ANSWERED, origin="container:client"),)), \
        args(to="172.17.0.29:80", **FROM_CLIENT)


@quiet("ND602", "name-on-user-network")
def _():
    return local(web(**ON_APP), client("app", "172.18.0.9"), networks=(BRIDGE, APP_NET)), \
        args(to="web:80", **FROM_CLIENT)


@unknown("ND602", "networks-not-read")
def _():
    snap = local(web(), client("bridge", "172.17.0.3"))
    return dataclasses.replace(snap, networks=(), networks_outcome=Outcome.failed("API error 500")), \
        args(to="web:80", **FROM_CLIENT)


def _on_app(name: str, cid: str, ip: str, aliases: tuple[str, ...], labels: dict | None = None):
    return dataclasses.replace(web(), id=cid * 64, name=name, labels=labels or {}, published=(), requested=(),
                               endpoints=(Endpoint("app", "n-app", ip, 16, aliases=aliases),))


TWO_DBS = (_on_app("shop-db-1", "d", "172.18.0.5", ("db",)), _on_app("blog-db-1", "e", "172.18.0.6", ("db",)),
           client("app", "172.18.0.9"))


@fires("ND603", "two-projects-one-alias")
def _():
    return (local(*TWO_DBS, networks=(BRIDGE, APP_NET)), args(to="db:80", **FROM_CLIENT),
            lambda c: c.summary == "db on network app is 2 containers: shop-db-1, blog-db-1"
            and c.fix[0].startswith("give each its own alias, e.g. docker network disconnect app blog-db-1"))


@quiet("ND603", "one-container")
def _():
    return local(TWO_DBS[0], TWO_DBS[2], networks=(BRIDGE, APP_NET)), args(to="db:80", **FROM_CLIENT)


@quiet("ND603", "replicas-of-one-service")
def _():
    labels = {"com.docker.compose.project": "shop", "com.docker.compose.service": "db"}
    replicas = (_on_app("shop-db-1", "d", "172.18.0.5", ("db",), labels),
                _on_app("shop-db-2", "e", "172.18.0.6", ("db",), labels), client("app", "172.18.0.9"))
    return local(*replicas, networks=(BRIDGE, APP_NET)), args(to="db:80", **FROM_CLIENT)


@unknown("ND603", "networks-not-read")
def _():
    snap = local(*TWO_DBS, networks=(BRIDGE, APP_NET))
    return dataclasses.replace(snap, networks=(), networks_outcome=Outcome.failed("API error 500")), \
        args(to="db:80", **FROM_CLIENT)


@fires("ND601", "two-compose-projects")
def _():
    from netdiag.vocab import PROJECT_LABEL, SERVICE_LABEL

    target = dataclasses.replace(web(**ON_APP), labels={PROJECT_LABEL: "shop", SERVICE_LABEL: "web"})
    src = dataclasses.replace(client("other", "172.19.0.2"), labels={PROJECT_LABEL: "blog", SERVICE_LABEL: "worker"})
    return (local(target, src, networks=(BRIDGE, APP_NET, OTHER_NET)), args(to="web:80", **FROM_CLIENT),
            lambda c: c.fix[0] == "in project blog's compose file: under services: worker: networks: [default, app], "
                                  "and at the top: networks: app: external: true; then use web:80"
            and c.fix[1] == "or for now: docker network connect app client, then use web:80")


def host_network_client():
    """The client as a Compose service with network_mode: host: on no Docker network."""
    c = client("bridge", "172.17.0.3")
    return dataclasses.replace(c, network_mode="host", endpoints=(Endpoint("host", "n-host"),),
                               labels={"com.docker.compose.project": "shop", "com.docker.compose.service": "worker"})


@fires("ND604", "a-name-from-the-host-network")
def _():
    answered = (tcp("172.18.0.5", 80, ReachResult.ANSWERED, origin="container:client"),)
    return (local(web(**ON_APP), host_network_client(), networks=(BRIDGE, APP_NET), reach=answered),
            args(to="web:80", **FROM_CLIENT),
            lambda c: c.summary == "web does not resolve in client: a container in the host's network is on no "
                                   "Docker network"
            and c.evidence[0] == "client uses the host's network (network_mode: host in its Compose service "
                                 "worker): it is on no Docker network"
            and c.fix == ("use the address: 172.18.0.5:80", "or remove network_mode: host from worker so that it "
                                                            "joins the project's network, then use web:80"))


@quiet("ND604", "an-address-from-the-host-network")
def _():
    answered = (tcp("172.18.0.5", 80, ReachResult.ANSWERED, origin="container:client"),)
    return local(web(**ON_APP), host_network_client(), networks=(BRIDGE, APP_NET), reach=answered), \
        args(to="172.18.0.5:80", **FROM_CLIENT)


@unknown("ND604", "networks-not-read")
def _():
    snap = local(web(**ON_APP), host_network_client(), networks=(BRIDGE, APP_NET))
    return dataclasses.replace(snap, networks=(), networks_outcome=Outcome.failed("API error 500")), \
        args(to="web:80", **FROM_CLIENT)


# --- ND605 a drop within one bridge ---------------------------------------------------------------

APP_ICC_OFF = dataclasses.replace(APP_NET, options={"com.docker.network.bridge.enable_icc": "false"})
APP_FORWARD = ("-j DOCKER-USER", "-o br-0123456789ab -j DOCKER", "-i br-0123456789ab ! -o br-0123456789ab -j ACCEPT")


def on_app(*forward: str, bridge_nf: bool | None = True, net=APP_NET, reach=(), **fw):
    """web and client on app; FORWARD as Docker writes it for app, with `forward` after it."""
    chains = (chain("filter", "FORWARD", "DROP", *APP_FORWARD, *forward),
              chain("filter", "DOCKER-USER", "", "-j RETURN"), chain("filter", "DOCKER", ""))
    return local(web(**ON_APP), client("app", "172.18.0.9"), networks=(BRIDGE, net), reach=reach,
                 fw=firewall(chains=chains, bridge_nf_call_iptables=bridge_nf, **fw))


TIMEOUT = (tcp("172.18.0.5", 80, ReachResult.TIMEOUT, origin="container:client"),)


@fires("ND605", "inter-container-communication-off")
def _():
    return (on_app("-i br-0123456789ab -o br-0123456789ab -j DROP", net=APP_ICC_OFF, reach=TIMEOUT),
            args(to="web:80", **FROM_CLIENT),
            lambda c: c.summary == "inter-container communication is off on app: the Docker host drops client's "
                                   "connections to web"
            and "rule 4 of FORWARD: -A FORWARD -i br-0123456789ab -o br-0123456789ab -j DROP" in c.evidence
            and c.fix[0].startswith("recreate app without -o com.docker.network.bridge.enable_icc=false: docker "
                                    "network rm app; docker network create --subnet 172.18.0.0/16 app"))


@fires("ND605", "a-user-rule-drops-it")
def _():
    snap = on_app(reach=TIMEOUT)
    fw = snap.firewall
    chains = tuple(chain("filter", "DOCKER-USER", "", "-s 172.18.0.0/16 -d 172.18.0.5/32 -p tcp -m tcp --dport 80 "
                         "-j REJECT") if c.name == "DOCKER-USER" else c for c in fw.chains)
    return (dataclasses.replace(snap, firewall=dataclasses.replace(fw, chains=chains)),
            args(to="web:80", **FROM_CLIENT),
            lambda c: c.summary == "an iptables DOCKER-USER rule drops client's connections to web on app"
            and c.fix[0] == "iptables -D DOCKER-USER -s 172.18.0.0/16 -d 172.18.0.5/32 -p tcp -m tcp --dport 80 "
                            "-j REJECT")


@fires("ND605", "another-nftables-table-drops-it")
def _():
    return (on_app("-i br-0123456789ab -o br-0123456789ab -j ACCEPT", reach=TIMEOUT,
                   nft_outcome=Outcome(method="nft"),
                   nft_chains=(Chain("inet filter", "forward", "DROP", (), "forward"),)),
            args(to="web:80", **FROM_CLIENT),
            lambda c: c.summary == "nftables table inet filter drops client's connections to web on app")


@quiet("ND605", "inter-container-communication-on")
def _():
    return on_app("-i br-0123456789ab -o br-0123456789ab -j ACCEPT", reach=TIMEOUT), args(to="web:80", **FROM_CLIENT)


@quiet("ND605", "bridged-traffic-skips-iptables")
def _():
    """Without br_netfilter the frames never meet iptables: its DROP rule changes nothing."""
    return (on_app("-i br-0123456789ab -o br-0123456789ab -j DROP", bridge_nf=False, net=APP_ICC_OFF, reach=TIMEOUT),
            args(to="web:80", **FROM_CLIENT))


@quiet("ND605", "answered")
def _():
    return (on_app("-i br-0123456789ab -o br-0123456789ab -j DROP", net=APP_ICC_OFF,
                   reach=(tcp("172.18.0.5", 80, ReachResult.ANSWERED, origin="container:client"),)),
            args(to="web:80", **FROM_CLIENT))


@unknown("ND605", "firewall-not-read")
def _():
    snap = on_app(reach=TIMEOUT)
    unread = dataclasses.replace(snap.firewall, iptables_outcome=Outcome.unavailable("iptables-save needs root"))
    return dataclasses.replace(snap, firewall=unread), args(to="web:80", **FROM_CLIENT)


@fires("ND605", "icc-off-in-dockerd-for-the-default-bridge")
def _():
    bridge = dataclasses.replace(BRIDGE, options={"com.docker.network.bridge.enable_icc": "false"})
    chains = (chain("filter", "FORWARD", "DROP", "-j DOCKER-USER", "-o docker0 -j DOCKER",
                    "-i docker0 ! -o docker0 -j ACCEPT", "-i docker0 -o docker0 -j DROP"),
              chain("filter", "DOCKER-USER", "", "-j RETURN"))
    snap = local(web(), client("bridge", "172.17.0.3"), networks=(bridge,),
                 reach=(tcp("172.17.0.29", 80, ReachResult.TIMEOUT, origin="container:client"),),
                 fw=firewall(chains=chains, bridge_nf_call_iptables=True))
    return (snap, args(to="172.17.0.29:80", **FROM_CLIENT),
            lambda c: c.fix == ("remove \"icc\": false from /etc/docker/daemon.json (or --icc=false from dockerd's "
                                "flags), then restart dockerd",))
