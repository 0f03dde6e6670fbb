"""Hand the conversation to a person: open a support case and pause the assistant.

The case, the business hours and what the customer is told live in
`handoff/`; this action only reads the conversation Rasa sent and returns
`ConversationPaused`, so the customer's next messages go to the agent
(channels/turns.py) until the case closes (channels/handoff.py resumes it).
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from actions.common import channel_address, identity
from channels.guard import DISPLAY_KEY
from handoff.cases import REASON_OF_INTENT, Line
from handoff.intake import UNAVAILABLE, hand_over
from handoff.models import Author

logger = logging.getLogger(__name__)



def transcript(tracker: Tracker) -> list[Line]:
    """The conversation so far as customer and assistant lines (what each side saw)."""
    lines = []
    for event in tracker.events:
        kind, text = event.get("event"), event.get("text")
        if kind not in ("user", "bot") or not text:
            continue
        at = datetime.fromtimestamp(event.get("timestamp") or 0, timezone.utc)
        if kind == "user":
            shown = (event.get("metadata") or {}).get(DISPLAY_KEY)
            lines.append(Line(Author.CUSTOMER, shown or text, at))
        else:
            lines.append(Line(Author.BOT, text, at))
    return lines


def unanswered(lines: list[Line]) -> str:
    """The customer's messages since the assistant last understood (the two fallbacks)."""
    return " / ".join(line.text for line in lines[-4:] if line.author == Author.CUSTOMER)


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        who = identity(tracker)
        # Not get_intent_of_latest_message(): it skips `nlu_fallback` for the runner-up.
        reason = REASON_OF_INTENT.get((tracker.latest_message.get("intent") or {}).get("name") or "", "asked")
        lines = transcript(tracker)
        description = unanswered(lines) if reason == "not_understood" else tracker.latest_message.get("text")
        if description and description.startswith("/"):  # a tapped button, not the customer's words
            description = None
        channel = tracker.get_latest_input_channel() or "prepago"
        channel_user = channel_address(who) or None
        try:
            text = hand_over(tracker.sender_id, channel, channel_user, who.account, reason, description, lines)
        except Exception:  # noqa: BLE001 - without a case the assistant stays on: never strand the customer
            logger.exception("opening a support case failed")
            dispatcher.utter_message(text=UNAVAILABLE)
            return []
        dispatcher.utter_message(text=text)
        return [ConversationPaused()]

