"""Settings for the Celery worker the real-worker tests start: the project's, with a test mail backend."""

import os

from clinic.settings import *  # noqa: F403

EMAIL_BACKEND = "tests.notifications.email_backends.SlowFileBackend"
EMAIL_FILE_PATH = os.environ["REMINDER_TEST_MAIL_DIR"]
