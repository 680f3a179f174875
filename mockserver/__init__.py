"""A mock Beatport (API v4 and website) for tests and benchmarks: `python -m mockserver`.

from mockserver import running_server

with running_server(latency="fixed:20ms", rate_limit="50/s") as server:
    requests.get(f"{server.base_url}/v4/catalog/search/?q=strobe", headers=...)
"""

from mockserver.app import create_app
from mockserver.errors import MockServerError, ReplayError, SpecError
from mockserver.runner import MockServerHandle, ServerStartError, running_server, serve_forever
from mockserver.settings import Settings, load_settings_toml, settings_from

__all__ = [
    "MockServerError",
    "MockServerHandle",
    "ReplayError",
    "ServerStartError",
    "Settings",
    "SpecError",
    "create_app",
    "load_settings_toml",
    "running_server",
    "serve_forever",
    "settings_from",
]
