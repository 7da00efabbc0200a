"""Everything that speaks Lengo Pay: its vocabulary, its errors and its HTTP client.

The facts behind this package (and how sure we are of each) are listed in
`shared/lengo/API.md`; `vocabulary` is the one place they are written down in
code.
"""
