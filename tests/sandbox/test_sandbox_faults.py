"""Faults on request, the server-side rate limit, and request counting, over real HTTP."""

from __future__ import annotations

import time

import pytest

from lifecyclegraph.sandbox import FaultRule, RequestLog, max_in_window
from lifecyclegraph.sandbox.faults import FaultError, Faults, RateLimiter

MODEL = "/api/v1/models/ranking-model"


def get(sandbox, client, system: str, path: str):
    return client.get(sandbox.base_url(system) + path)


def test_latency_is_added_to_matching_requests_only(sandbox, client):
    sandbox.faults.add(FaultRule(system="registry", path="/api/v1/models/*", latency_ms=300))
    started = time.perf_counter()
    assert get(sandbox, client, "registry", MODEL).status_code == 200
    slow = time.perf_counter() - started
    started = time.perf_counter()
    get(sandbox, client, "registry", "/api/v1/instances/ranking-model-v5-20XX0101")
    get(sandbox, client, "identity", "/api/v1/users/alice")
    fast = time.perf_counter() - started
    assert slow >= 0.3
    assert fast < 0.3


def test_429_for_the_next_n_requests_carries_retry_after(sandbox, client):
    client.post(
        "/_sandbox/faults",
        json={"rules": [{"system": "registry", "status": 429, "retry_after": 7, "count": 2}]},
    )
    answers = [get(sandbox, client, "registry", MODEL) for _ in range(3)]
    assert [r.status_code for r in answers] == [429, 429, 200]
    assert [r.headers.get("retry-after") for r in answers] == ["7", "7", None]
    assert answers[0].headers["content-type"] == "application/problem+json"
    assert "etag" in answers[0].headers
    assert client.get("/_sandbox/faults").json()["rules"][0]["count"] == 0


def test_429_for_a_fraction_of_requests(sandbox, client):
    client.post(
        "/_sandbox/faults",
        json={"rules": [{"system": "featurestore", "status": 429, "fraction": 0.5}]},
    )
    statuses = [
        get(sandbox, client, "featurestore", "/api/v1/features/watch-time-7d").status_code
        for _ in range(100)
    ]
    assert 30 <= statuses.count(429) <= 70
    assert set(statuses) == {200, 429}


def test_5xx_fraction_roughly_holds_over_many_requests(sandbox, client):
    sandbox.faults.add(FaultRule(system="datasets", status=503, fraction=0.3))
    statuses = [
        get(sandbox, client, "datasets", "/api/v1/datasets/viewing-history").status_code
        for _ in range(300)
    ]
    assert 0.22 <= statuses.count(503) / 300 <= 0.38
    assert set(statuses) == {200, 503}


def test_5xx_fraction_is_reproducible_with_the_seed(sandbox, client):
    def run() -> list[int]:
        sandbox.reset()
        client.post(
            "/_sandbox/faults",
            json={
                "seed": 123,
                "rules": [{"system": "orchestrator", "status": 500, "fraction": 0.4}],
            },
        )
        return [
            get(
                sandbox, client, "orchestrator", "/api/v1/pipelines/weekly-ranking-trainer"
            ).status_code
            for _ in range(40)
        ]

    assert run() == run()


def test_5xx_for_the_next_n_requests(sandbox, client):
    sandbox.faults.add(FaultRule(system="identity", status=502, count=3))
    statuses = [
        get(sandbox, client, "identity", "/api/v1/teams/ml-platform").status_code for _ in range(4)
    ]
    assert statuses == [502, 502, 502, 200]


def test_404_injection_for_given_ids(sandbox, client):
    client.post(
        "/_sandbox/faults",
        json={
            "rules": [
                {"system": "registry", "not_found_ids": ["ranking-model"]},
                {"system": "datasets", "not_found_ids": ["2026-01-01"]},
            ]
        },
    )
    assert get(sandbox, client, "registry", MODEL).status_code == 404
    assert get(sandbox, client, "registry", "/api/v1/models/search-ranker").status_code == 200
    assert (
        get(sandbox, client, "registry", "/api/v1/instances/ranking-model-v5-20XX0101").status_code
        == 200
    )
    assert (
        get(
            sandbox, client, "datasets", "/api/v1/datasets/viewing-history/versions/2026-01-01"
        ).status_code
        == 404
    )
    assert (
        get(
            sandbox, client, "datasets", "/api/v1/datasets/viewing-history/versions/2025-12-31"
        ).status_code
        == 200
    )
    assert sandbox.world.get("model", "ranking-model") is not None


def test_path_pattern_limits_a_fault(sandbox, client):
    sandbox.faults.add(FaultRule(system="registry", path="/api/v1/instances/*", status=500))
    assert get(sandbox, client, "registry", MODEL).status_code == 200
    assert (
        get(sandbox, client, "registry", "/api/v1/instances/ranking-model-v5-20XX0101").status_code
        == 500
    )


def test_rule_without_system_applies_to_every_system(sandbox, client):
    sandbox.faults.add(FaultRule(status=503, count=2))
    assert get(sandbox, client, "registry", MODEL).status_code == 503
    assert get(sandbox, client, "identity", "/api/v1/users/bob").status_code == 503
    assert get(sandbox, client, "identity", "/api/v1/users/bob").status_code == 200


def test_control_endpoints_are_never_faulted_or_counted(sandbox, client):
    sandbox.faults.add(FaultRule(status=503))
    assert client.get("/_sandbox/world").status_code == 200
    assert client.get("/_sandbox/stats").json()["total"] == 0


def test_rate_limit_refuses_over_rate_requests_with_retry_after(sandbox, client):
    client.post("/_sandbox/faults", json={"rate_limits": {"registry": 5}})
    answers = [get(sandbox, client, "registry", MODEL) for _ in range(12)]
    statuses = [r.status_code for r in answers]
    assert statuses[:5] == [200] * 5
    assert statuses.count(200) == 5, "12 requests well within a second"
    refused = [r for r in answers if r.status_code == 429]
    assert all(int(r.headers["retry-after"]) >= 1 for r in refused)
    assert "rate limit" in refused[0].json()["detail"]
    assert get(sandbox, client, "identity", "/api/v1/users/alice").status_code == 200
    time.sleep(1.05)
    assert get(sandbox, client, "registry", MODEL).status_code == 200


def test_rate_limit_admits_a_client_that_keeps_the_rate(sandbox, client):
    sandbox.faults.set_rate_limit("identity", 20)
    statuses = []
    for _ in range(25):
        statuses.append(get(sandbox, client, "identity", "/api/v1/users/alice").status_code)
        time.sleep(0.06)
    assert set(statuses) == {200}
    assert sandbox.stats.max_per_second("identity") <= 20


def test_rate_limiter_below_one_request_a_second():
    limiter = RateLimiter(0.5)
    assert [limiter.admit(now=t) for t in (0.0, 1.0, 1.9, 2.0)] == [None, 1, 1, None]


def test_request_counts_per_system_path_and_status(sandbox, client):
    for _ in range(3):
        get(sandbox, client, "registry", MODEL)
    get(sandbox, client, "registry", "/api/v1/models/nope")
    get(sandbox, client, "identity", "/api/v1/users?email=alice@example.com")
    stats = client.get("/_sandbox/stats").json()
    assert stats["total"] == 5
    assert stats["systems"]["registry"]["total"] == 4
    assert stats["systems"]["registry"]["paths"] == {MODEL: 3, "/api/v1/models/nope": 1}
    assert stats["systems"]["registry"]["statuses"] == {"200": 3, "404": 1}
    assert stats["systems"]["identity"]["paths"] == {"/api/v1/users": 1}
    assert sandbox.stats.count("registry", MODEL) == 3


def test_request_timestamps_give_the_max_per_second(sandbox, client):
    for _ in range(6):
        get(sandbox, client, "orchestrator", "/api/v1/pipelines/feature-backfill")
    time.sleep(1.1)
    for _ in range(2):
        get(sandbox, client, "orchestrator", "/api/v1/pipelines/feature-backfill")
    stats = client.get("/_sandbox/stats", params={"requests": "true"}).json()
    times = [r["at"] for r in stats["requests"]]
    assert times == sorted(times)
    assert times[-1] - times[0] >= 1.1
    assert max_in_window(times) == 6
    assert stats["systems"]["orchestrator"]["max_per_second"] == 6
    assert {r["path"] for r in stats["requests"]} == {"/api/v1/pipelines/feature-backfill"}


def test_refused_and_faulted_requests_are_counted_with_their_status(sandbox, client):
    sandbox.faults.add(FaultRule(system="registry", status=503, count=1))
    get(sandbox, client, "registry", MODEL)
    get(sandbox, client, "registry", MODEL)
    assert [r.status for r in sandbox.stats.records("registry")] == [503, 200]


def test_clearing_stats_and_faults(sandbox, client):
    client.post(
        "/_sandbox/faults", json={"rules": [{"status": 500}], "rate_limits": {"registry": 1}}
    )
    assert get(sandbox, client, "registry", MODEL).status_code == 500
    cleared = client.delete("/_sandbox/faults").json()
    assert cleared["rules"] == [] and cleared["rate_limits"] == {}
    assert get(sandbox, client, "registry", MODEL).status_code == 200
    assert client.delete("/_sandbox/stats").status_code == 200
    assert client.get("/_sandbox/stats").json()["total"] == 0


def test_invalid_fault_configuration_is_a_bad_request_naming_the_key(sandbox, client):
    typo = client.post("/_sandbox/faults", json={"rules": [{"system": "registry", "statu": 500}]})
    assert typo.status_code == 400
    assert "unknown fault rule key 'statu'; did you mean 'status'?" in typo.json()["detail"]
    bad = client.post("/_sandbox/faults", json={"rules": [{"status": 302}]})
    assert "status must be 404, 429 or 5xx" in bad.json()["detail"]
    rate = client.post("/_sandbox/faults", json={"rate_limits": {"registry": 0}})
    assert rate.status_code == 400
    assert client.get("/_sandbox/faults").json()["rules"] == []


@pytest.mark.parametrize(
    "rule",
    [
        {"fraction": 1.5},
        {"count": -1},
        {"latency_ms": -5},
        {"count": 1, "fraction": 0.5},
    ],
)
def test_fault_rule_rejects_invalid_values(rule):
    with pytest.raises(FaultError):
        FaultRule.from_dict(rule)


def test_faults_decide_in_rule_order_with_summed_latency():
    faults = Faults(seed=0)
    faults.add(FaultRule(system="registry", latency_ms=100))
    faults.add(FaultRule(system="registry", latency_ms=50, status=500))
    faults.add(FaultRule(system="registry", status=429))
    decision = faults.decide("registry", MODEL)
    assert decision.latency == pytest.approx(0.15)
    assert decision.status == 500


def test_request_log_window_counts():
    log = RequestLog()
    for t in (10.0, 10.3, 10.6, 10.9, 11.2, 11.5, 13.0):
        log.record("registry", "GET", MODEL, 200, at=t)
    log.record("identity", "GET", "/api/v1/users/alice", 200, at=10.1)
    assert log.max_per_second("registry") == 4  # requests 0.3 s apart
    assert log.max_per_second("registry", window=0.5) == 2
    assert log.max_per_second("registry", window=2.0) == 6
    assert log.max_per_second() == 5  # with the identity request at 10.1
