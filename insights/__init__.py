"""Insights: what customers ask, where the assistant fails, and turning misses into training data.

The tracker store keeps every event with the NLU's confidences, but reading a
month of raw events per report would not scale. `ingest` turns new events
into one summary row per customer message (`insight_turns`, in the account
store), incrementally from the last event id it saw; `metrics` and
`unanswered` read only those rows. Nothing here imports Rasa: events are read
from the tracker store's `events` table as Rasa writes them.
"""
