"""sslpilot's training runtime: a torch library for SSL pretraining, health metrics and probes.

It knows nothing of chat, agents, databases or front ends; it reads a run folder's config.yaml and
writes everything about the run back into that folder.
"""

import os

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

__version__ = "0.1.0"
