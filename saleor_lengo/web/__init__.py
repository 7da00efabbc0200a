"""HTTP glue: routes verify, parse, call and render. No SQL and no outbound HTTP here."""
