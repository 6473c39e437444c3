from instagram_service.cli.app import app

app()
