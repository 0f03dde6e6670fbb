"""Plain-Python core of the Cuenta de Prepago assistant (no Rasa imports here)."""
