"""Policy-driven AI segmentation and compliance engine.

Embed it in a gateway::

    from policy_engine import Engine
    engine = Engine.from_settings()
    decision = engine.decide({"content": "…"})
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from policy_engine.version import __version__

if TYPE_CHECKING:
    from policy_engine.engine import Engine
    from policy_engine.models import DecideRequest, Decision, Segment
    from policy_engine.settings import Settings

__all__ = ["DecideRequest", "Decision", "Engine", "Segment", "Settings", "__version__"]


def __getattr__(name: str) -> Any:
    # Lazy imports keep `import policy_engine` cheap (no spaCy, no FastAPI).
    if name == "Engine":
        # Through the composition root, which gives Engine.from_settings its builder.
        from policy_engine.bootstrap import Engine

        return Engine
    if name in {"Decision", "DecideRequest", "Segment"}:
        from policy_engine import models

        return getattr(models, name)
    if name == "Settings":
        from policy_engine.settings import Settings

        return Settings
    raise AttributeError(f"module 'policy_engine' has no attribute {name!r}")
