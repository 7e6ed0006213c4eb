"""Screening texts: English from today's values, Spanish for the seeded questionnaire, reasons, consents and conditions.

Apart from the migration that adds the columns: on PostgreSQL that one's unique indexes are created
at its end, which fails once rows were updated in the same transaction.
"""

from django.db import migrations


def copy_english(Model, fields):
    """Today's single-language values are English: they become the English column."""
    for row in Model.objects.all():
        changed = []
        for field in fields:
            if not getattr(row, f"{field}_en_gb"):
                setattr(row, f"{field}_en_gb", getattr(row, field))
                changed.append(f"{field}_en_gb")
        if changed:
            row.save(update_fields=changed)


def fill_spanish(queryset, values):
    """Spanish for a seeded row, unless the clinic already wrote its own."""
    for row in queryset:
        changed = [f"{field}_es" for field, text in values.items() if not getattr(row, f"{field}_es")]
        for name in changed:
            setattr(row, name, values[name[: -len("_es")]])
        if changed:
            row.save(update_fields=changed)


# Seeded in screening 0002, by code: clinical name, reason in the patient's words (completing
# "porque ..."), question, help text.  Plain words, "usted", as the English does.
CONTRAINDICATIONS = {
    "raynauds": ("Síndrome de Raynaud", "nos dijo que tiene el síndrome de Raynaud",
                 "¿Se le ponen blancos o azulados los dedos de las manos o de los pies cuando tiene frío "
                 "(síndrome de Raynaud)?", ""),
    "cold-urticaria": ("Urticaria por frío",
                       "nos dijo que le salen ronchas o se le hincha la piel con el frío (urticaria por frío)",
                       "¿Le salen ronchas, una erupción o hinchazón cuando se le enfría la piel (urticaria por frío)?",
                       ""),
    "circulatory-disorder": ("Enfermedad arterial periférica o venosa (incluida la TVP)",
                             "nos dijo que ha tenido un coágulo o que tiene una enfermedad de las arterias o las venas",
                             "¿Ha tenido alguna vez un coágulo de sangre (trombosis venosa profunda) o le han dicho que "
                             "tiene una enfermedad de las arterias o las venas de las piernas o los brazos?",
                             "Por ejemplo, enfermedad arterial periférica o enfermedad venosa."),
    "poor-circulation": ("Mala circulación", "nos dijo que tiene mala circulación",
                         "¿Tiene mala circulación, por ejemplo manos y pies que a menudo están fríos, pálidos o "
                         "dormidos?", ""),
    "nerve-damage": ("Daño en los nervios o sensibilidad reducida",
                     "nos dijo que tiene daño en los nervios o menos sensibilidad en la piel",
                     "¿Tiene daño en los nervios, o zonas de la piel donde no nota bien el calor, el frío o el tacto?",
                     "Por ejemplo, por la diabetes (neuropatía) o por una lesión."),
    "skin-condition": ("Problema de la piel", "nos dijo que tiene un problema de la piel, una herida o una erupción",
                       "¿Tiene algún problema de la piel, una herida abierta o una erupción?",
                       "Por ejemplo, eccema, psoriasis o una cicatriz que se está curando."),
    "respiratory-illness": ("Enfermedad respiratoria", "nos dijo que tiene un problema de pulmones o de respiración",
                            "¿Tiene un problema de pulmones o de respiración, como asma o EPOC, o una infección de "
                            "pecho en este momento?", ""),
    "recent-heart-attack": ("Infarto en los últimos seis meses", "nos dijo que ha tenido un infarto en los últimos seis meses",
                            "¿Ha tenido un infarto en los últimos seis meses?", ""),
    "high-blood-pressure": ("Tensión arterial alta", "nos dijo que tiene la tensión alta",
                            "¿Tiene la tensión alta, o toma medicamentos para ella?", ""),
    "unstable-angina": ("Angina inestable", "nos dijo que tiene dolor en el pecho (angina) que no es estable",
                        "¿Tiene dolor en el pecho (angina) que le aparece en reposo, o que ha empeorado últimamente?", ""),
    "cardiovascular-disease": ("Enfermedad cardiovascular o arritmia",
                               "nos dijo que tiene un problema del corazón o un latido irregular",
                               "¿Tiene algún otro problema del corazón, o un latido irregular (arritmia)?",
                               "Por ejemplo, insuficiencia cardiaca, un problema de una válvula del corazón o "
                               "fibrilación auricular."),
    "anaemia": ("Anemia", "nos dijo que tiene anemia",
                "¿Le han dicho que tiene anemia (hierro bajo o pocos glóbulos rojos)?", ""),
    "tumour": ("Tumor o cáncer", "nos dijo que tiene un tumor o cáncer",
               "¿Tiene un tumor o cáncer, o está recibiendo tratamiento para el cáncer?", ""),
    "stroke": ("Antecedentes de ictus o hemorragia cerebral", "nos dijo que ha tenido un ictus o una hemorragia en el cerebro",
               "¿Ha tenido alguna vez un ictus (derrame cerebral) o una hemorragia en el cerebro?", ""),
    "seizures": ("Antecedentes de convulsiones", "nos dijo que ha tenido convulsiones",
                 "¿Ha tenido alguna vez una convulsión o un ataque, o tiene epilepsia?", ""),
    "bleeding-disorder": ("Trastorno de la coagulación", "nos dijo que tiene un trastorno de la coagulación",
                          "¿Tiene un trastorno de la coagulación como la hemofilia, o le salen moratones o sangra con "
                          "mucha facilidad?", ""),
    "anticoagulants": ("Medicamento anticoagulante", "nos dijo que toma un medicamento para hacer la sangre más líquida",
                       "¿Toma algún medicamento que hace la sangre más líquida (anticoagulante)?",
                       "Por ejemplo, warfarina, acenocumarol (Sintrom), apixabán, rivaroxabán, dabigatrán o "
                       "clopidogrel. La aspirina diaria a dosis baja también cuenta."),
    "kidney-disease": ("Enfermedad renal aguda o crónica", "nos dijo que tiene una enfermedad de los riñones",
                       "¿Tiene una enfermedad de los riñones, ahora o desde hace tiempo?", ""),
    "metal-implant": ("Implantes metálicos", "nos dijo que tiene implantes de metal",
                      "¿Tiene metal dentro del cuerpo, como una prótesis de articulación, placas, tornillos o clavos?",
                      "No cuentan los empastes de los dientes."),
    "pacemaker": ("Marcapasos o dispositivo electrónico implantado",
                  "nos dijo que tiene un marcapasos u otro dispositivo implantado",
                  "¿Tiene un marcapasos, un desfibrilador o cualquier otro implante electrónico?", ""),
    "pregnancy": ("Embarazo", "nos dijo que está o podría estar embarazada",
                  "¿Está embarazada, o podría estarlo?", ""),
    "needle-phobia": ("Miedo a las agujas", "nos dijo que tiene mucho miedo a las agujas o que se desmaya con ellas",
                      "¿Tiene mucho miedo a las agujas, o se ha desmayado alguna vez en una inyección o un análisis "
                      "de sangre?", ""),
    "skin-infection": ("Infección de la piel en la zona de tratamiento",
                       "nos dijo que tiene una infección, un corte o una llaga en la piel donde le trataríamos",
                       "¿Tiene una infección, un corte o una llaga en la piel de la espalda, o en la zona donde va a "
                       "recibir el tratamiento?", ""),
    "under-18": ("Menor de 18 años", "tendrá menos de 18 años el día del tratamiento", None, None),
}

QUESTIONNAIRE_V1 = {
    "title": "Preguntas de salud",
    "introduction": "Estas preguntas sirven para que su tratamiento sea seguro. Responda sí o no; si no está "
    "seguro, responda sí y un terapeuta lo hablará con usted. Sus respuestas solo las ve el equipo clínico.",
}

CRYO_RISKS = (
    "Frecuentes, y suelen pasar en unas horas: entumecimiento, hormigueo, enrojecimiento e irritación de la piel. "
    "Menos frecuentes: un cambio breve de la tensión arterial, y dolor o rigidez durante un día como mucho. "
    "Raros: congelación (quemadura por frío) de la piel y daño en los nervios."
)

CONSENT_BODIES_V1 = {
    "wbc": (
        "Crioterapia de cuerpo entero: usted permanece de pie en una cámara enfriada con nitrógeno a unos -110 a "
        "-140 °C, con la cabeza fuera, durante uno a tres minutos. Un miembro del personal formado le observa todo "
        "el tiempo y usted puede parar en cualquier momento.\n\n"
        f"Riesgos y efectos adversos. {CRYO_RISKS}\n\n"
        "Para su seguridad: póngase los calcetines, los guantes y la protección para las orejas que le damos, "
        "quítese las joyas y cualquier objeto de metal, y mantenga la piel seca. Avísenos enseguida si se encuentra "
        "mal, mareado, le falta el aire o siente dolor. Si tiene alguna reacción durante o después de una sesión, "
        "pare y consulte a un médico; avísenos antes de su próxima sesión.\n\n"
        "Avísenos antes de cada sesión si su salud ha cambiado desde que respondió a nuestras preguntas de salud."
    ),
    "local_cryo": (
        "Crioterapia localizada: un aparato sopla aire muy frío (o se aplican compresas frías) sobre una zona, "
        "normalmente la espalda, durante unos minutos mientras un miembro del personal lo mueve sobre la piel.\n\n"
        f"Riesgos y efectos adversos. {CRYO_RISKS}\n\n"
        "Avísenos enseguida si la zona le quema, le pica mucho o se le duerme de una forma que le preocupe. Si tiene "
        "alguna reacción después de una sesión, consulte a un médico y avísenos antes de su próxima sesión.\n\n"
        "Avísenos antes de cada sesión si su salud ha cambiado desde que respondió a nuestras preguntas de salud."
    ),
    "acupuncture": (
        "Acupuntura: se colocan en la piel, en puntos elegidos, agujas finas, estériles y de un solo uso, y se dejan "
        "unos 20 a 30 minutos. Su primera visita incluye preguntas sobre su historia y su dolor.\n\n"
        "Riesgos y efectos adversos. Frecuentes y leves: dolor o moratones donde entraron las agujas, y un poco de "
        "sangrado. Algunas personas se sienten cansadas o mareadas después. Raros: desmayo e infección en el punto "
        "de una aguja.\n\n"
        "Avísenos si en algún momento se siente débil o se encuentra mal; las agujas se pueden retirar enseguida. "
        "Avísenos antes de cada sesión si su salud o sus medicamentos han cambiado, sobre todo los anticoagulantes, "
        "un embarazo o un nuevo dispositivo implantado."
    ),
}

CLEARANCE_CONDITIONS = {
    "Manual needling only (no electro-stimulation)": {
        "name": "Solo punción manual (sin electroestimulación)",
        "description": "Marcapasos o dispositivo electrónico implantado: la electroacupuntura puede interferir con "
        "el dispositivo.",
    },
    "No electro-stimulation": {
        "name": "Sin electroestimulación",
        "description": "La electroacupuntura no es adecuada para este paciente.",
    },
    "Short exposure only (at most 2 minutes)": {
        "name": "Solo exposición corta (2 minutos como máximo)",
        "description": "Crioterapia con una exposición más corta, por ejemplo en una primera sesión con un riesgo "
        "relativo.",
    },
}


def forwards(apps, schema_editor):
    Questionnaire = apps.get_model("screening", "Questionnaire")
    Question = apps.get_model("screening", "Question")
    Contraindication = apps.get_model("screening", "Contraindication")
    ConsentText = apps.get_model("screening", "ConsentText")
    ClearanceCondition = apps.get_model("screening", "ClearanceCondition")
    copy_english(Questionnaire, ["title", "introduction"])
    copy_english(Question, ["text", "help_text"])
    copy_english(Contraindication, ["name", "patient_reason"])
    copy_english(ConsentText, ["body"])
    copy_english(ClearanceCondition, ["name", "description"])

    # Only the seeded first versions: a clinic's own later versions have wording we cannot know.
    fill_spanish(Questionnaire.objects.filter(version=1), QUESTIONNAIRE_V1)
    for code, (name, reason, text, help_text) in CONTRAINDICATIONS.items():
        fill_spanish(Contraindication.objects.filter(code=code), {"name": name, "patient_reason": reason})
        if text is not None:
            values = {"text": text, "help_text": help_text} if help_text else {"text": text}
            fill_spanish(Question.objects.filter(questionnaire__version=1, key=code), values)
    for kind, body in CONSENT_BODIES_V1.items():
        fill_spanish(ConsentText.objects.filter(version=1, modality__kind=kind), {"body": body})
    for name, values in CLEARANCE_CONDITIONS.items():
        fill_spanish(ClearanceCondition.objects.filter(name_en_gb=name), values)



class Migration(migrations.Migration):

    dependencies = [
        ('screening', '0006_screening_texts_per_language_and_consent_language'),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
