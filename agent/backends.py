"""Chat models by configuration: SSLPILOT_LLM=offline (default), or any `provider:model` that langchain's
init_chat_model knows (openai:gpt-4o-mini, anthropic:..., ollama:qwen2.5:7b); SSLPILOT_LLM_BASE_URL points an
OpenAI-compatible client at another server."""

from __future__ import annotations

from ssl_runtime import settings
from ssl_runtime.errors import ConfigError


def make_chat_model(spec: str | None = None, home=None):
    spec = spec or settings.get("SSLPILOT_LLM")
    if spec == "offline":
        from agent.planner import OfflinePlanner

        return OfflinePlanner(home=home)
    from langchain.chat_models import init_chat_model

    kwargs = {}
    if settings.get("SSLPILOT_LLM_BASE_URL"):
        kwargs["base_url"] = settings.get("SSLPILOT_LLM_BASE_URL")
    try:
        return init_chat_model(spec, temperature=0, **kwargs)
    except (ImportError, ValueError) as exc:
        raise ConfigError(f"cannot start LLM {spec!r}: {exc}", field="SSLPILOT_LLM",
                          fix="install the provider's langchain package (e.g. langchain-openai), or use offline") from None


def describe(spec: str | None = None) -> str:
    spec = spec or settings.get("SSLPILOT_LLM")
    return "built-in offline planner" if spec == "offline" else spec
