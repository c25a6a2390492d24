"""A local, faithful stand-in for Anthropic's Admin API, for tests, demos and benchmarks.

The workplace has no route to Anthropic, so the project carries this simulator: a stdlib HTTP
server on localhost serving deterministic, seeded data for one or more organizations, each
selected by its Admin API key. Shapes, bounds and enums follow the project's Admin API
reference (admin-api.md).
"""

from .core import Simulator
from .data import OrgSpec, OrgState
from .server import Fault, RecordedRequest

__all__ = ["Fault", "OrgSpec", "OrgState", "RecordedRequest", "Simulator"]
