"""Resolvers, one concept per module; they know the database and the services, not strawberry."""
