"""Code that runs inside other products, next to the engine rather than in it.

* :mod:`.litellm`: a LiteLLM guardrail class that reroutes a call to a model group the
  engine allows (``guardrail: policy_engine.integrations.litellm.PolicyEngineGuardrail``);
* :mod:`.litellm_context`: what a LiteLLM call means in this package's terms, shared with
  the service's LiteLLM route (:mod:`policy_engine.api.guardrail_routes`).

A gateway host has its own libraries and not the engine's: these modules import the
standard library, httpx, their host's library and light parts of this package
(:mod:`policy_engine.models`, pydantic) only; never FastAPI, Presidio, spaCy or regopy (a
test imports them in LiteLLM's own virtualenv, where those are absent, to prove it).
"""
