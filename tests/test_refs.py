"""Naming containers: as docker does (name, id, unique id prefix), and as Compose does (a service,
within a project)."""

from __future__ import annotations

import pytest

from netdiag import refs
from netdiag.errors import BadInput
from netdiag.refs import Candidate, default_project, match


def compose(cid: str, name: str, project: str, service: str, number: str = "1") -> Candidate:
    return Candidate(cid * 64, [f"/{name}"], {refs.PROJECT_LABEL: project, refs.SERVICE_LABEL: service,
                                               refs.NUMBER_LABEL: number})


SHOP = [compose("a", "shop-web-2", "shop", "web", "2"), compose("b", "shop-web-1", "shop", "web", "1"),
        compose("c", "shop_db_1", "shop", "db")]
BLOG = [compose("d", "blog-web-1", "blog", "web")]


def test_a_service_name_names_its_first_replica():
    assert match(SHOP, "web", project="elsewhere") == "b" * 64
    assert match(SHOP, "db", project="") == "c" * 64  # v1 naming (shop_db_1) the same way


def test_a_service_in_several_projects_needs_the_project():
    assert match(SHOP + BLOG, "web", project="blog") == "d" * 64
    with pytest.raises(BadInput, match=r"service 'web' is in several Compose projects: .*shop-web-2 \(project "
                                       r"shop\).*blog-web-1 \(project blog\).*--project"):
        match(SHOP + BLOG, "web", project="tickets")


def test_names_and_ids_come_before_services():
    named = [Candidate("e" * 64, ["/web"])]
    assert match(SHOP + named, "web", project="shop") == "e" * 64
    assert match(SHOP, "b" * 12) == "b" * 64
    with pytest.raises(BadInput, match="no container matches 'api'"):
        match(SHOP, "api", project="shop")


def test_the_default_project_is_the_directory_compose_would_use(monkeypatch):
    monkeypatch.setattr(refs, "project_on_command_line", "")
    assert default_project({}, "/home/me/My Shop.v2") == "myshopv2"
    assert default_project({"COMPOSE_PROJECT_NAME": "prod"}, "/x") == "prod"
    monkeypatch.setattr(refs, "project_on_command_line", "given")
    assert default_project({"COMPOSE_PROJECT_NAME": "prod"}, "/x") == "given"
