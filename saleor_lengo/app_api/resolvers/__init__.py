"""Resolvers, one concept per module; they know the database and their collaborators (`context.Needs`), not strawberry."""
