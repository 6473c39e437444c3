from tests.support.webhooks import app_env as env  # noqa: F401 (the fixture)
