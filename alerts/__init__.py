"""Proactive alerts: tell customers, on their own channel, before the prepaid balance runs out.

Customers opt in in conversation (actions/alerts.py). `triggers.scan` reads
the account store for what happened since its last look (a charge that took
the balance below the customer's threshold, a refused automatic recharge, a
card about to expire) and writes alerts to an outbox in the same
transaction; `worker` claims them, sends them with each provider's rules and
marks each sent only after the provider accepted it.
"""
