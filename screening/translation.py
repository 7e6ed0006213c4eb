"""Which screening texts exist once per language (django-modeltranslation).

Each field listed here gets a column per language (``text_en_gb``, ``text_es``); reading
``question.text`` gives the active language's wording, else English, else Spanish.  The
consent body is per language on the same version row: a signature names the version and the
language it was read in (``Consent.language``), so the wording signed is always known.
"""

from modeltranslation.translator import TranslationOptions, register

from screening.models import ClearanceCondition, ConsentText, Contraindication, Question, Questionnaire

# English is the source every row must have; a row an admin wrote only in Spanish still reads in English.
ENGLISH_FIRST = {"default": ("en-gb", "es")}


@register(Questionnaire)
class QuestionnaireTranslation(TranslationOptions):
    fields = ("title", "introduction")
    required_languages = ("en-gb",)
    fallback_languages = ENGLISH_FIRST


@register(Question)
class QuestionTranslation(TranslationOptions):
    fields = ("text", "help_text")
    required_languages = {"en-gb": ("text",)}
    fallback_languages = ENGLISH_FIRST


@register(Contraindication)
class ContraindicationTranslation(TranslationOptions):
    fields = ("name", "patient_reason")
    required_languages = ("en-gb",)
    fallback_languages = ENGLISH_FIRST


@register(ConsentText)
class ConsentTextTranslation(TranslationOptions):
    fields = ("body",)
    required_languages = ("en-gb",)
    fallback_languages = ENGLISH_FIRST


@register(ClearanceCondition)
class ClearanceConditionTranslation(TranslationOptions):
    fields = ("name", "description")
    required_languages = {"en-gb": ("name",)}
    fallback_languages = ENGLISH_FIRST
