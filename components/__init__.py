"""Rasa NLU graph components of this assistant (glue over `bot.language`)."""
