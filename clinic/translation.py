"""Catalogue texts a patient reads, once per language (django-modeltranslation).

See ``screening/translation.py`` for how reading and fallback work.
"""

from modeltranslation.translator import TranslationOptions, register

from clinic.models import Modality

ENGLISH_FIRST = {"default": ("en-gb", "es")}


@register(Modality)
class ModalityTranslation(TranslationOptions):
    fields = ("name", "description", "preparation")
    required_languages = {"en-gb": ("name",)}
    fallback_languages = ENGLISH_FIRST
