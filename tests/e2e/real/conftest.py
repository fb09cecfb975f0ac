"""The real-controller suites' fixture (the cluster fixture is tests/e2e/conftest.py's)."""
import pytest

from kserve_real import ingress, require_real, rollout


@pytest.fixture(scope="module")
def original(cluster):
    """The preset's ingress config, once its real controller runs."""
    require_real()
    rollout(cluster)
    return ingress(cluster)
