"""Request bodies as the service checks them: schemas, checks and their error answers."""
