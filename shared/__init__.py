"""What every service uses: configuration, database, auth, errors, Celery, HTTP clients."""
