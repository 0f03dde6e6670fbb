"""Rasa custom actions: thin glue that calls the plain-Python `bot` package."""
