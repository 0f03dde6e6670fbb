"""Money moved from the chat: add funds, auto-recharge settings and the card on file.

Domain logic only (no Rasa imports): the actions in actions/self_service.py
call these functions with the verified account and who is asking. The card is
charged through Stripe's SDK (payments/provider.py); every operation is one row
of the audit log (payments/models.py).
"""
