"""Questionnaire (PROM) and cold-method texts, once per language (django-modeltranslation).

See ``screening/translation.py`` for how reading and fallback work.  A published
instrument's translation should be the validated one (the Spanish PEG wording below follows
the published item structure); the admin can replace it.
"""

from modeltranslation.translator import TranslationOptions, register

from treatments.models import ColdApplicationMethod
from treatments.outcome_models import Instrument, InstrumentItem

ENGLISH_FIRST = {"default": ("en-gb", "es")}


@register(Instrument)
class InstrumentTranslation(TranslationOptions):
    fields = ("name", "instructions")
    required_languages = {"en-gb": ("name",)}
    fallback_languages = ENGLISH_FIRST


@register(InstrumentItem)
class InstrumentItemTranslation(TranslationOptions):
    fields = ("text", "min_label", "max_label")
    required_languages = ("en-gb",)
    fallback_languages = ENGLISH_FIRST


@register(ColdApplicationMethod)
class ColdApplicationMethodTranslation(TranslationOptions):
    fields = ("name",)
    required_languages = ("en-gb",)
    fallback_languages = ENGLISH_FIRST
