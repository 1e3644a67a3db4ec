import sys

from policy_engine.evaluation.run import main

sys.exit(main())
