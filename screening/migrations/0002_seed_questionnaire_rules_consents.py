"""Seed the contraindications, their rules per modality, questionnaire v1 and consent texts v1.

Sources: the articles in shared/seeds (000, 001, 003 for cryotherapy; 004 for acupuncture)
and common clinical practice for acupuncture screening.  The articles say "avoid" for every
cryotherapy item without grading them; the grading below is ours and the admin can change it.

How the severities were chosen
------------------------------
A = absolute (not eligible), R = relative (a practitioner must review and clear), - = no effect.
Columns: whole-body cryotherapy (WBC) | localized cryotherapy (LOC) | acupuncture (ACU).

WBC is the harshest exposure: the whole body (except the head) at about -110 to -140 °C, with
a sharp rise in blood pressure and heart rate from cold-induced vasoconstriction, and the
patient alone in the chamber.  So conditions where that cardiovascular load or a sudden event
in the chamber could be dangerous are absolute: Raynaud's, cold urticaria, circulatory
disorders (PAD, venous disease, DVT: clot or ischaemia risk), recent heart attack (< 6
months), unstable angina, other heart disease or arrhythmia, history of stroke or brain
bleed, seizures (a fit alone in the chamber), tumours, pacemaker or implanted electronics
(device behaviour in extreme cold is not guaranteed) and pregnancy (no safety data).
Conditions that are often well controlled and where a clinician can judge the individual
case are relative: high blood pressure (cleared if controlled), poor circulation, nerve
damage (reduced feeling hides cold injury), skin conditions, respiratory illness (mild
controlled asthma is often fine, an active chest infection is not), anaemia, bleeding
disorders, kidney disease, and metal implants (large metal cools; the clinician decides).

Localized cryotherapy cools one area (usually the back) with cold air or packs: the systemic
load is small, so most cardiovascular items become relative (a clinician checks), and only
the conditions that are about the cold reaction of the skin itself stay absolute:
Raynaud's and cold urticaria.  Skin problems, nerve damage and skin infection at the site
are relative because they matter where the cold is applied.  Anaemia, kidney disease,
seizures, high blood pressure and respiratory illness have no effect on a local treatment.

Acupuncture is not a cold treatment, so the cold-specific items have no effect.  The
acupuncture screen (article 004 and common practice) is all relative: bleeding disorders and
anticoagulants (bruising and bleeding at needle sites: usually fine with care), pacemaker or
implanted electronics (electro-acupuncture must not be used; manual needling is fine),
pregnancy (some points are avoided), needle phobia (fainting risk; the practitioner plans
for it), skin infection at the needle sites (needle elsewhere or wait), tumours (avoid
needling over the site), seizures (a fit with needles in place).

Age under 18 is not a question: it follows from the date of birth on the day of treatment.
It is absolute for WBC (article 003: not for patients younger than 18) and relative for
localized cryotherapy (a clinician decides with a parent or guardian).
"""

from django.db import migrations

A, R, N = "absolute", "relative", "none"

# code, clinical name, reason in the patient's words, (WBC, LOC, ACU) severities, question, help text
CONTRAINDICATIONS = [
    ("raynauds", "Raynaud's syndrome", "you told us you have Raynaud's syndrome", (A, A, N),
     "Do your fingers or toes turn white or blue when they get cold (Raynaud's syndrome)?", ""),
    ("cold-urticaria", "Cold urticaria", "you told us you get hives or swelling from the cold (cold urticaria)", (A, A, N),
     "Do you get hives, a rash or swelling when your skin gets cold (cold urticaria)?", ""),
    ("circulatory-disorder", "Peripheral artery or venous disease (including DVT)",
     "you told us you have had a blood clot or have artery or vein disease", (A, R, N),
     "Have you ever had a blood clot (DVT), or been told you have artery or vein disease in your legs or arms?",
     "For example peripheral artery disease or venous disease."),
    ("poor-circulation", "Poor circulation", "you told us you have poor circulation", (R, R, N),
     "Do you have poor circulation, for example hands and feet that are often cold, pale or numb?", ""),
    ("nerve-damage", "Nerve damage or reduced sensation", "you told us you have nerve damage or reduced feeling in your skin",
     (R, R, N),
     "Do you have nerve damage, or areas of skin where you cannot feel heat, cold or touch properly?",
     "For example from diabetes (neuropathy) or an injury."),
    ("skin-condition", "Skin condition", "you told us you have a skin condition, wound or rash", (R, R, N),
     "Do you have a skin condition, an open wound or a rash?", "For example eczema, psoriasis or a healing scar."),
    ("respiratory-illness", "Respiratory illness", "you told us you have a lung or breathing condition", (R, N, N),
     "Do you have a lung or breathing condition such as asthma or COPD, or a chest infection at the moment?", ""),
    ("recent-heart-attack", "Heart attack in the past six months",
     "you told us you have had a heart attack in the last six months", (A, R, N),
     "Have you had a heart attack in the last six months?", ""),
    ("high-blood-pressure", "High blood pressure", "you told us you have high blood pressure", (R, N, N),
     "Do you have high blood pressure, or take medicine for it?", ""),
    ("unstable-angina", "Unstable angina", "you told us you have chest pain (angina) that is not stable", (A, R, N),
     "Do you get chest pain (angina) that comes on at rest, or that has got worse recently?", ""),
    ("cardiovascular-disease", "Cardiovascular disease or arrhythmia",
     "you told us you have a heart condition or an irregular heartbeat", (A, R, N),
     "Do you have any other heart condition, or an irregular heartbeat (arrhythmia)?",
     "For example heart failure, a heart valve problem or atrial fibrillation."),
    ("anaemia", "Anaemia", "you told us you have anaemia", (R, N, N),
     "Have you been told you have anaemia (low iron or too few red blood cells)?", ""),
    ("tumour", "Tumour or cancer", "you told us you have a tumour or cancer", (A, R, R),
     "Do you have a tumour or cancer, or are you having treatment for cancer?", ""),
    ("stroke", "History of stroke or cerebral haemorrhage", "you told us you have had a stroke or a bleed in the brain",
     (A, R, N), "Have you ever had a stroke, or bleeding in the brain?", ""),
    ("seizures", "History of seizures", "you told us you have had seizures", (A, N, R),
     "Have you ever had a seizure or fit, or do you have epilepsy?", ""),
    ("bleeding-disorder", "Bleeding disorder", "you told us you have a bleeding disorder", (R, R, R),
     "Do you have a bleeding disorder such as haemophilia, or do you bruise or bleed very easily?", ""),
    ("anticoagulants", "Anticoagulant (blood-thinning) medicine", "you told us you take blood-thinning medicine",
     (N, N, R),
     "Do you take medicine that thins your blood?",
     "For example warfarin, apixaban, rivaroxaban, dabigatran or clopidogrel. Daily low-dose aspirin counts too."),
    ("kidney-disease", "Acute or chronic kidney disease", "you told us you have kidney disease", (R, N, N),
     "Do you have kidney disease, now or long-term?", ""),
    ("metal-implant", "Metal implants", "you told us you have metal implants", (R, R, N),
     "Do you have metal inside your body, such as a joint replacement, plates, screws or pins?",
     "Not fillings in your teeth."),
    ("pacemaker", "Pacemaker or implanted electronic device",
     "you told us you have a pacemaker or another implanted device", (A, R, R),
     "Do you have a pacemaker, a defibrillator or any other electronic implant?", ""),
    ("pregnancy", "Pregnancy", "you told us you are or might be pregnant", (A, R, R),
     "Are you pregnant, or could you be?", ""),
    ("needle-phobia", "Needle phobia", "you told us you are very afraid of needles or faint with them", (N, N, R),
     "Are you very afraid of needles, or have you fainted during an injection or blood test?", ""),
    ("skin-infection", "Skin infection at the treatment site",
     "you told us you have a skin infection, cut or sore where you would be treated", (N, R, R),
     "Do you have a skin infection, cut or sore on your back, or wherever you are having treatment?", ""),
]

AGE_CONTRAINDICATIONS = [
    ("under-18", "Age under 18", "you will be under 18 on the day of treatment", 18, (A, R, N)),
]

KINDS = ("wbc", "local_cryo", "acupuncture")

INTRODUCTION = (
    "These questions keep your treatment safe. Answer yes or no; if you are not sure, answer yes "
    "and a practitioner will talk it through with you. Your answers are only seen by the clinical team."
)

CRYO_RISKS = (
    "Common, and usually gone within a few hours: numbness, tingling, skin redness and skin irritation. "
    "Less common: a short-lived change in blood pressure, and soreness or stiffness for up to a day. "
    "Rare: frostbite (cold burn) of the skin, and nerve damage."
)

CONSENT_BODIES = {
    "wbc": (
        "Whole-body cryotherapy: you stand in a chamber cooled with nitrogen to about -110 to -140 °C, "
        "with your head outside, for one to three minutes. A trained member of staff watches you the whole time "
        "and you can stop at any moment.\n\n"
        f"Risks and side effects. {CRYO_RISKS}\n\n"
        "To keep you safe: wear the socks, gloves and ear cover we give you, remove jewellery and anything metal, "
        "and keep your skin dry. Tell us at once if you feel unwell, dizzy, short of breath or have pain. "
        "If you have any reaction during or after a session, stop and seek medical advice; tell us before your next "
        "session.\n\n"
        "Tell us before each session if your health has changed since you answered our health questions."
    ),
    "local_cryo": (
        "Localized cryotherapy: a device blows very cold air (or cold packs are applied) on one area, usually your "
        "back, for a few minutes while a member of staff moves it over the skin.\n\n"
        f"Risks and side effects. {CRYO_RISKS}\n\n"
        "Tell us at once if the area burns, stings sharply or goes numb in a way that worries you. If you have any "
        "reaction after a session, seek medical advice and tell us before your next session.\n\n"
        "Tell us before each session if your health has changed since you answered our health questions."
    ),
    "acupuncture": (
        "Acupuncture: fine, single-use sterile needles are placed in the skin at chosen points and left for about "
        "20 to 30 minutes. Your first visit includes questions about your history and your pain.\n\n"
        "Risks and side effects. Common and mild: soreness or bruising where the needles went in, and a little "
        "bleeding. Some people feel tired or light-headed afterwards. Rare: fainting, and infection at a needle "
        "site.\n\n"
        "Tell us if you feel faint or unwell at any time; the needles can be removed at once. Tell us before each "
        "session if your health or your medicines have changed, especially blood thinners, pregnancy or a new "
        "implanted device."
    ),
}


def seed(apps, schema_editor):
    Modality = apps.get_model("clinic", "Modality")
    Contraindication = apps.get_model("screening", "Contraindication")
    ContraindicationRule = apps.get_model("screening", "ContraindicationRule")
    Questionnaire = apps.get_model("screening", "Questionnaire")
    Question = apps.get_model("screening", "Question")
    ConsentText = apps.get_model("screening", "ConsentText")

    modalities_by_kind = {kind: list(Modality.objects.filter(kind=kind)) for kind in KINDS}

    def rules(contraindication, severities):
        for kind, severity in zip(KINDS, severities):
            for modality in modalities_by_kind[kind]:
                ContraindicationRule.objects.update_or_create(
                    contraindication=contraindication, modality=modality, defaults={"severity": severity}
                )

    questionnaire, _ = Questionnaire.objects.get_or_create(
        version=1, defaults={"title": "Health questions", "introduction": INTRODUCTION, "is_current": True}
    )
    for position, (code, name, reason, severities, text, help_text) in enumerate(CONTRAINDICATIONS, start=1):
        contraindication, _ = Contraindication.objects.get_or_create(
            code=code, defaults={"name": name, "patient_reason": reason}
        )
        rules(contraindication, severities)
        question, _ = Question.objects.get_or_create(
            questionnaire=questionnaire,
            key=code,
            defaults={"text": text, "help_text": help_text, "position": position * 10},
        )
        question.contraindications.add(contraindication)
    for code, name, reason, under_age, severities in AGE_CONTRAINDICATIONS:
        contraindication, _ = Contraindication.objects.get_or_create(
            code=code, defaults={"name": name, "patient_reason": reason, "applies_under_age": under_age}
        )
        rules(contraindication, severities)

    for kind, body in CONSENT_BODIES.items():
        for modality in modalities_by_kind[kind]:
            ConsentText.objects.get_or_create(
                modality=modality, version=1, defaults={"body": body, "is_current": True}
            )


def unseed(apps, schema_editor):
    apps.get_model("screening", "ConsentText").objects.filter(version=1, consents__isnull=True).delete()
    apps.get_model("screening", "Questionnaire").objects.filter(version=1, submissions__isnull=True).delete()
    codes = [row[0] for row in CONTRAINDICATIONS] + [row[0] for row in AGE_CONTRAINDICATIONS]
    apps.get_model("screening", "Contraindication").objects.filter(code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0002_seed_catalogue"),
        ("screening", "0001_initial"),
    ]

    operations = [migrations.RunPython(seed, unseed)]
