"""The plugin registries: names without imports, clear errors, outside search backends.

An outside search backend is a tiny distribution written into a temporary site
directory (see ``outside_dist.py``), found through its entry point with no change to
lifecyclegraph, as ``test_outside_provider.py`` does for providers.
"""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Iterator

import pytest
from outside_dist import forget, install

from lifecyclegraph import Facts, LifecycleGraph
from lifecyclegraph.core.config import Config, SearchConfig
from lifecyclegraph.core.errors import ConfigError
from lifecyclegraph.core.plugins import SEARCH_BACKENDS, PluginRegistry
from lifecyclegraph.providers import available_providers
from lifecyclegraph.search import SearchError, open_backend
from lifecyclegraph.search.registry import BACKENDS

GROUP = "lifecyclegraph.test_plugins"

BACKEND = textwrap.dedent(
    '''
    """A search backend from outside lifecyclegraph: Whoosh, counting what it opens."""
    from lifecyclegraph.search.whoosh_backend import WhooshBackend

    class AcmeBackend(WhooshBackend):
        name = "acme"
        opened = []

        @classmethod
        def open(cls, path):
            cls.opened.append(path)
            return super().open(path)
    '''
)


@pytest.fixture
def acme_search(tmp_path, monkeypatch) -> Iterator[None]:
    install(
        tmp_path / "site",
        monkeypatch,
        "acme-search",
        {"acme_search": BACKEND, "acme_broken": "import acme_not_installed_anywhere\n"},
        {SEARCH_BACKENDS: {"acme": "acme_search:AcmeBackend", "broken": "acme_broken:X"}},
    )
    yield
    forget("acme_search", "acme_broken")


@pytest.fixture
def group(tmp_path, monkeypatch) -> Iterator[PluginRegistry[object]]:
    install(
        tmp_path / "site",
        monkeypatch,
        "acme-things",
        {"acme_things": "GOOD = 'good'\nBAD = 42\n"},
        {GROUP: {"good": "acme_things:GOOD", "bad": "acme_things:BAD"}},
    )
    yield PluginRegistry(GROUP, "thing", check=lambda p: isinstance(p, str), expected="a str")
    forget("acme_things")


def test_names_lists_entry_points_without_importing_them(group):
    assert group.names() == ["bad", "good"]
    assert "acme_things" not in sys.modules
    assert group.load("good") == "good"


def test_unknown_name_says_the_near_miss_and_what_is_installed(group):
    with pytest.raises(
        ConfigError,
        match=re.escape(
            "no thing 'goud' is installed; did you mean 'good'? (installed: bad, good)"
        ),
    ):
        group.load("goud")


def test_plugin_that_fails_the_check_is_refused_naming_its_entry_point(group):
    with pytest.raises(
        ConfigError,
        match=re.escape("thing 'bad' (entry point acme_things:BAD of acme-things) is not a str"),
    ):
        group.load("bad")
    with pytest.raises(ConfigError, match="is not a str"):
        group.all()


def test_registered_plugin_is_seen_by_every_registry_of_the_group_until_unregistered(group):
    group.register("made", "in code")
    other = PluginRegistry[object](GROUP, "thing")
    assert other.names() == ["bad", "good", "made"]
    assert other.load("made") == "in code"
    group.unregister("made")
    assert "made" not in other.names()
    with pytest.raises(ConfigError, match="is not a str"):
        group.register("wrong", 1)


def test_group_without_lifecyclegraph_own_plugins_says_to_reinstall():
    empty = PluginRegistry[object]("lifecyclegraph.no_such_group", "widget")
    with pytest.raises(ConfigError, match=re.escape("reinstall lifecyclegraph (pip install -e .")):
        empty.load("anything")


def test_missing_extra_names_the_pip_install_that_adds_it(monkeypatch):
    # tantivy is both an entry point and an extra of lifecyclegraph: hide the package
    monkeypatch.setitem(sys.modules, "tantivy", None)
    monkeypatch.delitem(sys.modules, "lifecyclegraph.search.tantivy_backend", raising=False)
    with pytest.raises(SearchError, match=re.escape("pip install 'lifecyclegraph[tantivy]'")):
        open_backend("tantivy", None)


def test_builtin_backends_and_providers_come_from_lifecyclegraph_entry_points():
    assert BACKENDS.names() == ["tantivy", "whoosh"]
    assert sorted(available_providers()) == [
        "datasets", "experimentation", "featurestore", "identity", "mlflow", "openlineage",
        "orchestrator", "registry",
    ]  # fmt: skip


def test_search_config_refuses_a_backend_that_is_not_installed():
    with pytest.raises(ConfigError, match=re.escape(
        "<dict>: search.backend: Value error, no search backend 'woosh' is installed; "
        "did you mean 'whoosh'? (installed: tantivy, whoosh)"
    )):  # fmt: skip
        Config.from_dict({"search": {"backend": "woosh"}})


def test_outside_search_backend_is_found_and_used_with_no_change_to_lifecyclegraph(
    acme_search, tmp_path
):
    config = Config.from_dict({"search": {"backend": "acme", "batch_ms": 10}})
    assert "acme" in BACKENDS.names()
    graph = LifecycleGraph.in_memory(search=config.search)
    try:
        graph.write(
            Facts.of("aip://model/registry/churn", {"rdf:type": "lg:Model", "lg:name": "Churn"}),
            source="test",
        )
        graph.search_index.flush()
        assert [hit.uri for hit in graph.search("churn").hits] == ["aip://model/registry/churn"]
    finally:
        graph.close()
    backend_class = sys.modules["acme_search"].AcmeBackend
    assert backend_class.opened == [None, None]  # entities and owners, in memory


def test_outside_backend_that_cannot_be_imported_is_reported_with_its_distribution(acme_search):
    assert SearchConfig(backend="broken").backend == "broken"  # installed: the name is valid
    with pytest.raises(SearchError, match=re.escape(
        "cannot load search backend 'broken' (entry point acme_broken:X of acme-search): "
        "No module named 'acme_not_installed_anywhere'"
    )):  # fmt: skip
        open_backend("broken", None)
