"""The app's own API for its Dashboard page: `POST /graphql`, strawberry-graphql.

    auth        who is calling: the Dashboard token, verified against the installation's JWKS
    schema      strawberry types, queries and mutations (imported lazily: start-up time matters)
    resolvers/  one module per concept: configurations, channels, payments, timeline,
                outbox, health, refunds
    export      `python -m saleor_lengo.app_api.export > graphql/app/schema.graphql`

Everything is scoped to the installation the token belongs to: no resolver
takes an installation id from the caller.
"""
