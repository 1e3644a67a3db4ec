"""The ``policy-engine`` command. One module per audience:

* :mod:`.serve` — ``serve``: the HTTP service;
* :mod:`.decide` — ``decide``: one decision, audited like ``POST /decide``;
* :mod:`.policy` — ``test``, ``build``, ``lint``, ``explain``: for policy authors;
* :mod:`.detection` — ``detectors list``, ``scan``: for detector authors;
* :mod:`.audit` — ``audit …`` (``audit savings``: :mod:`.savings`) and :mod:`.replay` —
  ``replay``: for auditors;
* :mod:`.keys` — ``keys create|list|revoke``: for operators.

What every command shares (error exits, settings, progress bars) is in :mod:`.support`.
"""

from __future__ import annotations

import click

from policy_engine.cli.audit import audit
from policy_engine.cli.decide import decide
from policy_engine.cli.detection import detectors, scan
from policy_engine.cli.keys import keys
from policy_engine.cli.policy import build, explain, lint, test_policies
from policy_engine.cli.replay import replay
from policy_engine.cli.savings import savings
from policy_engine.cli.serve import serve
from policy_engine.version import __version__

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="policy-engine")
def main() -> None:
    """Policy-driven AI segmentation: decide which LLM endpoints may receive content."""


for _command in (serve, decide, test_policies, audit, replay, build, lint, explain, keys):
    main.add_command(_command)
audit.add_command(savings)
main.add_command(detectors)
main.add_command(scan)
