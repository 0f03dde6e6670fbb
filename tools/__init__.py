"""Tooling and servers around the domain core: the `bot` command, start-up of
the stack, the Rasa entry point, the demo site, the demo seed and the NLU
evaluation. `bot/` stays plain Python without Rasa."""
