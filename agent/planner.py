"""The built-in offline planner, as a LangChain chat model: no LLM needed, same graph as a real one.

On a user message it reads the intent (agent/intents.py) and emits one tool call; once tool results
are back it writes the answer from them (agent/answers.py). It only ever reads the user's own words to
decide on a tool call, so text inside search results cannot make it call anything.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from agent.answers import HELP, REFUSAL, tool_result_text
from agent.intents import Context, classify

CONTEXT_KEY = "sslpilot_context"


def context_from(messages: list[BaseMessage]) -> Context:
    for m in messages:
        if isinstance(m, SystemMessage) and CONTEXT_KEY in m.additional_kwargs:
            return Context(**m.additional_kwargs[CONTEXT_KEY])
    return Context()


class OfflinePlanner(BaseChatModel):
    """Rules, not a language model; answers are written from tool results."""

    @property
    def _llm_type(self) -> str:
        return "sslpilot-offline-planner"

    def bind_tools(self, tools: Any, **kwargs: Any) -> OfflinePlanner:
        return self

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._respond(messages))])

    def _respond(self, messages: list[BaseMessage]) -> AIMessage:
        tail: list[ToolMessage] = []
        for m in reversed(messages):
            if isinstance(m, ToolMessage):
                tail.append(m)
            else:
                break
        if tail:
            parts = []
            for tm in reversed(tail):
                try:
                    result = json.loads(tm.content) if isinstance(tm.content, str) else tm.content
                except json.JSONDecodeError:
                    result = {"error": str(tm.content)}
                if isinstance(result, dict) and "untrusted_data" in result:
                    result = result["untrusted_data"]
                parts.append(tool_result_text(tm.name or "", result if isinstance(result, dict) else {"text": result}))
            return AIMessage(content="\n\n".join(parts))
        human = next((m for m in reversed(messages) if isinstance(m, HumanMessage)), None)
        if human is None:
            return AIMessage(content=HELP)
        intent = classify(str(human.content), context_from(messages))
        if intent.tool is None:
            if intent.reason == "refuse":
                return AIMessage(content=REFUSAL)
            return AIMessage(content=HELP if intent.reason == "unclear" else f"I need one more detail: {intent.reason}.")
        return AIMessage(content="", tool_calls=[{"name": intent.tool, "args": intent.args,
                                                  "id": f"call_{uuid.uuid4().hex[:12]}", "type": "tool_call"}])
