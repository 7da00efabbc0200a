"""The payment flows: what a Saleor webhook, a Lengo answer, a watcher or staff do to a payment, over the payment core."""
