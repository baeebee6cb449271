"""deploy/local-cluster.sh: two instances behind nginx serve HTTP and share live events through Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from iolaos.config import Settings
from tests.conftest import Backend
from tests.deploy.cluster import Cluster, subscribe
from tests.realtime.conftest import clone
from tests.realtime.live import bearer, patch_volunteer, recv_until, sign_in

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def cluster(backend: Backend, template_settings: Settings, tmp_path_factory: pytest.TempPathFactory,
            redis_url: str) -> Iterator[Cluster]:
    """The cluster over a copy of the test template (PostgreSQL only: it is the production topology)."""
    if backend.name != "postgresql":
        pytest.skip("the cluster runs on PostgreSQL")
    settings = clone(backend, "cluster")
    # 30 s polls: an event that reaches the other instance within seconds came through the Redis wake-up.
    found = Cluster(tmp_path_factory.mktemp("cluster"), settings.database_url, redis_url,
                    realtime_poll_interval=30).start()
    yield found
    found.stop()


def test_both_instances_serve_through_the_proxy(cluster: Cluster) -> None:
    seen = set()
    with httpx.Client(timeout=5) as http:
        for _ in range(8):
            resp = http.get(cluster.url + "/readyz")
            assert resp.status_code == 200 and resp.json()["database"] == "postgresql"
            seen.add(resp.headers["x-iolaos-upstream"])
        assert http.get(cluster.url + "/metrics").status_code == 403  # never exposed by the proxy
        assert http.get(cluster.api_url(0) + "/metrics").status_code == 200  # loopback scrape
    assert seen == {f"127.0.0.1:{p}" for p in cluster.api_ports}


def test_a_change_on_one_instance_reaches_clients_of_the_other_and_of_the_proxy(
        cluster: Cluster, demo_passwords: dict[str, str]) -> None:
    token = sign_in(cluster.url, "leader.penteli", demo_passwords["leader.penteli"])
    volunteers = httpx.get(cluster.url + "/api/v1/volunteers?limit=5", headers=bearer(token), timeout=10).json()
    vid = volunteers[0]["id"]

    async def scenario() -> None:
        via_proxy, _ = await subscribe(cluster.url, token, [f"volunteer:{vid}"])
        via_b, _ = await subscribe(cluster.api_url(1), token, [f"volunteer:{vid}"])
        try:
            with httpx.Client() as http:
                await asyncio.to_thread(patch_volunteer, http, cluster.api_url(0), token, vid, "off_duty")
            want = lambda m: m["type"] == "event" and m["payload"].get("id") == vid  # noqa: E731
            got_proxy, _ = await recv_until(via_proxy, want, timeout=5)
            got_b, _ = await recv_until(via_b, want, timeout=5)
            assert got_proxy["seq"] == got_b["seq"]
        finally:
            await via_proxy.close()
            await via_b.close()

    asyncio.run(scenario())
