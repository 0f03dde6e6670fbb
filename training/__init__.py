"""The learning loop: a registry of model versions, `bot retrain` (candidate, comparison,
promotion), rollback, and the model server every Rasa replica polls (console/models.py)."""
