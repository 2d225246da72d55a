'use strict';
/*
 * Orders and order webhooks for the Shopify emulator (kept out of server.js).
 *
 * GraphQL (validated against the pinned schema like every document the
 * emulator runs): QueryRoot.orders (query "updated_at:>'<ISO>'" / created_at,
 * sortKey UPDATED_AT | CREATED_AT | ID, paginated, charged like any connection),
 * QueryRoot.order, QueryRoot.webhookSubscriptions, Mutation.webhookSubscriptionCreate.
 *
 * Webhooks are sent the way Shopify sends them: POST of the REST-shaped order
 * JSON (numeric ids, money as strings, times in the shop's offset) with
 * X-Shopify-Topic, X-Shopify-Hmac-Sha256 (base64 HMAC-SHA256 of the raw body
 * with the app's client secret), X-Shopify-Shop-Domain, X-Shopify-Webhook-Id
 * (the same on every retry of one event), X-Shopify-API-Version,
 * X-Shopify-Triggered-At and X-Shopify-Event-Id. A non-2xx answer, or none
 * within 5 s, is retried with exponential backoff (Shopify: 8 tries over 4 hours;
 * here the base delay is configurable so tests stay short).
 *
 * Control (test side): POST /_control/orders {email, currency, lineItems:[{sku,
 * quantity, price, title?, properties?}], shippingLines:[{title, price}], customer?,
 * billingAddress?, shippingAddress?, financialStatus?} creates an order (and
 * commits its stock at the first location); POST /_control/orderupdate {id,
 * cancel?: true, note?} updates it; POST /_control/webhookconfig {clientSecret,
 * retryBaseMs, maxAttempts}; GET /_control/deliveries lists every attempt;
 * GET /_control/orderlistings lists every orders() page served (query, first,
 * after, returned, ids), for tests that bound how much a poll re-reads.
 */
const crypto = require('crypto');
const http = require('http');
const https = require('https');

const SHOP_OFFSET_MIN = 60;  // the emulated shop's timezone (Europe/Berlin in winter): REST times carry +01:00
const TOPICS = { ORDERS_CREATE: 'orders/create', ORDERS_UPDATED: 'orders/updated', ORDERS_CANCELLED: 'orders/cancelled' };

const money = (x) => Number(x).toFixed(2);
const bag = (amount, currency) => ({ shopMoney: { amount: money(amount), currencyCode: currency },
  presentmentMoney: { amount: money(amount), currencyCode: currency } });

function shopTime(iso) {
  const t = new Date(new Date(iso).getTime() + SHOP_OFFSET_MIN * 60000).toISOString().replace(/\.\d{3}Z$/, '');
  const sign = SHOP_OFFSET_MIN >= 0 ? '+' : '-';
  const h = String(Math.floor(Math.abs(SHOP_OFFSET_MIN) / 60)).padStart(2, '0');
  const m = String(Math.abs(SHOP_OFFSET_MIN) % 60).padStart(2, '0');
  return `${t}${sign}${h}:${m}`;
}

function reset(emu) {
  emu.orders = new Map();
  emu.nextOrderNum = 1001;
  emu.webhookSubs = new Map();
  emu.deliveries = [];
  emu.orderListings = [];
  emu.webhookConfig = { clientSecret: 'shpss_emulator_client_secret', retryBaseMs: 1000, maxAttempts: 8, timeoutMs: 5000 };
}

// "updated_at:>'2026-11-30T19:02:05Z'" (also >=, <, <=, created_at; unquoted values) -> predicate
function orderFilter(query) {
  const tests = [];
  const rx = /(updated_at|created_at):(>=|<=|>|<)?'?"?([0-9T:.Z+-]+)'?"?/g;
  let m;
  while ((m = rx.exec(String(query || ''))) !== null) {
    const field = m[1] === 'updated_at' ? 'updatedAt' : 'createdAt';
    const bound = new Date(m[3]).getTime();
    if (Number.isNaN(bound)) continue;
    const op = m[2] || '=';
    tests.push((o) => {
      const v = Math.floor(new Date(o[field]).getTime() / 1000) * 1000;
      return op === '>' ? v > bound : op === '>=' ? v >= bound : op === '<' ? v < bound : op === '<=' ? v <= bound : v === bound;
    });
  }
  return (o) => tests.every((t) => t(o));
}

function restOrder(emu, o) {
  const cur = o.currencyCode;
  const addr = (a) => a && { first_name: a.firstName || null, last_name: a.lastName || null,
    name: [a.firstName, a.lastName].filter(Boolean).join(' '), company: a.company || null, address1: a.address1 || null,
    address2: a.address2 || null, city: a.city || null, zip: a.zip || null, province_code: a.provinceCode || null,
    country_code: a.countryCodeV2 || null, phone: a.phone || null };
  return {
    id: o.num, admin_graphql_api_id: o.id, name: o.name, email: o.email, created_at: shopTime(o.createdAt),
    updated_at: shopTime(o.updatedAt), cancelled_at: o.cancelledAt ? shopTime(o.cancelledAt) : null,
    financial_status: o.displayFinancialStatus.toLowerCase(), currency: cur, taxes_included: o.taxesIncluded,
    customer: o.customer && { id: 207119551, email: o.customer.email, first_name: o.customer.firstName,
      last_name: o.customer.lastName, phone: o.customer.phone },
    billing_address: addr(o.billingAddress), shipping_address: addr(o.shippingAddress),
    line_items: o.lines.map((l) => ({ id: l.num, sku: l.sku, name: l.name, title: l.name, quantity: l.quantity,
      price: money(l.price), total_discount: '0.00', tax_lines: [],
      properties: l.customAttributes.map((p) => ({ name: p.key, value: p.value })) })),
    shipping_lines: o.shipping.map((s, i) => ({ id: o.num * 10 + i, title: s.title, price: money(s.price),
      discounted_price: money(s.price), tax_lines: [] })),
    subtotal_price: money(o.subtotal), total_tax: '0.00', total_discounts: '0.00', total_price: money(o.total),
  };
}

function attempt(emu, sub, body, headers, tryNo) {
  const cfg = emu.webhookConfig;
  const url = new URL(sub.callbackUrl);
  const lib = url.protocol === 'https:' ? https : http;
  const record = { webhookId: headers['X-Shopify-Webhook-Id'], topic: headers['X-Shopify-Topic'], subscription: sub.id,
    attempt: tryNo, status: null, error: null, at: Date.now() };
  emu.deliveries.push(record);
  const retry = () => {
    if (tryNo < cfg.maxAttempts) setTimeout(() => attempt(emu, sub, body, headers, tryNo + 1), cfg.retryBaseMs * 2 ** (tryNo - 1));
  };
  const req = lib.request(url, { method: 'POST', timeout: cfg.timeoutMs, rejectUnauthorized: false,
    headers: Object.assign({ 'Content-Type': 'application/json', 'Content-Length': body.length,
      'User-Agent': 'Shopify-Captain-Hook' }, headers) }, (res) => {
    res.resume();
    record.status = res.statusCode;
    if (res.statusCode < 200 || res.statusCode >= 300) retry();
  });
  req.on('timeout', () => { record.error = 'timeout'; req.destroy(new Error('timeout')); });
  req.on('error', (e) => { if (!record.error) record.error = String(e.message || e); if (record.status === null) retry(); });
  req.end(body);
}

function fire(emu, o, topicEnum) {
  const body = Buffer.from(JSON.stringify(restOrder(emu, o)));  // the order as it is now
  for (const sub of emu.webhookSubs.values()) {
    if (sub.topic !== topicEnum) continue;
    const hmac = crypto.createHmac('sha256', emu.webhookConfig.clientSecret).update(body).digest('base64');
    attempt(emu, sub, body, {
      'X-Shopify-Topic': TOPICS[topicEnum], 'X-Shopify-Hmac-Sha256': hmac,
      'X-Shopify-Shop-Domain': 'stockrelay-emulator.myshopify.com', 'X-Shopify-Webhook-Id': crypto.randomUUID(),
      'X-Shopify-API-Version': sub.apiVersion, 'X-Shopify-Triggered-At': new Date().toISOString(),
      'X-Shopify-Event-Id': crypto.randomUUID(),
    }, 1);
  }
}

function createOrder(emu, spec) {
  const store = emu.store;
  const id = store.newId('Order');
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const currency = spec.currency || 'EUR';
  const lines = (spec.lineItems || []).map((l) => {
    const lid = store.newId('LineItem');
    return { id: lid.gid, num: lid.num, sku: l.sku == null ? null : String(l.sku), name: l.title || l.sku || 'Item',
      quantity: Number(l.quantity || 1), price: Number(l.price || 0), customAttributes: l.properties || [], currency };
  });
  const shipping = (spec.shippingLines || []).map((s) => ({ title: s.title || 'Standard', price: Number(s.price || 0), currency }));
  const subtotal = lines.reduce((a, l) => a + l.price * l.quantity, 0);
  const total = subtotal + shipping.reduce((a, s) => a + s.price, 0);
  const o = { id: id.gid, num: id.num, name: `#${emu.nextOrderNum++}`, email: spec.email || null,
    createdAt: now, updatedAt: now, cancelledAt: null, displayFinancialStatus: spec.financialStatus || 'PAID',
    currencyCode: currency, taxesIncluded: false, customer: spec.customer || null,
    billingAddress: spec.billingAddress || null, shippingAddress: spec.shippingAddress || null,
    lines, shipping, subtotal, total };
  emu.orders.set(o.id, o);
  commitStock(emu, lines, -1);
  fire(emu, o, 'ORDERS_CREATE');
  return o;
}

// Shopify commits an order's units at a location at once: available drops.
function commitStock(emu, lines, sign) {
  const store = emu.store;
  const loc = [...store.locations.values()][0];
  if (!loc) return;
  for (const l of lines) {
    const vids = l.sku == null ? [] : store.skuIndex.get(l.sku) || [];
    if (!vids.length) continue;
    const level = store.getLevel(store.variants.get(vids[0]).inventoryItemId, loc.id);
    if (level && level.q) level.q.available += sign * l.quantity;
  }
}

function updateOrder(emu, spec) {
  const gid = String(spec.id).startsWith('gid://') ? String(spec.id) : `gid://shopify/Order/${spec.id}`;
  const o = emu.orders.get(gid);
  if (!o) throw new Error(`no order ${spec.id}`);
  o.updatedAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (spec.email !== undefined) o.email = spec.email;
  fire(emu, o, 'ORDERS_UPDATED');
  if (spec.cancel && !o.cancelledAt) {
    o.cancelledAt = o.updatedAt;
    commitStock(emu, o.lines, +1);
    fire(emu, o, 'ORDERS_CANCELLED');
  }
  return o;
}

function subView(s) {
  return { num: s.num, id: s.id, topic: s.topic, format: 'JSON', createdAt: s.createdAt, updatedAt: s.createdAt, apiVersion: { handle: s.apiVersion },
    callbackUrl: s.callbackUrl, uri: s.callbackUrl, includeFields: [], metafieldNamespaces: [], filter: null,
    legacyResourceId: String(s.num), endpoint: { __typename: 'WebhookHttpEndpoint', callbackUrl: s.callbackUrl } };
}

function install({ RESOLVERS, paginate, emulatorClass }) {
  const origReset = emulatorClass.prototype.reset;
  emulatorClass.prototype.reset = function resetWithOrders() { origReset.call(this); reset(this); };

  Object.assign(RESOLVERS, {
    'QueryRoot.orders': (_s, args, ctx, info) => {
      let list = [...ctx.emu.orders.values()].filter(orderFilter(args.query));
      const key = args.sortKey === 'UPDATED_AT' ? 'updatedAt' : args.sortKey === 'CREATED_AT' ? 'createdAt' : null;
      list.sort((a, b) => (key && a[key] !== b[key] ? (a[key] < b[key] ? -1 : 1) : a.num - b.num));
      const page = paginate(list, args, (o) => String(o.num), info);
      ctx.emu.orderListings.push({ at: Date.now(), query: args.query || null, first: args.first, after: args.after || null,
        returned: page.nodes ? page.nodes.length : 0, ids: (page.nodes || []).map((o) => o.num) });
      return page;
    },
    'QueryRoot.order': (_s, args, ctx) => ctx.emu.orders.get(args.id) || null,
    'Order.lineItems': (o, args, _ctx, info) => paginate(o.lines, args, (l) => String(l.num), info),
    'Order.shippingLines': (o, args, _ctx, info) =>
      paginate(o.shipping.map((s, i) => Object.assign({ num: i + 1 }, s)), args, (s) => String(s.num), info),
    'Order.subtotalPriceSet': (o) => bag(o.subtotal, o.currencyCode),
    'Order.totalTaxSet': (o) => bag(0, o.currencyCode),
    'Order.totalShippingPriceSet': (o) => bag(o.shipping.reduce((a, s) => a + s.price, 0), o.currencyCode),
    'Order.totalDiscountsSet': (o) => bag(0, o.currencyCode),
    'Order.totalPriceSet': (o) => bag(o.total, o.currencyCode),
    'Order.legacyResourceId': (o) => String(o.num),
    'LineItem.originalUnitPriceSet': (l) => bag(l.price, l.currency),
    'LineItem.totalDiscountSet': (l) => bag(0, l.currency),
    'LineItem.taxLines': () => [],
    'ShippingLine.originalPriceSet': (s) => bag(s.price, s.currency),
    'ShippingLine.discountedPriceSet': (s) => bag(s.price, s.currency),
    'ShippingLine.taxLines': () => [],
    'QueryRoot.webhookSubscriptions': (_s, args, ctx, info) => {
      let subs = [...ctx.emu.webhookSubs.values()];
      if (args.topics) subs = subs.filter((s) => args.topics.includes(s.topic));
      if (args.callbackUrl) subs = subs.filter((s) => s.callbackUrl === args.callbackUrl);
      return paginate(subs.map(subView), args, (s) => s.legacyResourceId, info);
    },
    'Mutation.webhookSubscriptionCreate': (_s, args, ctx) => {
      const input = args.webhookSubscription || {};
      const url = input.callbackUrl || input.uri;
      const userErrors = [];
      if (!url || !/^https?:\/\//.test(url)) userErrors.push({ field: ['webhookSubscription', 'callbackUrl'], message: 'Address is invalid' });
      for (const s of ctx.emu.webhookSubs.values()) {
        if (s.topic === args.topic && s.callbackUrl === url) {
          userErrors.push({ field: ['webhookSubscription', 'callbackUrl'], message: 'Address for this topic has already been taken' });
        }
      }
      if (userErrors.length) return { webhookSubscription: null, userErrors };
      const id = ctx.store.newId('WebhookSubscription');
      const sub = { id: id.gid, num: id.num, topic: args.topic, callbackUrl: url, apiVersion: ctx.version,
        createdAt: new Date().toISOString() };
      ctx.emu.webhookSubs.set(sub.id, sub);
      return { webhookSubscription: subView(sub), userErrors: [] };
    },
  });
}

// Control endpoints; returns {status, body} or null when `name` is not ours.
function control(emu, method, name, payload) {
  if (name === 'orders' && method === 'POST') {
    const o = createOrder(emu, payload);
    return { status: 200, body: { id: o.id, num: o.num, name: o.name, rest: restOrder(emu, o) } };
  }
  if (name === 'orders' && method === 'GET') return { status: 200, body: { orders: [...emu.orders.values()].map((o) => restOrder(emu, o)) } };
  if (name === 'orderupdate' && method === 'POST') {
    const o = updateOrder(emu, payload);
    return { status: 200, body: { id: o.id, rest: restOrder(emu, o) } };
  }
  if (name === 'webhookconfig' && method === 'POST') {
    for (const k of ['clientSecret', 'retryBaseMs', 'maxAttempts', 'timeoutMs']) {
      if (payload[k] !== undefined) emu.webhookConfig[k] = k === 'clientSecret' ? String(payload[k]) : Number(payload[k]);
    }
    return { status: 200, body: { ok: true } };
  }
  if (name === 'deliveries' && method === 'GET') return { status: 200, body: { deliveries: emu.deliveries } };
  if (name === 'orderlistings' && method === 'GET') return { status: 200, body: { listings: emu.orderListings } };
  return null;
}

module.exports = { install, control };
