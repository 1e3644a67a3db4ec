"""``python -m policy_engine.cli``: the ``policy-engine`` command."""

from policy_engine.cli import main

main()
