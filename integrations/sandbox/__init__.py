"""Loopback simulators of every provider's API, for tests, benchmarks and demos.

``Sandbox().start()`` serves them all on 127.0.0.1; ``Sandbox.env()`` is the configuration
that points the providers at it. The credentials in these modules are fixed demo values.
"""

from .faults import Fault, FaultInjector, FaultKind
from .server import Sandbox, env_for
from .simulator import Received, SimRoom

__all__ = ["Fault", "FaultInjector", "FaultKind", "Received", "Sandbox", "SimRoom", "env_for"]
