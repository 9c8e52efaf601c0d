"""Model providers addressed by `provider/model` strings.

    from agents.providers import get_model, Message, GenerationConfig
    model = get_model("openai/gpt-4o")            # or anthropic/..., google/..., reference, replay:DIR
    completion = await model.complete([Message.system("..."), Message.user("...", ImagePart(png))])

SDKs are imported only when their provider is resolved.
"""
from .base import (AuthError, Completion, GenerationConfig, ImagePart, MalformedResponse, Message, Model,
                   ProviderError, RateLimitError, TextPart, UnknownModel, VideoPart)
from .registry import get_model, parse_model_spec
from .cost import PRICES, PRICES_AS_OF, BudgetExceeded, CostMeter, Price, price_for

__all__ = [
    "AuthError", "BudgetExceeded", "Completion", "CostMeter", "GenerationConfig", "ImagePart",
    "MalformedResponse", "Message", "Model", "PRICES", "PRICES_AS_OF", "Price", "ProviderError",
    "RateLimitError", "TextPart", "UnknownModel", "VideoPart", "get_model", "parse_model_spec", "price_for",
]
