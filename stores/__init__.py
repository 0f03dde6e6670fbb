"""Rasa storage plug-ins of this assistant (configured in endpoints.yml)."""
