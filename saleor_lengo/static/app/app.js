/* The Lengo Pay page inside the Saleor Dashboard. Plain JS, no build step.
 *
 * app-bridge, as @saleor/app-sdk speaks it: the page posts
 * {type: "notifyReady", payload: {actionId}} to window.parent; the Dashboard
 * answers {type: "handshake", payload: {token, version, ...}} and later
 * {type: "tokenRefresh", payload: {token}}, {type: "theme", payload: {theme}},
 * {type: "localeChanged", payload: {locale}}. Messages are accepted only from
 * the Dashboard's origin (document.referrer, else the domain/saleorApiUrl
 * parameters). The token goes to the app's API as `authorization-bearer`.
 *
 * Every visible string comes from the dictionaries in i18n.js; the DOM is built
 * with textContent only, never innerHTML.
 */
(function () {
  "use strict";

  // --- Words -------------------------------------------------------------------

  var MESSAGES = window.LENGO_MESSAGES;
  var STATES = ["CREATING", "ACTION_REQUIRED", "SUCCEEDED", "FAILED", "CANCELED", "EXPIRED", "NEEDS_REVIEW", "CLOSED"];

  // --- State -------------------------------------------------------------------

  var params = new URLSearchParams(window.location.search);
  var state = {
    token: null,
    locale: pickLocale(params.get("locale")),
    saleorApiUrl: params.get("saleorApiUrl") || (params.get("domain") ? "https://" + params.get("domain") + "/graphql/" : ""),
    viewer: null,
    configurations: [],
    channels: [],
    view: "payments",
    cursors: [],
    payment: null,
    dead: [],
    editing: null,
    boot: null
  };
  var dashboardOrigins = allowedOrigins();
  var dashboardBase = dashboardBaseUrl();

  function pickLocale(raw) {
    var lang = String(raw || navigator.language || "en").toLowerCase().split(/[-_]/)[0];
    return MESSAGES[lang] ? lang : "en";
  }

  function t(key, values) {
    var text = (MESSAGES[state.locale] || MESSAGES.en)[key];
    if (text === undefined) text = MESSAGES.en[key] !== undefined ? MESSAGES.en[key] : key;
    // French puts a space before ? ! : ; and inside « »: one that never breaks, so "?" never starts a line.
    if (state.locale === "fr") text = text.replace(/ ([?!:;»])/g, "\u00a0$1").replace(/« /g, "«\u00a0");
    return text.replace(/\{(\w+)\}/g, function (_m, name) {
      return values && values[name] !== undefined ? String(values[name]) : "";
    });
  }

  function originOf(url) {
    try { return new URL(url).origin; } catch (_e) { return null; }
  }

  function allowedOrigins() {
    // The referrer is the Dashboard page that framed us: the one trusted origin.
    var fromReferrer = document.referrer ? originOf(document.referrer) : null;
    if (fromReferrer) return [fromReferrer];
    var found = [];
    var api = originOf(state.saleorApiUrl);
    if (api) found.push(api);
    if (params.get("domain")) found.push("https://" + params.get("domain"));
    return found;
  }

  function dashboardBaseUrl() {
    // Best guess at the Dashboard's root for plain links; the app-bridge
    // redirect (relative path) is used when the handshake is done. Saleor
    // 3.23's Dashboard frames apps under <root>/extensions/app/<id>, older
    // ones under <root>/apps/<id>/app: the root is what comes before either.
    if (document.referrer) {
      try {
        var ref = new URL(document.referrer);
        var at = ref.pathname.search(/\/(extensions|apps)\//);
        return ref.origin + (at >= 0 ? ref.pathname.slice(0, at) : "/dashboard");
      } catch (_e) { /* fall through */ }
    }
    var api = originOf(state.saleorApiUrl);
    return api ? api + "/dashboard" : "";
  }

  // --- DOM helpers ---------------------------------------------------------------

  function $(id) { return document.getElementById(id); }

  function h(tag, attrs) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === "text") el.textContent = v;
      else if (k === "onclick") el.addEventListener("click", v);
      else if (k === "onchange") el.addEventListener("change", v);
      else el.setAttribute(k, v === true ? "" : v);
    });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) continue;
      el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return el;
  }

  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

  function translatePage() {
    document.documentElement.lang = state.locale;
    document.title = t("title");
    document.querySelectorAll("[data-i18n]").forEach(function (el) { el.textContent = t(el.getAttribute("data-i18n")); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach(function (el) {
      el.setAttribute("placeholder", t(el.getAttribute("data-i18n-placeholder")));
    });
    document.querySelectorAll("[data-i18n-aria]").forEach(function (el) {
      el.setAttribute("aria-label", t(el.getAttribute("data-i18n-aria")));
    });
    fillStateSelect();
    updateSaveLabel();
    if (state.boot) bootFailed(state.boot);
  }

  function applyTheme(theme) {
    document.documentElement.setAttribute("data-theme", theme === "dark" ? "dark" : "light");
  }

  function groupDigits(intPart) {
    var sep = state.locale === "fr" ? "\u202f" : ",";
    return intPart.replace(/\B(?=(\d{3})+(?!\d))/g, sep);
  }

  // Amounts stay exact decimal strings: never through a float.
  function money(amount, currency) {
    if (amount === null || amount === undefined) return "—";
    var negative = amount.charAt(0) === "-";
    var parts = amount.replace("-", "").split(".");
    var text = groupDigits(parts[0]) + (parts[1] ? (state.locale === "fr" ? "," : ".") + parts[1] : "");
    return (negative ? "-" : "") + text + " " + currency;
  }

  function when(iso) {
    if (!iso) return "—";
    var d = new Date(iso);
    try {
      return new Intl.DateTimeFormat(state.locale, { dateStyle: "medium", timeStyle: "medium" }).format(d);
    } catch (_e) { return d.toISOString(); }
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return t("health.none");
    if (seconds < 120) return t("seconds", { n: Math.round(seconds) });
    if (seconds < 7200) return t("minutes", { n: Math.round(seconds / 60) });
    return t("hours", { n: Math.round(seconds / 3600) });
  }

  function chip(stateName) {
    return h("span", { "class": "chip chip-" + stateName.toLowerCase(), text: t("state." + stateName) });
  }

  // --- Messages to the merchant ------------------------------------------------------

  function showError(err) {
    var box = $("error");
    box.textContent = t("error.prefix") + (err && err.message ? err.message : String(err));
    box.hidden = false;
    $("notice-ok").hidden = true;
    box.focus();
  }

  function showOk(text) {
    $("error").hidden = true;
    var box = $("notice-ok");
    box.textContent = text;
    box.hidden = false;
  }

  function clearMessages() { $("error").hidden = true; $("notice-ok").hidden = true; }

  function setStatus(text) {
    var el = $("status");
    el.textContent = text || "";
    el.hidden = !text;
  }

  // --- The app's API -----------------------------------------------------------------

  function ApiError(message, code, field) { this.message = message; this.code = code; this.field = field || null; }

  // The server's words are English; its code picks the page's own words, in the page's language.
  function readable(message, code, field) {
    var key = "error." + code;
    return new ApiError(MESSAGES.en[key] ? t(key) : message, code, field);
  }

  function api(query, variables) {
    return fetch("graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "authorization-bearer": state.token || "",
        "saleor-api-url": state.saleorApiUrl
      },
      body: JSON.stringify({ query: query, variables: variables || {} })
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        if (body && body.error) throw readable(body.error.message, body.error.code);
        if (body && body.errors && body.errors.length) {
          var first = body.errors[0];
          var ext = first.extensions || {};
          throw readable(first.message, ext.code, ext.field);
        }
        if (!response.ok || !body) throw new ApiError(t("error.network"), "HTTP_" + response.status);
        return body.data;
      });
    }, function () { throw new ApiError(t("error.network"), "NETWORK"); });
  }

  var CONFIG_FIELDS = "id name websiteId licenseKey environment lengoUrl currencies minAmount maxAmount returnUrlPatterns defaultReturnUrl channels payoutMode payoutDailyLimit language";
  var PAYMENT_FIELDS = "id payId state refundStatus lengoStatus amount currency confirmedAmount refundedAmount refundableAmount gateway environment isTestMoney channelId channelSlug sourceType sourceId saleorTransactionId failureReason configurationName createdAt " +
    "order { orderId orderNumber checkoutId customerEmail settled }";

  // --- Navigation -----------------------------------------------------------------------

  // `view` null hides every view: nothing to act on before the Dashboard's handshake.
  function show(view) {
    state.view = view;
    document.querySelectorAll("#main > .view").forEach(function (section) {
      section.hidden = section.id !== "view-" + view;
    });
    tabs().forEach(function (b) {
      var current = b.getAttribute("data-view") === view || (view === "payment" && b.getAttribute("data-view") === "payments");
      b.setAttribute("aria-selected", current ? "true" : "false");
      b.tabIndex = current ? 0 : -1;
    });
    if (view) document.body.setAttribute("data-view", view);
  }

  function tabs() { return Array.prototype.slice.call(document.querySelectorAll("#tabs [role=tab]")); }

  // The tabs pattern: arrow keys, Home and End move between tabs (and open them); Tab leaves the list.
  function onTabKey(event) {
    var all = tabs();
    var at = all.indexOf(document.activeElement);
    if (at < 0) return;
    var next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: all.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    var target = all[(next + all.length) % all.length];
    target.focus();
    openTab(target);
  }

  function openTab(button) {
    if (button.getAttribute("data-view") === "payments") state.cursors = [];
    return go(button.getAttribute("data-view"));
  }

  function go(view) {
    clearMessages();
    show(view);
    var load = { payments: loadPayments, settings: loadSettings, dead: loadDead }[view];
    if (load) return load().catch(showError);
    return Promise.resolve();
  }

  // --- Payments ---------------------------------------------------------------------------

  function fillStateSelect() {
    var select = $("filter-state");
    var current = select.value;
    clear(select).appendChild(h("option", { value: "", text: t("payments.all") }));
    STATES.forEach(function (s) { select.appendChild(h("option", { value: s, text: t("state." + s) })); });
    select.value = current;
  }

  function fillChannelSelect() {
    var select = $("filter-channel");
    var current = select.value;
    clear(select).appendChild(h("option", { value: "", text: t("payments.all") }));
    state.channels.forEach(function (c) { select.appendChild(h("option", { value: c.id, text: c.name })); });
    select.value = current;
  }

  function dayStart(value, plusDays) {
    if (!value) return null;
    var p = value.split("-");
    return new Date(Number(p[0]), Number(p[1]) - 1, Number(p[2]) + (plusDays || 0)).toISOString();
  }

  function currentFilter() {
    var f = {};
    var search = $("search").value.trim();
    if (search) f.search = search;
    if ($("filter-state").value) f.states = [$("filter-state").value];
    if ($("filter-channel").value) f.channel = $("filter-channel").value;
    if ($("filter-from").value) f.createdFrom = dayStart($("filter-from").value);
    if ($("filter-to").value) f.createdTo = dayStart($("filter-to").value, 1);
    return f;
  }

  function loadHealth() {
    return api("{ health { lastCallbackAt openPayments deadEvents relayLagSeconds } }").then(function (data) {
      var hl = data.health;
      var dl = clear($("health"));
      [
        [t("health.lastCallback"), hl.lastCallbackAt ? when(hl.lastCallbackAt) : t("health.never")],
        [t("health.open"), String(hl.openPayments)],
        [t("health.lag"), duration(hl.relayLagSeconds)],
        [t("health.dead"), String(hl.deadEvents)]
      ].forEach(function (pair) {
        dl.appendChild(h("div", { "class": "stat" }, h("dt", { text: pair[0] }), h("dd", { text: pair[1] })));
      });
    });
  }

  function loadPayments() {
    var after = state.cursors.length ? state.cursors[state.cursors.length - 1] : null;
    var query = "query($filter: PaymentFilter, $after: String) { payments(filter: $filter, first: 25, after: $after) " +
      "{ totalCount hasNextPage endCursor items { " + PAYMENT_FIELDS + " } } }";
    // Until a channel is mapped, its mapping may come from elsewhere (another staff member): ask again.
    var fresh = state.channels.some(function (c) { return c.configuration; });
    var channels = fresh ? Promise.resolve() : loadChannels().catch(function () { /* shown in settings */ });
    var filter = currentFilter();
    return Promise.all([api(query, { filter: filter, after: after }), loadHealth(), channels, loadConfigurations()]).then(function (all) {
      fillChannelSelect();
      renderPayments(all[0].payments);
      renderChecklist(Object.keys(filter).length > 0 || all[0].payments.totalCount > 0);
    });
  }

  function channelName(p) {
    for (var i = 0; i < state.channels.length; i++) {
      if (state.channels[i].id === p.channelId || state.channels[i].slug === p.channelSlug) return state.channels[i].name;
    }
    return p.channelSlug || p.channelId || "—";
  }

  function renderPayments(page) {
    var body = clear($("payments-table").querySelector("tbody"));
    $("payments-count").textContent = page.totalCount ? t("payments.count", { n: page.totalCount }) : t("payments.none");
    page.items.forEach(function (p) {
      body.appendChild(h("tr", { "data-payment": p.id },
        h("td", { text: when(p.createdAt) }),
        h("td", { "class": "num", text: money(p.confirmedAmount || p.amount, p.currency) }),
        h("td", null, chip(p.refundStatus || p.state)),
        h("td", { text: channelName(p) }),
        h("td", { "class": "order", text: orderLabel(p) }),
        h("td", { "class": "mono", text: p.payId || "—" }),
        h("td", null, h("button", {
          type: "button", "class": "open-payment", "aria-label": t("open") + " " + (p.payId || p.id),
          text: t("open"), onclick: function () { openPayment(p.id); }
        }))
      ));
    });
    $("page-next").hidden = !page.hasNextPage;
    $("page-next").onclick = function () { state.cursors.push(page.endCursor); loadPayments().catch(showError); };
    $("page-first").hidden = state.cursors.length === 0;
  }

  // --- One payment -------------------------------------------------------------------------

  var TIMELINE_FIELDS = "seq kind milestone at operation httpStatus outcome durationMs status amount currency gateway source phone " +
    "fromState toState eventType pspReference outboxState attempts deliveredAt detail error";

  function openPayment(id) {
    clearMessages();
    show("payment");
    setStatus(t("loading"));
    return api("query($id: ID!) { payment(id: $id) { " + PAYMENT_FIELDS + " timeline { " + TIMELINE_FIELDS + " } } }", { id: id })
      .then(function (data) {
        setStatus("");
        if (!data.payment) throw new ApiError("Not found", "NOT_FOUND");
        renderPayment(data.payment);
        $("payment-title").focus();
      })
      .catch(function (e) { setStatus(""); showError(e); });
  }

  function renderPayment(p) {
    // Another payment: what was typed for the previous one does not carry over.
    if (!state.payment || state.payment.id !== p.id) {
      ["refund-amount", "refund-note", "review-amount", "review-note"].forEach(function (id) { $(id).value = ""; });
    }
    state.payment = p;
    $("payment-title").textContent = t("payment.title") + " " + (p.payId || p.id);
    var facts = clear($("payment-facts"));
    var rows = [
      ["fact.state", chip(p.refundStatus || p.state)],
      ["fact.order", orderFact(p)],
      ["fact.email", (p.order && p.order.customerEmail) || "—"],
      ["fact.amount", money(p.amount, p.currency)],
      ["fact.confirmed", p.confirmedAmount ? money(p.confirmedAmount, p.currency) : "—"],
      ["fact.refunded", money(p.refundedAmount, p.currency)],
      ["fact.gateway", p.gateway || "—"],
      ["fact.lengoStatus", lengoStatus(p.lengoStatus) || "—"],
      ["fact.payId", p.payId || "—"],
      ["fact.transaction", p.saleorTransactionId],
      ["fact.source", (p.sourceType ? p.sourceType + " " : "") + (p.sourceId || "—")],
      ["fact.channel", channelName(p)],
      ["fact.account", p.configurationName || "—"],
      ["fact.environment", MESSAGES.en["env." + p.environment] ? t("env." + p.environment) : p.environment],
      ["fact.created", when(p.createdAt)]
    ];
    if (p.failureReason) rows.push(["fact.reason", p.failureReason]);
    rows.forEach(function (row) {
      var value = typeof row[1] === "string" ? h("dd", { text: row[1] }) : h("dd", null, row[1]);
      facts.appendChild(h("div", { "class": "fact" }, h("dt", { text: t(row[0]) }), value));
    });
    if (p.isTestMoney) facts.appendChild(h("p", { "class": "test-money", text: t("fact.test") }));

    var canRefund = p.state === "SUCCEEDED" && p.refundableAmount !== "0" && !/^0(\.0+)?$/.test(p.refundableAmount);
    $("refund-form").hidden = !canRefund;
    $("refund-max").textContent = t("refund.max", { amount: money(p.refundableAmount, p.currency) });
    $("refund-amount-label").textContent = t("refund.amount") + " (" + p.currency + ")";
    $("review-form").hidden = p.state !== "NEEDS_REVIEW";
    $("review-amount-label").textContent = t("review.amount") + " (" + p.currency + ")";
    setWritable();

    renderTimeline(p);
  }

  // --- Timeline: the merchant's outcomes first, the engineer's trail one click away -----------

  // A word from the dictionary when there is one, else the code itself (a value the page does not know yet).
  function known(prefix, code) {
    if (code === null || code === undefined || code === "") return null;
    return MESSAGES.en[prefix + code] !== undefined ? t(prefix + code) : String(code);
  }

  // A Lengo status in the page's words, its own code beside it for whoever reads Lengo's portal.
  function lengoStatus(status) {
    if (!status) return null;
    var word = known("ls.", String(status).toUpperCase());
    return word === String(status).toUpperCase() ? status : word + " (" + status + ")";
  }

  function eventName(type) { return known("event.", type); }

  function renderTimeline(p) {
    var entries = p.timeline.slice().sort(function (a, b) { return a.seq - b.seq; });
    var list = clear($("timeline"));
    var outcomes = entries.filter(function (e) { return e.milestone; });
    if (!outcomes.length) list.appendChild(h("li", { text: t("timeline.empty") }));
    outcomes.forEach(function (e) { list.appendChild(milestoneItem(e, p.currency)); });
    var trail = clear($("timeline-trail"));
    entries.forEach(function (e) { trail.appendChild(trailItem(e, p.currency)); });
    $("timeline-tech").hidden = !entries.length;
    $("timeline-tech").open = false;
  }

  function milestoneItem(e, currency) {
    var amount = e.amount ? money(e.amount, e.currency || currency) : "";
    var title;
    var note = null;
    if (e.milestone === "PAID") {
      title = e.gateway ? t("ms.paidWith", { amount: amount, gateway: e.gateway }) : t("ms.PAID", { amount: amount });
    } else if (e.milestone === "REPORTED" || e.milestone === "REPORT_WAITING" || e.milestone === "REPORT_REFUSED") {
      title = t("ms." + e.milestone, { event: eventName(e.eventType) });
    } else if (e.milestone === "REFUNDED") {
      title = t("ms.REFUNDED", { amount: amount });
      note = known("outbox.", e.outboxState);
    } else if (e.milestone === "SALEOR_ASKED") {
      title = t("ms.SALEOR_ASKED", { action: known("action.", e.operation) });
      note = known("answer.", e.outcome);
    } else {
      title = t("ms." + e.milestone, { amount: amount, phone: e.phone || "" });
    }
    var tone = { PAID: "good", REFUNDED: "good", FAILED: "bad", NEEDS_REVIEW: "bad", REPORT_REFUSED: "bad",
      PAYOUT_FAILED: "bad", PAYOUT_NEEDS_REVIEW: "bad",
      CANCELED: "off", EXPIRED: "off", CLOSED: "off" }[e.milestone] || "info";
    // Saleor heard of money received: good news; of a failure: only news.
    if (e.milestone === "REPORTED" && /_SUCCESS$/.test(e.eventType || "")) tone = "good";
    if (e.milestone === "REFUNDED" && e.outboxState === "dead") tone = "bad";
    return h("li", { "class": "tl tl-" + tone, "data-milestone": e.milestone, "data-seq": String(e.seq) },
      h("p", { "class": "tl-head" }, h("strong", { text: title })),
      note ? h("p", { "class": "tl-note", text: note }) : null,
      h("time", { datetime: e.at, text: when(e.at) }));
  }

  function trailItem(e, currency) {
    var details = h("dl", { "class": "tl-details" });
    function add(key, value) {
      if (value === null || value === undefined || value === "") return;
      details.appendChild(h("div", null, h("dt", { text: t(key) }), h("dd", { text: String(value) })));
    }
    var title = t("tl." + e.kind);
    if (e.kind === "CREATED") add("tl.amount", money(e.amount, e.currency || currency));
    if (e.kind === "LENGO_REQUEST") {
      title = t("tech.call", { operation: known("op.", e.operation) });
      add("tech.answer", known("call.", e.outcome));
      add("tl.http", e.httpStatus);
      if (e.durationMs !== null) add("tl.duration", Math.round(e.durationMs) + " ms");
    }
    if (e.kind === "CALLBACK" || e.kind === "STATUS_CHECK") {
      add("tl.status", lengoStatus(e.status));
      if (e.amount) add("tl.amount", money(e.amount, currency));
      add("tl.gateway", e.gateway);
      add("tl.source", known("src.", e.source));
      add("tl.phone", e.phone);
      if (e.kind === "CALLBACK") add("tech.callback", known("cb.", e.outcome));
    }
    if (e.kind === "TRANSITION") {
      title = t("tech.change", { from: e.fromState ? known("state.", e.fromState.toUpperCase()) : "—", to: known("state.", e.toState.toUpperCase()) });
    }
    if (e.kind === "EVENT") {
      title = t("tech.event", { event: eventName(e.eventType) });
      add("tl.amount", money(e.amount, e.currency || currency));
      add("tl.psp", e.pspReference);
      add("tl.outbox", known("outbox.", e.outboxState)); add("tl.attempts", e.attempts);
      if (e.deliveredAt) add("tl.delivered", when(e.deliveredAt));
    }
    if (e.kind === "PAYOUT") {
      add("tl.status", known("payout.", e.status));
      add("tl.amount", money(e.amount, e.currency || currency));
      add("tl.phone", e.phone);
      add("tl.psp", e.pspReference);
    }
    if (e.kind === "ACTION_REQUEST") {
      title = t("ms.SALEOR_ASKED", { action: known("action.", e.operation) });
      add("tech.answer", eventName(e.outcome));
      add("tl.psp", e.pspReference);
    }
    add("tl.detail", e.detail);
    add("tl.error", e.error);
    // A late copy of Lengo's report confirms what is known: it reads as such, never as an error.
    var quiet = e.kind === "CALLBACK" && e.outcome === "duplicate";
    return h("li", { "class": "trail-item" + (quiet ? " quiet" : ""), "data-kind": e.kind, "data-seq": String(e.seq) },
      h("p", { "class": "tl-head" }, h("span", { "class": "trail-title", text: title }), " ", h("time", { datetime: e.at, text: when(e.at) })),
      details.childNodes.length ? details : null);
  }

  function recheck() {
    var p = state.payment;
    if (!p) return;
    $("recheck").disabled = true;
    api("mutation($id: ID!) { recheckPayment(id: $id) { id } }", { id: p.id })
      .then(function () { return openPayment(p.id); })
      .then(function () { showOk(t("payment.rechecked")); })
      .catch(showError)
      .then(function () { $("recheck").disabled = false; setWritable(); });
  }

  function submitRefund(event) {
    event.preventDefault();
    var p = state.payment;
    var form = $("refund-form");
    clearMessages();
    clearFieldErrors(form);
    var amount = decimalInput($("refund-amount").value);
    if (!amount) { formError(form, requiredError($("refund-amount"))); return; }
    // Money: said in full, and asked, before anything is recorded.
    confirmAction({
      title: t("refund.confirmTitle"),
      text: t("refund.confirmText", { amount: money(amount, p.currency), payment: p.payId || p.id }),
      ok: t("refund.submit")
    }).then(function (yes) {
      if (!yes) return;
      var done = busy($("refund-submit"), "refund.saving");
      return api("mutation($id: ID!, $amount: String!, $note: String) { recordManualRefund(paymentId: $id, amount: $amount, note: $note) { id } }",
        { id: p.id, amount: amount, note: $("refund-note").value.trim() || null })
        .then(function () {
          $("refund-amount").value = ""; $("refund-note").value = "";
          return openPayment(p.id).then(function () { showOk(t("refund.done", { amount: money(amount, p.currency) })); });
        })
        .catch(function (e) { formError(form, e); })
        .then(done);
    });
  }

  // A payment held in NEEDS_REVIEW: staff say what the Lengo portal shows, after a confirmation.
  function submitResolve(event) {
    event.preventDefault();
    var p = state.payment;
    var form = $("review-form");
    clearMessages();
    clearFieldErrors(form);
    var charged = $("review-charged").checked;
    var amount = decimalInput($("review-amount").value);
    var note = $("review-note").value.trim();
    if (charged && !amount) { formError(form, requiredError($("review-amount"))); return; }
    if (!note) { formError(form, requiredError($("review-note"))); return; }
    // Money: said in full, and asked, before anything is reported.
    confirmAction({
      title: t("review.title"),
      text: charged ? t("review.confirmCharged", { amount: money(amount, p.currency) }) : t("review.confirmNotCharged"),
      ok: t("review.submit")
    }).then(function (yes) {
      if (!yes) return;
      var done = busy($("review-submit"), "review.saving");
      return api("mutation($id: ID!, $amount: String, $not: Boolean!, $note: String!) { resolvePayment(id: $id, chargedAmount: $amount, notCharged: $not, note: $note) { id } }",
        { id: p.id, amount: charged ? amount : null, not: !charged, note: note })
        .then(function () {
          $("review-amount").value = ""; $("review-note").value = "";
          return openPayment(p.id).then(function () { showOk(t(charged ? "review.doneCharged" : "review.doneNotCharged")); });
        })
        .catch(function (e) { formError(form, e); })
        .then(done);
    });
  }

  // --- Settings: configurations and channels --------------------------------------------------

  function loadChannels() {
    return api("{ channels { id slug name currency mappedAs configuration { id name } } }").then(function (data) {
      state.channels = data.channels;
    });
  }

  function loadConfigurations() {
    return api("{ configurations { " + CONFIG_FIELDS + " } }").then(function (data) {
      state.configurations = data.configurations;
    });
  }

  function loadSettings() {
    var configs = loadConfigurations().then(renderConfigurations);
    var channels = loadChannels();
    return Promise.all([configs, channels.catch(function (e) { return e; })]).then(function (all) {
      renderChannels();
      if (all[1] instanceof ApiError) throw all[1];
    });
  }

  function renderConfigurations() {
    var box = clear($("configs"));
    if (!state.configurations.length) { box.appendChild(h("p", { "class": "muted", text: t("config.none") })); return; }
    state.configurations.forEach(function (c) {
      box.appendChild(h("div", { "class": "card config", "data-config": c.id },
        h("h3", { text: c.name }),
        h("dl", { "class": "facts" },
          fact(t("config.site"), c.websiteId),
          fact(t("config.key"), c.licenseKey),
          fact(t("config.env"), t("env." + c.environment) + " — " + c.lengoUrl),
          fact(t("config.factCurrencies"), c.currencies.join(", ")),
          fact(t("config.amounts"), amountRange(c)),
          fact(t("config.factPatterns"), c.returnUrlPatterns.length ? c.returnUrlPatterns.join("\n") : t("config.noPattern")),
          fact(t("config.factDefaultUrl"), c.defaultReturnUrl || t("config.noDefaultUrl")),
          fact(t("config.channels"), c.channels.length ? c.channels.map(channelLabel).join(", ") : t("config.noChannel"))),
        h("div", { "class": "actions" },
          h("button", { type: "button", "class": "write", text: t("config.editButton"), "aria-label": t("config.editButton") + " " + c.name, onclick: function () { editConfiguration(c); } }),
          h("button", { type: "button", "class": "write danger", text: t("config.deleteButton"), "aria-label": t("config.deleteButton") + " " + c.name, onclick: function () { deleteConfiguration(c); } }))));
    });
    setWritable();
  }

  function fact(label, value) { return h("div", { "class": "fact" }, h("dt", { text: label }), h("dd", { text: value })); }

  function channelLabel(key) {
    for (var i = 0; i < state.channels.length; i++) {
      if (state.channels[i].id === key || state.channels[i].slug === key) return state.channels[i].name;
    }
    return key;
  }

  function renderChannels() {
    var body = clear($("channels-table").querySelector("tbody"));
    if (!state.channels.length) body.appendChild(h("tr", null, h("td", { colspan: "3", text: t("channels.none") })));
    state.channels.forEach(function (c) {
      var select = h("select", { id: "map-" + c.slug, "class": "write", "aria-label": t("channels.choose", { name: c.name }), "data-channel": c.id });
      select.appendChild(h("option", { value: "", text: t("channels.noAccount") }));
      state.configurations.forEach(function (conf) { select.appendChild(h("option", { value: conf.id, text: conf.name })); });
      select.value = c.configuration ? c.configuration.id : "";
      // An explicit button: keyboard users move through a select's options without changing anything.
      var apply = h("button", { type: "button", id: "apply-" + c.slug, "class": "write", text: t("channels.apply"),
        "aria-label": t("channels.apply") + " " + c.name, onclick: function () { mapChannel(c, select.value); } });
      body.appendChild(h("tr", null, h("td", null, h("span", { text: c.name }), " ", h("span", { "class": "muted mono", text: c.slug })),
        h("td", { text: c.currency }), h("td", null, h("div", { "class": "inline" }, select, apply))));
    });
    var links = clear($("notice-links"));
    var mapped = state.channels.filter(function (c) { return c.configuration; });
    if (!mapped.length) links.appendChild(h("li", { text: t("notice.noMapped") }));
    mapped.forEach(function (c) { links.appendChild(h("li", null, channelSettingsLink(c))); });
    setWritable();
  }

  function mapChannel(channel, configId) {
    clearMessages();
    var done;
    if (configId) {
      done = api("mutation($c: String!, $id: ID!) { mapChannel(channel: $c, configurationId: $id) { id } }", { c: channel.id, id: configId });
    } else {
      done = api("mutation($c: String!) { unmapChannel(channel: $c) { id } }", { c: channel.mappedAs || channel.id });
    }
    return done.then(loadSettings).then(function () {
      var conf = state.configurations.filter(function (x) { return x.id === configId; })[0];
      showOk(configId ? t("channels.mapped", { name: channel.name, account: conf ? conf.name : "" }) : t("channels.unmapped", { name: channel.name }));
    }).catch(function (e) { showError(e); renderChannels(); });
  }

  function updateSaveLabel() {
    $("config-save").textContent = $("config-check").checked ? t("config.save") : t("config.saveNoCheck");
  }

  function resetConfigForm() {
    $("config-id").value = "";
    $("config-form-title").textContent = t("config.connect");
    $("config-key-help").textContent = t("config.keyHelp");
    $("config-key").required = true;
    $("config-cancel").hidden = true;
    ["config-site", "config-key", "config-url", "config-patterns", "config-min", "config-max", "config-default-url", "config-payout-limit"].forEach(function (id) { $(id).value = ""; });
    $("config-payouts").value = "off";
    $("config-language").value = "en";
    state.editing = null;
    clearFieldErrors($("config-form"));
    $("config-name").value = "Lengo";
    $("config-currencies").value = "GNF";
    $("config-env").value = "production";
    $("config-check").checked = true;
    updateSaveLabel();
  }

  function editConfiguration(c) {
    clearMessages();
    $("config-id").value = c.id;
    $("config-form-title").textContent = t("config.edit", { name: c.name });
    $("config-name").value = c.name;
    $("config-site").value = c.websiteId;
    $("config-key").value = "";
    $("config-key").required = false;
    $("config-key-help").textContent = t("config.keyKeep", { masked: c.licenseKey });
    $("config-env").value = c.environment;
    $("config-url").value = c.environment === "production" || c.environment === "sandbox" ? "" : c.lengoUrl;
    $("config-currencies").value = c.currencies.join(", ");
    $("config-patterns").value = c.returnUrlPatterns.join("\n");
    $("config-min").value = c.minAmount || "";
    $("config-max").value = c.maxAmount || "";
    $("config-default-url").value = c.defaultReturnUrl || "";
    $("config-payouts").value = c.payoutMode || "off";
    $("config-payout-limit").value = c.payoutDailyLimit || "";
    $("config-language").value = c.language || "en";
    $("config-cancel").hidden = false;
    clearFieldErrors($("config-form"));
    // What the form showed: a save sends only what differs, so a setting the form
    // does not hold (or that nobody touched) is never sent, let alone erased.
    state.editing = { id: c.id, shown: configFormValues() };
    $("config-name").focus();
  }

  function lines(text) { return text.split("\n").map(function (s) { return s.trim(); }).filter(Boolean); }

  function configFormValues() {
    var env = $("config-env").value;
    return {
      name: $("config-name").value.trim(),
      websiteId: $("config-site").value.trim(),
      environment: env === "custom" ? "production" : env,
      lengoUrl: $("config-url").value.trim() || null,
      currencies: $("config-currencies").value.split(",").map(function (s) { return s.trim(); }).filter(Boolean),
      minAmount: decimalInput($("config-min").value) || null,
      maxAmount: decimalInput($("config-max").value) || null,
      returnUrlPatterns: lines($("config-patterns").value),
      defaultReturnUrl: $("config-default-url").value.trim() || null,
      payoutMode: $("config-payouts").value,
      payoutDailyLimit: decimalInput($("config-payout-limit").value) || null,
      language: $("config-language").value
    };
  }

  function changedValues(now, shown) {
    var changes = {};
    Object.keys(now).forEach(function (k) {
      if (JSON.stringify(now[k]) !== JSON.stringify(shown[k])) changes[k] = now[k];
    });
    return changes;
  }

  function saveConfiguration(event) {
    event.preventDefault();
    clearMessages();
    var form = $("config-form");
    clearFieldErrors(form);
    var id = $("config-id").value;
    var required = ["config-name", "config-site"];
    if (!id) required.push("config-key");
    for (var i = 0; i < required.length; i++) {
      if (!$(required[i]).value.trim()) { formError(form, requiredError($(required[i]))); return; }
    }
    var values = configFormValues();
    var key = $("config-key").value.trim();
    var skip = !$("config-check").checked;
    var done = busy($("config-save"), skip ? "config.saving" : "config.checking");
    var call;
    if (id) {
      var changes = changedValues(values, state.editing && state.editing.id === id ? state.editing.shown : {});
      if (key) changes.licenseKey = key;
      call = api("mutation($id: ID!, $changes: ConfigurationChanges!, $skip: Boolean!) { updateConfiguration(id: $id, changes: $changes, skipCheck: $skip) { id name } }",
        { id: id, changes: changes, skip: skip });
    } else {
      values.licenseKey = key;
      call = api("mutation($input: ConfigurationInput!, $skip: Boolean!) { createConfiguration(input: $input, skipCheck: $skip) { id name } }", { input: values, skip: skip });
    }
    call.then(function (data) {
      var saved = id ? data.updateConfiguration : data.createConfiguration;
      done();
      resetConfigForm();
      return loadSettings().then(function () { showOk(t("config.saved", { name: saved.name })); });
    }).catch(function (e) { done(); formError(form, e); });
  }

  function deleteConfiguration(c) {
    confirmAction({ title: t("config.confirmDelete", { name: c.name }), text: t("config.confirmDeleteText"), ok: t("config.deleteButton") })
      .then(function (yes) {
        if (!yes) return;
        return api("mutation($id: ID!) { deleteConfiguration(id: $id) }", { id: c.id })
          .then(loadSettings).then(function () { showOk(t("config.deleted")); }).catch(showError);
      });
  }

  // --- Dead letters -------------------------------------------------------------------------

  var DEAD_FIELDS = "id paymentId eventType pspReference amount currency attempts lastError cause willFailAgain createdAt";

  function loadDead() {
    return api("{ deadLetters { " + DEAD_FIELDS + " } }").then(function (data) {
      state.dead = data.deadLetters;
      $("dead-retry-all").hidden = !state.dead.length;
      var body = clear($("dead-table").querySelector("tbody"));
      if (!state.dead.length) body.appendChild(h("tr", null, h("td", { colspan: "5", text: t("dead.none") })));
      state.dead.forEach(function (d) { body.appendChild(deadRow(d)); });
      setWritable();
    });
  }

  function deadRow(d) {
    var label = t("event." + d.eventType) !== "event." + d.eventType ? t("event." + d.eventType) : d.eventType;
    // The merchant's words first; Saleor's own text one click away, wrapped, never pushing the buttons out.
    var why = h("td", { "class": "why" },
      h("p", { "class": "cause", text: t("cause." + (d.cause || "UNKNOWN")) }),
      d.willFailAgain ? h("p", { "class": "warning", text: t("dead.willFailAgain") }) : null,
      h("details", null, h("summary", { text: t("dead.technical") }),
        h("p", { "class": "mono tech", text: d.lastError || "—" }),
        h("p", { "class": "muted", text: t("tl.attempts") + " " + d.attempts })));
    var actions = h("div", { "class": "row-actions" },
      d.paymentId ? h("button", { type: "button", "class": "link open-dead-payment", text: t("dead.openPayment"),
        "aria-label": t("dead.openPayment") + " " + d.pspReference, onclick: function () { openPayment(d.paymentId); } }) : null,
      h("button", { type: "button", "class": "write retry", text: t("dead.retry"), "aria-label": t("dead.retry") + " " + label + " " + d.pspReference,
        onclick: function (ev) { retryDead(d, ev.currentTarget); } }));
    return h("tr", { "data-event": d.id, "data-cause": d.cause },
      h("td", { text: when(d.createdAt) }),
      h("td", null, h("span", { text: label }), h("br"), h("span", { "class": "muted mono", title: d.pspReference, text: d.pspReference })),
      h("td", { "class": "num", text: money(d.amount, d.currency) }),
      why,
      h("td", null, actions));
  }

  function retryDead(d, button) {
    var asked = d.willFailAgain
      ? confirmAction({ title: t("dead.confirmTitle"), text: t("cause." + d.cause), warning: t("dead.failAgainWarning"), ok: t("dead.retryAnyway") })
      : Promise.resolve(true);
    return asked.then(function (yes) {
      if (!yes) return;
      clearMessages();
      var done = busy(button, "dead.sending");
      return api("mutation($id: ID!) { retryOutboxEvent(id: $id) { id state } }", { id: d.id })
        .then(function () { done(); return loadDead(); }).then(function () { showOk(t("dead.retried")); })
        .catch(function (e) { done(); showError(e); });
    });
  }

  function retryAllDead() {
    var doomed = state.dead.filter(function (d) { return d.willFailAgain; }).length;
    var asked = doomed
      ? confirmAction({ title: t("dead.confirmAllTitle", { n: state.dead.length }), text: t("dead.confirmAllText"),
          warning: t("dead.failAgainSome", { n: doomed }), ok: t("dead.retryAll") })
      : Promise.resolve(true);
    return asked.then(function (yes) {
      if (!yes) return;
      clearMessages();
      var done = busy($("dead-retry-all"), "dead.sending");
      return api("mutation { retryAllOutboxEvents }")
        .then(function (data) { done(); return loadDead().then(function () { showOk(t("dead.retriedAll", { n: data.retryAllOutboxEvents })); }); })
        .catch(function (e) { done(); showError(e); });
    });
  }

  // --- First run: what to do, in order -------------------------------------------------------

  function renderChecklist(anyPayment) {
    var account = state.configurations.length > 0;
    var mapped = state.channels.filter(function (c) { return c.configuration; });
    var channel = mapped.length > 0;
    $("checklist").hidden = account && channel && anyPayment;
    var list = clear($("checklist-steps"));
    list.appendChild(step("account", account ? "done" : "todo", inPageLink("first.accountLink", function () {
      return go("settings").then(function () { $("config-name").focus(); });
    })));
    list.appendChild(step("channel", channel ? "done" : account ? "todo" : "later", inPageLink("first.channelLink", function () {
      return go("settings").then(function () {
        var first = $("channels-table").querySelector("select");
        ($("channels-table").querySelector("select:not([disabled])") || first || $("channels-table")).focus();
      });
    })));
    var links = h("ul", { "class": "links" });
    if (!mapped.length) links.appendChild(h("li", { text: t("notice.noMapped") }));
    mapped.forEach(function (c) { links.appendChild(h("li", null, channelSettingsLink(c))); });
    list.appendChild(step("autocomplete", channel ? "check" : "later", links));
  }

  function step(name, status, action) {
    return h("li", { "class": "step step-" + status, "data-step": name, "data-state": status },
      h("span", { "class": "step-state", text: t("first.state." + status) }),
      h("strong", { "class": "step-title", text: t("first." + name) }),
      h("p", { "class": "muted", text: t("first." + name + "Help") }),
      action);
  }

  function inPageLink(key, open) {
    var a = h("a", { href: "#", text: t(key) });
    a.addEventListener("click", function (ev) { ev.preventDefault(); open(); });
    return a;
  }

  // A link to a Dashboard page (`path` from the Dashboard's root, e.g. /orders/<id>).
  function dashboardLink(path, text, attrs) {
    var a = h("a", Object.assign({ href: dashboardBase + path, target: "_top", rel: "noopener", text: text }, attrs || {}));
    a.addEventListener("click", function (ev) {
      // Inside the Dashboard, let it navigate (app-bridge redirect), as its own links do.
      if (state.token && window.parent !== window) {
        ev.preventDefault();
        send({ type: "redirect", payload: { to: path, newContext: false, actionId: actionId() } });
      }
    });
    return a;
  }

  function channelSettingsLink(c) {
    return dashboardLink("/channels/" + encodeURIComponent(c.id), t("notice.link", { name: c.name }));
  }

  // "Order #1042" (a link that opens it in the Dashboard), the checkout while no order exists, or "—".
  function orderLabel(p) {
    var o = p.order;
    if (o && o.orderNumber) return t("order.number", { number: o.orderNumber });
    if (o && o.checkoutId) return o.settled ? t("order.checkoutOnly") : t("order.waiting");
    return "—";
  }

  function orderFact(p) {
    var o = p.order;
    if (!o || !o.orderId) return orderLabel(p) + (o && o.checkoutId ? " (" + o.checkoutId + ")" : "");
    return dashboardLink("/orders/" + encodeURIComponent(o.orderId), orderLabel(p), { id: "order-link", "class": "order-link" });
  }

  // --- Forms: field errors, progress, confirmation ---------------------------------------------

  function decimalInput(text) { return text.trim().replace(/\s/g, "").replace(",", "."); }

  function amountRange(c) {
    if (!c.minAmount && !c.maxAmount) return t("config.anyAmount");
    var currency = c.currencies.length === 1 ? c.currencies[0] : "";
    return (c.minAmount ? money(c.minAmount, currency) : "0") + " – " + (c.maxAmount ? money(c.maxAmount, currency) : "∞");
  }

  function labelOf(input) {
    var label = document.querySelector('label[for="' + input.id + '"]');
    return label ? label.textContent : input.getAttribute("aria-label") || input.id;
  }

  function requiredError(input) {
    return new ApiError(t("error.REQUIRED"), "REQUIRED", input.getAttribute("data-field"));
  }

  function clearFieldErrors(form) {
    form.querySelectorAll(".field-error").forEach(function (el) { el.parentNode.removeChild(el); });
    form.querySelectorAll("[aria-invalid]").forEach(function (input) {
      input.removeAttribute("aria-invalid");
      var kept = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (x) { return x && x !== input.id + "-error"; });
      if (kept.length) input.setAttribute("aria-describedby", kept.join(" ")); else input.removeAttribute("aria-describedby");
    });
  }

  function showFieldError(input, text) {
    var id = input.id + "-error";
    var box = $(id) || input.parentNode.appendChild(h("span", { id: id, "class": "field-error" }));
    box.textContent = text;
    input.setAttribute("aria-invalid", "true");
    var ids = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (ids.indexOf(id) < 0) ids.unshift(id);
    input.setAttribute("aria-describedby", ids.join(" "));
  }

  // A form's refusal goes on its field when the page or the server named one; else in the banner.
  function formError(form, err) {
    var input = err && err.field ? form.querySelector('[data-field="' + err.field + '"]') : null;
    if (!input) { showError(err); return; }
    showFieldError(input, err.message);
    var box = $("error");
    box.textContent = t("error.onField", { field: labelOf(input), message: err.message });
    box.hidden = false;
    $("notice-ok").hidden = true;
    input.focus();
  }

  // Progress: the button says what is happening and stays pressed; returns what ends it.
  function busy(button, key) {
    var label = button.textContent;
    var form = button.form || null;
    button.textContent = t(key);
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    if (form) form.setAttribute("aria-busy", "true");
    setStatus(t(key));
    return function () {
      button.textContent = label;
      button.disabled = false;
      button.removeAttribute("aria-busy");
      if (form) form.removeAttribute("aria-busy");
      setStatus("");
      setWritable();
    };
  }

  function confirmAction(opts) {
    return new Promise(function (resolve) {
      var dialog = $("confirm");
      var opener = document.activeElement;
      $("confirm-title").textContent = opts.title;
      $("confirm-text").textContent = opts.text;
      $("confirm-warning").textContent = opts.warning || "";
      $("confirm-warning").hidden = !opts.warning;
      $("confirm-ok").textContent = opts.ok;
      function close(answer) {
        $("confirm-ok").onclick = null;
        $("confirm-cancel").onclick = null;
        dialog.oncancel = null;
        if (dialog.open) dialog.close();
        if (opener && opener.focus) opener.focus();
        resolve(answer);
      }
      $("confirm-ok").onclick = function () { close(true); };
      $("confirm-cancel").onclick = function () { close(false); };
      dialog.oncancel = function (ev) { ev.preventDefault(); close(false); };
      dialog.showModal();
      // The safe choice has the focus: Enter alone never records money.
      $("confirm-cancel").focus();
    });
  }

  // --- Permissions ---------------------------------------------------------------------------

  function setWritable() {
    var can = !!(state.viewer && state.viewer.canWrite);
    $("readonly").hidden = can;
    document.querySelectorAll(".write, #config-form input, #config-form select, #config-form textarea, #config-form button, #refund-form input, #refund-form button, #review-form input, #review-form button, #recheck")
      .forEach(function (el) { el.disabled = !can; });
  }

  // --- app-bridge -------------------------------------------------------------------------------

  function actionId() {
    try { return window.crypto.randomUUID(); } catch (_e) { return String(Date.now()) + Math.random().toString(16).slice(2); }
  }

  function send(message) {
    // notifyReady carries nothing secret; before we know the Dashboard's origin "*" is the only target.
    var target = dashboardOrigins.length === 1 ? dashboardOrigins[0] : "*";
    window.parent.postMessage(message, target);
  }

  var started = false;
  var readyTimer = null;
  var HANDSHAKE_SECONDS = 10;
  var handshakeTimer = null;

  // Opened outside the Dashboard, or the Dashboard never answered: say so, and what to do.
  function bootFailed(reason) {
    state.boot = reason;
    setStatus("");
    $("boot-title").textContent = t("boot." + reason + ".title");
    $("boot-text").textContent = t("boot." + reason + ".text");
    $("boot-error").setAttribute("data-reason", reason);
    $("boot-error").hidden = false;
  }

  function onMessage(event) {
    if (dashboardOrigins.indexOf(event.origin) < 0) return;
    var data = event.data;
    if (!data || typeof data !== "object" || typeof data.type !== "string") return;
    var payload = data.payload || {};
    if ((data.type === "handshake" || data.type === "tokenRefresh") && typeof payload.token === "string") {
      state.token = payload.token;
      if (!started) {
        started = true;
        window.clearInterval(readyTimer);
        window.clearTimeout(handshakeTimer);
        state.boot = null;
        $("boot-error").hidden = true;
        start();
      }
    } else if (data.type === "theme") {
      applyTheme(payload.theme);
    } else if (data.type === "localeChanged") {
      state.locale = pickLocale(payload.locale);
      translatePage();
      if (started && state.view) go(state.view === "payment" ? "payments" : state.view);
    }
  }

  function start() {
    setStatus(t("loading"));
    api("{ viewer { email canWrite saleorApiUrl } }").then(function (data) {
      state.viewer = data.viewer;
      setStatus("");
      $("nav").hidden = false;
      setWritable();
      // A transaction event's link in Saleor's order page opens the payment it is about (saleor/dashboard.py).
      var linked = params.get("payment");
      if (linked && /^[0-9a-f]{32}$/.test(linked)) return openPayment(linked);
      return go("payments");
    }).catch(function (e) { setStatus(""); showError(e); });
  }

  function wire() {
    tabs().forEach(function (b) { b.addEventListener("click", function () { openTab(b); }); });
    $("tabs").addEventListener("keydown", onTabKey);
    $("dead-retry-all").addEventListener("click", retryAllDead);
    $("search-form").addEventListener("submit", function (ev) { ev.preventDefault(); state.cursors = []; clearMessages(); loadPayments().catch(showError); });
    $("search-reset").addEventListener("click", function () {
      ["search", "filter-state", "filter-channel", "filter-from", "filter-to"].forEach(function (id) { $(id).value = ""; });
      state.cursors = [];
      loadPayments().catch(showError);
    });
    $("page-first").addEventListener("click", function () { state.cursors = []; loadPayments().catch(showError); });
    $("back").addEventListener("click", function () { go("payments"); });
    $("recheck").addEventListener("click", recheck);
    $("refund-form").addEventListener("submit", submitRefund);
    $("review-form").addEventListener("submit", submitResolve);
    $("config-form").addEventListener("submit", saveConfiguration);
    $("config-cancel").addEventListener("click", function () { resetConfigForm(); clearMessages(); });
    $("config-check").addEventListener("change", updateSaveLabel);
    $("payment-title").setAttribute("tabindex", "-1");
  }

  applyTheme(params.get("theme") === "dark" ? "dark" : "light");
  translatePage();
  wire();
  show(null);
  if (window.parent === window) {
    bootFailed("standalone");
  } else {
    handshakeTimer = window.setTimeout(function () { if (!started) bootFailed("timeout"); }, HANDSHAKE_SECONDS * 1000);
    window.addEventListener("message", onMessage);
    send({ type: "notifyReady", payload: { actionId: actionId() } });
    // The Dashboard may not listen yet when we load: ask again until it answers.
    var tries = 0;
    readyTimer = window.setInterval(function () {
      if (started || ++tries > 20) { window.clearInterval(readyTimer); return; }
      send({ type: "notifyReady", payload: { actionId: actionId() } });
    }, 1000);
  }
})();
