"""Care plan texts a patient reads, once per language (django-modeltranslation).

See ``screening/translation.py`` for how reading and fallback work.
"""

from modeltranslation.translator import TranslationOptions, register

from bookings.models import PlanPhase, PlanTemplate

ENGLISH_FIRST = {"default": ("en-gb", "es")}


@register(PlanTemplate)
class PlanTemplateTranslation(TranslationOptions):
    fields = ("name", "description")
    required_languages = {"en-gb": ("name",)}
    fallback_languages = ENGLISH_FIRST


@register(PlanPhase)
class PlanPhaseTranslation(TranslationOptions):
    fields = ("label",)
    required_languages = ("en-gb",)
    fallback_languages = ENGLISH_FIRST
