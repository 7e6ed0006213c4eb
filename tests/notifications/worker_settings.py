"""Settings for the Celery workers the real-worker tests start: the project's, with test backends.

``REMINDER_TEST_EMAIL_BACKEND`` and ``REMINDER_TEST_SMS_BACKEND`` choose other test backends
(``tests.notifications.recording_backends``); both write under ``REMINDER_TEST_MAIL_DIR``.
"""

import os

from clinic.settings import *  # noqa: F403

EMAIL_BACKEND = os.environ.get("REMINDER_TEST_EMAIL_BACKEND", "tests.notifications.email_backends.SlowFileBackend")
EMAIL_FILE_PATH = os.environ["REMINDER_TEST_MAIL_DIR"]
SMS_BACKEND = os.environ.get("REMINDER_TEST_SMS_BACKEND", SMS_BACKEND)  # noqa: F405
