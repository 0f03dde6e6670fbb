"""Rasa custom actions (rasa-sdk): thin glue between Rasa and the domain packages.

Each action reads the verified identity and the turn's slots, calls one domain
function (`bot` for answers from the account, `handoff` to open a case,
`alerts` and `payments` for what the customer asks to change) and returns its
text and events. The only channel module they read is `channels.guard`, for the
metadata keys the channels set.
"""
