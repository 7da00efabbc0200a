"""Links into the Saleor Dashboard: a payment in the app's page, on Saleor 3.23's routes."""

from __future__ import annotations

from saleor_lengo.saleor.dashboard import payment_page


def test_the_dashboard_is_found_beside_saleors_api_and_the_app_id_is_quoted() -> None:
    assert payment_page("https://shop.example/graphql/", "QXBwOjE=", "ab12", None) == (
        "https://shop.example/dashboard/extensions/app/QXBwOjE%3D?payment=ab12"
    )


def test_dashboard_url_replaces_the_guess() -> None:
    assert payment_page("https://api.shop.example/graphql/", "QXBwOjE=", "ab12", "https://admin.shop.example/") == (
        "https://admin.shop.example/extensions/app/QXBwOjE%3D?payment=ab12"
    )
