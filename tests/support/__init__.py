"""What the tests share: an emulated world (`emulated.emulated_env`), row factories, the app
with its lifespan and a CMS receiver (`webhooks`), the shared fixture files, moderation data."""
