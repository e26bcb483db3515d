"""AIP URIs: build, parse, canonical form and the errors a user sees."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lifecyclegraph import AipUri, InvalidUriError
from lifecyclegraph.core.uris import is_aip_uri, path_segment

component_types = st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True)
platform_ids = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,15}", fullmatch=True)
# Any non-empty Unicode text: slashes, percent signs, spaces, emoji, controls.
resource_ids = st.text(min_size=1) | st.text(alphabet="/% :?#@", min_size=1)


@given(component_types, platform_ids, resource_ids)
def test_build_then_parse_round_trips_any_resource_id(component, platform, resource):
    uri = AipUri(component, platform, resource)
    text = str(uri)
    parsed = AipUri.parse(text)
    assert parsed == uri
    assert parsed.resource_id == resource
    assert str(parsed) == text
    assert is_aip_uri(text)


@given(component_types, platform_ids, resource_ids)
def test_canonical_text_has_exactly_three_slash_separated_parts(component, platform, resource):
    text = str(AipUri(component, platform, resource))
    assert text.startswith("aip://")
    assert len(text[len("aip://") :].split("/")) == 3
    assert " " not in text and "#" not in text and "?" not in text


def test_contract_examples_keep_their_text_form():
    for text in [
        "aip://model/registry/ranking-model-v5-20XX0101",
        "aip://pipeline-run/orchestrator/train-weekly-ranking-20XX0101",
        "aip://ab-test-cell/experimentation/12345:2",
        "aip://dataset-version/datasets/viewing-history:2026-01-01",
        "aip://user/identity/alice",
    ]:
        assert str(AipUri.parse(text)) == text


def test_percent_and_slash_in_resource_id_are_encoded():
    uri = AipUri("dataset", "datasets", "50%/raw")
    assert str(uri) == "aip://dataset/datasets/50%25%2Fraw"


def test_non_canonical_escapes_parse_to_the_same_uri():
    parsed = AipUri.parse("aip://dataset/datasets/a%2fb%41")
    assert parsed.resource_id == "a/bA"
    assert str(parsed) == "aip://dataset/datasets/a%2FbA"
    assert not is_aip_uri("aip://dataset/datasets/a%2fb%41")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("http://model/registry/x", "starts with 'aip://'"),
        ("AIP://model/registry/x", "in lower case"),
        ("aip://model/registry", "three parts"),
        ("aip://model/registry/", "resource id is empty"),
        ("aip:///registry/x", "component type is empty"),
        ("aip://model//x", "platform id is empty"),
        ("aip://Model/registry/x", "component type must be lower-case"),
        ("aip://model/Reg istry/x", "platform id must be lower-case"),
        ("aip://model/registry/a/b", "unescaped '/' (write it as %2F)"),
        ("aip://model/registry/a b", "unescaped ' ' (write it as %20)"),
        ("aip://model/registry/a#b", "unescaped '#'"),
        ("aip://model/registry/a?b", "unescaped '?'"),
        ("aip://model/registry/50%", "does not start an escape"),
        ("aip://model/registry/%zz", "does not start an escape"),
        ("aip://model/registry/%ff", "do not decode to UTF-8"),
        ("aip://model/registry/caf\u00e9", "must be percent-encoded (write it as %C3%A9)"),
    ],
)
def test_malformed_uri_error_says_what_is_wrong(text, says):
    with pytest.raises(InvalidUriError) as caught:
        AipUri.parse(text)
    assert says in str(caught.value)
    assert caught.value.uri == text
    assert isinstance(caught.value, ValueError)


def test_empty_resource_id_is_refused_when_building():
    with pytest.raises(InvalidUriError, match="resource id is empty"):
        AipUri("model", "registry", "")


def test_lone_surrogate_is_refused_when_building():
    with pytest.raises(InvalidUriError, match="not valid Unicode"):
        AipUri("model", "registry", "\udcff")


# Ids made of dots and slashes above all: what dot-segment removal works on.
path_ids = resource_ids | st.text(alphabet="./%", min_size=1, max_size=6)


@given(path_ids)
def test_path_segment_still_addresses_the_id_after_dot_segment_removal(resource):
    from urllib.parse import unquote, urljoin, urlsplit

    import httpx

    base = "http://source.test/base/api/v1/tests/"
    url = base + path_segment(resource) + "/versions"
    # as a client (httpx), then a proxy or server (RFC 3986, 5.2.4) would see it
    sent = httpx.URL(url).raw_path.decode("ascii")
    assert sent == urlsplit(url).path
    normalized = urlsplit(urljoin("http://source.test/", sent)).path
    assert normalized == sent
    prefix, _, rest = normalized.partition("/api/v1/tests/")
    segment, slash, tail = rest.partition("/")
    assert (prefix, slash, tail) == ("/base", "/", "versions")
    assert unquote(segment) == resource
