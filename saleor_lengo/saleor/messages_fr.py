"""The French of every message the app writes into Saleor, keyed by its English template (saleor_lengo.words).

tests/saleor/test_messages.py checks that every template in the code has its
French here, with the same fields, and that nothing here is unused. Places
in the app's page are named as its French labels name them
(static/app/i18n.js); French typography puts a no-break space before
":", ";", "?" and "!".
"""

from __future__ import annotations

from saleor_lengo.page_words import ACCOUNT_CHANGE, ACCOUNT_SETTINGS, APP_PAGE, RECORD_REFUND

_PAGE = "Extensions → Lengo Pay"
_ACCOUNT = f"{_PAGE} → Compte Lengo"
_CHANGE = f"{_ACCOUNT} → Modifier"
_RECORD = "« Enregistrer un remboursement fait à la main »"
_LIMIT = "limite quotidienne de versements atteinte"

FRENCH: dict[str, str] = {
    # --- Paid, failed, expired (outbox reports and session answers) ---
    "Paid on Lengo Pay with {gateway}: {amount}.": "Payé sur Lengo Pay avec {gateway}\u00a0: {amount}.",
    "Paid on Lengo Pay: {amount}.": "Payé sur Lengo Pay\u00a0: {amount}.",
    "Lengo confirmed {confirmed} but {requested} was requested.": "Lengo a confirmé {confirmed}, mais {requested} était demandé.",
    "Late payment after the payment was canceled: refund due to the shopper unless the order is fulfilled.":
        "Paiement tardif, après l'annulation du paiement\u00a0: remboursement dû au client, sauf si la commande est honorée.",
    "Late payment after the payment was expired: refund due to the shopper unless the order is fulfilled.":
        "Paiement tardif, après l'expiration du paiement\u00a0: remboursement dû au client, sauf si la commande est honorée.",
    "Paid after an earlier failure was reported.": "Payé après qu'un échec a été signalé.",
    "Amount set by staff after review: Lengo Pay had reported one that could not be right.":
        "Montant fixé par l'équipe après vérification\u00a0: Lengo Pay en avait signalé un qui ne pouvait pas être juste.",
    "TEST PAYMENT ({environment}): no real money.": "PAIEMENT DE TEST ({environment})\u00a0: pas d'argent réel.",
    "Payment failed on Lengo Pay.": "Le paiement a échoué sur Lengo Pay.",
    "Lengo status {status} ({source}) with an amount that cannot be right: {paid} ({problem}; {requested} was "
    "requested). Nothing was reported to Saleor: check the payment on the Lengo portal, then resolve it "
    "(saleor-lengo payments resolve).":
        "Statut Lengo {status} ({source}) avec un montant qui ne peut pas être juste\u00a0: {paid} ({problem}\u00a0; "
        "{requested} était demandé). Rien n'a été signalé à Saleor\u00a0: vérifiez le paiement sur le portail Lengo, "
        "puis tranchez (saleor-lengo payments resolve).",
    "Payment link recovered by the reconciler.": "Lien de paiement retrouvé par le rapprochement.",
    "Payment expired unpaid: Lengo Pay still reported it {status} when its time ran out. If the shopper pays the "
    "old link later, it will be reported as charged, with a refund due.":
        "Paiement expiré sans être payé\u00a0: Lengo Pay le disait encore {status} à son échéance. Si le client paie "
        "l'ancien lien plus tard, il sera signalé comme encaissé, avec un remboursement dû.",
    "Payment expired: Lengo Pay does not know this payment ({error}). If it is paid after all, it will be "
    "reported as charged, with a refund due.":
        "Paiement expiré\u00a0: Lengo Pay ne connaît pas ce paiement ({error}). S'il est payé malgré tout, il sera "
        "signalé comme encaissé, avec un remboursement dû.",
    "Payment expired without confirmation: Lengo Pay could not be asked about it for its whole watch period "
    "({error}). Check the Lengo Pay merchant portal before shipping or refunding anything.":
        "Paiement expiré sans confirmation\u00a0: Lengo Pay n'a pas pu être interrogé pendant toute sa période de "
        "surveillance ({error}). Vérifiez sur le portail marchand Lengo Pay avant d'expédier ou de rembourser quoi que ce soit.",
    "The request creating this payment at Lengo Pay never finished (the app stopped); a payment may or may not "
    "exist on Lengo's side, and its link was never shown to anyone. Check the Lengo portal before the shopper "
    "pays again.":
        "La demande de création de ce paiement chez Lengo Pay ne s'est jamais terminée (l'app s'est arrêtée)\u00a0; "
        "un paiement existe peut-être chez Lengo, et son lien n'a jamais été montré à personne. Vérifiez sur le "
        "portail Lengo avant que le client ne paie à nouveau.",
    # --- Session answers ---
    "No Lengo Pay payment is known for this transaction: it was not started through this app "
    "(TRANSACTION_INITIALIZE_SESSION), or the app's database lost it.":
        "Aucun paiement Lengo Pay n'est connu pour cette transaction\u00a0: il n'a pas été lancé par cette app "
        "(TRANSACTION_INITIALIZE_SESSION), ou la base de données de l'app l'a perdu.",
    "Lengo Pay reported this payment as paid with an amount that cannot be right; it is held for review and "
    "nothing is reported until staff resolve it.":
        "Lengo Pay a signalé ce paiement comme payé avec un montant qui ne peut pas être juste\u00a0; il est retenu "
        "pour vérification et rien n'est signalé tant que l'équipe n'a pas tranché.",
    "An earlier request for this transaction is still waiting for Lengo Pay to create the payment, so its "
    "outcome is not known yet. Check the Lengo portal before the shopper pays again.":
        "Une demande précédente pour cette transaction attend encore que Lengo Pay crée le paiement\u00a0: son issue "
        "n'est pas encore connue. Vérifiez sur le portail Lengo avant que le client ne paie à nouveau.",
    "Waiting for the shopper to pay {amount} on Lengo Pay (Lengo status {status}).":
        "En attente du paiement de {amount} par le client sur Lengo Pay (statut Lengo {status}).",
    "Lengo Pay payment page created for {amount}; waiting for the shopper to pay.":
        "Page de paiement Lengo Pay créée pour {amount}\u00a0; en attente du paiement du client.",
    "The Lengo Pay payment is {state}.": "Le paiement Lengo Pay est {state}.",
    "The status could not be checked with Lengo Pay just now ({error}); this is the last known state.":
        "Le statut n'a pas pu être vérifié auprès de Lengo Pay à l'instant ({error})\u00a0; voici le dernier état connu.",
    "Its Lengo Pay configuration was deleted, so the status could not be checked.":
        "Sa configuration Lengo Pay a été supprimée\u00a0: le statut n'a pas pu être vérifié.",
    # --- Refusals before a payment exists ---
    f"No Lengo account takes the payments of channel {{channel}}: in {ACCOUNT_SETTINGS}, connect an account and "
    "choose it for this channel.":
        f"Aucun compte Lengo ne prend les paiements du canal {{channel}}\u00a0: dans {_ACCOUNT}, connectez un compte "
        "et choisissez-le pour ce canal.",
    "Lengo Pay accepts {accepted} here, not {currency}.": "Lengo Pay accepte ici {accepted}, pas {currency}.",
    "Lengo Pay cannot take this amount ({problem}).": "Lengo Pay ne peut pas prendre ce montant ({problem}).",
    "Amounts in {currency} cannot have that many decimals: this amount cannot be paid.":
        "Les montants en {currency} ne peuvent pas avoir autant de décimales\u00a0: ce montant ne peut pas être payé.",
    "Amounts in {currency} must be whole: {sent} cannot be paid.":
        "Les montants en {currency} doivent être entiers\u00a0: {sent} ne peut pas être payé.",
    "Amounts in {currency} have at most {digits} decimals: {sent} cannot be paid.":
        "Les montants en {currency} ont au plus {digits} décimales\u00a0: {sent} ne peut pas être payé.",
    "between {low} and {high}": "entre {low} et {high}",
    "of at least {low}": "d'au moins {low}",
    "of at most {high}": "d'au plus {high}",
    "above zero": "supérieurs à zéro",
    "Lengo Pay takes amounts {bounds}, not {amount}.": "Lengo Pay prend des montants {bounds}, pas {amount}.",
    "The storefront sent no data.returnUrl and Lengo account {account} has no default return URL: "
    f"set one in {ACCOUNT_CHANGE} → “Default return URL”, or have the storefront send data.returnUrl.":
        "La boutique n'a pas envoyé de data.returnUrl et le compte Lengo {account} n'a pas d'URL de retour par "
        f"défaut\u00a0: définissez-en une dans {_CHANGE} → « URL de retour par défaut », ou faites envoyer "
        "data.returnUrl par la boutique.",
    "data.returnUrl must be a URL of at most {limit} characters.":
        "data.returnUrl doit être une URL d'au plus {limit} caractères.",
    "The return URL must be an absolute http(s) URL.": "L'URL de retour doit être une URL http(s) absolue.",
    "Return URL not allowed: Lengo account {account} has no return URL pattern; add one that matches "
    f"your storefront in {ACCOUNT_CHANGE} → “Return URL patterns”.":
        "URL de retour refusée\u00a0: le compte Lengo {account} n'a aucun modèle d'URL de retour\u00a0; ajoutez-en "
        f"un qui corresponde à votre boutique dans {_CHANGE} → « Modèles d'URL de retour ».",
    "Return URL not allowed by configuration {account}: it matches none of its return URL patterns.":
        "URL de retour refusée par la configuration {account}\u00a0: elle ne correspond à aucun de ses modèles d'URL de retour.",
    "Configuration {account} cannot be used to call Lengo Pay: {error}.":
        "La configuration {account} ne peut pas servir à appeler Lengo Pay\u00a0: {error}.",
    "Lengo Pay did not answer within {seconds} s": "Lengo Pay n'a pas répondu en {seconds}\u00a0s",
    "{what}; a payment of {amount} may or may not exist on Lengo's side. This attempt is marked failed and its "
    "link was never shown to anyone: check the Lengo portal (site {site}) before the shopper pays again.":
        "{what}\u00a0; un paiement de {amount} existe peut-être chez Lengo. Cette tentative est marquée en échec et "
        "son lien n'a jamais été montré à personne\u00a0: vérifiez sur le portail Lengo (site {site}) avant que le "
        "client ne paie à nouveau.",
    "Lengo Pay refused the license key of configuration {account} (HTTP {status}): check its site id, license "
    "key and environment. No payment was created.":
        "Lengo Pay a refusé la clé de licence de la configuration {account} (HTTP {status})\u00a0: vérifiez son "
        "identifiant de site, sa clé de licence et son environnement. Aucun paiement n'a été créé.",
    "Lengo Pay refused to create a payment of {amount}: {error}. No payment was created.":
        "Lengo Pay a refusé de créer un paiement de {amount}\u00a0: {error}. Aucun paiement n'a été créé.",
    "Lengo Pay could not be reached ({error}); no payment was created. The shopper may try again.":
        "Lengo Pay est injoignable ({error})\u00a0; aucun paiement n'a été créé. Le client peut réessayer.",
    "The request creating this payment at Lengo Pay never finished (the app may have restarted); a payment of "
    "{amount} may or may not exist on Lengo's side. Check the Lengo portal before the shopper pays again.":
        "La demande de création de ce paiement chez Lengo Pay ne s'est jamais terminée (l'app a peut-être "
        "redémarré)\u00a0; un paiement de {amount} existe peut-être chez Lengo. Vérifiez sur le portail Lengo avant "
        "que le client ne paie à nouveau.",
    # --- A payment's state, inside a sentence ---
    "its payment link is still being created": "son lien de paiement est encore en cours de création",
    "it is not paid yet": "il n'est pas encore payé",
    "it is paid": "il est payé",
    "it failed": "il a échoué",
    "it was canceled": "il a été annulé",
    "it expired unpaid": "il a expiré sans être payé",
    "it is held for staff review: Lengo Pay reported it paid with an amount that cannot be right":
        "il est retenu pour vérification par l'équipe\u00a0: Lengo Pay l'a signalé payé avec un montant qui ne peut pas être juste",
    "staff closed it as not charged": "l'équipe l'a clos comme non encaissé",
    "creating": "en création",
    "waiting for payment": "en attente de paiement",
    "paid": "payé",
    "failed": "en échec",
    "canceled": "annulé",
    "expired": "expiré",
    "held for review": "retenu pour vérification",
    "closed": "clos",
    # --- Capture, cancel ---
    "Nothing to capture: Lengo Pay charges the shopper at payment time, with no separate capture.":
        "Rien à capturer\u00a0: Lengo Pay débite le client au moment du paiement, sans capture séparée.",
    "No Lengo Pay payment is known for this transaction.": "Aucun paiement Lengo Pay n'est connu pour cette transaction.",
    "This payment was already charged ({amount}) and reported; nothing more was charged.":
        "Ce paiement a déjà été encaissé ({amount}) et signalé\u00a0; rien de plus n'a été encaissé.",
    "This payment is not paid yet; it will be reported as charged when the shopper pays.":
        "Ce paiement n'est pas encore payé\u00a0; il sera signalé comme encaissé quand le client paiera.",
    "Nothing was charged: {state}.": "Rien n'a été encaissé\u00a0: {state}.",
    "Canceled from Saleor (cancelation requested).": "Annulé depuis Saleor (annulation demandée).",
    "Lengo Pay cannot close a payment link, so the shopper may still pay it; such a payment would be reported "
    "here as charged, with a refund due.":
        "Lengo Pay ne peut pas fermer un lien de paiement\u00a0: le client peut encore le payer\u00a0; un tel paiement "
        "serait signalé ici comme encaissé, avec un remboursement dû.",
    "Not canceled: already paid — refund instead ({amount} paid on Lengo Pay). Lengo Pay has no refund API: "
    "refund the shopper by hand.":
        "Non annulé\u00a0: déjà payé — remboursez plutôt ({amount} payé sur Lengo Pay). Lengo Pay n'a pas d'API de "
        "remboursement\u00a0: remboursez le client à la main.",
    "Already {state}; Lengo Pay reports it unpaid ({status}).": "Déjà {state}\u00a0; Lengo Pay le dit non payé ({status}).",
    "Canceled, but Lengo Pay reports that the shopper was paying at that very moment (PENDING): the payment may "
    "still complete.":
        "Annulé, mais Lengo Pay indique que le client payait à cet instant même (PENDING)\u00a0: le paiement peut "
        "encore aboutir.",
    "Canceled: Lengo Pay reports this payment unpaid ({status}).": "Annulé\u00a0: Lengo Pay dit ce paiement non payé ({status}).",
    "Nothing to cancel: staff closed this payment as not charged.":
        "Rien à annuler\u00a0: l'équipe a clos ce paiement comme non encaissé.",
    "Not canceled: {state}. Check it on the Lengo portal and resolve it (saleor-lengo payments resolve, or the "
    "app's page in the Dashboard).":
        "Non annulé\u00a0: {state}. Vérifiez-le sur le portail Lengo et tranchez (saleor-lengo payments resolve, ou "
        "la page de l'app dans le Dashboard).",
    "Not canceled: no Lengo Pay payment is known for this transaction.":
        "Non annulé\u00a0: aucun paiement Lengo Pay n'est connu pour cette transaction.",
    "Not canceled: the Lengo Pay payment link is still being created. Try again in a minute.":
        "Non annulé\u00a0: le lien de paiement Lengo Pay est encore en cours de création. Réessayez dans une minute.",
    "Nothing to cancel: no Lengo Pay payment link was ever created ({state}), so nothing can be paid.":
        "Rien à annuler\u00a0: aucun lien de paiement Lengo Pay n'a jamais été créé ({state})\u00a0: rien ne peut être payé.",
    "Not canceled: the Lengo Pay configuration of this payment was deleted, so Lengo cannot be asked whether it "
    "is paid.":
        "Non annulé\u00a0: la configuration Lengo Pay de ce paiement a été supprimée\u00a0; on ne peut pas demander à "
        "Lengo s'il est payé.",
    "no answer within {seconds} s": "pas de réponse en {seconds}\u00a0s",
    "Not canceled: it could not be confirmed with Lengo Pay that the payment is unpaid ({error}). Try again later.":
        "Non annulé\u00a0: Lengo Pay n'a pas pu confirmer que le paiement n'est pas payé ({error}). Réessayez plus tard.",
    # --- Refunds ---
    "Nothing was refunded: Lengo Pay has no refund API. Refund {amount} to the payer by hand ({method}from the "
    "Lengo Pay merchant portal or by a mobile-money transfer), then record it "
    f"in {APP_PAGE}: search for {{reference}}, open the payment and use {RECORD_REFUND}. Do not add a manual "
    "refund in Saleor: it would ask the app for another refund.":
        "Rien n'a été remboursé\u00a0: Lengo Pay n'a pas d'API de remboursement. Remboursez {amount} au payeur à la "
        "main ({method}depuis le portail marchand Lengo Pay ou par un transfert mobile money), puis enregistrez-le "
        f"dans {_PAGE}\u00a0: cherchez {{reference}}, ouvrez le paiement et utilisez {_RECORD}. N'ajoutez pas de "
        "remboursement manuel dans Saleor\u00a0: il demanderait un autre remboursement à l'app.",
    "the amount due": "le montant dû",
    "{gateway}; ": "{gateway}\u00a0; ",
    "Nothing was refunded: no Lengo Pay payment is known for this transaction, and Lengo Pay has no refund API.":
        "Rien n'a été remboursé\u00a0: aucun paiement Lengo Pay n'est connu pour cette transaction, et Lengo Pay n'a "
        "pas d'API de remboursement.",
    "Nothing was refunded: Lengo Pay has not reported this payment as paid ({state}). "
    f"Lengo Pay has no refund API; {APP_PAGE} shows this payment and can ask Lengo for its status again.":
        "Rien n'a été remboursé\u00a0: Lengo Pay n'a pas signalé ce paiement comme payé ({state}). Lengo Pay n'a pas "
        f"d'API de remboursement\u00a0; {_PAGE} montre ce paiement et peut redemander son statut à Lengo.",
    "Refund made by hand outside Lengo Pay, recorded by {who}: {amount}.":
        "Remboursement fait à la main hors de Lengo Pay, enregistré par {who}\u00a0: {amount}.",
    "Note: {note}": "Note\u00a0: {note}",
    "Nothing was refunded: the refund amount or currency cannot be paid out ({currency} only).":
        "Rien n'a été remboursé\u00a0: le montant ou la devise du remboursement ne peut pas être versé ({currency} seulement).",
    "Nothing was refunded: the refund amount is {problem}.": "Rien n'a été remboursé\u00a0: le montant du remboursement est {problem}.",
    "Nothing was refunded: at most {left} can still be refunded ({charged} charged, {refunded} refunded, the rest "
    "held by payouts in progress).":
        "Rien n'a été remboursé\u00a0: au plus {left} peut encore être remboursé ({charged} encaissé, {refunded} "
        "remboursé, le reste retenu par des versements en cours).",
    "Nothing was refunded: a payout must be at least {minimum}.": "Rien n'a été remboursé\u00a0: un versement doit être d'au moins {minimum}.",
    "Nothing was refunded: daily payout limit reached ({used} of {limit} over the last 24 hours). "
    f"Refund by hand and record it in {APP_PAGE}, or try again later.":
        f"Rien n'a été remboursé\u00a0: {_LIMIT} ({{used}} sur {{limit}} au cours des dernières 24 heures). "
        f"Remboursez à la main et enregistrez-le dans {_PAGE}, ou réessayez plus tard.",
    "Nothing was refunded: the payer's number cannot be read (check SECRET_KEY).":
        "Rien n'a été remboursé\u00a0: le numéro du payeur est illisible (vérifiez SECRET_KEY).",
    "{amount} to {account}": "{amount} vers {account}",
    "Refunded {amount} to the payer's mobile-money account {account} (Lengo Pay cash-in {cashin}).":
        "{amount} remboursé sur le compte mobile money du payeur {account} (cash-in Lengo Pay {cashin}).",
    "Nothing was refunded: the Lengo Pay balance ({balance}) is below the payout ({amount}). Top it up and refund "
    "again, or refund by hand.":
        "Rien n'a été remboursé\u00a0: le solde Lengo Pay ({balance}) est inférieur au versement ({amount}). "
        "Approvisionnez-le et remboursez à nouveau, ou remboursez à la main.",
    "Nothing was refunded: {error}.": "Rien n'a été remboursé\u00a0: {error}.",
    "The cash-in's outcome is unknown and Lengo's history could not be read for a day ({error}).":
        "L'issue du cash-in est inconnue et l'historique de Lengo n'a pas pu être lu pendant un jour ({error}).",
    "{count} cash-ins in Lengo's history could be this payout ({payout}): check them on the Lengo portal.":
        "{count} cash-ins de l'historique de Lengo pourraient être ce versement ({payout})\u00a0: vérifiez-les sur le portail Lengo.",
    "The cash-in request's outcome is unknown and Lengo's history shows no matching cash-in after {minutes} "
    "minutes: check the Lengo portal before resolving it. It was not sent again.":
        "L'issue de la demande de cash-in est inconnue et l'historique de Lengo ne montre aucun cash-in "
        "correspondant après {minutes} minutes\u00a0: vérifiez sur le portail Lengo avant de trancher. Elle n'a pas été renvoyée.",
    "Lengo Pay reported the payout of {payout} failed: nothing reached the payer. Its amount stays reserved for "
    "an hour, in case Lengo reports it paid after all.":
        "Lengo Pay a signalé l'échec du versement de {payout}\u00a0: rien n'a atteint le payeur. Son montant reste "
        "réservé une heure, au cas où Lengo le signalerait versé malgré tout.",
    "Lengo Pay has not reported the cash-in final after a day: check it on the Lengo portal.":
        "Lengo Pay n'a pas donné l'issue finale du cash-in après un jour\u00a0: vérifiez-le sur le portail Lengo.",
    "Refund paid out ({payout}), confirmed by {by} after review: {note}":
        "Remboursement versé ({payout}), confirmé par {by} après vérification\u00a0: {note}",
    "Nothing was refunded: staff ({by}) found the payout of {payout} not paid out: {note}":
        "Rien n'a été remboursé\u00a0: l'équipe ({by}) a constaté que le versement de {payout} n'a pas été fait\u00a0: {note}",
}
