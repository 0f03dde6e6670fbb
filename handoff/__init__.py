"""Human handoff: support cases, the staff console and helpdesk connectors.

The assistant opens a case (actions/handoff.py), pauses the conversation and
tells the customer what happens next; the customer's later messages go to the
case. Staff work the case in the console (console/app.py), or in a
helpdesk the company already uses (handoff/desks/); either way their replies
are relayed into the customer's own conversation and channel by the Rasa
process (channels/staff_relay.py), which also resumes the assistant on close.

Nothing here imports Rasa: cases live in the account store.
"""
