"""Everything that speaks Saleor: events, manifest, signatures, GraphQL."""
