"""Hand the conversation to a person: open a support case and pause the assistant.

The case, the business hours and what the customer is told live in
`handoff/`; this action reads the conversation Rasa sent, opens (or joins) the
case there and returns `ConversationPaused`, so the customer's next messages go to the agent
(channels/turns.py) until the case closes (channels/staff_relay.py resumes it).
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from actions.common import EXPLAIN_CHARGE, HANDOFF_ACTION, channel_address, identity
from bot.topics import HANDOFF, close_call
from channels.guard import DISPLAY_KEY
from handoff.cases import REASON_OF_INTENT, Line, open_case_of
from handoff.intake import TOO_MANY_ANONYMOUS, UNAVAILABLE, hand_over
from handoff.models import Author
from stores.rate_limits import ANONYMOUS_CASES

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


def complaint(tracker: Tracker) -> str | None:
    """The customer's words about the charge: the latest message, or, when that was a tapped
    button or a «sí», the message the charge explanation answered."""
    latest = tracker.latest_message.get("text") or ""
    if not latest.startswith("/") and (tracker.latest_message.get("intent") or {}).get("name") != "affirm":
        return latest
    explained = False
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") == EXPLAIN_CHARGE:
            explained = True
        elif explained and event.get("event") == "user":
            return event.get("text")
    return None


class ActionHandoff(Action):
    def name(self) -> str:
        return HANDOFF_ACTION

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        who = identity(tracker)
        # Not get_intent_of_latest_message(): it skips `nlu_fallback` for the runner-up.
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        # A person asked for beside another topic (bot.topics.close_call) was asked for.
        asked = close_call(tracker.latest_message, intent).answer == HANDOFF
        reason = "asked" if asked else REASON_OF_INTENT.get(intent, "asked")
        lines = transcript(tracker)
        if reason == "not_understood":
            description = unanswered(lines)
        elif reason == "money":
            description = complaint(tracker)
        else:
            description = tracker.latest_message.get("text")
        if description and description.startswith("/"):  # a tapped button, not the customer's words
            description = None
        channel = tracker.get_latest_input_channel() or "prepago"
        channel_user = channel_address(who) or None
        try:
            if who.account is None and not await self._may_open_anonymous(tracker.sender_id, who.client or who.subject):
                dispatcher.utter_message(text=TOO_MANY_ANONYMOUS)
                return []
            text = await asyncio.to_thread(hand_over, tracker.sender_id, channel, channel_user, who.account, reason,
                                           description, lines)
        except Exception:  # noqa: BLE001 - without a case the assistant stays on: never strand the customer
            logger.exception("opening a support case failed")
            dispatcher.utter_message(text=UNAVAILABLE)
            return []
        dispatcher.utter_message(text=text)
        return [ConversationPaused()]

    @staticmethod
    async def _may_open_anonymous(conversation_id: str, client: str | None) -> bool:
        """Without a verified account, a client (its address, or its chat) opens a few cases an hour:
        a new session id per message must not fill the queue. Its own open case is no new one."""
        if await asyncio.to_thread(open_case_of, conversation_id) is not None:
            return True
        return await ANONYMOUS_CASES.allow(client or "?")
