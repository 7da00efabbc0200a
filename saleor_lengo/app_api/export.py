"""Print the app's GraphQL schema: `python -m saleor_lengo.app_api.export > graphql/app/schema.graphql`.

The committed file is what reviewers and the page's author read; a test
fails when it no longer matches the live schema.
"""

from __future__ import annotations

import sys

from saleor_lengo.app_api.schema import sdl


def main() -> int:
    sys.stdout.write(sdl())
    return 0


if __name__ == "__main__":
    sys.exit(main())
