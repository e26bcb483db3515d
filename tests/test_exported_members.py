"""The public face: a short, curated, sorted ``__all__`` that names every export."""

import lifecyclegraph


def test_all_is_sorted_and_complete():
    exported = lifecyclegraph.__all__
    assert exported == sorted(exported)
    public = {
        name
        for name, value in vars(lifecyclegraph).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "").startswith("lifecyclegraph")
    }
    assert public <= set(exported), public - set(exported)
    for name in exported:
        assert hasattr(lifecyclegraph, name), name
