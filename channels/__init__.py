"""Rasa input channels that verify who is writing before Rasa sees the message."""
