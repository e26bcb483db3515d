"""The feature store in the sandbox: features."""

from __future__ import annotations

from lifecyclegraph.providers.fake import FakeKind, FakeSystem, Reference

__all__ = ["SYSTEM"]

_OWNED = ("owner_emails", "labels")

FEATURE = FakeKind(
    "feature",
    collection="features",
    path="/api/v1/features/{feature_id}",
    doc="A feature, its source datasets and the pipeline that computes it.",
    key_fields=("id",),
    event_fields=("feature_id",),
    required=("id", "name", "description", *_OWNED, "value_type", "version", "created_at"),
    rank=70,
    lists=(*_OWNED, "source_datasets"),
    defaults={"description": "", "owner_emails": [], "labels": []},
    now_defaults=("created_at",),
    created="feature_created",
    updated="feature_updated",
    deleted="feature_deleted",
    references=(
        Reference("source_datasets", "dataset", many=True),
        Reference("pipeline", "pipeline"),
    ),
    emails=("owner_emails",),
)

SYSTEM = FakeSystem(
    "featurestore", kinds=(FEATURE,), world="lifecyclegraph.providers.featurestore:world.json"
)
